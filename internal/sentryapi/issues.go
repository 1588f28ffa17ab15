package sentryapi

import (
	"context"
	"encoding/json"
	"net/url"
	"strings"
	"time"
)

// What the relay and the configurator ask of an organization's Sentry with
// its token (an internal integration's): the organization's API host (its
// region on sentry.io), an issue's facts, and what the token may do.
//
//	GET <sentry_url>/api/0/organizations/<slug>/            org:read     {"slug", "links": {"organizationUrl", "regionUrl"}}
//	GET <api>/api/0/organizations/<slug>/issues/<id>/       event:read   the issue: count, userCount, firstSeen, status, substatus, assignedTo, shortId
//	GET <api>/api/0/organizations/<slug>/issues/?limit=1    event:read   a list of issues
//	GET <sentry_url>/api/0/                                 (any token)  {"version", "auth": {"scopes": [...]}, "user"}
//
// <api> is the organization's region URL for sentry.io organizations
// (https://us.sentry.io, https://de.sentry.io), else the Sentry URL.

// permissionOf names the internal integration permission that grants a
// scope, as Sentry's integration form words it.
func permissionOf(scope string) string {
	switch scope {
	case "org:read":
		return "Organization: Read"
	case "project:read":
		return "Project: Read"
	case "event:read":
		return "Issue & Event: Read"
	case "event:write":
		return "Issue & Event: Read & Write"
	}
	return scope
}

// Organization is what GET /api/0/organizations/<slug>/ answers that the
// relay reads: its links name the organization's region.
type Organization struct {
	ID    string `json:"id"`
	Slug  string `json:"slug"`
	Name  string `json:"name"`
	Links struct {
		OrganizationURL string `json:"organizationUrl"`
		RegionURL       string `json:"regionUrl"`
	} `json:"links"`
}

// Organization reads the organization org at sentryURL (scope org:read).
func (c *Client) Organization(ctx context.Context, sentryURL, org, token string) (*Organization, error) {
	base, token, err := prepare(sentryURL, org, token)
	if err != nil {
		return nil, err
	}
	var o Organization
	if _, err := c.get(ctx, base.String()+"/api/0/organizations/"+url.PathEscape(org)+"/", token, base.Host, org, readOrg, &o); err != nil {
		return nil, err
	}
	return &o, nil
}

// IsSentryIO reports whether host is sentry.io or one of its hosts
// (us.sentry.io, de.sentry.io, <org>.sentry.io).
func IsSentryIO(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	return h == "sentry.io" || strings.HasSuffix(h, ".sentry.io")
}

// APIBase returns where the organization's API is asked: for a sentry.io
// organization, the region URL its details name (https://us.sentry.io,
// https://de.sentry.io), when it is an https sentry.io host; else the
// organization's Sentry URL itself (self-hosted Sentry has one host). The
// token goes to no other origin.
func APIBase(sentryURL *url.URL, regionURL string) *url.URL {
	if !IsSentryIO(sentryURL.Hostname()) || regionURL == "" {
		return sentryURL
	}
	r, err := url.Parse(strings.TrimSpace(regionURL))
	if err != nil || r.Scheme != "https" || r.User != nil || r.Port() != "" || !IsSentryIO(r.Hostname()) ||
		strings.Trim(r.Path, "/") != "" || r.RawQuery != "" {
		return sentryURL
	}
	return &url.URL{Scheme: "https", Host: strings.ToLower(r.Host)}
}

// Issue is what GET /api/0/organizations/<slug>/issues/<id>/ answers that
// an alert shows: Sentry's facts about the issue.
type Issue struct {
	ID         string    `json:"id"`
	ShortID    string    `json:"shortId"`
	Title      string    `json:"title"`
	Count      flexCount `json:"count"` // a string in Sentry's answer
	UserCount  flexCount `json:"userCount"`
	FirstSeen  flexTime  `json:"firstSeen"`
	LastSeen   flexTime  `json:"lastSeen"`
	Status     string    `json:"status"`    // unresolved, resolved, ignored
	Substatus  string    `json:"substatus"` // new, ongoing, escalating, regressed, archived_…
	Permalink  string    `json:"permalink"`
	AssignedTo *struct {
		Type  string `json:"type"` // user or team
		ID    string `json:"id"`
		Name  string `json:"name"`
		Email string `json:"email"`
	} `json:"assignedTo"`
}

// flexCount reads a count written as a number or as a string of one.
type flexCount int64

func (f *flexCount) UnmarshalJSON(b []byte) error {
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		var s string
		if json.Unmarshal(b, &s) != nil {
			*f = 0
			return nil
		}
		n = json.Number(s)
	}
	v, err := n.Int64()
	if err != nil {
		*f = 0
		return nil
	}
	*f = flexCount(v)
	return nil
}

// flexTime reads an ISO 8601 time; anything else is the zero time rather
// than a failed answer.
type flexTime struct{ time.Time }

func (t *flexTime) UnmarshalJSON(b []byte) error {
	var s string
	t.Time = time.Time{}
	if json.Unmarshal(b, &s) == nil {
		if v, err := time.Parse(time.RFC3339Nano, s); err == nil {
			t.Time = v
		}
	}
	return nil
}

// Issue reads issue id of organization org from the API at apiBase (from
// APIBase; scope event:read).
func (c *Client) Issue(ctx context.Context, apiBase *url.URL, org, id, token string) (*Issue, error) {
	token = bare(token)
	var is Issue
	u := apiBase.String() + "/api/0/organizations/" + url.PathEscape(org) + "/issues/" + url.PathEscape(id) + "/"
	if _, err := c.get(ctx, u, token, apiBase.Host, org, readIssue, &is); err != nil {
		return nil, err
	}
	return &is, nil
}

// Scopes reads the scopes the token carries, as Sentry's API index reports
// them for its own token (GET /api/0/; any token may ask).
func (c *Client) Scopes(ctx context.Context, sentryURL, token string) ([]string, error) {
	base, err := BaseURL(sentryURL)
	if err != nil {
		return nil, err
	}
	var idx struct {
		Auth *struct {
			Scopes []string `json:"scopes"`
		} `json:"auth"`
	}
	if _, err := c.get(ctx, base.String()+"/api/0/", bare(token), base.Host, "", readAuth, &idx); err != nil {
		return nil, err
	}
	if idx.Auth == nil {
		return nil, nil
	}
	return idx.Auth.Scopes, nil
}

// ListIssues asks for one issue of the organization: whether the token may
// read its issues (scope event:read).
func (c *Client) ListIssues(ctx context.Context, apiBase *url.URL, org, token string) (int, error) {
	var items []json.RawMessage
	u := apiBase.String() + "/api/0/organizations/" + url.PathEscape(org) + "/issues/?limit=1"
	if _, err := c.get(ctx, u, bare(token), apiBase.Host, org, readIssues, &items); err != nil {
		return 0, err
	}
	return len(items), nil
}

// prepare checks a Sentry URL, an organization slug and a token.
func prepare(sentryURL, org, token string) (*url.URL, string, error) {
	base, err := BaseURL(sentryURL)
	if err != nil {
		return nil, "", err
	}
	token = bare(token)
	if token == "" {
		return nil, "", &Error{Code: CodeNoToken, Host: base.Host, Org: org, Msg: "no Sentry token is set for this organization",
			Fix: "create an internal integration in Sentry (Settings → Developer Settings → Custom Integrations) and paste its token"}
	}
	return base, token, nil
}

// bare is a token without spaces or a "Bearer " prefix.
func bare(token string) string {
	token = strings.TrimSpace(token)
	if t, ok := strings.CutPrefix(token, "Bearer "); ok {
		token = strings.TrimSpace(t)
	}
	return token
}

// TokenCheck is what a token may do in an organization, as Sentry answers
// it: the scopes Sentry reports for the token, and each thing the relay
// and the configurator ask of Sentry tried once.
type TokenCheck struct {
	Host string `json:"host"` // the Sentry host asked
	// APIURL is where the organization's API is asked (its region on
	// sentry.io), when the organization could be read.
	APIURL string `json:"api_url,omitempty"`
	// Scopes are the token's scopes as Sentry's API index reports them;
	// nil when it reports none.
	Scopes []string    `json:"scopes"`
	Checks []CheckItem `json:"checks"`
	// Facts: the relay can add Sentry's facts to alerts (issues readable);
	// Import: the configurator can list the projects; Act: the token may
	// change issues (event:write: resolve, assign — actions from the chat).
	Facts  bool `json:"facts"`
	Import bool `json:"import"`
	Act    bool `json:"act"`
}

// CheckItem is one thing tried: what, the scope it needs, and how it went.
type CheckItem struct {
	What  string `json:"what"` // organization, projects, issues
	Scope string `json:"scope"`
	OK    bool   `json:"ok"`
	Error *Error `json:"error,omitempty"`
}

// CheckToken asks Sentry what token may do in organization org: its
// scopes (GET /api/0/), the organization (org:read, which names its
// region), its projects (project:read, one page) and its issues
// (event:read, one issue). A token Sentry refuses outright (401), or a
// Sentry that cannot be reached, is the error; a scope missing is a check
// that failed.
func (c *Client) CheckToken(ctx context.Context, sentryURL, org, token string) (*TokenCheck, error) {
	base, token, err := prepare(sentryURL, org, token)
	if err != nil {
		return nil, err
	}
	out := &TokenCheck{Host: base.Host, Checks: []CheckItem{}}
	scopes, err := c.Scopes(ctx, sentryURL, token)
	if err != nil {
		return nil, err
	}
	out.Scopes = scopes
	try := func(what, scope string, f func() error) bool {
		it := CheckItem{What: what, Scope: scope, OK: true}
		if err := f(); err != nil {
			it.OK = false
			if e, ok := err.(*Error); ok {
				it.Error = e
			} else {
				it.Error = &Error{Code: CodeNetwork, Host: base.Host, Org: org, Msg: err.Error(), Fix: "try again"}
			}
		}
		out.Checks = append(out.Checks, it)
		return it.OK
	}
	api := base
	try("organization", "org:read", func() error {
		o, err := c.Organization(ctx, sentryURL, org, token)
		if err == nil {
			api = APIBase(base, o.Links.RegionURL)
			out.APIURL = api.String()
		}
		return err
	})
	out.Import = try("projects", "project:read", func() error {
		_, _, err := c.page(ctx, ProjectsURL(base, org), token, base.Host, org)
		return err
	})
	out.Facts = try("issues", "event:read", func() error {
		_, err := c.ListIssues(ctx, api, org, token)
		return err
	})
	for _, s := range scopes {
		out.Act = out.Act || s == "event:write" || s == "event:admin"
	}
	return out, nil
}
