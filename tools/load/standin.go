package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"

	"github.com/sentry-white/sentry-white/internal/robottest"
)

// standIn is the DingTalk stand-in of internal/robottest in its lean mode
// on loopback, answering at once (or after a latency): it checks the
// access token, the 加签 signature and the keyword like DingTalk. Around it
// the load tool counts connections and, for each message, how long the
// stand-in held the request, keyed by the webhook the message came from
// (the issue id in its link). It has no rate limit: the relay's own budget
// is what a load test must respect.
type standIn struct {
	dt   *robottest.DingTalk
	srv  *httptest.Server
	tls  *httptest.Server // the same stand-in over HTTPS (the FC-shaped runs)
	base time.Time

	rec      atomic.Pointer[holdRecord]
	conns    atomic.Int64 // TCP connections accepted
	messages atomic.Int64
	unkeyed  atomic.Int64 // accepted messages naming no known webhook
	// handling counts requests whose handler has not finished its
	// bookkeeping. A client has the answer before the handler records it
	// (the stand-in calls taken once the answer is out), so readers of the
	// counters call settle first.
	handling atomic.Int64
}

// holdRecord collects the stand-in's time per webhook of one run.
type holdRecord struct {
	base   int64          // the id of the run's first webhook: index 0
	holdNs []atomic.Int64 // total time the stand-in held the webhook's requests
	msgs   []atomic.Int32
	// inNs and outNs are when the webhook's first robot request arrived
	// and when its last answer left, since the stand-in's base time.
	inNs  []atomic.Int64
	outNs []atomic.Int64
}

func newStandIn(robots int, latency time.Duration) *standIn {
	s := &standIn{base: time.Now()}
	rs := make([]robottest.DingTalkRobot, robots)
	for i := range rs {
		rs[i] = robottest.DingTalkRobot{Token: robotToken(i), Secret: robotSecret, Keywords: []string{keyword}}
	}
	s.dt = robottest.NewLeanDingTalk(latency, s.taken, rs...)
	count := func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.srv = httptest.NewUnstartedServer(s)
	s.srv.Config.ConnState = count
	s.srv.Start()
	s.tls = httptest.NewUnstartedServer(s)
	s.tls.Config.ConnState = count
	s.tls.StartTLS()
	return s
}

func (s *standIn) URL() string    { return s.srv.URL }
func (s *standIn) TLSURL() string { return s.tls.URL }
func (s *standIn) Close() {
	s.srv.Close()
	s.tls.Close()
}

// refused counts the messages the stand-in refused.
func (s *standIn) refused() int64 { return int64(len(s.dt.Rejected())) }

// begin starts recording a run of n webhooks, the first with id base, and
// returns its record.
func (s *standIn) begin(base int64, n int) *holdRecord {
	r := &holdRecord{base: base, holdNs: make([]atomic.Int64, n), msgs: make([]atomic.Int32, n), inNs: make([]atomic.Int64, n),
		outNs: make([]atomic.Int64, n)}
	s.rec.Store(r)
	return r
}

// settle waits until every request that has reached the stand-in has been
// recorded, or until limit passes; it reports whether all were. Call it
// after the answers were read and before reading the counters.
func (s *standIn) settle(limit time.Duration) bool {
	deadline := time.Now().Add(limit)
	for s.handling.Load() != 0 {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Microsecond)
	}
	return true
}

func (s *standIn) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handling.Add(1)
	defer s.handling.Add(-1)
	s.dt.ServeHTTP(w, r)
}

// taken records a message the stand-in took: it held the request from in
// until its answer left at out.
func (s *standIn) taken(body []byte, in, out time.Time) {
	s.messages.Add(1)
	rec := s.rec.Load()
	if rec == nil {
		s.unkeyed.Add(1)
		return
	}
	idx := issueID(body) - rec.base
	if idx < 0 || idx >= int64(len(rec.holdNs)) {
		s.unkeyed.Add(1)
		return
	}
	rec.holdNs[idx].Add(int64(out.Sub(in)))
	rec.msgs[idx].Add(1)
	rec.inNs[idx].CompareAndSwap(0, int64(in.Sub(s.base)))
	rec.outNs[idx].Store(int64(out.Sub(s.base)))
}
