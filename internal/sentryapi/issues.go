package sentryapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"
)

// Acting on an issue from the chat, and choosing an owner's Sentry user:
//
//	GET <sentry_url>/api/0/organizations/<slug>/issues/<id>/    (event:read)
//	PUT <sentry_url>/api/0/organizations/<slug>/issues/<id>/    (event:write)
//	GET <sentry_url>/api/0/organizations/<slug>/members/        (member:read)
//
// with the same rules for the token as Projects: it goes only to the
// organization's Sentry origin, and every failure is an *Error in words
// that names the permission to add.

// Issue is a Sentry issue as the issue endpoint answers it.
type Issue struct {
	ID            string        `json:"id"`
	ShortID       string        `json:"shortId"`
	Title         string        `json:"title"`
	Culprit       string        `json:"culprit"`
	Permalink     string        `json:"permalink"`
	Level         string        `json:"level"`
	Status        string        `json:"status"`    // unresolved, resolved, ignored (shown as archived), reprocessing
	Substatus     string        `json:"substatus"` // e.g. archived_until_condition_met, ongoing, regressed
	StatusDetails StatusDetails `json:"statusDetails"`
	AssignedTo    *Assignee     `json:"assignedTo"`
	Project       struct {
		ID   string `json:"id"`
		Name string `json:"name"`
		Slug string `json:"slug"`
	} `json:"project"`
	Count     string `json:"count"`
	UserCount int64  `json:"userCount"`
	FirstSeen string `json:"firstSeen"`
	LastSeen  string `json:"lastSeen"`
}

// StatusDetails is what Sentry says of an issue's state; of an ignored
// issue, until when.
type StatusDetails struct {
	IgnoreUntil    string `json:"ignoreUntil,omitempty"`
	IgnoreDuration int    `json:"ignoreDuration,omitempty"` // minutes, in an update
	InNextRelease  bool   `json:"inNextRelease,omitempty"`
	InRelease      string `json:"inRelease,omitempty"`
}

// Assignee is whom an issue is assigned to.
type Assignee struct {
	Type  string `json:"type"` // user or team
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email,omitempty"`
}

// IssueUpdate is the body of an issue update; only the members set are
// changed.
type IssueUpdate struct {
	Status        string         `json:"status,omitempty"`
	StatusDetails *StatusDetails `json:"statusDetails,omitempty"`
	AssignedTo    string         `json:"assignedTo,omitempty"`
}

// Member is one member of an organization as the members endpoint lists
// it. User is nil for an invitation not yet accepted.
type Member struct {
	ID      string      `json:"id"`
	Email   string      `json:"email"`
	Name    string      `json:"name"`
	OrgRole string      `json:"orgRole"`
	Role    string      `json:"role"` // older Sentry's name of orgRole
	Pending bool        `json:"pending"`
	Expired bool        `json:"expired"`
	User    *MemberUser `json:"user"`
}

// MemberUser is a member's Sentry user.
type MemberUser struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Email    string `json:"email"`
	Name     string `json:"name"`
	IsActive *bool  `json:"isActive,omitempty"`
}

// Matches reports whether the member is the Sentry user named by who: a
// numeric user id ("42" or "user:42"), a username or an email (case
// insensitive).
func (m *Member) Matches(who string) bool {
	who = strings.TrimSpace(who)
	if who == "" || m.User == nil {
		return false
	}
	if id, ok := strings.CutPrefix(who, "user:"); ok {
		return id == m.User.ID
	}
	return who == m.User.ID || strings.EqualFold(who, m.User.Username) || strings.EqualFold(who, m.User.Email) ||
		strings.EqualFold(who, m.Email)
}

// IssueURL is the endpoint of one issue of the organization.
func IssueURL(base *url.URL, org, id string) string {
	return base.String() + "/api/0/organizations/" + url.PathEscape(org) + "/issues/" + url.PathEscape(id) + "/"
}

// MembersURL is the endpoint listing the organization's members.
func MembersURL(base *url.URL, org string) string {
	return base.String() + "/api/0/organizations/" + url.PathEscape(org) + "/members/"
}

// The operations, for their explanations.
const (
	opReadIssue   = "read"
	opUpdateIssue = "update"
	opMembers     = "members"
)

// Issue reads issue id of organization org. The token needs event:read
// (an internal integration's Issue & Event: Read).
func (c *Client) Issue(ctx context.Context, sentryURL, org, token, id string) (*Issue, error) {
	var is Issue
	if _, err := c.call(ctx, opReadIssue, http.MethodGet, sentryURL, org, token, id, "", nil, &is); err != nil {
		return nil, err
	}
	return &is, nil
}

// UpdateIssue changes issue id of organization org and returns it as
// Sentry answers. The token needs event:write (Issue & Event: Read &
// Write). Sentry's update is idempotent: the same update again changes
// nothing more.
func (c *Client) UpdateIssue(ctx context.Context, sentryURL, org, token, id string, u IssueUpdate) (*Issue, error) {
	var is Issue
	if _, err := c.call(ctx, opUpdateIssue, http.MethodPut, sentryURL, org, token, id, "", u, &is); err != nil {
		return nil, err
	}
	return &is, nil
}

// Members lists the members of organization org, following the pages,
// sorted by email. The token needs member:read (Member: Read).
func (c *Client) Members(ctx context.Context, sentryURL, org, token string) ([]Member, error) {
	maxPages := c.MaxPages
	if maxPages <= 0 {
		maxPages = 100
	}
	var out []Member
	seen := map[string]bool{}
	cursor := ""
	for page := 0; ; page++ {
		if page == maxPages {
			return nil, &Error{Code: CodeTooManyPages, Org: org, Msg: fmt.Sprintf("Sentry announced more than %d pages of members", maxPages),
				Fix: "type the owner's Sentry user (the email they sign in with) by hand"}
		}
		var items []Member
		h, err := c.call(ctx, opMembers, http.MethodGet, sentryURL, org, token, "", cursor, nil, &items)
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
		next := nextCursor(h.Values("Link"))
		if next == "" || seen[next] || len(items) == 0 {
			break
		}
		seen[next], cursor = true, next
	}
	sort.SliceStable(out, func(i, j int) bool { return strings.ToLower(out[i].Email) < strings.ToLower(out[j].Email) })
	return out, nil
}

// maxAnswer bounds an issue's or a page of members' body.
const maxAnswer = 4 << 20

// call sends one request of op to the organization's Sentry and decodes
// its JSON answer into out. id is the issue's (issue operations), cursor
// a page's (members).
func (c *Client) call(ctx context.Context, op, method, sentryURL, org, token, id, cursor string, body, out any) (http.Header, error) {
	base, err := BaseURL(sentryURL)
	if err != nil {
		return nil, err
	}
	if token = bearerToken(token); token == "" {
		return nil, &Error{Code: CodeNoToken, Host: base.Host, Org: org, Msg: "no Sentry token is set for this organization",
			Fix: "set the organization's api_token to an internal integration's token with " + permission(op)}
	}
	u := MembersURL(base, org)
	if op != opMembers {
		u = IssueURL(base, org, id)
	} else if cursor != "" {
		u += "?cursor=" + url.QueryEscape(cursor)
	}
	var data []byte
	if body != nil {
		if data, err = json.Marshal(body); err != nil {
			return nil, err
		}
	}
	resp, raw, err := c.send(ctx, method, u, token, data, base.Host, org, maxAnswer)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return nil, explain(e, op, id)
		}
		return nil, err
	}
	isJSON := jsonType(resp.Header.Get("Content-Type"))
	if resp.StatusCode != http.StatusOK {
		e := statusError(resp, raw, isJSON, base.Host, org)
		if resp.StatusCode == http.StatusBadRequest && e.Detail == "" && isJSON {
			e.Detail = fieldErrors(raw)
		}
		return nil, explain(e, op, id)
	}
	if len(raw) > maxAnswer || !isJSON || json.Unmarshal(raw, out) != nil {
		return nil, &Error{Code: CodeNotJSON, Status: resp.StatusCode, Host: base.Host, Org: org,
			Msg: fmt.Sprintf("%s answered with %s, not Sentry's JSON", base.Host, snippet(raw)),
			Fix: "the Sentry URL may point at a login page, a proxy or something other than Sentry: use the address you open Sentry with"}
	}
	return resp.Header, nil
}

// bearerToken is a token as pasted, without spaces around it or a
// "Bearer " before it.
func bearerToken(token string) string {
	token = strings.TrimSpace(token)
	if t, ok := strings.CutPrefix(token, "Bearer "); ok {
		token = strings.TrimSpace(t)
	}
	return token
}

// send sends one request with the token to Sentry at u, bounded by the
// client's timeout, and returns the answer (its body closed) with at most
// limit+1 bytes of its body. A request that gets no answer is an *Error
// (netError).
func (c *Client) send(ctx context.Context, method, u, token string, body []byte, host, org string, limit int) (*http.Response, []byte, error) {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 20 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, nil, &Error{Code: CodeBadURL, Host: host, Org: org, Msg: "the request to Sentry cannot be built: " + err.Error(),
			Fix: "check the organization's Sentry URL and slug"}
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "sentry-white")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		return nil, nil, netError(ctx, err, host, org, timeout)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, int64(limit)+1))
	if err != nil {
		return nil, nil, netError(ctx, err, host, org, timeout)
	}
	return resp, raw, nil
}

// fieldErrors reads a validation answer, {"assignedTo": ["…"]}, as one
// line.
func fieldErrors(raw []byte) string {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return ""
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		switch v := m[k].(type) {
		case string:
			parts = append(parts, k+": "+v)
		case []any:
			for _, s := range v {
				if s, ok := s.(string); ok {
					parts = append(parts, k+": "+s)
				}
			}
		}
	}
	return strings.Join(parts, "; ")
}

// permission names what an internal integration needs for op.
func permission(op string) string {
	switch op {
	case opUpdateIssue:
		return "the permission Issue & Event: Read & Write (scope event:write)"
	case opMembers:
		return "the permission Member: Read (scope member:read)"
	}
	return "the permission Issue & Event: Read (scope event:read)"
}

// explain words e for op: which permission a refusal needs, what a 404 of
// an issue means, what Sentry said of an assignee.
func explain(e *Error, op, id string) *Error {
	said := ""
	if e.Detail != "" {
		said = fmt.Sprintf(": %q", e.Detail)
	}
	what := map[string]string{opReadIssue: "read issues", opUpdateIssue: "change issues", opMembers: "list the members"}[op]
	switch e.Code {
	case CodeUnauthorized:
		e.Fix = fmt.Sprintf("the organization's api_token is wrong, expired or revoked: create an internal integration in Sentry (Settings → Developer Settings → Custom Integrations) with %s and paste its token", permission(op))
	case CodeForbidden:
		e.Msg = fmt.Sprintf("Sentry at %s does not let this token %s of %q (403%s)", e.Host, what, e.Org, said)
		e.Fix = fmt.Sprintf("give the token %s: edit the internal integration in Sentry (Settings → Developer Settings → Custom Integrations), or create a token with that scope", permission(op))
	case CodeNotFound:
		if op != opMembers && e.Status == http.StatusNotFound && strings.Contains(e.Msg, "that this token can see") {
			e.Msg = fmt.Sprintf("Sentry at %s has no issue %s in organization %q that this token can see (404%s)", e.Host, id, e.Org, said)
			e.Fix = "the issue was deleted or merged into another, or the token has no access to its project: open the issue in Sentry"
		}
	case CodeRateLimited:
		e.Msg = fmt.Sprintf("Sentry at %s limits the requests of this token and refused this one (429%s)", e.Host, said)
		e.Fix = "nothing was changed; wait a minute and try again"
	case CodeTimeout:
		if op == opUpdateIssue {
			e.Fix = "Sentry may or may not have made the change: look at the issue's state, then try again"
		}
	case CodeBadRequest:
		if op == opUpdateIssue {
			e.Msg = fmt.Sprintf("Sentry at %s refused the change (HTTP %d%s)", e.Host, e.Status, said)
			e.Fix = "nothing was changed"
			if strings.Contains(e.Detail, "assignedTo") {
				e.Fix = "Sentry does not know this person as a member of the organization (or of a team of the issue's project): set the owner's sentry_user to the email they sign in to Sentry with, and invite them to the organization"
			}
		}
	}
	return e
}
