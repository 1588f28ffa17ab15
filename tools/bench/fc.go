package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/sentry-white/sentry-white/internal/fccost"
	"github.com/sentry-white/sentry-white/tools/load/report"
)

// Targets on a Function Compute instance (issue 26), at the size deploy/s.yaml sets.
const (
	targetFCColdRatio = 1.1  // cold start to the first answer ÷ the minimal relay's
	targetFCColdMS    = 500  // cold start to the first answer with 1,000 projects
	targetFCBurstMS   = 1000 // every answer of a burst within Sentry's second
	fcLargeProjects   = 1000 // the large document of the FC-shaped runs
)

// minimalName is the load tool's name for the minimal relay.
const minimalName = "minimal"

// fcRow is the medians of one relay's runs with one document on one size.
type fcRow struct {
	relay    string
	projects int
	size     report.FCSize
	runs     []report.FCRun
	coldP50  float64 // ms, over the runs
	coldMax  float64
	coldCPU  float64 // ms, median
	lastP50  float64 // the burst's last answer, ms (-1: one never came)
	lastMax  float64
	within   int // burst answers within 1 s, over all runs
	burst    int // burst webhooks, over all runs
	once     int // webhooks delivered exactly once, over all runs
	hooks    int
	extra    int // messages beyond one
	warm50   float64
	warm99   float64
	cpuHook  float64 // µs per webhook one at a time, median
	rss      float64 // MB, median
	failures []string
}

func fcRowOf(fc *report.FCShaped, relay string, projects int, size report.FCSize) *fcRow {
	runs := fc.Select(relay, projects, size)
	if len(runs) == 0 {
		return nil
	}
	r := &fcRow{relay: relay, projects: projects, size: size, runs: runs}
	var cold, cpu, last, warm, cpuHook, rss []float64
	for i := range runs {
		x := &runs[i]
		if x.Error != "" {
			r.failures = append(r.failures, x.Error)
			continue
		}
		cold = append(cold, x.ColdMS)
		cpu = append(cpu, x.ColdCPUMS)
		l := x.BurstLastMS()
		if l < 0 {
			l = 1e9 // an answer that never came is later than any
		}
		last = append(last, l)
		r.within += x.BurstWithin(targetFCBurstMS)
		r.burst += len(x.BurstMS)
		r.once += x.Once
		r.hooks += x.Hooks
		r.extra += x.Extra
		warm = append(warm, x.WarmMS...)
		cpuHook = append(cpuHook, x.CPUPerHookUS)
		rss = append(rss, mb(x.PeakRSSKB))
	}
	if len(cold) == 0 {
		return r
	}
	c := report.SpreadOf(cold)
	r.coldP50, r.coldMax = c.Median, c.Max
	r.coldCPU = report.SpreadOf(cpu).Median
	l := report.SpreadOf(last)
	r.lastP50, r.lastMax = l.Median, l.Max
	r.warm50, r.warm99 = pct(warm, 50), pct(warm, 99)
	r.cpuHook = report.SpreadOf(cpuHook).Median
	r.rss = report.SpreadOf(rss).Median
	return r
}

// pct is the nearest-rank percentile p of v.
func pct(v []float64, p float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	slices.Sort(s)
	k := int(p/100*float64(len(s))+0.5) - 1
	return s[max(0, min(k, len(s)-1))]
}

// ok reports whether the row's runs all ran.
func (r *fcRow) ok() bool { return r != nil && len(r.failures) == 0 && len(r.runs) > 0 }

// burstOK reports whether every burst answer of every run came within 1 s
// and every webhook was delivered exactly once.
func (r *fcRow) burstOK() bool {
	return r.ok() && r.within == r.burst && r.once == r.hooks && r.extra == 0
}

func sizeName(s report.FCSize) string {
	return fmt.Sprintf("%g vCPU, %d MB", s.VCPU, s.MemoryMB)
}

func fcSize(s report.FCSize) fccost.Size {
	return fccost.Size{VCPU: s.VCPU, MemoryMB: s.MemoryMB, DiskMB: fccost.FreeDiskMB}
}

// fcRelayName is how the tables name a relay of the FC-shaped runs.
func fcRelayName(r *result, relay string) string {
	switch relay {
	case "current":
		return "this relay"
	case minimalName:
		return "the minimal relay"
	}
	return "the relay at " + relay + " (before)"
}

// fcChoice is the cheapest measured size on which the relay's cold start
// with 1,000 projects answers within targetFCColdMS (median) and every
// burst of every run is answered within 1 s, each webhook delivered once.
func fcChoice(fc *report.FCShaped) (report.FCSize, bool) {
	sizes := slices.Clone(fc.Sizes)
	slices.SortFunc(sizes, func(a, b report.FCSize) int {
		ca, cb := fcMonth(a), fcMonth(b)
		switch {
		case ca != cb:
			return cmpFloat(ca, cb)
		case a.VCPU != b.VCPU:
			return cmpFloat(a.VCPU, b.VCPU)
		}
		return a.MemoryMB - b.MemoryMB
	})
	for _, s := range sizes {
		large, small := fcRowOf(fc, "current", fcLargeProjects, s), fcRowOf(fc, "current", smallProjectsFC(fc), s)
		if large.ok() && small.ok() && large.coldP50 < targetFCColdMS && large.burstOK() && small.burstOK() {
			return s, true
		}
	}
	return report.FCSize{}, false
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// fcMonth is what a busy team's month costs on size, the figure sizes are
// ranked by (a quiet team pays the hourly floor on any of them).
func fcMonth(s report.FCSize) float64 {
	z := fcSize(s)
	bill, _ := z.Month(z.Cases()[1])
	return bill
}

// smallProjectsFC is the small document of the FC-shaped runs.
func smallProjectsFC(fc *report.FCShaped) int {
	n := 0
	for _, x := range fc.Runs {
		if x.Projects != fcLargeProjects && (n == 0 || x.Projects < n) {
			n = x.Projects
		}
	}
	return n
}

// fcTargets are the FC rows of the targets table, at the size deploy/s.yaml
// sets; missed lists what stands in the way of each one missed.
func fcTargets(d *doc, r *result) (missed []string) {
	fc := r.Load.FC
	if fc == nil || fc.Skipped != "" {
		return nil
	}
	size := report.FCSize{VCPU: r.Size.VCPU, MemoryMB: r.Size.MemoryMB}
	at := sizeName(size) + ", as deploy/s.yaml sets"
	small := smallProjectsFC(fc)
	for _, n := range []int{small, fcLargeProjects} {
		cur, min := fcRowOf(fc, "current", n, size), fcRowOf(fc, minimalName, n, size)
		if !cur.ok() || !min.ok() {
			d.w("| cold start to the first answer ≤ %.1f× the minimal relay's (%s projects, %s) | not measured at this size | **missed** |\n",
				targetFCColdRatio, num(float64(n)), at)
			missed = append(missed, fmt.Sprintf("**Not measured**: the FC-shaped table has no complete runs of %s with %d projects.", sizeName(size), n))
			continue
		}
		ratio := cur.coldP50 / min.coldP50
		d.w("| cold start to the first answer ≤ %.1f× the minimal relay's (%s projects, %s) | %s ÷ %s ms = **%.2f** (medians of %d) | %s |\n",
			targetFCColdRatio, num(float64(n)), at, ms(cur.coldP50), ms(min.coldP50), ratio, len(cur.runs), yes(ratio <= targetFCColdRatio))
		if ratio > targetFCColdRatio {
			missed = append(missed, fmt.Sprintf("**Cold start against the minimal relay (%s projects)**: %s ms of CPU to the first answer against the minimal relay's %s ms; "+
				"what runs before the first answer and what it costs: [docs/benchmarks.md](docs/benchmarks.md#the-cold-path).", num(float64(n)), ms(cur.coldCPU), ms(min.coldCPU)))
		}
	}
	if large := fcRowOf(fc, "current", fcLargeProjects, size); large.ok() {
		d.w("| cold start to the first answer < %d ms (1,000 projects, %s) | %s ms (median of %d; highest %s) | %s |\n",
			targetFCColdMS, at, ms(large.coldP50), len(large.runs), ms(large.coldMax), yes(large.coldP50 < targetFCColdMS))
		if large.coldP50 >= targetFCColdMS {
			missed = append(missed, fmt.Sprintf("**Cold start with 1,000 projects**: %s ms of CPU before the first answer, %s ms on the clock at %g vCPU "+
				"(a quota of %g ms in every 100 ms); [docs/benchmarks.md](docs/benchmarks.md#the-cold-path) has the profile.", ms(large.coldCPU), ms(large.coldP50), size.VCPU, size.VCPU*100))
		}
	}
	for _, n := range []int{small, fcLargeProjects} {
		row := fcRowOf(fc, "current", n, size)
		if !row.ok() {
			continue
		}
		d.w("| a burst of %d: all answered within 1 s, each delivered once (%s projects, %s) | %s of %s within 1 s (last p50 %s ms, highest %s); %s of %s delivered once | %s |\n",
			fc.Burst, num(float64(n)), at, num(float64(row.within)), num(float64(row.burst)), ms(row.lastP50), ms(row.lastMax),
			num(float64(row.once)), num(float64(row.hooks)), yes(row.burstOK()))
		if !row.burstOK() {
			missed = append(missed, fmt.Sprintf("**Burst (%s projects)**: the relay's CPU for a burst of %d is spent as the profile in "+
				"[docs/benchmarks.md](docs/benchmarks.md#a-burst) shows; at %g vCPU it gets %g ms of CPU in every 100 ms.", num(float64(n)), fc.Burst, size.VCPU, size.VCPU*100))
		}
	}
	return missed
}

// fcSection is the FC-shaped table, the choice of size and its cost.
func fcSection(d *doc, r *result) {
	fc := r.Load.FC
	if fc == nil {
		return
	}
	d.w("## On a Function Compute instance\n\n")
	if fc.Skipped != "" {
		d.w("Not measured in this run: %s. The table needs root and cgroups (v1 or v2); `make bench` as root on Linux makes it.\n\n", fc.Skipped)
		return
	}
	small := smallProjectsFC(fc)
	d.w("Each relay runs as a fresh process in a %s cgroup shaped like an FC instance: a CPU quota per 100 ms period (0.05 vCPU is\n", fc.Cgroup)
	d.w("5 ms of CPU in every 100 ms) and the instance's memory. As on FC it runs in its fc mode, reads its document from the OSS\n")
	d.w("stand-in and posts to the DingTalk stand-in over HTTPS (the system's CA bundle and the stand-ins' certificate), and gets FC's\n")
	d.w("`POST /initialize` before its first request. Each run: exec to the answer of the first webhook, sent as soon as the port\n")
	d.w("accepts (and the CPU the process used until then, from the cgroup's accounting); then a burst of %d distinct legacy\n", fc.Burst)
	d.w("webhooks sent at once, over the %d projects of its document (as a deploy gone wrong); then %d one at a time. "+
		"%d fresh processes\n", smallProjectsFC(fc), fc.Warm, len(fc.Select("current", small, fc.Sizes[0])))
	d.w("per row, the relays taking turns. **The minimal relay** (`tools/load/minrelay`) does only what an alert needs: it reads the\n")
	d.w("document once, decodes the webhook, looks its project up, signs and posts one DingTalk message, and answers; in the same\n")
	d.w("cgroup it is the floor. FC's own start of the sandbox comes on top of every cold start here.\n\n")
	d.w("| instance | document | relay | cold start to the first answer p50 / max ms | CPU until then, ms | burst: last answer p50 / max ms | answered within 1 s | delivered once | one at a time p50 / p99 ms | CPU µs per webhook | peak RSS MB |\n")
	d.w("|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, size := range fc.Sizes {
		for _, n := range []int{small, fcLargeProjects} {
			for _, relay := range fc.Relays {
				row := fcRowOf(fc, relay, n, size)
				if row == nil {
					continue
				}
				if !row.ok() {
					d.w("| %s | %s projects | %s | %d of %d runs failed: %s | | | | | | | |\n", sizeName(size), num(float64(n)), fcRelayName(r, relay),
						len(row.failures), len(row.runs), strings.ReplaceAll(row.failures[0], "|", "/"))
					continue
				}
				last := ms(row.lastP50) + " / " + ms(row.lastMax)
				if row.lastMax >= 1e9 {
					last = "some never"
				}
				d.w("| %s | %s projects | %s | %s / %s | %s | %s | %s of %s | %s of %s | %s / %s | %s | %.1f |\n", sizeName(size), num(float64(n)),
					fcRelayName(r, relay), ms(row.coldP50), ms(row.coldMax), ms(row.coldCPU), last, num(float64(row.within)), num(float64(row.burst)),
					num(float64(row.once)), num(float64(row.hooks)), ms(row.warm50), ms(row.warm99), num(row.cpuHook), row.rss)
			}
		}
	}
	d.w("\nOne at a time, a p99 near 100 ms is a webhook that found the quota of its period spent and waited for the next one.\n\n")

	d.w("### The instance the guide deploys\n\n")
	d.w("The cheapest size on which a cold start with 1,000 projects answers within %d ms (median; FC's own start comes on top,\n", targetFCColdMS)
	d.w("and Sentry waits 1 s) and every burst of %d is answered within 1 s, each webhook delivered once. What each size costs a month\n", fc.Burst)
	d.w("at the mainland prices of %s (`internal/fccost`; the hourly ¥%.2f floor, an instance billed a minute after its last request):\n\n", fccost.Read, fccost.HourFloor)
	cases := fcSize(fc.Sizes[0]).Cases()
	d.w("| instance | cold start, 1,000 projects, p50 ms | bursts within 1 s | %s | %s | %s |\n|---|---|---|---|---|---|\n",
		cases[0].EN, cases[1].EN, cases[2].EN)
	for _, size := range fc.Sizes {
		z := fcSize(size)
		large, smallRow := fcRowOf(fc, "current", fcLargeProjects, size), fcRowOf(fc, "current", small, size)
		cold, bursts := "–", "–"
		if large.ok() {
			cold = ms(large.coldP50)
		}
		if large.ok() && smallRow.ok() {
			bursts = fmt.Sprintf("%s of %s", num(float64(large.within+smallRow.within)), num(float64(large.burst+smallRow.burst)))
		}
		var costs []string
		for _, c := range z.Cases()[:3] {
			bill, _ := z.Month(c)
			costs = append(costs, fmt.Sprintf("¥%.2f", bill))
		}
		d.w("| %s | %s | %s | %s |\n", sizeName(size), cold, bursts, strings.Join(costs, " | "))
	}
	set := report.FCSize{VCPU: r.Size.VCPU, MemoryMB: r.Size.MemoryMB}
	if choice, ok := fcChoice(fc); ok {
		agree := "deploy/s.yaml sets it."
		if choice != set {
			agree = fmt.Sprintf("deploy/s.yaml sets %s.", sizeName(set))
		}
		d.w("\nIn this run that is **%s**; %s\n\n", sizeName(choice), agree)
	} else {
		d.w("\nIn this run no measured size met both; deploy/s.yaml sets %s.\n\n", sizeName(set))
	}
	fcBeforeAfter(d, r, set)
}

// fcBeforeAfter compares the relay before issue 26's changes with this one
// on the size deploy/s.yaml sets.
func fcBeforeAfter(d *doc, r *result, size report.FCSize) {
	fc := r.Load.FC
	if r.FCBeforeRev == "" {
		if r.FCBeforeSkipped != "" {
			d.w("The relay before the changes was not measured in this run: %s.\n\n", r.FCBeforeSkipped)
		}
		return
	}
	small := smallProjectsFC(fc)
	d.w("Before and after, at %s (medians):\n\n| | %s (before) | %s |\n|---|---|---|\n", sizeName(size), r.FCBeforeRev, r.Commit)
	rows := []struct {
		name string
		f    func(row *fcRow) string
	}{
		{"cold start to the first answer, ms", func(x *fcRow) string { return ms(x.coldP50) }},
		{"CPU until then, ms", func(x *fcRow) string { return ms(x.coldCPU) }},
		{"burst of 50: last answer, ms", func(x *fcRow) string { return ms(x.lastP50) }},
		{"burst answers within 1 s", func(x *fcRow) string {
			return fmt.Sprintf("%s of %s", num(float64(x.within)), num(float64(x.burst)))
		}},
		{"CPU µs per webhook one at a time", func(x *fcRow) string { return num(x.cpuHook) }},
	}
	for _, n := range []int{small, fcLargeProjects} {
		b, c := fcRowOf(fc, r.FCBeforeRev, n, size), fcRowOf(fc, "current", n, size)
		if !b.ok() || !c.ok() {
			continue
		}
		for _, row := range rows {
			d.w("| %s (%s projects) | %s | %s |\n", row.name, num(float64(n)), row.f(b), row.f(c))
		}
	}
	d.w("\n")
}
