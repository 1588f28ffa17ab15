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
	"unicode"
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
// rest of the message; and on the link, in bytes.
const (
	maxTitle   = 300
	maxValue   = 500
	maxMessage = 1500
	maxLink    = 2000
)

type labels struct {
	project, state, level, env, release, culprit, time, firstSeen, lastSeen, events, users,
	rule, owners, assignee, user, request, message, login, resolution string
	// notes are an alert rule's notes; issueState and shortID Sentry's
	// facts about the issue (its state as Sentry's own alerts word it,
	// its short id).
	notes, issueState, shortID string
	issueStates                map[string]string
	// activityAlert words an activity alert; activities its activity
	// types; otherAlert an alert of a resource this version does not know.
	activityAlert, otherAlert string
	activities                map[string]string
	// states are the short words in the title's [..] prefix.
	states map[string]string
	// errorEvent, errorKnown, errorFirst word an error.created event;
	// triggered an alert rule firing; metric a metric alert's state.
	errorEvent, errorKnown, errorFirst, triggered, metric string
	metricStates                                          map[string]string
	resolutions                                           map[string]string
	listSep, ruleSep                                      string
}

var zh = labels{
	project: "项目", state: "状态", level: "级别", env: "环境", release: "版本", culprit: "位置",
	time: "时间", firstSeen: "首次出现", lastSeen: "最近出现", events: "事件数", users: "影响用户", rule: "告警规则",
	owners: "负责人", assignee: "指派给", user: "用户", request: "请求", message: "说明", login: "Sentry 共享账号",
	resolution: "解决方式",
	states: map[string]string{
		sentry.StateNew: "新问题", sentry.StateRegressed: "回归", sentry.StateResolved: "已解决",
		sentry.StateAssigned: "已指派", sentry.StateIgnored: "已忽略", sentry.StateArchived: "已归档",
		sentry.StateUnresolved: "重新打开", sentry.StateCritical: "严重", sentry.StateWarning: "警告",
		sentry.StateTriggered: "告警触发", sentry.StateError: "错误事件",
	},
	errorEvent: "错误事件", errorKnown: "已知问题", errorFirst: "该问题的首个事件", triggered: "告警触发", metric: "指标告警",
	metricStates: map[string]string{sentry.StateCritical: "严重", sentry.StateWarning: "警告", sentry.StateResolved: "已恢复"},
	resolutions: map[string]string{
		"now": "立即解决", "in_release": "在当前版本中解决", "in_next_release": "在下一版本中解决",
		"in_upcoming_release": "在即将发布的版本中解决", "in_commit": "在提交中解决", "with_commit": "随提交解决",
	},
	listSep: "、", ruleSep: "：",
	notes: "备注", issueState: "问题状态", shortID: "问题编号",
	issueStates: map[string]string{
		"new": "新问题", "ongoing": "持续中", "escalating": "升级中", "regressed": "回归",
		"archived_until_escalating": "已归档（升级时恢复）", "archived_until_condition_met": "已归档（满足条件时恢复）",
		"archived_forever": "已归档", "resolved": "已解决", "ignored": "已忽略",
	},
	activityAlert: "活动告警", otherAlert: "告警触发",
	activities: map[string]string{
		"seer_root_cause_started": "Seer 开始分析根因", "seer_root_cause_completed": "Seer 根因分析完成",
		"seer_solution_started": "Seer 开始制定方案", "seer_solution_completed": "Seer 方案完成",
		"seer_coding_started": "Seer 开始编写修复", "seer_coding_completed": "Seer 修复代码完成",
		"seer_pr_created": "Seer 已创建 PR", "seer_pr_iteration_started": "Seer 开始修改 PR",
		"seer_pr_iteration_completed": "Seer 修改 PR 完成",
	},
}

var en = labels{
	project: "Project", state: "State", level: "Level", env: "Environment", release: "Release", culprit: "Culprit",
	time: "Time", firstSeen: "First seen", lastSeen: "Last seen", events: "Events", users: "Users", rule: "Alert rule",
	owners: "Owners", assignee: "Assigned to", user: "User", request: "Request", message: "Details", login: "Shared Sentry login",
	resolution: "Resolution",
	states: map[string]string{
		sentry.StateNew: "new issue", sentry.StateRegressed: "regressed", sentry.StateResolved: "resolved",
		sentry.StateAssigned: "assigned", sentry.StateIgnored: "ignored", sentry.StateArchived: "archived",
		sentry.StateUnresolved: "unresolved", sentry.StateCritical: "critical", sentry.StateWarning: "warning",
		sentry.StateTriggered: "triggered", sentry.StateError: "error event",
	},
	errorEvent: "error event", errorKnown: "known issue", errorFirst: "first event of its issue", triggered: "alert triggered", metric: "metric alert",
	metricStates: map[string]string{sentry.StateCritical: "critical", sentry.StateWarning: "warning", sentry.StateResolved: "resolved"},
	resolutions: map[string]string{
		"now": "resolved now", "in_release": "in the current release", "in_next_release": "in the next release",
		"in_upcoming_release": "in the upcoming release", "in_commit": "in a commit", "with_commit": "with a commit",
	},
	listSep: ", ", ruleSep: ": ",
	notes: "Notes", issueState: "Issue state", shortID: "Issue",
	issueStates: map[string]string{
		"new": "New", "ongoing": "Ongoing", "escalating": "Escalating", "regressed": "Regressed",
		"archived_until_escalating": "Archived until escalating", "archived_until_condition_met": "Archived until condition met",
		"archived_forever": "Archived", "resolved": "Resolved", "ignored": "Ignored",
	},
	activityAlert: "activity alert", otherAlert: "alert triggered",
	activities: map[string]string{
		"seer_root_cause_started": "Seer root cause started", "seer_root_cause_completed": "Seer root cause completed",
		"seer_solution_started": "Seer solution started", "seer_solution_completed": "Seer solution completed",
		"seer_coding_started": "Seer coding started", "seer_coding_completed": "Seer coding completed",
		"seer_pr_created": "Seer PR created", "seer_pr_iteration_started": "Seer PR iteration started",
		"seer_pr_iteration_completed": "Seer PR iteration completed",
	},
}

// Message renders ev for one routing target. Every Sentry-supplied value is
// made safe first (Text): one line, no control or invisible characters,
// bounded; the link is SafeLink's.
func Message(t route.Target, ev *sentry.Event, opt Options) *notify.Message {
	zone := opt.Zone
	if zone == nil {
		zone = Shanghai
	}
	L := &zh
	if opt.Lang == "en" {
		L = &en
	}
	title := Text(ev.Title, maxTitle)
	if title == "" {
		title = "(no title)"
	}
	projectName := Text(t.Project.Name, maxValue)
	if projectName == "" {
		projectName = Text(ev.ProjectName, maxValue)
	}
	kw := t.Robot.EffectiveKeyword()
	m := &notify.Message{
		Heading: title,
		Link:    Link(ev, t.Org),
		Level:   Text(strings.ToLower(ev.Level), 20),
		State:   markState(ev.State),
		Keyword: kw,
		Lang:    opt.Lang,
		Fields:  make([]notify.Field, 0, 12), // room for the usual facts, grown once at most
	}
	short, status, rulesInStatus := stateWords(ev, L)
	m.Title = projectName + ": " + title
	if short != "" && ev.State != sentry.StateTriggered {
		m.Title = "[" + short + "] " + m.Title
	}
	if !strings.Contains(m.Title, kw) {
		m.Title = kw + " | " + m.Title
	}
	m.Title = clip(m.Title, 120)

	add := func(label, value string, limit int) {
		if v := Text(value, limit); v != "" {
			m.Fields = append(m.Fields, notify.Field{Label: label, Value: v})
		}
	}
	add(L.project, projectName+" ("+t.Project.Slug+")", maxValue)
	add(L.state, status, maxValue)
	add(L.notes, ev.RuleNotes, maxValue)
	add(L.level, ev.Level, maxValue)
	add(L.env, ev.Environment, maxValue)
	add(L.release, ev.Release, maxValue)
	add(L.culprit, ev.Culprit, maxValue)
	if !ev.Time.IsZero() {
		add(L.time, ev.Time.In(zone).Format("2006-01-02 15:04:05"), maxValue)
	}
	if !ev.FirstSeen.IsZero() && !ev.FirstSeen.Equal(ev.Time) {
		add(L.firstSeen, ev.FirstSeen.In(zone).Format("2006-01-02 15:04:05"), maxValue)
	}
	if ev.State == sentry.StateError && !ev.LastSeen.IsZero() && !ev.LastSeen.Equal(ev.Time) && !ev.LastSeen.Equal(ev.FirstSeen) {
		add(L.lastSeen, ev.LastSeen.In(zone).Format("2006-01-02 15:04:05"), maxValue)
	}
	if st := strings.ToLower(ev.IssueState); st != "" {
		w := L.issueStates[st]
		if w == "" {
			w = ev.IssueState
		}
		add(L.issueState, w, maxValue)
	}
	// Counts as Sentry's own alerts show them: once Sentry's state of the
	// issue is known, not for a new issue or its first event.
	if showCounts(ev) {
		if ev.Count > 0 {
			add(L.events, strconv.FormatInt(ev.Count, 10), maxValue)
		}
		if ev.UserCount > 0 {
			add(L.users, strconv.FormatInt(ev.UserCount, 10), maxValue)
		}
	}
	if ev.State != sentry.StateAssigned {
		add(L.assignee, ev.Assignee, maxValue)
	}
	add(L.shortID, ev.ShortID, maxValue)
	add(L.user, ev.User, maxValue)
	add(L.request, ev.Request, maxValue)
	if !rulesInStatus {
		add(L.rule, strings.Join(ev.Rules, ", "), maxValue)
	}
	if r, ok := L.resolutions[ev.Resolution]; ok {
		add(L.resolution, r, maxValue)
	} else {
		add(L.resolution, ev.Resolution, maxValue)
	}
	if msg := Text(ev.Message, maxMessage); msg != "" && msg != title {
		m.Fields = append(m.Fields, notify.Field{Label: L.message, Value: msg})
	}
	var names []string
	for _, o := range t.AllOwners {
		names = append(names, o.Name)
	}
	add(L.owners, strings.Join(names, L.listSep), maxMessage)
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

// showCounts reports whether a message shows the issue's event and user
// counts: always when Sentry's state of the issue is not known (the
// counts an issue webhook carries), and as Sentry's Slack alert does when
// it is — not for a new issue, nor for its first event.
func showCounts(ev *sentry.Event) bool {
	if ev.IssueState == "" {
		return true
	}
	return !strings.EqualFold(ev.IssueState, "new") && ev.Count > 1
}

// markState is the state the chat formats colour by: an archived issue is
// shown as an ignored one.
func markState(state string) string {
	if state == sentry.StateArchived {
		return sentry.StateIgnored
	}
	return state
}

// stateWords returns the short word of the title's [..] prefix and the
// status line: each resource and action its own (an error event of a known
// issue or of a new one, a new issue, resolved, assigned → who, ignored,
// archived, unresolved, regressed, a metric alert's critical / warning /
// resolved, an alert rule triggered with its name). rulesInStatus reports
// that the status already names the alert rules.
func stateWords(ev *sentry.Event, L *labels) (short, status string, rulesInStatus bool) {
	short = L.states[ev.State]
	if short == "" {
		short = ev.State
	}
	status = short
	switch {
	case ev.State == sentry.StateError:
		status = L.errorEvent
		if !ev.FirstSeen.IsZero() {
			if !ev.Time.IsZero() && ev.Time.Sub(ev.FirstSeen).Abs() < time.Second {
				status += " (" + L.errorFirst + ")"
			} else {
				status += " (" + L.errorKnown + ")"
			}
			if L == &zh {
				status = strings.NewReplacer(" (", "（", ")", "）").Replace(status)
			}
		}
	case ev.Resource == sentry.ResourceMetricAlert:
		w := L.metricStates[ev.State]
		if w == "" {
			w = ev.State
		}
		short = w
		status = L.metric + L.ruleSep + w
	case ev.State == sentry.StateTriggered:
		status = L.triggered
		switch ev.Resource {
		case sentry.ResourceLegacy, sentry.ResourceEventAlert, sentry.ResourceIssue, sentry.ResourceError, "":
		case sentry.ResourceActivityAlert:
			status = L.activityAlert
		default:
			status = L.otherAlert + " (" + ev.Resource + ")"
			if L == &zh {
				status = L.otherAlert + "（" + ev.Resource + "）"
			}
		}
		if len(ev.Rules) > 0 {
			status += L.ruleSep + strings.Join(ev.Rules, ", ")
			rulesInStatus = true
		}
		if a := strings.TrimSpace(ev.Activity); a != "" {
			if w := L.activities[a]; w != "" {
				a = w
			}
			if L == &zh {
				status += "（" + a + "）"
			} else {
				status += " (" + a + ")"
			}
		}
	case ev.State == sentry.StateAssigned && ev.Assignee != "":
		status += " → " + ev.Assignee
	}
	if ev.FollowUp() && ev.Actor != "" {
		status += fmt.Sprintf(" (%s)", ev.Actor)
	}
	return short, status, rulesInStatus
}

// Link returns ev's link to Sentry made safe (SafeLink), or, when the
// payload has none or only an unsafe one, one built from the
// organization's sentry_url and slug.
func Link(ev *sentry.Event, org *config.Organization) string {
	if u := SafeLink(ev.URL); u != "" {
		return u
	}
	if org == nil || org.SentryURL == "" {
		return ""
	}
	base, err := url.Parse(strings.TrimRight(SafeLink(org.SentryURL), "/"))
	if err != nil || base.Host == "" {
		return ""
	}
	slug := org.Slug
	if slug == "" {
		slug = ev.OrgSlug
	}
	path := "/issues/"
	if id := strings.TrimSpace(ev.IssueID); id != "" && len(id) <= 64 {
		path += url.PathEscape(id) + "/"
	}
	host := strings.ToLower(base.Hostname())
	var out string
	switch {
	case slug != "" && (host == "sentry.io" || host == "www.sentry.io") && validSubdomain(slug):
		// sentry.io serves each organization on its own subdomain.
		out = base.Scheme + "://" + strings.ToLower(slug) + ".sentry.io" + path
	case slug != "" && !strings.HasSuffix(host, ".sentry.io"):
		out = base.String() + "/organizations/" + url.PathEscape(slug) + path
	default:
		out = base.String() + path
	}
	return SafeLink(out)
}

func validSubdomain(s string) bool {
	if len(s) == 0 || len(s) > 63 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// SafeLink returns u when it is an http or https link with a host, with
// every byte that could end or break a markdown link or a line (space and
// other whitespace, control characters, ( ) [ ] < > " ` \ { } | ^, a % that
// starts no escape, non-ASCII) percent-encoded. Anything else, and a link
// that stays over maxLink bytes without its query and fragment, gives "":
// the message then goes without it.
func SafeLink(u string) string {
	u = strings.TrimSpace(u)
	rest, ok := cutScheme(u)
	if !ok {
		return ""
	}
	hostEnd := strings.IndexAny(rest, "/?#")
	if hostEnd < 0 {
		hostEnd = len(rest)
	}
	host := rest[:hostEnd]
	if at := strings.LastIndexByte(host, '@'); at >= 0 {
		host = host[at+1:] // userinfo
	}
	if host == "" || strings.Trim(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:") != "" {
		return ""
	}
	if needsEscape(u) {
		u = escapeLink(u)
	}
	if len(u) > maxLink {
		if i := strings.IndexAny(u, "?#"); i >= 0 {
			u = u[:i]
		}
		if len(u) > maxLink {
			return ""
		}
	}
	return u
}

func cutScheme(u string) (string, bool) {
	for _, p := range []string{"https://", "http://"} {
		if len(u) >= len(p) && strings.EqualFold(u[:len(p)], p) {
			return u[len(p):], true
		}
	}
	return "", false
}

// linkSafe marks the ASCII bytes kept as they are in a link.
var linkSafe = func() (t [256]bool) {
	for c := 'a'; c <= 'z'; c++ {
		t[c] = true
	}
	for c := 'A'; c <= 'Z'; c++ {
		t[c] = true
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = true
	}
	for _, c := range "-._~:/?#@!$&'*+,;=%" {
		t[c] = true
	}
	return t
}()

// needsEscape reports a byte escapeLink would change: one not linkSafe, a
// % that starts no escape, or a # after the fragment's.
func needsEscape(u string) bool {
	hash := false
	for i := 0; i < len(u); i++ {
		c := u[i]
		if !linkSafe[c] || c == '%' && !isEscape(u, i) || c == '#' && hash {
			return true
		}
		hash = hash || c == '#'
	}
	return false
}

func isEscape(u string, i int) bool {
	return i+2 < len(u) && isHex(u[i+1]) && isHex(u[i+2])
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func escapeLink(u string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(u) + 16)
	hash := false
	for i := 0; i < len(u); i++ {
		c := u[i]
		if linkSafe[c] && (c != '%' || isEscape(u, i)) && (c != '#' || !hash) {
			hash = hash || c == '#'
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// Text makes a Sentry-supplied value safe to show on one line: line breaks,
// tabs and other whitespace (U+2028, U+2029, NEL…) fold into single
// spaces; control characters (NUL, ESC, DEL, C1), bidirectional controls,
// zero-width and other invisible format characters and invalid UTF-8 are
// removed; the result is trimmed and cut to at most n runes. Text that
// needs none of this is returned as it is, without allocating.
func Text(s string, n int) string {
	if clean(s) {
		s = strings.TrimSpace(s)
		return clip(s, n)
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		switch {
		case r == utf8.RuneError:
			continue
		case isSpace(r):
			space = b.Len() > 0
			continue
		case invisible(r):
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return clip(b.String(), n)
}

// clean reports whether s has nothing Text would change but outer spaces.
func clean(s string) bool {
	prevSpace := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 0x80:
			return cleanRunes(s[i:], prevSpace)
		case c < 0x20 || c == 0x7f:
			return false
		case c == ' ':
			if prevSpace {
				return false
			}
			prevSpace = true
		default:
			prevSpace = false
		}
	}
	return true
}

func cleanRunes(s string, prevSpace bool) bool {
	for _, r := range s {
		switch {
		case r == utf8.RuneError:
			return false
		case r == ' ':
			if prevSpace {
				return false
			}
			prevSpace = true
			continue
		case isSpace(r) || invisible(r):
			return false
		}
		prevSpace = false
	}
	return true
}

// invisible reports control and invisible format characters: C0 and C1
// controls, DEL, soft hyphen, bidirectional marks, embeddings, overrides
// and isolates, zero-width spaces and joiners, word joiner and invisible
// operators, the BOM, interlinear annotation marks, Hangul fillers, and the
// rest of Unicode's Cf (format) category. The common scripts are decided
// without a table look-up.
func invisible(r rune) bool {
	switch {
	case r < 0x20 || r >= 0x7f && r < 0xa0 || r == 0xad:
		return true
	case r < 0x600:
		return false
	case r < 0x2000:
		return r <= 0x605 || r == 0x61c || r == 0x6dd || r == 0x70f || r == 0x890 || r == 0x891 || r == 0x8e2 ||
			r == 0x115f || r == 0x1160 || r == 0x180e
	case r <= 0x206f:
		return r >= 0x200b && r <= 0x200f || r >= 0x202a && r <= 0x202e || r >= 0x2060
	case r < 0xfeff:
		return r == 0x3164
	case r <= 0xfffb:
		return r == 0xfeff || r == 0xffa0 || r >= 0xfff9
	case r < 0x110bd:
		return false
	}
	return unicode.Is(unicode.Cf, r)
}

// isSpace is unicode.IsSpace (White_Space) without its table look-up.
func isSpace(r rune) bool {
	switch {
	case r <= 0xff:
		return r == ' ' || r >= '\t' && r <= '\r' || r == 0x85 || r == 0xa0
	case r < 0x1680:
		return false
	}
	return r == 0x1680 || r >= 0x2000 && r <= 0x200a || r == 0x2028 || r == 0x2029 || r == 0x202f || r == 0x205f || r == 0x3000
}

// clip cuts s to at most n runes, marking the cut with an ellipsis.
func clip(s string, n int) string {
	if len(s) <= n || utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// Facts returns what Message and the routing filters read of ev, each
// Sentry-supplied value already cut as Message cuts it: Message(t,
// Facts(ev), o) is Message(t, ev, o). It is the small, self-contained form
// of an alert that another invocation renders again (a hand-off), so no
// field of a megabyte webhook travels whole. Values short enough for any
// line of a message are kept exactly; the link is SafeLink's.
func Facts(ev *sentry.Event) *sentry.Event {
	f := &sentry.Event{
		Resource: cut(ev.Resource, maxValue), Action: cut(ev.Action, maxValue), State: cut(ev.State, maxValue),
		ProjectName: cut(ev.ProjectName, maxValue), OrgSlug: cut(ev.OrgSlug, maxValue),
		Title: cut(ev.Title, maxTitle), Culprit: cut(ev.Culprit, maxValue), Level: cut(ev.Level, maxValue),
		Environment: cut(ev.Environment, maxValue), Release: cut(ev.Release, maxValue), Message: cut(ev.Message, maxMessage),
		URL: SafeLink(ev.URL), Time: ev.Time, FirstSeen: ev.FirstSeen, LastSeen: ev.LastSeen,
		Count: ev.Count, UserCount: ev.UserCount, Assignee: cut(ev.Assignee, maxValue), Actor: cut(ev.Actor, maxValue),
		Resolution: cut(ev.Resolution, maxValue), User: cut(ev.User, maxValue), Request: cut(ev.Request, maxValue),
		Unhandled: ev.Unhandled, ShortID: cut(ev.ShortID, maxValue),
		RuleRobot: cut(ev.RuleRobot, maxValue), RuleMention: cut(ev.RuleMention, maxValue), RuleNotes: cut(ev.RuleNotes, maxValue),
		IssueState: cut(ev.IssueState, maxValue), Activity: cut(ev.Activity, maxValue),
	}
	if len(strings.TrimSpace(ev.IssueID)) <= 64 { // Link uses no longer one
		f.IssueID = ev.IssueID
	}
	if rules := strings.Join(ev.Rules, ", "); len(rules) <= 4*maxValue {
		f.Rules = ev.Rules
	} else {
		f.Rules = []string{Text(rules, maxValue)} // shown joined, cut to maxValue
	}
	return f
}

// cut keeps s when it is short enough for any line of a message, else
// makes it what a message shows of it.
func cut(s string, n int) string {
	if len(s) <= 4*n {
		return s
	}
	return Text(s, n)
}
