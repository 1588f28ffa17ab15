package sentry

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// sameAsSlow checks that Parse gives what encoding/json alone gives: the
// same event, or the same error.
func sameAsSlow(t *testing.T, name string, body []byte, resource string) {
	t.Helper()
	fast, ferr := parse(body, hdr(resource), true)
	slow, serr := parse(body, hdr(resource), false)
	if fmt.Sprint(ferr) != fmt.Sprint(serr) {
		t.Fatalf("%s (resource %q): error %v, encoding/json says %v\n%s", name, resource, ferr, serr, clip(body))
	}
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("%s (resource %q):\n fast %+v\n json %+v\n%s", name, resource, fast, slow, clip(body))
	}
}

// corpus is every body under testdata/sentry.
func corpus(t testing.TB) map[string][]byte {
	out := map[string][]byte{}
	for _, dir := range []string{"", "real"} {
		entries, err := os.ReadDir(filepath.Join("..", "..", "testdata", "sentry", dir))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if !e.IsDir() && strings.HasSuffix(e.Name(), ".json") {
				out[filepath.Join(dir, e.Name())] = load(t, filepath.Join(dir, e.Name()))
			}
		}
	}
	return out
}

var resources = []string{"", ResourceIssue, ResourceEventAlert, ResourceError, ResourceMetricAlert, "installation"}

// TestFastDecodeCorpus: the fast decoder reads every body of the corpus
// (real Sentry bodies and ours) itself, and gives what encoding/json gives
// whatever the resource header says.
func TestFastDecodeCorpus(t *testing.T) {
	for name, body := range corpus(t) {
		var w whole
		if _, ok := fastDecode(bytes.TrimSpace(body), &w); !ok {
			t.Errorf("%s: the fast decoder gave up", name)
		}
		for _, r := range resources {
			sameAsSlow(t, name, body, r)
		}
	}
}

// filled builds a JSON value for type t with every member set, each
// string value unique: what a body using every member we read looks like.
func filled(t reflect.Type, n *int) any {
	*n++
	switch t {
	case reflect.TypeFor[flexString]():
		return fmt.Sprintf("v%d", *n)
	case reflect.TypeFor[flexTime]():
		return fmt.Sprintf("2024-01-%02dT10:00:%02dZ", 1+*n%28, *n%60)
	case reflect.TypeFor[flexStrings]():
		return []string{fmt.Sprintf("a%d", *n), fmt.Sprintf("b%d", *n)}
	case reflect.TypeFor[tagList]():
		return [][]any{{"other", "x"}, {"level", fmt.Sprintf("l%d", *n)}, {"user", 42}, {"level", "second"},
			{"environment"}, {"release", "r", "extra"}, {"handled", "no"}, {"sentry:user", "email:a@b"}}
	}
	switch t.Kind() {
	case reflect.Pointer:
		return filled(t.Elem(), n)
	case reflect.Slice:
		return []any{filled(t.Elem(), n), filled(t.Elem(), n)}
	case reflect.Struct:
		m := map[string]any{"unknown_member": map[string]any{"deep": []any{1, "x", nil, true}}}
		for i := range t.NumField() {
			f := t.Field(i)
			if f.Anonymous {
				for k, v := range filled(f.Type, n).(map[string]any) {
					m[k] = v
				}
				continue
			}
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			m[name] = filled(f.Type, n)
		}
		return m
	}
	panic("no value for " + t.String())
}

// neededOnly drops the tags the parser does not read, as the fast decoder
// does, from w's events.
func neededOnly(w *whole) {
	for _, e := range []*eventBody{w.Event, dataEvent(w, false), dataEvent(w, true)} {
		if e == nil {
			continue
		}
		var kept tagList
		for _, p := range e.Tags {
			if neededTags[p[0]] {
				kept = append(kept, p)
			}
		}
		e.Tags = kept
	}
}

func dataEvent(w *whole, errorEvent bool) *eventBody {
	switch {
	case w.Data == nil:
		return nil
	case errorEvent:
		return w.Data.Error
	}
	return w.Data.Event
}

// TestFastDecodeEveryMember: a body with every member the structs have
// (and unknown ones) fills the structs exactly as encoding/json fills
// them, but for the tags the parser does not read.
func TestFastDecodeEveryMember(t *testing.T) {
	n := 0
	body, err := json.Marshal(filled(reflect.TypeFor[whole](), &n))
	if err != nil {
		t.Fatal(err)
	}
	var fast, slow whole
	if _, ok := fastDecode(body, &fast); !ok {
		t.Fatalf("the fast decoder gave up on\n%s", body)
	}
	if err := json.Unmarshal(body, &slow); err != nil {
		t.Fatal(err)
	}
	neededOnly(&slow)
	if !reflect.DeepEqual(fast, slow) {
		fj, _ := json.Marshal(fast)
		sj, _ := json.Marshal(slow)
		t.Fatalf("fast decoder:\n%s\nencoding/json:\n%s", fj, sj)
	}
	for _, r := range resources {
		sameAsSlow(t, "every member", body, r)
	}
}

// TestFastDecodeGivesUp: bodies the fast decoder does not read itself
// are decoded by encoding/json, with its results and errors.
func TestFastDecodeGivesUp(t *testing.T) {
	deep := strings.Repeat(`{"a":`, MaxDepth) + "1" + strings.Repeat("}", MaxDepth)
	for name, body := range map[string]string{
		"duplicate member":      `{"project_slug":"a","project_slug":"b"}`,
		"duplicate nested":      `{"action":"x","data":{"event":{"url":"/api/0/projects/o/a/events/1/","url":"/api/0/projects/o/b/events/1/"}}}`,
		"member in other case":  `{"Project_Slug":"a"}`,
		"nested in other case":  `{"action":"created","data":{"issue":{"project":{"SLUG":"a"}}}}`,
		"escaped member name":   `{"project_\u0073lug":"a"}`,
		"non-ASCII member name": `{"project_ſlug":"a"}`,
		"trailing data":         `{"project_slug":"a"} {}`,
		"trailing comma":        `{"project_slug":"a",}`,
		"bad number":            `{"project_slug":"a","id":01}`,
		"bad escape":            `{"project_slug":"a\x"}`,
		"control character":     "{\"project_slug\":\"a\tb\"}",
		"unterminated":          `{"project_slug":"a"`,
		"too deep":              `{"project_slug":"a","x":` + deep + `}`,
		"bad literal":           `{"project_slug":"a","x":nul}`,
	} {
		var w whole
		if _, ok := fastDecode([]byte(body), &w); ok {
			t.Errorf("%s: the fast decoder read %s", name, body)
		}
		for _, r := range resources {
			sameAsSlow(t, name, []byte(body), r)
		}
	}
}

// TestFastDecodeTypes: members of unexpected types are read as
// encoding/json reads them.
func TestFastDecodeTypes(t *testing.T) {
	for _, body := range []string{
		`{"project_slug":"a","event":"x"}`,
		`{"project_slug":"a","event":[1]}`,
		`{"project_slug":"a","event":null}`,
		`{"project_slug":"a","event":{"metadata":"x","exception":{"values":[1,{"type":"T","value":"V"},null]}}}`,
		`{"project_slug":"a","event":{"exception":{"values":[{"type":"T"},7]}}}`,
		`{"project_slug":"a","event":{"exception":{"values":[]},"title":""}}`,
		`{"project_slug":"a","event":{"tags":{"level":"fatal","environment":"prod"}}}`,
		`{"project_slug":"a","event":{"tags":[{"key":"level","value":"fatal"},["environment","prod"]]}}`,
		`{"project_slug":"a","event":{"tags":[["level"],null,["environment",{"x":1}],"x"]}}`,
		`{"project_slug":"a","event":{"tags":"level"}}`,
		`{"project_slug":"a","event":{"tags":[[1,2],[true,false],["level","warning"]]}}`,
		`{"project_slug":"a","event":{"tags":[["le\u0076el","warning"],["environment","pr\"od"]]}}`,
		`{"project_slug":123,"id":4.5e1,"level":true,"message":{"a":1},"url":["x"],"triggering_rules":"r"}`,
		`{"project_slug":"a","triggering_rules":[" r1 ",{"x":1},"",2,null]}`,
		`{"project_slug":"a","triggering_rules":{"a":1}}`,
		`{"project_slug":"a","event":{"timestamp":"1700000000.5","datetime":1700000001,"received":{"x":1}}}`,
		`{"project":"p\u00e9 \ud83d\ude00 \ud800","message":"a\nb\\c\/d"}`,
		`{"action":"created","data":null}`,
		`{"action":"created","data":"x"}`,
		`{"action":"created","installation":"x","actor":[1],"data":{"issue":"x","installation":5}}`,
		`{"action":"triggered","data":{"event":{"url":"https://x/api/0/projects/o/p/events/1/","user":null,"request":5,"sentry.interfaces.User":{"email":"e"},"sentry.interfaces.Http":"x","sentry.interfaces.Exception":null}}}`,
		`{"action":"critical","data":{"metric_alert":{"projects":["p",""],"alert_rule":{"projects":"q","name":7}},"description_title":null}}`,
		`{"action":"assigned","data":{"issue":{"project":{"slug":"p"},"assignedTo":null},"assignee":"x"}}`,
		`{"action":"created","data":{"issue":{"project":{"slug":"p"},"assignedTo":{"name":"n"},"count":"12","userCount":3,"isUnhandled":true}}}`,
	} {
		var w whole
		if _, ok := fastDecode([]byte(body), &w); !ok {
			t.Errorf("the fast decoder gave up on %s", body)
		}
		for _, r := range resources {
			sameAsSlow(t, "types", []byte(body), r)
		}
	}
}

// TestUnescape: escaped strings read as encoding/json reads them, broken
// surrogate pairs included.
func TestUnescape(t *testing.T) {
	for _, lit := range []string{
		`"plain"`, `"a\"b\\c\/d\be\ff\ng\rh\ti"`, `"\u00e9\u4e2d"`, `"\ud83d\ude00"`, `"\ud83d"`, `"\ude00"`,
		`"\ud83dx"`, `"\ud83d\u0041"`, `"\ud83d\ud83d\ude00"`, `"\u0000"`, `"\uFFFF\uD7FF\uE000"`, `"中\n文 🔥"`,
		`"\ud83d\\u0041"`, `"x\ud800\udbff\udc00"`,
	} {
		var want string
		if err := json.Unmarshal([]byte(lit), &want); err != nil {
			t.Fatalf("%s: %v", lit, err)
		}
		s := &scan{b: []byte(lit)}
		raw, esc := s.str()
		got := string(raw)
		if esc {
			got = unescape(raw)
		}
		if s.bad || got != want {
			t.Errorf("%s: %q, want %q", lit, got, want)
		}
	}
}

// TestHasSpecial: the eight-byte test agrees with the byte table for every
// byte in every position.
func TestHasSpecial(t *testing.T) {
	for c := range 256 {
		for pos := range 8 {
			w := []byte("abcdefgh")
			w[pos] = byte(c)
			got := hasSpecial(binary.LittleEndian.Uint64(w))
			if got != strSpecial[c] {
				t.Fatalf("byte %#x at %d: %v", c, pos, got)
			}
		}
	}
	for _, w := range []string{"\x80\x80\x80\x80\x80\x80\x80\x80", "\xff\xfe\x21\x23\x5b\x5d\x7f\x20", "中文字符"[:8]} {
		if hasSpecial(binary.LittleEndian.Uint64([]byte(w))) {
			t.Errorf("%q has nothing special", w)
		}
	}
}

// TestShapesLikeJSON: the shapes the generator supports beyond those the
// types use today (a pointer to or a slice of a leaf type or a struct) are
// read as encoding/json reads them, over a value that was there before.
func TestShapesLikeJSON(t *testing.T) {
	type shapes struct {
		P  *flexString      `json:"p"`
		T  *flexTime        `json:"t"`
		L  []flexString     `json:"l"`
		LL []flexStrings    `json:"ll"`
		S  []exceptionValue `json:"s"`
		Q  *exceptionValue  `json:"q"`
	}
	read := func(s *scan, v *shapes) {
		for n := 0; s.member(&n); {
			switch k := s.key(); string(k) {
			case "p":
				pointer(s, &v.P, (*scan).flex)
			case "t":
				pointer(s, &v.T, (*scan).when)
			case "l":
				slice(s, &v.L, (*scan).flex)
			case "ll":
				slice(s, &v.LL, (*scan).list)
			case "s":
				slice(s, &v.S, readExceptionValue)
			case "q":
				pointer(s, &v.Q, readExceptionValue)
			default:
				s.skip()
			}
		}
	}
	before := func() shapes {
		p, q := flexString("old"), exceptionValue{Type: "old"}
		return shapes{P: &p, L: []flexString{"old", "old"}, S: []exceptionValue{{Type: "old"}}, Q: &q}
	}
	for _, body := range []string{
		`{}`,
		`{"p":"x","t":1700000000.5,"l":["a",1,null,{"x":1},["y"]],"ll":["a",["b"," c "],null,5],"s":[{"type":"T"},"x",null,[1]],"q":{"value":"V"}}`,
		`{"p":null,"t":null,"l":null,"ll":null,"s":null,"q":null}`,
		`{"p":{"a":1},"t":"2024-01-02T03:04:05Z","l":"x","ll":{"a":1},"s":{"type":"T"},"q":"x"}`,
		`{"p":[1],"t":[1],"l":[],"ll":[],"s":[],"q":[1]}`,
		`{"p":7,"t":{"x":1},"l":[true],"ll":[[]],"s":[{}],"q":{}}`,
	} {
		want := before()
		var typ *json.UnmarshalTypeError
		if err := json.Unmarshal([]byte(body), &want); err != nil && !errors.As(err, &typ) {
			t.Fatalf("%s: %v", body, err)
		}
		got := before()
		s := &scan{b: []byte(body)}
		read(s, &got)
		if s.bad || !reflect.DeepEqual(got, want) {
			gj, _ := json.Marshal(got)
			wj, _ := json.Marshal(want)
			t.Errorf("%s:\n fast %s\n json %s", body, gj, wj)
		}
	}
}
