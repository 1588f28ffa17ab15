package config

import (
	"encoding/json"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

// TestValidatorsMatchTheirExpressions: the validators accept exactly what
// the regular expressions they replace accepted.
func TestValidatorsMatchTheirExpressions(t *testing.T) {
	cases := []struct {
		name string
		re   *regexp.Regexp
		fn   func(string) bool
		abc  string // characters to build strings from
	}{
		{"mobile", regexp.MustCompile(`^(1[3-9][0-9]{9}|\+[0-9]{1,4}-?[0-9]{4,14})$`), mobileMatch, "0123456789+-13x "},
		{"slug", regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$`), slugMatch, "aZ09._-~ é/"},
		{"token", regexp.MustCompile(`^[A-Za-z0-9._~-]{1,256}$`), tokenMatch, "aZ09._-~ é/+"},
		{"user id", regexp.MustCompile(`^[^\s@<>"]{1,128}$`), userIDMatch, "a中\t\n\f\r\v @<>\"\xff\x00x"},
	}
	fixed := []string{"", "13800138000", "12800138000", "1380013800", "138001380001", "+8", "+85212345678", "+852-12345678",
		"+85-1234", "+-1234", "+12345-1234", "+1-123", "+1-123456789012345", "+123456789012345678", "+1234567890123456789",
		"+1234", "+12345", "a", strings.Repeat("a", 100), strings.Repeat("a", 101), strings.Repeat("b", 256), strings.Repeat("b", 257),
		strings.Repeat("中", 128), strings.Repeat("中", 129), strings.Repeat("\xff", 128), strings.Repeat("\xff", 129), "-a", ".a", "a b"}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range cases {
		in := append([]string(nil), fixed...)
		for range 20000 {
			var b strings.Builder
			n := rng.IntN(20)
			if rng.IntN(10) == 0 {
				n = 90 + rng.IntN(180)
			}
			r := []rune(c.abc)
			for range n {
				b.WriteRune(r[rng.IntN(len(r))])
			}
			in = append(in, b.String())
		}
		for _, s := range in {
			if got, want := c.fn(s), c.re.MatchString(s); got != want {
				t.Errorf("%s %q: %v, the expression says %v", c.name, s, got, want)
			}
		}
	}
}

// TestUnknownMembersAsMap: the scan finds the members decoding into a map
// finds — escaped names, repeated names (the last wins), nested values,
// spaces — and their exact bytes.
func TestUnknownMembersAsMap(t *testing.T) {
	known := map[string]bool{"id": true, "name": true}
	for _, obj := range []string{
		`{}`, `null`, ` { } `, `{"id":1,"name":"x"}`, `{"id":1,"x":2}`, `{"x" : [1, {"y":"}"}, "\""] , "id":3}`,
		`{"a\u0062c":true,"x":null,"x":false}`, `{"na\u006de":"known once escaped","zz":"\\"}`,
		"{\n\t\"deep\": {\"a\": [[[\"]\"]]], \"b\": -1.5e3}, \"s\":\"\\u00e9\" ,\"n\":0}",
		`{"emoji 🔥":"中文","":""}`,
	} {
		var all map[string]json.RawMessage
		if err := json.Unmarshal([]byte(obj), &all); err != nil {
			t.Fatal(err)
		}
		want := Extra{}
		for k, v := range all {
			if !known[k] {
				want[k] = v
			}
		}
		got, ok := unknownMembers([]byte(obj), known)
		if !ok {
			t.Errorf("%s: not scanned", obj)
			continue
		}
		if len(got) != len(want) {
			t.Errorf("%s: %v, want %v", obj, got, want)
		}
		for k, v := range want {
			if string(got[k]) != string(v) {
				t.Errorf("%s: member %q = %s, want %s", obj, k, got[k], v)
			}
		}
	}
	if _, ok := unknownMembers([]byte(`[1]`), known); ok {
		t.Error("an array was scanned as an object")
	}
}
