package quiet

import (
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
)

func hours(t *testing.T, q config.QuietHours) *Hours {
	t.Helper()
	h, err := New(&q)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func local(t *testing.T, loc, s string) time.Time {
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

func TestWindowAcrossMidnight(t *testing.T) {
	const sh = "Asia/Shanghai"
	// The contract's example: weekdays 22:00–08:00. 2026-12-07 is a Monday.
	h := hours(t, config.QuietHours{Timezone: sh, Mode: "hold", BypassLevel: "fatal",
		Windows: []config.QuietWindow{{Days: []int{1, 2, 3, 4, 5}, From: "22:00", To: "08:00"}}})
	for _, tt := range []struct {
		when  string
		quiet bool
		until string
	}{
		{"2026-12-07 21:59", false, ""},
		{"2026-12-07 22:00", true, "2026-12-08 08:00"},
		{"2026-12-08 03:00", true, "2026-12-08 08:00"},
		{"2026-12-08 08:00", false, ""},
		{"2026-12-11 23:00", true, "2026-12-12 08:00"}, // Friday night belongs to Friday
		{"2026-12-12 23:00", false, ""},                // Saturday has no window
		{"2026-12-14 03:00", false, ""},                // Monday 03:00: Sunday night has none
	} {
		quiet, until := h.At(local(t, sh, tt.when))
		if quiet != tt.quiet || (tt.quiet && !until.Equal(local(t, sh, tt.until))) {
			t.Errorf("At(%s) = %v, %s; want %v, %s", tt.when, quiet, until, tt.quiet, tt.until)
		}
	}
}

func TestDecide(t *testing.T) {
	const sh = "Asia/Shanghai"
	w := []config.QuietWindow{{Days: []int{1, 2, 3, 4, 5, 6, 7}, From: "22:00", To: "08:00"}}
	night := local(t, sh, "2026-12-08 03:00")
	day := local(t, sh, "2026-12-08 12:00")
	hold := hours(t, config.QuietHours{Timezone: sh, BypassLevel: "fatal", Windows: w})
	silent := hours(t, config.QuietHours{Timezone: sh, Mode: "silent", Windows: w})
	for _, tt := range []struct {
		name  string
		h     *Hours
		when  time.Time
		level string
		want  Decision
	}{
		{"held", hold, night, "error", Hold},
		{"bypass", hold, night, "fatal", Deliver},
		{"day", hold, day, "warning", Deliver},
		{"silent", silent, night, "fatal", Silent}, // no bypass level set
		{"none", nil, night, "error", Deliver},
		{"unknown level ranks as error", hold, night, "", Hold},
	} {
		if got, _ := tt.h.Decide(tt.when, tt.level); got != tt.want {
			t.Errorf("%s: Decide = %v, want %v", tt.name, got, tt.want)
		}
	}
	if _, until := hold.Decide(night, "error"); !until.Equal(local(t, sh, "2026-12-08 08:00")) {
		t.Errorf("held until %s", until)
	}
}

func TestTouchingWindowsAndWholeDays(t *testing.T) {
	const sh = "Asia/Shanghai"
	// Weekend all day (24:00 end and from = to), joined to Friday night.
	h := hours(t, config.QuietHours{Timezone: sh, Windows: []config.QuietWindow{
		{Days: []int{5}, From: "20:00", To: "24:00"},
		{Days: []int{6}, From: "00:00", To: "00:00"},
		{Days: []int{7}, From: "00:00", To: "24:00"},
		{Days: []int{1}, From: "00:00", To: "07:00"},
	}})
	quiet, until := h.At(local(t, sh, "2026-12-11 21:00")) // Friday
	if want := local(t, sh, "2026-12-14 07:00"); !quiet || !until.Equal(want) {
		t.Errorf("Friday night: %v until %s, want until %s", quiet, until, want)
	}
	// Every day, all day: quiet, and the end is at most a week away.
	h = hours(t, config.QuietHours{Timezone: sh, Windows: []config.QuietWindow{{Days: []int{1, 2, 3, 4, 5, 6, 7}, From: "00:00", To: "00:00"}}})
	quiet, until = h.At(local(t, sh, "2026-12-08 12:00"))
	if !quiet || until.Sub(local(t, sh, "2026-12-08 12:00")) > 10*24*time.Hour {
		t.Errorf("always quiet: %v until %s", quiet, until)
	}
}

func TestDaylightSaving(t *testing.T) {
	// Berlin: summer time ends 2026-10-25 03:00 → 02:00. A 22:00–08:00
	// window that night lasts 11 hours and still ends at 08:00 local.
	const be = "Europe/Berlin"
	h := hours(t, config.QuietHours{Timezone: be, Windows: []config.QuietWindow{{Days: []int{6}, From: "22:00", To: "08:00"}}})
	start := local(t, be, "2026-10-24 22:00")
	quiet, until := h.At(start)
	if !quiet || !until.Equal(local(t, be, "2026-10-25 08:00")) || until.Sub(start) != 11*time.Hour {
		t.Errorf("fall back: %v until %s (%s)", quiet, until, until.Sub(start))
	}
	// Spring forward (2026-03-29 02:00 → 03:00): a window starting at 02:30
	// starts when the clocks jump.
	h = hours(t, config.QuietHours{Timezone: be, Windows: []config.QuietWindow{{Days: []int{7}, From: "02:30", To: "06:00"}}})
	if quiet, _ := h.At(local(t, be, "2026-03-29 01:59")); quiet {
		t.Error("quiet before the skipped start")
	}
	if quiet, _ := h.At(local(t, be, "2026-03-29 03:00")); !quiet {
		t.Error("not quiet after the jump")
	}
}
