package configapi

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/sentry-white/sentry-white/internal/adminapi"
	"github.com/sentry-white/sentry-white/internal/store"
	"github.com/sentry-white/sentry-white/internal/store/osstest"
)

// TestSettingsOSSSignsV4: the configurator signs every OSS request with
// V4 for the region on the settings page; an endpoint that names no
// region needs one.
func TestSettingsOSSSignsV4(t *testing.T) {
	e := newEnv(t)
	srv := osstest.New("sw-config")
	t.Cleanup(srv.Close)
	body := map[string]any{"store_kind": "oss", "oss_endpoint": srv.URL, "oss_bucket": "sw-config",
		"oss_access_key_id": "LTAIcfgKey01", "oss_access_key_secret": "cfgSecretValue01"}
	m := e.must(http.StatusUnprocessableEntity, "PUT", "/api/v1/settings", body)
	if !slices.Contains(fieldsOf(m), "oss_region") {
		t.Errorf("an endpoint without a region and no oss_region: %v, want the field named", m)
	}
	body["oss_region"] = "cn-shanghai"
	e.must(http.StatusOK, "PUT", "/api/v1/settings", body)
	e.must(http.StatusCreated, "POST", "/api/v1/owners", map[string]any{"name": "李四", "mobile": "13900139000"})
	e.must(http.StatusOK, "GET", "/api/v1/history", nil)
	reqs := srv.Requests()
	if len(reqs) < 3 {
		t.Fatalf("%d OSS requests", len(reqs))
	}
	for _, r := range reqs {
		if r.Scheme != osstest.V4 || r.Region != "cn-shanghai" || r.Status == http.StatusForbidden {
			t.Errorf("%s %s signed %q for %q (answered %d); want %s for cn-shanghai", r.Method, r.Path, r.Scheme, r.Region, r.Status, osstest.V4)
		}
	}
	// A region endpoint names its region.
	e.must(http.StatusOK, "PUT", "/api/v1/settings", map[string]any{"store_kind": "oss", "oss_endpoint": "https://oss-cn-hangzhou.aliyuncs.com",
		"oss_region": "", "oss_bucket": "sw-config", "oss_access_key_id": "LTAIcfgKey01"})
	e.must(http.StatusUnprocessableEntity, "PUT", "/api/v1/settings", map[string]any{"oss_region": "cn hangzhou"})
}

// TestSettingsTestConnectionExplainsOSS: the connection test words OSS's
// refusals of a new account (the public endpoint, a V1 signature) and the
// usual ones with the fix, and reaches a bucket through a custom domain.
func TestSettingsTestConnectionExplainsOSS(t *testing.T) {
	e := newEnv(t)
	srv := osstest.New("sw-config")
	t.Cleanup(srv.Close)
	body := map[string]any{"store_kind": "oss", "oss_endpoint": srv.URL, "oss_region": "cn-hangzhou", "oss_bucket": "sw-config",
		"oss_access_key_id": "LTAIcfgKey02", "oss_access_key_secret": "cfgSecretValue02"}
	for _, c := range []struct {
		fault osstest.Fault
		code  string
		words []string
	}{
		{osstest.Fault{Status: 400, Code: "PublicEndpointForbidden"}, "public_endpoint", []string{"public endpoint", "2025-03-20", "custom domain"}},
		{osstest.V1Refused, "credentials", []string{"V1 signature", "V4"}},
		{osstest.Fault{Status: 403, Code: "SignatureDoesNotMatch"}, "credentials", []string{"secret", "OSS_REGION (now cn-hangzhou)"}},
		{osstest.Fault{Status: 403, Code: "AccessDenied"}, "credentials", []string{"not allowed", "ram-policy-configurator.json"}},
		{osstest.Fault{Status: 403, Code: "InvalidAccessKeyId"}, "credentials", []string{"AccessKey ID does not exist"}},
		{osstest.Fault{Status: 403, Code: "AccessDenied", Message: "The bucket you are attempting to access must be addressed using the specified endpoint."}, "wrong_region", []string{"another region"}},
	} {
		srv.Fail(c.fault)
		m := e.must(http.StatusOK, "POST", "/api/v1/settings/test", body)
		msg, _ := m["message"].(string)
		if m["ok"] != false || m["code"] != c.code {
			t.Errorf("%s: %v, want code %s", c.fault.Code, m, c.code)
		}
		for _, w := range c.words {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: %q does not say %q", c.fault.Code, msg, w)
			}
		}
		if strings.Contains(msg, "cfgSecretValue02") || strings.Contains(msg, "LTAIcfgKey02") {
			t.Errorf("%s: the message shows a key: %s", c.fault.Code, msg)
		}
	}
	srv.Fail(osstest.Fault{})

	// A custom domain bound to the bucket (OSS_CNAME=true here, since the
	// loopback name is not a domain of its own).
	e.env["OSS_CNAME"] = "true"
	body["oss_endpoint"] = srv.CNAME("sw-config")
	if m := e.must(http.StatusOK, "POST", "/api/v1/settings/test", body); m["code"] != "no_document" {
		t.Errorf("through a custom domain: %v", m)
	}
	for _, r := range srv.Requests()[len(srv.Requests())-1:] {
		if !r.CNAME || r.Scheme != osstest.V4 {
			t.Errorf("the test read %s %s (cname %v, %s), want it through the custom domain", r.Method, r.Path, r.CNAME, r.Scheme)
		}
	}
}

// TestSettingsRelayStore: the settings page chooses the relay as the
// store: its URL and admin key are required, the key is kept in the
// settings file (0600) and never shown, the connection test says which
// store the relay serves, and edits go to the relay's store.
func TestSettingsRelayStore(t *testing.T) {
	e := newEnv(t)
	const key = "settingsRelayAdminKey-0123456789"
	dir := t.TempDir()
	admin, err := adminapi.New(adminapi.Options{Backend: store.NewFile(dir), Prefix: "api/", Key: key})
	if err != nil {
		t.Fatal(err)
	}
	relay := httptest.NewServer(admin)
	t.Cleanup(relay.Close)

	m := e.must(http.StatusUnprocessableEntity, "PUT", "/api/v1/settings", map[string]any{"store_kind": "relay"})
	for _, f := range []string{"relay_url", "relay_admin_key"} {
		if !slices.Contains(fieldsOf(m), f) {
			t.Errorf("relay settings without %s: %v, want the field named", f, m)
		}
	}
	m = e.must(http.StatusUnprocessableEntity, "PUT", "/api/v1/settings", map[string]any{"store_kind": "relay", "relay_url": "http://relay.example.com", "relay_admin_key": "short"})
	if f := fieldsOf(m); !slices.Contains(f, "relay_url") || !slices.Contains(f, "relay_admin_key") {
		t.Errorf("plain http to another host and a short key: %v, want both named", m)
	}

	// The connection test, with a wrong key and then the right one.
	body := map[string]any{"store_kind": "relay", "relay_url": relay.URL, "relay_admin_key": "notTheRelaysKey-0123456789"}
	if m := e.must(http.StatusOK, "POST", "/api/v1/settings/test", body); m["code"] != "admin_key" || strings.Contains(fmt.Sprint(m), "notTheRelaysKey") {
		t.Errorf("test with a wrong key: %v", m)
	}
	body["relay_admin_key"] = key
	if m := e.must(http.StatusOK, "POST", "/api/v1/settings/test", body); m["code"] != "no_document" || !strings.Contains(m["message"].(string), "through the relay to file:") {
		t.Errorf("test with the key: %v", m)
	}

	m = e.must(http.StatusOK, "PUT", "/api/v1/settings", body)
	if m["active_store"] != "relay+"+relay.URL || m["store_kind"] != "relay" || m["relay_admin_key"] == key {
		t.Errorf("after saving: %v", m)
	}
	m["language"] = "en"
	e.must(http.StatusOK, "PUT", "/api/v1/settings", m) // the page sends the masked key back
	path := filepath.Join(e.cfgDir, "settings.json")
	b, _ := os.ReadFile(path)
	if !strings.Contains(string(b), key) {
		t.Errorf("the settings file lost the key: %s", b)
	}
	if st, err := os.Stat(path); err != nil || runtime.GOOS != "windows" && st.Mode().Perm() != 0o600 {
		t.Errorf("settings file: %v %v, want mode 0600", st, err)
	}
	if body := e.do("GET", "/api/v1/settings", nil).Body.String(); strings.Contains(body, key) {
		t.Errorf("GET settings shows the admin key: %s", body)
	}
	e.must(http.StatusCreated, "POST", "/api/v1/owners", map[string]any{"name": "李四", "mobile": "13900139000"})
	if b, err := os.ReadFile(filepath.Join(dir, "api", "v1", "config.json")); err != nil || !strings.Contains(string(b), "13900139000") {
		t.Errorf("the relay's store holds %q (%v)", b, err)
	}
	// A restart uses the saved relay store.
	if loc, src := e.server("").StoreLocation(); loc != "relay+"+relay.URL || src != "settings" {
		t.Errorf("after a restart: %s (%s)", loc, src)
	}
}
