package sentry

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// benchPayloads maps each payload kind to a file under testdata/sentry and
// the Sentry-Hook-Resource header Sentry sends with it ("" for the legacy
// WebHooks plugin).
var benchPayloads = []struct{ name, file, resource string }{
	{"legacy", "legacy_saas.json", ""},
	{"legacy_sentry9", "legacy_sentry9.json", ""},
	{"issue_created", "issue_created.json", "issue"},
	{"issue_resolved", "issue_resolved.json", "issue"},
	{"event_alert", "event_alert.json", "event_alert"},
	{"error_created", "error_created.json", "error"},
	{"metric_alert", "metric_alert_critical.json", "metric_alert"},
	{"installation_ignored", "installation_created.json", "installation"},
}

// BenchmarkParse decodes each payload kind; bytes/s is the body size.
func BenchmarkParse(b *testing.B) {
	for _, p := range benchPayloads {
		body, err := os.ReadFile(filepath.Join("..", "..", "testdata", "sentry", p.file))
		if err != nil {
			b.Fatal(err)
		}
		h := hdr(p.resource)
		b.Run(p.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if _, err := Parse(body, h); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifySignature checks Sentry-Hook-Signature over an
// integration-platform body.
func BenchmarkVerifySignature(b *testing.B) {
	body, err := os.ReadFile(filepath.Join("..", "..", "testdata", "sentry", "event_alert.json"))
	if err != nil {
		b.Fatal(err)
	}
	secret := strings.Repeat("5e", 32)
	sig := Sign(body, secret)
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if err := VerifySignature(body, secret, sig); err != nil {
			b.Fatal(err)
		}
	}
}
