package store

import (
	"os"
	"path/filepath"
	"testing"
)

// TestLocationIdentity: one document, one identity, however the location
// is written; different documents differ.
func TestLocationIdentity(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := os.Mkdir("data", 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("data", "link"); err != nil {
		t.Fatal(err)
	}
	id := func(s string) string {
		l, err := ParseLocation(s)
		if err != nil {
			t.Fatal(err)
		}
		return l.Identity()
	}
	real, _ := filepath.EvalSymlinks(filepath.Join(dir, "data"))
	want := "file:" + filepath.ToSlash(real) + "/api/"
	for _, s := range []string{"data", "./data/", "file:data", "file:" + filepath.Join(dir, "data"), "link"} {
		if got := id(s); got != want {
			t.Errorf("Identity(%q) = %q, want %q", s, got, want)
		}
	}
	if a, b := id("oss://team-a/api"), id("oss://team-a/api/"); a != b || a != "oss://team-a/api/" {
		t.Errorf("oss identities %q, %q", a, b)
	}
	if id("oss://team-a/x/") == id("oss://team-a/api/") || id("oss://team-b/api/") == id("oss://team-a/api/") {
		t.Error("different documents share an identity")
	}
}
