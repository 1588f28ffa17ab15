package configapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sentry-white/sentry-white/internal/config"
)

// sentryPayload is what a person may pick by mistake on the import page:
// a Sentry webhook body, valid JSON, no configuration.
const sentryPayload = `{"id":"4242","project":"mall-api","project_name":"商城后台","culprit":"app.views","level":"error",
"url":"https://sentry.io/organizations/acme/issues/4242/","message":"TypeError","event":{"title":"TypeError"}}`

func fullDoc(token string) map[string]any {
	return map[string]any{"schema": 1, "webhook_token": token,
		"organizations": []any{},
		"owners":        []any{map[string]any{"id": 1, "name": "张三", "mobile": "13800138000"}, map[string]any{"id": 2, "name": "李四", "mobile": "13900139000"}},
		"robots":        []any{map[string]any{"id": 1, "name": "研发告警群", "access_token": "tok0123456789", "keyword": "详情"}},
		"projects":      []any{map[string]any{"id": 1, "name": "商城后台", "slug": "mall-api", "owner_ids": []int{1, 2}, "robot_ids": []int{1}}}}
}

func TestImportAcceptsOnlyAConfigurationDocument(t *testing.T) {
	e := newEnv(t)
	e.must(http.StatusOK, "PUT", "/api/v1/document", fullDoc("token-in-sentry-0123"))
	for name, body := range map[string]string{
		"sentry payload":   sentryPayload,
		"schema only":      `{"schema": 1, "webhook_token": "x"}`,
		"a list missing":   `{"schema": 1, "organizations": [], "owners": [], "robots": []}`,
		"a list an object": `{"schema": 1, "organizations": [], "owners": [], "robots": [], "projects": {}}`,
	} {
		for _, path := range []string{"/api/v1/document/diff", "/api/v1/document"} {
			method := "PUT"
			if path == "/api/v1/document/diff" {
				method = "POST"
			}
			m := e.must(http.StatusUnprocessableEntity, method, path, body)
			if m["code"] != "not_document" || m["field"] != "document" {
				t.Errorf("%s: %s %s answered %v", name, method, path, m)
			}
		}
	}
	if d := e.stored(); d.WebhookToken != "token-in-sentry-0123" || len(d.Owners) != 2 || len(d.Projects) != 1 {
		t.Errorf("a refused import changed the document: %+v", d)
	}
	// A schema other than 1 is refused by validation, with its code.
	doc := fullDoc("x-0123")
	doc["schema"] = 2
	if m := e.must(http.StatusUnprocessableEntity, "PUT", "/api/v1/document", doc); m["field"] != "schema" {
		t.Errorf("schema 2: %v", m)
	} else if f := m["fields"].([]any)[0].(map[string]any); f["code"] != "schema" {
		t.Errorf("schema 2 field error: %v", f)
	}
}

func TestNeverWritesAnEmptyWebhookToken(t *testing.T) {
	e := newEnv(t)
	// A first import without a token gets a new one.
	m := e.must(http.StatusOK, "PUT", "/api/v1/document", fullDoc(""))
	first := e.stored().WebhookToken
	if first == "" || m["webhook_token"] != "new" {
		t.Fatalf("a first import without a token stored %q (%v)", first, m)
	}
	// Importing a file without a token keeps the token Sentry has.
	m = e.must(http.StatusOK, "POST", "/api/v1/document/diff", fullDoc(""))
	if m["webhook_token"] != "kept" || m["identical"] != true {
		t.Errorf("the diff of an upload without a token: %v", m)
	}
	e.must(http.StatusOK, "PUT", "/api/v1/document", fullDoc(""))
	if got := e.stored().WebhookToken; got != first {
		t.Errorf("an import without a token changed it from %q to %q", first, got)
	}
	// A document stored without a token (another program, an older
	// version) gets one with the next edit.
	raw, _ := config.Marshal(&config.Document{Schema: 1, Organizations: []config.Organization{}, Owners: []config.Owner{},
		Robots: []config.Robot{}, Projects: []config.Project{}})
	if err := os.WriteFile(filepath.Join(e.dir, "api", "v1", "config.json"), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	e.must(http.StatusCreated, "POST", "/api/v1/owners", map[string]any{"name": "王五", "mobile": "13700137000"})
	if e.stored().WebhookToken == "" {
		t.Error("an edit wrote the document without a webhook token")
	}
	// Restoring the version kept without a token keeps the current token.
	cur := e.stored().WebhookToken
	docs := e.s.active.docs
	vs, err := docs.History(context.Background())
	if err != nil || len(vs) == 0 {
		t.Fatalf("history: %v %v", vs, err)
	}
	for _, v := range vs {
		data, _ := docs.ReadVersion(context.Background(), v.ID)
		if d, err := config.Parse(data, testKinds.Document()); err == nil && d.WebhookToken == "" {
			e.must(http.StatusOK, "POST", "/api/v1/history/"+v.ID+"/restore", map[string]any{})
			if got := e.stored().WebhookToken; got != cur {
				t.Errorf("restoring a version without a token stored %q, want %q", got, cur)
			}
			return
		}
	}
	t.Error("no kept version without a token to restore")
}

func TestImportDiffDangers(t *testing.T) {
	e := newEnv(t)
	e.must(http.StatusOK, "PUT", "/api/v1/document", fullDoc("token-in-sentry-0123"))
	codes := func(m map[string]any) []string {
		var out []string
		for _, d := range m["dangers"].([]any) {
			out = append(out, d.(map[string]any)["code"].(string))
		}
		return out
	}
	if m := e.must(http.StatusOK, "POST", "/api/v1/document/diff", fullDoc("token-in-sentry-0123")); len(codes(m)) != 0 {
		t.Errorf("an identical upload has dangers %v", codes(m))
	}
	if got := codes(e.must(http.StatusOK, "POST", "/api/v1/document/diff", fullDoc("another-token-456"))); len(got) != 1 || got[0] != "token_changed" {
		t.Errorf("a new token: dangers %v", got)
	}
	// 4 entities; removing 3 of them is more than half.
	small := fullDoc("token-in-sentry-0123")
	small["owners"] = []any{map[string]any{"id": 1, "name": "张三", "mobile": "13800138000"}}
	small["robots"], small["projects"] = []any{}, []any{}
	m := e.must(http.StatusOK, "POST", "/api/v1/document/diff", small)
	if got := codes(m); len(got) != 1 || got[0] != "removes_most" {
		t.Errorf("removing 3 of 4: dangers %v", got)
	}
	if p := m["dangers"].([]any)[0].(map[string]any)["params"].(map[string]any); p["removed"] != float64(3) || p["total"] != float64(4) {
		t.Errorf("removes_most params %v", p)
	}
	// Removing half is not more than half.
	half := fullDoc("token-in-sentry-0123")
	half["robots"], half["projects"] = []any{}, []any{}
	if got := codes(e.must(http.StatusOK, "POST", "/api/v1/document/diff", half)); len(got) != 0 {
		t.Errorf("removing 2 of 4: dangers %v", got)
	}
}

// TestNormalizeMobileAsTyped: a mobile as people type it is stored
// normalized (config.TestNormalizeMobile has the forms).
func TestNormalizeMobileAsTyped(t *testing.T) {
	// Through the API, the stored mobile is the normalized one.
	e := newEnv(t)
	e.must(http.StatusCreated, "POST", "/api/v1/owners", map[string]any{"name": "张三", "mobile": "＋８６ １３８－００１３－８０００"})
	if m := e.stored().Owners[0].Mobile; m != "13800138000" {
		t.Errorf("stored mobile %q", m)
	}
}

// TestRiskyChangesAreDangers: clearing or replacing a secret, changing the
// webhook token and taking a robot off a project are dangers of an import,
// of a restore and of moving in from the original, each with the entry,
// the field and its value before and after, masked.
func TestRiskyChangesAreDangers(t *testing.T) {
	const (
		secret       = "SECa7f09b5ea245debd13fb7fe1993897008f6b44ddf80310d14f3de4d3f407221d"
		clientSecret = "c1c2c3c4c5c6c7c8c9d0d1d2d3d4d5d6"
		newClient    = "f0e1d2c3b4a5968778695a4b3c2d1e0f"
	)
	e := newEnv(t)
	doc := func(token, pw, cs, sec string, p1Robots []int, withP2 bool) map[string]any {
		projects := []any{map[string]any{"id": 1, "name": "商城后台", "slug": "mall-api", "owner_ids": []int{1}, "robot_ids": p1Robots}}
		if withP2 {
			projects = append(projects, map[string]any{"id": 2, "name": "CRM", "slug": "crm", "owner_ids": []int{1}, "robot_ids": []int{1}})
		}
		return map[string]any{"schema": 1, "webhook_token": token,
			"organizations": []any{map[string]any{"id": 1, "name": "acme", "password": pw, "client_secret": cs}},
			"owners":        []any{map[string]any{"id": 1, "name": "张三", "mobile": "13800138000"}},
			"robots": []any{map[string]any{"id": 1, "name": "研发告警群", "access_token": "tok0123456789", "secret": sec, "keyword": "详情"},
				map[string]any{"id": 2, "name": "运维群", "access_token": "tok9876543210", "keyword": "详情"}},
			"projects": projects}
	}
	before := doc("token-in-sentry-0123", "s3cret-pass", clientSecret, secret, []int{1, 2}, true)
	e.must(http.StatusOK, "PUT", "/api/v1/document", before)
	after := doc("another-token-4567", "", newClient, "", []int{2}, false)
	m := e.must(http.StatusOK, "POST", "/api/v1/document/diff", after)
	type want struct{ code, list, field, before, after string }
	wants := []want{
		{"token_changed", "document", "webhook_token", "toke…123", "anot…567"},
		{"secret_cleared", "organizations", "password", fullMask, ""},
		{"secret_changed", "organizations", "client_secret", "c1c2…5d6", "f0e1…e0f"},
		{"secret_cleared", "robots", "secret", "SECa7…21d", ""},
		{"robot_unlinked", "projects", "robot_ids", "研发告警群, 运维群", "运维群"},
	}
	check := func(what string, m map[string]any) {
		t.Helper()
		var got []want
		ds, _ := m["dangers"].([]any)
		for _, d := range ds {
			d := d.(map[string]any)
			p, _ := d["params"].(map[string]any)
			s := func(k string) string { v, _ := p[k].(string); return v }
			got = append(got, want{d["code"].(string), s("list"), s("field"), s("before"), s("after")})
		}
		for _, w := range wants {
			if !slices.Contains(got, w) {
				t.Errorf("%s: no danger %+v in %+v", what, w, got)
			}
		}
		if len(got) != len(wants) {
			t.Errorf("%s: dangers %+v, want %d", what, got, len(wants))
		}
		b, _ := json.Marshal(m)
		for _, s := range []string{secret, clientSecret, newClient, "s3cret-pass", "token-in-sentry-0123", "another-token-4567"} {
			if strings.Contains(string(b), s) {
				t.Errorf("%s shows the secret %s", what, s)
			}
		}
	}
	check("the import diff", m)

	// The same changes by restoring: import them, restore the version
	// before, then look at restoring the import again.
	e.must(http.StatusOK, "PUT", "/api/v1/document", after)
	vs := e.must(http.StatusOK, "GET", "/api/v1/history", nil)["list"].([]any)
	e.must(http.StatusOK, "POST", "/api/v1/history/"+vs[0].(map[string]any)["id"].(string)+"/restore", map[string]any{})
	vs = e.must(http.StatusOK, "GET", "/api/v1/history", nil)["list"].([]any)
	check("the restore diff", e.must(http.StatusOK, "GET", "/api/v1/history/"+vs[0].(map[string]any)["id"].(string), nil))
	if m := e.must(http.StatusOK, "GET", "/api/v1/history/"+vs[1].(map[string]any)["id"].(string), nil); m["dangers"] == nil || len(m["dangers"].([]any)) != 0 {
		t.Errorf("restoring what is current has dangers %v", m["dangers"])
	}
}

// TestMovingInOverSecretsIsRisky: the original sentry-white's robots have
// no signing secret, so moving in over a configuration whose robot signs
// clears it: a danger of the preview.
func TestMovingInOverSecretsIsRisky(t *testing.T) {
	e := originalEnv(t)
	m := e.must(http.StatusOK, "GET", "/api/v1/original", nil)
	if ds, ok := m["dangers"].([]any); !ok || len(ds) != 0 {
		t.Errorf("moving into an empty store has dangers %v", m["dangers"])
	}
	e.must(http.StatusOK, "POST", "/api/v1/original/import", map[string]any{"digest": m["digest"]})
	robot := e.stored().Robots[0]
	e.must(http.StatusOK, "PATCH", fmt.Sprintf("/api/v1/robots/%d", robot.ID), map[string]any{"secret": "SECa7f09b5ea245debd13fb7fe1993897008f6b44ddf80310d14f3de4d3f407221d"})
	m = e.must(http.StatusOK, "GET", "/api/v1/original", nil)
	ds, _ := m["dangers"].([]any)
	if len(ds) != 1 {
		t.Fatalf("moving in over a signing robot: dangers %v", ds)
	}
	d := ds[0].(map[string]any)
	if p := d["params"].(map[string]any); d["code"] != "secret_cleared" || p["list"] != "robots" || p["field"] != "secret" || p["before"] != "SECa7…21d" {
		t.Errorf("the danger reads %v", d)
	}
}
