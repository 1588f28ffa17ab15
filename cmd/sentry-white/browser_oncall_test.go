package main

// Issue #24 in the browser: the schedules page (a rotation made in the
// form, the next four weeks at a glance, a cover and a swap added from the
// calendar, an override removed), the project form's on-call section and
// quiet hours with "if an alert came now" in the preview, and held alerts
// on the deliveries page — at a laptop's 1280 px and a phone's 390 px,
// where none of these pages scrolls sideways.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/deliveries"
	"github.com/sentry-white/sentry-white/internal/store"
)

// widths are the window widths the on-call pages are checked at: a laptop
// and a phone.
var widths = []int{1280, 390}

// atWidth sets the tab's window width (and a height that suits it).
func (tb *tab) atWidth(w int) {
	tb.t.Helper()
	h := 800
	if w < 600 {
		h = 844
	}
	tb.do(chromedp.EmulateViewport(int64(w), int64(h)))
}

// noSideways fails the test when the page, or the form of an open dialog,
// is wider than the window (it would scroll sideways).
func (tb *tab) noSideways(where string) {
	tb.t.Helper()
	bad := eval[string](tb, `(() => {
		const bad = [];
		if (document.documentElement.scrollWidth > window.innerWidth) bad.push("page " + document.documentElement.scrollWidth + ">" + window.innerWidth);
		document.querySelectorAll("dialog[open] .form").forEach((f) => {
			if (f.scrollWidth > f.clientWidth + 1) bad.push(f.id + " " + f.scrollWidth + ">" + f.clientWidth);
		});
		return bad.join(" ");
	})()`)
	if bad != "" {
		tb.t.Errorf("%s scrolls sideways: %s", where, bad)
	}
}

// set sets an input's value by id (which may hold dots and brackets, as
// the ids named by field paths do) and tells the page, as typing would.
func (tb *tab) set(id, value string) {
	tb.t.Helper()
	if !eval[bool](tb, fmt.Sprintf(`(() => {
		const n = document.getElementById(%q);
		if (!n) return false;
		n.value = %q;
		n.dispatchEvent(new Event("input", { bubbles: true }));
		n.dispatchEvent(new Event("change", { bubbles: true }));
		return true;
	})()`, id, value)) {
		tb.t.Fatalf("no input #%s", id)
	}
}

// shanghai is the schedules' default time zone.
func shanghai(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(config.DefaultTimezone)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// thisMonday is the Monday of this week in loc, at midnight.
func thisMonday(loc *time.Location) time.Time {
	now := time.Now().In(loc)
	back := (int(now.Weekday()) + 6) % 7
	return time.Date(now.Year(), now.Month(), now.Day()-back, 0, 0, 0, 0, loc)
}

// dayLabel is the accessible label of a day of schedule id's calendar.
func (tb *tab) dayLabel(id int, day time.Time) string {
	tb.t.Helper()
	return eval[string](tb, fmt.Sprintf(`(document.getElementById("schedule-%d-day-%s") || {getAttribute: () => "none"}).getAttribute("aria-label")`, id, day.Format("2006-01-02")))
}

func TestBrowserSchedules(t *testing.T) {
	for _, w := range widths {
		t.Run(fmt.Sprint(w), func(t *testing.T) { testSchedules(t, w) })
	}
}

func testSchedules(t *testing.T, width int) {
	in := start(t, nil, nil)
	for _, o := range [][2]string{{"张三", ownerMobile}, {"李四", "13900139000"}, {"王五", "13700137000"}} {
		in.api(t, "POST", "/api/v1/owners", map[string]any{"name": o[0], "mobile": o[1]})
	}
	in.api(t, "POST", "/api/v1/robots", map[string]any{"name": "研发告警群", "access_token": robotToken, "secret": robotSecret})
	loc := shanghai(t)
	monday := thisMonday(loc)
	day := func(n int) time.Time { return monday.AddDate(0, 0, n) }

	tb := newTab(t, in)
	tb.atWidth(width)
	tb.open()
	tb.page("schedules")
	if e := tb.text("schedules-empty"); !strings.Contains(e, "还没有值班表") {
		t.Errorf("the empty page reads %q", e)
	}
	tb.noSideways("the empty schedules page")

	// A weekly rotation of three, reordered: 张三, 王五, 李四.
	tb.do(chromedp.Click(chromedp.ID("schedules-new")), chromedp.WaitVisible(chromedp.ID("schedule-name")))
	if tz := eval[string](tb, `document.getElementById("schedule-timezone").value`); tz != "Asia/Shanghai" {
		t.Errorf("the time zone starts as %q", tz)
	}
	tb.fill("schedule-name", "后端值班")
	for _, id := range []string{"1", "2", "3"} {
		tb.choose("schedule-add-owner", id)
		tb.do(chromedp.Click(chromedp.ID("schedule-add-owner-btn")))
	}
	tb.do(chromedp.Click(chromedp.ID("schedule-order-2-up")))
	if got := eval[string](tb, `Array.from(document.querySelectorAll("#schedule-order .order-name")).map((n) => n.textContent).join(",")`); got != "张三,王五,李四" {
		t.Errorf("the rotation order reads %q", got)
	}
	tb.choose("schedule-period", "week")
	tb.fill("schedule-handoff", "09:00", "schedule-start", monday.Format("2006-01-02"))
	tb.choose("schedule-handoff_weekday", "1")
	tb.do(chromedp.Click(chromedp.ID("schedule-robot-1")))
	// The form previews the next weeks before anything is saved.
	// (The preview follows the typing: wait for the one of the last change.)
	tb.waitFor(fmt.Sprintf(`(document.querySelector('#schedule-preview-cal td[data-day="%s"]') || {textContent: ""}).textContent.includes("王五")`, day(9).Format("2006-01-02")))
	if n := len(in.stored(t).Schedules); n != 0 {
		t.Errorf("the preview stored %d schedules", n)
	}
	tb.noSideways("the schedule form")
	tb.save("schedule")

	d := in.stored(t)
	if len(d.Schedules) != 1 {
		t.Fatalf("stored schedules %+v", d.Schedules)
	}
	s := d.Schedules[0]
	if !slices.Equal(s.OwnerIDs, []int64{1, 3, 2}) || s.Period != "week" || s.Handoff != "09:00" || s.HandoffWeekday != 1 ||
		s.Start != monday.Format("2006-01-02") || s.Timezone != "Asia/Shanghai" || !slices.Equal(s.RobotIDs, []int64{1}) {
		t.Errorf("stored %+v", s)
	}

	// Four weeks at a glance: a week per row from this Monday, each week's
	// person in turn.
	tb.waitFor(`document.getElementById("schedule-cal-1") !== null`)
	days := eval[int](tb, `document.querySelectorAll("#schedule-cal-1 td[data-day]").length`)
	if days != 28 && days != 35 {
		t.Errorf("the calendar shows %d days, want four weeks ahead in whole weeks", days)
	}
	for week, name := range []string{"张三", "王五", "李四", "张三"} {
		if l := tb.dayLabel(1, day(7*week+2)); !strings.Contains(l, name) || strings.Contains(l, "临时替班") {
			t.Errorf("week %d's Wednesday reads %q, want %s", week, l, name)
		}
	}
	if l := tb.dayLabel(1, day(7)); !strings.Contains(l, "张三 00:00–09:00") || !strings.Contains(l, "王五 09:00–24:00") {
		t.Errorf("the second Monday (a handoff) reads %q", l)
	}
	now := tb.text("schedule-now-1")
	if time.Now().Before(monday.Add(9 * time.Hour)) {
		if !strings.Contains(now, "还没有人值班") {
			t.Errorf("before the first shift the card says %q", now)
		}
	} else if !strings.Contains(now, "现在值班：张三") || !strings.Contains(now, "交给 王五") {
		t.Errorf("the card says %q", now)
	}
	if r := tb.text("schedule-card-1"); !strings.Contains(r, "每周一 09:00 交接") || !strings.Contains(r, "张三 → 王五 → 李四") || !strings.Contains(r, "交接时通知：研发告警群") {
		t.Errorf("the card reads %q", r)
	}
	tb.noSideways("the schedules page")
	if width < 600 {
		// The calendar's days stay in the card on a phone.
		if bad := eval[string](tb, `(() => {
			const card = document.getElementById("schedule-card-1").getBoundingClientRect();
			return Array.from(document.querySelectorAll("#schedule-cal-1 .cal-cell")).filter((c) => c.getBoundingClientRect().right > card.right + 1).map((c) => c.id).join(" ");
		})()`); bad != "" {
			t.Errorf("days outside the card at %d px: %s", width, bad)
		}
		tb.screenshot(shotsDir(t), "schedules-phone", "zh")
	}

	// A cover from the calendar: 李四 takes the second Thursday from 09:00.
	thu := day(10)
	tb.do(chromedp.Click(chromedp.ID("schedule-1-day-" + thu.Format("2006-01-02"))))
	tb.waitFor(`document.getElementById("override-dialog").open`)
	if from := eval[string](tb, `document.getElementById("override-from").value`); from != thu.Format("2006-01-02")+"T09:00" {
		t.Errorf("the cover starts %q", from)
	}
	tb.noSideways("the override dialog")
	tb.do(chromedp.Click(chromedp.ID("override-save"))) // nobody chosen
	tb.waitFor(`document.getElementById("override-owner_id-error").textContent !== ""`)
	tb.choose("override-owner_id", "2")
	tb.do(chromedp.Click(chromedp.ID("override-save")))
	tb.waitFor(`!document.getElementById("override-dialog").open`)
	tb.waitFor(fmt.Sprintf(`(document.getElementById("schedule-1-day-%s") || {}).closest && document.getElementById("schedule-1-day-%s").closest("td").classList.contains("has-ov")`,
		thu.Format("2006-01-02"), thu.Format("2006-01-02")))
	if l := tb.dayLabel(1, thu); !strings.Contains(l, "王五 00:00–09:00") || !strings.Contains(l, "李四（临时替班）09:00–24:00") {
		t.Errorf("the covered Thursday reads %q", l)
	}
	if o := in.stored(t).Schedules[0].Overrides; len(o) != 1 || o[0].OwnerID != 2 || o[0].From != thu.Format("2006-01-02")+"T09:00" || o[0].To != day(11).Format("2006-01-02")+"T09:00" {
		t.Errorf("stored overrides %+v", o)
	}

	// A swap: 李四's third week goes to 张三, who gives 李四 his fourth.
	tb.do(chromedp.Click(chromedp.ID("schedule-1-day-" + day(16).Format("2006-01-02"))))
	tb.waitFor(`document.getElementById("override-dialog").open`)
	tb.do(chromedp.Click(chromedp.ID("override-kind-swap")))
	tb.choose("override-owner_id", "1")
	tb.waitFor(`document.querySelector("#override-swap .msg.info") !== null`)
	if s := tb.text("override-swap"); !strings.Contains(s, "张三 值 李四 的这一班") || !strings.Contains(s, "李四 值 张三 的下一班") {
		t.Errorf("the swap says %q", s)
	}
	tb.do(chromedp.Click(chromedp.ID("override-save")))
	tb.waitFor(`!document.getElementById("override-dialog").open`)
	tb.waitFor(fmt.Sprintf(`(document.getElementById("schedule-1-day-%s") || {getAttribute: () => ""}).getAttribute("aria-label").includes("张三（临时替班）")`, day(16).Format("2006-01-02")))
	if l := tb.dayLabel(1, day(23)); !strings.Contains(l, "李四（临时替班）") {
		t.Errorf("the fourth Wednesday after the swap reads %q", l)
	}
	o := in.stored(t).Schedules[0].Overrides
	if len(o) != 3 || o[1].OwnerID != 1 || o[1].From != day(14).Format("2006-01-02")+"T09:00" || o[2].OwnerID != 2 || o[2].From != day(21).Format("2006-01-02")+"T09:00" {
		t.Errorf("stored overrides after the swap %+v", o)
	}

	// The cover removed: the Thursday is 王五's again.
	tb.do(chromedp.Click(chromedp.ID("schedule-1-override-delete-0")))
	tb.do(chromedp.WaitVisible(chromedp.ID("confirm-ok")), chromedp.Click(chromedp.ID("confirm-ok")))
	tb.waitFor(fmt.Sprintf(`!document.getElementById("schedule-1-day-%s").closest("td").classList.contains("has-ov")`, thu.Format("2006-01-02")))
	if l := tb.dayLabel(1, thu); !strings.Contains(l, "王五") || strings.Contains(l, "李四") {
		t.Errorf("the Thursday after the removal reads %q", l)
	}
	if o := in.stored(t).Schedules[0].Overrides; len(o) != 2 {
		t.Errorf("stored overrides after the removal %+v", o)
	}

	// Deleting an owner of the rotation says the schedule uses them (not
	// that a project does), before anything is sent.
	if width >= 600 {
		tb.page("owners")
		tb.do(chromedp.Click(chromedp.ID("owner-delete-3")), chromedp.WaitVisible(chromedp.ID("confirm-ok")))
		if q := tb.text("confirm-text"); !strings.Contains(q, "值班表“后端值班”") || strings.Contains(q, "这些项目") {
			t.Errorf("deleting 王五 asks %q", q)
		}
		tb.do(chromedp.Click(chromedp.ID("confirm-cancel")))
		tb.waitFor(`!document.getElementById("confirm-dialog").open`)
		tb.page("schedules")
	}

	// In English the calendar is worded again.
	tb.do(chromedp.Click(chromedp.ID("lang-toggle")))
	tb.waitFor(`document.getElementById("schedules-title").textContent === "Schedules"`)
	tb.waitFor(fmt.Sprintf(`document.getElementById("schedule-1-day-%s").getAttribute("aria-label").includes("(override)")`, day(16).Format("2006-01-02")))
	if r := tb.text("schedule-card-1"); !strings.Contains(r, "Hands over every Mon at 09:00") {
		t.Errorf("the English card reads %q", r)
	}
	tb.noSideways("the English schedules page")
	if width < 600 {
		tb.screenshot(shotsDir(t), "schedules-phone", "en")
	}
}

func TestBrowserQuietHours(t *testing.T) {
	for _, w := range widths {
		t.Run(fmt.Sprint(w), func(t *testing.T) { testQuietHours(t, w) })
	}
}

func testQuietHours(t *testing.T, width int) {
	in := start(t, nil, nil)
	in.api(t, "POST", "/api/v1/owners", map[string]any{"name": "张三", "mobile": ownerMobile})
	in.api(t, "POST", "/api/v1/owners", map[string]any{"name": "李四", "mobile": "13900139000"})
	in.api(t, "POST", "/api/v1/robots", map[string]any{"name": "研发告警群", "access_token": robotToken, "secret": robotSecret})
	loc := shanghai(t)
	// 李四 is on duty all this week.
	in.api(t, "POST", "/api/v1/schedules", map[string]any{"name": "后端值班", "owner_ids": []int{2}, "period": "week", "handoff": "00:00",
		"handoff_weekday": 1, "start": thisMonday(loc).AddDate(0, 0, -7).Format("2006-01-02")})
	// An escalation set by the API: the form has no field for it and must
	// keep it.
	in.api(t, "POST", "/api/v1/projects", map[string]any{"name": "商城后台", "slug": "mall-api", "owner_ids": []int{1, 2}, "robot_ids": []int{1},
		"escalation": map[string]any{"after_minutes": 15, "steps": []string{"owners"}}})

	tb := newTab(t, in)
	tb.atWidth(width)
	tb.open()
	tb.waitFor(`document.getElementById("project-row-1") !== null`)

	// A window around now, every day (it may cross midnight).
	now := time.Now().In(loc)
	from, to := now.Add(-time.Hour).Format("15:04"), now.Add(2*time.Hour).Format("15:04")
	tb.do(chromedp.Click(chromedp.ID("project-edit-1")), chromedp.WaitVisible(chromedp.ID("project-name")))
	if eval[bool](tb, `document.getElementById("project-oncall").open`) {
		t.Error("the on-call section is open for a project without its settings")
	}
	tb.do(chromedp.Click(chromedp.CSS("#project-oncall summary")), chromedp.WaitVisible(chromedp.ID("project-mention-oncall")))
	tb.do(chromedp.Click(chromedp.ID("project-mention-oncall")))
	tb.choose("project-schedule_id", "1")
	tb.do(chromedp.Click(chromedp.ID("project-quiet-on")))
	tb.waitFor(`!document.getElementById("project-quiet-body").hidden`)
	if got := eval[string](tb, `Array.from(document.querySelectorAll("#project-quiet-window-0 input[type=checkbox]:checked")).length + " " + document.getElementById("project-quiet_hours.windows[0].from").value`); got != "7 22:00" {
		t.Errorf("a new window starts as %q", got)
	}
	tb.set("project-quiet_hours.windows[0].from", from)
	tb.set("project-quiet_hours.windows[0].to", to)
	tb.do(chromedp.Click(chromedp.ID("project-quiet-mode-hold")))
	if b := eval[string](tb, `document.getElementById("project-quiet_hours.bypass_level").value`); b != "fatal" {
		t.Errorf("the bypass level starts as %q", b)
	}
	tb.noSideways("the project form")
	tb.save("project")

	p := in.stored(t).Projects[0]
	q := p.QuietHours
	if p.Mention != "oncall" || p.ScheduleID != 1 || q == nil || len(q.Windows) != 1 || q.Windows[0].From != from || q.Windows[0].To != to ||
		len(q.Windows[0].Days) != 7 || q.BypassLevel != "fatal" || q.Mode != "" || q.Timezone != "" {
		t.Errorf("stored project %+v, quiet hours %+v", p, q)
	}
	if p.Escalation == nil || p.Escalation.AfterMinutes != 15 {
		t.Errorf("saving the form lost the escalation: %+v", p.Escalation)
	}
	if row := tb.text("project-row-1"); !strings.Contains(row, "@ 值班：后端值班") || !strings.Contains(row, "免打扰 每天") || !strings.Contains(row, "（暂存）") {
		t.Errorf("the row reads %q", row)
	}

	// If an alert came now: it rings 李四, held until the window ends.
	tb.do(chromedp.Click(chromedp.ID("project-preview-1")))
	tb.waitFor(`document.getElementById("preview-now") !== null`)
	if r := tb.text("preview-now-rung"); !strings.Contains(r, "当前值班的人：李四") {
		t.Errorf("the preview rings %q", r)
	}
	if s := tb.text("preview-now-quiet"); !strings.Contains(s, "先存着") || !strings.Contains(s, to) {
		t.Errorf("the preview's quiet hours read %q, want held until %s", s, to)
	}
	tb.noSideways("the preview")
	tb.choose("preview-now-level", "fatal")
	tb.waitFor(`document.getElementById("preview-now").dataset.decision === "deliver"`)
	if s := tb.text("preview-now-quiet"); !strings.Contains(s, "照常立即发送") {
		t.Errorf("a fatal alert now: %q", s)
	}
	tb.do(chromedp.Click(chromedp.ID("preview-close")))

	// Silent instead: sent now without any @.
	tb.do(chromedp.Click(chromedp.ID("project-edit-1")), chromedp.WaitVisible(chromedp.ID("project-name")))
	if !eval[bool](tb, `document.getElementById("project-oncall").open && document.getElementById("project-quiet-on").checked`) {
		t.Error("the form does not show the saved quiet hours")
	}
	tb.do(chromedp.Click(chromedp.ID("project-quiet-mode-silent")))
	tb.save("project")
	if m := in.stored(t).Projects[0].QuietHours.Mode; m != "silent" {
		t.Errorf("stored mode %q", m)
	}
	tb.do(chromedp.Click(chromedp.ID("project-preview-1")))
	tb.waitFor(`document.getElementById("preview-now") !== null && document.getElementById("preview-now").dataset.decision === "silent"`)
	if s := tb.text("preview-now-quiet"); !strings.Contains(s, "不 @ 任何人") {
		t.Errorf("the silent preview reads %q", s)
	}
	tb.noSideways("the preview")
	tb.do(chromedp.Click(chromedp.ID("preview-close")))

	// A wrong window is said next to it; turning quiet hours off removes them.
	tb.do(chromedp.Click(chromedp.ID("project-edit-1")), chromedp.WaitVisible(chromedp.ID("project-name")))
	tb.do(chromedp.Click(chromedp.ID("project-quiet-0-day-1")), chromedp.Click(chromedp.ID("project-quiet-0-day-2")),
		chromedp.Click(chromedp.ID("project-quiet-0-day-3")), chromedp.Click(chromedp.ID("project-quiet-0-day-4")),
		chromedp.Click(chromedp.ID("project-quiet-0-day-5")), chromedp.Click(chromedp.ID("project-quiet-0-day-6")),
		chromedp.Click(chromedp.ID("project-quiet-0-day-7")))
	tb.do(chromedp.Click(chromedp.ID("project-save")))
	tb.waitFor(`document.getElementById("project-quiet_hours.windows[0].days-error").textContent !== ""`)
	if e := tb.text("project-quiet_hours.windows[0].days-error"); !strings.Contains(e, "必填") {
		t.Errorf("a window without days: %q", e)
	}
	tb.do(chromedp.Click(chromedp.ID("project-quiet-on")))
	tb.save("project")
	if p := in.stored(t).Projects[0]; p.QuietHours != nil || p.Mention != "oncall" {
		t.Errorf("after turning quiet hours off: %+v", p)
	}
	tb.noSideways("the projects page")
}

// TestBrowserHeldDeliveries: an alert held through quiet hours shows as
// held, with until when, and then its delivery in the digest.
func TestBrowserHeldDeliveries(t *testing.T) {
	in := start(t, nil, nil)
	in.api(t, "POST", "/api/v1/robots", map[string]any{"name": "研发告警群", "access_token": robotToken, "secret": robotSecret})
	now := time.Now().Truncate(time.Second)
	night := now.Add(-10 * time.Hour)
	h := deliveries.New(store.NewFile(in.dir), store.DefaultPrefix, nil)
	for _, r := range []deliveries.Record{
		{ID: "h-night", Time: night, Project: "mall-api", ProjectName: "商城后台", RobotID: 1, Robot: "研发告警群", Kind: "dingtalk",
			Result: deliveries.Held, Title: "TypeError at night", Level: "error", HeldUntil: night.Add(8 * time.Hour)},
		{ID: "h-night", Time: night.Add(8 * time.Hour), Project: "mall-api", ProjectName: "商城后台", RobotID: 1, Robot: "研发告警群", Kind: "dingtalk",
			Result: deliveries.Delivered, Attempts: 1, Title: "商城后台：2 条告警", Level: "error", Digest: 2},
		{ID: "h-now", Time: now.Add(-time.Minute), Project: "mall-api", ProjectName: "商城后台", RobotID: 1, Robot: "研发告警群", Kind: "dingtalk",
			Result: deliveries.Held, Title: "TimeoutError just now", Level: "error", HeldUntil: now.Add(time.Hour)},
	} {
		h.Add(r)
	}
	if err := h.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, w := range widths {
		tb := newTab(t, in)
		tb.atWidth(w)
		tb.open()
		tb.page("deliveries")
		tb.waitFor(`document.getElementById("delivery-held-h-now") !== null`)
		if s := tb.text("delivery-held-h-now"); !strings.Contains(s, "暂存") || !strings.Contains(s, "暂存到") || !strings.Contains(s, "还在等时段结束") {
			t.Errorf("the waiting held row reads %q", s)
		}
		if s := tb.text("delivery-held-h-night"); !strings.Contains(s, "随汇总送达（共 2 条）") {
			t.Errorf("the released held row reads %q", s)
		}
		if s := tb.text("delivery-row-h-night"); !strings.Contains(s, "已送达") || !strings.Contains(s, "免打扰后发送") {
			t.Errorf("the digest's row reads %q", s)
		}
		tb.choose("deliveries-filter-result", "held")
		tb.waitFor(`document.getElementById("delivery-row-h-night") === null && document.getElementById("delivery-held-h-night") !== null`)
		if n := eval[int](tb, `document.querySelectorAll("#deliveries-rows tr").length`); n != 2 {
			t.Errorf("%d held rows, want 2", n)
		}
		if w < 600 {
			tb.noSideways("the deliveries page")
		}
	}
}
