package dispatch

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/notify"
	"github.com/sentry-white/sentry-white/internal/notify/dingtalk"
	"github.com/sentry-white/sentry-white/internal/notify/wecom"
	"github.com/sentry-white/sentry-white/internal/robottest"
)

// fakeClock is a manual clock whose timers fire on Advance, before
// Advance returns.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	waiters []*waiter
}

type waiter struct {
	at      time.Time
	f       func()
	stopped bool
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) AfterFunc(d time.Duration, f func()) func() bool {
	if d <= 0 {
		f()
		return func() bool { return false }
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	w := &waiter{at: c.now.Add(d), f: f}
	c.waiters = append(c.waiters, w)
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		for i, x := range c.waiters {
			if x == w {
				c.waiters = append(c.waiters[:i], c.waiters[i+1:]...)
				return true
			}
		}
		return false
	}
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	var due []*waiter
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if !w.at.After(c.now) {
			due = append(due, w)
		} else {
			kept = append(kept, w)
		}
	}
	c.waiters = kept
	c.mu.Unlock()
	for _, w := range due {
		w.f()
	}
}

const secret = "SECa7f09b5ea245debd13fb7fe1993897008f6b44ddf80310d14f3de4d3f407221d"

var robot = config.Robot{ID: 1, Name: "研发告警群", Kind: "dingtalk", AccessToken: "storm-token", Secret: secret, Keyword: "详情"}

func job(i int) *Job {
	return &Job{Robot: robot, Project: "mall-api", ProjectName: "商城后台", Message: notify.Message{
		Title: fmt.Sprintf("详情 | 商城后台: Error #%03d", i), Heading: fmt.Sprintf("Error #%03d", i),
		Link: fmt.Sprintf("https://acme.sentry.io/issues/%d/", 1000+i), Level: "error", Keyword: "详情",
		Fields:   []notify.Field{{Label: "项目", Value: "商城后台 (mall-api)"}},
		Mentions: []notify.Mention{{Name: "张三", Mobile: "13800138000"}},
	}}
}

type env struct {
	clock *fakeClock
	robot *robottest.DingTalk
	d     *Dispatcher
	final []Outcome
	mu    sync.Mutex
}

func newEnv(t *testing.T, spool string, background bool) *env {
	t.Helper()
	e := &env{clock: newFakeClock()}
	e.robot = robottest.NewDingTalk(robottest.DingTalkRobot{Token: "storm-token", Secret: secret, Keywords: []string{"详情"}})
	e.robot.Now = e.clock.Now
	t.Cleanup(e.robot.Close)
	d, err := New(Options{
		Senders:    map[string]notify.Sender{"dingtalk": &dingtalk.Notifier{Base: e.robot.URL(), Now: e.clock.Now}},
		Clock:      e.clock,
		Policy:     notify.Policy{Attempts: 3, Base: time.Millisecond, Max: time.Millisecond},
		Spool:      spool,
		Background: background,
		OnFinal: func(o Outcome) {
			e.mu.Lock()
			e.final = append(e.final, o)
			e.mu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	e.d = d
	t.Cleanup(func() { d.Close(context.Background()) })
	return e
}

// settle waits (in real time) until the dispatcher is idle: no send under
// way and every worker blocked on the fake clock, so nothing changes until
// the test advances it.
func (e *env) settle(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for e.d.busy.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("dispatcher did not settle")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestStormOf200AlertsInOneMinute(t *testing.T) {
	e := newEnv(t, t.TempDir(), true)
	for i := 0; i < 200; i++ {
		outs := e.d.Submit(context.Background(), []*Job{job(i)}, time.Now().Add(5*time.Second))
		if s := outs[0].Status; s != Delivered && s != Queued {
			t.Fatalf("alert %d: %s %v", i, s, outs[0].Err)
		}
		e.clock.Advance(300 * time.Millisecond) // 200 alerts in 60 s
		e.settle(t)
	}
	for step := 0; step < 30 && e.d.Queued() > 0; step++ {
		e.clock.Advance(30 * time.Second)
		e.settle(t)
	}
	if n := e.d.Queued(); n != 0 {
		t.Fatalf("%d alerts still queued", n)
	}
	if rej := e.robot.Rejected(); len(rej) != 0 {
		t.Fatalf("the robot rejected %d messages: %v", len(rej), rej)
	}
	msgs := e.robot.Messages()
	all := ""
	for _, m := range msgs {
		all += m.Text + "\n"
		if !strings.Contains(m.Text, "详情") || !strings.Contains(m.Text, "@13800138000") {
			t.Errorf("message without keyword or mention:\n%s", m.Text)
		}
	}
	for i := 0; i < 200; i++ {
		if !strings.Contains(all, fmt.Sprintf("Error #%03d", i)) {
			t.Errorf("alert %d appears in no message", i)
		}
	}
	// Never more than 20 in any 60 s window.
	for i := range msgs {
		n := 0
		for j := i; j < len(msgs) && msgs[j].At.Sub(msgs[i].At) < time.Minute; j++ {
			n++
		}
		if n > 20 {
			t.Fatalf("%d messages within 60 s from %v", n, msgs[i].At)
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.final) != 200 {
		t.Errorf("%d final outcomes, want 200", len(e.final))
	}
	t.Logf("200 alerts → %d messages (%d digests)", len(msgs), len(msgs)-20)
}

func TestBlockedRobotCollectsIntoDigest(t *testing.T) {
	e := newEnv(t, "", true)
	// Someone else used the robot's budget: it is blocked for 10 minutes.
	e.robot.FailNext(robottest.FaultNoCode)
	out := e.d.Submit(context.Background(), []*Job{job(1)}, time.Now().Add(5*time.Second))
	if out[0].Status != Queued {
		t.Fatalf("status %s, want queued", out[0].Status)
	}
	for i := 2; i <= 5; i++ {
		if s := e.d.Submit(context.Background(), []*Job{job(i)}, time.Now().Add(5*time.Second))[0].Status; s != Queued {
			t.Fatalf("alert %d while blocked: %s", i, s)
		}
	}
	e.settle(t)
	e.clock.Advance(9 * time.Minute)
	e.settle(t)
	if n := len(e.robot.Messages()); n != 0 {
		t.Fatalf("%d messages during the block", n)
	}
	e.clock.Advance(61 * time.Second)
	e.settle(t)
	msgs := e.robot.Messages()
	if len(msgs) != 1 || !strings.Contains(msgs[0].Text, "5 条告警") {
		t.Fatalf("messages after the block: %+v", msgs)
	}
}

// TestTransientFailuresDeliveredExactlyOnce: the robot fails the first
// attempts (5xx, then a hang past the client's timeout). The answer comes
// within the budget (pending), and the alert is delivered exactly once:
// in the same delivery's retries, or in a background round after more
// failures.
func TestTransientFailuresDeliveredExactlyOnce(t *testing.T) {
	e := newEnv(t, "", true)
	e.d.o.Senders["dingtalk"] = &dingtalk.Notifier{Base: e.robot.URL(), Now: e.clock.Now, Client: &http.Client{Timeout: 200 * time.Millisecond}}
	e.robot.FailNext(robottest.Fault500, robottest.FaultTimeout)
	start := time.Now()
	out := e.d.Submit(context.Background(), []*Job{job(1)}, time.Now().Add(50*time.Millisecond))
	if out[0].Status != Pending || time.Since(start) > 2*time.Second {
		t.Fatalf("status %s after %v, want pending at the budget", out[0].Status, time.Since(start))
	}
	e.settle(t)
	if n := len(e.robot.Messages()); n != 1 {
		t.Fatalf("%d messages, want exactly 1", n)
	}

	// Every attempt inside the budget fails: the answer is a failure (502
	// for the relay), recorded, and nothing is retried behind its back.
	e.robot.FailNext(robottest.Fault500, robottest.Fault500, robottest.Fault500)
	out = e.d.Submit(context.Background(), []*Job{job(2)}, time.Now().Add(5*time.Second))
	if out[0].Status != Failed || !out[0].Err.Retry {
		t.Fatalf("status %s, want failed", out[0].Status)
	}

	// Answered jobs that keep failing go to background rounds.
	e.robot.FailNext(robottest.FaultTimeout, robottest.Fault500, robottest.Fault500, robottest.Fault500)
	out = e.d.Submit(context.Background(), []*Job{job(3)}, time.Now().Add(50*time.Millisecond))
	if out[0].Status != Pending {
		t.Fatalf("status %s", out[0].Status)
	}
	e.settle(t)
	for i := 0; i < 5 && e.d.Queued() > 0; i++ {
		e.clock.Advance(31 * time.Second)
		e.settle(t)
	}
	msgs := e.robot.Messages()
	if len(msgs) != 2 || !strings.Contains(msgs[1].Text, "Error #003") {
		t.Fatalf("%d messages, want the third alert delivered once", len(msgs))
	}
}

func TestSpoolSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, dir, false) // FC mode: nothing runs after the answer
	e.robot.FailNext(robottest.FaultNoCode)
	e.d.Submit(context.Background(), []*Job{job(1)}, time.Now().Add(5*time.Second))
	e.d.Submit(context.Background(), []*Job{job(2)}, time.Now().Add(5*time.Second))
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) != 2 {
		t.Fatalf("%d spool files, want 2", len(files))
	}
	info, _ := os.Stat(files[0])
	if info.Mode().Perm() != 0o600 {
		t.Errorf("spool file mode %v, want 0600", info.Mode().Perm())
	}
	// A new process finds them and drains them once the block is over.
	d2, err := New(Options{Senders: map[string]notify.Sender{"dingtalk": &dingtalk.Notifier{Base: e.robot.URL(), Now: e.clock.Now}},
		Clock: e.clock, Spool: dir})
	if err != nil {
		t.Fatal(err)
	}
	if d2.Queued() != 2 {
		t.Fatalf("requeued %d, want 2", d2.Queued())
	}
	e.clock.Advance(11 * time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d2.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	if msgs := e.robot.Messages(); len(msgs) != 1 || !strings.Contains(msgs[0].Text, "Error #001") || !strings.Contains(msgs[0].Text, "Error #002") {
		t.Fatalf("after restart: %+v", msgs)
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "*.json")); len(files) != 0 {
		t.Errorf("%d spool files left", len(files))
	}
}

func TestConfigFaultFailsAtOnce(t *testing.T) {
	e := newEnv(t, "", true)
	bad := job(1)
	bad.Robot.Secret = "SECwrong"
	out := e.d.Submit(context.Background(), []*Job{bad}, time.Now().Add(5*time.Second))
	if out[0].Status != Failed || out[0].Err.Code != 310000 || out[0].Err.Fix == "" {
		t.Fatalf("outcome %+v", out[0])
	}
	if len(e.final) != 1 || e.final[0].Status != Failed {
		t.Errorf("final outcomes %+v", e.final)
	}
}

func TestDigestGroupsRepeats(t *testing.T) {
	jobs := []*Job{job(1), job(1), job(2)}
	jobs[2].Message.Mentions = append(jobs[2].Message.Mentions, notify.Mention{Name: "李四", Mobile: "13900139000"})
	m := Digest(jobs)
	if len(m.Digest) != 2 || m.Digest[0].Count != 2 || len(m.Mentions) != 2 || m.Digest[0].Project != "商城后台 (mall-api)" {
		t.Fatalf("digest %+v", m)
	}
	body, err := dingtalk.Body(m)
	if err != nil || !strings.Contains(string(body), "×2") {
		t.Fatalf("body %s %v", body, err)
	}
}

// TestWeComMobileMentionsCostTwo: WeCom mentions by mobile need a second
// (text) message, so 15 such alerts must not exceed 20 messages a minute.
func TestWeComMobileMentionsCostTwo(t *testing.T) {
	clock := newFakeClock()
	wc := robottest.NewWeCom("wk")
	wc.Now = clock.Now
	defer wc.Close()
	d, err := New(Options{Senders: map[string]notify.Sender{"wecom": &wecom.Notifier{Base: wc.URL()}}, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	r := config.Robot{ID: 9, Name: "企业微信群", Kind: "wecom", AccessToken: "wk", Keyword: "详情"}
	queued := 0
	for i := 0; i < 15; i++ {
		j := job(i)
		j.Robot = r
		if d.Submit(context.Background(), []*Job{j}, time.Now().Add(5*time.Second))[0].Status == Queued {
			queued++
		}
	}
	if queued != 5 || len(wc.Rejected()) != 0 || wc.Requests() != 20 {
		t.Fatalf("queued %d, rejected %v, requests %d; want 5 queued, none rejected, 20 requests", queued, wc.Rejected(), wc.Requests())
	}
	clock.Advance(time.Minute)
	if err := d.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(wc.Rejected()) != 0 || d.Queued() != 0 {
		t.Fatalf("after a minute: rejected %v, queued %d", wc.Rejected(), d.Queued())
	}
}

// TestDigestCountsRepeatsAcrossTheQueue: a storm of one error beyond the
// budget goes out as one digest line with its count, however many alerts.
func TestDigestCountsRepeatsAcrossTheQueue(t *testing.T) {
	e := newEnv(t, "", false)
	e.robot.FailNext(robottest.FaultNoCode) // blocked from the start
	for i := 0; i < 300; i++ {
		j := job(7) // the same issue every time
		j.Message.Heading = fmt.Sprintf("Error #%03d", 7+i%2)
		j.Message.Link = fmt.Sprintf("https://acme.sentry.io/issues/%d/", 1007+i%2)
		e.d.Submit(context.Background(), []*Job{j}, time.Now().Add(5*time.Second))
	}
	e.clock.Advance(11 * time.Minute)
	if err := e.d.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	msgs := e.robot.Messages()
	if len(msgs) != 1 || !strings.Contains(msgs[0].Text, "×150") || !strings.Contains(msgs[0].Text, "300 条告警") {
		t.Fatalf("%d messages: %+v", len(msgs), msgs)
	}
}
