package route

import (
	"fmt"
	"testing"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/sentry"
)

// benchIndex is a document the size of a large team: n projects in two
// organizations, each with two owners and its own robot.
func benchIndex(b *testing.B, n int) *config.Index {
	b.Helper()
	d := &config.Document{Schema: 1,
		Organizations: []config.Organization{{ID: 1, Name: "a", Slug: "acme"}, {ID: 2, Name: "b", Slug: "other"}}}
	for i := 1; i <= n; i++ {
		d.Owners = append(d.Owners, config.Owner{ID: int64(i), Name: fmt.Sprintf("owner %d", i), Mobile: fmt.Sprintf("138%08d", i)})
		d.Robots = append(d.Robots, config.Robot{ID: int64(i), Name: fmt.Sprintf("robot %d", i), Kind: "dingtalk",
			AccessToken: config.Secret(fmt.Sprintf("token-%d", i))})
		d.Projects = append(d.Projects, config.Project{ID: int64(i), Name: fmt.Sprintf("项目 %d", i),
			Slug: fmt.Sprintf("proj-%04d", i), OrganizationID: int64(1 + i%2),
			OwnerIDs: []int64{int64(i), int64(1 + i%n)}, RobotIDs: []int64{int64(i)}})
	}
	if err := d.Validate(kinds); err != nil {
		b.Fatal(err)
	}
	return config.NewIndex(d)
}

// BenchmarkRoute finds the project of an event among 1,000 and plans its
// delivery (Candidates + Match), as the relay does per webhook.
func BenchmarkRoute(b *testing.B) {
	x := benchIndex(b, 1000)
	for _, tc := range []struct {
		name string
		ev   sentry.Event
	}{
		{"one_project", sentry.Event{ProjectSlugs: []string{"proj-0501"}, OrgSlug: "other", Level: "error", State: sentry.StateNew}},
		{"follow_up", sentry.Event{ProjectSlugs: []string{"proj-0501"}, State: sentry.StateResolved}},
		{"upper_case_slug", sentry.Event{ProjectSlugs: []string{"PROJ-0501"}, Level: "error", State: sentry.StateNew}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ps := Candidates(x, &tc.ev)
				plan, err := Match(x, &tc.ev, ps)
				if err != nil || len(plan.Targets) != 1 {
					b.Fatalf("plan %+v, %v", plan, err)
				}
			}
		})
	}
}
