package config

import (
	"encoding/json"
	"slices"
	"strings"
	"sync"
)

// KindRules is what the document needs to know of one robot kind. The kind
// registry (internal/notifiers) registers one per kind at start; the
// document layer loops over them and names no kind itself.
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

var kinds struct {
	sync.RWMutex
	list []KindRules
}

// RegisterKind adds (or replaces) a robot kind. The first kind registered
// is the default: a robot without a kind is of that kind.
func RegisterKind(k KindRules) {
	kinds.Lock()
	defer kinds.Unlock()
	k.Name = strings.ToLower(k.Name)
	for i := range kinds.list {
		if kinds.list[i].Name == k.Name {
			kinds.list[i] = k
			return
		}
	}
	kinds.list = append(kinds.list, k)
}

// Kinds returns the registered robot kinds' names, the default first.
func Kinds() []string {
	kinds.RLock()
	defer kinds.RUnlock()
	out := make([]string, len(kinds.list))
	for i, k := range kinds.list {
		out[i] = k.Name
	}
	return out
}

// DefaultKind is the kind of a robot whose document names none.
func DefaultKind() string {
	kinds.RLock()
	defer kinds.RUnlock()
	if len(kinds.list) == 0 {
		return ""
	}
	return kinds.list[0].Name
}

// kindRules returns the rules of kind, or false when it is not registered.
func kindRules(kind string) (KindRules, bool) {
	kinds.RLock()
	defer kinds.RUnlock()
	i := slices.IndexFunc(kinds.list, func(k KindRules) bool { return k.Name == kind })
	if i < 0 {
		return KindRules{}, false
	}
	return kinds.list[i], true
}

// ownerIDKeys returns the owner members holding ids, by kind.
func ownerIDKeys() []KindRules {
	kinds.RLock()
	defer kinds.RUnlock()
	var out []KindRules
	for _, k := range kinds.list {
		if k.OwnerIDKey != "" {
			out = append(out, k)
		}
	}
	return out
}

// OwnerIDKey returns the owner member that holds a person's id for kind.
func OwnerIDKey(kind string) string {
	k, _ := kindRules(kind)
	return k.OwnerIDKey
}

// takeOwnerIDs moves the registered kinds' id members from extra into a
// map by kind.
func takeOwnerIDs(extra Extra) (map[string]string, Extra, error) {
	var ids map[string]string
	for _, k := range ownerIDKeys() {
		raw, ok := extra[k.OwnerIDKey]
		if !ok {
			continue
		}
		var v *string
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, extra, &FieldError{Field: k.OwnerIDKey, Msg: "must be a string", Code: "string"}
		}
		delete(extra, k.OwnerIDKey)
		if v != nil && *v != "" {
			if ids == nil {
				ids = map[string]string{}
			}
			ids[k.Name] = *v
		}
	}
	if len(extra) == 0 {
		extra = nil
	}
	return ids, extra, nil
}

// putOwnerIDs returns extra with the ids written under their kinds'
// members.
func putOwnerIDs(ids map[string]string, extra Extra) Extra {
	out := Extra{}
	for k, v := range extra {
		out[k] = v
	}
	for _, k := range ownerIDKeys() {
		v := ids[k.Name]
		if v == "" && !k.OwnerIDAlways {
			continue
		}
		b, _ := json.Marshal(v)
		out[k.OwnerIDKey] = b
	}
	// Ids of kinds this version does not know stay where they were, in
	// extra.
	return out
}
