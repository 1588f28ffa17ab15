// Package original reads the data of the original sentry-white (哨兵小白:
// a Go admin and a Vue page writing JSON objects into OSS, read by an FC
// function) and converts it into a schema-1 configuration document.
//
// The original keeps, under <prefix>v1/ (no extension, JSON):
//
//	originals           {"originals":[…], "max_id":N}   Sentry logins, each with its projects
//	projects            {"projects":[…], "max_id":N}    name = Sentry slug, substitute_name = display name
//	robots              {"robots":[…], "max_id":N}      DingTalk robots: access_token only
//	responsible_people  {"responsible_people":[…], …}   name and phone
//	<list>/<id>         one record, the same shape as in its list
//
// It wrote the objects one by one, so lists may be missing, records may
// point at deleted or missing ids, and a per-record object may disagree
// with its list. The lists win; a list that is missing is rebuilt from its
// per-record objects; every such problem is reported and none is fatal.
package original

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"unicode/utf8"

	"github.com/sentry-white/sentry-white/internal/store"
)

// The original's lists, by their object names.
const (
	Originals = "originals"
	Projects  = "projects"
	Robots    = "robots"
	People    = "responsible_people"
)

// Lists are the original's lists in the order they are read and reported.
var Lists = []string{Originals, People, Robots, Projects}

// ErrNotFound means the store holds nothing of the original layout, or
// nothing of it could be read.
var ErrNotFound = errors.New("no data of the original sentry-white")

// Key is the object key of a list under prefix: api/v1/projects.
func Key(prefix, list string) string { return prefix + "v1/" + list }

// ListState says where a list's records came from.
type ListState string

// List states.
const (
	StateList       ListState = "list"       // the list object
	StateRecords    ListState = "records"    // no list object: rebuilt from the per-record objects
	StateMissing    ListState = "missing"    // neither a list nor per-record objects
	StateUnreadable ListState = "unreadable" // the list object is not the original's JSON, and no per-record objects
)

// ListInfo is what was found of one list.
type ListInfo struct {
	List    string    `json:"list"`
	Key     string    `json:"key"`
	State   ListState `json:"state"`
	Records int       `json:"records"` // records read (from the list, or the per-record objects)
	Objects int       `json:"objects"` // per-record objects found beside it
}

// record is one record as stored: its id, its members and where it came
// from.
type record struct {
	ID      int64
	Raw     map[string]json.RawMessage
	Key     string // the object it was read from
	Deleted string // deleted_at when the record is deleted, else ""
}

// Snapshot is what Read found: each list's records (the list's, or the
// per-record objects' when the list is missing) and the problems met while
// reading.
type Snapshot struct {
	Store    string
	Prefix   string
	Info     []ListInfo
	records  map[string][]record         // by list, in stored order
	perRec   map[string]map[int64]record // per-record objects, by list and id
	problems []Problem
}

// Info returns the ListInfo of list.
func (s *Snapshot) info(list string) *ListInfo {
	for i := range s.Info {
		if s.Info[i].List == list {
			return &s.Info[i]
		}
	}
	return nil
}

// Found reports whether anything of the original layout was read.
func (s *Snapshot) Found() bool {
	for _, i := range s.Info {
		if i.Records > 0 || i.State == StateList || i.State == StateRecords {
			return true
		}
	}
	return false
}

// ReadOptions tune Read.
type ReadOptions struct {
	// ListsOnly skips the per-record objects (no listing, one read per
	// list): enough to tell whether a store holds the original layout.
	ListsOnly bool
	// Parallel bounds the concurrent reads of per-record objects; 0 means 8.
	Parallel int
}

// Read reads the original layout under prefix (normally "api/") from b.
// It fails only when the store cannot be reached (an error wrapping the
// store's) or holds nothing of the original layout (ErrNotFound); every
// other problem is in the snapshot.
func Read(ctx context.Context, b store.Backend, prefix string, o ReadOptions) (*Snapshot, error) {
	if prefix == "" {
		prefix = store.DefaultPrefix
	}
	if o.Parallel <= 0 {
		o.Parallel = 8
	}
	s := &Snapshot{Store: b.String(), Prefix: prefix, records: map[string][]record{}, perRec: map[string]map[int64]record{}}
	for _, list := range Lists {
		if err := s.readList(ctx, b, list, o); err != nil {
			return nil, err
		}
	}
	if !s.Found() {
		keys := make([]string, len(Lists))
		for i, l := range Lists {
			keys[i] = Key(prefix, l)
		}
		return s, fmt.Errorf("%w in %s: none of %s could be read", ErrNotFound, s.Store, strings.Join(keys, ", "))
	}
	return s, nil
}

// fatal reports whether a store error means the store itself cannot be
// used (rather than one object being unusable).
func fatal(err error) bool {
	return errors.Is(err, store.ErrUnreachable) || errors.Is(err, store.ErrCredentials) ||
		errors.Is(err, store.ErrNoBucket) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

func (s *Snapshot) readList(ctx context.Context, b store.Backend, list string, o ReadOptions) error {
	key := Key(s.Prefix, list)
	info := ListInfo{List: list, Key: key, State: StateMissing}
	var listed []record
	haveList := false
	obj, err := b.Get(ctx, key, "")
	switch {
	case err == nil:
		recs, skipped, perr := parseList(obj.Data, list, key)
		s.problems = append(s.problems, skipped...)
		if perr != nil {
			s.problems = append(s.problems, Problem{Code: CodeUnreadable, Level: LevelWarning, List: list, Key: key, Value: perr.Error()})
			info.State = StateUnreadable
		} else {
			listed, haveList = recs, true
			info.State = StateList
		}
	case errors.Is(err, store.ErrNotFound), errors.Is(err, syscall.EISDIR):
		// A folder copy of the bucket cannot hold a file and a folder of
		// the same name: there the per-record objects stand for the list.
	case fatal(err):
		return fmt.Errorf("read %s: %w", key, err)
	default:
		s.problems = append(s.problems, Problem{Code: CodeUnreadable, Level: LevelWarning, List: list, Key: key, Value: err.Error()})
		info.State = StateUnreadable
	}

	per := map[int64]record{}
	if !o.ListsOnly || !haveList {
		var err error
		per, err = s.readRecords(ctx, b, list, o.Parallel)
		if err != nil {
			return err
		}
	}
	info.Objects = len(per)
	s.perRec[list] = per

	if haveList {
		s.records[list] = listed
		info.Records = len(listed)
	} else if len(per) > 0 {
		ids := make([]int64, 0, len(per))
		for id := range per {
			ids = append(ids, id)
		}
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
		for _, id := range ids {
			s.records[list] = append(s.records[list], per[id])
		}
		info.State = StateRecords
		info.Records = len(ids)
		s.problems = append(s.problems, Problem{Code: CodeListFromRecords, Level: LevelWarning, List: list, Key: key, Count: len(ids)})
	} else if info.State == StateMissing {
		s.problems = append(s.problems, Problem{Code: CodeMissingList, Level: LevelWarning, List: list, Key: key})
	}
	s.Info = append(s.Info, info)
	return nil
}

// readRecords reads the per-record objects <list>/<id>.
func (s *Snapshot) readRecords(ctx context.Context, b store.Backend, list string, parallel int) (map[int64]record, error) {
	dir := Key(s.Prefix, list) + "/"
	keys, err := b.List(ctx, dir)
	if err != nil {
		if fatal(err) {
			return nil, fmt.Errorf("list %s: %w", dir, err)
		}
		s.problems = append(s.problems, Problem{Code: CodeUnreadable, Level: LevelWarning, List: list, Key: dir, Value: err.Error()})
		return map[int64]record{}, nil
	}
	type got struct {
		key string
		rec record
		err error
	}
	var todo []string
	for _, k := range keys {
		rest := strings.TrimPrefix(k, dir)
		if id, err := strconv.ParseInt(rest, 10, 64); err == nil && id > 0 && !strings.Contains(rest, "/") {
			todo = append(todo, k)
		}
	}
	results := make([]got, len(todo))
	var wg sync.WaitGroup
	sem := make(chan struct{}, parallel)
	for i, k := range todo {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			obj, err := b.Get(ctx, k, "")
			if err != nil {
				results[i] = got{key: k, err: err}
				return
			}
			rec, err := parseRecord(obj.Data, list, k)
			results[i] = got{key: k, rec: rec, err: err}
		}()
	}
	wg.Wait()
	out := map[int64]record{}
	for _, g := range results {
		if g.err != nil {
			if fatal(g.err) {
				return nil, fmt.Errorf("read %s: %w", g.key, g.err)
			}
			s.problems = append(s.problems, Problem{Code: CodeUnreadable, Level: LevelWarning, List: list, Key: g.key, Value: g.err.Error()})
			continue
		}
		want, _ := strconv.ParseInt(strings.TrimPrefix(g.key, dir), 10, 64)
		if g.rec.ID != want {
			s.problems = append(s.problems, Problem{Code: CodeUnreadable, Level: LevelWarning, List: list, Key: g.key,
				Value: fmt.Sprintf("it holds record id %d, not %d", g.rec.ID, want)})
			continue
		}
		out[want] = g.rec
	}
	return out, nil
}

// parseList decodes a list object: {"<list>": [records…], "max_id": N}. A
// bare array of records is accepted too. A record that is not an object or
// has no usable id is skipped, and reported in skipped: the others are
// kept.
func parseList(data []byte, list, key string) (_ []record, skipped []Problem, _ error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var items []json.RawMessage
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && trimmed[0] == '[' {
		if err := json.Unmarshal(trimmed, &items); err != nil {
			return nil, nil, fmt.Errorf("not JSON: %v", plainJSON(err))
		}
	} else {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(trimmed, &obj); err != nil {
			return nil, nil, fmt.Errorf("not JSON: %v", plainJSON(err))
		}
		raw, ok := obj[list]
		if !ok {
			return nil, nil, fmt.Errorf("has no %q member", list)
		}
		if len(bytes.TrimSpace(raw)) > 0 && string(bytes.TrimSpace(raw)) != "null" {
			if err := json.Unmarshal(raw, &items); err != nil {
				return nil, nil, fmt.Errorf("%q is not a list of records", list)
			}
		}
	}
	out := make([]record, 0, len(items))
	for i, it := range items {
		rec, err := decodeRecord(it)
		var bad *badID
		switch {
		case errors.As(err, &bad):
			skipped = append(skipped, Problem{Code: CodeInvalid, Level: LevelSkipped, List: list, Key: key, Name: bad.name,
				Field: "id", Value: bad.value, Reason: WhyBadID})
			continue
		case err != nil:
			skipped = append(skipped, Problem{Code: CodeUnreadable, Level: LevelSkipped, List: list, Key: key,
				Value: fmt.Sprintf("record %d of the list is not a JSON object (%s); skipped", i+1, clipText(string(bytes.TrimSpace(it)), 40))})
			continue
		}
		rec.Key = key
		out = append(out, rec)
	}
	return out, skipped, nil
}

// badID is a record whose id is missing, not a whole number, or beyond
// MaxID.
type badID struct{ value, name string }

func (e *badID) Error() string { return fmt.Sprintf("id %q is not a usable id", e.value) }

// parseRecord decodes a per-record object.
func parseRecord(data []byte, list, key string) (record, error) {
	data = bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	rec, err := decodeRecord(data)
	if err != nil {
		return record{}, err
	}
	rec.Key = key
	return rec, nil
}

func decodeRecord(data []byte) (record, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil || m == nil {
		if err == nil {
			err = errors.New("null")
		}
		return record{}, fmt.Errorf("not a JSON object: %v", plainJSON(err))
	}
	id, ok := intOf(m["id"])
	if !ok {
		v := strOf(m["id"])
		if v == "" {
			v = string(bytes.TrimSpace(m["id"])) // null, true, an object…
		}
		return record{}, &badID{value: clipText(v, 40), name: clipText(strings.TrimSpace(strOf(m["name"])), 100)}
	}
	rec := record{ID: id, Raw: m}
	if del := strOf(m["deleted_at"]); !zeroTime(del) {
		rec.Deleted = del
	}
	return rec, nil
}

// zeroTime reports whether a deleted_at value means "not deleted": absent,
// empty, null, or the zero time the original writes (0001-01-01 00:00:00,
// also as Go writes it, 0001-01-01T00:00:00Z).
func zeroTime(s string) bool {
	s = strings.TrimSpace(s)
	if s == "" || s == "null" {
		return true
	}
	return zeroTimeRE.MatchString(s)
}

var zeroTimeRE = regexp.MustCompile(`^0001-01-01(?:[ T]00:00:00(?:\.0+)?)?(?:Z| ?[+-]\d\d:?\d\d)?$`)

func plainJSON(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%v (at byte %d)", se, se.Offset)
	}
	return err.Error()
}

// strOf reads a JSON string, or a number as its text; anything else is "".
func strOf(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}

// MaxID is the largest id imported: the configurator's page (JavaScript)
// holds ids exactly up to 2^53-1.
const MaxID = 1<<53 - 1

// intOf reads a JSON number or a numeric string as an id: a whole number
// (2 and 2.0 alike) of at most MaxID; negative ones are read, and refused
// later as ids.
func intOf(raw json.RawMessage) (int64, bool) {
	s := strings.TrimSpace(strOf(raw))
	if s == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, n <= MaxID && n >= -MaxID
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil && f == math.Trunc(f) && math.Abs(f) <= MaxID {
		return int64(f), true
	}
	return 0, false
}

// clipText cuts s to at most n runes for a report.
func clipText(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}

// idsOf reads a list of ids: [1, "2"], or objects with an id ([{"id":1}]).
func idsOf(raw json.RawMessage) []int64 {
	var items []json.RawMessage
	if json.Unmarshal(raw, &items) != nil {
		if id, ok := intOf(raw); ok && id > 0 { // a single id
			return []int64{id}
		}
		return nil
	}
	var out []int64
	for _, it := range items {
		if id, ok := intOf(it); ok {
			out = append(out, id)
			continue
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(it, &obj) == nil {
			if id, ok := intOf(obj["id"]); ok {
				out = append(out, id)
			}
		}
	}
	return out
}

// refOf reads a reference: {"id": 2}, or a bare id.
func refOf(raw json.RawMessage) int64 {
	if id, ok := intOf(raw); ok {
		return id
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(raw, &obj) == nil {
		if id, ok := intOf(obj["id"]); ok {
			return id
		}
	}
	return 0
}
