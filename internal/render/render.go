// Package render turns a routed Sentry event into the Message a robot
// receives: the facts Sentry's own alerts show, in the team's language, with
// the robot's keyword and the owners to @-mention.
package render

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/notify"
	"github.com/sentry-white/sentry-white/internal/route"
	"github.com/sentry-white/sentry-white/internal/sentry"
)

// Shanghai is China Standard Time (UTC+8, no daylight saving since 1991),
// the default zone for times in messages.
var Shanghai = time.FixedZone("CST", 8*3600)

// Options control rendering.
type Options struct {
	Zone *time.Location // nil means Shanghai
	Lang string         // "zh" (default) or "en"
}

// Limits on single values, in runes, so one huge field cannot crowd out the
// rest of the message.
const (
	maxTitle   = 300
	maxValue   = 500
	maxMessage = 1500
)

type labels struct {
	project, state, level, env, release, culprit, time, firstSeen, events, users,
	rule, owners, assignee, user, message, login, resolution string
	states      map[string]string
	resolutions map[string]string
}

var zh = labels{
	project: "项目", state: "状态", level: "级别", env: "环境", release: "版本", culprit: "位置",
	time: "时间", firstSeen: "首次出现", events: "事件数", users: "影响用户", rule: "告警规则",
	owners: "负责人", assignee: "指派给", user: "用户", message: "说明", login: "Sentry 共享账号",
	resolution: "解决方式",
	states: map[string]string{
		sentry.StateNew: "新问题", sentry.StateRegressed: "回归", sentry.StateResolved: "已解决",
		sentry.StateAssigned: "已指派", sentry.StateIgnored: "已忽略", sentry.StateUnresolved: "重新打开",
		sentry.StateCritical: "严重", sentry.StateWarning: "警告", sentry.StateTriggered: "告警触发",
	},
	resolutions: map[string]string{
		"now": "立即解决", "in_release": "在当前版本中解决", "in_next_release": "在下一版本中解决",
		"in_upcoming_release": "在即将发布的版本中解决", "in_commit": "在提交中解决", "with_commit": "随提交解决",
	},
}

var en = labels{
	project: "Project", state: "State", level: "Level", env: "Environment", release: "Release", culprit: "Culprit",
	time: "Time", firstSeen: "First seen", events: "Events", users: "Users", rule: "Alert rule",
	owners: "Owners", assignee: "Assigned to", user: "User", message: "Details", login: "Shared Sentry login",
	resolution: "Resolution",
	states: map[string]string{
		sentry.StateNew: "new", sentry.StateRegressed: "regressed", sentry.StateResolved: "resolved",
		sentry.StateAssigned: "assigned", sentry.StateIgnored: "ignored", sentry.StateUnresolved: "unresolved",
		sentry.StateCritical: "critical", sentry.StateWarning: "warning", sentry.StateTriggered: "triggered",
	},
	resolutions: map[string]string{
		"now": "resolved now", "in_release": "in the current release", "in_next_release": "in the next release",
		"in_upcoming_release": "in the upcoming release", "in_commit": "in a commit", "with_commit": "with a commit",
	},
}

// Message renders ev for one routing target.
func Message(t route.Target, ev *sentry.Event, opt Options) *notify.Message {
	zone := opt.Zone
	if zone == nil {
		zone = Shanghai
	}
	L := zh
	if opt.Lang == "en" {
		L = en
	}
	title := clip(oneLine(ev.Title), maxTitle)
	if title == "" {
		title = "(no title)"
	}
	projectName := t.Project.Name
	if projectName == "" {
		projectName = ev.ProjectName
	}
	kw := t.Robot.EffectiveKeyword()
	m := &notify.Message{
		Heading: title,
		Link:    Link(ev, t.Org),
		Level:   strings.ToLower(ev.Level),
		State:   ev.State,
		Keyword: kw,
		Lang:    opt.Lang,
	}
	state := L.states[ev.State]
	if state == "" {
		state = ev.State
	}
	m.Title = fmt.Sprintf("%s: %s", projectName, title)
	if state != "" && ev.State != sentry.StateTriggered {
		m.Title = fmt.Sprintf("[%s] %s", state, m.Title)
	}
	if !strings.Contains(m.Title, kw) {
		m.Title = kw + " | " + m.Title
	}
	m.Title = clip(m.Title, 120)

	add := func(label, value string) {
		if v := strings.TrimSpace(value); v != "" {
			m.Fields = append(m.Fields, notify.Field{Label: label, Value: clip(oneLine(v), maxValue)})
		}
	}
	add(L.project, fmt.Sprintf("%s (%s)", projectName, t.Project.Slug))
	if ev.State == sentry.StateAssigned && ev.Assignee != "" {
		state += " → " + ev.Assignee
	}
	if ev.FollowUp() && ev.Actor != "" {
		state += fmt.Sprintf(" (%s)", ev.Actor)
	}
	add(L.state, state)
	add(L.level, ev.Level)
	add(L.env, ev.Environment)
	add(L.release, ev.Release)
	add(L.culprit, ev.Culprit)
	if !ev.Time.IsZero() {
		add(L.time, ev.Time.In(zone).Format("2006-01-02 15:04:05"))
	}
	if !ev.FirstSeen.IsZero() && !ev.FirstSeen.Equal(ev.Time) {
		add(L.firstSeen, ev.FirstSeen.In(zone).Format("2006-01-02 15:04:05"))
	}
	if ev.Count > 0 {
		add(L.events, strconv.FormatInt(ev.Count, 10))
	}
	if ev.UserCount > 0 {
		add(L.users, strconv.FormatInt(ev.UserCount, 10))
	}
	add(L.user, ev.User)
	add(L.rule, strings.Join(ev.Rules, ", "))
	if r, ok := L.resolutions[ev.Resolution]; ok {
		add(L.resolution, r)
	} else {
		add(L.resolution, ev.Resolution)
	}
	if msg := strings.TrimSpace(ev.Message); msg != "" && msg != ev.Title {
		m.Fields = append(m.Fields, notify.Field{Label: L.message, Value: clip(oneLine(msg), maxMessage)})
	}
	var names []string
	for _, o := range t.AllOwners {
		names = append(names, o.Name)
	}
	sep := "、"
	if opt.Lang == "en" {
		sep = ", "
	}
	add(L.owners, strings.Join(names, sep))
	if t.Org != nil && t.Org.Account != "" {
		login := t.Org.Account
		if p := t.Org.Password.Reveal(); p != "" {
			login += " / " + p
		}
		m.Note = L.login + ": " + login
	}
	m.Mentions = Mentions(t.Owners)
	return m
}

// Link returns ev's link to Sentry, or, when the payload has none (issue
// follow-ups), one built from the organization's sentry_url and slug.
func Link(ev *sentry.Event, org *config.Organization) string {
	if u := strings.TrimSpace(ev.URL); u != "" && (strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://")) {
		return u
	}
	if org == nil || org.SentryURL == "" {
		return ""
	}
	base, err := url.Parse(strings.TrimRight(org.SentryURL, "/"))
	if err != nil || base.Host == "" {
		return ""
	}
	slug := org.Slug
	if slug == "" {
		slug = ev.OrgSlug
	}
	path := "/issues/"
	if ev.IssueID != "" {
		path += url.PathEscape(ev.IssueID) + "/"
	}
	host := strings.ToLower(base.Hostname())
	if slug != "" && (host == "sentry.io" || host == "www.sentry.io") {
		// sentry.io serves each organization on its own subdomain.
		return base.Scheme + "://" + slug + ".sentry.io" + path
	}
	if slug != "" && !strings.HasSuffix(host, ".sentry.io") {
		return base.String() + "/organizations/" + url.PathEscape(slug) + path
	}
	return base.String() + path
}

// oneLine folds line breaks and tabs into spaces.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n\t") {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}

// clip cuts s to at most n runes, marking the cut with an ellipsis.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
