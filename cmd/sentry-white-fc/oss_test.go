package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/sentry-white/sentry-white/internal/robottest"
	"github.com/sentry-white/sentry-white/internal/store"
	"github.com/sentry-white/sentry-white/internal/store/osstest"
)

// Fake keys the relay gets from the environment and from FC's per-request
// headers; none may reach its logs.
const (
	ossEnvKeyID  = "LTAI5tRelayEnvKey01"
	ossEnvSecret = "relayEnvSecretValue01"
	ossEnvToken  = "CAISrelayEnvToken01"
	ossFCKeyID   = "STS.NUrelayFcKey02"
	ossFCSecret  = "relayFcSecretValue02"
	ossFCToken   = "CAISrelayFcToken02"
)

const ossBucket = "sentry-white-e2e"

// ossRelay is the relay started by run() on an oss:// store.
type ossRelay struct {
	token string // the webhook token GET / is asked with; "" means the example's
	base  string
	logs  *syncBuffer
	stop  func()
}

// syncBuffer collects the relay's log lines from its goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func seedExampleDoc(t *testing.T, srv *osstest.Server) []byte {
	t.Helper()
	doc, err := os.ReadFile("../../testdata/example-store/api/v1/config.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Seed(ossBucket, "api/v1/config.json", doc); err != nil {
		t.Fatal(err)
	}
	return doc
}

func startOSSRelay(t *testing.T, srv *osstest.Server, dt *robottest.DingTalk, args ...string) *ossRelay {
	t.Helper()
	return startOSSRelayEnv(t, srv, dt, map[string]string{"OSS_REGION": "cn-hangzhou"}, args...)
}

// startOSSRelayEnv starts the relay on srv with the test keys and extra
// environment variables. When it stops, every request srv received must
// have been signed with V4 (OSS4-HMAC-SHA256).
func startOSSRelayEnv(t *testing.T, srv *osstest.Server, dt *robottest.DingTalk, extra map[string]string, args ...string) *ossRelay {
	t.Helper()
	env := map[string]string{
		"OSS_ENDPOINT":                    srv.URL,
		"ALIBABA_CLOUD_ACCESS_KEY_ID":     ossEnvKeyID,
		"ALIBABA_CLOUD_ACCESS_KEY_SECRET": ossEnvSecret,
		"ALIBABA_CLOUD_SECURITY_TOKEN":    ossEnvToken,
		"SENTRY_WHITE_DINGTALK_API":       dt.URL(),
	}
	for k, v := range extra {
		env[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	logs := &syncBuffer{}
	args = append([]string{"-store", "oss://" + ossBucket + "/api/", "-addr", "127.0.0.1:0", "-spool", t.TempDir()}, args...)
	go func() { done <- run(ctx, testKinds, args, func(k string) string { return env[k] }, logs, ready) }()
	r := &ossRelay{logs: logs}
	select {
	case addr := <-ready:
		r.base = "http://" + addr
	case err := <-done:
		cancel()
		t.Fatalf("run: %v\n%s", err, logs)
	}
	stopped := false
	r.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
		for _, k := range []string{ossEnvKeyID, ossEnvSecret, ossEnvToken, ossFCKeyID, ossFCSecret, ossFCToken, "example-access-token", exampleSecret, "example-token-change-me"} {
			if strings.Contains(logs.String(), k) {
				t.Errorf("the relay logged a secret %q", k)
			}
		}
		for _, q := range srv.Requests() {
			if q.Scheme != osstest.V4 {
				t.Errorf("the relay sent %s %s signed %q, want %s (Authorization %q)", q.Method, q.Path, q.Scheme, osstest.V4, q.Header.Get("Authorization"))
			}
		}
	}
	t.Cleanup(r.stop)
	return r
}

// deployCheck GETs / (with FC's per-request keys when fc is true).
// deployCheck asks GET / with the webhook token, which shows the details
// (a stranger's answer is checked by internal/relay's TestDeployCheck).
func (r *ossRelay) deployCheck(t *testing.T, fc bool) (int, map[string]any) {
	t.Helper()
	tok := r.token
	if tok == "" {
		tok = "example-token-change-me"
	}
	req, _ := http.NewRequest(http.MethodGet, r.base+"/?token="+tok, nil)
	if fc {
		req.Header.Set("x-fc-access-key-id", ossFCKeyID)
		req.Header.Set("x-fc-access-key-secret", ossFCSecret)
		req.Header.Set("x-fc-security-token", ossFCToken)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatalf("GET / answered %d %s: %v", resp.StatusCode, raw, err)
	}
	return resp.StatusCode, body
}

// legacyEvent is testdata/sentry/legacy_saas.json with its own event id, so
// the relay's duplicate filter lets each through.
func legacyEvent(t *testing.T, n int) []byte {
	t.Helper()
	b := payload(t, "legacy_saas.json")
	const id = "9f2c1b7d3a4e4c8b8e6f1a2b3c4d5e6f"
	if !bytes.Contains(b, []byte(id)) {
		t.Fatalf("legacy_saas.json no longer holds event id %s", id)
	}
	return bytes.ReplaceAll(b, []byte(id), fmt.Appendf(nil, "%032x", n))
}

func exampleRobot() robottest.DingTalkRobot {
	return robottest.DingTalkRobot{Token: "example-access-token", Secret: exampleSecret, Keywords: []string{"详情"}}
}

// TestRunOnOSS: the relay on an oss:// store routes like on the folder
// store, reads the document once at start and not at all per webhook, and
// keeps delivering with the last good document when the store goes away.
func TestRunOnOSS(t *testing.T) {
	srv := osstest.New(ossBucket)
	defer srv.Close()
	seedExampleDoc(t, srv)
	dt := robottest.NewDingTalk(exampleRobot())
	defer dt.Close()
	r := startOSSRelay(t, srv, dt)

	reqs := srv.Requests()
	if len(reqs) != 1 || reqs[0].Method != http.MethodGet || reqs[0].Path != "/"+ossBucket+"/api/v1/config.json" || reqs[0].Status != 200 {
		t.Fatalf("cold start read %+v, want one GET of api/v1/config.json", reqs)
	}
	if reqs[0].AccessKeyID != ossEnvKeyID || reqs[0].SecurityToken != ossEnvToken {
		t.Errorf("cold start signed with %q/%q, want the ALIBABA_CLOUD_* keys", reqs[0].AccessKeyID, reqs[0].SecurityToken)
	}

	// Steady state: webhooks cost no store read.
	for i := range 3 {
		if code, body := post(t, r.base+"/?token=example-token-change-me", legacyEvent(t, 100+i)); code != 200 {
			t.Fatalf("webhook %d: %d %s", i, code, body)
		}
	}
	if n := srv.Count(); n != 1 {
		t.Errorf("3 webhooks inside the cache window cost %d store reads, want 0", n-1)
	}
	msgs := dt.Messages()
	if len(msgs) != 3 {
		t.Fatalf("%d messages, want one per webhook", len(msgs))
	}
	if m := msgs[0]; !m.Mentioned || len(m.AtMobiles) != 2 || !strings.Contains(m.Text, "详情") || !strings.Contains(m.Text, "商城后台") {
		t.Errorf("message %q: want the project, the keyword and both owners @-mentioned", m.Text)
	}

	// The deploy check reads the store no more often than webhooks do:
	// inside the cache window, not at all (a stranger cannot force reads).
	n := srv.Count()
	code, body := r.deployCheck(t, true)
	if code != 200 || !strings.Contains(body["message"].(string), "部署成功") || body["projects"] != float64(1) {
		t.Fatalf("GET / = %d %v, want 200 部署成功 with 1 project", code, body)
	}
	if reqs = srv.Since(n); len(reqs) != 0 {
		t.Fatalf("GET / inside the cache window read %+v", reqs)
	}

	// The store goes away: webhooks still go out, the deploy check says
	// degraded and why.
	srv.Close()
	if code, body := post(t, r.base+"/?token=example-token-change-me", legacyEvent(t, 2)); code != 200 {
		t.Fatalf("webhook with the store down: %d %s", code, body)
	}
	if len(dt.Messages()) != 4 {
		t.Errorf("%d messages, want 4", len(dt.Messages()))
	}
	// (GET / reports it once the cache window has passed:
	// TestRunOnOSSRevalidating.)
}

// TestRunOnOSSRevalidating runs with a cache window shorter than any gap
// between webhooks, so each webhook revalidates: a changed document takes
// effect, and failures of the store fall back to the last good document.
func TestRunOnOSSRevalidating(t *testing.T) {
	srv := osstest.New(ossBucket)
	defer srv.Close()
	doc := seedExampleDoc(t, srv)
	dt := robottest.NewDingTalk(exampleRobot())
	defer dt.Close()
	r := startOSSRelay(t, srv, dt, "-cache", "1ns")

	n := srv.Count()
	if code, body := post(t, r.base+"/?token=example-token-change-me", legacyEvent(t, 3)); code != 200 {
		t.Fatalf("webhook: %d %s", code, body)
	}
	if reqs := srv.Since(n); len(reqs) != 1 || reqs[0].Status != http.StatusNotModified {
		t.Errorf("a webhook after the window read %+v, want one conditional GET answered 304", reqs)
	}

	// A new token in the store is used by the next webhook.
	if err := srv.Seed(ossBucket, "api/v1/config.json", bytes.Replace(doc, []byte("example-token-change-me"), []byte("rotated-token-0002"), 1)); err != nil {
		t.Fatal(err)
	}
	if code, _ := post(t, r.base+"/?token=example-token-change-me", legacyEvent(t, 4)); code != 401 {
		t.Errorf("the old token after a change: %d, want 401", code)
	}
	if code, body := post(t, r.base+"/?token=rotated-token-0002", legacyEvent(t, 5)); code != 200 {
		t.Fatalf("the new token: %d %s", code, body)
	}
	r.token = "rotated-token-0002"

	// An invalid document is not used; the last good one is.
	if err := srv.Seed(ossBucket, "api/v1/config.json", []byte(`{"schema":1,"projects":[{"id":0}]}`)); err != nil {
		t.Fatal(err)
	}
	if code, body := post(t, r.base+"/?token=rotated-token-0002", legacyEvent(t, 6)); code != 200 {
		t.Fatalf("webhook with an invalid document stored: %d %s", code, body)
	}
	code, body := r.deployCheck(t, false)
	if code != 503 || body["status"] != "degraded" || !strings.Contains(body["error"].(string), "invalid") {
		t.Errorf("GET / with an invalid document = %d %v, want 503 degraded, invalid", code, body)
	}

	// Refused keys, then a store that is gone: still delivering.
	srv.Fail(osstest.Fault{Status: 403, Code: "InvalidAccessKeyId"})
	if code, body := post(t, r.base+"/?token=rotated-token-0002", legacyEvent(t, 7)); code != 200 {
		t.Fatalf("webhook with refused keys: %d %s", code, body)
	}
	code, body = r.deployCheck(t, false)
	if code != 503 || body["status"] != "degraded" || !strings.Contains(body["error"].(string), "credentials refused") {
		t.Errorf("GET / with refused keys = %d %v, want 503 degraded, credentials refused", code, body)
	}
	srv.Close()
	if code, body := post(t, r.base+"/?token=rotated-token-0002", legacyEvent(t, 8)); code != 200 {
		t.Fatalf("webhook with the store gone: %d %s", code, body)
	}
	code, body = r.deployCheck(t, false)
	if code != 503 || body["status"] != "degraded" || !strings.Contains(body["error"].(string), "endpoint unreachable") {
		t.Errorf("GET / with the store down = %d %v, want 503 degraded naming the unreachable endpoint", code, body)
	}
	if got := len(dt.Messages()); got != 5 {
		t.Errorf("%d messages, want 5 (every accepted webhook)", got)
	}
}

// TestRunOnOSSMissingBucket: a relay whose bucket does not exist starts,
// and its deploy check names the step.
func TestRunOnOSSMissingBucket(t *testing.T) {
	srv := osstest.New() // no bucket
	defer srv.Close()
	dt := robottest.NewDingTalk(exampleRobot())
	defer dt.Close()
	r := startOSSRelay(t, srv, dt)
	// No document was ever loaded, so no token can be checked: GET / names
	// the step, and the log the bucket.
	code, body := r.deployCheck(t, false)
	if code != 503 || body["status"] != "failing" || body["step"] != "store" {
		t.Errorf("GET / without the bucket = %d %v, want 503 failing at the store", code, body)
	}
	if !strings.Contains(r.logs.String(), "bucket missing") {
		t.Errorf("the log does not name the missing bucket:\n%s", r.logs)
	}
	if code, _ := post(t, r.base+"/?token=example-token-change-me", legacyEvent(t, 9)); code != 503 {
		t.Errorf("webhook without a document: %d, want 503", code)
	}
	if len(dt.Messages()) != 0 {
		t.Error("a message was sent without a document")
	}
}

// TestRunOnOSSSignsV4: every request of the relay (cold start, deploy
// check with FC's keys, delivery history) is signed with V4 for the
// region OSS_REGION names; OSS refuses V1 for new accounts.
func TestRunOnOSSSignsV4(t *testing.T) {
	srv := osstest.New(ossBucket)
	defer srv.Close()
	seedExampleDoc(t, srv)
	dt := robottest.NewDingTalk(exampleRobot())
	defer dt.Close()
	r := startOSSRelayEnv(t, srv, dt, map[string]string{"OSS_REGION": "cn-shanghai"})
	if code, body := r.deployCheck(t, true); code != 200 {
		t.Fatalf("GET / = %d %v", code, body)
	}
	if code, body := post(t, r.base+"/?token=example-token-change-me", legacyEvent(t, 11)); code != 200 {
		t.Fatalf("webhook: %d %s", code, body)
	}
	r.stop() // flushes the delivery history
	reqs := srv.Requests()
	if len(reqs) < 3 {
		t.Fatalf("%d requests; want the cold start, the deploy check and the history", len(reqs))
	}
	for _, q := range reqs {
		if q.Scheme != osstest.V4 || q.Region != "cn-shanghai" || q.Status == http.StatusForbidden {
			t.Errorf("%s %s: signed %q for %q, answered %d; want %s for cn-shanghai", q.Method, q.Path, q.Scheme, q.Region, q.Status, osstest.V4)
		}
	}
}

// TestRunOnOSSCustomDomain: the relay reads its document through a custom
// domain bound to the bucket (CNAME addressing), signing for the
// function's region (FC_REGION) since the domain names none.
func TestRunOnOSSCustomDomain(t *testing.T) {
	srv := osstest.New(ossBucket)
	defer srv.Close()
	seedExampleDoc(t, srv)
	dt := robottest.NewDingTalk(exampleRobot())
	defer dt.Close()
	r := startOSSRelayEnv(t, srv, dt, map[string]string{"OSS_ENDPOINT": srv.CNAME(ossBucket), "OSS_CNAME": "true", "FC_REGION": "cn-beijing"})
	code, body := r.deployCheck(t, false)
	if code != 200 || !strings.Contains(body["message"].(string), "部署成功") {
		t.Fatalf("GET / through a custom domain = %d %v", code, body)
	}
	for _, q := range srv.Requests() {
		if !q.CNAME || q.Region != "cn-beijing" {
			t.Errorf("%s %s: cname %v region %q; want the custom domain, signed for cn-beijing", q.Method, q.Path, q.CNAME, q.Region)
		}
	}
	if !strings.Contains(r.logs.String(), "custom domain") {
		t.Errorf("the start-up log does not say the store is reached through a custom domain:\n%s", r.logs)
	}
}

// TestRunOnOSSRefusalsExplained: OSS's refusals reach GET / (with the
// token) and the log in words, with the fix.
func TestRunOnOSSRefusalsExplained(t *testing.T) {
	srv := osstest.New(ossBucket)
	defer srv.Close()
	seedExampleDoc(t, srv)
	dt := robottest.NewDingTalk(exampleRobot())
	defer dt.Close()
	r := startOSSRelay(t, srv, dt, "-cache", "1ns") // every GET / revalidates
	for _, c := range []struct {
		fault osstest.Fault
		words []string
	}{
		{osstest.Fault{Status: 400, Code: "PublicEndpointForbidden"}, []string{"public endpoint", "2025-03-20", "custom domain", "-internal"}},
		{osstest.V1Refused, []string{"V1 signature", "V4"}},
		{osstest.Fault{Status: 403, Code: "AccessDenied"}, []string{"not allowed", "ram-policy-relay.json"}},
		{osstest.Fault{Status: 403, Code: "SignatureDoesNotMatch"}, []string{"secret", "OSS_REGION (now cn-hangzhou)"}},
	} {
		srv.Fail(c.fault)
		code, body := r.deployCheck(t, false)
		msg, _ := body["error"].(string)
		if code != 503 {
			t.Errorf("%s: GET / = %d %v", c.fault.Code, code, body)
		}
		for _, w := range c.words {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: GET / says %q, without %q", c.fault.Code, msg, w)
			}
			if !strings.Contains(r.logs.String(), w) {
				t.Errorf("%s: the log does not say %q", c.fault.Code, w)
			}
		}
	}
	srv.Fail(osstest.Fault{})
}

// TestRunOnLoopbackOSSWithoutRegion: the contract's local test setup,
// OSS_ENDPOINT=http://127.0.0.1:PORT and keys but no OSS_REGION, starts
// and delivers (it used to exit: "the bucket's region is unknown"); the
// signature names cn-hangzhou.
func TestRunOnLoopbackOSSWithoutRegion(t *testing.T) {
	srv := osstest.New(ossBucket)
	defer srv.Close()
	seedExampleDoc(t, srv)
	dt := robottest.NewDingTalk(exampleRobot())
	defer dt.Close()
	r := startOSSRelayEnv(t, srv, dt, nil)
	if code, body := post(t, r.base+"/?token=example-token-change-me", legacyEvent(t, 1)); code != 200 {
		t.Fatalf("webhook: %d %s", code, body)
	}
	if n := len(dt.Messages()); n != 1 {
		t.Fatalf("%d messages, want 1", n)
	}
	for _, q := range srv.Requests() {
		if q.Region != store.DefaultLocalRegion {
			t.Errorf("%s %s signed for region %q, want %q", q.Method, q.Path, q.Region, store.DefaultLocalRegion)
		}
	}
}

// TestRunOnOSSFCKeysNeedTheirToken: on Function Compute the relay signs
// with the per-request keys only when FC sent all three headers. The
// custom runtime on Debian 11 sends the temporary key and secret but no
// x-fc-security-token; a temporary key without its token is refused by
// OSS, so the relay signs with the ALIBABA_CLOUD_* keys (and their token)
// that FC sets in the environment.
func TestRunOnOSSFCKeysNeedTheirToken(t *testing.T) {
	srv := osstest.New(ossBucket)
	defer srv.Close()
	seedExampleDoc(t, srv)
	dt := robottest.NewDingTalk(exampleRobot())
	defer dt.Close()
	r := startOSSRelay(t, srv, dt, "-mode", "fc", "-cache", "1ns")

	cases := []struct {
		name         string
		hdr          []string
		keyID, token string
	}{
		{"all three headers (Debian 10)", []string{"x-fc-access-key-id", ossFCKeyID, "x-fc-access-key-secret", ossFCSecret, "x-fc-security-token", ossFCToken}, ossFCKeyID, ossFCToken},
		{"no security token (Debian 11)", []string{"x-fc-access-key-id", ossFCKeyID, "x-fc-access-key-secret", ossFCSecret}, ossEnvKeyID, ossEnvToken},
		{"no headers", nil, ossEnvKeyID, ossEnvToken},
	}
	for i, c := range cases {
		n := srv.Count()
		if code, body := post(t, r.base+"/?token=example-token-change-me", legacyEvent(t, 200+i), c.hdr...); code != 200 {
			t.Fatalf("%s: webhook answered %d %s", c.name, code, body)
		}
		reqs := srv.Since(n)
		if len(reqs) == 0 {
			t.Fatalf("%s: the webhook did not revalidate the document (cache 1ns)", c.name)
		}
		for _, q := range reqs {
			if q.AccessKeyID != c.keyID || q.SecurityToken != c.token {
				t.Errorf("%s: %s %s signed with %q token %q, want %q token %q", c.name, q.Method, q.Path, q.AccessKeyID, q.SecurityToken, c.keyID, c.token)
			}
		}
	}
	if got := len(dt.Messages()); got != len(cases) {
		t.Errorf("%d messages, want %d", got, len(cases))
	}
}
