package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// proc is a relay (or the seed emulation) started with exec.
type proc struct {
	cmd     *exec.Cmd
	addr    string
	logPath string
	started time.Time
	// FirstAnswer is the time from exec to the first 200 on GET /.
	FirstAnswer time.Duration
	// IdleRSSKB is VmRSS right after that first answer.
	IdleRSSKB int64
	exited    chan error
}

// freeAddr returns a loopback address with a port free right now.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startProc execs bin with args (plus -addr) and env, logging to a file in
// dir, and waits for its first 200 on GET / (bounded by limit).
func startProc(bin string, args, env []string, dir, name string, limit time.Duration) (*proc, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	cmd := exec.Command(bin, append(args, "-addr", addr)...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Dir = dir
	p := &proc{cmd: cmd, addr: addr, logPath: logPath, exited: make(chan error, 1)}
	// A client that opens a new connection per probe, so the first answer
	// is measured on a fresh connection as Sentry's first webhook would be.
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: limit}
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() { p.exited <- cmd.Wait() }()
	deadline := p.started.Add(limit)
	for {
		if time.Now().After(deadline) {
			p.kill()
			return nil, fmt.Errorf("%s gave no 200 on GET / within %s; its log:\n%s", name, limit, tail(logPath))
		}
		select {
		case err := <-p.exited:
			return nil, fmt.Errorf("%s exited before answering: %v; its log:\n%s", name, err, tail(logPath))
		default:
		}
		// Poll the port; once it accepts, the request waits in the backlog
		// until the server serves it.
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err != nil {
			time.Sleep(200 * time.Microsecond)
			continue
		}
		c.Close()
		resp, err := client.Get("http://" + addr + "/")
		if err != nil {
			time.Sleep(200 * time.Microsecond)
			continue
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			p.kill()
			return nil, fmt.Errorf("%s answered GET / with %d; its log:\n%s", name, resp.StatusCode, tail(logPath))
		}
		p.FirstAnswer = time.Since(p.started)
		break
	}
	p.IdleRSSKB, _ = p.status("VmRSS")
	return p, nil
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

// status reads a kB field of /proc/<pid>/status (VmRSS, VmHWM).
func (p *proc) status(field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.pid()))
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			return strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no %s", p.pid(), field)
}

// clockTick is USER_HZ, the unit of /proc/<pid>/stat times (100 on Linux).
const clockTick = 100

// cpu returns the user+system CPU time the process has used.
func (p *proc) cpu() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.pid()))
	if err != nil {
		return 0, err
	}
	// Fields after the command name, which is in parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("unexpected /proc stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("unexpected /proc stat")
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / clockTick, nil
}

// stop sends SIGTERM and waits (bounded) for a clean exit.
func (p *proc) stop(limit time.Duration) error {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.exited:
		return err
	case <-time.After(limit):
		p.kill()
		return fmt.Errorf("did not stop within %s after SIGTERM", limit)
	}
}

// isSignalExit reports whether err is a process's end by SIGTERM (the
// floor server has no handler for it).
func isSignalExit(err error) bool {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGTERM
}

func (p *proc) kill() {
	_ = p.cmd.Process.Kill()
	select {
	case <-p.exited:
	case <-time.After(5 * time.Second):
	}
}

// tail returns the last lines of a log file.
func tail(path string) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return strings.Join(lines, "\n")
}

// countLog counts the lines of a relay's log, and those at level WARN or
// ERROR.
func countLog(path string) (warns, lines int) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Bytes()
		lines++
		if bytes.Contains(line, []byte(`"level":"WARN"`)) || bytes.Contains(line, []byte(`"level":"ERROR"`)) {
			warns++
		}
	}
	return warns, lines
}

// runCmd runs a command with its output kept for the error.
func runCmd(ctx context.Context, env []string, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	if env != nil {
		cmd.Env = env
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w\n%s", name, strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return nil
}
