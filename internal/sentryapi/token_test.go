package sentryapi

import (
	"slices"
	"testing"

	"github.com/sentry-white/sentry-white/internal/sentryapi/sentrytest"
)

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
	s.AddIssue("acme", sentrytest.Issue{ID: "4567", Title: "TypeError: x", Project: sentrytest.IssueProject{ID: "2", Slug: "mall-api"}})
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
