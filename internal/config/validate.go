package config

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Levels in increasing severity, as Sentry names them.
var Levels = []string{"debug", "info", "warning", "error", "fatal"}

// LevelRank orders a Sentry level: debug 0 … fatal 4. Unknown or empty levels
// rank as error, so an alert of unknown severity is never filtered away.
func LevelRank(level string) int {
	switch strings.ToLower(strings.TrimSpace(level)) {
	case "debug", "trace":
		return 0
	case "info", "log", "sample":
		return 1
	case "warning", "warn":
		return 2
	case "fatal", "critical":
		return 4
	}
	return 3
}

func validLevel(l string) bool {
	for _, v := range Levels {
		if l == v {
			return true
		}
	}
	return false
}

// The formats below were regular expressions; their counted repetitions
// made programs that took most of the relay's start (8 ms) and a megabyte
// of its heap. They are plain loops now, matching exactly what the
// expressions matched (TestValidatorsMatchTheirExpressions).

// mobileMatch is ^(1[3-9][0-9]{9}|\+[0-9]{1,4}-?[0-9]{4,14})$: mainland
// mobiles (13800138000) and international ones with a country code, as the
// chat tools write them (+852-12345678).
func mobileMatch(s string) bool {
	if len(s) == 11 && s[0] == '1' && s[1] >= '3' && s[1] <= '9' {
		return digits(s[2:])
	}
	if len(s) < 2 || s[0] != '+' {
		return false
	}
	s = s[1:]
	if cc, rest, dash := strings.Cut(s, "-"); dash {
		return len(cc) >= 1 && len(cc) <= 4 && digits(cc) && len(rest) >= 4 && len(rest) <= 14 && digits(rest)
	}
	return len(s) >= 5 && len(s) <= 18 && digits(s) // the country code's split is free
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func alnum(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// slugMatch is ^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$.
func slugMatch(s string) bool {
	if len(s) < 1 || len(s) > 100 || !alnum(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !alnum(c) && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

// tokenMatch is ^[A-Za-z0-9._~-]{1,256}$.
func tokenMatch(s string) bool {
	if len(s) < 1 || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !alnum(c) && c != '.' && c != '_' && c != '~' && c != '-' {
			return false
		}
	}
	return true
}

// userIDMatch is ^[^\s@<>"]{1,128}$: 1 to 128 characters (an invalid
// UTF-8 byte counts as one), none a space, @, <, > or ".
func userIDMatch(s string) bool {
	n := 0
	for _, r := range s {
		switch r {
		case '\t', '\n', '\f', '\r', ' ', '@', '<', '>', '"':
			return false
		}
		n++
	}
	return n >= 1 && n <= 128
}

// Normalize fills what a hand-written document may leave out: a robot
// without a kind is of the default kind (the first of kinds), and kinds
// are matched in lower case. Owners' ids are kept as kinds write them
// (Kinds.NormalizeOwner).
func (d *Document) Normalize(kinds Kinds) {
	if d.Schema == 0 {
		d.Schema = SchemaVersion
	}
	for i := range d.Robots {
		r := &d.Robots[i]
		r.Kind = strings.ToLower(strings.TrimSpace(r.Kind))
		if r.Kind == "" {
			r.Kind = kinds.Default()
		}
		if strings.TrimSpace(r.Name) == "" && r.ID > 0 {
			r.Name = fmt.Sprintf("robot %d", r.ID)
		}
	}
	// Names are for people; where one is missing, show what identifies it.
	// Mobiles are taken as people write them (+86 138 0013 8000).
	for i := range d.Owners {
		o := &d.Owners[i]
		if o.Mobile != "" {
			o.Mobile = NormalizeMobile(o.Mobile)
		}
		kinds.NormalizeOwner(o)
		if strings.TrimSpace(o.Name) == "" {
			o.Name = o.Mobile
			for _, k := range kinds {
				o.Name = firstNonEmpty(o.Name, o.ids[k.Name])
			}
		}
	}
	for i := range d.Projects {
		if p := &d.Projects[i]; strings.TrimSpace(p.Name) == "" {
			p.Name = p.Slug
		}
	}
	for i := range d.Organizations {
		if o := &d.Organizations[i]; strings.TrimSpace(o.Name) == "" {
			o.Name = firstNonEmpty(o.Slug, o.SentryURL, fmt.Sprintf("organization %d", o.ID))
		}
	}
}

func firstNonEmpty(vals ...string) string {
	for _, v := range vals {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}

// ValidMobile reports whether s is a mobile number a robot can @-mention.
func ValidMobile(s string) bool { return mobileMatch(s) }

// NormalizeMobile turns a mainland number as people type or paste it
// (+86 138 0013 8000, 138-0013-8000, (0086)13800138000, full-width digits)
// into the 11 digits the chat tools @-mention; an international number
// keeps the chat tools' +852-12345678 form, without spaces. Anything else
// comes back with its spaces removed, for Validate to name.
func NormalizeMobile(s string) string {
	if mainlandMobile(s) {
		return s // as the configurator stores it
	}
	s = strings.Map(func(r rune) rune {
		switch {
		case r >= '０' && r <= '９':
			return '0' + (r - '０')
		case r == '＋':
			return '+'
		case r == '－' || r == '‐' || r == '‑' || r == '–' || r == '—' || r == '−':
			return '-'
		case r == '（':
			return '('
		case r == '）':
			return ')'
		case unicode.IsSpace(r):
			return -1
		}
		return r
	}, s)
	bare := mobileMarks.Replace(s)
	for _, prefix := range []string{"+86", "0086", "86", ""} {
		if rest, ok := strings.CutPrefix(bare, prefix); ok && mainlandMobile(rest) {
			return rest
		}
	}
	if !strings.HasPrefix(s, "+") {
		return bare
	}
	return mobileParens.Replace(s)
}

// The marks NormalizeMobile drops, made once: building a Replacer for
// each owner was 14 % of parsing a document of 1,000 projects.
var (
	mobileMarks  = strings.NewReplacer("-", "", "(", "", ")", "", ".", "")
	mobileParens = strings.NewReplacer("(", "", ")", "")
)

// mainlandMobile reports whether s is 11 digits starting with 1.
func mainlandMobile(s string) bool {
	if len(s) != 11 || s[0] != '1' {
		return false
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// ValidSlug reports whether s is a usable Sentry slug.
func ValidSlug(s string) bool { return slugMatch(s) }

// Limits on the length of names and texts, in characters; the
// configurator's inputs use them as their maxlength.
const (
	MaxOrganizationName = 100
	MaxOwnerName        = 50
	MaxRobotName        = 100
	MaxProjectName      = 100
	MaxAccount          = 200
	MaxKeyword          = 50
)

// Codes are the codes of the FieldErrors this package makes (Validate,
// Parse, the §7 fields, the kinds' owner ids): programs and the
// configurator's page tell problems apart by them, and the page words each
// ("err.<code>" in web/static/i18n). A new code goes here too; the tests
// of internal/config and of the configurator check that every code they
// see is listed.
var Codes = []string{"api_token", "clock", "date", "empty", "environment", "id_positive", "id_twice", "invalid_utf8",
	"json", "json_trailing", "kind_rule", "kind_unknown", "kind_unregistered", "level", "local_time", "mention",
	"mobile", "mobile_or_id", "no_spaces", "org_slug", "period", "project_slug", "project_slug_required", "quiet_mode",
	"range", "range_order", "ref_missing", "ref_twice", "relay_url", "required", "schedule_required", "schema",
	"sentry_url", "sentry_user", "slug_used", "step", "string", "timezone", "token_alone", "token_chars", "too_long",
	"user_id_chars", "weekday"}

type validator struct{ errs FieldErrors }

// kv is a FieldError's parameters.
type kv = map[string]any

// add records a problem: its code and parameters for programs, and the
// English text.
func (v *validator) add(field, code string, params kv, format string, args ...any) {
	v.errs = append(v.errs, &FieldError{Field: field, Msg: fmt.Sprintf(format, args...), Code: code, Params: params})
}

// text checks the text s of entry's member (entry+member names the field,
// put together only for an error: a document's every name is checked).
func (v *validator) text(entry, member, s string, required bool, max int) {
	switch {
	case required && strings.TrimSpace(s) == "":
		v.add(entry+member, "required", nil, "is required")
	case !utf8.ValidString(s):
		v.add(entry+member, "invalid_utf8", nil, "is not valid UTF-8")
	case utf8.RuneCountInString(s) > max:
		v.add(entry+member, "too_long", kv{"max": max}, "is longer than %d characters", max)
	}
}

// Validate checks the whole document, its robots and owners by the rules
// of kinds, and returns FieldErrors naming every field at fault, or nil.
func (d *Document) Validate(kinds Kinds) error {
	v := &validator{}
	if d.Schema != SchemaVersion {
		v.add("schema", "schema", kv{"got": d.Schema, "want": SchemaVersion}, "is %d; this sentry-white reads schema %d", d.Schema, SchemaVersion)
	}
	if t := d.WebhookToken.Reveal(); t != "" && !tokenMatch(t) {
		v.add("webhook_token", "token_chars", nil, "may hold only letters, digits and . _ ~ - (at most 256)")
	}
	if k := d.ActionKey.Reveal(); k != "" && !tokenMatch(k) {
		v.add("action_key", "token_chars", nil, "may hold only letters, digits and . _ ~ - (at most 256)")
	}

	orgs := make(map[int64]bool, len(d.Organizations))
	for i, o := range d.Organizations {
		f := "organizations[" + strconv.Itoa(i) + "]"
		v.id(f, o.ID, orgs, "organization")
		v.text(f, ".name", o.Name, false, MaxOrganizationName)
		if o.SentryURL != "" {
			if u, err := url.Parse(o.SentryURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				v.add(f+".sentry_url", "sentry_url", nil, "must be an http(s) URL such as https://sentry.io")
			}
		}
		if o.Slug != "" && !slugMatch(o.Slug) {
			v.add(f+".slug", "org_slug", nil, "must be the Sentry organization slug (letters, digits, - and _)")
		}
		v.text(f, ".account", o.Account, false, MaxAccount)
		v.text(f, ".password", o.Password.Reveal(), false, MaxAccount)
		v.text(f, ".client_secret", o.ClientSecret.Reveal(), false, MaxAccount)
	}

	owners := make(map[int64]bool, len(d.Owners))
	for i, o := range d.Owners {
		f := "owners[" + strconv.Itoa(i) + "]"
		v.id(f, o.ID, owners, "owner")
		v.text(f, ".name", o.Name, false, MaxOwnerName)
		if o.Mobile != "" && !mobileMatch(o.Mobile) {
			v.add(f+".mobile", "mobile", kv{"value": o.Mobile}, "%q is not a mobile number (11 digits such as 13800138000, or +852-12345678)", o.Mobile)
		}
		reachable := o.Mobile != ""
		for k := range kinds.withOwnerIDs() {
			id, ok := k.ownerID(&d.Owners[i])
			if !ok {
				got := jsonType(o.Extra[k.OwnerIDKey])
				v.add(f+"."+k.OwnerIDKey, "json_type", kv{"got": got, "want": "string"}, "got a JSON %s, want a string", got)
				continue
			}
			if id != "" && !userIDMatch(id) {
				v.add(f+"."+k.OwnerIDKey, "user_id_chars", nil, "must not contain spaces, @, <, > or quotes")
			}
			reachable = reachable || id != ""
		}
		if !reachable {
			var keys []string
			for k := range kinds.withOwnerIDs() {
				keys = append(keys, k.OwnerIDKey)
			}
			v.add(f+".mobile", "mobile_or_id", kv{"keys": keys}, "is required (or one of %s)", strings.Join(keys, ", "))
		}
	}

	robots := make(map[int64]bool, len(d.Robots))
	for i, r := range d.Robots {
		f := "robots[" + strconv.Itoa(i) + "]"
		v.id(f, r.ID, robots, "robot")
		v.text(f, ".name", r.Name, false, MaxRobotName)
		rules, known := kinds.Rules(r.Kind)
		if !known {
			if len(kinds) == 0 {
				v.add(f+".kind", "kind_unregistered", kv{"value": r.Kind}, "%q cannot be checked: no robot kinds were given", r.Kind)
			} else {
				v.add(f+".kind", "kind_unknown", kv{"value": r.Kind, "kinds": kinds.Names()}, "%q is not a robot kind; use one of %s", r.Kind, strings.Join(kinds.Names(), ", "))
			}
		}
		tok := r.AccessToken.Reveal()
		switch {
		case tok == "":
			v.add(f+".access_token", "required", nil, "is required")
		case !tokenMatch(tok):
			v.add(f+".access_token", "token_alone", nil, "must be the token alone (letters, digits, - and _), not the whole webhook URL")
		}
		if s := r.Secret.Reveal(); s != "" && strings.ContainsAny(s, " \t\r\n") {
			v.add(f+".secret", "no_spaces", nil, "must not contain spaces or line breaks")
		}
		if known && rules.CheckRobot != nil {
			for _, e := range rules.CheckRobot(&d.Robots[i]) { // not &r: that copies each robot to the heap
				code, params := e.Code, e.Params
				if code == "" { // a kind's own rule, in its own words
					code, params = "kind_rule", kv{"kind": r.Kind, "text": e.Msg}
				}
				v.add(f+"."+e.Field, code, params, "%s", e.Msg)
			}
		}
		v.text(f, ".keyword", r.Keyword, false, MaxKeyword)
		v.validateRobotTimed(f, &d.Robots[i])
	}

	schedules := v.validateTimed(d, owners, robots)

	slugs := make(map[string]int, len(d.Projects))
	projects := make(map[int64]bool, len(d.Projects))
	for i, p := range d.Projects {
		f := "projects[" + strconv.Itoa(i) + "]"
		v.id(f, p.ID, projects, "project")
		v.text(f, ".name", p.Name, false, MaxProjectName)
		switch {
		case p.Slug == "":
			v.add(f+".slug", "project_slug_required", nil, "is required (the Sentry project slug)")
		case !slugMatch(p.Slug):
			v.add(f+".slug", "project_slug", kv{"value": p.Slug}, "%q is not a Sentry project slug (letters, digits, - and _)", p.Slug)
		}
		if p.OrganizationID != 0 && !orgs[p.OrganizationID] {
			v.add(f+".organization_id", "ref_missing", kv{"what": "organization", "id": p.OrganizationID}, "organization %d does not exist", p.OrganizationID)
		}
		key := strconv.FormatInt(p.OrganizationID, 10) + "/" + strings.ToLower(p.Slug)
		if j, dup := slugs[key]; dup && p.Slug != "" {
			v.add(f+".slug", "slug_used", kv{"value": p.Slug, "index": j}, "%q is already used by projects[%d] in the same organization", p.Slug, j)
		} else {
			slugs[key] = i
		}
		v.refs(f, ".owner_ids", p.OwnerIDs, owners, "owner")
		v.refs(f, ".robot_ids", p.RobotIDs, robots, "robot")
		for j, e := range p.Environments {
			if strings.TrimSpace(e) == "" || len(e) > 64 {
				v.add(fmt.Sprintf("%s.environments[%d]", f, j), "environment", nil, "must be a Sentry environment name")
			}
		}
		if p.MinLevel != "" && !validLevel(p.MinLevel) {
			v.add(f+".min_level", "level", kv{"value": p.MinLevel, "levels": Levels}, "%q is not a level; use one of %s", p.MinLevel, strings.Join(Levels, ", "))
		}
		if p.MentionLevel != "" && !validLevel(p.MentionLevel) {
			v.add(f+".mention_level", "level", kv{"value": p.MentionLevel, "levels": Levels}, "%q is not a level; use one of %s", p.MentionLevel, strings.Join(Levels, ", "))
		}
		if p.RepeatWindowSeconds < 0 || p.RepeatWindowSeconds > 86400 {
			v.add(f+".repeat_window_seconds", "range", kv{"min": 0, "max": 86400}, "must be between 0 and 86400")
		}
		v.validateProjectTimed(f, &d.Projects[i], schedules)
	}
	if len(v.errs) == 0 {
		return nil
	}
	return v.errs
}

func (v *validator) id(field string, id int64, seen map[int64]bool, what string) {
	switch {
	case id <= 0:
		v.add(field+".id", "id_positive", nil, "must be a positive integer")
	case seen[id]:
		v.add(field+".id", "id_twice", kv{"what": what, "id": id}, "%s id %d is used twice", what, id)
	default:
		seen[id] = true
	}
}

func (v *validator) refs(entry, member string, ids []int64, exist map[int64]bool, what string) {
	for i, id := range ids {
		switch {
		case !exist[id]:
			v.add(entry+member, "ref_missing", kv{"what": what, "id": id}, "%s %d does not exist", what, id)
		case slices.Contains(ids[:i], id): // lists of a few ids: no map for each
			v.add(entry+member, "ref_twice", kv{"what": what, "id": id}, "%s %d is listed twice", what, id)
		}
	}
}
