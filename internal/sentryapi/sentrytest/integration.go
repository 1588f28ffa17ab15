package sentrytest

import (
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"strings"
)

// What an integration's token reads besides projects and issues:
//
//	GET /api/0/                                          any token: {"version", "auth": {"scopes"}, "user"}
//	GET /api/0/organizations/{org}/                      org:read (or org:write, org:admin): links.regionUrl
//	GET /api/0/organizations/{org}/issues/?limit=N       event:read (or event:write, event:admin)
//
// The organization's regionUrl is the stand-in itself, as a self-hosted
// Sentry's is.

// serveIntegration answers those endpoints; it reports false for other
// paths.
func (s *Server) serveIntegration(w http.ResponseWriter, r *http.Request, path string) bool {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	if path == "" {
		parts = nil
	}
	index := len(parts) == 0
	org := len(parts) == 2 && parts[0] == "organizations"
	issues := len(parts) == 3 && parts[0] == "organizations" && parts[2] == "issues"
	if !index && !org && !issues {
		return false
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		detail(w, http.StatusMethodNotAllowed, "Method \""+r.Method+"\" not allowed.")
		return true
	}
	if index {
		auth := r.Header.Get("Authorization")
		scheme, tok, _ := strings.Cut(auth, " ")
		s.mu.Lock()
		t, known := s.tokens[tok]
		s.mu.Unlock()
		if auth != "" && (!strings.EqualFold(scheme, "Bearer") || !known) {
			detail(w, http.StatusUnauthorized, "Invalid token")
			return true
		}
		var a any
		if known {
			a = map[string]any{"scopes": t.Scopes}
		}
		answerJSON(w, map[string]any{"version": "0", "auth": a, "user": nil})
		return true
	}
	scopes := []string{"org:read", "org:write", "org:admin"}
	if issues {
		scopes = []string{"event:read", "event:write", "event:admin"}
	}
	if _, ok := s.authorize(w, r, parts[1], scopes); !ok {
		return true
	}
	if org {
		s.mu.Lock()
		base := s.linkBase
		s.mu.Unlock()
		if base == "" {
			base = "http://" + r.Host + s.prefix
		}
		answerJSON(w, map[string]any{"id": "1", "slug": parts[1], "name": parts[1],
			"links": map[string]string{"organizationUrl": base, "regionUrl": base}})
		return true
	}
	s.mu.Lock()
	list := []Issue{}
	for k, is := range s.act().issues {
		if strings.HasPrefix(k, parts[1]+"/") {
			list = append(list, *is)
		}
	}
	s.mu.Unlock()
	sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
	if n, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil && n >= 0 && n < len(list) {
		list = list[:n]
	}
	answerJSON(w, list)
	return true
}

func answerJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
