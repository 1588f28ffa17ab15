package configapi

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/deliveries"
	"github.com/sentry-white/sentry-white/internal/notify"
	"github.com/sentry-white/sentry-white/internal/robottest"
	"github.com/sentry-white/sentry-white/internal/store"
)

// seed writes delivery records into the folder store, as the relay would.
func (e *testEnv) seed(recs ...deliveries.Record) {
	e.t.Helper()
	l := deliveries.New(store.NewFile(e.dir), store.DefaultPrefix, nil)
	for _, r := range recs {
		l.Add(r)
	}
	if err := l.Flush(e.t.Context()); err != nil {
		e.t.Fatal(err)
	}
}

// failedAlert is the message of an alert for project mall-api that robot 1
// refused.
func failedAlert() *notify.Message {
	return &notify.Message{
		Title: "[error] 商城后台: TypeError", Heading: "TypeError: Cannot read properties of undefined (reading 'price')",
		Link: "https://sentry.io/organizations/acme/issues/4242/", Level: "error", State: "new",
		Fields:   []notify.Field{{Label: "项目", Value: "商城后台 (mall-api)"}, {Label: "环境", Value: "production"}},
		Keyword:  "详情",
		Mentions: []notify.Mention{{Name: "张三", Mobile: "13800138000"}},
		Lang:     "zh",
	}
}

// deliveryList calls GET /api/v1/deliveries with a query and returns the
// records.
func (e *testEnv) deliveryList(query string) []map[string]any {
	e.t.Helper()
	m := e.must(http.StatusOK, "GET", "/api/v1/deliveries"+query, nil)
	var out []map[string]any
	for _, v := range asList(m["deliveries"]) {
		out = append(out, v.(map[string]any))
	}
	if m["count"] != float64(len(out)) {
		e.t.Errorf("count %v for %d records", m["count"], len(out))
	}
	return out
}

func ids(recs []map[string]any) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r["id"].(string))
	}
	return out
}

func TestDeliveriesListAndGet(t *testing.T) {
	e := newEnv(t)
	setupAlert(t, e, "详情")
	now := time.Now()
	e.seed(
		deliveries.Record{ID: "d-old", Time: now.Add(-30 * time.Hour), Project: "mall-api", ProjectName: "商城后台", RobotID: 1, Robot: "研发告警群",
			Kind: "dingtalk", Result: deliveries.Delivered, Attempts: 1, LatencyMS: 210, Title: "旧告警", Link: "https://sentry.io/organizations/acme/issues/1/", Level: "error"},
		deliveries.Record{ID: "d-fail", Time: now.Add(-2 * time.Hour), Project: "mall-api", ProjectName: "商城后台", RobotID: 1, Robot: "研发告警群",
			Kind: "dingtalk", Result: deliveries.Failed, Code: 310000, Error: `robot "研发告警群" answered errcode 310000: keywords not in content`,
			Attempts: 1, LatencyMS: 95.5, Title: failedAlert().Heading, Link: failedAlert().Link, Level: "error", Message: failedAlert()},
		deliveries.Record{ID: "d-pay", Time: now.Add(-time.Hour), Project: "pay-service", ProjectName: "支付服务", RobotID: 2, Robot: "运维群",
			Kind: "wecom", Result: deliveries.Delivered, Attempts: 2, LatencyMS: 1500, Title: "digest", Level: "warning", Digest: 7},
	)

	all := e.deliveryList("")
	if got := ids(all); !slices.Equal(got, []string{"d-pay", "d-fail", "d-old"}) {
		t.Fatalf("list = %v, want newest first", got)
	}
	pay, fail := all[0], all[1]
	if pay["digest"] != float64(7) || pay["latency_ms"] != float64(1500) || pay["kind"] != "wecom" || pay["fix"] != nil || pay["resendable"] != nil {
		t.Errorf("delivered record = %v", pay)
	}
	// A failure says what to do even when the relay recorded no fix, and
	// whether it can be re-sent to a robot that still exists.
	if fix, _ := fail["fix"].(string); !strings.Contains(fix, "keyword must appear in every message") {
		t.Errorf("failed record fix = %v", fail)
	}
	if fail["code"] != float64(310000) || fail["resendable"] != true || fail["robot_exists"] != true || fail["message"] != nil {
		t.Errorf("failed record = %v", fail)
	}

	for _, tt := range []struct {
		query string
		want  []string
	}{
		{"?project=mall-api", []string{"d-fail", "d-old"}},
		{"?robot=" + "%E8%BF%90%E7%BB%B4%E7%BE%A4", []string{"d-pay"}}, // 运维群
		{"?result=failed", []string{"d-fail"}},
		{"?result=delivered", []string{"d-pay", "d-old"}},
		{"?result=all&project=mall-api&robot=%E7%A0%94%E5%8F%91%E5%91%8A%E8%AD%A6%E7%BE%A4", []string{"d-fail", "d-old"}},
		{"?since=24h", []string{"d-pay", "d-fail"}},
		{"?since=" + now.Add(-90*time.Minute).UTC().Format(time.RFC3339), []string{"d-pay"}},
		{"?limit=1", []string{"d-pay"}},
		{"?project=nobody", nil},
		{"?result=escalation", nil}, // listings across results are accepted
		{"?result=taken", nil},
	} {
		if got := ids(e.deliveryList(tt.query)); !slices.Equal(got, tt.want) {
			t.Errorf("GET /deliveries%s = %v, want %v", tt.query, got, tt.want)
		}
	}
	for q, field := range map[string]string{"?result=ok": "result", "?since=yesterday": "since", "?limit=0": "limit", "?limit=5000": "limit"} {
		if m := e.must(http.StatusBadRequest, "GET", "/api/v1/deliveries"+q, nil); m["field"] != field || m["error"] == "" {
			t.Errorf("GET /deliveries%s = %v, want an error naming %s", q, m, field)
		}
	}

	// One record, with the message it would re-send.
	m := e.must(http.StatusOK, "GET", "/api/v1/deliveries/d-fail", nil)
	msg, _ := m["message"].(map[string]any)
	if m["id"] != "d-fail" || msg == nil || msg["heading"] != failedAlert().Heading || !slices.Contains(asList(msg["mentions"]), any("张三 (13800138000)")) {
		t.Errorf("GET /deliveries/d-fail = %v", m)
	}
	if m := e.must(http.StatusOK, "GET", "/api/v1/deliveries/d-old", nil); m["message"] != nil || m["result"] != "delivered" {
		t.Errorf("GET /deliveries/d-old = %v", m)
	}
	if m := e.must(http.StatusNotFound, "GET", "/api/v1/deliveries/nope", nil); !strings.Contains(m["error"].(string), "not in the history") {
		t.Errorf("unknown delivery = %v", m)
	}
	// Robot tokens never appear; the rules of the rest of the API apply.
	for _, p := range []string{"/api/v1/deliveries", "/api/v1/deliveries/d-fail"} {
		if body := e.do("GET", p, nil).Body.String(); strings.Contains(body, "tok-good") || strings.Contains(body, "SECgood") {
			t.Errorf("GET %s leaks a robot secret: %s", p, body)
		}
		if w := e.do("GET", p, nil, "Authorization", ""); w.Code != http.StatusUnauthorized {
			t.Errorf("GET %s without token = %d", p, w.Code)
		}
		if w := e.do("GET", p, nil, "Host", "evil.example:7788"); w.Code != http.StatusForbidden {
			t.Errorf("GET %s from another host = %d", p, w.Code)
		}
	}
	if w := e.do("POST", "/api/v1/deliveries/d-fail/resend", "{}", "Content-Type", "text/plain"); w.Code != http.StatusUnsupportedMediaType {
		t.Errorf("a form re-send = %d, want 415", w.Code)
	}
	if n := e.ding.Requests(); n != 0 {
		t.Errorf("listing sent %d requests", n)
	}

	// An empty history is an empty list.
	empty := newEnv(t)
	if got := empty.deliveryList(""); len(got) != 0 {
		t.Errorf("empty history = %v", got)
	}
}

// TestDeliveriesFixCodes: a failure says what to do as a code the page
// words (in the words of the robot's kind, GET /meta): the relay's
// recorded fix code and parameters; for a record of an earlier version
// (an English fix only), the kind's explanation of the recorded answer
// code, for the robot as it is now; else the English as it was.
func TestDeliveriesFixCodes(t *testing.T) {
	e := newEnv(t)
	setupAlert(t, e, "详情")
	now := time.Now()
	failed := func(id string, ago time.Duration, code int, errText, fix, fixCode string, params map[string]any) deliveries.Record {
		return deliveries.Record{ID: id, Time: now.Add(-ago), Project: "mall-api", RobotID: 1, Robot: "研发告警群", Kind: "dingtalk",
			Result: deliveries.Failed, Code: code, Error: errText, Fix: fix, FixCode: fixCode, FixParams: params, Message: failedAlert()}
	}
	e.seed(
		failed("coded", time.Hour, 310000, `robot "研发告警群" answered errcode 310000: keywords not in content (set it)`, "set it", "keyword", map[string]any{"n": 3}),
		failed("old-sign", 2*time.Hour, 310000, `robot "研发告警群" answered errcode 310000: sign not match (the old words)`, "the old words", "", nil),
		failed("old-text", 3*time.Hour, 0, `robot "研发告警群": connection reset (check the robot's access_token)`, "check the robot's access_token", "", nil),
		failed("no-fix", 4*time.Hour, 4711, `robot "研发告警群" answered errcode 4711: ?`, "", "", nil),
	)
	got := map[string]map[string]any{}
	for _, d := range e.deliveryList("") {
		got[d["id"].(string)] = d
	}
	for id, want := range map[string]struct {
		code, fix string
		params    map[string]any
	}{
		"coded":    {"keyword", "set it", map[string]any{"n": float64(3)}},
		"old-sign": {"sign_mismatch", "the robot's 加签 secret does not match", nil},
		"old-text": {"text", "check the robot's access_token", map[string]any{"text": "check the robot's access_token"}},
		"no-fix":   {"errcode", "error code 4711", map[string]any{"code": float64(4711)}},
	} {
		d := got[id]
		params, _ := d["fix_params"].(map[string]any)
		if d["fix_code"] != want.code || !strings.Contains(fmt.Sprint(d["fix"]), want.fix) || fmt.Sprint(params) != fmt.Sprint(want.params) {
			t.Errorf("%s: fix %q, fix_code %q, fix_params %v; want %q, %q, %v", id, d["fix"], d["fix_code"], params, want.fix, want.code, want.params)
		}
	}
	// The same record once the robot's secret was cleared: it needs its
	// secret again.
	e.must(http.StatusOK, "PATCH", "/api/v1/robots/1", map[string]any{"secret": ""})
	for _, d := range e.deliveryList("") {
		if d["id"] == "old-sign" && d["fix_code"] != "secret_missing" {
			t.Errorf("old-sign for a robot without its secret: %v", d["fix_code"])
		}
	}
	// The page words the codes of a kind from the kind's own words.
	meta := e.must(http.StatusOK, "GET", "/api/v1/meta", nil)
	kinds, _ := meta["kinds"].([]any)
	for _, k := range kinds {
		k := k.(map[string]any)
		fixes, _ := k["fixes"].(map[string]any)
		if k["name"] == "dingtalk" && (fixes["keyword"] == nil || fixes["secret_missing"] == nil) {
			t.Errorf("meta: the DingTalk kind words no keyword or secret_missing fix: %v", fixes)
		}
	}
}

func TestDeliveriesResend(t *testing.T) {
	// The robot's keyword in DingTalk is 紧急: the first delivery, with
	// 详情, was refused; the robot has been corrected since.
	e := newEnv(t, robottest.DingTalkRobot{Token: "tok-good", Secret: "SECgood0123456789", Keywords: []string{"紧急"}})
	setupAlert(t, e, "紧急")
	failed := deliveries.Record{ID: "d-fail", Time: time.Now().Add(-time.Hour), RequestID: "req-1", Project: "mall-api", ProjectName: "商城后台",
		RobotID: 1, Robot: "研发告警群", Kind: "dingtalk", Result: deliveries.Failed, Code: 310000, Error: "keywords not in content",
		Fix: "the robot's keyword must appear in every message", Attempts: 1, LatencyMS: 80, Title: failedAlert().Heading,
		Link: failedAlert().Link, Level: "error", Message: failedAlert()}
	delivered := deliveries.Record{ID: "d-ok", Time: time.Now().Add(-2 * time.Hour), Project: "mall-api", RobotID: 1, Robot: "研发告警群",
		Kind: "dingtalk", Result: deliveries.Delivered, Attempts: 1, LatencyMS: 120}
	e.seed(failed, delivered)

	m := e.must(http.StatusOK, "POST", "/api/v1/deliveries/d-fail/resend", map[string]any{})
	res, _ := m["result"].(map[string]any)
	if m["ok"] != true || res == nil || res["ok"] != true || !strings.Contains(res["message"].(string), "delivered to 研发告警群") {
		t.Fatalf("re-send = %v", m)
	}
	msgs := e.ding.Messages()
	if len(msgs) != 1 {
		t.Fatalf("the stand-in got %d messages, want 1 (rejected %v)", len(msgs), e.ding.Rejected())
	}
	got := msgs[0]
	if !strings.Contains(got.Text, "Cannot read properties of undefined") || !strings.Contains(got.Text, "紧急") ||
		!strings.Contains(got.Text, "issues/4242") || !slices.Contains(got.AtMobiles, "13800138000") || !got.Mentioned {
		t.Errorf("received %+v", got)
	}

	// The history shows the re-send first, pointing at the failure, and the
	// failure shows it was re-sent.
	list := e.deliveryList("")
	if len(list) != 3 {
		t.Fatalf("history after the re-send: %v", ids(list))
	}
	rs := list[0]
	if rs["result"] != "delivered" || rs["resend_of"] != "d-fail" || rs["id"] == "d-fail" || rs["project"] != "mall-api" ||
		rs["robot_id"] != float64(1) || rs["link"] != failedAlert().Link || rs["attempts"] != float64(1) {
		t.Errorf("re-send record = %v", rs)
	}
	if lat, _ := rs["latency_ms"].(float64); lat <= 0 {
		t.Errorf("re-send latency %v", rs["latency_ms"])
	}
	if rec := m["record"].(map[string]any); rec["id"] != rs["id"] {
		t.Errorf("the answer names record %v, the history %v", rec["id"], rs["id"])
	}
	if resent, _ := list[1]["resent"].(map[string]any); list[1]["id"] != "d-fail" || resent == nil || resent["id"] != rs["id"] || resent["result"] != "delivered" {
		t.Errorf("failed record after the re-send = %v", list[1])
	}
	stored, err := deliveries.New(store.NewFile(e.dir), store.DefaultPrefix, nil).Get(t.Context(), rs["id"].(string))
	if err != nil || stored.Message != nil || stored.ResendOf != "d-fail" {
		t.Errorf("stored re-send record %+v, %v", stored, err)
	}

	// Only failures are re-sent.
	if m := e.must(http.StatusConflict, "POST", "/api/v1/deliveries/d-ok/resend", map[string]any{}); m["code"] != "not_failed" ||
		!strings.Contains(m["error"].(string), "only failed deliveries") {
		t.Errorf("re-send of a delivered record = %v", m)
	}
	if m := e.must(http.StatusConflict, "POST", "/api/v1/deliveries/"+rs["id"].(string)+"/resend", map[string]any{}); m["code"] != "not_failed" {
		t.Errorf("re-send of the re-send = %v", m)
	}
	e.must(http.StatusNotFound, "POST", "/api/v1/deliveries/nope/resend", map[string]any{})
	if n := len(e.ding.Messages()); n != 1 {
		t.Errorf("refused re-sends sent messages: %d in all", n)
	}

	// A re-send the robot refuses again is explained and recorded as a
	// failure that can itself be re-sent.
	e.must(http.StatusOK, "PATCH", "/api/v1/robots/1", map[string]any{"keyword": "详情"})
	// The failure was re-sent and delivered: sending it again would
	// @-mention everyone again, so it takes {"again": true}.
	if m := e.must(http.StatusConflict, "POST", "/api/v1/deliveries/d-fail/resend", map[string]any{}); m["code"] != "already_resent" ||
		m["params"].(map[string]any)["id"] != rs["id"] {
		t.Errorf("re-send of a failure already re-sent = %v", m)
	}
	if n := len(e.ding.Messages()); n != 1 {
		t.Errorf("the refused second re-send sent a message: %d in all", n)
	}
	m = e.must(http.StatusOK, "POST", "/api/v1/deliveries/d-fail/resend", map[string]any{"again": true})
	res = m["result"].(map[string]any)
	if m["ok"] != false || res["code"] != float64(310000) || !strings.Contains(res["message"].(string), "What to do") {
		t.Errorf("refused re-send = %v", m)
	}
	again := e.deliveryList("?result=failed")
	if len(again) != 2 || again[0]["resend_of"] != "d-fail" || again[0]["resendable"] != true || again[0]["fix"] == nil {
		t.Errorf("failed re-send in the history: %v", again)
	}
	if e := again[0]["error"].(string); !strings.Contains(e, "310000") || strings.Contains(e, "keyword must appear") {
		t.Errorf("the error %q should name the code and leave the fix to its own member", e)
	}
	if resent := again[1]["resent"].(map[string]any); resent["result"] != "failed" {
		t.Errorf("the failure points at %v, want the latest (failed) re-send", resent)
	}

	// A robot deleted since cannot be re-sent to: the answer says so in
	// words, and nothing is sent or recorded.
	e.must(http.StatusOK, "DELETE", "/api/v1/robots/1?force=1", nil)
	m = e.must(http.StatusConflict, "POST", "/api/v1/deliveries/d-fail/resend", map[string]any{})
	if m["code"] != "robot_deleted" || !strings.Contains(m["error"].(string), "研发告警群") || !strings.Contains(m["error"].(string), "no longer in the configuration") {
		t.Errorf("re-send to a deleted robot = %v", m)
	}
	if l := e.deliveryList("?result=failed"); l[1]["robot_exists"] != false {
		t.Errorf("the list does not say the robot is gone: %v", l[1])
	}
	// Another kind of robot under the same id is not a target either.
	e.must(http.StatusCreated, "POST", "/api/v1/robots", map[string]any{"name": "企业微信群", "access_token": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=wk-1"})
	if m := e.must(http.StatusConflict, "POST", "/api/v1/deliveries/d-fail/resend", map[string]any{}); m["code"] != "robot_changed" {
		t.Errorf("re-send to a robot of another kind = %v", m)
	}
	if n, want := len(e.deliveryList("")), 4; n != want {
		t.Errorf("%d records, want %d: refused re-sends are not recorded", n, want)
	}
	if n := len(e.ding.Messages()); n != 1 {
		t.Errorf("the stand-in got %d messages in all, want 1", n)
	}
}

func TestDeliveriesRecordWithoutMessage(t *testing.T) {
	e := newEnv(t, robottest.DingTalkRobot{Token: "tok-good"})
	setupAlert(t, e, "详情")
	e.seed(deliveries.Record{ID: "d-bare", Time: time.Now(), Project: "mall-api", RobotID: 1, Robot: "研发告警群", Kind: "dingtalk",
		Result: deliveries.Failed, Error: "timeout", Link: "https://sentry.io/organizations/acme/issues/9/"})
	if l := e.deliveryList(""); l[0]["resendable"] != false {
		t.Errorf("record without a message = %v", l[0])
	}
	m := e.must(http.StatusUnprocessableEntity, "POST", "/api/v1/deliveries/d-bare/resend", map[string]any{})
	if m["code"] != "no_message" || !strings.Contains(m["error"].(string), "issues/9") {
		t.Errorf("re-send without a message = %v", m)
	}
}

// TestDeliveriesListsRefusals: webhooks the relay refused are listed with
// why and what Sentry sent, and can be filtered; they are no deliveries
// to re-send.
func TestDeliveriesListsRefusals(t *testing.T) {
	e := newEnv(t)
	now := time.Now()
	e.seed(
		deliveries.Record{ID: "r-1", Time: now.Add(-time.Minute), Result: deliveries.Refused, Cause: "unknown_project", Status: 404,
			Project: "pay-service", Org: "acme", Host: "acme.sentry.io", Resource: "legacy",
			Error: `unknown project "pay-service"`, Fix: "add a project with this Sentry slug"},
		deliveries.Record{ID: "d-1", Time: now.Add(-2 * time.Minute), Project: "mall-api", RobotID: 1, Robot: "研发告警群", Kind: "dingtalk",
			Result: deliveries.Delivered, Attempts: 1},
	)
	list := e.deliveryList("?result=refused")
	if len(list) != 1 {
		t.Fatalf("refused: %v", list)
	}
	r := list[0]
	for k, want := range map[string]any{"id": "r-1", "result": "refused", "cause": "unknown_project", "status": float64(404),
		"project": "pay-service", "org": "acme", "host": "acme.sentry.io", "resource": "legacy"} {
		if r[k] != want {
			t.Errorf("%s = %v, want %v", k, r[k], want)
		}
	}
	if _, ok := r["resendable"]; ok {
		t.Errorf("a refusal offers a re-send: %v", r)
	}
	if all := e.deliveryList(""); len(all) != 2 {
		t.Errorf("all: %d records", len(all))
	}
	if m := e.must(http.StatusConflict, "POST", "/api/v1/deliveries/r-1/resend", map[string]any{}); m["code"] != "not_failed" {
		t.Errorf("re-sending a refusal: %v", m)
	}
}

// TestDeliveriesFailureOutlivesARefusalFlood (#30.4): a stranger's flood
// of refused webhooks (recorded 20 a minute) never pushes a failure out:
// listed under "failed", it opens and re-sends for the whole retention,
// and the unfiltered list still shows the deliveries.
func TestDeliveriesFailureOutlivesARefusalFlood(t *testing.T) {
	e := newEnv(t, robottest.DingTalkRobot{Token: "tok-good", Secret: "SECgood0123456789", Keywords: []string{"紧急"}})
	setupAlert(t, e, "紧急")
	now := time.Now()
	failed := deliveries.Record{ID: "d-fail", Time: now.Add(-3 * time.Hour), RequestID: "req-1", Project: "mall-api", ProjectName: "商城后台",
		RobotID: 1, Robot: "研发告警群", Kind: "dingtalk", Result: deliveries.Failed, Code: 310000, Error: "keywords not in content",
		Fix: "the robot's keyword must appear in every message", Attempts: 1, LatencyMS: 80, Title: failedAlert().Heading,
		Link: failedAlert().Link, Level: "error", Message: failedAlert()}
	recs := []deliveries.Record{failed}
	for i := range 1500 { // 75 minutes of the relay's cap of 20 a minute
		recs = append(recs, deliveries.Record{ID: fmt.Sprintf("r-%04d", i), Time: now.Add(-time.Duration(i) * 3 * time.Second),
			Result: deliveries.Refused, Cause: "token_wrong", Status: 401, Project: "mall-api", Error: "the token is wrong"})
	}
	e.seed(recs...)

	if got := ids(e.deliveryList("?result=failed")); !slices.Equal(got, []string{"d-fail"}) {
		t.Fatalf("failed: %v", got)
	}
	if all := ids(e.deliveryList("")); !slices.Contains(all, "d-fail") {
		t.Errorf("the unfiltered list lost the failure behind %d refusals", len(all))
	}
	if v := e.must(http.StatusOK, "GET", "/api/v1/deliveries/d-fail", nil); v["resendable"] != true || v["message"] == nil {
		t.Errorf("open: %v", v)
	}
	if m := e.must(http.StatusOK, "POST", "/api/v1/deliveries/d-fail/resend", map[string]any{}); m["ok"] != true {
		t.Fatalf("re-send: %v", m)
	}
	if v := e.must(http.StatusOK, "GET", "/api/v1/deliveries/d-fail", nil); v["resent"] == nil {
		t.Errorf("after the re-send the failure does not say so: %v", v)
	}
	if n := len(e.ding.Messages()); n != 1 {
		t.Errorf("%d messages, want the one re-send", n)
	}
}
