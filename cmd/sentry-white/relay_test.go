package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sentry-white/sentry-white/internal/adminapi"
	"github.com/sentry-white/sentry-white/internal/store"
)

// TestRunThroughRelay: -store relay+http://… edits the relay's own store
// through its admin API, with the admin key from SENTRY_WHITE_ADMIN_KEY and
// no OSS settings at all.
func TestRunThroughRelay(t *testing.T) {
	const key = "configuratorRelayKey-0123456789"
	dir := t.TempDir()
	admin, err := adminapi.New(adminapi.Options{Backend: store.NewFile(dir), Prefix: "sw/", Key: key})
	if err != nil {
		t.Fatal(err)
	}
	relay := httptest.NewServer(admin)
	defer relay.Close()

	in := start(t, []string{"-no-browser", "-addr", "127.0.0.1:0", "-store", "relay+" + relay.URL}, map[string]string{"SENTRY_WHITE_ADMIN_KEY": key})
	if out := in.out.String(); !strings.Contains(out, "editing relay+"+relay.URL+" (from -store)") {
		t.Errorf("start-up line does not name the relay store:\n%s", out)
	}
	in.api(t, http.MethodPost, "/api/v1/owners", map[string]any{"name": "张三", "mobile": "13800138000"})
	b, err := os.ReadFile(filepath.Join(dir, "sw", "v1", "config.json"))
	if err != nil || !strings.Contains(string(b), "13800138000") {
		t.Fatalf("the relay's store holds %q (%v)", b, err)
	}
	if strings.Contains(in.out.String(), key) {
		t.Error("the configurator printed the admin key")
	}
}
