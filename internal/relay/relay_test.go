package relay

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/deliveries"
	"github.com/sentry-white/sentry-white/internal/dispatch"
	"github.com/sentry-white/sentry-white/internal/docstore"
	"github.com/sentry-white/sentry-white/internal/notifiers"
	"github.com/sentry-white/sentry-white/internal/notify"
	"github.com/sentry-white/sentry-white/internal/plan"
	"github.com/sentry-white/sentry-white/internal/render"
	"github.com/sentry-white/sentry-white/internal/robottest"
	"github.com/sentry-white/sentry-white/internal/sentry"
	"github.com/sentry-white/sentry-white/internal/store"
)

const (
	token        = "tok-3f9c0a7e5b1d"
	robotSecret  = "SECa7f09b5ea245debd13fb7fe1993897008f6b44ddf80310d14f3de4d3f407221d"
	clientSecret = "6f7e0a2b9c8d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f"
	password     = "pa55-shared-login"
)

// testDoc is the configuration every relay test starts from.
func testDoc() *config.Document {
	return &config.Document{
		Schema:       1,
		WebhookToken: token,
		Organizations: []config.Organization{
			{ID: 1, Name: "公司主账号", SentryURL: "https://sentry.io", Slug: "acme", Account: "viewer@acme.com", Password: password},
			{ID: 2, Name: "自建", SentryURL: "https://sentry.example.org", Slug: "other", ClientSecret: clientSecret},
		},
		Owners: []config.Owner{
			{ID: 1, Name: "张三", Mobile: "13800138000"},
			{ID: 2, Name: "李四", Mobile: "13900139000"},
			{ID: 3, Name: "王五", Mobile: "13700137000"},
		},
		Robots: []config.Robot{
			{ID: 1, Name: "研发告警群", Kind: "dingtalk", AccessToken: "robot-signed-token", Secret: robotSecret, Keyword: "详情"},
			{ID: 2, Name: "运维群", Kind: "dingtalk", AccessToken: "robot-kw-token", Keyword: "详情"},
			{ID: 3, Name: "自建群", Kind: "dingtalk", AccessToken: "robot-other-token"},
			{ID: 4, Name: "坏机器人", Kind: "dingtalk", AccessToken: "robot-unknown-token"},
		},
		Projects: []config.Project{
			{ID: 1, Name: "商城后台", Slug: "mall-api", OrganizationID: 1, OwnerIDs: []int64{1, 2}, RobotIDs: []int64{1, 2}},
			{ID: 2, Name: "商城后台（自建）", Slug: "mall-api", OrganizationID: 2, OwnerIDs: []int64{3}, RobotIDs: []int64{3}},
			{ID: 3, Name: "坏项目", Slug: "broken", OrganizationID: 1, OwnerIDs: []int64{1}, RobotIDs: []int64{4}},
			{ID: 4, Name: "Shop Web", Slug: "shop-web", OrganizationID: 1, OwnerIDs: []int64{1}, RobotIDs: []int64{2},
				Environments: []string{"production"}},
		},
	}
}

type env struct {
	t       *testing.T
	srv     *httptest.Server
	h       *Handler
	robot   *robottest.DingTalk
	dir     string
	docs    *docstore.Docs
	logs    *syncBuffer
	clock   time.Time
	clockMu sync.Mutex
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newEnv(t *testing.T, mutate ...func(*Options)) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir(), logs: &syncBuffer{}}
	e.robot = robottest.NewDingTalk(
		robottest.DingTalkRobot{Token: "robot-signed-token", Secret: robotSecret, Keywords: []string{"详情"}},
		robottest.DingTalkRobot{Token: "robot-kw-token", Keywords: []string{"详情"}},
		robottest.DingTalkRobot{Token: "robot-other-token", Keywords: []string{"详情"}},
	)
	t.Cleanup(e.robot.Close)
	backend := store.NewFile(e.dir)
	e.docs = docstore.NewDocs(backend, "api/", kinds.Document())
	if _, err := e.docs.Save(context.Background(), testDoc(), ""); err != nil {
		t.Fatal(err)
	}
	o := Options{
		Docs:  docstore.NewCache(backend, store.ConfigKey("api/"), time.Hour, kinds.Document()),
		Kinds: kinds,
		Dispatch: dispatch.Options{
			Senders: dingTalkAt(e.robot.URL()),
			Policy:  notify.Policy{Attempts: 4, Base: time.Millisecond, Max: 5 * time.Millisecond},
		},
		Logger: slog.New(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, m := range mutate {
		m(&o)
	}
	e.h = mustNew(t, o)
	e.srv = httptest.NewServer(e.h)
	t.Cleanup(e.srv.Close)
	return e
}

// dingTalkAt is every kind's sender, DingTalk's posting to base (a
// stand-in).
func dingTalkAt(base string) map[string]notify.Sender {
	return kinds.Senders(func(k string) string {
		if k == "SENTRY_WHITE_DINGTALK_API" {
			return base
		}
		return ""
	}, nil)
}

// mustNew wires a handler as the program does.
// kinds are the robot kinds of the tests, the programs' own.
var kinds = notifiers.Default()

func mustNew(t testing.TB, o Options) *Handler {
	t.Helper()
	h, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func testdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "sentry", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type answer struct {
	Status    string    `json:"status"`
	Error     string    `json:"error"`
	Reason    string    `json:"reason"`
	Ignored   bool      `json:"ignored"`
	Project   string    `json:"project"`
	Delivered []outcome `json:"delivered"`
}

// post sends body to the relay; hdr holds header pairs.
func (e *env) post(query string, body []byte, hdr ...string) (int, answer) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/"+query, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var a answer
	if err := json.Unmarshal(raw, &a); err != nil {
		e.t.Fatalf("answer is not JSON: %s", raw)
	}
	return resp.StatusCode, a
}

func TestLegacyDeliversOneSignedMessagePerRobot(t *testing.T) {
	e := newEnv(t)
	code, a := e.post("?token="+token, testdata(t, "legacy_saas.json"))
	if code != http.StatusOK || a.Status != "delivered" {
		t.Fatalf("got %d %+v", code, a)
	}
	if len(a.Delivered) != 2 {
		t.Fatalf("delivered to %d robots, want 2: %+v", len(a.Delivered), a)
	}
	msgs := e.robot.Messages()
	if len(msgs) != 2 {
		t.Fatalf("robot got %d messages, want 2", len(msgs))
	}
	tokens := map[string]bool{}
	for _, m := range msgs {
		tokens[m.Token] = true
		if m.MsgType != "markdown" || !m.Mentioned || strings.Join(m.AtMobiles, ",") != "13800138000,13900139000" {
			t.Errorf("message %+v: want markdown @-mentioning both owners", m)
		}
		for _, want := range []string{"详情", "商城后台", "mall-api", "TypeError", "production", "mall-api@2.3.1", "/cart",
			"https://acme.sentry.io/issues/4567890123/", "viewer@acme.com", "@13800138000", "@13900139000"} {
			if !strings.Contains(m.Text, want) {
				t.Errorf("message lacks %q:\n%s", want, m.Text)
			}
		}
	}
	if !tokens["robot-signed-token"] || !tokens["robot-kw-token"] {
		t.Errorf("robots reached: %v", tokens)
	}
}

func TestIntegrationResources(t *testing.T) {
	for _, tc := range []struct{ file, resource string }{
		{"event_alert.json", "event_alert"}, {"event_alert_utf8.json", "event_alert"}, {"error_created.json", "error"},
		{"issue_created.json", "issue"}, {"issue_resolved.json", "issue"}, {"issue_assigned.json", "issue"},
		{"issue_ignored.json", "issue"}, {"issue_unresolved.json", "issue"},
		{"metric_alert_critical.json", "metric_alert"}, {"metric_alert_warning.json", "metric_alert"}, {"metric_alert_resolved.json", "metric_alert"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			e := newEnv(t)
			code, a := e.post("?token="+token, testdata(t, tc.file), "Sentry-Hook-Resource", tc.resource,
				"Request-ID", "0123456789abcdef0123456789abcdef")
			if code != http.StatusOK || len(a.Delivered) != 2 {
				t.Fatalf("got %d %+v", code, a)
			}
			msgs := e.robot.Messages()
			if len(msgs) != 2 {
				t.Fatalf("%d messages, want 2 (organization acme only)", len(msgs))
			}
			for _, m := range msgs {
				if m.Token == "robot-other-token" {
					t.Error("an acme alert reached the other organization's robot")
				}
				if !strings.Contains(m.Text, "https://") || !strings.Contains(m.Text, "详情") {
					t.Errorf("message lacks a link or the keyword:\n%s", m.Text)
				}
			}
		})
	}
}

func TestIgnoredResources(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct{ file, resource string }{
		{"installation_created.json", "installation"}, {"comment_created.json", "comment"}, {"seer_unknown.json", "seer"},
		{"seer_unknown.json", "preprod_artifact"}, {"seer_unknown.json", "a_resource_of_2027"},
	} {
		code, a := e.post("?token="+token, testdata(t, tc.file), "Sentry-Hook-Resource", tc.resource)
		if code != http.StatusOK || !a.Ignored || a.Status != "ignored" || a.Reason == "" {
			t.Errorf("%s: got %d %+v", tc.resource, code, a)
		}
	}
	if n := e.robot.Requests(); n != 0 {
		t.Errorf("%d robot requests for ignored resources", n)
	}
}

func TestRefusals(t *testing.T) {
	e := newEnv(t)
	legacy := testdata(t, "legacy_saas.json")
	unknown := bytes.Replace(legacy, []byte(`"mall-api"`), []byte(`"no-such-app"`), -1)
	for _, tc := range []struct {
		name, query string
		body        []byte
		hdr         []string
		code        int
		want        string
	}{
		{"missing token", "", legacy, nil, 401, "token is missing"},
		{"wrong token", "?token=nope", legacy, nil, 401, "token is wrong"},
		{"unknown project", "?token=" + token, unknown, nil, 404, "no-such-app"},
		{"empty body", "?token=" + token, nil, nil, 400, "empty"},
		{"not json", "?token=" + token, []byte("hello"), nil, 400, "not JSON"},
		{"array", "?token=" + token, []byte(`[1]`), nil, 400, "array"},
		{"string", "?token=" + token, []byte(`"hi"`), nil, 400, "JSON string"},
		{"invalid utf8", "?token=" + token, []byte("{\"project\":\"\xff\"}"), nil, 400, "UTF-8"},
		{"deep", "?token=" + token, []byte(strings.Repeat("[", 100000)), nil, 400, "array"},
		{"deep object", "?token=" + token, []byte(strings.Repeat(`{"a":`, 5000) + "1" + strings.Repeat("}", 5000)), nil, 400, "deeper"},
		{"too big", "?token=" + token, bytes.Repeat([]byte(" "), 10<<20), nil, 413, "4 MiB"},
		{"wrong content type", "?token=" + token, legacy, []string{"Content-Type", "multipart/form-data; boundary=x"}, 415, "not JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, a := e.post(tc.query, tc.body, tc.hdr...)
			if code != tc.code || !strings.Contains(a.Error, tc.want) {
				t.Errorf("got %d %q, want %d mentioning %q", code, a.Error, tc.code, tc.want)
			}
		})
	}
	if n := e.robot.Requests(); n != 0 {
		t.Errorf("%d robot requests for refused webhooks", n)
	}
	// The relay keeps serving.
	if code, _ := e.post("?token="+token, legacy); code != 200 {
		t.Errorf("after refusals: %d", code)
	}
}

func TestSignature(t *testing.T) {
	e := newEnv(t)
	// An event_alert of organization "other", whose client_secret is set.
	body := bytes.ReplaceAll(testdata(t, "event_alert.json"), []byte("/acme/"), []byte("/other/"))
	good := sentry.Sign(body, clientSecret)
	now := strconv.FormatInt(time.Now().Unix(), 10)
	for _, tc := range []struct {
		name string
		hdr  []string
		code int
	}{
		{"missing", nil, 401},
		{"wrong", []string{"Sentry-Hook-Signature", strings.Repeat("0", 64)}, 401},
		{"not hex", []string{"Sentry-Hook-Signature", "xyz"}, 401},
		{"stale timestamp", []string{"Sentry-Hook-Signature", good, "Sentry-Hook-Timestamp", "1500000000"}, 401},
		{"no timestamp (a replay of a signed body)", []string{"Sentry-Hook-Signature", good}, 401},
		{"good", []string{"Sentry-Hook-Signature", good, "Sentry-Hook-Timestamp", now}, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(e.robot.Messages())
			hdr := append([]string{"Sentry-Hook-Resource", "event_alert"}, tc.hdr...)
			code, a := e.post("?token="+token, body, hdr...)
			if code != tc.code {
				t.Fatalf("got %d %+v, want %d", code, a, tc.code)
			}
			msgs := e.robot.Messages()[before:]
			if tc.code == 200 {
				if len(msgs) != 1 || msgs[0].Token != "robot-other-token" || !strings.Contains(msgs[0].Text, "@13700137000") {
					t.Errorf("messages = %+v, want one to the other organization's robot", msgs)
				}
			} else if len(msgs) != 0 {
				t.Errorf("%d messages sent for a refused signature", len(msgs))
			}
		})
	}
	// The legacy plugin never signs: its unsigned body is accepted with the
	// token; a signature it does carry is checked.
	legacy := bytes.ReplaceAll(testdata(t, "legacy_selfhosted.json"), []byte(`"shop-web"`), []byte(`"mall-api"`))
	legacy = bytes.ReplaceAll(legacy, []byte("/acme/"), []byte("/other/"))
	if code, a := e.post("?token="+token, legacy); code != 200 {
		t.Errorf("unsigned legacy body for an organization with a client secret: %d %+v", code, a)
	}
	if code, _ := e.post("?token="+token, legacy, "Sentry-Hook-Signature", strings.Repeat("0", 64)); code != 401 {
		t.Errorf("legacy body with a wrong signature: %d, want 401", code)
	}
	// An organization that requires signatures refuses the unsigned legacy
	// body (require_signature).
	e.edit(func(d *config.Document) {
		for i := range d.Organizations {
			if d.Organizations[i].Slug == "other" {
				d.Organizations[i].RequireSignature = true
			}
		}
	})
	legacy2 := bytes.ReplaceAll(legacy, []byte(`"id": "`), []byte(`"id": "9`)) // another alert, not a copy
	if code, a := e.post("?token="+token, legacy2); code != 401 || !strings.Contains(a.Error, "require_signature") {
		t.Errorf("unsigned legacy body for an organization that requires signatures: %d %+v, want 401", code, a)
	}
	if code, a := e.post("?token="+token, body, "Sentry-Hook-Resource", "event_alert", "Sentry-Hook-Signature", good, "Sentry-Hook-Timestamp", now,
		"Request-ID", "another"); code != 200 {
		t.Errorf("a signed body for that organization: %d %+v", code, a)
	}
	// Re-encoding the JSON (Go escapes differently) must not verify.
	var v any
	_ = json.Unmarshal(body, &v)
	reenc, _ := json.Marshal(v)
	if code, _ := e.post("?token="+token, reenc, "Sentry-Hook-Resource", "event_alert", "Sentry-Hook-Signature", good); code != 401 {
		t.Errorf("re-encoded body with the original signature: %d, want 401", code)
	}
}

func TestRobotRefusalIs502(t *testing.T) {
	e := newEnv(t)
	body := bytes.ReplaceAll(testdata(t, "legacy_saas.json"), []byte(`"mall-api"`), []byte(`"broken"`))
	code, a := e.post("?token="+token, body)
	if code != http.StatusBadGateway || !strings.Contains(a.Error, "坏机器人") || !strings.Contains(a.Error, "300005") {
		t.Fatalf("got %d %+v, want 502 naming the robot and its code", code, a)
	}
	if len(a.Delivered) != 1 || a.Delivered[0].Code != 300005 || a.Delivered[0].Fix == "" {
		t.Errorf("delivered = %+v", a.Delivered)
	}
}

func TestRetriesTransientFailures(t *testing.T) {
	e := newEnv(t)
	e.robot.FailNext(robottest.Fault500, robottest.FaultBusy)
	body := testdata(t, "legacy_selfhosted.json") // shop-web: one robot
	body = bytes.ReplaceAll(body, []byte(`"staging"`), []byte(`"production"`))
	code, a := e.post("?token="+token, body)
	if code != 200 {
		t.Fatalf("got %d %+v", code, a)
	}
	if got := len(e.robot.Messages()); got != 1 {
		t.Errorf("%d messages, want exactly 1", got)
	}
	if a.Delivered[0].Attempts != 3 {
		t.Errorf("attempts = %d, want 3", a.Delivered[0].Attempts)
	}
}

func TestFilters(t *testing.T) {
	e := newEnv(t)
	// shop-web only alerts for production; this event is from staging.
	code, a := e.post("?token="+token, testdata(t, "legacy_selfhosted.json"))
	if code != 200 || a.Status != "filtered" || !strings.Contains(a.Reason, "staging") {
		t.Fatalf("got %d %+v", code, a)
	}
	if e.robot.Requests() != 0 {
		t.Error("a filtered alert was sent")
	}
}

func TestBudgetExceededAnswers202AndStillDelivers(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.LegacyBudget = 20 * time.Millisecond })
	e.robot.SetLatency(300 * time.Millisecond)
	code, a := e.post("?token="+token, testdata(t, "legacy_saas.json"))
	if code != http.StatusAccepted || a.Status != "accepted" {
		t.Fatalf("got %d %+v, want 202", code, a)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.h.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if got := len(e.robot.Messages()); got != 2 {
		t.Errorf("%d messages after the answer, want 2", got)
	}
}

func TestCallerDisconnectDoesNotCancelDelivery(t *testing.T) {
	e := newEnv(t)
	e.robot.SetLatency(100 * time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	req := httptest.NewRequest(http.MethodPost, "/?token="+token, bytes.NewReader(testdata(t, "legacy_saas.json"))).WithContext(ctx)
	req.Header.Set("Content-Type", "application/json")
	cancel() // Sentry gave up before we even started
	e.h.ServeHTTP(httptest.NewRecorder(), req)
	wctx, wcancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer wcancel()
	if err := e.h.Wait(wctx); err != nil {
		t.Fatal(err)
	}
	if got := len(e.robot.Messages()); got != 2 {
		t.Errorf("%d messages, want 2", got)
	}
}

func getJSON(t *testing.T, url string, hdr ...string) (int, map[string]any, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, m, string(raw)
}

// TestDeployCheck: GET / says ok, degraded or failing, and which step in
// words; only with the webhook token does it show the document's details
// (field paths, versions).
func TestDeployCheck(t *testing.T) {
	e := newEnv(t)
	code, m, raw := getJSON(t, e.srv.URL+"/")
	if code != 200 || m["status"] != "ok" || !strings.Contains(raw, "部署成功") || m["projects"] != nil {
		t.Fatalf("GET / = %d %s", code, raw)
	}
	if code, m, raw = getJSON(t, e.srv.URL+"/?token="+token); code != 200 || m["projects"] != float64(4) || m["version"] == "" {
		t.Fatalf("GET /?token = %d %s", code, raw)
	}
	// Break the document: the relay keeps routing with the last good one
	// and GET / reports the degraded state.
	if err := os.WriteFile(filepath.Join(e.dir, "api", "v1", "config.json"), []byte(`{"schema":1,"projects":[{"id":1}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	_ = e.h.o.Docs.Refresh(context.Background()) // the cache window passes
	code, m, raw = getJSON(t, e.srv.URL+"/")
	if code != 503 || m["status"] != "degraded" || m["step"] != "document" {
		t.Fatalf("GET / with a broken document = %d %s", code, raw)
	}
	for _, leak := range []string{"projects[0]", "slug", "config.json", e.dir} {
		if strings.Contains(raw, leak) {
			t.Errorf("GET / without the token tells a stranger %q: %s", leak, raw)
		}
	}
	if code, _, raw = getJSON(t, e.srv.URL+"/?token="+token); code != 503 || !strings.Contains(raw, "projects[0].slug") {
		t.Fatalf("GET /?token with a broken document = %d %s", code, raw)
	}
	if code, _ := e.post("?token="+token, testdata(t, "legacy_saas.json")); code != 200 {
		t.Errorf("webhook with a broken document = %d, want 200 from the last good one", code)
	}
	// No document at all and none loaded before: 503 naming the step.
	empty := newEnvNoDoc(t)
	code, m, raw = getJSON(t, empty.URL+"/")
	if code != 503 || m["status"] != "failing" || m["step"] != "document" || strings.Contains(raw, "api/v1") {
		t.Fatalf("GET / without a document = %d %s", code, raw)
	}
}

// TestFCHeadersOnlyOnFC: a server trusts no client's x-fc-* headers: the
// store never sees keys a stranger sent. On FC, the gateway's are used.
func TestFCHeadersOnlyOnFC(t *testing.T) {
	for _, fc := range []bool{false, true} {
		rec := &credsRecorder{}
		e := newEnv(t, func(o *Options) {
			rec.Docs = o.Docs
			o.Docs, o.FC = rec, fc
		})
		hdr := []string{"x-fc-access-key-id", "LTAIbogus", "x-fc-access-key-secret", "bogus-secret", "x-fc-security-token", "bogus-token"}
		getJSON(t, e.srv.URL+"/", hdr...)
		e.post("?token="+token, testdata(t, "legacy_saas.json"), hdr...)
		if got := rec.seen(); got != fc {
			t.Errorf("FC=%v: the store saw the request's keys: %v", fc, got)
		}
	}
}

// credsRecorder is a Docs that notes whether a request's credentials
// reached it.
type credsRecorder struct {
	Docs
	mu  sync.Mutex
	saw bool
}

func (c *credsRecorder) note(ctx context.Context) {
	if cr, ok := store.CredentialsFrom(ctx); ok && cr.AccessKeyID == "LTAIbogus" {
		c.mu.Lock()
		c.saw = true
		c.mu.Unlock()
	}
}

func (c *credsRecorder) Get(ctx context.Context) (*config.Index, error) {
	c.note(ctx)
	return c.Docs.Get(ctx)
}

func (c *credsRecorder) Refresh(ctx context.Context) error {
	c.note(ctx)
	return c.Docs.Refresh(ctx)
}

func (c *credsRecorder) seen() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.saw
}

func newEnvNoDoc(t *testing.T) *httptest.Server {
	backend := store.NewFile(t.TempDir())
	h := mustNew(t, Options{Docs: docstore.NewCache(backend, store.ConfigKey("api/"), time.Hour, kinds.Document()), Kinds: kinds})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// TestLogsCarryNoSecret runs every kind of request and fails if any secret
// of the configuration appears in the logs.
func TestLogsCarryNoSecret(t *testing.T) {
	e := newEnv(t)
	e.post("?token="+token, testdata(t, "legacy_saas.json"))
	e.post("?token=wrong-"+token, testdata(t, "legacy_saas.json"))
	e.post("?token="+token, bytes.ReplaceAll(testdata(t, "legacy_saas.json"), []byte(`"mall-api"`), []byte(`"broken"`)))
	e.post("?token="+token, testdata(t, "event_alert.json"), "Sentry-Hook-Resource", "event_alert", "Sentry-Hook-Signature", "00")
	e.robot.FailNext(robottest.Fault500)
	e.post("?token="+token, testdata(t, "issue_created.json"), "Sentry-Hook-Resource", "issue")
	http.Get(e.srv.URL + "/")
	e.srv.Close() // every handler has ended and logged
	logs := e.logs.String()
	// Each webhook's line names the robots it went to (first 研发告警群).
	if !strings.Contains(logs, `"robot":"研发告警群`) || !strings.Contains(logs, `"latency_ms"`) {
		t.Fatalf("logs lack delivery records:\n%s", logs)
	}
	for _, s := range testDoc().Secrets() {
		if strings.Contains(logs, s) {
			t.Errorf("logs contain the secret %q", s)
		}
	}
	for _, s := range []string{"sign=", "access_token=robot"} {
		if strings.Contains(logs, s) {
			t.Errorf("logs contain %q", s)
		}
	}
}

func TestDuplicateSentOnce(t *testing.T) {
	e := newEnv(t)
	body := testdata(t, "event_alert.json")
	hdr := []string{"Sentry-Hook-Resource", "event_alert", "Request-ID", "aaaabbbbccccddddeeeeffff00001111"}
	if code, a := e.post("?token="+token, body, hdr...); code != 200 || a.Status != "delivered" {
		t.Fatalf("first: %d %+v", code, a)
	}
	code, a := e.post("?token="+token, body, hdr...)
	if code != 200 || a.Status != "duplicate" {
		t.Fatalf("second: %d %+v", code, a)
	}
	// The legacy plugin sends no Request-ID: the event id and rule decide.
	legacy := testdata(t, "legacy_saas.json")
	e.post("?token="+token, legacy)
	if _, a := e.post("?token="+token, legacy); a.Status != "duplicate" {
		t.Errorf("legacy repeat: %+v", a)
	}
	if n := len(e.robot.Messages()); n != 4 {
		t.Errorf("%d messages, want 4 (2 webhooks × 2 robots)", n)
	}
	// After an edit of the configuration the same webhook routes anew: it
	// is not a copy of what was sent.
	e.edit(func(d *config.Document) {
		d.Projects[0].RobotIDs = []int64{2}
	})
	if _, a := e.post("?token="+token, legacy); a.Status != "delivered" || len(a.Delivered) != 1 {
		t.Errorf("after an edit: %+v", a)
	}
}

func TestRepeatWindowCollapses(t *testing.T) {
	now := time.Now()
	e := newEnv(t, func(o *Options) { o.Now = func() time.Time { return now } })
	e.edit(func(d *config.Document) {
		d.Projects[0].RepeatWindowSeconds = 600
	})
	// Each repeat is a new event of the same issue.
	send := func(rid string) answer {
		body := strings.ReplaceAll(string(testdata(t, "legacy_saas.json")), "9f2c1b7d3a4e4c8b8e6f1a2b3c4d5e6f", "9f2c1b7d3a4e4c8b8e6f1a2b3c4d5e"+rid)
		_, a := e.post("?token="+token, []byte(body))
		return a
	}
	if a := send("01"); a.Status != "delivered" {
		t.Fatalf("first: %+v", a)
	}
	for _, rid := range []string{"02", "03", "04"} {
		if a := send(rid); a.Status != "collapsed" {
			t.Fatalf("repeat %s: %+v", rid, a)
		}
	}
	now = now.Add(11 * time.Minute)
	if a := send("05"); a.Status != "delivered" {
		t.Fatalf("after the window: %+v", a)
	}
	msgs := e.robot.Messages() // 2 robots × 2 messages
	if len(msgs) != 4 || !strings.Contains(msgs[3].Text, "上条消息后重复次数**: 3") {
		t.Fatalf("%d messages; last:\n%s", len(msgs), msgs[len(msgs)-1].Text)
	}
}

func TestRateLimitedRobotAnswers202AndQueues(t *testing.T) {
	e := newEnv(t)
	e.robot.FailNext(robottest.FaultNoCode, robottest.FaultNoCode)
	code, a := e.post("?token="+token, testdata(t, "legacy_saas.json"))
	if code != http.StatusAccepted || a.Status != "accepted" {
		t.Fatalf("got %d %+v", code, a)
	}
	for _, o := range a.Delivered {
		if o.Status != "queued" || !o.Pending {
			t.Errorf("outcome %+v, want queued", o)
		}
	}
}

func TestHistoryRecordsDeliveries(t *testing.T) {
	var hist *deliveries.Log
	e := newEnv(t, func(o *Options) {
		hist = deliveries.New(store.NewFile(t.TempDir()), "api/", nil)
		o.History = hist
	})
	e.post("?token="+token, testdata(t, "legacy_saas.json"))
	e.post("?token="+token, bytes.ReplaceAll(testdata(t, "legacy_saas.json"), []byte(`"mall-api"`), []byte(`"broken"`)))
	if err := hist.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	recs, err := hist.List(context.Background(), deliveries.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 {
		t.Fatalf("%d records, want 3: %+v", len(recs), recs)
	}
	var failed *deliveries.Record
	for i := range recs {
		if recs[i].Result == deliveries.Failed {
			failed = &recs[i]
		}
		if recs[i].ProjectName == "" || recs[i].Link == "" || recs[i].Robot == "" {
			t.Errorf("record lacks fields: %+v", recs[i])
		}
	}
	if failed == nil || failed.Code != 300005 || failed.Message == nil || failed.Robot != "坏机器人" {
		t.Fatalf("failed record = %+v", failed)
	}
}

// TestFCHandOff runs the relay in Function Compute mode: alerts over the
// robots' budget are handed to an asynchronous invocation of the relay's
// own URL, signed with the webhook token; that invocation (here on another
// instance) delivers them. A forged hand-off is refused.
func TestFCHandOff(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.FC = true })
	var captured *http.Request
	var capturedBody []byte
	self := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		captured = r
		capturedBody, _ = io.ReadAll(r.Body)
		w.WriteHeader(http.StatusAccepted) // FC accepted the asynchronous invocation
	}))
	defer self.Close()
	e.h.o.SelfURL = self.URL
	e.robot.FailNext(robottest.FaultNoCode, robottest.FaultNoCode) // both robots blocked
	code, a := e.post("?token="+token, testdata(t, "legacy_saas.json"))
	if code != http.StatusAccepted {
		t.Fatalf("got %d %+v", code, a)
	}
	if captured == nil || captured.Header.Get("X-Fc-Invocation-Type") != "Async" || captured.URL.Path != handoffPath {
		t.Fatalf("hand-off = %+v", captured)
	}
	if e.h.Dispatcher().Queued() != 0 {
		t.Errorf("%d alerts still queued on the instance that handed them off", e.h.Dispatcher().Queued())
	}
	// The hand-off names robots by id: no robot token or secret travels in
	// it.
	for _, r := range testDoc().Robots {
		for _, v := range []string{r.AccessToken.Reveal(), r.Secret.Reveal()} {
			if v != "" && bytes.Contains(capturedBody, []byte(v)) {
				t.Errorf("the hand-off body holds robot %d's credential: %s", r.ID, capturedBody)
			}
		}
	}
	// Another instance runs the invocation.
	other := mustNew(t, Options{Docs: e.h.o.Docs, Kinds: e.h.o.Kinds, Dispatch: e.h.o.Dispatch, FC: true})
	replay := func(sig string) int {
		req := httptest.NewRequest(http.MethodPost, handoffPath, bytes.NewReader(capturedBody))
		req.Header.Set("X-Sentry-White-Timestamp", captured.Header.Get("X-Sentry-White-Timestamp"))
		req.Header.Set("X-Sentry-White-Signature", sig)
		rec := httptest.NewRecorder()
		other.ServeHTTP(rec, req)
		return rec.Code
	}
	if code := replay(strings.Repeat("0", 64)); code != http.StatusUnauthorized {
		t.Errorf("forged hand-off: %d, want 401", code)
	}
	if len(e.robot.Messages()) != 0 {
		t.Fatal("a forged hand-off delivered something")
	}
	if code := replay(captured.Header.Get("X-Sentry-White-Signature")); code != http.StatusOK {
		t.Fatalf("hand-off invocation: %d", code)
	}
	if n := len(e.robot.Messages()); n != 2 {
		t.Errorf("%d messages after the hand-off, want 2", n)
	}
}

func TestFCLifecycleHooks(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.FC = true })
	for _, path := range []string{"/initialize", "/pre-stop"} {
		resp, err := http.Post(e.srv.URL+path, "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d", path, resp.StatusCode)
		}
	}
}

// TestFCHandsOffSlowSends: on FC a send still under way when the relay
// must answer is stopped and handed to the asynchronous invocation, so a
// frozen or destroyed instance loses nothing.
func TestFCHandsOffSlowSends(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.FC = true; o.LegacyBudget = 30 * time.Millisecond })
	self := handOffTo(t, e)
	e.robot.SetLatency(500 * time.Millisecond)
	code, a := e.post("?token="+token, testdata(t, "legacy_saas.json"))
	if code != http.StatusAccepted || self.body == nil {
		t.Fatalf("got %d %+v; hand-off %v", code, a, self.body != nil)
	}
	var hb handoffBody
	if err := json.Unmarshal(self.body, &hb); err != nil || len(hb.Jobs) != 2 {
		t.Fatalf("hand-off carries %d jobs (%v), want both robots'", len(hb.Jobs), err)
	}
	e.robot.SetLatency(0)
	self.run(t, e)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := e.h.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(e.robot.Messages()); n != 2 {
		t.Errorf("%d messages, want 2 (the stopped sends never reached the robot)", n)
	}
}

// TestHandOffAcceptedOnceAndRenderedAgain: whoever holds the webhook token
// can sign a hand-off, but it gets no further than a webhook would. A job
// naming project 1 (owners 张三, 李四) and project 2's robot 3 is not sent;
// a job with a javascript: link in its message or its event is rendered
// again from the current document, with a webhook's link rules; the same
// hand-off again is refused and sends nothing.
func TestHandOffAcceptedOnceAndRenderedAgain(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.FC = true })
	post := e.handoff
	job := func(id string, robot int) string {
		return fmt.Sprintf(`{"id":%q,"robot_id":%d,"kind":"dingtalk","project_id":1,"project":"mall-api","project_name":"伪造项目",
			"message":{"Title":"详情 伪造","Heading":"点我","Link":"javascript:alert(1)","Note":"伪造的账号"},
			"event":{"Title":"点我","URL":"javascript:alert(1)","Level":"error","ProjectSlugs":["mall-api"]}}`, id, robot)
	}
	forged := `{"id":"forgedhandoff000000000000000001","jobs":[` + job("job-a", 3) + "," + job("job-b", 1) + `]}`
	if code, body := post(forged); code != http.StatusOK {
		t.Fatalf("a signed hand-off: %d %s", code, body)
	}
	msgs := e.robot.Messages()
	for _, m := range msgs {
		if m.Token == "robot-other-token" {
			t.Errorf("project 1's alert reached project 2's robot 3: %s", m.Text)
		}
		if strings.Contains(m.Text, "javascript:") || strings.Contains(m.Text, "伪造") {
			t.Errorf("the hand-off's own message went out: %s", m.Text)
		}
	}
	if len(msgs) != 1 || msgs[0].Token != "robot-signed-token" || !strings.Contains(msgs[0].Text, "商城后台") ||
		!strings.Contains(msgs[0].Text, "viewer@acme.com") {
		t.Fatalf("messages %+v, want one to robot 1 rendered from the document (project name, the organization's login)", msgs)
	}
	if code, body := post(forged); code != http.StatusConflict || !strings.Contains(body, "already") {
		t.Errorf("the same hand-off again: %d %s, want 409", code, body)
	}
	if n := len(e.robot.Messages()); n != 1 {
		t.Errorf("%d messages after the replay, want 1", n)
	}
}

// TestHandOffKeepsPossibleRepeat: a send stopped at the answer on FC may
// have reached the robot; handed off, it still goes out marked.
func TestHandOffKeepsPossibleRepeat(t *testing.T) {
	e := newEnv(t, func(o *Options) { o.FC = true })
	body := `{"id":"handoffpossiblerepeat0000000001","jobs":[{"id":"job-r","robot_id":1,"project_id":1,"possible_repeat":true,
		"event":{"Title":"NullPointerException","Level":"error","ProjectSlugs":["mall-api"]}}]}`
	if code, answer := e.handoff(body); code != http.StatusOK {
		t.Fatalf("hand-off: %d %s", code, answer)
	}
	msgs := e.robot.Messages()
	if len(msgs) != 1 || !strings.Contains(msgs[0].Text, notify.PossibleRepeatMark("zh")) {
		t.Fatalf("messages %+v, want one marked %q", msgs, notify.PossibleRepeatMark("zh"))
	}
	if hj, ok := toHandoff(&dispatch.Job{PossibleRepeat: true, Source: &plan.Source{Event: &sentry.Event{Title: "x"}}}); !ok || !hj.PossibleRepeat {
		t.Errorf("toHandoff dropped the mark: %+v", hj)
	}
}

// TestHandoffChunks: a hand-off of many alerts is split into bodies under
// FC's 128 KB limit on an asynchronous request, none lost.
func TestHandoffChunks(t *testing.T) {
	var jobs []handoffJob
	for i := 0; i < 400; i++ {
		jobs = append(jobs, handoffJob{ID: fmt.Sprintf("job-%03d", i), RobotID: 1, ProjectID: 1,
			Event: render.Facts(&sentry.Event{Title: strings.Repeat("错误", 200), Message: strings.Repeat("详细", 1000)})})
	}
	seen, ids := 0, map[string]bool{}
	for rest := jobs; len(rest) > 0; {
		n, body, err := handoffChunk(rest)
		if err != nil || n == 0 {
			t.Fatalf("chunk: %d, %v", n, err)
		}
		if len(body) > 128<<10 {
			t.Fatalf("a %d-byte hand-off body", len(body))
		}
		var hb handoffBody
		if err := json.Unmarshal(body, &hb); err != nil || len(hb.Jobs) != n || hb.Jobs[0].ID != rest[0].ID {
			t.Fatalf("chunk of %d decodes to %d jobs (%v)", n, len(hb.Jobs), err)
		}
		if !validID(hb.ID) || ids[hb.ID] {
			t.Fatalf("hand-off id %q: each hand-off needs its own", hb.ID)
		}
		ids[hb.ID] = true
		seen += n
		rest = rest[n:]
	}
	if seen != len(jobs) {
		t.Errorf("%d of %d jobs handed off", seen, len(jobs))
	}
}

// TestFailedFirstAlertDoesNotSwallowRepeats: with a repeat window, a first
// alert the robot refused does not start the window: the next alert of the
// issue goes out (and says how many were collapsed meanwhile).
func TestFailedFirstAlertDoesNotSwallowRepeats(t *testing.T) {
	e := newEnv(t)
	e.edit(func(d *config.Document) {
		d.Projects[0].RepeatWindowSeconds = 600
	})
	send := func(n string) (int, answer) {
		body := strings.ReplaceAll(string(testdata(t, "legacy_saas.json")), "9f2c1b7d3a4e4c8b8e6f1a2b3c4d5e6f", "9f2c1b7d3a4e4c8b8e6f1a2b3c4d5e"+n)
		return e.post("?token="+token, []byte(body))
	}
	e.robot.FailNext(robottest.Fault500, robottest.Fault500, robottest.Fault500, robottest.Fault500,
		robottest.Fault500, robottest.Fault500, robottest.Fault500, robottest.Fault500)
	if code, a := send("01"); code != http.StatusBadGateway {
		t.Fatalf("first alert with the robot failing: %d %+v, want 502", code, a)
	}
	if code, a := send("02"); code != 200 || a.Status != "delivered" {
		t.Fatalf("the next alert of the issue: %d %+v, want delivered (the first never reached the group)", code, a)
	}
	if code, a := send("03"); code != 200 || a.Status != "collapsed" {
		t.Fatalf("a repeat after a delivered one: %d %+v, want collapsed", code, a)
	}
}

// TestReplayWithNewRequestIDIsADuplicate: one signed body sent again with a
// new Request-ID (and a fresh timestamp) is a copy, not a new alert.
func TestReplayWithNewRequestIDIsADuplicate(t *testing.T) {
	e := newEnv(t)
	body := bytes.ReplaceAll(testdata(t, "event_alert.json"), []byte("/acme/"), []byte("/other/"))
	sig := sentry.Sign(body, clientSecret)
	for i, want := range []string{"delivered", "duplicate", "duplicate"} {
		_, a := e.post("?token="+token, body, "Sentry-Hook-Resource", "event_alert", "Sentry-Hook-Signature", sig,
			"Sentry-Hook-Timestamp", strconv.FormatInt(time.Now().Unix(), 10), "Request-ID", fmt.Sprintf("replay-%d", i))
		if a.Status != want {
			t.Fatalf("send %d: %+v, want %s", i, a, want)
		}
	}
	if n := len(e.robot.Messages()); n != 1 {
		t.Errorf("%d messages, want 1", n)
	}
}

// TestHugeTitlesDoNotStay: alerts with megabyte titles in a project with a
// repeat window leave no trace of their titles in the relay's memory.
func TestHugeTitlesDoNotStay(t *testing.T) {
	e := newEnv(t)
	e.edit(func(d *config.Document) {
		d.Projects[0].RepeatWindowSeconds = 600
	})
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	big := strings.Repeat("长", 700_000) // 2 MB of title
	for i := 0; i < 40; i++ {
		// No issue id: the repeat window keys such an alert on its title.
		body := fmt.Sprintf(`{"project": "mall-api", "level": "error", "message": "%d %s", "event": {"event_id": "%032x"}}`, i, big, 7000+i)
		if code, a := e.post("?token="+token, []byte(body)); code != 200 && code != 202 {
			t.Fatalf("alert %d: %d %+v", i, code, a)
		}
	}
	if grew := int64(heap()) - int64(before); grew > 16<<20 {
		t.Errorf("the heap grew by %d MB after 40 alerts with 2 MB titles; their titles are kept", grew>>20)
	}
}

// handoff posts a hand-off body signed with the webhook token, as an
// asynchronous invocation receives it.
func (e *env) handoff(body string) (int, string) {
	e.t.Helper()
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req := httptest.NewRequest(http.MethodPost, handoffPath, strings.NewReader(body))
	req.Header.Set("X-Sentry-White-Timestamp", ts)
	req.Header.Set("X-Sentry-White-Signature", handoffSignature(token, ts, []byte(body)))
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// edit changes the stored document and has the relay read it.
func (e *env) edit(change func(d *config.Document)) {
	e.t.Helper()
	d, tag, err := e.docs.Load(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	change(d)
	if _, err := e.docs.Save(context.Background(), d, tag); err != nil {
		e.t.Fatal(err)
	}
	if err := e.h.o.Docs.Refresh(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}

// logLines returns the log lines of request id rid.
func (e *env) logLines(rid string) []map[string]any {
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(e.logs.String()), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(l), &m) == nil && m["request_id"] == rid {
			out = append(out, m)
		}
	}
	return out
}

// TestOneLogLinePerWebhook: a webhook delivered within its request logs
// one line, which names its robots; deliveries that outlive the answer are
// logged when they end.
func TestOneLogLinePerWebhook(t *testing.T) {
	e := newEnv(t)
	hdr := []string{"Sentry-Hook-Resource", "event_alert", "Request-ID", "one-line-0001"}
	if code, a := e.post("?token="+token, testdata(t, "event_alert.json"), hdr...); code != 200 || a.Status != "delivered" {
		t.Fatalf("%d %+v", code, a)
	}
	// The line is written after the answer is on the wire: closing the
	// server waits for the handler to end.
	e.srv.Close()
	lines := e.logLines("one-line-0001")
	if len(lines) != 1 || lines[0]["msg"] != "webhook answered" || lines[0]["robot"] != "研发告警群,运维群" ||
		lines[0]["robots"] != float64(2) || lines[0]["status"] != float64(200) || lines[0]["latency_ms"] == nil {
		t.Fatalf("lines of the webhook: %v", lines)
	}

	e = newEnv(t, func(o *Options) { o.IntegrationBudget = 20 * time.Millisecond })
	e.robot.SetLatency(300 * time.Millisecond)
	hdr[3] = "one-line-0002"
	if code, a := e.post("?token="+token, testdata(t, "event_alert.json"), hdr...); code != http.StatusAccepted {
		t.Fatalf("%d %+v, want 202", code, a)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.h.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for _, l := range e.logLines("one-line-0002") {
		msgs = append(msgs, l["msg"].(string))
	}
	slices.Sort(msgs)
	if want := []string{"delivered", "delivered", "webhook answered"}; !slices.Equal(msgs, want) {
		t.Errorf("lines %q, want %q", msgs, want)
	}
}

// TestUnsignedCopiesWithoutAnEventAreSent: an unsigned webhook that names no
// event (an issue webhook, an organization without a client secret) and
// carries no Request-ID cannot be told from a new one of the same content;
// anyone holding the token can send any body anyway, so a second copy is
// delivered. The same Request-ID twice is Sentry's own retry: a duplicate.
func TestUnsignedCopiesWithoutAnEventAreSent(t *testing.T) {
	e := newEnv(t)
	body := testdata(t, "issue_created.json")
	for i := 0; i < 2; i++ {
		if _, a := e.post("?token="+token, body, "Sentry-Hook-Resource", "issue"); a.Status != "delivered" {
			t.Fatalf("copy %d: %+v, want delivered", i, a)
		}
	}
	if n := len(e.robot.Messages()); n != 4 { // two robots each
		t.Fatalf("%d messages, want 4", n)
	}
	for i, want := range []string{"delivered", "duplicate"} {
		if _, a := e.post("?token="+token, body, "Sentry-Hook-Resource", "issue", "Request-ID", "retry-1"); a.Status != want {
			t.Fatalf("send %d with one Request-ID: %+v, want %s", i, a, want)
		}
	}
}

// TestHandWrittenMobilesAreNormalized: a document written by hand with
// mobiles as people write them (+86 138 0013 8000, 138-0013-8000) is
// valid, and the robot @-mentions the 11 digits.
func TestHandWrittenMobilesAreNormalized(t *testing.T) {
	e := newEnv(t)
	doc := `{"schema": 1, "webhook_token": "` + token + `",
 "owners": [{"id": 1, "name": "张三", "mobile": "+86 138 0013 8000"}, {"id": 2, "name": "李四", "mobile": "139-0013-9000"},
            {"id": 3, "name": "王五", "mobile": "+8613700137000"}],
 "robots": [{"id": 1, "name": "群", "kind": "dingtalk", "access_token": "robot-kw-token", "keyword": "详情"}],
 "projects": [{"id": 1, "name": "商城后台", "slug": "mall-api", "owner_ids": [1, 2, 3], "robot_ids": [1]}]}`
	if err := os.WriteFile(filepath.Join(e.dir, "api", "v1", "config.json"), []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := e.h.o.Docs.Refresh(context.Background()); err != nil {
		t.Fatalf("the relay refused the document: %v", err)
	}
	if code, a := e.post("?token="+token, testdata(t, "legacy_saas.json")); code != 200 {
		t.Fatalf("%d %+v", code, a)
	}
	msgs := e.robot.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1", len(msgs))
	}
	want := []string{"13800138000", "13900139000", "13700137000"}
	if got := msgs[0].AtMobiles; !slices.Equal(got, want) {
		t.Errorf("atMobiles %v, want %v", got, want)
	}
	for _, m := range want {
		if !strings.Contains(msgs[0].Text, "@"+m) {
			t.Errorf("the text does not @ %s: %q", m, msgs[0].Text)
		}
	}
}

// TestHandWrittenSecretWithoutSEC: DingTalk's signing secrets start with
// SEC, and the configurator says so to a person pasting one; but a
// document written by hand with another secret is not refused whole by
// the relay (every project would stop alerting): the robot is signed with
// it, and the robot decides.
func TestHandWrittenSecretWithoutSEC(t *testing.T) {
	robot := robottest.NewDingTalk(robottest.DingTalkRobot{Token: "robot-kw-token", Secret: "test-secret", Keywords: []string{"详情"}})
	t.Cleanup(robot.Close)
	e := newEnv(t, func(o *Options) { o.Dispatch.Senders = dingTalkAt(robot.URL()) })
	doc := `{"schema": 1, "webhook_token": "` + token + `",
 "owners": [{"id": 1, "name": "张三", "mobile": "13800138000"}],
 "robots": [{"id": 1, "name": "群", "kind": "dingtalk", "access_token": "robot-kw-token", "secret": "test-secret", "keyword": "详情"}],
 "projects": [{"id": 1, "name": "商城后台", "slug": "mall-api", "owner_ids": [1], "robot_ids": [1]}]}`
	if err := os.WriteFile(filepath.Join(e.dir, "api", "v1", "config.json"), []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := e.h.o.Docs.Refresh(context.Background()); err != nil {
		t.Fatalf("the relay refused the document: %v", err)
	}
	if code, a := e.post("?token="+token, testdata(t, "legacy_saas.json")); code != 200 || len(robot.Messages()) != 1 || len(robot.Rejected()) != 0 {
		t.Fatalf("%d %+v; %d messages, rejected %v", code, a, len(robot.Messages()), robot.Rejected())
	}
}
