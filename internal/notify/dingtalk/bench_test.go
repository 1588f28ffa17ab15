package dingtalk

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/notify"
	"github.com/sentry-white/sentry-white/internal/render"
	"github.com/sentry-white/sentry-white/internal/route"
	"github.com/sentry-white/sentry-white/internal/sentry"
)

// benchMessage is the legacy payload rendered for a robot with two owners.
func benchMessage(b *testing.B) (*config.Robot, *notify.Message) {
	b.Helper()
	body, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", "sentry", "legacy_saas.json"))
	if err != nil {
		b.Fatal(err)
	}
	ev, err := sentry.Parse(body, nil)
	if err != nil {
		b.Fatal(err)
	}
	owners := []*config.Owner{{ID: 1, Name: "张三", Mobile: "13800138000"}, {ID: 2, Name: "李四", Mobile: "13900139000"}}
	r := &config.Robot{ID: 1, Name: "研发告警群", Kind: "dingtalk", AccessToken: "bench-token", Secret: secret, Keyword: "详情"}
	tg := route.Target{
		Project: &config.Project{ID: 1, Name: "商城后台", Slug: "mall-api"},
		Org:     &config.Organization{ID: 1, SentryURL: "https://sentry.io", Slug: "acme"},
		Robot:   r, Owners: owners, AllOwners: owners,
	}
	return r, render.Message(tg, ev, render.Options{})
}

// BenchmarkSign computes the 加签 signature of one request.
func BenchmarkSign(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if Sign(secret, 1700000000004) == "" {
			b.Fatal("empty")
		}
	}
}

// BenchmarkBody encodes a rendered alert as DingTalk markdown JSON.
func BenchmarkBody(b *testing.B) {
	_, m := benchMessage(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Body(m); err != nil {
			b.Fatal(err)
		}
	}
}

// okTransport answers every request with errcode 0 at once, in memory, so
// BenchmarkSend measures the sender alone (URL, signature, body, answer).
type okTransport struct{}

func (okTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	_, _ = io.Copy(io.Discard, r.Body)
	_ = r.Body.Close()
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(`{"errcode":0,"errmsg":"ok"}`)), Request: r}, nil
}

// BenchmarkSend posts one signed message: "memory" answers in process
// (the sender's own cost), "loopback" goes through HTTP on 127.0.0.1 to a
// server answering at once, over the shared keep-alive client.
func BenchmarkSend(b *testing.B) {
	r, m := benchMessage(b)
	ctx := context.Background()
	b.Run("memory", func(b *testing.B) {
		n := &Notifier{Base: "http://robot.invalid", Client: &http.Client{Transport: okTransport{}}}
		b.ReportAllocs()
		for b.Loop() {
			if err := n.Send(ctx, r, m); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("loopback", func(b *testing.B) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, `{"errcode":0,"errmsg":"ok"}`)
		}))
		defer srv.Close()
		n := &Notifier{Base: srv.URL, Client: notify.NewHTTPClient()}
		b.ReportAllocs()
		for b.Loop() {
			if err := n.Send(ctx, r, m); err != nil {
				b.Fatal(err)
			}
		}
	})
}
