package main

import (
	"fmt"
	"strings"

	"github.com/sentry-white/sentry-white/internal/fccost"
	"github.com/sentry-white/sentry-white/tools/load/report"
)

// Targets of issue 18, and of issue 6 still held.
const (
	targetRatio       = 0.25 // relay ÷ direct-to-robot throughput at concurrency 50
	targetCPUUS       = 120  // relay CPU per webhook at concurrency 50
	targetOneP50MS    = 0.25 // one at a time: answer overhead p50
	targetRSSMB       = 20   // peak RSS at concurrency 50
	targetColdSmallMS = 5    // cold start, a typical team's document
	targetColdLargeMS = 20   // cold start, the 1,000+ project document
	targetZipMB       = 8
)

// doc is the Markdown being written.
type doc struct{ strings.Builder }

func (d *doc) w(format string, a ...any) { fmt.Fprintf(&d.Builder, format, a...) }

// system is the medians of one system's runs: the direct baseline, the
// current relay or the baseline relay.
type system struct {
	name    string
	runs    []report.Run // at concurrency C
	one     []report.Run // one at a time
	perS    report.Spread
	p50     report.Spread
	p99     report.Spread
	msgs    report.Spread
	cpu     report.Spread
	rss     report.Spread // peak RSS, MB
	anon    report.Spread
	reads   report.Spread
	onePerS report.Spread
	oneP50  report.Spread // answer latency
	oneOver report.Spread // overhead p50
	oneP99  report.Spread // overhead p99
	oneTo   report.Spread
	oneFrom report.Spread
	oneCPU  report.Spread
}

func systemOf(L *report.Report, name, kind, relay string) *system {
	s := &system{name: name, runs: L.Select(kind, relay, L.Settings.C), one: L.Select(kind, relay, 1)}
	if len(s.runs) == 0 {
		return nil
	}
	s.perS = report.Of(s.runs, func(x *report.Run) float64 { return x.PerSecond })
	s.p50 = report.Of(s.runs, func(x *report.Run) float64 { return x.Latency.P50 })
	s.p99 = report.Of(s.runs, func(x *report.Run) float64 { return x.Latency.P99 })
	s.msgs = report.Of(s.runs, func(x *report.Run) float64 { return x.MsgsPerHook })
	s.cpu = report.Of(s.runs, func(x *report.Run) float64 { return x.CPUPerHookUS })
	s.rss = report.Of(s.runs, func(x *report.Run) float64 { return mb(x.PeakRSSKB) })
	s.anon = report.Of(s.runs, func(x *report.Run) float64 { return mb(x.MaxAnonKB) })
	s.reads = report.Of(s.runs, func(x *report.Run) float64 { return x.ReadsPerHook })
	s.onePerS = report.Of(s.one, func(x *report.Run) float64 { return x.PerSecond })
	s.oneP50 = report.Of(s.one, func(x *report.Run) float64 { return x.Latency.P50 })
	s.oneOver = report.Of(s.one, func(x *report.Run) float64 { return x.Overhead.P50 })
	s.oneP99 = report.Of(s.one, func(x *report.Run) float64 { return x.Overhead.P99 })
	s.oneTo = report.Of(s.one, func(x *report.Run) float64 { return x.ToRobot.P50 })
	s.oneFrom = report.Of(s.one, func(x *report.Run) float64 { return x.FromRobot.P50 })
	s.oneCPU = report.Of(s.one, func(x *report.Run) float64 { return x.CPUPerHookUS })
	return s
}

// systems are the three columns the report compares.
type systems struct {
	direct, cur, base *system
}

func systemsOf(r *result) systems {
	L := r.Load
	s := systems{direct: systemOf(L, "direct to the stand-in", report.Direct, ""),
		cur: systemOf(L, "this relay at "+r.commit(), report.Relays, "current")}
	if r.BeforeRev != "" {
		s.base = systemOf(L, "the relay at "+r.BeforeRev+" (before)", report.Relays, r.BeforeRev)
	}
	return s
}

func (r *result) commit() string {
	if r.Dirty {
		return r.Commit + " (with uncommitted changes)"
	}
	return r.Commit
}

// floorName is the load tool's name for the floor of the cold starts.
const floorName = "floor"

func mb(kb int64) float64 { return float64(kb) / 1024 }

func yes(ok bool) string {
	if ok {
		return "**met**"
	}
	return "**missed**"
}

// num formats n with thousands separators.
func num(n float64) string {
	s := fmt.Sprintf("%.0f", n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func ms(v float64) string {
	switch {
	case v < 10:
		return fmt.Sprintf("%.2f", v)
	case v < 100:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.0f", v)
}

// spread formats a median with its range over the rounds, each figure
// formatted by f.
func spread(s report.Spread, f func(float64) string) string {
	if s.N < 2 {
		return f(s.Median)
	}
	return fmt.Sprintf("%s <sub>%s–%s</sub>", f(s.Median), f(s.Min), f(s.Max))
}

func mb1(v float64) string { return fmt.Sprintf("%.1f", v) }
func x2(v float64) string  { return fmt.Sprintf("%.2f", v) }

func render(r *result) string {
	d := &doc{}
	s := systemsOf(r)
	header(d, r)
	targets(d, r, s)
	peers(d, r, s)
	oneAtATime(d, r, s)
	cost(d, r, s)
	coldStarts(d, r)
	fcSection(d, r)
	storm(d, r)
	goBenchmarks(d, r)
	changeLog(d, r, s)
	reproduce(d)
	return d.String()
}

func header(d *doc, r *result) {
	L, m := r.Load, r.Load.Machine
	d.w("# Benchmarks\n\n")
	d.w("<!-- Generated by `make bench` (tools/bench). Do not edit: every number below comes from the run, except the table of changes, which is measured when each change is made. -->\n\n")
	d.w("Measured %s at commit %s on %s, %d cores, %s, %s. Load average before the run %s, after %s. `make bench` took %s.\n",
		m.Date, r.commit(), m.CPU, m.Cores, m.GoVersion, m.OS, m.Load, m.LoadAfter, r.Took.Round(1e9))
	d.w("Everything runs on loopback on this one machine: the load client, the relay (exec'd, the FC bootstrap itself),\n")
	d.w("the DingTalk stand-in answering at once and the OSS server (gofakes3) share its %d cores, and other work on the\n", m.Cores)
	d.w("machine shares them too. Each run is repeated %d times, the systems taking turns; tables give the median and, in small\n", L.Settings.Rounds)
	d.w("type, the lowest and highest of the rounds. How the numbers are taken and how to read them: [docs/benchmarks.md](docs/benchmarks.md).\n\n")
}

func targets(d *doc, r *result, s systems) {
	if s.cur == nil {
		return
	}
	d.w("## Targets\n\nMedians of the rounds; the range shows the noise.\n\n| target | measured | |\n|---|---|---|\n")
	c := s.cur
	if s.direct != nil {
		ratio := c.perS.Median / s.direct.perS.Median
		d.w("| relay ÷ direct-to-robot throughput ≥ %.2f at concurrency %d | %s ÷ %s webhooks/s = **%.2f** (rounds: %s) | %s |\n",
			targetRatio, r.Load.Settings.C, num(c.perS.Median), num(s.direct.perS.Median), ratio, roundRatios(c, s.direct), yes(ratio >= targetRatio))
	}
	d.w("| relay CPU ≤ %d µs per webhook at concurrency %d | %s µs | %s |\n", targetCPUUS, r.Load.Settings.C,
		spread(c.cpu, num), yes(c.cpu.Median <= targetCPUUS))
	if len(c.one) > 0 {
		d.w("| one at a time: answer overhead p50 ≤ %.2f ms | %s ms | %s |\n", targetOneP50MS, spread(c.oneOver, x2),
			yes(c.oneOver.Median <= targetOneP50MS))
	}
	d.w("| peak RSS ≤ %d MB at concurrency %d | %s MB (VmHWM; highest round %.1f) | %s |\n", targetRSSMB, r.Load.Settings.C,
		spread(c.rss, mb1), c.rss.Max, yes(c.rss.Median <= targetRSSMB))
	if cs := r.Load.Cold("current"); len(cs) == 2 {
		d.w("| cold start to the first answer ≤ %d ms (%d projects) | %s ms (median of %d) | %s |\n", targetColdSmallMS, cs[0].Projects,
			ms(cs[0].MedianMS), cs[0].Runs, yes(cs[0].MedianMS <= targetColdSmallMS))
		d.w("| cold start to the first answer ≤ %d ms (%s projects) | %s ms (median of %d) | %s |\n", targetColdLargeMS,
			num(float64(cs[1].Projects)), ms(cs[1].MedianMS), cs[1].Runs, yes(cs[1].MedianMS <= targetColdLargeMS))
	}
	refused := report.Of(c.runs, func(x *report.Run) float64 { return float64(x.Refused) })
	d.w("| the stand-in's messages per webhook = 1.00 | %s (messages it refused: %s) | %s |\n", spread(c.msgs, x2), num(refused.Max),
		yes(c.msgs.Min == 1 && c.msgs.Max == 1 && refused.Max == 0))
	d.w("| 0 store reads per webhook in the steady state | %s per webhook (one revalidation per 10 s cache window) | %s |\n",
		fmt.Sprintf("%.5f", c.reads.Median), yes(c.reads.Max < 0.001))
	if z := r.Load.Sizes; z != nil {
		zm := float64(z.ZipBytes) / (1 << 20)
		d.w("| FC zip ≤ %d MB | %.2f MB (bootstrap %.2f MB unpacked) | %s |\n", targetZipMB, zm, float64(z.BootstrapBytes)/(1<<20), yes(zm <= targetZipMB))
	}
	fcMissed := fcTargets(d, r)
	d.w("\n")
	missed(d, r, s, fcMissed)
}

// missed says, for each target this run missed, what the profile shows
// stands in the way (docs/benchmarks.md#what-is-left has the profile).
func missed(d *doc, r *result, s systems, more []string) {
	c := s.cur
	var why []string
	if c.cpu.Median > targetCPUUS || s.direct != nil && c.perS.Median/s.direct.perS.Median < targetRatio {
		why = append(why, fmt.Sprintf("**CPU per webhook and relay ÷ direct**: in the profile of the relay under this load about half of "+
			"its CPU is net/http's server and client and their four socket system calls per webhook (read the webhook, write its "+
			"answer, write the robot request, read its answer), which any relay on net/http pays; the direct run pays one hop of the "+
			"two. The relay's own work (parse, route, render, sign, record, log) is what the changes below cut."))
	}
	if len(c.one) > 0 && c.oneOver.Median > targetOneP50MS {
		why = append(why, fmt.Sprintf("**One at a time**: %s ms to the robot and %s ms after its answer (p50); the direct run's one hop "+
			"costs %s ms here. Each hop wakes the relay from its network poller and hands the webhook between goroutines; on this "+
			"virtual machine a thread's wake-up and a system call cost several microseconds each.",
			ms(c.oneTo.Median), ms(c.oneFrom.Median), ms(oneOver(s.direct))))
	}
	if cs := r.Load.Cold("current"); len(cs) == 2 && (cs[0].MedianMS > targetColdSmallMS || cs[1].MedianMS > targetColdLargeMS) {
		floor := "not measured"
		if f := r.Load.Cold(floorName); len(f) > 0 {
			floor = ms(f[0].MedianMS) + " ms"
		}
		why = append(why, fmt.Sprintf("**Cold start**: the floor on this machine — exec and one answer of an empty Go HTTP server — is %s; "+
			"the relay adds reading its document from OSS, parsing, validating and indexing it (%s ms with %d projects, %s ms with %s).",
			floor, ms(cs[0].MedianMS), cs[0].Projects, ms(cs[1].MedianMS), num(float64(cs[1].Projects))))
	}
	if c.rss.Median > targetRSSMB {
		why = append(why, fmt.Sprintf("**Peak RSS**: %.1f MB of it is the executable's own pages (%.1f MB peak, %.1f MB anonymous: heap, stacks, "+
			"runtime); the heap the garbage collector allows is twice the live heap, which holds the %s-project document, the "+
			"duplicate filter's keys and 50 connections' buffers.", c.rss.Median-c.anon.Median, c.rss.Median, c.anon.Median,
			num(float64(r.Load.Settings.Projects))))
	}
	why = append(why, more...)
	if len(why) == 0 {
		return
	}
	d.w("Targets missed in this run, and what stands in the way ([docs/benchmarks.md](docs/benchmarks.md#what-is-left) has the profile):\n\n")
	for _, w := range why {
		d.w("- %s\n", w)
	}
	d.w("\n")
}

func oneOver(s *system) float64 {
	if s == nil {
		return 0
	}
	return s.oneOver.Median
}

// roundRatios lists relay ÷ direct round by round.
func roundRatios(c, direct *system) string {
	var out []string
	for i := range min(len(c.runs), len(direct.runs)) {
		out = append(out, fmt.Sprintf("%.2f", c.runs[i].PerSecond/direct.runs[i].PerSecond))
	}
	return strings.Join(out, ", ")
}

func peers(d *doc, r *result, s systems) {
	L := r.Load
	d.w("## Side by side at concurrency %d\n\n", L.Settings.C)
	d.w("%s webhooks per run after %s warm-up ones, each distinct (its own issue and event id, never repeated across runs:\n",
		num(float64(L.Settings.N)), num(float64(L.Settings.Warm)))
	d.w("ids %d to %d in this invocation), a round-robin of %s payloads spread over %s projects with a signed\n",
		L.Settings.FirstID, L.Settings.LastID, strings.Join(L.Settings.Payloads, ", "), num(float64(L.Settings.Projects)))
	d.w("DingTalk robot each (%s KB document, OSS store), so neither the duplicate filter nor a rate limit shortcuts the work.\n",
		num(float64(L.Settings.DocBytes)/1024))
	d.w("The same client at the same concurrency posts the webhooks to the relay, which posts one message per webhook to the\n")
	d.w("stand-in, and — the ceiling — each webhook's robot message (the one the relay makes of it, signed) straight to the stand-in.\n")
	d.w("A fresh relay process per run, with its defaults (delivery history on, spool on).\n\n")
	d.w("| | webhooks/s | ÷ direct | latency p50 ms | p99 ms | the stand-in's messages per webhook | relay CPU µs per webhook | peak RSS MB (anonymous) | robot connections opened |\n")
	d.w("|---|---|---|---|---|---|---|---|---|\n")
	for _, x := range []*system{s.direct, s.cur, s.base} {
		if x == nil {
			continue
		}
		ratio, cpu, rss := "1", "–", "–"
		if x != s.direct && s.direct != nil {
			ratio = fmt.Sprintf("%.2f", x.perS.Median/s.direct.perS.Median)
		}
		if x != s.direct {
			cpu = spread(x.cpu, num)
			rss = fmt.Sprintf("%s (%.1f)", spread(x.rss, mb1), x.anon.Median)
		}
		conns := report.Of(x.runs, func(r *report.Run) float64 { return float64(r.RobotConns) })
		d.w("| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", x.name, spread(x.perS, num), ratio, spread(x.p50, ms), spread(x.p99, ms),
			spread(x.msgs, x2), cpu, rss, num(conns.Median))
	}
	noise(d, r, s)
	d.w("\nAt concurrency %d the client keeps %d webhooks in flight, so by Little's law the mean answer time is %d ÷ throughput\n",
		L.Settings.C, L.Settings.C, L.Settings.C)
	d.w("whatever the relay does: the latencies measure the queue for the %d shared cores. Throughput and CPU per webhook are what\n", L.Machine.Cores)
	d.w("the relay's work decides. CPU is the relay process's user + system time during the run divided by its webhooks; peak RSS\n")
	d.w("is its VmHWM at the end of the run, and in brackets the anonymous part (heap, stacks, runtime) at the highest sampled RSS,\n")
	d.w("the rest being the executable's own pages.\n\n")
}

// noise says how far the rounds strayed from their medians, and how many
// log lines the relays wrote per webhook.
func noise(d *doc, r *result, s systems) {
	var parts []string
	for _, x := range []*system{s.direct, s.cur, s.base} {
		if x == nil || x.perS.N < 2 {
			continue
		}
		p := fmt.Sprintf("%s ±%.0f %% in throughput", x.name, x.perS.RelPct())
		if x != s.direct {
			p += fmt.Sprintf(" and ±%.0f %% in CPU per webhook", x.cpu.RelPct())
		}
		parts = append(parts, p)
	}
	if len(parts) > 0 {
		d.w("\nNoise, how far the rounds strayed from their medians: %s.", strings.Join(parts, "; "))
	}
	var lines []string
	for _, x := range []*system{s.cur, s.base} {
		if x == nil {
			continue
		}
		warm := r.Load.Settings.Warm
		per := report.Of(x.runs, func(r *report.Run) float64 { return float64(r.LogLines) / float64(max(1, r.Sent+warm)) })
		lines = append(lines, fmt.Sprintf("%s %.2f", x.name, per.Median))
	}
	if len(lines) > 0 {
		d.w(" Log lines per webhook (warm-up included, with the few lines of start and stop): %s.", strings.Join(lines, ", "))
	}
	d.w("\n")
}

func oneAtATime(d *doc, r *result, s systems) {
	if s.cur == nil || len(s.cur.one) == 0 {
		return
	}
	d.w("## One at a time\n\n%s webhooks per run, one in flight: what one webhook costs in time when nothing queues.\n",
		num(float64(r.Load.Settings.NSerial)))
	d.w("Overhead is each webhook's answer time minus the time the stand-in held its robot request: the two loopback HTTP\n")
	d.w("hops (Sentry to the relay, the relay to the robot) and the relay's work. For the direct run it is the one hop.\n\n")
	d.w("| | webhooks/s | latency p50 ms | overhead p50 ms | overhead p99 ms | to the robot / after its answer, p50 ms | relay CPU µs per webhook |\n|---|---|---|---|---|---|---|\n")
	for _, x := range []*system{s.direct, s.cur, s.base} {
		if x == nil || len(x.one) == 0 {
			continue
		}
		cpu, split := "–", "–"
		if x != s.direct {
			cpu = spread(x.oneCPU, num)
			split = ms(x.oneTo.Median) + " / " + ms(x.oneFrom.Median)
		}
		d.w("| %s | %s | %s | %s | %s | %s | %s |\n", x.name, spread(x.onePerS, num), spread(x.oneP50, ms), spread(x.oneOver, ms),
			spread(x.oneP99, ms), split, cpu)
	}
	d.w("\n\"To the robot\" runs from sending the webhook to its robot request arriving at the stand-in (the hop to the relay, read,\n")
	d.w("parse, route, render, sign, the hop to the robot); \"after its answer\" from the stand-in's answer to the webhook's answer\n")
	d.w("(the relay reads the robot's answer, records the delivery, answers).\n\n")
}

// robotWaitExample is an assumed robot answer time for the one-at-a-time
// example (the stand-in answers at once).
const robotWaitExample = fccost.RobotSeconds

// fcCost is what a million webhooks cost on the instance deploy/s.yaml
// sets when each takes cpuUS of CPU and the instance is billed for busyS
// seconds of wall time per webhook: CU and yuan at the list price, before
// the hourly rounding and floor.
type fcCost struct {
	cpuS, busyS, vcpuS, gbS, cu, yuan float64
}

func fcCostOf(z fccost.Size, cpuUS, busyS float64) fcCost {
	const million = 1e6
	h := fccost.Hour{Calls: million, Active: busyS * million, Alive: busyS * million}
	c := fcCost{cpuS: cpuUS, busyS: h.Active, vcpuS: h.Active * z.VCPU, gbS: h.Alive * float64(z.MemoryMB) / 1024, cu: z.CU(h)}
	c.yuan = c.cu * fccost.YuanPerCU
	return c
}

// cost prices the measured CPU on Function Compute for an account on the
// mainland China site, in yuan (internal/fccost: prices, rules, sources).
func cost(d *doc, r *result, s systems) {
	if s.cur == nil {
		return
	}
	z := r.Size
	d.w("## Cost on Function Compute\n\n")
	d.w("In yuan, for an account on Aliyun's mainland China site, on the instance deploy/s.yaml sets (%s), at FC 3.0's prices\n", z)
	d.w("read on %s: ¥%g per compute unit (CU, tier 1, list price; the ¥0.000088 discount ended on %s), %g CU per active\n",
		fccost.Read, fccost.YuanPerCU, fccost.DiscountEnded, fccost.CUPerVCPUSecond)
	d.w("vCPU-second, %g per GB-second of memory, %g per 10,000 invocations ([billing overview](%s), [CU factors](%s)).\n",
		fccost.CUPerGBSecond, fccost.CUPerCall*10000, fccost.BillingURL, fccost.FactorsURL)
	d.w("Since %s each function's CU are added up per hour and rounded up, an hour with a call costs at least ¥%.2f, and an instance\n", fccost.FloorSince, fccost.HourFloor)
	d.w("is billed for a minute after its last request ([the change](%s)). What a quiet and a busy team pay in a month, with the\n", fccost.ChangeURL)
	d.w("lifecycle hooks, the trial allowance and a timer trigger: the README's deploy guide, \"Costs\".\n\n")
	d.w("**Busy instance** (webhooks keep it working; CPU per webhook from the concurrency-%d runs): a %g vCPU instance takes\n", r.Load.Settings.C, z.VCPU)
	d.w("%g seconds of wall time per CPU-second, and FC bills vCPU and memory for that time.\n\n", 1/z.VCPU)
	d.w("| | CPU-seconds | instance seconds | vCPU-seconds | GB-seconds | CU (of which invocations) | yuan per million webhooks |\n|---|---|---|---|---|---|---|\n")
	for _, x := range []*system{s.cur, s.base} {
		if x == nil {
			continue
		}
		c := fcCostOf(z, x.cpu.Median, x.cpu.Median/1e6/z.VCPU)
		d.w("| %s | %s | %s | %s | %s | %s (%s) | %.2f |\n", x.name, num(c.cpuS), num(c.busyS), num(c.vcpuS), num(c.gbS), num(c.cu), num(1e6*fccost.CUPerCall), c.yuan)
	}
	hours := 24.0 * fccost.DaysInMonth
	perHour := 1e6 / hours
	h := fccost.Throughout(fccost.Hour{Calls: perHour, Active: perHour * s.cur.cpu.Median / 1e6 / z.VCPU})
	d.w("\nSpread over a %d-day month a million webhooks are %s an hour, so the instance lives throughout every hour: its memory\n", fccost.DaysInMonth, num(perHour))
	d.w("alone is %s CU an hour, the hour's usage %s CU, ¥%.4f, billed ¥%.2f with the floor: ¥%.2f a month.\n",
		num(z.CU(fccost.Throughout(fccost.Hour{}))), num(z.CU(h)), z.Usage(h), z.Bill(h), hours*z.Bill(h))
	if len(s.cur.one) > 0 {
		c := fcCostOf(z, s.cur.oneCPU.Median, s.cur.oneCPU.Median/1e6/z.VCPU+robotWaitExample)
		d.w("\n**One at a time** (a quiet team): each invocation is billed from its start to its answer, which includes the wait for the\n")
		d.w("robot. With the relay's one-at-a-time CPU (%s µs, %s ms of wall time on %g vCPU) and a robot answering in %.0f ms\n",
			num(s.cur.oneCPU.Median), ms(s.cur.oneCPU.Median/1e3/z.VCPU), z.VCPU, robotWaitExample*1000)
		d.w("(an assumption, not measured here): %s instance seconds, %s vCPU-seconds, %s GB-seconds, %s CU, ¥%.2f per million.\n",
			num(c.busyS), num(c.vcpuS), num(c.gbS), num(c.cu), c.yuan)
		q := z.Cases()[0].Hour // an alert alone in its hour, its instance's start and minute included
		d.w("A quiet team's alerts come in hours of their own, though, and each such hour costs the ¥%.2f floor: its own use, the\n", fccost.HourFloor)
		d.w("instance's start and the minute after included, is %.1f CU, ¥%.5f once rounded up.\n\n", z.CU(q), z.Usage(q))
	}
}

func coldStarts(d *doc, r *result) {
	L := r.Load
	d.w("## Cold start\n\nFrom exec of the bootstrap to the first 200 answer on `GET /` (a fresh connection), on the OSS store; RSS right after.\n")
	d.w("The floor is the smallest Go HTTP server answering `GET /`, started the same way: what exec and the Go runtime cost on this machine.\n\n")
	d.w("| | document | runs | median ms | min ms | max ms | idle RSS MB |\n|---|---|---|---|---|---|---|\n")
	for _, c := range L.Cold(floorName) {
		d.w("| the floor: an empty Go HTTP server | – | %d | %s | %s | %s | %.1f |\n", c.Runs, ms(c.MedianMS), ms(c.MinMS), ms(c.MaxMS), mb(c.IdleRSSKB))
	}
	for _, rl := range L.Relays {
		name := "this relay"
		if rl.Name != "current" {
			name = "the relay at " + rl.Name + " (before)"
		}
		for _, c := range L.Cold(rl.Name) {
			d.w("| %s | %s projects (%s KB) | %d | %s | %s | %s | %.1f |\n", name, num(float64(c.Projects)), num(float64(c.DocBytes)/1024),
				c.Runs, ms(c.MedianMS), ms(c.MinMS), ms(c.MaxMS), mb(c.IdleRSSKB))
		}
	}
	d.w("\n")
	if z := L.Sizes; z != nil {
		d.w("The FC zip is %s bytes (%.2f MB); its bootstrap %s bytes unpacked (%.2f MB).\n\n", num(float64(z.ZipBytes)), float64(z.ZipBytes)/(1<<20),
			num(float64(z.BootstrapBytes)), float64(z.BootstrapBytes)/(1<<20))
	}
}

func storm(d *doc, r *result) {
	L := r.Load
	for _, x := range L.Runs {
		if x.System != report.Storm {
			continue
		}
		d.w("## A storm on a typical team\n\n")
		d.w("%s webhooks at concurrency %d to the %d-project document (one robot each). Each robot takes 20 messages a\n", num(float64(x.Sent)), x.C, L.Settings.SmallDocs)
		d.w("minute, so after the first ones the relay answers 202, spools each alert (one synced file) and keeps it queued for a\n")
		d.w("digest when the robot's budget allows; what is still queued when the relay stops stays in the spool.\n\n")
		d.w("| webhooks | per s | latency p50 / p99 ms | answered 200 / 202 | robot messages during the run | left in the spool | CPU µs per webhook | peak RSS MB (anonymous) |\n|---|---|---|---|---|---|---|---|\n")
		d.w("| %s | %s | %s / %s | %s / %s | %s | %s | %s | %.1f (%.1f) |\n\n", num(float64(x.Sent)), num(x.PerSecond), ms(x.Latency.P50), ms(x.Latency.P99),
			num(float64(x.OK)), num(float64(x.Other["202"])), num(float64(x.Messages)), num(float64(x.Spooled)), num(x.CPUPerHookUS), mb(x.PeakRSSKB), mb(x.MaxAnonKB))
	}
}

func goBenchmarks(d *doc, r *result) {
	d.w("## Go benchmarks\n\n`go test -run '^$' -bench . -benchmem` on %s. `Handler/*` is one webhook through the whole handler\n", strings.Join(benchPkgs, ", "))
	d.w("(token, parse, route, render, the signed DingTalk request and its answer, the JSON answer, the log line and the delivery\n")
	d.w("record): `memory` answers robot requests in process, `loopback` over HTTP; its allocations are per webhook and include the\n")
	d.w("test's own request. `HandlerParallel` keeps 50 webhooks in flight.\n\n")
	before := map[string]goBenchmark{}
	for _, x := range r.BeforeGo {
		before[x.Pkg+" "+x.Name] = x
	}
	d.w("| package | benchmark | ns/op | MB/s | B/op | allocs/op |")
	if len(before) > 0 {
		d.w(" ns/op at %s | allocs/op at %s |\n|---|---|---|---|---|---|---|---|\n", r.BeforeRev, r.BeforeRev)
	} else {
		d.w("\n|---|---|---|---|---|---|\n")
	}
	for _, x := range r.Go {
		mbs := ""
		if x.MBs > 0 {
			mbs = fmt.Sprintf("%.1f", x.MBs)
		}
		d.w("| %s | %s | %s | %s | %s | %s |", strings.TrimPrefix(x.Pkg, "internal/"), x.Name, num(x.NsOp), mbs, num(x.BytesOp), num(x.AllocsOp))
		if len(before) > 0 {
			if o, ok := before[x.Pkg+" "+x.Name]; ok {
				d.w(" %s | %s |", num(o.NsOp), num(o.AllocsOp))
			} else {
				d.w(" | |")
			}
		}
		d.w("\n")
	}
	d.w("\n")
}

func changeLog(d *doc, r *result, s systems) {
	d.w("## Before and after\n\n")
	if s.base == nil || s.cur == nil {
		d.w("The baseline was not measured in this run: %s.\n\n", r.BeforeSkipped)
	} else {
		d.w("The relay at %s (as issue 18 measured it) against this commit, measured in this run as above (medians).\n\n", r.BeforeRev)
		d.w("| | %s | %s |\n|---|---|---|\n", r.BeforeRev, r.Commit)
		row := func(name string, f func(*system) string) { d.w("| %s | %s | %s |\n", name, f(s.base), f(s.cur)) }
		row("relay ÷ direct throughput", func(x *system) string {
			if s.direct == nil {
				return "–"
			}
			return fmt.Sprintf("%.2f", x.perS.Median/s.direct.perS.Median)
		})
		row("webhooks/s", func(x *system) string { return num(x.perS.Median) })
		row("CPU µs per webhook", func(x *system) string { return num(x.cpu.Median) })
		row("latency p99 ms", func(x *system) string { return ms(x.p99.Median) })
		row("peak RSS MB", func(x *system) string { return mb1(x.rss.Median) })
		row("one at a time: overhead p50 ms", func(x *system) string { return ms(x.oneOver.Median) })
		row("cold start ms (20 / 1,000+ projects)", func(x *system) string {
			name := "current"
			if x == s.base {
				name = r.BeforeRev
			}
			var v []string
			for _, c := range r.Load.Cold(name) {
				v = append(v, ms(c.MedianMS))
			}
			return strings.Join(v, " / ")
		})
		row("allocations per webhook (Handler/legacy/memory)", func(x *system) string {
			bs := r.Go
			if x == s.base {
				bs = r.BeforeGo
			}
			for _, b := range bs {
				if b.Name == "Handler/legacy/memory" {
					return num(b.AllocsOp)
				}
			}
			return "–"
		})
		d.w("\n")
	}
	d.w("### Each change\n\nWhat the profile of the relay under this load showed, what changed, and the figures before and after.\n")
	d.w("%s More in [docs/benchmarks.md](docs/benchmarks.md#what-the-profiles-showed).\n\n", changesMeasured)
	d.w("| commit | the profile showed | change | before → after |\n|---|---|---|---|\n")
	for _, c := range changes {
		d.w("| %s | %s | %s | %s |\n", c.Commit, c.Finding, c.Fix, c.Figures)
	}
	d.w("\n")
}

func reproduce(d *doc) {
	d.w("## Reproduce\n\n```sh\n")
	d.w("make bench                                    # this file and the README's section, about 12 minutes (root for the FC table)\n")
	d.w("go run ./tools/load                           # the load tool alone, text report\n")
	d.w("go run ./tools/load -rounds 1 -n 5000 -storm 0 -json out.json\n")
	d.w("go run ./tools/load -fc-only -fc-sizes 0.1,0.25  # the FC-shaped table alone (as root)\n")
	d.w("go run ./tools/bench -from saved.json         # the reports again from `-save saved.json`, at deploy/s.yaml's size now\n")
	d.w("go test -run '^$' -bench Handler -benchmem -cpuprofile cpu.out ./internal/relay && go tool pprof -top cpu.out\n```\n\n")
	d.w("Timings move with whatever else runs on the machine; compare the rounds and runs, not single numbers.\n")
}

// readmeSummary is the README's bench section: a few numbers of this run
// and where the rest is.
func readmeSummary(r *result) string {
	d := &doc{}
	s := systemsOf(r)
	L := r.Load
	d.w("## Benchmarks\n\n")
	d.w("Measured by `make bench` on %s (%d cores), %s; the full tables, the method and the targets are in\n", L.Machine.CPU, L.Machine.Cores, L.Machine.Date)
	d.w("[BENCHMARKS.md](BENCHMARKS.md) and [docs/benchmarks.md](docs/benchmarks.md). This section is rewritten by `make bench`.\n\n")
	if c := s.cur; c != nil {
		if s.direct != nil {
			d.w("- %s webhooks/s with %d in flight, %.2f of what the same client reaches posting the robot messages directly (%s/s);\n",
				num(c.perS.Median), L.Settings.C, c.perS.Median/s.direct.perS.Median, num(s.direct.perS.Median))
			d.w("  one robot message per webhook; p99 %s ms.\n", ms(c.p99.Median))
		}
		d.w("- %s µs of relay CPU per webhook; peak RSS %.1f MB under that load.\n", num(c.cpu.Median), c.rss.Median)
		if len(c.one) > 0 {
			d.w("- One at a time: answered in %s ms (p50), of which %s ms is the relay and loopback HTTP rather than the robot.\n",
				ms(c.oneP50.Median), ms(c.oneOver.Median))
		}
		cc := fcCostOf(r.Size, c.cpu.Median, c.cpu.Median/1e6/r.Size.VCPU)
		d.w("- On FC (%g vCPU, %d MB, as deploy/s.yaml sets it) a million webhooks take %s CPU-seconds (%s GB-seconds): ¥%.2f at mainland\n",
			r.Size.VCPU, r.Size.MemoryMB, num(cc.cpuS), num(cc.gbS), cc.yuan)
		d.w("  list prices, mostly the invocations; but every hour with a webhook costs at least ¥%.2f (the README's \"Costs\").\n", fccost.HourFloor)
	}
	if cs := L.Cold("current"); len(cs) == 2 {
		d.w("- Cold start to the first answer: %s ms with %d projects, %s ms with %s (medians).\n", ms(cs[0].MedianMS), cs[0].Projects,
			ms(cs[1].MedianMS), num(float64(cs[1].Projects)))
	}
	if fc := L.FC; fc != nil && fc.Skipped == "" {
		size := report.FCSize{VCPU: r.Size.VCPU, MemoryMB: r.Size.MemoryMB}
		small, large := fcRowOf(fc, "current", smallProjectsFC(fc), size), fcRowOf(fc, "current", fcLargeProjects, size)
		if small.ok() && large.ok() {
			d.w("- On an FC instance of that size (a cgroup shaped like it): the first alert to a cold instance answered in %s ms with %d\n",
				ms(small.coldP50), small.projects)
			d.w("  projects and %s ms with 1,000; a burst of %d: %s of %s answers within 1 s.\n", ms(large.coldP50), fc.Burst,
				num(float64(small.within+large.within)), num(float64(small.burst+large.burst)))
		}
	}
	if L.Sizes != nil {
		d.w("- `dist/sentry-white-fc.zip`: %.1f MB (bootstrap %.1f MB).\n", float64(L.Sizes.ZipBytes)/(1<<20), float64(L.Sizes.BootstrapBytes)/(1<<20))
	}
	return d.String()
}
