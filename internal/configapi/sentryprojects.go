package configapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/notify"
	"github.com/sentry-white/sentry-white/internal/sentryapi"
)

// Projects from Sentry: with an auth token (project:read) kept in the local
// settings file, the organization page lists the organization's Sentry
// projects, adds several at once and flags configured slugs Sentry does
// not know.

// sentryClient lists Sentry projects; tests may shorten its timeouts.
var sentryClient = &sentryapi.Client{}

// sentryTokenKey identifies an organization's token in the settings: its
// Sentry URL and slug, so the token follows the organization across
// stores and is dropped (asked for again) when either changes.
func sentryTokenKey(o *config.Organization) (string, error) {
	if strings.TrimSpace(o.Slug) == "" {
		return "", &apiError{Status: http.StatusUnprocessableEntity, Code: "no_slug", Params: kv{"name": o.Name},
			Fields: []*config.FieldError{fieldErr("slug", "org_slug_required", nil, "is required to reach the organization in Sentry: edit the organization and set its slug")},
			Msg:    fmt.Sprintf("organization %q has no Sentry slug: edit it and set the slug (the name after /organizations/ in Sentry's address)", o.Name)}
	}
	base, err := sentryapi.BaseURL(o.SentryURL)
	if err != nil {
		var se *sentryapi.Error
		errors.As(err, &se)
		return "", &apiError{Status: http.StatusUnprocessableEntity, Code: "bad_url", Params: kv{"value": o.SentryURL},
			Fields: []*config.FieldError{fieldErr("sentry_url", "sentry_url", nil, "%s", se.Msg)}, Msg: se.Error()}
	}
	return base.String() + "|" + strings.ToLower(strings.TrimSpace(o.Slug)), nil
}

func (s *Server) sentryToken(key string) config.Secret {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.set.SentryTokens[key]
}

// setSentryToken saves (or, for "", removes) a token in the settings file.
func (s *Server) setSentryToken(key string, tok config.Secret) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	next := s.set
	next.SentryTokens = map[string]config.Secret{}
	for k, v := range s.set.SentryTokens {
		next.SentryTokens[k] = v
	}
	if tok == "" {
		delete(next.SentryTokens, key)
	} else {
		next.SentryTokens[key] = tok
	}
	next.saved = true
	if err := writeSettings(s.settingsPath, next); err != nil {
		return &apiError{Status: http.StatusInternalServerError, Code: "settings_write", Params: kv{"detail": err.Error()}, Msg: err.Error()}
	}
	s.set = next
	return nil
}

// organizationOf loads the document and the organization {id} of the path.
func (s *Server) organizationOf(r *http.Request) (*config.Document, *config.Organization, error) {
	d, _, err := s.load(r.Context())
	if err != nil {
		return nil, nil, err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err == nil {
		for i := range d.Organizations {
			if d.Organizations[i].ID == id {
				return d, &d.Organizations[i], nil
			}
		}
	}
	return nil, nil, notFound("organization", r.PathValue("id"))
}

// tokenView shows the token saved in the local settings, masked, and
// whether the organization's own Sentry token (api_token, in the
// document) lists the projects when none is saved here.
func tokenView(tok config.Secret, o *config.Organization) map[string]any {
	return map[string]any{"token_set": tok != "", "token": mask(tok.Reveal(), true), "api_token_set": o != nil && o.APIToken != ""}
}

// importToken is the token that lists an organization's projects: the
// personal one saved in the local settings, else the organization's own
// (its internal integration's api_token).
func (s *Server) importToken(key string, o *config.Organization) config.Secret {
	if tok := s.sentryToken(key); tok != "" {
		return tok
	}
	return o.APIToken
}

func (s *Server) getSentryToken(w http.ResponseWriter, r *http.Request) {
	_, o, err := s.organizationOf(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	key, err := sentryTokenKey(o)
	if err != nil {
		writeJSON(w, http.StatusOK, map[string]any{"token_set": false, "token": "", "problem": err.(*apiError).Code})
		return
	}
	writeJSON(w, http.StatusOK, tokenView(s.sentryToken(key), o))
}

func (s *Server) putSentryToken(w http.ResponseWriter, r *http.Request) {
	body, err := readObject(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var tok string
	if raw, ok := body["token"]; !ok || json.Unmarshal(raw, &tok) != nil {
		s.fail(w, r, badRequest("token", "token_body", nil, "send {\"token\": \"…\"}, the Sentry auth token"))
		return
	}
	tok = strings.TrimSpace(tok)
	if t, ok := strings.CutPrefix(tok, "Bearer "); ok {
		tok = strings.TrimSpace(t)
	}
	switch {
	case tok == "":
		s.fail(w, r, validation([]*config.FieldError{fieldErr("token", "sentry_token_required", nil, "is required: paste a Sentry auth token with the project:read scope")}))
		return
	case holdsMask(tok):
		s.fail(w, r, validation([]*config.FieldError{maskedErr("token")}))
		return
	case strings.ContainsAny(tok, " \t\r\n") || utf8.RuneCountInString(tok) > 512 || !utf8.ValidString(tok):
		s.fail(w, r, validation([]*config.FieldError{fieldErr("token", "sentry_token_alone", nil, "must be the token alone (no spaces), as Sentry shows it once when it is created")}))
		return
	}
	_, o, key, err := s.organizationKey(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.setSentryToken(key, config.Secret(tok)); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, tokenView(config.Secret(tok), o))
}

func (s *Server) deleteSentryToken(w http.ResponseWriter, r *http.Request) {
	_, o, key, err := s.organizationKey(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.setSentryToken(key, ""); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, tokenView("", o))
}

// organizationKey reads the organization a request names and the key its
// Sentry token is kept under.
func (s *Server) organizationKey(r *http.Request) (*config.Document, *config.Organization, string, error) {
	d, o, err := s.organizationOf(r)
	if err != nil {
		return nil, nil, "", err
	}
	key, err := sentryTokenKey(o)
	return d, o, key, err
}

// projectsOfOrg are the configured projects that belong to o: its own, and
// those without an organization when o is the only one (they route there
// all the same).
func projectsOfOrg(d *config.Document, o *config.Organization) []*config.Project {
	var out []*config.Project
	for i := range d.Projects {
		p := &d.Projects[i]
		if p.OrganizationID == o.ID || (p.OrganizationID == 0 && len(d.Organizations) == 1) {
			out = append(out, p)
		}
	}
	return out
}

// sentryProject is a Sentry project as the page lists it.
type sentryProject struct {
	sentryapi.Project
	Configured bool  `json:"configured"`
	ProjectID  int64 `json:"project_id,omitempty"` // the configured project with this slug
}

// listSentryProjects lists the organization's Sentry projects, marks those
// configured and flags configured slugs Sentry does not know. Sentry's
// refusals answer 200 {"ok": false, "error": {code, message, fix}}.
func (s *Server) listSentryProjects(w http.ResponseWriter, r *http.Request) {
	d, o, key, err := s.organizationKey(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	tok := s.importToken(key, o)
	if tok == "" {
		s.fail(w, r, noToken(o, "sentry_token", "is required: paste a Sentry auth token with the project:read scope",
			fmt.Sprintf("no Sentry auth token is saved for organization %q", o.Name)))
		return
	}
	org := sentryOrg(o)
	list, err := sentryClient.Projects(r.Context(), o.SentryURL, o.Slug, tok.Reveal())
	if err != nil {
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "organization": org, "error": sentryRefusal(err)})
		return
	}
	mine := projectsOfOrg(d, o)
	bySlug := map[string]*config.Project{}
	for _, p := range mine {
		bySlug[strings.ToLower(p.Slug)] = p
	}
	inSentry := map[string]bool{}
	out := make([]sentryProject, 0, len(list))
	for _, p := range list {
		sp := sentryProject{Project: p}
		if c := bySlug[strings.ToLower(p.Slug)]; c != nil {
			sp.Configured, sp.ProjectID = true, c.ID
		}
		inSentry[strings.ToLower(p.Slug)] = true
		out = append(out, sp)
	}
	unknown := []ref{}
	for _, p := range mine {
		if !inSentry[strings.ToLower(p.Slug)] {
			unknown = append(unknown, projectRef(p))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "organization": org, "projects": out, "count": len(out), "unknown": unknown})
}

// addSentryProjects adds several projects of the organization at once:
// body {"projects": [{"slug", "name"}], "owner_ids": [], "robot_ids": []}.
// Slugs the organization already has are skipped, and said so.
func (s *Server) addSentryProjects(w http.ResponseWriter, r *http.Request) {
	raw, err := readBody(w, r, maxBody)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var body struct {
		Projects []struct {
			Slug string `json:"slug"`
			Name string `json:"name"`
		} `json:"projects"`
		OwnerIDs []int64 `json:"owner_ids"`
		RobotIDs []int64 `json:"robot_ids"`
	}
	if raw == nil || json.Unmarshal(raw, &body) != nil {
		s.fail(w, r, badRequest("projects", "projects_body", nil, "send {\"projects\": [{\"slug\", \"name\"}], \"owner_ids\": [], \"robot_ids\": []}"))
		return
	}
	if len(body.Projects) == 0 {
		s.fail(w, r, validation([]*config.FieldError{fieldErr("projects", "choose_project", nil, "choose at least one Sentry project")}))
		return
	}
	var fes []*config.FieldError
	for i, p := range body.Projects {
		if !config.ValidSlug(strings.TrimSpace(p.Slug)) {
			fes = append(fes, fieldErr(fmt.Sprintf("projects[%d].slug", i), "project_slug", kv{"value": p.Slug}, "%q is not a Sentry project slug (letters, digits, - and _)", p.Slug))
		}
		if utf8.RuneCountInString(strings.TrimSpace(p.Name)) > config.MaxProjectName {
			fes = append(fes, fieldErr(fmt.Sprintf("projects[%d].name", i), "too_long", kv{"max": config.MaxProjectName}, "is longer than %d characters", config.MaxProjectName))
		}
	}
	if len(fes) > 0 {
		s.fail(w, r, validation(fes))
		return
	}
	orgID, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	s.mutate(w, r, http.StatusCreated, func(d *config.Document, n *saveNote) (any, error) {
		var org *config.Organization
		for i := range d.Organizations {
			if d.Organizations[i].ID == orgID {
				org = &d.Organizations[i]
			}
		}
		if org == nil {
			return nil, notFound("organization", r.PathValue("id"))
		}
		var fes []*config.FieldError
		check := func(field string, ids []int64, exists func(int64) bool, what string) {
			for _, id := range ids {
				if !exists(id) {
					fes = append(fes, fieldErr(field, "ref_missing", kv{"what": what, "id": id}, "%s %d does not exist", what, id))
				}
			}
		}
		x := config.NewIndex(d)
		check("owner_ids", body.OwnerIDs, func(id int64) bool { return x.Owner(id) != nil }, "owner")
		check("robot_ids", body.RobotIDs, func(id int64) bool { return x.Robot(id) != nil }, "robot")
		if len(fes) > 0 {
			return nil, validation(fes)
		}
		have := map[string]int64{}
		for _, p := range projectsOfOrg(d, org) {
			have[strings.ToLower(p.Slug)] = p.ID
		}
		next := projects.nextID(d)
		created := []config.Project{}
		skipped := []map[string]any{}
		for _, in := range body.Projects {
			slug := strings.TrimSpace(in.Slug)
			if id, dup := have[strings.ToLower(slug)]; dup {
				skipped = append(skipped, map[string]any{"slug": slug, "project_id": id, "reason": "already configured"})
				continue
			}
			name := strings.TrimSpace(in.Name)
			if name == "" {
				name = slug
			}
			p := config.Project{ID: next, Name: name, Slug: slug, OrganizationID: org.ID,
				OwnerIDs: dedupe(body.OwnerIDs), RobotIDs: dedupe(body.RobotIDs)}
			projects.normalize(s, &p)
			next++
			have[strings.ToLower(slug)] = p.ID
			created = append(created, p)
		}
		if len(created) == 0 {
			return nil, &apiError{Status: http.StatusConflict, Code: "already_configured", Extra: map[string]any{"skipped": skipped},
				Msg: "every chosen project is already configured for this organization"}
		}
		d.Projects = append(d.Projects, created...)
		*n = saveNote{Action: "sentry", Kind: "projects", Extra: strconv.Itoa(len(created))}
		return map[string]any{"created": projects.masked(created), "skipped": skipped}, nil
	})
}

func dedupe(ids []int64) []int64 {
	out := []int64{}
	for _, id := range ids {
		dup := false
		for _, v := range out {
			dup = dup || v == id
		}
		if !dup {
			out = append(out, id)
		}
	}
	return out
}

// sentryOrg names the organization in the answers of the endpoints that
// ask its Sentry.
func sentryOrg(o *config.Organization) map[string]any {
	return map[string]any{"id": o.ID, "name": o.Name, "slug": o.Slug, "sentry_url": o.SentryURL}
}

// sentryRefusal is err as those answers carry it: Sentry's refusal in
// words, or any other failure redacted.
func sentryRefusal(err error) *sentryapi.Error {
	var se *sentryapi.Error
	if !errors.As(err, &se) {
		se = &sentryapi.Error{Code: "error", Msg: notify.Redact(err.Error()), Fix: "try again"}
	}
	return se
}

// noToken is the 422 for an organization without the Sentry token an
// endpoint needs: field names the input, fix says which token.
func noToken(o *config.Organization, field, fix, msg string) *apiError {
	return &apiError{Status: http.StatusUnprocessableEntity, Code: "no_token", Params: kv{"name": o.Name},
		Fields: []*config.FieldError{fieldErr(field, "sentry_token_required", nil, "%s", fix)}, Msg: msg}
}
