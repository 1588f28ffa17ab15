package web

import (
	"encoding/json"
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
	for p, ct := range map[string]string{
		"/":                  "text/html; charset=utf-8",
		"/js/main.js":        "text/javascript; charset=utf-8",
		"/pages/robots.js":   "text/javascript; charset=utf-8",
		"/pages/robots.html": "text/html; charset=utf-8",
		"/app.css":           "text/css; charset=utf-8",
		"/i18n/zh.json":      "application/json",
		"/i18n/en.json":      "application/json",
		"/favicon.svg":       "image/svg+xml",
	} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", p, nil))
		if w.Code != http.StatusOK {
			t.Errorf("GET %s = %d", p, w.Code)
		}
		if got := w.Header().Get("Content-Type"); got != ct {
			t.Errorf("GET %s: Content-Type %q, want %q", p, got, ct)
		}
		for h, want := range map[string]string{"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"} {
			if got := w.Header().Get(h); got != want {
				t.Errorf("GET %s: %s %q, want %q", p, h, got, want)
			}
		}
		csp := w.Header().Get("Content-Security-Policy")
		if !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "script-src 'self';") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("GET %s: CSP %q", p, csp)
		}
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("POST", "/", nil))
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST / = %d, want 405", w.Code)
	}
}

// markup is the page's HTML files: the shell and each page's own.
func markup(t *testing.T) map[string]string {
	t.Helper()
	names, err := fs.Glob(Files(), "pages/*.html")
	if err != nil || len(names) == 0 {
		t.Fatalf("no pages/*.html (%v)", err)
	}
	out := map[string]string{"index.html": read(t, "index.html")}
	for _, n := range names {
		out[n] = read(t, n)
	}
	return out
}

// TestPageIsSelfContained checks that the page loads nothing from the
// network and has no inline script or style the CSP would block, and that
// every page named by the shell's markup has its module.
func TestPageIsSelfContained(t *testing.T) {
	for name, page := range markup(t) {
		for _, bad := range []string{"http://", "https://cdn", "<script>", " style=", " onclick="} {
			if strings.Contains(page, bad) {
				t.Errorf("%s contains %q", name, bad)
			}
		}
		for _, m := range regexp.MustCompile(`(?:src|href)="([^"#]+)"`).FindAllStringSubmatch(page, -1) {
			if _, err := fs.Stat(Files(), m[1]); err != nil {
				t.Errorf("%s refers to %s, which is not embedded", name, m[1])
			}
		}
		// Every input has a label, in the same file.
		labels := map[string]bool{}
		for _, m := range regexp.MustCompile(`<label[^>]* for="([^"]+)"`).FindAllStringSubmatch(page, -1) {
			labels[m[1]] = true
		}
		for _, m := range regexp.MustCompile(`<(?:input|select|textarea)[^>]* id="([^"]+)"`).FindAllStringSubmatch(page, -1) {
			if !labels[m[1]] && !strings.Contains(page, `<label><input type="radio" name="store_kind" id="`+m[1]) {
				t.Errorf("%s: no <label for=%q>", name, m[1])
			}
		}
		if name == "index.html" {
			continue
		}
		module := strings.TrimSuffix(name, ".html") + ".js"
		if _, err := fs.Stat(Files(), module); err != nil {
			t.Errorf("%s has no module %s", name, module)
		}
	}
}

// wordsIn reads the page's strings in lang (i18n/<lang>.json).
func wordsIn(t *testing.T, lang string) map[string]string {
	t.Helper()
	var m map[string]string
	if err := json.Unmarshal([]byte(read(t, "i18n/"+lang+".json")), &m); err != nil {
		t.Fatalf("i18n/%s.json: %v", lang, err)
	}
	return m
}

// TestTranslationsComplete checks that every string exists in Chinese and
// in English, and that the keys the markup names exist (nav.<page> is
// named by the shell for each page). (The page says on
// the console, which fails the browser tests, when its script asks for a
// key that has no words.)
func TestTranslationsComplete(t *testing.T) {
	zh, en := wordsIn(t, "zh"), wordsIn(t, "en")
	if len(zh) < 100 {
		t.Fatalf("i18n/zh.json has %d strings", len(zh))
	}
	for k, v := range zh {
		if en[k] == "" {
			t.Errorf("%s has no English", k)
		}
		if v == "" {
			t.Errorf("%s has no Chinese", k)
		}
	}
	for k := range en {
		if _, ok := zh[k]; !ok {
			t.Errorf("%s has no Chinese", k)
		}
	}
	for name, page := range markup(t) {
		if p, ok := strings.CutPrefix(strings.TrimSuffix(name, ".html"), "pages/"); ok && zh["nav."+p] == "" {
			t.Errorf("the page %s has no nav.%s", p, p)
		}
		for _, m := range regexp.MustCompile(`data-i18n(?:-html|-aria-label|-placeholder)?="([^"]+)"`).FindAllStringSubmatch(page, -1) {
			if zh[m[1]] == "" {
				t.Errorf("%s uses %s, which the strings lack", name, m[1])
			}
		}
	}
}
