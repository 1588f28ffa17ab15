package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sentry-white/sentry-white/internal/store"
	"github.com/sentry-white/sentry-white/tools/load/report"
)

// The FC-shaped runs (-fc): each relay, and the minimal relay beside it,
// a fresh process per run inside a cgroup limited like a Function Compute
// instance of each size, reading its document from the OSS stand-in and
// posting to the DingTalk stand-in over HTTPS as on FC (the system's CA
// certificates and the stand-ins' in SSL_CERT_FILE). Each run times the
// cold start to the first webhook's answer, then sends a burst of
// distinct webhooks at once, then webhooks one at a time.

// fcSizes are the instance sizes measured: FC's smallest vCPU steps, with
// the least memory FC allows for each (128 MB; 1 GB per vCPU at least).
var fcSizes = []report.FCSize{{VCPU: 0.05, MemoryMB: 128}, {VCPU: 0.1, MemoryMB: 128}, {VCPU: 0.25, MemoryMB: 256}, {VCPU: 0.5, MemoryMB: 512}}

// minimalName names the minimal relay in the FC-shaped runs.
const minimalName = "minimal"

// fcSystem is one relay binary the FC-shaped runs start.
type fcSystem struct {
	name    string
	bin     string
	minimal bool // the minimal relay: its own flags, no /initialize
}

// parseSizes reads -fc-sizes: vCPU figures, each with its memory after a
// slash or FC's least memory for it.
func parseSizes(s string) ([]report.FCSize, error) {
	var out []report.FCSize
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		cpu, mem, hasMem := strings.Cut(f, "/")
		v, err := strconv.ParseFloat(cpu, 64)
		if err != nil || v < 0.05 || v > 16 {
			return nil, fmt.Errorf("-fc-sizes: %q is not a vCPU figure from 0.05 to 16", cpu)
		}
		size := report.FCSize{VCPU: v, MemoryMB: leastMemoryMB(v)}
		if hasMem {
			if size.MemoryMB, err = strconv.Atoi(mem); err != nil || size.MemoryMB < 64 {
				return nil, fmt.Errorf("-fc-sizes: %q is not a memory size in MB", mem)
			}
		}
		out = append(out, size)
	}
	return out, nil
}

// leastMemoryMB is the least memory FC allows with vcpu: 128 MB, and at
// least 1 GB per vCPU, in steps of 64 MB.
func leastMemoryMB(vcpu float64) int {
	mb := int(vcpu*1024+63) / 64 * 64
	return max(128, mb)
}

// fcShaped runs the FC-shaped table.
func (l *loader) fcShaped(rep *report.Report) error {
	fc := &report.FCShaped{Sizes: l.o.fcSizes, Burst: l.o.fcBurst, Warm: l.o.fcWarm}
	rep.FC = fc
	k := detectCgroups()
	fc.Cgroup = k.String()
	if k.why != "" {
		fc.Skipped = k.why
		fmt.Fprintf(l.out, "FC-shaped runs skipped: %s\n", k.why)
		return nil
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	minimal, err := l.buildMinimal()
	if err != nil {
		return err
	}
	bundle, err := l.caBundle()
	if err != nil {
		return err
	}
	systems := []fcSystem{{name: "current", bin: l.relays[0].Path}}
	for _, kv := range l.o.fcRelays {
		name, path, _ := strings.Cut(kv, "=")
		systems = append(systems, fcSystem{name: name, bin: absPath(path)})
	}
	systems = append(systems, fcSystem{name: minimalName, bin: minimal, minimal: true})
	for _, s := range systems {
		fc.Relays = append(fc.Relays, s.name)
	}
	fmt.Fprintf(l.out, "FC-shaped runs in %s: %d runs per relay, size and document; a burst of %d, then %d one at a time\n",
		fc.Cgroup, l.o.fcRuns, l.o.fcBurst, l.o.fcWarm)
	for _, size := range l.o.fcSizes {
		for _, projects := range []int{smallProjects, fcProjects} {
			for round := 1; round <= l.o.fcRuns; round++ {
				for _, s := range systems {
					x := l.fcRun(k, self, bundle, s, size, projects, round)
					fc.Runs = append(fc.Runs, x)
					l.printFC(x)
				}
			}
		}
	}
	return nil
}

// buildMinimal builds the minimal relay (tools/load/minrelay), unless
// -minimal names one.
func (l *loader) buildMinimal() (string, error) {
	if l.o.minimal != "" {
		return absPath(l.o.minimal), nil
	}
	bin := filepath.Join(l.work, "minrelay")
	env := append(os.Environ(), "CGO_ENABLED=0")
	err := runCmd(context.Background(), env, "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", bin,
		"github.com/sentry-white/sentry-white/tools/load/minrelay")
	return bin, err
}

// caBundle writes the system's CA certificates with the stand-ins' own
// into one file for SSL_CERT_FILE: the relay loads as many roots as on a
// Debian instance, and trusts the stand-ins.
func (l *loader) caBundle() (string, error) {
	var b bytes.Buffer
	for _, f := range []string{"/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem"} {
		if data, err := os.ReadFile(f); err == nil {
			b.Write(data)
			b.WriteByte('\n')
			break
		}
	}
	for _, c := range []*x509.Certificate{l.standin.tls.Certificate(), l.oss.TLS.Certificate()} {
		_ = pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
	}
	path := filepath.Join(l.work, "ca-bundle.pem")
	return path, os.WriteFile(path, b.Bytes(), 0o644)
}

// fcRun is one fresh process of s in a cgroup of size with the document of
// projects.
func (l *loader) fcRun(k cgroupKind, self, bundle string, s fcSystem, size report.FCSize, projects, round int) report.FCRun {
	x := report.FCRun{Relay: s.name, Projects: projects, VCPU: size.VCPU, MemoryMB: size.MemoryMB, Round: round,
		BurstStatus: map[string]int{}}
	if err := l.fcProcess(&x, k, self, bundle, s, size, projects); err != nil {
		x.Error = err.Error()
	}
	return x
}

func (l *loader) fcProcess(x *report.FCRun, k cgroupKind, self, bundle string, s fcSystem, size report.FCSize, projects int) error {
	name := fmt.Sprintf("fc-%s-%g-%d-%d", s.name, size.VCPU, projects, x.Round)
	cg, err := newCgroup(k, fmt.Sprintf("sentry-white-load-%d-%s", os.Getpid(), name), size.VCPU, size.MemoryMB)
	if err != nil {
		return fmt.Errorf("cgroup: %w", err)
	}
	defer cg.remove()
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	prefix := thousandPrefix
	if projects == smallProjects {
		prefix = smallPrefix
	}
	var args []string
	env := append(slices.Clone(l.env), "SSL_CERT_FILE="+bundle)
	ossURL, robotURL := l.oss.TLSURL, l.standin.TLSURL()
	if l.o.fcPlain {
		ossURL, robotURL = l.oss.URL, l.standin.URL()
	}
	if s.minimal {
		args = []string{"-doc", ossURL + unsignedPrefix + store.ConfigKey(prefix), "-dingtalk", robotURL}
	} else {
		args = []string{"-store", "oss://" + bucket + "/" + prefix, "-spool", filepath.Join(l.work, "spool-"+name), "-mode", l.o.fcMode}
		env = append(env, "SENTRY_WHITE_DINGTALK_API="+robotURL, "OSS_ENDPOINT="+ossURL, "OSS_REGION="+ossRegion,
			"ALIBABA_CLOUD_ACCESS_KEY_ID=LTAIloadtest", "ALIBABA_CLOUD_ACCESS_KEY_SECRET=loadtestsecret",
			"SENTRY_WHITE_SELF_URL=http://"+addr+"/", "FC_FUNCTION_NAME=sentry-white-relay", "FC_REGION="+ossRegion)
	}
	env = append(env, l.o.relayEnv...)
	args = append(args, "-addr", addr)

	n := 1 + l.o.fcBurst + l.o.fcWarm
	first := l.ids(n)
	rec := l.standin.begin(first, n)
	x.Hooks = n
	legacy := l.payloads[0]
	hook := func(i int) *http.Request {
		body := legacy.webhook.fill(nil, first+int64(i), i%projects)
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/?token="+webhookToken, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		return req
	}

	p, err := startInCgroup(self, cg, s.bin, args, env, l.work, name)
	if err != nil {
		return err
	}
	defer func() {
		if p.cmd.ProcessState == nil {
			p.kill()
		}
	}()
	// The cold start: FC waits for the port, calls /initialize (when the
	// function configures it, as deploy/s.yaml does), then the request.
	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 30 * time.Second}
	if err := p.waitPort(30 * time.Second); err != nil {
		return err
	}
	if !s.minimal {
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/initialize", nil)
		req.Header.Set("x-fc-control-path", "/initialize")
		if _, err := do(fresh, req); err != nil {
			return fmt.Errorf("/initialize: %w", err)
		}
	}
	x.ColdStatus, err = do(fresh, hook(0))
	x.ColdMS = msOf(time.Since(p.started))
	x.ColdCPUMS = msOf(cg.cpuUsed())
	if err != nil {
		return fmt.Errorf("the first webhook: %w", err)
	}

	// The burst: every webhook at once, each on its own connection.
	cpu0 := cg.cpuUsed()
	x.BurstMS = make([]float64, l.o.fcBurst)
	statuses := make([]int, l.o.fcBurst)
	client := newClient(l.o.fcBurst)
	var wg sync.WaitGroup
	began := time.Now()
	for i := range l.o.fcBurst {
		req := hook(1 + i)
		wg.Go(func() {
			st, err := do(client, req)
			x.BurstMS[i] = msOf(time.Since(began))
			statuses[i] = st
			if err != nil || st != http.StatusOK && st != http.StatusAccepted {
				x.BurstMS[i] = -1
			}
		})
	}
	wg.Wait()
	x.BurstCPUMS = msOf(cg.cpuUsed() - cpu0)
	for _, st := range statuses {
		x.BurstStatus[strconv.Itoa(st)]++
	}

	// One at a time.
	cpu0 = cg.cpuUsed()
	for i := range l.o.fcWarm {
		t0 := time.Now()
		st, err := do(client, hook(1+l.o.fcBurst+i))
		if err != nil || st != http.StatusOK {
			return fmt.Errorf("webhook %d one at a time: status %d, %v", i, st, err)
		}
		x.WarmMS = append(x.WarmMS, msOf(time.Since(t0)))
	}
	if l.o.fcWarm > 0 {
		x.CPUPerHookUS = float64((cg.cpuUsed() - cpu0).Microseconds()) / float64(l.o.fcWarm)
	}
	client.CloseIdleConnections()
	x.PeakRSSKB, _ = p.status("VmHWM")
	x.Throttled = cg.throttled()
	if err := p.stop(30 * time.Second); err != nil && !isSignalExit(err) {
		return fmt.Errorf("%s: %v", name, err)
	}
	l.standin.settle(5 * time.Second)
	for i := range n {
		switch m := rec.msgs[i].Load(); {
		case m == 1:
			x.Once++
		case m > 1:
			x.Extra += int(m - 1)
		}
	}
	return nil
}

// do sends req and reads the answer; it returns the status.
func do(c *http.Client, req *http.Request) (int, error) {
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// startInCgroup execs bin inside cg through the wrapper (the load tool as
// cgexec): the wrapper joins the cgroup and waits; the clock starts when
// it is let go to exec bin.
func startInCgroup(self string, cg *cgroup, bin string, args, env []string, dir, name string) (*proc, error) {
	logPath := filepath.Join(dir, name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer readyR.Close()
	gateR, gateW, err := os.Pipe()
	if err != nil {
		readyW.Close()
		return nil, err
	}
	defer gateW.Close()
	argv := append(append(append([]string{cgexecArg}, cg.procs()...), "--", bin), args...)
	cmd := exec.Command(self, argv...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Dir = dir
	cmd.ExtraFiles = []*os.File{readyW, gateR}
	addr := args[len(args)-1]
	p := &proc{cmd: cmd, addr: addr, logPath: logPath, exited: make(chan error, 1)}
	err = cmd.Start()
	readyW.Close()
	gateR.Close()
	if err != nil {
		return nil, err
	}
	go func() { p.exited <- cmd.Wait() }()
	var b [1]byte
	if _, err := readyR.Read(b[:]); err != nil {
		p.kill()
		return nil, fmt.Errorf("%s: the wrapper did not join the cgroup; its log:\n%s", name, tail(logPath))
	}
	p.started = time.Now()
	if _, err := gateW.Write(b[:]); err != nil {
		p.kill()
		return nil, err
	}
	return p, nil
}

// waitPort waits until p's port accepts a connection (FC's readiness
// check), or p exits, or limit passes.
func (p *proc) waitPort(limit time.Duration) error {
	deadline := p.started.Add(limit)
	for {
		select {
		case err := <-p.exited:
			p.exited <- err
			return fmt.Errorf("exited before listening: %v; its log:\n%s", err, tail(p.logPath))
		default:
		}
		if c, err := net.DialTimeout("tcp", p.addr, 100*time.Millisecond); err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("not listening within " + limit.String())
		}
		time.Sleep(200 * time.Microsecond)
	}
}

func (l *loader) printFC(x report.FCRun) {
	if x.Error != "" {
		fmt.Fprintf(l.out, "fc %-8s %gv %4dMB %4d projects #%d: %s\n", x.Relay, x.VCPU, x.MemoryMB, x.Projects, x.Round, x.Error)
		return
	}
	warm := percentilesF(x.WarmMS, 50, 99)
	fmt.Fprintf(l.out, "fc %-8s %gv %4dMB %4d projects #%d: first answer %.0f ms (CPU %.1f ms, %d), burst last %.0f ms, %d of %d within 1 s %v (CPU %.1f ms), one at a time p50 %.1f p99 %.1f ms, CPU %.0f µs/webhook, once %d/%d (+%d), peak RSS %.1f MB, throttled %d\n",
		x.Relay, x.VCPU, x.MemoryMB, x.Projects, x.Round, x.ColdMS, x.ColdCPUMS, x.ColdStatus, x.BurstLastMS(), x.BurstWithin(1000), len(x.BurstMS),
		x.BurstStatus, x.BurstCPUMS, warm[0], warm[1], x.CPUPerHookUS, x.Once, x.Hooks, x.Extra, float64(x.PeakRSSKB)/1024, x.Throttled)
}

// percentilesF is percentiles of milliseconds.
func percentilesF(v []float64, ps ...float64) []float64 {
	d := make([]time.Duration, len(v))
	for i, f := range v {
		d[i] = time.Duration(f * float64(time.Millisecond))
	}
	out := make([]float64, len(ps))
	for i, x := range percentiles(d, ps...) {
		out[i] = float64(x) / float64(time.Millisecond)
	}
	return out
}
