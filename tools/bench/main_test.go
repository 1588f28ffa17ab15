package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sentry-white/sentry-white/internal/fccost"
	"github.com/sentry-white/sentry-white/tools/load/report"
)

func TestParseBench(t *testing.T) {
	out := []byte(`goos: linux
pkg: github.com/sentry-white/sentry-white/internal/sentry
BenchmarkParse/legacy-2      	    4813	     72843 ns/op	  28.69 MB/s	   13891 B/op	     220 allocs/op
BenchmarkVerifySignature-2              	  141703	      2768 ns/op	 558.43 MB/s	     608 B/op	       8 allocs/op
PASS
pkg: github.com/sentry-white/sentry-white/internal/route
BenchmarkRoute/one_project-2         	 1000000	       409.0 ns/op	     192 B/op	       5 allocs/op
ok  	github.com/sentry-white/sentry-white/internal/route	1.504s
`)
	bs := parseBench(out)
	if len(bs) != 3 {
		t.Fatalf("%d benchmarks: %+v", len(bs), bs)
	}
	if b := bs[0]; b.Pkg != "internal/sentry" || b.Name != "Parse/legacy" || b.N != 4813 || b.NsOp != 72843 || b.MBs != 28.69 ||
		b.BytesOp != 13891 || b.AllocsOp != 220 {
		t.Errorf("first = %+v", b)
	}
	if b := bs[2]; b.Pkg != "internal/route" || b.Name != "Route/one_project" || b.NsOp != 409 || b.MBs != 0 {
		t.Errorf("third = %+v", b)
	}
}

func TestReplaceSection(t *testing.T) {
	doc := "# x\n\n" + readmeStart + "\nold\n" + readmeEnd + "\nafter\n"
	got, ok := replaceSection(doc, "new\n")
	if !ok || got != "# x\n\n"+readmeStart+"\nnew\n"+readmeEnd+"\nafter\n" {
		t.Errorf("got %q", got)
	}
	if _, ok := replaceSection("# no markers", "new"); ok {
		t.Error("replaced without markers")
	}
}

func TestNum(t *testing.T) {
	for in, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -5000: "-5,000"} {
		if got := num(in); got != want {
			t.Errorf("num(%v) = %q, want %q", in, got, want)
		}
	}
}

// TestRender renders a report from a small result without panicking and
// with every section.
func TestRender(t *testing.T) {
	runs := []report.Run{
		{System: report.Direct, Store: "-", C: 50, Round: 1, Sent: 10, OK: 10, PerSecond: 18000, MsgsPerHook: 1},
		{System: report.Relays, Relay: "current", Store: "oss", C: 50, Round: 1, Sent: 10, OK: 10, PerSecond: 6000, MsgsPerHook: 1,
			CPUPerHookUS: 100, PeakRSSKB: 25000},
		{System: report.Relays, Relay: "abc0000", Store: "oss", C: 50, Round: 1, Sent: 10, OK: 10, PerSecond: 3000, MsgsPerHook: 1,
			CPUPerHookUS: 250, PeakRSSKB: 26000},
		{System: report.Direct, Store: "-", C: 1, Round: 1, Sent: 10, OK: 10, PerSecond: 9000, MsgsPerHook: 1},
		{System: report.Relays, Relay: "current", Store: "oss", C: 1, Round: 1, Sent: 10, OK: 10, PerSecond: 2000, MsgsPerHook: 1,
			Overhead: report.Pcts{P50: 0.2}},
		{System: report.Storm, Relay: "current", Store: "oss", C: 50, Round: 1, Sent: 10, OK: 4, Other: map[string]int{"202": 6}},
	}
	r := &result{Commit: "abc1234", BeforeRev: "abc0000", Size: testSize, Load: &report.Report{
		Machine:   report.Machine{CPU: "cpu", Cores: 2, GoVersion: "go1.26", Date: "today"},
		Settings:  report.Settings{N: 10, NSerial: 10, Warm: 1, C: 50, Rounds: 1, Projects: 1000, Payloads: []string{"legacy"}, SmallDocs: 20},
		Relays:    []report.Relay{{Name: "current"}, {Name: "abc0000"}},
		Sizes:     &report.Sizes{ZipBytes: 3 << 20, BootstrapBytes: 8 << 20},
		ColdStart: []report.ColdStart{{Relay: "current", Projects: 20, Runs: 3, MedianMS: 4}, {Relay: "current", Projects: 1000, Runs: 3, MedianMS: 30}},
		Runs:      runs,
		FC:        testFC(),
	}}
	r.FCBeforeRev = "e000000"
	md := render(r)
	for _, want := range []string{"## Targets", "## Side by side", "## One at a time", "## Cost on Function Compute", "## Cold start",
		"## A storm", "## Go benchmarks", "## Before and after", "## Reproduce", "6,000", "**0.33**", "**missed**", "**met**", "0.17", "0.20",
		"## On a Function Compute instance", "| 0.05 vCPU, 128 MB | 1,000 projects | this relay | 900 / 900 |",
		"In this run that is **0.1 vCPU, 128 MB**; deploy/s.yaml sets 0.05 vCPU, 128 MB.",
		"Before and after, at 0.05 vCPU, 128 MB", "= **1.50** (medians of 1) | **missed** |"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if s := readmeSummary(r); !strings.Contains(s, "6,000 webhooks/s") || !strings.Contains(s, "0.33 of what") {
		t.Errorf("summary %q", s)
	}
}

// testFC is an FC-shaped table: the relay answers a cold start with 1,000
// projects in 900 ms at 0.05 vCPU and 400 ms at 0.1, the minimal relay in
// 600 and 300, and every burst within 1 s but one at 0.05.
func testFC() *report.FCShaped {
	fc := &report.FCShaped{Cgroup: "cgroup v1", Burst: 2, Warm: 1, Relays: []string{"current", "e000000", "minimal"},
		Sizes: []report.FCSize{{VCPU: 0.05, MemoryMB: 128}, {VCPU: 0.1, MemoryMB: 128}}}
	for _, size := range fc.Sizes {
		for _, n := range []int{20, 1000} {
			for _, relay := range fc.Relays {
				cold := map[string]float64{"current": 900, "e000000": 1500, "minimal": 600}[relay]
				if size.VCPU == 0.1 {
					cold /= 2.25
				}
				burst := []float64{300, 700}
				if size.VCPU == 0.05 && relay == "current" && n == 20 {
					burst[1] = 1200
				}
				fc.Runs = append(fc.Runs, report.FCRun{Relay: relay, Projects: n, VCPU: size.VCPU, MemoryMB: size.MemoryMB, Round: 1,
					ColdMS: cold, ColdCPUMS: cold / 20, BurstMS: burst, WarmMS: []float64{1, 2}, CPUPerHookUS: 400, Hooks: 4, Once: 4, PeakRSSKB: 20 << 10})
			}
		}
	}
	return fc
}

// TestFCChoice: the cheapest size whose cold start with 1,000 projects is
// under 500 ms and whose bursts all answer within 1 s; none when no size
// does.
func TestFCChoice(t *testing.T) {
	fc := testFC()
	if s, ok := fcChoice(fc); !ok || s != (report.FCSize{VCPU: 0.1, MemoryMB: 128}) {
		t.Errorf("fcChoice = %v, %v; want 0.1 vCPU, 128 MB", s, ok)
	}
	for i := range fc.Runs {
		if fc.Runs[i].Projects == 1000 && fc.Runs[i].Relay == "current" && fc.Runs[i].VCPU == 0.1 {
			fc.Runs[i].Once = 3 // a webhook not delivered
		}
	}
	if s, ok := fcChoice(fc); ok {
		t.Errorf("fcChoice = %v with a webhook lost, want none", s)
	}
}

// testSize is the instance size the tests price.
var testSize = fccost.Size{VCPU: 0.05, MemoryMB: 128, DiskMB: 512}

// TestFCCost: the cost of a million webhooks at 100 µs each on a busy
// 0.05 vCPU, 128 MB instance.
func TestFCCost(t *testing.T) {
	c := fcCostOf(testSize, 100, 100e-6/0.05)
	// 100 CPU-seconds; 2,000 instance seconds; 100 vCPU-s; 250 GB-s;
	// 100 + 37.5 + 7,500 CU; × ¥0.00011.
	if c.cpuS != 100 || c.busyS != 2000 || c.vcpuS != 100 || c.gbS != 250 || c.cu != 7637.5 || fmt.Sprintf("%.6f", c.yuan) != "0.840125" {
		t.Errorf("%+v", c)
	}
}

// TestRerender: measurements saved with -save are written again by -from
// with the instance size given, the rest as measured.
func TestRerender(t *testing.T) {
	dir := t.TempDir()
	r := &result{Commit: "abc1234", Size: testSize, FCBeforeRev: "e000000", Load: &report.Report{
		Machine:  report.Machine{CPU: "cpu", Cores: 2, GoVersion: "go1.26", Date: "today"},
		Settings: report.Settings{N: 10, NSerial: 10, Warm: 1, C: 50, Rounds: 1, Projects: 1000, Payloads: []string{"legacy"}, SmallDocs: 20},
		Relays:   []report.Relay{{Name: "current"}},
		FC:       testFC(),
	}}
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	saved := filepath.Join(dir, "bench.json")
	if err := os.WriteFile(saved, data, 0o644); err != nil {
		t.Fatal(err)
	}
	o := &options{from: saved, out: filepath.Join(dir, "BENCHMARKS.md")}
	if err := rerender(io.Discard, o, fccost.Size{VCPU: 0.1, MemoryMB: 128, DiskMB: 512}); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(o.out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"In this run that is **0.1 vCPU, 128 MB**; deploy/s.yaml sets it.", "| 0.05 vCPU, 128 MB | 1,000 projects | this relay | 900 / 900 |"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("the report written again lacks %q", want)
		}
	}
	if err := rerender(io.Discard, &options{from: filepath.Join(dir, "none.json")}, testSize); err == nil {
		t.Error("a missing file was taken")
	}
}
