// Package sentryapi reads an organization's projects from Sentry's web API
// (sentry.io, its region hosts such as us.sentry.io and de.sentry.io, and
// self-hosted Sentry):
//
//	GET <sentry_url>/api/0/organizations/<slug>/projects/
//	Authorization: Bearer <auth token with project:read>
//
// following the pages Sentry announces in its Link header
// (<…>; rel="next"; results="true"; cursor="…"). Every failure is an *Error
// that says in words what went wrong and what to do; the token never
// appears in an error.
//
// The token goes only to the origin (scheme, host and port) of the
// organization's Sentry URL: a redirect there is followed, a redirect
// anywhere else is not (CodeRedirect), and the next page is always asked
// for at that URL. The client's own connections reach a loopback address
// (127.0.0.0/8, ::1, or 0.0.0.0) only when the Sentry URL names one itself
// (127.0.0.1, [::1], localhost): a name that resolves to this computer is
// refused before anything is sent.
package sentryapi

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/sentry-white/sentry-white/internal/tlsroots"
)

// Project is one Sentry project as the projects endpoint lists it.
type Project struct {
	ID          string `json:"id"`
	Slug        string `json:"slug"`
	Name        string `json:"name"`
	Platform    string `json:"platform,omitempty"`
	Status      string `json:"status,omitempty"` // active, …
	IsMember    bool   `json:"isMember"`
	HasAccess   bool   `json:"hasAccess"`
	DateCreated string `json:"dateCreated,omitempty"`
}

// Error codes.
const (
	CodeBadURL       = "bad_url"      // the Sentry URL is not an http(s) address
	CodeNoToken      = "no_token"     // no token was given
	CodeUnauthorized = "unauthorized" // 401: the token is wrong, expired or revoked
	CodeForbidden    = "forbidden"    // 403: the token lacks project:read or access to the organization
	CodeNotFound     = "not_found"    // 404: no such organization (for this token)
	CodeRateLimited  = "rate_limited" // 429
	CodeServer       = "server"       // 5xx
	CodeBadRequest   = "bad_request"  // another 4xx
	CodeNetwork      = "network"      // Sentry could not be reached
	CodeTimeout      = "timeout"      // Sentry did not answer in time
	CodeNotJSON      = "not_json"     // an answer that is not Sentry's JSON (a login page, a proxy)
	CodeTooManyPages = "too_many_pages"
	CodeRedirect     = "redirect" // Sentry redirected to another origin; the token does not follow
	CodeLoopback     = "loopback" // the Sentry URL's name resolves to this computer; not asked
)

// Codes are the codes an Error has, all of them.
var Codes = []string{CodeBadURL, CodeNoToken, CodeUnauthorized, CodeForbidden, CodeNotFound, CodeRateLimited, CodeServer,
	CodeBadRequest, CodeNetwork, CodeTimeout, CodeNotJSON, CodeTooManyPages, CodeRedirect, CodeLoopback}

// Error is a failed request, explained.
type Error struct {
	Code   string `json:"code"`
	Status int    `json:"status,omitempty"` // the HTTP status, when Sentry answered
	Host   string `json:"host,omitempty"`   // the Sentry host asked
	Org    string `json:"org,omitempty"`
	Detail string `json:"detail,omitempty"` // Sentry's own words ({"detail": …}), when it gave them
	Msg    string `json:"message"`          // what happened
	Fix    string `json:"fix"`              // what to do
}

func (e *Error) Error() string { return e.Msg + "; " + e.Fix }

// Client lists Sentry projects. The zero value is ready to use.
type Client struct {
	// HTTP sends the requests; nil means a client of its own, whose
	// connections reach a loopback address only when the Sentry URL names
	// one. It must not be shared with code that logs request headers.
	// Redirects to another origin are never followed, whatever the client.
	HTTP *http.Client
	// Timeout bounds each page; 0 means 20 s.
	Timeout time.Duration
	// MaxPages bounds how many pages are followed; 0 means 100 (10 000
	// projects at Sentry's 100 a page).
	MaxPages int

	// lookup resolves host names for the client's own connections; nil
	// means the system's resolver (tests make a name resolve to loopback).
	lookup func(ctx context.Context, host string) ([]net.IPAddr, error)
	once   sync.Once
	own    *http.Client
}

// httpClient is c.HTTP, or the client's own, redirected only within the
// origin of the first request.
func (c *Client) httpClient() *http.Client {
	hc := c.HTTP
	if hc == nil {
		c.once.Do(func() {
			t := http.DefaultTransport.(*http.Transport).Clone()
			t.TLSHandshakeTimeout = 10 * time.Second
			t.ResponseHeaderTimeout = 20 * time.Second
			t.DialContext = (&dialer{lookup: c.lookup}).DialContext
			tlsroots.Apply(t)
			c.own = &http.Client{Transport: t}
		})
		hc = c.own
	}
	sameOriginOnly := *hc
	sameOriginOnly.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if !sameOrigin(req.URL, via[0].URL) {
			return http.ErrUseLastResponse // answered as CodeRedirect
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return &sameOriginOnly
}

// sameOrigin reports whether a and b have the same scheme, host and port
// (the default port of the scheme when none is written).
func sameOrigin(a, b *url.URL) bool {
	port := func(u *url.URL) string {
		if p := u.Port(); p != "" {
			return p
		}
		return map[string]string{"http": "80", "https": "443"}[strings.ToLower(u.Scheme)]
	}
	return strings.EqualFold(a.Scheme, b.Scheme) && strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}

// dialer connects to a loopback address only when the host asked for is a
// loopback one itself, so a name that resolves to this computer does not
// receive the token. It dials the addresses it checked (no second lookup).
type dialer struct {
	lookup func(ctx context.Context, host string) ([]net.IPAddr, error)
	d      net.Dialer
}

func (g *dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if loopbackHost(host) {
		return g.d.DialContext(ctx, network, addr)
	}
	lookup := g.lookup
	if lookup == nil {
		lookup = net.DefaultResolver.LookupIPAddr
	}
	ips, err := lookup(ctx, host)
	if err != nil {
		return nil, err
	}
	var first error
	for _, ip := range ips {
		if ip.IP.IsLoopback() || ip.IP.IsUnspecified() {
			first = cmp.Or(first, error(&loopbackError{host: host, ip: ip.IP.String()}))
			continue
		}
		conn, err := g.d.DialContext(ctx, network, net.JoinHostPort(ip.String(), port))
		if err == nil {
			return conn, nil
		}
		first = cmp.Or(first, err)
	}
	if first == nil {
		first = &net.DNSError{Err: "no address", Name: host, IsNotFound: true}
	}
	return nil, first
}

// loopbackHost reports whether a URL's host names this computer itself:
// localhost (and *.localhost) or a loopback address.
func loopbackHost(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// loopbackError is a public name that resolves to this computer.
type loopbackError struct{ host, ip string }

func (e *loopbackError) Error() string {
	return fmt.Sprintf("%s resolves to this computer (%s)", e.host, e.ip)
}

// maxPage bounds one page's body.
const maxPage = 16 << 20

// BaseURL checks a Sentry URL and returns it without a trailing slash:
// https://sentry.io, https://us.sentry.io, https://sentry.example.com/sentry.
// "" means https://sentry.io.
func BaseURL(sentryURL string) (*url.URL, error) {
	s := strings.TrimSpace(sentryURL)
	if s == "" {
		s = "https://sentry.io"
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, &Error{Code: CodeBadURL, Msg: fmt.Sprintf("the Sentry URL %q is not an http(s) address", sentryURL),
			Fix: "set the organization's Sentry URL to the address you open Sentry with, e.g. https://sentry.io, https://de.sentry.io or https://sentry.example.com"}
	}
	// A page of Sentry pasted whole: keep the server part.
	if i := strings.Index(u.Path, "/organizations/"); i >= 0 {
		u.Path = u.Path[:i]
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawQuery, u.Fragment, u.RawPath, u.User = "", "", "", nil
	return u, nil
}

// ProjectsURL is the endpoint listing the organization's projects.
func ProjectsURL(base *url.URL, org string) string {
	return base.String() + "/api/0/organizations/" + url.PathEscape(org) + "/projects/"
}

// Projects lists every project of organization org at sentryURL, following
// the pages. The token needs the project:read scope.
func (c *Client) Projects(ctx context.Context, sentryURL, org, token string) ([]Project, error) {
	base, err := BaseURL(sentryURL)
	if err != nil {
		return nil, err
	}
	if token = bearerToken(token); token == "" {
		return nil, &Error{Code: CodeNoToken, Host: base.Host, Org: org, Msg: "no Sentry auth token is set for this organization",
			Fix: fmt.Sprintf("create one with the project:read scope (%s/settings/account/api/auth-tokens/, or an internal integration with Project: Read) and paste it", base)}
	}
	endpoint := ProjectsURL(base, org)
	maxPages := c.MaxPages
	if maxPages <= 0 {
		maxPages = 100
	}
	var out []Project
	seen := map[string]bool{}
	cursor := ""
	for page := 0; ; page++ {
		if page == maxPages {
			return nil, &Error{Code: CodeTooManyPages, Host: base.Host, Org: org,
				Msg: fmt.Sprintf("Sentry announced more than %d pages of projects", maxPages), Fix: "add the projects by hand, or report this to sentry-white"}
		}
		u := endpoint
		if cursor != "" {
			u += "?cursor=" + url.QueryEscape(cursor)
		}
		items, next, err := c.page(ctx, u, token, base.Host, org)
		if err != nil {
			return nil, err
		}
		out = append(out, items...)
		if next == "" || seen[next] || len(items) == 0 {
			return out, nil
		}
		seen[next] = true
		cursor = next
	}
}

// page fetches one page and returns its projects and the next cursor ("" on
// the last page).
func (c *Client) page(ctx context.Context, u, token, host, org string) ([]Project, string, error) {
	resp, body, err := c.send(ctx, http.MethodGet, u, token, nil, host, org, maxPage)
	if err != nil {
		return nil, "", err
	}
	if len(body) > maxPage {
		return nil, "", &Error{Code: CodeNotJSON, Status: resp.StatusCode, Host: host, Org: org,
			Msg: fmt.Sprintf("%s answered with more than %d MB", host, maxPage>>20), Fix: "check the Sentry URL"}
	}
	isJSON := jsonType(resp.Header.Get("Content-Type"))
	if resp.StatusCode != http.StatusOK {
		return nil, "", statusError(resp, body, isJSON, host, org)
	}
	var items []Project
	if !isJSON || json.Unmarshal(body, &items) != nil {
		what := resp.Header.Get("Content-Type")
		if what == "" {
			what = "no content type"
		}
		return nil, "", &Error{Code: CodeNotJSON, Status: resp.StatusCode, Host: host, Org: org,
			Msg: fmt.Sprintf("%s answered with %s (%s), not Sentry's list of projects", host, what, snippet(body)),
			Fix: "the Sentry URL may point at a login page, a proxy or something other than Sentry: use the address you open Sentry with (for sentry.io organizations https://sentry.io, or https://de.sentry.io in the EU)"}
	}
	return items, nextCursor(resp.Header.Values("Link")), nil
}

func jsonType(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// snippet shows the start of a body that is not JSON, as one line.
func snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	if len([]rune(s)) > 60 {
		s = string([]rune(s)[:60]) + "…"
	}
	if s == "" {
		return "an empty body"
	}
	return fmt.Sprintf("%q", s)
}

func statusError(resp *http.Response, body []byte, isJSON bool, host, org string) *Error {
	e := &Error{Status: resp.StatusCode, Host: host, Org: org}
	var detail struct {
		Detail any `json:"detail"`
	}
	if isJSON && json.Unmarshal(body, &detail) == nil && detail.Detail != nil {
		switch d := detail.Detail.(type) {
		case string:
			e.Detail = d
		case map[string]any: // {"detail": {"code": …, "message": …}}
			if m, ok := d["message"].(string); ok {
				e.Detail = m
			}
		}
	}
	said := ""
	if e.Detail != "" {
		said = fmt.Sprintf(": %q", e.Detail)
	}
	switch code := resp.StatusCode; {
	case code >= 300 && code < 400:
		e.Code = CodeRedirect
		to := resp.Header.Get("Location")
		if loc, err := resp.Request.URL.Parse(to); err == nil {
			to = (&url.URL{Scheme: loc.Scheme, Host: loc.Host}).String()
		}
		e.Msg = fmt.Sprintf("Sentry at %s redirected (HTTP %d) to %s; the token is sent only to the organization's Sentry URL, so it did not follow", host, code, to)
		e.Fix = "if that address is your Sentry, set the organization's Sentry URL to it (the address you open Sentry with)"
	case code == http.StatusUnauthorized:
		e.Code = CodeUnauthorized
		e.Msg = fmt.Sprintf("Sentry at %s refused the token (401%s)", host, said)
		e.Fix = fmt.Sprintf("the token is wrong, expired or revoked: create an auth token with the project:read scope (https://%s/settings/account/api/auth-tokens/, or an internal integration with Project: Read) and paste it again", host)
	case code == http.StatusForbidden:
		e.Code = CodeForbidden
		e.Msg = fmt.Sprintf("Sentry at %s does not let this token list the projects of %q (403%s)", host, org, said)
		e.Fix = fmt.Sprintf("the token needs the project:read scope and access to the organization %q: create a token with project:read as a member of %q (or an internal integration of %q with Project: Read)", org, org, org)
	case code == http.StatusNotFound && isJSON:
		e.Code = CodeNotFound
		e.Msg = fmt.Sprintf("Sentry at %s has no organization %q that this token can see (404%s)", host, org, said)
		e.Fix = "check the organization slug (the name after /organizations/ in Sentry's address, or the first part of <slug>.sentry.io) and the Sentry URL; an organization whose data is stored in the EU is at https://de.sentry.io"
	case code == http.StatusNotFound:
		e.Code = CodeNotFound
		e.Msg = fmt.Sprintf("%s answered 404 with %s: the address has no Sentry API", host, snippet(body))
		e.Fix = "check the Sentry URL: it is the address you open Sentry with, e.g. https://sentry.io or https://sentry.example.com (with its path, if Sentry is served under one)"
	case code == http.StatusTooManyRequests:
		e.Code = CodeRateLimited
		e.Msg = fmt.Sprintf("Sentry at %s limits the requests of this token (429%s)", host, said)
		e.Fix = "wait a minute and try again"
	case code >= 500:
		e.Code = CodeServer
		e.Msg = fmt.Sprintf("Sentry at %s failed (HTTP %d%s)", host, code, said)
		e.Fix = "try again later; for a self-hosted Sentry, check that it is running and its logs"
	default:
		e.Code = CodeBadRequest
		e.Msg = fmt.Sprintf("Sentry at %s refused the request (HTTP %d%s)", host, code, said)
		e.Fix = "check the organization slug and the Sentry URL"
	}
	return e
}

// netError explains a request that got no answer.
func netError(ctx context.Context, err error, host, org string, timeout time.Duration) *Error {
	var ne net.Error
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return &Error{Code: CodeTimeout, Host: host, Org: org,
			Msg: fmt.Sprintf("Sentry at %s did not answer within %s", host, timeout.Round(time.Second)),
			Fix: "check the Sentry URL and this computer's network or proxy, then try again"}
	}
	reason := err.Error()
	var ue *url.Error
	if errors.As(err, &ue) {
		reason = ue.Err.Error() // without the URL
	}
	var dns *net.DNSError
	var lb *loopbackError
	switch {
	case errors.As(err, &lb):
		return &Error{Code: CodeLoopback, Host: host, Org: org, Msg: fmt.Sprintf("Sentry at %s is not asked: %s", host, lb),
			Fix: "the token goes to a loopback address only when the Sentry URL names one (http://127.0.0.1:PORT, http://[::1]:PORT or http://localhost:PORT); for a Sentry on this computer use such an address, else check the name's DNS"}
	case errors.As(err, &dns):
		reason = fmt.Sprintf("the name %s cannot be resolved", dns.Name)
	case strings.Contains(reason, "connection refused"):
		reason = "the connection was refused"
	}
	return &Error{Code: CodeNetwork, Host: host, Org: org,
		Msg: fmt.Sprintf("Sentry at %s cannot be reached: %s", host, reason),
		Fix: "check the Sentry URL (for sentry.io organizations https://sentry.io) and this computer's network or proxy"}
}

// The Link header's expressions are compiled at their first use, not at
// start: a cold relay answers its first webhook without them.
var (
	linkRE  = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`<([^>]*)>([^<]*)`) })
	paramRE = sync.OnceValue(func() *regexp.Regexp {
		return regexp.MustCompile(`;\s*([A-Za-z]+)\s*=\s*(?:"([^"]*)"|([^;,\s]*))`)
	})
)

// nextCursor reads Sentry's Link header: the cursor of rel="next" when it
// says results="true" (or says nothing about results), else "". The next
// page is asked for on the organization's own Sentry URL with this cursor,
// never at the link's host: a self-hosted Sentry behind a proxy may name
// an address only it can reach, and the token goes nowhere else.
func nextCursor(headers []string) string {
	for _, h := range headers {
		for _, m := range linkRE().FindAllStringSubmatch(h, -1) {
			params := map[string]string{}
			for _, p := range paramRE().FindAllStringSubmatch(m[2], -1) {
				v := p[2]
				if v == "" {
					v = p[3]
				}
				params[strings.ToLower(p[1])] = v
			}
			if params["rel"] != "next" {
				continue
			}
			if r, ok := params["results"]; ok && r != "true" {
				return ""
			}
			if c := params["cursor"]; c != "" {
				return c
			}
			if u, err := url.Parse(m[1]); err == nil {
				return u.Query().Get("cursor")
			}
			return ""
		}
	}
	return ""
}
