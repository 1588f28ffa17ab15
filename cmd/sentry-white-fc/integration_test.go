package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/sentry-white/sentry-white/internal/deliveries"
	"github.com/sentry-white/sentry-white/internal/robottest"
	"github.com/sentry-white/sentry-white/internal/store"
)

// builtStandin builds tools/sentry-standin once for the package's tests.
func builtStandin(t *testing.T) string {
	return buildOnce(t, &builtStandinBin, "../../tools/sentry-standin", "sentry-standin")
}

// startStandin runs `sentry-standin serve` and returns its URL and token.
func startStandin(t *testing.T) (url, token string) {
	t.Helper()
	cmd := exec.Command(builtStandin(t), "serve", "-addr", "127.0.0.1:0", "-org", "acme", "-projects", "mall-api")
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() })
	sc := bufio.NewScanner(stdout)
	if !sc.Scan() {
		t.Fatal("the stand-in said nothing")
	}
	var line map[string]string
	if err := json.Unmarshal(sc.Bytes(), &line); err != nil || line["url"] == "" {
		t.Fatalf("the stand-in's first line: %s", sc.Text())
	}
	go func() {
		for sc.Scan() {
		}
	}()
	return line["url"], line["token"]
}

// standin runs `sentry-standin send …` and returns its output and whether
// the relay's answer was 2xx.
func standin(t *testing.T, args ...string) (string, bool) {
	t.Helper()
	cmd := exec.Command(builtStandin(t), append([]string{"send"}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if _, exited := err.(*exec.ExitError); err != nil && !exited {
		t.Fatal(err)
	}
	return out.String(), err == nil
}

// fieldOf returns the value of the "**label**: value" line of a DingTalk
// markdown text.
func fieldOf(text, label string) string {
	for _, l := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(l, "**"+label+"**: "); ok {
			return v
		}
	}
	return ""
}

// TestIntegrationPathEndToEnd walks Sentry's internal integration on
// loopback with the relay as built and the Sentry stand-in as a person
// runs it (tools/sentry-standin): the configurator generates the
// integration's values and its alert-rule-action schema; the relay serves
// the robot select from the current document (a robot added later is
// offered at once); a rule's settings are accepted and a bad one refused
// with its words; issue alerts and an activity alert whose rule chose a
// robot go to that robot alone with the chosen mentions and notes and
// Sentry's facts read with the organization's token; and when Sentry's
// API hangs, the alert goes out without them, answered while Sentry still
// holds the request, the delivery record saying why.
func TestIntegrationPathEndToEnd(t *testing.T) {
	const hookToken, clientSecret = "hooktoken0123456789abcdef012345", "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00"
	sentryURL, apiToken := startStandin(t)
	dt := robottest.NewDingTalk(
		robottest.DingTalkRobot{Token: "robot-dev", Keywords: []string{"详情"}},
		robottest.DingTalkRobot{Token: "robot-ops", Keywords: []string{"详情"}},
		robottest.DingTalkRobot{Token: "robot-new", Keywords: []string{"详情"}})
	defer dt.Close()
	dir := storeFolder(t, fmt.Sprintf(`{"schema": 1, "webhook_token": %q,
 "organizations": [{"id": 1, "name": "公司", "sentry_url": %q, "slug": "acme", "client_secret": %q, "api_token": %q}],
 "owners": [{"id": 1, "name": "张三", "mobile": "13800138001"}, {"id": 2, "name": "李四", "mobile": "13800138002"}],
 "robots": [{"id": 1, "name": "研发群", "kind": "dingtalk", "access_token": "robot-dev"},
            {"id": 2, "name": "运维群", "kind": "dingtalk", "access_token": "robot-ops"}],
 "schedules": [{"id": 1, "name": "值班", "owner_ids": [2], "period": "day", "handoff": "09:00", "start": "2020-01-01"}],
 "projects": [{"id": 1, "name": "商城后台", "slug": "mall-api", "organization_id": 1, "owner_ids": [1, 2], "robot_ids": [1], "schedule_id": 1}]}`,
		hookToken, sentryURL, clientSecret, apiToken))
	relay := startProc(t, []string{"SENTRY_WHITE_DINGTALK_API=" + dt.URL()}, "-store", "file:"+dir, "-addr", "127.0.0.1:0", "-spool", t.TempDir())
	if relay.addr == "" {
		t.Fatalf("the relay did not start: %v", relay.logs)
	}
	relayURL := "http://" + relay.addr

	// The configurator: every value of Sentry's form, and the schema.
	cfg := newConfigurator(t, "file:"+dir, map[string]string{})
	cfg.must(http.StatusOK, "PUT", "/api/v1/settings", map[string]any{"relay_url": relayURL})
	form := cfg.must(http.StatusOK, "GET", "/api/v1/sentry-integration", nil)
	webhook := form["webhook_url"].(string)
	uris := form["uris"].(map[string]any)
	if webhook != relayURL+"?token="+hookToken || uris["robots"] != "/sentry-app/"+hookToken+"/robots" ||
		!strings.Contains(form["schema_text"].(string), `"uri": "/sentry-app/`+hookToken+`/settings"`) {
		t.Fatalf("the integration's form: %v", form)
	}
	send := func(args ...string) (string, bool) {
		return standin(t, append(args, "-webhook", webhook, "-secret", clientSecret, "-sentry", sentryURL)...)
	}

	// The robot select, from the document as it is now.
	out, ok := send("options", "-uri", uris["robots"].(string), "-project", "mall-api")
	if !ok || !strings.Contains(out, `{"label":"研发群 (钉钉)","value":"1","default":true}`) || strings.Contains(out, "新群") {
		t.Fatalf("options: %s", out)
	}
	cfg.must(http.StatusCreated, "POST", "/api/v1/robots", map[string]any{"name": "新群", "kind": "dingtalk", "access_token": "robot-new"})
	if out, ok := send("options", "-uri", uris["robots"].(string)); !ok || !strings.Contains(out, `"label":"新群 (钉钉)","value":"3"`) {
		t.Fatalf("options after adding a robot: %s", out)
	}
	// Saving a rule: accepted with where it goes; refused, with words.
	settings := uris["settings"].(string)
	if out, ok := send("settings", "-uri", settings, "-robot", "2", "-mention", "oncall", "-notes", "先看支付回调"); !ok || !strings.Contains(out, "告警将发到「运维群」，@ 值班人") {
		t.Fatalf("settings: %s", out)
	}
	if out, ok := send("settings", "-uri", settings, "-robot", "99"); ok || !strings.Contains(out, "HTTP 400") || !strings.Contains(out, `机器人 \"99\" 不在哨兵小白的配置里`) {
		t.Fatalf("a robot not in the document: %s", out)
	}
	if out, ok := standin(t, "settings", "-uri", settings, "-robot", "2", "-webhook", webhook, "-secret", "not-the-secret"); ok || !strings.Contains(out, "HTTP 401") {
		t.Fatalf("a wrong signature: %s", out)
	}

	// An issue alert whose rule chose robot 2, the person on call, notes.
	before := len(dt.Messages())
	if out, ok := send("event_alert", "-robot", "2", "-mention", "oncall", "-notes", "先看支付回调"); !ok || !strings.Contains(out, "HTTP 200") {
		t.Fatalf("event_alert: %s", out)
	}
	msgs := dt.Messages()[before:]
	if len(msgs) != 1 || msgs[0].Token != "robot-ops" || !slices.Equal(msgs[0].AtMobiles, []string{"13800138002"}) || msgs[0].AtAll {
		t.Fatalf("want one message to 运维群 @ the person on call: %+v", msgs)
	}
	m := msgs[0]
	for label, want := range map[string]string{"备注": "先看支付回调", "事件数": "57", "影响用户": "9", "问题状态": "回归",
		"指派给": "Jane Doe", "问题编号": "MALL-API-3K", "状态": "告警触发：生产环境新错误"} {
		if got := fieldOf(m.Text, label); got != want {
			t.Errorf("%s %q, want %q\n%s", label, got, want, m.Text)
		}
	}
	// everyone in the group; an activity alert; nobody.
	before = len(dt.Messages())
	if out, ok := send("event_alert", "-robot", "1", "-mention", "all"); !ok {
		t.Fatalf("event_alert, all: %s", out)
	}
	if out, ok := send("activity_alert", "-robot", "3", "-mention", "none"); !ok {
		t.Fatalf("activity_alert: %s", out)
	}
	msgs = dt.Messages()[before:]
	if len(msgs) != 2 || msgs[0].Token != "robot-dev" || !msgs[0].AtAll || len(msgs[0].AtMobiles) != 0 ||
		msgs[1].Token != "robot-new" || msgs[1].AtAll || len(msgs[1].AtMobiles) != 0 ||
		!strings.HasPrefix(fieldOf(msgs[1].Text, "状态"), "活动告警：生产环境新错误（Seer 根因分析完成）") {
		t.Fatalf("all, activity: %+v", msgs)
	}

	// Sentry's API hangs: the alert (of another issue: the first one's
	// facts are kept a minute) goes out without the facts, answered while
	// Sentry still holds the request.
	resp, err := http.Post(sentryURL+"/_standin/fault", "application/json", strings.NewReader(`{"path": "/issues/", "hang": true}`))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("fault: %v %v", resp, err)
	}
	before = len(dt.Messages())
	if out, ok := send("event_alert", "-robot", "1", "-mention", "owners", "-issue", "1170820299"); !ok || !strings.Contains(out, `"status":"delivered"`) {
		t.Fatalf("event_alert with Sentry hanging: %s", out)
	}
	msgs = dt.Messages()[before:]
	if len(msgs) != 1 || fieldOf(msgs[0].Text, "事件数") != "" || fieldOf(msgs[0].Text, "问题状态") != "" || len(msgs[0].AtMobiles) != 2 {
		t.Fatalf("with Sentry hanging: %+v", msgs)
	}

	// The history says what each rule chose and what became of the facts.
	_ = relay.cmd.Process.Signal(syscall.SIGTERM)
	<-relay.done
	_ = relay.cmd.Wait()
	recs, err := deliveries.New(store.NewFile(dir), "api/", nil).List(context.Background(), deliveries.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for i := len(recs) - 1; i >= 0; i-- {
		got = append(got, recs[i].Robot+" | "+recs[i].Rule+" | "+recs[i].Facts)
	}
	want := []string{
		"运维群 | alert rule: robot 2 (运维群), mention oncall | added",
		"研发群 | alert rule: robot 1 (研发群), mention all | added",
		"新群 | alert rule: robot 3 (新群), mention none | ",
		"研发群 | alert rule: robot 1 (研发群), mention owners | skipped: Sentry did not answer within 300ms",
	}
	if !slices.Equal(got, want) {
		t.Errorf("records:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	logs, _ := json.Marshal(relay.logs)
	for _, secret := range []string{apiToken, clientSecret, hookToken} {
		if bytes.Contains(logs, []byte(secret)) {
			t.Errorf("the relay's log holds a secret (%.8s…)", secret)
		}
	}
}
