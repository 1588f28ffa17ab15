package configapi

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/sentry-white/sentry-white/internal/actlink"
	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/notify"
	"github.com/sentry-white/sentry-white/internal/render"
	"github.com/sentry-white/sentry-white/internal/route"
	"github.com/sentry-white/sentry-white/internal/sentry"
)

// Acting from the chat (package actlink, the relay's package actions):
// the action key that signs every link, rotated here; the organization's
// members read from Sentry, to choose an owner's sentry_user; and, in the
// project preview, the links a message carries.

// actionKeyView says how links are signed now: with a stored action_key,
// or with a key derived from each organization's api_token until one is
// stored. The key itself is never shown.
func actionKeyView(d *config.Document) map[string]any {
	orgs := []map[string]any{}
	for i := range d.Organizations {
		o := &d.Organizations[i]
		orgs = append(orgs, map[string]any{"id": o.ID, "name": o.Name, "links": actlink.Enabled(d, o), "api_token_set": o.APIToken != ""})
	}
	return map[string]any{"stored": d.ActionKey != "", "relay_url": d.RelayURL, "organizations": orgs}
}

// getActionLinks answers GET /api/v1/action-links: the relay URL links
// are built on, whether a key is stored, and which organizations'
// messages carry links.
func (s *Server) getActionLinks(w http.ResponseWriter, r *http.Request) {
	d, tag, err := s.load(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("ETag", outETag(tag))
	writeJSON(w, http.StatusOK, actionKeyView(d))
}

// putActionLinks answers PUT /api/v1/action-links {"relay_url": "…"}:
// the document's relay_url, the relay's public URL the links are built
// on ("" turns links off).
func (s *Server) putActionLinks(w http.ResponseWriter, r *http.Request) {
	body, err := readObject(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var relay string
	if raw, ok := body["relay_url"]; !ok || json.Unmarshal(raw, &relay) != nil {
		s.fail(w, r, badRequest("relay_url", "json_type", kv{"got": string(raw), "want": "string"}, "send {\"relay_url\": \"https://…\"}, the relay's public URL"))
		return
	}
	s.mutate(w, r, http.StatusOK, func(d *config.Document, _ *saveNote) (any, error) {
		d.RelayURL = strings.TrimRight(strings.TrimSpace(relay), "/")
		return actionKeyView(d), nil
	})
}

// rotateActionKey answers POST /api/v1/action-links/rotate-key: a new
// random key is stored, and every action link sent before no longer works
// (its page says so).
func (s *Server) rotateActionKey(w http.ResponseWriter, r *http.Request) {
	if _, err := readObject(w, r); err != nil {
		s.fail(w, r, err)
		return
	}
	s.mutate(w, r, http.StatusOK, func(d *config.Document, _ *saveNote) (any, error) {
		d.ActionKey = config.Secret(actlink.NewKey())
		out := actionKeyView(d)
		out["rotated"] = true
		return out, nil
	})
}

// keepActionKey keeps the stored action key through an import or a
// restore: only a rotation changes it, so an older version cannot bring
// back links a rotation ended. A document imported while none is stored
// brings its own.
func keepActionKey(d, stored *config.Document) {
	if stored != nil && stored.ActionKey != "" {
		d.ActionKey = stored.ActionKey
	}
}

// sentryMember is a member of a Sentry organization as the page lists it
// to choose an owner's sentry_user.
type sentryMember struct {
	ID       string `json:"id"`
	Email    string `json:"email"`
	Name     string `json:"name"`
	Role     string `json:"role"`
	Pending  bool   `json:"pending"`
	UserID   string `json:"user_id,omitempty"`
	Username string `json:"username,omitempty"`
	// Value is what to store in sentry_user: the email the member signs in
	// with, else the user's id; "" for an invitation not yet accepted,
	// which cannot be assigned.
	Value string `json:"value"`
}

// listSentryMembers answers GET /api/v1/organizations/{id}/sentry-members:
// the organization's members read from Sentry with its api_token (else the
// token kept in the settings for the projects list), and for each owner
// of its projects whether their sentry_user is one of them. Sentry's
// refusals answer 200 {"ok": false, "error": {code, message, fix}}.
func (s *Server) listSentryMembers(w http.ResponseWriter, r *http.Request) {
	d, o, err := s.organizationOf(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	tok, source := o.APIToken, "api_token"
	if tok == "" {
		if key, err := sentryTokenKey(o); err == nil {
			tok, source = s.sentryToken(key), "settings"
		}
	}
	if tok == "" {
		s.fail(w, r, noToken(o, "api_token", "is required: set the organization's Sentry token (an internal integration's, with Member: Read)",
			"organization "+o.Name+" has no Sentry token: set its api_token"))
		return
	}
	org := sentryOrg(o)
	list, err := sentryClient.Members(r.Context(), o.SentryURL, o.Slug, tok.Reveal())
	if err != nil {
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "organization": org, "token": source, "error": sentryRefusal(err)})
		return
	}
	members := make([]sentryMember, 0, len(list))
	for _, m := range list {
		sm := sentryMember{ID: m.ID, Email: m.Email, Name: m.Name, Role: m.OrgRole, Pending: m.Pending}
		if sm.Role == "" {
			sm.Role = m.Role
		}
		if u := m.User; u != nil && !m.Pending {
			sm.UserID, sm.Username, sm.Value = u.ID, u.Username, u.Email
			if sm.Value == "" {
				sm.Value = u.ID
			}
			if sm.Name == "" {
				sm.Name = u.Name
			}
		}
		members = append(members, sm)
	}
	owners := []map[string]any{}
	seen := map[int64]bool{}
	x := config.NewIndex(d)
	for _, p := range projectsOfOrg(d, o) {
		for _, id := range p.OwnerIDs {
			ow := x.Owner(id)
			if ow == nil || seen[id] {
				continue
			}
			seen[id] = true
			v := map[string]any{"owner_id": ow.ID, "name": ow.Name, "sentry_user": ow.SentryUser, "member": false}
			for i := range list {
				if m := &list[i]; !m.Pending && m.Matches(ow.SentryUser) {
					v["member"], v["member_id"] = true, m.ID
				}
			}
			owners = append(owners, v)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "organization": org, "token": source, "members": members,
		"count": len(members), "owners": owners})
}

// sampleIssue names the issue of a preview's action links when the
// preview renders the sample event, which has none.
const sampleIssue = "1234567890"

// actionLinksInfo says whether project p's messages carry action links,
// and why not: no_relay_url, no_api_token, no_organization, follow_up (a
// follow-up carries none), no_issue (the event names no Sentry issue).
func actionLinksInfo(x *config.Index, p *config.Project, ev *sentry.Event, sampled bool) map[string]any {
	org := x.Organization(p.OrganizationID)
	why, text := "", ""
	switch {
	case strings.TrimSpace(x.Doc.RelayURL) == "":
		why, text = "no_relay_url", "the document has no relay_url: set the relay's public URL"
	case org == nil:
		why, text = "no_organization", "the project has no organization"
	case org.APIToken == "":
		why, text = "no_api_token", "the project's organization has no api_token: set its Sentry token (an internal integration's, with Issue & Event: Read & Write)"
	case ev.FollowUp() || ev.Resource == sentry.ResourceMetricAlert:
		why, text = "follow_up", "follow-ups and metric alerts carry no action links"
	case !sampled && !actlink.ValidIssue(ev.IssueID):
		why, text = "no_issue", "the event names no Sentry issue id"
	}
	out := map[string]any{"on": why == "", "sample_issue": sampled && why == ""}
	if why != "" {
		out["off_code"], out["off"] = why, text
	}
	return out
}

// previewActions puts the action links on a preview's message of the
// sample event, naming a sample issue: the sample has none, and the test
// alert sent from it carries none.
func previewActions(x *config.Index, t route.Target, ev *sentry.Event, m *notify.Message) {
	if len(m.Actions) > 0 || ev.IssueID != "" {
		return
	}
	sample := *ev
	sample.IssueID = sampleIssue
	render.Actions(m, x.Doc, t, &sample, time.Now())
}

// actionsView lists a message's action links for an answer.
func actionsView(m *notify.Message) []map[string]string {
	out := []map[string]string{}
	for _, a := range m.Actions {
		v := map[string]string{"label": a.Label, "url": a.URL}
		if l, _, err := actlink.Parse(linkPath(a.URL)); err == nil {
			v["action"] = l.Action
		}
		out = append(out, v)
	}
	return out
}

// linkPath is the path of a link from /act/ on.
func linkPath(u string) string {
	if i := strings.Index(u, actlink.PathPrefix); i >= 0 {
		return u[i:]
	}
	return u
}
