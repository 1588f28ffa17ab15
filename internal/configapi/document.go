package configapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
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

// documentMembers are what every schema-1 document has: an upload without
// them is something else (a Sentry payload, another program's file), and
// importing it would empty the configuration.
var documentMembers = []string{"schema", "organizations", "owners", "robots", "projects"}

// parseUpload reads and validates an uploaded document: a schema-1
// document with its four lists, valid as a whole.
func (s *Server) parseUpload(w http.ResponseWriter, r *http.Request) (*config.Document, error) {
	raw, err := readBody(w, r, maxDocument)
	if err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, badRequest("document", "document_empty", nil, "the body is empty; send the configuration document")
	}
	if b := bytes.TrimSpace(bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))); len(b) == 0 || b[0] != '{' {
		return nil, validation([]*config.FieldError{fieldErr("document", "document_object", nil, "must be a JSON object, the whole configuration")})
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf")), &top); err == nil {
		var missing []string
		for _, k := range documentMembers {
			v, ok := top[k]
			if t := bytes.TrimSpace(v); !ok || (k != "schema" && !bytes.HasPrefix(t, []byte("[")) && string(t) != "null") {
				missing = append(missing, k)
			}
		}
		if len(missing) > 0 {
			return nil, &apiError{Status: http.StatusUnprocessableEntity, Code: "not_document", Params: kv{"missing": missing},
				Msg: "this is not a sentry-white configuration document: it has no " + strings.Join(missing, ", ") +
					"; export one from the configurator (导出配置) or write schema 1 with the four lists",
				Fields: []*config.FieldError{fieldErr("document", "not_document", kv{"missing": missing}, "has no %s", strings.Join(missing, ", "))}}
		}
	}
	d, err := config.Parse(raw, s.docKinds)
	if err != nil {
		loose := config.Empty() // the robots, to word their kinds' rules
		if json.Unmarshal(bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf")), loose) == nil {
			loose.Normalize(s.docKinds)
		}
		return nil, validation(s.recode(loose, config.Fields(err)))
	}
	return d, nil
}

// keepToken makes sure d is never written without a webhook token (with
// none, the relay accepts webhooks from anyone): it takes the stored
// document's, else a new one. It reports what it did: "" (d has its own),
// "kept" or "new".
func keepToken(d, stored *config.Document) string {
	if d.WebhookToken != "" {
		return ""
	}
	if stored != nil && stored.WebhookToken != "" {
		d.WebhookToken = stored.WebhookToken
		return "kept"
	}
	d.WebhookToken = config.Secret(newToken())
	return "new"
}

func counts(d *config.Document) map[string]int {
	return map[string]int{"organizations": len(d.Organizations), "owners": len(d.Owners),
		"robots": len(d.Robots), "projects": len(d.Projects), "schedules": len(d.Schedules)}
}

// replacing reads the document a request is about to replace whole: the
// store, the current document and its ETag; errStale when the request's
// If-Match names another version.
func (s *Server) replacing(r *http.Request) (*docstore.Docs, *config.Document, string, error) {
	docs, err := s.docs()
	if err != nil {
		return nil, nil, "", err
	}
	cur, _, tag, err := s.current(r.Context())
	if err != nil {
		return nil, nil, "", err
	}
	if want, pinned := ifMatch(r); pinned && !sameETag(want, tag) {
		return nil, nil, "", errStale
	}
	return docs, cur, tag, nil
}

// importDocument replaces the whole document with a valid upload.
func (s *Server) importDocument(w http.ResponseWriter, r *http.Request) {
	d, err := s.parseUpload(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	docs, cur, tag, err := s.replacing(r)
	if err == nil {
		err = noNewMasks(cur, d)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	token := keepToken(d, cur)
	keepActionKey(d, cur)
	newTag, err := docs.Save(r.Context(), d, tag)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.note(r.Context(), docs, d, saveNote{Action: "import"})
	w.Header().Set("ETag", outETag(newTag))
	body := map[string]any{"imported": true, "counts": counts(d)}
	if token != "" {
		body["webhook_token"] = token
	}
	writeJSON(w, http.StatusOK, body)
}

// diffDocument validates an upload and says what importing it would change.
func (s *Server) diffDocument(w http.ResponseWriter, r *http.Request) {
	d, err := s.parseUpload(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	cur, _, tag, err := s.current(r.Context())
	if err == nil {
		err = noNewMasks(cur, d)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	token := keepToken(d, cur)
	keepActionKey(d, cur)
	changes := diff(cur, d)
	w.Header().Set("ETag", outETag(tag))
	body := map[string]any{"etag": outETag(tag), "changes": changes,
		"identical": len(changes) == 0, "counts": counts(d), "dangers": dangers(cur, d, changes)}
	if token != "" {
		body["webhook_token"] = token
	}
	writeJSON(w, http.StatusOK, body)
}

// noNewMasks refuses a document that would bring a mask into the store in
// place of a secret (one already stored is not new), naming each field.
func noNewMasks(cur, d *config.Document) error {
	if fes := maskedSecrets(secretValues(cur), d); len(fes) > 0 {
		return validation(fes)
	}
	return nil
}

// danger is a change that needs a second confirmation. A change to one
// entry's field has the params list, what (the page's word for one of
// the list), id, name, field, and before and after: secrets masked,
// robots by name.
type danger struct {
	Code   string `json:"code"` // token_changed, secret_cleared, secret_changed, robot_unlinked or removes_most
	Params kv     `json:"params,omitempty"`
	Msg    string `json:"message"`
}

// dangers lists what makes replacing cur by next risky: a new webhook
// token (every URL in Sentry stops working), a secret cleared or replaced
// (the robot fails, Sentry's signature is refused), a robot taken off a
// project (its alerts stop going there), and removing more than half of
// the configuration's entries.
func dangers(cur, next *config.Document, changes []change) []danger {
	out := []danger{}
	// A document without a token keeps the current one (keepToken).
	if cur.WebhookToken != "" && next.WebhookToken != "" && next.WebhookToken != cur.WebhookToken {
		out = append(out, danger{Code: "token_changed",
			Params: kv{"list": "document", "field": "webhook_token", "before": mask(cur.WebhookToken.Reveal(), true), "after": mask(next.WebhookToken.Reveal(), true)},
			Msg:    "the webhook token changes: every webhook URL in Sentry stops working until it is replaced"})
	}
	out = append(out, secretDangers(organizations, cur, next)...)
	out = append(out, secretDangers(robots, cur, next)...)
	out = append(out, robotDangers(cur, next)...)
	total := len(cur.Organizations) + len(cur.Owners) + len(cur.Robots) + len(cur.Projects)
	removed := 0
	for _, c := range changes {
		if c.Op == "removed" {
			removed++
		}
	}
	if total > 0 && removed*2 > total {
		out = append(out, danger{Code: "removes_most", Params: kv{"removed": removed, "total": total},
			Msg: fmt.Sprintf("%d of the configuration's %d entries are removed", removed, total)})
	}
	return out
}

// entryParams are the params of a danger about one entry's field.
func entryParams[T any](e *entity[T], v *T, field, before, after string) kv {
	return kv{"list": e.kind, "what": e.one, "id": *e.id(v), "name": e.name(v), "field": field, "before": before, "after": after}
}

// entryMsg is the English of a danger about one entry's field.
func entryMsg(p kv, what string) string {
	return fmt.Sprintf("%s #%d %q: %s (%s → %s)", p["what"], p["id"], p["name"], what, p["before"], orEmpty(p["after"].(string)))
}

func orEmpty(s string) string {
	if s == "" {
		return "empty"
	}
	return s
}

// secretDangers finds the secrets of e's entries, kept in both documents,
// that next clears or replaces.
func secretDangers[T any](e *entity[T], cur, next *config.Document) []danger {
	var out []danger
	nl := *e.list(next)
	for i := range nl {
		j := e.find(cur, *e.id(&nl[i]))
		if j < 0 {
			continue
		}
		was, now := revealed((*e.list(cur))[j], e.secrets), revealed(nl[i], e.secrets)
		for _, f := range e.secrets {
			before, after := was[f.Name], now[f.Name]
			switch {
			case before == "" || before == after:
			case after == "":
				p := entryParams(e, &nl[i], f.Name, mask(before, f.Partial), "")
				out = append(out, danger{Code: "secret_cleared", Params: p, Msg: entryMsg(p, f.Name+" is cleared")})
			default:
				p := entryParams(e, &nl[i], f.Name, mask(before, f.Partial), mask(after, f.Partial))
				out = append(out, danger{Code: "secret_changed", Params: p, Msg: entryMsg(p, f.Name+" is replaced")})
			}
		}
	}
	return out
}

// robotDangers finds the projects, kept in both documents, that next takes
// a robot off: their alerts stop going to that group.
func robotDangers(cur, next *config.Document) []danger {
	robotName := func(id int64) string {
		for _, d := range []*config.Document{next, cur} {
			if i := robots.find(d, id); i >= 0 {
				return d.Robots[i].Name
			}
		}
		return fmt.Sprintf("#%d", id)
	}
	names := func(ids []int64) string {
		out := make([]string, len(ids))
		for i, id := range ids {
			out[i] = robotName(id)
		}
		return strings.Join(out, ", ")
	}
	var out []danger
	for i := range next.Projects {
		p := &next.Projects[i]
		j := projects.find(cur, p.ID)
		if j < 0 {
			continue
		}
		was := cur.Projects[j].RobotIDs
		var gone []int64
		for _, id := range was {
			if !slices.Contains(p.RobotIDs, id) {
				gone = append(gone, id)
			}
		}
		if len(gone) > 0 {
			ps := entryParams(projects, p, "robot_ids", names(was), names(p.RobotIDs))
			ps["removed"] = names(gone)
			out = append(out, danger{Code: "robot_unlinked", Params: ps, Msg: entryMsg(ps, "no longer alerts "+names(gone))})
		}
	}
	return out
}

// change is one difference between two documents. Secret fields are named,
// never shown.
type change struct {
	Kind   string   `json:"kind"` // organizations, owners, robots, projects, schedules or document
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
	out = append(out, diffList(schedules, old, new)...)
	return out
}

func diffTop(old, new *config.Document) []change {
	strip := func(d *config.Document) map[string]json.RawMessage {
		c := *d
		c.Organizations, c.Owners, c.Robots, c.Projects, c.Schedules = nil, nil, nil, nil, nil
		m := map[string]json.RawMessage{}
		b, _ := json.Marshal(c)
		_ = json.Unmarshal(b, &m)
		for _, k := range []string{"organizations", "owners", "robots", "projects", "schedules"} {
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

// version is a kept version in the history list, with what it held and
// what the save that replaced it did.
type version struct {
	docstore.Version
	Counts map[string]int `json:"counts,omitempty"` // absent when the version cannot be read
	// Save is how the next version (the one that replaced this one) came
	// to be, when a note says so; Changes what it changed (at most
	// maxRowChanges, More the rest).
	Save    *saveNote `json:"save,omitempty"`
	Changes []change  `json:"changes"`
	More    int       `json:"more,omitempty"`
}

// maxRowChanges is how many changes a history row lists.
const maxRowChanges = 5

// history lists the kept versions, newest first, with how many entities
// each held and what the save that replaced it did.
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
	all := notes(r.Context(), docs)
	// next is the version after the one at hand: the current document for
	// the newest.
	var next *config.Document
	nextHash := ""
	if _, data, tag, err := s.current(r.Context()); err == nil && tag != "" {
		next, nextHash = config.Empty(), docHash(data)
		if json.Unmarshal(data, next) != nil {
			next = nil
		}
	}
	out := make([]version, len(vs))
	for i, v := range vs {
		out[i].Version = v
		out[i].Changes = []change{}
		if nextHash != "" {
			var to time.Time
			if i > 0 {
				to = vs[i-1].Time
			}
			out[i].Save = noteOf(all, nextHash, v.Time, to)
		}
		var d *config.Document
		data, err := docs.ReadVersion(r.Context(), v.ID)
		if err == nil {
			d = config.Empty()
			if json.Unmarshal(data, d) == nil {
				out[i].Counts = counts(d)
			} else {
				d = nil
			}
		}
		if d != nil && next != nil {
			ch := diff(d, next)
			if len(ch) > maxRowChanges {
				out[i].More = len(ch) - maxRowChanges
				ch = ch[:maxRowChanges]
			}
			out[i].Changes = ch
		}
		next, nextHash = d, ""
		if err == nil {
			nextHash = docHash(data)
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
		s.fail(w, r, notFound("version", id))
		return
	}
	if err != nil {
		s.fail(w, r, storeError(err))
		return
	}
	old := config.Empty()
	if err := json.Unmarshal(data, old); err != nil {
		s.fail(w, r, &apiError{Status: http.StatusUnprocessableEntity, Code: "version_json", Params: kv{"id": id, "detail": err.Error()},
			Msg: fmt.Sprintf("version %s is not valid JSON: %v", id, err)})
		return
	}
	cur, _, tag, err := s.current(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("ETag", outETag(tag))
	changes := diff(cur, old)
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "etag": outETag(tag), "changes": changes, "counts": counts(old),
		"dangers": dangers(cur, old, changes)})
}

// restore makes a kept version the current document.
func (s *Server) restore(w http.ResponseWriter, r *http.Request) {
	docs, cur, tag, err := s.replacing(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	id := r.PathValue("id")
	data, err := docs.ReadVersion(r.Context(), id)
	var d *config.Document
	if err == nil {
		d, err = config.Parse(data, s.docKinds)
	}
	newTag := ""
	if err == nil {
		err = noNewMasks(cur, d)
	}
	if err == nil {
		keepToken(d, cur) // a version kept before a token was set gets the current one
		keepActionKey(d, cur)
		newTag, err = docs.Save(r.Context(), d, tag)
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.fail(w, r, notFound("version", id))
		return
	case errors.As(err, new(*apiError)):
		s.fail(w, r, err)
		return
	case len(config.Fields(err)) > 0:
		s.fail(w, r, &apiError{Status: http.StatusUnprocessableEntity, Code: "version_invalid", Params: kv{"id": id}, Fields: config.Fields(err),
			Msg: "version " + id + " is not a valid document: " + err.Error()})
		return
	case err != nil:
		s.fail(w, r, err)
		return
	}
	s.note(r.Context(), docs, d, saveNote{Action: "restore", Extra: id})
	w.Header().Set("ETag", outETag(newTag))
	writeJSON(w, http.StatusOK, map[string]any{"restored": id})
}

// webhookInfo is what the webhook setup panel shows: the URL to paste into
// Sentry, token included; the path and token alone while no relay URL is
// set; and a warning (warning_code) when Sentry cannot reach the relay URL.
func (s *Server) webhookInfo(d *config.Document) map[string]any {
	s.mu.Lock()
	relay := s.set.RelayURL
	s.mu.Unlock()
	tok := d.WebhookToken.Reveal()
	path := "/"
	if tok != "" {
		path += "?" + url.Values{"token": {tok}}.Encode()
	}
	out := map[string]any{"relay_url": relay, "token_set": tok != "", "token": tok, "path": path, "url": webhookURL(relay, tok)}
	if code, msg := reachWarning(relay); code != "" {
		out["warning"], out["warning_code"] = msg, code
	}
	return out
}

// reachWarning says why Sentry (sentry.io, or a Sentry elsewhere) may not
// reach a relay URL: a loopback or private address, or plain http.
func reachWarning(relay string) (code, msg string) {
	u, err := url.Parse(strings.TrimSpace(relay))
	if relay == "" || err != nil || u.Host == "" {
		return "", ""
	}
	host := u.Hostname()
	ip := net.ParseIP(host)
	switch {
	case strings.EqualFold(host, "localhost") || ip != nil && ip.IsLoopback():
		return "loopback", "this is an address on this computer: Sentry cannot reach it; use it only to try the relay locally, and give Sentry the relay's public URL"
	case ip != nil && (ip.IsPrivate() || ip.IsLinkLocalUnicast()):
		return "private", "this is a private network address: only a Sentry inside that network can reach it"
	case u.Scheme == "http":
		return "plain_http", "plain http: the webhook token travels unencrypted; use the relay's https URL"
	}
	return "", ""
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
	s.mutate(w, r, http.StatusOK, func(d *config.Document, n *saveNote) (any, error) {
		d.WebhookToken = config.Secret(newToken())
		*n = saveNote{Action: "token"}
		return s.webhookInfo(d), nil
	})
}
