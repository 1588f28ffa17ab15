// Package sentrytest is a stand-in for Sentry's web API on loopback: the
// endpoint that lists an organization's projects,
//
//	GET /api/0/organizations/{organization_id_or_slug}/projects/
//
// answering as Sentry documents it: bearer tokens with scopes (project:read,
// or project:write / project:admin, which include it), 401 {"detail": …}
// for a missing or unknown token, 403 for a token without the scope or
// without access to the organization, 404 for an unknown organization, and
// pagination through the Link header:
//
//	Link: <…?&cursor=0:0:1>; rel="previous"; results="false"; cursor="0:0:1",
//	      <…?&cursor=0:100:0>; rel="next"; results="true"; cursor="0:100:0"
//
// It can also serve under a path (a self-hosted Sentry at /sentry), name
// another host in its links, and fail on demand (a status with any body,
// a slow answer, or no answer), every request or those of one path. The
// issue and member endpoints are in issues.go; the API index, an
// organization and its issues, which an integration's token reads, in
// integration.go; the requests Sentry sends to an integration in
// sentry.go.
package sentrytest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Project is a project of the stand-in (the JSON Sentry answers).
type Project struct {
	ID                    string   `json:"id"`
	Slug                  string   `json:"slug"`
	Name                  string   `json:"name"`
	Platform              string   `json:"platform"`
	DateCreated           string   `json:"dateCreated"`
	IsBookmarked          bool     `json:"isBookmarked"`
	IsMember              bool     `json:"isMember"`
	HasAccess             bool     `json:"hasAccess"`
	FirstEvent            *string  `json:"firstEvent"`
	FirstTransactionEvent bool     `json:"firstTransactionEvent"`
	Features              []string `json:"features"`
	Status                string   `json:"status"`
}

// Token is an auth token the stand-in accepts.
type Token struct {
	Scopes []string
	// Orgs the token may see; empty means every organization (a user
	// token of a member of all of them).
	Orgs []string
}

// Fault makes every following request fail, or answer slowly.
type Fault struct {
	Status      int
	ContentType string // default application/json
	Body        string
	Hang        bool // hold the request until the client gives up (or Close)
	// Delay answers after this long (or when the client gives up first):
	// with the fault's Status and Body when Status is set, else normally.
	Delay time.Duration
}

// Request is one request received.
type Request struct {
	Method        string
	Host          string
	Path          string
	RawQuery      string
	Authorization string
}

// Server is the stand-in.
type Server struct {
	URL string // http://127.0.0.1:PORT plus Prefix
	// PerPage is the page size; Sentry's is 100.
	PerPage int

	srv    *httptest.Server
	prefix string
	closed chan struct{}
	once   sync.Once

	mu       sync.Mutex
	orgs     map[string][]Project
	tokens   map[string]Token
	linkBase string
	fault    Fault
	reqs     []Request
	acting   *acting          // issues and members (issues.go)
	faults   map[string]Fault // by a part of the path (FailPath)
}

// New starts a stand-in serving at the root, like sentry.io.
func New() *Server { return NewAt("") }

// NewAt starts a stand-in serving under prefix (e.g. "/sentry").
func NewAt(prefix string) *Server {
	s := NewHandler(prefix)
	s.srv = httptest.NewServer(s)
	s.URL = s.srv.URL + s.prefix
	return s
}

// NewHandler returns a stand-in that serves under prefix through whatever
// server the caller runs it in (a command); its URL is the caller's to set.
func NewHandler(prefix string) *Server {
	return &Server{PerPage: 100, prefix: strings.TrimRight(prefix, "/"), closed: make(chan struct{}),
		orgs: map[string][]Project{}, tokens: map[string]Token{}, faults: map[string]Fault{}}
}

// Close stops the stand-in; later requests are refused, and requests it
// holds are let go.
func (s *Server) Close() {
	s.once.Do(func() { close(s.closed) })
	if s.srv != nil {
		s.srv.Close()
	}
}

// AddOrg adds an organization with projects (given by slug and name).
func (s *Server) AddOrg(slug string, projects ...Project) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := range projects {
		p := &projects[i]
		if p.ID == "" {
			p.ID = strconv.Itoa(4500000 + len(s.orgs[slug]) + i + 1)
		}
		if p.Status == "" {
			p.Status = "active"
		}
		if p.DateCreated == "" {
			p.DateCreated = "2024-03-01T08:00:00.000000Z"
		}
		if p.Features == nil {
			p.Features = []string{}
		}
		p.IsMember, p.HasAccess = true, true
	}
	s.orgs[slug] = append(s.orgs[slug], projects...)
}

// Projects makes n projects named app-001 … for AddOrg.
func Projects(n int) []Project {
	out := make([]Project, n)
	for i := range out {
		out[i] = Project{Slug: fmt.Sprintf("app-%03d", i+1), Name: fmt.Sprintf("App %03d", i+1), Platform: "python"}
	}
	return out
}

// AddToken lets a token in.
func (s *Server) AddToken(token string, t Token) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens[token] = t
}

// LinkBase makes the Link header name another base URL (a proxy's view of
// a self-hosted Sentry); "" means the address the request came to.
func (s *Server) LinkBase(base string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.linkBase = strings.TrimRight(base, "/")
}

// Fail makes every following request fail with f; Fail(Fault{}) heals.
func (s *Server) Fail(f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault = f
}

// FailPath makes the following requests whose path contains part fail
// with f, whatever Fail says (a slow issue API: FailPath("/issues/",
// Fault{Delay: …})); FailPath(part, Fault{}) heals them.
func (s *Server) FailPath(part string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if f == (Fault{}) {
		delete(s.faults, part)
		return
	}
	s.faults[part] = f
}

// Requests returns the requests received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.reqs)
}

func detail(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"detail": msg})
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.reqs = append(s.reqs, Request{Method: r.Method, Host: r.Host, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Authorization: r.Header.Get("Authorization")})
	f := s.fault
	for part, pf := range s.faults {
		if strings.Contains(r.URL.Path, part) {
			f = pf
		}
	}
	s.mu.Unlock()
	if s.fail(w, r, f) {
		return
	}

	path, ok := strings.CutPrefix(r.URL.Path, s.prefix+"/api/0/")
	if !ok {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte("<!DOCTYPE html><html><head><title>Page Not Found</title></head><body><h1>Not Found</h1></body></html>"))
		return
	}
	if s.serveActing(w, r, path) || s.serveIntegration(w, r, path) {
		return
	}
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if len(parts) != 3 || parts[0] != "organizations" || parts[2] != "projects" || !strings.HasSuffix(path, "/") {
		detail(w, http.StatusNotFound, "The requested resource does not exist")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		detail(w, http.StatusMethodNotAllowed, fmt.Sprintf("Method \"%s\" not allowed.", r.Method))
		return
	}
	auth := r.Header.Get("Authorization")
	scheme, tok, _ := strings.Cut(auth, " ")
	if auth == "" || !strings.EqualFold(scheme, "Bearer") {
		detail(w, http.StatusUnauthorized, "Authentication credentials were not provided.")
		return
	}
	s.mu.Lock()
	t, known := s.tokens[tok]
	projects, orgOK := s.orgs[parts[1]]
	projects = slices.Clone(projects)
	linkBase := s.linkBase
	per := s.PerPage
	s.mu.Unlock()
	if !known {
		detail(w, http.StatusUnauthorized, "Invalid token")
		return
	}
	if !orgOK {
		detail(w, http.StatusNotFound, "The requested resource does not exist")
		return
	}
	if (len(t.Orgs) > 0 && !slices.Contains(t.Orgs, parts[1])) ||
		!slices.ContainsFunc(t.Scopes, func(s string) bool { return s == "project:read" || s == "project:write" || s == "project:admin" }) {
		detail(w, http.StatusForbidden, "You do not have permission to perform this action.")
		return
	}
	sort.SliceStable(projects, func(i, j int) bool { return projects[i].Slug < projects[j].Slug })

	offset, ok := cursorOffset(w, r)
	if !ok {
		return
	}
	if per <= 0 {
		per = 100
	}
	end := min(offset+per, len(projects))
	page := []Project{}
	if offset < len(projects) {
		page = projects[offset:end]
	}
	base := linkBase
	if base == "" {
		base = "http://" + r.Host + s.prefix
	}
	self := base + "/api/0/organizations/" + parts[1] + "/projects/"
	prev := fmt.Sprintf("0:%d:1", max(offset-per, 0))
	next := fmt.Sprintf("0:%d:0", offset+per)
	w.Header().Set("Link", fmt.Sprintf(`<%s?&cursor=%s>; rel="previous"; results="%t"; cursor="%s", <%s?&cursor=%s>; rel="next"; results="%t"; cursor="%s"`,
		self, prev, offset > 0, prev, self, next, end < len(projects), next))
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(page)
}
