package sentryapi

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
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

// TestTokenGoesOnlyToTheOrganizationsOrigin: the token is sent only to the
// scheme, host and port of the organization's Sentry URL. A redirect there
// is followed; a redirect to another port of the same host (or any other
// origin) is not, and is explained; the other server never sees the token.
func TestTokenGoesOnlyToTheOrganizationsOrigin(t *testing.T) {
	var stolen atomic.Value
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		stolen.Store(r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `[]`)
	}))
	defer other.Close()
	var sentry *httptest.Server
	sentry = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Query().Get("hop") == "" && strings.HasPrefix(r.URL.Path, "/api/0/organizations/same/"):
			http.Redirect(w, r, sentry.URL+r.URL.Path+"?hop=1", http.StatusFound)
		case r.URL.Query().Get("hop") == "1" && r.Header.Get("Authorization") == "Bearer "+token:
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `[{"id":"1","slug":"a","name":"A"}]`)
		default:
			http.Redirect(w, r, other.URL+r.URL.Path, http.StatusFound)
		}
	}))
	defer sentry.Close()
	c := &Client{}
	if ps, err := c.Projects(t.Context(), sentry.URL, "same", token); err != nil || len(ps) != 1 {
		t.Fatalf("a redirect within the Sentry URL's origin: %v %v, want it followed with the token", ps, err)
	}
	_, err := c.Projects(t.Context(), sentry.URL, "acme", token)
	if v, _ := stolen.Load().(string); v != "" {
		t.Errorf("a redirect to another port of the same host carried %q", v)
	}
	if e := code(t, err); e.Code != CodeRedirect || !strings.Contains(e.Msg, other.URL) || e.Status != http.StatusFound {
		t.Errorf("a redirect to another origin: %+v, want %s naming %s", e, CodeRedirect, other.URL)
	}
}

// TestLoopbackOnlyWhenTheURLNamesIt: the client's own connections reach a
// loopback address only when the Sentry URL names one (127.0.0.1,
// [::1], localhost): a name that resolves to this computer is refused
// before anything is sent.
func TestLoopbackOnlyWhenTheURLNamesIt(t *testing.T) {
	s := standIn(t, "")
	s.AddOrg("acme", sentrytest.Projects(2)...)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(s.URL, "http://"))
	c := &Client{lookup: func(ctx context.Context, host string) ([]net.IPAddr, error) {
		if host == "sentry.example.com" {
			return []net.IPAddr{{IP: net.ParseIP("127.0.0.1")}}, nil
		}
		return net.DefaultResolver.LookupIPAddr(ctx, host)
	}}
	for _, u := range []string{s.URL, "http://localhost:" + port} {
		if ps, err := c.Projects(t.Context(), u, "acme", token); err != nil || len(ps) != 2 {
			t.Errorf("Sentry URL %s (loopback): %v %v", u, ps, err)
		}
	}
	n := len(s.Requests())
	_, err := c.Projects(t.Context(), "http://sentry.example.com:"+port, "acme", token)
	if e := code(t, err); e.Code != CodeLoopback || !strings.Contains(e.Msg, "127.0.0.1") || !strings.Contains(e.Fix, "loopback") {
		t.Errorf("a name resolving to loopback: %+v, want refused naming the address", e)
	}
	if len(s.Requests()) != n {
		t.Error("a request reached the loopback stand-in through a public name")
	}
}

func TestSameOrigin(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{"https://sentry.io/api/0/x", "https://sentry.io/other", true},
		{"https://sentry.io/", "https://sentry.io:443/", true},
		{"http://Sentry.Example.com/", "http://sentry.example.com:80/", true},
		{"https://sentry.io/", "http://sentry.io/", false},
		{"https://sentry.io/", "https://evil.sentry.io/", false},
		{"http://127.0.0.1:9000/", "http://127.0.0.1:9001/", false},
		{"https://sentry.io/", "https://sentry.io.evil.com/", false},
	} {
		a, _ := url.Parse(tc.a)
		b, _ := url.Parse(tc.b)
		if got := sameOrigin(a, b); got != tc.same {
			t.Errorf("sameOrigin(%s, %s) = %v, want %v", tc.a, tc.b, got, tc.same)
		}
	}
}
