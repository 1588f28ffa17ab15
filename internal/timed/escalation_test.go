package timed

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/deliveries"
	"github.com/sentry-white/sentry-white/internal/dispatch"
	"github.com/sentry-white/sentry-white/internal/escalate"
	"github.com/sentry-white/sentry-white/internal/notify"
	"github.com/sentry-white/sentry-white/internal/notify/notifytest"
	"github.com/sentry-white/sentry-white/internal/plan"
	"github.com/sentry-white/sentry-white/internal/route"
	"github.com/sentry-white/sentry-white/internal/sentry"
)

// escDoc: 张三 on duty (a weekly rotation of one from 2026-12-07), project
// 1 escalating after 15 minutes to the person on duty, its owner 王五, then
// everyone, for errors and above; project 2 without escalation; project
// 3 escalating to its owners, with quiet hours held 22:00–08:00; project 4
// the same, silent.
const escDoc = `{"schema": 1, "webhook_token": "tok",
 "organizations": [{"id": 1, "name": "acme", "slug": "acme", "sentry_url": "https://acme.sentry.io"}],
 "owners": [{"id": 1, "name": "张三", "mobile": "13800138001"}, {"id": 3, "name": "王五", "mobile": "13800138003"}],
 "robots": [{"id": 1, "name": "研发群", "kind": "dingtalk", "access_token": "t1", "keyword": "详情"},
            {"id": 2, "name": "运维群", "kind": "dingtalk", "access_token": "t2", "keyword": "告警"}],
 "schedules": [{"id": 1, "name": "后端值班", "owner_ids": [1], "period": "week", "handoff": "09:00",
                "handoff_weekday": 1, "timezone": "Asia/Shanghai", "start": "2026-12-07", "robot_ids": [2]}],
 "projects": [{"id": 1, "name": "商城", "slug": "mall", "organization_id": 1, "owner_ids": [3], "robot_ids": [1],
               "schedule_id": 1, "escalation": {"after_minutes": 15, "steps": ["oncall", "owners", "all"], "min_level": "error"}},
              {"id": 2, "name": "官网", "slug": "site", "organization_id": 1, "owner_ids": [3], "robot_ids": [1]},
              {"id": 3, "name": "支付", "slug": "pay", "organization_id": 1, "owner_ids": [3], "robot_ids": [1],
               "escalation": {"after_minutes": 15, "steps": ["owners"]},
               "quiet_hours": {"mode": "hold", "windows": [{"days": [1,2,3,4,5,6,7], "from": "22:00", "to": "08:00"}]}},
              {"id": 4, "name": "订单", "slug": "order", "organization_id": 1, "owner_ids": [3], "robot_ids": [1],
               "escalation": {"after_minutes": 15, "steps": ["owners"]},
               "quiet_hours": {"mode": "silent", "windows": [{"days": [1,2,3,4,5,6,7], "from": "22:00", "to": "08:00"}]}}]}`

// alertEvent is an alert of issue id of project slug at level.
func alertEvent(slug, issue, level string) *sentry.Event {
	return &sentry.Event{Resource: sentry.ResourceEventAlert, Action: "triggered", State: sentry.StateTriggered,
		ProjectSlugs: []string{slug}, Title: "Checkout failed " + issue, Level: level, IssueID: issue,
		URL: "https://acme.sentry.io/issues/" + issue + "/", Rules: []string{"r"}}
}

// issueEvent is Sentry's issue webhook for issue id: state resolved,
// assigned, ignored, unresolved…
func issueEvent(slug, issue, state string) *sentry.Event {
	return &sentry.Event{Resource: sentry.ResourceIssue, Action: state, State: state, ProjectSlugs: []string{slug},
		Title: "Checkout failed " + issue, Level: "error", IssueID: issue, Actor: "李四"}
}

// delivered is the plan of ev delivered to project p's robots now.
func delivered(x *config.Index, p int64, ev *sentry.Event) *plan.Plan {
	prj := x.Project(p)
	pl := &plan.Plan{Outcome: plan.Send, Projects: []*config.Project{prj}}
	for _, id := range prj.RobotIDs {
		rb := x.Robot(id)
		pl.Jobs = append(pl.Jobs, &dispatch.Job{ID: dispatch.NewID(), RobotID: id, Kind: rb.Kind, ProjectID: p})
		pl.Targets = append(pl.Targets, route.Target{Project: prj, Robot: rb})
	}
	return pl
}

// followUp is the plan of an issue webhook for project p (its follow-up
// filtered or sent: either way routed).
func followUp(x *config.Index, p int64) *plan.Plan {
	return &plan.Plan{Outcome: plan.Filtered, Projects: []*config.Project{x.Project(p)}}
}

// escEnv is an env on escDoc whose organization has sent an issue
// webhook: the relay can know when an alert is taken.
func escEnv(t *testing.T, now time.Time) *env {
	t.Helper()
	e := newEnv(t, escDoc, now)
	if err := (escalate.Store{B: e.store, Prefix: "api/"}).SawIssueWebhook(context.Background(), 1, now.Add(-24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	return e
}

func observe(r *Runner, x *config.Index, ev *sentry.Event, pl *plan.Plan) {
	r.Observe(context.Background(), x, ev, pl)
}

// TestEscalationSteps: an alert nobody takes is posted again after 15
// minutes ringing the person on duty, 15 later its owners, 15 later
// everyone, then never again; marked with how long nobody took it; each
// step once however many processes tick at once, a restart included; more
// alerts of the issue start nothing.
func TestEscalationSteps(t *testing.T) {
	t0 := sh("2026-12-15 10:00")
	e := escEnv(t, t0)
	r := e.runner()
	observe(r, e.x, alertEvent("mall", "501", "error"), delivered(e.x, 1, alertEvent("mall", "501", "error")))
	e.clock.Add(5 * time.Minute)
	// A second event of the issue, in this process and in another: no new chain.
	observe(r, e.x, alertEvent("mall", "501", "error"), delivered(e.x, 1, alertEvent("mall", "501", "error")))
	observe(e.runner(), e.x, alertEvent("mall", "501", "error"), delivered(e.x, 1, alertEvent("mall", "501", "error")))
	if keys, _ := e.store.List(context.Background(), "api/v1/escalations/"); len(keys) != 1 || keys[0] != "api/v1/escalations/1/501/1.json" {
		t.Fatalf("chains: %v", keys)
	}
	e.clock.Set(t0.Add(14*time.Minute + 59*time.Second))
	tick(t, r)
	if n := len(e.send.messages()); n != 0 {
		t.Fatalf("%d messages before 15 minutes", n)
	}
	runners := []*Runner{r, e.runner(), e.runner()}
	atOnce := func() {
		var wg sync.WaitGroup
		for _, r := range runners {
			wg.Go(func() { tick(t, r) })
		}
		wg.Wait()
	}
	e.clock.Set(t0.Add(15 * time.Minute))
	atOnce()
	atOnce()
	msgs := e.send.messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages at 15 minutes, want 1: %+v", len(msgs), msgs)
	}
	m := msgs[0].msg
	if !strings.HasPrefix(m.Heading, "【15 分钟无人处理】Checkout failed 501") || !strings.Contains(m.Title, "【15 分钟无人处理】") ||
		m.Fields[0].Label != "升级" || m.Fields[0].Value != "15 分钟无人处理，提醒值班：张三（第 1 步，共 3 步）" ||
		len(m.Mentions) != 1 || m.Mentions[0].Name != "张三" || m.AtAll || m.Keyword != "详情" {
		t.Errorf("step 1: %q %q %+v %+v all=%v", m.Title, m.Heading, m.Fields[0], m.Mentions, m.AtAll)
	}
	// A restart between the steps neither repeats step 1 nor loses step 2.
	runners[0] = e.runner()
	e.clock.Set(t0.Add(29 * time.Minute))
	atOnce()
	e.clock.Set(t0.Add(30*time.Minute + 10*time.Second))
	atOnce()
	msgs = e.send.messages()
	if len(msgs) != 2 {
		t.Fatalf("%d messages at 30 minutes, want 2", len(msgs))
	}
	if m := msgs[1].msg; !strings.Contains(m.Heading, "【30 分钟无人处理】") || len(m.Mentions) != 1 || m.Mentions[0].Name != "王五" ||
		m.Fields[0].Value != "30 分钟无人处理，提醒负责人：王五（第 2 步，共 3 步）" || m.AtAll {
		t.Errorf("step 2: %q %+v %+v", m.Heading, m.Fields[0], m.Mentions)
	}
	e.clock.Set(t0.Add(45 * time.Minute))
	atOnce()
	msgs = e.send.messages()
	if len(msgs) != 3 {
		t.Fatalf("%d messages at 45 minutes, want 3", len(msgs))
	}
	if m := msgs[2].msg; !m.AtAll || len(m.Mentions) != 0 || m.Fields[0].Value != "45 分钟无人处理，提醒群内所有人（第 3 步，共 3 步）" {
		t.Errorf("step 3: %+v %+v all=%v", m.Fields[0], m.Mentions, m.AtAll)
	}
	for _, d := range []time.Duration{60, 75, 120} {
		e.clock.Set(t0.Add(d * time.Minute))
		atOnce()
		tick(t, e.runner())
	}
	if n := len(e.send.messages()); n != 3 {
		t.Errorf("%d messages after the last step, want 3", n)
	}
	keys, _ := e.store.List(context.Background(), "api/v1/escalations/1/501/")
	if len(keys) != 2 || !strings.HasPrefix(keys[0], "api/v1/escalations/1/501/1-end-") {
		t.Errorf("the chain is not marked ended: %v", keys)
	}
	// The history has the three steps, as escalations.
	if err := e.hist.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	steps := map[int]bool{}
	_ = e.hist.Between(context.Background(), t0, t0.Add(time.Hour), func(rec *deliveries.Record) { steps[rec.Escalation] = true })
	if len(steps) != 3 || !steps[1] || !steps[2] || !steps[3] {
		t.Errorf("history steps %v", steps)
	}
}

// TestEscalationStopsWhenTaken: Sentry's issue.assigned (or resolved, or
// ignored) stops the issue's chain; so does an action link
// (escalate.Ack); a regression afterwards starts a new chain, which
// escalates again; a webhook for a project without escalation writes
// nothing about acknowledgements.
func TestEscalationStopsWhenTaken(t *testing.T) {
	t0 := sh("2026-12-15 10:00")
	e := escEnv(t, t0)
	r := e.runner()
	for _, id := range []string{"601", "602", "603"} {
		observe(r, e.x, alertEvent("mall", id, "error"), delivered(e.x, 1, alertEvent("mall", id, "error")))
	}
	e.clock.Add(3 * time.Minute)
	observe(r, e.x, issueEvent("mall", "601", sentry.StateAssigned), followUp(e.x, 1))
	// An action link, as escalate.Ack records it (at the fake clock's time).
	a := escalate.Acknowledgement{At: e.clock.Now(), Kind: escalate.AckAction, By: "李四"}
	if err := r.escStore().Acknowledge(context.Background(), 1, "602", a); err != nil {
		t.Fatal(err)
	}
	e.clock.Set(t0.Add(15 * time.Minute))
	tick(t, r)
	msgs := e.send.messages()
	if len(msgs) != 1 || !strings.Contains(msgs[0].msg.Heading, "603") {
		t.Fatalf("want only the untaken issue 603 escalated: %+v", msgs)
	}
	if !strings.Contains(e.logs.String(), "escalation stopped: the issue was taken") {
		t.Errorf("the stop is not logged:\n%s", e.logs)
	}
	// Issue 601 regresses: a new chain, 15 minutes from now.
	e.clock.Set(t0.Add(20 * time.Minute))
	observe(r, e.x, issueEvent("mall", "601", sentry.StateRegressed), followUp(e.x, 1))
	e.clock.Set(t0.Add(34 * time.Minute))
	tick(t, r)
	e.clock.Set(t0.Add(35 * time.Minute))
	tick(t, r)
	msgs = e.send.messages()
	var again []string
	for _, m := range msgs[1:] {
		again = append(again, m.msg.Heading)
	}
	if len(again) != 2 || !strings.Contains(strings.Join(again, "|"), "【15 分钟无人处理】Checkout failed 601") {
		t.Errorf("after the regression (and 603's step 2): %v", again)
	}
	// A project without escalation: its issue webhooks record no
	// acknowledgement (only, hourly, that the organization sends them).
	before := e.store.puts.Load()
	observe(r, e.x, issueEvent("site", "700", sentry.StateResolved), followUp(e.x, 2))
	observe(r, e.x, alertEvent("site", "701", "fatal"), delivered(e.x, 2, alertEvent("site", "701", "fatal")))
	if n := e.store.puts.Load() - before; n != 0 {
		t.Errorf("a project without escalation: %d writes", n)
	}
}

// TestEscalationWebhookCost: the first alert of an issue costs one write,
// the next ones in the process none; a warning below min_level none; an
// issue webhook records its organization at most hourly.
func TestEscalationWebhookCost(t *testing.T) {
	e := newEnv(t, escDoc, sh("2026-12-15 10:00"))
	r := e.runner()
	calls := func(f func()) int64 {
		before := e.store.calls()
		f()
		return e.store.calls() - before
	}
	ev := alertEvent("mall", "801", "error")
	if n := calls(func() { observe(r, e.x, ev, delivered(e.x, 1, ev)) }); n != 1 {
		t.Errorf("first alert: %d store calls, want 1", n)
	}
	for range 5 {
		if n := calls(func() { observe(r, e.x, ev, delivered(e.x, 1, ev)) }); n != 0 {
			t.Errorf("a next alert: %d store calls, want 0", n)
		}
	}
	warn := alertEvent("mall", "802", "warning")
	if n := calls(func() { observe(r, e.x, warn, delivered(e.x, 1, warn)) }); n != 0 {
		t.Errorf("below min_level: %d store calls", n)
	}
	created := issueEvent("mall", "803", sentry.StateNew)
	if n := calls(func() { observe(r, e.x, created, delivered(e.x, 1, created)) }); n != 2 {
		t.Errorf("issue.created: %d store calls, want 2 (the organization seen, the chain)", n)
	}
	assigned := issueEvent("mall", "803", sentry.StateAssigned)
	if n := calls(func() { observe(r, e.x, assigned, followUp(e.x, 1)) }); n != 1 {
		t.Errorf("issue.assigned within the hour: %d store calls, want 1 (the acknowledgement)", n)
	}
	e.clock.Add(time.Hour)
	if n := calls(func() { observe(r, e.x, assigned, followUp(e.x, 1)) }); n != 2 {
		t.Errorf("issue.assigned an hour later: %d store calls, want 2", n)
	}
	last, err := r.escStore().LastIssueWebhook(context.Background(), 1)
	if err != nil || !last.Equal(e.clock.Now().UTC()) {
		t.Errorf("last issue webhook %v %v", last, err)
	}
	if last, _ := r.escStore().LastIssueWebhook(context.Background(), 2); !last.IsZero() {
		t.Errorf("organization 2 never sent one: %v", last)
	}
}

// TestEscalationTicksAreCheap: between steps a runner lists the chains
// only when one falls due or every few minutes; without escalation, not
// at all.
func TestEscalationTicksAreCheap(t *testing.T) {
	t0 := sh("2026-12-15 10:00")
	e := escEnv(t, t0)
	r := e.runner()
	tick(t, r) // the first look
	ev := alertEvent("mall", "901", "error")
	observe(r, e.x, ev, delivered(e.x, 1, ev))
	tick(t, r) // sees the new chain
	// 28 ticks, 14 minutes: two looks (every 5 minutes), nothing else.
	if n := e.storeCalls(t, r, 28); n != 2 {
		t.Errorf("14 minutes of ticks with a step not due: %d store calls, want 2", n)
	}
}

// TestEscalationQuietHours: an alert held through quiet hours starts its
// clock when they end (the escalation comes after_minutes after the held
// digest); a silent alert's step due in the quiet waits for its end.
func TestEscalationQuietHours(t *testing.T) {
	e := escEnv(t, sh("2026-12-15 23:00"))
	r := e.runner()
	until := sh("2026-12-16 08:00")
	heldEv := alertEvent("pay", "1001", "error")
	h := held(e.x, 3, 1, "held", e.clock.Now(), until)
	observe(r, e.x, heldEv, &plan.Plan{Outcome: plan.Held, Projects: []*config.Project{e.x.Project(3)}, Held: []plan.Hold{h}})
	silentEv := alertEvent("order", "1002", "error")
	observe(r, e.x, silentEv, delivered(e.x, 4, silentEv))
	for _, at := range []string{"2026-12-15 23:15", "2026-12-16 03:00", "2026-12-16 07:59"} {
		e.clock.Set(sh(at))
		tick(t, r)
	}
	if msgs := e.send.messages(); len(msgs) != 0 {
		t.Fatalf("escalations in quiet hours: %+v", msgs)
	}
	e.clock.Set(until)
	tick(t, r)
	msgs := e.send.messages()
	if len(msgs) != 1 || !strings.Contains(msgs[0].msg.Heading, "1002") || !strings.Contains(msgs[0].msg.Heading, "【9 小时无人处理】") {
		t.Fatalf("at 08:00 the silent alert's step: %+v", msgs)
	}
	e.clock.Set(sh("2026-12-16 08:15"))
	tick(t, r)
	msgs = e.send.messages()
	if len(msgs) != 2 || !strings.Contains(msgs[1].msg.Heading, "【15 分钟无人处理】Checkout failed 1001") {
		t.Errorf("15 minutes after the held digest: %+v", msgs)
	}
}

// TestEscalationCatchUp: a relay down while steps fell due sends only the
// latest one when it comes back; one down for longer than
// EscalationCatchUp sends none and ends the chain.
func TestEscalationCatchUp(t *testing.T) {
	t0 := sh("2026-12-15 10:00")
	e := escEnv(t, t0)
	ev := alertEvent("mall", "1101", "error")
	observe(e.runner(), e.x, ev, delivered(e.x, 1, ev))
	e.clock.Set(t0.Add(50 * time.Minute))
	tick(t, e.runner())
	msgs := e.send.messages()
	if len(msgs) != 1 || !msgs[0].msg.AtAll || !strings.Contains(msgs[0].msg.Heading, "【50 分钟无人处理】") {
		t.Fatalf("back after 50 minutes: %+v", msgs)
	}
	ev2 := alertEvent("mall", "1102", "error")
	observe(e.runner(), e.x, ev2, delivered(e.x, 1, ev2))
	e.clock.Add(3 * time.Hour)
	tick(t, e.runner())
	if n := len(e.send.messages()); n != 1 {
		t.Errorf("back after 3 hours: %d messages, want none more", n)
	}
	if !strings.Contains(e.logs.String(), "escalation step skipped") {
		t.Error("the skipped step is not logged")
	}
	keys, _ := e.store.List(context.Background(), "api/v1/escalations/1/1102/")
	if len(keys) != 2 {
		t.Errorf("the late chain is not ended: %v", keys)
	}
}

// TestEscalationRetried: a step the robot refuses is tried again, and
// sent once; a claimer that died lets the next tick send it, marked
// possible repeat.
func TestEscalationRetried(t *testing.T) {
	t0 := sh("2026-12-15 10:00")
	e := escEnv(t, t0)
	r := e.runner()
	ev := alertEvent("mall", "1201", "error")
	observe(r, e.x, ev, delivered(e.x, 1, ev))
	e.clock.Set(t0.Add(15 * time.Minute))
	e.send.fail.Store(true)
	tick(t, r)
	e.send.fail.Store(false)
	e.clock.Add(10 * time.Second)
	tick(t, r)
	if n := len(e.send.messages()); n != 0 {
		t.Fatalf("%d sent during the back-off", n)
	}
	e.clock.Add(time.Minute)
	tick(t, r)
	tick(t, e.runner())
	if n := len(e.send.messages()); n != 1 {
		t.Fatalf("%d sent after the back-off, want 1", n)
	}
	// A process claims step 2 and dies before sending.
	e.clock.Set(t0.Add(30 * time.Minute))
	dead := e.runner()
	dt := &Tick{Now: e.clock.Now(), Doc: e.x, r: dead}
	if c, _, err := dt.Claim(context.Background(), "escalation", "1/1201/1/2/1", t0.Add(30*time.Minute), escalationLease); c == nil || err != nil {
		t.Fatalf("claim: %v %v", c, err)
	}
	tick(t, e.runner())
	if n := len(e.send.messages()); n != 1 {
		t.Fatalf("sent while another process held the claim")
	}
	e.clock.Add(escalationLease + time.Second)
	tick(t, e.runner())
	msgs := e.send.messages()
	if len(msgs) != 2 || !strings.HasPrefix(msgs[1].msg.Heading, notify.PossibleRepeatMark("zh")) {
		t.Errorf("after the lease: %+v", msgs)
	}
}

var updateGolden = flag.Bool("update", false, "rewrite testdata/*.golden")

// TestEscalationGolden: an escalation's first step (ringing the person on
// duty) and its last (ringing everyone) as a DingTalk, a WeCom and a
// Feishu robot receive them (request bodies, unsigned). -update rewrites
// testdata/escalation-<kind>.golden.
func TestEscalationGolden(t *testing.T) {
	for _, kind := range []string{"dingtalk", "wecom", "feishu"} {
		t.Run(kind, func(t *testing.T) {
			doc := strings.Replace(escDoc, `"kind": "dingtalk", "access_token": "t1"`, fmt.Sprintf(`"kind": %q, "access_token": "t1"`, kind), 1)
			doc = strings.Replace(doc, `"mobile": "13800138001"}`, `"mobile": "13800138001", "wecom_user_id": "zhangsan", "feishu_open_id": "ou_zhangsan"}`, 1)
			x := index(t, doc)
			t0 := sh("2026-12-15 10:00")
			tk := &Tick{Now: t0.Add(15 * time.Minute), Doc: x, r: New(Options{Docs: fixedDocs{x}, Kind: registry.Lookup})}
			p, rb := x.Project(1), x.Robot(1)
			ev := alertEvent("mall", "4567890123", "error")
			ev.Title, ev.Environment, ev.Culprit = "TypeError: Cannot read properties of undefined (reading 'price')", "production", "/cart"
			c := &escalate.Chain{Project: 1, Org: 1, Issue: ev.IssueID, Created: t0, Started: t0, Level: "error", Robots: []int64{1}, Event: ev}
			target, _ := escalationTarget(x, p, ev)
			var got []byte
			for _, k := range []int{1, 3} {
				tk.Now = t0.Add(time.Duration(15*k) * time.Minute)
				bodies, err := registry.Lookup(kind).Requests(escalationMessage(tk, p, target, rb, c, k))
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, notifytest.Bodies(bodies...)...)
			}
			notifytest.Golden(t, filepath.Join("testdata", "escalation-"+kind+".golden"), got, *updateGolden)
		})
	}
}

// TestEscalationNeedsAWayToKnow: an organization that never sent an issue
// webhook, and whose alerts carry no action links, gets no escalation:
// the relay could not know the alert was taken, so it would ring everyone
// for every alert; the chain ends, logged. Once the organization sends
// one, the next alerts escalate.
func TestEscalationNeedsAWayToKnow(t *testing.T) {
	t0 := sh("2026-12-15 10:00")
	e := newEnv(t, escDoc, t0)
	r := e.runner()
	ev := alertEvent("mall", "1301", "error")
	observe(r, e.x, ev, delivered(e.x, 1, ev))
	e.clock.Set(t0.Add(15 * time.Minute))
	tick(t, r)
	if n := len(e.send.messages()); n != 0 {
		t.Fatalf("%d escalations without a way to know about acknowledgements", n)
	}
	if !strings.Contains(e.logs.String(), "the relay could not know whether someone took the alert") {
		t.Errorf("not logged:\n%s", e.logs)
	}
	if keys, _ := e.store.List(context.Background(), "api/v1/escalations/1/1301/"); len(keys) != 2 {
		t.Errorf("the chain is not ended: %v", keys)
	}
	// Sentry sends an issue webhook (another issue's): the next alerts escalate.
	observe(r, e.x, issueEvent("mall", "1302", sentry.StateResolved), followUp(e.x, 1))
	ev2 := alertEvent("mall", "1303", "error")
	observe(r, e.x, ev2, delivered(e.x, 1, ev2))
	e.clock.Add(15 * time.Minute)
	tick(t, e.runner()) // another process: it reads the organization's record
	if msgs := e.send.messages(); len(msgs) != 1 || !strings.Contains(msgs[0].msg.Heading, "1303") {
		t.Errorf("after an issue webhook: %+v", msgs)
	}
}
