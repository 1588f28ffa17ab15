package deliveries

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/notify"
	"github.com/sentry-white/sentry-white/internal/store"
)

// casOnly hides the folder backend's Append so the compare-and-swap path is
// tested too.
type casOnly struct{ store.Backend }

func TestLogAppendListPrune(t *testing.T) {
	for _, tc := range []struct {
		name string
		b    store.Backend
	}{{"folder", store.NewFile(t.TempDir())}, {"compare-and-swap", casOnly{store.NewFile(t.TempDir())}}} {
		t.Run(tc.name, func(t *testing.T) {
			now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
			l := New(tc.b, "api/", nil)
			l.Now = func() time.Time { return now }
			ctx := context.Background()
			// Ten days of records, two a day; one failed with its message.
			for d := 9; d >= 0; d-- {
				for i := 0; i < 2; i++ {
					now = time.Date(2026, 11, 25-d, 9, i, 0, 0, time.UTC)
					r := Record{ID: fmt.Sprintf("d%d-%d", d, i), Project: "mall-api", Robot: "研发告警群", Result: Delivered,
						Message: &notify.Message{Heading: "x"}}
					if d == 0 && i == 1 {
						r.Result, r.Code, r.Error = Failed, 310000, "keywords not in content"
					}
					l.Add(r)
					if err := l.Flush(ctx); err != nil {
						t.Fatal(err)
					}
				}
			}
			now = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
			all, err := l.List(ctx, Filter{})
			if err != nil {
				t.Fatal(err)
			}
			if len(all) != 2*KeepDays {
				t.Fatalf("%d records, want %d (seven days)", len(all), 2*KeepDays)
			}
			if all[0].ID != "d0-1" || all[0].Message == nil || all[1].Message != nil {
				t.Errorf("newest first, message kept only on failures: %+v", all[:2])
			}
			failed, _ := l.List(ctx, Filter{Result: Failed})
			if len(failed) != 1 || failed[0].Code != 310000 {
				t.Errorf("failed = %+v", failed)
			}
			if got, _ := l.List(ctx, Filter{Limit: 3}); len(got) != 3 {
				t.Errorf("limit: %d", len(got))
			}
			if r, err := l.Get(ctx, "d3-0"); err != nil || r.Project != "mall-api" {
				t.Errorf("Get = %+v, %v", r, err)
			}
			if _, err := l.Get(ctx, "nope"); err == nil {
				t.Error("Get of a missing id")
			}
		})
	}
}

func TestTornLineIsSkipped(t *testing.T) {
	b := store.NewFile(t.TempDir())
	ctx := context.Background()
	day := time.Now().UTC().Format("2006-01-02")
	b.Put(ctx, "api/v1/deliveries/"+day+".jsonl", []byte(`{"id":"a","result":"delivered"}`+"\n"+`{"id":"b","res`), nil)
	got, err := New(b, "api/", nil).List(ctx, Filter{})
	if err != nil || len(got) != 1 || got[0].ID != "a" {
		t.Fatalf("got %+v %v", got, err)
	}
}

type failing struct{ store.Backend }

func (failing) Put(context.Context, string, []byte, *string) (string, error) {
	return "", fmt.Errorf("store down")
}

func TestFlushFailureKeepsRecords(t *testing.T) {
	l := New(failing{store.NewFile(t.TempDir())}, "api/", nil)
	l.Add(Record{ID: "x", Result: Delivered})
	if err := l.Flush(context.Background()); err == nil || !strings.Contains(err.Error(), "store down") {
		t.Fatalf("err = %v", err)
	}
	if l.Pending() != 1 {
		t.Errorf("records lost after a failed flush")
	}
}

// TestRunFlushesWhenFull: Run writes as soon as FlushAt records wait, not
// only when its interval ends, so a storm never piles records up in memory.
func TestRunFlushesWhenFull(t *testing.T) {
	l := New(store.NewFile(t.TempDir()), "api/", nil)
	l.FlushAt = 3
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { l.Run(ctx, time.Hour); close(done) }()
	defer func() { cancel(); <-done }()
	l.Add(Record{ID: "a", Result: Delivered})
	l.Add(Record{ID: "b", Result: Delivered})
	time.Sleep(20 * time.Millisecond)
	if n := l.Pending(); n != 2 {
		t.Fatalf("%d pending below FlushAt, want 2 (no early flush yet)", n)
	}
	l.Add(Record{ID: "c", Result: Delivered})
	for deadline := time.Now().Add(5 * time.Second); l.Pending() > 0; {
		if time.Now().After(deadline) {
			t.Fatalf("%d records still pending after FlushAt was reached", l.Pending())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if got, err := l.List(context.Background(), Filter{}); err != nil || len(got) != 3 {
		t.Fatalf("List = %d records, %v; want 3", len(got), err)
	}
}

// gatedAppends holds every append until the gate opens, and counts them.
type gatedAppends struct {
	store.Backend
	gate    chan struct{}
	mu      sync.Mutex
	calls   int
	entered int
}

func (g *gatedAppends) Append(ctx context.Context, key string, data []byte) error {
	g.mu.Lock()
	g.entered++
	g.mu.Unlock()
	<-g.gate
	g.mu.Lock()
	g.calls++
	g.mu.Unlock()
	return g.Backend.(interface {
		Append(context.Context, string, []byte) error
	}).Append(ctx, key, data)
}

func (g *gatedAppends) count() (entered, calls int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.entered, g.calls
}

// TestConcurrentFlushesShareAppends: flushes that meet one under way wait
// for it and write their records together (on FC every webhook flushes
// before its answer), and each returns once its own records are written.
func TestConcurrentFlushesShareAppends(t *testing.T) {
	g := &gatedAppends{Backend: store.NewFile(t.TempDir()), gate: make(chan struct{})}
	l := New(g, "api/", nil)
	now := time.Now()
	rec := func(id string) Record { return Record{ID: id, Time: now, Project: "p", Result: Delivered} }
	ctx := context.Background()
	errs := make(chan error, 3)
	l.Add(rec("a"))
	go func() { errs <- l.Flush(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for e, _ := g.count(); e == 0; e, _ = g.count() { // a's flush is in its append
		if time.Now().After(deadline) {
			t.Fatal("the first flush never appended")
		}
		runtime.Gosched()
	}
	l.Add(rec("b"))
	go func() { errs <- l.Flush(ctx) }()
	l.Add(rec("c"))
	go func() { errs <- l.Flush(ctx) }()
	close(g.gate)
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if _, calls := g.count(); calls != 2 {
		t.Errorf("%d appends for three flushes, want 2 (the first, then b and c together)", calls)
	}
	got, err := l.List(ctx, Filter{})
	if err != nil || len(got) != 3 || l.Pending() != 0 {
		t.Errorf("%d records listed, %d pending, %v", len(got), l.Pending(), err)
	}
}

// TestRefusalsAreKeptApart (#30.4): refused webhooks go to their own daily
// objects and are pruned with the rest; an unfiltered list adds at most
// MaxRefusedListed of them to the deliveries; refusals an older version
// kept with the deliveries are still listed; a store that fails drops
// refusals before deliveries.
func TestRefusalsAreKeptApart(t *testing.T) {
	b := store.NewFile(t.TempDir())
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	l := New(b, "api/", nil)
	l.Now = func() time.Time { return now }
	ctx := context.Background()
	// An older version's day: a refusal among the deliveries.
	legacy := `{"id":"old-r","time":"2026-11-24T09:00:00Z","project":"x","robot_id":0,"robot":"","kind":"","result":"refused","latency_ms":0,"cause":"token_wrong"}` + "\n"
	if _, err := b.Put(ctx, "api/v1/deliveries/2026-11-24.jsonl", []byte(legacy), nil); err != nil {
		t.Fatal(err)
	}
	l.Add(Record{ID: "fail", Time: now.Add(-time.Hour), Result: Failed, Message: &notify.Message{Heading: "x"}})
	for i := range 300 {
		l.Add(Record{ID: fmt.Sprintf("r%03d", i), Time: now.Add(-time.Duration(i) * time.Second), Result: Refused, Cause: "token_wrong"})
	}
	if err := l.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	keys, _ := b.List(ctx, "api/v1/deliveries/")
	if !slices.Equal(keys, []string{"api/v1/deliveries/2026-11-24.jsonl", "api/v1/deliveries/2026-11-25.jsonl", "api/v1/deliveries/refused/2026-11-25.jsonl"}) {
		t.Errorf("keys %v", keys)
	}
	all, err := l.List(ctx, Filter{})
	if err != nil || len(all) != 1+MaxRefusedListed || !slices.ContainsFunc(all, func(r Record) bool { return r.ID == "fail" }) {
		t.Errorf("unfiltered: %d records, %v", len(all), err)
	}
	refused, _ := l.List(ctx, Filter{Result: Refused})
	if len(refused) != 301 || refused[0].ID != "r000" || refused[300].ID != "old-r" {
		t.Errorf("refused: %d records", len(refused))
	}
	if r, err := l.Get(ctx, "old-r"); err != nil || r.Cause != "token_wrong" {
		t.Errorf("Get(old-r) = %+v, %v", r, err)
	}
	// A week later both kinds of objects are pruned.
	now = now.AddDate(0, 0, KeepDays+1)
	l.Add(Record{ID: "late", Result: Delivered})
	if err := l.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if keys, _ := b.List(ctx, "api/v1/deliveries/"); len(keys) != 1 {
		t.Errorf("after pruning: %v", keys)
	}
	// Waiting for a failing store: refusals go first.
	var recs []Record
	for i := range 10 {
		res := Refused
		if i%2 == 0 {
			res = Failed
		}
		recs = append(recs, Record{ID: fmt.Sprint(i), Result: res})
	}
	kept := keepNewest(recs, 6)
	if len(kept) != 6 || slices.ContainsFunc(kept[:5], func(r Record) bool { return r.Result == Refused }) {
		t.Errorf("kept %+v", kept)
	}
}

// TestListingsAcrossResults: escalation lists the messages an escalation
// posted again, taken the actions from the chat and the follow-ups saying
// the issue was taken in Sentry.
func TestListingsAcrossResults(t *testing.T) {
	b := store.NewFile(t.TempDir())
	ctx := context.Background()
	l := New(b, "api/", nil)
	now := time.Now()
	for i, r := range []Record{
		{ID: "alert", Result: Delivered, State: "new"},
		{ID: "step1", Result: Delivered, State: "new", Escalation: 1},
		{ID: "step2-failed", Result: Failed, Escalation: 2},
		{ID: "act", Result: Acted, Action: &Action{Action: "take", Who: "张三", Outcome: ActionDone}},
		{ID: "assigned", Result: Delivered, State: "assigned"},
		{ID: "resolved-failed", Result: Failed, State: "resolved"},
		{ID: "refused", Result: Refused, Cause: "token_wrong"},
	} {
		r.Time = now.Add(time.Duration(i-10) * time.Minute)
		l.Add(r)
	}
	if err := l.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	ids := func(result string) string {
		got, err := l.List(ctx, Filter{Result: result})
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range got {
			out = append(out, r.ID)
		}
		return strings.Join(out, " ")
	}
	if got := ids(Escalations); got != "step2-failed step1" {
		t.Errorf("escalation lists %q", got)
	}
	if got := ids(Taken); got != "assigned act" {
		t.Errorf("taken lists %q", got)
	}
	if got := ids(Acted); got != "act" {
		t.Errorf("action lists %q", got)
	}
}
