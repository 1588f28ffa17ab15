package main

import (
	"archive/zip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/sentry-white/sentry-white/internal/store"
	"github.com/sentry-white/sentry-white/tools/load/report"
)

// loader holds what the runs share.
type loader struct {
	o        *options
	out      io.Writer
	work     string
	relays   []report.Relay // the current relay first, then the baseline
	standin  *standIn
	oss      *ossServer
	doc      []byte // the load document
	payloads []*payload
	projects int
	env      []string
	// nextID is the id of the next webhook: ids count up through the
	// whole invocation.
	nextID int64
}

// smallProjects is the size of a typical team's document (cold start,
// storm).
const smallProjects = 20

// Document locations in the OSS bucket: the load document under api/, a
// typical team's under small/.
const (
	loadPrefix  = "api/"
	smallPrefix = "small/"
	// thousandPrefix holds a document of fcProjects projects, the large
	// document of the FC-shaped runs.
	thousandPrefix = "thousand/"
)

// fcProjects is the large document of the FC-shaped runs.
const fcProjects = 1000

func newLoader(o *options, out io.Writer) (*loader, error) {
	l := &loader{o: o, out: out, env: cleanEnv(), nextID: firstID()}
	// Enough projects (one robot each) that no robot gets more than 18
	// messages in a run, under DingTalk's 20 a minute, and at least 1,000.
	l.projects = max(1000, (o.warm+max(o.n, o.nOne)+17)/18)
	var err error
	if l.work, err = os.MkdirTemp("", "sentry-white-load-*"); err != nil {
		return nil, err
	}
	if o.keep {
		fmt.Fprintln(out, "work folder:", l.work)
	}
	l.standin = newStandIn(l.projects, o.latency)
	l.oss = newOSSServer()
	return l, nil
}

func (l *loader) close() {
	if l.standin != nil {
		l.standin.Close()
	}
	if l.oss != nil {
		l.oss.Close()
	}
	if !l.o.keep {
		os.RemoveAll(l.work)
	}
}

// ids reserves n webhook ids and returns the first.
func (l *loader) ids(n int) int64 {
	id := l.nextID
	l.nextID += int64(n)
	return id
}

// prepareBinaries builds (or takes) the FC zip and the relay binaries.
func (l *loader) prepareBinaries(rep *report.Report) error {
	relay := l.o.relay
	zipPath := l.o.zipPath
	if zipPath == "" && l.o.buildZip {
		zipPath = filepath.Join(l.work, "sentry-white-fc.zip")
		fmt.Fprintln(l.out, "building the FC zip: go run ./tools/fc-zip")
		if err := runCmd(context.Background(), nil, "go", "run", "github.com/sentry-white/sentry-white/tools/fc-zip", "-o", zipPath); err != nil {
			return err
		}
	}
	if zipPath != "" {
		boot, sizes, err := l.openZip(zipPath, relay == "")
		if err != nil {
			return err
		}
		rep.Sizes = sizes
		if relay == "" {
			relay = boot
		}
	}
	if relay == "" {
		relay = filepath.Join(l.work, "sentry-white-fc")
		fmt.Fprintln(l.out, "building the relay: go build ./cmd/sentry-white-fc")
		env := append(os.Environ(), "CGO_ENABLED=0")
		if err := runCmd(context.Background(), env, "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", relay,
			"github.com/sentry-white/sentry-white/cmd/sentry-white-fc"); err != nil {
			return err
		}
	}
	l.relays = []report.Relay{{Name: "current", Path: absPath(relay)}}
	if l.o.before != "" {
		l.relays = append(l.relays, report.Relay{Name: l.o.beforeName, Path: absPath(l.o.before)})
	}
	for _, kv := range l.o.also {
		name, path, _ := strings.Cut(kv, "=")
		l.relays = append(l.relays, report.Relay{Name: name, Path: absPath(path)})
	}
	return nil
}

func absPath(p string) string {
	if abs, err := filepath.Abs(p); err == nil {
		return abs
	}
	return p
}

// openZip measures an FC zip and, when extract is set on a linux/amd64
// host, unpacks its bootstrap to run it.
func (l *loader) openZip(path string, extract bool) (string, *report.Sizes, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", nil, err
	}
	zr, err := zip.OpenReader(path)
	if err != nil {
		return "", nil, err
	}
	defer zr.Close()
	if len(zr.File) != 1 || zr.File[0].Name != "bootstrap" {
		return "", nil, fmt.Errorf("%s: want one entry, bootstrap", path)
	}
	sizes := &report.Sizes{ZipBytes: st.Size(), BootstrapBytes: int64(zr.File[0].UncompressedSize64)}
	if !extract || runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		return "", sizes, nil
	}
	boot := filepath.Join(l.work, "bootstrap")
	return boot, sizes, extractFile(zr.File[0], boot)
}

func extractFile(f *zip.File, to string) error {
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

// prepareStores puts the load document and a typical team's in the OSS
// bucket, and renders the robot messages of the payloads.
func (l *loader) prepareStores(rep *report.Report) error {
	doc := buildDoc(l.projects)
	var err error
	if l.payloads, err = loadPayloads(l.o.testdata, doc); err != nil {
		return err
	}
	if l.doc, err = json.Marshal(doc); err != nil {
		return err
	}
	small, err := json.Marshal(buildDoc(smallProjects))
	if err != nil {
		return err
	}
	if err := l.oss.Seed(store.ConfigKey(loadPrefix), l.doc); err != nil {
		return err
	}
	if err := l.oss.Seed(store.ConfigKey(smallPrefix), small); err != nil {
		return err
	}
	thousand, err := json.Marshal(buildDoc(fcProjects))
	if err != nil {
		return err
	}
	if err := l.oss.Seed(store.ConfigKey(thousandPrefix), thousand); err != nil {
		return err
	}
	rep.Settings = report.Settings{N: l.o.n, NSerial: l.o.nOne, Warm: l.o.warm, C: l.o.c, Rounds: l.o.rounds,
		MaxTimeS: l.o.maxTime.Seconds(), Projects: l.projects, DocBytes: len(l.doc), SmallDocs: smallProjects,
		RobotLatency: l.o.latency.String(), FirstID: l.nextID}
	for _, p := range l.payloads {
		rep.Settings.Payloads = append(rep.Settings.Payloads, p.name)
	}
	return nil
}

// relayEnv is what a relay needs: the stand-in as DingTalk, the loopback
// OSS server and its keys.
func (l *loader) relayEnv() []string {
	env := append(slices.Clone(l.env), "SENTRY_WHITE_DINGTALK_API="+l.standin.URL(),
		"OSS_ENDPOINT="+l.oss.URL, "OSS_REGION="+ossRegion, "ALIBABA_CLOUD_ACCESS_KEY_ID=LTAIloadtest",
		"ALIBABA_CLOUD_ACCESS_KEY_SECRET=loadtestsecret")
	return append(env, l.o.relayEnv...)
}

// startRelay execs relay r on the document under prefix, with its own
// spool.
func (l *loader) startRelay(r report.Relay, prefix, name string) (*proc, string, error) {
	spool := filepath.Join(l.work, "spool-"+name)
	args := []string{"-store", "oss://" + bucket + "/" + prefix, "-spool", spool}
	p, err := startProc(r.Path, args, l.relayEnv(), l.work, name, 10*time.Second)
	return p, spool, err
}

// coldStarts times relay r's start to its first answer, with the typical
// team's document and with the load document.
func (l *loader) coldStarts(rep *report.Report, r report.Relay) error {
	if l.o.coldStarts < 1 {
		return nil
	}
	for _, c := range []struct {
		prefix   string
		projects int
	}{{smallPrefix, smallProjects}, {loadPrefix, l.projects}} {
		cs := report.ColdStart{Relay: r.Name, Store: "oss", Projects: c.projects, Runs: l.o.coldStarts}
		var durs []time.Duration
		for i := range l.o.coldStarts {
			name := fmt.Sprintf("cold-%s-%s%d", r.Name, strings.TrimSuffix(c.prefix, "/"), i)
			p, _, err := l.startRelay(r, c.prefix, name)
			if err != nil {
				return err
			}
			durs = append(durs, p.FirstAnswer)
			cs.IdleRSSAllKB = append(cs.IdleRSSAllKB, p.IdleRSSKB)
			cs.SamplesMS = append(cs.SamplesMS, msOf(p.FirstAnswer))
			if err := p.stop(10 * time.Second); err != nil {
				return fmt.Errorf("%s: %v", name, err)
			}
		}
		v := percentiles(durs, 50, 0.0001, 100)
		cs.MedianMS, cs.MinMS, cs.MaxMS = msOf(v[0]), msOf(v[1]), msOf(v[2])
		rss := slices.Clone(cs.IdleRSSAllKB)
		slices.Sort(rss)
		cs.IdleRSSKB = rss[len(rss)/2]
		cs.DocBytes = len(l.doc)
		if c.prefix == smallPrefix {
			b, _ := json.Marshal(buildDoc(smallProjects))
			cs.DocBytes = len(b)
		}
		rep.ColdStart = append(rep.ColdStart, cs)
		fmt.Fprintf(l.out, "cold start %-8s %4d projects: median %.2f ms (min %.2f, max %.2f), idle RSS %.1f MB\n",
			r.Name, c.projects, cs.MedianMS, cs.MinMS, cs.MaxMS, float64(cs.IdleRSSKB)/1024)
	}
	return nil
}

func msOf(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// runRelay runs relay r at concurrency c for n webhooks to the load
// document.
func (l *loader) runRelay(r report.Relay, c, n, round int) (report.Run, error) {
	name := fmt.Sprintf("relay-%s-c%d-r%d", r.Name, c, round)
	p, _, err := l.startRelay(r, loadPrefix, name)
	if err != nil {
		return report.Run{}, err
	}
	x := report.Run{System: report.Relays, Relay: r.Name, Store: "oss", C: c, Round: round}
	err = l.measure(p, &x, c, n, l.o.warm, webhookRequest(p.addr, l.projects, l.payloads))
	if serr := p.stop(30 * time.Second); serr != nil && err == nil {
		err = fmt.Errorf("%s: %v", name, serr)
	}
	x.LogWarns, x.LogLines = countLog(p.logPath)
	l.print(x)
	return x, err
}

// runDirect posts the robot messages of n webhooks straight to the
// stand-in at concurrency c, with the same client.
func (l *loader) runDirect(c, n, round int) (report.Run, error) {
	x := report.Run{System: report.Direct, Store: "-", C: c, Round: round}
	err := l.measure(nil, &x, c, n, l.o.warm, directRequest(l.standin.URL(), l.projects, l.payloads))
	l.print(x)
	return x, err
}

// runStorm sends n webhooks at concurrency 50 to the current relay on the
// 20-project document: after each robot's first 20 messages the relay
// queues the alerts (answering 202), spools them and sends them as digests
// when the budget allows. Webhooks still queued at the end stay in the
// spool.
func (l *loader) runStorm(n int) (report.Run, error) {
	name := "relay-storm"
	p, spool, err := l.startRelay(l.relays[0], smallPrefix, name)
	if err != nil {
		return report.Run{}, err
	}
	x := report.Run{System: report.Storm, Relay: l.relays[0].Name, Store: "oss", C: 50, Round: 1}
	msgs0 := l.standin.messages.Load()
	err = l.measure(p, &x, 50, n, 0, webhookRequest(p.addr, smallProjects, l.payloads))
	l.standin.settle(5 * time.Second)
	x.Messages = l.standin.messages.Load() - msgs0
	if serr := p.stop(30 * time.Second); serr != nil && err == nil {
		err = fmt.Errorf("%s: %v", name, serr)
	}
	// One file per alert, in the store's folder of the spool (at its top
	// for an older relay); budget.json holds the robots' budgets.
	_ = filepath.WalkDir(spool, func(_ string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() && strings.HasSuffix(e.Name(), ".json") && e.Name() != "budget.json" {
			x.Spooled++
		}
		return nil
	})
	x.LogWarns, x.LogLines = countLog(p.logPath)
	l.print(x)
	return x, err
}

func (l *loader) print(x report.Run) {
	label := x.System
	if x.Relay != "" {
		label += "/" + x.Relay
	}
	fmt.Fprintf(l.out, "%-24s c=%-3d #%d %6d sent %6.0f/s  latency p50 %.2f p99 %.2f ms  overhead p50 %.2f p99 %.2f ms  messages/webhook %.2f  CPU %.0f µs/webhook  peak RSS %.1f MB (anon %.1f)  reads/webhook %.4f  robot conns %d  %s\n",
		label, x.C, x.Round, x.Sent, x.PerSecond, x.Latency.P50, x.Latency.P99, x.Overhead.P50, x.Overhead.P99, x.MsgsPerHook,
		x.CPUPerHookUS, float64(x.PeakRSSKB)/1024, float64(x.MaxAnonKB)/1024, x.ReadsPerHook, x.RobotConns, x.Note)
}
