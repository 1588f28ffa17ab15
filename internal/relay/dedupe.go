package relay

import (
	"strings"
	"sync"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/sentry"
)

// dedupeKey identifies a webhook so a second copy is sent once: the
// integration platform's Request-ID, else the event id with the rules that
// fired (the legacy plugin sends no request id).
func dedupeKey(ev *sentry.Event) string {
	if ev.RequestID != "" {
		return "rid:" + ev.RequestID
	}
	if ev.EventID != "" {
		return "ev:" + ev.Resource + ":" + strings.Join(ev.ProjectSlugs, ",") + ":" + ev.EventID + ":" + strings.Join(ev.Rules, "\x00")
	}
	return ""
}

// dedupe remembers keys for a time, bounded in count.
type dedupe struct {
	mu    sync.Mutex
	ttl   time.Duration
	max   int
	seen  map[string]time.Time
	order []string
}

func newDedupe(ttl time.Duration, max int) *dedupe {
	return &dedupe{ttl: ttl, max: max, seen: map[string]time.Time{}}
}

// add records key and reports whether it was new.
func (d *dedupe) add(key string, now time.Time) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if t, ok := d.seen[key]; ok && now.Sub(t) < d.ttl {
		return false
	}
	// Forget the oldest keys beyond the bound or the time to live.
	for len(d.order) > 0 {
		k := d.order[0]
		t, ok := d.seen[k]
		if ok && len(d.order) < d.max && now.Sub(t) < d.ttl {
			break
		}
		d.order = d.order[1:]
		if ok && now.Sub(t) >= d.ttl || len(d.order) >= d.max {
			delete(d.seen, k)
		}
	}
	d.seen[key] = now
	d.order = append(d.order, key)
	return true
}

func (d *dedupe) remove(key string) {
	if key == "" {
		return
	}
	d.mu.Lock()
	delete(d.seen, key)
	d.mu.Unlock()
}

// repeats collapses repeats of one Sentry issue within a project's repeat
// window: the first alert goes out, later ones inside the window are
// counted, and the next message after the window carries the count.
type repeats struct {
	mu   sync.Mutex
	last map[string]*repeatState
}

type repeatState struct {
	sent  time.Time
	count int
}

func newRepeats() *repeats { return &repeats{last: map[string]*repeatState{}} }

// check reports whether ev repeats an issue p alerted within its window
// (and counts it), or else how many repeats were collapsed since the last
// message.
func (r *repeats) check(p *config.Project, ev *sentry.Event, now time.Time) (bool, int) {
	if p.RepeatWindowSeconds <= 0 || ev.FollowUp() {
		return false, 0
	}
	issue := ev.IssueID
	if issue == "" {
		issue = ev.Title
	}
	key := strings.ToLower(p.Slug) + "\x00" + string(rune(p.ID)) + "\x00" + issue
	window := time.Duration(p.RepeatWindowSeconds) * time.Second
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.last[key]
	if st != nil && now.Sub(st.sent) < window {
		st.count++
		return true, 0
	}
	n := 0
	if st != nil {
		n = st.count
	}
	r.last[key] = &repeatState{sent: now}
	if len(r.last) > 10000 { // bound memory: drop states whose window passed
		for k, s := range r.last {
			if now.Sub(s.sent) > 24*time.Hour {
				delete(r.last, k)
			}
		}
	}
	return false, n
}

func repeatLabel(lang string) string {
	if lang == "en" {
		return "Repeats since the last message"
	}
	return "上条消息后重复次数"
}
