package relay

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/dispatch"
	"github.com/sentry-white/sentry-white/internal/docstore"
	"github.com/sentry-white/sentry-white/internal/notifiers"
	"github.com/sentry-white/sentry-white/internal/notify"
	"github.com/sentry-white/sentry-white/internal/notify/dingtalk"
	"github.com/sentry-white/sentry-white/internal/store"
)

// benchProjects is how many projects (each with its own robot) the
// benchmark document holds; webhooks go round-robin over them.
const benchProjects = 1000

// benchDoc is a large team's document: benchProjects projects, each with two
// owners and its own signed DingTalk robot.
func benchDoc() *config.Document {
	d := &config.Document{Schema: 1, WebhookToken: token,
		Organizations: []config.Organization{{ID: 1, Name: "公司主账号", SentryURL: "https://sentry.io", Slug: "acme",
			Account: "viewer@acme.com", Password: password}}}
	for i := range benchProjects {
		id := int64(i + 1)
		d.Owners = append(d.Owners, config.Owner{ID: id, Name: fmt.Sprintf("负责人%d", i), Mobile: fmt.Sprintf("138%08d", i)})
		d.Robots = append(d.Robots, config.Robot{ID: id, Name: fmt.Sprintf("告警群%d", i), Kind: "dingtalk",
			AccessToken: config.Secret(fmt.Sprintf("bench-token-%04d", i)), Secret: robotSecret, Keyword: "详情"})
		d.Projects = append(d.Projects, config.Project{ID: id, Name: fmt.Sprintf("项目%d", i), Slug: fmt.Sprintf("proj-%03d", i),
			OrganizationID: 1, OwnerIDs: []int64{id, 1 + (id % benchProjects)}, RobotIDs: []int64{id}})
	}
	return d
}

// webhookGen makes distinct webhooks from a testdata payload: the project
// slug "mall-api" becomes proj-NNN (same length), and the event and issue
// ids get the sequence number, so neither the duplicate filter nor the
// repeat window drops any.
type webhookGen struct {
	tmpl     []byte
	resource string
	slug     []int // offsets of "mall-api"
	event    []int // offsets of the 32-hex event id
	issue    []int // offsets of the 10-digit issue id
}

func offsets(b []byte, s string) []int {
	var out []int
	for i := 0; ; {
		j := bytes.Index(b[i:], []byte(s))
		if j < 0 {
			return out
		}
		out = append(out, i+j)
		i += j + len(s)
	}
}

func newWebhookGen(b testing.TB, file, resource, eventID, issueID string) *webhookGen {
	tmpl := testdata(b, file)
	g := &webhookGen{tmpl: tmpl, resource: resource, slug: offsets(tmpl, "mall-api"),
		event: offsets(tmpl, eventID), issue: offsets(tmpl, issueID)}
	if len(g.slug) == 0 || len(g.event) == 0 || len(g.issue) == 0 {
		b.Fatalf("%s: the slug, event id or issue id is missing", file)
	}
	return g
}

// body returns webhook n.
func (g *webhookGen) body(n uint64) []byte {
	b := bytes.Clone(g.tmpl)
	slug := fmt.Appendf(nil, "proj-%03d", n%benchProjects)
	ev := fmt.Appendf(nil, "%032x", n)
	issue := fmt.Appendf(nil, "%010d", n%1e10)
	for _, o := range g.slug {
		copy(b[o:], slug)
	}
	for _, o := range g.event {
		copy(b[o:], ev)
	}
	for _, o := range g.issue {
		copy(b[o:], issue)
	}
	return b
}

func (g *webhookGen) request(n uint64) *http.Request {
	r := httptest.NewRequest(http.MethodPost, "/?token="+token, bytes.NewReader(g.body(n)))
	r.Header.Set("Content-Type", "application/json")
	if g.resource != "" {
		r.Header.Set("Sentry-Hook-Resource", g.resource)
		r.Header.Set("Request-ID", strconv.FormatUint(n, 16))
	}
	return r
}

// robotOK answers every robot request with errcode 0 at once, in memory, so
// the "memory" benchmarks measure the relay's own work.
type robotOK struct{}

func (robotOK) RoundTrip(r *http.Request) (*http.Response, error) {
	_, _ = io.Copy(io.Discard, r.Body)
	_ = r.Body.Close()
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(`{"errcode":0,"errmsg":"ok"}`)), Request: r}, nil
}

// benchHandler returns a relay as the program wires it (JSON logs, a cached
// document, the dispatcher in server mode) whose robots are reached through
// client. DingTalk's per-robot budget is raised for the benchmark so it
// measures delivery, not the digest queue.
func benchHandler(b *testing.B, client *http.Client, robotURL string) *Handler {
	b.Helper()
	fast := *dingtalk.Kind
	fast.Budget = notify.Budget{Limits: []notify.Limit{{N: 1 << 20, Per: time.Minute}}, Block: time.Minute, DigestItems: 30}
	backend := store.NewFile(b.TempDir())
	kinds := notifiers.New(append(notifiers.Default().All(), &fast)...)
	if _, err := docstore.NewDocs(backend, "api/", kinds.Document()).Save(context.Background(), benchDoc(), ""); err != nil {
		b.Fatal(err)
	}
	h, err := New(Options{
		Docs:  docstore.NewCache(backend, store.ConfigKey("api/"), time.Hour, kinds.Document()),
		Kinds: kinds,
		Dispatch: dispatch.Options{
			Senders: kinds.Senders(func(k string) string { return map[string]string{"SENTRY_WHITE_DINGTALK_API": robotURL}[k] }, client),
			Policy:  notify.DefaultPolicy,
		},
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = h.Wait(context.Background()) })
	return h
}

func serve(b *testing.B, h *Handler, r *http.Request) {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		b.Fatalf("answer %d %s", w.Code, w.Body)
	}
}

// BenchmarkHandler is one webhook through the whole handler: token, parse,
// route, render, the signed DingTalk request and its answer, the JSON
// answer and log lines. "memory" answers robot requests in process (the
// relay's own cost and allocations per webhook); "loopback" posts them over
// HTTP on 127.0.0.1 to a stand-in answering at once, through the relay's
// keep-alive client. ns/op and allocs/op are per webhook.
func BenchmarkHandler(b *testing.B) {
	kinds := []struct {
		name                           string
		file, resource, eventID, issue string
	}{
		{"legacy", "legacy_saas.json", "", "9f2c1b7d3a4e4c8b8e6f1a2b3c4d5e6f", "4567890123"},
		{"event_alert", "event_alert.json", "event_alert", "e1d2c3b4a5968778695a4b3c2d1e0f00", "1170820242"},
	}
	for _, k := range kinds {
		b.Run(k.name+"/memory", func(b *testing.B) {
			g := newWebhookGen(b, k.file, k.resource, k.eventID, k.issue)
			h := benchHandler(b, &http.Client{Transport: robotOK{}}, "http://robot.invalid")
			var n uint64
			b.ReportAllocs()
			for b.Loop() {
				n++
				serve(b, h, g.request(n))
			}
		})
	}
	b.Run("legacy/loopback", func(b *testing.B) {
		g := newWebhookGen(b, "legacy_saas.json", "", "9f2c1b7d3a4e4c8b8e6f1a2b3c4d5e6f", "4567890123")
		robot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"errcode":0,"errmsg":"ok"}`)
		}))
		defer robot.Close()
		h := benchHandler(b, nil, robot.URL)
		var n uint64
		b.ReportAllocs()
		for b.Loop() {
			n++
			serve(b, h, g.request(n))
		}
	})
}

// BenchmarkHandlerParallel runs 50 webhooks at a time (25 goroutines per
// CPU on this machine's GOMAXPROCS), robots answered in memory.
func BenchmarkHandlerParallel(b *testing.B) {
	g := newWebhookGen(b, "legacy_saas.json", "", "9f2c1b7d3a4e4c8b8e6f1a2b3c4d5e6f", "4567890123")
	h := benchHandler(b, &http.Client{Transport: robotOK{}}, "http://robot.invalid")
	var n atomic.Uint64
	b.SetParallelism(25)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			serve(b, h, g.request(n.Add(1)))
		}
	})
}

// TestReadBody: the presized read returns the body whatever the announced
// length, into a fresh or a reused buffer, and stops one byte past MaxBody.
func TestReadBody(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789"), 300)
	reused := &bodyBuf{b: make([]byte, 0, 10)}
	for _, hint := range []int64{-1, 0, 1, 100, int64(len(body)) - 1, int64(len(body)), int64(len(body)) + 1, 10000} {
		for _, b := range []*bodyBuf{{}, reused} {
			if err := b.read(iotest.OneByteReader(bytes.NewReader(body)), hint); err != nil || !bytes.Equal(b.b, body) {
				t.Errorf("hint %d: %d bytes, %v", hint, len(b.b), err)
			}
			if err := b.read(bytes.NewReader(body), hint); err != nil || !bytes.Equal(b.b, body) {
				t.Errorf("hint %d: %d bytes, %v", hint, len(b.b), err)
			}
		}
	}
	big := make([]byte, MaxBody+100)
	for _, hint := range []int64{-1, MaxBody, MaxBody + 100} {
		b := &bodyBuf{}
		if err := b.read(bytes.NewReader(big), hint); err != nil || len(b.b) != MaxBody+1 {
			t.Errorf("over the limit, hint %d: %d bytes, %v; want MaxBody+1", hint, len(b.b), err)
		}
	}
	if err := (&bodyBuf{}).read(iotest.ErrReader(io.ErrUnexpectedEOF), 10); err != io.ErrUnexpectedEOF {
		t.Errorf("read error = %v", err)
	}
}

// TestQueryValue: the token is found as url.ParseQuery finds it.
func TestQueryValue(t *testing.T) {
	for _, raw := range []string{"", "token=abc", "a=1&token=abc&token=def", "token=a%2Bb+c", "to%6Ben=x", "token=%zz&token=ok",
		"token;x=1&token=y", "token", "token=", "=&&token=z", "x=1;token=2", "tok%en=1&token=2", "token=%E4%B8%AD"} {
		want := func() string { q, _ := url.ParseQuery(raw); return q.Get("token") }()
		if got := queryValue(raw, "token"); got != want {
			t.Errorf("%q: %q, want %q", raw, got, want)
		}
	}
}
