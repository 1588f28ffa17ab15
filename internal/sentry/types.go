package sentry

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// flexString decodes a JSON string, number, boolean or null into a string.
// Sentry's payloads change types across versions (event.id was an integer,
// then a hex string; count is a string while userCount is a number).
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	if len(b) == 0 || b[0] == 'n' { // null
		*f = ""
		return nil
	}
	if b[0] == '"' {
		if s, ok := plainString(b); ok {
			*f = flexString(s)
			return nil
		}
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	}
	if b[0] == '{' || b[0] == '[' {
		*f = "" // an unexpected object: ignore rather than fail the whole alert
		return nil
	}
	*f = flexString(b) // number or boolean, as written
	return nil
}

func (f flexString) String() string { return string(f) }

// plainString decodes a JSON string literal that has no escapes and is
// valid UTF-8 (most of Sentry's strings) without a second pass of the JSON
// decoder: its value is the bytes between the quotes. The decoder has
// already checked the literal's syntax.
func plainString(b []byte) (string, bool) {
	if len(b) < 2 || b[0] != '"' || b[len(b)-1] != '"' {
		return "", false
	}
	in := b[1 : len(b)-1]
	if bytes.IndexByte(in, '\\') >= 0 || !utf8.Valid(in) {
		return "", false
	}
	return string(in), true
}

// present records whether a member is in the object, without keeping it.
type present bool

func (p *present) UnmarshalJSON([]byte) error { *p = true; return nil }

// flexTime decodes float epoch seconds, an epoch-seconds string or an ISO
// 8601 time (with or without a zone, "+00:00" or "Z").
type flexTime struct{ time.Time }

func (t *flexTime) UnmarshalJSON(b []byte) error {
	t.Time = time.Time{}
	if len(b) == 0 || b[0] == 'n' {
		return nil
	}
	if b[0] == '"' {
		s, ok := plainString(b)
		if !ok && json.Unmarshal(b, &s) != nil {
			return nil
		}
		t.Time = parseTime(s)
		return nil
	}
	if b[0] == '{' || b[0] == '[' {
		return nil
	}
	if f, err := strconv.ParseFloat(string(b), 64); err == nil {
		t.Time = epoch(f)
	}
	return nil
}

func epoch(f float64) time.Time {
	if f <= 0 || math.IsNaN(f) || math.IsInf(f, 0) || f > 1e11 { // beyond year 5138: milliseconds or junk
		if f > 1e11 && f < 1e14 {
			return time.UnixMilli(int64(f)).UTC()
		}
		return time.Time{}
	}
	sec, frac := math.Modf(f)
	// Sentry's floats carry microseconds; round away binary noise.
	return time.Unix(int64(sec), int64(math.Round(frac*1e6))*1e3).UTC()
}

var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999Z0700",
}

func parseTime(s string) time.Time {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}
	}
	// A time of day has a colon, which no number has: no parse (and no
	// error value) for the usual ISO 8601 time.
	if !strings.Contains(s, ":") {
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return epoch(f)
		}
	}
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// tagList decodes Sentry tags: a list of [key, value] pairs, or a list of
// {"key": …, "value": …} objects, or an object map.
type tagList [][2]string

func (tl *tagList) UnmarshalJSON(b []byte) error {
	*tl = nil
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] == 'n' {
		return nil
	}
	if b[0] == '{' {
		var m map[string]flexString
		if json.Unmarshal(b, &m) == nil {
			for k, v := range m {
				*tl = append(*tl, [2]string{k, string(v)})
			}
		}
		return nil
	}
	// Usually a list of pairs: decode it in one pass.
	var pairs [][]flexString
	if json.Unmarshal(b, &pairs) == nil {
		for _, pair := range pairs {
			if len(pair) >= 2 {
				*tl = append(*tl, [2]string{string(pair[0]), string(pair[1])})
			}
		}
		return nil
	}
	*tl = nil
	var items []json.RawMessage
	if err := json.Unmarshal(b, &items); err != nil {
		return nil // tags are decoration; never fail an alert over them
	}
	for _, it := range items {
		var pair []flexString
		if json.Unmarshal(it, &pair) == nil {
			if len(pair) >= 2 {
				*tl = append(*tl, [2]string{string(pair[0]), string(pair[1])})
			}
			continue
		}
		var kv struct{ Key, Value flexString }
		if json.Unmarshal(it, &kv) == nil && kv.Key != "" {
			*tl = append(*tl, [2]string{string(kv.Key), string(kv.Value)})
		}
	}
	return nil
}

func (tl tagList) get(keys ...string) string {
	for _, k := range keys {
		for _, p := range tl {
			if p[0] == k {
				return p[1]
			}
		}
	}
	return ""
}

// flexStrings decodes a list of strings, a single string, or null.
type flexStrings []string

func (fs *flexStrings) UnmarshalJSON(b []byte) error {
	*fs = nil
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] == 'n' {
		return nil
	}
	if b[0] == '"' {
		var s flexString
		if err := s.UnmarshalJSON(b); err == nil && strings.TrimSpace(string(s)) != "" {
			*fs = flexStrings{strings.TrimSpace(string(s))}
		}
		return nil
	}
	var items []flexString
	if json.Unmarshal(b, &items) == nil {
		for _, s := range items {
			if t := strings.TrimSpace(string(s)); t != "" {
				*fs = append(*fs, t)
			}
		}
	}
	return nil
}

// The structs below are what a webhook body is decoded into: only the
// members the message and the routing read. encoding/json (the slow path)
// and the fast decoder fill them alike. The fast decoder's reader of each
// struct (decode_gen.go) is generated from them: after adding or changing
// a member, run go generate ./internal/sentry.

type metadata struct {
	Type  flexString `json:"type"`
	Value flexString `json:"value"`
	Title flexString `json:"title"`
}

type logentry struct {
	Formatted flexString `json:"formatted"`
	Message   flexString `json:"message"`
}

type exceptionValue struct {
	Type  flexString `json:"type"`
	Value flexString `json:"value"`
}

// exceptionBody is the exception interface: its last value is the error
// raised.
type exceptionBody struct {
	Values []exceptionValue `json:"values"`
}

// userBody is the event's user (the user interface).
type userBody struct {
	ID        flexString `json:"id"`
	Email     flexString `json:"email"`
	Username  flexString `json:"username"`
	Name      flexString `json:"name"`
	IPAddress flexString `json:"ip_address"`
}

// httpBody is the event's request (the HTTP interface).
type httpBody struct {
	URL    flexString `json:"url"`
	Method flexString `json:"method"`
}

// occurrence is what an issue platform event (performance, cron, …) says
// of its issue.
type occurrence struct {
	IssueTitle flexString `json:"issueTitle"`
	Level      flexString `json:"level"`
}

// eventBody is a stored Sentry event: the legacy plugin's "event", and the
// integration platform's data.event / data.error (Event.as_dict + links).
type eventBody struct {
	EventID     flexString    `json:"event_id"`
	ID          flexString    `json:"id"`
	Level       flexString    `json:"level"`
	Platform    flexString    `json:"platform"`
	Title       flexString    `json:"title"`
	Culprit     flexString    `json:"culprit"`
	Location    flexString    `json:"location"`
	Message     flexString    `json:"message"`
	Transaction flexString    `json:"transaction"`
	Metadata    metadata      `json:"metadata"`
	Logentry    logentry      `json:"logentry"`
	Exception   exceptionBody `json:"exception"`
	Environment flexString    `json:"environment"`
	Release     flexString    `json:"release"`
	Timestamp   flexTime      `json:"timestamp"`
	Datetime    flexTime      `json:"datetime"`
	Received    flexTime      `json:"received"`
	Tags        tagList       `json:"tags"`
	User        userBody      `json:"user"`
	Request     httpBody      `json:"request"`
	FirstSeen   flexTime      `json:"firstSeen"`
	LastSeen    flexTime      `json:"lastSeen"`
	// Sentry 8 and older name the interfaces by their class path; they are
	// pointers so today's events do not carry their room.
	LegacyUser      *userBody      `json:"sentry.interfaces.User"`
	LegacyHTTP      *httpBody      `json:"sentry.interfaces.Http"`
	LegacyMessage   *logentry      `json:"sentry.interfaces.Message"`
	LegacyException *exceptionBody `json:"sentry.interfaces.Exception"`
	Project         flexString     `json:"project"`
	URL             flexString     `json:"url"`
	WebURL          flexString     `json:"web_url"`
	IssueURL        flexString     `json:"issue_url"`
	IssueID         flexString     `json:"issue_id"`
	Occurrence      occurrence     `json:"occurrence"`
}

// legacyBody is the legacy WebHooks plugin payload.
type legacyBody struct {
	ID              flexString  `json:"id"`
	Project         flexString  `json:"project"`
	ProjectName     flexString  `json:"project_name"`
	ProjectSlug     flexString  `json:"project_slug"`
	Level           flexString  `json:"level"`
	Culprit         flexString  `json:"culprit"`
	Message         flexString  `json:"message"`
	URL             flexString  `json:"url"`
	TriggeringRules flexStrings `json:"triggering_rules"`
	Event           *eventBody  `json:"event"`
}

// person is whom an issue is assigned to.
type person struct {
	Name  flexString `json:"name"`
	Email flexString `json:"email"`
}

// issueProject is the project an issue belongs to.
type issueProject struct {
	Name flexString `json:"name"`
	Slug flexString `json:"slug"`
}

type issueBody struct {
	ID          flexString   `json:"id"`
	ShortID     flexString   `json:"shortId"`
	Title       flexString   `json:"title"`
	Culprit     flexString   `json:"culprit"`
	Level       flexString   `json:"level"`
	Status      flexString   `json:"status"`
	Substatus   flexString   `json:"substatus"`
	Platform    flexString   `json:"platform"`
	Metadata    metadata     `json:"metadata"`
	Count       flexString   `json:"count"`
	UserCount   flexString   `json:"userCount"`
	FirstSeen   flexTime     `json:"firstSeen"`
	LastSeen    flexTime     `json:"lastSeen"`
	Permalink   flexString   `json:"permalink"`
	URL         flexString   `json:"url"`
	WebURL      flexString   `json:"web_url"`
	ProjectURL  flexString   `json:"project_url"`
	IsUnhandled flexString   `json:"isUnhandled"`
	Project     issueProject `json:"project"`
	AssignedTo  *person      `json:"assignedTo"`
}

// setting is one value an alert rule's action saved for an integration
// (its alert-rule-action UI component): {"name": "robot", "value": "3"}.
type setting struct {
	Name  flexString `json:"name"`
	Value flexString `json:"value"`
}

// triggerAction is one action of a metric alert rule's trigger; an
// integration's action carries its saved settings.
type triggerAction struct {
	Type     flexString `json:"type"`
	Settings []setting  `json:"settings"`
}

// trigger is a metric alert rule's threshold (label critical or warning)
// and its actions.
type trigger struct {
	Label   flexString      `json:"label"`
	Actions []triggerAction `json:"actions"`
}

// alertRule is a metric alert's rule.
type alertRule struct {
	Name        flexString  `json:"name"`
	Environment flexString  `json:"environment"`
	Projects    flexStrings `json:"projects"`
	Triggers    []trigger   `json:"triggers"`
}

type metricBody struct {
	Identifier   flexString  `json:"identifier"`
	Projects     flexStrings `json:"projects"`
	Title        flexString  `json:"title"`
	DateStarted  flexTime    `json:"date_started"`
	DateDetected flexTime    `json:"date_detected"`
	DateCreated  flexTime    `json:"date_created"`
	DateClosed   flexTime    `json:"date_closed"`
	AlertRule    alertRule   `json:"alert_rule"`
}

// installationBody is the integration installation a webhook comes from.
type installationBody struct {
	UUID flexString `json:"uuid"`
}

// actorBody is who caused a webhook: a user, the application, Sentry.
type actorBody struct {
	Type flexString `json:"type"`
	Name flexString `json:"name"`
}

// envelope is an integration-platform body.
type envelope struct {
	Action       flexString       `json:"action"`
	Installation installationBody `json:"installation"`
	Data         *dataBody        `json:"data"`
	Actor        actorBody        `json:"actor"`
}

// titled is an issue alert rule (data.issue_alert), with the settings an
// alert-rule-action UI component saved.
type titled struct {
	Title    flexString `json:"title"`
	Settings []setting  `json:"settings"`
}

// alertBody is the alert rule of an activity alert (data.alert): its
// title, links and saved settings.
type alertBody struct {
	Title    flexString `json:"title"`
	URL      flexString `json:"url"`
	WebURL   flexString `json:"web_url"`
	Settings []setting  `json:"settings"`
}

// activityDetails is what an activity carries, as far as a message shows it.
type activityDetails struct {
	Summary flexString `json:"summary"`
}

// activityBody is the issue activity that fired an activity alert
// (data.activity): its type (seer_root_cause_completed, …).
type activityBody struct {
	Type    flexString      `json:"type"`
	Details activityDetails `json:"details"`
}

// installationData is data.installation of installation webhooks: only its
// presence matters.
type installationData struct{}

type dataBody struct {
	Issue            *issueBody        `json:"issue"`
	Event            *eventBody        `json:"event"`
	Error            *eventBody        `json:"error"`
	TriggeredRule    flexString        `json:"triggered_rule"`
	MetricAlert      *metricBody       `json:"metric_alert"`
	DescriptionTitle flexString        `json:"description_title"`
	DescriptionText  flexString        `json:"description_text"`
	WebURL           flexString        `json:"web_url"`
	ResolutionType   flexString        `json:"resolution_type"`
	IssueAlert       *titled           `json:"issue_alert"`
	Alert            *alertBody        `json:"alert"`
	Activity         *activityBody     `json:"activity"`
	Assignee         *person           `json:"assignee"`
	Installation     *installationData `json:"installation"`
	CommentID        flexString        `json:"comment_id"`
}
