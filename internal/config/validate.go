package config

import (
	"fmt"
	"net/url"
	"strings"
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
// without a kind is of the default kind (DefaultKind), and kinds are
// matched in lower case.
func (d *Document) Normalize() {
	if d.Schema == 0 {
		d.Schema = SchemaVersion
	}
	for i := range d.Robots {
		r := &d.Robots[i]
		r.Kind = strings.ToLower(strings.TrimSpace(r.Kind))
		if r.Kind == "" {
			r.Kind = DefaultKind()
		}
		if strings.TrimSpace(r.Name) == "" && r.ID > 0 {
			r.Name = fmt.Sprintf("robot %d", r.ID)
		}
	}
	// Names are for people; where one is missing, show what identifies it.
	for i := range d.Owners {
		if o := &d.Owners[i]; strings.TrimSpace(o.Name) == "" {
			o.Name = o.Mobile
			for _, k := range Kinds() {
				o.Name = firstNonEmpty(o.Name, o.IDs[k])
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

// ValidSlug reports whether s is a usable Sentry slug.
func ValidSlug(s string) bool { return slugMatch(s) }

type validator struct{ errs FieldErrors }

func (v *validator) add(field, format string, args ...any) {
	v.errs = append(v.errs, &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)})
}

func (v *validator) text(field, s string, required bool, max int) {
	switch {
	case required && strings.TrimSpace(s) == "":
		v.add(field, "is required")
	case !utf8.ValidString(s):
		v.add(field, "is not valid UTF-8")
	case utf8.RuneCountInString(s) > max:
		v.add(field, "is longer than %d characters", max)
	}
}

// Validate checks the whole document and returns FieldErrors naming every
// field at fault, or nil.
func (d *Document) Validate() error {
	v := &validator{}
	if d.Schema != SchemaVersion {
		v.add("schema", "is %d; this sentry-white reads schema %d", d.Schema, SchemaVersion)
	}
	if t := d.WebhookToken.Reveal(); t != "" && !tokenMatch(t) {
		v.add("webhook_token", "may hold only letters, digits and . _ ~ - (at most 256)")
	}

	orgs := map[int64]bool{}
	for i, o := range d.Organizations {
		f := fmt.Sprintf("organizations[%d]", i)
		v.id(f, o.ID, orgs, "organization")
		v.text(f+".name", o.Name, false, 100)
		if o.SentryURL != "" {
			if u, err := url.Parse(o.SentryURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				v.add(f+".sentry_url", "must be an http(s) URL such as https://sentry.io")
			}
		}
		if o.Slug != "" && !slugMatch(o.Slug) {
			v.add(f+".slug", "must be the Sentry organization slug (letters, digits, - and _)")
		}
		v.text(f+".account", o.Account, false, 200)
		v.text(f+".password", o.Password.Reveal(), false, 200)
		v.text(f+".client_secret", o.ClientSecret.Reveal(), false, 200)
	}

	owners := map[int64]bool{}
	for i, o := range d.Owners {
		f := fmt.Sprintf("owners[%d]", i)
		v.id(f, o.ID, owners, "owner")
		v.text(f+".name", o.Name, false, 50)
		if o.Mobile != "" && !mobileMatch(o.Mobile) {
			v.add(f+".mobile", "%q is not a mobile number (11 digits such as 13800138000, or +852-12345678)", o.Mobile)
		}
		reachable := o.Mobile != ""
		for _, k := range ownerIDKeys() {
			id := o.IDs[k.Name]
			if id != "" && !userIDMatch(id) {
				v.add(f+"."+k.OwnerIDKey, "must not contain spaces, @, <, > or quotes")
			}
			reachable = reachable || id != ""
		}
		if !reachable {
			var keys []string
			for _, k := range ownerIDKeys() {
				keys = append(keys, k.OwnerIDKey)
			}
			v.add(f+".mobile", "is required (or one of %s)", strings.Join(keys, ", "))
		}
	}

	robots := map[int64]bool{}
	for i, r := range d.Robots {
		f := fmt.Sprintf("robots[%d]", i)
		v.id(f, r.ID, robots, "robot")
		v.text(f+".name", r.Name, false, 100)
		rules, known := kindRules(r.Kind)
		if !known {
			if len(Kinds()) == 0 {
				v.add(f+".kind", "%q cannot be checked: no robot kinds are registered (import internal/notifiers)", r.Kind)
			} else {
				v.add(f+".kind", "%q is not a robot kind; use one of %s", r.Kind, strings.Join(Kinds(), ", "))
			}
		}
		tok := r.AccessToken.Reveal()
		switch {
		case tok == "":
			v.add(f+".access_token", "is required")
		case !tokenMatch(tok):
			v.add(f+".access_token", "must be the token alone (letters, digits, - and _), not the whole webhook URL")
		}
		if s := r.Secret.Reveal(); s != "" && strings.ContainsAny(s, " \t\r\n") {
			v.add(f+".secret", "must not contain spaces or line breaks")
		}
		if known && rules.CheckRobot != nil {
			for _, e := range rules.CheckRobot(&r) {
				v.add(f+"."+e.Field, "%s", e.Msg)
			}
		}
		v.text(f+".keyword", r.Keyword, false, 50)
	}

	slugs := map[string]int{}
	projects := map[int64]bool{}
	for i, p := range d.Projects {
		f := fmt.Sprintf("projects[%d]", i)
		v.id(f, p.ID, projects, "project")
		v.text(f+".name", p.Name, false, 100)
		switch {
		case p.Slug == "":
			v.add(f+".slug", "is required (the Sentry project slug)")
		case !slugMatch(p.Slug):
			v.add(f+".slug", "%q is not a Sentry project slug (letters, digits, - and _)", p.Slug)
		}
		if p.OrganizationID != 0 && !orgs[p.OrganizationID] {
			v.add(f+".organization_id", "organization %d does not exist", p.OrganizationID)
		}
		key := fmt.Sprintf("%d/%s", p.OrganizationID, strings.ToLower(p.Slug))
		if j, dup := slugs[key]; dup && p.Slug != "" {
			v.add(f+".slug", "%q is already used by projects[%d] in the same organization", p.Slug, j)
		} else {
			slugs[key] = i
		}
		v.refs(f+".owner_ids", p.OwnerIDs, owners, "owner")
		v.refs(f+".robot_ids", p.RobotIDs, robots, "robot")
		for j, e := range p.Environments {
			if strings.TrimSpace(e) == "" || len(e) > 64 {
				v.add(fmt.Sprintf("%s.environments[%d]", f, j), "must be a Sentry environment name")
			}
		}
		if p.MinLevel != "" && !validLevel(p.MinLevel) {
			v.add(f+".min_level", "%q is not a level; use one of %s", p.MinLevel, strings.Join(Levels, ", "))
		}
		if p.MentionLevel != "" && !validLevel(p.MentionLevel) {
			v.add(f+".mention_level", "%q is not a level; use one of %s", p.MentionLevel, strings.Join(Levels, ", "))
		}
		if p.RepeatWindowSeconds < 0 || p.RepeatWindowSeconds > 86400 {
			v.add(f+".repeat_window_seconds", "must be between 0 and 86400")
		}
	}
	if len(v.errs) == 0 {
		return nil
	}
	return v.errs
}

func (v *validator) id(field string, id int64, seen map[int64]bool, what string) {
	switch {
	case id <= 0:
		v.add(field+".id", "must be a positive integer")
	case seen[id]:
		v.add(field+".id", "%s id %d is used twice", what, id)
	default:
		seen[id] = true
	}
}

func (v *validator) refs(field string, ids []int64, exist map[int64]bool, what string) {
	dup := map[int64]bool{}
	for _, id := range ids {
		switch {
		case !exist[id]:
			v.add(field, "%s %d does not exist", what, id)
		case dup[id]:
			v.add(field, "%s %d is listed twice", what, id)
		}
		dup[id] = true
	}
}
