package configapi

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/deliveries"
	"github.com/sentry-white/sentry-white/internal/store"
)

// onCallEnv has three owners, a robot and a project.
func onCallEnv(t *testing.T) *testEnv {
	t.Helper()
	e := newEnv(t)
	for _, o := range []map[string]any{{"name": "张三", "mobile": "13800138001"}, {"name": "李四", "mobile": "13800138002"},
		{"name": "王五", "mobile": "13800138003"}} {
		e.must(http.StatusCreated, "POST", "/api/v1/owners", o)
	}
	e.must(http.StatusCreated, "POST", "/api/v1/robots", map[string]any{"name": "研发群", "kind": "dingtalk", "access_token": "tok-abcdefghijklmnop"})
	e.must(http.StatusCreated, "POST", "/api/v1/projects", map[string]any{"name": "商城", "slug": "mall", "owner_ids": []int{3}, "robot_ids": []int{1}})
	return e
}

func fieldOf(m map[string]any) string {
	fs, _ := m["fields"].([]any)
	if len(fs) == 0 {
		return ""
	}
	return fs[0].(map[string]any)["field"].(string)
}

// TestSchedulesAPI: schedules are listed, created, read, changed and
// deleted like the other entities, validation names the field, a project
// takes mention, schedule_id and quiet_hours, and deleting a schedule a
// project uses needs ?force=1, after which the project rings its owners.
func TestSchedulesAPI(t *testing.T) {
	e := onCallEnv(t)
	sched := map[string]any{"name": " 后端值班 ", "owner_ids": []int{1, 2}, "period": "WEEK", "handoff": "09:00",
		"handoff_weekday": 1, "timezone": "Asia/Shanghai", "start": "2026-12-07", "x-team": "kept"}
	got := e.must(http.StatusCreated, "POST", "/api/v1/schedules", sched)
	if got["id"] != float64(1) || got["name"] != "后端值班" || got["period"] != "week" || got["x-team"] != "kept" {
		t.Fatalf("created %v", got)
	}
	for _, tc := range []struct {
		change map[string]any
		status int
		field  string
	}{
		{map[string]any{"period": "month"}, 422, "schedules[0].period"},
		{map[string]any{"handoff": "9am"}, 422, "schedules[0].handoff"},
		{map[string]any{"timezone": "Mars/Olympus"}, 422, "schedules[0].timezone"},
		{map[string]any{"owner_ids": []int{9}}, 422, "schedules[0].owner_ids"},
		{map[string]any{"start": "07/12/2026"}, 422, "schedules[0].start"},
		{map[string]any{"overrides": []any{map[string]any{"owner_id": 2, "from": "2026-12-24T18:00", "to": "2026-12-24T08:00"}}}, 422, "schedules[0].overrides[0].to"},
		{map[string]any{"owner_ids": "1,2"}, 400, "schedules[0].owner_ids"},
	} {
		m := e.must(tc.status, "PATCH", "/api/v1/schedules/1", tc.change)
		if f := fieldOf(m); f != tc.field {
			t.Errorf("PATCH %v: field %q, want %q (%v)", tc.change, f, tc.field, m)
		}
	}
	e.must(http.StatusOK, "PATCH", "/api/v1/projects/1", map[string]any{"mention": " OnCall ", "schedule_id": 1,
		"quiet_hours": map[string]any{"mode": "silent", "windows": []any{map[string]any{"days": []int{1, 2, 3, 4, 5}, "from": "22:00", "to": "08:00"}}}})
	p := e.stored().Projects[0]
	if p.Mention != "oncall" || p.ScheduleID != 1 || p.QuietHours == nil || p.QuietHours.Mode != "silent" {
		t.Errorf("project stored as %+v", p)
	}
	m := e.must(http.StatusUnprocessableEntity, "PATCH", "/api/v1/projects/1", map[string]any{"schedule_id": 7})
	if f := fieldOf(m); f != "projects[0].schedule_id" {
		t.Errorf("a missing schedule: field %q", f)
	}
	m = e.must(http.StatusUnprocessableEntity, "PATCH", "/api/v1/projects/1", map[string]any{"quiet_hours": map[string]any{"mode": "nap", "windows": []any{}}})
	if f := fieldOf(m); f != "projects[0].quiet_hours.mode" && f != "projects[0].quiet_hours.windows" {
		t.Errorf("bad quiet hours: field %q", f)
	}
	list := e.must(http.StatusOK, "GET", "/api/v1/schedules", nil)["list"].([]any)
	if len(list) != 1 {
		t.Fatalf("list %v", list)
	}
	if snap := e.must(http.StatusOK, "GET", "/api/v1/snapshot", nil); len(snap["schedules"].([]any)) != 1 ||
		snap["meta"].(map[string]any)["oncall"] == nil {
		t.Errorf("the snapshot lacks schedules or their choices: %v", snap["meta"])
	}
	// An owner in a schedule is referenced by it.
	m = e.must(http.StatusConflict, "DELETE", "/api/v1/owners/2", nil)
	if refs := m["referenced_by"].([]any); len(refs) != 1 || refs[0].(map[string]any)["kind"] != "schedules" {
		t.Errorf("owner 2 referenced by %v", refs)
	}
	m = e.must(http.StatusConflict, "DELETE", "/api/v1/schedules/1", nil)
	if m["code"] != "referenced" {
		t.Errorf("deleting a used schedule: %v", m)
	}
	e.must(http.StatusOK, "DELETE", "/api/v1/schedules/1?force=1", nil)
	d := e.stored()
	if len(d.Schedules) != 0 || d.Projects[0].ScheduleID != 0 || d.Projects[0].MentionMode() != "owners" {
		t.Errorf("after the forced delete: %+v", d.Projects[0])
	}
}

// TestScheduleTimeline: who is on duty over the next four weeks, an
// override added from there and removed, and a schedule not yet saved.
func TestScheduleTimeline(t *testing.T) {
	e := onCallEnv(t)
	e.must(http.StatusCreated, "POST", "/api/v1/schedules", map[string]any{"name": "后端值班", "owner_ids": []int{1, 2},
		"period": "week", "handoff": "09:00", "handoff_weekday": 1, "start": "2026-12-07"})
	tl := e.must(http.StatusOK, "GET", "/api/v1/schedules/1/timeline?from=2026-12-07", nil)
	shifts := tl["shifts"].([]any)
	if len(shifts) != 5 || tl["timezone"] != "Asia/Shanghai" || tl["from"] != "2026-12-07T00:00:00+08:00" {
		t.Fatalf("four weeks from 2026-12-07: %v", tl)
	}
	// Nobody before the first shift, then the rotation.
	want := []string{"2026-12-07T00:00:00+08:00 <nil>", "2026-12-07T09:00:00+08:00 张三", "2026-12-14T09:00:00+08:00 李四",
		"2026-12-21T09:00:00+08:00 张三", "2026-12-28T09:00:00+08:00 李四"}
	for i, s := range shifts {
		sh := s.(map[string]any)
		if got := fmt.Sprintf("%s %v", sh["start"], sh["owner"]); got != want[i] {
			t.Errorf("shift %d = %s, want %s", i, got, want[i])
		}
	}
	if hs := tl["handoffs"].([]any); len(hs) != 4 || hs[0].(map[string]any)["next"].(map[string]any)["name"] != "李四" {
		t.Errorf("handoffs %v", hs)
	}
	// 王五 covers Christmas Eve, added from the timeline.
	m := e.must(http.StatusUnprocessableEntity, "POST", "/api/v1/schedules/1/overrides", map[string]any{"owner_id": 3, "from": "2026-12-24 18:00", "to": "2026-12-25T09:00"})
	if f := fieldOf(m); f != "schedules[0].overrides[0].from" {
		t.Errorf("a bad override: field %q", f)
	}
	m = e.must(http.StatusBadRequest, "POST", "/api/v1/schedules/1/overrides", map[string]any{"owner_id": "three"})
	if f := fieldOf(m); f != "schedules[0].overrides[0].owner_id" {
		t.Errorf("a mistyped override: field %q", f)
	}
	e.must(http.StatusCreated, "POST", "/api/v1/schedules/1/overrides", map[string]any{"owner_id": 3, "from": "2026-12-24T18:00", "to": "2026-12-25T09:00"})
	tl = e.must(http.StatusOK, "GET", "/api/v1/schedules/1/timeline?from=2026-12-24&days=2", nil)
	var got []string
	for _, s := range tl["shifts"].([]any) {
		sh := s.(map[string]any)
		got = append(got, fmt.Sprintf("%s %v %v", sh["start"], sh["owner"], sh["override"]))
	}
	if strings.Join(got, "; ") != "2026-12-24T00:00:00+08:00 张三 false; 2026-12-24T18:00:00+08:00 王五 true; 2026-12-25T09:00:00+08:00 张三 false" {
		t.Errorf("with the override: %v", got)
	}
	e.must(http.StatusNotFound, "DELETE", "/api/v1/schedules/1/overrides/1", nil)
	e.must(http.StatusOK, "DELETE", "/api/v1/schedules/1/overrides/0", nil)
	if len(e.stored().Schedules[0].Overrides) != 0 {
		t.Error("the override was not removed")
	}
	e.must(http.StatusBadRequest, "GET", "/api/v1/schedules/1/timeline?days=400", nil)
	e.must(http.StatusNotFound, "GET", "/api/v1/schedules/9/timeline", nil)
	// A day rotation as a form holds it, not saved.
	tl = e.must(http.StatusOK, "POST", "/api/v1/schedules/timeline", map[string]any{"from": "2026-12-07", "days": 3,
		"schedule": map[string]any{"name": "草稿", "owner_ids": []int{2, 3}, "period": "day", "handoff": "10:00", "start": "2026-12-07"}})
	if n := len(tl["shifts"].([]any)); n != 4 || len(e.stored().Schedules) != 1 {
		t.Errorf("draft: %d shifts, %d schedules stored", n, len(e.stored().Schedules))
	}
	m = e.must(http.StatusUnprocessableEntity, "POST", "/api/v1/schedules/timeline", map[string]any{
		"schedule": map[string]any{"name": "草稿", "owner_ids": []int{2}, "period": "fortnight", "handoff": "10:00", "start": "2026-12-07"}})
	if f := fieldOf(m); f != "schedules[1].period" {
		t.Errorf("a bad draft: field %q", f)
	}
}

// TestProjectNow: "if an alert came now" says whom it would ring and what
// the quiet hours would do, and the preview carries it.
func TestProjectNow(t *testing.T) {
	e := onCallEnv(t)
	start := time.Now().AddDate(0, 0, -3).Format("2006-01-02")
	e.must(http.StatusCreated, "POST", "/api/v1/schedules", map[string]any{"name": "后端值班", "owner_ids": []int{1},
		"period": "day", "handoff": "00:00", "start": start})
	e.must(http.StatusOK, "PATCH", "/api/v1/projects/1", map[string]any{"mention": "oncall", "schedule_id": 1,
		"quiet_hours": map[string]any{"mode": "hold", "bypass_level": "fatal",
			"windows": []any{map[string]any{"days": []int{1, 2, 3, 4, 5, 6, 7}, "from": "00:00", "to": "00:00"}}}})
	now := e.must(http.StatusOK, "GET", "/api/v1/projects/1/now?level=error", nil)
	rung := now["rung"].([]any)
	q := now["quiet"].(map[string]any)
	if len(rung) != 1 || rung[0].(map[string]any)["name"] != "张三" || now["on_duty"].(map[string]any)["name"] != "张三" ||
		q["decision"] != "held" || q["until"] == nil || now["mention"] != "oncall" {
		t.Errorf("an error now: %v", now)
	}
	// A fatal alert bypasses; the answer says the quiet hours are on now
	// and until when, so the page can say why it goes out at once.
	if now = e.must(http.StatusOK, "GET", "/api/v1/projects/1/now?level=fatal", nil); now["quiet"].(map[string]any)["decision"] != "deliver" ||
		now["quiet"].(map[string]any)["bypassed"] != true || now["quiet"].(map[string]any)["until"] == nil {
		t.Errorf("a fatal alert bypasses: %v", now["quiet"])
	}
	e.must(http.StatusBadRequest, "GET", "/api/v1/projects/1/now?level=loud", nil)
	pv := e.must(http.StatusOK, "POST", "/api/v1/projects/1/preview", map[string]any{})
	robots := pv["robots"].([]any)
	if pv["now"].(map[string]any)["quiet"].(map[string]any)["decision"] != "held" || len(robots) != 1 ||
		fmt.Sprint(robots[0].(map[string]any)["mentions"]) != "[张三 (13800138001)]" {
		t.Errorf("preview: now %v, robots %v", pv["now"], robots)
	}
}

// TestHeldDeliveries: the delivery history shows a held alert as held,
// with when its quiet ends, and once its digest went out, the outcome; the
// filter takes result=held.
func TestHeldDeliveries(t *testing.T) {
	e := newEnv(t)
	l := deliveries.New(store.NewFile(e.dir), "api/", nil)
	held := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	until := held.Add(30 * time.Minute)
	l.Add(deliveries.Record{ID: "a1", Time: held, Project: "mall", RobotID: 1, Robot: "研发群", Kind: "dingtalk", Result: deliveries.Held, HeldUntil: until})
	l.Add(deliveries.Record{ID: "a2", Time: held, Project: "mall", RobotID: 1, Robot: "研发群", Kind: "dingtalk", Result: deliveries.Held, HeldUntil: until})
	l.Add(deliveries.Record{ID: "a1", Time: until.Add(5 * time.Second), Project: "mall", RobotID: 1, Robot: "研发群", Kind: "dingtalk",
		Result: deliveries.Delivered, Digest: 2})
	if err := l.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	list := e.must(http.StatusOK, "GET", "/api/v1/deliveries?result=held", nil)["deliveries"].([]any)
	if len(list) != 2 {
		t.Fatalf("held: %v", list)
	}
	for _, v := range list {
		r := v.(map[string]any)
		if r["result"] != "held" || r["held_until"] != until.Format(time.RFC3339) {
			t.Errorf("held record %v", r)
		}
		rel, _ := r["released"].(map[string]any)
		switch r["id"] {
		case "a1":
			if rel == nil || rel["result"] != "delivered" || rel["digest"] != float64(2) {
				t.Errorf("a1 was delivered in a digest of 2: %v", r)
			}
		case "a2":
			if rel != nil {
				t.Errorf("a2 is still held: %v", r)
			}
		}
	}
	e.must(http.StatusBadRequest, "GET", "/api/v1/deliveries?result=napping", nil)
}
