package notifiers

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/notify"
)

// Every kind of the default registry is known to the document, has a
// sender, and describes itself completely.
func TestEveryKindIsComplete(t *testing.T) {
	r := Default()
	s := r.Senders(func(string) string { return "" }, nil)
	doc := r.Document()
	if len(doc) != len(r.All()) || len(s) != len(r.All()) || len(r.All()) == 0 {
		t.Fatalf("%d document kinds, %d senders for %d kinds", len(doc), len(s), len(r.All()))
	}
	for i, k := range r.All() {
		if doc[i].Name != k.Name || s[k.Name] == nil {
			t.Errorf("kind %q: document kind %q, sender %v", k.Name, doc[i].Name, s[k.Name])
		}
		if k.Label.Zh == "" || k.Label.En == "" || k.BaseEnv == "" || k.DefaultBase == "" || k.MaxBody <= 0 ||
			len(k.Budget.Limits) == 0 || k.Budget.DigestItems <= 0 || k.New == nil || k.Requests == nil ||
			k.ParseURL == nil || k.Token.Key == "" || k.URLExample == "" {
			t.Errorf("kind %q is incomplete: %+v", k.Name, k)
		}
		if r.Lookup(k.Name) != k {
			t.Errorf("Lookup(%q)", k.Name)
		}
	}
	if doc.Default() != r.All()[0].Name {
		t.Errorf("default kind %q, want the first", doc.Default())
	}
	if r.Lookup("slack") != nil {
		t.Error("Lookup of a kind not in the registry")
	}
}

// A registry of its own: a later kind of the same name replaces the
// earlier in its place, and the registry a caller was given does not
// change.
func TestNewReplacesInPlace(t *testing.T) {
	base := Default()
	first := base.All()[0]
	other := *first
	other.Label = notify.Text{Zh: "另一个", En: "another"}
	hook := &notify.Kind{Name: "hook"}
	r := New(append(base.All(), &other, hook)...)
	all := r.All()
	if len(all) != len(base.All())+1 || all[0] != &other || all[len(all)-1] != hook {
		t.Fatalf("kinds %v", all)
	}
	if base.Lookup(first.Name) != first || base.Lookup("hook") != nil {
		t.Error("New changed the registry it was given the kinds of")
	}
	if names := r.Document().Names(); names[0] != first.Name || names[len(names)-1] != "hook" {
		t.Errorf("document kinds %v", names)
	}
}

// A kind the document could not hold is refused when the registry is made.
func TestNewRefusesBadKinds(t *testing.T) {
	for _, k := range []*notify.Kind{
		{Name: ""},
		{Name: "Hook"},
		{Name: " hook"},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("New accepted kind %q", k.Name)
				}
			}()
			New(k)
		}()
	}
}

// Each kind's sender posts to the base URL its environment variable names.
func TestSendersTakeBaseFromEnv(t *testing.T) {
	r := Default()
	for _, k := range r.All() {
		var hits atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			hits.Add(1)
			w.WriteHeader(http.StatusInternalServerError)
		}))
		env := map[string]string{k.BaseEnv: srv.URL}
		s := r.Senders(func(key string) string { return env[key] }, nil)
		robot := &config.Robot{ID: 1, Name: "r", Kind: k.Name, AccessToken: "tok-12345"}
		_ = s[k.Name].Send(context.Background(), robot, &notify.Message{Title: "t", Heading: "h", Keyword: "详情"})
		srv.Close()
		if hits.Load() == 0 {
			t.Errorf("kind %q: the sender did not post to %s=%s", k.Name, k.BaseEnv, srv.URL)
		}
	}
}
