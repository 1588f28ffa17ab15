package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"

	"github.com/sentry-white/sentry-white/internal/store/osstest"
	"github.com/sentry-white/sentry-white/tools/load/report"
)

const bucket = "sentry-white-load"

// ossRegion is the region the relay signs for (V4): the loopback server
// names none in its address, so the relay gets OSS_REGION.
const ossRegion = "cn-hangzhou"

// ossServer is the loopback OSS server (gofakes3 through internal/store/
// osstest) behind a counter of requests by kind. It also answers OSS
// AppendObject, which gofakes3 lacks, for the relay's delivery history (as
// real OSS does: one POST per flush, no read); without it the relay would
// fall back to reading and rewriting the whole daily log on each flush,
// which real OSS never makes it do.
type ossServer struct {
	fake *osstest.Server
	srv  *httptest.Server
	URL  string
	// TLS serves the same over HTTPS (the FC-shaped runs), TLSURL its
	// address.
	TLS    *httptest.Server
	TLSURL string

	mu       sync.Mutex
	counts   report.OSSCounts
	appended map[string][]byte // objects written by AppendObject
}

func newOSSServer() *ossServer {
	o := &ossServer{fake: osstest.New(bucket), appended: map[string][]byte{}}
	o.srv = httptest.NewServer(o)
	o.URL = o.srv.URL
	o.TLS = httptest.NewTLSServer(o)
	o.TLSURL = o.TLS.URL
	return o
}

func (o *ossServer) Close() {
	o.srv.Close()
	o.TLS.Close()
	o.fake.Close()
}

func (o *ossServer) Seed(key string, data []byte) error { return o.fake.Seed(bucket, key, data) }

func (o *ossServer) Counts() report.OSSCounts {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.counts
}

// statusRecorder keeps the status the wrapped handler answered.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (w *statusRecorder) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// unsignedPrefix is where the minimal relay reads its document: an object
// of the bucket without a signature (the minimal relay signs nothing but
// its robot requests).
const unsignedPrefix = "/unsigned/"

func (o *ossServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if key, ok := strings.CutPrefix(r.URL.Path, unsignedPrefix); ok && r.Method == http.MethodGet {
		data, found := o.fake.Object(bucket, key)
		if !found {
			http.NotFound(w, r)
			return
		}
		o.mu.Lock()
		o.counts.ConfigGet++
		o.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(data)
		return
	}
	key, isObject := strings.CutPrefix(r.URL.Path, "/"+bucket+"/")
	q := r.URL.Query()
	if r.Method == http.MethodPost && q.Has("append") && isObject {
		o.append(w, r, key, q.Get("position"))
		return
	}
	if r.Method == http.MethodHead && isObject {
		o.mu.Lock()
		data, ok := o.appended[key]
		if ok {
			o.counts.Head++
		}
		o.mu.Unlock()
		if ok {
			w.Header().Set("Content-Length", strconv.Itoa(len(data)))
			w.Header().Set("x-oss-next-append-position", strconv.Itoa(len(data)))
			w.Header().Set("x-oss-object-type", "Appendable")
			w.WriteHeader(http.StatusOK)
			return
		}
	}
	sw := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	o.fake.ServeHTTP(sw, r)
	o.mu.Lock()
	defer o.mu.Unlock()
	switch {
	case r.Method == http.MethodGet && isObject && strings.HasSuffix(key, "v1/config.json"):
		if sw.status == http.StatusNotModified {
			o.counts.Config304++
		} else {
			o.counts.ConfigGet++
		}
	case r.Method == http.MethodGet && isObject && key != "":
		o.counts.OtherGet++
	case r.Method == http.MethodGet:
		o.counts.List++
	case r.Method == http.MethodHead:
		o.counts.Head++
	case r.Method == http.MethodPut:
		o.counts.Put++
	default:
		o.counts.OtherCalls++
	}
}

// append implements AppendObject at position, as OSS documents it.
func (o *ossServer) append(w http.ResponseWriter, r *http.Request, key, position string) {
	data, err := io.ReadAll(r.Body)
	pos, perr := strconv.Atoi(position)
	o.mu.Lock()
	defer o.mu.Unlock()
	o.counts.Append++
	cur := o.appended[key]
	switch {
	case err != nil || perr != nil:
		w.WriteHeader(http.StatusBadRequest)
		return
	case pos != len(cur):
		w.Header().Set("x-oss-next-append-position", strconv.Itoa(len(cur)))
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusConflict)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>PositionNotEqualToLength</Code><Message>Position is not equal to file length</Message><RequestId>0</RequestId><HostId>127.0.0.1</HostId></Error>`)
		return
	}
	o.appended[key] = append(cur, data...)
	w.Header().Set("x-oss-next-append-position", strconv.Itoa(len(o.appended[key])))
	w.Header().Set("ETag", fmt.Sprintf(`"%x"`, len(o.appended[key])))
	w.WriteHeader(http.StatusOK)
}
