package sentryapi

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/sentryapi/sentrytest"
)

func sampleIssue() sentrytest.Issue {
	return sentrytest.Issue{ID: "4567", ShortID: "MALL-API-3K", Title: "TypeError: x", Level: "error", Status: "unresolved",
		Substatus: "escalating", Count: "128", UserCount: 17, FirstSeen: "2026-11-20T08:00:00.123000Z", LastSeen: "2026-11-25T06:21:51Z",
		Project:    sentrytest.IssueProject{ID: "2", Slug: "mall-api", Name: "mall-api"},
		AssignedTo: &sentrytest.Actor{Type: "user", ID: "7", Name: "Jane Doe", Email: "jane@example.com"}}
}

// TestIssueFacts reads an issue's facts as Sentry answers them (count a
// string, userCount a number) from the organization's API.
func TestIssueFacts(t *testing.T) {
	s := standIn(t, "")
	s.AddToken("facts", sentrytest.Token{Scopes: []string{"event:read"}})
	s.AddIssue("acme", sampleIssue())
	base, _ := url.Parse(s.URL)
	is, err := (&Client{}).Issue(t.Context(), base, "acme", "4567", "facts")
	if err != nil {
		t.Fatal(err)
	}
	if is.ShortID != "MALL-API-3K" || is.Count != 128 || is.UserCount != 17 || is.Substatus != "escalating" || is.Status != "unresolved" ||
		!is.FirstSeen.Equal(time.Date(2026, 11, 20, 8, 0, 0, 123000000, time.UTC)) || is.AssignedTo == nil || is.AssignedTo.Name != "Jane Doe" {
		t.Errorf("%+v", is)
	}
	if r := s.Requests(); r[0].Path != "/api/0/organizations/acme/issues/4567/" || r[0].Authorization != "Bearer facts" {
		t.Errorf("request %+v", r[0])
	}
	// A token without event:read, an unknown issue.
	_, err = (&Client{}).Issue(t.Context(), base, "acme", "4567", token) // project:read, org:read
	if e := code(t, err); e.Code != CodeForbidden || !strings.Contains(e.Error(), "event:read") || !strings.Contains(e.Fix, "Issue & Event: Read") {
		t.Errorf("no scope: %+v", e)
	}
	_, err = (&Client{}).Issue(t.Context(), base, "acme", "1", "facts")
	if e := code(t, err); e.Code != CodeNotFound {
		t.Errorf("unknown issue: %+v", e)
	}
}

// TestAPIBase: a sentry.io organization's API is asked at the region its
// details name, only an https sentry.io host; self-hosted at its own URL.
func TestAPIBase(t *testing.T) {
	for _, tc := range []struct{ sentry, region, want string }{
		{"https://sentry.io", "https://de.sentry.io", "https://de.sentry.io"},
		{"https://acme.sentry.io", "https://us.sentry.io", "https://us.sentry.io"},
		{"https://sentry.io", "", "https://sentry.io"},
		{"https://sentry.io", "http://us.sentry.io", "https://sentry.io"},
		{"https://sentry.io", "https://evil.example", "https://sentry.io"},
		{"https://sentry.io", "https://us.sentry.io.evil.example", "https://sentry.io"},
		{"https://sentry.io", "https://user@us.sentry.io", "https://sentry.io"},
		{"https://sentry.io", "https://us.sentry.io:8443", "https://sentry.io"},
		{"https://sentry.example.com/sentry", "https://us.sentry.io", "https://sentry.example.com/sentry"},
		{"http://127.0.0.1:9100", "http://127.0.0.1:9100", "http://127.0.0.1:9100"},
	} {
		base, err := BaseURL(tc.sentry)
		if err != nil {
			t.Fatal(err)
		}
		if got := APIBase(base, tc.region).String(); got != tc.want {
			t.Errorf("APIBase(%s, %s) = %s, want %s", tc.sentry, tc.region, got, tc.want)
		}
	}
}

// TestCheckToken: what a token may do, as Sentry answers it — its scopes,
// and the organization, projects and issues tried once each; a token
// Sentry refuses is an error.
func TestCheckToken(t *testing.T) {
	s := standIn(t, "")
	s.AddOrg("acme", sentrytest.Projects(2)...)
	s.AddIssue("acme", sampleIssue())
	s.AddToken("integration", sentrytest.Token{Scopes: []string{"org:read", "project:read", "event:write"}})
	s.AddToken("projects-only", sentrytest.Token{Scopes: []string{"project:read"}})
	c := &Client{}
	chk, err := c.CheckToken(t.Context(), s.URL, "acme", "integration")
	if err != nil {
		t.Fatal(err)
	}
	if !chk.Facts || !chk.Import || !chk.Act || chk.APIURL != s.URL || !slices.Equal(chk.Scopes, []string{"org:read", "project:read", "event:write"}) ||
		len(chk.Checks) != 3 || !chk.Checks[0].OK || !chk.Checks[1].OK || !chk.Checks[2].OK {
		t.Errorf("%+v", chk)
	}
	chk, err = c.CheckToken(t.Context(), s.URL, "acme", "projects-only")
	if err != nil {
		t.Fatal(err)
	}
	if chk.Facts || !chk.Import || chk.Act || chk.APIURL != "" || chk.Checks[0].OK || chk.Checks[2].OK ||
		chk.Checks[2].Error.Code != CodeForbidden || chk.Checks[2].Scope != "event:read" {
		t.Errorf("%+v", chk)
	}
	if _, err := c.CheckToken(t.Context(), s.URL, "acme", "wrong"); code(t, err).Code != CodeUnauthorized {
		t.Errorf("wrong token: %v", err)
	}
	if _, err := c.CheckToken(t.Context(), s.URL, "acme", ""); code(t, err).Code != CodeNoToken {
		t.Errorf("no token: %v", err)
	}
}
