package relay

import (
	"context"
	"encoding/hex"
	"io"
	"log/slog"
	"math/rand/v2"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/sentry-white/sentry-white/internal/dispatch"
	"github.com/sentry-white/sentry-white/internal/sentry"
)

// What the webhook path does for every webhook, kept cheap: the body read
// into a pooled buffer, the token found without parsing the whole query,
// one log line.

// bodyBuf holds a webhook body while it is read, parsed and planned.
type bodyBuf struct{ b []byte }

// bodyPool keeps the buffers of bodies up to maxPooled bytes (Sentry's
// bodies are a few KB; a rare large one is not kept).
type bodyPool struct{ p sync.Pool }

const maxPooled = 64 << 10

var bodies bodyPool

func (p *bodyPool) get() *bodyBuf {
	if b, ok := p.p.Get().(*bodyBuf); ok {
		return b
	}
	return &bodyBuf{}
}

func (p *bodyPool) put(b *bodyBuf) {
	if cap(b.b) <= maxPooled {
		b.b = b.b[:0]
		p.p.Put(b)
	}
}

// read reads at most MaxBody+1 bytes of body into b, in a buffer sized
// from the Content-Length when it is known (io.ReadAll grows from 512
// bytes, copying a webhook several times).
func (b *bodyBuf) read(body io.Reader, length int64) error {
	r := io.LimitReader(body, MaxBody+1)
	if length < 0 || length > MaxBody {
		var err error
		b.b, err = io.ReadAll(r)
		return err
	}
	if need := int(length) + 1; cap(b.b) < need { // +1: room to see the end without growing
		b.b = make([]byte, 0, need)
	}
	buf := b.b[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)] // longer than announced: grow
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			b.b = buf
			return nil
		}
		if err != nil {
			b.b = buf
			return err
		}
	}
}

// readBody reads a body as bodyBuf.read does, into a buffer of its own.
func readBody(body io.Reader, length int64) ([]byte, error) {
	var b bodyBuf
	err := b.read(body, length)
	return b.b, err
}

// queryValue is url.ParseQuery(raw).Get(key) without building the map:
// the first value of key among the pairs that parse.
func queryValue(raw, key string) string {
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" || strings.Contains(pair, ";") {
			continue // ParseQuery refuses a pair with a semicolon
		}
		k, v, _ := strings.Cut(pair, "=")
		if k != key {
			uk, err := url.QueryUnescape(k)
			if err != nil || uk != key {
				continue
			}
		}
		uv, err := url.QueryUnescape(v)
		if err != nil {
			continue
		}
		return uv
	}
	return ""
}

// acceptableType reports whether a webhook's Content-Type may carry JSON.
func acceptableType(ct string) bool {
	switch ct {
	case "", "application/json", "application/json; charset=utf-8":
		return true // what Sentry sends, without parsing
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	switch {
	case mt == "application/json", mt == "text/json", mt == "text/plain",
		strings.HasSuffix(mt, "+json"), mt == "application/x-www-form-urlencoded":
		// curl -d sends form-urlencoded; the body must still be JSON.
		return true
	}
	return false
}

// requestIDHeaders are where a request's id comes from, first found first
// (canonical keys: no canonicalizing per request).
var requestIDHeaders = []string{"X-Fc-Request-Id", "Request-Id", "X-Request-Id"}

// requestID is the request's id from FC or Sentry, or a random one.
func requestID(r *http.Request) string {
	for _, k := range requestIDHeaders {
		if vs := r.Header[k]; len(vs) > 0 && vs[0] != "" && len(vs[0]) <= 128 {
			return vs[0]
		}
	}
	var b [8]byte
	u := rand.Uint64()
	for i := range b {
		b[i] = byte(u >> (8 * i))
	}
	return hex.EncodeToString(b[:])
}

// hookLine is the one log line of a webhook.
type hookLine struct {
	rid      string
	start    time.Time
	resource string
	action   string
	project  string
	status   int
	err      string
	reason   string
	robots   int
	robot    string // the robots' names
	results  string // their outcomes, when not all delivered
	payOrg   string
}

// event notes what the webhook is.
func (l *hookLine) event(ev *sentry.Event) {
	l.resource, l.action = ev.Resource, ev.Action
	if len(ev.ProjectSlugs) == 1 {
		l.project = ev.ProjectSlugs[0]
	} else {
		l.project = strings.Join(ev.ProjectSlugs, ",")
	}
}

// answered notes the answer and what became of each robot's message.
func (l *hookLine) answered(status int, results []dispatch.Outcome, ev *sentry.Event) {
	l.status, l.robots = status, len(results)
	var names, outs []string
	all := true
	for _, o := range results {
		name := o.Job.Kind
		if o.Robot != nil {
			name = o.Robot.Name
		}
		names = append(names, name)
		outs = append(outs, o.Status)
		all = all && o.Status == dispatch.Delivered
		if o.Job.PayloadOrg != "" {
			l.payOrg = ev.OrgSlug
		}
	}
	l.robot = strings.Join(names, ",")
	if !all {
		l.results = strings.Join(outs, ",")
	}
}

// logHook writes the webhook's line: what it was, how it was answered,
// which robots got it, how long it took.
func (h *Handler) logHook(ctx context.Context, l *hookLine, msg string) {
	if !h.log.Enabled(ctx, slog.LevelInfo) {
		return
	}
	var a [12]slog.Attr
	n := 0
	add := func(at slog.Attr) { a[n] = at; n++ }
	add(slog.String("request_id", l.rid))
	if l.resource != "" {
		add(slog.String("resource", l.resource))
		add(slog.String("action", l.action))
		add(slog.String("project", l.project))
	}
	if l.status != 0 {
		add(slog.Int("status", l.status))
	}
	switch {
	case l.err != "":
		add(slog.String("error", l.err))
	case l.reason != "":
		add(slog.String("reason", l.reason))
	}
	if l.robots > 0 {
		add(slog.Int("robots", l.robots))
		add(slog.String("robot", l.robot))
	}
	if l.results != "" {
		add(slog.String("results", l.results))
	}
	if l.payOrg != "" {
		add(slog.String("payload_organization", l.payOrg))
	}
	add(slog.Float64("latency_ms", ms(h.o.Now().Sub(l.start))))
	h.log.LogAttrs(ctx, slog.LevelInfo, msg, a[:n]...)
}
