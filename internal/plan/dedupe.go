package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"hash/maphash"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/sentry"
)

// dedupeKey identifies a webhook so a second copy is sent once. An event's
// alert is keyed on what it is about — resource, action, the projects it
// was routed to, event id and the rules that fired —, whatever Request-ID
// it carries. Anything else is keyed on its exact body when a signature
// chose it (a signed body replayed with new ids is still a copy), else on
// its Request-ID with the body (Sentry's retry of one delivery); an
// unsigned body with neither has no key ("") and is always sent: anyone
// with the token could send it anyway, and a second copy of the same
// content is what a person testing the relay expects to see arrive. The
// configuration's version is part of the key: after an edit the same
// webhook routes differently, so it is not a copy of what was sent before.
func dedupeKey(ev *sentry.Event, body []byte, projects []*config.Project, version string, signed bool) string {
	if ev.EventID == "" && !signed && ev.RequestID == "" {
		return ""
	}
	var b strings.Builder
	b.WriteString(version)
	b.WriteString(":" + ev.Resource + ":" + ev.Action + ":")
	for _, p := range projects {
		b.WriteString(strconv.FormatInt(p.ID, 10) + ",")
	}
	if ev.EventID != "" {
		b.WriteString(":ev:" + ev.EventID + ":" + strings.Join(ev.Rules, "\x00"))
		return b.String()
	}
	if !signed {
		b.WriteString(":rid:" + ev.RequestID)
	}
	sum := sha256.Sum256(body)
	b.WriteString(":body:" + hex.EncodeToString(sum[:16]))
	return b.String()
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
// counted, and the next message after the window carries the count. The
// window starts when a message was delivered (done): while the first is
// still being sent, repeats are counted; when it fails, the next one goes
// out. Keys are 128-bit hashes (a title may be megabytes), and states
// expire, so memory stays bounded whatever Sentry sends.
type repeats struct {
	mu    sync.Mutex
	seeds [2]maphash.Seed
	last  map[keyHash]*repeatState
}

type repeatState struct {
	sent    time.Time // when a message for the issue was delivered; zero before
	seen    time.Time // the last alert of the issue
	pending bool      // a message is being sent
	since   time.Time // when it was made
	window  time.Duration
	count   int // repeats collapsed since the last message
}

// maxPending is how long an alert being delivered holds its repeats back
// at most (a send ends within its timeout; a queued one reports later).
const maxPending = 15 * time.Minute

// maxRepeatStates bounds the issues remembered; past it, states whose
// window has passed are dropped, then the oldest.
const maxRepeatStates = 10000

func newRepeats() *repeats {
	return &repeats{seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}, last: map[keyHash]*repeatState{}}
}

// key returns the state key of ev's issue in project p, as the text jobs
// carry.
func (r *repeats) key(p *config.Project, ev *sentry.Event) (keyHash, string) {
	issue := ev.IssueID
	if issue == "" {
		issue = ev.Title
	}
	k := strings.ToLower(p.Slug) + "\x00" + strconv.FormatInt(p.ID, 10) + "\x00" + issue
	h := keyHash{maphash.String(r.seeds[0], k), maphash.String(r.seeds[1], k)}
	return h, strconv.FormatUint(h[0], 36) + "." + strconv.FormatUint(h[1], 36)
}

// check reports whether ev repeats an issue p alerted within its window
// (and counts it), or else how many repeats were collapsed since the last
// message, and the key to report the new message's outcome under (done).
func (r *repeats) check(p *config.Project, ev *sentry.Event, now time.Time) (repeat bool, n int, key string) {
	if p.RepeatWindowSeconds <= 0 || ev.FollowUp() {
		return false, 0, ""
	}
	h, key := r.key(p, ev)
	window := time.Duration(p.RepeatWindowSeconds) * time.Second
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.last[h]
	// A message whose outcome never came (its process restarted) stops
	// holding the issue back after maxPending.
	pending := st != nil && st.pending && now.Sub(st.since) < maxPending
	if pending || st != nil && !st.sent.IsZero() && now.Sub(st.sent) < window {
		st.count++
		st.seen = now
		return true, 0, ""
	}
	if st != nil {
		n = st.count
	}
	if len(r.last) >= maxRepeatStates {
		r.expire(now)
	}
	r.last[h] = &repeatState{pending: true, since: now, seen: now, window: window}
	return false, n, key
}

// done reports the outcome of the message sent under key: delivered
// starts the window; a failure before any delivery lets the next alert
// through, with the count of those collapsed meanwhile.
func (r *repeats) done(key string, delivered bool, at time.Time) {
	if key == "" {
		return
	}
	var h keyHash
	a, b, ok := strings.Cut(key, ".")
	x, err1 := strconv.ParseUint(a, 36, 64)
	y, err2 := strconv.ParseUint(b, 36, 64)
	if !ok || err1 != nil || err2 != nil {
		return
	}
	h = keyHash{x, y}
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.last[h]
	if st == nil {
		return // from before a restart, or expired
	}
	switch {
	case delivered:
		st.pending, st.sent = false, at
	case st.sent.IsZero():
		st.pending = false
	}
}

// expire drops states whose window has passed, and the least recently
// seen beyond the bound. Call with r.mu held.
func (r *repeats) expire(now time.Time) {
	for k, st := range r.last {
		if !st.pending && now.Sub(st.seen) > st.window || now.Sub(st.seen) > 24*time.Hour {
			delete(r.last, k)
		}
	}
	for len(r.last) >= maxRepeatStates {
		var oldest keyHash
		var at time.Time
		for k, st := range r.last {
			if at.IsZero() || st.seen.Before(at) {
				oldest, at = k, st.seen
			}
		}
		delete(r.last, oldest)
	}
}
