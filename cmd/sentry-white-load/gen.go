package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/sentry-white/sentry-white/internal/config"
)

// Secrets of the generated document. They are test values on loopback.
const (
	webhookToken = "load-webhook-token"
	robotSecret  = "SECa7f09b5ea245debd13fb7fe1993897008f6b44ddf80310d14f3de4d3f407221d"
	keyword      = "详情"
	issueBase    = 1_000_000_000 // issue ids are issueBase + the webhook's index
)

// buildDoc is a team's document with n projects in one organization; each
// project has two owners and its own signed DingTalk robot, so webhooks
// spread over n robots stay inside DingTalk's 20 messages a minute per
// robot and the relay delivers them at once instead of queueing digests.
func buildDoc(n int) *config.Document {
	d := &config.Document{Schema: config.SchemaVersion, WebhookToken: webhookToken,
		Organizations: []config.Organization{{ID: 1, Name: "公司主账号", SentryURL: "https://sentry.io", Slug: "acme",
			Account: "viewer@acme.com", Password: "shared-login"}}}
	for i := range n {
		id := int64(i + 1)
		d.Owners = append(d.Owners, config.Owner{ID: id, Name: fmt.Sprintf("负责人%d", i), Mobile: fmt.Sprintf("138%08d", i)})
		d.Robots = append(d.Robots, config.Robot{ID: id, Name: fmt.Sprintf("告警群%d", i),
			AccessToken: config.Secret(robotToken(i)), Secret: robotSecret, Keyword: keyword})
		d.Projects = append(d.Projects, config.Project{ID: id, Name: fmt.Sprintf("项目%d", i), Slug: projectSlug(i),
			OrganizationID: 1, OwnerIDs: []int64{id, 1 + id%int64(n)}, RobotIDs: []int64{id}})
	}
	return d
}

func robotToken(i int) string  { return fmt.Sprintf("load-robot-%05d", i) }
func projectSlug(i int) string { return fmt.Sprintf("proj-%05d", i) }

// payload is a testdata webhook turned into a template: its project slug,
// issue id and event id become holes filled per webhook, so every webhook
// is distinct (the relay drops duplicates and collapses repeats).
type payload struct {
	name     string
	resource string // Sentry-Hook-Resource; "" for the legacy plugin
	parts    [][]byte
	holes    []byte // 'S' slug, 'I' issue id, 'E' event id, between parts
}

var payloadSpecs = []struct{ name, file, resource, issue, event string }{
	{"legacy", "legacy_saas.json", "", "4567890123", "9f2c1b7d3a4e4c8b8e6f1a2b3c4d5e6f"},
	{"event_alert", "event_alert.json", "event_alert", "1170820242", "e1d2c3b4a5968778695a4b3c2d1e0f00"},
	{"issue", "issue_created.json", "issue", "1170820242", ""},
}

// loadPayloads reads the templates from dir (testdata/sentry).
func loadPayloads(dir string) ([]*payload, error) {
	var out []*payload
	for _, s := range payloadSpecs {
		b, err := os.ReadFile(filepath.Join(dir, s.file))
		if err != nil {
			return nil, fmt.Errorf("payloads: %w (run from the repository, or set -testdata)", err)
		}
		marks := map[byte]string{'S': "mall-api", 'I': s.issue}
		if s.event != "" {
			marks['E'] = s.event
		}
		p := &payload{name: s.name, resource: s.resource}
		for len(b) > 0 {
			at, hole := -1, byte(0)
			for h, m := range marks {
				if i := bytes.Index(b, []byte(m)); i >= 0 && (at < 0 || i < at) {
					at, hole = i, h
				}
			}
			if at < 0 {
				break
			}
			p.parts = append(p.parts, b[:at])
			p.holes = append(p.holes, hole)
			b = b[at+len(marks[hole]):]
		}
		p.parts = append(p.parts, b)
		if !bytes.Contains(p.holes, []byte("S")) || !bytes.Contains(p.holes, []byte("I")) {
			return nil, fmt.Errorf("payload %s: no project slug or issue id to vary", s.file)
		}
		out = append(out, p)
	}
	return out, nil
}

// body appends webhook idx for project to dst.
func (p *payload) body(dst []byte, idx, project int) []byte {
	for i, part := range p.parts {
		dst = append(dst, part...)
		if i == len(p.holes) {
			break
		}
		switch p.holes[i] {
		case 'S':
			dst = append(dst, projectSlug(project)...)
		case 'I':
			dst = strconv.AppendInt(dst, int64(issueBase+idx), 10)
		case 'E':
			dst = fmt.Appendf(dst, "%032x", idx+1)
		}
	}
	return dst
}

// issueIndex finds the webhook index in a robot message: the number after
// the first "/issues/" (the link to the issue in Sentry); -1 if none.
func issueIndex(msg []byte) int {
	i := bytes.Index(msg, []byte("/issues/"))
	if i < 0 {
		return -1
	}
	n, digits := 0, 0
	for _, c := range msg[i+len("/issues/"):] {
		if c < '0' || c > '9' || digits > 12 {
			break
		}
		n = n*10 + int(c-'0')
		digits++
	}
	if digits == 0 || n < issueBase {
		return -1
	}
	return n - issueBase
}
