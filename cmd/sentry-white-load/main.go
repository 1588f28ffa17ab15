// Command sentry-white-load measures the relay as it runs: it execs the
// relay binary (so start-up time and memory are real) on a folder store
// and on an OSS store (gofakes3 on loopback, counting every request), with
// a DingTalk stand-in on loopback answering at once, and sends N webhooks
// at each concurrency C. For each run it reports throughput, answer
// latency percentiles, the relay's own overhead (answer latency minus the
// time the stand-in held the webhook's robot requests), store reads per
// webhook, robot connections opened, CPU per webhook and peak RSS. It also
// measures cold start (exec to the first 200 on GET /) and RSS at idle,
// the FC zip and its bootstrap, and the seed's access pattern (4 + N
// object reads and one message per owner per webhook) emulated against
// the same OSS server.
//
// Run it from the repository root:
//
//	go run ./cmd/sentry-white-load                 # everything, text report
//	go run ./cmd/sentry-white-load -json out.json  # and the numbers as JSON
//	go run ./cmd/sentry-white-load -n 5000 -c 50 -stores oss -seed=false
//
// docs/benchmarks.md explains the method; make bench runs it through
// cmd/sentry-white-bench, which writes BENCHMARKS.md.
package main

import (
	"archive/zip"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/docstore"
	"github.com/sentry-white/sentry-white/internal/store"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "seed-relay" {
		if err := runSeedRelay(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "seed-relay:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "sentry-white-load:", err)
		os.Exit(1)
	}
}

// options are the command line.
type options struct {
	relay      string
	zipPath    string
	buildZip   bool
	testdata   string
	n          int
	warm       int
	levels     []int
	maxTime    time.Duration
	stores     []string
	rate       float64
	historyOff bool
	seed       bool
	seedN      int
	floor      bool
	storm      int
	coldStarts int
	latency    time.Duration
	jsonOut    string
	keep       bool
	relayEnv   envList
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
	fs := flag.NewFlagSet("sentry-white-load", flag.ContinueOnError)
	fs.SetOutput(out)
	o := &options{}
	fs.StringVar(&o.relay, "relay", "", "relay binary to exec; default: the bootstrap of the FC zip (linux/amd64 hosts), else a fresh go build of ./cmd/sentry-white-fc")
	fs.StringVar(&o.zipPath, "zip", "", "an FC zip to measure (and take bootstrap from); default: build one with go run ./cmd/fc-zip")
	fs.BoolVar(&o.buildZip, "build-zip", true, "build the FC zip when -zip is not given")
	fs.StringVar(&o.testdata, "testdata", filepath.Join("testdata", "sentry"), "folder of the Sentry payloads used as templates")
	fs.IntVar(&o.n, "n", 20000, "webhooks per run (after the warm-up)")
	fs.IntVar(&o.warm, "warm", 500, "warm-up webhooks per run, not measured")
	levels := fs.String("c", "1,10,50", "concurrency levels, comma-separated")
	fs.DurationVar(&o.maxTime, "max-time", 20*time.Second, "bound on each run's measured phase (and on its warm-up)")
	stores := fs.String("stores", "file,oss", "stores to run on: file, oss")
	fs.Float64Var(&o.rate, "rate", 2000, "also run concurrency 50 paced at this many webhooks/s on the OSS store (0: skip)")
	fs.BoolVar(&o.historyOff, "history-off", true, "also run concurrency 50 on the folder store with SENTRY_WHITE_HISTORY=off")
	fs.BoolVar(&o.seed, "seed", true, "also run the seed's access pattern (emulated) on the OSS store")
	fs.IntVar(&o.seedN, "seed-n", 2000, "webhooks per seed run")
	fs.IntVar(&o.storm, "storm", 5000, "also run a storm on a typical team: this many webhooks at concurrency 50 to the 20-project document on the OSS store, most over the robots' 20 a minute, so they are queued, spooled and merged into digests (0: skip)")
	fs.BoolVar(&o.floor, "floor", true, "also run the same client against a loopback HTTP server that answers at once (the floor of one HTTP hop on this machine)")
	fs.IntVar(&o.coldStarts, "cold-starts", 7, "cold starts to time per document")
	fs.DurationVar(&o.latency, "robot-latency", 0, "the stand-in's delay before each answer (0: at once)")
	fs.StringVar(&o.jsonOut, "json", "", "also write the results as JSON to this file")
	fs.BoolVar(&o.keep, "keep", false, "keep the work folder (relay logs, spool, folder store)")
	fs.Var(&o.relayEnv, "relay-env", "KEY=VALUE added to the relay's environment, e.g. GODEBUG=gctrace=1 or GOGC=50 (repeatable; for experiments)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	for _, s := range strings.Split(*levels, ",") {
		c, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || c < 1 || c > 1000 {
			return nil, fmt.Errorf("-c %q: want concurrency levels between 1 and 1000", *levels)
		}
		o.levels = append(o.levels, c)
	}
	for _, s := range strings.Split(*stores, ",") {
		if s = strings.TrimSpace(s); s != "file" && s != "oss" {
			return nil, fmt.Errorf("-stores %q: want file and/or oss", *stores)
		}
		o.stores = append(o.stores, strings.TrimSpace(s))
	}
	if o.n < 1 || o.n > 1_000_000 || o.warm < 0 || o.seedN < 1 || o.seedN > 100_000 {
		return nil, errors.New("-n must be 1..1000000, -seed-n 1..100000, -warm ≥ 0")
	}
	if o.maxTime <= 0 || o.maxTime > 10*time.Minute {
		return nil, errors.New("-max-time must be between 0 and 10m")
	}
	return o, nil
}

// Report is everything one invocation measured (the -json output).
type Report struct {
	Machine   Machine     `json:"machine"`
	Settings  Settings    `json:"settings"`
	Sizes     *Sizes      `json:"sizes,omitempty"`
	ColdStart []ColdStart `json:"cold_start"`
	Runs      []Run       `json:"runs"`
}

// Machine describes where it ran.
type Machine struct {
	CPU       string `json:"cpu"`
	Cores     int    `json:"cores"`
	GoVersion string `json:"go_version"`
	OS        string `json:"os"`
	Date      string `json:"date"`
	Load      string `json:"load_before"` // /proc/loadavg at start
}

// Settings are the parameters of the runs.
type Settings struct {
	N            int      `json:"n"`
	Warm         int      `json:"warm"`
	Levels       []int    `json:"levels"`
	MaxTimeS     float64  `json:"max_time_s"`
	Projects     int      `json:"projects"`
	DocBytes     int      `json:"doc_bytes"`
	Payloads     []string `json:"payloads"`
	RobotLatency string   `json:"robot_latency"`
	Relay        string   `json:"relay"`
	SeedProjects int      `json:"seed_projects"`
}

// Sizes of the Function Compute package.
type Sizes struct {
	ZipBytes       int64 `json:"zip_bytes"`
	BootstrapBytes int64 `json:"bootstrap_bytes"`
}

// ColdStart is the time from exec to the first 200 on GET /.
type ColdStart struct {
	Store        string    `json:"store"`
	Projects     int       `json:"projects"`
	DocBytes     int       `json:"doc_bytes"`
	Runs         int       `json:"runs"`
	MedianMS     float64   `json:"median_ms"`
	MinMS        float64   `json:"min_ms"`
	MaxMS        float64   `json:"max_ms"`
	IdleRSSKB    int64     `json:"idle_rss_kb"` // median VmRSS right after the first answer
	SamplesMS    []float64 `json:"samples_ms"`
	IdleRSSAllKB []int64   `json:"idle_rss_all_kb"`
}

// Run is one load run.
type Run struct {
	System        string         `json:"system"` // "relay" or "seed"
	Store         string         `json:"store"`  // "file" or "oss"
	History       bool           `json:"history"`
	C             int            `json:"c"`
	Rate          float64        `json:"rate,omitempty"` // paced webhooks/s; 0 = closed loop
	Sent          int            `json:"sent"`
	OK            int            `json:"ok"`
	Other         map[string]int `json:"other_status,omitempty"`
	Errors        int            `json:"errors"`
	Seconds       float64        `json:"seconds"`
	PerSecond     float64        `json:"per_second"`
	Latency       Pcts           `json:"latency_ms"`
	Robot         Pcts           `json:"robot_ms"`      // the stand-in's hold time per webhook
	Overhead      Pcts           `json:"overhead_ms"`   // latency minus robot time
	ToRobot       Pcts           `json:"to_robot_ms"`   // from sending the webhook to its robot request arriving
	FromRobot     Pcts           `json:"from_robot_ms"` // from the robot's answer to the webhook's answer
	MsgsPerHook   float64        `json:"messages_per_webhook"`
	Requests      ossCounts      `json:"store_requests"`
	ReadsPerHook  float64        `json:"store_reads_per_webhook"`
	WritesPerHook float64        `json:"store_writes_per_webhook"`
	RobotConns    int64          `json:"robot_connections"`
	CPUPerHookUS  float64        `json:"cpu_per_webhook_us"`
	CPUPercent    float64        `json:"cpu_percent"` // of one core, during the measured phase
	StartMS       float64        `json:"start_ms"`    // this run's cold start
	IdleRSSKB     int64          `json:"idle_rss_kb"`
	PeakRSSKB     int64          `json:"peak_rss_kb"` // VmHWM at the end of the run
	MaxRSSKB      int64          `json:"max_rss_kb"`  // highest VmRSS sampled during the measured phase
	MaxAnonKB     int64          `json:"max_anon_kb"` // RssAnon at that sample (the rest is the binary's pages)
	LogWarns      int            `json:"log_warnings"`
	Unkeyed       int64          `json:"unkeyed_messages"`
	Note          string         `json:"note,omitempty"`
	Messages      int64          `json:"robot_messages,omitempty"` // storm: messages the robots received during the run
	Spooled       int            `json:"spooled,omitempty"`        // storm: alerts left in the spool after the relay stopped
	LastError     string         `json:"last_error,omitempty"`
}

// Pcts are latency percentiles in milliseconds.
type Pcts struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
}

func pcts(d []time.Duration) Pcts {
	v := percentiles(d, 50, 90, 99, 100)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return Pcts{ms(v[0]), ms(v[1]), ms(v[2]), ms(v[3])}
}

// loader holds what the runs share.
type loader struct {
	o        *options
	out      io.Writer
	work     string
	relay    string
	self     string
	standin  *standIn
	oss      *ossServer
	fileDir  string
	payloads []*payload
	projects int
	env      []string
}

func run(args []string, out io.Writer) error {
	o, err := parseFlags(args, out)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	l := &loader{o: o, out: out}
	rep := &Report{Machine: machine()}
	if l.payloads, err = loadPayloads(o.testdata); err != nil {
		return err
	}
	if l.work, err = os.MkdirTemp("", "sentry-white-load-*"); err != nil {
		return err
	}
	if o.keep {
		fmt.Fprintln(out, "work folder:", l.work)
	} else {
		defer os.RemoveAll(l.work)
	}
	if l.self, err = os.Executable(); err != nil {
		return err
	}
	if err := l.prepareBinaries(rep); err != nil {
		return err
	}

	// Enough projects (one robot each) that no robot gets more than 18
	// messages in a run, under DingTalk's 20 a minute.
	l.projects = max(100, (o.warm+max(o.n, o.seedN)+17)/18)
	doc := buildDoc(l.projects)
	docBytes, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	rep.Settings = Settings{N: o.n, Warm: o.warm, Levels: o.levels, MaxTimeS: o.maxTime.Seconds(), Projects: l.projects,
		DocBytes: len(docBytes), RobotLatency: o.latency.String(), Relay: l.relay, SeedProjects: smallProjects}
	for _, p := range l.payloads {
		rep.Settings.Payloads = append(rep.Settings.Payloads, p.name)
	}

	l.standin = newStandIn(l.projects, o.latency)
	defer l.standin.Close()
	l.oss = newOSSServer()
	defer l.oss.Close()
	if err := l.seedStores(doc); err != nil {
		return err
	}
	l.env = cleanEnv()

	fmt.Fprintf(out, "relay %s; %d projects (document %d bytes); %d webhooks per run after %d warm-up\n",
		l.relay, l.projects, len(docBytes), o.n, o.warm)
	if err := l.coldStarts(rep); err != nil {
		return err
	}
	for _, st := range o.stores {
		for _, c := range o.levels {
			r, err := l.runRelay(st, c, 0, true, o.n)
			if err != nil {
				return err
			}
			rep.Runs = append(rep.Runs, r)
		}
	}
	if o.rate > 0 && slices.Contains(o.stores, "oss") {
		// Paced runs last about 5 s.
		r, err := l.runRelay("oss", 50, o.rate, true, min(o.n, int(o.rate*5)))
		if err != nil {
			return err
		}
		rep.Runs = append(rep.Runs, r)
	}
	if o.historyOff && slices.Contains(o.stores, "file") {
		r, err := l.runRelay("file", 50, 0, false, o.n)
		if err != nil {
			return err
		}
		rep.Runs = append(rep.Runs, r)
	}
	if o.storm > 0 && slices.Contains(o.stores, "oss") {
		r, err := l.runStorm(o.storm)
		if err != nil {
			return err
		}
		rep.Runs = append(rep.Runs, r)
	}
	if o.seed {
		for _, c := range o.levels {
			r, err := l.runSeed(c, o.seedN)
			if err != nil {
				return err
			}
			rep.Runs = append(rep.Runs, r)
		}
	}
	if o.floor {
		for _, c := range o.levels {
			r, err := l.runFloor(c, o.n)
			if err != nil {
				return err
			}
			rep.Runs = append(rep.Runs, r)
		}
	}
	printReport(out, rep)
	if o.jsonOut != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(o.jsonOut, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func machine() Machine {
	m := Machine{Cores: runtime.NumCPU(), GoVersion: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH,
		Date: time.Now().UTC().Format("2006-01-02 15:04 UTC")}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		m.Load = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	return m
}

// cleanEnv is this process's environment without settings the relay reads,
// so the runs do not depend on the caller's shell.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "SENTRY_WHITE_") || strings.HasPrefix(k, "OSS_") || strings.HasPrefix(k, "ALIBABA_CLOUD_") ||
			strings.HasPrefix(k, "FC_") || k == "GOGC" || k == "GOMEMLIMIT" || k == "GODEBUG" {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// prepareBinaries builds (or takes) the FC zip and the relay binary.
func (l *loader) prepareBinaries(rep *Report) error {
	zipPath := l.o.zipPath
	if zipPath == "" && l.o.buildZip {
		zipPath = filepath.Join(l.work, "sentry-white-fc.zip")
		fmt.Fprintln(l.out, "building the FC zip: go run ./cmd/fc-zip")
		if err := runCmd(context.Background(), nil, "go", "run", "github.com/sentry-white/sentry-white/cmd/fc-zip", "-o", zipPath); err != nil {
			return err
		}
	}
	if zipPath != "" {
		st, err := os.Stat(zipPath)
		if err != nil {
			return err
		}
		zr, err := zip.OpenReader(zipPath)
		if err != nil {
			return err
		}
		defer zr.Close()
		if len(zr.File) != 1 || zr.File[0].Name != "bootstrap" {
			return fmt.Errorf("%s: want one entry, bootstrap", zipPath)
		}
		rep.Sizes = &Sizes{ZipBytes: st.Size(), BootstrapBytes: int64(zr.File[0].UncompressedSize64)}
		if l.o.relay == "" && runtime.GOOS == "linux" && runtime.GOARCH == "amd64" {
			l.relay = filepath.Join(l.work, "bootstrap")
			if err := extract(zr.File[0], l.relay); err != nil {
				return err
			}
		}
	}
	if l.o.relay != "" {
		l.relay = l.o.relay
	}
	if l.relay == "" {
		l.relay = filepath.Join(l.work, "sentry-white-fc")
		fmt.Fprintln(l.out, "building the relay: go build ./cmd/sentry-white-fc")
		env := append(os.Environ(), "CGO_ENABLED=0")
		if err := runCmd(context.Background(), env, "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", l.relay,
			"github.com/sentry-white/sentry-white/cmd/sentry-white-fc"); err != nil {
			return err
		}
	}
	if abs, err := filepath.Abs(l.relay); err == nil {
		l.relay = abs
	}
	return nil
}

func extract(f *zip.File, to string) error {
	r, err := f.Open()
	if err != nil {
		return err
	}
	defer r.Close()
	w, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, r); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}

// Document locations: the load document under api/ (both stores), a
// typical team's (20 projects) under small/ for cold starts, and the
// seed's layout of the load document under seed/.
const smallProjects = 20

func (l *loader) seedStores(doc *config.Document) error {
	ctx := context.Background()
	l.fileDir = filepath.Join(l.work, "store")
	small := buildDoc(smallProjects)
	fileDocs := docstore.NewDocs(store.NewFile(l.fileDir), "api/")
	if _, err := fileDocs.Save(ctx, doc, ""); err != nil {
		return err
	}
	for prefix, d := range map[string]*config.Document{"api/": doc, "small/": small} {
		b, err := json.Marshal(d)
		if err != nil {
			return err
		}
		if err := l.oss.Seed(store.ConfigKey(prefix), b); err != nil {
			return err
		}
	}
	// The seed's objects hold the typical team's document: it reads them
	// whole on every webhook, so a larger document would only make it
	// slower; the comparison is the seed at its best.
	objs, err := seedObjects(small)
	if err != nil {
		return err
	}
	for k, v := range objs {
		if err := l.oss.Seed(k, v); err != nil {
			return err
		}
	}
	return nil
}

// ossEnv is what the relay needs for the loopback OSS server.
func (l *loader) ossEnv() []string {
	return []string{"OSS_ENDPOINT=" + l.oss.URL, "OSS_REGION=" + ossRegion, "ALIBABA_CLOUD_ACCESS_KEY_ID=LTAIloadtest", "ALIBABA_CLOUD_ACCESS_KEY_SECRET=loadtestsecret"}
}

func (l *loader) relayArgs(st, prefix, spool string) []string {
	loc := "file:" + l.fileDir
	if st == "oss" {
		loc = "oss://" + bucket + "/" + prefix
	}
	return []string{"-store", loc, "-spool", spool}
}

func (l *loader) coldStarts(rep *Report) error {
	for _, c := range []struct {
		prefix   string
		projects int
	}{{"small/", smallProjects}, {"api/", l.projects}} {
		cs := ColdStart{Store: "oss", Projects: c.projects, Runs: l.o.coldStarts}
		var durs []time.Duration
		var rss []int64
		for i := range l.o.coldStarts {
			env := append(slices.Clone(l.env), l.ossEnv()...)
			env = append(env, "SENTRY_WHITE_DINGTALK_API="+l.standin.URL())
			spool := filepath.Join(l.work, fmt.Sprintf("spool-cold-%s%d", strings.TrimSuffix(c.prefix, "/"), i))
			p, err := startProc(l.relay, l.relayArgs("oss", c.prefix, spool), env, l.work, "cold", 10*time.Second)
			if err != nil {
				return err
			}
			durs = append(durs, p.FirstAnswer)
			rss = append(rss, p.IdleRSSKB)
			if err := p.stop(10 * time.Second); err != nil {
				return fmt.Errorf("cold start %d: %v", i, err)
			}
		}
		for _, d := range durs {
			cs.SamplesMS = append(cs.SamplesMS, float64(d.Microseconds())/1000)
		}
		cs.IdleRSSAllKB = rss
		v := percentiles(slices.Clone(durs), 50, 0.0001, 100)
		cs.MedianMS, cs.MinMS, cs.MaxMS = float64(v[0].Microseconds())/1000, float64(v[1].Microseconds())/1000, float64(v[2].Microseconds())/1000
		sr := slices.Clone(rss)
		slices.Sort(sr)
		cs.IdleRSSKB = sr[len(sr)/2]
		if c.prefix == "api/" {
			cs.DocBytes = rep.Settings.DocBytes
		} else if b, err := json.Marshal(buildDoc(smallProjects)); err == nil {
			cs.DocBytes = len(b)
		}
		rep.ColdStart = append(rep.ColdStart, cs)
		fmt.Fprintf(l.out, "cold start, %d projects: median %.1f ms (min %.1f, max %.1f), idle RSS %.1f MB\n",
			c.projects, cs.MedianMS, cs.MinMS, cs.MaxMS, float64(cs.IdleRSSKB)/1024)
	}
	return nil
}

// runRelay runs the relay on store st at concurrency c.
func (l *loader) runRelay(st string, c int, rate float64, history bool, n int) (Run, error) {
	env := append(slices.Clone(l.env), "SENTRY_WHITE_DINGTALK_API="+l.standin.URL())
	env = append(env, l.o.relayEnv...)
	if st == "oss" {
		env = append(env, l.ossEnv()...)
	}
	if !history {
		env = append(env, "SENTRY_WHITE_HISTORY=off")
	}
	name := fmt.Sprintf("relay-%s-c%d", st, c)
	if rate > 0 {
		name += fmt.Sprintf("-rate%.0f", rate)
	}
	if !history {
		name += "-nohistory"
	}
	spool := filepath.Join(l.work, "spool-"+name)
	p, err := startProc(l.relay, l.relayArgs(st, "api/", spool), env, l.work, name, 10*time.Second)
	if err != nil {
		return Run{}, err
	}
	r := Run{System: "relay", Store: st, History: history, C: c, Rate: rate}
	err = l.measure(p, &r, c, rate, n, l.o.warm, l.projects)
	if serr := p.stop(30 * time.Second); serr != nil && err == nil {
		err = fmt.Errorf("%s: %v", name, serr)
	}
	r.LogWarns, _ = countLog(p.logPath)
	l.print(r)
	return r, err
}

// runStorm sends n webhooks at concurrency 50 to a relay on the 20-project
// document: after each robot's first 20 messages the relay queues the
// alerts (answering 202), spools them and sends them as digests when the
// budget allows. Webhooks still queued at the end stay in the spool.
func (l *loader) runStorm(n int) (Run, error) {
	env := append(slices.Clone(l.env), "SENTRY_WHITE_DINGTALK_API="+l.standin.URL())
	env = append(env, l.o.relayEnv...)
	env = append(env, l.ossEnv()...)
	name := "relay-oss-storm"
	spool := filepath.Join(l.work, "spool-"+name)
	p, err := startProc(l.relay, l.relayArgs("oss", "small/", spool), env, l.work, name, 10*time.Second)
	if err != nil {
		return Run{}, err
	}
	r := Run{System: "storm", Store: "oss", History: true, C: 50}
	msgs0 := l.standin.messages.Load()
	err = l.measure(p, &r, 50, 0, n, 0, smallProjects)
	l.standin.settle(5 * time.Second)
	r.Messages = l.standin.messages.Load() - msgs0
	if serr := p.stop(30 * time.Second); serr != nil && err == nil {
		err = fmt.Errorf("%s: %v", name, serr)
	}
	if entries, derr := os.ReadDir(spool); derr == nil {
		r.Spooled = len(entries)
	}
	r.LogWarns, _ = countLog(p.logPath)
	l.print(r)
	return r, err
}

// runSeed runs the seed emulation at concurrency c.
func (l *loader) runSeed(c, n int) (Run, error) {
	env := append(slices.Clone(l.env), "SENTRY_WHITE_DINGTALK_API="+l.standin.URL())
	env = append(env, l.ossEnv()...)
	name := fmt.Sprintf("seed-c%d", c)
	p, err := startProc(l.self, []string{"seed-relay", "-store", "oss://" + bucket + "/api/"}, env, l.work, name, 10*time.Second)
	if err != nil {
		return Run{}, err
	}
	r := Run{System: "seed", Store: "oss", C: c}
	err = l.measure(p, &r, c, 0, n, min(l.o.warm, 50), smallProjects)
	if serr := p.stop(10 * time.Second); serr != nil && err == nil {
		err = fmt.Errorf("%s: %v", name, serr)
	}
	l.print(r)
	return r, err
}

// runFloor sends the same webhooks at concurrency c to a server in this
// process that reads each body and answers at once: the cost of one HTTP
// hop on loopback with this client, which the relay pays twice (Sentry to
// the relay, the relay to the robot).
func (l *loader) runFloor(c, n int) (Run, error) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":"ok"}`)
	}))
	defer srv.Close()
	r := Run{System: "floor", Store: "-", C: c}
	spec := runSpec{url: srv.URL + "/?token=" + webhookToken, c: c, n: n, warm: l.o.warm, maxTime: l.o.maxTime,
		projects: l.projects, payloads: l.payloads}
	client := newClient(c)
	defer client.CloseIdleConnections()
	res := spec.run(client, nil)
	if len(res.samples) == 0 {
		return r, fmt.Errorf("floor c=%d: nothing answered (%s)", c, res.lastErr)
	}
	r.Sent, r.Seconds = len(res.samples), res.elapsed.Seconds()
	first, last := res.samples[0].start, res.samples[0].end
	var lat []time.Duration
	for _, s := range res.samples {
		first, last = min(first, s.start), max(last, s.end)
		if s.status == 200 {
			r.OK++
		}
		lat = append(lat, s.end-s.start)
	}
	r.PerSecond = float64(r.Sent) / (last - first).Seconds()
	r.Latency = pcts(lat)
	r.Overhead = r.Latency
	l.print(r)
	return r, nil
}

// measure sends the webhooks to p and fills r.
func (l *loader) measure(p *proc, r *Run, c int, rate float64, n, warm, projects int) error {
	r.StartMS = float64(p.FirstAnswer.Microseconds()) / 1000
	r.IdleRSSKB = p.IdleRSSKB
	rec := l.standin.begin(warm + n)
	spec := runSpec{url: "http://" + p.addr + "/?token=" + webhookToken, c: c, n: n, warm: warm, maxTime: l.o.maxTime,
		rate: rate, projects: projects, payloads: l.payloads, base: l.standin.base}
	client := newClient(c)
	defer client.CloseIdleConnections()

	var (
		oss0     ossCounts
		cpu0     time.Duration
		conns0   int64
		maxRSS   int64
		maxAnon  int64
		stopSamp = make(chan struct{})
		sampled  sync.WaitGroup
	)
	res := spec.run(client, func() {
		oss0 = l.oss.Counts()
		cpu0, _ = p.cpu()
		conns0 = l.standin.conns.Load()
		sampled.Add(1)
		go func() { // the highest RSS during the measured phase
			defer sampled.Done()
			t := time.NewTicker(20 * time.Millisecond)
			defer t.Stop()
			for {
				if v, err := p.status("VmRSS"); err == nil && v > maxRSS {
					maxRSS = v
					maxAnon, _ = p.status("RssAnon")
				}
				select {
				case <-stopSamp:
					return
				case <-t.C:
				}
			}
		}()
	})
	cpu1, _ := p.cpu()
	close(stopSamp)
	sampled.Wait()
	// Answers can reach the relay (and so the client) before the stand-in
	// has recorded the message they answer.
	l.standin.settle(5 * time.Second)
	r.MaxRSSKB, r.MaxAnonKB = maxRSS, maxAnon
	r.PeakRSSKB, _ = p.status("VmHWM")
	r.Requests = l.oss.Counts().sub(oss0)
	r.RobotConns = l.standin.conns.Load() - conns0

	r.Sent = len(res.samples)
	r.Errors, r.LastError = res.errors, res.lastErr
	r.Other = map[string]int{}
	for code, k := range res.statuses {
		r.Other[strconv.Itoa(code)] = k
	}
	r.Seconds = res.elapsed.Seconds()
	if r.Sent == 0 {
		return fmt.Errorf("%s c=%d: no webhook answered (%s)", r.System, c, res.lastErr)
	}
	// Throughput over the measured webhooks' own span.
	first, last := res.samples[0].start, res.samples[0].end
	var lat, robot, over, toRobot, fromRobot []time.Duration
	msgs := 0
	for _, s := range res.samples {
		first, last = min(first, s.start), max(last, s.end)
		if s.status == 200 {
			r.OK++
		}
		d := s.end - s.start
		h := time.Duration(rec.holdNs[s.idx].Load())
		msgs += int(rec.msgs[s.idx].Load())
		lat = append(lat, d)
		robot = append(robot, h)
		over = append(over, max(0, d-h))
		if in, out := rec.inNs[s.idx].Load(), rec.outNs[s.idx].Load(); in > 0 && out > 0 {
			toRobot = append(toRobot, time.Duration(in)-s.start)
			fromRobot = append(fromRobot, s.end-time.Duration(out))
		}
	}
	r.ToRobot, r.FromRobot = pcts(toRobot), pcts(fromRobot)
	span := last - first
	r.PerSecond = float64(r.Sent) / span.Seconds()
	r.Latency, r.Robot, r.Overhead = pcts(lat), pcts(robot), pcts(over)
	r.MsgsPerHook = float64(msgs) / float64(r.Sent)
	r.ReadsPerHook = float64(r.Requests.Reads()) / float64(r.Sent)
	r.WritesPerHook = float64(r.Requests.Writes()) / float64(r.Sent)
	r.CPUPerHookUS = float64((cpu1 - cpu0).Microseconds()) / float64(r.Sent)
	r.CPUPercent = 100 * (cpu1 - cpu0).Seconds() / res.elapsed.Seconds()
	r.Unkeyed = l.standin.unkeyed.Swap(0)
	if r.OK < r.Sent {
		r.Note = fmt.Sprintf("%d of %d webhooks not answered 200", r.Sent-r.OK, r.Sent)
	}
	return nil
}

func (l *loader) print(r Run) {
	label := r.System + "/" + r.Store
	if r.Rate > 0 {
		label += fmt.Sprintf(" paced %.0f/s", r.Rate)
	}
	if !r.History && r.System == "relay" {
		label += " history off"
	}
	fmt.Fprintf(l.out, "%-28s c=%-3d %6d sent %6.0f/s  latency p50 %.2f p99 %.2f ms  overhead p50 %.2f p99 %.2f ms (to robot %.2f, after %.2f)  reads/webhook %.4f  CPU %.0f µs/webhook  peak RSS %.1f MB (sampled max %.1f, anon %.1f)  robot conns %d  %s\n",
		label, r.C, r.Sent, r.PerSecond, r.Latency.P50, r.Latency.P99, r.Overhead.P50, r.Overhead.P99, r.ToRobot.P50, r.FromRobot.P50, r.ReadsPerHook,
		r.CPUPerHookUS, float64(r.PeakRSSKB)/1024, float64(r.MaxRSSKB)/1024, float64(r.MaxAnonKB)/1024, r.RobotConns, r.Note)
}

func printReport(out io.Writer, rep *Report) {
	if rep.Sizes != nil {
		fmt.Fprintf(out, "FC zip %.2f MB, bootstrap %.2f MB\n", float64(rep.Sizes.ZipBytes)/(1<<20), float64(rep.Sizes.BootstrapBytes)/(1<<20))
	}
}
