package main

import (
	"bytes"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/notify/dingtalk"
	"github.com/sentry-white/sentry-white/internal/sentry"
)

// TestPayloads: every generated webhook parses, names its project and
// carries its own issue (and event) id, which issueID finds back in its
// link; the robot message made for it names the same id.
func TestPayloads(t *testing.T) {
	ps, err := loadPayloads(filepath.Join("..", "..", "testdata", "sentry"), buildDoc(7))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	base := firstID()
	for i := range 30 {
		p := ps[i%len(ps)]
		id := base + int64(i)
		body := p.webhook.fill(nil, id, i%7)
		h := http.Header{}
		if p.resource != "" {
			h.Set("Sentry-Hook-Resource", p.resource)
		}
		ev, err := sentry.Parse(body, h)
		if err != nil {
			t.Fatalf("%s %d: %v", p.name, i, err)
		}
		if len(ev.ProjectSlugs) != 1 || ev.ProjectSlugs[0] != projectSlug(i%7) {
			t.Errorf("%s %d: projects %v", p.name, i, ev.ProjectSlugs)
		}
		if got := issueID([]byte(ev.URL)); got != id {
			t.Errorf("%s %d: issueID(%q) = %d, want %d", p.name, i, ev.URL, got, id)
		}
		msg := p.message.fill(nil, id, i%7)
		if got := issueID(msg); got != id || !bytes.Contains(msg, []byte(keyword)) {
			t.Errorf("%s %d: the robot message names webhook %d (want %d) or lacks the keyword:\n%s", p.name, i, got, id, msg)
		}
		key := ev.IssueID + "/" + ev.EventID
		if seen[key] {
			t.Errorf("%s %d: ids %s repeat", p.name, i, key)
		}
		seen[key] = true
	}
	if issueID([]byte("no link")) != -1 || issueID([]byte("/issues/x/")) != -1 {
		t.Error("issueID must refuse a message without an issue id")
	}
}

func TestPercentiles(t *testing.T) {
	var d []time.Duration
	for i := 100; i >= 1; i-- {
		d = append(d, time.Duration(i)*time.Millisecond)
	}
	got := percentiles(d, 50, 90, 99, 100)
	want := []time.Duration{50 * time.Millisecond, 90 * time.Millisecond, 99 * time.Millisecond, 100 * time.Millisecond}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("p%d = %v, want %v", i, got[i], want[i])
		}
	}
	if p := percentiles(nil, 50); p[0] != 0 {
		t.Error("empty input")
	}
}

// TestStandIn: the stand-in accepts a signed message with the keyword,
// refuses a bad signature and an unknown token, and records the hold time
// per webhook and its refusals.
func TestStandIn(t *testing.T) {
	s := newStandIn(3, 0)
	defer s.Close()
	base := firstID()
	rec := s.begin(base, 10)
	post := func(query, body string) string {
		resp, err := http.Post(s.URL()+"/robot/send?"+query, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		return b.String()
	}
	ts := time.Now().UnixMilli()
	q := "access_token=" + robotToken(1) + "&timestamp=" + itoa(ts) + "&sign=" + urlEscape(dingtalk.Sign(robotSecret, ts))
	if got := post(q, `{"msgtype":"markdown","markdown":{"text":"详情 https://x/issues/`+itoa(base+4)+`/"}}`); !strings.Contains(got, `"errcode":0`) {
		t.Fatalf("signed message refused: %s", got)
	}
	if !s.settle(10 * time.Second) {
		t.Fatal("the stand-in did not finish recording within 10 s")
	}
	if rec.msgs[4].Load() != 1 || rec.holdNs[4].Load() <= 0 {
		t.Errorf("webhook 4: %d messages, %d ns", rec.msgs[4].Load(), rec.holdNs[4].Load())
	}
	if got := post("access_token="+robotToken(1)+"&timestamp=1&sign=x", `{"text":"详情"}`); !strings.Contains(got, "310000") {
		t.Errorf("bad signature accepted: %s", got)
	}
	if got := post("access_token=nope", `{}`); !strings.Contains(got, "300005") {
		t.Errorf("unknown token accepted: %s", got)
	}
	if n, r := s.messages.Load(), s.refused(); n != 1 || r != 2 {
		t.Errorf("%d messages taken and %d refused, want 1 and 2", n, r)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func urlEscape(s string) string { return url.QueryEscape(s) }

// TestDirectRequest: the direct baseline's request for a webhook is
// accepted by the stand-in (token, 加签 and keyword) and counted as that
// webhook's one message.
func TestDirectRequest(t *testing.T) {
	const projects = 7
	ps, err := loadPayloads(filepath.Join("..", "..", "testdata", "sentry"), buildDoc(projects))
	if err != nil {
		t.Fatal(err)
	}
	s := newStandIn(projects, 0)
	defer s.Close()
	base := firstID()
	rec := s.begin(base, 6)
	mk := directRequest(s.URL(), projects, ps)
	for seq := range 6 {
		req, _ := mk(seq, base+int64(seq), nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		_, _ = b.ReadFrom(resp.Body)
		resp.Body.Close()
		if !strings.Contains(b.String(), `"errcode":0`) {
			t.Fatalf("webhook %d refused: %s", seq, b.String())
		}
	}
	if !s.settle(10 * time.Second) {
		t.Fatal("the stand-in did not finish recording within 10 s")
	}
	for i := range 6 {
		if n := rec.msgs[i].Load(); n != 1 {
			t.Errorf("webhook %d: %d messages", i, n)
		}
	}
}
