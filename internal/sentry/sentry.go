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
	// ResourceActivityAlert is an alert rule on issue activity (Sentry
	// 2026): data.alert is the rule, data.issue the issue.
	ResourceActivityAlert = "activity_alert"
)

// The names of an alert rule's action settings (contract §7), saved in
// users' Sentry alert rules by the integration's alert-rule-action UI
// component.
const (
	SettingRobot   = "robot"   // a robot id, as a string
	SettingMention = "mention" // MentionOwners, MentionOnCall, MentionAll or MentionNone
	SettingNotes   = "notes"   // text added to the message
)

// The values of the mention setting.
const (
	MentionOwners = "owners" // the project's owners
	MentionOnCall = "oncall" // the person on duty of the project's schedule
	MentionAll    = "all"    // everyone in the group
	MentionNone   = "none"   // nobody
)

// States an alert can report.
const (
	StateNew        = "new"
	StateRegressed  = "regressed"
	StateResolved   = "resolved"
	StateAssigned   = "assigned"
	StateIgnored    = "ignored"
	StateArchived   = "archived"
	StateUnresolved = "unresolved"
	StateCritical   = "critical"
	StateWarning    = "warning"
	StateTriggered  = "triggered"
	// StateError is one error event (error.created): most are repeats of
	// a known issue, so it never means a new issue.
	StateError = "error"
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
	Host         string // the Sentry host of the payload's links (lowercase), when it has one
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
	Request     string // the request that failed: "METHOD URL"
	Unhandled   bool

	// RuleRobot, RuleMention and RuleNotes are the settings of the alert
	// rule's action (contract §7: robot, mention, notes), as the alert
	// carries them; all empty when it carries none.
	RuleRobot   string
	RuleMention string
	RuleNotes   string
	// IssueState is the issue's state as Sentry's own alerts word it (its
	// substatus: new, ongoing, escalating, regressed, …), when known.
	IssueState string
	// Activity is the type of the issue activity that fired an activity
	// alert (seer_root_cause_completed, …).
	Activity string
}

// HasRule reports whether the alert carries settings of an alert rule's
// action.
func (e *Event) HasRule() bool { return e.RuleRobot != "" || e.RuleMention != "" || e.RuleNotes != "" }

// FollowUp reports whether e follows up an earlier alert (an issue resolved,
// assigned, ignored or unresolved; a metric alert resolved) rather than
// raising a new one.
func (e *Event) FollowUp() bool {
	switch e.State {
	case StateResolved, StateAssigned, StateIgnored, StateArchived, StateUnresolved:
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
func Parse(body []byte, header http.Header) (*Event, error) { return parse(body, header, true) }

// parse is Parse; fast false decodes with encoding/json alone (the tests'
// reference for the fast decoder).
func parse(body []byte, header http.Header, fast bool) (*Event, error) {
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
	ev, legacy, err := parseBody(trimmed, resource, fast)
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

// parseBody decodes a JSON object in one pass, which is also the validity
// check. Decoding is lenient: a member whose type is not the one Sentry
// sends (an array where an object was expected, a number for a string…)
// is skipped, and everything else is still decoded, so one odd optional
// field never loses the alert. The fast decoder (decode.go) reads the
// bodies Sentry sends; any other body is decoded with encoding/json, as
// it always was. legacy reports which shape it was.
func parseBody(body []byte, resource string, fast bool) (ev *Event, legacy bool, err error) {
	var w whole
	data, ok := false, false
	if fast {
		data, ok = fastDecode(body, &w)
	}
	if !ok {
		w = whole{}
		if data, err = slowDecode(body, &w); err != nil {
			return nil, false, err
		}
	}
	if resource == "" {
		// "data" null or of another type still means the integration
		// shape; only its absence means the legacy plugin.
		if legacy = w.Action == "" || !data; legacy {
			ev, err = legacyEvent(&w.legacyBody)
			return ev, true, err
		}
	}
	ev, err = integrationEvent(&w.envelope, resource)
	return ev, false, err
}

// slowDecode decodes body into w with encoding/json: a member of an
// unexpected type is skipped by Unmarshal, which still decodes everything
// else and only reports the first such mismatch; that report is dropped.
// data reports whether the body has a "data" member (of any value).
func slowDecode(body []byte, w *whole) (data bool, err error) {
	if d := depth(body); d > MaxDepth {
		return false, bad("the body nests JSON deeper than %d levels", MaxDepth)
	}
	if err = json.Unmarshal(body, w); err != nil {
		// Declared here, not above: errors.As makes them escape.
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return false, bad("the body is not valid JSON: %v", err)
		case !errors.As(err, &typ):
			return false, bad("the body cannot be read: %v", err)
		}
	}
	data = w.Data != nil
	if !data && w.Action != "" {
		var probe struct {
			Data present `json:"data"`
		}
		_ = json.Unmarshal(body, &probe)
		data = bool(probe.Data)
	}
	return data, nil
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

func legacyEvent(p *legacyBody) (*Event, error) {
	ev := &Event{Resource: ResourceLegacy, Action: "triggered", State: StateTriggered}
	e := p.Event
	if e == nil {
		e = &eventBody{}
	}
	slug := strings.TrimSpace(first(p.ProjectSlug, p.Project))
	if slug == "" {
		return nil, bad("the webhook names no project (looked for project_slug and project)")
	}
	ev.ProjectSlugs = []string{slug}
	ev.ProjectName = string(p.ProjectName)
	ev.URL = string(p.URL)
	ev.IssueID = string(p.ID)
	ev.Level = first(p.Level, e.Level, flexString(e.Tags.get("level")))
	ev.Culprit = first(p.Culprit, e.Culprit)
	ev.Message = first(p.Message, e.Logentry.Formatted, e.Logentry.Message, e.legacyMessage().Formatted, e.legacyMessage().Message)
	ev.Rules = p.TriggeringRules
	fillFromEvent(ev, e)
	if ev.Title == "" {
		ev.Title = titleOf(e, p.Message, ev.Culprit)
	}
	ev.OrgSlug, _, ev.Host = linkInfo(ev.URL)
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
	ev.User = userOf(e)
	ev.Request = requestOf(e)
	if t := tagBool(e.Tags.get("handled")); t == "no" {
		ev.Unhandled = true
	}
	ev.Title = string(e.Title)
	if ev.Message == "" {
		ev.Message = first(e.Message, e.Logentry.Formatted, e.Logentry.Message, e.legacyMessage().Formatted, e.legacyMessage().Message)
	}
}

// userOf names the event's user: a field of the user interface (user, or
// sentry.interfaces.User before Sentry 9) when there is one, else the
// sentry:user tag, without its "email:" or "username:" prefix.
func userOf(e *eventBody) string {
	u, l := &e.User, e.LegacyUser
	if l == nil {
		l = &noUser
	}
	if s := first(u.Email, l.Email, u.Username, l.Username, u.Name, l.Name, u.ID, l.ID, u.IPAddress, l.IPAddress); s != "" {
		return s
	}
	tag := e.Tags.get("sentry:user", "user")
	for _, p := range []string{"email:", "username:"} {
		if v, ok := strings.CutPrefix(tag, p); ok && strings.TrimSpace(v) != "" {
			return v
		}
	}
	return tag
}

// requestOf is the event's request, "METHOD URL", from request or
// sentry.interfaces.Http.
func requestOf(e *eventBody) string {
	h := &e.Request
	if h.URL == "" && e.LegacyHTTP != nil {
		h = e.LegacyHTTP
	}
	u := strings.TrimSpace(string(h.URL))
	if u == "" {
		return ""
	}
	if m := strings.TrimSpace(string(h.Method)); m != "" {
		return strings.ToUpper(m) + " " + u
	}
	return u
}

// noUser and noLogentry stand for absent Sentry 8 interfaces; never
// written.
var (
	noUser     userBody
	noLogentry logentry
)

func (e *eventBody) legacyMessage() *logentry {
	if e.LegacyMessage == nil {
		return &noLogentry
	}
	return e.LegacyMessage
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
	vals := e.Exception.Values
	if len(vals) == 0 && e.LegacyException != nil {
		vals = e.LegacyException.Values
	}
	if n := len(vals); n > 0 {
		if s := joinNonEmpty(": ", string(vals[n-1].Type), string(vals[n-1].Value)); s != "" {
			return s
		}
	}
	if s := first(e.Logentry.Formatted, e.Logentry.Message, e.legacyMessage().Formatted, e.legacyMessage().Message, e.Message); s != "" {
		return s
	}
	if culprit != "" {
		return culprit
	}
	return "(no title)"
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
	case ResourceActivityAlert:
		if d.Issue == nil {
			return nil, bad("the activity_alert webhook has no data.issue")
		}
		return parseIssueAlert(ev, d)
	case "installation":
		ev.Ignored = "installation webhooks carry no alert"
	case "comment":
		ev.Ignored = "comment webhooks carry no alert"
	default:
		// A resource this version does not know is an alert when its body
		// carries an issue with a project and an alert rule: it is routed
		// as event_alert is. Anything else is acknowledged and ignored, so
		// a new Sentry resource never shows up as a failure in Sentry.
		if d.Issue != nil && strings.TrimSpace(string(d.Issue.Project.Slug)) != "" && d.alertRule() {
			return parseIssueAlert(ev, d)
		}
		ev.Ignored = fmt.Sprintf("resource %q carries no alert this version knows", resource)
	}
	return ev, nil
}

// alertRule reports whether d names an alert rule: an activity alert's
// data.alert, an issue alert's data.issue_alert, or a triggered rule.
func (d *dataBody) alertRule() bool {
	return d.Alert != nil || d.IssueAlert != nil || strings.TrimSpace(string(d.TriggeredRule)) != ""
}

func guessResource(d *dataBody) string {
	switch {
	case d.MetricAlert != nil:
		return ResourceMetricAlert
	case d.Event != nil:
		return ResourceEventAlert
	case d.Error != nil:
		return ResourceError
	case d.Issue != nil && d.Alert != nil:
		return ResourceActivityAlert
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
	slug := strings.TrimSpace(string(is.Project.Slug))
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
	ev.Count, ev.UserCount = count(is.Count), count(is.UserCount)
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
	case "ignored":
		ev.State = StateIgnored
	case "archived":
		ev.State = StateArchived
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
	ev.OrgSlug, _, ev.Host = linkInfo(string(is.WebURL), string(is.URL), string(is.ProjectURL), string(is.Permalink))
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
	fillFromEvent(ev, e)
	if ev.Title == "" {
		ev.Title = titleOf(e, e.Message, ev.Culprit)
	}
	ev.URL = first(e.WebURL, e.IssueURL, e.URL)
	// The link's host first: the API links may be on a region host.
	ev.OrgSlug, _, ev.Host = linkInfo(ev.URL, string(e.URL), string(e.IssueURL))
	if org != "" {
		ev.OrgSlug = org
	}
	ev.IssueID = first(e.IssueID, flexString(issueIDFromURL(string(e.WebURL))))
	if d.TriggeredRule != "" {
		ev.Rules = []string{string(d.TriggeredRule)}
	} else if d.IssueAlert != nil && d.IssueAlert.Title != "" {
		ev.Rules = []string{string(d.IssueAlert.Title)}
	}
	if d.IssueAlert != nil {
		applySettings(ev, d.IssueAlert.Settings)
	}
	if ev.Resource == ResourceError {
		ev.State = StateError
		ev.FirstSeen, ev.LastSeen = e.FirstSeen.Time, e.LastSeen.Time
		if is := d.Issue; is != nil {
			ev.FirstSeen = firstTime(ev.FirstSeen, is.FirstSeen.Time)
			ev.LastSeen = firstTime(ev.LastSeen, is.LastSeen.Time)
		}
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
	// Every alert has a title: the description when the names are gone,
	// as the other shapes fall back to "(no title)" at last.
	if ev.Title = first(d.DescriptionTitle, m.Title, m.AlertRule.Name, d.DescriptionText); ev.Title == "" {
		ev.Title = "(no title)"
	}
	ev.Message = string(d.DescriptionText)
	ev.Environment = string(m.AlertRule.Environment)
	ev.URL = string(d.WebURL)
	ev.IssueID = string(m.Identifier)
	if m.AlertRule.Name != "" {
		ev.Rules = []string{string(m.AlertRule.Name)}
	}
	applySettings(ev, metricSettings(m.AlertRule.Triggers, ev.Action))
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
	ev.OrgSlug, _, ev.Host = linkInfo(ev.URL)
	return ev, nil
}

// parseIssueAlert reads an alert whose body carries the issue it fired for
// (data.issue, shaped as the issue webhook's) and its alert rule: an
// activity alert (data.alert, data.activity), or a resource this version
// does not know that carries both. It is an alert triggered, as an issue
// alert's.
func parseIssueAlert(ev *Event, d *dataBody) (*Event, error) {
	ev.Action = "triggered"
	if _, err := parseIssue(ev, d); err != nil {
		return nil, err
	}
	is := d.Issue
	ev.State = StateTriggered
	ev.Resolution, ev.Assignee = "", ""
	if is.AssignedTo != nil {
		ev.Assignee = first(is.AssignedTo.Name, is.AssignedTo.Email)
	}
	ev.IssueState = IssueState(string(is.Status), string(is.Substatus))
	ev.Time = firstTime(is.LastSeen.Time, is.FirstSeen.Time)
	var settings []setting
	switch {
	case d.Alert != nil:
		if t := strings.TrimSpace(string(d.Alert.Title)); t != "" {
			ev.Rules = []string{t}
		}
		settings = d.Alert.Settings
	case d.IssueAlert != nil:
		if t := strings.TrimSpace(string(d.IssueAlert.Title)); t != "" {
			ev.Rules = []string{t}
		}
		settings = d.IssueAlert.Settings
	}
	if len(ev.Rules) == 0 && strings.TrimSpace(string(d.TriggeredRule)) != "" {
		ev.Rules = []string{string(d.TriggeredRule)}
	}
	applySettings(ev, settings)
	if a := d.Activity; a != nil {
		ev.Activity = strings.TrimSpace(string(a.Type))
		ev.Message = string(a.Details.Summary)
	}
	if ev.URL == "" && d.Alert != nil {
		ev.URL = string(d.Alert.WebURL)
	}
	if ev.OrgSlug == "" && d.Alert != nil {
		ev.OrgSlug, _, _ = linkInfo(string(d.Alert.WebURL), string(d.Alert.URL))
	}
	return ev, nil
}

// IssueState words an issue's status and substatus as Sentry's own alerts
// do: its substatus (new, ongoing, escalating, regressed, …) while it is
// unresolved, else its status.
func IssueState(status, substatus string) string {
	st := strings.ToLower(strings.TrimSpace(status))
	sub := strings.ToLower(strings.TrimSpace(substatus))
	if sub != "" && (st == "" || st == "unresolved") {
		return sub
	}
	return st
}

// applySettings reads the settings of an alert rule's action that this
// relay knows (contract §7): robot, mention, notes. Other settings (a
// component of another integration) are left alone.
func applySettings(ev *Event, settings []setting) {
	for _, s := range settings {
		v := strings.TrimSpace(string(s.Value))
		switch strings.TrimSpace(string(s.Name)) {
		case SettingRobot:
			ev.RuleRobot = v
		case SettingMention:
			ev.RuleMention = strings.ToLower(v)
		case SettingNotes:
			ev.RuleNotes = v
		}
	}
}

// metricSettings finds the settings a metric alert's rule saved for this
// relay: those of the trigger the alert is for (its label is the action,
// critical or warning), else of any trigger, in the first action that
// names a robot or a mention.
func metricSettings(triggers []trigger, action string) []setting {
	ours := func(t *trigger) []setting {
		for _, a := range t.Actions {
			for _, s := range a.Settings {
				if n := strings.TrimSpace(string(s.Name)); n == SettingRobot || n == SettingMention || n == SettingNotes {
					return a.Settings
				}
			}
		}
		return nil
	}
	for i := range triggers {
		if strings.EqualFold(strings.TrimSpace(string(triggers[i].Label)), action) {
			if s := ours(&triggers[i]); s != nil {
				return s
			}
		}
	}
	for i := range triggers {
		if s := ours(&triggers[i]); s != nil {
			return s
		}
	}
	return nil
}

// linkInfo reads the organization, project and Sentry host from the first
// of urls that names them (the host from the first absolute URL).
func linkInfo(urls ...string) (org, project, host string) {
	for _, raw := range urls {
		if raw == "" || org != "" && host != "" {
			continue
		}
		u, err := url.Parse(strings.TrimSpace(raw))
		if err != nil {
			continue
		}
		if host == "" && (u.Scheme == "http" || u.Scheme == "https") {
			host = strings.ToLower(u.Hostname())
		}
		if org == "" {
			org, project = orgFromParsed(u)
		}
	}
	return org, project, host
}

// orgFromURL finds the organization (and project, when the link names it)
// in every form of Sentry link:
//
//	https://<org>.sentry.io/issues/<id>/                  (sentry.io customer domains)
//	<prefix>/organizations/<org>/issues/<id>/             (10 / 20.x and later, self-hosted)
//	<host>/api/0/projects/<org>/<project>/events/<event>/ (event API links)
//	<host>/api/0/organizations/<org>/issues/<id>/
//	<prefix>/<org>/<project>/issues/<id>/                 (Sentry 8 and 9)
//	https://app.getsentry.com/<org>/<project>/group/<id>/ (Sentry 7 and 8)
//
// Region hosts (us.sentry.io, de.sentry.io) and www/app name no
// organization.
func orgFromURL(raw string) (org, project string) {
	if raw == "" {
		return "", ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", ""
	}
	return orgFromParsed(u)
}

func orgFromParsed(u *url.URL) (org, project string) {
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
	// Sentry 7 to 9: /<org>/<project>/issues/<id>/ and /<org>/<project>/group/<id>/
	for i := 0; i+2 < len(parts); i++ {
		if (parts[i+2] == "issues" || parts[i+2] == "group") && parts[i] != "" && parts[i] != "api" {
			return parts[i], parts[i+1]
		}
	}
	return "", ""
}

// IssueIDFromURL returns the numeric issue id of a link to a Sentry issue
// (…/issues/<id>/…), or "".
func IssueIDFromURL(raw string) string { return issueIDFromURL(raw) }

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

// count reads a count ("12" or 12); 0 when there is none or it is not an
// integer.
func count(s flexString) int64 {
	if s == "" {
		return 0
	}
	n, _ := strconv.ParseInt(string(s), 10, 64)
	return n
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
