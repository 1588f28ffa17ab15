package configapi

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/sentry-white/sentry-white/internal/config"
)

// Sentry's internal integration, the way in (docs/sentry-integration.md):
// what to fill into Sentry's form — name, webhook URL, permissions,
// webhooks, the alert-rule-action component and its schema — and what an
// organization's token may do.

// integrationName is the name the integration is given in Sentry; Sentry
// shows it before the relay's words in the rule editor.
const integrationName = "哨兵小白 sentry-white"

// permission is one row of Sentry's permission form.
type permission struct {
	Resource string   `json:"resource"` // as Sentry's form names it
	Access   string   `json:"access"`   // No Access, Read, Read & Write, Admin
	Scopes   []string `json:"scopes"`
	Why      string   `json:"why"`
	Optional bool     `json:"optional,omitempty"`
}

// integrationPermissions are the permissions the integration needs, and
// why.
var integrationPermissions = []permission{
	{Resource: "Project", Access: "Read", Scopes: []string{"project:read"},
		Why: "lists the organization's projects, to add them in the configurator"},
	{Resource: "Issue & Event", Access: "Read & Write", Scopes: []string{"event:read", "event:write"},
		Why: "read: each alert's facts (counts, users, first seen, state, assignee); write: acting on the issue from the chat (resolve, assign)"},
	{Resource: "Member", Access: "Read", Scopes: []string{"member:read"},
		Why: "“I'll take it” from the chat assigns the issue to the owner's Sentry user, matched among the organization's members; the configurator lists them"},
	{Resource: "Organization", Access: "Read", Scopes: []string{"org:read"}, Optional: true,
		Why: "the organization's region host (us.sentry.io, de.sentry.io), so the relay asks it directly; without it sentry.io answers for the region"},
}

// alertRuleSchema is the UI schema of the integration's alert-rule-action
// component (contract §7 names its fields): robot, a select whose options
// the relay serves from the current document at rule-edit time; mention;
// notes. prefix is the relay URL's path (Sentry puts each uri in place of
// the webhook URL's path), token the webhook token the uris carry.
func alertRuleSchema(prefix, token string) map[string]any {
	base := strings.TrimRight(prefix, "/") + "/sentry-app/"
	if token != "" {
		base += url.PathEscape(token) + "/"
	}
	return map[string]any{"elements": []any{map[string]any{
		"type":  "alert-rule-action",
		"title": integrationName,
		"settings": map[string]any{
			"type":        "alert-rule-settings",
			"uri":         base + "settings",
			"description": "发到所选的群机器人，@ 所选的人 / Post to the chosen group robot, mentioning whom you choose",
			"required_fields": []any{
				map[string]any{"type": "select", "label": "机器人 / Robot", "name": "robot", "uri": base + "robots", "async": false},
			},
			"optional_fields": []any{
				map[string]any{"type": "select", "label": "@ 谁 / Mention", "name": "mention", "options": [][2]string{
					{"owners", "项目负责人 / the project's owners"},
					{"oncall", "值班人 / the person on call"},
					{"all", "所有人 / everyone (@all)"},
					{"none", "不 @ 任何人 / nobody"},
				}},
				map[string]any{"type": "textarea", "label": "备注 / Notes", "name": "notes"},
			},
		},
	}}}
}

// sentryIntegration answers GET /sentry-integration: every value of
// Sentry's internal-integration form, with the schema as pasted text.
func (s *Server) sentryIntegration(w http.ResponseWriter, r *http.Request) {
	d, tag, err := s.load(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	info := s.webhookInfo(d)
	relay, _ := info["relay_url"].(string)
	if relay == "" {
		relay = d.RelayURL
	}
	prefix := ""
	if u, err := url.Parse(strings.TrimSpace(relay)); err == nil {
		prefix = strings.TrimRight(u.Path, "/")
	}
	tok := d.WebhookToken.Reveal()
	schema := alertRuleSchema(prefix, tok)
	text, _ := json.MarshalIndent(schema, "", "  ")
	settings := schema["elements"].([]any)[0].(map[string]any)["settings"].(map[string]any)
	out := map[string]any{
		"name":              integrationName,
		"webhook_url":       webhookURL(relay, tok),
		"relay_url":         relay,
		"token_set":         tok != "",
		"permissions":       integrationPermissions,
		"webhooks":          []string{"issue"},
		"alert_rule_action": true,
		"schema":            schema,
		"schema_text":       string(text),
		"uris": map[string]string{
			"settings": settings["uri"].(string),
			"robots":   settings["required_fields"].([]any)[0].(map[string]any)["uri"].(string),
		},
	}
	if c, ok := info["warning_code"]; ok {
		out["warning_code"], out["warning"] = c, info["warning"]
	}
	w.Header().Set("ETag", outETag(tag))
	writeJSON(w, http.StatusOK, out)
}

// checkAPIToken answers POST /organizations/{id}/api-token/check: what the
// organization's Sentry token may do, as Sentry answers it. The body's
// {"api_token"} checks a token before it is saved; without it, the saved
// one. Sentry refusing the token, or unreachable, answers 200 {"ok":
// false, "error"}.
func (s *Server) checkAPIToken(w http.ResponseWriter, r *http.Request) {
	body, err := readObject(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	_, o, err := s.organizationOf(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	tok, source := o.APIToken.Reveal(), "saved"
	if raw, ok := body["api_token"]; ok {
		var v string
		if json.Unmarshal(raw, &v) != nil {
			s.fail(w, r, badRequest("api_token", "token_body", nil, "send {\"api_token\": \"…\"}, the Sentry token, or no body to check the saved one"))
			return
		}
		if v = strings.TrimSpace(v); v != "" {
			if holdsMask(v) {
				s.fail(w, r, validation([]*config.FieldError{maskedErr("api_token")}))
				return
			}
			tok, source = v, "body"
		}
	}
	if _, err := sentryTokenKey(o); err != nil { // a slug and a Sentry URL
		s.fail(w, r, err)
		return
	}
	if tok == "" {
		s.fail(w, r, noToken(o, "api_token", "is required: paste the internal integration's token", "organization "+o.Name+" has no Sentry token (api_token)"))
		return
	}
	org := sentryOrg(o)
	chk, err := sentryClient.CheckToken(r.Context(), o.SentryURL, o.Slug, tok)
	if err != nil {
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "organization": org, "source": source, "error": sentryRefusal(err)})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "organization": org, "source": source, "check": chk})
}
