package configapi

import (
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sentry-white/sentry-white/internal/sentryapi/sentrytest"
)

const sentryToken = "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"

// sentryEnv is a configurator with one organization at a Sentry stand-in
// holding app-001 … app-005, two pages of three.
func sentryEnv(t *testing.T) (*testEnv, *sentrytest.Server) {
	t.Helper()
	e := newEnv(t)
	sn := sentrytest.New()
	t.Cleanup(sn.Close)
	sn.PerPage = 3
	sn.AddOrg("acme", sentrytest.Projects(5)...)
	sn.AddToken(sentryToken, sentrytest.Token{Scopes: []string{"project:read"}})
	e.must(http.StatusCreated, "POST", "/api/v1/organizations", map[string]any{"name": "公司", "sentry_url": sn.URL, "slug": "acme"})
	e.must(http.StatusCreated, "POST", "/api/v1/owners", map[string]any{"name": "张三", "mobile": "13800138000"})
	e.must(http.StatusCreated, "POST", "/api/v1/robots", map[string]any{"name": "研发群", "access_token": "abc123"})
	return e, sn
}

func TestSentryTokenStaysOnThisComputer(t *testing.T) {
	e, _ := sentryEnv(t)
	if m := e.must(http.StatusOK, "GET", "/api/v1/organizations/1/sentry-token", nil); m["token_set"] != false {
		t.Errorf("before: %v", m)
	}
	m := e.must(http.StatusUnprocessableEntity, "PUT", "/api/v1/organizations/1/sentry-token", map[string]any{"token": "  "})
	if m["field"] != "token" {
		t.Errorf("empty token: %v", m)
	}
	e.must(http.StatusUnprocessableEntity, "PUT", "/api/v1/organizations/1/sentry-token", map[string]any{"token": "two words"})
	e.must(http.StatusNotFound, "PUT", "/api/v1/organizations/9/sentry-token", map[string]any{"token": sentryToken})
	m = e.must(http.StatusOK, "PUT", "/api/v1/organizations/1/sentry-token", map[string]any{"token": "Bearer " + sentryToken})
	if m["token_set"] != true || m["token"] == sentryToken || !strings.Contains(m["token"].(string), "…") {
		t.Errorf("saved: %v", m)
	}
	path := filepath.Join(e.cfgDir, "settings.json")
	b, err := os.ReadFile(path)
	if err != nil || !strings.Contains(string(b), sentryToken) {
		t.Fatalf("the settings file lacks the token: %v %s", err, b)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("settings file mode %v", st.Mode().Perm())
	}
	for _, p := range []string{"/api/v1/settings", "/api/v1/organizations", "/api/v1/snapshot", "/api/v1/document", "/api/v1/organizations/1/sentry-token"} {
		if body := e.do("GET", p, nil).Body.String(); strings.Contains(body, sentryToken) || strings.Contains(body, sentryToken[10:40]) {
			t.Errorf("GET %s shows the Sentry token", p)
		}
	}
	raw, _ := os.ReadFile(filepath.Join(e.dir, "api", "v1", "config.json"))
	if strings.Contains(string(raw), sentryToken) {
		t.Error("the token is in the document the relay reads")
	}
	// Saving the settings page keeps it; a body cannot set it.
	e.must(http.StatusOK, "PUT", "/api/v1/settings", map[string]any{"relay_url": "https://relay.example.com", "sentry_tokens": map[string]string{"x": "y"}})
	if b, _ := os.ReadFile(path); !strings.Contains(string(b), sentryToken) || strings.Contains(string(b), `"x"`) {
		t.Errorf("after saving the settings: %s", b)
	}
	// A new server on the same settings still has it.
	e.s = e.server("file:" + e.dir)
	if m := e.must(http.StatusOK, "GET", "/api/v1/organizations/1/sentry-token", nil); m["token_set"] != true {
		t.Errorf("after a restart: %v", m)
	}
	// Another slug is another organization in Sentry: its token is asked for again.
	e.must(http.StatusOK, "PATCH", "/api/v1/organizations/1", map[string]any{"slug": "acme2"})
	if m := e.must(http.StatusOK, "GET", "/api/v1/organizations/1/sentry-token", nil); m["token_set"] != false {
		t.Errorf("after a slug change: %v", m)
	}
	e.must(http.StatusOK, "PATCH", "/api/v1/organizations/1", map[string]any{"slug": "acme"})
	e.must(http.StatusOK, "DELETE", "/api/v1/organizations/1/sentry-token", nil)
	if b, _ := os.ReadFile(path); strings.Contains(string(b), sentryToken) {
		t.Error("the token is still in the settings file after removing it")
	}

	// An organization without a slug (as imported from the original).
	e.must(http.StatusCreated, "POST", "/api/v1/organizations", map[string]any{"name": "旧账号", "sentry_url": "https://sentry.io"})
	m = e.must(http.StatusUnprocessableEntity, "PUT", "/api/v1/organizations/2/sentry-token", map[string]any{"token": sentryToken})
	if m["code"] != "no_slug" || m["field"] != "slug" {
		t.Errorf("no slug: %v", m)
	}
	if m := e.must(http.StatusOK, "GET", "/api/v1/organizations/2/sentry-token", nil); m["problem"] != "no_slug" {
		t.Errorf("token of an organization without slug: %v", m)
	}
}

func TestListSentryProjects(t *testing.T) {
	e, sn := sentryEnv(t)
	m := e.must(http.StatusUnprocessableEntity, "GET", "/api/v1/organizations/1/sentry-projects", nil)
	if m["code"] != "no_token" {
		t.Errorf("without a token: %v", m)
	}
	e.must(http.StatusOK, "PUT", "/api/v1/organizations/1/sentry-token", map[string]any{"token": sentryToken})
	// Configured: app-002 (as APP-002) and a typo.
	e.must(http.StatusCreated, "POST", "/api/v1/projects", map[string]any{"name": "二号", "slug": "APP-002", "organization_id": 1})
	e.must(http.StatusCreated, "POST", "/api/v1/projects", map[string]any{"name": "打错的", "slug": "app-0002", "organization_id": 1})

	m = e.must(http.StatusOK, "GET", "/api/v1/organizations/1/sentry-projects", nil)
	if m["ok"] != true || m["count"] != 5.0 {
		t.Fatalf("list: %v", m)
	}
	var configured []string
	for _, p := range m["projects"].([]any) {
		p := p.(map[string]any)
		if p["configured"] == true {
			configured = append(configured, p["slug"].(string))
			if p["project_id"] != 1.0 {
				t.Errorf("configured project id %v", p["project_id"])
			}
		}
	}
	if !slices.Equal(configured, []string{"app-002"}) {
		t.Errorf("configured %v", configured)
	}
	unknown := m["unknown"].([]any)
	if len(unknown) != 1 || unknown[0].(map[string]any)["slug"] != "app-0002" {
		t.Errorf("unknown %v", unknown)
	}
	reqs := sn.Requests()
	if len(reqs) != 2 || reqs[0].Authorization != "Bearer "+sentryToken {
		t.Errorf("requests %+v", reqs)
	}

	// Sentry's refusals, in words with the fix; the token never shows.
	for _, tc := range []struct {
		fault      sentrytest.Fault
		code, says string
	}{
		{sentrytest.Fault{Status: 401, Body: `{"detail":"Invalid token"}`}, "unauthorized", "project:read"},
		{sentrytest.Fault{Status: 403, Body: `{"detail":"You do not have permission to perform this action."}`}, "forbidden", "project:read"},
		{sentrytest.Fault{Status: 404, Body: `{"detail":"The requested resource does not exist"}`}, "not_found", "slug"},
		{sentrytest.Fault{Status: 200, ContentType: "text/html", Body: "<html>login</html>"}, "not_json", "login page"},
	} {
		sn.Fail(tc.fault)
		w := e.do("GET", "/api/v1/organizations/1/sentry-projects", nil)
		m := decode(t, w)
		er, _ := m["error"].(map[string]any)
		if w.Code != http.StatusOK || m["ok"] != false || er["code"] != tc.code || !strings.Contains(er["fix"].(string)+er["message"].(string), tc.says) {
			t.Errorf("%s: %d %v", tc.code, w.Code, m)
		}
		if strings.Contains(w.Body.String(), sentryToken) {
			t.Errorf("%s: the answer shows the token", tc.code)
		}
	}
	sn.Fail(sentrytest.Fault{})
	sn.Close()
	m = e.must(http.StatusOK, "GET", "/api/v1/organizations/1/sentry-projects", nil)
	if er := m["error"].(map[string]any); er["code"] != "network" {
		t.Errorf("Sentry down: %v", m)
	}
	e.must(http.StatusNotFound, "GET", "/api/v1/organizations/7/sentry-projects", nil)
}

func TestAddSentryProjects(t *testing.T) {
	e, _ := sentryEnv(t)
	e.must(http.StatusCreated, "POST", "/api/v1/projects", map[string]any{"name": "一号", "slug": "app-001", "organization_id": 1})
	m := e.must(http.StatusCreated, "POST", "/api/v1/organizations/1/sentry-projects", map[string]any{
		"projects":  []map[string]any{{"slug": "app-001", "name": "App 001"}, {"slug": "app-003", "name": "App 003"}, {"slug": "app-004", "name": ""}, {"slug": "app-003", "name": "again"}},
		"owner_ids": []int{1, 1}, "robot_ids": []int{1}})
	created := m["created"].([]any)
	if len(created) != 2 {
		t.Fatalf("created %v", created)
	}
	skipped := m["skipped"].([]any)
	if len(skipped) != 2 || skipped[0].(map[string]any)["slug"] != "app-001" {
		t.Errorf("skipped %v", skipped)
	}
	d := e.stored()
	if len(d.Projects) != 3 {
		t.Fatalf("projects %+v", d.Projects)
	}
	for i, want := range []struct {
		id         int64
		name, slug string
	}{{2, "App 003", "app-003"}, {3, "app-004", "app-004"}} {
		p := d.Projects[i+1]
		if p.ID != want.id || p.Name != want.name || p.Slug != want.slug || p.OrganizationID != 1 ||
			!slices.Equal(p.OwnerIDs, []int64{1}) || !slices.Equal(p.RobotIDs, []int64{1}) {
			t.Errorf("project %d: %+v", i, p)
		}
	}
	if vs := e.must(http.StatusOK, "GET", "/api/v1/history", nil)["list"].([]any); len(vs) != 4 {
		t.Errorf("%d versions, want one write for the batch (4 in all)", len(vs))
	}

	m = e.must(http.StatusUnprocessableEntity, "POST", "/api/v1/organizations/1/sentry-projects", map[string]any{
		"projects": []map[string]any{{"slug": "ok-one"}, {"slug": "not a slug"}}})
	if !slices.Contains(fieldsOf(m), "projects[1].slug") {
		t.Errorf("bad slug: %v", m)
	}
	m = e.must(http.StatusUnprocessableEntity, "POST", "/api/v1/organizations/1/sentry-projects", map[string]any{
		"projects": []map[string]any{{"slug": "app-005"}}, "owner_ids": []int{7}})
	if !slices.Contains(fieldsOf(m), "owner_ids") {
		t.Errorf("unknown owner: %v", m)
	}
	e.must(http.StatusUnprocessableEntity, "POST", "/api/v1/organizations/1/sentry-projects", map[string]any{"projects": []any{}})
	e.must(http.StatusBadRequest, "POST", "/api/v1/organizations/1/sentry-projects", `{"projects": "app-005"}`)
	m = e.must(http.StatusConflict, "POST", "/api/v1/organizations/1/sentry-projects", map[string]any{"projects": []map[string]any{{"slug": "APP-003"}}})
	if m["code"] != "already_configured" {
		t.Errorf("all configured: %v", m)
	}
	e.must(http.StatusNotFound, "POST", "/api/v1/organizations/5/sentry-projects", map[string]any{"projects": []map[string]any{{"slug": "x"}}})
	if n := len(e.stored().Projects); n != 3 {
		t.Errorf("%d projects after the refusals", n)
	}
}
