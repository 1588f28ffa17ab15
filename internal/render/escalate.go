package render

import (
	"fmt"
	"strings"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/notify"
)

// The words of escalation (contract §7 projects[].escalation): an alert
// nobody took, posted again to ring the next step.

// EscalationStep is whom one step of an escalation rings.
type EscalationStep struct {
	Step string // config.StepOnCall, StepOwners or StepAll
	// Names are the people rung (the person on duty, the owners).
	Names []string
	// Fallback is set on an oncall step when nobody is on duty: the
	// project's owners are rung instead.
	Fallback bool
	N, Of    int // the step's number, from 1, and how many there are
}

// Idle says how long an alert went without anyone taking it: "15 分钟",
// "2 小时" / "15 minutes", "2 hours" (minutes below two hours, at least
// one).
func Idle(d time.Duration, lang string) string {
	m := max(int(d/time.Minute), 1)
	en := lang == "en"
	switch {
	case m >= 120 && en:
		return fmt.Sprintf("%d hours", m/60)
	case m >= 120:
		return fmt.Sprintf("%d 小时", m/60)
	case en && m == 1:
		return "1 minute"
	case en:
		return fmt.Sprintf("%d minutes", m)
	}
	return fmt.Sprintf("%d 分钟", m)
}

// EscalationMark is what goes before the title and heading of an
// escalation: "【15 分钟无人处理】" / "[Nobody took it for 15 minutes] ".
func EscalationMark(idle time.Duration, lang string) string {
	if lang == "en" {
		return "[Nobody took it for " + Idle(idle, lang) + "] "
	}
	return "【" + Idle(idle, lang) + "无人处理】"
}

// Escalated returns a copy of m, an alert rendered again, marked as an
// escalation: nobody took it for idle, and this step rings s. Its title
// and heading carry EscalationMark, and a first line says whom it rings
// and which step it is. The caller addresses it to the people of s (and
// sets AtAll for an all step).
func Escalated(m *notify.Message, idle time.Duration, s EscalationStep) *notify.Message {
	en := m.Lang == "en"
	c := *m
	mark := EscalationMark(idle, m.Lang)
	title := mark + m.Title
	if kw := m.Keyword; kw != "" && strings.HasPrefix(m.Title, kw+" | ") {
		title = kw + " | " + mark + strings.TrimPrefix(m.Title, kw+" | ") // the keyword first, as every title has it
	}
	c.Title, c.Heading = clip(title, 120), mark+m.Heading
	names := make([]string, 0, len(s.Names))
	for _, n := range s.Names {
		names = append(names, Text(n, 100))
	}
	var who string
	switch {
	case s.Step == config.StepAll && en:
		who = "ringing everyone in the group"
	case s.Step == config.StepAll:
		who = "提醒群内所有人"
	case s.Fallback && en:
		who = "nobody is on duty; ringing the owners: " + strings.Join(names, ", ")
	case s.Fallback:
		who = "无人值班，提醒负责人：" + strings.Join(names, "、")
	case s.Step == config.StepOnCall && en:
		who = "ringing the person on duty: " + strings.Join(names, ", ")
	case s.Step == config.StepOnCall:
		who = "提醒值班：" + strings.Join(names, "、")
	case en:
		who = "ringing the owners: " + strings.Join(names, ", ")
	default:
		who = "提醒负责人：" + strings.Join(names, "、")
	}
	if len(names) == 0 && s.Step != config.StepAll {
		if en {
			who = "nobody to ring (the project has no owners)"
		} else {
			who = "无人可提醒（项目没有负责人）"
		}
	}
	f := notify.Field{Label: "升级", Value: fmt.Sprintf("%s无人处理，%s（第 %d 步，共 %d 步）", Idle(idle, m.Lang), who, s.N, s.Of)}
	if en {
		f = notify.Field{Label: "Escalation", Value: fmt.Sprintf("nobody took it for %s; %s (step %d of %d)", Idle(idle, m.Lang), who, s.N, s.Of)}
	}
	c.Fields = append([]notify.Field{f}, m.Fields...)
	return &c
}

// EscalationPlan says in plain words what a project's escalation does:
// "如果 15 分钟无人处理，提醒值班（张三），然后提醒群内所有人" / "if nobody takes it
// in 15 minutes, ring the person on duty (张三), then everyone in the
// group". onDuty names the person on duty now ("" when nobody is); owners
// the project's owners.
func EscalationPlan(e *config.Escalation, onDuty string, owners []string, lang string) string {
	en := lang == "en"
	var steps []string
	for _, s := range e.Steps {
		switch {
		case s == config.StepOnCall && en && onDuty != "":
			steps = append(steps, "the person on duty ("+Text(onDuty, 100)+")")
		case s == config.StepOnCall && en:
			steps = append(steps, "the person on duty (nobody now: the owners)")
		case s == config.StepOnCall && onDuty != "":
			steps = append(steps, "值班（"+Text(onDuty, 100)+"）")
		case s == config.StepOnCall:
			steps = append(steps, "值班（现在无人值班：负责人）")
		case s == config.StepOwners && en:
			steps = append(steps, "the owners ("+strings.Join(owners, ", ")+")")
		case s == config.StepOwners:
			steps = append(steps, "负责人（"+strings.Join(owners, "、")+"）")
		case s == config.StepAll && en:
			steps = append(steps, "everyone in the group")
		case s == config.StepAll:
			steps = append(steps, "群内所有人")
		}
	}
	level := ""
	if e.MinLevel != "" {
		if en {
			level = fmt.Sprintf(" (alerts at %s or above)", e.MinLevel)
		} else {
			level = fmt.Sprintf("（%s 及以上的告警）", e.MinLevel)
		}
	}
	if en {
		return fmt.Sprintf("if nobody takes it in %d minutes, ring %s%s; each next step %d minutes later",
			e.AfterMinutes, strings.Join(steps, ", then "), level, e.AfterMinutes)
	}
	return fmt.Sprintf("如果 %d 分钟无人处理，提醒%s%s；每一步间隔 %d 分钟", e.AfterMinutes, strings.Join(steps, "，然后提醒"), level, e.AfterMinutes)
}
