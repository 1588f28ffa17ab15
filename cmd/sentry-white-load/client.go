package main

import (
	"bytes"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// sample is one webhook as the load client saw it.
type sample struct {
	idx        int           // webhook index (issue id - issueBase)
	start, end time.Duration // since the run's base time
	status     int
}

// runSpec is one closed-loop run: n webhooks (after warm), c at a time.
type runSpec struct {
	url      string // http://addr/?token=…
	c        int
	n        int
	warm     int
	maxTime  time.Duration
	rate     float64 // webhooks per second over all workers; 0 = as fast as answered
	projects int
	payloads []*payload
	base     time.Time // the clock origin of the samples (the stand-in's, to compare with its times)
}

// runResult is what a run measured.
type runResult struct {
	samples  []sample // the measured webhooks, index = webhook index - warm
	base     time.Time
	began    time.Time // when the measured phase began
	elapsed  time.Duration
	statuses map[int]int
	errors   int
	lastErr  string
}

// newClient keeps up to c connections alive to the relay.
func newClient(c int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = c + 8
	t.MaxIdleConnsPerHost = c + 8
	t.DisableCompression = true
	return &http.Client{Transport: t, Timeout: 30 * time.Second}
}

// run sends the warm-up webhooks and then the measured ones with c workers.
// Webhook i goes to project i mod projects and carries issue id
// issueBase+i. onMeasure is called once the warm-up is done, before the
// first measured webhook.
func (s runSpec) run(client *http.Client, onMeasure func()) *runResult {
	base := s.base
	if base.IsZero() {
		base = time.Now()
	}
	res := &runResult{samples: make([]sample, s.n), statuses: map[int]int{}, base: base}
	var mu sync.Mutex
	phase := func(from, to int, limit time.Duration, record bool) int {
		var next atomic.Int64
		next.Store(int64(from))
		var done atomic.Int64
		start := time.Now()
		deadline := start.Add(limit)
		var wg sync.WaitGroup
		for range s.c {
			wg.Add(1)
			go func() {
				defer wg.Done()
				buf := make([]byte, 0, 4096)
				for {
					i := int(next.Add(1) - 1)
					if i >= to || time.Now().After(deadline) {
						return
					}
					if s.rate > 0 && record {
						at := start.Add(time.Duration(float64(i-from) / s.rate * float64(time.Second)))
						if d := time.Until(at); d > 0 {
							time.Sleep(d)
						}
					}
					p := s.payloads[i%len(s.payloads)]
					buf = p.body(buf[:0], i, i%s.projects)
					req, _ := http.NewRequest(http.MethodPost, s.url, bytes.NewReader(buf))
					req.Header.Set("Content-Type", "application/json")
					if p.resource != "" {
						req.Header.Set("Sentry-Hook-Resource", p.resource)
						req.Header.Set("Request-ID", "load-"+strconv.Itoa(i))
					}
					t0 := time.Since(res.base)
					resp, err := client.Do(req)
					status := 0
					if err == nil {
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						status = resp.StatusCode
					}
					t1 := time.Since(res.base)
					if record {
						res.samples[i-from] = sample{idx: i, start: t0, end: t1, status: status}
						done.Add(1)
					}
					if err != nil || status != http.StatusOK {
						mu.Lock()
						if err != nil {
							res.errors++
							res.lastErr = err.Error()
						} else {
							res.statuses[status]++
						}
						mu.Unlock()
					}
				}
			}()
		}
		wg.Wait()
		return int(done.Load())
	}
	phase(0, s.warm, s.maxTime, false)
	if onMeasure != nil {
		onMeasure()
	}
	res.began = time.Now()
	got := phase(s.warm, s.warm+s.n, s.maxTime, true)
	res.elapsed = time.Since(res.began)
	// Keep the webhooks that were sent (a time bound may stop early).
	kept := res.samples[:0]
	for _, sm := range res.samples {
		if sm.end > 0 {
			kept = append(kept, sm)
		}
	}
	res.samples = kept
	_ = got
	return res
}

// percentiles returns the nearest-rank percentiles of d (sorted in place).
func percentiles(d []time.Duration, ps ...float64) []time.Duration {
	out := make([]time.Duration, len(ps))
	if len(d) == 0 {
		return out
	}
	slices.Sort(d)
	for i, p := range ps {
		k := int(p/100*float64(len(d))+0.5) - 1
		out[i] = d[max(0, min(k, len(d)-1))]
	}
	return out
}
