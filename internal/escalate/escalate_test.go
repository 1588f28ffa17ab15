package escalate

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/sentry"
	"github.com/sentry-white/sentry-white/internal/store"
)

func newStore(t *testing.T) Store {
	return Store{B: store.NewFile(t.TempDir()), Prefix: "api/"}
}

func chain(project int64, issue string, started time.Time) *Chain {
	return &Chain{Project: project, Org: 1, Issue: issue, Created: started, Started: started, Level: "error", Robots: []int64{1},
		Event: &sentry.Event{Title: "boom", IssueID: issue}}
}

// TestOneChainPerIssue: however many alerts start an issue's chain at
// once, one does; a regression starts the next; List gives each issue's
// latest chain, ended or not.
func TestOneChainPerIssue(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	t0 := time.Date(2026, 12, 15, 2, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	var mu sync.Mutex
	created := 0
	for range 8 {
		wg.Go(func() {
			ok, err := s.Start(ctx, chain(1, "42", t0))
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				created++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if created != 1 {
		t.Fatalf("%d chains started, want 1", created)
	}
	refs, err := s.List(ctx)
	if err != nil || len(refs) != 1 || refs[0].Gen != 1 || !refs[0].EndedAt.IsZero() {
		t.Fatalf("List: %+v %v", refs, err)
	}
	if err := s.End(ctx, refs[0], t0.Add(time.Hour), "acknowledged"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := s.Start(ctx, chain(1, "42", t0.Add(2*time.Hour))); ok {
		t.Error("a later alert of an ended chain's issue started another")
	}
	c := chain(1, "42", t0.Add(3*time.Hour))
	if ok, err := s.Restart(ctx, c); !ok || err != nil || c.Gen != 2 {
		t.Fatalf("Restart: %v %v gen %d", ok, err, c.Gen)
	}
	refs, _ = s.List(ctx)
	if len(refs) != 1 || refs[0].Gen != 2 || !refs[0].EndedAt.IsZero() {
		t.Fatalf("after the regression: %+v", refs)
	}
	got, err := s.Read(ctx, refs[0])
	if err != nil || !got.Started.Equal(c.Started) || got.Event.Title != "boom" || got.Gen != 2 {
		t.Errorf("Read: %+v %v", got, err)
	}
	// An issue id that is not a plain id is hashed into the key.
	if k := IssueKey("../../etc"); strings.ContainsAny(k, "./") || k == "" || k != IssueKey("../../etc") {
		t.Errorf("IssueKey = %q", k)
	}
}

// TestAcks: an acknowledgement counts for chains that began before it;
// Ack (what an action link calls) records one now.
func TestAcks(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	t0 := time.Now().Add(-time.Minute)
	if a, err := s.Acked(ctx, 1, "42", t0); a != nil || err != nil {
		t.Fatalf("no ack yet: %v %v", a, err)
	}
	if err := Ack(ctx, s.B, s.Prefix, 1, "42", "张三"); err != nil {
		t.Fatal(err)
	}
	a, err := s.Acked(ctx, 1, "42", t0)
	if err != nil || a == nil || a.Kind != AckAction || a.By != "张三" {
		t.Fatalf("Acked: %+v %v", a, err)
	}
	if a, _ := s.Acked(ctx, 1, "42", time.Now().Add(time.Minute)); a != nil {
		t.Errorf("an ack before the chain began counts: %+v", a)
	}
	if a, _ := s.Acked(ctx, 2, "42", t0); a != nil {
		t.Errorf("another organization's issue: %+v", a)
	}
	if err := s.Acknowledge(ctx, 1, "42", Acknowledgement{At: t0, Kind: "maybe"}); err == nil {
		t.Error("an unknown kind was recorded")
	}
}

// TestPrune: chains ended more than Retention ago go with their issue's
// older chains, running and recent ones stay; old acknowledgements go.
func TestPrune(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	now := time.Date(2026, 12, 30, 0, 0, 0, 0, time.UTC)
	old, recent := now.Add(-9*24*time.Hour), now.Add(-time.Hour)
	for i, c := range []*Chain{chain(1, "1", old), chain(1, "2", old), chain(1, "3", old)} {
		if _, err := s.Start(ctx, c); err != nil {
			t.Fatal(err)
		}
		refs, _ := s.List(ctx)
		if i < 2 {
			end := old.Add(time.Hour)
			if i == 1 {
				end = recent
			}
			_ = s.End(ctx, refs[i], end, "done")
		}
	}
	_ = s.Acknowledge(ctx, 1, "1", Acknowledgement{At: old, Kind: AckResolved})
	_ = s.Acknowledge(ctx, 1, "2", Acknowledgement{At: recent, Kind: AckResolved})
	n, err := s.Prune(ctx, now)
	if err != nil || n != 3 {
		t.Fatalf("Prune removed %d (%v), want 3: the old chain, its end, the old ack", n, err)
	}
	refs, _ := s.List(ctx)
	if len(refs) != 2 || refs[0].Issue != "2" || refs[1].Issue != "3" {
		t.Errorf("left: %+v", refs)
	}
	if acks, _ := s.Acks(ctx, 1, ""); len(acks) != 1 || acks[0].Issue != "2" {
		t.Errorf("acks left: %+v", acks)
	}
}

// TestIssueWebhookSeen: the last issue webhook of an organization.
func TestIssueWebhookSeen(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	if last, err := s.LastIssueWebhook(ctx, 1); !last.IsZero() || err != nil {
		t.Fatalf("never: %v %v", last, err)
	}
	at := time.Date(2026, 12, 15, 2, 0, 0, 0, time.UTC)
	if err := s.SawIssueWebhook(ctx, 1, at); err != nil {
		t.Fatal(err)
	}
	if last, err := s.LastIssueWebhook(ctx, 1); !last.Equal(at) || err != nil {
		t.Errorf("last %v %v", last, err)
	}
}
