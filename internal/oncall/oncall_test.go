package oncall

import (
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
)

func rotation(t *testing.T, s config.Schedule) *Rotation {
	t.Helper()
	if s.ID == 0 {
		s.ID = 1
	}
	r, err := New(&s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func at(t *testing.T, loc, s string) time.Time {
	t.Helper()
	l, err := time.LoadLocation(loc)
	if err != nil {
		t.Fatal(err)
	}
	v, err := time.ParseInLocation("2006-01-02 15:04", s, l)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestWeeklyRotation(t *testing.T) {
	// The contract's example: Monday 09:00 in Shanghai from 2026-12-07.
	r := rotation(t, config.Schedule{OwnerIDs: []int64{1, 2, 3}, Period: "week", Handoff: "09:00",
		HandoffWeekday: 1, Timezone: "Asia/Shanghai", Start: "2026-12-07"})
	const sh = "Asia/Shanghai"
	for _, tt := range []struct {
		when string
		want int64
	}{
		{"2026-12-07 08:59", 0}, // before the first shift: nobody
		{"2026-12-07 09:00", 1},
		{"2026-12-13 23:59", 1},
		{"2026-12-14 08:59", 1},
		{"2026-12-14 09:00", 2},
		{"2026-12-21 09:00", 3},
		{"2026-12-28 09:00", 1}, // wraps around
		{"2027-01-01 00:00", 1}, // across the year
		{"2027-01-04 09:00", 2},
		{"2027-03-01 10:00", 1}, // 12 weeks later, across February
	} {
		if got := r.At(at(t, sh, tt.when)); got != tt.want {
			t.Errorf("At(%s) = %d, want %d", tt.when, got, tt.want)
		}
	}
}

func TestWeeklyHandoffAfterStart(t *testing.T) {
	// Start on a Wednesday, hand off on Fridays: the first shift is that
	// Friday; absent a weekday, the start's own weekday.
	r := rotation(t, config.Schedule{OwnerIDs: []int64{1, 2}, Period: "week", Handoff: "18:00",
		HandoffWeekday: 5, Timezone: "Asia/Shanghai", Start: "2026-12-09"})
	if got := r.At(at(t, "Asia/Shanghai", "2026-12-10 12:00")); got != 0 {
		t.Errorf("before the first Friday: %d, want nobody", got)
	}
	if got := r.At(at(t, "Asia/Shanghai", "2026-12-11 18:00")); got != 1 {
		t.Errorf("first Friday: %d, want 1", got)
	}
	if got := r.At(at(t, "Asia/Shanghai", "2026-12-18 18:00")); got != 2 {
		t.Errorf("second Friday: %d, want 2", got)
	}
	r = rotation(t, config.Schedule{OwnerIDs: []int64{1, 2}, Period: "week", Handoff: "18:00",
		Timezone: "Asia/Shanghai", Start: "2026-12-09"})
	if got := r.At(at(t, "Asia/Shanghai", "2026-12-16 17:59")); got != 1 {
		t.Errorf("weekday of start: %d, want 1", got)
	}
	if got := r.At(at(t, "Asia/Shanghai", "2026-12-16 18:00")); got != 2 {
		t.Errorf("weekday of start: %d, want 2", got)
	}
}

func TestDailyRotationAcrossMonthsAndYears(t *testing.T) {
	r := rotation(t, config.Schedule{OwnerIDs: []int64{10, 20, 30}, Period: "day", Handoff: "00:00",
		Timezone: "Asia/Shanghai", Start: "2026-01-30"})
	// Day k from Jan 30 goes to owner k mod 3.
	start := time.Date(2026, 1, 30, 12, 0, 0, 0, time.UTC)
	for k := range 800 { // through 2027 and its February
		day := start.AddDate(0, 0, k)
		noon := at(t, "Asia/Shanghai", day.Format("2006-01-02")+" 12:00")
		if got, want := r.At(noon), []int64{10, 20, 30}[k%3]; got != want {
			t.Fatalf("day %d (%s) = %d, want %d", k, day.Format("2006-01-02"), got, want)
		}
	}
}

func TestDaylightSaving(t *testing.T) {
	// New York: clocks go forward at 02:00 on 2026-03-08 and back at
	// 02:00 on 2026-11-01. Handoffs stay at 09:00 wall-clock time.
	const ny = "America/New_York"
	r := rotation(t, config.Schedule{OwnerIDs: []int64{1, 2}, Period: "day", Handoff: "09:00", Timezone: ny, Start: "2026-03-01"})
	for _, tt := range []struct {
		when string
		want int64
	}{
		{"2026-03-07 09:00", 1}, // k = 6
		{"2026-03-08 08:59", 1},
		{"2026-03-08 09:00", 2}, // the 23-hour day
		{"2026-03-09 08:59", 2},
		{"2026-03-09 09:00", 1},
		{"2026-10-31 09:00", 1}, // k = 244
		{"2026-11-01 08:59", 1}, // the 25-hour day (k = 244 from 10-31)
		{"2026-11-01 09:00", 2},
		{"2026-11-02 08:59", 2},
		{"2026-11-02 09:00", 1},
	} {
		if got := r.At(at(t, ny, tt.when)); got != tt.want {
			t.Errorf("At(%s) = %d, want %d", tt.when, got, tt.want)
		}
	}
	hs := r.Handoffs(at(t, ny, "2026-03-06 12:00"), at(t, ny, "2026-03-09 12:00"))
	if len(hs) != 3 {
		t.Fatalf("handoffs = %v", hs)
	}
	for _, h := range hs {
		if l := h.At.In(r.Location()); l.Hour() != 9 || l.Minute() != 0 {
			t.Errorf("handoff at %s, want 09:00 local", l)
		}
	}
	if d := hs[1].At.Sub(hs[0].At); d != 23*time.Hour {
		t.Errorf("spring-forward shift lasts %s, want 23h", d)
	}
	// A handoff in the hour that does not exist happens when the clocks
	// jump over it (02:30 on 2026-03-08: at 03:00 EDT).
	r = rotation(t, config.Schedule{OwnerIDs: []int64{1, 2}, Period: "week", Handoff: "02:30", HandoffWeekday: 7, Timezone: ny, Start: "2026-03-01"})
	if got := r.At(at(t, ny, "2026-03-08 01:59")); got != 1 {
		t.Errorf("before the moved handoff: %d, want 1", got)
	}
	if got := r.At(at(t, ny, "2026-03-08 03:00")); got != 2 {
		t.Errorf("after the moved handoff: %d, want 2", got)
	}
	if hs := r.Handoffs(at(t, ny, "2026-03-07 00:00"), at(t, ny, "2026-03-09 00:00")); len(hs) != 1 || !hs[0].At.Equal(at(t, ny, "2026-03-08 03:00")) {
		t.Errorf("moved handoff = %+v, want one at 03:00 EDT", hs)
	}
}

func TestOverrides(t *testing.T) {
	const sh = "Asia/Shanghai"
	r := rotation(t, config.Schedule{OwnerIDs: []int64{1, 2, 3}, Period: "week", Handoff: "09:00", HandoffWeekday: 1,
		Timezone: sh, Start: "2026-12-07", Overrides: []config.Override{
			{OwnerID: 2, From: "2026-12-24T18:00", To: "2026-12-26T09:00"}, // holiday cover
			{OwnerID: 3, From: "2026-12-25T00:00", To: "2026-12-25T12:00"}, // later-listed wins
			{OwnerID: 4, From: "2026-12-01T00:00", To: "2026-12-07T09:00"}, // before the first shift
		}})
	for _, tt := range []struct {
		when string
		want int64
	}{
		{"2026-12-24 17:59", 3}, // the rotation: week 2 → owner 3
		{"2026-12-24 18:00", 2},
		{"2026-12-25 00:00", 3},
		{"2026-12-25 11:59", 3},
		{"2026-12-25 12:00", 2},
		{"2026-12-26 08:59", 2},
		{"2026-12-26 09:00", 3}, // `to` is exclusive
		{"2026-12-03 12:00", 4},
		{"2026-12-07 09:00", 1},
	} {
		if got := r.At(at(t, sh, tt.when)); got != tt.want {
			t.Errorf("At(%s) = %d, want %d", tt.when, got, tt.want)
		}
	}
	tl := r.Timeline(at(t, sh, "2026-12-21 09:00"), at(t, sh, "2026-12-28 09:00"))
	want := []Shift{
		{Owner: 3, Start: at(t, sh, "2026-12-21 09:00"), End: at(t, sh, "2026-12-24 18:00")},
		{Owner: 2, Start: at(t, sh, "2026-12-24 18:00"), End: at(t, sh, "2026-12-25 00:00"), Override: true},
		{Owner: 3, Start: at(t, sh, "2026-12-25 00:00"), End: at(t, sh, "2026-12-25 12:00"), Override: true},
		{Owner: 2, Start: at(t, sh, "2026-12-25 12:00"), End: at(t, sh, "2026-12-26 09:00"), Override: true},
		{Owner: 3, Start: at(t, sh, "2026-12-26 09:00"), End: at(t, sh, "2026-12-28 09:00")},
	}
	if len(tl) != len(want) {
		t.Fatalf("timeline = %+v", tl)
	}
	for i := range want {
		if !tl[i].Start.Equal(want[i].Start) || !tl[i].End.Equal(want[i].End) || tl[i].Owner != want[i].Owner || tl[i].Override != want[i].Override {
			t.Errorf("timeline[%d] = %+v, want %+v", i, tl[i], want[i])
		}
	}
}

func TestHandoffs(t *testing.T) {
	const sh = "Asia/Shanghai"
	r := rotation(t, config.Schedule{OwnerIDs: []int64{1, 2, 3}, Period: "week", Handoff: "09:00", HandoffWeekday: 1,
		Timezone: sh, Start: "2026-12-07"})
	hs := r.Handoffs(at(t, sh, "2026-12-01 00:00"), at(t, sh, "2026-12-21 09:00"))
	if len(hs) != 3 {
		t.Fatalf("handoffs = %+v", hs)
	}
	for i, want := range []struct{ owner, next int64 }{{1, 2}, {2, 3}, {3, 1}} {
		if hs[i].Owner != want.owner || hs[i].Next != want.next || hs[i].Index != i {
			t.Errorf("handoff %d = %+v, want %+v", i, hs[i], want)
		}
	}
	// (after, until]: a handoff exactly at `after` is not repeated.
	if hs := r.Handoffs(at(t, sh, "2026-12-14 09:00"), at(t, sh, "2026-12-14 09:00")); len(hs) != 0 {
		t.Errorf("handoff at after repeated: %+v", hs)
	}
	if hs := r.Handoffs(at(t, sh, "2026-12-14 08:59"), at(t, sh, "2026-12-14 09:00")); len(hs) != 1 || hs[0].Owner != 2 {
		t.Errorf("handoff at until missed: %+v", hs)
	}
}
