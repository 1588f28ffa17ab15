package sentrytest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/sentry-white/sentry-white/internal/sentry"
)

// The Sentry side of an internal integration: the requests Sentry sends to
// the integration's webhook URL, built as Sentry builds them.
//
// Webhooks (sentry_apps/tasks/sentry_apps.py, AppPlatformEvent): POST the
// webhook URL, body {"action", "installation": {"uuid"}, "data", "actor"}
// serialized compactly with every non-ASCII character escaped (\uXXXX),
// headers Content-Type, Request-ID (32 hex digits), Sentry-Hook-Resource,
// Sentry-Hook-Timestamp (Unix seconds) and Sentry-Hook-Signature (hex
// HMAC-SHA256 of the body keyed by the client secret).
//
// The alert-rule-action component (sentry_apps/external_requests/):
// SelectRequester GETs the webhook URL's scheme and host with the select
// field's uri as the path and a query of its own (installationId,
// projectSlug, query, dependentData: the webhook URL's query is dropped),
// Sentry-App-Signature over ""; SentryAppAlertRuleActionRequester POSTs the
// settings uri as the path with the webhook URL's query kept, body
// {"fields": [{"name", "value"}], "installationId"}, Sentry-App-Signature
// over the body. A uri is put in place of the path as it is (urlunparse), so
// a "?" in a uri stays in the path, before Sentry's own query.

// UserAgent is the User-Agent of Sentry's requests.
const UserAgent = "sentry/26.4.0 (https://sentry.io)"

// Setting is one setting an alert rule's action saved, {"name", "value"}.
type Setting struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Settings are the settings of this relay's component (contract §7);
// empty values are left out.
func Settings(robot, mention, notes string) []Setting {
	var out []Setting
	for _, s := range []Setting{{"robot", robot}, {"mention", mention}, {"notes", notes}} {
		if s.Value != "" {
			out = append(out, s)
		}
	}
	return out
}

// Alert describes the alert of an issue that Sentry sends: where its
// links point (SentryURL, Org), its project, issue and event, and the
// alert rule with its settings.
type Alert struct {
	SentryURL    string // the Sentry the links name, e.g. the stand-in's URL
	Org          string
	Project      string // slug
	ProjectID    string
	IssueID      string
	ShortID      string
	EventID      string
	Title        string
	Culprit      string
	Level        string
	Environment  string
	Release      string
	Platform     string
	Time         time.Time
	Rule         string // the alert rule's name
	RuleID       string
	Settings     []Setting
	Installation string // the installation's uuid
}

func (a *Alert) defaults() {
	if a.SentryURL == "" {
		a.SentryURL = "https://sentry.io"
	}
	a.SentryURL = strings.TrimRight(a.SentryURL, "/")
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	def(&a.Org, "acme")
	def(&a.Project, "mall-api")
	def(&a.ProjectID, "4504812345678912")
	def(&a.IssueID, "1170820242")
	def(&a.ShortID, strings.ToUpper(a.Project)+"-3K")
	def(&a.EventID, "e1d2c3b4a5968778695a4b3c2d1e0f00")
	def(&a.Title, "TypeError: Cannot read properties of undefined (reading 'price')")
	def(&a.Culprit, "/cart")
	def(&a.Level, "error")
	def(&a.Environment, "production")
	def(&a.Platform, "javascript")
	def(&a.Rule, "生产环境新错误")
	def(&a.RuleID, "9")
	def(&a.Installation, "717a85e5-236c-45c0-8b4e-ba01f5391395")
	if a.Time.IsZero() {
		a.Time = time.Now().UTC()
	}
}

// envelope is an integration-platform body, its members in Sentry's order.
type envelope struct {
	Action       string `json:"action"`
	Installation struct {
		UUID string `json:"uuid"`
	} `json:"installation"`
	Data  any   `json:"data"`
	Actor actor `json:"actor"`
}

type actor struct {
	Type string `json:"type"`
	ID   any    `json:"id"`
	Name string `json:"name"`
}

var sentryActor = actor{Type: "application", ID: "sentry", Name: "Sentry"}

func body(action, installation string, data any, by actor) []byte {
	e := envelope{Action: action, Data: data, Actor: by}
	e.Installation.UUID = installation
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(e)
	return asciiJSON(bytes.TrimRight(buf.Bytes(), "\n"))
}

// asciiJSON escapes every non-ASCII character of a JSON text as \uXXXX
// (UTF-16 surrogate pairs beyond the BMP), as Sentry's serializer does.
func asciiJSON(b []byte) []byte {
	var out bytes.Buffer
	for _, r := range string(b) {
		if r < 0x80 {
			out.WriteRune(r)
			continue
		}
		if r > 0xffff {
			hi, lo := utf16.EncodeRune(r)
			fmt.Fprintf(&out, `\u%04x\u%04x`, hi, lo)
			continue
		}
		fmt.Fprintf(&out, `\u%04x`, r)
	}
	return out.Bytes()
}

// EventAlertBody is the event_alert.triggered webhook of an issue alert
// whose action is the integration: data.event (the event as Sentry stores
// it, with its links), data.triggered_rule and data.issue_alert with the
// rule's settings.
func EventAlertBody(a Alert) []byte {
	a.defaults()
	ts := float64(a.Time.UnixMicro()) / 1e6
	event := struct {
		EventID     string      `json:"event_id"`
		Project     json.Number `json:"project"`
		Release     string      `json:"release,omitempty"`
		Platform    string      `json:"platform"`
		Message     string      `json:"message"`
		Datetime    string      `json:"datetime"`
		Tags        [][2]string `json:"tags"`
		Culprit     string      `json:"culprit"`
		Environment string      `json:"environment"`
		Level       string      `json:"level"`
		Metadata    any         `json:"metadata"`
		Timestamp   float64     `json:"timestamp"`
		Title       string      `json:"title"`
		Type        string      `json:"type"`
		URL         string      `json:"url"`
		WebURL      string      `json:"web_url"`
		IssueURL    string      `json:"issue_url"`
		IssueID     string      `json:"issue_id"`
	}{
		EventID: a.EventID, Project: json.Number(numeric(a.ProjectID)), Release: a.Release, Platform: a.Platform,
		Datetime: a.Time.Format("2006-01-02T15:04:05.000000Z"),
		Tags:     [][2]string{{"environment", a.Environment}, {"level", a.Level}},
		Culprit:  a.Culprit, Environment: a.Environment, Level: a.Level,
		Metadata: map[string]string{"title": a.Title}, Timestamp: ts, Title: a.Title, Type: "error",
		URL:      a.SentryURL + "/api/0/projects/" + a.Org + "/" + a.Project + "/events/" + a.EventID + "/",
		WebURL:   a.SentryURL + "/organizations/" + a.Org + "/issues/" + a.IssueID + "/events/" + a.EventID + "/",
		IssueURL: a.SentryURL + "/api/0/organizations/" + a.Org + "/issues/" + a.IssueID + "/",
		IssueID:  a.IssueID,
	}
	data := struct {
		Event         any    `json:"event"`
		TriggeredRule string `json:"triggered_rule"`
		IssueAlert    any    `json:"issue_alert,omitempty"`
	}{Event: event, TriggeredRule: a.Rule}
	if a.Settings != nil {
		data.IssueAlert = map[string]any{"id": a.RuleID, "title": a.Rule, "sentry_app_id": 2, "settings": a.Settings}
	}
	return body("triggered", a.Installation, data, sentryActor)
}

func numeric(s string) string {
	if _, err := strconv.ParseInt(s, 10, 64); err == nil {
		return s
	}
	return "0"
}

// issueData is data.issue: the issue as Sentry's issue serializer writes
// it, with its links.
func issueData(a Alert, status, substatus string, assignee *Assignee, count string, users int) map[string]any {
	return map[string]any{
		"url":         a.SentryURL + "/api/0/organizations/" + a.Org + "/issues/" + a.IssueID + "/",
		"web_url":     a.SentryURL + "/organizations/" + a.Org + "/issues/" + a.IssueID + "/",
		"project_url": a.SentryURL + "/organizations/" + a.Org + "/issues/?project=" + a.ProjectID,
		"id":          a.IssueID, "shortId": a.ShortID, "title": a.Title, "culprit": a.Culprit,
		"permalink": nil, "level": a.Level, "status": status, "statusDetails": map[string]any{}, "substatus": substatus,
		"platform": a.Platform, "project": map[string]string{"id": a.ProjectID, "name": a.Project, "slug": a.Project, "platform": a.Platform},
		"type": "error", "metadata": map[string]string{"title": a.Title}, "assignedTo": assignee, "isUnhandled": false,
		"count": count, "userCount": users, "firstSeen": a.Time.Add(-time.Hour).Format("2006-01-02T15:04:05.000000Z"),
		"lastSeen": a.Time.Format("2006-01-02T15:04:05.000000Z"), "issueType": "error", "issueCategory": "error", "priority": "high",
	}
}

// ActivityAlertBody is the activity_alert.triggered webhook (Sentry 2026)
// of an alert rule on issue activity (activity, e.g.
// seer_root_cause_completed): data.issue, data.activity and data.alert
// with the rule's settings.
func ActivityAlertBody(a Alert, activity string) []byte {
	a.defaults()
	alert := map[string]any{"id": a.RuleID, "title": a.Rule, "sentry_app_id": 2,
		"url": a.SentryURL + "/organizations/" + a.Org + "/monitors/alerts/" + a.RuleID + "/"}
	if a.Settings != nil {
		alert["settings"] = a.Settings
	}
	data := struct {
		Issue    any `json:"issue"`
		Activity any `json:"activity"`
		Alert    any `json:"alert"`
	}{
		Issue:    issueData(a, "unresolved", "escalating", nil, "1", 24),
		Activity: map[string]any{"type": activity, "details": map[string]string{"summary": "Seer found the root cause of " + a.Title}},
		Alert:    alert,
	}
	return body("triggered", a.Installation, data, sentryActor)
}

// IssueBody is an issue webhook whose action is resolved or assigned (to
// assignee), caused by user (a person's name; "" for Sentry itself):
// data.issue without links, as the workflow notification sends it.
func IssueBody(action string, a Alert, assignee *Assignee, user string) []byte {
	a.defaults()
	is := issueData(a, "unresolved", "ongoing", assignee, "57", 9)
	for _, k := range []string{"url", "web_url", "project_url"} {
		delete(is, k) // follow-ups carry no links
	}
	data := map[string]any{"issue": is}
	switch action {
	case "resolved":
		is["status"], is["substatus"] = "resolved", nil
		data["resolution_type"] = "now"
	case "assigned":
		if assignee != nil {
			data["assignee"] = map[string]string{"type": assignee.Type, "name": assignee.Name, "id": assignee.ID, "email": assignee.Email}
		}
	}
	by := sentryActor
	if user != "" {
		by = actor{Type: "user", ID: 7, Name: user}
	}
	return body(action, a.Installation, data, by)
}

// SelectURL is the URL Sentry asks a select field's options at.
func SelectURL(webhookURL, uri, installation, project, query string) (string, error) {
	u, err := url.Parse(webhookURL)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("the webhook URL %q is not a URL", webhookURL)
	}
	q := "installationId=" + url.QueryEscape(installation)
	if project != "" {
		q += "&projectSlug=" + url.QueryEscape(project)
	}
	if query != "" {
		q += "&query=" + url.QueryEscape(query)
	}
	return u.Scheme + "://" + u.Host + uri + "?" + q, nil
}

// ActionURL is the URL Sentry posts an alert rule's settings to.
func ActionURL(webhookURL, uri string) (string, error) {
	u, err := url.Parse(webhookURL)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("the webhook URL %q is not a URL", webhookURL)
	}
	out := u.Scheme + "://" + u.Host + uri
	if u.RawQuery != "" {
		out += "?" + u.RawQuery
	}
	return out, nil
}

// SettingsBody is the body of the settings request.
func SettingsBody(installation string, settings []Setting) []byte {
	if settings == nil {
		settings = []Setting{}
	}
	b, _ := json.Marshal(struct {
		Fields         []Setting `json:"fields"`
		InstallationID string    `json:"installationId"`
	}{settings, installation})
	return b
}

// Answer is what the integration answered.
type Answer struct {
	Status int
	Body   []byte
}

// Sender sends Sentry's requests to an integration.
type Sender struct {
	// WebhookURL is the integration's webhook URL, as pasted in Sentry.
	WebhookURL string
	// Secret is the integration's client secret; "" sends unsigned
	// requests (an integration whose secret the relay does not know).
	Secret string
	// HTTP sends; nil means a client with a 10 s timeout.
	HTTP *http.Client
	// Now is the time of Sentry-Hook-Timestamp; nil means time.Now.
	Now func() time.Time
}

func (s *Sender) do(ctx context.Context, method, u string, body []byte, hdr map[string]string) (*Answer, error) {
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set("Request-ID", requestID())
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	hc := s.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	hc2 := *hc
	hc2.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse } // Sentry follows none
	resp, err := hc2.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return &Answer{Status: resp.StatusCode, Body: raw}, err
}

// Webhook posts a webhook of resource with body, signed when Secret is set.
func (s *Sender) Webhook(ctx context.Context, resource string, body []byte) (*Answer, error) {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	hdr := map[string]string{"Sentry-Hook-Resource": resource, "Sentry-Hook-Timestamp": strconv.FormatInt(now().Unix(), 10)}
	if s.Secret != "" {
		hdr["Sentry-Hook-Signature"] = sentry.Sign(body, s.Secret)
	}
	return s.do(ctx, http.MethodPost, s.WebhookURL, body, hdr)
}

// Options asks a select field at uri for its options, as Sentry does
// while an alert rule of project is edited.
func (s *Sender) Options(ctx context.Context, uri, installation, project, query string) (*Answer, error) {
	u, err := SelectURL(s.WebhookURL, uri, installation, project, query)
	if err != nil {
		return nil, err
	}
	return s.do(ctx, http.MethodGet, u, nil, s.appSignature(nil))
}

// SaveSettings posts an alert rule's settings to uri, as Sentry does when
// the rule is saved.
func (s *Sender) SaveSettings(ctx context.Context, uri, installation string, settings []Setting) (*Answer, error) {
	u, err := ActionURL(s.WebhookURL, uri)
	if err != nil {
		return nil, err
	}
	b := SettingsBody(installation, settings)
	return s.do(ctx, http.MethodPost, u, b, s.appSignature(b))
}

func (s *Sender) appSignature(body []byte) map[string]string {
	if s.Secret == "" {
		return nil
	}
	return map[string]string{"Sentry-App-Signature": sentry.Sign(body, s.Secret)}
}

func requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
