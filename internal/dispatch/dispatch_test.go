package dispatch

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/sentry-white/sentry-white/internal/notifiers"
	"net/http"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/notify"
	"github.com/sentry-white/sentry-white/internal/notify/dingtalk"
	"github.com/sentry-white/sentry-white/internal/notify/wecom"
	"github.com/sentry-white/sentry-white/internal/render"
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

// kinds are the robot kinds of the tests, the programs' own.
var kinds = notifiers.Default()

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

// directory stands for the configuration document: jobs are addressed from
// it when they are sent, as the relay's Resolve does. Each job's own
// Message.Mentions stand for its project's owners.
type directory struct {
	mu     sync.Mutex
	robots map[int64]config.Robot
}

func newDirectory(rs ...config.Robot) *directory {
	d := &directory{robots: map[int64]config.Robot{}}
	for _, r := range rs {
		d.set(r)
	}
	return d
}

func (d *directory) set(r config.Robot) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.robots[r.ID] = r
}

func (d *directory) remove(id int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.robots, id)
}

func (d *directory) resolve(ctx context.Context, jobs []*Job) (*config.Robot, *notify.Message, error) {
	d.mu.Lock()
	r, ok := d.robots[jobs[0].RobotID]
	d.mu.Unlock()
	if !ok {
		return nil, nil, fmt.Errorf("robot %d was deleted", jobs[0].RobotID)
	}
	var lists [][]notify.Mention
	for _, j := range jobs {
		lists = append(lists, j.Message.Mentions)
	}
	msg := &jobs[0].Message
	if len(jobs) > 1 || jobs[0].Repeats > 0 || jobs[0].Folded > 0 {
		items, n, more := DigestItems(jobs)
		msg = render.Digest(items, n, more, msg.Lang)
	}
	return &r, render.Address(msg, &r, render.MergeMentions(lists...)), nil
}

func job(i int) *Job {
	return &Job{RobotID: robot.ID, Kind: robot.Kind, ProjectID: 1, Project: "mall-api", ProjectName: "商城后台", Message: notify.Message{
		Title: fmt.Sprintf("详情 | 商城后台: Error #%03d", i), Heading: fmt.Sprintf("Error #%03d", i),
		Link: fmt.Sprintf("https://acme.sentry.io/issues/%d/", 1000+i), Level: "error", Keyword: "详情",
		Fields:   []notify.Field{{Label: "项目", Value: "商城后台 (mall-api)"}},
		Mentions: []notify.Mention{{Name: "张三", Mobile: "13800138000"}},
	}}
}

type env struct {
	dir   *directory
	clock *fakeClock
	robot *robottest.DingTalk
	d     *Dispatcher
	final []Outcome
	mu    sync.Mutex
}

func newEnv(t *testing.T, spool string, background bool) *env {
	t.Helper()
	e := &env{clock: newFakeClock(), dir: newDirectory(robot)}
	e.robot = robottest.NewDingTalk(robottest.DingTalkRobot{Token: "storm-token", Secret: secret, Keywords: []string{"详情"}})
	e.robot.Now = e.clock.Now
	t.Cleanup(e.robot.Close)
	d, err := New(Options{
		Kind:       kinds.Lookup,
		Senders:    map[string]notify.Sender{"dingtalk": &dingtalk.Notifier{Base: e.robot.URL(), Now: e.clock.Now}},
		Resolve:    e.dir.resolve,
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

// waitIdle waits (in real time) until the dispatcher is idle: no send under
// way and every worker blocked on the fake clock, so nothing changes until
// the test advances it.
func (e *env) waitIdle(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for e.d.busy.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("dispatcher did not become idle")
		}
		time.Sleep(time.Millisecond)
	}
}

// crash ends d as a killed process would: its spool folder's lock is
// dropped, and nothing is saved.
func crash(d *Dispatcher) {
	if d.spool != nil {
		d.spool.release()
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
		e.waitIdle(t)
	}
	for step := 0; step < 30 && e.d.Queued() > 0; step++ {
		e.clock.Advance(30 * time.Second)
		e.waitIdle(t)
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
	e.waitIdle(t)
	e.clock.Advance(9 * time.Minute)
	e.waitIdle(t)
	if n := len(e.robot.Messages()); n != 0 {
		t.Fatalf("%d messages during the block", n)
	}
	e.clock.Advance(61 * time.Second)
	e.waitIdle(t)
	msgs := e.robot.Messages()
	if len(msgs) != 1 || !strings.Contains(msgs[0].Text, "5 条告警") {
		t.Fatalf("messages after the block: %+v", msgs)
	}
}

// TestTransientFailuresDeliveredOnce: the robot fails the first
// attempts (5xx, then a hang past the client's timeout). The answer comes
// within the budget (pending), and the alert is delivered exactly once:
// in the same delivery's retries, or in a background round after more
// failures.
func TestTransientFailuresDeliveredOnce(t *testing.T) {
	e := newEnv(t, "", true)
	e.d.o.Senders["dingtalk"] = &dingtalk.Notifier{Base: e.robot.URL(), Now: e.clock.Now, Client: &http.Client{Timeout: 200 * time.Millisecond}}
	e.robot.FailNext(robottest.Fault500, robottest.FaultTimeout)
	start := time.Now()
	out := e.d.Submit(context.Background(), []*Job{job(1)}, time.Now().Add(50*time.Millisecond))
	if out[0].Status != Pending || time.Since(start) > 2*time.Second {
		t.Fatalf("status %s after %v, want pending at the budget", out[0].Status, time.Since(start))
	}
	e.waitIdle(t)
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
	e.waitIdle(t)
	for i := 0; i < 5 && e.d.Queued() > 0; i++ {
		e.clock.Advance(31 * time.Second)
		e.waitIdle(t)
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
	files := spoolFiles(dir)
	if len(files) != 2 {
		t.Fatalf("%d spool files, want 2", len(files))
	}
	info, _ := os.Stat(files[0])
	if info.Mode().Perm() != 0o600 {
		t.Errorf("spool file mode %v, want 0600", info.Mode().Perm())
	}
	// A new process finds them and drains them once the block is over.
	crash(e.d)
	d2, err := New(Options{Kind: kinds.Lookup, Senders: map[string]notify.Sender{"dingtalk": &dingtalk.Notifier{Base: e.robot.URL(), Now: e.clock.Now}},
		Resolve: e.dir.resolve, Clock: e.clock, Spool: dir})
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
	if files := spoolFiles(dir); len(files) != 0 {
		t.Errorf("%d spool files left", len(files))
	}
}

func TestConfigFaultFailsAtOnce(t *testing.T) {
	e := newEnv(t, "", true)
	wrong := robot
	wrong.ID, wrong.Secret = 2, "SECwrong"
	e.dir.set(wrong)
	bad := job(1)
	bad.RobotID = 2
	out := e.d.Submit(context.Background(), []*Job{bad}, time.Now().Add(5*time.Second))
	if out[0].Status != Failed || out[0].Err.Code != 310000 || out[0].Err.Fix == nil {
		t.Fatalf("outcome %+v", out[0])
	}
	if len(e.final) != 1 || e.final[0].Status != Failed {
		t.Errorf("final outcomes %+v", e.final)
	}
}

func TestDigestGroupsRepeats(t *testing.T) {
	jobs := []*Job{job(1), job(1), job(2)}
	jobs[2].Message.Mentions = append(jobs[2].Message.Mentions, notify.Mention{Name: "李四", Mobile: "13900139000"})
	_, m, err := newDirectory(robot).resolve(context.Background(), jobs)
	if err != nil {
		t.Fatal(err)
	}
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
	r := config.Robot{ID: 9, Name: "企业微信群", Kind: "wecom", AccessToken: "wk", Keyword: "详情"}
	d, err := New(Options{Kind: kinds.Lookup, Senders: map[string]notify.Sender{"wecom": &wecom.Notifier{Base: wc.URL()}},
		Resolve: newDirectory(r).resolve, Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	queued := 0
	for i := 0; i < 15; i++ {
		j := job(i)
		j.RobotID, j.Kind, j.Cost = r.ID, r.Kind, wecom.Messages(&j.Message)
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

// TestQueuedJobsFollowTheConfiguration: a queued alert names its robot by
// id. A token fixed while it waits is the one it is sent with; a robot
// deleted while it waits is a clean, recorded failure; and neither the
// spool nor the job holds a credential.
func TestQueuedJobsFollowTheConfiguration(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, dir, false)
	other := config.Robot{ID: 7, Name: "运维群", Kind: "dingtalk", AccessToken: "ops-token-old", Keyword: "详情"}
	e.dir.set(other)
	e.robot.AddRobot(robottest.DingTalkRobot{Token: "ops-token-old", Keywords: []string{"详情"}})
	e.robot.AddRobot(robottest.DingTalkRobot{Token: "ops-token-new", Keywords: []string{"详情"}})
	e.robot.FailNext(robottest.FaultNoCode) // robot 1 is blocked
	e.d.Submit(context.Background(), []*Job{job(1)}, time.Now().Add(5*time.Second))
	e.d.Submit(context.Background(), []*Job{job(2)}, time.Now().Add(5*time.Second))
	// Robot 7 is over its budget too: its own first 20 went out.
	for i := 0; i < 21; i++ {
		j := job(100 + i)
		j.RobotID = other.ID
		e.d.Submit(context.Background(), []*Job{j}, time.Now().Add(5*time.Second))
	}
	if n := e.d.Queued(); n < 3 {
		t.Fatalf("%d queued, want robot 1's two and robot 7's", n)
	}
	files := spoolFiles(dir)
	if len(files) == 0 {
		t.Fatal("nothing spooled")
	}
	for _, f := range files {
		b, _ := os.ReadFile(f)
		for _, secretValue := range []string{robot.AccessToken.Reveal(), robot.Secret.Reveal(), other.AccessToken.Reveal()} {
			if strings.Contains(string(b), secretValue) {
				t.Errorf("spool file %s holds a robot credential: %s", filepath.Base(f), b)
			}
		}
	}
	// While they wait: robot 7's token is fixed, robot 1 is deleted.
	other.AccessToken = "ops-token-new"
	e.dir.set(other)
	e.dir.remove(robot.ID)
	e.clock.Advance(11 * time.Minute)
	if err := e.d.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	var queued []robottest.DingTalkMessage
	for _, m := range e.robot.Messages() {
		if strings.Contains(m.Text, "Error #120") {
			queued = append(queued, m)
		}
	}
	if len(queued) != 1 || queued[0].Token != "ops-token-new" {
		t.Errorf("the queued alert went out %d times, with %+v; want once with the fixed token", len(queued), queued)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	deleted := 0
	for _, o := range e.final {
		if o.Job.RobotID == robot.ID {
			if o.Status != Failed || o.Err == nil || !strings.Contains(o.Err.Error(), "deleted") || o.Err.Retry {
				t.Errorf("alert for the deleted robot: %s %v", o.Status, o.Err)
			}
			deleted++
		}
	}
	if deleted != 2 {
		t.Errorf("%d recorded outcomes for the deleted robot's alerts, want 2", deleted)
	}
	if n := e.d.Queued(); n != 0 {
		t.Errorf("%d still queued", n)
	}
}

// TestUnknownKindFails: a robot of a kind this relay does not send to gets
// a clear failure, not another kind's limits.
func TestUnknownKindFails(t *testing.T) {
	e := newEnv(t, "", true)
	odd := config.Robot{ID: 3, Name: "slack", Kind: "slack", AccessToken: "x"}
	e.dir.set(odd)
	j := job(1)
	j.RobotID, j.Kind = odd.ID, odd.Kind
	out := e.d.Submit(context.Background(), []*Job{j}, time.Now().Add(5*time.Second))
	if out[0].Status != Failed || out[0].Err == nil || !strings.Contains(out[0].Err.Error(), "not supported") {
		t.Fatalf("outcome %s %v", out[0].Status, out[0].Err)
	}
}

// spoolFiles lists the job files in a spool folder.
func spoolFiles(dir string) []string {
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	return slices.DeleteFunc(files, func(f string) bool { return filepath.Base(f) == budgetFile })
}

// TestUnsavableAlertIsRefused: with a spool that cannot be written, an
// alert that would have to wait is refused (Unsaved), never queued as if
// saved; one under way at the deadline is waited for and delivered within
// the request; Health says why.
func TestUnsavableAlertIsRefused(t *testing.T) {
	blocker := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, filepath.Join(blocker, "spool"), true)
	if h := e.d.Health(); !strings.Contains(h, "cannot be saved") {
		t.Errorf("Health() = %q", h)
	}
	// Under way at the deadline: delivered before Submit returns.
	e.robot.SetLatency(100 * time.Millisecond)
	out := e.d.Submit(context.Background(), []*Job{job(1)}, time.Now().Add(10*time.Millisecond))
	if out[0].Status != Delivered {
		t.Fatalf("a send under way with no spool: %s, want delivered within the request", out[0].Status)
	}
	e.robot.SetLatency(0)
	// Over budget: refused.
	e.robot.FailNext(robottest.FaultNoCode)
	out = e.d.Submit(context.Background(), []*Job{job(2)}, time.Now().Add(5*time.Second))
	if out[0].Status != Unsaved || out[0].Err == nil || out[0].Err.Fix == nil {
		t.Fatalf("an alert that must wait with no spool: %s %v, want unsaved", out[0].Status, out[0].Err)
	}
	out = e.d.Submit(context.Background(), []*Job{job(3)}, time.Now().Add(5*time.Second))
	if out[0].Status != Unsaved {
		t.Fatalf("blocked robot, no spool: %s", out[0].Status)
	}
	if n := e.d.Queued(); n != 0 {
		t.Errorf("%d alerts queued in memory as if they were saved", n)
	}
}

// TestNoSpoolFileOutlivesADeliveredAlert: sends that finish just as the
// answer's deadline passes leave no spool file behind, so a restart sends
// nothing twice.
func TestNoSpoolFileOutlivesADeliveredAlert(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, dir, true)
	e.robot.PerMinute = 1 << 20
	e.d.o.Kind = func(string) *notify.Kind {
		k := *dingtalk.Kind
		k.Budget.Limits = []notify.Limit{{N: 1 << 20, Per: time.Minute}}
		return &k
	}
	e.robot.SetLatency(2 * time.Millisecond)
	// Recording an outcome takes a while (the relay writes its history):
	// the deadline often passes between a send's end and its answer.
	e.d.o.OnFinal = func(Outcome) { time.Sleep(3 * time.Millisecond) }
	var wg sync.WaitGroup
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.d.Submit(context.Background(), []*Job{job(i)}, time.Now().Add(2*time.Millisecond))
		}()
	}
	wg.Wait()
	if err := e.d.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(e.robot.Messages()); n != 200 {
		t.Fatalf("%d messages, want 200", n)
	}
	if files := spoolFiles(dir); len(files) != 0 {
		t.Fatalf("%d spool files for delivered alerts", len(files))
	}
	crash(e.d)
	d2, err := New(Options{Kind: kinds.Lookup, Senders: e.d.o.Senders, Resolve: e.dir.resolve, Clock: e.clock, Spool: dir})
	if err != nil {
		t.Fatal(err)
	}
	if n := d2.Queued(); n != 0 {
		t.Errorf("a restart requeued %d delivered alerts", n)
	}
}

// TestBudgetSurvivesRestart: a robot that spent its budget before a
// restart is not sent to at once after it (DingTalk would block it for
// ten minutes), whether the budget was saved or the process crashed
// before saving it.
func TestBudgetSurvivesRestart(t *testing.T) {
	for _, how := range []string{"saved", "crash", "stale"} {
		t.Run(how, func(t *testing.T) {
			dir := t.TempDir()
			e := newEnv(t, dir, false)
			for i := 0; i < 23; i++ {
				e.d.Submit(context.Background(), []*Job{job(i)}, time.Now().Add(5*time.Second))
			}
			if n := len(e.robot.Messages()); n != 20 || e.d.Queued() != 3 {
				t.Fatalf("%d sent, %d queued; want 20 and 3", n, e.d.Queued())
			}
			switch how {
			case "crash": // before any budget was saved
				_ = os.Remove(filepath.Join(dir, budgetFile))
			case "stale": // the last sends were not saved yet
				staleBudget(t, dir, 10)
			default:
				_ = e.d.Close(context.Background())
			}
			crash(e.d)
			e.clock.Advance(10 * time.Second)
			d2, err := New(Options{Kind: kinds.Lookup, Senders: e.d.o.Senders, Resolve: e.dir.resolve, Clock: e.clock, Spool: dir})
			if err != nil {
				t.Fatal(err)
			}
			if err := d2.DrainReady(context.Background()); err != nil {
				t.Fatal(err)
			}
			if n := len(e.robot.Messages()); n != 20 || len(e.robot.Rejected()) != 0 {
				t.Fatalf("right after the restart: %d messages, rejected %v", n, e.robot.Rejected())
			}
			e.clock.Advance(61 * time.Second)
			if err := d2.Drain(context.Background()); err != nil {
				t.Fatal(err)
			}
			if n := len(e.robot.Messages()); n != 21 || len(e.robot.Rejected()) != 0 || d2.Queued() != 0 {
				t.Fatalf("a window later: %d messages, rejected %v, %d queued", n, e.robot.Rejected(), d2.Queued())
			}
		})
	}
}

// TestFullQueueFoldsIntoTheDigest: past MaxQueue a robot's queue does not
// grow; further alerts are counted in its next digest, and Health says
// so.
func TestFullQueueFoldsIntoTheDigest(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, dir, false)
	e.d.o.MaxQueue = 5
	e.robot.FailNext(robottest.FaultNoCode) // blocked
	for i := 0; i < 40; i++ {
		e.d.Submit(context.Background(), []*Job{job(i)}, time.Now().Add(5*time.Second))
	}
	if n := e.d.Queued(); n != 5 {
		t.Fatalf("%d queued, want the cap of 5", n)
	}
	if files := spoolFiles(dir); len(files) != 5 {
		t.Errorf("%d spool files, want 5", len(files))
	}
	if h := e.d.Health(); !strings.Contains(h, "queue") {
		t.Errorf("Health() = %q", h)
	}
	e.clock.Advance(11 * time.Minute)
	if err := e.d.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	msgs := e.robot.Messages()
	if len(msgs) != 1 || !strings.Contains(msgs[0].Text, "40 条告警") || !strings.Contains(msgs[0].Text, "另有 35 条告警") {
		t.Fatalf("%d messages: %+v", len(msgs), msgs)
	}
}

// slowFirst is a network on which a robot's first message arrives late:
// the fake clock moves on by delay before the robot receives it.
type slowFirst struct {
	next  notify.Sender
	clock *fakeClock
	delay time.Duration
	once  sync.Once
}

func (s *slowFirst) Send(ctx context.Context, r *config.Robot, m *notify.Message) error {
	s.once.Do(func() { s.clock.Advance(s.delay) })
	return s.next.Send(ctx, r, m)
}

// TestBudgetCountsFromTheAnswer: the robot counts a message when it
// receives it, which may be well after the relay took the budget for it.
// A window counted from the take let a 21st message through while the
// robot still counted the first, slow one (DingTalk then blocks the robot
// for ten minutes); it is counted from the answer.
func TestBudgetCountsFromTheAnswer(t *testing.T) {
	e := newEnv(t, t.TempDir(), false)
	e.d.o.Senders["dingtalk"] = &slowFirst{next: e.d.o.Senders["dingtalk"], clock: e.clock, delay: 5 * time.Second}
	for i := 0; i < 21; i++ {
		e.d.Submit(context.Background(), []*Job{job(i)}, time.Now().Add(5*time.Second))
	}
	if n := len(e.robot.Messages()); n != 20 || e.d.Queued() != 1 {
		t.Fatalf("%d sent, %d queued; want 20 and 1", n, e.d.Queued())
	}
	e.clock.Advance(55 * time.Second) // a minute after the first send was taken
	if err := e.d.DrainReady(context.Background()); err != nil {
		t.Fatal(err)
	}
	if rej := e.robot.Rejected(); len(rej) != 0 {
		t.Fatalf("the robot refused %v: the first message, received 5 s late, was still in its window", rej)
	}
	e.clock.Advance(5 * time.Second)
	if err := e.d.DrainReady(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n, rej := len(e.robot.Messages()), e.robot.Rejected(); n != 21 || len(rej) != 0 {
		t.Fatalf("a minute after the first answer: %d messages, rejected %v; want 21 and none", n, rej)
	}
}

// staleBudget keeps only the first n sends of each robot in the saved
// budget, as a crash between two saves leaves it.
func staleBudget(t *testing.T, dir string, n int) {
	t.Helper()
	p := filepath.Join(dir, budgetFile)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var saved map[int64]savedBudget
	if err := json.Unmarshal(b, &saved); err != nil {
		t.Fatal(err)
	}
	for id, s := range saved {
		s.Sent = s.Sent[:min(n, len(s.Sent))]
		saved[id] = s
	}
	if b, err = json.Marshal(saved); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestCrashWithNothingSpooledKeepsTheBudget (#30.3): a run that sent
// everything at once and spooled nothing, then crashed, still leaves the
// next start knowing it crashed: every robot waits one window.
func TestCrashWithNothingSpooledKeepsTheBudget(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, dir, false)
	for i := 0; i < 15; i++ {
		if out := e.d.Submit(context.Background(), []*Job{job(i)}, time.Now().Add(5*time.Second)); out[0].Status != Delivered {
			t.Fatalf("alert %d: %s", i, out[0].Status)
		}
	}
	if files := spoolFiles(dir); len(files) != 0 {
		t.Fatalf("spooled %v", files)
	}
	crash(e.d)
	d2, err := New(Options{Kind: kinds.Lookup, Senders: e.d.o.Senders, Resolve: e.dir.resolve, Clock: e.clock, Spool: dir})
	if err != nil {
		t.Fatal(err)
	}
	for i := 15; i < 30; i++ {
		if out := d2.Submit(context.Background(), []*Job{job(i)}, time.Now().Add(5*time.Second)); out[0].Status != Queued {
			t.Fatalf("alert %d after the crash: %s, want queued for one window", i, out[0].Status)
		}
	}
	e.clock.Advance(61 * time.Second)
	if err := d2.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n, rej := len(e.robot.Messages()), e.robot.Rejected(); n != 16 || len(rej) != 0 {
		t.Fatalf("%d messages (15 and a digest), rejected %v", n, rej)
	}
}

// TestFailedBudgetSaveIsRetried (#30.3): a robot's block that cannot be
// saved is reported (log, Health) and saved once the spool works again.
func TestFailedBudgetSaveIsRetried(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, dir, false)
	// budget.json cannot be replaced while a folder holds its name.
	budget := filepath.Join(dir, budgetFile)
	if err := os.Remove(budget); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(budget, "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	e.robot.FailNext(robottest.FaultNoCode) // the robot blocks
	if out := e.d.Submit(context.Background(), []*Job{job(1)}, time.Now().Add(5*time.Second)); out[0].Status != Queued {
		t.Fatalf("blocked: %s", out[0].Status)
	}
	if h := e.d.Health(); !strings.Contains(h, "budgets cannot be saved") {
		t.Errorf("Health() = %q", h)
	}
	if err := os.RemoveAll(budget); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(5 * time.Second)
	if h := e.d.Health(); h != "" {
		t.Errorf("after the retry Health() = %q", h)
	}
	b, err := os.ReadFile(budget)
	if err != nil {
		t.Fatal(err)
	}
	var saved map[int64]savedBudget
	if err := json.Unmarshal(b, &saved); err != nil || !saved[robot.ID].BlockedUntil.After(e.clock.Now()) {
		t.Errorf("saved %s (%v): the block is missing", b, err)
	}
}

// TestSpoolFolderPerStore (#30.11): in one spool folder each store's jobs
// and budgets are its own: a dispatcher of another store neither sends,
// counts nor deletes them, and reports them (as it does job files an older
// version left at the top); a second dispatcher of the same store cannot
// share the folder.
func TestSpoolFolderPerStore(t *testing.T) {
	root := t.TempDir()
	e := newEnv(t, "", false)
	opts := func(store string) Options {
		return Options{Kind: kinds.Lookup, Senders: e.d.o.Senders, Resolve: e.dir.resolve, Clock: e.clock, Spool: root, Store: store}
	}
	a, err := New(opts("file:/srv/team-a/api/"))
	if err != nil {
		t.Fatal(err)
	}
	e.robot.FailNext(robottest.FaultNoCode) // blocked: both wait
	a.Submit(context.Background(), []*Job{job(1)}, time.Now().Add(5*time.Second))
	a.Submit(context.Background(), []*Job{job(2)}, time.Now().Add(5*time.Second))
	if a.Queued() != 2 {
		t.Fatalf("team A queued %d", a.Queued())
	}
	crash(a)
	if err := os.WriteFile(filepath.Join(root, "0123.json"), []byte(`{"id":"0123","robot_id":1}`), 0o600); err != nil {
		t.Fatal(err)
	}

	b, err := New(opts("oss://team-b/api/"))
	if err != nil {
		t.Fatal(err)
	}
	if n := b.Queued(); n != 0 {
		t.Errorf("team B requeued %d of team A's jobs", n)
	}
	other := b.Foreign()
	if len(other) != 2 || other[0].Store != "file:/srv/team-a/api/" || other[0].Alerts != 2 || other[1].Store != "" || other[1].Alerts != 1 {
		t.Errorf("Foreign() = %+v", other)
	}
	if out := b.Submit(context.Background(), []*Job{job(3)}, time.Now().Add(5*time.Second)); out[0].Status != Delivered {
		t.Errorf("team B's first alert: %s (team A's budget counted?)", out[0].Status)
	}
	if err := b.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := len(spoolFiles(a.SpoolFolder())); n != 2 {
		t.Errorf("team A's folder holds %d jobs after team B ran", n)
	}

	a2, err := New(opts("file:/srv/team-a/api/"))
	if err != nil {
		t.Fatal(err)
	}
	defer a2.Close(context.Background())
	if a2.Queued() != 2 {
		t.Errorf("team A, started again, requeued %d", a2.Queued())
	}
	if _, err := New(opts("file:/srv/team-a/api/")); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("a second dispatcher on team A's folder: %v", err)
	}
}

// gate is a robot that takes a message and never answers until released;
// entered, if set, hears of each message taken. It takes it as an HTTP
// sender does: its connection is taken (the client trace's GotConn).
type gate struct{ release, entered chan struct{} }

func (g *gate) Send(ctx context.Context, r *config.Robot, m *notify.Message) error {
	if tr := httptrace.ContextClientTrace(ctx); tr != nil && tr.GotConn != nil {
		tr.GotConn(httptrace.GotConnInfo{})
	}
	if g.entered != nil {
		select {
		case g.entered <- struct{}{}:
		default: // heard of already
		}
	}
	select {
	case <-g.release:
	case <-ctx.Done():
	}
	return fmt.Errorf("connection reset")
}

// TestSendUnderWayAtACrashIsMarked (#30.7): a send still under way when
// the answer was due is marked in the spool as being sent; after a crash
// it goes again (at least once) and says 可能重复, since the robot may
// have it.
func TestSendUnderWayAtACrashIsMarked(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, dir, true)
	g := &gate{release: make(chan struct{})}
	defer close(g.release)
	real := e.d.o.Senders["dingtalk"]
	e.d.o.Senders = map[string]notify.Sender{"dingtalk": g}
	out := e.d.Submit(context.Background(), []*Job{job(1)}, time.Now().Add(20*time.Millisecond))
	if out[0].Status != Pending {
		t.Fatalf("a send under way at the answer: %s", out[0].Status)
	}
	files := spoolFiles(dir)
	if len(files) != 1 {
		t.Fatalf("spool %v", files)
	}
	if b, _ := os.ReadFile(files[0]); !strings.Contains(string(b), `"sending":true`) {
		t.Errorf("the spool file does not say the job is being sent: %s", b)
	}
	crash(e.d)
	d2, err := New(Options{Kind: kinds.Lookup, Senders: map[string]notify.Sender{"dingtalk": real}, Resolve: e.dir.resolve, Clock: e.clock, Spool: dir})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(61 * time.Second) // after a crash, a window
	if err := d2.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	msgs := e.robot.Messages()
	if len(msgs) != 1 || !strings.Contains(msgs[0].Text, "可能重复") || !strings.Contains(msgs[0].Text, "Error #001") {
		t.Fatalf("after the restart: %+v", msgs)
	}
}

// TestQueuedSendIsMarkedBeforeThePost (#30.7): a queued alert's spool file
// says it is being sent before its message is posted, and says so no more
// when it goes back to the queue.
func TestQueuedSendIsMarkedBeforeThePost(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, dir, true)
	e.robot.FailNext(robottest.FaultNoCode) // blocked for ten minutes
	if out := e.d.Submit(context.Background(), []*Job{job(1)}, time.Now().Add(5*time.Second)); out[0].Status != Queued {
		t.Fatalf("%s", out[0].Status)
	}
	files := spoolFiles(dir)
	if b, _ := os.ReadFile(files[0]); len(files) != 1 || strings.Contains(string(b), `"sending"`) {
		t.Fatalf("a queued job's file: %s", b)
	}
	g := &gate{release: make(chan struct{}), entered: make(chan struct{}, 1)}
	e.d.o.Senders = map[string]notify.Sender{"dingtalk": g}
	e.waitIdle(t)
	e.clock.Advance(11 * time.Minute)
	<-g.entered
	if b, _ := os.ReadFile(files[0]); !strings.Contains(string(b), `"sending":true`) {
		t.Errorf("the file of a job being sent: %s", b)
	}
	close(g.release) // a transient failure: back to the queue
	e.waitIdle(t)
	if b, _ := os.ReadFile(files[0]); strings.Contains(string(b), `"sending"`) {
		t.Errorf("the file of a job back in the queue: %s", b)
	}
}

// TestConcurrentFoldsKeepEveryCount: alerts arriving at once at a full
// queue are folded into its last job while that job's spool file is being
// written: every count reaches the digest, and (under -race) no fold reads
// the job while another changes it.
func TestConcurrentFoldsKeepEveryCount(t *testing.T) {
	dir := t.TempDir()
	e := newEnv(t, dir, false)
	e.d.o.MaxQueue = 2
	e.robot.FailNext(robottest.FaultNoCode) // blocked
	e.d.Submit(context.Background(), []*Job{job(0)}, time.Now().Add(5*time.Second))
	var wg sync.WaitGroup
	for i := 1; i < 60; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.d.Submit(context.Background(), []*Job{job(i)}, time.Now().Add(5*time.Second))
		}()
	}
	wg.Wait()
	if n := e.d.Queued(); n != 2 {
		t.Fatalf("%d queued, want the cap of 2", n)
	}
	e.clock.Advance(11 * time.Minute)
	if err := e.d.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	msgs := e.robot.Messages()
	if len(msgs) != 1 || !strings.Contains(msgs[0].Text, "60 条告警") {
		t.Fatalf("%d messages: %+v", len(msgs), msgs)
	}
}
