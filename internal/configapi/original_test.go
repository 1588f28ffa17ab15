package configapi

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/original"
	"github.com/sentry-white/sentry-white/internal/original/originaltest"
	"github.com/sentry-white/sentry-white/internal/store/osstest"
)

// originalEnv is a configurator on a folder store holding the fixture of
// the original sentry-white.
func originalEnv(t *testing.T) *testEnv {
	t.Helper()
	e := newEnv(t)
	e.dir = originaltest.Folder(t)
	e.s = e.server("file:" + e.dir)
	return e
}

func codesOf(m map[string]any) []string {
	var out []string
	rep, _ := m["report"].(map[string]any)
	list, _ := rep["problems"].([]any)
	for _, p := range list {
		p := p.(map[string]any)
		out = append(out, p["code"].(string))
	}
	return out
}

func TestOriginalPreviewAndImport(t *testing.T) {
	e := originalEnv(t)
	m := e.must(http.StatusOK, "GET", "/api/v1/original?detect=1", nil)
	if m["detected"] != true || len(m["lists"].([]any)) != 4 {
		t.Fatalf("detect: %v", m)
	}

	m = e.must(http.StatusOK, "GET", "/api/v1/original", nil)
	if m["detected"] != true || m["document_exists"] != false || m["etag"] != `"new"` || m["digest"] == "" {
		t.Fatalf("preview: %v", m)
	}
	c := m["counts"].(map[string]any)
	if c["organizations"] != 1.0 || c["owners"] != 3.0 || c["robots"] != 2.0 || c["projects"] != 3.0 {
		t.Errorf("counts %v", c)
	}
	var added []string
	for _, ch := range m["changes"].([]any) {
		ch := ch.(map[string]any)
		if ch["op"] == "added" {
			added = append(added, ch["kind"].(string)+":"+ch["name"].(string))
		}
	}
	for _, want := range []string{"organizations:公司主账号", "owners:张三", "robots:研发群", "projects:商城后台", "projects:CRM 前台"} {
		if !slices.Contains(added, want) {
			t.Errorf("the preview does not add %s: %v", want, added)
		}
	}
	codes := codesOf(m)
	for _, want := range []string{original.CodeDeleted, original.CodeDangling, original.CodeListFromRecords, original.CodeNoRobot} {
		if !slices.Contains(codes, want) {
			t.Errorf("the preview's report lacks %s: %v", want, codes)
		}
	}
	if strings.Contains(e.do("GET", "/api/v1/original", nil).Body.String(), originaltest.TokenDev) {
		t.Error("the preview shows a robot's token")
	}
	if _, err := os.Stat(filepath.Join(e.dir, "api", "v1", "config.json")); !os.IsNotExist(err) {
		t.Fatal("the preview wrote the document")
	}
	before, _ := os.ReadFile(filepath.Join(e.dir, "api", "v1", "projects"))

	// A preview of other data is refused.
	e.must(http.StatusConflict, "POST", "/api/v1/original/import", map[string]any{"digest": "0000"}, "If-Match", `"new"`)

	res := e.must(http.StatusOK, "POST", "/api/v1/original/import", map[string]any{"digest": m["digest"]}, "If-Match", `"new"`)
	if res["written"] != true || res["replaced"] != false {
		t.Fatalf("import: %v", res)
	}
	d := e.stored()
	if len(d.Organizations) != 1 || len(d.Owners) != 3 || len(d.Robots) != 2 || len(d.Projects) != 3 {
		t.Fatalf("stored %+v", d)
	}
	if d.WebhookToken == "" || res["webhook"].(map[string]any)["token"] != d.WebhookToken.Reveal() {
		t.Errorf("webhook token %q, answer %v", d.WebhookToken, res["webhook"])
	}
	after, _ := os.ReadFile(filepath.Join(e.dir, "api", "v1", "projects"))
	if string(before) != string(after) {
		t.Error("the original's projects list changed")
	}
	// The page lists the new entries.
	snap := e.must(http.StatusOK, "GET", "/api/v1/snapshot", nil)
	if len(snap["projects"].([]any)) != 3 {
		t.Errorf("snapshot %v", snap["projects"])
	}

	// Done once: the same again changes nothing.
	m = e.must(http.StatusOK, "GET", "/api/v1/original", nil)
	if m["identical"] != true || len(m["changes"].([]any)) != 0 {
		t.Errorf("after the import the preview reads %v", m["changes"])
	}
	res = e.must(http.StatusOK, "POST", "/api/v1/original/import", map[string]any{})
	if res["written"] != false || res["identical"] != true {
		t.Errorf("a second import: %v", res)
	}
	if vs := e.must(http.StatusOK, "GET", "/api/v1/history", nil)["list"].([]any); len(vs) != 0 {
		t.Errorf("the second import wrote a version: %v", vs)
	}

	// Edited since: the page's preview is stale, and a replace keeps the token.
	tok := d.WebhookToken
	m = e.must(http.StatusOK, "GET", "/api/v1/original", nil)
	e.must(http.StatusCreated, "POST", "/api/v1/owners", map[string]any{"name": "新人", "mobile": "13500135000"})
	w := e.do("POST", "/api/v1/original/import", map[string]any{"digest": m["digest"]}, "If-Match", m["etag"].(string))
	if w.Code != http.StatusConflict || !strings.Contains(w.Body.String(), `"stale"`) {
		t.Fatalf("a stale import: %d %s", w.Code, w.Body)
	}
	m = e.must(http.StatusOK, "GET", "/api/v1/original", nil)
	res = e.must(http.StatusOK, "POST", "/api/v1/original/import", map[string]any{"digest": m["digest"]}, "If-Match", m["etag"].(string))
	if res["replaced"] != true {
		t.Errorf("replace: %v", res)
	}
	if d := e.stored(); d.WebhookToken != tok || len(d.Owners) != 3 {
		t.Errorf("after the replace: token kept %v, owners %+v", d.WebhookToken == tok, d.Owners)
	}
	if vs := e.must(http.StatusOK, "GET", "/api/v1/history", nil)["list"].([]any); len(vs) != 2 {
		t.Errorf("%d versions kept, want 2 (the import, the edit)", len(vs))
	}
}

func TestImportOriginalLeavesADocumentWithEntries(t *testing.T) {
	e := originalEnv(t)
	e.must(http.StatusCreated, "POST", "/api/v1/owners", map[string]any{"name": "已有", "mobile": "13500135000"})
	_, err := e.s.ImportOriginal(context.Background(), ImportOriginalOptions{})
	var ae *apiError
	if !errors.As(err, &ae) || ae.Code != "document_exists" || !strings.Contains(ae.Msg, "-replace") {
		t.Fatalf("import over a document: %v", err)
	}
	if d := e.stored(); len(d.Owners) != 1 {
		t.Fatalf("the document changed: %+v", d.Owners)
	}
	res, err := e.s.ImportOriginal(context.Background(), ImportOriginalOptions{Replace: true, DryRun: true})
	if err != nil || res.Written || !res.Replaced {
		t.Fatalf("dry run: %+v %v", res, err)
	}
	if d := e.stored(); len(d.Owners) != 1 {
		t.Fatal("the dry run wrote")
	}
	res, err = e.s.ImportOriginal(context.Background(), ImportOriginalOptions{Replace: true})
	if err != nil || !res.Written || !res.Replaced || len(e.stored().Owners) != 3 {
		t.Fatalf("replace: %+v %v", res, err)
	}
}

func TestImportOriginalKeepsTheTokenOfAnEmptyDocument(t *testing.T) {
	e := originalEnv(t)
	e.must(http.StatusOK, "PUT", "/api/v1/document", map[string]any{"schema": 1, "webhook_token": "already-in-sentry-0123",
		"organizations": []any{}, "owners": []any{}, "robots": []any{}, "projects": []any{}})
	res, err := e.s.ImportOriginal(context.Background(), ImportOriginalOptions{})
	if err != nil || !res.Written || res.Replaced {
		t.Fatalf("%+v %v", res, err)
	}
	if d := e.stored(); d.WebhookToken != "already-in-sentry-0123" || len(d.Projects) != 3 {
		t.Errorf("token %q, %d projects", d.WebhookToken, len(d.Projects))
	}
}

func TestOriginalNotThere(t *testing.T) {
	e := newEnv(t)
	if m := e.must(http.StatusOK, "GET", "/api/v1/original?detect=1", nil); m["detected"] != false {
		t.Errorf("detect on an empty store: %v", m)
	}
	m := e.must(http.StatusOK, "GET", "/api/v1/original", nil)
	if m["detected"] != false || !strings.Contains(m["message"].(string), "api/v1/originals") {
		t.Errorf("preview on an empty store: %v", m)
	}
	m = e.must(http.StatusNotFound, "POST", "/api/v1/original/import", map[string]any{})
	if m["code"] != "no_original" {
		t.Errorf("import on an empty store: %v", m)
	}
	// Requests need the token like every other.
	if w := e.do("GET", "/api/v1/original", nil, "Authorization", ""); w.Code != http.StatusUnauthorized {
		t.Errorf("without token: %d", w.Code)
	}
}

func TestOriginalOnOSS(t *testing.T) {
	e := newEnv(t)
	srv := osstest.New("sw-original")
	t.Cleanup(srv.Close)
	originaltest.SeedOSS(t, srv, "sw-original", "api/")
	e.env["OSS_ENDPOINT"], e.env["OSS_REGION"] = srv.URL, "cn-hangzhou"
	e.env["ALIBABA_CLOUD_ACCESS_KEY_ID"] = "LTAItest"
	e.env["ALIBABA_CLOUD_ACCESS_KEY_SECRET"] = "oss-secret-0123456789"
	e.s = e.server("oss://sw-original/api/")

	m := e.must(http.StatusOK, "GET", "/api/v1/original", nil)
	if codes := codesOf(m); !slices.Contains(codes, original.CodeDisagrees) || !slices.Contains(codes, original.CodeNotInList) {
		t.Errorf("the bucket's per-record objects are not reported: %v", codes)
	}
	e.must(http.StatusOK, "POST", "/api/v1/original/import", map[string]any{"digest": m["digest"]}, "If-Match", m["etag"].(string))
	raw, ok := srv.Object("sw-original", "api/v1/config.json")
	if !ok {
		t.Fatal("no api/v1/config.json in the bucket")
	}
	d, err := config.Parse(raw, testKinds.Document())
	if err != nil || len(d.Projects) != 3 || d.Projects[0].Name != "商城后台" {
		t.Fatalf("the bucket's document: %v %+v", err, d)
	}
	if got, _ := srv.Object("sw-original", "api/v1/projects/3"); !strings.Contains(string(got), "商城后台（旧名）") {
		t.Error("the original's per-record object changed")
	}

	// The bucket refuses the keys: said in words, nothing is detected.
	srv.Fail(osstest.Fault{Status: 403, Code: "InvalidAccessKeyId"})
	w := e.do("GET", "/api/v1/original", nil)
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), "credentials") || strings.Contains(w.Body.String(), "oss-secret") {
		t.Errorf("refused keys: %d %s", w.Code, w.Body)
	}
	srv.Fail(osstest.Fault{})
}
