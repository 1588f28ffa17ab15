package actions

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sentry-white/sentry-white/internal/actlink"
	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/notify"
	"github.com/sentry-white/sentry-white/internal/sentry"
	"github.com/sentry-white/sentry-white/internal/store"
)

// The marks of recent actions. The relay posts the follow-up of an action
// it took itself, at once, whether or not the organization's integration
// sends issue webhooks (which cannot be known in advance); Sentry's
// webhook of that change, when one comes, is its echo and is not posted
// again. An action is marked before Sentry is asked (so an echo that
// arrives while the answer is on its way is known), in this process and,
// when the relay may write there, in the store under
// <prefix>v1/deliveries/acted/ (so another instance of the relay knows it
// too: on Function Compute the webhook may reach another instance); the
// mark is removed when Sentry refused. Marks older than a day are removed
// from the store once a day.

// mark is one action taken (or being taken).
type mark struct {
	key   string
	Who   string    `json:"who"`
	At    time.Time `json:"at"`
	State string    `json:"state"` // acting, done
}

type recent struct {
	st     store.Backend
	dir    string
	window time.Duration
	now    func() time.Time
	log    *slog.Logger

	mu       sync.Mutex
	marks    map[string]*mark
	warned   bool   // a store write failed (logged once)
	prunedOn string // the day the store's marks were pruned
}

// maxMarks bounds the marks kept in memory.
const maxMarks = 10000

func newRecent(st store.Backend, prefix string, window time.Duration, now func() time.Time, log *slog.Logger) *recent {
	return &recent{st: st, dir: prefix + "v1/deliveries/acted/", window: window, now: now, log: log, marks: map[string]*mark{}}
}

func markKey(org int64, issue, action string) string {
	return strconv.FormatInt(org, 10) + "-" + issue + "-" + action
}

// begin marks an action about to be asked of Sentry.
func (r *recent) begin(ctx context.Context, org int64, issue, action, who string) *mark {
	m := &mark{key: markKey(org, issue, action), Who: who, At: r.now(), State: "acting"}
	r.mu.Lock()
	if len(r.marks) >= maxMarks {
		r.pruneMemory()
	}
	r.marks[m.key] = m
	r.mu.Unlock()
	r.save(ctx, m)
	return m
}

// done marks the action made.
func (r *recent) done(ctx context.Context, m *mark) {
	r.mu.Lock()
	m.State = "done"
	r.mu.Unlock()
	r.save(ctx, m)
}

// cancel removes the mark of an action Sentry refused.
func (r *recent) cancel(ctx context.Context, m *mark) {
	r.mu.Lock()
	if r.marks[m.key] == m {
		delete(r.marks, m.key)
	}
	r.mu.Unlock()
	if r.st != nil {
		_ = r.st.Delete(ctx, r.dir+m.key+".json")
	}
}

// pruneMemory drops marks older than the window; r.mu is held.
func (r *recent) pruneMemory() {
	cut := r.now().Add(-r.window)
	for k, m := range r.marks {
		if m.At.Before(cut) {
			delete(r.marks, k)
		}
	}
	for k := range r.marks { // still full: the oldest go first, in no order
		if len(r.marks) < maxMarks {
			break
		}
		delete(r.marks, k)
	}
}

func (r *recent) save(ctx context.Context, m *mark) {
	if r.st == nil {
		return
	}
	r.mu.Lock()
	data, _ := json.Marshal(m)
	r.mu.Unlock()
	if _, err := r.st.Put(ctx, r.dir+m.key+".json", data, nil); err != nil {
		r.mu.Lock()
		first := !r.warned
		r.warned = true
		r.mu.Unlock()
		if first {
			r.log.Warn("the marks of actions taken from the chat cannot be written to the store: other instances of the relay may post Sentry's webhook of an action as well; give the relay's role write access to v1/deliveries/",
				"error", notify.Redact(err.Error()))
		}
		return
	}
	r.prune(ctx)
}

// prune removes the store's marks older than a day, once a day.
func (r *recent) prune(ctx context.Context) {
	today := r.now().UTC().Format("2006-01-02")
	r.mu.Lock()
	if r.prunedOn == today {
		r.mu.Unlock()
		return
	}
	r.prunedOn = today
	r.mu.Unlock()
	keys, err := r.st.List(ctx, r.dir)
	if err != nil {
		return
	}
	cut := r.now().Add(-24 * time.Hour)
	for _, k := range keys {
		obj, err := r.st.Get(ctx, k, "")
		var m mark
		if err == nil && json.Unmarshal(obj.Data, &m) == nil && m.At.Before(cut) {
			_ = r.st.Delete(ctx, k)
		}
	}
}

// find returns the mark of an action within the window: this process's,
// else the store's.
func (r *recent) find(ctx context.Context, org int64, issue, action string) (mark, bool) {
	key := markKey(org, issue, action)
	cut := r.now().Add(-r.window)
	r.mu.Lock()
	m, ok := r.marks[key]
	var found mark
	if ok {
		found = *m
	}
	r.mu.Unlock()
	if ok && !found.At.Before(cut) {
		return found, true
	}
	if r.st == nil {
		return mark{}, false
	}
	obj, err := r.st.Get(ctx, r.dir+key+".json", "")
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			r.log.Warn("the mark of an action cannot be read", "error", notify.Redact(err.Error()))
		}
		return mark{}, false
	}
	if json.Unmarshal(obj.Data, &found) != nil || found.At.Before(cut) {
		return mark{}, false
	}
	return found, true
}

// echoAction is the action whose change an issue webhook reports.
func echoAction(ev *sentry.Event) string {
	if ev.Resource != sentry.ResourceIssue {
		return ""
	}
	switch ev.State {
	case sentry.StateResolved:
		return actlink.Resolve
	case sentry.StateIgnored, sentry.StateArchived:
		return actlink.Ignore
	case sentry.StateAssigned:
		return actlink.Take
	}
	return ""
}

// Echo reports whether ev is Sentry's webhook of a change this relay made
// from the chat for organization org (the same issue and change, within
// the echo window), and who made it: the relay told the group already, so
// the webhook is not posted again. Only issue webhooks of organizations
// that serve action links are looked up.
func (h *Handler) Echo(ctx context.Context, x *config.Index, org int64, ev *sentry.Event) (who string, ok bool) {
	action := echoAction(ev)
	if action == "" || !actlink.ValidIssue(strings.TrimSpace(ev.IssueID)) || !actlink.Enabled(x.Doc, x.Organization(org)) {
		return "", false
	}
	m, ok := h.recent.find(ctx, org, strings.TrimSpace(ev.IssueID), action)
	return m.Who, ok
}
