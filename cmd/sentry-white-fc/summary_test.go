package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/robottest"
)

// TestMorningSummaryOnTheRealClock: two relays as built, as servers on one
// store, each ticking every second on the real clock. A robot whose
// daily_digest is the next minute gets nothing before it, and then one
// summary of yesterday, not one from each relay.
func TestMorningSummaryOnTheRealClock(t *testing.T) {
	t.Parallel() // up to a minute of waiting, beside the other long tests
	dt := robottest.NewDingTalk(robottest.DingTalkRobot{Token: "tok-summary", Keywords: []string{"详情"}})
	defer dt.Close()
	// Room for both relays to tick before the minute, and the minute on
	// the same day (at 23:59 a time of 00:00 was due this morning).
	if now := time.Now().In(shanghai); now.Second() >= 50 || now.Hour() == 23 && now.Minute() == 59 {
		time.Sleep(time.Duration(61-now.Second()) * time.Second)
	}
	due := time.Now().In(shanghai).Truncate(time.Minute).Add(time.Minute)
	doc := fmt.Sprintf(`{"schema": 1, "webhook_token": "summary-token",
 "robots": [{"id": 1, "name": "研发群", "kind": "dingtalk", "access_token": "tok-summary", "keyword": "详情",
             "daily_digest": {"at": %q, "timezone": "Asia/Shanghai"}}],
 "organizations": [], "owners": [], "projects": []}`, due.Format("15:04"))
	dir := storeFolder(t, doc)
	env := []string{"SENTRY_WHITE_DINGTALK_API=" + dt.URL(), "SENTRY_WHITE_TICK=1s"}
	for range 2 {
		if p := startProc(t, env, "-store", "file:"+dir, "-addr", "127.0.0.1:0", "-spool", t.TempDir()); p.addr == "" {
			t.Fatalf("a relay did not start: %v", p.logs)
		}
	}

	// Both tick before the time: nothing is sent.
	time.Sleep(time.Until(due.Add(-time.Second)))
	if msgs := dt.Messages(); len(msgs) != 0 {
		t.Fatalf("%d messages before the summary's time: %+v", len(msgs), msgs)
	}
	deadline := due.Add(30 * time.Second)
	for len(dt.Messages()) == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond) // polling the stand-in, bounded by the deadline
	}
	// Both relays keep ticking after it went out; a second copy would come
	// within a few ticks.
	time.Sleep(5 * time.Second)
	msgs := dt.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d summaries, want one: %+v", len(msgs), msgs)
	}
	m := msgs[0]
	if m.At.Before(due) {
		t.Errorf("the summary came at %v, before its time %v", m.At, due)
	}
	for _, want := range []string{"昨日告警摘要", "昨日没有告警", "详情"} {
		if !strings.Contains(m.Title+"\n"+m.Text, want) {
			t.Errorf("the summary lacks %q:\n%s\n%s", want, m.Title, m.Text)
		}
	}
}
