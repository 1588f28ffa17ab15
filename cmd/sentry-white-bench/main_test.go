package main

import (
	"strings"
	"testing"
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
	r := &result{Commit: "abc1234", Load: &Report{
		Machine:   Machine{CPU: "cpu", Cores: 2, GoVersion: "go1.26", Date: "today"},
		Settings:  Settings{N: 10, Warm: 1, Levels: []int{1, 50}, Projects: 100, Payloads: []string{"legacy"}, SeedProjects: 20},
		Sizes:     &Sizes{ZipBytes: 3 << 20, BootstrapBytes: 8 << 20},
		ColdStart: []ColdStart{{Projects: 20, Runs: 3, MedianMS: 6, IdleRSSKB: 9000}},
		Runs: []Run{
			{System: "relay", Store: "oss", History: true, C: 1, Sent: 10, OK: 10, PerSecond: 2000},
			{System: "relay", Store: "oss", History: true, C: 50, Sent: 10, OK: 10, PerSecond: 6000, PeakRSSKB: 25000},
			{System: "relay", Store: "oss", History: true, C: 50, Rate: 2000, Sent: 10, OK: 10, PerSecond: 2000},
			{System: "seed", Store: "oss", C: 1, Sent: 10, OK: 10, PerSecond: 300, ReadsPerHook: 6},
			{System: "floor", Store: "-", C: 1, Sent: 10, OK: 10, PerSecond: 9000},
		}}, BeforeSkipped: "not asked"}
	md := render(r)
	for _, want := range []string{"## Targets", "## The relay under load", "### Floor", "## Ours against the seed", "## Cold start",
		"## Package", "## Go benchmarks", "## Before and after", "## Reproduce", "6,000/s", "**missed**", "**met**"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if s := readmeSummary(r); !strings.Contains(s, "6,000 webhooks/s") || !strings.Contains(s, "against 6") {
		t.Errorf("summary %q", s)
	}
}
