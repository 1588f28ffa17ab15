package configapi

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/robottest"
)

// TestTestAlertExplainsChineseRefusals: the robot's test alert against a
// DingTalk that answers in Chinese, as DingTalk does today, shows the right
// fix for a wrong secret, a missing keyword, an expired timestamp and a
// cleared secret ("description" holds the letters "ip": none of them is an
// IP allow-list problem), and delivers once all is right.
func TestTestAlertExplainsChineseRefusals(t *testing.T) {
	e := newEnv(t, robottest.DingTalkRobot{Token: "tok-good", Secret: "SECgood0123456789", Keywords: []string{"紧急"}})
	e.ding.SetLang("zh")
	setupAlert(t, e, "紧急")
	test := func() map[string]any {
		t.Helper()
		m := e.must(http.StatusOK, "POST", "/api/v1/robots/1/test", map[string]any{})
		return asList(m["results"])[0].(map[string]any)
	}
	for _, c := range []struct {
		name   string
		patch  map[string]any
		skew   time.Duration
		detail string // in DingTalk's own answer
		fix    string
	}{
		{"wrong secret", map[string]any{"secret": "SECwrong0123456789"}, 0, "机器人发送签名不匹配", "加签 secret does not match"},
		{"missing keyword", map[string]any{"secret": "SECgood0123456789", "keyword": "详情"}, 0, "关键词不匹配", "keyword must appear in every message"},
		{"expired timestamp", map[string]any{"keyword": "紧急"}, 2 * time.Hour, "机器人发送签名过期", "check this machine's clock"},
		{"cleared secret", map[string]any{"secret": ""}, 0, "机器人发送签名不匹配", "needs its SEC… secret"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e.must(http.StatusOK, "PATCH", "/api/v1/robots/1", c.patch)
			e.ding.SetNow(func() time.Time { return time.Now().Add(c.skew) })
			res := test()
			if res["ok"] != false || res["code"] != float64(310000) {
				t.Fatalf("result %v, want a 310000 refusal", res)
			}
			fix, _ := res["fix"].(string)
			if !strings.Contains(fix, c.fix) || strings.Contains(fix, "IP") {
				t.Errorf("fix %q, want %q (and no IP allow-list)", fix, c.fix)
			}
			if d, _ := res["detail"].(string); !strings.Contains(d, c.detail) {
				t.Errorf("detail %q lacks DingTalk's %q", d, c.detail)
			}
			if msg, _ := res["message"].(string); !strings.Contains(msg, "What to do: "+fix) {
				t.Errorf("message %q does not end with the fix", msg)
			}
			if strings.Contains(jsonNum(res), "SECwrong") || strings.Contains(jsonNum(res), "SECgood") {
				t.Errorf("the answer leaks a secret: %v", res)
			}
		})
	}
	e.must(http.StatusOK, "PATCH", "/api/v1/robots/1", map[string]any{"secret": "SECgood0123456789"})
	e.ding.SetNow(time.Now)
	if res := test(); res["ok"] != true {
		t.Errorf("with the secret, the keyword and the clock right: %v", res)
	}
	if n := len(e.ding.Messages()); n != 1 {
		t.Errorf("the stand-in accepted %d messages, want 1", n)
	}
}
