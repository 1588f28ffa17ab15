// Package sentry decodes the webhooks Sentry sends, the legacy WebHooks
// plugin body and the integration-platform resources, into one Event, and
// verifies the integration platform's Sentry-Hook-Signature.
package sentry

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Resources.
const (
	ResourceLegacy      = "legacy" // the legacy WebHooks plugin (no header)
	ResourceIssue       = "issue"
	ResourceEventAlert  = "event_alert"
	ResourceMetricAlert = "metric_alert"
	ResourceError       = "error"
)

// States an alert can report.
const (
	StateNew        = "new"
	StateRegressed  = "regressed"
	StateResolved   = "resolved"
	StateAssigned   = "assigned"
	StateIgnored    = "ignored"
	StateUnresolved = "unresolved"
	StateCritical   = "critical"
	StateWarning    = "warning"
	StateTriggered  = "triggered"
)

// Event is what sentry-white knows of one webhook, whatever its shape.
// Fields are empty when the payload does not carry them.
type Event struct {
	Resource  string // ResourceLegacy, ResourceIssue, …
	Action    string // created, resolved, triggered, critical, …
	RequestID string // Request-ID header (integration platform)

	// Ignored is non-empty when the webhook carries no alert (installation,
	// comment, unknown resources); it says why.
	Ignored string

	ProjectSlugs []string // usually one; metric alerts may list several
	ProjectName  string
	OrgSlug      string // from the payload's URLs, when they name it
	Installation string // integration installation uuid

	Title       string
	Culprit     string
	Level       string
	Environment string
	Release     string
	Platform    string
	Message     string // description_text of metric alerts, log message of others
	URL         string // link to the issue (or alert) in Sentry
	IssueID     string
	ShortID     string
	EventID     string
	Time        time.Time // when the event happened
	FirstSeen   time.Time
	LastSeen    time.Time
	Count       int64 // events in the issue; 0 unknown
	UserCount   int64 // users affected; 0 unknown
	Rules       []string
	State       string // StateNew, StateResolved, …
	Assignee    string
	Actor       string // who caused a follow-up, when a person did
	Resolution  string // how an issue was resolved
	User        string // the affected user (email, username or id)
	Tags        [][2]string
	Unhandled   bool
}

// FollowUp reports whether e follows up an earlier alert (an issue resolved,
// assigned, ignored or unresolved; a metric alert resolved) rather than
// raising a new one.
func (e *Event) FollowUp() bool {
	switch e.State {
	case StateResolved, StateAssigned, StateIgnored, StateUnresolved:
		return true
	}
	return false
}

// Error is a webhook that cannot be read; the message says what is wrong.
type Error struct{ Msg string }

func (e *Error) Error() string { return e.Msg }

func bad(format string, args ...any) error { return &Error{Msg: fmt.Sprintf(format, args...)} }

// MaxDepth is the deepest JSON nesting accepted. Real events nest a few dozen
// levels; more is an attack on the decoder.
const MaxDepth = 256

// Parse decodes a webhook body. header may be nil; it supplies
// Sentry-Hook-Resource and Request-ID. A body that cannot be read gives
// *Error naming the problem.
func Parse(body []byte, header http.Header) (*Event, error) {
	resource := strings.ToLower(strings.TrimSpace(headerGet(header, "Sentry-Hook-Resource")))
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	trimmed := bytes.TrimSpace(body)
	switch {
	case len(trimmed) == 0:
		return nil, bad("the body is empty; Sentry sends a JSON object")
	case !utf8.Valid(body):
		return nil, bad("the body is not valid UTF-8")
	case trimmed[0] == '[':
		return nil, bad("the body is a JSON array; Sentry sends a JSON object")
	case trimmed[0] != '{':
		if json.Valid(trimmed) {
			return nil, bad("the body is a JSON %s; Sentry sends a JSON object", jsonKind(trimmed[0]))
		}
		return nil, bad("the body is not JSON")
	}
	if d := depth(trimmed); d > MaxDepth {
		return nil, bad("the body nests JSON deeper than %d levels", MaxDepth)
	}
	ev, legacy, err := parseBody(trimmed, resource)
	if err != nil {
		return nil, err
	}
	if !legacy {
		ev.RequestID = headerGet(header, "Request-ID")
	}
	return ev, nil
}

// whole is both shapes at once: the legacy plugin's members and the
// integration platform's envelope share no member name, so one decode
// fills either.
type whole struct {
	legacyBody
	envelope
}

// parseBody decodes a JSON object in one pass in the common case. The
// decode is also the validity check: Unmarshal checks the whole body's
// syntax before decoding. legacy reports which shape it was.
func parseBody(body []byte, resource string) (ev *Event, legacy bool, err error) {
	var w whole
	err = json.Unmarshal(body, &w)
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &syn):
		return nil, false, bad("the body is not valid JSON: %v", err)
	case err == nil && resource == "" && (w.Action == "" || w.Data == nil):
		if w.Action != "" {
			break // "data": null still means the integration shape; the probe tells
		}
		ev, err = legacyEvent(&w.legacyBody)
		return ev, true, err
	case err == nil:
		ev, err = integrationEvent(&w.envelope, resource)
		return ev, false, err
	}
	// A member of the other shape has a type this one cannot hold, or
	// "data" is null: decide by presence, then decode the chosen shape
	// alone, as its error must name only its own members.
	var probe struct {
		Action flexString `json:"action"`
		Data   present    `json:"data"`
	}
	_ = json.Unmarshal(body, &probe)
	if resource == "" && (probe.Action == "" || !bool(probe.Data)) {
		ev, err = parseLegacy(body)
		return ev, true, err
	}
	ev, err = parseIntegration(body, resource)
	return ev, false, err
}

func headerGet(h http.Header, k string) string {
	if h == nil {
		return ""
	}
	return h.Get(k)
}

func jsonKind(c byte) string {
	switch c {
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// depth returns the deepest nesting of objects and arrays in b.
func depth(b []byte) int {
	d, max, inStr, esc := 0, 0, false, false
	for _, c := range b {
		if inStr {
			switch {
			case esc:
				esc = false
			case c == '\\':
				esc = true
			case c == '"':
				inStr = false
			}
			continue
		}
		switch c {
		case '"':
			inStr = true
		case '{', '[':
			d++
			if d > max {
				max = d
			}
		case '}', ']':
			d--
		}
	}
	return max
}

func parseLegacy(body []byte) (*Event, error) {
	var p legacyBody
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, bad("the legacy webhook body does not have Sentry's shape: %v", err)
	}
	return legacyEvent(&p)
}

func legacyEvent(p *legacyBody) (*Event, error) {
	ev := &Event{Resource: ResourceLegacy, Action: "triggered", State: StateTriggered}
	e := p.Event
	if e == nil {
		e = &eventBody{}
	}
	slug := first(p.ProjectSlug, p.Project)
	if slug == "" {
		return nil, bad("the webhook names no project (looked for project_slug and project)")
	}
	ev.ProjectSlugs = []string{slug}
	ev.ProjectName = string(p.ProjectName)
	ev.URL = string(p.URL)
	ev.IssueID = string(p.ID)
	ev.Level = first(p.Level, e.Level, flexString(e.Tags.get("level")))
	ev.Culprit = first(p.Culprit, e.Culprit)
	ev.Message = first(p.Message, e.Logentry.Formatted, e.Logentry.Message)
	ev.Rules = p.TriggeringRules
	fillFromEvent(ev, e)
	if ev.Title == "" {
		ev.Title = titleOf(e, p.Message, ev.Culprit)
	}
	if org, _ := orgFromURL(ev.URL); org != "" {
		ev.OrgSlug = org
	}
	if ev.IssueID == "" {
		ev.IssueID = issueIDFromURL(ev.URL)
	}
	return ev, nil
}

// fillFromEvent copies what a stored event carries.
func fillFromEvent(ev *Event, e *eventBody) {
	ev.EventID = first(e.EventID, e.ID)
	if ev.Level == "" {
		ev.Level = first(e.Level, e.Occurrence.Level)
	}
	if ev.Culprit == "" {
		ev.Culprit = first(e.Culprit, e.Transaction, e.Location)
	}
	ev.Environment = first(e.Environment, flexString(e.Tags.get("environment")))
	ev.Release = first(e.Release, flexString(e.Tags.get("sentry:release", "release")))
	ev.Platform = string(e.Platform)
	ev.Time = firstTime(e.Timestamp.Time, e.Datetime.Time, e.Received.Time)
	ev.Tags = e.Tags
	ev.User = first(e.User.Email, e.User.Username, e.User.ID, e.User.IPAddress,
		flexString(e.Tags.get("sentry:user", "user")))
	if t := tagBool(e.Tags.get("handled")); t == "no" {
		ev.Unhandled = true
	}
	ev.Title = string(e.Title)
	if ev.Message == "" {
		ev.Message = first(e.Message, e.Logentry.Formatted, e.Logentry.Message)
	}
}

func tagBool(s string) string { return strings.ToLower(s) }

// titleOf applies the documented fallback order: event.title, a non-empty
// message, metadata.title, "type: value", then the culprit.
func titleOf(e *eventBody, message flexString, culprit string) string {
	if e.Title != "" {
		return string(e.Title)
	}
	if s := strings.TrimSpace(string(message)); s != "" {
		return s
	}
	if e.Occurrence.IssueTitle != "" {
		return string(e.Occurrence.IssueTitle)
	}
	if e.Metadata.Title != "" {
		return string(e.Metadata.Title)
	}
	if e.Metadata.Type != "" || e.Metadata.Value != "" {
		return joinNonEmpty(": ", string(e.Metadata.Type), string(e.Metadata.Value))
	}
	if n := len(e.Exception.Values); n > 0 {
		x := e.Exception.Values[n-1]
		if s := joinNonEmpty(": ", string(x.Type), string(x.Value)); s != "" {
			return s
		}
	}
	if s := first(e.Logentry.Formatted, e.Logentry.Message, e.Message); s != "" {
		return s
	}
	if culprit != "" {
		return culprit
	}
	return "(no title)"
}

func parseIntegration(body []byte, resource string) (*Event, error) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, bad("the integration webhook body does not have Sentry's shape: %v", err)
	}
	return integrationEvent(&env, resource)
}

func integrationEvent(env *envelope, resource string) (*Event, error) {
	if env.Data == nil {
		env.Data = &dataBody{}
	}
	d := env.Data
	if resource == "" {
		resource = guessResource(d)
	}
	ev := &Event{Resource: resource, Action: strings.ToLower(string(env.Action)), Installation: string(env.Installation.UUID)}
	if env.Actor.Type == "user" {
		ev.Actor = string(env.Actor.Name)
	}
	switch resource {
	case ResourceIssue:
		return parseIssue(ev, d)
	case ResourceEventAlert, ResourceError:
		e := d.Event
		if resource == ResourceError {
			e = d.Error
		}
		if e == nil {
			if e = d.Event; e == nil {
				e = d.Error
			}
		}
		if e == nil {
			return nil, bad("the %s webhook has no data.%s", resource, map[bool]string{true: "error", false: "event"}[resource == ResourceError])
		}
		return parseEventResource(ev, d, e)
	case ResourceMetricAlert:
		return parseMetric(ev, d)
	case "installation":
		ev.Ignored = "installation webhooks carry no alert"
	case "comment":
		ev.Ignored = "comment webhooks carry no alert"
	default:
		ev.Ignored = fmt.Sprintf("resource %q carries no alert this version knows", resource)
	}
	return ev, nil
}

func guessResource(d *dataBody) string {
	switch {
	case d.MetricAlert != nil:
		return ResourceMetricAlert
	case d.Event != nil:
		return ResourceEventAlert
	case d.Error != nil:
		return ResourceError
	case d.Issue != nil:
		return ResourceIssue
	case d.Installation != nil:
		return "installation"
	case d.CommentID != "":
		return "comment"
	}
	return "unknown"
}

func parseIssue(ev *Event, d *dataBody) (*Event, error) {
	is := d.Issue
	if is == nil {
		return nil, bad("the issue webhook has no data.issue")
	}
	slug := string(is.Project.Slug)
	if slug == "" {
		return nil, bad("the issue webhook names no project (data.issue.project.slug)")
	}
	ev.ProjectSlugs = []string{slug}
	ev.ProjectName = string(is.Project.Name)
	ev.IssueID = string(is.ID)
	ev.ShortID = string(is.ShortID)
	ev.Title = string(is.Title)
	if ev.Title == "" {
		ev.Title = titleOf(&eventBody{Metadata: is.Metadata}, "", string(is.Culprit))
	}
	ev.Culprit = string(is.Culprit)
	ev.Level = string(is.Level)
	ev.Platform = string(is.Platform)
	ev.FirstSeen, ev.LastSeen = is.FirstSeen.Time, is.LastSeen.Time
	ev.Count, _ = strconv.ParseInt(string(is.Count), 10, 64)
	ev.UserCount, _ = strconv.ParseInt(string(is.UserCount), 10, 64)
	ev.Unhandled = is.IsUnhandled == "true"
	ev.URL = first(is.WebURL, is.Permalink)
	ev.Resolution = string(d.ResolutionType)
	if d.Assignee != nil {
		ev.Assignee = first(d.Assignee.Name, d.Assignee.Email)
	} else if is.AssignedTo != nil {
		ev.Assignee = first(is.AssignedTo.Name, is.AssignedTo.Email)
	}
	switch ev.Action {
	case "created":
		ev.State = StateNew
		ev.Time = ev.FirstSeen
	case "resolved":
		ev.State = StateResolved
	case "assigned":
		ev.State = StateAssigned
	case "ignored", "archived":
		ev.State = StateIgnored
	case "unresolved":
		ev.State = StateUnresolved
		if strings.EqualFold(string(is.Substatus), "regressed") {
			ev.State = StateRegressed
		}
	default:
		ev.State = ev.Action
	}
	if ev.Time.IsZero() {
		ev.Time = ev.LastSeen
	}
	for _, u := range []flexString{is.WebURL, is.URL, is.ProjectURL} {
		if org, _ := orgFromURL(string(u)); org != "" {
			ev.OrgSlug = org
			break
		}
	}
	return ev, nil
}

func parseEventResource(ev *Event, d *dataBody, e *eventBody) (*Event, error) {
	org, slug := orgFromURL(string(e.URL))
	if slug == "" {
		// Not Sentry's shape, but hand-made and proxied payloads sometimes
		// carry the slug itself where Sentry puts the numeric project id.
		if p := strings.TrimSpace(string(e.Project)); p != "" && strings.Trim(p, "0123456789") != "" {
			slug = p
		}
	}
	if slug == "" {
		return nil, bad("the %s webhook names no project (the path of data.%s.url should be /api/0/projects/<org>/<project>/events/…)",
			ev.Resource, map[bool]string{true: "error", false: "event"}[ev.Resource == ResourceError])
	}
	ev.ProjectSlugs = []string{slug}
	ev.OrgSlug = org
	if org2, _ := orgFromURL(string(e.WebURL)); ev.OrgSlug == "" {
		ev.OrgSlug = org2
	}
	fillFromEvent(ev, e)
	if ev.Title == "" {
		ev.Title = titleOf(e, e.Message, ev.Culprit)
	}
	ev.URL = first(e.WebURL, e.IssueURL, e.URL)
	ev.IssueID = first(e.IssueID, flexString(issueIDFromURL(string(e.WebURL))))
	if d.TriggeredRule != "" {
		ev.Rules = []string{string(d.TriggeredRule)}
	} else if d.IssueAlert != nil && d.IssueAlert.Title != "" {
		ev.Rules = []string{string(d.IssueAlert.Title)}
	}
	if ev.Resource == ResourceError {
		ev.State = StateNew
	} else {
		ev.State = StateTriggered
	}
	return ev, nil
}

func parseMetric(ev *Event, d *dataBody) (*Event, error) {
	m := d.MetricAlert
	if m == nil {
		return nil, bad("the metric_alert webhook has no data.metric_alert")
	}
	slugs := m.Projects
	if len(slugs) == 0 {
		slugs = m.AlertRule.Projects
	}
	if len(slugs) == 0 {
		return nil, bad("the metric_alert webhook names no project (data.metric_alert.projects)")
	}
	ev.ProjectSlugs = slugs
	ev.Title = first(d.DescriptionTitle, m.Title, m.AlertRule.Name)
	ev.Message = string(d.DescriptionText)
	ev.Environment = string(m.AlertRule.Environment)
	ev.URL = string(d.WebURL)
	ev.IssueID = string(m.Identifier)
	if m.AlertRule.Name != "" {
		ev.Rules = []string{string(m.AlertRule.Name)}
	}
	switch ev.Action {
	case "critical":
		ev.State, ev.Level = StateCritical, "fatal"
	case "warning":
		ev.State, ev.Level = StateWarning, "warning"
	case "resolved", "closed":
		ev.State, ev.Level = StateResolved, "info"
	default:
		ev.State, ev.Level = ev.Action, "warning"
	}
	ev.FirstSeen = firstTime(m.DateStarted.Time, m.DateDetected.Time, m.DateCreated.Time)
	if ev.State == StateResolved && !m.DateClosed.IsZero() {
		ev.Time = m.DateClosed.Time
	} else {
		ev.Time = ev.FirstSeen
	}
	ev.OrgSlug, _ = orgFromURL(ev.URL)
	return ev, nil
}

// orgFromURL finds the organization (and project, for event API URLs) named
// in a Sentry URL:
//
//	https://<org>.sentry.io/issues/<id>/
//	<prefix>/organizations/<org>/issues/<id>/
//	<host>/api/0/projects/<org>/<project>/events/<event>/
//	<prefix>/<org>/<project>/issues/<id>/            (Sentry 9)
func orgFromURL(raw string) (org, project string) {
	if raw == "" {
		return "", ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", ""
	}
	parts := strings.Split(strings.Trim(u.EscapedPath(), "/"), "/")
	for i := range parts {
		if p, err := url.PathUnescape(parts[i]); err == nil {
			parts[i] = p
		}
	}
	for i := 0; i+1 < len(parts); i++ {
		switch parts[i] {
		case "projects":
			if i >= 2 && parts[i-2] == "api" && i+2 < len(parts) {
				return parts[i+1], parts[i+2]
			}
		case "organizations":
			return parts[i+1], ""
		}
	}
	host := strings.ToLower(u.Hostname())
	if sub, ok := strings.CutSuffix(host, ".sentry.io"); ok && !strings.Contains(sub, ".") {
		switch sub {
		case "us", "de", "www", "o", "app":
		default:
			return sub, ""
		}
	}
	// Sentry 9: /<org>/<project>/issues/<id>/
	for i := 0; i+2 < len(parts); i++ {
		if parts[i+2] == "issues" {
			return parts[i], parts[i+1]
		}
	}
	return "", ""
}

func issueIDFromURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	parts := strings.Split(strings.Trim(u.Path, "/"), "/")
	for i := 0; i+1 < len(parts); i++ {
		if parts[i] == "issues" {
			if _, err := strconv.ParseInt(parts[i+1], 10, 64); err == nil {
				return parts[i+1]
			}
		}
	}
	return ""
}

func first(vals ...flexString) string {
	for _, v := range vals {
		if s := strings.TrimSpace(string(v)); s != "" {
			return string(v)
		}
	}
	return ""
}

func firstTime(ts ...time.Time) time.Time {
	for _, t := range ts {
		if !t.IsZero() {
			return t
		}
	}
	return time.Time{}
}

func joinNonEmpty(sep string, parts ...string) string {
	var out []string
	for _, p := range parts {
		if strings.TrimSpace(p) != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}

// ErrNoSignature and ErrBadSignature are VerifySignature's failures.
var (
	ErrNoSignature  = errors.New("the Sentry-Hook-Signature header is missing")
	ErrBadSignature = errors.New("the Sentry-Hook-Signature does not match the body; check the organization's client secret")
)

// VerifySignature checks Sentry-Hook-Signature: the lowercase hex
// HMAC-SHA256 of the raw body bytes keyed by the integration's client secret
// (its text, not hex-decoded). It never re-encodes the body.
func VerifySignature(body []byte, clientSecret, signature string) error {
	signature = strings.TrimSpace(signature)
	if signature == "" {
		return ErrNoSignature
	}
	got, err := hex.DecodeString(strings.ToLower(signature))
	if err != nil {
		return ErrBadSignature
	}
	mac := hmac.New(sha256.New, []byte(clientSecret))
	mac.Write(body)
	if !hmac.Equal(got, mac.Sum(nil)) {
		return ErrBadSignature
	}
	return nil
}

// Sign returns the Sentry-Hook-Signature for body, as Sentry computes it.
func Sign(body []byte, clientSecret string) string {
	mac := hmac.New(sha256.New, []byte(clientSecret))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}
