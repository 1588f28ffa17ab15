// Command bench is make bench: it runs the Go benchmarks of
// the relay's parts and of the whole handler, builds the FC zip and the
// relay, builds the relay of a baseline commit from the git history, runs
// the load tool (tools/load) on both relays and on the
// direct-to-robot baseline, and rewrites BENCHMARKS.md (and the README's
// bench section) from the measured numbers.
//
//	go run ./tools/bench -o BENCHMARKS.md
//
// Run it from the repository root. It takes about 12 minutes on two cores;
// the table on FC's instance sizes needs root (cgroups), and is skipped,
// saying why, without.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/sentry-white/sentry-white/internal/fccost"
	"github.com/sentry-white/sentry-white/tools/load/report"
)

// benchPkgs are the packages whose Go benchmarks make bench runs.
var benchPkgs = []string{"./internal/sentry", "./internal/route", "./internal/render", "./internal/notify/dingtalk", "./internal/relay"}

// defaultBefore is the commit the relay is compared with: the relay as
// issue 18 measured it, before the changes its profile led to.
const defaultBefore = "534f2bd"

// defaultFCBefore is the commit the relay is compared with on a Function
// Compute instance: the relay as issue 26 measured it, before the changes
// to its cold start and bursts.
const defaultFCBefore = "e24e791"

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type options struct {
	out       string
	readme    string
	benchtime string
	n         int
	nOne      int
	rounds    int
	storm     int
	before    string
	fcBefore  string
	fcRuns    int
	fcSizes   string
	keep      bool
	save      string // also write the measurements here
	from      string // render from measurements saved before
}

func run(args []string, log io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(log)
	o := &options{}
	fs.StringVar(&o.out, "o", "BENCHMARKS.md", "the report to write")
	fs.StringVar(&o.readme, "readme", "README.md", "also rewrite this file's section between <!-- bench:start --> and <!-- bench:end --> (\"\" to leave it)")
	fs.StringVar(&o.benchtime, "benchtime", "400ms", "go test -benchtime for the Go benchmarks")
	fs.IntVar(&o.n, "n", 20000, "webhooks per run at concurrency 50")
	fs.IntVar(&o.nOne, "n-one", 5000, "webhooks per one-at-a-time run")
	fs.IntVar(&o.rounds, "rounds", 5, "repetitions of every load run (the report gives medians)")
	fs.IntVar(&o.storm, "storm", 5000, "webhooks of the storm run (0: skip)")
	fs.StringVar(&o.before, "before", defaultBefore, "commit to compare with (\"\" to skip); needs the git history")
	fs.StringVar(&o.fcBefore, "fc-before", defaultFCBefore, "commit to compare with on the FC-shaped instances (\"\" to skip); needs the git history")
	fs.IntVar(&o.fcRuns, "fc-runs", 5, "fresh processes per relay, instance size and document in the FC-shaped table")
	fs.StringVar(&o.fcSizes, "fc-sizes", "0.05,0.1,0.25,0.5", "instance sizes of the FC-shaped table (vCPU; FC's least memory for each)")
	fs.BoolVar(&o.keep, "keep", false, "keep the work folder")
	fs.StringVar(&o.save, "save", "", "also write what was measured to this JSON file (for -from)")
	fs.StringVar(&o.from, "from", "", "write the reports from a file -save wrote instead of measuring: after a change of the instance size in deploy/s.yaml, which they price as it is now")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if _, err := os.Stat("go.mod"); err != nil {
		return errors.New("run it from the repository root (make bench)")
	}
	start := time.Now()
	work, err := os.MkdirTemp("", "sentry-white-bench-*")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Fprintln(log, "work folder:", work)
	} else {
		defer os.RemoveAll(work)
	}
	ctx := context.Background()
	r := &result{Commit: gitOut("rev-parse", "--short", "HEAD"),
		Dirty: gitOut("status", "--porcelain", "--untracked-files=no", "--", "cmd", "internal", "go.mod", "go.sum") != ""}
	syaml, err := os.ReadFile(filepath.Join("deploy", "s.yaml"))
	if err != nil {
		return err
	}
	if r.Size, err = fccost.ParseSize(string(syaml)); err != nil {
		return fmt.Errorf("deploy/s.yaml: %w", err)
	}

	if o.from != "" {
		return rerender(log, o, r.Size)
	}

	step(log, "Go benchmarks")
	if r.Go, err = goBench(ctx, ".", o.benchtime, ".", benchPkgs...); err != nil {
		return err
	}
	loadArgs := []string{"-n", strconv.Itoa(o.n), "-n-one", strconv.Itoa(o.nOne), "-rounds", strconv.Itoa(o.rounds),
		"-storm", strconv.Itoa(o.storm), "-fc-runs", strconv.Itoa(o.fcRuns), "-fc-sizes", o.fcSizes}
	if o.before != "" {
		step(log, "baseline "+o.before)
		relay, err := before(ctx, o, work, r)
		if err != nil {
			fmt.Fprintf(log, "baseline skipped: %v\n", err)
			r.BeforeSkipped = err.Error()
		} else {
			loadArgs = append(loadArgs, "-before", relay, "-before-name", r.BeforeRev)
		}
	}
	if o.fcBefore != "" {
		step(log, "FC baseline "+o.fcBefore)
		rev, relay, err := buildAt(ctx, o.fcBefore, work, "fc-before")
		if err != nil {
			fmt.Fprintf(log, "FC baseline skipped: %v\n", err)
			r.FCBeforeSkipped = err.Error()
		} else {
			r.FCBeforeRev = rev
			loadArgs = append(loadArgs, "-fc-relay", rev+"="+relay)
		}
	}
	step(log, "load tool")
	loadBin := filepath.Join(work, "sentry-white-load")
	if err := goCmd(ctx, ".", nil, "build", "-o", loadBin, "./tools/load"); err != nil {
		return err
	}
	loadJSON := filepath.Join(work, "load.json")
	if err := runTool(ctx, log, loadBin, append(loadArgs, "-json", loadJSON)...); err != nil {
		return err
	}
	if r.Load, err = report.Read(loadJSON); err != nil {
		return err
	}
	r.Took = time.Since(start)
	if o.save != "" {
		data, err := json.MarshalIndent(r, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(o.save, data, 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(log, "measured in %s\n", r.Took.Round(time.Second))
	return write(log, o, r)
}

// write writes the report and the README's bench section.
func write(log io.Writer, o *options, r *result) error {
	if err := os.WriteFile(o.out, []byte(render(r)), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(log, "wrote %s\n", o.out)
	if o.readme != "" {
		return rewriteReadme(log, o.readme, r)
	}
	return nil
}

// rerender writes the reports from the measurements in o.from, pricing
// size (deploy/s.yaml's now).
func rerender(log io.Writer, o *options, size fccost.Size) error {
	data, err := os.ReadFile(o.from)
	if err != nil {
		return err
	}
	var r result
	if err := json.Unmarshal(data, &r); err != nil {
		return fmt.Errorf("%s: %w", o.from, err)
	}
	if r.Load == nil {
		return fmt.Errorf("%s holds no measurements", o.from)
	}
	r.Size = size
	return write(log, o, &r)
}

func step(log io.Writer, s string) {
	fmt.Fprintf(log, "== %s (%s)\n", s, time.Now().Format("15:04:05"))
}

// result is everything the report shows.
type result struct {
	Commit        string
	Dirty         bool
	Go            []goBenchmark
	Load          *report.Report
	BeforeRev     string
	BeforeGo      []goBenchmark // the baseline's handler benchmarks
	BeforeSkipped string
	// FCBeforeRev is the relay measured beside this one on the FC-shaped
	// instances (FCBeforeSkipped says why not).
	FCBeforeRev     string
	FCBeforeSkipped string
	Took            time.Duration
	Size            fccost.Size // the instance deploy/s.yaml sets, for the cost on FC
}

// goBenchmark is one line of go test -bench output.
type goBenchmark struct {
	Pkg      string
	Name     string // without the -GOMAXPROCS suffix
	N        int64
	NsOp     float64
	MBs      float64
	BytesOp  float64
	AllocsOp float64
}

var benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+(\d+)\s+(.*)$`)

// parseBench reads go test -bench output.
func parseBench(out []byte) []goBenchmark {
	var bs []goBenchmark
	pkg := ""
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if p, ok := strings.CutPrefix(line, "pkg: "); ok {
			pkg = strings.TrimPrefix(strings.TrimSpace(p), "github.com/sentry-white/sentry-white/")
			continue
		}
		m := benchLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		b := goBenchmark{Pkg: pkg, Name: strings.TrimPrefix(m[1], "Benchmark")}
		b.N, _ = strconv.ParseInt(m[2], 10, 64)
		f := strings.Fields(m[3])
		for i := 0; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			switch f[i+1] {
			case "ns/op":
				b.NsOp = v
			case "MB/s":
				b.MBs = v
			case "B/op":
				b.BytesOp = v
			case "allocs/op":
				b.AllocsOp = v
			}
		}
		bs = append(bs, b)
	}
	return bs
}

// goBench runs the Go benchmarks matching match of pkgs in dir (a module
// root).
func goBench(ctx context.Context, dir, benchtime, match string, pkgs ...string) ([]goBenchmark, error) {
	args := append([]string{"test", "-run", "^$", "-bench", match, "-benchmem", "-benchtime", benchtime, "-count", "1"}, pkgs...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("go test -bench in %s: %w\n%s", dir, err, out)
	}
	bs := parseBench(out)
	if len(bs) == 0 {
		return nil, fmt.Errorf("go test -bench in %s printed no benchmark:\n%s", dir, out)
	}
	return bs, nil
}

func goCmd(ctx context.Context, dir string, env []string, args ...string) error {
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// runTool runs the load tool, its progress lines going to log.
func runTool(ctx context.Context, log io.Writer, bin string, args ...string) error {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(bin), err)
	}
	return nil
}

func gitOut(args ...string) string {
	out, err := exec.Command("git", args...).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// before builds the baseline commit's relay (buildAt) and runs its
// handler benchmarks; the load tool measures the relay it returns next to
// the current one.
func before(ctx context.Context, o *options, work string, r *result) (string, error) {
	rev, relay, err := buildAt(ctx, o.before, work, "before")
	if err != nil {
		return "", err
	}
	r.BeforeRev = rev
	if r.BeforeGo, err = goBench(ctx, filepath.Join(work, "before"), o.benchtime, "Handler", "./internal/relay"); err != nil {
		return "", err
	}
	return relay, nil
}

// buildAt builds the relay of commit from its source (git archive into
// work/name; the working tree is not touched) and returns the commit's
// short name and the relay's path.
func buildAt(ctx context.Context, commit, work, name string) (rev, relay string, err error) {
	rev = gitOut("rev-parse", "--short", commit+"^{commit}")
	if rev == "" {
		return "", "", fmt.Errorf("commit %s is not in this clone's history", commit)
	}
	dir := filepath.Join(work, name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", "", err
	}
	archive := exec.CommandContext(ctx, "git", "archive", "--format=tar", rev)
	tar := exec.CommandContext(ctx, "tar", "-x", "-C", dir)
	pipe, err := archive.StdoutPipe()
	if err != nil {
		return "", "", err
	}
	tar.Stdin = pipe
	if err := tar.Start(); err != nil {
		return "", "", err
	}
	if err := archive.Run(); err != nil {
		return "", "", fmt.Errorf("git archive %s: %w", rev, err)
	}
	if err := tar.Wait(); err != nil {
		return "", "", fmt.Errorf("tar: %w", err)
	}
	relay = filepath.Join(work, "relay-"+name)
	if err := goCmd(ctx, dir, []string{"CGO_ENABLED=0"}, "build", "-trimpath", "-ldflags", "-s -w", "-o", relay, "./cmd/sentry-white-fc"); err != nil {
		return "", "", err
	}
	return rev, relay, nil
}

// rewriteReadme puts this run's summary in the README's bench section.
func rewriteReadme(log io.Writer, path string, r *result) error {
	doc, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	s, ok := replaceSection(string(doc), readmeSummary(r))
	if !ok {
		return nil
	}
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(log, "rewrote the bench section of %s\n", path)
	return nil
}

const (
	readmeStart = "<!-- bench:start -->"
	readmeEnd   = "<!-- bench:end -->"
)

// replaceSection puts body between the markers of doc; ok is false when
// the markers are missing.
func replaceSection(doc, body string) (string, bool) {
	i := strings.Index(doc, readmeStart)
	j := strings.Index(doc, readmeEnd)
	if i < 0 || j < i {
		return doc, false
	}
	return doc[:i+len(readmeStart)] + "\n" + body + doc[j:], true
}
