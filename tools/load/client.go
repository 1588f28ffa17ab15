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
	id         int64         // the webhook's id
	start, end time.Duration // since the run's base time
	status     int
}

// requestFunc makes the request for the webhook with id, the seq-th of its
// run (seq picks the project and the payload), using buf for the body.
type requestFunc func(seq int, id int64, buf []byte) (*http.Request, []byte)

// webhookRequest posts webhooks to a relay at addr.
func webhookRequest(addr string, projects int, payloads []*payload) requestFunc {
	url := "http://" + addr + "/?token=" + webhookToken
	return func(seq int, id int64, buf []byte) (*http.Request, []byte) {
		p := payloads[seq%len(payloads)]
		buf = p.webhook.fill(buf[:0], id, seq%projects)
		req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(buf))
		req.Header.Set("Content-Type", "application/json")
		if p.resource != "" {
			req.Header.Set("Sentry-Hook-Resource", p.resource)
			req.Header.Set("Request-ID", "load-"+strconv.FormatInt(id, 10))
		}
		return req, buf
	}
}

// directRequest posts, for each webhook, the robot message the relay would
// send for it straight to the stand-in, signed as the relay signs it.
func directRequest(base string, projects int, payloads []*payload) requestFunc {
	url := base + "/robot/send?"
	return func(seq int, id int64, buf []byte) (*http.Request, []byte) {
		p := payloads[seq%len(payloads)]
		buf = p.message.fill(buf[:0], id, seq%projects)
		req, _ := http.NewRequest(http.MethodPost, url+signQuery(seq%projects), bytes.NewReader(buf))
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
		return req, buf
	}
}

// runSpec is one closed-loop run: n webhooks after warm ones, c at a time.
type runSpec struct {
	request requestFunc
	c       int
	n       int
	warm    int
	firstID int64 // id of the first warm-up webhook; the measured ones follow
	maxTime time.Duration
	base    time.Time // the clock origin of the samples (the stand-in's, to compare with its times)
}

// runResult is what a run measured.
type runResult struct {
	samples  []sample // the measured webhooks
	elapsed  time.Duration
	statuses map[int]int
	errors   int
	lastErr  string
}

// newClient keeps up to c connections alive. The same client posts
// webhooks to the relay and messages straight to the stand-in.
func newClient(c int) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = c + 8
	t.MaxIdleConnsPerHost = c + 8
	t.DisableCompression = true
	return &http.Client{Transport: t, Timeout: 30 * time.Second}
}

// run sends the warm-up webhooks and then the measured ones with c
// workers, each sending its next webhook as soon as the previous one is
// answered. onMeasure is called once the warm-up is done, before the first
// measured webhook.
func (s runSpec) run(client *http.Client, onMeasure func()) *runResult {
	res := &runResult{samples: make([]sample, s.n), statuses: map[int]int{}}
	var mu sync.Mutex
	phase := func(from, to int, record bool) {
		var next atomic.Int64
		next.Store(int64(from))
		deadline := time.Now().Add(s.maxTime)
		var wg sync.WaitGroup
		for range s.c {
			wg.Go(func() {
				buf := make([]byte, 0, 8192)
				for {
					seq := int(next.Add(1) - 1)
					if seq >= to || time.Now().After(deadline) {
						return
					}
					id := s.firstID + int64(seq)
					var req *http.Request
					req, buf = s.request(seq, id, buf)
					t0 := time.Since(s.base)
					resp, err := client.Do(req)
					status := 0
					if err == nil {
						_, _ = io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						status = resp.StatusCode
					}
					t1 := time.Since(s.base)
					if record {
						res.samples[seq-from] = sample{id: id, start: t0, end: t1, status: status}
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
			})
		}
		wg.Wait()
	}
	phase(0, s.warm, false)
	if onMeasure != nil {
		onMeasure()
	}
	began := time.Now()
	phase(s.warm, s.warm+s.n, true)
	res.elapsed = time.Since(began)
	// Keep the webhooks that were sent (a time bound may stop early).
	res.samples = slices.DeleteFunc(res.samples, func(sm sample) bool { return sm.end == 0 })
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
