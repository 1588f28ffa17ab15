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
	var all map[string]json.RawMessage
	if err := json.Unmarshal(data, &all); err != nil {
		return nil, err
	}
	known := knownKeys(reflect.TypeOf(v).Elem())
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
