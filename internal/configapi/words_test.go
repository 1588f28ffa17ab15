package configapi

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/notify"
	"github.com/sentry-white/sentry-white/internal/original"
	"github.com/sentry-white/sentry-white/internal/relay"
	"github.com/sentry-white/sentry-white/internal/sentryapi"
	"github.com/sentry-white/sentry-white/web"
)

// i18nKeys reads the page's strings (web/static/i18n/<lang>.json), by
// language.
func i18nKeys(t *testing.T) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	for _, lang := range []string{"zh", "en"} {
		b, err := fs.ReadFile(web.Files(), "i18n/"+lang+".json")
		if err != nil {
			t.Fatal(err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("i18n/%s.json: %v", lang, err)
		}
		out[lang] = m
	}
	if len(out["zh"]) < 100 || len(out["en"]) < 100 {
		t.Fatalf("the strings read as %d Chinese and %d English texts", len(out["zh"]), len(out["en"]))
	}
	return out
}

// declared is every "<namespace><code>" the page may be sent: this
// package's codes, and the lists of the packages whose codes the API
// passes on.
func declared() map[string]bool {
	out := map[string]bool{}
	add := func(prefix string, list []string) {
		for _, c := range list {
			out[prefix+c] = true
		}
	}
	for prefix, list := range codes {
		add(prefix, list)
	}
	add("err.", config.Codes)
	add("refusal.", relay.RefusalCauses())
	add("refusal.fix.", relay.RefusalCauses())
	add("sentryp.err.", sentryapi.Codes)
	add("sentryp.fix.", sentryapi.Codes)
	add("original.problem.", original.Codes)
	add("original.why.", original.Whys)
	add("original.reason.", original.Reasons)
	return out
}

// TestEveryCodeHasWords: every code the server can send has a Chinese and
// an English text in web/static/i18n/<lang>.json, so the page never shows
// the server's English to a Chinese reader (nor the reverse). The codes
// are the declared lists; that every code sent is declared is checked on
// every answer the tests receive (checkCodes).
func TestEveryCodeHasWords(t *testing.T) {
	texts := i18nKeys(t)
	var keys []string
	for k := range declared() {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, lang := range []string{"zh", "en"} {
			if texts[lang][k] == "" {
				t.Errorf("%s has no %s text", k, lang)
			}
		}
	}
}

// TestEnglishPlurals: English texts never put a count before a plural
// noun as is ("1 projects"); they use {n|project|projects}.
func TestEnglishPlurals(t *testing.T) {
	texts := i18nKeys(t)
	bad := regexp.MustCompile(`\{(n|o|w|r|p|c|count|total|removed|max|min|days|projects|limit)\} (more )?[a-z]+s\b`)
	var keys []string
	for k := range texts["en"] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if m := bad.FindString(texts["en"][k]); m != "" && !strings.Contains(m, "bytes") {
			t.Errorf("%s: %q puts a count before a plural as is", k, m)
		}
	}
}

// checkCodes fails t for a code in an answer of the API that is not
// declared (codes, and the lists of the packages it passes codes on from),
// or, for a fix, not worded by the robot's kind: the page would have no
// words for it. Every answer testEnv.do receives goes through it.
func checkCodes(t *testing.T, path string, w *httptest.ResponseRecorder) {
	t.Helper()
	if !strings.Contains(w.Header().Get("Content-Type"), "json") {
		return
	}
	var v any
	if json.Unmarshal(w.Body.Bytes(), &v) != nil {
		return
	}
	known := declared()
	check := func(key, where string) {
		if !known[key] {
			t.Errorf("%s answered %s, which no list declares (the page has no words for it); at %s", path, key, where)
		}
	}
	// root is the namespace of a "code" at the top of a successful answer.
	root := "err."
	switch {
	case strings.HasPrefix(path, "/api/v1/relay-check"):
		root = "relay."
	case strings.HasPrefix(path, "/api/v1/settings/test"):
		root = "test."
	}
	if w.Code >= 400 {
		root = "err."
	}
	var walk func(v any, in string)
	walk = func(v any, in string) {
		switch v := v.(type) {
		case []any:
			for _, x := range v {
				walk(x, in)
			}
		case map[string]any:
			for k, x := range v {
				s, isString := x.(string)
				switch {
				case !isString || s == "":
					walk(x, k)
				case k == "code":
					space := map[string]string{"": root, "fields": "err.", "dangers": "danger.", "problems": "original.problem.",
						"error": "sentryp.err."}[in]
					if space != "" {
						check(space+s, in)
					}
				case k == "note_code" || k == "dropped_code":
					check("drop."+s, k)
				case k == "history_error_code":
					check("err."+s, k)
				case k == "off_code":
					check("links.off."+s, k)
				case k == "outcome" && in == "action":
					check("action.outcome."+s, k)
				case k == "action" && in == "action":
					check("action.kind."+s, k)
				case k == "warning_code" && (strings.Contains(path, "/preview") || strings.Contains(path, "/escalation")):
					check("warn."+s, k)
				case k == "warning_code":
					check("webhook.warn."+s, k)
				case k == "fix_code":
					if kind := testKinds.Lookup(fmt.Sprint(v["kind"])); kind == nil || kind.Fixes[s] == (notify.Text{}) {
						check("fix."+s, k)
					}
				case k == "cause" && v["result"] == "refused":
					check("refusal."+s, k)
				case k == "cause" && in == "params":
					check("test."+s, k)
				case k == "action" && in == "save":
					check("history.action."+s, k)
				case k == "reason" && in == "problems":
					if !known["original.reason."+s] {
						check("original.why."+s, k)
					}
				}
			}
		}
	}
	walk(v, "")
}
