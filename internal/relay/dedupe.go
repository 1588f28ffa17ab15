package relay

import (
	"hash/maphash"
	"strings"
	"sync"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/sentry"
)

// dedupeKey identifies a webhook so a second copy is sent once: the
// integration platform's Request-ID, else the event id with the rules that
// fired (the legacy plugin sends no request id). The configuration's
// version is part of the key: after an edit the same webhook routes
// differently, so it is not a copy of what was sent before.
func dedupeKey(ev *sentry.Event, version string) string {
	if ev.RequestID != "" {
		// What it is about goes in too, so a sender that reuses one
		// Request-ID for different webhooks is not taken for a retry.
		return "rid:" + version + ":" + ev.RequestID + ":" + ev.Resource + ":" + ev.Action + ":" + ev.IssueID + ":" + ev.EventID
	}
	if ev.EventID != "" {
		return "ev:" + version + ":" + ev.Resource + ":" + strings.Join(ev.ProjectSlugs, ",") + ":" + ev.EventID + ":" + strings.Join(ev.Rules, "\x00")
	}
	return ""
}

// dedupe remembers keys for a time, bounded in count. It keeps a 128-bit
// hash of each key, not the key: a webhook's key is 20 to 100 bytes, and at
// the bound of 10,000 keys the strings were most of the relay's live heap
// under load. Two keys colliding in 128 bits is beyond any realistic
// chance.
type dedupe struct {
	mu    sync.Mutex
	ttl   time.Duration
	max   int
	seeds [2]maphash.Seed
	seen  map[keyHash]int64 // key hash -> when it was added, Unix ns
	order []seenAt          // oldest first
}

type keyHash [2]uint64

type seenAt struct {
	k keyHash
	t int64
}

func newDedupe(ttl time.Duration, max int) *dedupe {
	return &dedupe{ttl: ttl, max: max, seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}, seen: map[keyHash]int64{}}
}

func (d *dedupe) hash(key string) keyHash {
	return keyHash{maphash.String(d.seeds[0], key), maphash.String(d.seeds[1], key)}
}

// add records key and reports whether it was new.
func (d *dedupe) add(key string, now time.Time) bool {
	k := d.hash(key)
	ns := now.UnixNano()
	ttl := int64(d.ttl)
	d.mu.Lock()
	defer d.mu.Unlock()
	if t, ok := d.seen[k]; ok && ns-t < ttl {
		return false
	}
	// Forget the oldest keys beyond the bound or the time to live. An
	// entry whose key was added again later (or removed) leaves the map
	// alone; before, keys dropped for the bound stayed in the map for good.
	for len(d.order) > 0 {
		e := d.order[0]
		if len(d.order) < d.max && ns-e.t < ttl {
			break
		}
		d.order = d.order[1:]
		if t, ok := d.seen[e.k]; ok && t == e.t {
			delete(d.seen, e.k)
		}
	}
	d.seen[k] = ns
	d.order = append(d.order, seenAt{k, ns})
	return true
}

func (d *dedupe) remove(key string) {
	if key == "" {
		return
	}
	k := d.hash(key)
	d.mu.Lock()
	delete(d.seen, k)
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
