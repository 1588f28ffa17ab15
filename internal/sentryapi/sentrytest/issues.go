package sentrytest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The issue and member endpoints of the stand-in:
//
//	GET /api/0/organizations/{org}/issues/{issue_id}/  event:read (or event:write, event:admin)
//	PUT /api/0/organizations/{org}/issues/{issue_id}/  event:write (or event:admin)
//	GET /api/0/organizations/{org}/members/            member:read (or member:write, member:admin)
//
// A PUT changes only what its body names, as Sentry does: status resolved,
// unresolved or ignored (with statusDetails.ignoreDuration in minutes:
// substatus archived_until_condition_met and statusDetails.ignoreUntil),
// and assignedTo in the forms Sentry takes (a user id, user:<id>, a
// username or an email), which must be a member of the organization. A
// body Sentry would refuse gets 400 with {"field": ["why"]}. An issue of a
// project the token cannot reach is 403, an unknown one 404.

// Issue is an issue of the stand-in (the JSON Sentry answers).
type Issue struct {
	ID            string         `json:"id"`
	ShortID       string         `json:"shortId"`
	Title         string         `json:"title"`
	Culprit       string         `json:"culprit"`
	Permalink     string         `json:"permalink"`
	Level         string         `json:"level"`
	Status        string         `json:"status"`
	Substatus     *string        `json:"substatus"`
	StatusDetails map[string]any `json:"statusDetails"`
	AssignedTo    *Assignee      `json:"assignedTo"`
	Project       IssueProject   `json:"project"`
	Count         string         `json:"count"`
	UserCount     int            `json:"userCount"`
	FirstSeen     string         `json:"firstSeen"`
	LastSeen      string         `json:"lastSeen"`
}

// IssueProject is an issue's project.
type IssueProject struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Slug string `json:"slug"`
}

// Assignee is whom an issue is assigned to.
type Assignee struct {
	Type  string `json:"type"`
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email,omitempty"`
}

// Member is a member of an organization of the stand-in.
type Member struct {
	ID      string      `json:"id"`
	Email   string      `json:"email"`
	Name    string      `json:"name"`
	OrgRole string      `json:"orgRole"`
	Pending bool        `json:"pending"`
	Expired bool        `json:"expired"`
	User    *MemberUser `json:"user"`
}

// MemberUser is a member's user.
type MemberUser struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Email    string `json:"email"`
	Name     string `json:"name"`
	IsActive bool   `json:"isActive"`
}

// Write is one PUT the stand-in took, with its body as sent.
type Write struct {
	Org   string
	Issue string
	Body  map[string]any
}

// acting is the stand-in's state for issues and members.
type acting struct {
	issues  map[string]*Issue    // org/id → issue
	members map[string][]Member  // org → members
	faults  map[string]Fault     // method → a fault of the issue and member endpoints
	writes  []Write              // PUTs that changed an issue
	now     func() time.Time     // for ignoreUntil
	scopes  map[string]TokenMore // token → what else it may reach
}

// TokenMore narrows a token to some projects (by slug): an issue of
// another project is refused with 403, as Sentry refuses a member without
// access to it.
type TokenMore struct{ Projects []string }

func (s *Server) act() *acting {
	if s.acting == nil {
		s.acting = &acting{issues: map[string]*Issue{}, members: map[string][]Member{}, faults: map[string]Fault{},
			scopes: map[string]TokenMore{}, now: time.Now}
	}
	return s.acting
}

// AddIssue adds an issue to organization org. Empty members get Sentry's
// defaults: unresolved, level error, a permalink on the stand-in.
func (s *Server) AddIssue(org string, is Issue) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if is.Status == "" {
		is.Status = "unresolved"
		sub := "ongoing"
		is.Substatus = &sub
	}
	if is.Level == "" {
		is.Level = "error"
	}
	if is.ShortID == "" {
		is.ShortID = strings.ToUpper(is.Project.Slug) + "-1"
	}
	if is.Permalink == "" {
		is.Permalink = s.URL + "/organizations/" + org + "/issues/" + is.ID + "/"
	}
	if is.StatusDetails == nil {
		is.StatusDetails = map[string]any{}
	}
	if is.Count == "" {
		is.Count = "1"
	}
	s.act().issues[org+"/"+is.ID] = &is
	s.knowOrg(org)
}

// ExampleIssue is the issue AddExample adds: the one of the repo's
// legacy_saas.json payload.
const ExampleIssue = "4567890123"

// AddExample gives organization org what the tests act on: issue
// ExampleIssue of project mall-api with title, unresolved and unassigned;
// member 张三 (user 42, username zhangsan, zhangsan@example.com); and token,
// which may change issues (event:write) and list members (member:read).
func (s *Server) AddExample(org, token, title string) {
	s.AddToken(token, Token{Scopes: []string{"event:write", "member:read"}})
	s.AddIssue(org, Issue{ID: ExampleIssue, Title: title, Project: IssueProject{ID: "1", Slug: "mall-api", Name: "mall-api"}})
	s.AddMember(org, Member{Email: "zhangsan@example.com", Name: "张三",
		User: &MemberUser{ID: "42", Username: "zhangsan", Email: "zhangsan@example.com", Name: "张三", IsActive: true}})
}

// knowOrg makes org an organization of the stand-in (without projects).
func (s *Server) knowOrg(org string) {
	if _, ok := s.orgs[org]; !ok {
		s.orgs[org] = nil
	}
}

// IssueOf returns the issue as it stands now.
func (s *Server) IssueOf(org, id string) (Issue, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	is, ok := s.act().issues[org+"/"+id]
	if !ok {
		return Issue{}, false
	}
	return *is, true
}

// AddMember adds a member to organization org; its id is given when
// empty.
func (s *Server) AddMember(org string, m Member) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.act()
	if m.ID == "" {
		m.ID = strconv.Itoa(100 + len(a.members[org]))
	}
	if m.OrgRole == "" {
		m.OrgRole = "member"
	}
	a.members[org] = append(a.members[org], m)
	s.knowOrg(org)
}

// NarrowToken lets a token reach only some projects' issues.
func (s *Server) NarrowToken(token string, more TokenMore) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.act().scopes[token] = more
}

// FailMethod makes the issue and member endpoints fail for one method
// (GET or PUT) with f; FailMethod(m, Fault{}) heals.
func (s *Server) FailMethod(method string, f Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.act().faults[method] = f
}

// Writes returns the issue changes taken so far.
func (s *Server) Writes() []Write {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.act().writes)
}

// serveActing answers the issue and member endpoints; it reports false for
// other paths.
func (s *Server) serveActing(w http.ResponseWriter, r *http.Request, path string) bool {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	isIssue := len(parts) == 4 && parts[0] == "organizations" && parts[2] == "issues"
	isMembers := len(parts) == 3 && parts[0] == "organizations" && parts[2] == "members"
	if !isIssue && !isMembers {
		return false
	}
	s.mu.Lock()
	f := s.act().faults[r.Method]
	s.mu.Unlock()
	if s.fail(w, r, f) {
		return true
	}
	if !strings.HasSuffix(path, "/") {
		detail(w, http.StatusNotFound, "The requested resource does not exist")
		return true
	}
	allowed := []string{http.MethodGet, http.MethodHead}
	if isIssue {
		allowed = append(allowed, http.MethodPut)
	}
	if !slices.Contains(allowed, r.Method) {
		detail(w, http.StatusMethodNotAllowed, fmt.Sprintf("Method \"%s\" not allowed.", r.Method))
		return true
	}
	org := parts[1]
	scopes := map[string][]string{
		http.MethodGet: {"event:read", "event:write", "event:admin"}, http.MethodHead: {"event:read", "event:write", "event:admin"},
		http.MethodPut: {"event:write", "event:admin"},
	}[r.Method]
	if isMembers {
		scopes = []string{"member:read", "member:write", "member:admin"}
	}
	tok, ok := s.authorize(w, r, org, scopes)
	if !ok {
		return true
	}
	if isMembers {
		s.serveMembers(w, r, org)
		return true
	}
	s.serveIssue(w, r, tok, org, parts[3])
	return true
}

// cursorOffset reads a page's cursor, "value:offset:is_prev" as Sentry's
// offset paginator writes it; a cursor it cannot read is answered 400.
func cursorOffset(w http.ResponseWriter, r *http.Request) (int, bool) {
	c := r.URL.Query().Get("cursor")
	if c == "" {
		return 0, true
	}
	f := strings.Split(c, ":")
	n, err := strconv.Atoi(f[min(1, len(f)-1)])
	if len(f) != 3 || err != nil || n < 0 {
		detail(w, http.StatusBadRequest, "Invalid cursor parameter.")
		return 0, false
	}
	return n, true
}

// fail answers with a fault, reporting whether there was one; a delay
// alone holds the request, then lets it be served.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, f Fault) bool {
	if f.Delay > 0 && !f.Hang {
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return true
		case <-s.closed:
			return true
		}
	}
	switch {
	case f.Hang:
		select {
		case <-r.Context().Done():
		case <-s.closed:
		}
		return true
	case f.Status != 0:
		ct := f.ContentType
		if ct == "" {
			ct = "application/json"
		}
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(f.Status)
		_, _ = w.Write([]byte(f.Body))
		return true
	}
	return false
}

// authorize checks the bearer token, the organization and the scopes, and
// answers Sentry's refusal when they do not hold.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request, org string, scopes []string) (string, bool) {
	auth := r.Header.Get("Authorization")
	scheme, tok, _ := strings.Cut(auth, " ")
	if auth == "" || !strings.EqualFold(scheme, "Bearer") {
		detail(w, http.StatusUnauthorized, "Authentication credentials were not provided.")
		return "", false
	}
	s.mu.Lock()
	t, known := s.tokens[tok]
	_, orgOK := s.orgs[org]
	s.mu.Unlock()
	switch {
	case !known:
		detail(w, http.StatusUnauthorized, "Invalid token")
		return "", false
	case !orgOK:
		detail(w, http.StatusNotFound, "The requested resource does not exist")
		return "", false
	case len(t.Orgs) > 0 && !slices.Contains(t.Orgs, org) || !slices.ContainsFunc(t.Scopes, func(s string) bool { return slices.Contains(scopes, s) }):
		detail(w, http.StatusForbidden, "You do not have permission to perform this action.")
		return "", false
	}
	return tok, true
}

func (s *Server) serveMembers(w http.ResponseWriter, r *http.Request, org string) {
	s.mu.Lock()
	list := slices.Clone(s.act().members[org])
	per := s.PerPage
	s.mu.Unlock()
	sort.SliceStable(list, func(i, j int) bool { return list[i].Email < list[j].Email })
	if per <= 0 {
		per = 100
	}
	offset, ok := cursorOffset(w, r)
	if !ok {
		return
	}
	end := min(offset+per, len(list))
	page := []Member{}
	if offset < len(list) {
		page = list[offset:end]
	}
	self := "http://" + r.Host + s.prefix + "/api/0/organizations/" + org + "/members/"
	next := fmt.Sprintf("0:%d:0", offset+per)
	w.Header().Set("Link", fmt.Sprintf(`<%s?&cursor=%s>; rel="next"; results="%t"; cursor="%s"`, self, next, end < len(list), next))
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(page)
}

func (s *Server) serveIssue(w http.ResponseWriter, r *http.Request, tok, org, id string) {
	s.mu.Lock()
	a := s.act()
	is, ok := a.issues[org+"/"+id]
	more, narrowed := a.scopes[tok]
	s.mu.Unlock()
	if !ok {
		detail(w, http.StatusNotFound, "The requested resource does not exist")
		return
	}
	if narrowed && !slices.Contains(more.Projects, is.Project.Slug) {
		detail(w, http.StatusForbidden, "You do not have permission to perform this action.")
		return
	}
	if r.Method == http.MethodPut {
		raw, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		var body map[string]any
		if json.Unmarshal(raw, &body) != nil {
			detail(w, http.StatusBadRequest, "JSON parse error")
			return
		}
		if problems := s.update(org, is, body); len(problems) > 0 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			_ = json.NewEncoder(w).Encode(problems)
			return
		}
	}
	s.mu.Lock()
	out := *is
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

// update applies a PUT's body to is, or returns Sentry's refusal without
// changing anything.
func (s *Server) update(org string, is *Issue, body map[string]any) map[string][]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := s.act()
	next := *is
	problems := map[string][]string{}
	if v, ok := body["status"]; ok {
		st, _ := v.(string)
		switch st {
		case "resolved":
			next.Status, next.Substatus, next.StatusDetails = "resolved", nil, map[string]any{}
		case "unresolved":
			sub := "ongoing"
			next.Status, next.Substatus, next.StatusDetails = "unresolved", &sub, map[string]any{}
		case "ignored":
			sub := "archived_until_escalating"
			next.Status, next.StatusDetails = "ignored", map[string]any{}
			if d, ok := body["statusDetails"].(map[string]any); ok {
				if m, ok := d["ignoreDuration"].(float64); ok && m > 0 {
					sub = "archived_until_condition_met"
					next.StatusDetails = map[string]any{"ignoreUntil": a.now().UTC().Add(time.Duration(m) * time.Minute).Format("2006-01-02T15:04:05.000000Z")}
				}
			}
			next.Substatus = &sub
		default:
			problems["status"] = []string{fmt.Sprintf("\"%v\" is not a valid choice.", v)}
		}
	}
	if v, ok := body["assignedTo"]; ok {
		who, _ := v.(string)
		m, problem := findMember(a.members[org], who)
		if problem != "" {
			problems["assignedTo"] = []string{problem}
		} else {
			next.AssignedTo = &Assignee{Type: "user", ID: m.User.ID, Name: m.User.Name, Email: m.User.Email}
		}
	}
	if len(problems) > 0 {
		return problems
	}
	*is = next
	a.writes = append(a.writes, Write{Org: org, Issue: is.ID, Body: body})
	return nil
}

// findMember resolves an assignee as Sentry does: "<id>", "user:<id>", a
// username or an email, which must be a member of the organization.
func findMember(members []Member, who string) (Member, string) {
	if who == "" {
		return Member{}, "Unknown actor input"
	}
	id, byID := strings.CutPrefix(who, "user:")
	if !byID && strings.Trim(who, "0123456789") == "" {
		id, byID = who, true
	}
	for _, m := range members {
		if m.User == nil {
			continue
		}
		if byID && m.User.ID == id || !byID && (strings.EqualFold(m.User.Username, who) || strings.EqualFold(m.User.Email, who)) {
			return m, ""
		}
	}
	if byID {
		return Member{}, "User is not a member of this organization"
	}
	return Member{}, "Unknown actor input"
}
