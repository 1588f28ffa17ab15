package render

import (
	"fmt"
	"strings"
	"time"

	"github.com/sentry-white/sentry-white/internal/notify"
)

// The words of the morning summary (contract §7 robots[].daily_digest):
// one message a day per robot telling what yesterday brought.

// DaySummary is what a robot's morning summary tells of one day.
type DaySummary struct {
	Day      time.Time // the day's local midnight
	Projects []ProjectDay
	// Unresolved are the day's issues still open. FromSentry tells that
	// Sentry said of some, FromNotices that for some the notifications
	// the relay received (Sentry's issue webhooks, action links) tell,
	// Sentry not asked or not answering.
	Unresolved              []SummaryIssue
	FromSentry, FromNotices bool
	// Held are the alerts held through quiet hours that day; Failed the
	// deliveries to the robot that failed for good.
	Held   int
	Failed []SummaryIssue
}

// ProjectDay is one project's day.
type ProjectDay struct {
	Name, Slug string
	// Alerts counts the alerts, Issues the distinct issues, New and
	// Regressed those Sentry said were new or regressed, Escalations the
	// escalation steps sent.
	Alerts, Issues, New, Regressed, Escalations int
	Top                                         []SummaryIssue // the issues with the most alerts, most first
}

// SummaryIssue is one issue (or one failed delivery) in a summary.
type SummaryIssue struct {
	Project string // display name
	Title   string
	Link    string
	Level   string
	Count   int    // alerts of the issue that day
	Note    string // assigned, or a failure's code and reason
}

// Summary renders d as a message of one line per fact, most important
// first, so that a message too long for a robot loses whole lines from the
// end (SummaryMore says how many). The robot's keyword is added when it is
// addressed (Address).
func Summary(d *DaySummary, lang string) *notify.Message {
	en := lang == "en"
	alerts, projects := 0, 0
	for _, p := range d.Projects {
		alerts += p.Alerts
		if p.Alerts > 0 {
			projects++
		}
	}
	day := d.Day.Format("01-02")
	weekday := d.Day.Weekday()
	m := &notify.Message{Level: "info", State: "summary", Lang: lang}
	if en {
		m.Heading = fmt.Sprintf("Yesterday's alerts (%s, %s)", d.Day.Format("Jan 2"), weekday.String()[:3])
		m.Title = fmt.Sprintf("Yesterday: %s in %s", count(alerts, "alert"), count(projects, "project"))
	} else {
		m.Heading = fmt.Sprintf("昨日告警摘要（%s %s）", day, zhWeekdays[weekday])
		m.Title = fmt.Sprintf("昨日告警摘要：%d 条告警（%d 个项目）", alerts, projects)
	}
	add := func(label, value, link string) {
		m.Fields = append(m.Fields, notify.Field{Label: label, Value: Text(value, maxMessage), Link: SafeLink(link)})
	}
	if alerts == 0 {
		if en {
			add("Alerts", "none yesterday", "")
		} else {
			add("告警", "昨日没有告警", "")
		}
	}
	for _, p := range d.Projects {
		if p.Alerts == 0 {
			continue
		}
		label := Text(p.Name, 100)
		if p.Slug != "" && p.Slug != p.Name {
			label += " (" + Text(p.Slug, 100) + ")"
		}
		if en {
			v := fmt.Sprintf("%s, %s (%d new, %d regressed)", count(p.Alerts, "alert"), count(p.Issues, "issue"), p.New, p.Regressed)
			if p.Escalations > 0 {
				v += ", " + count(p.Escalations, "escalation")
			}
			add(label, v, "")
		} else {
			v := fmt.Sprintf("%d 条告警，%d 个问题（新问题 %d，回归 %d）", p.Alerts, p.Issues, p.New, p.Regressed)
			if p.Escalations > 0 {
				v += fmt.Sprintf("，升级 %d 次", p.Escalations)
			}
			add(label, v, "")
		}
	}
	// The overview first, then the lists: a message cut to fit loses
	// details, never the day's counts.
	if d.Held > 0 {
		if en {
			add("Quiet hours", count(d.Held, "alert")+" held during quiet hours, sent when they ended", "")
		} else {
			add("免打扰", fmt.Sprintf("%d 条告警在免打扰期间暂存，结束后已发出", d.Held), "")
		}
	}
	failed, open := "发送失败", "未解决"
	if en {
		failed, open = "Not delivered", "Still open"
	}
	if n := len(d.Failed); n > 0 {
		if en {
			add(failed, count(n, "alert")+" never reached this group; re-send from the configurator's deliveries page", "")
		} else {
			add(failed, fmt.Sprintf("%d 条告警没有送达本群，可在配置工具的投递记录页重发", n), "")
		}
	}
	if n := len(d.Unresolved); n > 0 {
		var v string
		switch {
		case en && d.FromSentry && d.FromNotices:
			v = fmt.Sprintf("%d of yesterday's issues are still open (Sentry said so of some; of the others the issue webhooks and action links the relay received tell: Sentry was not asked, or did not answer)", n)
		case en && d.FromSentry:
			v = fmt.Sprintf("%d of yesterday's issues are still open in Sentry", n)
		case en:
			v = fmt.Sprintf("%d of yesterday's issues are still open, as far as the issue webhooks and action links the relay received tell (Sentry itself was not asked)", n)
		case d.FromSentry && d.FromNotices:
			v = fmt.Sprintf("昨日的问题中有 %d 个仍未解决（部分向 Sentry 查询；其余按中继收到的 Sentry 问题通知和操作链接判断：没有 api_token 或 Sentry 没有回答）", n)
		case d.FromSentry:
			v = fmt.Sprintf("昨日的问题中有 %d 个在 Sentry 中仍未解决", n)
		default:
			v = fmt.Sprintf("昨日的问题中有 %d 个仍未解决（按中继收到的 Sentry 问题通知和操作链接判断，未向 Sentry 查询）", n)
		}
		add(open, v, "")
	}
	for _, f := range d.Failed {
		add(failed, issueLine(f, lang), f.Link)
	}
	for _, u := range d.Unresolved {
		add(open, issueLine(u, lang), u.Link)
	}
	for _, p := range d.Projects {
		for _, it := range p.Top {
			label := Text(p.Name, 100) + " · 最多"
			if en {
				label = Text(p.Name, 100) + " · top"
			}
			it.Project = ""
			add(label, issueLine(it, lang), it.Link)
		}
	}
	return m
}

// count is "1 alert", "2 alerts".
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

var zhWeekdays = [...]string{"周日", "周一", "周二", "周三", "周四", "周五", "周六"}

// issueLine is "Title（商城 · error · 7 次 · 已指派）" / "Title (mall · error · ×7 · assigned)".
func issueLine(it SummaryIssue, lang string) string {
	var extra []string
	if it.Project != "" {
		extra = append(extra, Text(it.Project, 100))
	}
	if it.Level != "" {
		extra = append(extra, Text(it.Level, 20))
	}
	if it.Count > 1 {
		if lang == "en" {
			extra = append(extra, fmt.Sprintf("×%d", it.Count))
		} else {
			extra = append(extra, fmt.Sprintf("%d 次", it.Count))
		}
	}
	if it.Note != "" {
		extra = append(extra, Text(it.Note, 200))
	}
	title := Text(it.Title, 100)
	if title == "" {
		title = "(no title)"
	}
	if len(extra) == 0 {
		return title
	}
	if lang == "en" {
		return title + " (" + strings.Join(extra, " · ") + ")"
	}
	return title + "（" + strings.Join(extra, " · ") + "）"
}

// SummaryMore is the last line of a summary cut to fit a robot: how many
// lines were left out.
func SummaryMore(n int, lang string) notify.Field {
	if lang == "en" {
		return notify.Field{Label: "More", Value: fmt.Sprintf("… %d more", n)}
	}
	return notify.Field{Label: "更多", Value: fmt.Sprintf("…还有 %d 项", n)}
}

// TakenNote is the note of an open issue someone took (assigned in
// Sentry, or an action link used).
func TakenNote(lang string) string {
	if lang == "en" {
		return "taken"
	}
	return "有人跟进"
}

// FailedNote says why a delivery failed: the robot's code and its fix or
// error, short.
func FailedNote(code int, why string) string {
	why = Text(why, 80)
	if code != 0 {
		return fmt.Sprintf("%d %s", code, why)
	}
	return why
}
