package sentry

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// realBody is one published body decoded to a tree, with the paths that
// name its project (which a mutation must leave alone for the body to still
// name its project).
type realBody struct {
	file, resource string
	tree           any
	slugs          []string // what Parse finds in the unmutated body
	ignored        bool
	protected      [][]string
}

// projectPaths are the members Parse reads a project slug from, by shape.
var projectPaths = [][]string{
	{"project_slug"}, {"project"}, // legacy plugin
	{"data", "issue", "project", "slug"},
	{"data", "event", "url"}, {"data", "error", "url"},
	{"data", "metric_alert", "projects"}, {"data", "metric_alert", "alert_rule", "projects"},
}

func loadRealBodies(t testing.TB) []realBody {
	var out []realBody
	for _, c := range realResources {
		if c.noProject != "" {
			continue
		}
		raw := loadReal(t, c.file)
		ev, err := Parse(raw, hdr(c.resource))
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		var tree any
		if err := d.Decode(&tree); err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		out = append(out, realBody{file: c.file, resource: c.resource, tree: tree, slugs: ev.ProjectSlugs,
			ignored: ev.Ignored != "", protected: projectPaths})
	}
	return out
}

// node is one value of a tree with its path.
type node struct {
	path []string
	set  func(any)
	val  any
}

// walk lists every value under v (v itself excluded), members in sorted
// order so a fuzz input always picks the same node.
func walk(v any, path []string, out *[]node) {
	switch x := v.(type) {
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			p := append(slices.Clip(path), k)
			*out = append(*out, node{path: p, val: x[k], set: func(n any) { x[k] = n }})
			walk(x[k], p, out)
		}
	case []any:
		for i := range x {
			p := append(slices.Clip(path), "[]")
			*out = append(*out, node{path: p, val: x[i], set: func(n any) { x[i] = n }})
			walk(x[i], p, out)
		}
	}
}

// guards reports whether path is a project path or leads to one (a
// container on the way, or an element of a projects list).
func guards(path []string, protected [][]string) bool {
	trimmed := slices.DeleteFunc(slices.Clone(path), func(s string) bool { return s == "[]" })
	for _, p := range protected {
		if len(trimmed) <= len(p) && slices.Equal(trimmed, p[:len(trimmed)]) {
			return true
		}
		if len(trimmed) > len(p) && slices.Equal(trimmed[:len(p)], p) {
			return true // inside a projects list
		}
	}
	return false
}

func clone(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = clone(e)
		}
		return m
	case []any:
		s := make([]any, len(x))
		for i, e := range x {
			s[i] = clone(e)
		}
		return s
	}
	return v
}

// retype turns v into another JSON type: 0 object, 1 array, 2 string,
// 3 number, 4 null, 5 boolean; keeping what it can of v.
func retype(v any, kind byte) any {
	switch kind % 6 {
	case 0:
		if m, ok := v.(map[string]any); ok {
			return []any{m}
		}
		return map[string]any{"value": v}
	case 1:
		if s, ok := v.([]any); ok {
			return map[string]any{"0": s}
		}
		return []any{v}
	case 2:
		switch x := v.(type) {
		case string:
			return []any{x, x}
		case json.Number:
			return x.String()
		}
		b, _ := json.Marshal(v)
		return string(b)
	case 3:
		if _, ok := v.(json.Number); ok {
			return "1e400"
		}
		return json.Number("-1.5e3")
	case 4:
		return nil
	}
	return true
}

// FuzzRealTypes mutates the field types of the published bodies (object ↔
// array ↔ string ↔ number ↔ null ↔ boolean) anywhere but on the path to
// the project slug: Parse must never fail on such a body, and must find
// the same project.
func FuzzRealTypes(f *testing.F) {
	bodies := loadRealBodies(f)
	for i := range bodies {
		f.Add(uint8(i), []byte{0, 0})
		f.Add(uint8(i), []byte{7, 1, 13, 2, 29, 3})
		f.Add(uint8(i), []byte{3, 4, 200, 5, 101, 1, 55, 0})
	}
	f.Fuzz(func(t *testing.T, which uint8, ops []byte) {
		b := bodies[int(which)%len(bodies)]
		tree := clone(b.tree)
		for i := 0; i+1 < len(ops) && i < 16; i += 2 {
			var nodes []node
			walk(tree, nil, &nodes)
			nodes = slices.DeleteFunc(nodes, func(n node) bool { return guards(n.path, b.protected) })
			if len(nodes) == 0 {
				break
			}
			n := nodes[int(ops[i])%len(nodes)]
			n.set(retype(n.val, ops[i+1]))
		}
		body, err := json.Marshal(tree)
		if err != nil {
			t.Fatal(err)
		}
		ev, err := Parse(body, hdr(b.resource))
		if err != nil {
			t.Fatalf("%s mutated: %v\n%s", b.file, err, clip(body))
		}
		if b.ignored {
			if ev.Ignored == "" {
				t.Fatalf("%s mutated: no longer ignored\n%s", b.file, clip(body))
			}
			return
		}
		if !slices.Equal(ev.ProjectSlugs, b.slugs) {
			t.Fatalf("%s mutated: projects %q, want %q\n%s", b.file, ev.ProjectSlugs, b.slugs, clip(body))
		}
		if strings.TrimSpace(ev.Title) == "" {
			t.Fatalf("%s mutated: empty title", b.file)
		}
	})
}

func clip(b []byte) []byte {
	if len(b) > 2000 {
		return b[:2000]
	}
	return b
}
