package main

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserRequireSignature (#14.7): the organization form's checkbox
// sets require_signature in the document, and shows it when opened again.
func TestBrowserRequireSignature(t *testing.T) {
	in := start(t, nil, nil)
	in.api(t, "POST", "/api/v1/organizations", map[string]any{"name": "公司", "sentry_url": "https://sentry.io", "slug": "acme",
		"client_secret": "aaaa0000aaaa0000aaaa0000aaaa0000"})
	tb := newTab(t, in)
	tb.open()
	tb.page("organizations")
	tb.waitFor(`document.getElementById("organization-edit-1") !== null`)
	tb.do(chromedp.Click(chromedp.ID("organization-edit-1")), chromedp.WaitVisible(chromedp.ID("organization-require_signature")))
	if eval[bool](tb, `document.getElementById("organization-require_signature").checked`) {
		t.Fatal("the box is ticked for an organization without require_signature")
	}
	tb.do(chromedp.Click(chromedp.ID("organization-require_signature")))
	tb.save("organization")
	if d := in.stored(t); len(d.Organizations) != 1 || !d.Organizations[0].RequireSignature || d.Organizations[0].ClientSecret == "" {
		t.Fatalf("stored %+v, want require_signature with the secret kept", d.Organizations)
	}
	tb.do(chromedp.Click(chromedp.ID("organization-edit-1")), chromedp.WaitVisible(chromedp.ID("organization-require_signature")))
	if !eval[bool](tb, `document.getElementById("organization-require_signature").checked`) {
		t.Error("the box is not ticked when the form opens again")
	}
}
