package main

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/sentry-white/sentry-white/internal/fccost"
	"github.com/sentry-white/sentry-white/internal/robottest"
	"github.com/sentry-white/sentry-white/internal/store/osstest"
)

// TestLifecycleHooksOnFreshStore: with the initializer hook configured
// (deploy/s.yaml), a new bucket holds no document yet; /initialize must
// still succeed, or FC would fail every request, including the
// configurator's first save through the admin API and the deploy check
// that explains what is missing.
func TestLifecycleHooksOnFreshStore(t *testing.T) {
	srv := osstest.New(ossBucket)
	defer srv.Close()
	dt := robottest.NewDingTalk(exampleRobot())
	defer dt.Close()
	r := startOSSRelayEnv(t, srv, dt, map[string]string{"OSS_REGION": "cn-hangzhou", "SENTRY_WHITE_ADMIN_KEY": adminKey}, "-mode", "fc")

	req, _ := http.NewRequest(http.MethodPost, r.base+"/initialize", nil)
	req.Header.Set("x-fc-control-path", "/initialize") // as FC calls its initializer
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("POST /initialize on a bucket without a document = %d, want 200 (FC would fail every request)", resp.StatusCode)
	}
	if !strings.Contains(r.logs.String(), "configuration document is missing") {
		t.Errorf("the log does not say the document is missing:\n%s", r.logs)
	}
	code, body := r.deployCheck(t, false)
	if msg, _ := body["message"].(string); code != http.StatusServiceUnavailable || body["step"] != "document" || !strings.Contains(msg, "save it once") {
		t.Errorf("GET / = %d %v, want the missing document explained", code, body)
	}
	resp, err = http.Get(r.base + "/pre-stop")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /pre-stop = %d, want 200", resp.StatusCode)
	}
}

// yamlValue finds "key: value" in deploy/s.yaml (the first one).
func yamlValue(t *testing.T, yaml, key string) string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(key) + `:\s*([^#\n]*?)\s*(#.*)?$`).FindStringSubmatch(yaml)
	if m == nil {
		t.Fatalf("deploy/s.yaml sets no %s", key)
	}
	return m[1]
}

// TestDeploySettingsAgree: deploy/s.yaml sets what the relay relies on,
// and the README's console tables (Chinese and English) say the same,
// the runtime and the instance size included.
func TestDeploySettingsAgree(t *testing.T) {
	raw, err := os.ReadFile("../../deploy/s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	y := string(raw)
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	rd := string(readme)

	// The hand-off waits up to 14 minutes for the robots' budgets, then
	// flushes the history and hands on the rest (internal/relay).
	timeout := yamlValue(t, y, "timeout")
	if timeout != "900" {
		t.Errorf("s.yaml timeout = %s, want 900 (the hand-off's 14-minute drain and its hand-on)", timeout)
	}
	if v := yamlValue(t, y, "reservedConcurrency"); v != "1" {
		t.Errorf("s.yaml reservedConcurrency = %s, want 1 (rate budgets are per instance)", v)
	}
	for _, k := range []string{"initializer", "preStop", "asyncInvokeConfig", "concurrencyConfig", "instanceLifecycleConfig"} {
		if !regexp.MustCompile(`(?m)^\s*` + k + `:`).MatchString(y) {
			t.Errorf("s.yaml does not configure %s", k)
		}
	}
	age, retries := yamlValue(t, y, "maxAsyncEventAgeInSeconds"), yamlValue(t, y, "maxAsyncRetryAttempts")
	if age != "21600" {
		t.Errorf("s.yaml maxAsyncEventAgeInSeconds = %s, want 21600 (the relay refuses hand-offs older than 6 hours)", age)
	}
	for _, m := range []string{"GET", "POST", "PUT", "DELETE"} {
		if !regexp.MustCompile(`(?m)^\s*- ` + m + `\b`).MatchString(y) {
			t.Errorf("s.yaml's trigger does not allow %s", m)
		}
	}

	// The clock of timed work: a timer trigger calls POST /invoke every
	// minute (internal/timed), and the README says so in both languages.
	if !regexp.MustCompile(`(?m)^\s*triggerType: timer\s*(#.*)?$`).MatchString(y) {
		t.Error("s.yaml has no timer trigger (handoff notices and held digests need it on FC)")
	}
	cron := strings.Trim(yamlValue(t, y, "cronExpression"), `"'`)
	if cron != "@every 1m" {
		t.Errorf("s.yaml's timer fires %q, want @every 1m", cron)
	}
	for _, want := range []string{"定时触发器，名称 `timer`", "Time Trigger (定时触发器), name `timer`"} {
		if i := strings.Index(rd, want); i < 0 || !strings.Contains(rd[i:min(len(rd), i+400)], "`"+cron+"`") {
			t.Errorf("the README's deploy guide does not say %q with %s (as deploy/s.yaml does)", want, cron)
		}
	}

	// The README's console tables (Chinese and English) say the same.
	for _, row := range []string{
		"| 执行超时时间 | " + timeout + " 秒",
		"| Execution timeout | " + timeout + " s",
		"| 配额管理 → 实例数上限 | 1",
		"| Quota management → Maximum instances | 1",
		"`/initialize`", "`/pre-stop`",
		"| 异步调用 | 最大重试次数 " + retries + "，消息最大存活时长 " + age + " 秒",
		"| Asynchronous invocation | maximum retries " + retries + ", maximum event age " + age + " s",
		"`GET`、`POST`、`PUT`、`DELETE`",
		"`GET`, `POST`, `PUT`, `DELETE`",
	} {
		if !strings.Contains(rd, row) {
			t.Errorf("the README's deploy guide does not say %q (as deploy/s.yaml does)", row)
		}
	}

	// The runtime: the console's picker (自定义运行时 › language ›
	// Debian N) and the identifier s.yaml sets.
	runtime := yamlValue(t, y, "runtime")
	m := regexp.MustCompile(`^custom\.debian(\d+)$`).FindStringSubmatch(runtime)
	if m == nil {
		t.Fatalf("s.yaml runtime = %s, want a custom runtime custom.debianN", runtime)
	}
	debian := "Debian " + m[1]
	size := deploySize(t, y)
	cpu := strconv.FormatFloat(size.VCPU, 'f', -1, 64)
	for _, row := range []struct{ prefix, want string }{
		{"| 运行环境 | ", "| 运行环境 | 自定义运行时 › 任一语言 › " + debian + "（`" + runtime + "`"},
		{"| Runtime | ", "| Runtime | Custom runtime › any language › " + debian + " (`" + runtime + "`"},
		{"| 规格 | ", fmt.Sprintf("| 规格 | vCPU %s，内存 %d MB，磁盘 %d MB |", cpu, size.MemoryMB, size.DiskMB)},
		{"| Specs | ", fmt.Sprintf("| Specs | %s vCPU, %d MB memory, %d MB disk |", cpu, size.MemoryMB, size.DiskMB)},
	} {
		if line := readmeLine(rd, row.prefix); !strings.HasPrefix(line, row.want) {
			t.Errorf("the README's console table says %q, want it to start %q (as deploy/s.yaml sets)", line, row.want)
		}
	}
	for _, s := range []string{"| 最小实例数 | 0", "| Minimum instances (最小实例数) | 0"} {
		if !strings.Contains(rd, s) {
			t.Errorf("the README's console table does not say %q", s)
		}
	}
	// The minimum number of instances stays 0: an instance kept is billed
	// every hour.
	for _, k := range []string{"provisionConfig", "scalingConfig", "minInstances"} {
		if regexp.MustCompile(`(?m)^\s*` + k + `:`).MatchString(y) {
			t.Errorf("s.yaml sets %s: the minimum number of instances must stay 0", k)
		}
	}
}

// readmeLine is the README's first line that starts with prefix, or "".
func readmeLine(readme, prefix string) string {
	for _, l := range strings.Split(readme, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

// deploySize is the instance size s.yaml sets.
func deploySize(t *testing.T, yaml string) fccost.Size {
	t.Helper()
	size, err := fccost.ParseSize(yaml)
	if err != nil {
		t.Fatal(err)
	}
	return size
}

var updateCosts = flag.Bool("update", false, "rewrite the README's cost table from deploy/s.yaml")

// TestDeployCostsAgree: the README's cost table is the one internal/fccost
// computes for the instance size deploy/s.yaml sets, so the size is
// changed in one place (-update rewrites the table); BENCHMARKS.md prices
// the same size (make bench rewrites it).
func TestDeployCostsAgree(t *testing.T) {
	raw, err := os.ReadFile("../../deploy/s.yaml")
	if err != nil {
		t.Fatal(err)
	}
	size := deploySize(t, string(raw))
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const start, end = "<!-- cost:start -->\n", "<!-- cost:end -->"
	rd := string(readme)
	i, j := strings.Index(rd, start), strings.Index(rd, end)
	if i < 0 || j < i {
		t.Fatalf("the README has no %q … %q section", start, end)
	}
	want := fccost.Table(size)
	if got := rd[i+len(start) : j]; got != want {
		if !*updateCosts {
			t.Errorf("the README's cost table is not the one for %s (deploy/s.yaml); run go test ./cmd/sentry-white-fc -run TestDeployCostsAgree -update\ngot:\n%s\nwant:\n%s", size, got, want)
		} else if err := os.WriteFile("../../README.md", []byte(rd[:i+len(start)]+want+rd[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	bench, err := os.ReadFile("../../BENCHMARKS.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(bench), "deploy/s.yaml sets ("+size.String()+")") {
		t.Errorf("BENCHMARKS.md does not price the size deploy/s.yaml sets (%s); run make bench", size)
	}
}

// TestAnonymousInitializeForcesNoRead: on FC, only FC's own lifecycle call
// (x-fc-control-path: /initialize, a header FC sets and its trigger refuses
// from clients) re-reads the store; the same path called through the
// trigger is answered from the cached document, like GET /, so fifty
// strangers' calls cost no store read.
func TestAnonymousInitializeForcesNoRead(t *testing.T) {
	srv := osstest.New(ossBucket)
	defer srv.Close()
	seedExampleDoc(t, srv)
	dt := robottest.NewDingTalk(exampleRobot())
	defer dt.Close()
	r := startOSSRelay(t, srv, dt, "-mode", "fc", "-cache", "1h")
	initialize := func(controlPath string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, r.base+"/initialize", nil)
		req.Header.Set("x-fc-request-id", "req-init")
		if controlPath != "" {
			req.Header.Set("x-fc-control-path", controlPath)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	n := srv.Count()
	for range 50 {
		if code := initialize("/http-invoke"); code != http.StatusOK {
			t.Fatalf("POST /initialize through the trigger = %d, want 200", code)
		}
	}
	if code := initialize(""); code != http.StatusOK {
		t.Fatalf("POST /initialize without a control path = %d, want 200", code)
	}
	if reqs := srv.Since(n); len(reqs) != 0 {
		t.Errorf("51 calls of /initialize through the trigger read the store %d times, want none inside the cache window", len(reqs))
	}
	if code := initialize("/initialize"); code != http.StatusOK {
		t.Fatalf("FC's initializer = %d, want 200", code)
	}
	if reqs := srv.Since(n); len(reqs) != 1 {
		t.Errorf("FC's initializer read the store %d times, want once", len(reqs))
	}
}
