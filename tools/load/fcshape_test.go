package main

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/tools/load/report"
)

func TestParseSizes(t *testing.T) {
	got, err := parseSizes("0.05, 0.1,0.25,0.5,1/2048")
	if err != nil {
		t.Fatal(err)
	}
	want := []report.FCSize{{VCPU: 0.05, MemoryMB: 128}, {VCPU: 0.1, MemoryMB: 128}, {VCPU: 0.25, MemoryMB: 256},
		{VCPU: 0.5, MemoryMB: 512}, {VCPU: 1, MemoryMB: 2048}}
	if !slices.Equal(got, want) {
		t.Errorf("parseSizes = %v, want %v", got, want)
	}
	for _, bad := range []string{"0.01", "x", "0.1/12", "20"} {
		if _, err := parseSizes(bad); err == nil {
			t.Errorf("parseSizes(%q) accepted", bad)
		}
	}
}

func TestBurstFigures(t *testing.T) {
	x := report.FCRun{BurstMS: []float64{120, 999, 1000.5, 300}}
	if n := x.BurstWithin(1000); n != 3 {
		t.Errorf("BurstWithin(1000) = %d, want 3 (120, 999 and 300 ms; not 1000.5)", n)
	}
	if l := x.BurstLastMS(); l != 1000.5 {
		t.Errorf("BurstLastMS = %v", l)
	}
	x.BurstMS[1] = -1
	if l := x.BurstLastMS(); l != -1 {
		t.Errorf("BurstLastMS with an answer missing = %v, want -1", l)
	}
}

// TestMinimalRelay: the minimal relay reads its document from the OSS
// stand-in over HTTPS (trusting it through SSL_CERT_FILE, as the FC-shaped
// runs give it) and delivers a legacy webhook to the DingTalk stand-in
// once, signed and with the keyword; it refuses a wrong token.
func TestMinimalRelay(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the minimal relay")
	}
	wd, _ := os.Getwd()
	if err := os.Chdir(filepath.Join("..", "..")); err != nil {
		t.Fatal(err)
	}
	defer os.Chdir(wd)
	o, err := parseFlags([]string{"-n", "1", "-n-one", "0", "-warm", "0"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	l, err := newLoader(o, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer l.close()
	if err := l.prepareStores(&report.Report{}); err != nil {
		t.Fatal(err)
	}
	bin, err := l.buildMinimal()
	if err != nil {
		t.Fatal(err)
	}
	bundle, err := l.caBundle()
	if err != nil {
		t.Fatal(err)
	}
	env := append(slices.Clone(l.env), "SSL_CERT_FILE="+bundle)
	args := []string{"-doc", l.oss.TLSURL + unsignedPrefix + "small/v1/config.json", "-dingtalk", l.standin.TLSURL()}
	p, err := startProc(bin, args, env, l.work, "minimal", 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer p.stop(10 * time.Second)
	first := l.ids(1)
	rec := l.standin.begin(first, 1)
	body := l.payloads[0].webhook.fill(nil, first, 3)
	post := func(token string) int {
		resp, err := http.Post("http://"+p.addr+"/?token="+token, "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := post(webhookToken); st != http.StatusOK {
		t.Fatalf("webhook answered %d; log:\n%s", st, tail(p.logPath))
	}
	if st := post("wrong"); st == http.StatusOK {
		t.Error("a wrong token was answered 200")
	}
	l.standin.settle(10 * time.Second)
	if n := rec.msgs[0].Load(); n != 1 || l.standin.refused() != 0 {
		t.Errorf("%d messages of the webhook, %d refused; want 1 and 0", n, l.standin.refused())
	}
}
