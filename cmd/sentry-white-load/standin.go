package main

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// standIn is a DingTalk robot API on loopback that answers at once (or
// after Latency): it checks the access token, the 加签 signature and the
// keyword like DingTalk, and for each message records how long it held the
// request, keyed by the webhook the message came from (the issue id in its
// link). It has no rate limit: the relay's own budget is what a load test
// must respect.
type standIn struct {
	srv     *httptest.Server
	base    time.Time
	latency time.Duration
	tokens  map[string]bool

	rec      atomic.Pointer[holdRecord]
	conns    atomic.Int64 // TCP connections accepted
	messages atomic.Int64
	refused  atomic.Int64
	unkeyed  atomic.Int64 // accepted messages naming no known webhook
	// handling counts requests whose handler has not finished its
	// bookkeeping. A client has the answer before the handler records it
	// (see ServeHTTP), so readers of the counters call settle first.
	handling atomic.Int64
	bufs     sync.Pool
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
	s := &standIn{base: time.Now(), latency: latency, tokens: map[string]bool{}}
	for i := range robots {
		s.tokens[robotToken(i)] = true
	}
	s.bufs.New = func() any { return new(bytes.Buffer) }
	s.srv = httptest.NewUnstartedServer(s)
	s.srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.srv.Start()
	return s
}

func (s *standIn) URL() string { return s.srv.URL }
func (s *standIn) Close()      { s.srv.Close() }

// begin starts recording a run of n webhooks, the first with id base, and
// returns its record.
func (s *standIn) begin(base int64, n int) *holdRecord {
	r := &holdRecord{base: base, holdNs: make([]atomic.Int64, n), msgs: make([]atomic.Int32, n), inNs: make([]atomic.Int64, n),
		outNs: make([]atomic.Int64, n)}
	s.rec.Store(r)
	return r
}

var (
	answerOK    = []byte(`{"errcode":0,"errmsg":"ok"}`)
	answerOKLen = strconv.Itoa(len(answerOK))
)

func (s *standIn) refuse(w http.ResponseWriter, code int, msg string) {
	s.refused.Add(1)
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	_, _ = io.WriteString(w, `{"errcode":`+strconv.Itoa(code)+`,"errmsg":"`+msg+`"}`)
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
	start := time.Now()
	s.handling.Add(1)
	defer s.handling.Add(-1)
	buf := s.bufs.Get().(*bytes.Buffer)
	buf.Reset()
	defer s.bufs.Put(buf)
	_, _ = buf.ReadFrom(io.LimitReader(r.Body, 1<<20))
	if s.latency > 0 {
		time.Sleep(s.latency)
	}
	q := r.URL.Query()
	switch {
	case r.Method != http.MethodPost || r.URL.Path != "/robot/send":
		s.refuse(w, 43002, "need POST /robot/send")
		return
	case !s.tokens[q.Get("access_token")]:
		s.refuse(w, 300005, "token is not exist")
		return
	}
	ts, err := strconv.ParseInt(q.Get("timestamp"), 10, 64)
	mac := hmac.New(sha256.New, []byte(robotSecret))
	mac.Write([]byte(strconv.FormatInt(ts, 10) + "\n" + robotSecret))
	if err != nil || q.Get("sign") != base64.StdEncoding.EncodeToString(mac.Sum(nil)) {
		s.refuse(w, 310000, "sign not match")
		return
	}
	body := buf.Bytes()
	if len(body) > 20000 || !bytes.Contains(body, []byte(keyword)) {
		s.refuse(w, 310000, "keywords not in content")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json;charset=utf-8")
	h.Set("Content-Length", answerOKLen)
	_, _ = w.Write(answerOK)
	// The hold ends when the answer is on the wire, not when it is
	// recorded: what the relay waits for is the robot's answer, so the
	// bookkeeping below must not count as robot time. The client may thus
	// read the answer before the counters move; handling (decremented
	// when this returns) lets readers wait for them (settle).
	w.(http.Flusher).Flush()
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
	end := time.Now()
	rec.holdNs[idx].Add(int64(end.Sub(start)))
	rec.msgs[idx].Add(1)
	rec.inNs[idx].CompareAndSwap(0, int64(start.Sub(s.base)))
	rec.outNs[idx].Store(int64(end.Sub(s.base)))
}
