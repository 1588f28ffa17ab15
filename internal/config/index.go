package config

import "strings"

// Index is a read-only view of a valid document with lookups by id and by
// project slug. Build it once per document version and share it.
type Index struct {
	Doc *Document
	// Version identifies the stored document (its ETag) when known.
	Version string

	orgs   map[int64]*Organization
	owners map[int64]*Owner
	robots map[int64]*Robot
	projs  map[int64]*Project
	scheds map[int64]*Schedule
	bySlug map[string][]*Project // lower-case slug -> projects (several organizations may share one)
}

// NewIndex indexes d, which must be valid.
func NewIndex(d *Document) *Index {
	x := &Index{
		Doc:    d,
		orgs:   make(map[int64]*Organization, len(d.Organizations)),
		owners: make(map[int64]*Owner, len(d.Owners)),
		robots: make(map[int64]*Robot, len(d.Robots)),
		projs:  make(map[int64]*Project, len(d.Projects)),
		scheds: make(map[int64]*Schedule, len(d.Schedules)),
		bySlug: make(map[string][]*Project, len(d.Projects)),
	}
	for i := range d.Organizations {
		x.orgs[d.Organizations[i].ID] = &d.Organizations[i]
	}
	for i := range d.Owners {
		x.owners[d.Owners[i].ID] = &d.Owners[i]
	}
	for i := range d.Robots {
		x.robots[d.Robots[i].ID] = &d.Robots[i]
	}
	for i := range d.Schedules {
		x.scheds[d.Schedules[i].ID] = &d.Schedules[i]
	}
	for i := range d.Projects {
		p := &d.Projects[i]
		x.projs[p.ID] = p
		k := strings.ToLower(p.Slug)
		x.bySlug[k] = append(x.bySlug[k], p)
	}
	return x
}

// Organization returns the organization with id, or nil.
func (x *Index) Organization(id int64) *Organization { return x.orgs[id] }

// Owner returns the owner with id, or nil.
func (x *Index) Owner(id int64) *Owner { return x.owners[id] }

// Robot returns the robot with id, or nil.
func (x *Index) Robot(id int64) *Robot { return x.robots[id] }

// Project returns the project with id, or nil.
func (x *Index) Project(id int64) *Project { return x.projs[id] }

// Schedule returns the schedule with id, or nil.
func (x *Index) Schedule(id int64) *Schedule { return x.scheds[id] }

// ProjectsBySlug returns every project with the slug (case-insensitive).
func (x *Index) ProjectsBySlug(slug string) []*Project {
	if ps, ok := x.bySlug[slug]; ok {
		return ps
	}
	return x.bySlug[strings.ToLower(slug)]
}

// Secrets lists every secret value in the document, for log-leak tests and
// redaction.
func (d *Document) Secrets() []string {
	var s []string
	add := func(v Secret) {
		if v != "" {
			s = append(s, string(v))
		}
	}
	add(d.WebhookToken)
	add(d.ActionKey)
	for _, o := range d.Organizations {
		add(o.Password)
		add(o.ClientSecret)
		add(o.APIToken)
	}
	for _, r := range d.Robots {
		add(r.AccessToken)
		add(r.Secret)
	}
	return s
}
