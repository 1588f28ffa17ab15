package sentryapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/sentryapi/sentrytest"
)

// actingStandIn has one issue and two members in acme; token may read and
// change issues and list members.
func actingStandIn(t *testing.T) *sentrytest.Server {
	t.Helper()
	s := sentrytest.New()
	t.Cleanup(s.Close)
	s.AddExample("acme", token, "TypeError: price")
	s.AddToken("readonly", sentrytest.Token{Scopes: []string{"event:read"}})
	s.AddMember("acme", sentrytest.Member{Email: "invited@example.com", Pending: true})
	return s
}

func TestIssueReadAndUpdate(t *testing.T) {
	s := actingStandIn(t)
	c := &Client{}
	is, err := c.Issue(t.Context(), s.URL, "acme", token, "4567890123")
	if err != nil || is.Title != "TypeError: price" || is.Status != "unresolved" || is.Project.Slug != "mall-api" || is.AssignedTo != nil {
		t.Fatalf("Issue = %+v, %v", is, err)
	}
	is, err = c.UpdateIssue(t.Context(), s.URL, "acme", token, "4567890123", IssueUpdate{Status: "ignored", StatusDetails: &StatusDetails{IgnoreDuration: 60}})
	if err != nil || is.Status != "ignored" || is.Substatus != "archived_until_condition_met" || is.StatusDetails.IgnoreUntil == "" {
		t.Fatalf("ignore = %+v, %v", is, err)
	}
	until, err := time.Parse(time.RFC3339, is.StatusDetails.IgnoreUntil)
	if err != nil || time.Until(until) < 59*time.Minute || time.Until(until) > 61*time.Minute {
		t.Errorf("ignored until %s (%v)", is.StatusDetails.IgnoreUntil, err)
	}
	for _, who := range []string{"zhangsan@example.com", "ZhangSan", "42", "user:42"} {
		is, err = c.UpdateIssue(t.Context(), s.URL, "acme", token, "4567890123", IssueUpdate{AssignedTo: who})
		if err != nil || is.AssignedTo == nil || is.AssignedTo.ID != "42" || is.Status != "ignored" {
			t.Fatalf("assign %s = %+v, %v", who, is, err)
		}
	}
	if is, err = c.UpdateIssue(t.Context(), s.URL, "acme", token, "4567890123", IssueUpdate{Status: "resolved"}); err != nil || is.Status != "resolved" {
		t.Fatalf("resolve = %+v, %v", is, err)
	}
	w := s.Writes()
	if len(w) != 6 || w[0].Body["status"] != "ignored" || w[0].Body["statusDetails"].(map[string]any)["ignoreDuration"] != 60.0 ||
		w[1].Body["assignedTo"] != "zhangsan@example.com" || len(w[5].Body) != 1 || w[5].Body["status"] != "resolved" {
		t.Errorf("writes %+v", w)
	}
	for _, r := range s.Requests() {
		if r.Path != "/api/0/organizations/acme/issues/4567890123/" || r.Authorization != "Bearer "+token {
			t.Errorf("request %+v", r)
		}
	}
}

func TestMembers(t *testing.T) {
	s := actingStandIn(t)
	s.PerPage = 1
	ms, err := (&Client{}).Members(t.Context(), s.URL, "acme", token)
	if err != nil || len(ms) != 2 || ms[0].Email != "invited@example.com" || !ms[0].Pending || ms[1].User == nil || ms[1].User.ID != "42" {
		t.Fatalf("Members = %+v, %v", ms, err)
	}
	if n := len(s.Requests()); n != 2 {
		t.Errorf("%d requests for two pages", n)
	}
	for who, want := range map[string]bool{"42": true, "user:42": true, "ZHANGSAN@example.com": true, "zhangsan": true, "43": false, "": false, "lisi": false} {
		if ms[1].Matches(who) != want {
			t.Errorf("Matches(%q) = %v", who, !want)
		}
	}
	if ms[0].Matches("invited@example.com") {
		t.Error("an invitation not yet accepted matches: it cannot be assigned")
	}
}

// TestActingErrorsAreExplained: each refusal says what happened and what to
// do, naming the permission to add; the token never shows.
func TestActingErrorsAreExplained(t *testing.T) {
	s := actingStandIn(t)
	c := &Client{Timeout: 300 * time.Millisecond}
	ctx := t.Context()
	resolve := IssueUpdate{Status: "resolved"}

	e := code(t, second(c.UpdateIssue(ctx, s.URL, "acme", "readonly", "4567890123", resolve)))
	if e.Code != CodeForbidden || !strings.Contains(e.Fix, "Issue & Event: Read & Write") || !strings.Contains(e.Fix, "event:write") {
		t.Errorf("no event:write: %+v", e)
	}
	e = code(t, second(c.Members(ctx, s.URL, "acme", "readonly")))
	if e.Code != CodeForbidden || !strings.Contains(e.Fix, "Member: Read") {
		t.Errorf("no member:read: %+v", e)
	}
	e = code(t, second(c.Issue(ctx, s.URL, "acme", token, "999")))
	if e.Code != CodeNotFound || !strings.Contains(e.Msg, "no issue 999") || !strings.Contains(e.Fix, "deleted or merged") {
		t.Errorf("unknown issue: %+v", e)
	}
	e = code(t, second(c.Issue(ctx, s.URL, "acme", "wrong-token", "4567890123")))
	if e.Code != CodeUnauthorized || !strings.Contains(e.Fix, "api_token") {
		t.Errorf("wrong token: %+v", e)
	}
	e = code(t, second(c.UpdateIssue(ctx, s.URL, "acme", token, "4567890123", IssueUpdate{AssignedTo: "lisi@example.com"})))
	if e.Code != CodeBadRequest || !strings.Contains(e.Detail, "assignedTo") || !strings.Contains(e.Fix, "member of the organization") {
		t.Errorf("not a member: %+v", e)
	}
	e = code(t, second(c.UpdateIssue(ctx, s.URL, "acme", token, "4567890123", IssueUpdate{AssignedTo: "user:43"})))
	if e.Code != CodeBadRequest || !strings.Contains(e.Detail, "not a member") {
		t.Errorf("not a member by id: %+v", e)
	}
	e = code(t, second(c.UpdateIssue(ctx, s.URL, "acme", "", "4567890123", resolve)))
	if e.Code != CodeNoToken || !strings.Contains(e.Fix, "event:write") {
		t.Errorf("no token: %+v", e)
	}
	s.FailMethod(http.MethodPut, sentrytest.Fault{Status: http.StatusTooManyRequests, Body: `{"detail":"You are attempting to use this endpoint too frequently. Limit is 5 requests in 1 seconds"}`})
	e = code(t, second(c.UpdateIssue(ctx, s.URL, "acme", token, "4567890123", resolve)))
	if e.Code != CodeRateLimited || !strings.Contains(e.Fix, "nothing was changed") {
		t.Errorf("429: %+v", e)
	}
	s.FailMethod(http.MethodPut, sentrytest.Fault{Hang: true})
	e = code(t, second(c.UpdateIssue(ctx, s.URL, "acme", token, "4567890123", resolve)))
	if e.Code != CodeTimeout || !strings.Contains(e.Fix, "may or may not") {
		t.Errorf("timeout: %+v", e)
	}
	s.FailMethod(http.MethodPut, sentrytest.Fault{})
	if len(s.Writes()) != 0 {
		t.Errorf("a refused request changed the issue: %+v", s.Writes())
	}
	if is, _ := s.IssueOf("acme", "4567890123"); is.Status != "unresolved" || is.AssignedTo != nil {
		t.Errorf("the issue changed: %+v", is)
	}

	// A narrowed token cannot reach the issue's project: 403, explained.
	s.NarrowToken(token, sentrytest.TokenMore{Projects: []string{"other"}})
	e = code(t, second(c.Issue(ctx, s.URL, "acme", token, "4567890123")))
	if e.Code != CodeForbidden || !strings.Contains(e.Fix, "Issue & Event: Read") {
		t.Errorf("no access to the project: %+v", e)
	}
}

// TestUpdateRedirectKeepsTheToken: a PUT redirected to another origin is
// not followed with the token (the same rule as the projects list).
func TestUpdateRedirectKeepsTheToken(t *testing.T) {
	other := actingStandIn(t)
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(redirector.Close)
	e := code(t, second((&Client{}).UpdateIssue(t.Context(), redirector.URL, "acme", token, "4567890123", IssueUpdate{Status: "resolved"})))
	if e.Code != CodeRedirect {
		t.Errorf("a redirect: %+v", e)
	}
	for _, r := range other.Requests() {
		t.Errorf("the token followed a redirect to %+v", r)
	}
}

func second[T any](_ T, err error) error { return err }
