package sentry

import (
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
			Title: "Error: 订单金额为负 ✨", Environment: "production", State: StateNew}},
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
		f.Add(load(f, e.Name()), "")
		f.Add(load(f, e.Name()), "issue")
	}
	f.Add([]byte(`{"action":"x","data":{"event":{"url":"/api/0/projects/a/b/events/c/"}}}`), "event_alert")
	f.Fuzz(func(t *testing.T, body []byte, resource string) {
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
