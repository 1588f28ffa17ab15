package timed

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/deliveries"
	"github.com/sentry-white/sentry-white/internal/dispatch"
	"github.com/sentry-white/sentry-white/internal/notifiers"
	"github.com/sentry-white/sentry-white/internal/notify"
	"github.com/sentry-white/sentry-white/internal/plan"
	"github.com/sentry-white/sentry-white/internal/route"
	"github.com/sentry-white/sentry-white/internal/store"
)

// testDoc has a weekly rotation 张三 → 李四 → 王五 (Mondays 09:00 in
// Shanghai from 2026-12-07) told to robot 1, a project on call with
// quiet hours held, and a second robot.
const testDoc = `{"schema": 1, "webhook_token": "tok",
 "owners": [{"id": 1, "name": "张三", "mobile": "13800138001"}, {"id": 2, "name": "李四", "mobile": "13800138002"},
            {"id": 3, "name": "王五", "mobile": "13800138003"}],
 "robots": [{"id": 1, "name": "研发群", "kind": "dingtalk", "access_token": "t1", "keyword": "详情"},
            {"id": 2, "name": "运维群", "kind": "dingtalk", "access_token": "t2", "keyword": "告警"}],
 "schedules": [{"id": 1, "name": "后端值班", "owner_ids": [1, 2, 3], "period": "week", "handoff": "09:00",
                "handoff_weekday": 1, "timezone": "Asia/Shanghai", "start": "2026-12-07", "robot_ids": [1]}],
 "projects": [{"id": 1, "name": "商城", "slug": "mall", "owner_ids": [3], "robot_ids": [1, 2], "mention": "oncall", "schedule_id": 1,
               "quiet_hours": {"mode": "hold", "windows": [{"days": [1,2,3,4,5,6,7], "from": "22:00", "to": "08:00"}]}},
              {"id": 2, "name": "官网", "slug": "site", "owner_ids": [2], "robot_ids": [2]}]}`

var shanghai = func() *time.Location { l, _ := time.LoadLocation("Asia/Shanghai"); return l }()

func sh(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, shanghai)
	if err != nil {
		panic(err)
	}
	return t
}

// registry is the robot kinds of the tests, the programs' own.
var registry = notifiers.Default()

type fixedDocs struct{ x *config.Index }

func (d fixedDocs) Get(context.Context) (*config.Index, error) { return d.x, nil }

func index(t *testing.T, doc string) *config.Index {
	t.Helper()
	d, err := config.Parse([]byte(doc), registry.Document())
	if err != nil {
		t.Fatal(err)
	}
	return config.NewIndex(d)
}

// sender records what it sends; fail makes sends fail, spent makes the
// budget refuse them.
type sender struct {
	mu    sync.Mutex
	sent  []sentMsg
	fail  atomic.Bool
	spent atomic.Bool
}

type sentMsg struct {
	robot int64
	msg   *notify.Message
}

func (s *sender) SendNow(ctx context.Context, r *config.Robot, m *notify.Message) (notify.Result, bool) {
	if s.spent.Load() {
		return notify.Result{}, false
	}
	if s.fail.Load() {
		return notify.Result{Attempts: 1, Err: &notify.Error{Robot: r.Name, Kind: r.Kind, Code: 500, Msg: "down", Retry: true}}, true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, sentMsg{r.ID, m})
	return notify.Result{Attempts: 1}, true
}

func (s *sender) messages() []sentMsg {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sentMsg(nil), s.sent...)
}

// clock is a settable time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time)     { c.mu.Lock(); c.t = t; c.mu.Unlock() }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type env struct {
	store *counting
	clock *clock
	send  *sender
	hist  *deliveries.Log
	logs  *syncBuffer
	x     *config.Index
}

// syncBuffer is a log buffer several runners write at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}
func (b *syncBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.b.String() }

func newEnv(t *testing.T, doc string, now time.Time) *env {
	t.Helper()
	e := &env{store: &counting{Backend: store.NewFile(t.TempDir())}, clock: &clock{t: now}, send: &sender{},
		logs: &syncBuffer{}, x: index(t, doc)}
	e.hist = deliveries.New(e.store, "api/", nil)
	e.hist.Now = e.clock.Now
	return e
}

// runner is one relay process on e's store.
func (e *env) runner() *Runner {
	return New(Options{Docs: fixedDocs{e.x}, Store: e.store, Prefix: "api/", Send: e.send, Kind: registry.Lookup, History: e.hist,
		Now: e.clock.Now, Logger: slog.New(slog.NewTextHandler(e.logs, nil))})
}

func tick(t *testing.T, r *Runner) map[string]int {
	t.Helper()
	done, err := r.Tick(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return done
}

// storeCalls ticks r n times, 30 s apart, and says how often the store
// was called.
func (e *env) storeCalls(t *testing.T, r *Runner, n int) int64 {
	t.Helper()
	before := e.store.calls()
	for range n {
		e.clock.Add(30 * time.Second)
		tick(t, r)
	}
	return e.store.calls() - before
}

// counting counts a backend's calls.
type counting struct {
	store.Backend
	gets, puts, lists, deletes atomic.Int64
}

func (c *counting) Get(ctx context.Context, key, inm string) (store.Object, error) {
	c.gets.Add(1)
	return c.Backend.Get(ctx, key, inm)
}

func (c *counting) Put(ctx context.Context, key string, data []byte, ifMatch *string) (string, error) {
	c.puts.Add(1)
	return c.Backend.Put(ctx, key, data, ifMatch)
}

func (c *counting) List(ctx context.Context, prefix string) ([]string, error) {
	c.lists.Add(1)
	return c.Backend.List(ctx, prefix)
}

func (c *counting) Delete(ctx context.Context, key string) error {
	c.deletes.Add(1)
	return c.Backend.Delete(ctx, key)
}

func (c *counting) calls() int64 {
	return c.gets.Load() + c.puts.Load() + c.lists.Load() + c.deletes.Load()
}

// TestHandoffNoticeOnce: at a handoff, the schedule's robot gets one
// notice naming who is on duty and who is next, @-mentioning the person
// on duty, with the robot's keyword — however many processes tick at
// once, and however often they tick after.
func TestHandoffNoticeOnce(t *testing.T) {
	e := newEnv(t, testDoc, sh("2026-12-14 09:00").Add(20*time.Second))
	runners := []*Runner{e.runner(), e.runner(), e.runner()}
	var wg sync.WaitGroup
	for _, r := range runners {
		wg.Go(func() { tick(t, r) })
	}
	wg.Wait()
	for range 3 {
		e.clock.Add(30 * time.Second)
		for _, r := range runners {
			tick(t, r)
		}
	}
	// A fresh process (a restart) does not repeat it either.
	tick(t, e.runner())
	msgs := e.send.messages()
	if len(msgs) != 1 {
		t.Fatalf("%d notices, want 1: %+v", len(msgs), msgs)
	}
	m := msgs[0]
	if m.robot != 1 || m.msg.Title != "详情 | 本周值班：李四（下一位：王五）" || m.msg.Heading != "本周值班：李四（下一位：王五）" {
		t.Errorf("notice = robot %d %q / %q", m.robot, m.msg.Title, m.msg.Heading)
	}
	if len(m.msg.Mentions) != 1 || m.msg.Mentions[0].Mobile != "13800138002" || m.msg.Keyword != "详情" {
		t.Errorf("notice mentions %+v keyword %q, want 李四 and 详情", m.msg.Mentions, m.msg.Keyword)
	}
	// The next handoff, a week later: 王五, next 张三.
	e.clock.Set(sh("2026-12-21 09:01"))
	tick(t, runners[0])
	tick(t, runners[1])
	if msgs = e.send.messages(); len(msgs) != 2 || msgs[1].msg.Heading != "本周值班：王五（下一位：张三）" {
		t.Errorf("second notice: %+v", msgs)
	}
}

// TestHandoffWords: a day shift says 今日值班, English says On duty, and
// an override in force at the handoff names its owner.
func TestHandoffWords(t *testing.T) {
	doc := strings.Replace(testDoc, `"period": "week", "handoff": "09:00",
                "handoff_weekday": 1,`, `"period": "day", "handoff": "09:00",`, 1)
	doc = strings.Replace(doc, `"robot_ids": [1]}]`, `"robot_ids": [1], "overrides": [{"owner_id": 3, "from": "2026-12-08T08:00", "to": "2026-12-08T20:00"}]}]`, 1)
	e := newEnv(t, doc, sh("2026-12-08 09:00"))
	tick(t, e.runner())
	if msgs := e.send.messages(); len(msgs) != 1 || msgs[0].msg.Heading != "今日值班：王五" {
		t.Errorf("day notice with an override: %+v", msgs)
	}
	e2 := newEnv(t, doc, sh("2026-12-09 09:00"))
	r := e2.runner()
	r.o.Render.Lang = "en"
	tick(t, r)
	if msgs := e2.send.messages(); len(msgs) != 1 || msgs[0].msg.Heading != "On duty today: 王五 (next: 张三)" {
		t.Errorf("English day notice: %+v", msgs[0].msg.Heading)
	}
}

// TestHandoffCatchUp: a handoff missed while the relay was down is
// announced when it comes back within HandoffCatchUp; an older one is
// skipped with a log line, and not announced later.
func TestHandoffCatchUp(t *testing.T) {
	e := newEnv(t, testDoc, sh("2026-12-14 12:00"))
	tick(t, e.runner())
	if msgs := e.send.messages(); len(msgs) != 1 || msgs[0].msg.Heading != "本周值班：李四（下一位：王五）" {
		t.Fatalf("3 hours late: %+v", msgs)
	}
	e2 := newEnv(t, testDoc, sh("2026-12-14 16:00"))
	tick(t, e2.runner())
	if msgs := e2.send.messages(); len(msgs) != 0 {
		t.Errorf("7 hours late: sent %+v", msgs)
	}
	if !strings.Contains(e2.logs.String(), "handoff notice skipped") {
		t.Errorf("no log line for the skipped notice:\n%s", e2.logs)
	}
	e2.clock.Add(time.Minute)
	tick(t, e2.runner())
	if msgs := e2.send.messages(); len(msgs) != 0 {
		t.Errorf("skipped notice sent later: %+v", msgs)
	}
}

// TestHandoffRetried: a notice the robot refuses, or that its budget does
// not allow, is tried again at later ticks, and sent once.
func TestHandoffRetried(t *testing.T) {
	e := newEnv(t, testDoc, sh("2026-12-14 09:00"))
	r := e.runner()
	e.send.spent.Store(true)
	tick(t, r)
	e.send.spent.Store(false)
	e.send.fail.Store(true)
	e.clock.Add(30 * time.Second)
	tick(t, r)
	e.send.fail.Store(false)
	e.clock.Add(10 * time.Second) // still waiting after the failure
	tick(t, r)
	if n := len(e.send.messages()); n != 0 {
		t.Fatalf("%d notices during the back-off", n)
	}
	e.clock.Add(time.Minute)
	tick(t, r)
	tick(t, e.runner())
	if n := len(e.send.messages()); n != 1 {
		t.Errorf("%d notices, want 1", n)
	}
}

// TestNothingConfiguredWritesNothing: without schedules and quiet hours a
// tick writes nothing; after the first (which looks once for alerts a
// previous run held) it touches the store not at all.
func TestNothingConfiguredWritesNothing(t *testing.T) {
	doc := `{"schema": 1, "webhook_token": "tok", "owners": [{"id": 1, "name": "张三", "mobile": "13800138001"}],
 "robots": [{"id": 1, "name": "研发群", "kind": "dingtalk", "access_token": "t1"}],
 "projects": [{"id": 1, "name": "商城", "slug": "mall", "owner_ids": [1], "robot_ids": [1]}]}`
	e := newEnv(t, doc, sh("2026-12-14 09:00"))
	r := e.runner()
	tick(t, r)
	if n := e.store.puts.Load() + e.store.deletes.Load(); n != 0 {
		t.Errorf("the first tick wrote %d times", n)
	}
	if n := e.storeCalls(t, r, 100); n != 0 {
		t.Errorf("100 ticks called the store %d times", n)
	}
}

// held makes a held alert of project p for robot rb, until until.
func held(x *config.Index, p, rb int64, title string, created, until time.Time) plan.Hold {
	prj, robot := x.Project(p), x.Robot(rb)
	j := &dispatch.Job{ID: dispatch.NewID(), RobotID: rb, Kind: robot.Kind, ProjectID: p, Project: prj.Slug, ProjectName: prj.Name,
		Message: notify.Message{Title: prj.Name + ": " + title, Heading: title, Link: "https://acme.sentry.io/issues/" + title + "/",
			Level: "error", Lang: "zh"}, Created: created}
	return plan.Hold{Job: j, Target: route.Target{Project: prj, Robot: robot}, Until: until}
}

// TestHeldDigest: alerts held for two robots stay until the quiet ends,
// then each robot gets one message — one alert as it was, several as a
// digest — ringing whom the project rings then; the held objects go, the
// history says held, then delivered; ticks at once send each once.
func TestHeldDigest(t *testing.T) {
	e := newEnv(t, testDoc, sh("2026-12-15 03:00"))
	r := e.runner()
	until := sh("2026-12-15 08:00")
	for _, h := range []plan.Hold{
		held(e.x, 1, 1, "TypeError", sh("2026-12-15 02:10"), until),
		held(e.x, 1, 1, "TypeError", sh("2026-12-15 02:20"), until),
		held(e.x, 1, 1, "Timeout", sh("2026-12-15 02:30"), until),
		held(e.x, 1, 2, "Timeout", sh("2026-12-15 02:30"), until),
	} {
		if err := r.Hold(context.Background(), h); err != nil {
			t.Fatal(err)
		}
	}
	tick(t, r)
	// Until one is due the runner knows there is nothing to do: ticks
	// call the store no more than once an hour.
	if n := e.storeCalls(t, r, 100); n != 0 {
		t.Errorf("100 ticks over 50 minutes with held alerts not due called the store %d times, want none", n)
	}
	if n := e.storeCalls(t, r, 40); n != 1 {
		t.Errorf("20 more minutes called the store %d times, want 1 (the hourly look)", n)
	}
	e.clock.Set(sh("2026-12-15 07:59"))
	tick(t, r)
	if n := len(e.send.messages()); n != 0 {
		t.Fatalf("%d messages before the quiet ended", n)
	}
	e.clock.Set(until.Add(5 * time.Second))
	runners := []*Runner{r, e.runner(), e.runner()}
	var wg sync.WaitGroup
	for _, r := range runners {
		wg.Go(func() { tick(t, r) })
	}
	wg.Wait()
	for _, r := range runners {
		tick(t, r)
	}
	msgs := e.send.messages()
	if len(msgs) != 2 {
		t.Fatalf("%d messages, want one per robot: %+v", len(msgs), msgs)
	}
	for _, m := range msgs {
		switch m.robot {
		case 1:
			if m.msg.Heading != "免打扰期间暂存的 3 条告警" || len(m.msg.Digest) != 2 || m.msg.Digest[0].Count != 2 {
				t.Errorf("robot 1: %q %+v", m.msg.Heading, m.msg.Digest)
			}
		case 2:
			if m.msg.Heading != "Timeout" || m.msg.Keyword != "告警" || !hasField(m.msg, "免打扰", "02:30 收到") {
				t.Errorf("robot 2: %+v", m.msg)
			}
		}
		// 2026-12-15 08:00 is 李四's week: the project rings him.
		if len(m.msg.Mentions) != 1 || m.msg.Mentions[0].Name != "李四" || !hasField(m.msg, "值班", "李四") {
			t.Errorf("robot %d mentions %+v fields %+v, want 李四 on duty", m.robot, m.msg.Mentions, m.msg.Fields)
		}
	}
	if keys, _ := e.store.List(context.Background(), "api/v1/held/"); len(keys) != 0 {
		t.Errorf("held objects left: %v", keys)
	}
	if err := e.hist.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	recs, _ := e.hist.List(context.Background(), deliveries.Filter{})
	results := map[string][]string{}
	for _, rec := range recs {
		results[rec.ID] = append(results[rec.ID], rec.Result)
		if rec.Result == deliveries.Held && !rec.HeldUntil.Equal(until) {
			t.Errorf("held record until %v, want %v", rec.HeldUntil, until)
		}
	}
	if len(results) != 4 {
		t.Errorf("history holds %d alerts, want 4: %v", len(results), results)
	}
	for id, rs := range results {
		if strings.Join(rs, ",") != "delivered,held" {
			t.Errorf("alert %s recorded %v, want held then delivered", id, rs)
		}
	}
}

func hasField(m *notify.Message, label, part string) bool {
	for _, f := range m.Fields {
		if f.Label == label && strings.Contains(f.Value, part) {
			return true
		}
	}
	return false
}

// TestHeldNeverLost: held alerts whose robot refuses stay held and are
// sent when it takes them, once; a process that claimed them and died
// loses them to the next one when its lease passes.
func TestHeldNeverLost(t *testing.T) {
	e := newEnv(t, testDoc, sh("2026-12-15 03:00"))
	r := e.runner()
	until := sh("2026-12-15 08:00")
	if err := r.Hold(context.Background(), held(e.x, 2, 2, "Boom", sh("2026-12-15 03:00"), until)); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(until)
	e.send.fail.Store(true)
	tick(t, r)
	e.send.fail.Store(false)
	if keys, _ := e.store.List(context.Background(), "api/v1/held/"); len(keys) != 1 {
		t.Fatalf("after a refused send the held alert is gone: %v", keys)
	}
	// A process claims it and dies before sending (its claim stays).
	dead := e.runner()
	dt := &Tick{Now: e.clock.Now(), Doc: e.x, r: dead}
	keys, _ := e.store.List(context.Background(), "api/v1/held/")
	h, _ := dead.parseHeld(keys[0])
	e.clock.Add(time.Minute)
	dt.Now = e.clock.Now()
	if c, st, err := dt.Claim(context.Background(), "held", "2/"+h.job, h.until, heldLease); c == nil || st != Won || err != nil {
		t.Fatalf("claim: %v %v %v", c, st, err)
	}
	tick(t, e.runner())
	if n := len(e.send.messages()); n != 0 {
		t.Fatalf("sent while another process held the claim: %d", n)
	}
	e.clock.Add(heldLease + time.Second)
	tick(t, e.runner())
	tick(t, e.runner())
	// The dead process may have sent it before it stopped: the group is
	// told this may be a repeat (at least once, never silently twice).
	if msgs := e.send.messages(); len(msgs) != 1 || msgs[0].msg.Heading != "（可能重复）Boom" || len(msgs[0].msg.Mentions) != 1 ||
		msgs[0].msg.Mentions[0].Name != "李四" {
		t.Errorf("after the lease: %+v", msgs)
	}
	if !strings.Contains(e.logs.String(), "lease passed") {
		t.Error("the take-over is not logged")
	}
}

// TestClaimsPruned: a process that claims removes, once a day, the claims
// of pieces due more than ClaimRetention ago; one that never claims
// leaves the store alone.
func TestClaimsPruned(t *testing.T) {
	e := newEnv(t, testDoc, sh("2026-12-14 09:00"))
	r := e.runner()
	tick(t, r)
	keys, _ := e.store.List(context.Background(), "api/v1/claims/")
	if len(keys) != 1 || !strings.HasPrefix(keys[0], "api/v1/claims/2026-12-14/handoff/1/") {
		t.Fatalf("claims %v", keys)
	}
	e.clock.Add(7 * 24 * time.Hour)
	tick(t, r)
	if keys, _ = e.store.List(context.Background(), "api/v1/claims/2026-12-14/"); len(keys) != 1 {
		t.Errorf("a 7-day-old claim was removed: %v", keys)
	}
	e.clock.Add(2 * 24 * time.Hour)
	tick(t, e.runner()) // claims nothing: prunes nothing
	if keys, _ = e.store.List(context.Background(), "api/v1/claims/2026-12-14/"); len(keys) != 1 {
		t.Errorf("a process that claimed nothing removed claims: %v", keys)
	}
	tick(t, r)
	if keys, _ = e.store.List(context.Background(), "api/v1/claims/2026-12-14/"); len(keys) != 0 {
		t.Errorf("9-day-old claims kept: %v", keys)
	}
}

// TestClaimDoneAfterTheLease: a process that found a piece taken, and
// ticks again after the claimer's lease passed, finds it done (the
// claimer finished) and does not do it again.
func TestClaimDoneAfterTheLease(t *testing.T) {
	e := newEnv(t, testDoc, sh("2026-12-14 09:00"))
	a, b := e.runner(), e.runner()
	at := func(r *Runner) *Tick { return &Tick{Now: e.clock.Now(), Doc: e.x, r: r} }
	due := e.clock.Now()
	ca, st, err := at(a).Claim(context.Background(), "w", "piece", due, time.Minute)
	if ca == nil || st != Won || err != nil {
		t.Fatalf("a: %v %v %v", ca, st, err)
	}
	if cb, st, _ := at(b).Claim(context.Background(), "w", "piece", due, time.Minute); cb != nil || st != Taken {
		t.Fatalf("b while a holds it: %v %v", cb, st)
	}
	if err := ca.Done(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(2 * time.Minute)
	if cb, st, err := at(b).Claim(context.Background(), "w", "piece", due, time.Minute); cb != nil || st != Done || err != nil {
		t.Errorf("b after a finished and the lease passed: %v %v %v, want done", cb, st, err)
	}
}
