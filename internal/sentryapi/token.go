package sentryapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// What an organization's token may do, and where its API is:
//
//	GET <sentry_url>/api/0/                                 (any token)  {"version", "auth": {"scopes": [...]}, "user"}
//	GET <sentry_url>/api/0/organizations/<slug>/            org:read     {"slug", "links": {"organizationUrl", "regionUrl"}}
//	GET <api>/api/0/organizations/<slug>/issues/?limit=1    event:read   a list of issues
//
// <api> is the organization's region URL for sentry.io organizations
// (https://us.sentry.io, https://de.sentry.io; APIBase), else the Sentry
// URL.

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

// read is one read of what a token may do: what it asks, in words for a
// refusal ("read the organization %q"), the scope that allows it, and the
// permission of an internal integration that grants the scope.
type read struct {
	what, scope, permission string
}

var (
	readOrg    = read{"read the organization %q", "org:read", "Organization: Read"}
	readIssues = read{"list the issues of %q", "event:read", "Issue & Event: Read"}
	readScopes = read{"read its own scopes at %q", "", ""}
)

// get reads u with the token into out; a refusal names the scope.
func (c *Client) get(ctx context.Context, u string, base *url.URL, org, token string, k read, out any) error {
	resp, raw, err := c.send(ctx, http.MethodGet, u, token, nil, base.Host, org, maxAnswer)
	if err != nil {
		return err
	}
	isJSON := jsonType(resp.Header.Get("Content-Type"))
	if resp.StatusCode != http.StatusOK {
		e := statusError(resp, raw, isJSON, base.Host, org)
		if e.Code == CodeForbidden && k.scope != "" {
			said := ""
			if e.Detail != "" {
				said = fmt.Sprintf(": %q", e.Detail)
			}
			e.Msg = fmt.Sprintf("Sentry at %s does not let this token "+k.what+" (403%s)", base.Host, org, said)
			e.Fix = fmt.Sprintf("the token needs the %s scope: give the internal integration of %q the permission %s", k.scope, org, k.permission)
		}
		return e
	}
	if len(raw) > maxAnswer || !isJSON || json.Unmarshal(raw, out) != nil {
		return &Error{Code: CodeNotJSON, Status: resp.StatusCode, Host: base.Host, Org: org,
			Msg: fmt.Sprintf("%s answered with %s, not Sentry's JSON", base.Host, snippet(raw)),
			Fix: "the Sentry URL may point at a login page, a proxy or something other than Sentry: use the address you open Sentry with"}
	}
	return nil
}

// prepare checks a Sentry URL and a token.
func prepare(sentryURL, org, token string) (*url.URL, string, error) {
	base, err := BaseURL(sentryURL)
	if err != nil {
		return nil, "", err
	}
	if token = bearerToken(token); token == "" {
		return nil, "", &Error{Code: CodeNoToken, Host: base.Host, Org: org, Msg: "no Sentry token is set for this organization",
			Fix: "create an internal integration in Sentry (Settings → Developer Settings → Custom Integrations) and paste its token"}
	}
	return base, token, nil
}

// Organization reads the organization org at sentryURL (scope org:read).
func (c *Client) Organization(ctx context.Context, sentryURL, org, token string) (*Organization, error) {
	base, token, err := prepare(sentryURL, org, token)
	if err != nil {
		return nil, err
	}
	var o Organization
	if err := c.get(ctx, base.String()+"/api/0/organizations/"+url.PathEscape(org)+"/", base, org, token, readOrg, &o); err != nil {
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

// Scopes reads the scopes the token carries, as Sentry's API index reports
// them for its own token (GET /api/0/; any token may ask).
func (c *Client) Scopes(ctx context.Context, sentryURL, token string) ([]string, error) {
	base, token, err := prepare(sentryURL, "", token)
	if err != nil {
		return nil, err
	}
	var idx struct {
		Auth *struct {
			Scopes []string `json:"scopes"`
		} `json:"auth"`
	}
	if err := c.get(ctx, base.String()+"/api/0/", base, "", token, readScopes, &idx); err != nil {
		return nil, err
	}
	if idx.Auth == nil {
		return nil, nil
	}
	return idx.Auth.Scopes, nil
}

// ListIssues asks for one issue of the organization at its API: whether
// the token may read its issues (scope event:read).
func (c *Client) ListIssues(ctx context.Context, apiBase *url.URL, org, token string) (int, error) {
	var items []json.RawMessage
	u := apiBase.String() + "/api/0/organizations/" + url.PathEscape(org) + "/issues/?limit=1"
	if err := c.get(ctx, u, apiBase, org, bearerToken(token), readIssues, &items); err != nil {
		return 0, err
	}
	return len(items), nil
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
	if out.Scopes, err = c.Scopes(ctx, sentryURL, token); err != nil {
		return nil, err
	}
	try := func(what, scope string, f func() error) bool {
		it := CheckItem{What: what, Scope: scope, OK: true}
		if err := f(); err != nil {
			it.OK = false
			if !errors.As(err, &it.Error) {
				it.Error = &Error{Code: CodeNetwork, Host: base.Host, Org: org, Msg: err.Error(), Fix: "try again"}
			}
		}
		out.Checks = append(out.Checks, it)
		return it.OK
	}
	api := base
	try("organization", readOrg.scope, func() error {
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
	out.Facts = try("issues", readIssues.scope, func() error {
		_, err := c.ListIssues(ctx, api, org, token)
		return err
	})
	for _, s := range out.Scopes {
		out.Act = out.Act || s == "event:write" || s == "event:admin"
	}
	return out, nil
}
