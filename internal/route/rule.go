package route

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/sentry"
)

// An alert rule whose action is this relay's integration carries settings
// (contract §7): the robot it goes to, whom it @-mentions and notes. They
// replace the project's robots and the project's way of mentioning for
// that alert; the project still decides whether the alert goes out at all
// (its filters) and who its owners and person on duty are.

// Rule is what an alert rule's settings decide for one alert.
type Rule struct {
	// Robot is the robot the rule chose; nil sends to the project's robots
	// (the rule chose none, or one that is not in the document).
	Robot *config.Robot
	// Mention is the rule's mention (sentry.MentionOwners …), "" for the
	// project's own way.
	Mention string
	// Why says, when the rule's choice could not be followed, what was
	// done instead ("" when it was followed).
	Why string
}

// RuleOf reads ev's alert-rule settings against x. A robot that is not in
// the document (deleted since the rule was saved) falls back to the
// project's robots, and a mention this version does not know to the
// project's way; Why says so.
func RuleOf(x *config.Index, ev *sentry.Event) Rule {
	var r Rule
	var why []string
	if s := strings.TrimSpace(ev.RuleRobot); s != "" {
		id, err := strconv.ParseInt(s, 10, 64)
		if err == nil && id > 0 {
			r.Robot = x.Robot(id)
		}
		if r.Robot == nil {
			why = append(why, fmt.Sprintf("the alert rule chose robot %q, which is not in the configuration: sent to the project's robots", clipSetting(s)))
		}
	}
	switch m := ev.RuleMention; m {
	case "":
	case sentry.MentionOwners, sentry.MentionOnCall, sentry.MentionAll, sentry.MentionNone:
		r.Mention = m
	default:
		why = append(why, fmt.Sprintf("the alert rule's mention %q is not owners, oncall, all or none: the project's own mentions", clipSetting(m)))
	}
	r.Why = strings.Join(why, "; ")
	return r
}

// Describe words what the rule decided, for the delivery history: the
// robot and mention it chose, and Why when it could not be followed; ""
// when the alert carries no settings.
func (r Rule) Describe(ev *sentry.Event) string {
	if !ev.HasRule() {
		return ""
	}
	var parts []string
	if r.Robot != nil {
		parts = append(parts, fmt.Sprintf("alert rule: robot %d (%s)", r.Robot.ID, r.Robot.Name))
	} else {
		parts = append(parts, "alert rule: the project's robots")
	}
	if r.Mention != "" {
		parts = append(parts, "mention "+r.Mention)
	}
	if r.Why != "" {
		parts = append(parts, r.Why)
	}
	return strings.Join(parts, ", ")
}

func clipSetting(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}

// RuleOwners returns whom an alert of project p rings at t under an alert
// rule's mention: owners — the project's owners; oncall — the person on
// duty of the project's schedule, or its owners when it has no schedule or
// nobody is on duty; all — everyone in the group (all is true; nobody by
// name); none — nobody. The rule's mention is the user's choice for that
// rule, so the project's mention_level does not silence it.
func RuleOwners(x *config.Index, p *config.Project, mention string, t time.Time) (owners []*config.Owner, all bool) {
	switch mention {
	case sentry.MentionNone:
		return nil, false
	case sentry.MentionAll:
		return nil, true
	case sentry.MentionOnCall:
		if o, ok := OnDuty(x, p, t); ok {
			return []*config.Owner{o}, false
		}
	}
	return projectOwners(x, p), false
}

// RingsWith is Rings under an alert rule's mention, when the alert
// carries one: the owners it names (RuleOwners), the fallback set when it
// asks for the person on duty and nobody is; all reports that it rings
// everyone in the group.
func RingsWith(x *config.Index, p *config.Project, level, mention string, t time.Time) (r Ringing, all bool) {
	r = Rings(x, p, level, t)
	if mention == "" {
		return r, false
	}
	r.Owners, all = RuleOwners(x, p, mention, t)
	r.Fallback = mention == sentry.MentionOnCall && r.Schedule != nil && r.OnDuty == nil
	return r, all
}

// projectOwners are p's owners that are in the document.
func projectOwners(x *config.Index, p *config.Project) []*config.Owner {
	out := make([]*config.Owner, 0, len(p.OwnerIDs))
	for _, id := range p.OwnerIDs {
		if o := x.Owner(id); o != nil {
			out = append(out, o)
		}
	}
	return out
}
