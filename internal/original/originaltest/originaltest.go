// Package originaltest puts the fixture store of the original sentry-white
// (testdata/original) into a folder or an OSS stand-in for tests.
//
// The fixture holds, under api/v1/: the originals, projects and
// responsible_people lists, with deleted records, a dangling robot id, a
// missing original and person, and a phone to normalise; no robots list
// (the robots are per-record objects robots/<id>, one of them deleted). A
// folder cannot hold a file and a folder of the same name, so the
// per-record objects that sit beside their list in a bucket (one that
// disagrees with its list, one that is not in it) are kept apart in
// bucket-only/ and go only into OSS.
package originaltest

import (
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/sentry-white/sentry-white/internal/store/osstest"
)

// Dir is the fixture's folder, testdata/original of the repository.
func Dir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "testdata", "original")
}

// objects returns the fixture's objects under root by key (api/v1/…).
func objects(t testing.TB, root string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if len(key) < 4 || key[:4] != "api/" {
			return nil
		}
		b, err := os.ReadFile(p)
		out[key] = b
		return err
	})
	if err != nil {
		t.Fatalf("read the fixture %s: %v", root, err)
	}
	return out
}

// Folder copies the fixture into a new temporary folder store and returns
// the folder.
func Folder(t testing.TB) string {
	t.Helper()
	return FolderAt(t, t.TempDir())
}

// FolderAt copies the fixture into the folder store dir and returns dir.
func FolderAt(t testing.TB, dir string) string {
	t.Helper()
	for key, b := range objects(t, Dir()) {
		p := filepath.Join(dir, filepath.FromSlash(key))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// SeedOSS stores the fixture, the bucket-only objects included, in bucket
// under prefix (normally "api/", the fixture's own).
func SeedOSS(t testing.TB, srv *osstest.Server, bucket, prefix string) {
	t.Helper()
	for _, root := range []string{Dir(), filepath.Join(Dir(), "bucket-only")} {
		for key, b := range objects(t, root) {
			if err := srv.Seed(bucket, prefix+key[len("api/"):], b); err != nil {
				t.Fatalf("seed %s: %v", key, err)
			}
		}
	}
}

// Robot tokens of the fixture, for chat-robot stand-ins.
const (
	TokenDev = "7d3f1c9a5e2b4d6f8a0c1e3b5d7f9a2c4e6b8d0f1a3c5e7b9d2f4a6c8e0b1d3f" // robot 2 研发群
	TokenCRM = "c4a8e2f6b0d4c8a2e6f0b4d8c2a6e0f4b8d2c6a0e4f8b2d6c0a4e8f2b6d0c4a8" // robot 7 CRM 群 (kept as a whole webhook URL)
)
