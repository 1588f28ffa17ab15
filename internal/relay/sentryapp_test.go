package relay

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/deliveries"
	"github.com/sentry-white/sentry-white/internal/facts"
	"github.com/sentry-white/sentry-white/internal/sentry"
	"github.com/sentry-white/sentry-white/internal/sentryapi/sentrytest"
	"github.com/sentry-white/sentry-white/internal/store"
)

// appCall sends one request of the alert-rule-action component as Sentry
// does: a GET of the robot select (Sentry-App-Signature over ""), a POST of
// the settings (over the body).
func (e *env) appCall(method, path string, body []byte, secret string) (int, string) {
	e.t.Helper()
	req, _ := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Request-ID", "0123456789abcdef0123456789abcdef")
	if secret != "" {
		req.Header.Set("Sentry-App-Signature", sentry.Sign(body, secret))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

func settingsBody(fields ...string) []byte {
	var fs []map[string]any
	for i := 0; i+1 < len(fields); i += 2 {
		fs = append(fs, map[string]any{"name": fields[i], "value": fields[i+1]})
	}
	b, _ := json.Marshal(map[string]any{"fields": fs, "installationId": "717a85e5-236c-45c0-8b4e-ba01f5391395"})
	return b
}

// TestSentryAppRobotOptions: the robot select's options come from the
// document as it is now — a robot added later is offered without pasting
// anything again — with the project's first robot as the default.
func TestSentryAppRobotOptions(t *testing.T) {
	e := newEnv(t)
	code, body := e.appCall("GET", "/sentry-app/"+token+"/robots?installationId=717a85e5&projectSlug=mall-api", nil, "")
	var opts []selectOption
	if err := json.Unmarshal([]byte(body), &opts); code != 200 || err != nil || len(opts) != 4 {
		t.Fatalf("%d %s", code, body)
	}
	if opts[0] != (selectOption{Label: "研发告警群 (钉钉)", Value: "1", Default: true}) || opts[1].Value != "2" || opts[1].Default {
		t.Errorf("options %+v", opts)
	}
	e.edit(func(d *config.Document) {
		d.Robots = append(d.Robots, config.Robot{ID: 9, Name: "新群", Kind: "dingtalk", AccessToken: "new-token"})
	})
	_, body = e.appCall("GET", "/prefix/sentry-app/"+token+"/robots?installationId=717a85e5&projectSlug=shop-web&query=%E6%96%B0", nil, "")
	opts = nil
	if err := json.Unmarshal([]byte(body), &opts); err != nil || len(opts) != 1 || opts[0].Value != "9" || opts[0].Default {
		t.Errorf("after adding a robot, query 新: %s", body)
	}
	// The token: in the path, or ?token=; wrong or missing is refused.
	if code, _ := e.appCall("GET", "/sentry-app/robots?token="+token+"?installationId=x", nil, ""); code != 200 {
		t.Errorf("token in the query: %d", code)
	}
	for _, path := range []string{"/sentry-app/wrong/robots", "/sentry-app/robots?installationId=x"} {
		if code, body := e.appCall("GET", path, nil, ""); code != 401 || !strings.Contains(body, `"message"`) {
			t.Errorf("%s: %d %s", path, code, body)
		}
	}
	if code, _ := e.appCall("POST", "/sentry-app/"+token+"/robots", nil, ""); code != 404 {
		t.Errorf("POST robots: %d", code)
	}
}

// TestSentryAppSettings: saving a rule with a robot of the document is
// accepted with words saying where it goes; an unknown robot, no robot, an
// unknown mention or notes too long are refused 400 with the words Sentry
// shows in the rule editor ({"message": …}).
func TestSentryAppSettings(t *testing.T) {
	e := newEnv(t)
	path := "/sentry-app/" + token + "/settings"
	code, body := e.appCall("POST", path, settingsBody("robot", "2", "mention", "oncall", "notes", "先看支付"), "")
	if code != 200 || body != `{"message":"告警将发到「运维群」，@ 值班人"}`+"\n" {
		t.Errorf("accepted: %d %s", code, body)
	}
	// A value Sentry sends as a number.
	if code, body := e.appCall("POST", path, []byte(`{"fields":[{"name":"robot","value":1}],"installationId":"x"}`), ""); code != 200 ||
		!strings.Contains(body, "研发告警群") {
		t.Errorf("numeric robot: %d %s", code, body)
	}
	for _, tc := range []struct {
		body []byte
		says string
	}{
		{settingsBody("robot", "7"), "机器人 \"7\" 不在哨兵小白的配置里"},
		{settingsBody("robot", "abc"), "不在哨兵小白的配置里"},
		{settingsBody("mention", "all"), "请选择机器人"},
		{settingsBody("robot", "1", "mention", "boss"), "owners、oncall、all 或 none"},
		{settingsBody("robot", "1", "notes", strings.Repeat("长", 501)), "备注最多 500 个字符"},
		{[]byte(`not json`), "不是 Sentry 发送的格式"},
	} {
		code, body := e.appCall("POST", path, tc.body, "")
		var m appMessage
		if code != 400 || json.Unmarshal([]byte(body), &m) != nil || !strings.Contains(m.Message, tc.says) {
			t.Errorf("%s: %d %s, want 400 saying %q", tc.body, code, body, tc.says)
		}
	}
}

// TestSentryAppSignature: once every organization has a client secret,
// the component's requests must carry Sentry-App-Signature made with one
// of them (over "" for the select, over the body for the settings).
func TestSentryAppSignature(t *testing.T) {
	e := newEnv(t)
	e.edit(func(d *config.Document) { d.Organizations[0].ClientSecret = "aaaa0000aaaa0000aaaa0000aaaa0000" })
	robots, settings := "/sentry-app/"+token+"/robots?installationId=x", "/sentry-app/"+token+"/settings"
	body := settingsBody("robot", "1")
	for _, tc := range []struct {
		method, path string
		body         []byte
		secret       string
		want         int
	}{
		{"GET", robots, nil, clientSecret, 200},
		{"GET", robots, nil, "aaaa0000aaaa0000aaaa0000aaaa0000", 200},
		{"GET", robots, nil, "", 401},
		{"GET", robots, nil, "wrong", 401},
		{"POST", settings, body, clientSecret, 200},
		{"POST", settings, body, "", 401},
	} {
		if code, got := e.appCall(tc.method, tc.path, tc.body, tc.secret); code != tc.want {
			t.Errorf("%s %s signed with %q: %d %s, want %d", tc.method, tc.path, tc.secret, code, got, tc.want)
		}
	}
	// A signature over another body.
	req, _ := http.NewRequest("POST", e.srv.URL+settings, bytes.NewReader(body))
	req.Header.Set("Sentry-App-Signature", sentry.Sign(settingsBody("robot", "2"), clientSecret))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 401 {
		t.Errorf("signature of another body: %v %v", resp, err)
	}
}

// factsEnv is a relay whose organization acme reads Sentry's facts from a
// Sentry stand-in with its api_token, within timeout; and the history it
// records.
func factsEnv(t *testing.T, timeout time.Duration) (*env, *sentrytest.Server, *deliveries.Log) {
	t.Helper()
	sn := sentrytest.New()
	t.Cleanup(sn.Close)
	sn.AddToken("sntrys_relay_test", sentrytest.Token{Scopes: []string{"event:read"}})
	regressed := "regressed"
	sn.AddIssue("acme", sentrytest.Issue{ID: "1170820242", ShortID: "MALL-API-3K", Title: "Error", Status: "unresolved", Substatus: &regressed,
		Count: "57", UserCount: 9, FirstSeen: "2026-11-20T08:00:00Z", AssignedTo: &sentrytest.Assignee{Type: "user", ID: "7", Name: "Jane Doe"}})
	var hist *deliveries.Log
	e := newEnv(t, func(o *Options) {
		o.Facts = &facts.Reader{Timeout: timeout}
		hist = deliveries.New(store.NewFile(t.TempDir()), "api/", nil)
		o.History = hist
	})
	e.edit(func(d *config.Document) {
		d.Organizations[0].SentryURL, d.Organizations[0].APIToken = sn.URL, "sntrys_relay_test"
	})
	return e, sn, hist
}

func records(t *testing.T, hist *deliveries.Log) []deliveries.Record {
	t.Helper()
	if err := hist.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	recs, err := hist.List(context.Background(), deliveries.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// TestAlertRuleAndSentryFacts: an issue alert whose rule chose robot 3,
// nobody to ring and notes goes to that robot alone, without @, with the
// notes and Sentry's facts about the issue read with the organization's
// token; the delivery record says what the rule chose and that the facts
// were added; the token is in no log line.
func TestAlertRuleAndSentryFacts(t *testing.T) {
	e, sn, hist := factsEnv(t, 10*time.Second)
	body := bytes.Replace(testdata(t, "event_alert.json"), []byte(`"triggered_rule":`),
		[]byte(`"issue_alert":{"id":"9","title":"商城后台生产错误","sentry_app_id":2,"settings":[{"name":"robot","value":"3"},{"name":"mention","value":"none"},{"name":"notes","value":"先看支付回调"}]},"triggered_rule":`), 1)
	code, a := e.post("?token="+token, body, "Sentry-Hook-Resource", "event_alert")
	if code != 200 || len(a.Delivered) != 1 || a.Delivered[0].Robot != "自建群" || a.Delivered[0].Mentions != 0 {
		t.Fatalf("%d %+v", code, a)
	}
	msgs := e.robot.Messages()
	m := msgs[len(msgs)-1]
	if m.Token != "robot-other-token" || len(m.AtMobiles) != 0 || m.AtAll {
		t.Errorf("to %s, @ %v", m.Token, m.AtMobiles)
	}
	for label, want := range map[string]string{"备注": "先看支付回调", "事件数": "57", "影响用户": "9", "问题状态": "回归",
		"指派给": "Jane Doe", "问题编号": "MALL-API-3K", "首次出现": "2026-11-20 16:00:00"} {
		if got := fieldLine(m.Text, label); got != want {
			t.Errorf("%s %q, want %q\n%s", label, got, want, m.Text)
		}
	}
	recs := records(t, hist)
	if len(recs) != 1 || recs[0].Facts != "added" || recs[0].Rule != "alert rule: robot 3 (自建群), mention none" {
		t.Errorf("records %+v", recs)
	}
	if r := sn.Requests(); len(r) == 0 || r[0].Path != "/api/0/organizations/acme/issues/1170820242/" {
		t.Errorf("Sentry was asked %+v", r)
	}
	e.srv.Close()
	if strings.Contains(e.logs.String(), "sntrys_relay_test") {
		t.Error("the Sentry token is in the logs")
	}
}

// TestSlowSentryFactsAreSkipped: when Sentry's issue API does not answer,
// the alert goes out without the facts as soon as the look-up's time is
// up — answered 200 while Sentry still holds the request — and the
// delivery record says why.
func TestSlowSentryFactsAreSkipped(t *testing.T) {
	e, sn, hist := factsEnv(t, 50*time.Millisecond)
	sn.FailPath("/issues/", sentrytest.Fault{Hang: true})
	code, a := e.post("?token="+token, testdata(t, "event_alert.json"), "Sentry-Hook-Resource", "event_alert")
	if code != 200 || a.Status != "delivered" || len(a.Delivered) != 2 {
		t.Fatalf("%d %+v", code, a)
	}
	m := e.robot.Messages()[0]
	if fieldLine(m.Text, "事件数") != "" || fieldLine(m.Text, "问题状态") != "" {
		t.Errorf("facts in the message:\n%s", m.Text)
	}
	for _, r := range records(t, hist) {
		if r.Facts != "skipped: Sentry did not answer within 50ms" {
			t.Errorf("record facts %q", r.Facts)
		}
	}
}

// TestHandOffKeepsTheAlertRule: an alert handed to another invocation (FC)
// is rendered there as it was here — to the robot its alert rule chose,
// ringing whom the rule says, with the notes and Sentry's facts it had —
// and its record keeps what became of the facts.
func TestHandOffKeepsTheAlertRule(t *testing.T) {
	var hist *deliveries.Log
	e := newEnv(t, func(o *Options) {
		o.FC = true
		hist = deliveries.New(store.NewFile(t.TempDir()), "api/", nil)
		o.History = hist
	})
	body := `{"id":"handoffwithrule000000000000001","jobs":[{"id":"job-r","project_id":1,"robot_id":3,"facts":"added",
		"created":"2026-11-25T06:00:00Z","event":{"Resource":"event_alert","State":"triggered","Title":"TypeError","Level":"error",
		"ProjectSlugs":["mall-api"],"Rules":["生产错误"],"RuleRobot":"3","RuleMention":"all","RuleNotes":"先看支付回调",
		"Count":57,"UserCount":9,"IssueState":"regressed","ShortID":"MALL-API-3K"}}]}`
	if code, answer := e.handoff(body); code != http.StatusOK {
		t.Fatalf("%d %s", code, answer)
	}
	msgs := e.robot.Messages()
	if len(msgs) != 1 || msgs[0].Token != "robot-other-token" || !msgs[0].AtAll || len(msgs[0].AtMobiles) != 0 ||
		fieldLine(msgs[0].Text, "备注") != "先看支付回调" || fieldLine(msgs[0].Text, "事件数") != "57" || fieldLine(msgs[0].Text, "问题编号") != "MALL-API-3K" {
		t.Fatalf("messages %+v", msgs)
	}
	if recs := records(t, hist); len(recs) != 1 || recs[0].Facts != "added" || !strings.Contains(recs[0].Rule, "robot 3") {
		t.Errorf("records %+v", recs)
	}
}
