package configapi

import (
	"bytes"
	"encoding/json"
	"github.com/sentry-white/sentry-white/internal/notifiers"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/docstore"
	"github.com/sentry-white/sentry-white/internal/robottest"
	"github.com/sentry-white/sentry-white/internal/store"
	"github.com/sentry-white/sentry-white/internal/store/osstest"
)

const (
	testAddr  = "127.0.0.1:7788"
	testToken = "0123456789abcdef0123456789abcdef"
)

// testEnv is a configurator API over a temporary folder store, with a
// DingTalk stand-in as the robots' API.
type testEnv struct {
	t      *testing.T
	s      *Server
	dir    string // the folder store
	cfgDir string // the settings folder
	ding   *robottest.DingTalk
	env    map[string]string
}

// testKinds are the robot kinds of the tests, the programs' own.
var testKinds = notifiers.Default()

func newEnv(t *testing.T, robots ...robottest.DingTalkRobot) *testEnv {
	t.Helper()
	e := &testEnv{t: t, dir: t.TempDir(), cfgDir: t.TempDir(), ding: robottest.NewDingTalk(robots...)}
	t.Cleanup(e.ding.Close)
	e.env = map[string]string{"SENTRY_WHITE_DINGTALK_API": e.ding.URL(), "SENTRY_WHITE_CONFIG_DIR": e.cfgDir}
	e.s = e.server("file:" + e.dir)
	return e
}

func (e *testEnv) server(storeLoc string) *Server {
	e.t.Helper()
	s, err := New(Options{Kinds: testKinds, Addr: testAddr, Token: testToken, Store: storeLoc, Getenv: func(k string) string { return e.env[k] }})
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// do sends a request with the token, the right Host and, for a body, the
// JSON content type; hdr adds or overrides headers in pairs.
func (e *testEnv) do(method, path string, body any, hdr ...string) *httptest.ResponseRecorder {
	e.t.Helper()
	var rd *bytes.Reader
	switch b := body.(type) {
	case nil:
		rd = bytes.NewReader(nil)
	case string:
		rd = bytes.NewReader([]byte(b))
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, rd)
	req.Host = testAddr
	req.Header.Set("Authorization", "Bearer "+testToken)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	if hdr := req.Header.Get("Host"); hdr != "" {
		req.Host = hdr
	}
	w := httptest.NewRecorder()
	e.s.ServeHTTP(w, req)
	checkCodes(e.t, path, w)
	return w
}

// must sends a request and fails the test unless it answers want.
func (e *testEnv) must(want int, method, path string, body any, hdr ...string) map[string]any {
	e.t.Helper()
	w := e.do(method, path, body, hdr...)
	if w.Code != want {
		e.t.Fatalf("%s %s = %d, want %d: %s", method, path, w.Code, want, w.Body)
	}
	return decode(e.t, w)
}

func decode(t *testing.T, w *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
		var list []any
		if json.Unmarshal(w.Body.Bytes(), &list) == nil {
			return map[string]any{"list": list}
		}
		t.Fatalf("answer is not JSON: %v: %s", err, w.Body)
	}
	return m
}

// stored reads the document from the folder store, real secrets included.
func (e *testEnv) stored() *config.Document {
	e.t.Helper()
	d, _, err := docstore.NewDocs(store.NewFile(e.dir), "", testKinds.Document()).Load(e.t.Context())
	if err != nil {
		e.t.Fatal(err)
	}
	return d
}

// fieldsOf lists the field paths an error answer names.
func fieldsOf(m map[string]any) []string {
	var out []string
	list, _ := m["fields"].([]any)
	for _, f := range list {
		out = append(out, f.(map[string]any)["field"].(string))
	}
	return out
}

func TestNewRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:7788", "192.168.1.2:80", "example.com:80", "nonsense"} {
		if _, err := New(Options{Kinds: testKinds, Addr: addr, Token: "x", ConfigDir: t.TempDir()}); err == nil {
			t.Errorf("New(%q) accepted a non-loopback address", addr)
		}
	}
	if _, err := New(Options{Addr: testAddr, Token: "x", ConfigDir: t.TempDir()}); err == nil {
		t.Error("New without robot kinds accepted")
	}
	if _, err := New(Options{Kinds: testKinds, Addr: testAddr, ConfigDir: t.TempDir()}); err == nil {
		t.Error("New without a token accepted")
	}
}

func TestAuthHostAndContentType(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name   string
		method string
		body   any
		hdr    []string
		want   int
	}{
		{"no token", "GET", nil, []string{"Authorization", ""}, http.StatusUnauthorized},
		{"wrong token", "GET", nil, []string{"Authorization", "Bearer nope"}, http.StatusUnauthorized},
		{"token in the wrong scheme", "GET", nil, []string{"Authorization", "Basic " + testToken}, http.StatusUnauthorized},
		{"foreign host", "GET", nil, []string{"Host", "evil.example:7788"}, http.StatusForbidden},
		{"loopback on another port", "GET", nil, []string{"Host", "127.0.0.1:9999"}, http.StatusForbidden},
		{"rebinding with the right port", "GET", nil, []string{"Host", "attacker.test:7788"}, http.StatusForbidden},
		{"foreign origin", "GET", nil, []string{"Origin", "https://evil.example"}, http.StatusForbidden},
		{"localhost", "GET", nil, []string{"Host", "localhost:7788"}, http.StatusOK},
		{"ipv6 loopback", "GET", nil, []string{"Host", "[::1]:7788"}, http.StatusOK},
		{"own origin", "GET", nil, []string{"Origin", "http://127.0.0.1:7788"}, http.StatusOK},
		{"form post", "POST", `{"name":"a","mobile":"13800138000"}`, []string{"Content-Type", "application/x-www-form-urlencoded"}, http.StatusUnsupportedMediaType},
		{"text post", "POST", `{"name":"a","mobile":"13800138000"}`, []string{"Content-Type", "text/plain"}, http.StatusUnsupportedMediaType},
		{"no content type", "POST", `{"name":"a","mobile":"13800138000"}`, []string{"Content-Type", ""}, http.StatusUnsupportedMediaType},
		{"json with charset", "POST", `{"name":"a","mobile":"13800138000"}`, []string{"Content-Type", "application/json; charset=utf-8"}, http.StatusCreated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := e.do(tt.method, "/api/v1/owners", tt.body, tt.hdr...)
			if w.Code != tt.want {
				t.Fatalf("got %d, want %d: %s", w.Code, tt.want, w.Body)
			}
			if w.Code >= 400 {
				if msg, _ := decode(t, w)["error"].(string); msg == "" {
					t.Errorf("error answer without words: %s", w.Body)
				}
			}
		})
	}
	// Every endpoint is behind the token, not only the entity lists.
	for _, p := range []string{"/api/v1/settings", "/api/v1/document", "/api/v1/history", "/api/v1/webhook", "/api/v1/snapshot", "/api/v1/nothing"} {
		if w := e.do("GET", p, nil, "Authorization", ""); w.Code != http.StatusUnauthorized {
			t.Errorf("GET %s without token = %d, want 401", p, w.Code)
		}
	}
}

// TestOwnerIDMembers: an owner's ids are kept in the members their kinds
// name, trimmed; an empty one goes, except the one earlier versions always
// wrote; an id member of a kind this version does not know is kept.
func TestOwnerIDMembers(t *testing.T) {
	e := newEnv(t)
	o := e.must(http.StatusCreated, "POST", "/api/v1/owners", map[string]any{"name": "张三", "mobile": "13800138000",
		"wecom_user_id": " zhangsan ", "feishu_open_id": "", "future_user_id": "zs"})
	if o["dingtalk_user_id"] != "" || o["wecom_user_id"] != "zhangsan" || o["future_user_id"] != "zs" {
		t.Errorf("created %v", o)
	}
	if _, ok := o["feishu_open_id"]; ok {
		t.Errorf("an empty id kept: %v", o)
	}
	docs := docstore.NewDocs(store.NewFile(e.dir), "", testKinds.Document())
	obj, err := docs.B.Get(t.Context(), docs.Key(), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"dingtalk_user_id": ""`, `"wecom_user_id": "zhangsan"`, `"future_user_id": "zs"`} {
		if !strings.Contains(string(obj.Data), want) {
			t.Errorf("stored document lacks %s:\n%s", want, obj.Data)
		}
	}
	if d := e.stored(); d.Owners[0].UserID("wecom") != "zhangsan" {
		t.Errorf("stored owner's ids %v", d.Owners[0].UserIDs())
	}
	p := e.must(http.StatusOK, "PATCH", "/api/v1/owners/1", map[string]any{"wecom_user_id": " "})
	if _, ok := p["wecom_user_id"]; ok || p["dingtalk_user_id"] != "" || p["future_user_id"] != "zs" {
		t.Errorf("patched %v", p)
	}
}

func TestCRUD(t *testing.T) {
	e := newEnv(t)
	a := e.must(http.StatusCreated, "POST", "/api/v1/owners", map[string]any{"name": " 张三 ", "mobile": "+86 138-0013-8000", "id": 42})
	if a["id"] != float64(1) || a["name"] != "张三" || a["mobile"] != "13800138000" {
		t.Errorf("created %v, want id 1 (not the id sent), trimmed name, normalized mobile", a)
	}
	b := e.must(http.StatusCreated, "POST", "/api/v1/owners", map[string]any{"name": "李四", "mobile": "13900139000", "team": "backend"})
	if b["id"] != float64(2) || b["team"] != "backend" {
		t.Errorf("second owner %v, want id 2 keeping the unknown member", b)
	}
	list := e.must(http.StatusOK, "GET", "/api/v1/owners", nil)["list"].([]any)
	if len(list) != 2 {
		t.Fatalf("list = %v", list)
	}
	got := e.must(http.StatusOK, "GET", "/api/v1/owners/2", nil)
	if got["name"] != "李四" {
		t.Errorf("read = %v", got)
	}
	// PUT replaces; the unknown member stays.
	up := e.must(http.StatusOK, "PUT", "/api/v1/owners/2", map[string]any{"name": "李四四", "mobile": "13900139001"})
	if up["name"] != "李四四" || up["team"] != "backend" || up["id"] != float64(2) {
		t.Errorf("updated = %v", up)
	}
	// PATCH changes only what it names.
	p := e.must(http.StatusOK, "PATCH", "/api/v1/owners/2", map[string]any{"dingtalk_user_id": "lisi01"})
	if p["name"] != "李四四" || p["dingtalk_user_id"] != "lisi01" {
		t.Errorf("patched = %v", p)
	}
	e.must(http.StatusOK, "DELETE", "/api/v1/owners/2", nil)
	e.must(http.StatusNotFound, "GET", "/api/v1/owners/2", nil)
	e.must(http.StatusNotFound, "PUT", "/api/v1/owners/2", map[string]any{"name": "x", "mobile": "13800138001"})
	e.must(http.StatusNotFound, "DELETE", "/api/v1/owners/2", nil)
	if f := fieldsOf(e.must(http.StatusBadRequest, "GET", "/api/v1/owners/abc", nil)); !slices.Contains(f, "id") {
		t.Errorf("bad id names %v, want id", f)
	}
	// ids: max existing + 1.
	c := e.must(http.StatusCreated, "POST", "/api/v1/owners", map[string]any{"name": "王五", "mobile": "13700137000"})
	if c["id"] != float64(2) {
		t.Errorf("id after delete = %v, want 2", c["id"])
	}
	// The other lists work the same way.
	org := e.must(http.StatusCreated, "POST", "/api/v1/organizations", map[string]any{"name": "公司主账号", "sentry_url": "sentry.io/", "slug": "acme"})
	if org["sentry_url"] != "https://sentry.io" {
		t.Errorf("sentry_url = %v, want https://sentry.io", org["sentry_url"])
	}
	e.must(http.StatusCreated, "POST", "/api/v1/robots", map[string]any{"name": "研发告警群", "access_token": "abc123"})
	proj := e.must(http.StatusCreated, "POST", "/api/v1/projects", map[string]any{
		"name": "商城后台", "slug": "mall-api", "organization_id": 1, "owner_ids": []int{1}, "robot_ids": []int{1},
		"environments": []string{" production ", "", "production"}, "min_level": "Warning"})
	if envs := proj["environments"].([]any); len(envs) != 1 || envs[0] != "production" || proj["min_level"] != "warning" {
		t.Errorf("project filters not tidied: %v", proj)
	}
	d := e.stored()
	if len(d.Projects) != 1 || d.WebhookToken == "" {
		t.Errorf("stored %+v; a new document gets a webhook token", d)
	}
}

func TestValidationNamesTheField(t *testing.T) {
	e := newEnv(t)
	e.must(http.StatusCreated, "POST", "/api/v1/owners", map[string]any{"name": "张三", "mobile": "13800138000"})
	e.must(http.StatusCreated, "POST", "/api/v1/robots", map[string]any{"name": "研发群", "access_token": "tok1"})
	e.must(http.StatusCreated, "POST", "/api/v1/projects", map[string]any{"name": "商城", "slug": "mall-api", "owner_ids": []int{1}, "robot_ids": []int{1}})
	tests := []struct {
		name   string
		method string
		path   string
		body   any
		status int
		field  string
		words  string
	}{
		{"bad mobile", "POST", "/api/v1/owners", map[string]any{"name": "李四", "mobile": "12345"}, 422, "owners[1].mobile", "not a mobile number"},
		{"duplicate mobile", "POST", "/api/v1/owners", map[string]any{"name": "李四", "mobile": "13800138000"}, 422, "owners[1].mobile", `owner "张三"`},
		{"owner name missing", "POST", "/api/v1/owners", map[string]any{"mobile": "13900139000"}, 422, "owners[1].name", "required"},
		{"bad slug", "POST", "/api/v1/projects", map[string]any{"name": "x", "slug": "商城"}, 422, "projects[1].slug", "slug"},
		{"duplicate slug", "POST", "/api/v1/projects", map[string]any{"name": "x", "slug": "MALL-API"}, 422, "projects[1].slug", `project "商城"`},
		{"duplicate slug by edit", "PUT", "/api/v1/projects/1", map[string]any{"name": "商城", "slug": "mall-api"}, 200, "", ""},
		{"missing owner", "POST", "/api/v1/projects", map[string]any{"name": "x", "slug": "x", "owner_ids": []int{9}}, 422, "projects[1].owner_ids", "owner 9 does not exist"},
		{"wrong type", "POST", "/api/v1/projects", map[string]any{"name": "x", "slug": "x", "owner_ids": "1"}, 400, "projects[1].owner_ids", "owner_ids"},
		{"bad level", "PATCH", "/api/v1/projects/1", map[string]any{"min_level": "loud"}, 422, "projects[0].min_level", "not a level"},
		{"bad environment type", "PATCH", "/api/v1/projects/1", map[string]any{"environments": "prod"}, 400, "projects[0].environments", "environments"},
		{"secret without SEC", "POST", "/api/v1/robots", map[string]any{"name": "r", "access_token": "tok2", "secret": "abc"}, 422, "robots[1].secret", "SEC"},
		{"token is a URL without token", "POST", "/api/v1/robots", map[string]any{"name": "r", "access_token": "https://oapi.dingtalk.com/robot/send"}, 422, "robots[1].access_token", "token alone"},
		{"duplicate robot token", "POST", "/api/v1/robots", map[string]any{"name": "r", "access_token": "tok1"}, 422, "robots[1].access_token", `robot "研发群"`},
		{"bad kind", "POST", "/api/v1/robots", map[string]any{"name": "r", "kind": "slack", "access_token": "tok3"}, 422, "robots[1].kind", "not a robot kind"},
		{"bad sentry url", "POST", "/api/v1/organizations", map[string]any{"name": "o", "sentry_url": "ftp://x"}, 422, "organizations[0].sentry_url", "http(s)"},
		{"not an object", "POST", "/api/v1/owners", `[1,2]`, 400, "", "JSON object"},
		{"broken JSON", "POST", "/api/v1/owners", `{"name":`, 400, "", "JSON object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := e.must(tt.status, tt.method, tt.path, tt.body)
			if tt.status < 400 {
				return
			}
			if tt.field != "" && (m["field"] != tt.field || !slices.Contains(fieldsOf(m), tt.field)) {
				t.Errorf("answer names %v / %v, want %s: %v", m["field"], fieldsOf(m), tt.field, m)
			}
			if msg, _ := m["error"].(string); !strings.Contains(msg, tt.words) {
				t.Errorf("error %q does not say %q", msg, tt.words)
			}
		})
	}
	// Nothing invalid reached the store.
	d := e.stored()
	if len(d.Owners) != 1 || len(d.Robots) != 1 || len(d.Projects) != 1 || len(d.Organizations) != 0 {
		t.Errorf("stored %d owners, %d robots, %d projects, %d organizations", len(d.Owners), len(d.Robots), len(d.Projects), len(d.Organizations))
	}
}

func TestStaleWrite(t *testing.T) {
	e := newEnv(t)
	// No document yet: the ETag is "new" and a write pinned to it works.
	w := e.do("GET", "/api/v1/owners", nil)
	if got := w.Header().Get("ETag"); got != newETag {
		t.Fatalf("ETag of an empty store = %q, want %s", got, newETag)
	}
	w = e.do("POST", "/api/v1/owners", map[string]any{"name": "张三", "mobile": "13800138000"}, "If-Match", newETag)
	if w.Code != http.StatusCreated {
		t.Fatalf("create pinned to the empty version = %d: %s", w.Code, w.Body)
	}
	first := w.Header().Get("ETag")
	if r := e.do("GET", "/api/v1/owners/1", nil); r.Header().Get("ETag") != first {
		t.Errorf("read ETag %q, write answered %q", r.Header().Get("ETag"), first)
	}
	// Someone else writes (a script without If-Match: load, change, save).
	e.must(http.StatusCreated, "POST", "/api/v1/owners", map[string]any{"name": "李四", "mobile": "13900139000"})
	// A write based on the first version is refused, and nothing changes.
	w = e.do("PUT", "/api/v1/owners/1", map[string]any{"name": "改名", "mobile": "13800138000"}, "If-Match", first)
	if w.Code != http.StatusConflict {
		t.Fatalf("stale write = %d, want 409: %s", w.Code, w.Body)
	}
	if m := decode(t, w); m["error"] != "the configuration changed since you loaded it; reload" || m["code"] != "stale" {
		t.Errorf("stale answer = %v", m)
	}
	if e.stored().Owners[0].Name != "张三" {
		t.Error("a stale write changed the document")
	}
	for _, req := range []struct{ method, path string }{{"DELETE", "/api/v1/owners/1"}, {"POST", "/api/v1/webhook-token/regenerate"}} {
		var body any
		if req.method == "POST" {
			body = map[string]any{}
		}
		if w := e.do(req.method, req.path, body, "If-Match", first); w.Code != http.StatusConflict {
			t.Errorf("stale %s %s = %d, want 409", req.method, req.path, w.Code)
		}
	}
	// With the current ETag it goes through.
	cur := e.do("GET", "/api/v1/owners", nil).Header().Get("ETag")
	if w := e.do("PUT", "/api/v1/owners/1", map[string]any{"name": "改名", "mobile": "13800138000"}, "If-Match", cur); w.Code != http.StatusOK {
		t.Fatalf("fresh write = %d: %s", w.Code, w.Body)
	}
}

func TestSecretsMaskedAndKept(t *testing.T) {
	e := newEnv(t)
	const token = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
	const secret = "SECa7f09b5ea245debd13fb7fe1993897008f6b44ddf80310d14f3de4d3f407221d"
	created := e.must(http.StatusCreated, "POST", "/api/v1/robots", map[string]any{
		"name": "研发告警群", "kind": "", "access_token": " https://oapi.dingtalk.com/robot/send?access_token=" + token + " ", "secret": secret})
	e.must(http.StatusCreated, "POST", "/api/v1/organizations", map[string]any{
		"name": "acme", "account": "viewer@acme.com", "password": "s3cret-pass", "client_secret": strings.Repeat("ab", 32)})
	if d := e.stored(); d.Robots[0].AccessToken.Reveal() != token || d.Robots[0].Kind != "dingtalk" {
		t.Fatalf("the token was not taken from the pasted URL: %q %q", d.Robots[0].AccessToken.Reveal(), d.Robots[0].Kind)
	}
	for _, path := range []string{"/api/v1/robots", "/api/v1/robots/1", "/api/v1/organizations", "/api/v1/snapshot"} {
		body := e.do("GET", path, nil).Body.String()
		for _, s := range []string{token, secret, "s3cret-pass", strings.Repeat("ab", 32)} {
			if strings.Contains(body, s) {
				t.Errorf("GET %s shows a secret: %s", path, body)
			}
		}
	}
	if created["secret"] != "SECa7…21d" || created["access_token"] != "0f1e…1f0" {
		t.Errorf("masks = %v, %v", created["secret"], created["access_token"])
	}
	org := e.must(http.StatusOK, "GET", "/api/v1/organizations/1", nil)
	if org["password"] != "******" {
		t.Errorf("password mask = %v", org["password"])
	}
	// Sending the masked values back (what the page does) keeps them.
	created["name"] = "研发群"
	e.must(http.StatusOK, "PUT", "/api/v1/robots/1", created)
	org["account"] = "ops@acme.com"
	e.must(http.StatusOK, "PUT", "/api/v1/organizations/1", org)
	// Omitting them keeps them too.
	e.must(http.StatusOK, "PUT", "/api/v1/robots/1", map[string]any{"name": "研发群", "kind": "dingtalk", "keyword": "详情"})
	d := e.stored()
	if d.Robots[0].AccessToken.Reveal() != token || d.Robots[0].Secret.Reveal() != secret || d.Robots[0].Name != "研发群" {
		t.Errorf("robot after masked update: %q %q %q", d.Robots[0].Name, d.Robots[0].AccessToken.Reveal(), d.Robots[0].Secret.Reveal())
	}
	if d.Organizations[0].Password.Reveal() != "s3cret-pass" || d.Organizations[0].Account != "ops@acme.com" {
		t.Errorf("organization after masked update: %q %q", d.Organizations[0].Account, d.Organizations[0].Password.Reveal())
	}
	// A new value replaces; an empty one clears.
	e.must(http.StatusOK, "PATCH", "/api/v1/robots/1", map[string]any{"secret": ""})
	e.must(http.StatusOK, "PATCH", "/api/v1/organizations/1", map[string]any{"password": "new-pass"})
	d = e.stored()
	if d.Robots[0].Secret != "" || d.Organizations[0].Password.Reveal() != "new-pass" {
		t.Errorf("after replacing: secret %q, password %q", d.Robots[0].Secret.Reveal(), d.Organizations[0].Password.Reveal())
	}
	// Other chat tools' webhook URLs give their token and kind.
	e.must(http.StatusCreated, "POST", "/api/v1/robots", map[string]any{"name": "wecom", "access_token": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx"})
	e.must(http.StatusCreated, "POST", "/api/v1/robots", map[string]any{"name": "feishu", "access_token": "https://open.feishu.cn/open-apis/bot/v2/hook/2c4d7e4f-aaaa"})
	d = e.stored()
	if r := d.Robots[1]; r.Kind != "wecom" || r.AccessToken.Reveal() != "693a91f6-7xxx" {
		t.Errorf("wecom robot = %q %q", r.Kind, r.AccessToken.Reveal())
	}
	if r := d.Robots[2]; r.Kind != "feishu" || r.AccessToken.Reveal() != "2c4d7e4f-aaaa" {
		t.Errorf("feishu robot = %q %q", r.Kind, r.AccessToken.Reveal())
	}
}

func TestDeleteReferenced(t *testing.T) {
	e := newEnv(t)
	e.must(http.StatusCreated, "POST", "/api/v1/organizations", map[string]any{"name": "acme", "slug": "acme"})
	e.must(http.StatusCreated, "POST", "/api/v1/owners", map[string]any{"name": "张三", "mobile": "13800138000"})
	e.must(http.StatusCreated, "POST", "/api/v1/owners", map[string]any{"name": "李四", "mobile": "13900139000"})
	e.must(http.StatusCreated, "POST", "/api/v1/robots", map[string]any{"name": "研发群", "access_token": "tok1"})
	e.must(http.StatusCreated, "POST", "/api/v1/projects", map[string]any{"name": "商城后台", "slug": "mall-api", "organization_id": 1, "owner_ids": []int{1, 2}, "robot_ids": []int{1}})
	for _, path := range []string{"/api/v1/owners/1", "/api/v1/robots/1", "/api/v1/organizations/1"} {
		m := e.must(http.StatusConflict, "DELETE", path, nil)
		refs, _ := m["referenced_by"].([]any)
		if m["code"] != "referenced" || len(refs) != 1 || refs[0].(map[string]any)["name"] != "商城后台" {
			t.Errorf("DELETE %s answered %v, want who refers to it", path, m)
		}
		if msg := m["error"].(string); !strings.Contains(msg, "商城后台") || !strings.Contains(msg, "force=1") {
			t.Errorf("DELETE %s says %q", path, msg)
		}
	}
	if len(e.stored().Owners) != 2 {
		t.Fatal("a refused delete removed the owner")
	}
	for _, path := range []string{"/api/v1/owners/1?force=1", "/api/v1/robots/1?force=true", "/api/v1/organizations/1?force=1"} {
		e.must(http.StatusOK, "DELETE", path, nil)
	}
	d := e.stored()
	p := d.Projects[0]
	if len(d.Owners) != 1 || len(d.Robots) != 0 || len(d.Organizations) != 0 {
		t.Errorf("left %d owners, %d robots, %d organizations", len(d.Owners), len(d.Robots), len(d.Organizations))
	}
	if !slices.Equal(p.OwnerIDs, []int64{2}) || len(p.RobotIDs) != 0 || p.OrganizationID != 0 {
		t.Errorf("references not removed: %+v", p)
	}
	// A project is referred to by nothing.
	e.must(http.StatusOK, "DELETE", "/api/v1/projects/1", nil)
}

func TestSettings(t *testing.T) {
	e := newEnv(t)
	// Without -store or env, the settings file chooses the store.
	e.s = e.server("")
	if loc, src := e.s.StoreLocation(); src != "default" || loc != "file:"+store.DefaultDir {
		t.Errorf("store %s (%s), want the default folder", loc, src)
	}
	folder := t.TempDir()
	m := e.must(http.StatusOK, "PUT", "/api/v1/settings", map[string]any{"store_kind": "folder", "folder": folder, "relay_url": "https://relay.example.fcapp.run", "language": "en"})
	if m["active_store"] != "file:"+folder || m["store_source"] != "settings" {
		t.Errorf("after saving: %v", m)
	}
	path := filepath.Join(e.cfgDir, "settings.json")
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" && st.Mode().Perm() != 0o600 {
		t.Errorf("settings file mode %v, want 0600", st.Mode().Perm())
	}
	// The switch takes effect at once: the next write lands in the folder.
	e.must(http.StatusCreated, "POST", "/api/v1/owners", map[string]any{"name": "张三", "mobile": "13800138000"})
	if _, err := os.Stat(filepath.Join(folder, "api", "v1", "config.json")); err != nil {
		t.Errorf("the write did not go to the chosen folder: %v", err)
	}
	// A new server reads the same settings.
	if loc, src := e.server("").StoreLocation(); loc != "file:"+folder || src != "settings" {
		t.Errorf("restart uses %s (%s)", loc, src)
	}
	// The flag wins over the settings.
	if loc, src := e.server("file:" + e.dir).StoreLocation(); loc != "file:"+e.dir || src != "flag" {
		t.Errorf("with -store: %s (%s)", loc, src)
	}

	// OSS settings: required fields are named; the secret is masked and kept.
	m = e.must(http.StatusUnprocessableEntity, "PUT", "/api/v1/settings", map[string]any{"store_kind": "oss", "oss_bucket": "No_Such"})
	for _, f := range []string{"oss_endpoint", "oss_bucket", "oss_access_key_id", "oss_access_key_secret"} {
		if !slices.Contains(fieldsOf(m), f) {
			t.Errorf("OSS settings error does not name %s: %v", f, m)
		}
	}
	e.must(http.StatusUnprocessableEntity, "PUT", "/api/v1/settings", map[string]any{"relay_url": "not a url"})
	e.must(http.StatusUnprocessableEntity, "PUT", "/api/v1/settings", map[string]any{"store_kind": "ftp"})

	srv := osstest.New("sw-config")
	t.Cleanup(srv.Close)
	const keySecret = "aK3yS3cretValue0123456789"
	m = e.must(http.StatusOK, "PUT", "/api/v1/settings", map[string]any{"store_kind": "oss", "oss_endpoint": srv.URL, "oss_region": "cn-hangzhou",
		"oss_bucket": "sw-config", "oss_access_key_id": "LTAItest", "oss_access_key_secret": keySecret})
	if s := m["oss_access_key_secret"]; s == keySecret || s == "" {
		t.Errorf("secret shown as %v", s)
	}
	if m["active_store"] != "oss://sw-config/api/" {
		t.Errorf("active store %v", m["active_store"])
	}
	m["language"] = "zh"
	e.must(http.StatusOK, "PUT", "/api/v1/settings", m) // the page sends the masked secret back
	b, _ := os.ReadFile(path)
	if !strings.Contains(string(b), keySecret) {
		t.Errorf("the masked secret replaced the saved one: %s", b)
	}
	if body := e.do("GET", "/api/v1/settings", nil).Body.String(); strings.Contains(body, keySecret) {
		t.Errorf("GET settings shows the secret: %s", body)
	}
	// Writes now go to the bucket.
	e.must(http.StatusCreated, "POST", "/api/v1/owners", map[string]any{"name": "李四", "mobile": "13900139000"})
	if _, ok := srv.Object("sw-config", "api/v1/config.json"); !ok {
		t.Error("the owner was not written to OSS")
	}
	// Deleting the settings goes back to the default.
	e.must(http.StatusOK, "DELETE", "/api/v1/settings", nil)
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("settings file still there: %v", err)
	}
}

func TestSettingsTestConnection(t *testing.T) {
	e := newEnv(t)
	srv := osstest.New("sw-config")
	t.Cleanup(srv.Close)
	oss := func(bucket string) map[string]any {
		return map[string]any{"store_kind": "oss", "oss_endpoint": srv.URL, "oss_region": "cn-hangzhou", "oss_bucket": bucket,
			"oss_access_key_id": "LTAItest", "oss_access_key_secret": "secret-value-0123"}
	}
	check := func(body map[string]any, code, words string) {
		t.Helper()
		m := e.must(http.StatusOK, "POST", "/api/v1/settings/test", body)
		if m["code"] != code || !strings.Contains(m["message"].(string), words) {
			t.Errorf("test %v = %v, want code %s saying %q", body, m, code, words)
		}
	}
	check(map[string]any{"store_kind": "folder", "folder": t.TempDir()}, "no_document", "fine for a new setup")
	check(oss("sw-config"), "no_document", "fine for a new setup")
	check(oss("missing-bucket"), "no_bucket", "bucket does not exist")
	srv.Fail(osstest.Fault{Status: 403, Code: "InvalidAccessKeyId"})
	check(oss("sw-config"), "credentials", "refused the credentials")
	srv.Fail(osstest.Fault{})
	if err := srv.Seed("sw-config", "api/v1/config.json", []byte(`{"schema":1,"owners":[{"id":1,"name":"x","mobile":"123"}]}`)); err != nil {
		t.Fatal(err)
	}
	check(oss("sw-config"), "invalid_document", "owners[0].mobile")
	if err := srv.Seed("sw-config", "api/v1/config.json", []byte(`{"schema":1,"owners":[{"id":1,"name":"x","mobile":"13800138000"}]}`)); err != nil {
		t.Fatal(err)
	}
	check(oss("sw-config"), "ok", "1 owners")
	dead := osstest.New()
	dead.Close()
	body := oss("sw-config")
	body["oss_endpoint"] = dead.URL
	check(body, "unreachable", "cannot be reached")
	// Testing does not save.
	if _, err := os.Stat(filepath.Join(e.cfgDir, "settings.json")); !os.IsNotExist(err) {
		t.Errorf("test connection saved the settings: %v", err)
	}
}

func TestStoreThatCannotOpen(t *testing.T) {
	e := newEnv(t)
	e.s = e.server("oss://sw-config/api/") // no OSS_ENDPOINT
	m := e.must(http.StatusServiceUnavailable, "GET", "/api/v1/owners", nil)
	if msg := m["error"].(string); !strings.Contains(msg, "OSS_ENDPOINT") || !strings.Contains(msg, "settings page") {
		t.Errorf("error %q does not say what to fix", msg)
	}
	// The settings page still works and can fix it.
	e.must(http.StatusOK, "GET", "/api/v1/settings", nil)
	e.must(http.StatusOK, "PUT", "/api/v1/settings", map[string]any{"store_kind": "folder", "folder": e.dir})
	e.must(http.StatusOK, "GET", "/api/v1/owners", nil)
}

func TestImportExportDiff(t *testing.T) {
	e := newEnv(t)
	e.must(http.StatusCreated, "POST", "/api/v1/owners", map[string]any{"name": "张三", "mobile": "13800138000"})
	e.must(http.StatusCreated, "POST", "/api/v1/robots", map[string]any{"name": "研发群", "access_token": "tok1", "secret": "SECabc"})

	w := e.do("GET", "/api/v1/document", nil)
	if w.Code != http.StatusOK || !strings.Contains(w.Header().Get("Content-Disposition"), "attachment") {
		t.Fatalf("export = %d %v", w.Code, w.Header())
	}
	exported := w.Body.Bytes()
	if !bytes.Contains(exported, []byte(`"SECabc"`)) {
		t.Error("the export must carry the real secrets")
	}
	tag := w.Header().Get("ETag")

	d, err := config.Parse(exported, testKinds.Document())
	if err != nil {
		t.Fatal(err)
	}
	d.Owners[0].Mobile = "13900139000"
	d.Robots = nil
	d.Projects = append(d.Projects, config.Project{ID: 7, Name: "商城", Slug: "mall-api", OwnerIDs: []int64{1}})
	upload, _ := config.Marshal(d)

	m := e.must(http.StatusOK, "POST", "/api/v1/document/diff", upload)
	if m["etag"] != tag || m["identical"] != false {
		t.Errorf("diff = %v", m)
	}
	want := []string{"owners 1 changed [mobile]", "robots 1 removed []", "projects 7 added []"}
	var got []string
	for _, c := range m["changes"].([]any) {
		c := c.(map[string]any)
		var fields []string
		for _, f := range asList(c["fields"]) {
			fields = append(fields, f.(string))
		}
		got = append(got, c["kind"].(string)+" "+jsonNum(c["id"])+" "+c["op"].(string)+" ["+strings.Join(fields, " ")+"]")
	}
	if !slices.Equal(got, want) {
		t.Errorf("changes = %q, want %q", got, want)
	}
	if m := e.must(http.StatusOK, "POST", "/api/v1/document/diff", exported); m["identical"] != true {
		t.Errorf("diff of the export itself = %v", m)
	}
	// An invalid upload names the field and changes nothing.
	bad := bytes.Replace(upload, []byte(`"13900139000"`), []byte(`"123"`), 1)
	for _, req := range []struct{ method, path string }{{"POST", "/api/v1/document/diff"}, {"PUT", "/api/v1/document"}} {
		m := e.must(http.StatusUnprocessableEntity, req.method, req.path, bad)
		if m["field"] != "owners[0].mobile" {
			t.Errorf("%s %s names %v", req.method, req.path, m["field"])
		}
	}
	e.must(http.StatusUnprocessableEntity, "PUT", "/api/v1/document", `{"owners": 3}`)
	e.must(http.StatusBadRequest, "PUT", "/api/v1/document", ``)
	e.must(http.StatusUnprocessableEntity, "PUT", "/api/v1/document", `null`)
	// Import pinned to the diffed version.
	w = e.do("PUT", "/api/v1/document", upload, "If-Match", tag)
	if w.Code != http.StatusOK {
		t.Fatalf("import = %d: %s", w.Code, w.Body)
	}
	got2 := e.stored()
	if got2.Owners[0].Mobile != "13900139000" || len(got2.Robots) != 0 || len(got2.Projects) != 1 {
		t.Errorf("imported %+v", got2)
	}
	// A second import pinned to the old version is stale.
	if w := e.do("PUT", "/api/v1/document", exported, "If-Match", tag); w.Code != http.StatusConflict {
		t.Errorf("stale import = %d, want 409", w.Code)
	}
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func jsonNum(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestHistoryRestore(t *testing.T) {
	e := newEnv(t)
	e.must(http.StatusCreated, "POST", "/api/v1/owners", map[string]any{"name": "张三", "mobile": "13800138000"})
	e.must(http.StatusOK, "PATCH", "/api/v1/owners/1", map[string]any{"name": "张三丰"})
	list := e.must(http.StatusOK, "GET", "/api/v1/history", nil)["list"]
	versions := asList(list)
	if len(versions) != 1 {
		t.Fatalf("history = %v, want the version before the rename", list)
	}
	id := versions[0].(map[string]any)["id"].(string)
	if c := versions[0].(map[string]any)["counts"].(map[string]any); c["owners"] != float64(1) || c["projects"] != float64(0) {
		t.Errorf("version counts = %v", c)
	}
	m := e.must(http.StatusOK, "GET", "/api/v1/history/"+id, nil)
	if ch := asList(m["changes"]); len(ch) != 1 || !strings.Contains(jsonNum(ch[0]), `"name"`) {
		t.Errorf("restore would change %v", m["changes"])
	}
	stale := e.do("GET", "/api/v1/owners", nil).Header().Get("ETag")
	e.must(http.StatusOK, "POST", "/api/v1/history/"+id+"/restore", map[string]any{})
	if got := e.stored().Owners[0].Name; got != "张三" {
		t.Errorf("after restore the owner is %q", got)
	}
	if versions := asList(e.must(http.StatusOK, "GET", "/api/v1/history", nil)["list"]); len(versions) != 2 {
		t.Errorf("the restore should keep the replaced version: %v", versions)
	}
	if w := e.do("POST", "/api/v1/history/"+id+"/restore", map[string]any{}, "If-Match", stale); w.Code != http.StatusConflict {
		t.Errorf("stale restore = %d, want 409", w.Code)
	}
	e.must(http.StatusNotFound, "POST", "/api/v1/history/20200101T000000.000000Z/restore", map[string]any{})
	e.must(http.StatusNotFound, "GET", "/api/v1/history/..%2Fconfig", nil)
}

func TestWebhookURL(t *testing.T) {
	e := newEnv(t)
	m := e.must(http.StatusOK, "GET", "/api/v1/webhook", nil)
	if m["url"] != "" {
		t.Errorf("without a relay URL: %v", m)
	}
	e.must(http.StatusCreated, "POST", "/api/v1/owners", map[string]any{"name": "张三", "mobile": "13800138000"})
	e.must(http.StatusOK, "PUT", "/api/v1/settings", map[string]any{"relay_url": "https://sw-abc.cn-hangzhou.fcapp.run/"})
	m = e.must(http.StatusOK, "GET", "/api/v1/webhook", nil)
	tok := e.stored().WebhookToken.Reveal()
	if want := "https://sw-abc.cn-hangzhou.fcapp.run/?token=" + tok; m["url"] != want || tok == "" {
		t.Errorf("url = %v, want %s", m["url"], want)
	}
	// (#28.8) A relay URL without its / still gives <relay>/?token=….
	e.must(http.StatusOK, "PUT", "/api/v1/settings", map[string]any{"relay_url": "https://sw-abc.cn-hangzhou.fcapp.run"})
	if m = e.must(http.StatusOK, "GET", "/api/v1/webhook", nil); m["url"] != "https://sw-abc.cn-hangzhou.fcapp.run/?token="+tok {
		t.Errorf("without the / the url is %v", m["url"])
	}
	m = e.must(http.StatusOK, "POST", "/api/v1/webhook-token/regenerate", map[string]any{})
	tok2 := e.stored().WebhookToken.Reveal()
	if tok2 == tok || len(tok2) != 32 || !strings.HasSuffix(m["url"].(string), "?token="+tok2) {
		t.Errorf("regenerated %q (was %q): %v", tok2, tok, m)
	}
}

// setupAlert stores an owner, a signed robot and a project routing to it.
func setupAlert(t *testing.T, e *testEnv, keyword string) {
	t.Helper()
	e.must(http.StatusCreated, "POST", "/api/v1/organizations", map[string]any{"name": "acme", "sentry_url": "https://sentry.io", "slug": "acme", "account": "viewer@acme.com", "password": "pw"})
	e.must(http.StatusCreated, "POST", "/api/v1/owners", map[string]any{"name": "张三", "mobile": "13800138000"})
	e.must(http.StatusCreated, "POST", "/api/v1/robots", map[string]any{"name": "研发告警群",
		"access_token": "https://oapi.dingtalk.com/robot/send?access_token=tok-good", "secret": "SECgood0123456789", "keyword": keyword})
	e.must(http.StatusCreated, "POST", "/api/v1/projects", map[string]any{"name": "商城后台", "slug": "mall-api", "organization_id": 1,
		"owner_ids": []int{1}, "robot_ids": []int{1}, "environments": []string{"staging"}, "min_level": "fatal"})
}

func TestTestAlertDelivers(t *testing.T) {
	e := newEnv(t, robottest.DingTalkRobot{Token: "tok-good", Secret: "SECgood0123456789", Keywords: []string{"详情"}})
	setupAlert(t, e, "详情")
	m := e.must(http.StatusOK, "POST", "/api/v1/projects/1/test", map[string]any{})
	if m["ok"] != true {
		t.Fatalf("project test = %v", m)
	}
	msgs := e.ding.Messages()
	if len(msgs) != 1 {
		t.Fatalf("the stand-in got %d messages, want 1", len(msgs))
	}
	got := msgs[0]
	if !strings.Contains(got.Text, "详情") || !strings.Contains(got.Text, "@13800138000") ||
		!slices.Contains(got.AtMobiles, "13800138000") || !got.Mentioned {
		t.Errorf("message = %+v", got)
	}
	for _, want := range []string{"商城后台", "mall-api", "viewer@acme.com", "staging"} {
		if !strings.Contains(got.Text, want) {
			t.Errorf("message lacks %q:\n%s", want, got.Text)
		}
	}
	res := asList(m["results"])[0].(map[string]any)
	if res["robot"] != "研发告警群" || !strings.Contains(res["message"].(string), "张三 (13800138000)") {
		t.Errorf("result = %v", res)
	}
	// The robot's own test speaks for the project that uses it.
	if m := e.must(http.StatusOK, "POST", "/api/v1/robots/1/test", map[string]any{}); m["ok"] != true || m["project"] != "商城后台" {
		t.Errorf("robot test = %v", m)
	}
	if n := len(e.ding.Messages()); n != 2 {
		t.Errorf("%d messages after the robot test, want 2", n)
	}
	e.must(http.StatusNotFound, "POST", "/api/v1/robots/9/test", map[string]any{})
	e.must(http.StatusNotFound, "POST", "/api/v1/projects/9/test", map[string]any{})
	// A project without robots says so and sends nothing.
	e.must(http.StatusCreated, "POST", "/api/v1/projects", map[string]any{"name": "空", "slug": "empty"})
	if m := e.must(http.StatusOK, "POST", "/api/v1/projects/2/test", map[string]any{}); m["ok"] != false || !strings.Contains(m["note"].(string), "no robot") {
		t.Errorf("test of a project without robots = %v", m)
	}
}

func TestTestAlertExplainsRefusal(t *testing.T) {
	e := newEnv(t, robottest.DingTalkRobot{Token: "tok-good", Secret: "SECgood0123456789", Keywords: []string{"紧急"}})
	setupAlert(t, e, "")
	m := e.must(http.StatusOK, "POST", "/api/v1/robots/1/test", map[string]any{})
	res := asList(m["results"])[0].(map[string]any)
	if m["ok"] != false || res["code"] != float64(310000) {
		t.Fatalf("wrong keyword: %v", m)
	}
	if fix := res["fix"].(string); !strings.Contains(fix, "keyword must appear in every message") || !strings.Contains(fix, "详情") {
		t.Errorf("fix = %q", fix)
	}
	if msg := res["message"].(string); !strings.Contains(msg, "What to do") {
		t.Errorf("message = %q", msg)
	}
	if len(e.ding.Messages()) != 0 {
		t.Error("the stand-in accepted a message without its keyword")
	}
	// A wrong token is explained too.
	e.must(http.StatusOK, "PATCH", "/api/v1/robots/1", map[string]any{"access_token": "tok-unknown"})
	res = asList(e.must(http.StatusOK, "POST", "/api/v1/robots/1/test", map[string]any{})["results"])[0].(map[string]any)
	if !strings.Contains(res["fix"].(string), "access_token is wrong") {
		t.Errorf("wrong token fix = %v", res)
	}
	for _, s := range []string{"tok-unknown", "SECgood"} {
		if strings.Contains(jsonNum(res), s) {
			t.Errorf("the answer leaks %q: %v", s, res)
		}
	}
}

func TestPreview(t *testing.T) {
	e := newEnv(t, robottest.DingTalkRobot{Token: "tok-good"})
	setupAlert(t, e, "详情")
	m := e.must(http.StatusOK, "POST", "/api/v1/projects/1/preview", map[string]any{})
	robots := asList(m["robots"])
	if len(robots) != 1 || m["dropped"] != nil || m["sample"] != true {
		t.Fatalf("preview = %v", m)
	}
	body := robots[0].(map[string]any)["body"].(map[string]any)
	at := body["at"].(map[string]any)
	if body["msgtype"] != "markdown" || !slices.Contains(asList(at["atMobiles"]), any("13800138000")) {
		t.Errorf("body = %v", body)
	}
	if text := robots[0].(map[string]any)["text"].(string); !strings.Contains(text, "@13800138000") || !strings.Contains(text, "详情") {
		t.Errorf("text = %s", text)
	}
	// A real payload below the project's minimum level is dropped.
	payload, err := os.ReadFile(filepath.Join("..", "..", "testdata", "sentry", "legacy_saas.json"))
	if err != nil {
		t.Fatal(err)
	}
	m = e.must(http.StatusOK, "POST", "/api/v1/projects/1/preview", map[string]any{"payload": json.RawMessage(payload)})
	if reason, _ := m["dropped"].(string); !strings.Contains(reason, "environment") && !strings.Contains(reason, "level") {
		t.Errorf("dropped = %v", m)
	}
	// Without filters it goes through, without @ below mention_level.
	e.must(http.StatusOK, "PATCH", "/api/v1/projects/1", map[string]any{"environments": []string{}, "min_level": "", "mention_level": "fatal"})
	m = e.must(http.StatusOK, "POST", "/api/v1/projects/1/preview", map[string]any{"payload": json.RawMessage(payload)})
	if m["dropped"] != nil || m["mentions_suppressed"] != true || len(asList(m["robots"])) != 1 {
		t.Errorf("preview = %v", m)
	}
	// Other kinds show their exact bodies too: WeCom mentions by mobile in a
	// second text message.
	e.must(http.StatusCreated, "POST", "/api/v1/robots", map[string]any{"name": "企业微信群", "access_token": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=wk-1"})
	e.must(http.StatusCreated, "POST", "/api/v1/robots", map[string]any{"name": "飞书群", "access_token": "https://open.feishu.cn/open-apis/bot/v2/hook/fh-1"})
	e.must(http.StatusOK, "PATCH", "/api/v1/projects/1", map[string]any{"robot_ids": []int{1, 2, 3}, "mention_level": ""})
	robots = asList(e.must(http.StatusOK, "POST", "/api/v1/projects/1/preview", map[string]any{})["robots"])
	if len(robots) != 3 {
		t.Fatalf("preview robots = %v", robots)
	}
	wc := robots[1].(map[string]any)
	if bodies := asList(wc["bodies"]); wc["kind"] != "wecom" || len(bodies) != 2 || !strings.Contains(jsonNum(bodies[1]), "13800138000") {
		t.Errorf("wecom preview = %v", wc)
	}
	if fs := robots[2].(map[string]any); fs["kind"] != "feishu" || fs["body"] == nil {
		t.Errorf("feishu preview = %v", fs)
	}
	if m := e.must(http.StatusUnprocessableEntity, "POST", "/api/v1/projects/1/preview", map[string]any{"payload": []int{1}}); m["field"] != "payload" {
		t.Errorf("bad payload answer = %v", m)
	}
	if n := e.ding.Requests(); n != 0 {
		t.Errorf("preview sent %d requests", n)
	}
}

func TestMask(t *testing.T) {
	for _, tt := range []struct {
		in      string
		partial bool
		want    string
	}{
		{"", true, ""},
		{"short", true, "******"},
		{"SECa7f09b5ea245debd13fb7f221d", true, "SECa7…21d"},
		{"abcdefghijklmnop", true, "abcd…nop"},
		{"a-long-password-value", false, "******"},
	} {
		if got := mask(tt.in, tt.partial); got != tt.want {
			t.Errorf("mask(%q, %v) = %q, want %q", tt.in, tt.partial, got, tt.want)
		}
	}
}

func TestTokenFromURL(t *testing.T) {
	for _, tt := range []struct{ in, token, kind string }{
		{"https://oapi.dingtalk.com/robot/send?access_token=abc123", "abc123", "dingtalk"},
		{"oapi.dingtalk.com/robot/send?access_token=abc123&x=1", "abc123", "dingtalk"},
		{"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=k-1", "k-1", "wecom"},
		{"https://open.larksuite.com/open-apis/bot/v2/hook/h-2/", "h-2", "feishu"},
		{"abc123", "", ""},
		{"https://example.com/nothing", "", ""},
	} {
		tok, kind, ok := (&Server{kinds: testKinds}).tokenFromURL(tt.in)
		if tok != tt.token || kind != tt.kind || ok != (tt.token != "") {
			t.Errorf("tokenFromURL(%q) = %q %q %v", tt.in, tok, kind, ok)
		}
	}
}

// TestJunkNeverFails sends malformed bodies and ids to every endpoint: each
// answer is a 4xx (or a success), never a server error or a panic.
func TestJunkNeverFails(t *testing.T) {
	e := newEnv(t)
	e.must(http.StatusCreated, "POST", "/api/v1/owners", map[string]any{"name": "张三", "mobile": "13800138000"})
	e.must(http.StatusCreated, "POST", "/api/v1/robots", map[string]any{"name": "r", "access_token": "t"})
	e.must(http.StatusCreated, "POST", "/api/v1/projects", map[string]any{"name": "p", "slug": "p", "owner_ids": []int{1}, "robot_ids": []int{1}})
	bodies := []string{``, `null`, `[]`, `"x"`, `1`, `{`, `{"id":"x"}`, `{"name":{"a":1}}`, `{"owner_ids":[1.5]}`,
		`{"owner_ids":[-1]}`, `{"follow_ups":"yes"}`, `{"repeat_window_seconds":1e40}`, `{"payload":"x"}`, `{"payload":{}}`,
		`{"lang":"fr"}`, `{"store_kind":1}`, `{"schema":9}`, strings.Repeat(`[`, 5000), "\xff\xfe", "\xef\xbb\xbf", "\xef\xbb\xbf "}
	paths := []string{"/api/v1/owners", "/api/v1/owners/1", "/api/v1/robots/1", "/api/v1/projects/1", "/api/v1/organizations",
		"/api/v1/owners/0", "/api/v1/owners/99999999999999999999", "/api/v1/robots/1/test", "/api/v1/projects/1/test",
		"/api/v1/projects/1/preview", "/api/v1/settings", "/api/v1/settings/test", "/api/v1/document", "/api/v1/document/diff",
		"/api/v1/history/x/restore", "/api/v1/webhook-token/regenerate"}
	for _, p := range paths {
		for _, method := range []string{"POST", "PUT", "PATCH", "DELETE"} {
			for _, b := range bodies {
				w := e.do(method, p, b)
				if w.Code >= 500 {
					t.Errorf("%s %s %q = %d: %s", method, p, b, w.Code, w.Body)
				}
			}
		}
	}
}
