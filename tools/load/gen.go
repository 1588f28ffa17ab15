package main

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/notifiers"
	"github.com/sentry-white/sentry-white/internal/notify/dingtalk"
	"github.com/sentry-white/sentry-white/internal/plan"
	"github.com/sentry-white/sentry-white/internal/sentry"
)

// Secrets of the generated document. They are test values on loopback.
const (
	webhookToken = "load-webhook-token"
	robotSecret  = "SECa7f09b5ea245debd13fb7fe1993897008f6b44ddf80310d14f3de4d3f407221d"
	keyword      = "详情"
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
	kinds := notifiers.Default().Document()
	for i := range d.Owners {
		kinds.NormalizeOwner(&d.Owners[i]) // the members a configurator writes
	}
	return d
}

func robotToken(i int) string  { return fmt.Sprintf("load-robot-%05d", i) }
func projectSlug(i int) string { return fmt.Sprintf("proj-%05d", i) }

// Webhook ids. Every webhook of an invocation has its own id, the issue id
// of its payload (and, in hex, its event id), so the relay's duplicate
// filter and repeat window drop none, and the stand-in knows from a
// message's link which webhook it came from. The ids start at the
// invocation's start time in microseconds and count up, so they never
// repeat across runs, nor across invocations (a run cannot send a webhook
// per microsecond).

// firstID is the id an invocation starting now begins at.
func firstID() int64 { return time.Now().UnixMicro() }

// issueID finds the webhook id in a robot message: the number after the
// first "/issues/" (the link to the issue in Sentry); -1 if none.
func issueID(msg []byte) int64 {
	i := bytes.Index(msg, []byte("/issues/"))
	if i < 0 {
		return -1
	}
	var n int64
	digits := 0
	for _, c := range msg[i+len("/issues/"):] {
		if c < '0' || c > '9' || digits == 18 {
			break
		}
		n = n*10 + int64(c-'0')
		digits++
	}
	if digits == 0 {
		return -1
	}
	return n
}

// template is a body with holes filled per webhook.
type template struct {
	parts [][]byte
	holes []byte // 'S' slug, 'I' webhook id, 'E' event id (hex of the id), between parts
}

// newTemplate cuts b at every occurrence of the marks.
func newTemplate(b []byte, marks map[byte]string) *template {
	t := &template{}
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
		t.parts = append(t.parts, b[:at])
		t.holes = append(t.holes, hole)
		b = b[at+len(marks[hole]):]
	}
	t.parts = append(t.parts, b)
	return t
}

func (t *template) has(hole byte) bool { return bytes.IndexByte(t.holes, hole) >= 0 }

// fill appends the body for webhook id of project to dst.
func (t *template) fill(dst []byte, id int64, project int) []byte {
	for i, part := range t.parts {
		dst = append(dst, part...)
		if i == len(t.holes) {
			break
		}
		switch t.holes[i] {
		case 'S':
			dst = append(dst, projectSlug(project)...)
		case 'I':
			dst = strconv.AppendInt(dst, id, 10)
		case 'E':
			dst = fmt.Appendf(dst, "%032x", id)
		}
	}
	return dst
}

// payload is a testdata webhook turned into a template, and the DingTalk
// message the relay sends for it turned into another: the direct runs
// post that message straight to the stand-in.
type payload struct {
	name     string
	resource string // Sentry-Hook-Resource; "" for the legacy plugin
	webhook  *template
	message  *template // the robot request body the relay makes of it
}

var payloadSpecs = []struct{ name, file, resource, issue, event string }{
	{"legacy", "legacy_saas.json", "", "4567890123", "9f2c1b7d3a4e4c8b8e6f1a2b3c4d5e6f"},
	{"event_alert", "event_alert.json", "event_alert", "1170820242", "e1d2c3b4a5968778695a4b3c2d1e0f00"},
	{"issue", "issue_created.json", "issue", "1170820242", ""},
}

// sampleID stands for the webhook id while the robot message is rendered.
const sampleID = 777777777777777777

// loadPayloads reads the templates from dir (testdata/sentry) and renders
// each one's robot message for doc with the relay's own code.
func loadPayloads(dir string, doc *config.Document) ([]*payload, error) {
	x := config.NewIndex(doc)
	planner := plan.New(plan.Options{Kind: notifiers.Default().Lookup})
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
		p := &payload{name: s.name, resource: s.resource, webhook: newTemplate(b, marks)}
		if !p.webhook.has('S') || !p.webhook.has('I') {
			return nil, fmt.Errorf("payload %s: no project slug or issue id to vary", s.file)
		}
		// The message for a sample webhook, its id left as a hole.
		h := http.Header{}
		if p.resource != "" {
			h.Set("Sentry-Hook-Resource", p.resource)
		}
		body := p.webhook.fill(nil, sampleID, 0)
		ev, err := sentry.Parse(body, h)
		if err != nil {
			return nil, fmt.Errorf("payload %s: %w", s.file, err)
		}
		pl, err := planner.Plan(x, plan.Request{Event: ev, Body: body, Header: h, Received: time.Now()})
		if err != nil || len(pl.Jobs) != 1 {
			return nil, fmt.Errorf("payload %s: planned %v, %v", s.file, pl, err)
		}
		_, msg, err := plan.Address(x, pl.Jobs)
		if err != nil {
			return nil, err
		}
		rb, err := dingtalk.Body(msg)
		if err != nil {
			return nil, err
		}
		p.message = newTemplate(rb, map[byte]string{'I': strconv.FormatInt(sampleID, 10)})
		if !p.message.has('I') {
			return nil, fmt.Errorf("payload %s: the robot message does not link to the issue", s.file)
		}
		out = append(out, p)
	}
	return out, nil
}

// signQuery is DingTalk's access_token, timestamp and 加签 sign for robot
// i, now.
func signQuery(i int) string {
	ts := time.Now().UnixMilli()
	return "access_token=" + robotToken(i) + "&timestamp=" + strconv.FormatInt(ts, 10) +
		"&sign=" + url.QueryEscape(dingtalk.Sign(robotSecret, ts))
}
