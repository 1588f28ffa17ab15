package configapi

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestRelayCheck: the configurator asks the relay's GET /?token=… and says
// whether it is deployed, which version it serves and whether that is the
// one stored; the token never appears in the answer or the log.
func TestRelayCheck(t *testing.T) {
	e := newEnv(t)
	var logs bytes.Buffer
	e.s.log = slog.New(slog.NewTextHandler(&logs, nil))
	e.must(http.StatusCreated, "POST", "/api/v1/owners", map[string]any{"name": "张三", "mobile": "13800138000"})
	tok := e.stored().WebhookToken.Reveal()
	snap := e.must(http.StatusOK, "GET", "/api/v1/snapshot", nil)
	version := snap["etag"].(string)
	serve := version
	relay := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Query().Get("token") != tok {
			_, _ = w.Write([]byte(`{"status":"ok","message":"部署成功 / deployed"}`))
			return
		}
		_, _ = w.Write([]byte(`{"status":"ok","message":"部署成功 / deployed","projects":0,"version":` + jsonString(serve) + `,"loaded_at":"2026-01-01T00:00:00Z"}`))
	}))
	defer relay.Close()

	if m := e.must(http.StatusUnprocessableEntity, "POST", "/api/v1/relay-check", map[string]any{}); m["code"] != "no_relay_url" {
		t.Errorf("without a relay URL: %v", m)
	}
	e.must(http.StatusOK, "PUT", "/api/v1/settings", map[string]any{"relay_url": relay.URL})
	check := func() map[string]any { return e.must(http.StatusOK, "POST", "/api/v1/relay-check", map[string]any{}) }
	if m := check(); m["code"] != "ok" || m["matches"] != true || m["version"] != version || m["warning_code"] != "loopback" {
		t.Errorf("a relay serving the stored version: %v", m)
	}
	serve = `"an-older-version"`
	if m := check(); m["code"] != "ok" || m["matches"] != false {
		t.Errorf("a relay serving another version: %v", m)
	}
	tok = "not-the-token-anymore"
	if m := check(); m["code"] != "token_mismatch" {
		t.Errorf("a relay that does not know the token: %v", m)
	}
	relay.Close()
	m := check()
	if m["code"] != "unreachable" || m["ok"] != false {
		t.Errorf("no relay: %v", m)
	}
	real := e.stored().WebhookToken.Reveal()
	if strings.Contains(jsonNum(m), real) || strings.Contains(logs.String(), real) {
		t.Errorf("the token leaked: %v\n%s", m, logs.String())
	}
	// Not a relay at all.
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("<html>login</html>")) }))
	defer other.Close()
	e.must(http.StatusOK, "PUT", "/api/v1/settings", map[string]any{"relay_url": other.URL})
	if m := check(); m["code"] != "not_relay" {
		t.Errorf("a page that is no relay: %v", m)
	}
	if strings.Contains(logs.String(), real) {
		t.Errorf("the log holds the token:\n%s", logs.String())
	}
}

func jsonString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	b.WriteString(strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `"`, `\"`))
	b.WriteByte('"')
	return b.String()
}
