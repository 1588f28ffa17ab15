package config

import (
	"bytes"
	"encoding/json"
	"iter"
	"slices"
	"unicode/utf8"
)

// KindRules is what the document needs to know of one robot kind. The kind
// registry (internal/notifiers) makes one per kind; the document layer loops
// over them and names no kind itself.
type KindRules struct {
	// Name is the kind as a robot's "kind" member holds it (lower case).
	Name string
	// OwnerIDKey is the owner member holding a person's id for this kind
	// ("<kind>_user_id"), "" when the kind mentions no one by id.
	OwnerIDKey string
	// OwnerIDAlways writes OwnerIDKey even when it is empty, as earlier
	// versions did.
	OwnerIDAlways bool
	// CheckRobot returns what is wrong with a robot of this kind beyond
	// what every robot needs (a token); fields are relative to the robot
	// ("secret").
	CheckRobot func(r *Robot) []*FieldError
}

// Kinds are the robot kinds a document may name, the default first: a
// robot without a kind is of the first. The kind registry makes it; what
// parses, normalizes or validates a document is given it.
type Kinds []KindRules

// Names returns the kinds' names, the default first.
func (ks Kinds) Names() []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = k.Name
	}
	return out
}

// Default is the kind of a robot whose document names none, "" when there
// are no kinds.
func (ks Kinds) Default() string {
	if len(ks) == 0 {
		return ""
	}
	return ks[0].Name
}

// Rules returns the rules of kind, or false when it is not one of ks.
func (ks Kinds) Rules(kind string) (KindRules, bool) {
	i := slices.IndexFunc(ks, func(k KindRules) bool { return k.Name == kind })
	if i < 0 {
		return KindRules{}, false
	}
	return ks[i], true
}

// withOwnerIDs yields the kinds whose owners carry ids (without making a
// list of them for each owner of a document).
func (ks Kinds) withOwnerIDs() iter.Seq[*KindRules] {
	return func(yield func(*KindRules) bool) {
		for i := range ks {
			if ks[i].OwnerIDKey != "" && !yield(&ks[i]) {
				return
			}
		}
	}
}

// NormalizeOwner reads o's ids of the kinds ks from their members (Extra)
// and writes the members the way the document keeps them: an empty id is
// dropped, or kept when its kind writes it always (a null member is an
// empty id). Members of kinds not in ks stay as they are, and so does a
// member that is not a string (Validate reports it).
func (ks Kinds) NormalizeOwner(o *Owner) {
	o.ids = nil
	for k := range ks.withOwnerIDs() {
		id, ok := k.ownerID(o)
		switch {
		case !ok:
		case id != "":
			if o.ids == nil {
				o.ids = map[string]string{}
			}
			o.ids[k.Name] = id // the member stays as it was written
		case k.OwnerIDAlways && string(o.Extra[k.OwnerIDKey]) == `""`:
			// kept as it is written
		default:
			setOwnerID(o, *k, "")
		}
	}
}

// SetOwnerID sets o's id for kind ("" for none) in its member, the way
// NormalizeOwner keeps it. It does nothing for a kind not in ks or one that
// mentions no one by id.
func (ks Kinds) SetOwnerID(o *Owner, kind, id string) {
	if k, ok := ks.Rules(kind); ok && k.OwnerIDKey != "" {
		setOwnerID(o, k, id)
	}
}

func setOwnerID(o *Owner, k KindRules, id string) {
	if id != "" {
		if o.ids == nil {
			o.ids = map[string]string{}
		}
		o.ids[k.Name] = id
	} else {
		delete(o.ids, k.Name)
	}
	if id == "" && !k.OwnerIDAlways {
		delete(o.Extra, k.OwnerIDKey)
		if len(o.Extra) == 0 {
			o.Extra = nil
		}
		return
	}
	if o.Extra == nil {
		o.Extra = Extra{}
	}
	if id == "" {
		o.Extra[k.OwnerIDKey] = json.RawMessage(`""`) // what json.Marshal makes of it, without its encoder for each owner
		return
	}
	o.Extra[k.OwnerIDKey], _ = json.Marshal(id)
}

// ownerID returns o's id for kind k from its member ("" when there is none
// or it is null), or false when the member holds something else than a
// string.
func (k KindRules) ownerID(o *Owner) (string, bool) {
	raw, ok := o.Extra[k.OwnerIDKey]
	if !ok {
		return "", true
	}
	if s, ok := plainString(raw); ok {
		return s, true // a string without escapes, as the configurator writes it
	}
	var v *string
	if json.Unmarshal(raw, &v) != nil {
		return "", false
	}
	if v == nil {
		return "", true
	}
	return *v, true
}

// plainString returns the text of raw when it is a JSON string without
// escapes, control characters or invalid UTF-8, which decoding would give
// as it is written.
func plainString(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' || !utf8.Valid(raw) {
		return "", false
	}
	for _, c := range raw[1 : len(raw)-1] {
		if c < 0x20 || c == '"' || c == '\\' {
			return "", false
		}
	}
	return string(raw[1 : len(raw)-1]), true
}

// jsonType names the JSON type of a value: string, number, object, array,
// bool or null.
func jsonType(raw json.RawMessage) string {
	switch b := bytes.TrimSpace(raw); {
	case len(b) == 0:
		return "nothing"
	case b[0] == '"':
		return "string"
	case b[0] == '{':
		return "object"
	case b[0] == '[':
		return "array"
	case b[0] == 't' || b[0] == 'f':
		return "bool"
	case b[0] == 'n':
		return "null"
	}
	return "number"
}
