package dingtalk

import (
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/notify"
	"github.com/sentry-white/sentry-white/internal/notify/notifytest"
	"github.com/sentry-white/sentry-white/internal/render"
	"github.com/sentry-white/sentry-white/internal/robottest"
	"github.com/sentry-white/sentry-white/internal/route"
	"github.com/sentry-white/sentry-white/internal/sentry"
)

var update = flag.Bool("update", false, "rewrite golden files")

var _ notify.Sender = (*Notifier)(nil)

const secret = "SECa7f09b5ea245debd13fb7fe1993897008f6b44ddf80310d14f3de4d3f407221d"

func TestSignVectors(t *testing.T) {
	// docs/chat-robots.md §1.1 worked examples.
	if got := Sign(secret, 1700000000004); got != "1PZxRgnTu6/yBDrjsrc+4ufHLu1eosr18gVZrNqHU14=" {
		t.Errorf("Sign(…004) = %s", got)
	}
	if got := Sign(secret, 1700000000000); got != "ob1avaj50jHLKjWGUcDntubBhrJY5siiBS0GFqYqzM4=" {
		t.Errorf("Sign(…000) = %s", got)
	}
	n := &Notifier{Base: "https://oapi.dingtalk.com", Now: func() time.Time { return time.UnixMilli(1700000000004) }}
	u, _ := n.endpoint(&config.Robot{AccessToken: "abc123", Secret: secret})
	if want := "https://oapi.dingtalk.com/robot/send?access_token=abc123&sign=1PZxRgnTu6%2FyBDrjsrc%2B4ufHLu1eosr18gVZrNqHU14%3D&timestamp=1700000000004"; u.String() != want {
		t.Errorf("endpoint = %s\nwant       %s", u, want)
	}
}

func fixture(t *testing.T) *config.Index {
	t.Helper()
	b, err := os.ReadFile("../../../testdata/config/full.json")
	if err != nil {
		t.Fatal(err)
	}
	d, err := config.Parse(b, config.Kinds{Kind.Rules()}) // full.json has DingTalk robots only
	if err != nil {
		t.Fatal(err)
	}
	return config.NewIndex(d)
}

func event(t *testing.T, file, resource string) *sentry.Event {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("../../../testdata/sentry", file))
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	if resource != "" {
		h.Set("Sentry-Hook-Resource", resource)
	}
	ev, err := sentry.Parse(b, h)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// TestGolden renders every payload kind for the first project and compares
// the DingTalk request body with testdata/*.golden (go test -update).
func TestGolden(t *testing.T) {
	x := fixture(t)
	for _, tc := range []struct{ file, resource string }{
		{"legacy_saas.json", ""}, {"legacy_sentry9.json", ""}, {"legacy_minimal.json", ""},
		{"issue_created.json", "issue"}, {"issue_resolved.json", "issue"}, {"issue_assigned.json", "issue"},
		{"event_alert.json", "event_alert"}, {"error_created.json", "error"},
		{"metric_alert_critical.json", "metric_alert"}, {"metric_alert_resolved.json", "metric_alert"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			ev := event(t, tc.file, tc.resource)
			ev.OrgSlug = "acme"
			plan, err := route.Match(x, ev, x.ProjectsBySlug("mall-api")[:1])
			if err != nil {
				t.Fatal(err)
			}
			msg := render.Message(plan.Targets[0], ev, render.Options{})
			body, err := Body(msg)
			if err != nil {
				t.Fatal(err)
			}
			var pretty map[string]any
			if err := json.Unmarshal(body, &pretty); err != nil {
				t.Fatal(err)
			}
			text := pretty["markdown"].(map[string]any)["text"].(string)
			title := pretty["markdown"].(map[string]any)["title"].(string)
			got := "title: " + title + "\n\n" + text + "\n\natMobiles: " + strings.Join(msg.Mobiles(), ",") + "\n"
			golden := filepath.Join("testdata", strings.TrimSuffix(tc.file, ".json")+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if got != string(want) {
				t.Errorf("rendered message differs from %s:\n%s", golden, got)
			}
			// Contract §5 rules, whatever the golden says.
			if !strings.Contains(text, "详情") || !strings.Contains(title, "详情") {
				t.Error("keyword 详情 missing from title or text")
			}
			for _, m := range []string{"13800138000", "+852-12345678"} {
				if !strings.Contains(text, "@"+m) {
					t.Errorf("text lacks @%s", m)
				}
			}
			if !strings.Contains(text, "商城后台") || !strings.Contains(text, "mall-api") {
				t.Error("project name or slug missing")
			}
			if !strings.Contains(text, "https://") {
				t.Error("no link to Sentry")
			}
		})
	}
}

func TestEscapeAndCut(t *testing.T) {
	x := fixture(t)
	ev := event(t, "legacy_saas.json", "")
	ev.Title = "*bold* _it_ `code` [x](http://evil) <b>" + strings.Repeat("长", 2000)
	ev.Message = strings.Repeat("😀 emoji payload ", 3000)
	ev.Culprit = strings.Repeat("a/b_c*d", 2000)
	plan, _ := route.Match(x, ev, x.ProjectsBySlug("mall-api")[:1])
	msg := render.Message(plan.Targets[0], ev, render.Options{})
	msg.Fields = append(msg.Fields, notify.Field{Label: "big", Value: strings.Repeat("字", 9000)})
	body, err := Body(msg)
	if err != nil {
		t.Fatal(err)
	}
	if len(body) >= MaxBody {
		t.Fatalf("body is %d bytes, want < %d", len(body), MaxBody)
	}
	if !utf8.Valid(body) {
		t.Fatal("cut broke UTF-8")
	}
	var b markdownBody
	if err := json.Unmarshal(body, &b); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.Markdown.Text, "[x](http://evil)") || strings.Contains(b.Markdown.Text, "*bold*") {
		t.Error("Sentry markup was not escaped")
	}
	if !strings.HasSuffix(b.Markdown.Text, "@13800138000 @+852-12345678") {
		t.Errorf("mentions lost in the cut: …%s", b.Markdown.Text[len(b.Markdown.Text)-80:])
	}
	if !strings.Contains(b.Markdown.Text, "详情") {
		t.Error("keyword lost in the cut")
	}
}

// TestSendThroughStandIn sends through the DingTalk stand-in answering in
// each language: every refusal gets the right fix, whichever text it came
// with.
func TestSendThroughStandIn(t *testing.T) {
	for _, lang := range []string{"zh", "en"} {
		t.Run(lang, func(t *testing.T) {
			dt := robottest.NewDingTalk(
				robottest.DingTalkRobot{Token: "signed", Secret: secret, Keywords: []string{"详情"}},
				robottest.DingTalkRobot{Token: "kw", Keywords: []string{"告警"}},
				robottest.DingTalkRobot{Token: "ip", AllowIPs: []string{"10.0.0.0/8", "192.0.2.7"}},
				robottest.DingTalkRobot{Token: "loopback", AllowIPs: []string{"127.0.0.0/8"}},
			)
			defer dt.Close()
			dt.Lang = lang
			n := &Notifier{Base: dt.URL()}
			msg := &notify.Message{Title: "详情 | t", Heading: "h", Keyword: "详情", Mentions: []notify.Mention{{Name: "a", Mobile: "13800138000"}}}
			ctx := context.Background()

			if err := n.Send(ctx, &config.Robot{Name: "ok", AccessToken: "signed", Secret: secret}, msg); err != nil {
				t.Fatalf("signed send: %v", err)
			}
			if err := n.Send(ctx, &config.Robot{Name: "ok", AccessToken: "loopback"}, msg); err != nil {
				t.Fatalf("send from an allowed address: %v", err)
			}
			got := dt.Messages()
			if len(got) != 2 || !got[0].Mentioned || got[0].AtMobiles[0] != "13800138000" {
				t.Fatalf("messages = %+v", got)
			}

			skewed := func() time.Time { return time.Now().Add(-2 * time.Hour) }
			cases := []struct {
				name     string
				robot    config.Robot
				now      func() time.Time
				attempts int
				fix      string
				not      string
			}{
				{"wrong secret", config.Robot{AccessToken: "signed", Secret: "SECwrong"}, nil, 1, "加签 secret does not match", "IP"},
				{"cleared secret", config.Robot{AccessToken: "signed"}, nil, 1, "needs its SEC… secret", "clock"},
				{"expired timestamp", config.Robot{AccessToken: "signed", Secret: secret}, skewed, 2, "clock", "IP"},
				{"keyword", config.Robot{AccessToken: "kw"}, nil, 1, "keyword must appear in every message", "IP"},
				{"ip allow-list", config.Robot{AccessToken: "ip"}, nil, 1, "IP allow-list", "secret does not match"},
				{"unknown token", config.Robot{AccessToken: "nope"}, nil, 1, "access_token", "IP"},
			}
			policy := notify.Policy{Attempts: 3, Base: time.Millisecond, Max: time.Millisecond}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					c.robot.Name = c.name
					res := notify.Deliver(ctx, &Notifier{Base: dt.URL(), Now: c.now}, &c.robot, msg, policy)
					e := res.Err
					if e == nil {
						t.Fatal("accepted")
					}
					if e.Retry || res.Attempts != c.attempts || !strings.Contains(e.Fix.String(), c.fix) || strings.Contains(e.Fix.String(), c.not) {
						t.Errorf("errcode %d %q after %d attempts: retry %v fix %q; want %d attempts and a fix with %q (not %q)",
							e.Code, e.Msg, res.Attempts, e.Retry, e.Fix, c.attempts, c.fix, c.not)
					}
					for _, s := range []string{secret, "SECwrong", "signed"} {
						if strings.Contains(e.Error(), s) {
							t.Errorf("error leaks %q: %v", s, e)
						}
					}
				})
			}
			if n := len(dt.Messages()); n != 2 {
				t.Errorf("the stand-in accepted %d messages, want 2", n)
			}
		})
	}
}

// TestExplain310000 classifies the refusals DingTalk answers with errcode
// 310000 from their texts, Chinese (as today) and English (as before).
// "description" contains the letters "ip": only an address, "whitelist"
// or 白名单 mean the IP allow-list.
func TestExplain310000(t *testing.T) {
	const (
		sign = iota
		expired
		keyword
		ip
		unknown
	)
	fixes := map[int]string{
		sign:    "加签 secret does not match",
		expired: "clock",
		keyword: "keyword must appear in every message",
		ip:      "IP allow-list",
		unknown: "security settings refused the message",
	}
	for _, c := range []struct {
		msg  string
		want int
	}{
		{"description:机器人发送签名不匹配;solution:请确认签名和生成签名的时间戳必须都放在调用的网址中，请确认机器人的密钥加密和填写正确;link:请参考本接口对应文档获得具体要求，或者在https://open.dingtalk.com/document/  搜索相关文档;", sign},
		{"description:机器人发送签名不匹配;solution:请确认签名和生成签名的时间戳必须都要传递…", sign},
		{"机器人发送签名不匹配", sign},
		{"sign not match", sign},
		{"sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]", sign},
		{"description:机器人发送签名过期;solution:签名生成时间和发送时间请保持在 timestampms 以内;", expired},
		{"description:机器人发送签名过期;solution:请保持发送的时间戳在timestampms之内…", expired},
		{"invalid timestamp", expired},
		{"invalid timestamp, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]", expired},
		{"description:关键词不匹配;solution:请联系群管理员查看此机器人的关键词，并在发送的信息中包含此关键词;", keyword},
		{"错误描述:关键词不匹配;解决方案:请联系群管理员查看此机器人的关键词，并在发送的信息中包含此关键词;", keyword},
		{"keywords not in content", keyword},
		{"keywords not in content, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]", keyword},
		{"description:ip 不在白名单中;solution:请联系对应群的管理员，设置机器人安全ip地址段;", ip},
		{"ip 203.0.113.9 not in whitelist", ip},
		{"ip 203.0.113.9 not in whitelist, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]", ip},
		{"description:未知错误;solution:请稍后重试;", unknown},
		{"", unknown},
	} {
		fix := Kind.Explain(310000, c.msg, true).String()
		if !strings.Contains(fix, fixes[c.want]) {
			t.Errorf("%q explained as %q; want %q", c.msg, fix, fixes[c.want])
		}
		_, _, resign, _ := explain(310000, c.msg, true)
		if resign != (c.want == expired) {
			t.Errorf("%q: resign %v", c.msg, resign)
		}
		// A robot with no secret refused for its signature, or for a
		// timestamp it never sent, needs its SEC… secret.
		_, _, resign, f := explain(310000, c.msg, false)
		if needs := c.want == sign || c.want == expired; needs != strings.Contains(f.String(), "needs its SEC… secret") || needs && resign {
			t.Errorf("%q for a robot without a secret: %q, resign %v", c.msg, fix, resign)
		}
	}
}

func TestClassify(t *testing.T) {
	r := &config.Robot{Name: "r", Secret: secret}
	for _, c := range []struct {
		status             int
		body               string
		ok, retry, limited bool
		resign             bool
	}{
		{200, `{"errcode":0,"errmsg":"ok"}`, true, false, false, false},
		{200, `{"errcode":-1,"errmsg":"busy"}`, false, true, false, false},
		{500, `oops`, false, true, false, false},
		{502, ``, false, true, false, false},
		{200, `<html>`, false, true, false, false},
		{200, `{"errmsg":"ok"}`, false, false, false, false},
		{200, `{"status":1111,"wait":5,"punish":"deny"}`, false, false, true, false},
		{200, `{"errcode":410100,"errmsg":"发送速度太快而限流"}`, false, false, true, false},
		{200, `{"errcode":130101,"errmsg":"send too fast"}`, false, false, true, false},
		{200, `{"errcode":310000,"errmsg":"invalid timestamp"}`, false, false, false, true},
		{200, `{"errcode":310000,"errmsg":"description:机器人发送签名过期;solution:签名生成时间和发送时间请保持在 timestampms 以内;"}`, false, false, false, true},
		{200, `{"errcode":310000,"errmsg":"description:机器人发送签名不匹配;solution:请确认签名和生成签名的时间戳必须都放在调用的网址中"}`, false, false, false, false},
		{200, `{"errcode":460101,"errmsg":"message too long"}`, false, false, false, false},
		{400, `{"errcode":0}`, false, false, false, false},
	} {
		err := Classify(r, c.status, []byte(c.body))
		if (err == nil) != c.ok {
			t.Errorf("%d %s: err = %v", c.status, c.body, err)
			continue
		}
		if err == nil {
			continue
		}
		e := err.(*notify.Error)
		if e.Retry != c.retry || e.RateLimited != c.limited || e.Resign != c.resign {
			t.Errorf("%d %s: retry %v limited %v resign %v", c.status, c.body, e.Retry, e.RateLimited, e.Resign)
		}
	}
}

func TestTransportErrorRedacted(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	srv.Close() // refused
	err := (&Notifier{Base: srv.URL}).Send(context.Background(), &config.Robot{Name: "r", AccessToken: "tok-secret", Secret: secret}, &notify.Message{Keyword: "详情"})
	if err == nil || !err.(*notify.Error).Retry {
		t.Fatalf("err = %v, want a retryable error", err)
	}
	if strings.Contains(err.Error(), "tok-secret") || strings.Contains(err.Error(), "sign=") && !strings.Contains(err.Error(), "REDACTED") {
		t.Errorf("leak: %v", err)
	}
}

// TestEscapeRenders: only what DingTalk's markdown subset would take as
// markup is escaped (emphasis, code, links, tags); "|" and "~" and a lone
// "_" or "*" stay as they are, so no backslash shows where none is needed.
func TestEscapeRenders(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"a|b ~c~ |", "a|b ~c~ |"},
		{"user_id not found", "user_id not found"},
		{"snake_case_name", `snake\_case\_name`},
		{"2 * 3 = 6", "2 * 3 = 6"},
		{"*bold* text", `\*bold\* text`},
		{"[WARN] list[0] failed", "[WARN] list[0] failed"},
		{"[x](http://evil)", `\[x\](http://evil)`},
		{"![img](http://evil/x.png)", `!\[img\](http://evil/x.png)`},
		{"<b>bold</b> and <script>", "&lt;b>bold&lt;/b> and &lt;script>"},
		{"a < b > c", "a < b > c"},
		{`C:\Users\app`, `C:\Users\app`},
		{`a\*b`, `a\\*b`},
		{"#1 > 2 - 3 + 4. 5", "#1 > 2 - 3 + 4. 5"},
		{"one `tick", "one `tick"},
		{"`code` here", "\\`code\\` here"},
		{"line one\nline two\r\n# three", "line one line two # three"},
	} {
		if got := Escape(c.in); got != c.want {
			t.Errorf("Escape(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestKeywordExactlyAsConfigured: whatever its characters, the keyword is
// in the title and in the text as the robot has it, even when the same
// word in Sentry's text had to be escaped.
func TestKeywordExactlyAsConfigured(t *testing.T) {
	for _, c := range notifytest.KeywordClasses {
		t.Run(c.Name, func(t *testing.T) {
			m := notifytest.Message(Kind)
			m.Keyword = c.Keyword
			m.Title = "商城后台: TypeError"
			m.Heading = "TypeError in job " + c.Keyword + " (*_`[x](y)`_*)"
			got := bodyOf(t, m)
			if !strings.Contains(got.Markdown.Title, c.Keyword) || !strings.Contains(got.Markdown.Text, c.Keyword) {
				t.Errorf("keyword %q: title %q, text:\n%s", c.Keyword, got.Markdown.Title, got.Markdown.Text)
			}
		})
	}
	// Without a link the keyword does not start a paragraph, where "#tag"
	// would be a heading and ">q" a quote.
	for _, kw := range []string{"#tag", ">q", "- x", "1. x"} {
		m := &notify.Message{Title: "t", Heading: "h", Keyword: kw}
		head, tail := Text(m, "")
		if text := head + tail; !strings.Contains(text, kw) || strings.Contains("\n"+text, "\n"+kw) {
			t.Errorf("keyword %q starts a line:\n%s", kw, text)
		}
	}
}

// TestSharedLoginNeverEscaped: the shared Sentry password is never
// backslash-escaped: it is shown as it is when nothing in it is markup, and
// as inline code (where markdown does not apply) when something is.
func TestSharedLoginNeverEscaped(t *testing.T) {
	for _, c := range []struct{ note, want string }{
		{"Sentry 共享账号: viewer@acme.com / s3cret", "> Sentry 共享账号: viewer@acme.com / s3cret\n\n"},
		{"Sentry 共享账号: viewer_ops@acme.com / p_a*ss[w](x)<b>", "> Sentry 共享账号: `viewer_ops@acme.com / p_a*ss[w](x)<b>`\n\n"},
		{"Shared Sentry login: ops / back`tick\\", "> Shared Sentry login: ``ops / back`tick\\``\n\n"},
		{"Shared Sentry login: `ops / edge", "> Shared Sentry login: `` `ops / edge ``\n\n"},
		{"Sentry 共享账号: viewer@acme.com / a|b~c#d", "> Sentry 共享账号: viewer@acme.com / a|b~c#d\n\n"},
	} {
		m := &notify.Message{Title: "详情 | t", Heading: "h", Keyword: "详情", Note: c.note}
		head, _ := Text(m, "")
		if !strings.Contains(head, c.want) {
			t.Errorf("note %q renders as:\n%s\nwant the line %q", c.note, head, c.want)
		}
	}
}

// TestGoldenEscapes renders a message full of markup characters, a
// password that needs inline code and a digest (testdata/*.golden, go
// test -update): what docs/message.md shows.
func TestGoldenEscapes(t *testing.T) {
	alert := notifytest.Message(Kind)
	alert.Title = "详情 | 商城后台: TypeError: <Cart> *price* is_null"
	alert.Heading = "TypeError: <Cart> *price* is_null [retry](javascript:x) a|b ~c~"
	alert.Fields = append(alert.Fields, notify.Field{Label: "位置", Value: `app/cart_item.js in Cart.render \ _onClick`})
	alert.Note = "Sentry 共享账号: viewer@acme.com / p*ss_w0rd[1]"
	digest := &notify.Message{Title: "详情 | 3 条告警（2 个项目）", Heading: "限流期间合并的 3 条告警", Level: "error", State: "digest", Keyword: "详情",
		Digest: []notify.DigestItem{
			{Project: "商城后台 (mall-api)", Title: "TypeError: *price* is_null", Link: "https://acme.sentry.io/issues/42/", Level: "error", Count: 2},
			{Project: "支付服务 (pay-service)", Title: "Timeout after 30s", Link: "https://acme.sentry.io/issues/43/", Level: "warning"},
		},
		Mentions: []notify.Mention{{Name: "张三", Mobile: "13800138000"}}}
	for name, m := range map[string]*notify.Message{"escapes": alert, "digest": digest} {
		checkGolden(t, name, bodyOf(t, m).golden())
	}
}

// bodyOf is the request body of m, decoded.
func bodyOf(t *testing.T, m *notify.Message) markdownBody {
	t.Helper()
	raw, err := Body(m)
	if err != nil {
		t.Fatal(err)
	}
	var b markdownBody
	if err := json.Unmarshal(raw, &b); err != nil {
		t.Fatal(err)
	}
	return b
}

// golden is b as the golden files hold it: the title, the text and the
// mobiles mentioned.
func (b markdownBody) golden() string {
	return "title: " + b.Markdown.Title + "\n\n" + b.Markdown.Text + "\n\natMobiles: " + strings.Join(b.At.AtMobiles, ",") + "\n"
}

// checkGolden compares a rendered message with testdata/<name>.golden,
// which go test -update rewrites.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	golden := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if got != string(want) {
		t.Errorf("rendered message differs from %s:\n%s", golden, got)
	}
}
