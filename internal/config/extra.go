package config

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"sync"
)

// Extra holds the JSON members of an object that this version does not know.
// They are kept verbatim so that a rewrite by an older or newer sentry-white
// never drops what another version stored.
type Extra map[string]json.RawMessage

var knownCache sync.Map // reflect.Type -> map[string]bool

// knownKeys lists the JSON names of the struct fields of t.
func knownKeys(t reflect.Type) map[string]bool {
	if v, ok := knownCache.Load(t); ok {
		return v.(map[string]bool)
	}
	keys := map[string]bool{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		keys[name] = true
	}
	knownCache.Store(t, keys)
	return keys
}

// unmarshalKeeping decodes data into v (a pointer to a struct without custom
// UnmarshalJSON) and returns the members v has no field for.
func unmarshalKeeping(data []byte, v any) (Extra, error) {
	if err := json.Unmarshal(data, v); err != nil {
		return nil, err
	}
	known := knownKeys(reflect.TypeOf(v).Elem())
	if extra, ok := unknownMembers(data, known); ok {
		return extra, nil
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(data, &all); err != nil {
		return nil, err
	}
	var extra Extra
	for k, raw := range all {
		if known[k] {
			continue
		}
		if extra == nil {
			extra = Extra{}
		}
		extra[k] = raw
	}
	return extra, nil
}

// unknownMembers returns the members of the object data whose names are
// not in known, with their values' bytes, as decoding data into a
// map[string]json.RawMessage and dropping the known names does (a later
// member of the same name wins), without decoding it again: json.Unmarshal
// has just checked data, so a plain scan finds the members. ok is false
// for anything but an object or null (the caller decodes then).
func unknownMembers(data []byte, known map[string]bool) (extra Extra, ok bool) {
	i := skipSpace(data, 0)
	switch {
	case bytes.HasPrefix(data[i:], []byte("null")):
		return nil, true
	case i >= len(data) || data[i] != '{':
		return nil, false
	}
	i++
	for {
		i = skipSpace(data, i)
		if i >= len(data) {
			return nil, false
		}
		switch data[i] {
		case '}':
			return extra, true
		case ',':
			i++
			continue
		case '"':
		default:
			return nil, false
		}
		start := i
		if i = skipString(data, i); i < 0 {
			return nil, false
		}
		key := data[start:i]
		i = skipSpace(data, i)
		if i >= len(data) || data[i] != ':' {
			return nil, false
		}
		i = skipSpace(data, i+1)
		vstart := i
		if i = skipValue(data, i); i < 0 {
			return nil, false
		}
		escaped := bytes.IndexByte(key, '\\') >= 0
		if !escaped && known[string(key[1:len(key)-1])] {
			continue // no string made for a known name
		}
		name := string(key[1 : len(key)-1])
		if escaped && json.Unmarshal(key, &name) != nil {
			return nil, false
		}
		if known[name] {
			continue
		}
		if extra == nil {
			extra = Extra{}
		}
		extra[name] = bytes.Clone(data[vstart:i])
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at b[i] (a
// quote); -1 if it does not end.
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

// skipValue returns the index after the (valid) value at b[i], or -1.
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				if i = skipString(b, i); i < 0 {
					return -1
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return -1
	}
	start := i
	for i < len(b) { // a number, true, false or null
		switch b[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			if i == start { // no value here: a stray delimiter
				return -1
			}
			return i
		}
		i++
	}
	return i
}

// marshalKeeping encodes v (a struct value without custom MarshalJSON) and
// appends the unknown members in extra, sorted by name.
func marshalKeeping(v any, extra Extra) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	b := bytes.TrimRight(buf.Bytes(), "\n")
	if len(extra) == 0 {
		return b, nil
	}
	known := knownKeys(reflect.TypeOf(v))
	names := make([]string, 0, len(extra))
	for k := range extra {
		if !known[k] {
			names = append(names, k)
		}
	}
	slices.Sort(names)
	out := make([]byte, 0, len(b)+64*len(names))
	out = append(out, b[:len(b)-1]...) // drop the closing brace
	first := len(b) == 2               // "{}"
	for _, k := range names {
		if !first {
			out = append(out, ',')
		}
		first = false
		kb, _ := json.Marshal(k)
		out = append(out, kb...)
		out = append(out, ':')
		out = append(out, extra[k]...)
	}
	return append(out, '}'), nil
}

// The entries of the document's four lists as types without methods: the
// document is decoded in one pass of encoding/json into them (decodeLists),
// instead of a pass per entry through its UnmarshalJSON.
type (
	wireDocument     Document
	wireOrganization Organization
	wireOwner        Owner
	wireRobot        Robot
	wireProject      Project
)

// listNames are the JSON names of the document's lists of entries.
var listNames = []string{"organizations", "owners", "robots", "projects"}

// decodeLists decodes a document as Document.UnmarshalJSON does, with one
// pass of encoding/json over the whole of b, and then finds the unknown
// members of the document and of each entry of its lists by a scan of b
// (json.Unmarshal has checked it): for a document of 1,000 projects a
// quarter of the CPU time of decoding it entry by entry. ok is false for
// anything the scan does not follow as encoding/json does (a member name
// written with an escape, or matching a list's name only by case or
// through Unicode folding) and for any error: the caller decodes b entry
// by entry then, errors included.
func decodeLists(b []byte) (d Document, ok bool) {
	var w struct {
		wireDocument
		Organizations []wireOrganization `json:"organizations"`
		Owners        []wireOwner        `json:"owners"`
		Robots        []wireRobot        `json:"robots"`
		Projects      []wireProject      `json:"projects"`
	}
	lists, ok := listValues(b)
	if !ok {
		return Document{}, false
	}
	// Each list sized for its entries before encoding/json appends them:
	// growing them from nothing copied a 1,000-project document's lists
	// about twice over, 38 % of the bytes its parse allocated.
	presize(&w.Organizations, lists[0])
	presize(&w.Owners, lists[1])
	presize(&w.Robots, lists[2])
	presize(&w.Projects, lists[3])
	if json.Unmarshal(b, &w) != nil {
		return Document{}, false
	}
	d = Document(w.wireDocument)
	if d.Extra, ok = unknownMembers(b, knownKeys(reflect.TypeOf(w.wireDocument))); !ok {
		return Document{}, false
	}
	if d.Organizations, ok = entries(lists[0], w.Organizations, func(e wireOrganization, x Extra) Organization {
		e.Extra = x
		return Organization(e)
	}); !ok {
		return Document{}, false
	}
	if d.Owners, ok = entries(lists[1], w.Owners, func(e wireOwner, x Extra) Owner { e.Extra = x; return Owner(e) }); !ok {
		return Document{}, false
	}
	if d.Robots, ok = entries(lists[2], w.Robots, func(e wireRobot, x Extra) Robot { e.Extra = x; return Robot(e) }); !ok {
		return Document{}, false
	}
	if d.Projects, ok = entries(lists[3], w.Projects, func(e wireProject, x Extra) Project { e.Extra = x; return Project(e) }); !ok {
		return Document{}, false
	}
	return d, true
}

// presize gives *list room for the entries of the array value, when it has
// any: an empty, null or absent list stays nil for encoding/json to decide.
func presize[W any](list *[]W, value []byte) {
	if n := countEntries(value); n > 0 {
		*list = make([]W, 0, n)
	}
}

// countEntries counts the elements of the array value; 0 for anything
// else, or for an array it cannot follow (encoding/json then finds the
// error).
func countEntries(value []byte) int {
	i := skipSpace(value, 0)
	if i >= len(value) || value[i] != '[' {
		return 0
	}
	n := 0
	for i++; ; {
		i = skipSpace(value, i)
		if i >= len(value) {
			return 0
		}
		switch value[i] {
		case ']':
			return n
		case ',':
			i++
			continue
		}
		if i = skipValue(value, i); i < 0 {
			return 0
		}
		n++
	}
}

// listValues finds the value of each of listNames among the members of
// the object b (the last one of a name, as encoding/json keeps it); nil
// for a list b does not have.
func listValues(b []byte) (vals [4][]byte, ok bool) {
	i := skipSpace(b, 0)
	if bytes.HasPrefix(b[i:], []byte("null")) {
		return vals, true
	}
	if i >= len(b) || b[i] != '{' {
		return vals, false
	}
	for i++; ; {
		i = skipSpace(b, i)
		if i >= len(b) {
			return vals, false
		}
		switch b[i] {
		case '}':
			return vals, true
		case ',':
			i++
			continue
		case '"':
		default:
			return vals, false
		}
		start := i
		if i = skipString(b, i); i < 0 {
			return vals, false
		}
		key := b[start+1 : i-1]
		if i = skipSpace(b, i); i >= len(b) || b[i] != ':' {
			return vals, false
		}
		i = skipSpace(b, i+1)
		vstart := i
		if i = skipValue(b, i); i < 0 {
			return vals, false
		}
		if bytes.IndexByte(key, '\\') >= 0 {
			return vals, false
		}
		for n, name := range listNames {
			switch {
			case string(key) == name:
				vals[n] = b[vstart:i]
			case strings.EqualFold(string(key), name):
				return vals, false // encoding/json takes it for the list: not followed here
			}
		}
		for _, c := range key {
			if c >= 0x80 {
				return vals, false // Unicode folding may match a name
			}
		}
	}
}

// entries makes the list of the array value (nil for null or absent)
// from its entries as decoded, each with its unknown members.
func entries[W any, T any](value []byte, decoded []W, make1 func(W, Extra) T) ([]T, bool) {
	if decoded == nil {
		return nil, true
	}
	out := make([]T, 0, len(decoded))
	known := knownKeys(reflect.TypeFor[W]())
	i := skipSpace(value, 0)
	if i >= len(value) || value[i] != '[' {
		return nil, false
	}
	for i++; ; {
		i = skipSpace(value, i)
		if i >= len(value) {
			return nil, false
		}
		switch value[i] {
		case ']':
			return out, len(out) == len(decoded)
		case ',':
			i++
			continue
		}
		start := i
		if i = skipValue(value, i); i < 0 || len(out) == len(decoded) {
			return nil, false
		}
		extra, ok := unknownMembers(value[start:i], known)
		if !ok {
			return nil, false
		}
		out = append(out, make1(decoded[len(out)], extra))
	}
}
