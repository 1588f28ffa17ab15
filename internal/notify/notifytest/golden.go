package notifytest

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// Bodies writes request bodies as a golden file holds them: each indented,
// markup characters as they are (no \u003c), one after the other.
func Bodies(bodies ...json.RawMessage) []byte {
	var out bytes.Buffer
	for _, b := range bodies {
		var v any
		if json.Unmarshal(b, &v) != nil {
			out.Write(b)
			out.WriteByte('\n')
			continue
		}
		enc := json.NewEncoder(&out)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		_ = enc.Encode(v)
	}
	return out.Bytes()
}

// Golden compares got with the golden file path; update rewrites the file
// first (a test's -update flag, after checking the diff).
func Golden(t testing.TB, path string, got []byte, update bool) {
	t.Helper()
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update to accept):\n%s", path, got)
	}
}
