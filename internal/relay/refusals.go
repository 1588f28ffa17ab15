package relay

import (
	"context"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/sentry-white/sentry-white/internal/deliveries"
	"github.com/sentry-white/sentry-white/internal/dispatch"
	"github.com/sentry-white/sentry-white/internal/sentry"
)

// Refused webhooks go to the delivery history too, so that the
// configurator's 投递记录 shows them: a wrong token, an unknown project, a
// bad signature, a body that could not be read. A flood must not fill the
// store: at most RefusalsPerMinute records a minute, and one per cause
// (and project, organization and host) a minute.

// RefusalsPerMinute bounds the refusals recorded in a minute.
const RefusalsPerMinute = 20

// refusalLimit admits refusal records, and the reads of refused bodies.
type refusalLimit struct {
	mu     sync.Mutex
	minute time.Time
	n      int // records this minute
	reads  int // bodies read this minute for a refused token
	seen   map[string]bool
}

func (l *refusalLimit) roll(now time.Time) {
	if m := now.Truncate(time.Minute); !m.Equal(l.minute) {
		l.minute, l.n, l.reads, l.seen = m, 0, 0, map[string]bool{}
	}
}

// room reports whether another record fits into the minute of now.
func (l *refusalLimit) room(now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.roll(now)
	return l.n < RefusalsPerMinute
}

// read takes one of the minute's reads of a body whose token was refused:
// a flood of them costs at most RefusalsPerMinute reads a minute.
func (l *refusalLimit) read(now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.roll(now)
	if l.reads >= RefusalsPerMinute {
		return false
	}
	l.reads++
	return true
}

// admit takes a record of key, unless one was taken this minute or the
// minute is full.
func (l *refusalLimit) admit(now time.Time, key string) bool {
	if !l.room(now) {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen[key] || l.n >= RefusalsPerMinute {
		return false
	}
	l.seen[key] = true
	l.n++
	return true
}

// refusalFixes say what to do, by cause.
var refusalFixes = map[string]string{
	"token_missing":   "the webhook URL in Sentry has no ?token=: copy the whole URL from the configurator's Webhook page",
	"token_wrong":     "the webhook URL in Sentry has an old or wrong token: copy it again from the configurator's Webhook page",
	"unknown_project": "add a project with this Sentry slug in the configurator (项目), or correct the slug of the project meant",
	"signature":       "the signature does not match the organization's Client Secret: copy the internal integration's Client Secret into the organization again",
	"content_type":    "only Sentry should post to this URL; it sends JSON",
	"too_large":       "only Sentry should post to this URL; its webhooks are far smaller",
	"body":            "the body was cut off on its way; Sentry sends it again",
	"parse":           "this is not a Sentry webhook: only Sentry should post to this URL",
	"store":           "the relay cannot read its configuration: open the relay's URL (GET /) for the cause",
	"refused":         "see the answer",
}

// RefusalCauses are the causes a refused webhook is recorded with, sorted
// (the configurator's page words each: "refusal.<cause>" and
// "refusal.fix.<cause>").
func RefusalCauses() []string {
	return slices.Sorted(maps.Keys(refusalFixes))
}

// refusalCause names why the webhook was refused, from its answer: status
// and msg, and ev, the parsed body if it was parsed.
func refusalCause(r *http.Request, status int, msg string, ev *sentry.Event) string {
	switch {
	case status == http.StatusServiceUnavailable:
		return "store"
	case status == http.StatusUnauthorized && ev == nil:
		if r.URL.Query().Get("token") == "" {
			return "token_missing"
		}
		return "token_wrong"
	case status == http.StatusUnauthorized:
		return "signature"
	case status == http.StatusNotFound:
		return "unknown_project"
	case status == http.StatusUnsupportedMediaType:
		return "content_type"
	case status == http.StatusRequestEntityTooLarge:
		return "too_large"
	case status == http.StatusBadRequest && ev == nil && strings.HasPrefix(msg, "the body could not be read"):
		return "body"
	case status == http.StatusBadRequest && ev == nil:
		return "parse"
	}
	return "refused"
}

// refused adds a refused webhook to the history (when there is one and the
// limits allow): what Sentry sent and why it was refused. ev is the parsed
// body, if the request got that far. A body not yet read (the token was
// refused) is read now, to say which project's webhook carries the old
// URL.
func (h *Handler) refused(ctx context.Context, r *http.Request, rid string, status int, msg string, ev *sentry.Event) {
	if h.o.History == nil {
		return
	}
	now := h.o.Now()
	if !h.refusals.room(now) {
		return
	}
	cause := refusalCause(r, status, msg, ev)
	if ev == nil && (cause == "token_missing" || cause == "token_wrong") && r.ContentLength <= MaxBody && h.refusals.read(now) {
		if b, err := readBody(r.Body, r.ContentLength); err == nil && len(b) <= MaxBody {
			if parsed, err := sentry.Parse(b, r.Header); err == nil {
				ev = parsed
			}
		}
	}
	rec := deliveries.Record{ID: dispatch.NewID(), Time: now, RequestID: rid, Result: deliveries.Refused,
		Cause: cause, Status: status, Error: clip(msg, 500), Fix: refusalFixes[cause],
		Resource: clip(r.Header.Get("Sentry-Hook-Resource"), 40)}
	if ev != nil {
		rec.Project = clip(strings.Join(ev.ProjectSlugs, ","), 200)
		rec.ProjectName = clip(ev.ProjectName, 100)
		rec.Resource, rec.Org = clip(ev.Resource, 40), clip(ev.OrgSlug, 100)
		rec.Title, rec.Level = clip(ev.Title, 200), clip(ev.Level, 20)
		if u, err := url.Parse(ev.URL); err == nil && (u.Scheme == "https" || u.Scheme == "http") {
			rec.Host, rec.Link = clip(u.Host, 100), clip(ev.URL, 500)
		}
	}
	if !h.refusals.admit(now, strings.Join([]string{cause, rec.Project, rec.Org, rec.Host}, "|")) {
		return
	}
	h.o.History.Add(rec)
	if h.o.FC { // the instance may be frozen once the answer is sent
		if err := h.o.History.Flush(ctx); err != nil {
			h.log.Warn("delivery history not written", "request_id", rid, "error", describeStoreError(err))
		}
	}
}

// clip cuts s to at most n bytes, on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
