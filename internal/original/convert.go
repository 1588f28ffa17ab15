package original

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/store"
)

// DefaultSentryURL is the Sentry the original worked with: it kept only a
// login, for sentry.io.
const DefaultSentryURL = "https://sentry.io"

// Options tune Convert.
type Options struct {
	// WebhookToken is kept as the document's webhook token (say, the token
	// of a document already in the store, so Sentry's URL stays valid);
	// "" means a new random token. The result never has an empty token.
	WebhookToken string
	// SentryURL is the organizations' Sentry; "" means DefaultSentryURL.
	SentryURL string
	// Kinds are the robot kinds of the document made (the registry's,
	// notifiers.Registry.Document); the original's robots are of the
	// default kind, the first.
	Kinds config.Kinds
}

// Import reads the original layout under prefix and converts it. It fails
// only when the store cannot be reached or holds nothing of the original
// layout (ErrNotFound).
func Import(ctx context.Context, b store.Backend, prefix string, o Options) (*config.Document, *Report, error) {
	s, err := Read(ctx, b, prefix, ReadOptions{})
	if err != nil {
		return nil, nil, err
	}
	d, r, err := Convert(s, o)
	return d, r, err
}

// NewToken returns a random webhook token (32 hex digits).
func NewToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// live is a list's records that are imported candidates: not deleted, with
// a usable and unique id.
type live struct {
	recs    map[int64]record
	order   []int64
	deleted map[int64]bool
}

func (l *live) reason(id int64, skipped map[int64]bool) string {
	switch {
	case l.deleted[id]:
		return ReasonDeleted
	case skipped[id]:
		return ReasonSkipped
	case l.recs[id].Raw != nil:
		return ReasonSkipped
	}
	return ReasonMissing
}

var tokenRE = regexp.MustCompile(`^[A-Za-z0-9._~-]{1,256}$`)

// Convert builds a valid schema-1 document from a snapshot and says what
// it created and what it could not take over. The error is only for a
// document that fails validation, which the conversion is built to avoid.
func Convert(s *Snapshot, o Options) (*config.Document, *Report, error) {
	if o.SentryURL == "" {
		o.SentryURL = DefaultSentryURL
	}
	if o.WebhookToken == "" {
		o.WebhookToken = NewToken()
	}
	r := &Report{Store: s.Store, Lists: s.Info, Counts: map[string]int{}, Created: []Created{}, Problems: []Problem{}}
	for _, p := range s.problems {
		r.add(p)
	}
	lives := map[string]*live{}
	for _, list := range Lists {
		lives[list] = s.collect(list, r)
	}
	d := config.Empty()
	d.WebhookToken = config.Secret(o.WebhookToken)

	// Organizations: the original's Sentry logins.
	orgs := lives[Originals]
	for _, id := range orgs.order {
		rec := orgs.recs[id]
		name := strings.TrimSpace(strOf(rec.Raw["name"]))
		account := strings.TrimSpace(strOf(rec.Raw["account_name"]))
		password := strOf(rec.Raw["password"])
		if name == "" {
			name = firstOf(account, fmt.Sprintf("original %d", id))
		}
		name = clip(r, Originals, id, name, "name", name, 100)
		if utf8.RuneCountInString(account) > 200 {
			r.add(Problem{Code: CodeFixed, Level: LevelWarning, List: Originals, ID: id, Name: name, Field: "account_name", Reason: WhyTooLongDropped, Count: 200})
			account = ""
		}
		if utf8.RuneCountInString(password) > 200 {
			r.add(Problem{Code: CodeFixed, Level: LevelWarning, List: Originals, ID: id, Name: name, Field: "password", Reason: WhyTooLongDropped, Count: 200})
			password = ""
		}
		d.Organizations = append(d.Organizations, config.Organization{ID: id, Name: name, SentryURL: o.SentryURL,
			Account: account, Password: config.Secret(password)})
		r.add(Problem{Code: CodeNoSlug, Level: LevelInfo, List: Originals, ID: id, Name: name})
	}

	// Owners: the responsible people; the mobile is what DingTalk @-mentions.
	people := lives[People]
	ownerOf := map[int64]int64{}
	peopleSkipped := map[int64]bool{}
	byMobile := map[string]int64{}
	for _, id := range people.order {
		rec := people.recs[id]
		name := strings.TrimSpace(strOf(rec.Raw["name"]))
		phone := strOf(rec.Raw["phone"])
		mobile, ok := NormalizeMobile(phone)
		if !ok {
			reason := WhyNotMobile
			if strings.TrimSpace(phone) == "" {
				reason = WhyNoPhone
			}
			r.add(Problem{Code: CodeInvalid, Level: LevelSkipped, List: People, ID: id, Name: name, Field: "phone", Value: phone, Reason: reason})
			peopleSkipped[id] = true
			continue
		}
		if other, dup := byMobile[mobile]; dup {
			r.add(Problem{Code: CodeMerged, Level: LevelInfo, List: People, ID: id, Name: name, Field: "phone", RefList: People, RefID: other})
			ownerOf[id] = other
			continue
		}
		if name == "" {
			name = mobile
		}
		name = clip(r, People, id, name, "name", name, 50)
		d.Owners = append(d.Owners, config.Owner{ID: id, Name: name, Mobile: mobile})
		o.Kinds.NormalizeOwner(&d.Owners[len(d.Owners)-1])
		ownerOf[id] = id
		byMobile[mobile] = id
	}

	// Robots: DingTalk robots with an access_token only (keyword 详情, no 加签).
	robots := lives[Robots]
	robotOf := map[int64]int64{}
	robotsSkipped := map[int64]bool{}
	byToken := map[string]int64{}
	for _, id := range robots.order {
		rec := robots.recs[id]
		name := strings.TrimSpace(strOf(rec.Raw["name"]))
		tok := AccessToken(strOf(rec.Raw["access_token"]))
		if !tokenRE.MatchString(tok) {
			reason := WhyNotToken
			if tok == "" {
				reason = WhyNoToken
			}
			r.add(Problem{Code: CodeInvalid, Level: LevelSkipped, List: Robots, ID: id, Name: name, Field: "access_token", Reason: reason})
			robotsSkipped[id] = true
			continue
		}
		if other, dup := byToken[tok]; dup {
			r.add(Problem{Code: CodeMerged, Level: LevelInfo, List: Robots, ID: id, Name: name, Field: "access_token", RefList: Robots, RefID: other})
			robotOf[id] = other
			continue
		}
		if name == "" {
			name = fmt.Sprintf("robot %d", id)
		}
		name = clip(r, Robots, id, name, "name", name, 100)
		// The original's robots are of the default kind.
		d.Robots = append(d.Robots, config.Robot{ID: id, Name: name, Kind: o.Kinds.Default(),
			AccessToken: config.Secret(tok), Keyword: config.DefaultKeyword})
		robotOf[id] = id
		byToken[tok] = id
	}

	// Projects: name is the Sentry slug, substitute_name the display name.
	projects := lives[Projects]
	slugs := map[string]int64{}
	for _, id := range projects.order {
		rec := projects.recs[id]
		slug := strings.TrimSpace(strOf(rec.Raw["name"]))
		display := strings.TrimSpace(strOf(rec.Raw["substitute_name"]))
		label := firstOf(display, slug)
		switch {
		case slug == "":
			r.add(Problem{Code: CodeInvalid, Level: LevelSkipped, List: Projects, ID: id, Name: label, Field: "name", Reason: WhyNoSlug})
			continue
		case !config.ValidSlug(slug):
			r.add(Problem{Code: CodeInvalid, Level: LevelSkipped, List: Projects, ID: id, Name: label, Field: "name", Value: slug, Reason: WhyNotSlug})
			continue
		}
		if display == "" {
			display = slug
		}
		display = clip(r, Projects, id, label, "substitute_name", display, 100)
		p := config.Project{ID: id, Name: display, Slug: slug, OwnerIDs: []int64{}, RobotIDs: []int64{}}

		// Its organization: original_id, else the original that lists it.
		if oid := refOf(rec.Raw["original_id"]); oid > 0 {
			if _, ok := orgs.recs[oid]; ok {
				p.OrganizationID = oid
			} else {
				r.add(Problem{Code: CodeDangling, Level: LevelWarning, List: Projects, ID: id, Name: label, Field: "original_id", RefList: Originals, RefID: oid, Reason: orgs.reason(oid, nil)})
			}
		}
		if p.OrganizationID == 0 {
			for _, oid := range orgs.order {
				if slices.Contains(idsOf(orgs.recs[oid].Raw["projects"]), id) {
					p.OrganizationID = oid
					r.add(Problem{Code: CodeFallback, Level: LevelInfo, List: Projects, ID: id, Name: label, Field: "original_id", RefList: Originals, RefID: oid})
					break
				}
			}
		}

		// Its robot: robot (or robot_id), else the robots that name it.
		rid := refOf(rec.Raw["robot"])
		if rid == 0 {
			rid = refOf(rec.Raw["robot_id"])
		}
		if rid > 0 {
			if to, ok := robotOf[rid]; ok {
				p.RobotIDs = append(p.RobotIDs, to)
			} else {
				r.add(Problem{Code: CodeDangling, Level: LevelWarning, List: Projects, ID: id, Name: label, Field: "robot", RefList: Robots, RefID: rid, Reason: robots.reason(rid, robotsSkipped)})
			}
		}
		if len(p.RobotIDs) == 0 {
			for _, bid := range robots.order {
				to, ok := robotOf[bid]
				if ok && refOf(robots.recs[bid].Raw["project_id"]) == id && !slices.Contains(p.RobotIDs, to) {
					p.RobotIDs = append(p.RobotIDs, to)
					r.add(Problem{Code: CodeFallback, Level: LevelInfo, List: Projects, ID: id, Name: label, Field: "robot", RefList: Robots, RefID: bid})
				}
			}
		}
		if len(p.RobotIDs) == 0 {
			r.add(Problem{Code: CodeNoRobot, Level: LevelWarning, List: Projects, ID: id, Name: label})
		}

		// Its owners: responsible_people_id, else the people that name it.
		for _, pid := range idsOf(rec.Raw["responsible_people_id"]) {
			to, ok := ownerOf[pid]
			switch {
			case !ok:
				r.add(Problem{Code: CodeDangling, Level: LevelWarning, List: Projects, ID: id, Name: label, Field: "responsible_people_id", RefList: People, RefID: pid, Reason: people.reason(pid, peopleSkipped)})
			case !slices.Contains(p.OwnerIDs, to):
				p.OwnerIDs = append(p.OwnerIDs, to)
			}
		}
		if len(p.OwnerIDs) == 0 {
			for _, pid := range people.order {
				to, ok := ownerOf[pid]
				if ok && slices.Contains(idsOf(people.recs[pid].Raw["projects_id"]), id) && !slices.Contains(p.OwnerIDs, to) {
					p.OwnerIDs = append(p.OwnerIDs, to)
					r.add(Problem{Code: CodeFallback, Level: LevelInfo, List: Projects, ID: id, Name: label, Field: "responsible_people_id", RefList: People, RefID: pid})
				}
			}
		}
		if len(p.OwnerIDs) == 0 {
			r.add(Problem{Code: CodeNoOwner, Level: LevelInfo, List: Projects, ID: id, Name: label})
		}

		key := fmt.Sprintf("%d/%s", p.OrganizationID, strings.ToLower(slug))
		if other, dup := slugs[key]; dup {
			r.add(Problem{Code: CodeDuplicateSlug, Level: LevelSkipped, List: Projects, ID: id, Name: label, Value: slug, RefList: Projects, RefID: other})
			continue
		}
		slugs[key] = id
		d.Projects = append(d.Projects, p)
	}

	// What no project uses.
	usedOrg, usedOwner, usedRobot := map[int64]bool{}, map[int64]bool{}, map[int64]bool{}
	for _, p := range d.Projects {
		usedOrg[p.OrganizationID] = true
		for _, v := range p.OwnerIDs {
			usedOwner[v] = true
		}
		for _, v := range p.RobotIDs {
			usedRobot[v] = true
		}
	}
	for _, o := range d.Organizations {
		if !usedOrg[o.ID] {
			r.add(Problem{Code: CodeUnused, Level: LevelInfo, List: Originals, ID: o.ID, Name: o.Name})
		}
		r.Created = append(r.Created, Created{Kind: "organizations", ID: o.ID, Name: o.Name, Detail: o.Account})
	}
	for _, o := range d.Owners {
		if !usedOwner[o.ID] {
			r.add(Problem{Code: CodeUnused, Level: LevelInfo, List: People, ID: o.ID, Name: o.Name})
		}
		r.Created = append(r.Created, Created{Kind: "owners", ID: o.ID, Name: o.Name, Detail: o.Mobile})
	}
	for _, b := range d.Robots {
		if !usedRobot[b.ID] {
			r.add(Problem{Code: CodeUnused, Level: LevelInfo, List: Robots, ID: b.ID, Name: b.Name})
		}
		r.Created = append(r.Created, Created{Kind: "robots", ID: b.ID, Name: b.Name, Detail: b.Kind + ", keyword " + b.Keyword})
	}
	for _, p := range d.Projects {
		r.Created = append(r.Created, Created{Kind: "projects", ID: p.ID, Name: p.Name, Detail: p.Slug})
	}
	r.Counts = map[string]int{"organizations": len(d.Organizations), "owners": len(d.Owners), "robots": len(d.Robots), "projects": len(d.Projects)}
	r.sortProblems()
	if err := d.Validate(o.Kinds); err != nil {
		return nil, r, fmt.Errorf("the converted document is invalid (a bug in the import; please report it): %w", err)
	}
	return d, r, nil
}

// collect picks a list's importable records, reporting deleted and
// duplicate ones and, when the list object was read, per-record objects
// that disagree with it or are not in it.
func (s *Snapshot) collect(list string, r *Report) *live {
	l := &live{recs: map[int64]record{}, deleted: map[int64]bool{}}
	inList := map[int64]record{}
	for _, rec := range s.records[list] {
		name := strings.TrimSpace(strOf(rec.Raw["name"]))
		if list == Projects {
			name = firstOf(strings.TrimSpace(strOf(rec.Raw["substitute_name"])), name)
		}
		switch {
		case rec.ID <= 0:
			r.add(Problem{Code: CodeInvalid, Level: LevelSkipped, List: list, ID: rec.ID, Name: name, Key: rec.Key, Field: "id", Value: fmt.Sprint(rec.ID), Reason: WhyBadID})
			continue
		case inList[rec.ID].Raw != nil:
			r.add(Problem{Code: CodeDuplicateID, Level: LevelSkipped, List: list, ID: rec.ID, Name: name, Key: rec.Key})
			continue
		}
		inList[rec.ID] = rec
		if rec.Deleted != "" {
			l.deleted[rec.ID] = true
			r.add(Problem{Code: CodeDeleted, Level: LevelSkipped, List: list, ID: rec.ID, Name: name, Value: rec.Deleted})
			continue
		}
		l.recs[rec.ID] = rec
		l.order = append(l.order, rec.ID)
	}
	sort.Slice(l.order, func(i, j int) bool { return l.order[i] < l.order[j] })
	if info := s.info(list); info != nil && info.State == StateList {
		ids := make([]int64, 0, len(s.perRec[list]))
		for id := range s.perRec[list] {
			ids = append(ids, id)
		}
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
		for _, id := range ids {
			pr := s.perRec[list][id]
			name := strings.TrimSpace(strOf(pr.Raw["name"]))
			if list == Projects {
				name = firstOf(strings.TrimSpace(strOf(pr.Raw["substitute_name"])), name)
			}
			if lr, ok := inList[id]; ok && list == Projects {
				name = firstOf(strings.TrimSpace(strOf(lr.Raw["substitute_name"])), strings.TrimSpace(strOf(lr.Raw["name"])))
			}
			lr, ok := inList[id]
			if !ok {
				r.add(Problem{Code: CodeNotInList, Level: LevelWarning, List: list, ID: id, Name: name, Key: pr.Key})
				continue
			}
			if f := differing(lr.Raw, pr.Raw); len(f) > 0 {
				r.add(Problem{Code: CodeDisagrees, Level: LevelWarning, List: list, ID: id, Name: name, Key: pr.Key, Fields: f})
			}
		}
	}
	return l
}

// differing names the members whose values differ between two records,
// ignoring the bookkeeping times.
func differing(a, b map[string]json.RawMessage) []string {
	norm := func(raw json.RawMessage) string {
		var buf bytes.Buffer
		if len(raw) == 0 || json.Compact(&buf, raw) != nil || buf.String() == "null" {
			return ""
		}
		return buf.String()
	}
	var out []string
	seen := map[string]bool{}
	for _, m := range []map[string]json.RawMessage{a, b} {
		for k := range m {
			if seen[k] || k == "created_at" || k == "updated_at" {
				continue
			}
			seen[k] = true
			if norm(a[k]) != norm(b[k]) {
				out = append(out, k)
			}
		}
	}
	sort.Strings(out)
	return out
}

// clip shortens a value to max characters, reporting the change.
func clip(r *Report, list string, id int64, name, field, v string, max int) string {
	if utf8.RuneCountInString(v) <= max {
		return v
	}
	short := string([]rune(v)[:max])
	r.add(Problem{Code: CodeFixed, Level: LevelInfo, List: list, ID: id, Name: name, Field: field, Value: short, Reason: WhyTooLong, Count: max})
	return short
}

func firstOf(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// NormalizeMobile turns a phone number as people type it (+86 138-0013-8000,
// 0086 13800138000, full-width digits) into the form DingTalk @-mentions
// (config.NormalizeMobile), and reports whether that is a mobile number.
func NormalizeMobile(s string) (string, bool) {
	m := config.NormalizeMobile(strings.TrimSpace(s))
	if !config.ValidMobile(m) {
		return "", false
	}
	return m, true
}

// AccessToken returns the token of a robot as the original kept it: the
// token alone, or the whole webhook URL (…/robot/send?access_token=…).
func AccessToken(s string) string {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "access_token=") {
		if u, err := url.Parse(s); err == nil {
			if t := u.Query().Get("access_token"); t != "" {
				return t
			}
		}
		_, t, _ := strings.Cut(s, "access_token=")
		t, _, _ = strings.Cut(t, "&")
		return t
	}
	return s
}
