package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestGeneratedIsCurrent: regenerating the sentry package's readers
// changes nothing; the checked-in decode_gen.go is what the types say.
func TestGeneratedIsCurrent(t *testing.T) {
	dir := filepath.Join("..", "..")
	got, err := generate(dir, "whole", "decode_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join(dir, "decode_gen.go"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("decode_gen.go is not what the types in internal/sentry generate: run go generate ./internal/sentry")
	}
}

// gen generates from one source file holding the leaf types and src.
func gen(t *testing.T, src string) (string, error) {
	t.Helper()
	dir := t.TempDir()
	const leaves = "package p\n\ntype flexString string\ntype flexTime struct{}\ntype flexStrings []string\ntype tagList [][2]string\n"
	if err := os.WriteFile(filepath.Join(dir, "leaves.go"), []byte(leaves), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "types.go"), []byte("package p\n\n"+src), 0o644); err != nil {
		t.Fatal(err)
	}
	// A test file and an old output are not read.
	if err := os.WriteFile(filepath.Join(dir, "x_test.go"), []byte("package p\n\ntype root struct{ Bad chan int }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "out.go"), []byte("package p\n\ntype root struct{ Bad chan int }\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := generate(dir, "root", "out.go")
	return string(out), err
}

// TestGenerateShapes: every supported shape becomes the call that reads
// it; fields encoding/json does not see are not read; bits follow the
// members.
func TestGenerateShapes(t *testing.T) {
	out, err := gen(t, `
type root struct {
	inner
	A   flexString   `+"`json:\"a\"`"+`
	B   *item        `+"`json:\"b,omitempty\"`"+`
	C   []item       `+"`json:\"c\"`"+`
	D   []flexString `+"`json:\"d\"`"+`
	E   *flexTime    `+"`json:\"e\"`"+`
	F   item
	G   tagList      `+"`json:\"-\"`"+`
	H   flexStrings  `+"`json:\"-,\"`"+`
	low flexString
}

type inner struct {
	I flexTime `+"`json:\"i\"`"+`
}

type item struct{}
`)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"package p\n",
		"hasI uint64 = 1 << iota",
		"case \"i\":\n\t\t\ts.seen(&set, 0)\n\t\t\ts.when(&v.inner.I)\n",
		"case \"a\":\n\t\t\ts.seen(&set, 1)\n\t\t\ts.flex(&v.A)\n",
		"pointer(s, &v.B, readItem)",
		"slice(s, &v.C, readItem)",
		"slice(s, &v.D, (*scan).flex)",
		"pointer(s, &v.E, (*scan).when)",
		"case \"F\":\n\t\t\ts.seen(&set, 6)\n\t\t\treadItem(s, &v.F)\n",
		"case \"-\":\n\t\t\ts.seen(&set, 7)\n\t\t\ts.list(&v.H)\n",
		`"i": true, "a": true, "b": true, "c": true, "d": true, "e": true, "f": true, "-": true,`,
		"var itemNames = map[string]bool{}",
		"func readItem(s *scan, _ *item) {",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the output lacks %q:\n%s", want, out)
		}
	}
	for _, unwanted := range []string{"v.G", "v.low", "Bad", "readInner"} {
		if strings.Contains(out, unwanted) {
			t.Errorf("the output has %q:\n%s", unwanted, out)
		}
	}
	if strings.Count(out, "func readItem(") != 1 {
		t.Errorf("item's reader is not written once:\n%s", out)
	}
}

// TestGenerateRefuses: a type the fast decoder cannot read, a member name
// given twice, and more members than the duplicate check holds are
// refused, naming the field.
func TestGenerateRefuses(t *testing.T) {
	many := "type root struct {\n"
	for i := range 65 {
		many += "\tF" + strconv.Itoa(i) + " flexString\n"
	}
	many += "}\n"
	for _, c := range []struct{ src, want string }{
		{"type root struct{ M map[string]string }", "root.M: type map[string]string: the fast decoder reads flexString, flexStrings, flexTime, tagList"},
		{"type root struct{ N string }", "root.N: type string"},
		{"type root struct{ P **item }\ntype item struct{}", "root.P: type **item"},
		{"type root struct{ Q [2]item }\ntype item struct{}", "root.Q: type [2]item"},
		{"type root struct{ R *other }", "root.R: type *other"},
		{"type root struct{\n\tinner\n\tS flexString `json:\"s\"`\n}\ntype inner struct{ T flexString `json:\"s\"` }", `root.S: member "s" is also root.inner.T`},
		{"type root struct{ *inner }\ntype inner struct{}", "root: embedded *inner"},
		{"type root struct{\n\tinner `json:\"in\"`\n}\ntype inner struct{}", "root: embedded inner has a json name"},
		{"type root struct{\n\ta\n\tb\n}\ntype a struct{ X flexString `json:\"x\"` }\ntype b struct{ X flexString `json:\"y\"` }", "two members of the root are fields named X"},
		{many, "root: 65 members"},
		{"type root struct{ L flexString `json:\"" + strings.Repeat("n", 65) + "\"` }", "root.L: member name \"nnn"},
		{"type other struct{}", "no struct type root"},
	} {
		_, err := gen(t, c.src)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s\n: error %v, want one containing %q", c.src, err, c.want)
		}
	}
}
