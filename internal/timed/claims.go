package timed

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sentry-white/sentry-white/internal/notify"
	"github.com/sentry-white/sentry-white/internal/store"
)

// Claims. A piece of timed work is claimed by creating its claim object,
// <prefix>v1/claims/<due day>/<work>/<id>/<attempt>, with a create-if-absent
// write (a folder: an exclusive create under a lock file; OSS:
// x-oss-forbid-overwrite): of two ticks that try at once, one creates it
// and does the piece, the other finds it taken. The object says until when
// its claimer holds it (the lease): a claimer that dies before it marks
// the piece done (kill -9, an FC instance frozen for good) loses it when the
// lease passes, and the next tick claims the next attempt. Done marks a
// piece finished for good; Release gives it back at once (a robot's budget
// was spent, a send failed). Claims are removed ClaimRetention after the
// day their piece fell due.

// ClaimRetention is how long claims are kept after their piece fell due.
const ClaimRetention = 8 * 24 * time.Hour

// State is what claiming a piece found.
type State int

const (
	Won   State = iota // the caller holds the piece and does it
	Taken              // another tick holds it now
	Done               // it was done already
)

// claimBody is what a claim object holds.
type claimBody struct {
	By    string    `json:"by"` // the claiming process
	At    time.Time `json:"at"`
	Until time.Time `json:"until"` // the lease
	Done  bool      `json:"done,omitempty"`
}

// known is what a process knows of a piece's claim, so that a piece found
// taken or done is not asked about again at every tick.
type known struct {
	state State
	until time.Time // Taken: until the lease passes
	next  int       // the attempt to try next
	due   time.Time
}

type claims struct {
	r      *Runner
	known  map[string]known // by claim folder
	wrote  bool             // a claim was written since the start
	pruned time.Time
}

// Claim is a piece of timed work this tick holds.
type Claim struct {
	t    *Tick
	dir  string
	key  string
	body claimBody
	due  time.Time
	// TakenOver is set when an earlier claimer let its lease pass: it may
	// have sent the piece before it stopped, so what this claim sends says
	// it may be a repeat (the delivery promise: at least once).
	TakenOver bool
}

func (c *claims) dir(work, id string, due time.Time) string {
	return c.r.o.Prefix + "v1/claims/" + due.UTC().Format("2006-01-02") + "/" + work + "/" + id + "/"
}

// Claim tries to claim the piece id of work, due at due, for lease (how
// long the claimer may take to do it, its retries included). id may hold
// slashes ("<schedule>/<shift>/<robot>"); it must be the same every time
// the piece is found due. It returns the claim when the caller won it.
func (t *Tick) Claim(ctx context.Context, work, id string, due time.Time, lease time.Duration) (*Claim, State, error) {
	c := &t.r.cl
	if c.known == nil {
		c.known = map[string]known{}
	}
	dir := c.dir(work, id, due)
	k, seen := c.known[dir]
	switch {
	case seen && k.state == Done:
		return nil, Done, nil
	case seen && k.state == Taken && t.Now.Before(k.until):
		return nil, Taken, nil
	}
	n := max(k.next, 1)
	body := claimBody{By: t.r.instance, At: t.Now, Until: t.Now.Add(lease)}
	data, _ := json.Marshal(body)
	takenOver := false
	if seen && k.state == Taken && n > 1 {
		// It was taken, and its lease has passed as far as this process
		// knows: its claimer may have finished since. Look before taking
		// it over.
		last, lb, found, err := c.latest(ctx, dir)
		switch {
		case err != nil:
			return nil, Taken, err
		case found && lb.Done:
			c.known[dir] = known{state: Done, due: due}
			return nil, Done, nil
		case found && t.Now.Before(lb.Until):
			c.known[dir] = known{state: Taken, until: lb.Until, next: last + 1, due: due}
			return nil, Taken, nil
		case found:
			t.r.log.Warn("timed work: a claim's lease passed before its piece was done; claiming it again",
				"work", work, "piece", id, "claimed_by", lb.By, "claimed_at", lb.At.UTC().Format(time.RFC3339))
			n, takenOver = last+1, true
		default:
			n = max(last, 1) // released meanwhile
		}
	}
	for range 3 {
		key := dir + strconv.Itoa(n)
		create := ""
		_, err := t.r.o.Store.Put(ctx, key, data, &create)
		if err == nil {
			c.wrote = true
			c.known[dir] = known{state: Taken, until: body.Until, next: n + 1, due: due}
			return &Claim{t: t, dir: dir, key: key, body: body, due: due, TakenOver: takenOver}, Won, nil
		}
		if !errors.Is(err, store.ErrConflict) {
			return nil, Taken, fmt.Errorf("claim %s: %w", key, err)
		}
		// Taken: by whom, and is it still held?
		last, lb, found, err := c.latest(ctx, dir)
		switch {
		case err != nil:
			return nil, Taken, err
		case !found:
			n = max(last, 1) // released meanwhile: try again
			continue
		case lb.Done:
			c.known[dir] = known{state: Done, due: due}
			return nil, Done, nil
		case t.Now.Before(lb.Until):
			c.known[dir] = known{state: Taken, until: lb.Until, next: last + 1, due: due}
			return nil, Taken, nil
		}
		// Its claimer let the lease pass without finishing: take it over.
		t.r.log.Warn("timed work: a claim's lease passed before its piece was done; claiming it again",
			"work", work, "piece", id, "claimed_by", lb.By, "claimed_at", lb.At.UTC().Format(time.RFC3339))
		n, takenOver = last+1, true
	}
	return nil, Taken, nil
}

// latest returns the highest attempt under dir and what its claim says;
// found is false when there is none (released meanwhile). A claim that
// cannot be read counts as expired.
func (c *claims) latest(ctx context.Context, dir string) (last int, b claimBody, found bool, err error) {
	keys, err := c.r.o.Store.List(ctx, dir)
	if err != nil {
		return 0, b, false, fmt.Errorf("claims %s: %w", dir, err)
	}
	for _, k := range keys {
		if n, err := strconv.Atoi(strings.TrimPrefix(k, dir)); err == nil && n > last {
			last = n
		}
	}
	if last == 0 {
		return 0, b, false, nil
	}
	obj, err := c.r.o.Store.Get(ctx, dir+strconv.Itoa(last), "")
	switch {
	case errors.Is(err, store.ErrNotFound):
		return last, b, false, nil
	case err != nil:
		return 0, b, false, fmt.Errorf("claims %s: %w", dir, err)
	}
	_ = json.Unmarshal(obj.Data, &b)
	return last, b, true, nil
}

// Done marks the piece done for good: no tick does it again.
func (cl *Claim) Done(ctx context.Context) error {
	c := &cl.t.r.cl
	c.known[cl.dir] = known{state: Done, due: cl.due}
	b := cl.body
	b.Done = true
	data, _ := json.Marshal(b)
	ctx, cancel := settling(ctx)
	defer cancel()
	if _, err := cl.t.r.o.Store.Put(ctx, cl.key, data, nil); err != nil {
		return fmt.Errorf("claim %s: %w", cl.key, err)
	}
	return nil
}

// Release gives the piece back: a later tick (of any process) may claim
// it again; this process waits at least wait before it tries.
func (cl *Claim) Release(ctx context.Context, wait time.Duration) error {
	c := &cl.t.r.cl
	k := c.known[cl.dir]
	k.state, k.until, k.next = Taken, cl.t.Now.Add(wait), 1
	c.known[cl.dir] = k
	ctx, cancel := settling(ctx)
	defer cancel()
	if err := cl.t.r.o.Store.Delete(ctx, cl.key); err != nil {
		return fmt.Errorf("release claim %s: %w", cl.key, err)
	}
	return nil
}

// settling is the context a claim is settled in: ctx's values without
// its end (a tick stopped at shutdown still gives back what it claimed),
// bounded.
func settling(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
}

// prune removes, once a day, the claims of pieces due more than
// ClaimRetention ago, and forgets them.
func (c *claims) prune(ctx context.Context, now time.Time) {
	if !c.pruned.IsZero() && now.Sub(c.pruned) < 24*time.Hour {
		return
	}
	c.pruned = now
	oldest := now.Add(-ClaimRetention).UTC().Format("2006-01-02")
	for dir, k := range c.known {
		if k.due.UTC().Format("2006-01-02") < oldest {
			delete(c.known, dir)
		}
	}
	base := c.r.o.Prefix + "v1/claims/"
	keys, err := c.r.o.Store.List(ctx, base)
	if err != nil {
		c.r.log.Warn("timed work: old claims not listed", "error", notify.Redact(err.Error()))
		return
	}
	removed := 0
	for _, k := range keys {
		day, _, _ := strings.Cut(strings.TrimPrefix(k, base), "/")
		if _, err := time.Parse("2006-01-02", day); err != nil || day >= oldest {
			continue
		}
		if err := c.r.o.Store.Delete(ctx, k); err == nil {
			removed++
		}
	}
	if removed > 0 {
		c.r.log.Info("timed work: old claims removed", "claims", removed, "before", oldest)
	}
}

// sortedKeys returns m's keys in order.
func sortedKeys[V any](m map[int64]V) []int64 {
	ks := make([]int64, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}
