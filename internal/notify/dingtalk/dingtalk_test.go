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
	"github.com/sentry-white/sentry-white/internal/render"
	"github.com/sentry-white/sentry-white/internal/robottest"
	"github.com/sentry-white/sentry-white/internal/route"
	"github.com/sentry-white/sentry-white/internal/sentry"
)

var update = flag.Bool("update", false, "rewrite golden files")

var _ notify.Sender = (*Notifier)(nil)

const secret = "SECa7f09b5ea245debd13fb7fe1993897008f6b44ddf80310d14f3de4d3f407221d"

func TestSignVectors(t *testing.T) {
	// chat-robots.md §1.1 worked examples.
	if got := Sign(secret, 1700000000004); got != "1PZxRgnTu6/yBDrjsrc+4ufHLu1eosr18gVZrNqHU14=" {
		t.Errorf("Sign(…004) = %s", got)
	}
	if got := Sign(secret, 1700000000000); got != "ob1avaj50jHLKjWGUcDntubBhrJY5siiBS0GFqYqzM4=" {
		t.Errorf("Sign(…000) = %s", got)
	}
	n := &Notifier{Base: "https://oapi.dingtalk.com", Now: func() time.Time { return time.UnixMilli(1700000000004) }}
	u, _ := n.endpoint(&config.Robot{AccessToken: "abc123", Secret: secret})
	if want := "https://oapi.dingtalk.com/robot/send?access_token=abc123&sign=1PZxRgnTu6%2FyBDrjsrc%2B4ufHLu1eosr18gVZrNqHU14%3D&timestamp=1700000000004"; u != want {
		t.Errorf("endpoint = %s\nwant       %s", u, want)
	}
}

func fixture(t *testing.T) *config.Index {
	t.Helper()
	b, err := os.ReadFile("../../../testdata/config/full.json")
	if err != nil {
		t.Fatal(err)
	}
	d, err := config.Parse(b)
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

func TestSendThroughStandIn(t *testing.T) {
	dt := robottest.NewDingTalk(
		robottest.DingTalkRobot{Token: "signed", Secret: secret, Keywords: []string{"详情"}},
		robottest.DingTalkRobot{Token: "kw", Keywords: []string{"告警"}},
	)
	defer dt.Close()
	n := &Notifier{Base: dt.URL()}
	msg := &notify.Message{Title: "详情 | t", Heading: "h", Keyword: "详情", Mentions: []notify.Mention{{Name: "a", Mobile: "13800138000"}}}
	ctx := context.Background()

	if err := n.Send(ctx, &config.Robot{Name: "ok", AccessToken: "signed", Secret: secret}, msg); err != nil {
		t.Fatalf("signed send: %v", err)
	}
	got := dt.Messages()
	if len(got) != 1 || !got[0].Mentioned || got[0].AtMobiles[0] != "13800138000" {
		t.Fatalf("messages = %+v", got)
	}

	cases := []struct {
		name  string
		robot config.Robot
		now   func() time.Time
		code  int
		fix   string
		retry bool
	}{
		{"wrong secret", config.Robot{AccessToken: "signed", Secret: "SECwrong"}, nil, 310000, "加签", false},
		{"no secret", config.Robot{AccessToken: "signed"}, nil, 310000, "", false},
		{"old timestamp", config.Robot{AccessToken: "signed", Secret: secret}, func() time.Time { return time.Now().Add(-2 * time.Hour) }, 310000, "clock", false},
		{"keyword", config.Robot{AccessToken: "kw"}, nil, 310000, "set it to 详情", false},
		{"unknown token", config.Robot{AccessToken: "nope"}, nil, 300005, "access_token", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.robot.Name = c.name
			err := (&Notifier{Base: dt.URL(), Now: c.now}).Send(ctx, &c.robot, msg)
			var e *notify.Error
			if err == nil {
				t.Fatal("accepted")
			}
			e = err.(*notify.Error)
			if e.Code != c.code || e.Retry != c.retry || !strings.Contains(e.Fix, c.fix) {
				t.Errorf("got code %d retry %v fix %q; want %d %v %q", e.Code, e.Retry, e.Fix, c.code, c.retry, c.fix)
			}
			for _, s := range []string{secret, "SECwrong", "signed"} {
				if strings.Contains(err.Error(), s) {
					t.Errorf("error leaks %q: %v", s, err)
				}
			}
		})
	}
}

func TestClassify(t *testing.T) {
	r := &config.Robot{Name: "r"}
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
