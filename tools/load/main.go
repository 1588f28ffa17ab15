// Command load (the load tool) measures the relay as it runs, side by side
// with the ceiling a relay can approach: it execs the relay binary (so
// start-up time and memory are real) on an OSS store (gofakes3 on
// loopback, counting every request), with a DingTalk stand-in on loopback
// answering at once, and sends it distinct webhooks spread over more than
// a thousand projects with a robot each. The same client, at the same
// concurrency and for as many webhooks, also posts each webhook's robot
// message straight to the stand-in: the direct-to-robot baseline. For each
// run it reports throughput, answer latency percentiles, the relay's own
// overhead (answer latency minus the time the stand-in held the webhook's
// robot requests), the stand-in's messages per webhook, store requests per
// webhook, robot connections opened, CPU per webhook and peak RSS. It also
// measures cold start (exec to the first 200 on GET /) with a typical
// team's document and with the load document, the FC zip, and a storm the
// robots' budgets cannot take at once. Every run is repeated (-rounds),
// the systems taking turns, so noise on the machine hits them alike.
//
// Run it from the repository root:
//
//	go run ./tools/load                 # everything, text report
//	go run ./tools/load -json out.json  # and the numbers as JSON
//	go run ./tools/load -rounds 1 -n 5000 -storm 0
//
// docs/benchmarks.md explains the method; make bench runs it through
// tools/bench, which writes BENCHMARKS.md.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/sentry-white/sentry-white/tools/load/report"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == cgexecArg {
		err := cgexec(os.Args[2:])
		fmt.Fprintln(os.Stderr, "load cgexec:", err)
		os.Exit(1)
	}
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

// options are the command line.
type options struct {
	relay      string
	before     string
	beforeName string
	zipPath    string
	buildZip   bool
	testdata   string
	n          int
	nOne       int
	warm       int
	c          int
	rounds     int
	maxTime    time.Duration
	storm      int
	coldStarts int
	latency    time.Duration
	jsonOut    string
	keep       bool
	relayEnv   envList
	also       envList // more relays to measure, NAME=PATH
	// The FC-shaped runs.
	fc       bool
	fcRuns   int
	fcBurst  int
	fcWarm   int
	fcSizes  []report.FCSize
	fcRelays envList // more relays measured in the FC-shaped runs only, NAME=PATH
	fcOnly   bool
	minimal  string // the minimal relay's binary; "" builds tools/load/minrelay
	fcMode   string // the relay's -mode in the FC-shaped runs
	fcPlain  bool   // plain HTTP to the stand-ins instead of HTTPS
}

// envList is a repeatable KEY=VALUE flag.
type envList []string

func (e *envList) String() string { return strings.Join(*e, " ") }
func (e *envList) Set(v string) error {
	if !strings.Contains(v, "=") {
		return fmt.Errorf("%q is not KEY=VALUE", v)
	}
	*e = append(*e, v)
	return nil
}

func parseFlags(args []string, out io.Writer) (*options, error) {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(out)
	o := &options{}
	fs.StringVar(&o.relay, "relay", "", "relay binary to exec; default: the bootstrap of the FC zip (linux/amd64 hosts), else a fresh go build of ./cmd/sentry-white-fc")
	fs.StringVar(&o.before, "before", "", "a second relay binary (a baseline) measured the same way, taking turns with the first")
	fs.StringVar(&o.beforeName, "before-name", "before", "the baseline's name in the report (its revision)")
	fs.StringVar(&o.zipPath, "zip", "", "an FC zip to measure (and take bootstrap from); default: build one with go run ./tools/fc-zip")
	fs.BoolVar(&o.buildZip, "build-zip", true, "build the FC zip when -zip is not given")
	fs.StringVar(&o.testdata, "testdata", filepath.Join("testdata", "sentry"), "folder of the Sentry payloads used as templates")
	fs.IntVar(&o.n, "n", 20000, "webhooks per run at concurrency -c (after the warm-up)")
	fs.IntVar(&o.nOne, "n-one", 5000, "webhooks per one-at-a-time run")
	fs.IntVar(&o.warm, "warm", 500, "warm-up webhooks per run, not measured")
	fs.IntVar(&o.c, "c", 50, "concurrency of the throughput runs")
	fs.IntVar(&o.rounds, "rounds", 3, "how many times every run is repeated (the report gives medians)")
	fs.DurationVar(&o.maxTime, "max-time", 20*time.Second, "bound on each run's measured phase (and on its warm-up)")
	fs.IntVar(&o.storm, "storm", 5000, "also run a storm on a typical team: this many webhooks at concurrency 50 to the 20-project document, most over the robots' 20 a minute, so they are queued, spooled and merged into digests (0: skip)")
	fs.IntVar(&o.coldStarts, "cold-starts", 7, "cold starts to time per relay and document")
	fs.DurationVar(&o.latency, "robot-latency", 0, "the stand-in's delay before each answer (0: at once)")
	fs.StringVar(&o.jsonOut, "json", "", "also write the results as JSON to this file")
	fs.BoolVar(&o.keep, "keep", false, "keep the work folder (relay logs, spools)")
	fs.Var(&o.also, "also", "NAME=PATH: one more relay binary measured the same way, taking turns with the others (repeatable; e.g. each commit of a series)")
	fs.Var(&o.relayEnv, "relay-env", "KEY=VALUE added to the relays' environment, e.g. GODEBUG=gctrace=1 or GOGC=50 (repeatable; for experiments)")
	fs.BoolVar(&o.fc, "fc", true, "also run the FC-shaped table: each relay and a minimal relay, a fresh process per run, in a cgroup shaped like a Function Compute instance of each of -fc-sizes (needs root and cgroups; skipped, saying why, without)")
	fs.BoolVar(&o.fcOnly, "fc-only", false, "run only the FC-shaped table (no throughput runs, cold starts or storm)")
	fs.IntVar(&o.fcRuns, "fc-runs", 5, "fresh processes per relay, size and document in the FC-shaped table")
	fs.IntVar(&o.fcBurst, "fc-burst", 50, "webhooks of the FC-shaped burst, sent at once after the first answer")
	fs.IntVar(&o.fcWarm, "fc-warm", 40, "webhooks sent one at a time after the FC-shaped burst")
	sizes := fs.String("fc-sizes", "0.05,0.1,0.25,0.5", "instance sizes of the FC-shaped table: vCPU, each with /MB of memory or FC's least for it (128 MB, 1 GB per vCPU)")
	fs.StringVar(&o.fcMode, "fc-mode", "fc", "the relay's -mode in the FC-shaped runs (fc as on Function Compute; server for experiments)")
	fs.BoolVar(&o.fcPlain, "fc-plain", false, "FC-shaped runs reach the stand-ins over plain HTTP instead of HTTPS (for experiments)")
	fs.StringVar(&o.minimal, "minimal", "", "the minimal relay binary of the FC-shaped table (default: go build ./tools/load/minrelay)")
	fs.Var(&o.fcRelays, "fc-relay", "NAME=PATH: one more relay binary measured in the FC-shaped runs only, taking turns with the others (repeatable; e.g. the relay before a change)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	var err error
	if o.fcSizes, err = parseSizes(*sizes); err != nil {
		return nil, err
	}
	if o.fcRuns < 1 || o.fcRuns > 50 || o.fcBurst < 1 || o.fcBurst > 1000 || o.fcWarm < 0 || o.fcWarm > 10000 {
		return nil, errors.New("-fc-runs must be 1..50, -fc-burst 1..1000, -fc-warm 0..10000")
	}
	switch {
	case o.n < 1 || o.n > 1_000_000 || o.nOne < 0 || o.nOne > 1_000_000 || o.warm < 0:
		return nil, errors.New("-n must be 1..1000000, -n-one 0..1000000, -warm ≥ 0")
	case o.c < 1 || o.c > 1000:
		return nil, errors.New("-c must be 1..1000")
	case o.rounds < 1 || o.rounds > 20:
		return nil, errors.New("-rounds must be 1..20")
	case o.maxTime <= 0 || o.maxTime > 10*time.Minute:
		return nil, errors.New("-max-time must be between 0 and 10m")
	}
	return o, nil
}

func run(args []string, out io.Writer) error {
	o, err := parseFlags(args, out)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	l, err := newLoader(o, out)
	if err != nil {
		return err
	}
	defer l.close()
	rep := &report.Report{Machine: machine()}
	if err := l.prepareBinaries(rep); err != nil {
		return err
	}
	rep.Relays = l.relays
	if err := l.prepareStores(rep); err != nil {
		return err
	}
	if o.fcOnly {
		if err := l.fcShaped(rep); err != nil {
			return err
		}
		rep.Machine.LoadAfter = loadAvg()
		if o.jsonOut != "" {
			return rep.Write(o.jsonOut)
		}
		return nil
	}
	fmt.Fprintf(out, "%d projects (document %d bytes); %d webhooks per run at c=%d and %d one at a time, after %d warm-up; %d rounds\n",
		l.projects, rep.Settings.DocBytes, o.n, o.c, o.nOne, o.warm, o.rounds)
	if err := l.coldStartFloor(rep); err != nil {
		return err
	}
	for _, r := range l.relays {
		if err := l.coldStarts(rep, r); err != nil {
			return err
		}
	}
	// Every round runs each system once, taking turns, so a noisy moment
	// on the machine does not fall on one system only.
	levels := []struct{ c, n int }{{o.c, o.n}}
	if o.nOne > 0 {
		levels = append(levels, struct{ c, n int }{1, o.nOne})
	}
	for _, lv := range levels {
		for round := 1; round <= o.rounds; round++ {
			x, err := l.runDirect(lv.c, lv.n, round)
			if err != nil {
				return err
			}
			rep.Runs = append(rep.Runs, x)
			for _, r := range l.relays {
				x, err := l.runRelay(r, lv.c, lv.n, round)
				if err != nil {
					return err
				}
				rep.Runs = append(rep.Runs, x)
			}
		}
	}
	if o.storm > 0 {
		x, err := l.runStorm(o.storm)
		if err != nil {
			return err
		}
		rep.Runs = append(rep.Runs, x)
	}
	if o.fc {
		if err := l.fcShaped(rep); err != nil {
			return err
		}
	}
	rep.Settings.LastID = l.nextID - 1
	rep.Machine.LoadAfter = loadAvg()
	printSummary(out, rep)
	if rep.Sizes != nil {
		fmt.Fprintf(out, "FC zip %.2f MB, bootstrap %.2f MB\n", float64(rep.Sizes.ZipBytes)/(1<<20), float64(rep.Sizes.BootstrapBytes)/(1<<20))
	}
	if o.jsonOut != "" {
		return rep.Write(o.jsonOut)
	}
	return nil
}

// printSummary prints the medians of the rounds, system by system.
func printSummary(out io.Writer, rep *report.Report) {
	fmt.Fprintf(out, "medians of %d rounds (load average %s before, %s after):\n", rep.Settings.Rounds, rep.Machine.Load, rep.Machine.LoadAfter)
	for _, c := range []int{rep.Settings.C, 1} {
		direct := report.Of(rep.Select(report.Direct, "", c), func(x *report.Run) float64 { return x.PerSecond })
		if direct.N > 0 {
			fmt.Fprintf(out, "  c=%-3d direct   %6.0f/s (%.0f–%.0f)\n", c, direct.Median, direct.Min, direct.Max)
		}
		for _, rl := range rep.Relays {
			runs := rep.Select(report.Relays, rl.Name, c)
			if len(runs) == 0 {
				continue
			}
			ps := report.Of(runs, func(x *report.Run) float64 { return x.PerSecond })
			cpu := report.Of(runs, func(x *report.Run) float64 { return x.CPUPerHookUS })
			p99 := report.Of(runs, func(x *report.Run) float64 { return x.Latency.P99 })
			over := report.Of(runs, func(x *report.Run) float64 { return x.Overhead.P50 })
			rss := report.Of(runs, func(x *report.Run) float64 { return float64(x.PeakRSSKB) / 1024 })
			ratio := 0.0
			if direct.Median > 0 {
				ratio = ps.Median / direct.Median
			}
			fmt.Fprintf(out, "  c=%-3d %-8s %6.0f/s (%.0f–%.0f) ÷ direct %.3f  CPU %.0f µs/webhook (%.0f–%.0f)  p99 %.1f ms  overhead p50 %.3f ms  peak RSS %.1f MB\n",
				c, rl.Name, ps.Median, ps.Min, ps.Max, ratio, cpu.Median, cpu.Min, cpu.Max, p99.Median, over.Median, rss.Median)
		}
	}
}

func machine() report.Machine {
	m := report.Machine{Cores: runtime.NumCPU(), GoVersion: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH,
		Date: time.Now().UTC().Format("2006-01-02 15:04 UTC"), Load: loadAvg()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	return m
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return ""
}

// cleanEnv is this process's environment without settings the relay reads,
// so the runs do not depend on the caller's shell.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "SENTRY_WHITE_") || strings.HasPrefix(k, "OSS_") || strings.HasPrefix(k, "ALIBABA_CLOUD_") ||
			strings.HasPrefix(k, "FC_") || k == "GOGC" || k == "GOMEMLIMIT" || k == "GODEBUG" || k == "GOMAXPROCS" {
			continue
		}
		env = append(env, kv)
	}
	return env
}
