// Package sentrytest is a stand-in for Sentry's web API on loopback,
// answering as Sentry documents it, and the Sentry side of an integration:
// the requests Sentry sends to an integration (its webhooks and its UI
// components' requests), built as Sentry builds them (sentry.go in this
// package).
//
// The API it serves:
//
//	GET  /api/0/                                              {"version", "auth": {"scopes"}, "user"} (any token)
//	GET  /api/0/organizations/{org}/                          org:read      the organization, links.regionUrl
//	GET  /api/0/organizations/{org}/projects/                 project:read  pages through the Link header
//	GET  /api/0/organizations/{org}/issues/?limit=N           event:read    issues
//	GET  /api/0/organizations/{org}/issues/{id}/              event:read    one issue with its facts
//	PUT  /api/0/organizations/{org}/issues/{id}/              event:write   status, statusDetails, assignedTo, substatus
//	GET  /api/0/organizations/{org}/members/                  member:read   members
//
// with bearer tokens and scopes (a :write or :admin scope includes its
// :read), 401 {"detail": …} for a missing or unknown token, 403 for a
// token without the scope or without access to the organization, 404 for
// an unknown organization or issue, and pagination through the Link
// header:
//
//	Link: <…?&cursor=0:0:1>; rel="previous"; results="false"; cursor="0:0:1",
//	      <…?&cursor=0:100:0>; rel="next"; results="true"; cursor="0:100:0"
//
// It can also serve under a path (a self-hosted Sentry at /sentry), name
// another host in its links, and fail on demand, every request or those of
// one path (a status with any body, a slow answer, or no answer).
package sentrytest

import (
	"encoding/json"
	"fmt"
	"io"
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

// Issue is an issue of the stand-in, as Sentry's issue details answer it
// (the members a relay reads, and a few more).
type Issue struct {
	ID            string         `json:"id"`
	ShortID       string         `json:"shortId"`
	Title         string         `json:"title"`
	Culprit       string         `json:"culprit"`
	Permalink     string         `json:"permalink"`
	Level         string         `json:"level"`
	Status        string         `json:"status"` // unresolved, resolved, ignored
	StatusDetails map[string]any `json:"statusDetails"`
	Substatus     string         `json:"substatus"` // new, ongoing, escalating, regressed, …
	Platform      string         `json:"platform"`
	Project       IssueProject   `json:"project"`
	Type          string         `json:"type"`
	Metadata      map[string]any `json:"metadata"`
	AssignedTo    *Actor         `json:"assignedTo"`
	IsUnhandled   bool           `json:"isUnhandled"`
	Count         string         `json:"count"` // a string, as Sentry answers it
	UserCount     int            `json:"userCount"`
	FirstSeen     string         `json:"firstSeen"`
	LastSeen      string         `json:"lastSeen"`
}

// IssueProject is the project an issue names.
type IssueProject struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Slug     string `json:"slug"`
	Platform string `json:"platform"`
}

// Actor is whom an issue is assigned to: a user or a team.
type Actor struct {
	Type  string `json:"type"` // user or team
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email,omitempty"`
}

// Member is a member of an organization, as the members list answers it.
type Member struct {
	ID    string     `json:"id"`
	Email string     `json:"email"`
	Name  string     `json:"name"`
	Role  string     `json:"role"`
	User  MemberUser `json:"user"`
}

// MemberUser is a member's Sentry user.
type MemberUser struct {
	ID       string `json:"id"`
	Email    string `json:"email"`
	Name     string `json:"name"`
	Username string `json:"username"`
}

// Token is an auth token the stand-in accepts.
type Token struct {
	Scopes []string
	// Orgs the token may see; empty means every organization (a user
	// token of a member of all of them).
	Orgs []string
}

// Fault makes requests fail, or answer slowly.
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
	Body          string // of a PUT
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
	issues   map[string]map[string]*Issue // org → id → issue
	members  map[string][]Member
	tokens   map[string]Token
	linkBase string
	fault    Fault
	faults   map[string]Fault // by a part of the path
	reqs     []Request
}

// New starts a stand-in serving at the root, like sentry.io.
func New() *Server { return NewAt("") }

// NewAt starts a stand-in serving under prefix (e.g. "/sentry").
func NewAt(prefix string) *Server {
	s := newServer(prefix)
	s.srv = httptest.NewServer(s)
	s.URL = s.srv.URL + s.prefix
	return s
}

// NewHandler returns a stand-in that serves under prefix through whatever
// server the caller runs it in (a command); its URL is the caller's to set.
func NewHandler(prefix string) *Server { return newServer(prefix) }

func newServer(prefix string) *Server {
	return &Server{PerPage: 100, prefix: strings.TrimRight(prefix, "/"), closed: make(chan struct{}),
		orgs: map[string][]Project{}, issues: map[string]map[string]*Issue{}, members: map[string][]Member{},
		tokens: map[string]Token{}, faults: map[string]Fault{}}
}

// Close stops the stand-in; later requests are refused.
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

// AddIssue adds (or replaces) an issue of organization org, which is
// added when it is not there yet.
func (s *Server) AddIssue(org string, is Issue) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.orgs[org]; !ok {
		s.orgs[org] = nil
	}
	if s.issues[org] == nil {
		s.issues[org] = map[string]*Issue{}
	}
	if is.StatusDetails == nil {
		is.StatusDetails = map[string]any{}
	}
	if is.Metadata == nil {
		is.Metadata = map[string]any{"title": is.Title}
	}
	s.issues[org][is.ID] = &is
}

// Issue returns organization org's issue id as it is now (after PUTs).
func (s *Server) Issue(org, id string) (Issue, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	is, ok := s.issues[org][id]
	if !ok {
		return Issue{}, false
	}
	return *is, true
}

// AddMember adds a member to organization org.
func (s *Server) AddMember(org string, m Member) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.members[org] = append(s.members[org], m)
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
// with f (a slow issue API: FailPath("/issues/", Fault{Delay: …}));
// FailPath(part, Fault{}) heals them.
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

func answer(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// faultFor is the fault that applies to path: one of its path, else the
// one of every request.
func (s *Server) faultFor(path string) Fault {
	for part, f := range s.faults {
		if strings.Contains(path, part) {
			return f
		}
	}
	return s.fault
}

// wait holds a request for d, or until its client gives up or the
// stand-in closes; it reports whether the request is still wanted.
func (s *Server) wait(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		select {
		case <-r.Context().Done():
		case <-s.closed:
		}
		return false
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
	case <-s.closed:
	}
	return false
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var body []byte
	if r.Method == http.MethodPut || r.Method == http.MethodPost {
		body, _ = io.ReadAll(io.LimitReader(r.Body, 1<<20))
	}
	s.mu.Lock()
	s.reqs = append(s.reqs, Request{Method: r.Method, Host: r.Host, Path: r.URL.Path, RawQuery: r.URL.RawQuery,
		Authorization: r.Header.Get("Authorization"), Body: string(body)})
	f := s.faultFor(r.URL.Path)
	s.mu.Unlock()
	switch {
	case f.Hang:
		s.wait(r, 0)
		return
	case f.Delay > 0 && !s.wait(r, f.Delay):
		return
	}
	if f.Status != 0 {
		ct := f.ContentType
		if ct == "" {
			ct = "application/json"
		}
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(f.Status)
		_, _ = w.Write([]byte(f.Body))
		return
	}

	path, ok := strings.CutPrefix(r.URL.Path, s.prefix+"/api/0/")
	if !ok {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte("<!DOCTYPE html><html><head><title>Page Not Found</title></head><body><h1>Not Found</h1></body></html>"))
		return
	}
	if !strings.HasSuffix(path, "/") && path != "" {
		detail(w, http.StatusNotFound, "The requested resource does not exist")
		return
	}
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if path == "" {
		parts = nil
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead && !(r.Method == http.MethodPut && len(parts) == 4 && parts[2] == "issues") {
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
	s.mu.Unlock()
	if !known {
		detail(w, http.StatusUnauthorized, "Invalid token")
		return
	}
	if len(parts) == 0 { // the API index: the token's own scopes
		answer(w, map[string]any{"version": "0", "auth": map[string]any{"scopes": t.Scopes}, "user": nil})
		return
	}
	if parts[0] != "organizations" || len(parts) < 2 {
		detail(w, http.StatusNotFound, "The requested resource does not exist")
		return
	}
	org := parts[1]
	s.mu.Lock()
	_, orgOK := s.orgs[org]
	s.mu.Unlock()
	if !orgOK {
		detail(w, http.StatusNotFound, "The requested resource does not exist")
		return
	}
	need := "org:read"
	switch {
	case len(parts) == 2:
	case len(parts) == 3 && parts[2] == "projects":
		need = "project:read"
	case len(parts) == 3 && parts[2] == "members":
		need = "member:read"
	case len(parts) >= 3 && len(parts) <= 4 && parts[2] == "issues":
		need = "event:read"
		if r.Method == http.MethodPut {
			need = "event:write"
		}
	default:
		detail(w, http.StatusNotFound, "The requested resource does not exist")
		return
	}
	if (len(t.Orgs) > 0 && !slices.Contains(t.Orgs, org)) || !allows(t.Scopes, need) {
		detail(w, http.StatusForbidden, "You do not have permission to perform this action.")
		return
	}
	switch {
	case len(parts) == 2:
		s.organization(w, r, org)
	case parts[2] == "projects":
		s.projects(w, r, org)
	case parts[2] == "members":
		s.mu.Lock()
		ms := slices.Clone(s.members[org])
		s.mu.Unlock()
		if ms == nil {
			ms = []Member{}
		}
		answer(w, ms)
	case len(parts) == 3:
		s.issueList(w, r, org)
	default:
		s.issue(w, r, org, parts[3], body)
	}
}

// allows reports whether scopes grant need: the scope itself, or its
// :write or :admin.
func allows(scopes []string, need string) bool {
	res, _, _ := strings.Cut(need, ":")
	for _, sc := range scopes {
		if sc == need || sc == res+":admin" || (sc == res+":write" && strings.HasSuffix(need, ":read")) {
			return true
		}
	}
	return false
}

// base is the address the stand-in's links name.
func (s *Server) base(r *http.Request) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.linkBase != "" {
		return s.linkBase
	}
	return "http://" + r.Host + s.prefix
}

func (s *Server) organization(w http.ResponseWriter, r *http.Request, org string) {
	base := s.base(r)
	answer(w, map[string]any{"id": "1", "slug": org, "name": org, "status": map[string]string{"id": "active", "name": "active"},
		"links": map[string]string{"organizationUrl": base, "regionUrl": base}})
}

func (s *Server) issueList(w http.ResponseWriter, r *http.Request, org string) {
	s.mu.Lock()
	var out []Issue
	for _, is := range s.issues[org] {
		out = append(out, *is)
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	if n, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil && n >= 0 && n < len(out) {
		out = out[:n]
	}
	if out == nil {
		out = []Issue{}
	}
	answer(w, out)
}

// issue answers GET and PUT of one issue.
func (s *Server) issue(w http.ResponseWriter, r *http.Request, org, id string, body []byte) {
	is, status, msg := s.updateIssue(org, id, r.Method == http.MethodPut, body)
	if status != 0 {
		detail(w, status, msg)
		return
	}
	answer(w, is)
}

// updateIssue returns organization org's issue id, after a PUT's body
// changed its status, substatus, status details and assignee as Sentry's
// issue update does; or the status and detail of a refusal.
func (s *Server) updateIssue(org, id string, put bool, body []byte) (Issue, int, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	is, ok := s.issues[org][id]
	if !ok {
		return Issue{}, http.StatusNotFound, "The requested resource does not exist"
	}
	if put {
		var upd struct {
			Status        *string        `json:"status"`
			Substatus     *string        `json:"substatus"`
			StatusDetails map[string]any `json:"statusDetails"`
			AssignedTo    *string        `json:"assignedTo"`
		}
		if err := json.Unmarshal(body, &upd); err != nil {
			return Issue{}, http.StatusBadRequest, "Invalid body: " + err.Error()
		}
		if upd.Status != nil {
			is.Status = *upd.Status
			is.Substatus = map[string]string{"resolved": "", "ignored": "archived_forever", "unresolved": "ongoing"}[*upd.Status]
		}
		if upd.Substatus != nil {
			is.Substatus = *upd.Substatus
		}
		if upd.StatusDetails != nil {
			is.StatusDetails = upd.StatusDetails
		}
		if upd.AssignedTo != nil {
			is.AssignedTo = s.actor(org, *upd.AssignedTo)
		}
	}
	return *is, 0, ""
}

// actor finds whom assignedTo names ("", a member's user id, "user:<id>",
// an email or a username); unknown names are assigned as they are.
func (s *Server) actor(org, who string) *Actor {
	if who == "" {
		return nil
	}
	id := strings.TrimPrefix(who, "user:")
	for _, m := range s.members[org] {
		if m.User.ID == id || strings.EqualFold(m.User.Email, who) || strings.EqualFold(m.User.Username, who) {
			return &Actor{Type: "user", ID: m.User.ID, Name: m.User.Name, Email: m.User.Email}
		}
	}
	return &Actor{Type: "user", ID: id, Name: who}
}

func (s *Server) projects(w http.ResponseWriter, r *http.Request, org string) {
	s.mu.Lock()
	projects := slices.Clone(s.orgs[org])
	per := s.PerPage
	s.mu.Unlock()
	sort.SliceStable(projects, func(i, j int) bool { return projects[i].Slug < projects[j].Slug })

	// Cursors are "value:offset:is_prev", as Sentry's offset paginator.
	offset := 0
	if c := r.URL.Query().Get("cursor"); c != "" {
		f := strings.Split(c, ":")
		n, err := strconv.Atoi(f[min(1, len(f)-1)])
		if len(f) != 3 || err != nil || n < 0 {
			detail(w, http.StatusBadRequest, "Invalid cursor parameter.")
			return
		}
		offset = n
	}
	if per <= 0 {
		per = 100
	}
	end := min(offset+per, len(projects))
	page := []Project{}
	if offset < len(projects) {
		page = projects[offset:end]
	}
	self := s.base(r) + "/api/0/organizations/" + org + "/projects/"
	prev := fmt.Sprintf("0:%d:1", max(offset-per, 0))
	next := fmt.Sprintf("0:%d:0", offset+per)
	w.Header().Set("Link", fmt.Sprintf(`<%s?&cursor=%s>; rel="previous"; results="%t"; cursor="%s", <%s?&cursor=%s>; rel="next"; results="%t"; cursor="%s"`,
		self, prev, offset > 0, prev, self, next, end < len(projects), next))
	answer(w, page)
}
