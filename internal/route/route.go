// Package route decides where a Sentry event goes: which configured
// projects it belongs to, which robots receive it, and whom it @-mentions.
package route

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

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
	// PayloadOrg is the organization the payload named when it is not the
	// project's organization (a hand-typed slug, self-hosted's default
	// "sentry", an old link form); "" when they agree or the payload names
	// none.
	PayloadOrg string
	// Mention is the alert rule's mention (sentry.MentionOwners …) that
	// replaces the project's way of mentioning, "" for the project's own;
	// AtAll is set when it rings everyone in the group.
	Mention string
	AtAll   bool
	// Rule says what the alert rule's settings decided (RuleOf.Describe),
	// "" when the alert carries none.
	Rule string
	// Ring is whom the target rings at the moment it was planned (Rings),
	// when the planner asked; Owners then are Ring.Owners.
	Ring *Ringing
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

// UnknownProjectError is returned when no configured project takes the
// event. It names what the payload said and, when projects with the slug
// exist under other organizations, which ones and what to change.
type UnknownProjectError struct {
	Slugs []string
	Org   string // the organization the payload named
	Host  string // the Sentry host of the payload's links
	// Elsewhere lists the configured projects with the slug that the
	// payload's organization and host could not choose among.
	Elsewhere []Place
}

// Place is a configured project and its organization.
type Place struct {
	Project string // slug
	OrgName string
	OrgSlug string
	OrgURL  string // the organization's sentry_url
}

func (e *UnknownProjectError) Error() string {
	var b strings.Builder
	said := e.said()
	if len(e.Elsewhere) == 0 {
		fmt.Fprintf(&b, "unknown project %q%s: no configured project has this Sentry slug; add it in the configurator (项目) with the slug %q",
			strings.Join(e.Slugs, ", "), said, firstOr(e.Slugs, ""))
		return b.String()
	}
	var where []string
	for _, p := range e.Elsewhere {
		w := fmt.Sprintf("organization %q (slug %q", p.OrgName, p.OrgSlug)
		if p.OrgURL != "" {
			w += ", " + p.OrgURL
		}
		where = append(where, w+")")
	}
	fmt.Fprintf(&b, "project %q is configured under %s, and the payload%s matches none of them: ",
		e.Elsewhere[0].Project, strings.Join(where, " and "), said)
	var fix []string
	if e.Org != "" {
		fix = append(fix, fmt.Sprintf("set the slug of the organization this Sentry belongs to to %q", e.Org))
	}
	if e.Host != "" {
		fix = append(fix, fmt.Sprintf("set its Sentry URL to one on %s", e.Host))
	}
	if len(fix) == 0 {
		fix = append(fix, "give the organization this Sentry belongs to its client_secret, so the signature tells them apart")
	}
	b.WriteString(strings.Join(fix, ", or ") + " in the configurator (组织)")
	return b.String()
}

// said describes the organization and host the payload named.
func (e *UnknownProjectError) said() string {
	switch {
	case e.Org != "" && e.Host != "":
		return fmt.Sprintf(" (the payload names organization %q on %s)", e.Org, e.Host)
	case e.Org != "":
		return fmt.Sprintf(" (the payload names organization %q)", e.Org)
	case e.Host != "":
		return fmt.Sprintf(" (the payload comes from %s and names no organization)", e.Host)
	}
	return " (the payload names no organization)"
}

func firstOr(s []string, def string) string {
	if len(s) > 0 {
		return s[0]
	}
	return def
}

// BySlug returns every configured project, in any organization, whose slug
// (case-insensitive) the event names.
func BySlug(x *config.Index, ev *sentry.Event) []*config.Project {
	var out []*config.Project
	for _, slug := range ev.ProjectSlugs {
		for _, p := range x.ProjectsBySlug(slug) {
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	return out
}

// Choose applies the routing rule (contract §4) to ps, the projects with
// the event's slugs (BySlug, possibly narrowed to the organization whose
// client_secret verified the signature): a slug that exactly one of them
// has routes there whatever organization the payload names. Among several
// projects sharing a slug, the payload's organization slug chooses, then
// the Sentry host of its links against each organization's sentry_url;
// organizations without a slug are taken when no slug matches. A payload
// that names neither goes to every one of them. When the organization and
// host named match none, the error says which organizations have the slug
// and what to change.
func Choose(x *config.Index, ev *sentry.Event, ps []*config.Project) ([]*config.Project, error) {
	var out []*config.Project
	var elsewhere []Place
	for _, slug := range ev.ProjectSlugs {
		var group []*config.Project
		for _, p := range ps {
			if strings.EqualFold(p.Slug, slug) && !slices.Contains(group, p) {
				group = append(group, p)
			}
		}
		if len(group) == 0 {
			continue
		}
		chosen := chooseAmong(x, ev, group)
		if chosen == nil {
			for _, p := range group {
				pl := Place{Project: p.Slug}
				if o := x.Organization(p.OrganizationID); o != nil {
					pl.OrgName, pl.OrgSlug, pl.OrgURL = o.Name, o.Slug, o.SentryURL
				}
				elsewhere = append(elsewhere, pl)
			}
			continue
		}
		for _, p := range chosen {
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
	}
	if len(out) == 0 {
		return nil, &UnknownProjectError{Slugs: ev.ProjectSlugs, Org: ev.OrgSlug, Host: ev.Host, Elsewhere: elsewhere}
	}
	return out, nil
}

// Candidates returns the projects ev goes to by the routing rule (BySlug,
// then Choose), or none.
func Candidates(x *config.Index, ev *sentry.Event) []*config.Project {
	ps, _ := Choose(x, ev, BySlug(x, ev))
	return ps
}

// chooseAmong picks among projects sharing one slug; nil when the payload's
// organization and host match none of them.
func chooseAmong(x *config.Index, ev *sentry.Event, group []*config.Project) []*config.Project {
	if len(group) == 1 {
		return group
	}
	if ev.OrgSlug != "" {
		var named, unnamed []*config.Project
		for _, p := range group {
			o := x.Organization(p.OrganizationID)
			switch {
			case o == nil || o.Slug == "":
				unnamed = append(unnamed, p)
			case strings.EqualFold(o.Slug, ev.OrgSlug):
				named = append(named, p)
			}
		}
		if len(named) > 0 {
			return narrowByHost(x, ev, named, false)
		}
		if len(unnamed) > 0 {
			return narrowByHost(x, ev, unnamed, false)
		}
		return narrowByHost(x, ev, group, true)
	}
	return narrowByHost(x, ev, group, false)
}

// narrowByHost keeps, among several projects, those whose organization's
// sentry_url is on the Sentry the payload's links point to (a self-hosted
// Sentry and sentry.io may both have an organization "acme"; every
// *.sentry.io host is sentry.io). When none matches, or the payload has no
// host, strict returns nil and otherwise all of ps stay.
func narrowByHost(x *config.Index, ev *sentry.Event, ps []*config.Project, strict bool) []*config.Project {
	host := ev.Host
	if host == "" {
		if u, err := url.Parse(ev.URL); err == nil {
			host = strings.ToLower(u.Hostname())
		}
	}
	if host == "" || (len(ps) < 2 && !strict) {
		if strict {
			return nil
		}
		return ps
	}
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
		if oh == host || isSentryIO(oh) && isSentryIO(host) {
			kept = append(kept, p)
		}
	}
	if len(kept) == 0 && !strict {
		return ps
	}
	return kept
}

func isSentryIO(h string) bool { return h == "sentry.io" || strings.HasSuffix(h, ".sentry.io") }

// Match plans the delivery of ev to the given projects (from Candidates),
// applying each project's filters. Each robot appears once even when several
// projects route to it.
func Match(x *config.Index, ev *sentry.Event, projects []*config.Project) (*Plan, error) {
	if len(projects) == 0 {
		return nil, &UnknownProjectError{Slugs: ev.ProjectSlugs, Org: ev.OrgSlug, Host: ev.Host}
	}
	plan := &Plan{Projects: projects}
	seen := map[int64]bool{}
	rule := RuleOf(x, ev)
	described := rule.Describe(ev)
	for _, p := range projects {
		if reason := filtered(p, ev); reason != "" {
			plan.Skipped = append(plan.Skipped, Skipped{Project: p, Reason: reason})
			continue
		}
		owners := projectOwners(x, p)
		mention, all := owners, false
		switch {
		case rule.Mention != "":
			mention, all = RuleOwners(x, p, rule.Mention, time.Now())
		case !Mentions(p, ev):
			mention = nil
		}
		robots := p.RobotIDs
		if rule.Robot != nil {
			robots = []int64{rule.Robot.ID} // the alert rule's robot, instead of the project's
		} else if len(robots) == 0 {
			plan.Skipped = append(plan.Skipped, Skipped{Project: p, Reason: "the project has no robot"})
		}
		for _, id := range robots {
			r := x.Robot(id)
			if r == nil || seen[id] {
				continue
			}
			seen[id] = true
			org := x.Organization(p.OrganizationID)
			plan.Targets = append(plan.Targets, Target{
				Project: p, Org: org, Robot: r,
				Owners: mention, AllOwners: owners, PayloadOrg: PayloadOrg(org, ev),
				Mention: rule.Mention, AtAll: all, Rule: described,
			})
		}
	}
	return plan, nil
}

// PayloadOrg returns the organization ev's payload named when it is not
// org (by slug, case-insensitive), else "".
func PayloadOrg(org *config.Organization, ev *sentry.Event) string {
	if ev.OrgSlug == "" || org != nil && strings.EqualFold(org.Slug, ev.OrgSlug) {
		return ""
	}
	return ev.OrgSlug
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
