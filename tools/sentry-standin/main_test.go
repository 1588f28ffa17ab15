package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/sentry-white/sentry-white/internal/sentry"
)

// TestServe runs serve on loopback: the token's scopes, an issue with its
// facts, a fault set and healed through the control API.
func TestServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	var out bytes.Buffer
	go func() {
		done <- run(ctx, []string{"serve", "-addr", "127.0.0.1:0", "-projects", "mall-api"}, &out, ready)
	}()
	base := <-ready
	get := func(path string) (int, string) {
		req, _ := http.NewRequest("GET", base+path, nil)
		req.Header.Set("Authorization", "Bearer "+DefaultToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/api/0/"); code != 200 || !strings.Contains(body, "event:write") {
		t.Errorf("index: %d %s", code, body)
	}
	if code, body := get("/api/0/organizations/acme/issues/1170820242/"); code != 200 || !strings.Contains(body, `"count":"57"`) || !strings.Contains(body, "MALL-API-3K") {
		t.Errorf("issue: %d %s", code, body)
	}
	resp, err := http.Post(base+"/_standin/fault", "application/json", strings.NewReader(`{"path":"/issues/","status":429,"body":"{\"detail\":\"slow down\"}"}`))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("fault: %v %v", resp, err)
	}
	if code, _ := get("/api/0/organizations/acme/issues/1170820242/"); code != 429 {
		t.Errorf("with the fault: %d", code)
	}
	req, _ := http.NewRequest("DELETE", base+"/_standin/fault?path=/issues/", nil)
	http.DefaultClient.Do(req)
	if code, _ := get("/api/0/organizations/acme/issues/1170820242/"); code != 200 {
		t.Errorf("healed: %d", code)
	}
	if code, body := get("/_standin/requests"); code != 200 || strings.Contains(body, DefaultToken) {
		t.Errorf("requests: %d %s", code, body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"msg":"sentry stand-in listening"`) {
		t.Errorf("output %s", out.String())
	}
}

// TestSend: send builds Sentry's requests from the webhook URL — the
// component's uri from its path and token, the signatures with -secret —
// and fails on an answer that is not 2xx.
func TestSend(t *testing.T) {
	var mu sync.Mutex
	var got []*http.Request
	var bodies [][]byte
	relay := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got, bodies = append(got, r), append(bodies, b)
		mu.Unlock()
		if strings.Contains(r.URL.Path, "settings") {
			w.WriteHeader(400)
			json.NewEncoder(w).Encode(map[string]string{"message": "choose a robot"})
			return
		}
		w.Write([]byte(`[]`))
	}))
	defer relay.Close()
	hook := relay.URL + "/relay/?token=tok123"
	var out bytes.Buffer
	ctx := context.Background()
	if err := run(ctx, []string{"send", "options", "-webhook", hook, "-secret", "s3cret"}, &out, nil); err != nil {
		t.Fatal(err)
	}
	if err := run(ctx, []string{"send", "event_alert", "-webhook", hook, "-secret", "s3cret", "-robot", "2", "-mention", "all"}, &out, nil); err != nil {
		t.Fatal(err)
	}
	if err := run(ctx, []string{"send", "settings", "-webhook", hook, "-robot", "9"}, &out, nil); err == nil || !strings.Contains(out.String(), "choose a robot") {
		t.Errorf("a 400: %v\n%s", err, out.String())
	}
	mu.Lock()
	defer mu.Unlock()
	if r := got[0]; r.Method != "GET" || r.URL.Path != "/relay/sentry-app/tok123/robots" || r.URL.Query().Get("installationId") == "" ||
		r.URL.Query().Get("token") != "" || r.Header.Get("Sentry-App-Signature") != sentry.Sign(nil, "s3cret") {
		t.Errorf("options: %s %s %v", r.Method, r.URL, r.Header)
	}
	r := got[1]
	if r.URL.Path != "/relay/" || r.URL.Query().Get("token") != "tok123" || r.Header.Get("Sentry-Hook-Resource") != "event_alert" ||
		r.Header.Get("Sentry-Hook-Signature") != sentry.Sign(bodies[1], "s3cret") || r.Header.Get("Sentry-Hook-Timestamp") == "" {
		t.Errorf("event_alert: %s %v", r.URL, r.Header)
	}
	if ev, err := sentry.Parse(bodies[1], r.Header); err != nil || ev.RuleRobot != "2" || ev.RuleMention != "all" {
		t.Errorf("event_alert body: %+v %v", ev, err)
	}
	if r := got[2]; r.Method != "POST" || r.URL.Path != "/relay/sentry-app/tok123/settings" || r.URL.Query().Get("token") != "tok123" ||
		r.Header.Get("Sentry-App-Signature") != "" || !strings.Contains(string(bodies[2]), `{"name":"robot","value":"9"}`) {
		t.Errorf("settings: %s %s %v", r.URL, bodies[2], r.Header)
	}
}
