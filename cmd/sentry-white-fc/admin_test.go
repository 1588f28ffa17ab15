package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/configapi"
	"github.com/sentry-white/sentry-white/internal/robottest"
	"github.com/sentry-white/sentry-white/internal/store"
	"github.com/sentry-white/sentry-white/internal/store/osstest"
)

const adminKey = "relayAdminKeyForTests-0123456789"

// configurator is the configurator's API (package configapi, as
// cmd/sentry-white serves it) on a store location, with an environment
// that holds no OSS credentials at all.
type configurator struct {
	t *testing.T
	s *configapi.Server
}

const cfgAddr, cfgToken = "127.0.0.1:7788", "configurator-token"

func newConfigurator(t *testing.T, storeLoc string, env map[string]string) *configurator {
	t.Helper()
	for k := range env {
		if strings.HasPrefix(k, "ALIBABA_CLOUD_") || strings.HasPrefix(k, "OSS_") {
			t.Fatalf("the configurator must run without OSS settings, got %s", k)
		}
	}
	s, err := configapi.New(configapi.Options{Kinds: testKinds, Addr: cfgAddr, Token: cfgToken, Store: storeLoc, ConfigDir: t.TempDir(),
		Getenv: func(k string) string { return env[k] }})
	if err != nil {
		t.Fatal(err)
	}
	return &configurator{t: t, s: s}
}

// do calls the configurator's API; hdr adds headers in pairs.
func (c *configurator) do(method, path string, body any, hdr ...string) (int, map[string]any, http.Header) {
	c.t.Helper()
	var rd *bytes.Reader
	switch b := body.(type) {
	case nil:
		rd = bytes.NewReader(nil)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, rd)
	req.Host = cfgAddr
	req.Header.Set("Authorization", "Bearer "+cfgToken)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	c.s.ServeHTTP(w, req)
	var m map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
		var list []any
		if json.Unmarshal(w.Body.Bytes(), &list) != nil {
			c.t.Fatalf("%s %s answered %d, not JSON: %s", method, path, w.Code, w.Body)
		}
		m = map[string]any{"list": list}
	}
	return w.Code, m, w.Result().Header
}

func (c *configurator) must(want int, method, path string, body any, hdr ...string) map[string]any {
	c.t.Helper()
	code, m, _ := c.do(method, path, body, hdr...)
	if code != want {
		c.t.Fatalf("%s %s = %d, want %d: %v", method, path, code, want, m)
	}
	return m
}

func (c *configurator) deliveries() []map[string]any {
	c.t.Helper()
	m := c.must(http.StatusOK, "GET", "/api/v1/deliveries", nil)
	var out []map[string]any
	for _, v := range m["deliveries"].([]any) {
		out = append(out, v.(map[string]any))
	}
	return out
}

// waitFor polls cond every 20 ms for up to 20 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestConfiguratorThroughRelay: a configurator with -store relay+http://…
// and no OSS credentials manages organizations, owners, robots and
// projects, the history, import and export, and the delivery log (list
// and re-send) of a relay whose store is the loopback OSS server; every
// OSS request is the relay's, signed with V4 with the relay's keys.
func TestConfiguratorThroughRelay(t *testing.T) {
	srv := osstest.New(ossBucket)
	defer srv.Close()
	dt := robottest.NewDingTalk(robottest.DingTalkRobot{Token: "good-token", Keywords: []string{"详情"}})
	defer dt.Close()
	r := startOSSRelayEnv(t, srv, dt, map[string]string{"OSS_REGION": "cn-hangzhou", "SENTRY_WHITE_ADMIN_KEY": adminKey})
	if !strings.Contains(r.logs.String(), "admin API enabled") {
		t.Fatalf("the relay does not say its admin API is on:\n%s", r.logs)
	}
	c := newConfigurator(t, "relay+"+r.base, map[string]string{
		"SENTRY_WHITE_ADMIN_KEY":    adminKey,
		"SENTRY_WHITE_DINGTALK_API": dt.URL(),
	})

	// The connection test says where the relay keeps the configuration.
	m := c.must(http.StatusOK, "GET", "/api/v1/settings", nil)
	if m["store_kind"] != "relay" || m["relay_url"] != r.base || m["active_store"] != "relay+"+r.base {
		t.Errorf("settings = %v, want the relay store", m)
	}
	m = c.must(http.StatusOK, "POST", "/api/v1/settings/test", map[string]any{"store_kind": "relay", "relay_url": r.base})
	if m["code"] != "no_document" || !strings.Contains(m["message"].(string), "through the relay to oss://"+ossBucket+"/api/") {
		t.Errorf("connection test = %v, want no_document through the relay to the bucket", m)
	}

	// Organizations, owners, robots and projects.
	c.must(http.StatusCreated, "POST", "/api/v1/organizations", map[string]any{"name": "公司主账号", "sentry_url": "https://sentry.io", "slug": "acme"})
	c.must(http.StatusCreated, "POST", "/api/v1/organizations", map[string]any{"name": "测试账号", "sentry_url": "https://sentry.example.com", "slug": "test"})
	c.must(http.StatusOK, "DELETE", "/api/v1/organizations/2", nil)
	c.must(http.StatusCreated, "POST", "/api/v1/owners", map[string]any{"name": "张三", "mobile": "13800138000"})
	c.must(http.StatusCreated, "POST", "/api/v1/owners", map[string]any{"name": "李四", "mobile": "13900139000"})
	c.must(http.StatusCreated, "POST", "/api/v1/robots", map[string]any{"name": "研发告警群", "access_token": "wrong-token", "keyword": "详情"})
	c.must(http.StatusCreated, "POST", "/api/v1/projects", map[string]any{"name": "商城后台", "slug": "mall-api", "organization_id": 1,
		"owner_ids": []int{1, 2}, "robot_ids": []int{1}})
	c.must(http.StatusOK, "PATCH", "/api/v1/owners/2", map[string]any{"name": "李四（后端）"})
	stored, ok := srv.Object(ossBucket, "api/v1/config.json")
	if !ok || !bytes.Contains(stored, []byte("李四（后端）")) || !bytes.Contains(stored, []byte("mall-api")) {
		t.Fatalf("the bucket holds %s", stored)
	}

	// A stale write is refused with 409 and changes nothing.
	_, _, hdr := c.do("GET", "/api/v1/owners", nil)
	tag := hdr.Get("ETag")
	c.must(http.StatusOK, "PATCH", "/api/v1/owners/1", map[string]any{"name": "张三丰"}, "If-Match", tag)
	c.must(http.StatusConflict, "PATCH", "/api/v1/owners/1", map[string]any{"name": "张三（过期）"}, "If-Match", tag)
	if b, _ := srv.Object(ossBucket, "api/v1/config.json"); bytes.Contains(b, []byte("过期")) {
		t.Error("a stale write reached the bucket")
	}

	// History: versions through the relay, and a restore.
	hist := c.must(http.StatusOK, "GET", "/api/v1/history", nil)
	versions, _ := hist["list"].([]any)
	if len(versions) < 5 {
		t.Fatalf("history = %v, want a version per save", hist)
	}
	oldest := versions[len(versions)-1].(map[string]any)["id"].(string)
	c.must(http.StatusOK, "GET", "/api/v1/history/"+oldest, nil)
	c.must(http.StatusOK, "POST", "/api/v1/history/"+oldest+"/restore", map[string]any{})
	// The oldest kept version is the document before the second save:
	// one organization, no owner yet.
	if own := c.must(http.StatusOK, "GET", "/api/v1/owners", nil); len(own["list"].([]any)) != 0 {
		t.Errorf("after restoring the oldest version: owners %v, want none", own)
	}

	// Export and import.
	_, doc, _ := c.do("GET", "/api/v1/document", nil)
	if doc["schema"] != float64(1) {
		t.Fatalf("export = %v", doc)
	}
	full := exampleDocForAdmin(t)
	c.must(http.StatusOK, "PUT", "/api/v1/document", full)
	web := c.must(http.StatusOK, "GET", "/api/v1/webhook", nil)
	token, _ := web["token"].(string)
	if token == "" {
		t.Fatalf("webhook = %v", web)
	}

	// A webhook the relay cannot deliver (wrong robot token) lands in the
	// delivery log, which the configurator reads through the relay; fixing
	// the token and re-sending delivers it, and the re-send is logged.
	if code, body := post(t, r.base+"/?token="+token, legacyEvent(t, 501)); code != http.StatusBadGateway || !strings.Contains(body, "300005") {
		t.Fatalf("webhook to a robot with a wrong token: %d %s, want 502 naming DingTalk's errcode", code, body)
	}
	var failed map[string]any
	waitFor(t, "the failed delivery in the log", func() bool {
		for _, d := range c.deliveries() {
			if d["result"] == "failed" {
				failed = d
				return true
			}
		}
		return false
	})
	c.must(http.StatusOK, "PATCH", "/api/v1/robots/1", map[string]any{"access_token": "good-token"})
	rs := c.must(http.StatusOK, "POST", "/api/v1/deliveries/"+failed["id"].(string)+"/resend", map[string]any{})
	if rec, _ := rs["record"].(map[string]any); rs["ok"] != true || rec["result"] != "delivered" || rec["resend_of"] != failed["id"] {
		t.Fatalf("re-send = %v", rs)
	}
	if msgs := dt.Messages(); len(msgs) != 1 || !strings.Contains(msgs[0].Text, "商城后台") {
		t.Errorf("DingTalk got %d messages, want the re-sent alert", len(msgs))
	}
	var resent bool
	for _, d := range c.deliveries() {
		resent = resent || d["resend_of"] == failed["id"]
	}
	if !resent {
		t.Error("the re-send is not in the delivery log")
	}

	r.stop()
	// Every OSS request was the relay's: V4, its own keys.
	reqs := srv.Requests()
	if len(reqs) < 20 {
		t.Fatalf("only %d OSS requests", len(reqs))
	}
	for _, q := range reqs {
		if q.Scheme != osstest.V4 || q.AccessKeyID != ossEnvKeyID {
			t.Errorf("%s %s signed %q with %q; want V4 with the relay's key", q.Method, q.Path, q.Scheme, q.AccessKeyID)
		}
	}
	if strings.Contains(r.logs.String(), adminKey) {
		t.Error("the relay logged the admin key")
	}
	if !strings.Contains(r.logs.String(), "admin write") {
		t.Error("the relay does not log admin writes")
	}
}

// exampleDocForAdmin is the example document for an import, with its
// robot pointing at a token the stand-in does not know.
func exampleDocForAdmin(t *testing.T) []byte {
	t.Helper()
	srv := osstest.New(ossBucket)
	defer srv.Close()
	b := seedExampleDoc(t, srv)
	return bytes.Replace(b, []byte("example-access-token"), []byte("wrong-token"), 1)
}

// TestAdminAPIRefusals: without SENTRY_WHITE_ADMIN_KEY the admin paths do
// not exist (404); with it, a wrong key, a forged signature, a replayed
// and an expired request are refused with 401; the configurator's
// connection test words each.
func TestAdminAPIRefusals(t *testing.T) {
	srv := osstest.New(ossBucket)
	defer srv.Close()
	seedExampleDoc(t, srv)
	dt := robottest.NewDingTalk(exampleRobot())
	defer dt.Close()

	plain := startOSSRelay(t, srv, dt)
	resp, err := http.Get(plain.base + "/admin/v1/info")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || resp.Header.Get(store.AdminHeaderAPI) != "" {
		t.Errorf("admin path without an admin key: %d (admin header %q), want the relay's 404", resp.StatusCode, resp.Header.Get(store.AdminHeaderAPI))
	}
	c := newConfigurator(t, "relay+"+plain.base, map[string]string{"SENTRY_WHITE_ADMIN_KEY": adminKey})
	m := c.must(http.StatusOK, "POST", "/api/v1/settings/test", map[string]any{"store_kind": "relay", "relay_url": plain.base})
	if m["code"] != "no_admin_api" || !strings.Contains(m["message"].(string), "SENTRY_WHITE_ADMIN_KEY on the function") {
		t.Errorf("connection test against a relay without an admin key = %v", m)
	}
	plain.stop()

	r := startOSSRelayEnv(t, srv, dt, map[string]string{"OSS_REGION": "cn-hangzhou", "SENTRY_WHITE_ADMIN_KEY": adminKey})
	wrong := newConfigurator(t, "relay+"+r.base, map[string]string{"SENTRY_WHITE_ADMIN_KEY": "notTheRelaysAdminKey-000"})
	m = wrong.must(http.StatusOK, "POST", "/api/v1/settings/test", map[string]any{"store_kind": "relay", "relay_url": r.base})
	if m["code"] != "admin_key" || !strings.Contains(m["message"].(string), "refused the admin key") || strings.Contains(fmt.Sprint(m), "notTheRelaysAdminKey") {
		t.Errorf("connection test with a wrong key = %v", m)
	}
	if code, m, _ := wrong.do("GET", "/api/v1/owners", nil); code == http.StatusOK || !strings.Contains(fmt.Sprint(m), "admin key") {
		t.Errorf("reading with a wrong key: %d %v", code, m)
	}

	send := func(req *http.Request) (int, string) {
		t.Helper()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var a struct {
			Error string `json:"error"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&a)
		if strings.Contains(a.Error, adminKey) {
			t.Errorf("the relay echoed the admin key: %s", a.Error)
		}
		return resp.StatusCode, a.Error
	}
	signed := func(at time.Time, nonce, key string) *http.Request {
		req, _ := http.NewRequest(http.MethodGet, r.base+"/admin/v1/object?key=v1%2Fconfig.json", nil)
		d := strconv.FormatInt(at.Unix(), 10)
		sum := store.BodySHA256(nil)
		req.Header.Set(store.AdminHeaderDate, d)
		req.Header.Set(store.AdminHeaderNonce, nonce)
		req.Header.Set(store.AdminHeaderContentSHA256, sum)
		req.Header.Set(store.AdminHeaderSignature, store.AdminSign(key, store.AdminStringToSign(http.MethodGet, store.AdminCanonicalURI(req.URL), d, nonce, sum, "", "")))
		return req
	}
	now := time.Now()
	if code, _ := send(signed(now, "e2egood0000000000001", adminKey)); code != http.StatusOK {
		t.Fatalf("a well-signed request: %d", code)
	}
	for _, c := range []struct {
		name  string
		req   *http.Request
		words string
	}{
		{"replayed", signed(now, "e2egood0000000000001", adminKey), "already received"},
		{"expired", signed(now.Add(-10*time.Minute), "e2eexpired00000000001", adminKey), "away from the relay"},
		{"wrong key", signed(now, "e2ewrong0000000000001", "notTheRelaysAdminKey-000"), "signature does not match"},
		{"forged", func() *http.Request {
			q := signed(now, "e2eforged000000000001", adminKey)
			q.Header.Set(store.AdminHeaderSignature, strings.Repeat("0", 64))
			return q
		}(), "signature does not match"},
	} {
		if code, msg := send(c.req); code != http.StatusUnauthorized || !strings.Contains(msg, c.words) {
			t.Errorf("%s: %d %q, want 401 saying %q", c.name, code, msg, c.words)
		}
	}
	if !strings.Contains(r.logs.String(), "admin request refused") {
		t.Error("refused admin requests are not logged")
	}
}
