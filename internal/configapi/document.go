package configapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/docstore"
	"github.com/sentry-white/sentry-white/internal/store"
)

// current reads the stored document without validating it, so that an
// invalid document can still be exported, compared and replaced. None
// stored reads as an empty document with ETag "".
func (s *Server) current(ctx context.Context) (*config.Document, []byte, string, error) {
	docs, err := s.docs()
	if err != nil {
		return nil, nil, "", err
	}
	obj, err := docs.B.Get(ctx, docs.Key(), "")
	if errors.Is(err, store.ErrNotFound) {
		data, _ := config.Marshal(config.Empty())
		return config.Empty(), data, "", nil
	}
	if err != nil {
		return nil, nil, "", storeError(err)
	}
	d := config.Empty()
	if json.Unmarshal(obj.Data, d) != nil {
		d = config.Empty()
	}
	return d, obj.Data, obj.ETag, nil
}

// exportDocument downloads the stored document as it is, secrets included:
// it is the user's own configuration on their own computer.
func (s *Server) exportDocument(w http.ResponseWriter, r *http.Request) {
	_, data, tag, err := s.current(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	name := "sentry-white-config-" + time.Now().Format("20060102-150405") + ".json"
	w.Header().Set("ETag", outETag(tag))
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	_, _ = w.Write(data)
}

// parseUpload reads and validates an uploaded document.
func parseUpload(w http.ResponseWriter, r *http.Request) (*config.Document, error) {
	raw, err := readBody(w, r, maxDocument)
	if err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, badRequest("document", "the body is empty; send the configuration document")
	}
	if b := bytes.TrimSpace(bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))); len(b) == 0 || b[0] != '{' {
		return nil, validation([]*config.FieldError{{Field: "document", Msg: "must be a JSON object, the whole configuration"}})
	}
	d, err := config.Parse(raw)
	if err != nil {
		return nil, validation(config.Fields(err))
	}
	return d, nil
}

func counts(d *config.Document) map[string]int {
	return map[string]int{"organizations": len(d.Organizations), "owners": len(d.Owners),
		"robots": len(d.Robots), "projects": len(d.Projects)}
}

// importDocument replaces the whole document with a valid upload.
func (s *Server) importDocument(w http.ResponseWriter, r *http.Request) {
	d, err := parseUpload(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	docs, err := s.docs()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	tag, pinned := ifMatch(r)
	if !pinned {
		if _, _, tag, err = s.current(r.Context()); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	newTag, err := docs.Save(r.Context(), d, tag)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("ETag", outETag(newTag))
	writeJSON(w, http.StatusOK, map[string]any{"imported": true, "counts": counts(d)})
}

// diffDocument validates an upload and says what importing it would change.
func (s *Server) diffDocument(w http.ResponseWriter, r *http.Request) {
	d, err := parseUpload(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	cur, _, tag, err := s.current(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	changes := diff(cur, d)
	w.Header().Set("ETag", outETag(tag))
	writeJSON(w, http.StatusOK, map[string]any{"etag": outETag(tag), "changes": changes,
		"identical": len(changes) == 0, "counts": counts(d)})
}

// change is one difference between two documents. Secret fields are named,
// never shown.
type change struct {
	Kind   string   `json:"kind"` // organizations, owners, robots, projects or document
	ID     int64    `json:"id,omitempty"`
	Name   string   `json:"name,omitempty"`
	Op     string   `json:"op"` // added, removed or changed
	Fields []string `json:"fields,omitempty"`
}

// diff lists what changes from old to new: entities added, removed or
// changed (by id, with the names of the changed fields), and changed
// top-level members.
func diff(old, new *config.Document) []change {
	out := []change{}
	out = append(out, diffTop(old, new)...)
	out = append(out, diffList(organizations, old, new)...)
	out = append(out, diffList(owners, old, new)...)
	out = append(out, diffList(robots, old, new)...)
	out = append(out, diffList(projects, old, new)...)
	return out
}

func diffTop(old, new *config.Document) []change {
	strip := func(d *config.Document) map[string]json.RawMessage {
		c := *d
		c.Organizations, c.Owners, c.Robots, c.Projects = nil, nil, nil, nil
		m := map[string]json.RawMessage{}
		b, _ := json.Marshal(c)
		_ = json.Unmarshal(b, &m)
		for _, k := range []string{"organizations", "owners", "robots", "projects"} {
			delete(m, k)
		}
		return m
	}
	if f := changedFields(strip(old), strip(new)); len(f) > 0 {
		return []change{{Kind: "document", Op: "changed", Fields: f}}
	}
	return nil
}

func diffList[T any](e *entity[T], old, new *config.Document) []change {
	var out []change
	ol, nl := *e.list(old), *e.list(new)
	byID := map[int64]*T{}
	for i := range ol {
		byID[*e.id(&ol[i])] = &ol[i]
	}
	seen := map[int64]bool{}
	for i := range nl {
		v := &nl[i]
		id := *e.id(v)
		seen[id] = true
		o, ok := byID[id]
		if !ok {
			out = append(out, change{Kind: e.kind, ID: id, Name: e.name(v), Op: "added"})
			continue
		}
		if f := changedFields(members(o), members(v)); len(f) > 0 {
			out = append(out, change{Kind: e.kind, ID: id, Name: e.name(v), Op: "changed", Fields: f})
		}
	}
	for i := range ol {
		if id := *e.id(&ol[i]); !seen[id] {
			out = append(out, change{Kind: e.kind, ID: id, Name: e.name(&ol[i]), Op: "removed"})
		}
	}
	return out
}

func members(v any) map[string]json.RawMessage {
	m := map[string]json.RawMessage{}
	b, _ := json.Marshal(v)
	_ = json.Unmarshal(b, &m)
	return m
}

// changedFields names the members whose values differ, sorted.
func changedFields(a, b map[string]json.RawMessage) []string {
	var out []string
	for k := range a {
		if !sameJSON(a[k], b[k]) {
			out = append(out, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok && !sameJSON(nil, b[k]) {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// sameJSON compares two JSON values, treating absent, null, "", [] and 0
// alike (an omitted optional field).
func sameJSON(a, b json.RawMessage) bool {
	norm := func(r json.RawMessage) string {
		var buf bytes.Buffer
		if len(r) == 0 || json.Compact(&buf, r) != nil {
			return "null"
		}
		switch s := buf.String(); s {
		case `""`, `[]`, `0`, `{}`:
			return "null"
		default:
			return s
		}
	}
	return norm(a) == norm(b)
}

// version is a kept version in the history list, with what it held.
type version struct {
	docstore.Version
	Counts map[string]int `json:"counts,omitempty"` // absent when the version cannot be read
}

// history lists the kept versions, newest first, with how many entities
// each held.
func (s *Server) history(w http.ResponseWriter, r *http.Request) {
	docs, err := s.docs()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	vs, err := docs.History(r.Context())
	if err != nil {
		s.fail(w, r, storeError(err))
		return
	}
	out := make([]version, len(vs))
	for i, v := range vs {
		out[i].Version = v
		if data, err := docs.ReadVersion(r.Context(), v.ID); err == nil {
			d := config.Empty()
			if json.Unmarshal(data, d) == nil {
				out[i].Counts = counts(d)
			}
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// historyDiff says what restoring a version would change.
func (s *Server) historyDiff(w http.ResponseWriter, r *http.Request) {
	docs, err := s.docs()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	id := r.PathValue("id")
	data, err := docs.ReadVersion(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		s.fail(w, r, notFound("version %q does not exist", id))
		return
	}
	if err != nil {
		s.fail(w, r, storeError(err))
		return
	}
	old := config.Empty()
	if err := json.Unmarshal(data, old); err != nil {
		s.fail(w, r, &apiError{Status: http.StatusUnprocessableEntity, Code: "invalid_document", Msg: fmt.Sprintf("version %s is not valid JSON: %v", id, err)})
		return
	}
	cur, _, tag, err := s.current(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("ETag", outETag(tag))
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "etag": outETag(tag), "changes": diff(cur, old), "counts": counts(old)})
}

// restore makes a kept version the current document.
func (s *Server) restore(w http.ResponseWriter, r *http.Request) {
	docs, err := s.docs()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	id := r.PathValue("id")
	tag, pinned := ifMatch(r)
	if !pinned {
		if _, _, tag, err = s.current(r.Context()); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	newTag, err := docs.Restore(r.Context(), id, tag)
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.fail(w, r, notFound("version %q does not exist", id))
		return
	case len(config.Fields(err)) > 0:
		s.fail(w, r, &apiError{Status: http.StatusUnprocessableEntity, Code: "validation", Fields: config.Fields(err),
			Msg: "version " + id + " is not a valid document: " + err.Error()})
		return
	case err != nil:
		s.fail(w, r, err)
		return
	}
	w.Header().Set("ETag", outETag(newTag))
	writeJSON(w, http.StatusOK, map[string]any{"restored": id})
}

// webhookInfo is what the webhook setup panel shows: the URL to paste into
// Sentry, token included.
func (s *Server) webhookInfo(d *config.Document) map[string]any {
	s.mu.Lock()
	relay := s.set.RelayURL
	s.mu.Unlock()
	tok := d.WebhookToken.Reveal()
	return map[string]any{"relay_url": relay, "token_set": tok != "", "token": tok, "url": webhookURL(relay, tok)}
}

func (s *Server) webhook(w http.ResponseWriter, r *http.Request) {
	d, tag, err := s.load(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("ETag", outETag(tag))
	writeJSON(w, http.StatusOK, s.webhookInfo(d))
}

// regenerateToken replaces the webhook token; Sentry must get the new URL.
func (s *Server) regenerateToken(w http.ResponseWriter, r *http.Request) {
	if _, err := readObject(w, r); err != nil {
		s.fail(w, r, err)
		return
	}
	s.mutate(w, r, http.StatusOK, func(d *config.Document) (any, error) {
		d.WebhookToken = config.Secret(newToken())
		return s.webhookInfo(d), nil
	})
}
