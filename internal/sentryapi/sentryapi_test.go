package sentryapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/sentryapi/sentrytest"
)

const token = "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"

func standIn(t *testing.T, prefix string) *sentrytest.Server {
	t.Helper()
	s := sentrytest.NewAt(prefix)
	t.Cleanup(s.Close)
	s.AddToken(token, sentrytest.Token{Scopes: []string{"project:read", "org:read"}})
	return s
}

func code(t *testing.T, err error) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T), want *Error", err, err)
	}
	if strings.Contains(e.Error(), token) || strings.Contains(e.Error(), token[10:30]) {
		t.Errorf("the error shows the token: %s", e)
	}
	if e.Msg == "" || e.Fix == "" {
		t.Errorf("an error without words: %+v", e)
	}
	return e
}

func TestProjectsFollowsThePages(t *testing.T) {
	s := standIn(t, "")
	s.AddOrg("acme", sentrytest.Projects(250)...)
	s.AddOrg("other", sentrytest.Project{Slug: "not-mine", Name: "Not mine"})
	ps, err := (&Client{}).Projects(t.Context(), s.URL, "acme", token)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 250 || ps[0].Slug != "app-001" || ps[0].Name != "App 001" || ps[249].Slug != "app-250" || ps[0].Status != "active" || ps[0].Platform != "python" {
		t.Fatalf("got %d projects, first %+v", len(ps), ps[0])
	}
	reqs := s.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3 pages: %+v", len(reqs), reqs)
	}
	for i, want := range []string{"", "cursor=0%3A100%3A0", "cursor=0%3A200%3A0"} {
		r := reqs[i]
		if r.Path != "/api/0/organizations/acme/projects/" || r.RawQuery != want || r.Authorization != "Bearer "+token {
			t.Errorf("request %d: %+v, want query %q", i, r, want)
		}
	}

	// One page exactly: the link says results="false" for the next one.
	s2 := standIn(t, "")
	s2.AddOrg("acme", sentrytest.Projects(100)...)
	if ps, err := (&Client{}).Projects(t.Context(), s2.URL+"/", "acme", "Bearer "+token); err != nil || len(ps) != 100 || len(s2.Requests()) != 1 {
		t.Fatalf("100 projects: %d, %v, %d requests", len(ps), err, len(s2.Requests()))
	}
	// An organization without projects.
	s2.AddOrg("empty")
	if ps, err := (&Client{}).Projects(t.Context(), s2.URL, "empty", token); err != nil || len(ps) != 0 {
		t.Fatalf("empty: %v %v", ps, err)
	}
}

func TestSelfHostedUnderAPathAndLinksNamingAnotherHost(t *testing.T) {
	s := standIn(t, "/sentry")
	s.PerPage = 2
	s.AddOrg("acme", sentrytest.Projects(5)...)
	// Behind a proxy, Sentry names its own internal address in the links.
	s.LinkBase("http://sentry-web.internal:9000")
	ps, err := (&Client{}).Projects(t.Context(), s.URL, "acme", token)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 5 {
		t.Fatalf("%d projects, want 5", len(ps))
	}
	for _, r := range s.Requests() {
		if r.Path != "/sentry/api/0/organizations/acme/projects/" {
			t.Errorf("request to %s", r.Path)
		}
	}
	if n := len(s.Requests()); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
}

func TestRegionHost(t *testing.T) {
	s := standIn(t, "")
	s.AddOrg("acme", sentrytest.Projects(3)...)
	target := strings.TrimPrefix(s.URL, "http://")
	// us.sentry.io resolves to the stand-in.
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		if addr != "us.sentry.io:80" {
			return nil, fmt.Errorf("dial %s: not the region host", addr)
		}
		return (&net.Dialer{}).DialContext(ctx, network, target)
	}}
	c := &Client{HTTP: &http.Client{Transport: tr}}
	ps, err := c.Projects(t.Context(), "http://us.sentry.io", "acme", token)
	if err != nil || len(ps) != 3 {
		t.Fatalf("%v %v", ps, err)
	}
	if r := s.Requests()[0]; r.Host != "us.sentry.io" || r.Path != "/api/0/organizations/acme/projects/" {
		t.Errorf("request %+v", r)
	}
}

func TestErrorsAreExplained(t *testing.T) {
	s := standIn(t, "")
	s.AddOrg("acme", sentrytest.Projects(3)...)
	s.AddOrg("beta", sentrytest.Projects(1)...)
	s.AddToken("no-scope", sentrytest.Token{Scopes: []string{"org:read"}})
	s.AddToken("acme-only", sentrytest.Token{Scopes: []string{"project:read"}, Orgs: []string{"acme"}})
	c := &Client{Timeout: 300 * time.Millisecond}
	ctx := t.Context()
	for _, tc := range []struct {
		name, url, org, token, code, says string
		status                            int
	}{
		{"no token", s.URL, "acme", " ", CodeNoToken, "auth-tokens", 0},
		{"unknown token", s.URL, "acme", token + "x", CodeUnauthorized, `"Invalid token"`, 401},
		{"scope", s.URL, "acme", "no-scope", CodeForbidden, "project:read", 403},
		{"other org", s.URL, "beta", "acme-only", CodeForbidden, `"beta"`, 403},
		{"unknown org", s.URL, "acme-typo", token, CodeNotFound, `no organization "acme-typo"`, 404},
		{"not sentry", s.URL + "/not-sentry", "acme", token, CodeNotFound, "no Sentry API", 404},
		{"bad url", "ftp://sentry.io", "acme", token, CodeBadURL, "not an http(s) address", 0},
	} {
		_, err := c.Projects(ctx, tc.url, tc.org, tc.token)
		e := code(t, err)
		if e.Code != tc.code || e.Status != tc.status || !strings.Contains(e.Error(), tc.says) {
			t.Errorf("%s: %+v, want %s %d saying %q", tc.name, e, tc.code, tc.status, tc.says)
		}
	}

	for _, tc := range []struct {
		name  string
		fault sentrytest.Fault
		code  string
		says  string
	}{
		{"500", sentrytest.Fault{Status: 500, Body: `{"detail":"Internal Error"}`}, CodeServer, "HTTP 500"},
		{"502 html", sentrytest.Fault{Status: 502, ContentType: "text/html", Body: "<html>Bad Gateway</html>"}, CodeServer, "HTTP 502"},
		{"429", sentrytest.Fault{Status: 429, Body: `{"detail":"You are attempting to use this endpoint too frequently. Limit is 40 requests in 1 seconds"}`}, CodeRateLimited, "wait a minute"},
		{"login page", sentrytest.Fault{Status: 200, ContentType: "text/html; charset=utf-8", Body: "<!DOCTYPE html><html><title>Login | Sentry</title></html>"}, CodeNotJSON, "Login | Sentry"},
		{"not a list", sentrytest.Fault{Status: 200, Body: `{"detail":"ok"}`}, CodeNotJSON, "not Sentry's list"},
		{"418", sentrytest.Fault{Status: 418, Body: `{"detail":{"code":"teapot","message":"I am a teapot"}}`}, CodeBadRequest, "I am a teapot"},
		{"hang", sentrytest.Fault{Hang: true}, CodeTimeout, "did not answer within"},
	} {
		s.Fail(tc.fault)
		_, err := c.Projects(ctx, s.URL, "acme", token)
		if e := code(t, err); e.Code != tc.code || !strings.Contains(e.Error(), tc.says) {
			t.Errorf("%s: %+v, want %s saying %q", tc.name, e, tc.code, tc.says)
		}
	}
	s.Fail(sentrytest.Fault{})

	dead := sentrytest.New()
	dead.Close()
	_, err := c.Projects(ctx, dead.URL, "acme", token)
	if e := code(t, err); e.Code != CodeNetwork || !strings.Contains(e.Msg, "refused") || strings.Contains(e.Msg, "/api/0/") {
		t.Errorf("closed server: %+v", e)
	}
	_, err = c.Projects(ctx, "http://sentry.invalid", "acme", token)
	if e := code(t, err); e.Code != CodeNetwork && e.Code != CodeTimeout {
		t.Errorf("unresolvable host: %+v", e)
	}
}

func TestAPageLoopStops(t *testing.T) {
	// A server that always announces the same next page.
	srv := http.NewServeMux()
	var n atomic.Int32
	srv.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Link", `<http://x/?&cursor=0:100:0>; rel="next"; results="true"; cursor="0:100:0"`)
		fmt.Fprint(w, `[{"id":"1","slug":"a","name":"A"}]`)
	})
	s := &http.Server{Handler: srv}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
	ps, err := (&Client{}).Projects(t.Context(), "http://"+ln.Addr().String(), "acme", token)
	if err != nil || len(ps) != 2 || n.Load() != 2 {
		t.Errorf("a repeated cursor: %d projects, %d requests, %v", len(ps), n.Load(), err)
	}
}

func TestNextCursor(t *testing.T) {
	for _, tc := range []struct{ link, want string }{
		{`<https://sentry.io/api/0/organizations/acme/issues/123456/events/?&cursor=0:0:1>; rel="previous"; results="false"; cursor="0:0:1", <https://sentry.io/api/0/organizations/acme/issues/123456/events/?&cursor=0:100:0>; rel="next"; results="true"; cursor="0:100:0"`, "0:100:0"},
		{`<https://sentry.io/x/?&cursor=0:0:1>; rel="previous"; results="false"; cursor="0:0:1", <https://sentry.io/x/?&cursor=0:100:0>; rel="next"; results="false"; cursor="0:100:0"`, ""},
		{`<https://sentry.io/x/?cursor=1420837533:0:0>; rel="next"`, "1420837533:0:0"},
		{`<https://sentry.io/x/?cursor=a>; rel=next; results=true; cursor=b`, "b"},
		{``, ""},
	} {
		if got := nextCursor([]string{tc.link}); got != tc.want {
			t.Errorf("nextCursor(%s) = %q, want %q", tc.link, got, tc.want)
		}
	}
}

func TestBaseURL(t *testing.T) {
	for in, want := range map[string]string{
		"":                       "https://sentry.io",
		"https://sentry.io/":     "https://sentry.io",
		" https://de.sentry.io ": "https://de.sentry.io",
		"https://acme.sentry.io/organizations/acme/issues/?project=1": "https://acme.sentry.io",
		"https://sentry.example.com/sentry/":                          "https://sentry.example.com/sentry",
		"http://user:pass@127.0.0.1:9000":                             "http://127.0.0.1:9000",
	} {
		u, err := BaseURL(in)
		if err != nil || u.String() != want {
			t.Errorf("BaseURL(%q) = %v, %v; want %s", in, u, err, want)
		}
	}
	if _, err := BaseURL("sentry.io"); err == nil {
		t.Error("a URL without scheme was accepted")
	}
	u, _ := url.Parse("https://sentry.io")
	if got := ProjectsURL(u, "a b"); got != "https://sentry.io/api/0/organizations/a%20b/projects/" {
		t.Errorf("ProjectsURL = %s", got)
	}
}
