package configapi

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/docstore"
	"github.com/sentry-white/sentry-white/internal/store"
)

// The secrets of TestNoMaskedSecretReachesTheStore, one per secret field
// the configurator edits.
const (
	secToken        = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
	secSecret       = "SECa7f09b5ea245debd13fb7fe1993897008f6b44ddf80310d14f3de4d3f407221d"
	secPassword     = "s3cret-pass-word"
	secClientSecret = "c1c2c3c4c5c6c7c8c9d0d1d2d3d4d5d6"
	secOSSSecret    = "aK3yS3cretValue0123456789"
	secAdminKey     = "admin-key-0123456789abcdef"
	secSentryToken  = "sntrys_eyJpYXQiOjE3MDAwMDAwMDB9_0123456789abcdef"
)

// secretEnv is a configurator holding one of every secret: a robot's
// token and signing secret, an organization's password and client secret,
// the settings' OSS AccessKey secret and relay admin key, and an
// organization's Sentry token.
func secretEnv(t *testing.T) *testEnv {
	t.Helper()
	e := newEnv(t)
	e.must(http.StatusCreated, "POST", "/api/v1/robots", map[string]any{"name": "研发告警群", "access_token": secToken, "secret": secSecret})
	e.must(http.StatusCreated, "POST", "/api/v1/organizations", map[string]any{"name": "acme", "slug": "acme", "sentry_url": "https://sentry.io",
		"account": "viewer@acme.com", "password": secPassword, "client_secret": secClientSecret})
	e.must(http.StatusOK, "PUT", "/api/v1/settings", map[string]any{"store_kind": "folder", "folder": e.dir,
		"oss_access_key_secret": secOSSSecret, "relay_admin_key": secAdminKey})
	e.must(http.StatusOK, "PUT", "/api/v1/organizations/1/sentry-token", map[string]any{"token": secSentryToken})
	return e
}

// TestNoMaskedSecretReachesTheStore: for every secret field the API edits,
// a read written back unchanged keeps the real secret; a value that holds
// a mask (the mask with more typed after it, another value's mask, an
// ellipsis anywhere, the full mask) is refused with a 422 naming the field,
// by PUT, PATCH and POST alike; and neither the document nor the settings
// file ever holds a mask.
func TestNoMaskedSecretReachesTheStore(t *testing.T) {
	e := secretEnv(t)
	targets := []struct {
		path, field, errField, real string
		create                      string // the list a copy is created in, for entities
	}{
		{"/api/v1/robots/1", "access_token", "robots[0].access_token", secToken, "/api/v1/robots"},
		{"/api/v1/robots/1", "secret", "robots[0].secret", secSecret, "/api/v1/robots"},
		{"/api/v1/organizations/1", "password", "organizations[0].password", secPassword, "/api/v1/organizations"},
		{"/api/v1/organizations/1", "client_secret", "organizations[0].client_secret", secClientSecret, "/api/v1/organizations"},
		{"/api/v1/settings", "oss_access_key_secret", "oss_access_key_secret", secOSSSecret, ""},
		{"/api/v1/settings", "relay_admin_key", "relay_admin_key", secAdminKey, ""},
	}
	for _, tg := range targets {
		read := e.must(http.StatusOK, "GET", tg.path, nil)
		shown, _ := read[tg.field].(string)
		if shown == "" || shown == tg.real {
			t.Fatalf("GET %s shows %s as %q", tg.path, tg.field, shown)
		}
		// A script reads and writes back unchanged: the secret stays.
		e.must(http.StatusOK, "PUT", tg.path, read)
		e.must(http.StatusOK, "PATCH", tg.path, map[string]any{tg.field: shown})
		if got := e.secretAt(tg.path, tg.field); got != tg.real {
			t.Errorf("GET→PUT of %s stored %s = %q", tg.path, tg.field, got)
		}
		for _, bad := range []string{shown + "SECfff0123", "SEC01…abc", "abcdef…", fullMask + "x", "x" + shown} {
			for _, method := range []string{"PUT", "PATCH"} {
				body := map[string]any{tg.field: bad}
				if method == "PUT" {
					body = maps.Clone(read)
					body[tg.field] = bad
				}
				m := e.must(http.StatusUnprocessableEntity, method, tg.path, body)
				if !slices.Contains(fieldsOf(m), tg.errField) || !strings.Contains(m["error"].(string), "mask") {
					t.Errorf("%s %s with %s %q answered %v", method, tg.path, tg.field, bad, m)
				} else if f := m["fields"].([]any)[0].(map[string]any); f["code"] != "secret_masked" {
					t.Errorf("%s %s: the field error is coded %v", method, tg.path, f["code"])
				}
			}
		}
		if got := e.secretAt(tg.path, tg.field); got != tg.real {
			t.Errorf("after the refusals %s %s = %q", tg.path, tg.field, got)
		}
		// A copy of what was read, created anew, has no secret behind its
		// masks: refused too.
		if tg.create != "" {
			body := maps.Clone(read)
			body["name"] = "copy"
			m := e.must(http.StatusUnprocessableEntity, "POST", tg.create, body)
			if want := strings.Replace(tg.errField, "[0]", "[1]", 1); !slices.Contains(fieldsOf(m), want) {
				t.Errorf("POST %s of a read copy answered %v, want %s named", tg.create, m, want)
			}
		}
	}

	// The Sentry token: its answer is masked, and a mask is no token.
	tok := e.must(http.StatusOK, "GET", "/api/v1/organizations/1/sentry-token", nil)
	for _, bad := range []string{tok["token"].(string), "sntr…abc", fullMask} {
		m := e.must(http.StatusUnprocessableEntity, "PUT", "/api/v1/organizations/1/sentry-token", map[string]any{"token": bad})
		if !slices.Contains(fieldsOf(m), "token") {
			t.Errorf("a Sentry token %q answered %v", bad, m)
		}
	}

	// A whole document: an upload or a diff carrying a mask is refused,
	// naming the field; so is a kept version holding one (written by an
	// older configurator).
	exported := e.do("GET", "/api/v1/document", nil).Body.String()
	for field, garble := range map[string]func(d *config.Document){
		"robots[0].secret":               func(d *config.Document) { d.Robots[0].Secret = "SECa7…21d" },
		"robots[0].access_token":         func(d *config.Document) { d.Robots[0].AccessToken += "…" },
		"organizations[0].password":      func(d *config.Document) { d.Organizations[0].Password = fullMask },
		"organizations[0].client_secret": func(d *config.Document) { d.Organizations[0].ClientSecret = "c1c2…5d6" },
		"webhook_token":                  func(d *config.Document) { d.WebhookToken = "3f9c0a…" },
	} {
		d, err := config.Parse([]byte(exported), testKinds.Document())
		if err != nil {
			t.Fatal(err)
		}
		garble(d)
		b, _ := config.Marshal(d)
		for _, req := range [][2]string{{"POST", "/api/v1/document/diff"}, {"PUT", "/api/v1/document"}} {
			m := e.must(http.StatusUnprocessableEntity, req[0], req[1], string(b))
			if !slices.Contains(fieldsOf(m), field) {
				t.Errorf("%s %s with a masked %s answered %v", req[0], req[1], field, m)
			}
		}
	}
	docs := docstore.NewDocs(store.NewFile(e.dir), "", testKinds.Document())
	d, tag, err := docs.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	d.Robots[0].Secret = "SECa7…21dSECfff"
	if _, err := docs.Save(t.Context(), d, tag); err != nil {
		t.Fatal(err)
	}
	e.must(http.StatusOK, "PATCH", "/api/v1/robots/1", map[string]any{"secret": secSecret}) // fixed by hand
	vs := e.must(http.StatusOK, "GET", "/api/v1/history", nil)["list"].([]any)
	garbled := vs[0].(map[string]any)["id"].(string)
	if m := e.must(http.StatusUnprocessableEntity, "POST", "/api/v1/history/"+garbled+"/restore", map[string]any{}); !slices.Contains(fieldsOf(m), "robots[0].secret") {
		t.Errorf("restoring a version with a masked secret answered %v", m)
	}

	// Nothing masked was ever stored.
	for _, f := range []string{filepath.Join(e.dir, "api", "v1", "config.json"), filepath.Join(e.cfgDir, "settings.json")} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "…") || strings.Contains(string(b), fullMask) {
			t.Errorf("%s holds a mask: %s", f, b)
		}
	}
	if got := e.secretAt("/api/v1/robots/1", "secret"); got != secSecret {
		t.Errorf("the robot's secret ended as %q", got)
	}
}

// TestSecretsRevealAndClear: the real value of a secret comes only from
// its own endpoint, on request; null and "" clear a secret, an omitted
// member keeps it.
func TestSecretsRevealAndClear(t *testing.T) {
	e := secretEnv(t)
	for path, want := range map[string]map[string]string{
		"/api/v1/robots/1/secrets":        {"access_token": secToken, "secret": secSecret},
		"/api/v1/organizations/1/secrets": {"password": secPassword, "client_secret": secClientSecret},
		"/api/v1/settings/secrets":        {"oss_access_key_secret": secOSSSecret, "relay_admin_key": secAdminKey},
	} {
		m := e.must(http.StatusOK, "GET", path, nil)
		for k, v := range want {
			if m[k] != v {
				t.Errorf("GET %s: %s = %v, want the real value", path, k, m[k])
			}
		}
		if w := e.do("GET", path, nil, "Authorization", ""); w.Code != http.StatusUnauthorized {
			t.Errorf("GET %s without the page token = %d", path, w.Code)
		}
	}
	e.must(http.StatusNotFound, "GET", "/api/v1/robots/9/secrets", nil)
	if w := e.do("GET", "/api/v1/owners/1/secrets", nil); w.Code != http.StatusNotFound {
		t.Errorf("owners have no secrets, yet GET answered %d", w.Code)
	}
	// Lists and reads never carry them.
	for _, path := range []string{"/api/v1/robots", "/api/v1/robots/1", "/api/v1/organizations", "/api/v1/snapshot", "/api/v1/settings"} {
		body := e.do("GET", path, nil).Body.String()
		for _, s := range []string{secToken, secSecret, secPassword, secClientSecret, secOSSSecret, secAdminKey, secSentryToken} {
			if strings.Contains(body, s) {
				t.Errorf("GET %s shows a secret", path)
			}
		}
	}

	e.must(http.StatusOK, "PUT", "/api/v1/robots/1", map[string]any{"name": "研发告警群", "kind": "dingtalk", "keyword": "详情"})
	if e.secretAt("/api/v1/robots/1", "secret") != secSecret {
		t.Error("a PUT without the secret dropped it")
	}
	e.must(http.StatusOK, "PATCH", "/api/v1/robots/1", map[string]any{"secret": nil})
	e.must(http.StatusOK, "PATCH", "/api/v1/organizations/1", map[string]any{"client_secret": ""})
	e.must(http.StatusOK, "PATCH", "/api/v1/settings", map[string]any{"relay_admin_key": nil})
	if s, c, k := e.secretAt("/api/v1/robots/1", "secret"), e.secretAt("/api/v1/organizations/1", "client_secret"), e.secretAt("/api/v1/settings", "relay_admin_key"); s != "" || c != "" || k != "" {
		t.Errorf("after clearing: secret %q, client_secret %q, relay_admin_key %q", s, c, k)
	}
}

// secretAt reads the real value of a secret where it is kept: the
// document, or the settings file; path is its API read path.
func (e *testEnv) secretAt(path, field string) string {
	e.t.Helper()
	kind, id, _ := strings.Cut(strings.TrimPrefix(path, "/api/v1/"), "/")
	var m map[string]any
	if kind == "settings" {
		b, err := os.ReadFile(filepath.Join(e.cfgDir, "settings.json"))
		if err != nil {
			e.t.Fatal(err)
		}
		if err := json.Unmarshal(b, &m); err != nil {
			e.t.Fatal(err)
		}
		v, _ := m[field].(string)
		return v
	}
	b, _ := config.Marshal(e.stored())
	if err := json.Unmarshal(b, &m); err != nil {
		e.t.Fatal(err)
	}
	list, _ := m[kind].([]any)
	for _, x := range list {
		if x := x.(map[string]any); fmt.Sprint(x["id"]) == id {
			v, _ := x[field].(string)
			return v
		}
	}
	e.t.Fatalf("no %s %s stored", kind, id)
	return ""
}
