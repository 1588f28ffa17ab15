package notifiers

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/sentry-white/sentry-white/internal/notify"

	"github.com/sentry-white/sentry-white/internal/config"
)

// Every registered kind is known to the document, has a sender, and
// describes itself completely.
func TestEveryKindIsComplete(t *testing.T) {
	s := Senders(func(string) string { return "" }, nil)
	names := config.Kinds()
	if len(names) != len(All()) || len(s) != len(All()) {
		t.Fatalf("%d document kinds, %d senders for %d registered kinds", len(names), len(s), len(All()))
	}
	for i, k := range All() {
		if names[i] != k.Name || s[k.Name] == nil {
			t.Errorf("kind %q: document kind %q, sender %v", k.Name, names[i], s[k.Name])
		}
		if k.Label.Zh == "" || k.Label.En == "" || k.BaseEnv == "" || k.DefaultBase == "" || k.MaxBody <= 0 ||
			len(k.Budget.Limits) == 0 || k.Budget.DigestItems <= 0 || k.New == nil || k.Requests == nil ||
			k.ParseURL == nil || k.Token.Key == "" || k.URLExample == "" {
			t.Errorf("kind %q is incomplete: %+v", k.Name, k)
		}
		if Lookup(k.Name) != k {
			t.Errorf("Lookup(%q)", k.Name)
		}
	}
	if config.DefaultKind() != All()[0].Name {
		t.Errorf("default kind %q, want the first registered", config.DefaultKind())
	}
}

// Each kind's sender posts to the base URL its environment variable names.
func TestSendersTakeBaseFromEnv(t *testing.T) {
	for _, k := range All() {
		var hits atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			w.WriteHeader(http.StatusInternalServerError)
		}))
		env := map[string]string{k.BaseEnv: srv.URL}
		s := Senders(func(key string) string { return env[key] }, nil)
		r := &config.Robot{ID: 1, Name: "r", Kind: k.Name, AccessToken: "tok-12345"}
		_ = s[k.Name].Send(context.Background(), r, &notify.Message{Title: "t", Heading: "h", Keyword: "详情"})
		srv.Close()
		if hits.Load() == 0 {
			t.Errorf("kind %q: the sender did not post to %s=%s", k.Name, k.BaseEnv, srv.URL)
		}
	}
}
