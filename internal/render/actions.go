package render

import (
	"time"

	"github.com/sentry-white/sentry-white/internal/actlink"
	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/notify"
	"github.com/sentry-white/sentry-white/internal/route"
	"github.com/sentry-white/sentry-white/internal/sentry"
)

// actionLabels are the words of the action links, by language.
var actionLabels = map[string]map[string]string{
	"zh": {actlink.Resolve: "解决", actlink.Ignore: "忽略 1 小时", actlink.Take: "我来处理"},
	"en": {actlink.Resolve: "Resolve", actlink.Ignore: "Ignore for an hour", actlink.Take: "I'll take it"},
}

// ActionLabel is the words of an action link in lang.
func ActionLabel(action, lang string) string {
	if lang != "en" {
		lang = "zh"
	}
	return actionLabels[lang][action]
}

// Actions adds to m the links that act on ev's issue from the chat —
// resolve, ignore for an hour, and take it (only when one of the project's
// owners has a sentry_user to assign) — when d serves them for the
// target's organization (relay_url and the organization's api_token). An
// alert of an issue gets them; a follow-up, a metric alert and an event
// without Sentry's numeric issue id do not. Each link expires
// actlink.Lifetime after now.
func Actions(m *notify.Message, d *config.Document, t route.Target, ev *sentry.Event, now time.Time) {
	if t.Project == nil || ev.FollowUp() || ev.Resource == sentry.ResourceMetricAlert ||
		!actlink.ValidIssue(ev.IssueID) || !actlink.Enabled(d, t.Org) {
		return
	}
	key := actlink.Key(d, t.Org)
	assignable := false
	for _, o := range t.AllOwners {
		assignable = assignable || o.SentryUser != ""
	}
	exp := now.Add(actlink.Lifetime).Truncate(time.Second)
	m.Actions = make([]notify.Action, 0, len(actlink.Actions))
	for _, a := range actlink.Actions {
		if a == actlink.Take && !assignable {
			continue
		}
		l := actlink.Link{Org: t.Org.ID, Project: t.Project.ID, Issue: ev.IssueID, Action: a, Expires: exp}
		m.Actions = append(m.Actions, notify.Action{Label: ActionLabel(a, m.Lang), URL: l.URL(d.RelayURL, key)})
	}
}
