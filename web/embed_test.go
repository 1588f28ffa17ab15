package web

import (
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func read(t *testing.T, name string) string {
	t.Helper()
	b, err := fs.ReadFile(Files(), name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestHandlerServesThePage(t *testing.T) {
	h := Handler()
	for _, p := range []string{"/", "/app.js", "/movein.js", "/app.css", "/i18n.js", "/favicon.svg"} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", p, nil))
		if w.Code != http.StatusOK {
			t.Errorf("GET %s = %d", p, w.Code)
		}
		csp := w.Header().Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'self'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("GET %s: CSP %q", p, csp)
		}
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("POST", "/", nil))
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST / = %d, want 405", w.Code)
	}
}

// TestPageIsSelfContained checks that the page loads nothing from the
// network and has no inline script or style the CSP would block.
func TestPageIsSelfContained(t *testing.T) {
	page := read(t, "index.html")
	for _, bad := range []string{"http://", "https://cdn", "<script>", " style=", " onclick="} {
		if strings.Contains(page, bad) {
			t.Errorf("index.html contains %q", bad)
		}
	}
	for _, m := range regexp.MustCompile(`(?:src|href)="([^"#]+)"`).FindAllStringSubmatch(page, -1) {
		if _, err := fs.Stat(Files(), m[1]); err != nil {
			t.Errorf("index.html refers to %s, which is not embedded", m[1])
		}
	}
	// Every input has a label.
	labels := map[string]bool{}
	for _, m := range regexp.MustCompile(`<label[^>]* for="([^"]+)"`).FindAllStringSubmatch(page, -1) {
		labels[m[1]] = true
	}
	for _, m := range regexp.MustCompile(`<(?:input|select|textarea)[^>]* id="([^"]+)"`).FindAllStringSubmatch(page, -1) {
		if !labels[m[1]] && !strings.Contains(page, `<label><input type="radio" name="store_kind" id="`+m[1]) {
			t.Errorf("no <label for=%q>", m[1])
		}
	}
}

// TestTranslationsComplete checks that every string the page uses exists
// in Chinese and in English.
func TestTranslationsComplete(t *testing.T) {
	src := read(t, "i18n.js")
	zhPart, enPart, ok := strings.Cut(src, "\n  en: {")
	if !ok {
		t.Fatal("i18n.js has no en block")
	}
	keyRE := regexp.MustCompile(`(?m)^\s*"([a-zA-Z0-9_.]+)":`)
	keys := func(s string) map[string]bool {
		m := map[string]bool{}
		for _, k := range keyRE.FindAllStringSubmatch(s, -1) {
			m[k[1]] = true
		}
		return m
	}
	zh, en := keys(zhPart), keys(enPart)
	for k := range zh {
		if !en[k] {
			t.Errorf("%s has no English", k)
		}
	}
	for k := range en {
		if !zh[k] {
			t.Errorf("%s has no Chinese", k)
		}
	}

	used := map[string]bool{}
	page := read(t, "index.html")
	for _, m := range regexp.MustCompile(`data-i18n(?:-html|-aria-label)?="([^"]+)"`).FindAllStringSubmatch(page, -1) {
		used[m[1]] = true
	}
	app := read(t, "app.js") + read(t, "movein.js")
	for _, m := range regexp.MustCompile(`\bt\("([a-zA-Z0-9_.]+)"[,)]`).FindAllStringSubmatch(app, -1) {
		used[m[1]] = true
	}
	// Keys the script builds from values.
	for _, k := range []string{"added", "removed", "changed"} {
		used["diff."+k] = true
	}
	for _, k := range []string{"organizations", "owners", "robots", "projects", "document"} {
		used["diff.kind."+k] = true
	}
	for _, k := range []string{"ok", "no_document", "unreachable", "credentials", "no_bucket", "invalid_document", "open", "location", "error"} {
		used["test."+k] = true
	}
	for _, k := range []string{"flag", "env", "settings", "default"} {
		used["settings.src."+k] = true
	}
	for _, k := range []string{"project", "owner", "robot", "organization"} {
		used[k+".dialog.new"], used[k+".dialog.edit"] = true, true
	}
	for k := range used {
		if !zh[k] {
			t.Errorf("the page uses %s, which i18n.js lacks", k)
		}
	}
}
