package store

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestParseRelayLocation(t *testing.T) {
	for in, want := range map[string]string{
		"relay+https://sentry-white-relay-abc.cn-hangzhou.fcapp.run":  "relay+https://sentry-white-relay-abc.cn-hangzhou.fcapp.run",
		"relay+https://sentry-white-relay-abc.cn-hangzhou.fcapp.run/": "relay+https://sentry-white-relay-abc.cn-hangzhou.fcapp.run",
		"relay+https://relay.example.com/base/":                       "relay+https://relay.example.com/base",
		"relay+http://127.0.0.1:9000":                                 "relay+http://127.0.0.1:9000",
		"relay+http://localhost:9000":                                 "relay+http://localhost:9000",
		"relay+http://[::1]:9000":                                     "relay+http://[::1]:9000",
	} {
		loc, err := ParseLocation(in)
		if err != nil || loc.Scheme != "relay" || loc.String() != want || loc.Prefix != DefaultPrefix {
			t.Errorf("ParseLocation(%q) = %+v %v, want %s", in, loc, err, want)
		}
	}
	for in, words := range map[string]string{
		"relay+http://relay.example.com":       "use https",
		"relay+ftp://relay.example.com":        "not the relay's URL",
		"relay+https://":                       "not the relay's URL",
		"relay+https://u:p@relay.example.com":  "no user",
		"relay+https://relay.example.com/?a=1": "no user, query",
	} {
		if _, err := ParseLocation(in); err == nil || !strings.Contains(err.Error(), words) {
			t.Errorf("ParseLocation(%q) = %v, want an error saying %q", in, err, words)
		}
	}
	if _, err := ParseLocation("s3://bucket"); err == nil || !strings.Contains(err.Error(), "relay+https://") {
		t.Errorf("an unknown scheme: %v, want the schemes listed", err)
	}

	loc, _ := ParseLocation("relay+http://127.0.0.1:9000")
	if _, err := Open(loc, func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "SENTRY_WHITE_ADMIN_KEY") {
		t.Errorf("Open without a key: %v, want an error naming SENTRY_WHITE_ADMIN_KEY", err)
	}
	if _, err := Open(loc, func(string) string { return "short" }); err == nil || strings.Contains(err.Error(), "short\"") || !strings.Contains(err.Error(), "16") {
		t.Errorf("Open with a short key: %v", err)
	}
	b, err := Open(loc, func(k string) string {
		return map[string]string{"SENTRY_WHITE_ADMIN_KEY": "relayKeyOfSufficientLength"}[k]
	})
	if err != nil || b.String() != "relay+http://127.0.0.1:9000" || strings.Contains(b.String(), "relayKey") {
		t.Errorf("Open = %v %v", b, err)
	}
}

// TestRelayClientErrors: what the relay backend says when the URL is not
// a relay with an admin API, or cannot be reached.
func TestRelayClientErrors(t *testing.T) {
	const key = "relayKeyOfSufficientLength"
	for _, c := range []struct {
		name    string
		handler http.HandlerFunc
		kind    error
		words   string
	}{
		{"no admin API", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }, ErrNoAdminAPI, "SENTRY_WHITE_ADMIN_KEY on the function"},
		{"trigger refuses the method", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusMethodNotAllowed) }, ErrNoAdminAPI, "GET, POST, PUT and DELETE"},
		{"redirect", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "https://elsewhere.example.com/", http.StatusFound)
		}, ErrNoAdminAPI, "elsewhere.example.com"},
		{"store failure at the relay", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set(AdminHeaderAPI, "v1")
			w.WriteHeader(http.StatusBadGateway)
			_, _ = w.Write([]byte(`{"code":"public_endpoint","error":"the relay's store failed: public endpoint refused"}`))
		}, ErrPublicEndpoint, "its own store failed"},
	} {
		srv := httptest.NewServer(c.handler)
		r, err := NewRelay(srv.URL, key)
		if err != nil {
			t.Fatal(err)
		}
		_, err = r.Get(context.Background(), "api/v1/config.json", "")
		if !errors.Is(err, c.kind) || !strings.Contains(err.Error(), c.words) || strings.Contains(err.Error(), key) {
			t.Errorf("%s: %v, want %v saying %q", c.name, err, c.kind, c.words)
		}
		srv.Close()
	}
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	r, _ := NewRelay(srv.URL, key)
	if _, err := r.Get(context.Background(), "api/v1/config.json", ""); !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), "relay URL") {
		t.Errorf("a relay that is down: %v", err)
	}
	if _, err := r.Get(context.Background(), "other/x.json", ""); err == nil || !strings.Contains(err.Error(), "outside the relay's store") {
		t.Errorf("a key outside api/: %v", err)
	}
}
