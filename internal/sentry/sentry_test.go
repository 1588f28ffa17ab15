package sentry

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func load(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "sentry", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func hdr(resource string) http.Header {
	h := http.Header{}
	if resource != "" {
		h.Set("Sentry-Hook-Resource", resource)
		h.Set("Request-ID", "0123456789abcdef0123456789abcdef")
	}
	return h
}

func TestParse(t *testing.T) {
	ts := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	tests := []struct {
		file, resource string
		want           Event
	}{
		{"legacy_saas.json", "", Event{Resource: ResourceLegacy, ProjectSlugs: []string{"mall-api"}, ProjectName: "商城后台", OrgSlug: "acme",
			Title: "TypeError: Cannot read properties of undefined (reading 'price') 价格为空 🔥", Culprit: "/cart", Level: "error",
			Environment: "production", Release: "mall-api@2.3.1", URL: "https://acme.sentry.io/issues/4567890123/?referrer=webhooks_plugin",
			IssueID: "4567890123", EventID: "9f2c1b7d3a4e4c8b8e6f1a2b3c4d5e6f", Time: ts("2025-11-25T06:21:51.482Z"),
			Rules: []string{"生产环境新错误"}, State: StateTriggered, User: "buyer@example.com", Unhandled: true}},
		{"legacy_selfhosted.json", "", Event{Resource: ResourceLegacy, ProjectSlugs: []string{"shop-web"}, ProjectName: "Shop Web", OrgSlug: "acme",
			Title: "ZeroDivisionError: division by zero", Culprit: "POST /api/orders", Level: "error", Environment: "staging", Release: "backend@1.0.0",
			IssueID: "321", Rules: []string{"Send a notification for new issues"}, State: StateTriggered}},
		{"legacy_sentry9.json", "", Event{Resource: ResourceLegacy, ProjectSlugs: []string{"old-app"}, ProjectName: "老系统", OrgSlug: "acme",
			Title: "Disk almost full 磁盘快满了", Culprit: "app.views in index", Level: "warning", Environment: "prod", Release: "v9",
			IssueID: "77", EventID: "0123456789abcdef0123456789abcdef", State: StateTriggered}},
		{"legacy_minimal.json", "", Event{Resource: ResourceLegacy, ProjectSlugs: []string{"mall-api"}, OrgSlug: "acme",
			Title: "Payment callback timed out", IssueID: "5", State: StateTriggered}},
		{"legacy_test_plugin.json", "", Event{Resource: ResourceLegacy, ProjectSlugs: []string{"mall-api"}, OrgSlug: "acme",
			Title: "Exception: This is an example Python exception", Level: "error", Culprit: "raven.scripts.runner in main", IssueID: "6", State: StateTriggered}},
		{"issue_created.json", "issue", Event{Resource: ResourceIssue, Action: "created", ProjectSlugs: []string{"mall-api"}, OrgSlug: "acme",
			Title: "Error: 订单金额为负 ✨", Culprit: "checkout(app/checkout)", Level: "error", URL: "https://acme.sentry.io/issues/1170820242/",
			IssueID: "1170820242", ShortID: "MALL-API-3", Count: 12, UserCount: 3, State: StateNew, Unhandled: true,
			FirstSeen: ts("2026-11-25T03:15:02.481Z"), Time: ts("2026-11-25T03:15:02.481Z")}},
		{"issue_resolved.json", "issue", Event{Resource: ResourceIssue, Action: "resolved", ProjectSlugs: []string{"mall-api"},
			Title: "Error: 订单金额为负 ✨", IssueID: "1170820242", State: StateResolved, Resolution: "now", Actor: "李四"}},
		{"issue_assigned.json", "issue", Event{Resource: ResourceIssue, Action: "assigned", ProjectSlugs: []string{"mall-api"},
			Title: "Error: 订单金额为负 ✨", IssueID: "1170820242", State: StateAssigned, Assignee: "李四", Actor: "李四"}},
		{"issue_ignored.json", "issue", Event{Resource: ResourceIssue, Action: "ignored", ProjectSlugs: []string{"mall-api"}, IssueID: "1170820242", State: StateIgnored}},
		{"issue_unresolved.json", "issue", Event{Resource: ResourceIssue, Action: "unresolved", ProjectSlugs: []string{"mall-api"}, IssueID: "1170820242", State: StateRegressed}},
		{"event_alert.json", "event_alert", Event{Resource: ResourceEventAlert, Action: "triggered", ProjectSlugs: []string{"mall-api"}, OrgSlug: "acme",
			Title: "Error: 订单金额为负 ✨", Culprit: "checkout(app/checkout)", Level: "error", Environment: "production", Release: "mall-api@2.3.1",
			URL: "https://sentry.io/organizations/acme/issues/1170820242/events/e1d2c3b4a5968778695a4b3c2d1e0f00/", IssueID: "1170820242",
			EventID: "e1d2c3b4a5968778695a4b3c2d1e0f00", Rules: []string{"商城后台生产错误"}, State: StateTriggered, Time: ts("2025-11-25T03:20:11.12Z")}},
		{"event_alert_occurrence.json", "event_alert", Event{Resource: ResourceEventAlert, ProjectSlugs: []string{"mall-api"},
			Title: "Cron failure: nightly-report 夜间报表", Level: "error"}},
		{"error_created.json", "error", Event{Resource: ResourceError, Action: "created", ProjectSlugs: []string{"mall-api"}, OrgSlug: "acme",
			Title: "Error: 订单金额为负 ✨", Environment: "production", State: StateError}},
		{"metric_alert_critical.json", "metric_alert", Event{Resource: ResourceMetricAlert, Action: "critical", ProjectSlugs: []string{"mall-api"}, OrgSlug: "acme",
			Title: "Critical: 支付错误率过高", Level: "fatal", Environment: "production", Message: "152 events in the last 5 minutes",
			URL: "https://acme.sentry.io/alerts/rules/details/11/?alert=7", State: StateCritical, Rules: []string{"支付错误率过高"}, Time: ts("2026-11-25T03:21:00Z")}},
		{"metric_alert_warning.json", "metric_alert", Event{Resource: ResourceMetricAlert, Action: "warning", Title: "Warning: 支付错误率过高", Level: "warning", State: StateWarning}},
		{"metric_alert_resolved.json", "metric_alert", Event{Resource: ResourceMetricAlert, Action: "resolved", Title: "Resolved: 支付错误率过高", State: StateResolved, Time: ts("2026-11-25T03:40:00Z")}},
		{"installation_created.json", "installation", Event{Resource: "installation", Ignored: "installation webhooks carry no alert"}},
		{"comment_created.json", "comment", Event{Resource: "comment", Ignored: "comment webhooks carry no alert"}},
		{"seer_unknown.json", "seer", Event{Resource: "seer", Ignored: `resource "seer" carries no alert this version knows`}},
		// Without the header the shape decides.
		{"event_alert.json", "", Event{Resource: ResourceEventAlert, ProjectSlugs: []string{"mall-api"}, Title: "Error: 订单金额为负 ✨"}},
		{"metric_alert_critical.json", "", Event{Resource: ResourceMetricAlert, ProjectSlugs: []string{"mall-api"}}},
	}
	for _, tt := range tests {
		t.Run(tt.file+"/"+tt.resource, func(t *testing.T) {
			got, err := Parse(load(t, tt.file), hdr(tt.resource))
			if err != nil {
				t.Fatal(err)
			}
			w := tt.want
			check := func(name, got, want string) {
				t.Helper()
				if want != "" && got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
			check("Resource", got.Resource, w.Resource)
			check("Action", got.Action, w.Action)
			check("Ignored", got.Ignored, w.Ignored)
			check("ProjectName", got.ProjectName, w.ProjectName)
			check("OrgSlug", got.OrgSlug, w.OrgSlug)
			check("Title", got.Title, w.Title)
			check("Culprit", got.Culprit, w.Culprit)
			check("Level", got.Level, w.Level)
			check("Environment", got.Environment, w.Environment)
			check("Release", got.Release, w.Release)
			check("URL", got.URL, w.URL)
			check("IssueID", got.IssueID, w.IssueID)
			check("ShortID", got.ShortID, w.ShortID)
			check("EventID", got.EventID, w.EventID)
			check("State", got.State, w.State)
			check("Message", got.Message, w.Message)
			check("Assignee", got.Assignee, w.Assignee)
			check("Actor", got.Actor, w.Actor)
			check("Resolution", got.Resolution, w.Resolution)
			check("User", got.User, w.User)
			if w.ProjectSlugs != nil && !slices.Equal(got.ProjectSlugs, w.ProjectSlugs) {
				t.Errorf("ProjectSlugs = %q, want %q", got.ProjectSlugs, w.ProjectSlugs)
			}
			if w.Rules != nil && !slices.Equal(got.Rules, w.Rules) {
				t.Errorf("Rules = %q, want %q", got.Rules, w.Rules)
			}
			if !w.Time.IsZero() && !got.Time.Equal(w.Time) {
				t.Errorf("Time = %v, want %v", got.Time, w.Time)
			}
			if !w.FirstSeen.IsZero() && !got.FirstSeen.Equal(w.FirstSeen) {
				t.Errorf("FirstSeen = %v, want %v", got.FirstSeen, w.FirstSeen)
			}
			if w.Count != 0 && got.Count != w.Count {
				t.Errorf("Count = %d, want %d", got.Count, w.Count)
			}
			if w.UserCount != 0 && got.UserCount != w.UserCount {
				t.Errorf("UserCount = %d, want %d", got.UserCount, w.UserCount)
			}
			if w.Unhandled && !got.Unhandled {
				t.Errorf("Unhandled = false, want true")
			}
			if w.Ignored == "" && got.Title == "" {
				t.Errorf("empty title")
			}
		})
	}
}

func TestParseBad(t *testing.T) {
	tests := []struct {
		name, body, resource, want string
	}{
		{"empty", "", "", "empty"},
		{"spaces", "  \n ", "", "empty"},
		{"not json", "hello", "", "not JSON"},
		{"array", `[{"project":"a"}]`, "", "JSON array"},
		{"string", `"x"`, "", "JSON string"},
		{"number", `42`, "", "JSON number"},
		{"truncated", `{"project":"a"`, "", "not valid JSON"},
		{"invalid utf8", "{\"project\":\"a\xff\"}", "", "UTF-8"},
		{"deep", strings.Repeat(`{"a":`, 300) + "1" + strings.Repeat("}", 300), "", "deeper"},
		{"no project", `{"id":"1","message":"x"}`, "", "names no project"},
		{"issue without data.issue", `{"action":"created","data":{}}`, "issue", "data.issue"},
		{"event_alert without slug", `{"action":"triggered","data":{"event":{"url":"https://x/"}}}`, "event_alert", "names no project"},
		{"metric without projects", `{"action":"critical","data":{"metric_alert":{"projects":[]}}}`, "metric_alert", "names no project"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.body), hdr(tt.resource))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
			if _, ok := err.(*Error); !ok {
				t.Errorf("err is %T, want *Error", err)
			}
		})
	}
}

func TestSignatureOverRawBytes(t *testing.T) {
	const secret = "6f7e0a2b9c8d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f"
	for _, f := range []string{"event_alert.json", "event_alert_utf8.json", "issue_created.json"} {
		body := load(t, f)
		sig := Sign(body, secret)
		if err := VerifySignature(body, secret, sig); err != nil {
			t.Errorf("%s: %v", f, err)
		}
		if err := VerifySignature(body, secret, strings.ToUpper(sig)); err != nil {
			t.Errorf("%s upper-case hex: %v", f, err)
		}
		if err := VerifySignature(append([]byte(nil), append(body, ' ')...), secret, sig); err != ErrBadSignature {
			t.Errorf("%s with a changed body: %v, want ErrBadSignature", f, err)
		}
		if err := VerifySignature(body, "other", sig); err != ErrBadSignature {
			t.Errorf("%s with another secret: %v", f, err)
		}
		if err := VerifySignature(body, secret, ""); err != ErrNoSignature {
			t.Errorf("%s without signature: %v", f, err)
		}
	}
	// A known vector: HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog").
	if got := Sign([]byte("The quick brown fox jumps over the lazy dog"), "key"); got != "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8" {
		t.Errorf("Sign = %s", got)
	}
}

func TestOrgFromURL(t *testing.T) {
	tests := []struct{ url, org, project string }{
		{"https://acme.sentry.io/issues/1/?referrer=webhooks_plugin", "acme", ""},
		{"https://sentry.example.org/organizations/acme/issues/1/", "acme", ""},
		{"https://sentry.example.org/prefix/organizations/acme/issues/1/", "acme", ""},
		{"https://us.sentry.io/api/0/projects/acme/mall-api/events/abc/", "acme", "mall-api"},
		{"https://sentry.example.org/acme/old-app/issues/77/", "acme", "old-app"},
		{"https://us.sentry.io/issues/1/", "", ""},
		{"https://app.getsentry.com/getsentry/project-slug/group/27379932/", "getsentry", "project-slug"},
		{"https://sentry.io/alertaio/alerta5/issues/541485531/", "alertaio", "alerta5"},
		{"http://47.236.137.231:9000/organizations/sentry/issues/18/?referrer=webhooks_plugin", "sentry", ""},
		{"https://test-org.sentry.io/issues/1170820242/events/bb78c1407cea4519aa397afc059c793d/", "test-org", ""},
		{"https://us.sentry.io/api/0/organizations/test-org/issues/1170820242/", "test-org", ""},
		{"https://sentry.io/api/0/issues/1170820242/", "", ""},
		{"", "", ""},
		{"::not a url", "", ""},
	}
	for _, tt := range tests {
		org, project := orgFromURL(tt.url)
		if org != tt.org || project != tt.project {
			t.Errorf("orgFromURL(%q) = %q, %q; want %q, %q", tt.url, org, project, tt.org, tt.project)
		}
	}
}

func FuzzParse(f *testing.F) {
	entries, _ := os.ReadDir(filepath.Join("..", "..", "testdata", "sentry"))
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		f.Add(load(f, e.Name()), "")
		f.Add(load(f, e.Name()), "issue")
	}
	f.Add([]byte(`{"action":"x","data":{"event":{"url":"/api/0/projects/a/b/events/c/"}}}`), "event_alert")
	f.Fuzz(func(t *testing.T, body []byte, resource string) {
		sameAsSlow(t, "fuzzed", body, resource) // the fast decoder agrees with encoding/json
		ev, err := Parse(body, hdr(resource))
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if ev.Ignored == "" && len(ev.ProjectSlugs) == 0 {
			t.Fatalf("an alert without a project: %+v", ev)
		}
	})
}

func TestEventAlertSlugFallback(t *testing.T) {
	ev, err := Parse([]byte(`{"action":"triggered","data":{"event":{"project":"mall-api","title":"x"}}}`), hdr("event_alert"))
	if err != nil || ev.ProjectSlugs[0] != "mall-api" {
		t.Fatalf("%+v %v", ev, err)
	}
	if _, err := Parse([]byte(`{"action":"triggered","data":{"event":{"project":4504812345678912,"title":"x"}}}`), hdr("event_alert")); err == nil {
		t.Fatal("a numeric project id is not a slug")
	}
}

func loadReal(t testing.TB, name string) []byte {
	t.Helper()
	return load(t, filepath.Join("real", name))
}

// TestRealBodiesParse reads every published body: each names its project,
// or is a resource without an alert; only the two bodies without any
// project are refused, naming the field.
func TestRealBodiesParse(t *testing.T) {
	for _, c := range realResources {
		ev, err := Parse(loadReal(t, c.file), hdr(c.resource))
		if c.noProject != "" {
			if err == nil || !strings.Contains(err.Error(), c.noProject) {
				t.Errorf("%s: err = %v, want it to name %s", c.file, err, c.noProject)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.file, err)
			continue
		}
		if ev.Ignored == "" && (len(ev.ProjectSlugs) == 0 || ev.Title == "" || ev.Title == "(no title)") {
			t.Errorf("%s: projects %q title %q", c.file, ev.ProjectSlugs, ev.Title)
		}
	}
}

// realResources lists the bodies of testdata/sentry/real with the
// Sentry-Hook-Resource header Sentry sends with each ("" for the legacy
// plugin); noProject is the field a refusal names.
var realResources = []struct{ file, resource, noProject string }{
	{"sentry_webhooks_readme_legacy_sentry7.json", "", ""},
	{"alerta_legacy_sentry8.json", "", ""},
	{"alerta_legacy_sentry9.json", "", ""},
	{"docs2020_legacy_webhook_plugin.json", "", ""},
	{"saas2024_legacy_test_plugin_customer_domain.json", "", ""},
	{"selfhosted_legacy_org_sentry.json", "", ""},
	{"docs2020_event_alert.json", "event_alert", ""},
	{"docs2024_event_alert.json", "event_alert", ""},
	{"edited_event_alert_region_host.json", "event_alert", ""},
	{"docs2020_error_created.json", "error", ""},
	{"docs2024_error_created.json", "error", ""},
	{"edited_error_created_php_empty_arrays.json", "error", ""},
	{"docs2020_issue_created.json", "issue", ""},
	{"docs2024_issue_created.json", "issue", ""},
	{"edited_issue_unresolved_regressed.json", "issue", ""},
	{"edited_issue_archived.json", "issue", ""},
	{"ipe_issue_created.json", "issue", ""},
	{"ipe_issue_assigned.json", "issue", ""},
	{"ipe_issue_ignored.json", "issue", ""},
	{"ipe_issue_resolved.json", "issue", ""},
	{"zulip_issue_assigned_to_team.json", "issue", ""},
	{"zulip_issue_ignored.json", "issue", ""},
	{"zulip_issue_resolved.json", "issue", ""},
	{"edited_metric_alert_critical.json", "metric_alert", ""},
	{"edited_metric_alert_warning.json", "metric_alert", ""},
	{"docs2024_metric_alert.json", "metric_alert", ""},
	{"docs2024_installation_created.json", "installation", ""},
	{"ipe_installation_deleted.json", "installation", ""},
	{"docs2024_comment.json", "comment", ""},
	{"ipe_comment_created.json", "comment", ""},
	{"docs2026_activity_alert.json", "activity_alert", ""},
	{"edited_event_alert_settings.json", "event_alert", ""},
	{"edited_metric_alert_critical_settings.json", "metric_alert", ""},
	{"docs_seer_root_cause_started.json", "seer", ""},
	{"docs_seer_pr_created.json", "seer", ""},
	{"ipe_event_alert_no_project.json", "event_alert", "data.event.url"},
	{"ipe_metric_alert_critical_no_project.json", "metric_alert", "data.metric_alert.projects"},
}

// Sentry 8 names the user and request interfaces by class path; the user is
// the interface's email, never the sentry:user tag "id:1".
func TestSentry8UserAndRequest(t *testing.T) {
	for _, tc := range []struct{ file, user, request, org, host string }{
		{"alerta_legacy_sentry8.json", "sentry@example.com", "GET http://example.com/foo", "alertaio", "sentry.io"},
		{"alerta_legacy_sentry9.json", "sentry@example.com", "GET http://example.com/foo", "alertaio", "sentry.io"},
		{"saas2024_legacy_test_plugin_customer_domain.json", "sentry@example.com", "GET http://example.com/foo", "berani", "berani.sentry.io"},
		{"sentry_webhooks_readme_legacy_sentry7.json", "", "", "getsentry", "app.getsentry.com"},
		{"selfhosted_legacy_org_sentry.json", "", "", "sentry", "47.236.137.231"},
	} {
		ev, err := Parse(loadReal(t, tc.file), nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		if ev.User != tc.user || ev.Request != tc.request || ev.OrgSlug != tc.org || ev.Host != tc.host {
			t.Errorf("%s: user %q request %q org %q host %q; want %q %q %q %q", tc.file, ev.User, ev.Request, ev.OrgSlug, ev.Host,
				tc.user, tc.request, tc.org, tc.host)
		}
	}
	// Only the tag: its value, without the email: prefix.
	ev, _ := Parse([]byte(`{"project":"a","event":{"tags":[["sentry:user","email:x@y.z"]]}}`), nil)
	if ev.User != "x@y.z" {
		t.Errorf("user from the tag = %q", ev.User)
	}
}

// An optional member of an unexpected type (an array where Sentry sends an
// object, seen in relays that re-encode with PHP) is skipped; the alert
// keeps everything else.
func TestLenientTypes(t *testing.T) {
	for _, tc := range []struct{ name, body, resource, title string }{
		{"metadata array", `{"action":"created","data":{"error":{"url":"https://sentry.io/api/0/projects/o/p/events/1/","metadata":[],"title":"T"}}}`, "error", "T"},
		{"user array", `{"project":"p","event":{"user":[],"title":"T"}}`, "", "T"},
		{"logentry string", `{"project":"p","event":{"logentry":"x","title":"T"}}`, "", "T"},
		{"event string", `{"project":"p","message":"T","event":"x"}`, "", "T"},
		{"exception object values", `{"project":"p","event":{"exception":{"values":{"type":"E"}},"metadata":{"type":"E","value":"v"}}}`, "", "E: v"},
		{"issue metadata array", `{"action":"created","data":{"issue":{"title":"T","metadata":[1],"project":{"slug":"p"},"assignedTo":[]}}}`, "issue", "T"},
		{"metric alert_rule array", `{"action":"critical","data":{"description_title":"T","metric_alert":{"projects":["p"],"alert_rule":[]}}}`, "metric_alert", "T"},
		{"data.event number, data.error ok", `{"action":"created","data":{"event":1,"error":{"url":"/api/0/projects/o/p/events/1/","title":"T"}}}`, "error", "T"},
		{"tags object of arrays", `{"project":"p","event":{"title":"T","tags":{"a":[1]}}}`, "", "T"},
	} {
		ev, err := Parse([]byte(tc.body), hdr(tc.resource))
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if len(ev.ProjectSlugs) != 1 || ev.ProjectSlugs[0] != "p" || ev.Title != tc.title {
			t.Errorf("%s: projects %q title %q, want p and %q", tc.name, ev.ProjectSlugs, ev.Title, tc.title)
		}
	}
}

// error.created is one error event, never a new issue.
func TestErrorCreatedIsAnEvent(t *testing.T) {
	for _, f := range []string{"docs2020_error_created.json", "docs2024_error_created.json"} {
		ev, err := Parse(loadReal(t, f), hdr("error"))
		if err != nil || ev.State != StateError || ev.FollowUp() {
			t.Errorf("%s: state %q %v", f, ev.State, err)
		}
	}
	ev, _ := Parse([]byte(`{"action":"created","data":{"error":{"url":"/api/0/projects/o/p/events/1/","title":"T",`+
		`"datetime":"2024-01-02T03:04:05Z","firstSeen":"2024-01-01T00:00:00Z","lastSeen":"2024-01-02T03:04:05Z"}}}`), hdr("error"))
	if ev.FirstSeen.IsZero() || ev.LastSeen.IsZero() {
		t.Errorf("first/last seen not read: %+v", ev)
	}
	ev, _ = Parse(loadReal(t, "edited_issue_archived.json"), hdr("issue"))
	if ev.State != StateArchived || !ev.FollowUp() {
		t.Errorf("archived: %q", ev.State)
	}
}

// TestMetricAlertWithoutNamesHasATitle: a metric alert whose description
// title, title and rule name are all missing or not strings still has a
// title (found by FuzzRealTypes, testdata/fuzz/FuzzRealTypes/38a249113b2edc31).
func TestMetricAlertWithoutNamesHasATitle(t *testing.T) {
	for body, want := range map[string]string{
		`{"action":"warning","data":{"description_title":{},"description_text":"1000 events","metric_alert":{"title":[1],"projects":["bar"],"alert_rule":{"name":{}}}}}`: "1000 events",
		`{"action":"warning","data":{"metric_alert":{"projects":["bar"]}}}`:                                                                                              "(no title)",
	} {
		ev, err := Parse([]byte(body), hdr("metric_alert"))
		if err != nil || ev.Title != want {
			t.Errorf("%s: title %q, %v; want %q", body, ev.Title, err, want)
		}
	}
}

// TestAlertRuleSettings reads the settings an alert rule's action saved
// for this relay (contract §7: robot, mention, notes) where each alert
// carries them: data.issue_alert.settings (issue alerts),
// data.metric_alert.alert_rule.triggers[].actions[].settings of the
// trigger the alert is for (metric alerts) and data.alert.settings
// (activity alerts); another integration's settings are none of ours.
func TestAlertRuleSettings(t *testing.T) {
	for _, tc := range []struct {
		file, resource, robot, mention, notes string
	}{
		{"edited_event_alert_settings.json", "event_alert", "4", "all", "先看支付回调 / check the payment callback first"},
		{"edited_metric_alert_critical_settings.json", "metric_alert", "1", "owners", "DBA on call"},
		{"docs2024_event_alert.json", "event_alert", "", "", ""},
		{"docs2026_activity_alert.json", "activity_alert", "", "", ""},
	} {
		ev, err := Parse(loadReal(t, tc.file), hdr(tc.resource))
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		if ev.RuleRobot != tc.robot || ev.RuleMention != tc.mention || ev.RuleNotes != tc.notes || ev.HasRule() != (tc.robot != "") {
			t.Errorf("%s: robot %q mention %q notes %q, want %q %q %q", tc.file, ev.RuleRobot, ev.RuleMention, ev.RuleNotes, tc.robot, tc.mention, tc.notes)
		}
	}
	// The warning trigger's settings for a warning.
	raw := bytes.Replace(loadReal(t, "edited_metric_alert_critical_settings.json"), []byte(`"action": "critical"`), []byte(`"action": "warning"`), 1)
	ev, err := Parse(raw, hdr("metric_alert"))
	if err != nil || ev.RuleRobot != "2" || ev.RuleMention != "none" || ev.RuleNotes != "" {
		t.Errorf("warning: %+v %v", ev, err)
	}
	// An activity alert whose rule chose a robot; values of other types.
	raw = bytes.Replace(loadReal(t, "docs2026_activity_alert.json"),
		[]byte(`{ "name": "title", "value": "A Title" }`), []byte(`{ "name": "robot", "value": 3 }, { "name": "mention", "value": " OnCall " }`), 1)
	ev, err = Parse(raw, hdr("activity_alert"))
	if err != nil || ev.RuleRobot != "3" || ev.RuleMention != "oncall" {
		t.Errorf("activity alert: %+v %v", ev, err)
	}
}

// TestActivityAlert reads Sentry's 2026 activity alert as an alert of its
// issue: the project, the issue's title and facts, the rule, the
// activity; and any resource this version does not know whose body
// carries an issue with a project and an alert rule is read the same way,
// while one without an alert rule is still ignored.
func TestActivityAlert(t *testing.T) {
	raw := loadReal(t, "docs2026_activity_alert.json")
	for _, resource := range []string{"activity_alert", "", "issue_activity_alert"} {
		ev, err := Parse(raw, hdr(resource))
		if err != nil {
			t.Fatalf("%q: %v", resource, err)
		}
		want := Event{Resource: resource, Action: "triggered", ProjectSlugs: []string{"error-gen"}, ProjectName: "error-gen", OrgSlug: "acme",
			Title: "TypeError: you aren't my type", Level: "warning", State: StateTriggered, IssueID: "43", ShortID: "ERROR-GEN-R",
			Count: 1, UserCount: 24, IssueState: "escalating", Activity: "seer_root_cause_completed", Rules: []string{"I'm keeping an eye on Seer \U0001f440"},
			URL: "https://sentry.io/organizations/acme/issues/43/"}
		if resource == "" {
			want.Resource = ResourceActivityAlert
		}
		if ev.Resource != want.Resource || ev.Action != want.Action || !slices.Equal(ev.ProjectSlugs, want.ProjectSlugs) || ev.OrgSlug != want.OrgSlug ||
			ev.Title != want.Title || ev.Level != want.Level || ev.State != want.State || ev.IssueID != want.IssueID || ev.ShortID != want.ShortID ||
			ev.Count != want.Count || ev.UserCount != want.UserCount || ev.IssueState != want.IssueState || ev.Activity != want.Activity ||
			!slices.Equal(ev.Rules, want.Rules) || ev.URL != want.URL || ev.Ignored != "" || ev.FollowUp() || ev.Time.IsZero() ||
			!strings.HasPrefix(ev.Message, "Synthetic test error") {
			t.Errorf("%q:\n got %+v\nwant %+v", resource, ev, want)
		}
	}
	// Without an alert rule, a resource this version does not know is
	// acknowledged and ignored, even when it carries an issue.
	noRule := bytes.Replace(raw, []byte(`"alert": {`), []byte(`"not_an_alert": {`), 1)
	if ev, err := Parse(noRule, hdr("issue_activity")); err != nil || ev.Ignored == "" {
		t.Errorf("no rule: %+v %v", ev, err)
	}
	if _, err := Parse([]byte(`{"action":"triggered","data":{"alert":{"title":"x"}}}`), hdr("activity_alert")); err == nil ||
		!strings.Contains(err.Error(), "data.issue") {
		t.Errorf("no issue: %v", err)
	}
}
