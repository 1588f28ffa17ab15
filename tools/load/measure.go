package main

import (
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/sentry-white/sentry-white/tools/load/report"
)

// procSampler follows a relay process during the measured phase: its CPU
// time, and the highest RSS sampled every 20 ms.
type procSampler struct {
	p       *proc
	cpu0    time.Duration
	maxRSS  int64
	maxAnon int64
	stop    chan struct{}
	done    sync.WaitGroup
}

func startSampler(p *proc) *procSampler {
	s := &procSampler{p: p, stop: make(chan struct{})}
	s.cpu0, _ = p.cpu()
	s.done.Go(func() {
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			if v, err := p.status("VmRSS"); err == nil && v > s.maxRSS {
				s.maxRSS = v
				s.maxAnon, _ = p.status("RssAnon")
			}
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	})
	return s
}

// finish stops sampling and returns the CPU time used since the start.
func (s *procSampler) finish() time.Duration {
	cpu1, _ := s.p.cpu()
	close(s.stop)
	s.done.Wait()
	return cpu1 - s.cpu0
}

// measure sends warm + n webhooks made by request at concurrency c, to the
// relay p (nil when the requests go straight to the stand-in), and fills x.
func (l *loader) measure(p *proc, x *report.Run, c, n, warm int, request requestFunc) error {
	if p != nil {
		x.StartMS = msOf(p.FirstAnswer)
		x.IdleRSSKB = p.IdleRSSKB
	}
	first := l.ids(warm + n)
	x.FirstID = first + int64(warm)
	rec := l.standin.begin(first, warm+n)
	spec := runSpec{request: request, c: c, n: n, warm: warm, firstID: first, maxTime: l.o.maxTime, base: l.standin.base}
	client := newClient(c)
	defer client.CloseIdleConnections()

	var (
		oss0     report.OSSCounts
		conns0   int64
		refused0 int64
		sampler  *procSampler
	)
	res := spec.run(client, func() {
		oss0, conns0, refused0 = l.oss.Counts(), l.standin.conns.Load(), l.standin.refused()
		if p != nil {
			sampler = startSampler(p)
		}
	})
	var cpu time.Duration
	if sampler != nil {
		cpu = sampler.finish()
		x.MaxRSSKB, x.MaxAnonKB = sampler.maxRSS, sampler.maxAnon
		x.PeakRSSKB, _ = p.status("VmHWM")
	}
	// Answers can reach the relay (and so the client) before the stand-in
	// has recorded the message they answer.
	l.standin.settle(5 * time.Second)
	x.Requests = l.oss.Counts().Sub(oss0)
	x.RobotConns = l.standin.conns.Load() - conns0
	x.Refused = l.standin.refused() - refused0
	x.Unkeyed = l.standin.unkeyed.Swap(0)

	x.Sent, x.Seconds = len(res.samples), res.elapsed.Seconds()
	x.Errors, x.LastError = res.errors, res.lastErr
	x.Other = map[string]int{}
	for code, k := range res.statuses {
		x.Other[strconv.Itoa(code)] = k
	}
	if x.Sent == 0 {
		return fmt.Errorf("%s c=%d: no webhook answered (%s)", x.System, c, res.lastErr)
	}
	fillTimes(x, res.samples, rec)
	x.ReadsPerHook = float64(x.Requests.Reads()) / float64(x.Sent)
	x.WritesPerHook = float64(x.Requests.Writes()) / float64(x.Sent)
	x.CPUPerHookUS = float64(cpu.Microseconds()) / float64(x.Sent)
	x.CPUPercent = 100 * cpu.Seconds() / res.elapsed.Seconds()
	if x.OK < x.Sent {
		x.Note = fmt.Sprintf("%d of %d webhooks not answered 200", x.Sent-x.OK, x.Sent)
	}
	return nil
}

// fillTimes computes throughput, latency, robot time, overhead and
// messages per webhook from the samples and the stand-in's record.
func fillTimes(x *report.Run, samples []sample, rec *holdRecord) {
	first, last := samples[0].start, samples[0].end
	var lat, robot, over, toRobot, fromRobot []time.Duration
	msgs := 0
	for _, s := range samples {
		first, last = min(first, s.start), max(last, s.end)
		if s.status == 200 {
			x.OK++
		}
		i := s.id - rec.base
		d := s.end - s.start
		h := time.Duration(rec.holdNs[i].Load())
		msgs += int(rec.msgs[i].Load())
		lat = append(lat, d)
		robot = append(robot, h)
		over = append(over, max(0, d-h))
		if in, out := rec.inNs[i].Load(), rec.outNs[i].Load(); in > 0 && out > 0 {
			toRobot = append(toRobot, time.Duration(in)-s.start)
			fromRobot = append(fromRobot, s.end-time.Duration(out))
		}
	}
	// Throughput over the measured webhooks' own span.
	x.PerSecond = float64(len(samples)) / (last - first).Seconds()
	x.Latency, x.Robot, x.Overhead = pcts(lat), pcts(robot), pcts(over)
	x.ToRobot, x.FromRobot = pcts(toRobot), pcts(fromRobot)
	x.MsgsPerHook = float64(msgs) / float64(len(samples))
}

func pcts(d []time.Duration) report.Pcts {
	v := percentiles(d, 50, 90, 99, 100)
	return report.Pcts{P50: msOf(v[0]), P90: msOf(v[1]), P99: msOf(v[2]), Max: msOf(v[3])}
}
