// Package config defines sentry-white's configuration document (schema 1):
// organizations, owners, robots and projects. Parse keeps members it does not
// know so a rewrite never loses them, and Validate names the field at fault.
package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
)

// SchemaVersion is the document schema this version reads and writes.
const SchemaVersion = 1

// DefaultKeyword is the robot keyword the original system used.
const DefaultKeyword = "详情"

// Secret is a string that must never reach a log line: it prints as a mask but
// encodes to JSON as its real value, because the store needs it.
type Secret string

// String masks the secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "******"
}

// GoString masks the secret for %#v.
func (s Secret) GoString() string { return `"` + s.String() + `"` }

// LogValue masks the secret for log/slog.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// Reveal returns the secret's value for the few places that must use it.
func (s Secret) Reveal() string { return string(s) }

// Document is the whole configuration, stored as one JSON object.
type Document struct {
	Schema        int            `json:"schema"`
	WebhookToken  Secret         `json:"webhook_token"`
	Organizations []Organization `json:"organizations"`
	Owners        []Owner        `json:"owners"`
	Robots        []Robot        `json:"robots"`
	Projects      []Project      `json:"projects"`
	// RelayURL is the relay's public base URL as Sentry and phones reach
	// it, without the token (contract §7); action links are built on it.
	RelayURL string `json:"relay_url,omitempty"`
	// Schedules are the on-call rotations (contract §7).
	Schedules []Schedule `json:"schedules,omitempty"`
	// ActionKey signs the action links of every organization (package
	// actlink); absent, each organization's links are signed with a key
	// derived from its api_token. The configurator writes a new one to
	// invalidate every link sent.
	ActionKey Secret `json:"action_key,omitempty"`
	Extra     Extra  `json:"-"`
}

// Organization is a Sentry account or organization (the seed's 组织信息).
type Organization struct {
	ID           int64  `json:"id"`
	Name         string `json:"name"`
	SentryURL    string `json:"sentry_url"`
	Slug         string `json:"slug"`
	Account      string `json:"account"`
	Password     Secret `json:"password"`
	ClientSecret Secret `json:"client_secret"`
	// RequireSignature refuses (401) the organization's webhooks that are
	// not signed with its client_secret — the legacy plugin's too, which
	// never signs: only the internal integration reaches it.
	RequireSignature bool `json:"require_signature,omitempty"`
	// APIToken is the organization's Sentry token (an internal
	// integration's): Sentry's facts in alerts, action links, import.
	APIToken Secret `json:"api_token,omitempty"`
	Extra    Extra  `json:"-"`
}

// Owner is a person who is @-mentioned for a project's alerts (负责人).
type Owner struct {
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	Mobile string `json:"mobile"`
	// SentryUser is the owner's Sentry user (email, username or numeric
	// id), the one an "I'll take it" link assigns.
	SentryUser string `json:"sentry_user,omitempty"`
	// Extra holds the members this version does not know, and the ids of
	// the person for the robot kinds that mention by id, each in the
	// member its kind names (KindRules.OwnerIDKey): a JSON round trip
	// keeps them all, of kinds this version knows or not.
	Extra Extra `json:"-"`

	// ids are the person's user ids by robot kind, read from their members
	// by Kinds.NormalizeOwner (Parse, Normalize); Kinds.SetOwnerID sets one.
	ids map[string]string
}

// UserID returns the owner's user id for a robot kind, or "".
func (o *Owner) UserID(kind string) string { return o.ids[kind] }

// UserIDs returns the owner's user ids by robot kind (not to be changed),
// nil when there are none.
func (o *Owner) UserIDs() map[string]string { return o.ids }

// Robot is a chat group robot that receives alerts.
type Robot struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	Kind        string `json:"kind"`
	AccessToken Secret `json:"access_token"`
	Secret      Secret `json:"secret"`
	Keyword     string `json:"keyword"`
	// DailyDigest is the time of the robot's morning summary; nil is none.
	DailyDigest *DailyDigest `json:"daily_digest,omitempty"`
	Extra       Extra        `json:"-"`
}

// EffectiveKeyword is the keyword every message to r must carry.
func (r *Robot) EffectiveKeyword() string {
	if k := strings.TrimSpace(r.Keyword); k != "" {
		return k
	}
	return DefaultKeyword
}

// Project is a Sentry project routed to robots and owners.
type Project struct {
	ID             int64   `json:"id"`
	Name           string  `json:"name"`
	Slug           string  `json:"slug"`
	OrganizationID int64   `json:"organization_id"`
	OwnerIDs       []int64 `json:"owner_ids"`
	RobotIDs       []int64 `json:"robot_ids"`

	// Optional routing filters; absent means no filter.
	Environments []string `json:"environments,omitempty"`
	MinLevel     string   `json:"min_level,omitempty"`
	MentionLevel string   `json:"mention_level,omitempty"`
	// FollowUps switches issue follow-up messages (resolved, assigned,
	// ignored, unresolved) on or off; absent means on.
	FollowUps *bool `json:"follow_ups,omitempty"`
	// RepeatWindowSeconds collapses repeats of one Sentry issue within the
	// window into one message with a count; 0 or absent means off.
	RepeatWindowSeconds int `json:"repeat_window_seconds,omitempty"`

	// Who is rung, when, and what happens to an alert nobody takes
	// (contract §7).
	Mention    string      `json:"mention,omitempty"` // MentionOwners (default), MentionOnCall, MentionBoth
	ScheduleID int64       `json:"schedule_id,omitempty"`
	QuietHours *QuietHours `json:"quiet_hours,omitempty"`
	Escalation *Escalation `json:"escalation,omitempty"`

	Extra Extra `json:"-"`
}

// WantsFollowUps reports whether follow-up messages are on for p.
func (p *Project) WantsFollowUps() bool { return p.FollowUps == nil || *p.FollowUps }

// The JSON methods below keep unknown members. Each uses a local type without
// methods so the standard encoder does the field work.

func (d *Document) UnmarshalJSON(b []byte) error {
	if v, ok := decodeLists(b); ok {
		*d = v
		return nil
	}
	return d.unmarshalEntries(b)
}

// unmarshalEntries decodes b with a pass of encoding/json per entry of the
// lists (their UnmarshalJSON), which decodeLists does in one.
func (d *Document) unmarshalEntries(b []byte) error {
	type plain Document
	var v plain
	extra, err := unmarshalKeeping(b, &v)
	if err != nil {
		return err
	}
	*d = Document(v)
	d.Extra = extra
	return nil
}

func (d Document) MarshalJSON() ([]byte, error) {
	type plain Document
	return marshalKeeping(plain(d), d.Extra)
}

func (o *Organization) UnmarshalJSON(b []byte) error {
	type plain Organization
	var v plain
	extra, err := unmarshalKeeping(b, &v)
	if err != nil {
		return err
	}
	*o = Organization(v)
	o.Extra = extra
	return nil
}

func (o Organization) MarshalJSON() ([]byte, error) {
	type plain Organization
	return marshalKeeping(plain(o), o.Extra)
}

func (o *Owner) UnmarshalJSON(b []byte) error {
	type plain Owner
	var v plain
	extra, err := unmarshalKeeping(b, &v)
	if err != nil {
		return err
	}
	*o = Owner(v)
	o.Extra = extra
	return nil
}

func (o Owner) MarshalJSON() ([]byte, error) {
	type plain Owner
	return marshalKeeping(plain(o), o.Extra)
}

func (r *Robot) UnmarshalJSON(b []byte) error {
	type plain Robot
	var v plain
	extra, err := unmarshalKeeping(b, &v)
	if err != nil {
		return err
	}
	*r = Robot(v)
	r.Extra = extra
	return nil
}

func (r Robot) MarshalJSON() ([]byte, error) {
	type plain Robot
	return marshalKeeping(plain(r), r.Extra)
}

func (p *Project) UnmarshalJSON(b []byte) error {
	type plain Project
	var v plain
	extra, err := unmarshalKeeping(b, &v)
	if err != nil {
		return err
	}
	*p = Project(v)
	p.Extra = extra
	return nil
}

func (p Project) MarshalJSON() ([]byte, error) {
	type plain Project
	return marshalKeeping(plain(p), p.Extra)
}

// Parse decodes, normalizes and validates a document whose robots are of
// kinds. The error names the field at fault: "projects[2].owner_ids:
// owner 7 does not exist".
func Parse(data []byte, kinds Kinds) (*Document, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // tolerate a UTF-8 BOM from editors
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, &FieldError{Field: "document", Msg: "is empty", Code: "empty"}
	}
	// Decoded as a whole first, by decodeLists itself: its json.Unmarshal
	// checks data, trailing data included, in the same pass (through
	// json.Unmarshal(data, &d) encoding/json would check and skip all of
	// data once more before calling UnmarshalJSON: a fifth of the CPU of
	// parsing 1,000 projects). What it does not follow goes through
	// UnmarshalJSON, and anything json.Unmarshal refuses through the
	// decoder, whose errors name what is wrong.
	if d, ok := decodeLists(data); ok {
		d.Normalize(kinds)
		if err := d.Validate(kinds); err != nil {
			return nil, err
		}
		return &d, nil
	}
	var d Document
	if err := json.Unmarshal(data, &d); err == nil {
		d.Normalize(kinds)
		if err := d.Validate(kinds); err != nil {
			return nil, err
		}
		return &d, nil
	}
	d = Document{}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&d); err != nil {
		return nil, &FieldError{Field: fieldOfJSONError(err), Msg: "invalid JSON: " + plainJSONError(err),
			Code: "json", Params: map[string]any{"detail": plainJSONError(err)}}
	}
	if dec.More() {
		return nil, &FieldError{Field: "document", Msg: "invalid JSON: data after the top-level object", Code: "json_trailing"}
	}
	d.Normalize(kinds)
	if err := d.Validate(kinds); err != nil {
		return nil, err
	}
	return &d, nil
}

// Marshal encodes d as indented JSON for the store.
func Marshal(d *Document) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep "<" and "&" readable in names
	enc.SetIndent("", "  ")
	if err := enc.Encode(d); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Empty returns a valid document with no entries.
func Empty() *Document {
	return &Document{Schema: SchemaVersion, Organizations: []Organization{}, Owners: []Owner{},
		Robots: []Robot{}, Projects: []Project{}}
}

// FieldError is a validation error that names the field at fault. Msg is
// the English text; Code and Params say the same for a program (the
// configurator's page words the code in the reader's language).
type FieldError struct {
	Field  string // e.g. "projects[2].owner_ids"
	Msg    string
	Code   string         // e.g. "too_long"; see the codes in validate.go
	Params map[string]any // what the words need, e.g. {"max": 100}
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// FieldErrors is every problem found in one document.
type FieldErrors []*FieldError

func (es FieldErrors) Error() string {
	if len(es) == 1 {
		return es[0].Error()
	}
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}

// Fields returns the errors as a list, whatever form err has.
func Fields(err error) []*FieldError {
	var es FieldErrors
	if errors.As(err, &es) {
		return es
	}
	var e *FieldError
	if errors.As(err, &e) {
		return []*FieldError{e}
	}
	return nil
}

func fieldOfJSONError(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		return te.Field
	}
	return "document"
}

func plainJSONError(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("got a JSON %s, want %s", te.Value, te.Type.String())
	}
	return err.Error()
}
