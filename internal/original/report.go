package original

import (
	"fmt"
	"sort"
	"strings"
)

// Problem codes. Each problem names the original record (List and ID) and,
// where it applies, the field, the record it refers to and the value.
const (
	CodeMissingList     = "missing_list"      // neither the list nor per-record objects exist
	CodeListFromRecords = "list_from_records" // the list is missing: rebuilt from Count per-record objects
	CodeUnreadable      = "unreadable"        // an object is not the original's JSON (Value says why)
	CodeDeleted         = "deleted"           // the record is deleted (Value: its deleted_at); skipped
	CodeDuplicateID     = "duplicate_id"      // a second record with the same id; skipped
	CodeInvalid         = "invalid"           // Field holds an unusable Value (Reason: Why…); the record is skipped
	CodeFixed           = "fixed"             // Field was changed to Value to fit, or left out (Reason: Why…, Count)
	CodeMerged          = "merged"            // the same person or robot as RefID (same mobile or token): merged into it
	CodeDuplicateSlug   = "duplicate_slug"    // another project of the organization has the slug; skipped
	CodeDangling        = "dangling"          // Field refers to RefList RefID, which is Reason (missing, deleted, skipped); left out
	CodeFallback        = "fallback"          // Field was empty: taken from RefList RefID, which names this record
	CodeNoRobot         = "no_robot"          // the project has no robot: it will not alert until one is chosen
	CodeNoOwner         = "no_owner"          // the project has no owner: its alerts @-mention nobody
	CodeUnused          = "unused"            // imported, but no project uses it
	CodeDisagrees       = "disagrees"         // the per-record object Key differs from the list in Fields; the list wins
	CodeNotInList       = "not_in_list"       // the per-record object Key is not in the list; ignored (the list wins)
	CodeNoSlug          = "no_slug"           // the organization has no Sentry slug (the original had none)
)

// Codes are the codes a Problem has, all of them.
var Codes = []string{CodeMissingList, CodeListFromRecords, CodeUnreadable, CodeDeleted, CodeDuplicateID, CodeInvalid,
	CodeFixed, CodeMerged, CodeDuplicateSlug, CodeDangling, CodeFallback, CodeNoRobot, CodeNoOwner, CodeUnused,
	CodeDisagrees, CodeNotInList, CodeNoSlug}

// Levels of a problem.
const (
	LevelSkipped = "skipped" // the record was not imported
	LevelWarning = "warning" // imported with something left out, or data the lists overrule
	LevelInfo    = "info"    // worth knowing; nothing was lost
)

// Reasons a reference dangles.
const (
	ReasonMissing = "missing" // no record has the id
	ReasonDeleted = "deleted" // the record is deleted
	ReasonSkipped = "skipped" // the record could not be imported (see its own problem)
)

// Reasons are the reasons a reference dangles, all of them.
var Reasons = []string{ReasonMissing, ReasonDeleted, ReasonSkipped}

// Why a value cannot be used as it is (Reason of invalid and fixed).
const (
	WhyNotMobile      = "not_mobile"       // not a mobile number
	WhyNoPhone        = "no_phone"         // empty; DingTalk @-mentions by mobile
	WhyNotToken       = "not_token"        // not a DingTalk access_token
	WhyNoToken        = "no_token"         // empty
	WhyNoSlug         = "no_slug"          // empty; it is the Sentry project slug
	WhyNotSlug        = "not_slug"         // not a Sentry project slug
	WhyBadID          = "bad_id"           // ids are whole numbers from 1 to MaxID
	WhyTooLong        = "too_long"         // shortened to Count characters
	WhyTooLongDropped = "too_long_dropped" // longer than Count characters: left out
)

// Whys are the reasons a value cannot be used as it is, all of them.
var Whys = []string{WhyNotMobile, WhyNoPhone, WhyNotToken, WhyNoToken, WhyNoSlug, WhyNotSlug, WhyBadID, WhyTooLong,
	WhyTooLongDropped}

var whyText = map[string]string{
	WhyNotMobile:      "not a mobile number",
	WhyNoPhone:        "empty; DingTalk @-mentions by mobile",
	WhyNotToken:       "not a DingTalk access_token",
	WhyNoToken:        "empty",
	WhyNoSlug:         "empty; it is the Sentry project slug",
	WhyNotSlug:        "not a Sentry project slug (letters, digits, - and _)",
	WhyBadID:          "ids are whole numbers from 1 to 9007199254740991",
	WhyTooLong:        "at most %d characters",
	WhyTooLongDropped: "longer than %d characters; left out",
}

func why(code string, n int) string {
	s, ok := whyText[code]
	if !ok {
		return code
	}
	if strings.Contains(s, "%d") {
		return fmt.Sprintf(s, n)
	}
	return s
}

// Problem is one thing the import could not take over as it was.
type Problem struct {
	Code    string   `json:"code"`
	Level   string   `json:"level"`
	List    string   `json:"list,omitempty"` // the original's list: projects, robots, …
	ID      int64    `json:"id,omitempty"`
	Name    string   `json:"name,omitempty"`
	Key     string   `json:"key,omitempty"`   // the object concerned
	Field   string   `json:"field,omitempty"` // the original's field
	Value   string   `json:"value,omitempty"` // never a secret
	RefList string   `json:"ref_list,omitempty"`
	RefID   int64    `json:"ref_id,omitempty"`
	Reason  string   `json:"reason,omitempty"` // dangling: Reason…; invalid and fixed: Why…
	Fields  []string `json:"fields,omitempty"`
	Count   int      `json:"count,omitempty"`
	Message string   `json:"message"`
}

// Created is one entry of the new document.
type Created struct {
	Kind   string `json:"kind"` // organizations, owners, robots, projects
	ID     int64  `json:"id"`
	Name   string `json:"name"`
	Detail string `json:"detail,omitempty"` // slug, mobile, …; never a secret
}

// Report says what an import created and what it could not take over.
type Report struct {
	Store    string         `json:"store"`
	Lists    []ListInfo     `json:"lists"`
	Created  []Created      `json:"created"`
	Counts   map[string]int `json:"counts"`
	Skipped  int            `json:"skipped"` // records not imported
	Problems []Problem      `json:"problems"`
}

// what names a record of the original in messages: project 3 "mall-api".
func what(list string, id int64, name string) string {
	one := map[string]string{Originals: "original", Projects: "project", Robots: "robot", People: "person"}[list]
	if one == "" {
		one = list
	}
	s := one
	if id != 0 { // 0: a record without a usable id
		s += fmt.Sprintf(" %d", id)
	}
	if name != "" {
		s += fmt.Sprintf(" %q", name)
	}
	return s
}

// message writes p's English sentence.
func (p *Problem) message() string {
	rec := what(p.List, p.ID, p.Name)
	ref := what(p.RefList, p.RefID, "")
	switch p.Code {
	case CodeMissingList:
		return fmt.Sprintf("%s is missing and there are no per-record objects %s/<id>: no %s imported", p.Key, p.Key, p.List)
	case CodeListFromRecords:
		return fmt.Sprintf("%s is missing: its %d records were read from the per-record objects %s/<id>", p.Key, p.Count, p.Key)
	case CodeUnreadable:
		return fmt.Sprintf("%s cannot be used: %s", p.Key, p.Value)
	case CodeDeleted:
		return fmt.Sprintf("%s was deleted (deleted_at %s): skipped", rec, p.Value)
	case CodeDuplicateID:
		return fmt.Sprintf("%s appears twice in the list: the first is imported, this one skipped", rec)
	case CodeInvalid:
		return fmt.Sprintf("%s: %s %q cannot be used (%s): skipped", rec, p.Field, p.Value, why(p.Reason, p.Count))
	case CodeFixed:
		if p.Reason == WhyTooLongDropped {
			return fmt.Sprintf("%s: %s is %s", rec, p.Field, why(p.Reason, p.Count))
		}
		return fmt.Sprintf("%s: %s changed to %q (%s)", rec, p.Field, p.Value, why(p.Reason, p.Count))
	case CodeMerged:
		return fmt.Sprintf("%s has the same %s as %s: merged into it", rec, p.Field, ref)
	case CodeDuplicateSlug:
		return fmt.Sprintf("%s: slug %q is already used by %s in the same organization: skipped", rec, p.Value, ref)
	case CodeDangling:
		return fmt.Sprintf("%s: %s names %s, which is %s: left out", rec, p.Field, ref, p.Reason)
	case CodeFallback:
		return fmt.Sprintf("%s: %s is empty; taken from %s, which names this project", rec, p.Field, ref)
	case CodeNoRobot:
		return fmt.Sprintf("%s has no robot: it sends no alert until you choose one", rec)
	case CodeNoOwner:
		return fmt.Sprintf("%s has no owner: its alerts @-mention nobody", rec)
	case CodeUnused:
		return fmt.Sprintf("%s is used by no project (imported all the same)", rec)
	case CodeDisagrees:
		return fmt.Sprintf("%s: the per-record object %s differs from the list in %s; the list wins", rec, p.Key, strings.Join(p.Fields, ", "))
	case CodeNotInList:
		return fmt.Sprintf("%s: the per-record object %s is not in the list; ignored (the list wins)", rec, p.Key)
	case CodeNoSlug:
		return fmt.Sprintf("%s has no Sentry organization slug (the original kept only the login): projects route by their own slug; set the slug to list its projects from Sentry", rec)
	}
	return p.Code
}

func (r *Report) add(p Problem) {
	p.Message = p.message()
	r.Problems = append(r.Problems, p)
	if p.Level == LevelSkipped {
		r.Skipped++
	}
}

// sortProblems orders the problems by list (as read), record and code, so
// a report reads the same every time.
func (r *Report) sortProblems() {
	order := map[string]int{}
	for i, l := range Lists {
		order[l] = i
	}
	sort.SliceStable(r.Problems, func(i, j int) bool {
		a, b := r.Problems[i], r.Problems[j]
		if order[a.List] != order[b.List] {
			return order[a.List] < order[b.List]
		}
		if a.ID != b.ID {
			return a.ID < b.ID
		}
		return a.Code < b.Code
	})
}

// Text is the report for people, as the command line prints it.
func (r *Report) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Original sentry-white data in %s:\n", r.Store)
	for _, l := range r.Lists {
		switch l.State {
		case StateList:
			fmt.Fprintf(&b, "  %-20s %d records (list %s", l.List, l.Records, l.Key)
			if l.Objects > 0 {
				fmt.Fprintf(&b, ", %d per-record objects", l.Objects)
			}
			b.WriteString(")\n")
		case StateRecords:
			fmt.Fprintf(&b, "  %-20s %d records (no list; from the per-record objects %s/<id>)\n", l.List, l.Records, l.Key)
		default:
			fmt.Fprintf(&b, "  %-20s %s (%s)\n", l.List, l.State, l.Key)
		}
	}
	fmt.Fprintf(&b, "\nCreated: %d organizations, %d owners, %d robots, %d projects\n",
		r.Counts["organizations"], r.Counts["owners"], r.Counts["robots"], r.Counts["projects"])
	for _, c := range r.Created {
		line := fmt.Sprintf("  + %-13s %d %s", strings.TrimSuffix(c.Kind, "s"), c.ID, c.Name)
		if c.Detail != "" {
			line += " (" + c.Detail + ")"
		}
		b.WriteString(line + "\n")
	}
	var skipped, other []Problem
	for _, p := range r.Problems {
		if p.Level == LevelSkipped {
			skipped = append(skipped, p)
		} else {
			other = append(other, p)
		}
	}
	if len(skipped) > 0 {
		fmt.Fprintf(&b, "\nNot imported (%d):\n", len(skipped))
		for _, p := range skipped {
			b.WriteString("  - " + p.Message + "\n")
		}
	}
	if len(other) > 0 {
		fmt.Fprintf(&b, "\nProblems (%d):\n", len(other))
		for _, p := range other {
			mark := "!"
			if p.Level == LevelInfo {
				mark = "i"
			}
			b.WriteString("  " + mark + " " + p.Message + "\n")
		}
	}
	return b.String()
}
