package configapi

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/notify"
)

// entity describes one list of the document for the generic CRUD handlers.
type entity[T any] struct {
	kind    string // JSON name of the list: "owners"
	one     string // one of them, in messages: "owner"
	secrets []secretField
	list    func(d *config.Document) *[]T
	id      func(v *T) *int64
	name    func(v *T) string
	// refs lists who refers to the entity with id; unref removes those
	// references (delete with ?force=1).
	refs  func(d *config.Document, id int64) []ref
	unref func(d *config.Document, id int64)
	// normalize tidies what a person typed (spaces, a pasted URL).
	normalize func(s *Server, v *T)
	// check finds duplicates config.Validate does not, for list[i].
	check func(s *Server, d *config.Document, i int) []*config.FieldError
}

// ref is something that refers to an entity.
type ref struct {
	Kind string `json:"kind"`
	ID   int64  `json:"id"`
	Name string `json:"name"`
	Slug string `json:"slug,omitempty"`
}

func projectRef(p *config.Project) ref {
	return ref{Kind: "projects", ID: p.ID, Name: p.Name, Slug: p.Slug}
}

func registerEntity[T any](s *Server, e *entity[T]) {
	base := "/api/v1/" + e.kind
	s.mux.HandleFunc("GET "+base, func(w http.ResponseWriter, r *http.Request) { listEntities(s, e, w, r) })
	s.mux.HandleFunc("POST "+base, func(w http.ResponseWriter, r *http.Request) { createEntity(s, e, w, r) })
	s.mux.HandleFunc("GET "+base+"/{id}", func(w http.ResponseWriter, r *http.Request) { readEntity(s, e, w, r) })
	s.mux.HandleFunc("PUT "+base+"/{id}", func(w http.ResponseWriter, r *http.Request) { updateEntity(s, e, w, r, false) })
	s.mux.HandleFunc("PATCH "+base+"/{id}", func(w http.ResponseWriter, r *http.Request) { updateEntity(s, e, w, r, true) })
	s.mux.HandleFunc("DELETE "+base+"/{id}", func(w http.ResponseWriter, r *http.Request) { deleteEntity(s, e, w, r) })
	if len(e.secrets) > 0 {
		s.mux.HandleFunc("GET "+base+"/{id}/secrets", func(w http.ResponseWriter, r *http.Request) { revealEntity(s, e, w, r) })
	}
}

func (e *entity[T]) masked(list []T) []map[string]any {
	out := make([]map[string]any, len(list))
	for i := range list {
		out[i] = maskedMap(list[i], e.secrets)
	}
	return out
}

func (e *entity[T]) find(d *config.Document, id int64) int {
	list := *e.list(d)
	for i := range list {
		if *e.id(&list[i]) == id {
			return i
		}
	}
	return -1
}

func (e *entity[T]) nextID(d *config.Document) int64 {
	var max int64
	list := *e.list(d)
	for i := range list {
		if v := *e.id(&list[i]); v > max {
			max = v
		}
	}
	return max + 1
}

// at makes the field names of a body error document paths: slug →
// projects[3].slug.
func (e *entity[T]) at(i int, err error) error {
	var ae *apiError
	if errors.As(err, &ae) {
		for _, f := range ae.Fields {
			f.Field = fmt.Sprintf("%s[%d].%s", e.kind, i, f.Field)
		}
	}
	return err
}

// validate checks the document after list[i] changed. Errors about list[i]
// come first, one per field; errors elsewhere that only restate a
// duplicate already reported on list[i] are dropped.
func (e *entity[T]) validate(s *Server, d *config.Document, i int) error {
	var fes []*config.FieldError
	prefix := fmt.Sprintf("%s[%d]", e.kind, i)
	// The relay can do without names (it shows the mobile or slug), but a
	// person editing here names what they add.
	if strings.TrimSpace(e.name(&(*e.list(d))[i])) == "" {
		fes = append(fes, fieldErr(prefix+".name", "required", nil, "is required"))
	}
	if e.check != nil {
		fes = append(fes, e.check(s, d, i)...)
	}
	var other []*config.FieldError
	for _, f := range s.recode(d, config.Fields(d.Validate(s.docKinds))) {
		if f.Field == prefix || strings.HasPrefix(f.Field, prefix+".") || strings.HasPrefix(f.Field, prefix+"[") {
			fes = append(fes, f)
		} else {
			other = append(other, f)
		}
	}
	if len(fes) == 0 {
		fes = other
	}
	if len(fes) == 0 {
		return nil
	}
	seen := map[string]bool{}
	var out []*config.FieldError
	for _, f := range fes {
		if !seen[f.Field] {
			seen[f.Field] = true
			out = append(out, f)
		}
	}
	return validation(out)
}

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, badRequest("id", "path_id", kv{"value": r.PathValue("id")}, "id %q must be a positive integer", r.PathValue("id"))
	}
	return id, nil
}

func listEntities[T any](s *Server, e *entity[T], w http.ResponseWriter, r *http.Request) {
	d, tag, err := s.load(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("ETag", outETag(tag))
	writeJSON(w, http.StatusOK, e.masked(*e.list(d)))
}

// entry loads the document and the entry the path's {id} names.
func entry[T any](s *Server, e *entity[T], r *http.Request) (*T, string, error) {
	id, err := pathID(r)
	if err != nil {
		return nil, "", err
	}
	d, tag, err := s.load(r.Context())
	if err != nil {
		return nil, "", err
	}
	i := e.find(d, id)
	if i < 0 {
		return nil, "", notFound(e.one, id)
	}
	return &(*e.list(d))[i], tag, nil
}

func readEntity[T any](s *Server, e *entity[T], w http.ResponseWriter, r *http.Request) {
	v, tag, err := entry(s, e, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("ETag", outETag(tag))
	writeJSON(w, http.StatusOK, maskedMap(*v, e.secrets))
}

// revealEntity answers an entry's secrets as stored: only on request (the
// form's 显示 / Show), never in a list or a read.
func revealEntity[T any](s *Server, e *entity[T], w http.ResponseWriter, r *http.Request) {
	v, _, err := entry(s, e, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, revealed(*v, e.secrets))
}

func createEntity[T any](s *Server, e *entity[T], w http.ResponseWriter, r *http.Request) {
	body, err := readObject(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	delete(body, "id") // the configurator assigns ids
	s.mutate(w, r, http.StatusCreated, func(d *config.Document, n *saveNote) (any, error) {
		list := e.list(d)
		var v T
		if err := mergeInto(&v, nil, body, false, e.secrets); err != nil {
			return nil, e.at(len(*list), err)
		}
		*e.id(&v) = e.nextID(d)
		e.normalize(s, &v)
		*list = append(*list, v)
		i := len(*list) - 1
		if err := e.validate(s, d, i); err != nil {
			return nil, err
		}
		*n = saveNote{Action: "create", Kind: e.kind, ID: *e.id(&v)}
		return maskedMap((*list)[i], e.secrets), nil
	})
}

func updateEntity[T any](s *Server, e *entity[T], w http.ResponseWriter, r *http.Request, patch bool) {
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	body, err := readObject(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	delete(body, "id")
	s.mutate(w, r, http.StatusOK, func(d *config.Document, n *saveNote) (any, error) {
		i := e.find(d, id)
		if i < 0 {
			return nil, notFound(e.one, id)
		}
		list := e.list(d)
		var v T
		if err := mergeInto(&v, &(*list)[i], body, patch, e.secrets); err != nil {
			return nil, e.at(i, err)
		}
		*e.id(&v) = id
		e.normalize(s, &v)
		(*list)[i] = v
		if err := e.validate(s, d, i); err != nil {
			return nil, err
		}
		*n = saveNote{Action: "edit", Kind: e.kind, ID: id}
		return maskedMap(v, e.secrets), nil
	})
}

func deleteEntity[T any](s *Server, e *entity[T], w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	force := false
	switch strings.ToLower(r.URL.Query().Get("force")) {
	case "1", "true", "yes":
		force = true
	}
	s.mutate(w, r, http.StatusOK, func(d *config.Document, n *saveNote) (any, error) {
		i := e.find(d, id)
		if i < 0 {
			return nil, notFound(e.one, id)
		}
		list := e.list(d)
		v := &(*list)[i]
		var refs []ref
		if e.refs != nil {
			refs = e.refs(d, id)
		}
		if len(refs) > 0 && !force {
			names := make([]string, len(refs))
			for j, rf := range refs {
				names[j] = fmt.Sprintf("%s (%s, id %d)", rf.Name, rf.Slug, rf.ID)
				if rf.Kind == "schedules" {
					names[j] = fmt.Sprintf("schedule %s (id %d)", rf.Name, rf.ID)
				}
			}
			return nil, &apiError{Status: http.StatusConflict, Code: "referenced", Params: kv{"what": e.one, "name": e.name(v), "n": len(refs)},
				Msg: fmt.Sprintf("%s %q is used by %d project(s) or schedule(s): %s; delete with ?force=1 to remove it from them too",
					e.one, e.name(v), len(refs), strings.Join(names, ", ")),
				Extra: map[string]any{"referenced_by": refs}}
		}
		removed := maskedMap(*v, e.secrets)
		if len(refs) > 0 {
			e.unref(d, id)
		}
		*list = slices.Delete(*list, i, i+1)
		if refs == nil {
			refs = []ref{}
		}
		*n = saveNote{Action: "delete", Kind: e.kind, ID: id}
		return map[string]any{"deleted": removed, "unreferenced": refs}, nil
	})
}

var organizations = &entity[config.Organization]{
	kind: "organizations", one: "organization",
	secrets: secretsOf[config.Organization]("password"),
	list:    func(d *config.Document) *[]config.Organization { return &d.Organizations },
	id:      func(v *config.Organization) *int64 { return &v.ID },
	name:    func(v *config.Organization) string { return v.Name },
	refs: func(d *config.Document, id int64) []ref {
		var out []ref
		for i := range d.Projects {
			if d.Projects[i].OrganizationID == id {
				out = append(out, projectRef(&d.Projects[i]))
			}
		}
		return out
	},
	unref: func(d *config.Document, id int64) {
		for i := range d.Projects {
			if d.Projects[i].OrganizationID == id {
				d.Projects[i].OrganizationID = 0
			}
		}
	},
	normalize: func(_ *Server, v *config.Organization) {
		v.Name = strings.TrimSpace(v.Name)
		v.Slug = strings.TrimSpace(v.Slug)
		v.Account = strings.TrimSpace(v.Account)
		v.ClientSecret = config.Secret(strings.TrimSpace(v.ClientSecret.Reveal()))
		u := strings.TrimRight(strings.TrimSpace(v.SentryURL), "/")
		if u != "" && !strings.Contains(u, "://") && strings.Contains(u, ".") {
			u = "https://" + u
		}
		v.SentryURL = u
	},
}

var owners = &entity[config.Owner]{
	kind: "owners", one: "owner",
	list: func(d *config.Document) *[]config.Owner { return &d.Owners },
	id:   func(v *config.Owner) *int64 { return &v.ID },
	name: func(v *config.Owner) string { return v.Name },
	refs: func(d *config.Document, id int64) []ref {
		var out []ref
		for i := range d.Projects {
			if slices.Contains(d.Projects[i].OwnerIDs, id) {
				out = append(out, projectRef(&d.Projects[i]))
			}
		}
		return append(out, scheduleRefs(d, id, false)...)
	},
	unref: func(d *config.Document, id int64) {
		for i := range d.Projects {
			d.Projects[i].OwnerIDs = slices.DeleteFunc(d.Projects[i].OwnerIDs, func(x int64) bool { return x == id })
		}
		unrefSchedules(d, id, false)
	},
	normalize: func(s *Server, v *config.Owner) {
		v.Name = strings.TrimSpace(v.Name)
		v.Mobile = config.NormalizeMobile(v.Mobile)
		s.docKinds.NormalizeOwner(v)
		for k, id := range v.UserIDs() {
			s.docKinds.SetOwnerID(v, k, strings.TrimSpace(id))
		}
	},
	check: func(_ *Server, d *config.Document, i int) []*config.FieldError {
		o := &d.Owners[i]
		if o.Mobile == "" {
			return nil
		}
		for j := range d.Owners {
			if j != i && d.Owners[j].Mobile == o.Mobile {
				return []*config.FieldError{fieldErr(fmt.Sprintf("owners[%d].mobile", i), "mobile_taken", kv{"value": o.Mobile, "name": d.Owners[j].Name, "id": d.Owners[j].ID},
					"%s is already the mobile of owner %q (id %d)", o.Mobile, d.Owners[j].Name, d.Owners[j].ID)}
			}
		}
		return nil
	},
}

var robots = &entity[config.Robot]{
	kind: "robots", one: "robot",
	secrets: secretsOf[config.Robot](),
	list:    func(d *config.Document) *[]config.Robot { return &d.Robots },
	id:      func(v *config.Robot) *int64 { return &v.ID },
	name:    func(v *config.Robot) string { return v.Name },
	refs: func(d *config.Document, id int64) []ref {
		var out []ref
		for i := range d.Projects {
			if slices.Contains(d.Projects[i].RobotIDs, id) {
				out = append(out, projectRef(&d.Projects[i]))
			}
		}
		return append(out, scheduleRefs(d, id, true)...)
	},
	unref: func(d *config.Document, id int64) {
		for i := range d.Projects {
			d.Projects[i].RobotIDs = slices.DeleteFunc(d.Projects[i].RobotIDs, func(x int64) bool { return x == id })
		}
		unrefSchedules(d, id, true)
	},
	normalize: func(s *Server, v *config.Robot) {
		v.Name = strings.TrimSpace(v.Name)
		v.Kind = strings.ToLower(strings.TrimSpace(v.Kind))
		tok := strings.TrimSpace(v.AccessToken.Reveal())
		if t, kind, ok := s.tokenFromURL(tok); ok {
			tok, v.Kind = t, kind // the URL says which chat tool it is
		}
		if v.Kind == "" {
			v.Kind = s.docKinds.Default()
		}
		v.AccessToken = config.Secret(tok)
		v.Secret = config.Secret(strings.TrimSpace(v.Secret.Reveal()))
		v.Keyword = strings.TrimSpace(v.Keyword)
	},
	check: func(s *Server, d *config.Document, i int) []*config.FieldError {
		r := &d.Robots[i]
		if fes := s.robotProblems(r, fmt.Sprintf("robots[%d]", i)); len(fes) > 0 {
			return fes
		}
		for j := range d.Robots {
			if j != i && r.AccessToken != "" && d.Robots[j].AccessToken == r.AccessToken && d.Robots[j].Kind == r.Kind {
				return []*config.FieldError{fieldErr(fmt.Sprintf("robots[%d].access_token", i), "token_taken", kv{"name": d.Robots[j].Name, "id": d.Robots[j].ID},
					"is already the token of robot %q (id %d)", d.Robots[j].Name, d.Robots[j].ID)}
			}
		}
		return nil
	},
}

var projects = &entity[config.Project]{
	kind: "projects", one: "project",
	list: func(d *config.Document) *[]config.Project { return &d.Projects },
	id:   func(v *config.Project) *int64 { return &v.ID },
	name: func(v *config.Project) string { return v.Name },
	normalize: func(_ *Server, v *config.Project) {
		v.Name = strings.TrimSpace(v.Name)
		v.Slug = strings.TrimSpace(v.Slug)
		if v.OwnerIDs == nil {
			v.OwnerIDs = []int64{}
		}
		if v.RobotIDs == nil {
			v.RobotIDs = []int64{}
		}
		var envs []string
		for _, e := range v.Environments {
			if e = strings.TrimSpace(e); e != "" && !slices.Contains(envs, e) {
				envs = append(envs, e)
			}
		}
		v.Environments = envs
		v.MinLevel = strings.ToLower(strings.TrimSpace(v.MinLevel))
		v.MentionLevel = strings.ToLower(strings.TrimSpace(v.MentionLevel))
		normalizeTimed(v)
	},
	check: func(_ *Server, d *config.Document, i int) []*config.FieldError {
		p := &d.Projects[i]
		for j := range d.Projects {
			q := &d.Projects[j]
			if j != i && p.Slug != "" && strings.EqualFold(q.Slug, p.Slug) && q.OrganizationID == p.OrganizationID {
				return []*config.FieldError{fieldErr(fmt.Sprintf("projects[%d].slug", i), "slug_taken", kv{"value": p.Slug, "name": q.Name, "id": q.ID},
					"%q is already the slug of project %q (id %d) in the same organization", p.Slug, q.Name, q.ID)}
			}
		}
		return nil
	},
}

// snapshot answers everything the page shows at once, under one ETag.
func (s *Server) snapshot(w http.ResponseWriter, r *http.Request) {
	d, tag, err := s.load(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	loc, source := s.StoreLocation()
	w.Header().Set("ETag", outETag(tag))
	writeJSON(w, http.StatusOK, map[string]any{
		"etag":              outETag(tag),
		"stored":            tag != "",
		"store":             loc,
		"store_source":      source,
		"webhook_token_set": d.WebhookToken != "",
		"organizations":     organizations.masked(d.Organizations),
		"owners":            owners.masked(d.Owners),
		"robots":            robots.masked(d.Robots),
		"projects":          projects.masked(d.Projects),
		"schedules":         schedules.masked(d.Schedules),
		"meta":              s.metaData(),
	})
}

// metaData describes what the page builds its forms from: the robot kinds
// (labels, inputs, limits), the levels and the default keyword.
func (s *Server) metaData() map[string]any {
	kinds := []*notify.Kind{}
	for _, k := range s.kinds.All() {
		if s.senders[k.Name] != nil {
			kinds = append(kinds, k)
		}
	}
	return map[string]any{
		"kinds":           kinds,
		"levels":          config.Levels,
		"default_keyword": config.DefaultKeyword,
		"oncall":          oncallMeta,
	}
}

func (s *Server) meta(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.metaData())
}
