package relay

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/dispatch"
	"github.com/sentry-white/sentry-white/internal/docstore"
	"github.com/sentry-white/sentry-white/internal/notify"
	"github.com/sentry-white/sentry-white/internal/notify/dingtalk"
	"github.com/sentry-white/sentry-white/internal/robottest"
	"github.com/sentry-white/sentry-white/internal/sentry"
	"github.com/sentry-white/sentry-white/internal/store"
)

// realProjects are the Sentry project slugs the published bodies under
// testdata/sentry/real name; the usual setup has one project and one robot
// for each, all under ONE organization whose slug matches none of the
// payloads' organizations (meredith, alertaio, getsentry, berani, sentry,
// test-org, baz, lxyz, example).
var realProjects = []string{
	"alerta5", "internal", "project-slug", "meow", "berani-learning-web", "midooserver-dev",
	"front-end", "ipe", "zulip-integration-testing", "bar", "error-gen",
}

// realDoc is that one-organization document: project i has robot i and
// owner i (mobile 1380000000i).
func realDoc() *config.Document {
	d := &config.Document{
		Schema:       1,
		WebhookToken: token,
		Organizations: []config.Organization{
			{ID: 1, Name: "我们公司", SentryURL: "https://sentry.io", Slug: "my-company"},
		},
	}
	for i, slug := range realProjects {
		id := int64(i + 1)
		d.Owners = append(d.Owners, config.Owner{ID: id, Name: "负责人" + slug, Mobile: realMobile(i)})
		d.Robots = append(d.Robots, config.Robot{ID: id, Name: "群-" + slug, Kind: "dingtalk", AccessToken: config.Secret("tok-" + slug), Keyword: "详情"})
		d.Projects = append(d.Projects, config.Project{ID: id, Name: "项目 " + slug, Slug: slug, OrganizationID: 1,
			OwnerIDs: []int64{id}, RobotIDs: []int64{id}})
	}
	return d
}

func realMobile(i int) string { return fmt.Sprintf("1380000%04d", i) }

func newRealEnv(t *testing.T) (*env, *robottest.DingTalk) {
	t.Helper()
	var robots []robottest.DingTalkRobot
	for _, slug := range realProjects {
		robots = append(robots, robottest.DingTalkRobot{Token: "tok-" + slug, Keywords: []string{"详情"}})
	}
	e := &env{t: t, dir: t.TempDir(), logs: &syncBuffer{}}
	e.robot = robottest.NewDingTalk(robots...)
	t.Cleanup(e.robot.Close)
	backend := store.NewFile(e.dir)
	e.docs = docstore.NewDocs(backend, "api/", kinds.Document())
	if _, err := e.docs.Save(context.Background(), realDoc(), ""); err != nil {
		t.Fatal(err)
	}
	e.h = mustNew(t, Options{
		Docs:  docstore.NewCache(backend, store.ConfigKey("api/"), time.Hour, kinds.Document()),
		Kinds: kinds,
		Dispatch: dispatch.Options{
			Senders: dingTalkAt(e.robot.URL()),
			Policy:  notify.Policy{Attempts: 2, Base: time.Millisecond, Max: 2 * time.Millisecond},
		},
		// Edited bodies share their original's event: a relay would
		// rightly take the second for a copy, so none is remembered.
		DedupeTTL: time.Nanosecond,
		Logger:    slog.New(slog.NewJSONHandler(e.logs, nil)),
	})
	e.srv = httptest.NewServer(e.h)
	t.Cleanup(e.srv.Close)
	return e, e.robot
}

// realCase is what one published body must do.
type realCase struct {
	file, resource string
	project        string // "" when nothing is delivered
	title, level   string
	link           string // the link the message carries
	status         string // words the 状态 line must carry
	notStatus      string // words it must not carry
	user           string // the 用户 line, when the body names a user
	payloadOrg     string // the organization the payload named (differs from ours)
	code           int    // the answer's status code
	errWant        string // for refusals: the answer names this
	// robot is the project whose robot gets the message when the alert
	// rule chose another robot (contract §7 settings); mention is the
	// rule's mention ("" and owners: the project's owner; all: everyone,
	// nobody by name); lines are "**label**: value" lines the message
	// must have ("" for a line it must not have).
	robot, mention string
	lines          map[string]string
}

var realCases = []realCase{
	// The legacy WebHooks plugin, from Sentry 7/8 to today.
	{file: "sentry_webhooks_readme_legacy_sentry7.json", project: "project-slug", title: "This is an example Python exception", level: "error",
		link: "https://app.getsentry.com/getsentry/project-slug/group/27379932/", payloadOrg: "getsentry", status: "告警触发"},
	{file: "alerta_legacy_sentry8.json", project: "alerta5", title: "This is an example Python exception", level: "error",
		link: "https://sentry.io/alertaio/alerta5/issues/541485531/", user: "sentry@example.com", payloadOrg: "alertaio"},
	{file: "alerta_legacy_sentry9.json", project: "internal", title: "This is an example Python exception", level: "error",
		link: "https://sentry.io/alertaio/alerta5/issues/541485531/", payloadOrg: "alertaio"},
	{file: "docs2020_legacy_webhook_plugin.json", project: "meow", title: "ReferenceError: hello is not defined", level: "error",
		link: "https://sentry.io/organizations/meredith/issues/1385042923/?referrer=webhooks_plugin", payloadOrg: "meredith",
		status: "告警触发：Webhook Test"},
	{file: "saas2024_legacy_test_plugin_customer_domain.json", project: "berani-learning-web", title: "This is an example Python exception",
		level: "error", link: "https://berani.sentry.io/issues/5461763487/?referrer=webhooks_plugin", user: "sentry@example.com", payloadOrg: "berani"},
	{file: "selfhosted_legacy_org_sentry.json", project: "midooserver-dev", title: "This is an example Go exception", level: "error",
		link: "http://47.236.137.231:9000/organizations/sentry/issues/18/?referrer=webhooks_plugin", payloadOrg: "sentry"},

	// Issue alerts (event_alert) and error events.
	{file: "docs2020_event_alert.json", resource: "event_alert", project: "front-end", title: "ReferenceError: heck is not defined", level: "error",
		link: "https://sentry.io/organizations/test-org/issues/1117540176/events/e4874d664c3540c1a32eab185f12c5ab/", payloadOrg: "test-org",
		status: "告警触发：Very Important Alert Rule!"},
	{file: "docs2024_event_alert.json", resource: "event_alert", project: "front-end", title: "ReferenceError: heck is not defined", level: "error",
		link: "https://sentry.io/organizations/test-org/issues/1117540176/events/e4874d664c3540c1a32eab185f12c5ab/", payloadOrg: "test-org",
		status: "告警触发：Very Important Alert Rule!"},
	{file: "edited_event_alert_region_host.json", resource: "event_alert", project: "front-end", title: "ReferenceError: heck is not defined",
		level: "error", link: "https://test-org.sentry.io/issues/1117540176/events/e4874d664c3540c1a32eab185f12c5ab/", payloadOrg: "test-org"},
	{file: "docs2020_error_created.json", resource: "error", project: "front-end", title: "ReferenceError: blooopy is not defined", level: "error",
		link: "https://sentry.io/organizations/test-org/issues/1170820242/events/bb78c1407cea4519aa397afc059c793d/", payloadOrg: "test-org",
		status: "错误事件", notStatus: "新问题"},
	{file: "docs2024_error_created.json", resource: "error", project: "front-end", title: "ReferenceError: blooopy is not defined", level: "error",
		link: "https://sentry.io/organizations/test-org/issues/1170820242/events/bb78c1407cea4519aa397afc059c793d/", payloadOrg: "test-org",
		status: "错误事件", notStatus: "新问题"},
	{file: "edited_error_created_php_empty_arrays.json", resource: "error", project: "front-end", title: "ReferenceError: blooopy is not defined",
		level: "error", link: "https://sentry.io/organizations/test-org/issues/1170820242/events/bb78c1407cea4519aa397afc059c793d/",
		payloadOrg: "test-org", status: "错误事件", notStatus: "新问题"},

	// Issue resource: created and every follow-up.
	{file: "docs2020_issue_created.json", resource: "issue", project: "front-end", title: "ReferenceError: blooopy is not defined", level: "error",
		link: "https://my-company.sentry.io/issues/1170820242/", status: "新问题"},
	{file: "docs2024_issue_created.json", resource: "issue", project: "front-end", title: "ReferenceError: blooopy is not defined", level: "error",
		link: "https://my-company.sentry.io/issues/1170820242/", status: "新问题"},
	{file: "edited_issue_unresolved_regressed.json", resource: "issue", project: "front-end", title: "ReferenceError: blooopy is not defined",
		level: "error", link: "https://my-company.sentry.io/issues/1170820242/", status: "回归"},
	{file: "edited_issue_archived.json", resource: "issue", project: "front-end", title: "ReferenceError: blooopy is not defined", level: "error",
		link: "https://my-company.sentry.io/issues/1170820242/", status: "已归档"},
	{file: "ipe_issue_created.json", resource: "issue", project: "ipe", title: "Error #1: This is a test error!", level: "error",
		link: "https://my-company.sentry.io/issues/123/", status: "新问题"},
	{file: "ipe_issue_assigned.json", resource: "issue", project: "ipe", title: "Error #1: This is a test error!", level: "error",
		link: "https://my-company.sentry.io/issues/123/", status: "已指派"},
	{file: "ipe_issue_ignored.json", resource: "issue", project: "ipe", title: "Error #1: This is a test error!", level: "error",
		link: "https://my-company.sentry.io/issues/123/", status: "已忽略"},
	{file: "ipe_issue_resolved.json", resource: "issue", project: "ipe", title: "Error #1: This is a test error!", level: "error",
		link: "https://my-company.sentry.io/issues/123/", status: "已解决"},
	{file: "zulip_issue_assigned_to_team.json", resource: "issue", project: "zulip-integration-testing",
		title: "Exception: program has entered an invalid state.", level: "error", link: "https://my-company.sentry.io/issues/1638821441/",
		status: "已指派 → Hypro999"},
	{file: "zulip_issue_ignored.json", resource: "issue", project: "zulip-integration-testing", title: "Exception: program has entered an invalid state.",
		level: "error", link: "https://my-company.sentry.io/issues/1638821441/", status: "已忽略"},
	{file: "zulip_issue_resolved.json", resource: "issue", project: "zulip-integration-testing", title: "Exception: program has entered an invalid state.",
		level: "error", link: "https://my-company.sentry.io/issues/1638821441/", status: "已解决"},

	// Metric alerts.
	{file: "edited_metric_alert_critical.json", resource: "metric_alert", project: "bar", title: "Critical: Too many errors", level: "fatal",
		link: "https://sentry.io/organizations/baz/alerts/1/", payloadOrg: "baz", status: "指标告警：严重"},
	{file: "edited_metric_alert_warning.json", resource: "metric_alert", project: "bar", title: "Warning: Too many errors", level: "warning",
		link: "https://sentry.io/organizations/baz/alerts/1/", payloadOrg: "baz", status: "指标告警：警告"},
	{file: "docs2024_metric_alert.json", resource: "metric_alert", project: "bar", title: "Resolved: Too many errors", level: "info",
		link: "https://sentry.io/organizations/baz/alerts/1/", payloadOrg: "baz", status: "指标告警：已恢复"},

	// Alert rules whose action is this relay's integration: the robot,
	// mention and notes they chose (contract §7).
	{file: "edited_event_alert_settings.json", resource: "event_alert", project: "front-end", robot: "meow", mention: "all",
		title: "ReferenceError: heck is not defined", level: "error",
		link: "https://sentry.io/organizations/test-org/issues/1117540176/events/e4874d664c3540c1a32eab185f12c5ab/", payloadOrg: "test-org",
		status: "告警触发：Very Important Alert Rule!", lines: map[string]string{"备注": "先看支付回调 / check the payment callback first"}},
	{file: "edited_metric_alert_critical_settings.json", resource: "metric_alert", project: "bar", robot: "alerta5", mention: "owners",
		title: "Critical: Too many errors", level: "fatal", link: "https://sentry.io/organizations/baz/alerts/1/", payloadOrg: "baz",
		status: "指标告警：严重", lines: map[string]string{"备注": "DBA on call"}},

	// Activity alerts (Sentry 2026): an alert of the issue, its own status
	// line, the state; counts not shown for its first event.
	{file: "docs2026_activity_alert.json", resource: "activity_alert", project: "error-gen", title: "TypeError: you aren't my type", level: "warning",
		link: "https://sentry.io/organizations/acme/issues/43/", payloadOrg: "acme", status: "活动告警：I'm keeping an eye on Seer 👀（Seer 根因分析完成）",
		lines: map[string]string{"问题状态": "升级中", "问题编号": "ERROR-GEN-R", "事件数": "", "影响用户": "", "备注": ""}},

	// No alert: 200 ignored.
	{file: "docs2024_installation_created.json", resource: "installation", code: 200},
	{file: "ipe_installation_deleted.json", resource: "installation", code: 200},
	{file: "docs2024_comment.json", resource: "comment", code: 200},
	{file: "ipe_comment_created.json", resource: "comment", code: 200},
	{file: "docs_seer_root_cause_started.json", resource: "seer", code: 200},
	{file: "docs_seer_pr_created.json", resource: "seer", code: 200},

	// No project anywhere: 400 naming the field.
	{file: "ipe_event_alert_no_project.json", resource: "event_alert", code: 400, errWant: "data.event.url"},
	{file: "ipe_metric_alert_critical_no_project.json", resource: "metric_alert", code: 400, errWant: "data.metric_alert.projects"},
}

// TestRealBodies posts every published body of testdata/sentry/real through
// the relay with a one-organization document whose slug matches none of
// them, and checks who gets what.
func TestRealBodies(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "testdata", "sentry", "real", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	covered := map[string]bool{}
	for _, c := range realCases {
		covered[c.file] = true
	}
	for _, f := range files {
		if !covered[filepath.Base(f)] {
			t.Errorf("%s has no case in realCases", filepath.Base(f))
		}
	}
	e, robot := newRealEnv(t)
	for _, c := range realCases {
		t.Run(c.file, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("..", "..", "testdata", "sentry", "real", c.file))
			if err != nil {
				t.Fatal(err)
			}
			before := len(robot.Messages())
			hdr := []string{}
			if c.resource != "" {
				hdr = append(hdr, "Sentry-Hook-Resource", c.resource, "Request-ID", strings.Repeat("ab", 16)+c.file)
			}
			code, a := e.post("?token="+token, body, hdr...)
			msgs := robot.Messages()[before:]
			if c.project == "" {
				if code != c.code {
					t.Fatalf("answer %d %+v, want %d", code, a, c.code)
				}
				if c.code == 200 && (!a.Ignored || a.Reason == "") {
					t.Errorf("answer %+v, want ignored with a reason", a)
				}
				if c.errWant != "" && !strings.Contains(a.Error, c.errWant) {
					t.Errorf("error %q does not name %q", a.Error, c.errWant)
				}
				if len(msgs) != 0 {
					t.Errorf("%d messages sent for a body that carries no alert", len(msgs))
				}
				return
			}
			if code != http.StatusOK || a.Status != "delivered" {
				t.Fatalf("answer %d %+v, want 200 delivered", code, a)
			}
			if len(msgs) != 1 {
				t.Fatalf("%d messages, want 1", len(msgs))
			}
			m := msgs[0]
			i := slices.Index(realProjects, c.project)
			if to := cmp.Or(c.robot, c.project); m.Token != "tok-"+to {
				t.Errorf("delivered to robot %q, want the robot of %s", m.Token, to)
			}
			mobile := realMobile(i)
			switch c.mention {
			case "all":
				if !m.AtAll || len(m.AtMobiles) != 0 || !strings.Contains(m.Text, "@所有人") {
					t.Errorf("mentions %v, isAtAll %v; want everyone, nobody by name", m.AtMobiles, m.AtAll)
				}
			default:
				if !m.Mentioned || m.AtAll || !slices.Equal(m.AtMobiles, []string{mobile}) || !strings.Contains(m.Text, "@"+mobile) {
					t.Errorf("mentions %v (in text: %v), want @%s", m.AtMobiles, m.Mentioned, mobile)
				}
			}
			for label, want := range c.lines {
				if got := fieldLine(m.Text, label); got != want {
					t.Errorf("%s %q, want %q", label, got, want)
				}
			}
			for _, want := range []string{
				dingtalk.Escape(c.title),
				"**级别**: " + c.level,
				"](" + c.link + ")",
				"详情",
				"项目 " + dingtalk.Escape(c.project),
			} {
				if !strings.Contains(m.Text, want) {
					t.Errorf("message lacks %q:\n%s", want, m.Text)
				}
			}
			status := fieldLine(m.Text, "状态")
			if c.status != "" && !strings.Contains(status, c.status) {
				t.Errorf("状态 %q, want %q", status, c.status)
			}
			if c.notStatus != "" && strings.Contains(status+m.Title, c.notStatus) {
				t.Errorf("状态 %q / title %q must not say %q", status, m.Title, c.notStatus)
			}
			if c.user != "" && fieldLine(m.Text, "用户") != c.user {
				t.Errorf("用户 %q, want %q", fieldLine(m.Text, "用户"), c.user)
			}
			if len(a.Delivered) != 1 || a.Delivered[0].PayloadOrganization != c.payloadOrg {
				t.Errorf("delivered %+v: payload_organization want %q", a.Delivered, c.payloadOrg)
			}
		})
	}
}

// fieldLine returns the value of the "**label**: value" line of a DingTalk
// markdown text.
func fieldLine(text, label string) string {
	for _, l := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(l, "**"+label+"**: "); ok {
			return v
		}
	}
	return ""
}

// twoOrgDoc has project front-end in two organizations, neither with the
// slug the published bodies name (test-org, sentry).
func twoOrgDoc(secretA, secretB string) *config.Document {
	return &config.Document{
		Schema:       1,
		WebhookToken: token,
		Organizations: []config.Organization{
			{ID: 1, Name: "甲公司", SentryURL: "https://sentry.io", Slug: "a-co", ClientSecret: config.Secret(secretA)},
			{ID: 2, Name: "乙公司", SentryURL: "https://sentry.b.example", Slug: "b-co", ClientSecret: config.Secret(secretB)},
		},
		Owners: []config.Owner{{ID: 1, Name: "甲", Mobile: "13800000001"}, {ID: 2, Name: "乙", Mobile: "13800000002"}},
		Robots: []config.Robot{
			{ID: 1, Name: "甲群", Kind: "dingtalk", AccessToken: "robot-signed-token", Secret: robotSecret},
			{ID: 2, Name: "乙群", Kind: "dingtalk", AccessToken: "robot-kw-token"},
		},
		Projects: []config.Project{
			{ID: 1, Name: "甲前端", Slug: "front-end", OrganizationID: 1, OwnerIDs: []int64{1}, RobotIDs: []int64{1}},
			{ID: 2, Name: "乙前端", Slug: "front-end", OrganizationID: 2, OwnerIDs: []int64{2}, RobotIDs: []int64{2}},
		},
	}
}

func (e *env) useDoc(d *config.Document) {
	e.t.Helper()
	e.edit(func(cur *config.Document) { *cur = *d })
}

func realBody(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "sentry", "real", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Two organizations share the slug and both have a client_secret; the
// payload names a third (test-org). The organization whose secret
// verifies the signature decides.
func TestSignatureDecidesOrganization(t *testing.T) {
	const secretA, secretB = "aaaa0000aaaa0000aaaa0000aaaa0000", "bbbb1111bbbb1111bbbb1111bbbb1111"
	e := newEnv(t)
	e.useDoc(twoOrgDoc(secretA, secretB))
	body := realBody(t, "docs2024_event_alert.json")
	for i, tc := range []struct {
		secret, robot string
		code          int
	}{{secretB, "robot-kw-token", 200}, {secretA, "robot-signed-token", 200}, {"", "", 401}, {"wrong", "", 401}} {
		before := len(e.robot.Messages())
		hdr := []string{"Sentry-Hook-Resource", "event_alert", "Request-ID", fmt.Sprintf("sig-%d", i)}
		if tc.secret != "" {
			hdr = append(hdr, "Sentry-Hook-Signature", sentrySign(body, tc.secret),
				"Sentry-Hook-Timestamp", strconv.FormatInt(time.Now().Unix(), 10))
		}
		code, a := e.post("?token="+token, body, hdr...)
		msgs := e.robot.Messages()[before:]
		if code != tc.code {
			t.Fatalf("secret %q: %d %+v, want %d", tc.secret, code, a, tc.code)
		}
		if tc.code != 200 {
			if len(msgs) != 0 {
				t.Errorf("secret %q: %d messages", tc.secret, len(msgs))
			}
			continue
		}
		if len(msgs) != 1 || msgs[0].Token != tc.robot || a.Delivered[0].PayloadOrganization != "test-org" {
			t.Errorf("secret %q: messages %+v, answer %+v; want one to %s noting test-org", tc.secret, msgs, a, tc.robot)
		}
	}
}

// TestVerifiedSignatureWithBadTimestampIsRefused: organization 乙 has a
// client secret, 甲 (the payload's host) has none. An alert signed with
// 乙's secret whose Sentry-Hook-Timestamp is stale, missing or not a
// number is refused 401 naming the timestamp; it is never re-routed to 甲
// as if it were unsigned.
func TestVerifiedSignatureWithBadTimestampIsRefused(t *testing.T) {
	const secretB = "bbbb1111bbbb1111bbbb1111bbbb1111"
	e := newEnv(t)
	e.useDoc(twoOrgDoc("", secretB))
	body := realBody(t, "docs2024_event_alert.json")
	for i, ts := range []string{"", strconv.FormatInt(time.Now().Add(-11*time.Minute).Unix(), 10),
		strconv.FormatInt(time.Now().Add(11*time.Minute).Unix(), 10), "soon"} {
		hdr := []string{"Sentry-Hook-Resource", "event_alert", "Request-ID", fmt.Sprintf("ts-%d", i),
			"Sentry-Hook-Signature", sentrySign(body, secretB)}
		if ts != "" {
			hdr = append(hdr, "Sentry-Hook-Timestamp", ts)
		}
		code, a := e.post("?token="+token, body, hdr...)
		if code != http.StatusUnauthorized || !strings.Contains(a.Error, "Sentry-Hook-Timestamp") {
			t.Errorf("timestamp %q: %d %+v, want 401 naming Sentry-Hook-Timestamp", ts, code, a)
		}
	}
	if msgs := e.robot.Messages(); len(msgs) != 0 {
		t.Errorf("%d messages sent (to %s), want none", len(msgs), msgs[0].Token)
	}
	// A fresh timestamp goes to the organization whose secret verified.
	code, a := e.post("?token="+token, body, "Sentry-Hook-Resource", "event_alert", "Request-ID", "ts-fresh",
		"Sentry-Hook-Signature", sentrySign(body, secretB), "Sentry-Hook-Timestamp", strconv.FormatInt(time.Now().Unix(), 10))
	if msgs := e.robot.Messages(); code != 200 || len(msgs) != 1 || msgs[0].Token != "robot-kw-token" {
		t.Errorf("fresh timestamp: %d %+v, %d messages; want one to 乙's robot", code, a, len(msgs))
	}
}

// Without secrets, the Sentry host chooses between the organizations; when
// neither slug nor host matches, the 404 says what the payload named,
// which organizations have the project, and what to change.
func TestSharedSlugChosenByHostElse404SaysWhatToChange(t *testing.T) {
	e := newEnv(t)
	e.useDoc(twoOrgDoc("", ""))
	body := realBody(t, "docs2024_event_alert.json") // test-org on sentry.io
	code, a := e.post("?token="+token, body, "Sentry-Hook-Resource", "event_alert")
	msgs := e.robot.Messages()
	if code != 200 || len(msgs) != 1 || msgs[0].Token != "robot-signed-token" {
		t.Fatalf("sentry.io payload: %d %+v %d messages, want 甲公司's robot (sentry.io)", code, a, len(msgs))
	}
	self := bytes.ReplaceAll(realBody(t, "selfhosted_legacy_org_sentry.json"), []byte(`"midooserver-dev"`), []byte(`"front-end"`))
	code, a = e.post("?token="+token, self)
	if code != http.StatusNotFound {
		t.Fatalf("self-hosted payload: %d %+v, want 404", code, a)
	}
	for _, want := range []string{`"front-end"`, `organization "sentry"`, "47.236.137.231", `"甲公司" (slug "a-co"`, `"乙公司" (slug "b-co"`,
		`set the slug of the organization this Sentry belongs to to "sentry"`, "configurator"} {
		if !strings.Contains(a.Error, want) {
			t.Errorf("404 %q lacks %q", a.Error, want)
		}
	}
	if strings.Contains(a.Error, "add it in the configurator (项目)") {
		t.Errorf("404 %q tells to add a project that exists", a.Error)
	}
	// A slug nobody has: the 404 names what the payload said.
	unknown := bytes.ReplaceAll(self, []byte(`"front-end"`), []byte(`"no-such-app"`))
	code, a = e.post("?token="+token, unknown)
	for _, want := range []string{`"no-such-app"`, `organization "sentry"`, "47.236.137.231"} {
		if code != 404 || !strings.Contains(a.Error, want) {
			t.Errorf("%d %q lacks %q", code, a.Error, want)
		}
	}
}

func sentrySign(body []byte, secret string) string { return sentry.Sign(body, secret) }
