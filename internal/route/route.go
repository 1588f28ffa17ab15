// Package route decides where a Sentry event goes: which configured
// projects it belongs to, which robots receive it, and whom it @-mentions.
package route

import (
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/sentry"
)

// Target is one robot that receives one event for one project.
type Target struct {
	Project *config.Project
	Org     *config.Organization // nil when the project has none
	Robot   *config.Robot
	Owners  []*config.Owner // to @-mention; empty when mentions are filtered off
	// AllOwners lists the project's owners even when they are not mentioned,
	// so the message can still name them.
	AllOwners []*config.Owner
}

// Skipped is a matched project whose filters dropped the event.
type Skipped struct {
	Project *config.Project
	Reason  string
}

// Plan is the routing result for one event.
type Plan struct {
	Projects []*config.Project
	Targets  []Target
	Skipped  []Skipped
}

// UnknownProjectError is returned when no configured project matches.
type UnknownProjectError struct {
	Slugs []string
	Org   string
}

func (e *UnknownProjectError) Error() string {
	s := fmt.Sprintf("unknown project %q", strings.Join(e.Slugs, ", "))
	if e.Org != "" {
		s += fmt.Sprintf(" in organization %q", e.Org)
	}
	return s + ": add it in the configurator (项目) with this Sentry slug"
}

// Candidates returns the configured projects whose slug the event names. A
// payload that names its organization only matches projects of that
// organization (or of none), so two organizations with the same project slug
// never cross.
func Candidates(x *config.Index, ev *sentry.Event) []*config.Project {
	var out []*config.Project
	for _, slug := range ev.ProjectSlugs {
		for _, p := range x.ProjectsBySlug(slug) {
			if ev.OrgSlug != "" {
				if o := x.Organization(p.OrganizationID); o != nil && o.Slug != "" && !strings.EqualFold(o.Slug, ev.OrgSlug) {
					continue
				}
			}
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return narrowByHost(x, ev, out)
}

// narrowByHost keeps, among several candidates, those whose organization's
// sentry_url is the Sentry the payload's link points to (a self-hosted
// Sentry and sentry.io may both have an organization "acme"). When none
// matches, or the payload has no link, all candidates stay.
func narrowByHost(x *config.Index, ev *sentry.Event, ps []*config.Project) []*config.Project {
	if len(ps) < 2 || ev.URL == "" {
		return ps
	}
	u, err := url.Parse(ev.URL)
	if err != nil || u.Host == "" {
		return ps
	}
	host := strings.ToLower(u.Hostname())
	var kept []*config.Project
	for _, p := range ps {
		o := x.Organization(p.OrganizationID)
		if o == nil || o.SentryURL == "" {
			continue
		}
		ou, err := url.Parse(o.SentryURL)
		if err != nil {
			continue
		}
		oh := strings.ToLower(ou.Hostname())
		if oh == host || (oh == "sentry.io" || strings.HasSuffix(oh, ".sentry.io")) && (host == "sentry.io" || strings.HasSuffix(host, ".sentry.io")) {
			kept = append(kept, p)
		}
	}
	if len(kept) == 0 {
		return ps
	}
	return kept
}

// Match plans the delivery of ev to the given projects (from Candidates),
// applying each project's filters. Each robot appears once even when several
// projects route to it.
func Match(x *config.Index, ev *sentry.Event, projects []*config.Project) (*Plan, error) {
	if len(projects) == 0 {
		return nil, &UnknownProjectError{Slugs: ev.ProjectSlugs, Org: ev.OrgSlug}
	}
	plan := &Plan{Projects: projects}
	seen := map[int64]bool{}
	for _, p := range projects {
		if reason := filtered(p, ev); reason != "" {
			plan.Skipped = append(plan.Skipped, Skipped{Project: p, Reason: reason})
			continue
		}
		var owners []*config.Owner
		for _, id := range p.OwnerIDs {
			if o := x.Owner(id); o != nil {
				owners = append(owners, o)
			}
		}
		mention := owners
		if !Mentions(p, ev) {
			mention = nil
		}
		if len(p.RobotIDs) == 0 {
			plan.Skipped = append(plan.Skipped, Skipped{Project: p, Reason: "the project has no robot"})
		}
		for _, id := range p.RobotIDs {
			r := x.Robot(id)
			if r == nil || seen[id] {
				continue
			}
			seen[id] = true
			plan.Targets = append(plan.Targets, Target{
				Project: p, Org: x.Organization(p.OrganizationID), Robot: r,
				Owners: mention, AllOwners: owners,
			})
		}
	}
	return plan, nil
}

// filtered returns why p's filters drop ev, or "".
func filtered(p *config.Project, ev *sentry.Event) string {
	if ev.FollowUp() && !p.WantsFollowUps() {
		return "follow-up messages are off for this project"
	}
	if len(p.Environments) > 0 && ev.Environment != "" {
		ok := false
		for _, e := range p.Environments {
			ok = ok || strings.EqualFold(e, ev.Environment)
		}
		if !ok {
			return fmt.Sprintf("environment %q is not in %v", ev.Environment, p.Environments)
		}
	}
	if p.MinLevel != "" && !ev.FollowUp() && ev.State != sentry.StateResolved &&
		config.LevelRank(ev.Level) < config.LevelRank(p.MinLevel) {
		return fmt.Sprintf("level %q is below the minimum %q", ev.Level, p.MinLevel)
	}
	return ""
}

// Mentions reports whether ev @-mentions p's owners: every message does
// (contract §5), except below the project's mention_level.
func Mentions(p *config.Project, ev *sentry.Event) bool { return MentionsAt(p, ev.Level) }

// MentionsAt reports whether an alert of level @-mentions p's owners.
func MentionsAt(p *config.Project, level string) bool {
	return p.MentionLevel == "" || config.LevelRank(level) >= config.LevelRank(p.MentionLevel)
}
