package fccost

import (
	"fmt"
	"strings"
	"testing"
)

var small = Size{VCPU: 0.05, MemoryMB: 128, DiskMB: 512}

func yuan(x float64) string { return fmt.Sprintf("%.5f", x) }

// TestCU: calls, active vCPU-seconds and memory GB-seconds at FC 3.0's
// factors; disk only beyond 512 MB.
func TestCU(t *testing.T) {
	h := Hour{Calls: 10000, Active: 100, Alive: 1000}
	// 10,000 calls = 75 CU; 100 s × 0.05 vCPU = 5 CU; 1,000 s × 0.125 GB × 0.15 = 18.75 CU.
	if got, want := small.CU(h), 98.75; fmt.Sprintf("%.4f", got) != fmt.Sprintf("%.4f", want) {
		t.Errorf("CU = %v, want %v", got, want)
	}
	big := Size{VCPU: 0.05, MemoryMB: 128, DiskMB: 10240}
	// plus 1,000 s × 9.5 GB × 0.05 = 475 CU of disk.
	if got, want := big.CU(h), 573.75; fmt.Sprintf("%.4f", got) != fmt.Sprintf("%.4f", want) {
		t.Errorf("CU with a 10 GB disk = %v, want %v", got, want)
	}
}

// TestBill: an hour's CU rounded up at ¥0.00011, at least ¥0.01 when the
// hour has a call, nothing without one.
func TestBill(t *testing.T) {
	cases := []struct {
		name        string
		h           Hour
		usage, bill string
	}{
		{"no call", Hour{}, "0.00000", "0.00000"},
		{"one alert, 1.14 CU rounded up to 2", Hour{Calls: 1, Active: 0.1, Alive: 60.1}, yuan(2 * YuanPerCU), "0.01000"},
		{"98.75 CU rounded up to 99", Hour{Calls: 10000, Active: 100, Alive: 1000}, yuan(99 * YuanPerCU), yuan(99 * YuanPerCU)},
	}
	for _, c := range cases {
		if u, b := yuan(small.Usage(c.h)), yuan(small.Bill(c.h)); u != c.usage || b != c.bill {
			t.Errorf("%s: usage %s bill %s, want %s %s", c.name, u, b, c.usage, c.bill)
		}
	}
}

// TestCasesOnTheSmallestInstance: at 0.05 vCPU and 128 MB the floor is
// nearly the whole bill: a quiet team pays ¥0.01 for each hour with an
// alert, and a busy team, or any timer trigger, ¥0.01 for every hour.
func TestCasesOnTheSmallestInstance(t *testing.T) {
	want := []struct {
		hours       int
		bill, usage string
	}{
		{300, "3.00", "0.07"},
		{720, "7.20", "5.78"},
		{720, "7.20", "5.46"},
		{720, "7.20", "1.19"},
	}
	cases := small.Cases()
	if len(cases) != len(want) {
		t.Fatalf("%d cases, want %d", len(cases), len(want))
	}
	for i, c := range cases {
		bill, usage := small.Month(c)
		if c.Hours != want[i].hours || fmt.Sprintf("%.2f", bill) != want[i].bill || fmt.Sprintf("%.2f", usage) != want[i].usage {
			t.Errorf("%s: %d hours, ¥%.2f (¥%.2f without the floor); want %d, ¥%s (¥%s)", c.EN, c.Hours, bill, usage, want[i].hours, want[i].bill, want[i].usage)
		}
	}
	// 90.9 CU is ¥0.01; the instance's memory for the hour is 67.5 CU,
	// each webhook 0.0075 + 0.107 s × 0.05 vCPU.
	if n := small.FloorUpTo(); n != 1822 {
		t.Errorf("FloorUpTo = %d, want 1822", n)
	}
	// A larger instance pays more than the floor when it lives all hour.
	if b := (Size{VCPU: 0.1, MemoryMB: 256, DiskMB: 512}).Bill(Throughout(Hour{})); b <= HourFloor {
		t.Errorf("256 MB all hour: ¥%v, want above the floor", b)
	}
}

func TestParseSize(t *testing.T) {
	y := "      cpu: 0.05\n      memorySize: 128 # MB\n      diskSize: 512\n"
	s, err := ParseSize(y)
	if err != nil || s != small {
		t.Fatalf("ParseSize = %+v, %v", s, err)
	}
	if got := s.String(); got != "0.05 vCPU, 128 MB memory, 512 MB disk" {
		t.Errorf("String = %q", got)
	}
	for _, bad := range []string{"memorySize: 128\ndiskSize: 512\n", "cpu: 0\nmemorySize: 128\ndiskSize: 512\n", "cpu: 0.05\nmemorySize: 128\n"} {
		if _, err := ParseSize(bad); err == nil {
			t.Errorf("ParseSize(%q) accepted it", bad)
		}
	}
}

// TestTable: the table names the size and every case, in both languages.
func TestTable(t *testing.T) {
	tab := Table(small)
	for _, want := range []string{"0.05 vCPU, 128 MB memory, 512 MB disk", "安静的团队", "a quiet team", "**¥3.00**", "**¥7.20**", "1,822", "lifecycle hooks", "生命周期回调"} {
		if !strings.Contains(tab, want) {
			t.Errorf("the table lacks %q:\n%s", want, tab)
		}
	}
}

// TestTimedRequests: what escalation and the morning summary add in OSS
// requests grows with the issues escalated and the robots summarised, and
// costs cents a month.
func TestTimedRequests(t *testing.T) {
	idle, idleYuan := TimedRequests(0, 0)
	if idle != EscalationRelookPerDay+RequestsPerDayFixed || idleYuan > 0.01 {
		t.Errorf("nothing escalated: %d requests a day, ¥%.4f a month", idle, idleYuan)
	}
	busy, yuan := TimedRequests(20, 3)
	if busy != idle+20*RequestsPerEscalation+3*RequestsPerSummary || yuan <= idleYuan || yuan > 0.1 {
		t.Errorf("20 issues, 3 robots: %d requests a day, ¥%.4f a month", busy, yuan)
	}
}
