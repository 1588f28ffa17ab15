package feishu

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

const (
	token  = "3c1b8f2e-hooktoken-9a7d-secret"
	secret = "fs-signing-secret-5pS0x0dW5w"
)

func robot(tok, sec string) *config.Robot {
	return &config.Robot{Name: "飞书告警群", Kind: "feishu", AccessToken: config.Secret(tok), Secret: config.Secret(sec), Keyword: "详情"}
}

func message() *notify.Message {
	return &notify.Message{
		Title:   "详情 | [新问题] 商城后台: TypeError",
		Heading: "TypeError: Cannot read properties of undefined",
		Link:    "https://acme.sentry.io/issues/42/",
		Level:   "error",
		State:   "new",
		Fields: []notify.Field{
			{Label: "项目", Value: "商城后台 (mall-api)"},
			{Label: "级别", Value: "error"},
		},
		Note:    "Sentry 共享账号: viewer@acme.com",
		Keyword: "详情",
		Mentions: []notify.Mention{
			{Name: "张三", Mobile: "13800138000", IDs: map[string]string{"feishu": "ou_7d8a6e6df7621556ce0d21922b676706"}},
			{Name: "李四", Mobile: "13900139000"},
		},
	}
}

func TestSign(t *testing.T) {
	// docs/chat-robots.md §3, worked example and vector 2.
	tests := []struct {
		secret string
		ts     int64
		want   string
	}{
		{"demo", 1599360473, "l1N0gAcBjdwBvGm1xMjOF0XSyaLRpR7tuO5dHfhAYc8="},
		{"5pS0x0dW5wKZ1nqB3ZqJkc", 1700000000, "6QkWufoDZyOnPhXljXidr7NIH2M6Fs7QU5N9PAspWiQ="},
	}
	for _, tc := range tests {
		if got := Sign(tc.secret, tc.ts); got != tc.want {
			t.Errorf("Sign(%q, %d) = %s, want %s", tc.secret, tc.ts, got, tc.want)
		}
	}
}

// sentCard is the part of a request body the tests look at.
type sentCard struct {
	Timestamp *string `json:"timestamp"`
	Sign      *string `json:"sign"`
	MsgType   string  `json:"msg_type"`
	Content   any     `json:"content"`
	Card      struct {
		Header struct {
			Title struct {
				Tag     string `json:"tag"`
				Content string `json:"content"`
			} `json:"title"`
			Template string `json:"template"`
		} `json:"header"`
		Elements []struct {
			Tag  string `json:"tag"`
			Text struct {
				Tag     string `json:"tag"`
				Content string `json:"content"`
			} `json:"text"`
			Actions []struct {
				Tag  string `json:"tag"`
				Text struct {
					Content string `json:"content"`
				} `json:"text"`
				URL string `json:"url"`
			} `json:"actions"`
		} `json:"elements"`
	} `json:"card"`
}

func decode(t *testing.T, body []byte) sentCard {
	t.Helper()
	var c sentCard
	if err := json.Unmarshal(body, &c); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, body)
	}
	return c
}

// divs returns the lark_md contents and the button URLs and labels.
func (c sentCard) divs() (md []string, buttons []string) {
	for _, e := range c.Card.Elements {
		switch e.Tag {
		case "div":
			if e.Text.Tag == "lark_md" {
				md = append(md, e.Text.Content)
			}
		case "action":
			for _, a := range e.Actions {
				buttons = append(buttons, a.Text.Content+" -> "+a.URL)
			}
		}
	}
	return md, buttons
}

// plain returns the plain_text divs' contents: no markdown applies there.
func (c sentCard) plain() []string {
	var out []string
	for _, e := range c.Card.Elements {
		if e.Tag == "div" && e.Text.Tag == "plain_text" {
			out = append(out, e.Text.Content)
		}
	}
	return out
}

func TestBody(t *testing.T) {
	long := strings.Repeat("很长的错误信息*_ ", 2000) // ~40 KB once escaped
	tests := []struct {
		name     string
		edit     func(m *notify.Message)
		title    string
		template string
		details  []string // substrings of the first div
		mentions string   // the mentions div, "" for none
		not      []string
	}{
		{
			name:     "card",
			title:    "详情 | [新问题] 商城后台: TypeError",
			template: "red",
			details:  []string{"**[TypeError: Cannot read properties of undefined](https://acme.sentry.io/issues/42/)**\n", "**项目**: 商城后台 (mall-api)\n**级别**: error"},
			mentions: "<at id=ou_7d8a6e6df7621556ce0d21922b676706></at> @李四",
		},
		{
			name:     "keyword put in the title",
			edit:     func(m *notify.Message) { m.Title = "商城后台: TypeError"; m.Level = "warning" },
			title:    "详情 | 商城后台: TypeError",
			template: "orange",
			mentions: "<at id=ou_7d8a6e6df7621556ce0d21922b676706></at> @李四",
		},
		{
			name:     "resolved is green",
			edit:     func(m *notify.Message) { m.State = "resolved"; m.Mentions = nil },
			title:    "详情 | [新问题] 商城后台: TypeError",
			template: "green",
		},
		{
			name:     "Sentry text cannot mention or format",
			edit:     func(m *notify.Message) { m.Heading = "<at id=all></at> **x** [a](b) ~y~ & `z`"; m.Level = "info" },
			title:    "详情 | [新问题] 商城后台: TypeError",
			template: "blue",
			details:  []string{"&lt;at id=all>&lt;/at> &#42;&#42;x&#42;&#42; &#91;a&#93;(b) &#126;y&#126; & &#96;z&#96;"},
			mentions: "<at id=ou_7d8a6e6df7621556ce0d21922b676706></at> @李四",
			not:      []string{"<at id=all>"},
		},
		{
			name: "bad open_ids are named, not mentioned",
			edit: func(m *notify.Message) {
				m.Mentions = []notify.Mention{{Name: "王五", IDs: map[string]string{"feishu": "ou_1></at><at id=all"}}, {Name: "全员", IDs: map[string]string{"feishu": "all"}}, {Name: "赵六", IDs: map[string]string{"feishu": "ou_abc-123"}}}
			},
			title:    "详情 | [新问题] 商城后台: TypeError",
			template: "red",
			mentions: "@王五 @全员 <at id=ou_abc-123></at>",
			not:      []string{"<at id=all>", "<at id=ou_1>"},
		},
		{
			name:     "long details are cut, mentions and button kept",
			edit:     func(m *notify.Message) { m.Fields = append(m.Fields, notify.Field{Label: "说明", Value: long}) },
			title:    "详情 | [新问题] 商城后台: TypeError",
			template: "red",
			details:  []string{"**项目**: 商城后台 (mall-api)", "…"},
			mentions: "<at id=ou_7d8a6e6df7621556ce0d21922b676706></at> @李四",
		},
		{
			name: "digest",
			edit: func(m *notify.Message) {
				m.Heading = "5 条告警"
				m.Digest = []notify.DigestItem{{Project: "mall-api", Title: "TypeError", Link: "https://acme.sentry.io/issues/1/", Level: "error", Count: 3}}
			},
			title:    "详情 | [新问题] 商城后台: TypeError",
			template: "red",
			details:  []string{"**5 条告警**\n🔴 [TypeError](https://acme.sentry.io/issues/1/) (mall-api · error · ×3)\n"},
			mentions: "<at id=ou_7d8a6e6df7621556ce0d21922b676706></at> @李四",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := message()
			if tc.edit != nil {
				tc.edit(m)
			}
			body, err := Body(m, "", 0)
			if err != nil {
				t.Fatal(err)
			}
			if len(body) > MaxBody || !utf8.Valid(body) {
				t.Errorf("body is %d bytes (max %d), valid UTF-8 %v", len(body), MaxBody, utf8.Valid(body))
			}
			c := decode(t, body)
			if c.MsgType != "interactive" || c.Content != nil || c.Timestamp != nil || c.Sign != nil {
				t.Errorf("msg_type %q, content %v, timestamp %v, sign %v; want an unsigned interactive card in card", c.MsgType, c.Content, c.Timestamp, c.Sign)
			}
			h := c.Card.Header
			if h.Title.Tag != "plain_text" || h.Title.Content != tc.title || h.Template != tc.template {
				t.Errorf("header %+v, want title %q template %q", h, tc.title, tc.template)
			}
			md, buttons := c.divs()
			if len(buttons) != 1 || buttons[0] != "在 Sentry 中查看详情 -> https://acme.sentry.io/issues/42/" {
				t.Errorf("buttons %q, want one to the issue", buttons)
			}
			wantDivs := 1
			if tc.mentions != "" {
				wantDivs = 2
			}
			if len(md) != wantDivs {
				t.Fatalf("%d lark_md divs %q, want %d", len(md), md, wantDivs)
			}
			for _, w := range tc.details {
				if !strings.Contains(md[0], w) {
					t.Errorf("details lack %q:\n%s", w, md[0])
				}
			}
			if tc.mentions != "" && md[1] != tc.mentions {
				t.Errorf("mentions %q, want %q", md[1], tc.mentions)
			}
			for _, w := range tc.not {
				if strings.Contains(string(body), w) {
					t.Errorf("body has %q", w)
				}
			}
			if i := strings.LastIndexByte(md[0], '&'); i >= 0 && strings.HasPrefix(md[0][i:], "&#") && !strings.Contains(md[0][i:], ";") {
				t.Errorf("details end inside an entity: %q", md[0][i:])
			}
			if p := c.plain(); m.Note != "" && len(m.Digest) == 0 && (len(p) == 0 || p[0] != m.Note) {
				t.Errorf("plain_text divs %q, want the note %q as it is", p, m.Note)
			}
		})
	}
}

// TestEscapeRenders: lark_md takes HTML entities for its markup
// characters, and only what would be markup is written so: a lone "*", a
// "|", "[0]" or "a < b" stay as they are.
func TestEscapeRenders(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"a|b #1 > 2 - 3", "a|b #1 > 2 - 3"},
		{"user_id 2 * 3 ~1 one `tick", "user_id 2 * 3 ~1 one `tick"},
		{"[WARN] list[0] a < b & c", "[WARN] list[0] a < b & c"},
		{"*bold* _it_ ~~del~~ `code`", "&#42;bold&#42; &#95;it&#95; &#126;&#126;del&#126;&#126; &#96;code&#96;"},
		{"[x](https://evil.example/)", "&#91;x&#93;(https://evil.example/)"},
		{"<at id=all></at> <font>", "&lt;at id=all>&lt;/at> &lt;font>"},
		{"&lt;b&gt; &#42; &amp;", "&amp;lt;b&amp;gt; &amp;#42; &amp;amp;"},
		{"one\ntwo", "one two"},
	} {
		if got := Escape(c.in); got != c.want {
			t.Errorf("Escape(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestSharedLoginAsPlainText: the shared Sentry login goes in a plain_text
// div, where no markdown applies, exactly as it is.
func TestSharedLoginAsPlainText(t *testing.T) {
	m := message()
	m.Note = "Sentry 共享账号: viewer_ops@acme.com / p*ss_w[0]rd<b>&amp;`x`"
	body, err := Body(m, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	c := decode(t, body)
	if p := c.plain(); len(p) != 1 || p[0] != m.Note {
		t.Errorf("plain_text divs %q, want the note exactly", p)
	}
	if md, _ := c.divs(); strings.Contains(strings.Join(md, "\n"), "viewer_ops") {
		t.Errorf("the login is in lark_md too: %q", md)
	}
}

// TestDigestPlainLines: lists do not render in lark_md, so a digest has
// one plain line per alert, led by its level mark, and no "- " item.
func TestDigestPlainLines(t *testing.T) {
	m := message()
	m.Heading = "限流期间合并的 3 条告警"
	m.Digest = []notify.DigestItem{
		{Project: "mall-api", Title: "TypeError", Link: "https://acme.sentry.io/issues/1/", Level: "error", Count: 2},
		{Project: "pay", Title: "Timeout", Level: "warning"},
		{Project: "web", Title: "Deprecated API", Level: "info"},
	}
	body, err := Body(m, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	md, _ := decode(t, body).divs()
	want := "**限流期间合并的 3 条告警**\n🔴 [TypeError](https://acme.sentry.io/issues/1/) (mall-api · error · ×2)\n🟠 Timeout (pay · warning)\n🔵 Deprecated API (web · info)"
	if len(md) == 0 || !strings.HasPrefix(md[0], want) {
		t.Errorf("digest details:\n%s\nwant them to start:\n%s", md, want)
	}
	for _, line := range strings.Split(md[0], "\n") {
		if strings.HasPrefix(line, "- ") || strings.HasPrefix(line, "* ") {
			t.Errorf("a list item, which lark_md shows as it is: %q", line)
		}
	}
}

// TestBodyUnder20000Bytes: however long the alert, the body stays under
// 20,000 bytes (Feishu's "20 KB", read the strict way).
func TestBodyUnder20000Bytes(t *testing.T) {
	for n := 18500; n <= 21000; n += 50 {
		m := message()
		m.Fields = append(m.Fields, notify.Field{Label: "说明", Value: strings.Repeat("x", n)})
		body, err := Body(m, secret, 1700000000)
		if err != nil {
			t.Fatal(err)
		}
		if len(body) > 20000 {
			t.Fatalf("a %d-byte detail gives a %d-byte body, over 20000", n, len(body))
		}
	}
}

func TestBodySigned(t *testing.T) {
	body, err := Body(message(), "demo", 1599360473)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(body), `{"timestamp":"1599360473","sign":"l1N0gAcBjdwBvGm1xMjOF0XSyaLRpR7tuO5dHfhAYc8=","msg_type":"interactive","card":{`) {
		t.Errorf("signed body starts %s", body[:120])
	}
}

func TestBodyEnglishButton(t *testing.T) {
	m := message()
	m.Lang = "en"
	body, err := Body(m, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, buttons := decode(t, body).divs(); len(buttons) != 1 || !strings.HasPrefix(buttons[0], "Open in Sentry (详情) -> ") {
		t.Errorf("buttons %q", buttons)
	}
}

func TestBodyTooManyMentions(t *testing.T) {
	m := message()
	for range 1000 {
		m.Mentions = append(m.Mentions, notify.Mention{IDs: map[string]string{"feishu": "ou_7d8a6e6df7621556ce0d21922b676706"}})
	}
	body, err := Body(m, "", 0)
	if err != nil || len(body) > MaxBody {
		t.Fatalf("mentions over 20 KB: %d bytes, %v; want the mentions that fit", len(body), err)
	}
	if !strings.Contains(string(body), "<at id=ou_7d8a6e6df7621556ce0d21922b676706></at>") {
		t.Error("no mention kept")
	}
}

func TestClassify(t *testing.T) {
	r := robot(token, secret)
	tests := []struct {
		name                   string
		status                 int
		body                   string
		ok                     bool
		code                   int
		retry, limited, resign bool
		fix                    string // substring; "" means no fix
	}{
		{name: "ok", status: 200, body: `{"StatusCode":0,"StatusMessage":"success","code":0,"data":{},"msg":"success"}`, ok: true},
		{name: "frequency limited", status: 200, body: `{"code":11232,"msg":"frequency limited psm[x]appID[1]"}`, code: 11232, limited: true, fix: "5 messages a second"},
		{name: "trigger rate limit", status: 200, body: `{"code":11233,"msg":"create message chat trigger rate limit"}`, code: 11233, limited: true, fix: "5 messages a second"},
		{name: "too many request on 400", status: 400, body: `{"code":9499,"msg":"too many request","data":{}}`, code: 9499, limited: true, fix: "100 a minute"},
		{name: "bad request", status: 400, body: `{"code":9499,"msg":"Bad Request","data":{}}`, code: 9499, fix: "20 KB"},
		{name: "bad token", status: 200, body: `{"code":19001,"msg":"param invalid: incoming webhook access token invalid"}`, code: 19001, fix: "hook token"},
		{name: "sign or time", status: 200, body: `{"code":19021,"msg":"sign match fail or timestamp is not within one hour from current time"}`, code: 19021, resign: true, fix: "clock"},
		{name: "ip", status: 200, body: `{"code":19022,"msg":"Ip Not Allowed"}`, code: 19022, fix: "IP allow-list"},
		{name: "keyword", status: 200, body: `{"code":19024,"msg":"Key Words Not Found"}`, code: 19024, fix: "set it to 详情 or change the robot"},
		{name: "unknown code", status: 200, body: `{"code":12345,"msg":"?"}`, code: 12345},
		{name: "5xx", status: 503, body: `busy`, retry: true},
		{name: "not JSON", status: 200, body: `<html>`, retry: true},
		{name: "legacy answer without code", status: 200, body: `{"StatusCode":0,"StatusMessage":"success"}`},
		{name: "code 0 on 4xx", status: 404, body: `{"code":0}`},
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
			if e.Code != tc.code || e.Retry != tc.retry || e.RateLimited != tc.limited || e.Resign != tc.resign ||
				(tc.fix == "") != (e.Fix == nil) || !strings.Contains(e.Fix.String(), tc.fix) {
				t.Errorf("got code %d retry %v limited %v resign %v fix %q; want code %d retry %v limited %v resign %v fix ~%q",
					e.Code, e.Retry, e.RateLimited, e.Resign, e.Fix, tc.code, tc.retry, tc.limited, tc.resign, tc.fix)
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

func standIn(t *testing.T, keywords ...string) (*robottest.Feishu, *clock, *Notifier) {
	t.Helper()
	f := robottest.NewFeishu(robottest.FeishuRobot{Token: token, Secret: secret, Keywords: keywords})
	t.Cleanup(f.Close)
	c := &clock{t: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)}
	f.Now = c.Now
	return f, c, &Notifier{Base: f.URL(), Client: f.Server.Client(), Now: c.Now}
}

func TestSendThroughStandIn(t *testing.T) {
	f, c, n := standIn(t, "详情")
	ctx := context.Background()
	if err := n.Send(ctx, robot(token, secret), message()); err != nil {
		t.Fatal(err)
	}
	c.Add(2 * time.Second)
	m := message()
	m.Title = "商城后台: TypeError" // the keyword must still arrive in the title
	if err := n.Send(ctx, robot(token, secret), m); err != nil {
		t.Fatal(err)
	}
	got := f.Messages()
	if len(got) != 2 {
		t.Fatalf("stand-in accepted %d messages, want 2", len(got))
	}
	for i, g := range got {
		if !g.Signed || g.MsgType != "interactive" || !strings.Contains(g.Title, "详情") {
			t.Errorf("message %d: signed %v type %q title %q", i, g.Signed, g.MsgType, g.Title)
		}
		if strings.Join(g.Mentions, ",") != "ou_7d8a6e6df7621556ce0d21922b676706" {
			t.Errorf("message %d mentions %v, want only 张三's open_id", i, g.Mentions)
		}
		if strings.Join(g.URLs, ",") != "https://acme.sentry.io/issues/42/" {
			t.Errorf("message %d buttons %v", i, g.URLs)
		}
	}
	// A fresh timestamp on every send.
	var a, b struct{ Timestamp string }
	_ = json.Unmarshal(got[0].Raw, &a)
	_ = json.Unmarshal(got[1].Raw, &b)
	if a.Timestamp == b.Timestamp {
		t.Errorf("both sends carry timestamp %s", a.Timestamp)
	}
}

func TestSendConfigFaults(t *testing.T) {
	f, _, n := standIn(t, "告警")
	ctx := context.Background()
	var e *notify.Error

	err := n.Send(ctx, robot(token, secret), message())
	if !errors.As(err, &e) || e.Code != 19024 || !strings.Contains(e.Fix.String(), "详情") {
		t.Errorf("keyword missing: got %v, want 19024 with a fix", err)
	}
	err = n.Send(ctx, robot(token, "wrong-secret"), message())
	if !errors.As(err, &e) || e.Code != 19021 || !e.Resign {
		t.Errorf("wrong secret: got %v, want 19021, resign", err)
	}
	// A bot that checks signatures but has no secret here needs it; there
	// is nothing to re-sign with and no clock to check.
	err = n.Send(ctx, robot(token, ""), message())
	if !errors.As(err, &e) || e.Code != 19021 || e.Resign || !strings.Contains(e.Fix.String(), "needs its signing secret") || strings.Contains(e.Fix.String(), "clock") {
		t.Errorf("cleared secret: got %v (resign %v), want 19021 saying the bot needs its signing secret", err, e.Resign)
	}
	err = n.Send(ctx, robot("unknown", secret), message())
	if !errors.As(err, &e) || e.Code != 19001 || e.Fix == nil {
		t.Errorf("unknown token: got %v, want 19001 with a fix", err)
	}
	before := f.Requests()
	err = n.Send(ctx, robot(" ", secret), message())
	if !errors.As(err, &e) || e.Fix == nil || f.Requests() != before {
		t.Errorf("empty token: got %v, want a fix and no request", err)
	}
	if err := n.Send(ctx, nil, nil); err == nil {
		t.Error("nil robot and message: no error")
	}
}

func TestDeliverResignsOnceForAClockOff(t *testing.T) {
	f, c, n := standIn(t)
	skewed := &clock{t: c.Now().Add(-2 * time.Hour)}
	n.Now = skewed.Now
	p := notify.Policy{Attempts: 4, Sleep: func(context.Context, time.Duration) error { return nil }}
	res := notify.Deliver(context.Background(), n, robot(token, secret), message(), p)
	if res.Err == nil || res.Err.Code != 19021 || res.Attempts != 2 || f.Requests() != 2 {
		t.Errorf("got %+v after %d requests, want 19021 after one re-sign (2 requests)", res, f.Requests())
	}
	if !strings.Contains(res.Err.Fix.String(), "clock") {
		t.Errorf("fix %q does not mention the clock", res.Err.Fix)
	}
	// An unsigned bot ignores the clock.
	f.AddRobot(robottest.FeishuRobot{Token: "plain-token"})
	if res := notify.Deliver(context.Background(), n, robot("plain-token", ""), message(), p); res.Err != nil {
		t.Errorf("unsigned bot: %v", res.Err)
	}
}

func TestDeliverRetriesTransientFailures(t *testing.T) {
	f, _, n := standIn(t)
	f.FailNext(robottest.Fault500, robottest.FaultNoCode)
	p := notify.Policy{Attempts: 4, Sleep: func(context.Context, time.Duration) error { return nil }}
	res := notify.Deliver(context.Background(), n, robot(token, secret), message(), p)
	// The 500 is retried; an answer without a code is a failure, not retried.
	if res.Err == nil || res.Attempts != 2 || len(f.Messages()) != 0 {
		t.Errorf("got %+v, want a failure on attempt 2", res)
	}
	f.FailNext(robottest.Fault500)
	if res := notify.Deliver(context.Background(), n, robot(token, secret), message(), p); res.Err != nil || res.Attempts != 2 {
		t.Errorf("got %+v, want success on attempt 2", res)
	}
}

func TestRateLimits(t *testing.T) {
	f, c, n := standIn(t)
	ctx := context.Background()
	r := robot(token, secret)
	for i := range 5 {
		if err := n.Send(ctx, r, message()); err != nil {
			t.Fatalf("message %d: %v", i+1, err)
		}
	}
	var e *notify.Error
	if err := n.Send(ctx, r, message()); !errors.As(err, &e) || e.Code != 11232 || !e.RateLimited || e.Retry {
		t.Fatalf("6th message in a second: got %v, want 11232, rate limited", err)
	}
	c.Add(time.Second)
	if err := n.Send(ctx, r, message()); err != nil {
		t.Fatalf("next second: %v", err)
	}
	// 100 a minute: 4 a second stays under 5/s.
	sent := 7 // calls so far inside this minute, the refused one included
	for ; sent < 100; sent++ {
		if sent%4 == 0 {
			c.Add(time.Second)
		}
		if err := n.Send(ctx, r, message()); err != nil {
			t.Fatalf("call %d: %v", sent+1, err)
		}
	}
	c.Add(time.Second)
	if err := n.Send(ctx, r, message()); !errors.As(err, &e) || e.Code != 11232 {
		t.Fatalf("101st call in a minute: got %v, want 11232", err)
	}
	// 11233, the trigger rate limit, is a rate limit too.
	c.Add(time.Minute)
	f.LimitCode = 11233
	for i := 0; i < 5; i++ {
		if err := n.Send(ctx, r, message()); err != nil {
			t.Fatalf("message %d: %v", i+1, err)
		}
	}
	if err := n.Send(ctx, r, message()); !errors.As(err, &e) || e.Code != 11233 || !e.RateLimited || e.Retry {
		t.Fatalf("6th message in a second, 11233: got %v, want rate limited", err)
	}
	// "too many request" with HTTP 400 is a rate limit too.
	c.Add(time.Minute)
	f.FailNext(robottest.FaultBusy)
	if err := n.Send(ctx, r, message()); !errors.As(err, &e) || e.Code != 9499 || !e.RateLimited || e.Status != 400 {
		t.Fatalf("9499 too many request: got %#v", err)
	}
}

func TestErrorsHideSecrets(t *testing.T) {
	ctx := context.Background()
	var errs []error

	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		_ = json.NewEncoder(w).Encode(map[string]any{"code": 19001, "msg": "token invalid: " + r.URL.Path + " " + token + " " + secret})
	}))
	defer echo.Close()
	errs = append(errs, (&Notifier{Base: echo.URL}).Send(ctx, robot(token, secret), message()))

	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()
	errs = append(errs, (&Notifier{Base: gone.URL}).Send(ctx, robot(token, secret), message()))

	f := robottest.NewFeishu(robottest.FeishuRobot{Token: token, Secret: secret})
	defer f.Close()
	f.FailNext(robottest.FaultTimeout)
	tctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	errs = append(errs, (&Notifier{Base: f.URL()}).Send(tctx, robot(token, secret), message()))
	errs = append(errs, (&Notifier{Base: f.URL()}).Send(ctx, robot(token, "wrong"), message()))

	for i, err := range errs {
		if err == nil {
			t.Fatalf("case %d: no error", i)
		}
		s := err.Error()
		if strings.Contains(s, token) || strings.Contains(s, secret) || strings.Contains(s, "hooktoken") {
			t.Errorf("case %d: error shows a secret: %s", i, s)
		}
	}
}

func FuzzBody(f *testing.F) {
	f.Add("TypeError", "value", "ou_x", 10)
	f.Add("<at id=all></at>", "&#4", "a b", 3000)
	f.Add("标题", "很长&", "", 9000)
	f.Add("\xde", "\xde", "\xde", 9000)
	f.Fuzz(func(t *testing.T, heading, value, openID string, repeat int) {
		if repeat < 0 || repeat > 20000 {
			return
		}
		m := message()
		m.Heading = heading
		m.Title = strings.Repeat(heading, repeat)
		m.Fields = append(m.Fields, notify.Field{Label: "说明", Value: strings.Repeat(value, repeat)})
		m.Mentions = append(m.Mentions, notify.Mention{IDs: map[string]string{"feishu": openID}, Name: openID})
		body, err := Body(m, "demo", 1599360473)
		if err != nil {
			return
		}
		if len(body) > MaxBody {
			t.Fatalf("body is %d bytes", len(body))
		}
		if !json.Valid(body) {
			t.Fatalf("body is not JSON")
		}
		md, _ := decode(t, body).divs()
		if strings.Contains(strings.Join(md, "\n"), "<at id=all>") {
			t.Fatalf("lark_md mentions everyone: %q", md)
		}
	})
}

// TestShortenedNeverSplitsAnEntity: however a long message is shortened,
// its lark_md ends no HTML entity halfway.
func TestShortenedNeverSplitsAnEntity(t *testing.T) {
	for n := 100; n <= 6000; n += 350 {
		m := message()
		m.Fields = append(m.Fields, notify.Field{Label: "说明", Value: strings.Repeat("a<b>*c_ 好", n)})
		body, err := Body(m, "", 0)
		if err != nil || len(body) > MaxBody || !utf8.Valid(body) {
			t.Fatalf("n=%d: %d bytes, %v", n, len(body), err)
		}
		md, _ := decode(t, body).divs()
		for _, d := range md {
			for _, part := range strings.Split(d, "&")[1:] {
				if i := strings.IndexByte(part, ';'); i < 0 || i > 6 {
					t.Fatalf("n=%d: an entity is cut: …&%.20s", n, part)
				}
			}
		}
	}
}
