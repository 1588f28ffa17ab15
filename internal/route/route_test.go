package route

import (
	"errors"
	"fmt"
	"github.com/sentry-white/sentry-white/internal/notifiers"
	"strings"
	"testing"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/sentry"
)

// kinds are the robot kinds of the documents, the programs' own.
var kinds = notifiers.Default().Document()

func index(t *testing.T) *config.Index {
	t.Helper()
	off := false
	d := &config.Document{
		Schema: 1,
		Organizations: []config.Organization{
			{ID: 1, Name: "a", Slug: "acme"}, {ID: 2, Name: "b", Slug: "other"}, {ID: 3, Name: "no slug"},
		},
		Owners: []config.Owner{{ID: 1, Name: "张三", Mobile: "13800138000"}, {ID: 2, Name: "李四", Mobile: "13900139000"}},
		Robots: []config.Robot{{ID: 1, Name: "r1", Kind: "dingtalk", AccessToken: "t1"}, {ID: 2, Name: "r2", Kind: "dingtalk", AccessToken: "t2"}},
		Projects: []config.Project{
			{ID: 1, Name: "商城", Slug: "mall-api", OrganizationID: 1, OwnerIDs: []int64{1, 2}, RobotIDs: []int64{1, 2}},
			{ID: 2, Name: "商城b", Slug: "mall-api", OrganizationID: 2, OwnerIDs: []int64{2}, RobotIDs: []int64{2}},
			{ID: 3, Name: "web", Slug: "web", OrganizationID: 3, OwnerIDs: []int64{1}, RobotIDs: []int64{1},
				Environments: []string{"production"}, MinLevel: "warning", MentionLevel: "error"},
			{ID: 4, Name: "quiet", Slug: "quiet", OwnerIDs: []int64{1}, RobotIDs: []int64{1}, FollowUps: &off},
		},
	}
	if err := d.Validate(kinds); err != nil {
		t.Fatal(err)
	}
	return config.NewIndex(d)
}

func TestCandidatesByOrganization(t *testing.T) {
	x := index(t)
	for _, tc := range []struct {
		org  string
		want []int64
	}{{"acme", []int64{1}}, {"other", []int64{2}}, {"", []int64{1, 2}}, {"nobody", nil}} {
		ps := Candidates(x, &sentry.Event{ProjectSlugs: []string{"MALL-API"}, OrgSlug: tc.org})
		var got []int64
		for _, p := range ps {
			got = append(got, p.ID)
		}
		if len(got) != len(tc.want) || (len(got) > 0 && got[0] != tc.want[0]) {
			t.Errorf("org %q: projects %v, want %v", tc.org, got, tc.want)
		}
	}
	// A project whose organization has no slug matches any organization.
	if ps := Candidates(x, &sentry.Event{ProjectSlugs: []string{"web"}, OrgSlug: "whoever"}); len(ps) != 1 {
		t.Errorf("web: %d candidates", len(ps))
	}
	_, err := Match(x, &sentry.Event{ProjectSlugs: []string{"nope"}, OrgSlug: "acme"}, nil)
	var ue *UnknownProjectError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), `"nope"`) || !strings.Contains(err.Error(), "acme") {
		t.Errorf("unknown project error = %v", err)
	}
}

func TestMatchRobotsOnceAndFilters(t *testing.T) {
	x := index(t)
	ev := &sentry.Event{ProjectSlugs: []string{"mall-api"}, Level: "error"}
	plan, err := Match(x, ev, Candidates(x, ev))
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Targets) != 2 { // robot 2 is shared by both projects: once
		t.Fatalf("%d targets, want 2", len(plan.Targets))
	}
	if len(plan.Targets[0].Owners) != 2 {
		t.Errorf("owners = %d", len(plan.Targets[0].Owners))
	}

	web := []*config.Project{x.ProjectsBySlug("web")[0]}
	for _, tc := range []struct {
		name, env, level, state string
		send, mention           bool
	}{
		{"production error", "production", "error", "", true, true},
		{"production fatal", "Production", "fatal", "", true, true},
		{"production warning: no @", "production", "warning", "", true, false},
		{"staging warning", "staging", "warning", "", false, false},
		{"production info", "production", "info", "", false, false},
		{"no environment known", "", "error", "", true, true},
		{"resolved info still follows up", "production", "info", sentry.StateResolved, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			plan, err := Match(x, &sentry.Event{ProjectSlugs: []string{"web"}, Environment: tc.env, Level: tc.level, State: tc.state}, web)
			if err != nil {
				t.Fatal(err)
			}
			if got := len(plan.Targets) == 1; got != tc.send {
				t.Fatalf("send = %v, want %v (skipped %+v)", got, tc.send, plan.Skipped)
			}
			if tc.send && (len(plan.Targets[0].Owners) > 0) != tc.mention {
				t.Errorf("mention = %v, want %v", !tc.mention, tc.mention)
			}
			if tc.send && len(plan.Targets[0].AllOwners) != 1 {
				t.Error("owners must still be named without @")
			}
		})
	}
	quiet := []*config.Project{x.ProjectsBySlug("quiet")[0]}
	plan, _ = Match(x, &sentry.Event{ProjectSlugs: []string{"quiet"}, State: sentry.StateResolved}, quiet)
	if len(plan.Targets) != 0 || !strings.Contains(plan.Skipped[0].Reason, "follow-up") {
		t.Errorf("follow-ups off: %+v", plan)
	}
	plan, _ = Match(x, &sentry.Event{ProjectSlugs: []string{"quiet"}, State: sentry.StateNew}, quiet)
	if len(plan.Targets) != 1 {
		t.Error("follow-ups off must not stop new alerts")
	}
}

// Two organizations named "acme", one on sentry.io and one self-hosted:
// the payload's link tells them apart.
func TestCandidatesBySentryHost(t *testing.T) {
	d := &config.Document{
		Schema: 1,
		Organizations: []config.Organization{
			{ID: 1, Name: "saas", Slug: "acme", SentryURL: "https://sentry.io"},
			{ID: 2, Name: "self", Slug: "acme", SentryURL: "https://sentry.example.org"},
		},
		Robots: []config.Robot{{ID: 1, Name: "r", Kind: "dingtalk", AccessToken: "t"}},
		Projects: []config.Project{
			{ID: 1, Name: "a", Slug: "mall-api", OrganizationID: 1, RobotIDs: []int64{1}},
			{ID: 2, Name: "b", Slug: "mall-api", OrganizationID: 2, RobotIDs: []int64{1}},
		},
	}
	if err := d.Validate(kinds); err != nil {
		t.Fatal(err)
	}
	x := config.NewIndex(d)
	for _, tc := range []struct {
		url  string
		want []int64
	}{
		{"https://acme.sentry.io/issues/1/", []int64{1}},
		{"https://sentry.example.org/organizations/acme/issues/1/", []int64{2}},
		{"https://elsewhere.example/issues/1/", []int64{1, 2}},
		{"", []int64{1, 2}},
	} {
		ps := Candidates(x, &sentry.Event{ProjectSlugs: []string{"mall-api"}, OrgSlug: "acme", URL: tc.url})
		var got []int64
		for _, p := range ps {
			got = append(got, p.ID)
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%q: %v, want %v", tc.url, got, tc.want)
		}
	}
}

// One organization, one project per slug: whatever organization the
// payload names (a hand-typed slug, self-hosted's "sentry", a Sentry 8
// link), the project with that slug takes it, and the plan notes the
// organization the payload named.
func TestUniqueSlugRoutesWhateverOrganization(t *testing.T) {
	d := &config.Document{
		Schema:        1,
		Organizations: []config.Organization{{ID: 1, Name: "我们公司", Slug: "my-company", SentryURL: "https://sentry.io"}},
		Robots:        []config.Robot{{ID: 1, Name: "r", Kind: "dingtalk", AccessToken: "t"}},
		Projects:      []config.Project{{ID: 1, Name: "前端", Slug: "Front-End", OrganizationID: 1, RobotIDs: []int64{1}}},
	}
	if err := d.Validate(kinds); err != nil {
		t.Fatal(err)
	}
	x := config.NewIndex(d)
	for _, ev := range []sentry.Event{
		{ProjectSlugs: []string{"front-end"}, OrgSlug: "test-org", Host: "sentry.io"},
		{ProjectSlugs: []string{"FRONT-END"}, OrgSlug: "sentry", Host: "47.236.137.231"},
		{ProjectSlugs: []string{"front-end"}, OrgSlug: "getsentry", Host: "app.getsentry.com"},
		{ProjectSlugs: []string{"front-end"}, Host: "us.sentry.io"},
		{ProjectSlugs: []string{"front-end"}, OrgSlug: "my-company"},
	} {
		ps, err := Choose(x, &ev, BySlug(x, &ev))
		if err != nil || len(ps) != 1 {
			t.Errorf("%+v: %v %v", ev, ps, err)
			continue
		}
		plan, err := Match(x, &ev, ps)
		if err != nil || len(plan.Targets) != 1 {
			t.Fatalf("%+v: %v", ev, err)
		}
		want := ev.OrgSlug
		if want == "my-company" {
			want = ""
		}
		if plan.Targets[0].PayloadOrg != want {
			t.Errorf("%+v: PayloadOrg %q, want %q", ev, plan.Targets[0].PayloadOrg, want)
		}
	}
}

// The 404 names what the payload said and, when the slug is configured
// under organizations the payload matches none of, which ones and what to
// change.
func TestUnknownProjectErrorSaysWhatToChange(t *testing.T) {
	x := index(t)
	_, err := Choose(x, &sentry.Event{ProjectSlugs: []string{"nope"}, OrgSlug: "acme", Host: "acme.sentry.io"}, nil)
	var ue *UnknownProjectError
	if !errors.As(err, &ue) {
		t.Fatalf("err = %v", err)
	}
	for _, want := range []string{`"nope"`, `organization "acme"`, "acme.sentry.io", "add it in the configurator"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%q lacks %q", err, want)
		}
	}
	ev := &sentry.Event{ProjectSlugs: []string{"mall-api"}, OrgSlug: "nobody", Host: "sentry.elsewhere.example"}
	_, err = Choose(x, ev, BySlug(x, ev))
	for _, want := range []string{`"mall-api"`, `organization "a" (slug "acme"`, `organization "b" (slug "other"`, `organization "nobody"`,
		"sentry.elsewhere.example", `set the slug of the organization this Sentry belongs to to "nobody"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%v lacks %q", err, want)
		}
	}
}
