// Package facts adds Sentry's facts about an alert's issue to the alert —
// its event and user counts, first seen, state (new, regressed,
// escalating, ongoing), assignee and short id — read from Sentry's API
// with the organization's token (contract §7 organizations[].api_token),
// within the relay's answer budget.
//
// Sentry waits 1 s for an integration's answer and the relay answers by
// about 800 ms, so a look-up gets Timeout (300 ms) and the message goes
// out without the facts when Sentry is slower; the delivery record says
// why. A burst of alerts does not hammer Sentry: an issue's facts are kept
// TTL (60 s) and asked once however many alerts wait for them, at most
// PerOrg (4) requests to an organization are under way at once (an alert
// beyond that goes without), a look-up that missed its 300 ms still
// finishes (up to 3 s) so the next alert of the burst has the facts, and a
// token Sentry refused (401, 403) is not tried again for 5 minutes, a rate
// limit (429) for a minute. A sentry.io organization's API is asked at its
// region (us.sentry.io, de.sentry.io), read once an hour from the
// organization's details; sentry.io answers for its regions meanwhile.
package facts

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/sentry"
	"github.com/sentry-white/sentry-white/internal/sentryapi"
)

// Defaults of a Reader.
const (
	DefaultTimeout = 300 * time.Millisecond
	DefaultTTL     = 60 * time.Second
	DefaultPerOrg  = 4
	// fetchTimeout bounds a look-up that outlives the alert that started it.
	fetchTimeout = 3 * time.Second
	// maxEntries bounds the cache: a storm of distinct issues keeps at most
	// this many.
	maxEntries = 2000
	regionTTL  = time.Hour
	regionMiss = 5 * time.Minute
	holdAuth   = 5 * time.Minute
	holdLimit  = time.Minute
)

// Added is the outcome of a look-up whose facts were added.
const Added = "added"

// Reader reads issues' facts from Sentry. The zero value is ready to use;
// it is safe for concurrent use.
type Reader struct {
	// Client asks Sentry; nil means a client of its own.
	Client *sentryapi.Client
	// Timeout is how long an alert waits for the facts; 0 means
	// DefaultTimeout.
	Timeout time.Duration
	// TTL is how long an issue's facts are kept; 0 means DefaultTTL.
	TTL time.Duration
	// PerOrg bounds the requests under way to one organization; 0 means
	// DefaultPerOrg.
	PerOrg int
	Now    func() time.Time

	once    sync.Once
	mu      sync.Mutex
	cache   map[string]cached
	flights map[string]*flight
	busy    map[string]int // requests under way, by organization
	regions map[string]region
	holds   map[string]hold
}

type cached struct {
	is    *sentryapi.Issue
	until time.Time
}

type flight struct {
	done chan struct{}
	is   *sentryapi.Issue
	err  error
}

type region struct {
	base    *url.URL // nil while it is being read, or when it could not be
	until   time.Time
	pending bool
}

type hold struct {
	until time.Time
	why   string
}

func (r *Reader) init() {
	r.once.Do(func() {
		if r.Client == nil {
			r.Client = &sentryapi.Client{Timeout: fetchTimeout}
		}
		r.cache, r.flights, r.busy = map[string]cached{}, map[string]*flight{}, map[string]int{}
		r.regions, r.holds = map[string]region{}, map[string]hold{}
	})
}

func (r *Reader) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// wants reports whether an alert of resource is one whose body lacks the
// facts: the issue webhooks and activity alerts carry the issue's own.
func wants(resource string) bool {
	switch resource {
	case sentry.ResourceLegacy, sentry.ResourceEventAlert, sentry.ResourceError:
		return true
	}
	return false
}

// Add reads the facts of ev's issue with org's token and writes them into
// ev. It returns Added, or why the facts were not added ("skipped: …"),
// or "" when none were asked for (no token, no issue, an alert that
// carries its issue's facts).
func (r *Reader) Add(ctx context.Context, org *config.Organization, ev *sentry.Event) string {
	if org == nil || org.APIToken == "" || strings.TrimSpace(ev.IssueID) == "" || !wants(ev.Resource) {
		return ""
	}
	r.init()
	slug := cmp.Or(strings.TrimSpace(org.Slug), strings.TrimSpace(ev.OrgSlug))
	if slug == "" {
		return "skipped: the organization has no Sentry slug"
	}
	base, err := sentryapi.BaseURL(org.SentryURL)
	if err != nil {
		return "skipped: " + reason(err)
	}
	orgKey := base.String() + "|" + strings.ToLower(slug)
	key := orgKey + "|" + strings.TrimSpace(ev.IssueID)
	now := r.now()
	r.mu.Lock()
	if c, ok := r.cache[key]; ok && now.Before(c.until) {
		r.mu.Unlock()
		apply(ev, c.is)
		return Added
	}
	if h, ok := r.holds[orgKey]; ok && now.Before(h.until) {
		r.mu.Unlock()
		return fmt.Sprintf("skipped: %s (Sentry is not asked again before %s)", h.why, h.until.UTC().Format(time.RFC3339))
	}
	f := r.flights[key]
	if f == nil {
		limit := cmp.Or(r.PerOrg, DefaultPerOrg)
		if r.busy[orgKey] >= limit {
			r.mu.Unlock()
			return fmt.Sprintf("skipped: %d requests to Sentry for this organization are already under way", limit)
		}
		f = &flight{done: make(chan struct{})}
		r.flights[key] = f
		r.busy[orgKey]++
		api := r.apiBase(orgKey, base, slug, org.APIToken.Reveal())
		go r.fetch(orgKey, key, api, slug, strings.TrimSpace(ev.IssueID), org.APIToken.Reveal(), f)
	}
	r.mu.Unlock()
	timeout := cmp.Or(r.Timeout, DefaultTimeout)
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-f.done:
		if f.err != nil {
			return "skipped: " + reason(f.err)
		}
		apply(ev, f.is)
		return Added
	case <-t.C:
		return fmt.Sprintf("skipped: Sentry did not answer within %s", timeout)
	case <-ctx.Done():
		return "skipped: " + ctx.Err().Error()
	}
}

// fetch reads one issue (within fetchTimeout, whether or not the alert
// that started it still waits) and keeps what Sentry said.
func (r *Reader) fetch(orgKey, key string, api *url.URL, slug, id, token string, f *flight) {
	ctx, cancel := context.WithTimeout(context.Background(), fetchTimeout)
	defer cancel()
	is, err := r.Client.Issue(ctx, api.String(), slug, token, id)
	now := r.now()
	r.mu.Lock()
	delete(r.flights, key)
	r.busy[orgKey]--
	if r.busy[orgKey] <= 0 {
		delete(r.busy, orgKey)
	}
	if err == nil {
		r.prune(now)
		r.cache[key] = cached{is: is, until: now.Add(cmp.Or(r.TTL, DefaultTTL))}
	} else if e, ok := errors.AsType[*sentryapi.Error](err); ok {
		switch e.Code {
		case sentryapi.CodeUnauthorized, sentryapi.CodeForbidden:
			r.holds[orgKey] = hold{until: now.Add(holdAuth), why: reason(err)}
		case sentryapi.CodeRateLimited:
			r.holds[orgKey] = hold{until: now.Add(holdLimit), why: reason(err)}
		}
	}
	r.mu.Unlock()
	f.is, f.err = is, err
	close(f.done)
}

// apiBase is where the organization's API is asked: its region once known
// (a sentry.io organization), else its Sentry URL; a sentry.io
// organization's region is read meanwhile. Called with r.mu held.
func (r *Reader) apiBase(orgKey string, base *url.URL, slug, token string) *url.URL {
	if !sentryapi.IsSentryIO(base.Hostname()) {
		return base
	}
	now := r.now()
	if g, ok := r.regions[orgKey]; ok && (g.pending || now.Before(g.until)) {
		if g.base != nil {
			return g.base
		}
		return base
	}
	r.regions[orgKey] = region{pending: true}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), fetchTimeout)
		defer cancel()
		g := region{until: r.now().Add(regionMiss)}
		if o, err := r.Client.Organization(ctx, base.String(), slug, token); err == nil {
			g = region{base: sentryapi.APIBase(base, o.Links.RegionURL), until: r.now().Add(regionTTL)}
		}
		r.mu.Lock()
		r.regions[orgKey] = g
		r.mu.Unlock()
	}()
	return base
}

// prune drops expired facts, and more when the cache is full. Called with
// r.mu held.
func (r *Reader) prune(now time.Time) {
	if len(r.cache) < maxEntries {
		return
	}
	for k, c := range r.cache {
		if !now.Before(c.until) {
			delete(r.cache, k)
		}
	}
	for k := range r.cache {
		if len(r.cache) < maxEntries {
			break
		}
		delete(r.cache, k)
	}
}

// apply writes what Sentry said of the issue into ev.
func apply(ev *sentry.Event, is *sentryapi.Issue) {
	if n, err := strconv.ParseInt(strings.TrimSpace(is.Count), 10, 64); err == nil && n > 0 {
		ev.Count = n // a string in Sentry's answer
	}
	if is.UserCount > 0 {
		ev.UserCount = is.UserCount
	}
	if t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(is.FirstSeen)); err == nil {
		ev.FirstSeen = t.UTC()
	}
	if st := sentry.IssueState(is.Status, is.Substatus); st != "" {
		ev.IssueState = st
	}
	if a := is.AssignedTo; a != nil {
		ev.Assignee = cmp.Or(strings.TrimSpace(a.Name), strings.TrimSpace(a.Email))
		if a.Type == "team" && ev.Assignee != "" && !strings.HasPrefix(ev.Assignee, "#") {
			ev.Assignee = "#" + ev.Assignee
		}
	}
	if is.ShortID != "" {
		ev.ShortID = is.ShortID
	}
}

// reason is an error in words, without a token.
func reason(err error) string {
	if e, ok := errors.AsType[*sentryapi.Error](err); ok {
		return e.Msg
	}
	return err.Error()
}
