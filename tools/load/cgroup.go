package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// A cgroup shaped like a Function Compute instance: a CPU quota per
// 100 ms period (0.05 vCPU is 5 ms of CPU time in every 100 ms) and a
// memory limit, on cgroup v2 (cpu.max, memory.max) or v1 (the cpu and
// memory hierarchies). The relay is exec'd inside it by a small wrapper
// (the load tool itself, with cgexecArg first) that joins the cgroup and
// then execs it, so every instruction of its start runs under the quota.

// cgroupRoot is where the hierarchies are mounted.
const cgroupRoot = "/sys/fs/cgroup"

// cgPeriod is the CFS period the quota is given in, FC's and the kernel's
// default.
const cgPeriod = 100 * time.Millisecond

// cgroupKind says which cgroup version the machine offers for CPU and
// memory limits, or why none can be used.
type cgroupKind struct {
	v2  bool
	why string // non-empty: cgroups cannot be used, and why
}

// detectCgroups finds cgroup v2 with the cpu and memory controllers, or
// cgroup v1's cpu and memory hierarchies, writable by this process.
func detectCgroups() cgroupKind {
	if runtime.GOOS != "linux" {
		return cgroupKind{why: "cgroups are Linux's"}
	}
	if os.Geteuid() != 0 {
		return cgroupKind{why: "not run as root: creating a cgroup needs root"}
	}
	if b, err := os.ReadFile(filepath.Join(cgroupRoot, "cgroup.controllers")); err == nil {
		f := strings.Fields(string(b))
		if slices.Contains(f, "cpu") && slices.Contains(f, "memory") {
			return cgroupKind{v2: true}
		}
		return cgroupKind{why: "cgroup v2 is mounted at " + cgroupRoot + " without the cpu and memory controllers"}
	}
	for _, f := range []string{"cpu/cpu.cfs_quota_us", "memory/memory.limit_in_bytes"} {
		if _, err := os.Stat(filepath.Join(cgroupRoot, f)); err != nil {
			return cgroupKind{why: "neither cgroup v2 (cpu, memory) nor v1's cpu and memory hierarchies are mounted at " + cgroupRoot}
		}
	}
	return cgroupKind{}
}

func (k cgroupKind) String() string {
	switch {
	case k.why != "":
		return "none (" + k.why + ")"
	case k.v2:
		return "cgroup v2"
	}
	return "cgroup v1"
}

// cgroup is one cgroup made for one process.
type cgroup struct {
	dirs []string // the cgroup's folders: one on v2; cpu, memory and cpuacct on v1
	v2   bool
}

// newCgroup makes a cgroup named name with vcpu CPUs (quota per period)
// and memMB of memory, swap off.
func newCgroup(k cgroupKind, name string, vcpu float64, memMB int) (*cgroup, error) {
	if k.why != "" {
		return nil, errors.New(k.why)
	}
	quota := strconv.Itoa(int(vcpu*float64(cgPeriod.Microseconds()) + 0.5))
	period := strconv.Itoa(int(cgPeriod.Microseconds()))
	mem := strconv.Itoa(memMB << 20)
	var c *cgroup
	var writes [][2]string
	if k.v2 {
		// The root's children get the controllers only when its
		// subtree_control lists them.
		if err := write(filepath.Join(cgroupRoot, "cgroup.subtree_control"), "+cpu +memory"); err != nil {
			return nil, fmt.Errorf("enabling the cpu and memory controllers: %w", err)
		}
		dir := filepath.Join(cgroupRoot, name)
		c = &cgroup{dirs: []string{dir}, v2: true}
		writes = [][2]string{{"cpu.max", quota + " " + period}, {"memory.max", mem}, {"memory.swap.max", "0"}}
	} else {
		cpu, memory := filepath.Join(cgroupRoot, "cpu", name), filepath.Join(cgroupRoot, "memory", name)
		c = &cgroup{dirs: []string{cpu, memory}}
		// CPU time is counted by cpuacct, mounted with cpu or on its own.
		if _, err := os.Stat(filepath.Join(cgroupRoot, "cpu", "cpuacct.usage")); err != nil {
			c.dirs = append(c.dirs, filepath.Join(cgroupRoot, "cpuacct", name))
		}
		writes = [][2]string{{"cpu/cpu.cfs_period_us", period}, {"cpu/cpu.cfs_quota_us", quota},
			{"memory/memory.limit_in_bytes", mem}, {"memory/memory.memsw.limit_in_bytes", mem}}
	}
	for _, d := range c.dirs {
		if err := os.Mkdir(d, 0o755); err != nil {
			c.remove()
			return nil, err
		}
	}
	for _, w := range writes {
		path := filepath.Join(c.dirs[0], w[0])
		if !k.v2 {
			sub, file, _ := strings.Cut(w[0], "/")
			path = filepath.Join(cgroupRoot, sub, name, file)
		}
		if err := write(path, w[1]); err != nil {
			if strings.Contains(w[0], "swap") || strings.Contains(w[0], "memsw") {
				continue // no swap accounting on this kernel: nothing to turn off
			}
			c.remove()
			return nil, err
		}
	}
	return c, nil
}

func write(path, v string) error {
	return os.WriteFile(path, []byte(v), 0o644)
}

// procs are the files a process joins the cgroup through.
func (c *cgroup) procs() []string {
	var out []string
	for _, d := range c.dirs {
		out = append(out, filepath.Join(d, "cgroup.procs"))
	}
	return out
}

// throttled reads how many periods the cgroup's quota ran out in.
func (c *cgroup) throttled() int64 {
	f, err := os.Open(filepath.Join(c.dirs[0], "cpu.stat"))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "nr_throttled "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}

// cpuUsed is the CPU time the cgroup's processes have used.
func (c *cgroup) cpuUsed() time.Duration {
	if c.v2 {
		b, _ := os.ReadFile(filepath.Join(c.dirs[0], "cpu.stat"))
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "usage_usec "); ok {
				n, _ := strconv.ParseInt(v, 10, 64)
				return time.Duration(n) * time.Microsecond
			}
		}
		return 0
	}
	for _, d := range c.dirs {
		if b, err := os.ReadFile(filepath.Join(d, "cpuacct.usage")); err == nil {
			n, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
			return time.Duration(n)
		}
	}
	return 0
}

// remove deletes the cgroup; its process must have exited (the kernel
// may take a moment to let go of it).
func (c *cgroup) remove() {
	for _, d := range c.dirs {
		for i := 0; i < 50; i++ {
			err := syscall.Rmdir(d)
			if err == nil || errors.Is(err, syscall.ENOENT) {
				break
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

// cgexecArg, first on the load tool's command line, makes it the wrapper:
//
//	load cgexec PROCS-FILE... -- BINARY ARG...
//
// It joins the cgroup (writes its pid to each procs file), says so on
// file descriptor 3, waits for a byte on descriptor 4 and execs BINARY,
// which starts inside the cgroup.
const cgexecArg = "cgexec"

// cgexec is the wrapper's main.
func cgexec(args []string) error {
	i := slices.Index(args, "--")
	if i < 1 || i == len(args)-1 {
		return errors.New("usage: load cgexec PROCS-FILE... -- BINARY ARG...")
	}
	ready, gate := os.NewFile(3, "ready"), os.NewFile(4, "gate")
	pid := strconv.Itoa(os.Getpid())
	for _, f := range args[:i] {
		if err := write(f, pid); err != nil {
			return fmt.Errorf("joining the cgroup: %w", err)
		}
	}
	if _, err := ready.Write([]byte{1}); err != nil {
		return err
	}
	ready.Close()
	var b [1]byte
	if _, err := gate.Read(b[:]); err != nil {
		return fmt.Errorf("waiting for the start: %w", err)
	}
	gate.Close()
	bin := args[i+1]
	return syscall.Exec(bin, args[i+1:], os.Environ())
}
