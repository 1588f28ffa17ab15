package relay

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/deliveries"
	"github.com/sentry-white/sentry-white/internal/store"
)

// TestRefusalsRecorded: webhooks the relay refuses appear in the delivery
// history with what Sentry sent, the answer and the fix, never the token
// or a secret; a flood adds at most RefusalsPerMinute records a minute, one
// per cause and project.
func TestRefusalsRecorded(t *testing.T) {
	var hist *deliveries.Log
	dir := t.TempDir()
	now := time.Now().UTC().Truncate(time.Minute).Add(5 * time.Second) // within the kept days
	var clockMu sync.Mutex
	e := newEnv(t, func(o *Options) {
		hist = deliveries.New(store.NewFile(dir), "api/", nil)
		o.History = hist
		o.Now = func() time.Time { clockMu.Lock(); defer clockMu.Unlock(); return now }
		o.MaxHookAge = 100 * 365 * 24 * time.Hour
	})
	legacy := testdata(t, "legacy_saas.json")
	unknown := bytes.ReplaceAll(legacy, []byte(`"mall-api"`), []byte(`"no-such-app"`))
	signed := bytes.ReplaceAll(testdata(t, "event_alert.json"), []byte("/acme/"), []byte("/other/"))
	for _, p := range []struct {
		query string
		body  []byte
		hdr   []string
	}{
		{"", legacy, nil},
		{"?token=an-old-token-0123", legacy, nil},
		{"?token=" + token, unknown, nil},
		{"?token=" + token, signed, []string{"Sentry-Hook-Resource", "event_alert", "Sentry-Hook-Signature", strings.Repeat("0", 64)}},
		{"?token=" + token, []byte("hello"), nil},
	} {
		if code, _ := e.post(p.query, p.body, p.hdr...); code < 400 {
			t.Fatalf("%s was accepted (%d)", p.query, code)
		}
	}
	if err := hist.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	recs, err := hist.List(context.Background(), deliveries.Filter{Result: deliveries.Refused})
	if err != nil {
		t.Fatal(err)
	}
	byCause := map[string]deliveries.Record{}
	for _, r := range recs {
		byCause[r.Cause] = r
	}
	for cause, want := range map[string]struct {
		status                   int
		project, org, host, resc string
	}{
		"token_missing":   {401, "mall-api", "acme", "acme.sentry.io", "legacy"},
		"token_wrong":     {401, "mall-api", "acme", "acme.sentry.io", "legacy"},
		"unknown_project": {404, "no-such-app", "acme", "acme.sentry.io", "legacy"},
		"signature":       {401, "mall-api", "other", "sentry.io", "event_alert"},
		"parse":           {400, "", "", "", ""},
	} {
		r, ok := byCause[cause]
		switch {
		case !ok:
			t.Errorf("no record of %s in %+v", cause, recs)
		case r.Status != want.status || r.Project != want.project || r.Org != want.org || r.Host != want.host || r.Resource != want.resc:
			t.Errorf("%s: status %d project %q org %q host %q resource %q, want %+v", cause, r.Status, r.Project, r.Org, r.Host, r.Resource, want)
		case r.Error == "" || r.Fix == "" || r.Time.IsZero() || r.ID == "":
			t.Errorf("%s: record without its answer, fix, time or id: %+v", cause, r)
		}
	}
	if len(recs) != 5 {
		t.Errorf("%d refusal records, want 5", len(recs))
	}

	// A flood: the same refusal again and again is one record a minute;
	// different projects at most RefusalsPerMinute in all.
	for i := 0; i < 50; i++ {
		e.post("?token=an-old-token-0123", legacy)
	}
	for i := 0; i < 50; i++ {
		e.post("?token="+token, bytes.ReplaceAll(legacy, []byte(`"mall-api"`), []byte(fmt.Sprintf(`"app-%d"`, i))))
	}
	if err := hist.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	recs, _ = hist.List(context.Background(), deliveries.Filter{Result: deliveries.Refused})
	if len(recs) != RefusalsPerMinute {
		t.Errorf("after a flood %d refusal records in the minute, want %d", len(recs), RefusalsPerMinute)
	}
	// Bodies behind a refused token are read (to name their project) at
	// most RefusalsPerMinute times a minute, whatever the flood.
	e.h.refusals.mu.Lock()
	reads := e.h.refusals.reads
	e.h.refusals.mu.Unlock()
	if reads > RefusalsPerMinute {
		t.Errorf("%d bodies read for refused tokens in a minute", reads)
	}
	// The next minute records again.
	clockMu.Lock()
	now = now.Add(time.Minute)
	clockMu.Unlock()
	e.post("?token=an-old-token-0123", legacy)
	if err := hist.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	recs, _ = hist.List(context.Background(), deliveries.Filter{Result: deliveries.Refused})
	if len(recs) != RefusalsPerMinute+1 || recs[0].Cause != "token_wrong" {
		t.Errorf("the next minute: %d records, newest %+v", len(recs), recs[0])
	}
	// Never the token or a secret.
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := os.ReadFile(path)
		for _, secret := range []string{token, "an-old-token-0123", clientSecret, robotSecret, password} {
			if bytes.Contains(b, []byte(secret)) {
				t.Errorf("%s holds a secret", path)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
