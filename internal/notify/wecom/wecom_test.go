package wecom

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/notify"
	"github.com/sentry-white/sentry-white/internal/robottest"
)

var _ notify.Sender = (*Notifier)(nil)

const key = "wk-0f4c2e9a-7d1b-4c8e-b2a5-secretkey"

func robot(k string) *config.Robot {
	return &config.Robot{Name: "研发群", Kind: "wecom", AccessToken: config.Secret(k), Keyword: "详情"}
}

func message() *notify.Message {
	return &notify.Message{
		Title:   "[新问题] 商城后台: TypeError",
		Heading: "TypeError: Cannot read properties of undefined",
		Link:    "https://acme.sentry.io/issues/42/",
		Level:   "error",
		State:   "new",
		Fields: []notify.Field{
			{Label: "项目", Value: "商城后台 (mall-api)"},
			{Label: "级别", Value: "error"},
			{Label: "环境", Value: "production"},
		},
		Note:    "Sentry 共享账号: viewer@acme.com",
		Keyword: "详情",
		Mentions: []notify.Mention{
			{Name: "张三", Mobile: "13800138000", IDs: map[string]string{"wecom": "zhangsan"}},
			{Name: "李四", Mobile: "13900139000"},
		},
	}
}

func content(t *testing.T, body []byte) (msgtype, content string, raw map[string]any) {
	t.Helper()
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, body)
	}
	msgtype, _ = raw["msgtype"].(string)
	part, _ := raw[msgtype].(map[string]any)
	content, _ = part["content"].(string)
	return msgtype, content, raw
}

func TestMarkdownBody(t *testing.T) {
	long := strings.Repeat("很长的错误信息 ", 400) // ~8 KB
	tests := []struct {
		name string
		edit func(m *notify.Message)
		want []string // substrings of the content
		not  []string // must not appear
	}{
		{
			name: "facts, link, colour and mention",
			want: []string{
				"### 🔴 [TypeError: Cannot read properties of undefined](https://acme.sentry.io/issues/42/)\n",
				"**项目**: 商城后台 (mall-api)\n",
				`**级别**: <font color="warning">error</font>` + "\n",
				"> Sentry 共享账号: viewer@acme.com\n",
				"[查看详情](https://acme.sentry.io/issues/42/)",
				"\n<@zhangsan>",
			},
			not: []string{"<@李四>", "13900139000", "13800138000"},
		},
		{
			name: "keyword added when absent",
			edit: func(m *notify.Message) { m.Keyword = "告警"; m.Link = "" },
			want: []string{"告警"},
		},
		{
			name: "Sentry text cannot mention, colour or link",
			edit: func(m *notify.Message) {
				m.Heading = `<@all> <font color="info">x</font> [click](https://evil.example/)`
				m.Fields = []notify.Field{{Label: "位置", Value: "<@boss>"}}
			},
			want: []string{"＜@all> ＜font color=\"info\">x＜/font> ［click］(https://evil.example/)", "**位置**: ＜@boss>"},
			not:  []string{"<@all>", "<@boss>", `<font color="info">`, "[click]"},
		},
		{
			name: "resolved is green",
			edit: func(m *notify.Message) { m.State = "resolved" },
			want: []string{"### ✅ ", `<font color="info">error</font>`},
		},
		{
			name: "bad userids are not mentioned",
			edit: func(m *notify.Message) {
				m.Mentions = []notify.Mention{{IDs: map[string]string{"wecom": "a> <@all"}}, {IDs: map[string]string{"wecom": "@all"}}, {IDs: map[string]string{"wecom": "wang_wu"}}}
			},
			want: []string{"\n<@wang_wu>"},
			not:  []string{"<@all>", "<@a>"},
		},
		{
			name: "digest",
			edit: func(m *notify.Message) {
				m.Heading = "5 条告警"
				m.Digest = []notify.DigestItem{
					{Project: "mall-api", Title: "TypeError", Link: "https://acme.sentry.io/issues/1/", Level: "error", Count: 3},
					{Project: "shop-web", Title: "Timeout", Level: "warning"},
				}
			},
			want: []string{"### 5 条告警\n", "> [TypeError](https://acme.sentry.io/issues/1/) (mall-api · error · ×3)\n", "> Timeout (shop-web · warning)\n"},
		},
		{
			name: "long details are cut, tail kept",
			edit: func(m *notify.Message) { m.Fields = append(m.Fields, notify.Field{Label: "说明", Value: long}) },
			want: []string{"…\n", "[查看详情](https://acme.sentry.io/issues/42/)\n<@zhangsan>"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := message()
			if tc.edit != nil {
				tc.edit(m)
			}
			body, err := MarkdownBody(m)
			if err != nil {
				t.Fatal(err)
			}
			typ, c, raw := content(t, body)
			if typ != "markdown" {
				t.Errorf("msgtype = %q, want markdown", typ)
			}
			if md := raw["markdown"].(map[string]any); md["mentioned_list"] != nil || md["mentioned_mobile_list"] != nil {
				t.Errorf("markdown carries mentioned_* lists, which WeCom ignores: %s", body)
			}
			if len(c) > MaxMarkdown || !utf8.ValidString(c) {
				t.Errorf("content is %d bytes (max %d), valid UTF-8 %v", len(c), MaxMarkdown, utf8.ValidString(c))
			}
			if !strings.Contains(c, m.Keyword) {
				t.Errorf("keyword %q missing:\n%s", m.Keyword, c)
			}
			for _, w := range tc.want {
				if !strings.Contains(c, w) {
					t.Errorf("content lacks %q:\n%s", w, c)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(c, w) {
					t.Errorf("content has %q:\n%s", w, c)
				}
			}
		})
	}
}

// TestMarkdownBodyTooManyMentions: mentions beyond WeCom's 4096 bytes
// are dropped rather than the alert refused.
func TestMarkdownBodyTooManyMentions(t *testing.T) {
	m := message()
	m.Mentions = nil
	for range 400 {
		m.Mentions = append(m.Mentions, notify.Mention{IDs: map[string]string{"wecom": "someone_with_a_long_id"}})
	}
	body, err := MarkdownBody(m)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Markdown struct{ Content string }
	}
	if err := json.Unmarshal(body, &got); err != nil || len(got.Markdown.Content) > MaxMarkdown {
		t.Fatalf("content %d bytes, %v", len(got.Markdown.Content), err)
	}
	if !strings.Contains(got.Markdown.Content, "<@someone_with_a_long_id>") || !strings.Contains(got.Markdown.Content, "详情") {
		t.Errorf("the mentions that fit, or the keyword, are missing")
	}
}

// TestShortenedNeverSplitsATag: however a long message is shortened, every
// <font> tag it has is closed.
func TestShortenedNeverSplitsATag(t *testing.T) {
	for n := 100; n <= 6000; n += 350 {
		m := message()
		m.Level = "error"
		m.Fields = append(m.Fields, notify.Field{Label: "级别", Value: "error"}, notify.Field{Label: "说明", Value: strings.Repeat("长", n)})
		body, err := MarkdownBody(m)
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			Markdown struct{ Content string }
		}
		_ = json.Unmarshal(body, &got)
		c := got.Markdown.Content
		if len(c) > MaxMarkdown || strings.Count(c, "<font") != strings.Count(c, "</font>") {
			t.Errorf("n=%d: %d bytes, unbalanced tags: %.300q", n, len(c), c)
		}
	}
}

func TestTextBody(t *testing.T) {
	m := message()
	body, err := TextBody(m)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		MsgType string `json:"msgtype"`
		Text    struct {
			Content             string   `json:"content"`
			MentionedMobileList []string `json:"mentioned_mobile_list"`
			MentionedList       []string `json:"mentioned_list"`
		} `json:"text"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatal(err)
	}
	if got.MsgType != "text" || len(got.Text.MentionedMobileList) != 1 || got.Text.MentionedMobileList[0] != "13900139000" || got.Text.MentionedList != nil {
		t.Errorf("got %s, want a text mentioning only 13900139000 (张三 is mentioned by userid in the markdown)", body)
	}
	if !strings.Contains(got.Text.Content, "详情") || !strings.Contains(got.Text.Content, "TypeError") {
		t.Errorf("content %q lacks the keyword or the title", got.Text.Content)
	}

	m.Title = strings.Repeat("标题", 1000) // 6000 bytes
	body, err = TextBody(m)
	if err != nil {
		t.Fatal(err)
	}
	_, c, _ := content(t, body)
	if len(c) > MaxText || !utf8.ValidString(c) || !strings.HasSuffix(c, "… 详情") {
		t.Errorf("long title: content is %d bytes (max %d), valid %v, ends %q", len(c), MaxText, utf8.ValidString(c), c[len(c)-20:])
	}

	m.Mentions = []notify.Mention{{Name: "坏 id", Mobile: "13700137000", IDs: map[string]string{"wecom": "bad id"}}}
	body, err = TextBody(m)
	if err != nil || !strings.Contains(string(body), `"mentioned_mobile_list":["13700137000"]`) {
		t.Errorf("an owner whose userid markdown cannot carry: got %s, %v; want a mention by mobile", body, err)
	}

	m.Mentions = []notify.Mention{{Name: "张三", Mobile: "13800138000", IDs: map[string]string{"wecom": "zhangsan"}}, {Name: "无号码"}, {Mobile: "not-a-phone"}}
	if body, err := TextBody(m); body != nil || err != nil {
		t.Errorf("TextBody = %s, %v; want nothing: everyone is mentioned in markdown or has no mobile", body, err)
	}
	if got := Messages(m); got != 1 {
		t.Errorf("Messages = %d, want 1", got)
	}
	if got := Messages(message()); got != 2 {
		t.Errorf("Messages = %d, want 2", got)
	}
}

func TestClassify(t *testing.T) {
	r := robot(key)
	tests := []struct {
		name            string
		status          int
		body            string
		ok              bool
		code            int
		retry, limited  bool
		fix             bool
		msgHasNoKeyText bool
	}{
		{name: "ok", status: 200, body: `{"errcode":0,"errmsg":"ok"}`, ok: true},
		{name: "busy", status: 200, body: `{"errcode":-1,"errmsg":"system busy"}`, code: -1, retry: true},
		{name: "rate limited", status: 200, body: `{"errcode":45009,"errmsg":"api freq out of limit"}`, code: 45009, limited: true, fix: true},
		{name: "bad key", status: 200, body: `{"errcode":93000,"errmsg":"invalid webhook url, hint: [x], from ip: 1.2.3.4, more info at https://open.work.weixin.qq.com/devtool/query?e=93000"}`, code: 93000, fix: true},
		{name: "too long", status: 200, body: `{"errcode":40058,"errmsg":"markdown.content exceed max length 4096"}`, code: 40058, fix: true},
		{name: "bad type", status: 200, body: `{"errcode":40008,"errmsg":"invalid message type"}`, code: 40008, fix: true},
		{name: "empty", status: 200, body: `{"errcode":44004,"errmsg":"Warning: wrong json format. empty content"}`, code: 44004, fix: true},
		{name: "webhook disabled", status: 200, body: `{"errcode":93004,"errmsg":"webhook disabled, hint: [x], from ip: 1.2.3.4, more info at https://open.work.weixin.qq.com/devtool/query?e=93004"}`, code: 93004, fix: true},
		{name: "not in the group", status: 200, body: `{"errcode":93008,"errmsg":"robot not in group"}`, code: 93008, fix: true},
		{name: "content too large", status: 200, body: `{"errcode":45002,"errmsg":"content size out of limit"}`, code: 45002, fix: true},
		{name: "concurrency limit", status: 200, body: `{"errcode":45033,"errmsg":"api concurrent out of limit"}`, code: 45033, retry: true},
		{name: "unknown code", status: 200, body: `{"errcode":60020,"errmsg":"not allow to access from your ip"}`, code: 60020},
		{name: "5xx", status: 502, body: `<html>bad gateway</html>`, retry: true},
		{name: "not JSON", status: 200, body: `<html>hi</html>`, retry: true},
		{name: "no errcode", status: 200, body: `{"errmsg":"ok"}`},
		{name: "zero errcode on 4xx", status: 403, body: `{"errcode":0}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Classify(r, tc.status, []byte(tc.body))
			if tc.ok {
				if err != nil {
					t.Fatalf("got %v, want success", err)
				}
				return
			}
			var e *notify.Error
			if !errors.As(err, &e) {
				t.Fatalf("got %v, want a *notify.Error", err)
			}
			if e.Code != tc.code || e.Retry != tc.retry || e.RateLimited != tc.limited || (e.Fix != nil) != tc.fix || e.Resign {
				t.Errorf("got code %d retry %v limited %v resign %v fix %q; want code %d retry %v limited %v fix %v",
					e.Code, e.Retry, e.RateLimited, e.Resign, e.Fix, tc.code, tc.retry, tc.limited, tc.fix)
			}
		})
	}
}

// clock is a fake clock safe for the stand-in's goroutines.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func TestSendThroughStandIn(t *testing.T) {
	w := robottest.NewWeCom(key)
	defer w.Close()
	n := &Notifier{Base: w.URL(), Client: w.Server.Client()}
	if err := n.Send(context.Background(), robot(key), message()); err != nil {
		t.Fatal(err)
	}
	got := w.Messages()
	if len(got) != 2 {
		t.Fatalf("stand-in accepted %d messages, want markdown + text", len(got))
	}
	md, txt := got[0], got[1]
	if md.MsgType != "markdown" || strings.Join(md.MarkdownMentions, ",") != "zhangsan" || len(md.IgnoredMentions) != 0 {
		t.Errorf("markdown: type %q mentions %v ignored %v; want markdown mentioning zhangsan", md.MsgType, md.MarkdownMentions, md.IgnoredMentions)
	}
	if !strings.Contains(md.Content, "详情") || !strings.Contains(md.Content, "https://acme.sentry.io/issues/42/") {
		t.Errorf("markdown lacks the keyword or the link:\n%s", md.Content)
	}
	if txt.MsgType != "text" || strings.Join(txt.MentionedMobileList, ",") != "13900139000" {
		t.Errorf("text: type %q mobiles %v; want text mentioning 13900139000", txt.MsgType, txt.MentionedMobileList)
	}

	// Only userids: one message.
	m := message()
	m.Mentions = m.Mentions[:1]
	if err := n.Send(context.Background(), robot(key), m); err != nil {
		t.Fatal(err)
	}
	if got := len(w.Messages()); got != 3 {
		t.Errorf("stand-in holds %d messages, want 3", got)
	}
}

func TestSendErrors(t *testing.T) {
	w := robottest.NewWeCom(key)
	defer w.Close()
	n := &Notifier{Base: w.URL(), Client: w.Server.Client()}
	ctx := context.Background()

	err := n.Send(ctx, robot("unknown-key"), message())
	var e *notify.Error
	if !errors.As(err, &e) || e.Code != 93000 || e.Fix == nil || e.Retry {
		t.Errorf("unknown key: got %v, want errcode 93000 with a fix", err)
	}
	if err := n.Send(ctx, robot(""), message()); !errors.As(err, &e) || e.Fix == nil || w.Requests() != 1 {
		t.Errorf("empty key: got %v after %d requests, want a fix and no request", err, w.Requests())
	}
	if err := n.Send(ctx, nil, nil); err == nil {
		t.Error("nil robot and message: no error")
	}

	// The markdown goes out, the text fails: the error must not ask for a
	// retry, which would post the alert twice.
	w.FailNext(robottest.FaultNone, robottest.FaultBusy)
	err = n.Send(ctx, robot(key), message())
	if !errors.As(err, &e) || e.Retry || e.Code != -1 || !strings.Contains(e.Msg, "delivered") {
		t.Errorf("failed mention message: got %#v, want a non-retryable error saying the alert was delivered", err)
	}
}

// TestGroupFaults: a webhook disabled in its group (93004), a robot
// removed from its group (93008) and content over WeCom's limit (45002)
// are configuration faults, each with its own fix in words; the
// concurrency limit (45033) is retried shortly and then delivers.
func TestGroupFaults(t *testing.T) {
	w := robottest.NewWeCom(key)
	defer w.Close()
	n := &Notifier{Base: w.URL(), Client: w.Server.Client()}
	p := notify.Policy{Attempts: 3, Sleep: func(context.Context, time.Duration) error { return nil }}
	m := message()
	m.Mentions = m.Mentions[:1]
	for _, c := range []struct {
		state robottest.KeyState
		code  int
		fix   string
	}{
		{robottest.KeyDisabled, 93004, "re-enable"},
		{robottest.KeyNotInGroup, 93008, "add the robot back"},
	} {
		w.SetKeyState(key, c.state)
		res := notify.Deliver(context.Background(), n, robot(key), m, p)
		if res.Err == nil || res.Err.Code != c.code || res.Err.Retry || res.Attempts != 1 || !strings.Contains(res.Err.Fix.String(), c.fix) {
			t.Errorf("state %d: %+v after %d attempts; want errcode %d, not retried, a fix with %q", c.state, res.Err, res.Attempts, c.code, c.fix)
		}
	}
	w.SetKeyState(key, robottest.KeyActive)
	if fix := Kind.Explain(45002, "", false).String(); !strings.Contains(fix, "4096 bytes") {
		t.Errorf("45002 explained as %q", fix)
	}
	w.FailNext(robottest.FaultConcurrency)
	res := notify.Deliver(context.Background(), n, robot(key), m, p)
	if res.Err != nil || res.Attempts != 2 || len(w.Messages()) != 1 {
		t.Errorf("after the concurrency limit: %+v after %d attempts, %d messages; want delivered on the second attempt", res.Err, res.Attempts, len(w.Messages()))
	}
}

// TestEscapeRenders: WeCom documents no escape syntax, so only what would
// be markup (a tag or a mention, a link, bold) is turned into its
// full-width look-alike; nothing else changes.
func TestEscapeRenders(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"a|b ~c~ _x_ #1 > 2", "a|b ~c~ _x_ #1 > 2"},
		{"[WARN] list[0] a < b", "[WARN] list[0] a < b"},
		{"[click](https://evil.example/)", "［click］(https://evil.example/)"},
		{"<@all> <font color=\"info\">x</font>", "＜@all> ＜font color=\"info\">x＜/font>"},
		{"**bold** 2*3", "＊＊bold＊＊ 2＊3"},
		{"2 * 3 ** 4", "2 * 3 ** 4"},
		{"one\ntwo", "one two"},
	} {
		if got := Escape(c.in); got != c.want {
			t.Errorf("Escape(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestSharedLoginNeverEscaped: the shared Sentry login is shown exactly:
// as it is, or as inline code (which WeCom markdown documents) when it
// holds a character WeCom would take as markup.
func TestSharedLoginNeverEscaped(t *testing.T) {
	for _, c := range []struct{ note, want string }{
		{"Sentry 共享账号: viewer@acme.com / s3cret_#|~", "> Sentry 共享账号: viewer@acme.com / s3cret_#|~\n"},
		{"Sentry 共享账号: viewer@acme.com / p*ss[w](x)<b>", "> Sentry 共享账号: `viewer@acme.com / p*ss[w](x)<b>`\n"},
	} {
		m := message()
		m.Note = c.note
		head, _ := Markdown(m)
		if !strings.Contains(head, c.want) {
			t.Errorf("note %q renders as:\n%s\nwant the line %q", c.note, head, c.want)
		}
	}
}

func TestDeliverRetriesTransientFailures(t *testing.T) {
	w := robottest.NewWeCom(key)
	defer w.Close()
	w.FailNext(robottest.Fault500, robottest.FaultBusy)
	n := &Notifier{Base: w.URL(), Client: w.Server.Client()}
	m := message()
	m.Mentions = m.Mentions[:1]
	p := notify.Policy{Attempts: 4, Sleep: func(context.Context, time.Duration) error { return nil }}
	res := notify.Deliver(context.Background(), n, robot(key), m, p)
	if res.Err != nil || res.Attempts != 3 || len(w.Messages()) != 1 {
		t.Errorf("got %+v with %d messages, want success on attempt 3 and one message", res, len(w.Messages()))
	}
}

func TestRateLimit(t *testing.T) {
	w := robottest.NewWeCom(key)
	defer w.Close()
	c := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	w.Now = c.Now
	n := &Notifier{Base: w.URL(), Client: w.Server.Client()}
	m := message()
	m.Mentions = m.Mentions[:1]
	for i := range 20 {
		if err := n.Send(context.Background(), robot(key), m); err != nil {
			t.Fatalf("message %d: %v", i+1, err)
		}
		c.Add(time.Second)
	}
	err := n.Send(context.Background(), robot(key), m)
	var e *notify.Error
	if !errors.As(err, &e) || e.Code != 45009 || !e.RateLimited || e.Retry {
		t.Fatalf("21st message in a minute: got %v, want errcode 45009, rate limited", err)
	}
	c.Add(41 * time.Second) // the first calls leave the minute
	if err := n.Send(context.Background(), robot(key), m); err != nil {
		t.Errorf("next minute: %v", err)
	}
}

func TestErrorsHideTheKey(t *testing.T) {
	ctx := context.Background()
	var errs []error

	// A server that echoes the key and the URL in its errmsg.
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"errcode": 93000, "errmsg": "invalid webhook url " + r.URL.String() + " key " + r.URL.Query().Get("key")})
	}))
	defer echo.Close()
	errs = append(errs, (&Notifier{Base: echo.URL}).Send(ctx, robot(key), message()))

	// A server that is gone: the transport error names the URL.
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	errs = append(errs, (&Notifier{Base: gone.URL}).Send(ctx, robot(key), message()))

	// A timeout.
	w := robottest.NewWeCom(key)
	defer w.Close()
	w.FailNext(robottest.FaultTimeout)
	tctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	errs = append(errs, (&Notifier{Base: w.URL()}).Send(tctx, robot(key), message()))

	// A bad base URL.
	errs = append(errs, (&Notifier{Base: "http://127.0.0.1:bad\x7f"}).Send(ctx, robot(key), message()))

	for i, err := range errs {
		if err == nil {
			t.Fatalf("case %d: no error", i)
		}
		var e *notify.Error
		if !errors.As(err, &e) {
			t.Errorf("case %d: %T is not a *notify.Error", i, err)
		}
		if s := err.Error(); strings.Contains(s, key) || strings.Contains(s, "secretkey") {
			t.Errorf("case %d: error shows the key: %s", i, s)
		}
	}
}

func FuzzMarkdownBody(f *testing.F) {
	f.Add("TypeError", "value", "zhangsan", 10)
	f.Add("<@all>", "<font color=\"info\">", "a>b", 3000)
	f.Add("标题", "很长", "", 2000)
	f.Add("\xde", "\xde", "", 3000)
	f.Fuzz(func(t *testing.T, heading, value, userid string, repeat int) {
		if repeat < 0 || repeat > 5000 {
			return
		}
		m := message()
		m.Heading = heading
		m.Fields = append(m.Fields, notify.Field{Label: "说明", Value: strings.Repeat(value, repeat)})
		m.Title = strings.Repeat(heading, repeat)
		m.Mentions = append(m.Mentions, notify.Mention{IDs: map[string]string{"wecom": userid}})
		if tb, err := TextBody(m); err == nil {
			if _, c, _ := content(t, tb); len(c) > MaxText {
				t.Fatalf("text content is %d bytes", len(c))
			}
		}
		body, err := MarkdownBody(m)
		if err != nil {
			return
		}
		_, c, _ := content(t, body)
		if len(c) > MaxMarkdown {
			t.Fatalf("content is %d bytes", len(c))
		}
		if strings.Contains(c, "<@all>") {
			t.Fatalf("content mentions everyone:\n%s", c)
		}
	})
}
