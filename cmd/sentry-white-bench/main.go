// Command sentry-white-bench is make bench: it runs the Go benchmarks of
// the relay's parts and of the whole handler, builds the FC zip and the
// relay, runs the load tool (cmd/sentry-white-load) for throughput,
// latency, overhead, store reads, memory, cold start and sizes, measures
// the same for a baseline commit when its history is available, and
// rewrites BENCHMARKS.md from the measured numbers.
//
//	go run ./cmd/sentry-white-bench -o BENCHMARKS.md
//
// Run it from the repository root. It takes about three to four minutes
// on two cores.
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
)

// benchPkgs are the packages whose Go benchmarks make bench runs.
var benchPkgs = []string{"./internal/sentry", "./internal/route", "./internal/render", "./internal/notify/dingtalk", "./internal/relay"}

// defaultBefore is the commit the relay is compared with: the benchmarks
// as first written, before the performance fixes they led to.
const defaultBefore = "fc72646"

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "sentry-white-bench:", err)
		os.Exit(1)
	}
}

type options struct {
	out       string
	readme    string
	benchtime string
	n         int
	seedN     int
	before    string
	keep      bool
}

func run(args []string, log io.Writer) error {
	fs := flag.NewFlagSet("sentry-white-bench", flag.ContinueOnError)
	fs.SetOutput(log)
	o := &options{}
	fs.StringVar(&o.out, "o", "BENCHMARKS.md", "the report to write")
	fs.StringVar(&o.readme, "readme", "README.md", "also rewrite this file's section between <!-- bench:start --> and <!-- bench:end --> (\"\" to leave it)")
	fs.StringVar(&o.benchtime, "benchtime", "400ms", "go test -benchtime for the Go benchmarks")
	fs.IntVar(&o.n, "n", 20000, "webhooks per load run")
	fs.IntVar(&o.seedN, "seed-n", 2000, "webhooks per run of the seed's pattern")
	fs.StringVar(&o.before, "before", defaultBefore, "commit to compare with (\"\" to skip); needs the git history")
	fs.BoolVar(&o.keep, "keep", false, "keep the work folder")
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
	r := &result{Commit: gitOut("rev-parse", "--short", "HEAD"), Dirty: gitOut("status", "--porcelain", "--untracked-files=no", "--", "cmd", "internal", "go.mod", "go.sum") != ""}

	step(log, "Go benchmarks")
	if r.Go, err = goBench(ctx, ".", o.benchtime); err != nil {
		return err
	}
	step(log, "load tool")
	loadBin := filepath.Join(work, "sentry-white-load")
	if err := goCmd(ctx, ".", nil, "build", "-o", loadBin, "./cmd/sentry-white-load"); err != nil {
		return err
	}
	loadJSON := filepath.Join(work, "load.json")
	if err := runTool(ctx, log, loadBin, "-json", loadJSON, "-n", strconv.Itoa(o.n), "-seed-n", strconv.Itoa(o.seedN)); err != nil {
		return err
	}
	if r.Load, err = readReport(loadJSON); err != nil {
		return err
	}
	if o.before != "" {
		step(log, "baseline "+o.before)
		if err := before(ctx, log, o, work, loadBin, r); err != nil {
			fmt.Fprintf(log, "baseline skipped: %v\n", err)
			r.BeforeSkipped = err.Error()
		}
	}
	r.Took = time.Since(start)
	md := render(r)
	if err := os.WriteFile(o.out, []byte(md), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(log, "wrote %s in %s\n", o.out, r.Took.Round(time.Second))
	if o.readme != "" {
		doc, err := os.ReadFile(o.readme)
		if err != nil {
			return err
		}
		if s, ok := replaceSection(string(doc), readmeSummary(r)); ok {
			if err := os.WriteFile(o.readme, []byte(s), 0o644); err != nil {
				return err
			}
			fmt.Fprintf(log, "rewrote the bench section of %s\n", o.readme)
		}
	}
	return nil
}

func step(log io.Writer, s string) {
	fmt.Fprintf(log, "== %s (%s)\n", s, time.Now().Format("15:04:05"))
}

// result is everything the report shows.
type result struct {
	Commit        string
	Dirty         bool
	Go            []goBenchmark
	Load          *Report
	BeforeRev     string
	BeforeGo      []goBenchmark
	BeforeLoad    *Report
	BeforeSkipped string
	Took          time.Duration
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

// goBench runs the Go benchmarks in dir (a module root).
func goBench(ctx context.Context, dir, benchtime string) ([]goBenchmark, error) {
	args := append([]string{"test", "-run", "^$", "-bench", ".", "-benchmem", "-benchtime", benchtime, "-count", "1"}, benchPkgs...)
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

func readReport(path string) (*Report, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &r, nil
}

func gitOut(args ...string) string {
	out, err := exec.Command("git", args...).Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

// before measures the baseline commit: its source from git archive (the
// working tree is not touched), its Go benchmarks, and its relay under the
// current load tool on the OSS store at concurrency 1 and 50.
func before(ctx context.Context, log io.Writer, o *options, work, loadBin string, r *result) error {
	rev := gitOut("rev-parse", "--short", o.before+"^{commit}")
	if rev == "" {
		return fmt.Errorf("commit %s is not in this clone's history", o.before)
	}
	dir := filepath.Join(work, "before")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	archive := exec.CommandContext(ctx, "git", "archive", "--format=tar", rev)
	tar := exec.CommandContext(ctx, "tar", "-x", "-C", dir)
	pipe, err := archive.StdoutPipe()
	if err != nil {
		return err
	}
	tar.Stdin = pipe
	if err := tar.Start(); err != nil {
		return err
	}
	if err := archive.Run(); err != nil {
		return fmt.Errorf("git archive %s: %w", rev, err)
	}
	if err := tar.Wait(); err != nil {
		return fmt.Errorf("tar: %w", err)
	}
	r.BeforeRev = rev
	if r.BeforeGo, err = goBench(ctx, dir, o.benchtime); err != nil {
		return err
	}
	relay := filepath.Join(work, "relay-before")
	if err := goCmd(ctx, dir, []string{"CGO_ENABLED=0"}, "build", "-trimpath", "-ldflags", "-s -w", "-o", relay, "./cmd/sentry-white-fc"); err != nil {
		return err
	}
	out := filepath.Join(work, "before.json")
	if err := runTool(ctx, log, loadBin, "-relay", relay, "-build-zip=false", "-json", out, "-n", strconv.Itoa(o.n),
		"-c", "1,50", "-stores", "oss", "-seed=false", "-floor=false", "-history-off=false", "-storm", "0", "-cold-starts", "7"); err != nil {
		return err
	}
	r.BeforeLoad, err = readReport(out)
	return err
}
