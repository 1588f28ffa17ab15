package render

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/notify"
	"github.com/sentry-white/sentry-white/internal/route"
)

// The words of on call and quiet hours (contract §7): the on-duty line of
// an alert, the handoff notice, the line of an alert sent silently in quiet
// hours, and the digest of the alerts held through them.

// OnDutyField is the line naming who is on duty, for a message whose
// alerts were rung as rings say (one per alert; a digest has several): ok
// is false when none of their projects has a schedule. One schedule gives
// "张三", several "张三（后端值班）、李四（前端值班）"; nobody on duty is said, and
// when that made the alert ring the owners instead, so is that.
func OnDutyField(rings []route.Ringing, lang string) (notify.Field, bool) {
	type duty struct {
		s        *config.Schedule
		on       *config.Owner
		fallback bool
	}
	var duties []duty
	for _, r := range rings {
		if r.Schedule == nil {
			continue
		}
		i := slices.IndexFunc(duties, func(d duty) bool { return d.s == r.Schedule })
		if i < 0 {
			duties = append(duties, duty{s: r.Schedule, on: r.OnDuty})
			i = len(duties) - 1
		}
		duties[i].fallback = duties[i].fallback || r.Fallback
	}
	if len(duties) == 0 {
		return notify.Field{}, false
	}
	en := lang == "en"
	name := func(d duty) string {
		switch {
		case d.on != nil:
			return Text(d.on.Name, 100)
		case en && d.fallback:
			return "nobody (the rotation has not started); all owners are mentioned"
		case en:
			return "nobody (the rotation has not started)"
		case d.fallback:
			return "无人值班（排班尚未开始），已提醒全部负责人"
		}
		return "无人值班（排班尚未开始）"
	}
	var parts []string
	for _, d := range duties {
		v := name(d)
		if len(duties) > 1 {
			if en {
				v += " (" + Text(d.s.Name, 100) + ")"
			} else {
				v += "（" + Text(d.s.Name, 100) + "）"
			}
		}
		parts = append(parts, v)
	}
	if en {
		return notify.Field{Label: "On duty", Value: strings.Join(parts, "; ")}, true
	}
	return notify.Field{Label: "值班", Value: strings.Join(parts, "、")}, true
}

// Handoff renders the notice a schedule's robots get when the duty changes
// hands: "本周值班：张三（下一位：李四）" (今日值班 for a day shift) / "On duty
// this week: 张三 (next: 李四)", naming the schedule. next may be nil or the
// same person (a rotation of one): then no next is named. The robot's
// keyword and the @-mention of the person on duty are added when it is
// addressed (Address).
func Handoff(s *config.Schedule, on, next *config.Owner, lang string) *notify.Message {
	en := lang == "en"
	who := Text(on.Name, 100)
	var line string
	switch {
	case en && s.Period == config.PeriodDay:
		line = "On duty today: " + who
	case en:
		line = "On duty this week: " + who
	case s.Period == config.PeriodDay:
		line = "今日值班：" + who
	default:
		line = "本周值班：" + who
	}
	if next != nil && next != on {
		if en {
			line += " (next: " + Text(next.Name, 100) + ")"
		} else {
			line += "（下一位：" + Text(next.Name, 100) + "）"
		}
	}
	m := &notify.Message{Title: line, Heading: line, Level: "info", State: "handoff", Lang: lang}
	label := "排班"
	if en {
		label = "Schedule"
	}
	if name := Text(s.Name, maxValue); name != "" {
		m.Fields = []notify.Field{{Label: label, Value: name}}
	}
	return m
}

// clock formats the time a quiet stretch ends as people read it next to
// now: "08:00" the same day, "12-25 08:00" another.
func clock(t, now time.Time, zone *time.Location) string {
	if zone == nil {
		zone = Shanghai
	}
	t, now = t.In(zone), now.In(zone)
	if t.YearDay() == now.YearDay() && t.Year() == now.Year() {
		return t.Format("15:04")
	}
	return t.Format("01-02 15:04")
}

// QuietField is the line of an alert sent at once without any @ because it
// came in its project's quiet hours (mode silent), which last until until.
func QuietField(until, now time.Time, zone *time.Location, lang string) notify.Field {
	if lang == "en" {
		return notify.Field{Label: "Quiet hours", Value: fmt.Sprintf("sent silently, nobody notified (quiet until %s)", clock(until, now, zone))}
	}
	return notify.Field{Label: "免打扰", Value: fmt.Sprintf("静默发送，不提醒任何人（免打扰至 %s）", clock(until, now, zone))}
}

// HeldField is the line of one alert held through its project's quiet
// hours (mode hold) and sent when they ended, at sent.
func HeldField(received, sent time.Time, zone *time.Location, lang string) notify.Field {
	if lang == "en" {
		return notify.Field{Label: "Quiet hours", Value: fmt.Sprintf("held during quiet hours: received %s, sent when they ended", clock(received, sent, zone))}
	}
	return notify.Field{Label: "免打扰", Value: fmt.Sprintf("免打扰期间暂存：%s 收到，免打扰结束后发出", clock(received, sent, zone))}
}

// HeldDigest renders the alerts held for one robot through quiet hours
// (mode hold) as the one message sent when the quiet ends: the lines of
// Digest under their own heading.
func HeldDigest(items []notify.DigestItem, alerts, more int, lang string) *notify.Message {
	m := Digest(items, alerts, more, lang)
	if lang == "en" {
		m.Heading = fmt.Sprintf("%d alerts held during quiet hours", alerts)
	} else {
		m.Heading = fmt.Sprintf("免打扰期间暂存的 %d 条告警", alerts)
	}
	return m
}
