package facts

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/sentry"
	"github.com/sentry-white/sentry-white/internal/sentryapi/sentrytest"
)

const tok = "sntrys_facts_token_0123456789abcdef"

func standIn(t *testing.T) (*sentrytest.Server, *config.Organization) {
	t.Helper()
	s := sentrytest.New()
	t.Cleanup(s.Close)
	s.AddToken(tok, sentrytest.Token{Scopes: []string{"event:read", "org:read"}})
	for _, id := range []string{"1", "2", "3", "4"} {
		regressed := "regressed"
		s.AddIssue("acme", sentrytest.Issue{ID: id, ShortID: "MALL-" + id, Title: "t", Status: "unresolved", Substatus: &regressed,
			Count: "42", UserCount: 7, FirstSeen: "2026-11-20T08:00:00Z", AssignedTo: &sentrytest.Assignee{Type: "team", ID: "3", Name: "backend"}})
	}
	return s, &config.Organization{ID: 1, Name: "acme", SentryURL: s.URL, Slug: "acme", APIToken: tok}
}

func alert(id string) *sentry.Event {
	return &sentry.Event{Resource: sentry.ResourceEventAlert, IssueID: id, Count: 0}
}

func issueRequests(s *sentrytest.Server) int {
	n := 0
	for _, r := range s.Requests() {
		if strings.Contains(r.Path, "/issues/") {
			n++
		}
	}
	return n
}

// TestAddsTheFacts: an alert gets its issue's counts, first seen, state,
// assignee and short id; a second alert of the issue within the TTL asks
// Sentry nothing; the token never reaches the record.
func TestAddsTheFacts(t *testing.T) {
	s, org := standIn(t)
	r := &Reader{Timeout: 10 * time.Second}
	ev := alert("1")
	if got := r.Add(t.Context(), org, ev); got != Added {
		t.Fatalf("Add = %q", got)
	}
	if ev.Count != 42 || ev.UserCount != 7 || ev.IssueState != "regressed" || ev.Assignee != "#backend" || ev.ShortID != "MALL-1" ||
		!ev.FirstSeen.Equal(time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("%+v", ev)
	}
	if got := r.Add(t.Context(), org, alert("1")); got != Added || issueRequests(s) != 1 {
		t.Errorf("cached: %q, %d requests", got, issueRequests(s))
	}
	// None asked for: no token, no issue, an alert carrying its issue's facts.
	for _, tc := range []struct {
		org *config.Organization
		ev  *sentry.Event
	}{
		{&config.Organization{SentryURL: s.URL, Slug: "acme"}, alert("2")},
		{org, alert("")},
		{org, &sentry.Event{Resource: sentry.ResourceActivityAlert, IssueID: "2"}},
		{org, &sentry.Event{Resource: sentry.ResourceIssue, IssueID: "2"}},
		{nil, alert("2")},
	} {
		if got := r.Add(t.Context(), tc.org, tc.ev); got != "" {
			t.Errorf("%+v: %q", tc.ev, got)
		}
	}
	if got := r.Add(t.Context(), org, alert("404")); !strings.HasPrefix(got, "skipped: ") || strings.Contains(got, tok) {
		t.Errorf("unknown issue: %q", got)
	}
}

// TestSlowSentryIsSkippedInTime: an issue API that does not answer costs
// an alert its Timeout and no more; the alerts of a burst wait for one
// request; beyond PerOrg requests under way an alert does not wait at all.
func TestSlowSentryIsSkippedInTime(t *testing.T) {
	s, org := standIn(t)
	s.FailPath("/issues/", sentrytest.Fault{Hang: true})
	r := &Reader{Timeout: 20 * time.Millisecond, PerOrg: 2}
	var wg sync.WaitGroup
	outs := make([]string, 5)
	for i := range outs {
		wg.Go(func() { outs[i] = r.Add(context.Background(), org, alert("1")) }) // one issue: one request
	}
	wg.Wait()
	for _, got := range outs {
		if got != "skipped: Sentry did not answer within 20ms" {
			t.Errorf("Add = %q", got)
		}
	}
	if got := r.Add(t.Context(), org, alert("2")); got != "skipped: Sentry did not answer within 20ms" {
		t.Errorf("second issue: %q", got)
	}
	if got := r.Add(t.Context(), org, alert("3")); got != "skipped: 2 requests to Sentry for this organization are already under way" {
		t.Errorf("over the cap: %q", got)
	}
	if n := issueRequests(s); n != 2 {
		t.Errorf("%d requests to the issue API, want 2 (one per issue, at most PerOrg)", n)
	}
}

// TestRefusedTokenIsNotAskedAgain: after a 401 the organization's Sentry
// is left alone for a while, and the reason says why.
func TestRefusedTokenIsNotAskedAgain(t *testing.T) {
	s, org := standIn(t)
	org.APIToken = "revoked"
	r := &Reader{Timeout: 10 * time.Second}
	if got := r.Add(t.Context(), org, alert("1")); !strings.Contains(got, "refused the token (401") {
		t.Errorf("first: %q", got)
	}
	if got := r.Add(t.Context(), org, alert("2")); !strings.Contains(got, "refused the token") || !strings.Contains(got, "not asked again before") {
		t.Errorf("second: %q", got)
	}
	if n := issueRequests(s); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}
