package main

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sentry-white/sentry-white/internal/robottest"
)

// TestBrowserRobotTestExplainsChineseRefusals: on the robots page, the test
// alert against a DingTalk answering in Chinese (as DingTalk does today)
// shows the right fix for a wrong secret, a missing keyword and an expired
// timestamp, in Chinese, and, in English, for a cleared secret; never the
// IP allow-list that "description" (which holds the letters "ip") used to
// suggest.
func TestBrowserRobotTestExplainsChineseRefusals(t *testing.T) {
	ding := robottest.NewDingTalk(robottest.DingTalkRobot{Token: robotToken, Secret: robotSecret, Keywords: []string{"紧急"}})
	t.Cleanup(ding.Close)
	ding.SetLang("zh")
	in := start(t, nil, map[string]string{"SENTRY_WHITE_DINGTALK_API": ding.URL()})
	in.api(t, "POST", "/api/v1/owners", map[string]any{"name": "张三", "mobile": ownerMobile})
	in.api(t, "POST", "/api/v1/robots", map[string]any{"name": "研发告警群", "access_token": robotToken,
		"secret": "SEC0000000000000000000000000000000000000000000000000000000000000000", "keyword": "紧急"})
	in.api(t, "POST", "/api/v1/projects", map[string]any{"name": "商城后台", "slug": "mall-api", "owner_ids": []int{1}, "robot_ids": []int{1}})

	tb := newTab(t, in)
	tb.open()
	tb.page("robots")
	testAlert := func() string {
		t.Helper()
		eval[bool](tb, `(document.getElementById("robot-status-1") || document.createElement("p")).remove(), true`)
		tb.do(chromedp.Click(chromedp.ID("robot-test-1")))
		tb.waitFor(`document.querySelector("#robot-status-1 .msg.fail, #robot-status-1 .msg.ok") !== null`)
		return tb.text("robot-status-1")
	}
	for _, c := range []struct {
		name  string
		patch map[string]any
		skew  time.Duration
		want  []string
	}{
		{"wrong secret", nil, 0, []string{"310000", "机器人发送签名不匹配", "怎么办", "加签密钥不匹配", "SEC 开头的密钥"}},
		{"missing keyword", map[string]any{"secret": robotSecret, "keyword": "详情"}, 0, []string{"310000", "关键词不匹配", "怎么办", "关键词必须出现在每条消息里"}},
		{"expired timestamp", map[string]any{"keyword": "紧急"}, 2 * time.Hour, []string{"310000", "机器人发送签名过期", "怎么办", "签名时间", "时钟"}},
	} {
		if c.patch != nil {
			in.api(t, "PATCH", "/api/v1/robots/1", c.patch)
		}
		ding.SetNow(func() time.Time { return time.Now().Add(c.skew) })
		res := testAlert()
		for _, w := range c.want {
			if !strings.Contains(res, w) {
				t.Errorf("%s: the page reads %q; want %q in it", c.name, res, w)
			}
		}
		if strings.Contains(res, "白名单不包含") || strings.Contains(res, "IP allow-list") {
			t.Errorf("%s: the page blames the IP allow-list: %q", c.name, res)
		}
	}

	// In English, a robot whose secret was cleared is told it needs it.
	tb.do(chromedp.Click(chromedp.ID("lang-toggle")))
	tb.waitFor(`document.documentElement.lang === "en"`)
	in.api(t, "PATCH", "/api/v1/robots/1", map[string]any{"secret": ""})
	ding.SetNow(time.Now)
	if res := testAlert(); !strings.Contains(res, "What to do") || !strings.Contains(res, "needs its SEC… secret") || strings.Contains(res, "clock") {
		t.Errorf("cleared secret: the page reads %q", res)
	}

	// All right again: delivered.
	in.api(t, "PATCH", "/api/v1/robots/1", map[string]any{"secret": robotSecret})
	if res := testAlert(); !strings.Contains(res, "研发告警群") || eval[bool](tb, `document.querySelector("#robot-status-1 .msg.ok") === null`) {
		t.Errorf("after the fixes: %q", res)
	}
	if n := len(ding.Messages()); n != 1 {
		t.Errorf("the stand-in accepted %d messages, want 1 (refused %v)", n, ding.Rejected())
	}
}
