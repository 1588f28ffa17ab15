package sentrytest

import (
	"net/http"
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/sentry"
)

// TestURLsAsSentryBuildsThem: the select's URL drops the webhook URL's
// query for Sentry's own; the settings URL keeps it; a uri replaces the
// path whole, a "?" in it staying before Sentry's query.
func TestURLsAsSentryBuildsThem(t *testing.T) {
	hook := "https://relay.example.com/hook?token=abc"
	for _, tc := range []struct{ got, want string }{
		{must(SelectURL(hook, "/sentry-app/abc/robots", "uuid-1", "mall-api", "")), "https://relay.example.com/sentry-app/abc/robots?installationId=uuid-1&projectSlug=mall-api"},
		{must(SelectURL(hook, "/sentry-app/robots?token=abc", "uuid-1", "", "研发")), "https://relay.example.com/sentry-app/robots?token=abc?installationId=uuid-1&query=%E7%A0%94%E5%8F%91"},
		{must(ActionURL(hook, "/sentry-app/abc/settings")), "https://relay.example.com/sentry-app/abc/settings?token=abc"},
		{must(ActionURL("http://127.0.0.1:9000/", "/sentry-app/abc/settings")), "http://127.0.0.1:9000/sentry-app/abc/settings"},
	} {
		if tc.got != tc.want {
			t.Errorf("got  %s\nwant %s", tc.got, tc.want)
		}
	}
	if b := SettingsBody("uuid-1", Settings("3", "", "n")); string(b) != `{"fields":[{"name":"robot","value":"3"},{"name":"notes","value":"n"}],"installationId":"uuid-1"}` {
		t.Errorf("settings body %s", b)
	}
}

func must(s string, err error) string {
	if err != nil {
		panic(err)
	}
	return s
}

// TestBodiesReadAsSentrysOwn: the webhooks the stand-in sends are read by
// the relay's decoder as the alerts they describe, ASCII-only as Sentry
// serializes them.
func TestBodiesReadAsSentrysOwn(t *testing.T) {
	a := Alert{SentryURL: "http://127.0.0.1:9100", Org: "acme", Project: "mall-api", IssueID: "42", Title: "价格为空 🔥",
		Time: time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC), Settings: Settings("2", "oncall", "先看支付")}
	hdr := func(r string) http.Header { return http.Header{"Sentry-Hook-Resource": {r}} }
	for _, tc := range []struct {
		resource string
		body     []byte
		state    string
	}{
		{"event_alert", EventAlertBody(a), sentry.StateTriggered},
		{"activity_alert", ActivityAlertBody(a, "seer_root_cause_completed"), sentry.StateTriggered},
		{"issue", IssueBody("resolved", a, nil, "Jane"), sentry.StateResolved},
		{"issue", IssueBody("assigned", a, &Assignee{Type: "user", ID: "7", Name: "Jane Doe"}, ""), sentry.StateAssigned},
	} {
		for _, c := range tc.body {
			if c >= 0x80 {
				t.Fatalf("%s: a non-ASCII byte in %s", tc.resource, tc.body)
			}
		}
		ev, err := sentry.Parse(tc.body, hdr(tc.resource))
		if err != nil {
			t.Fatalf("%s: %v", tc.resource, err)
		}
		if ev.State != tc.state || ev.Title != a.Title || ev.IssueID != "42" || ev.ProjectSlugs[0] != "mall-api" || ev.Ignored != "" {
			t.Errorf("%s: %+v", tc.resource, ev)
		}
		if tc.state == sentry.StateTriggered && (ev.RuleRobot != "2" || ev.RuleMention != "oncall" || ev.RuleNotes != "先看支付" || ev.OrgSlug != "acme") {
			t.Errorf("%s settings: %+v", tc.resource, ev)
		}
	}
	if ev, _ := sentry.Parse(IssueBody("assigned", a, &Assignee{Type: "user", ID: "7", Name: "Jane Doe"}, ""), hdr("issue")); ev.Assignee != "Jane Doe" {
		t.Errorf("assignee %q", ev.Assignee)
	}
}
