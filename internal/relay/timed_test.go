package relay

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/deliveries"
	"github.com/sentry-white/sentry-white/internal/robottest"
	"github.com/sentry-white/sentry-white/internal/store"
)

// allDay is quiet hours in mode that last all day, every day.
func allDay(mode string) *config.QuietHours {
	return &config.QuietHours{Mode: mode, Windows: []config.QuietWindow{{Days: []int{1, 2, 3, 4, 5, 6, 7}, From: "00:00", To: "00:00"}}}
}

// TestHeldAlertAnswered: an alert its project's quiet hours hold is kept
// in the store before the answer, answered 200 "held" with when they end,
// and recorded in the history as held.
func TestHeldAlertAnswered(t *testing.T) {
	var hist *deliveries.Log
	e := newEnv(t, func(o *Options) {
		o.Store, o.Prefix = store.NewFile(t.TempDir()), "api/"
		hist = deliveries.New(o.Store, "api/", nil)
		o.History = hist
	})
	e.edit(func(d *config.Document) { d.Projects[0].QuietHours = allDay("hold") })
	code, a := e.post("?token="+token, testdata(t, "legacy_saas.json"))
	if code != http.StatusOK || a.Status != "held" || len(a.Delivered) != 2 || a.Delivered[0].Status != "held" || a.Delivered[0].HeldUntil == "" {
		t.Fatalf("answer %d %+v", code, a)
	}
	if n := len(e.robot.Messages()); n != 0 {
		t.Fatalf("%d messages for a held alert", n)
	}
	keys, _ := e.h.o.Store.List(context.Background(), "api/v1/held/")
	if len(keys) != 2 {
		t.Errorf("held objects %v, want one per robot", keys)
	}
	if err := hist.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	recs, _ := hist.List(context.Background(), deliveries.Filter{Result: deliveries.Held})
	if len(recs) != 2 || recs[0].HeldUntil.IsZero() {
		t.Errorf("history %+v", recs)
	}
}

// TestHoldWithoutStoreGoesSilent: a relay that cannot keep a held alert
// sends it at once without any @, rather than lose it, and says so in its
// log.
func TestHoldWithoutStoreGoesSilent(t *testing.T) {
	e := newEnv(t)
	e.edit(func(d *config.Document) { d.Projects[0].QuietHours = allDay("hold") })
	code, a := e.post("?token="+token, testdata(t, "legacy_saas.json"))
	if code != http.StatusOK || a.Status != "delivered" {
		t.Fatalf("answer %d %+v", code, a)
	}
	for _, m := range e.robot.Messages() {
		if len(m.AtMobiles) != 0 || strings.Contains(m.Text, "@1") || !strings.Contains(m.Text, "不提醒任何人") {
			t.Errorf("a held alert that cannot be kept must go without @:\n%s %v", m.Text, m.AtMobiles)
		}
	}
	if !strings.Contains(e.logs.String(), "cannot be kept") {
		t.Error("not logged")
	}
}

// TestSilentAlertHandedOff: on FC, a silent alert that must wait is
// handed to another invocation, which sends it silent too.
func TestSilentAlertHandedOff(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.FC = true })
	self := handOffTo(t, e)
	e.edit(func(d *config.Document) { d.Projects[0].QuietHours = allDay("silent") })
	e.robot.FailNext(robottest.FaultNoCode, robottest.FaultNoCode) // both robots blocked
	if code, a := e.post("?token="+token, testdata(t, "legacy_saas.json")); code != http.StatusAccepted {
		t.Fatalf("got %d %+v", code, a)
	}
	self.run(t, e)
	msgs := e.robot.Messages()
	if len(msgs) != 2 {
		t.Fatalf("%d messages after the hand-off", len(msgs))
	}
	for _, m := range msgs {
		if len(m.AtMobiles) != 0 || !strings.Contains(m.Text, "不提醒任何人") {
			t.Errorf("a handed-off silent alert went with @:\n%s %v", m.Text, m.AtMobiles)
		}
	}
}

// selfInvocation stands for FC's asynchronous invocation of the relay's
// own trigger (SENTRY_WHITE_SELF_URL): it takes the hand-off e's relay
// posts, and run has another instance run it, as FC would.
type selfInvocation struct {
	hdr  http.Header
	body []byte
}

func handOffTo(t *testing.T, e *env) *selfInvocation {
	t.Helper()
	s := &selfInvocation{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hdr = r.Header.Clone()
		s.body, _ = io.ReadAll(r.Body)
		w.WriteHeader(http.StatusAccepted)
	}))
	t.Cleanup(srv.Close)
	e.h.o.SelfURL = srv.URL
	return s
}

// run has another instance on e's document run the hand-off, which must
// answer 200.
func (s *selfInvocation) run(t *testing.T, e *env) {
	t.Helper()
	other := mustNew(t, Options{Docs: e.h.o.Docs, Kinds: e.h.o.Kinds, Dispatch: e.h.o.Dispatch, FC: true})
	req := httptest.NewRequest(http.MethodPost, handoffPath, bytes.NewReader(s.body))
	req.Header = s.hdr
	rec := httptest.NewRecorder()
	other.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("hand-off invocation: %d %s", rec.Code, rec.Body)
	}
}

// TestEscalationStateFromWebhooks: for a project that escalates, the
// first alert of an issue writes its chain before the answer; Sentry's
// issue.resolved, whose follow-up the project filters out, still records
// the acknowledgement and that the organization sends issue webhooks; a
// project without escalation writes no escalation state.
func TestEscalationStateFromWebhooks(t *testing.T) {
	b := store.NewFile(t.TempDir())
	e := newEnv(t, func(o *Options) { o.Store, o.Prefix = b, "api/" })
	off := false
	e.edit(func(d *config.Document) {
		d.Projects[0].Escalation = &config.Escalation{AfterMinutes: 15, Steps: []string{config.StepOwners}}
		d.Projects[0].FollowUps = &off
	})
	if code, a := e.post("?token="+token, testdata(t, "legacy_saas.json")); code != http.StatusOK || a.Status != "delivered" {
		t.Fatalf("alert: %d %+v", code, a)
	}
	if keys, _ := b.List(context.Background(), "api/v1/escalations/"); len(keys) != 1 || keys[0] != "api/v1/escalations/1/4567890123/1.json" {
		t.Errorf("chains %v", keys)
	}
	code, a := e.post("?token="+token, testdata(t, "issue_resolved.json"), "Sentry-Hook-Resource", "issue")
	if code != http.StatusOK || a.Status != "filtered" {
		t.Fatalf("issue.resolved: %d %+v", code, a)
	}
	acks, _ := b.List(context.Background(), "api/v1/acks/1/1170820242/")
	if len(acks) != 1 || !strings.HasSuffix(acks[0], "-resolved.json") {
		t.Errorf("acknowledgements %v", acks)
	}
	if _, err := b.Get(context.Background(), "api/v1/issue-webhooks/1.json", ""); err != nil {
		t.Errorf("the organization's issue webhook is not recorded: %v", err)
	}
	// Without escalation: nothing about escalations is written.
	e.edit(func(d *config.Document) { d.Projects[0].Escalation = nil })
	e.post("?token="+token, bytes.ReplaceAll(testdata(t, "legacy_saas.json"), []byte("4567890123"), []byte("4567890124")))
	if keys, _ := b.List(context.Background(), "api/v1/escalations/"); len(keys) != 1 {
		t.Errorf("a project without escalation started one: %v", keys)
	}
}
