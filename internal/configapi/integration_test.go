package configapi

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sentry-white/sentry-white/internal/sentryapi/sentrytest"
)

// sentryURIRe is the form Sentry accepts for a component's uri (a relative
// path without "@", sentry_apps/external_requests/utils.py).
var sentryURIRe = regexp.MustCompile(`^/[^/@][^@]*$`)

// checkSentrySchema checks a UI schema against the rules Sentry's schema
// validator applies (sentry_apps/api/parsers/schema.py) to an
// alert-rule-action element and its fields.
func checkSentrySchema(t *testing.T, schema map[string]any) {
	t.Helper()
	els, _ := schema["elements"].([]any)
	if len(els) != 1 {
		t.Fatalf("elements %v", schema["elements"])
	}
	el := els[0].(map[string]any)
	st, _ := el["settings"].(map[string]any)
	if el["type"] != "alert-rule-action" || el["title"] == "" || st == nil || st["type"] != "alert-rule-settings" {
		t.Fatalf("element %v", el)
	}
	if d, _ := st["description"].(string); d == "" || utf8.RuneCountInString(d) > 140 {
		t.Errorf("description %q: 1 to 140 characters", d)
	}
	if u, _ := st["uri"].(string); !sentryURIRe.MatchString(u) {
		t.Errorf("settings uri %q", u)
	}
	names := map[string]bool{}
	for _, key := range []string{"required_fields", "optional_fields"} {
		fields, _ := st[key].([]any)
		if len(fields) == 0 {
			t.Errorf("%s is empty", key)
		}
		for _, f := range fields {
			m := f.(map[string]any)
			names[m["name"].(string)] = true
			if m["label"] == "" || m["name"] == "" {
				t.Errorf("field %v", m)
			}
			switch m["type"] {
			case "select":
				u, hasURI := m["uri"].(string)
				opts, hasOpts := m["options"].([]any)
				if hasURI == hasOpts {
					t.Errorf("select %v: uri or options, one of them", m)
				}
				if hasURI && !sentryURIRe.MatchString(u) {
					t.Errorf("select uri %q", u)
				}
				for _, o := range opts {
					if p, _ := o.([]any); len(p) != 2 {
						t.Errorf("option %v: [value, label]", o)
					}
				}
			case "textarea", "text":
			default:
				t.Errorf("field type %v", m["type"])
			}
		}
	}
	if !names["robot"] || !names["mention"] || !names["notes"] || len(names) != 3 {
		t.Errorf("fields %v, want robot, mention, notes (contract §7)", names)
	}
}

// TestSentryIntegrationForm: every value Sentry's internal-integration form
// asks for — the webhook URL with the token, the permissions and why, the
// issue webhooks, the alert rule action and its schema, whose uris carry
// the webhook token behind the relay URL's own path.
func TestSentryIntegrationForm(t *testing.T) {
	e := newEnv(t)
	e.must(http.StatusCreated, "POST", "/api/v1/owners", map[string]any{"name": "张三", "mobile": "13800138000"}) // a document, with its token
	m := e.must(http.StatusOK, "GET", "/api/v1/sentry-integration", nil)
	tok := e.must(http.StatusOK, "GET", "/api/v1/webhook", nil)["token"].(string)
	if m["webhook_url"] != "" || m["alert_rule_action"] != true || m["name"] != integrationName || tok == "" {
		t.Errorf("without a relay URL: %v", m)
	}
	uris := m["uris"].(map[string]any)
	if uris["robots"] != "/sentry-app/"+tok+"/robots" || uris["settings"] != "/sentry-app/"+tok+"/settings" {
		t.Errorf("uris %v", uris)
	}
	checkSentrySchema(t, m["schema"].(map[string]any))
	var pasted map[string]any
	if err := json.Unmarshal([]byte(m["schema_text"].(string)), &pasted); err != nil {
		t.Fatal(err)
	}
	checkSentrySchema(t, pasted)
	perms := map[string]string{}
	for _, p := range m["permissions"].([]any) {
		p := p.(map[string]any)
		if p["why"] == "" {
			t.Errorf("permission %v: why?", p)
		}
		perms[p["resource"].(string)] = p["access"].(string)
	}
	if perms["Project"] != "Read" || perms["Issue & Event"] != "Read & Write" {
		t.Errorf("permissions %v", perms)
	}
	if hooks, _ := json.Marshal(m["webhooks"]); string(hooks) != `["issue"]` {
		t.Errorf("webhooks %s", hooks)
	}

	e.must(http.StatusOK, "PUT", "/api/v1/settings", map[string]any{"relay_url": "https://alerts.example.com/sentry-white/"})
	m = e.must(http.StatusOK, "GET", "/api/v1/sentry-integration", nil)
	if m["webhook_url"] != "https://alerts.example.com/sentry-white/?token="+tok || m["uris"].(map[string]any)["robots"] != "/sentry-white/sentry-app/"+tok+"/robots" {
		t.Errorf("behind a path: %v %v", m["webhook_url"], m["uris"])
	}
	checkSentrySchema(t, m["schema"].(map[string]any))
}

// TestAPITokenIsASecretAndChecked: organizations[].api_token is masked in
// lists, revealed on request, never taken as a mask; "check token" says
// what it may do, as Sentry answers; it lists the projects when no
// personal token is saved on this computer.
func TestAPITokenIsASecretAndChecked(t *testing.T) {
	e, sn := sentryEnv(t)
	const apiToken = "sntrys_eyJpYXQiOjE3NjQwNDA4MTEuMTIsInVybCI6Imh0dHBzOi8vc2VudHJ5LmlvIn0_abcdef0123456789"
	sn.AddToken(apiToken, sentrytest.Token{Scopes: []string{"org:read", "project:read", "event:write"}})
	sn.AddIssue("acme", sentrytest.Issue{ID: "1", Title: "t", Count: "1"})
	e.must(http.StatusOK, "PATCH", "/api/v1/organizations/1", map[string]any{"api_token": apiToken})
	for _, p := range []string{"/api/v1/organizations", "/api/v1/organizations/1", "/api/v1/snapshot"} {
		if body := e.do("GET", p, nil).Body.String(); strings.Contains(body, apiToken) || !strings.Contains(body, "api_token") {
			t.Errorf("GET %s: %s", p, body)
		}
	}
	if m := e.must(http.StatusOK, "GET", "/api/v1/organizations/1/secrets", nil); m["api_token"] != apiToken {
		t.Errorf("revealed %v", m)
	}
	masked := e.must(http.StatusOK, "GET", "/api/v1/organizations/1", nil)["api_token"].(string)
	if m := e.must(http.StatusUnprocessableEntity, "PATCH", "/api/v1/organizations/1", map[string]any{"api_token": masked + "x"}); m["code"] != "validation" {
		t.Errorf("a mask: %v", m)
	}
	e.must(http.StatusOK, "PATCH", "/api/v1/organizations/1", map[string]any{"name": "公司", "api_token": masked}) // sent back as shown
	if raw, _ := os.ReadFile(filepath.Join(e.dir, "api", "v1", "config.json")); !strings.Contains(string(raw), apiToken) {
		t.Error("the token was not kept")
	}

	m := e.must(http.StatusOK, "POST", "/api/v1/organizations/1/api-token/check", map[string]any{})
	chk, _ := m["check"].(map[string]any)
	if m["ok"] != true || m["source"] != "saved" || chk["facts"] != true || chk["import"] != true || chk["act"] != true {
		t.Errorf("check: %v", m)
	}
	m = e.must(http.StatusOK, "POST", "/api/v1/organizations/1/api-token/check", map[string]any{"api_token": "wrong-token"})
	if err, _ := m["error"].(map[string]any); m["ok"] != false || m["source"] != "body" || err["code"] != "unauthorized" {
		t.Errorf("wrong token: %v", m)
	}
	if m := e.must(http.StatusUnprocessableEntity, "POST", "/api/v1/organizations/1/api-token/check", map[string]any{"api_token": masked}); m["code"] != "validation" {
		t.Errorf("a mask: %v", m)
	}
	// Project import with the organization's token, no personal one saved.
	if m := e.must(http.StatusOK, "GET", "/api/v1/organizations/1/sentry-token", nil); m["token_set"] != false || m["api_token_set"] != true {
		t.Errorf("token view %v", m)
	}
	if m := e.must(http.StatusOK, "GET", "/api/v1/organizations/1/sentry-projects", nil); m["ok"] != true || m["count"] != 5.0 {
		t.Errorf("import with the api_token: %v", m)
	}
	if r := sn.Requests(); r[len(r)-1].Authorization != "Bearer "+apiToken {
		t.Errorf("asked with %q", r[len(r)-1].Authorization)
	}
	// A personal token saved here wins.
	e.must(http.StatusOK, "PUT", "/api/v1/organizations/1/sentry-token", map[string]any{"token": sentryToken})
	e.must(http.StatusOK, "GET", "/api/v1/organizations/1/sentry-projects", nil)
	if r := sn.Requests(); r[len(r)-1].Authorization != "Bearer "+sentryToken {
		t.Errorf("asked with %q", r[len(r)-1].Authorization)
	}
	// Without any token: 422.
	e.must(http.StatusOK, "PATCH", "/api/v1/organizations/1", map[string]any{"api_token": ""})
	if m := e.must(http.StatusUnprocessableEntity, "POST", "/api/v1/organizations/1/api-token/check", map[string]any{}); m["code"] != "no_token" {
		t.Errorf("no token: %v", m)
	}
}
