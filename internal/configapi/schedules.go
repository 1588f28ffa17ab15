package configapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/oncall"
	"github.com/sentry-white/sentry-white/internal/plan"
	"github.com/sentry-white/sentry-white/internal/quiet"
	"github.com/sentry-white/sentry-white/internal/route"
	"github.com/sentry-white/sentry-white/internal/timed"
)

// On call and quiet hours (contract §7): on-call rotations (schedules) as
// an entity, who is on duty over the next weeks, overrides added from
// there, and what a project's alert would do if it came now.
//
//	GET    /api/v1/schedules                        list
//	POST   /api/v1/schedules                        create (201)
//	GET    /api/v1/schedules/{id}                   read
//	PUT    /api/v1/schedules/{id}                   replace; PATCH: change the members sent
//	DELETE /api/v1/schedules/{id}                   delete (409 referenced unless ?force=1)
//	GET    /api/v1/schedules/{id}/timeline          who is on duty: ?from= (a time or day; now) &days= (28)
//	POST   /api/v1/schedules/timeline               the same for a schedule not saved: {"schedule": {…}, "from", "days"}
//	POST   /api/v1/schedules/{id}/overrides         add an override {owner_id, from, to} (201)
//	DELETE /api/v1/schedules/{id}/overrides/{index} remove one
//	GET    /api/v1/projects/{id}/now                an alert now: ?level= (error)

func (s *Server) scheduleRoutes() {
	registerEntity(s, schedules)
	s.mux.HandleFunc("GET /api/v1/schedules/{id}/timeline", s.scheduleTimeline)
	s.mux.HandleFunc("POST /api/v1/schedules/timeline", s.draftTimeline)
	s.mux.HandleFunc("POST /api/v1/schedules/{id}/overrides", s.addOverride)
	s.mux.HandleFunc("DELETE /api/v1/schedules/{id}/overrides/{index}", s.deleteOverride)
	s.mux.HandleFunc("GET /api/v1/projects/{id}/now", s.projectNow)
}

var schedules = &entity[config.Schedule]{
	kind: "schedules", one: "schedule",
	list: func(d *config.Document) *[]config.Schedule { return &d.Schedules },
	id:   func(v *config.Schedule) *int64 { return &v.ID },
	name: func(v *config.Schedule) string { return v.Name },
	refs: func(d *config.Document, id int64) []ref {
		var out []ref
		for i := range d.Projects {
			if d.Projects[i].ScheduleID == id {
				out = append(out, projectRef(&d.Projects[i]))
			}
		}
		return out
	},
	// A project without its schedule rings its owners; an escalation
	// loses its on-call step.
	unref: func(d *config.Document, id int64) {
		for i := range d.Projects {
			p := &d.Projects[i]
			if p.ScheduleID != id {
				continue
			}
			p.ScheduleID = 0
			if p.Mention == config.MentionOnCall || p.Mention == config.MentionBoth {
				p.Mention = ""
			}
			if e := p.Escalation; e != nil {
				e.Steps = slices.DeleteFunc(e.Steps, func(s string) bool { return s == config.StepOnCall })
				if len(e.Steps) == 0 {
					p.Escalation = nil
				}
			}
		}
	},
	normalize: func(_ *Server, v *config.Schedule) { normalizeSchedule(v) },
}

func normalizeSchedule(v *config.Schedule) {
	v.Name = strings.TrimSpace(v.Name)
	v.Period = strings.ToLower(strings.TrimSpace(v.Period))
	v.Handoff = strings.TrimSpace(v.Handoff)
	v.Timezone = strings.TrimSpace(v.Timezone)
	v.Start = strings.TrimSpace(v.Start)
	if v.OwnerIDs == nil {
		v.OwnerIDs = []int64{}
	}
	for i := range v.Overrides {
		o := &v.Overrides[i]
		o.From, o.To = strings.TrimSpace(o.From), strings.TrimSpace(o.To)
	}
}

// normalizeTimed tidies a project's on-call and quiet-hours members as a
// person typed them.
func normalizeTimed(p *config.Project) {
	p.Mention = strings.ToLower(strings.TrimSpace(p.Mention))
	if q := p.QuietHours; q != nil {
		q.Mode = strings.ToLower(strings.TrimSpace(q.Mode))
		q.Timezone = strings.TrimSpace(q.Timezone)
		q.BypassLevel = strings.ToLower(strings.TrimSpace(q.BypassLevel))
		for i := range q.Windows {
			q.Windows[i].From, q.Windows[i].To = strings.TrimSpace(q.Windows[i].From), strings.TrimSpace(q.Windows[i].To)
		}
	}
}

// oncallMeta is what forms of schedules and projects choose from.
var oncallMeta = map[string]any{
	"mentions":         []string{config.MentionOwners, config.MentionOnCall, config.MentionBoth},
	"periods":          []string{config.PeriodDay, config.PeriodWeek},
	"quiet_modes":      []string{config.QuietHold, config.QuietSilent},
	"default_timezone": config.DefaultTimezone,
	"timeline_days":    timelineDays,
}

// scheduleRefs lists the schedules that name owner (or robot) id, for the
// owners' and robots' delete.
func scheduleRefs(d *config.Document, id int64, robot bool) []ref {
	var out []ref
	for i := range d.Schedules {
		s := &d.Schedules[i]
		uses := slices.Contains(s.RobotIDs, id)
		if !robot {
			uses = slices.Contains(s.OwnerIDs, id) || slices.ContainsFunc(s.Overrides, func(o config.Override) bool { return o.OwnerID == id })
		}
		if uses {
			out = append(out, ref{Kind: "schedules", ID: s.ID, Name: s.Name})
		}
	}
	return out
}

// unrefSchedules removes owner (or robot) id from the schedules. A
// schedule left without owners cannot rotate: it goes, and the projects
// that used it ring their owners.
func unrefSchedules(d *config.Document, id int64, robot bool) {
	var empty []int64
	for i := range d.Schedules {
		s := &d.Schedules[i]
		if robot {
			s.RobotIDs = slices.DeleteFunc(s.RobotIDs, func(x int64) bool { return x == id })
			continue
		}
		s.OwnerIDs = slices.DeleteFunc(s.OwnerIDs, func(x int64) bool { return x == id })
		s.Overrides = slices.DeleteFunc(s.Overrides, func(o config.Override) bool { return o.OwnerID == id })
		if len(s.OwnerIDs) == 0 {
			empty = append(empty, s.ID)
		}
	}
	for _, sid := range empty {
		schedules.unref(d, sid)
		d.Schedules = slices.DeleteFunc(d.Schedules, func(s config.Schedule) bool { return s.ID == sid })
	}
}

// timelineDays is how far a timeline looks by default: four weeks.
const timelineDays = 28

// timelineQuery reads ?from= (RFC 3339, or a day in the schedule's time
// zone; default now) and ?days= (1–366; default 28).
func timelineQuery(from, days string, loc *time.Location, now time.Time) (time.Time, int, error) {
	start, n := now, timelineDays
	if v := strings.TrimSpace(from); v != "" {
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			start = t
		} else if t, err := time.ParseInLocation(config.LocalDateLayout, v, loc); err == nil {
			start = t
		} else {
			return start, n, badRequest("from", "timeline_from", kv{"value": v},
				"from must be a time such as 2026-12-07T09:00:00+08:00 or a day such as 2026-12-07, not %q", v)
		}
	}
	if v := strings.TrimSpace(days); v != "" {
		d, err := strconv.Atoi(v)
		if err != nil || d < 1 || d > 366 {
			return start, n, badRequest("days", "timeline_days", kv{"value": v, "max": 366}, "days must be a number from 1 to 366, not %q", v)
		}
		n = d
	}
	return start, n, nil
}

// person is an owner as the timeline names them.
type person struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

func personOf(o *config.Owner) *person {
	if o == nil {
		return nil
	}
	return &person{ID: o.ID, Name: o.Name}
}

// timeline says who is on duty in s from from for days days: the shifts
// (overrides cut into the rotation), the handoffs (each told to the
// schedule's robots), who is on duty now and the robots told.
func timeline(x *config.Index, s *config.Schedule, from time.Time, days int, now time.Time) (map[string]any, error) {
	r, err := oncall.New(s)
	if err != nil {
		return nil, err
	}
	loc := r.Location()
	from = from.In(loc)
	to := from.AddDate(0, 0, days)
	shifts := []map[string]any{}
	for _, sh := range r.Timeline(from, to) {
		v := map[string]any{"start": sh.Start.In(loc).Format(time.RFC3339), "end": sh.End.In(loc).Format(time.RFC3339),
			"override": sh.Override, "owner_id": sh.Owner, "owner": nil}
		if o := x.Owner(sh.Owner); o != nil {
			v["owner"] = o.Name
		}
		shifts = append(shifts, v)
	}
	handoffs := []map[string]any{}
	for _, h := range r.Handoffs(from, to) {
		handoffs = append(handoffs, map[string]any{"at": h.At.In(loc).Format(time.RFC3339), "shift": h.Index,
			"owner": personOf(x.Owner(r.At(h.At))), "next": personOf(x.Owner(h.Next))})
	}
	robots := []person{}
	for _, rb := range timed.ScheduleRobots(x, s) {
		robots = append(robots, person{ID: rb.ID, Name: rb.Name})
	}
	on, _ := route.OnDutyIn(x, s, now)
	return map[string]any{
		"schedule_id": s.ID, "name": s.Name, "timezone": loc.String(),
		"from": from.Format(time.RFC3339), "to": to.In(loc).Format(time.RFC3339),
		"now": now.In(loc).Format(time.RFC3339), "on_duty": personOf(on),
		"shifts": shifts, "handoffs": handoffs, "notice_robots": robots,
	}, nil
}

// scheduleTimeline answers GET /api/v1/schedules/{id}/timeline.
func (s *Server) scheduleTimeline(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d, tag, err := s.load(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	x := config.NewIndex(d)
	sc := x.Schedule(id)
	if sc == nil {
		s.fail(w, r, notFound("schedule", id))
		return
	}
	s.answerTimeline(w, r, x, sc, r.URL.Query().Get("from"), r.URL.Query().Get("days"), tag)
}

func (s *Server) answerTimeline(w http.ResponseWriter, r *http.Request, x *config.Index, sc *config.Schedule, from, days, tag string) {
	now := time.Now()
	loc, err := config.Location(sc.Timezone)
	if err != nil {
		loc = time.UTC
	}
	start, n, err := timelineQuery(from, days, loc, now)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out, err := timeline(x, sc, start, n, now)
	if err != nil {
		s.fail(w, r, badRequest("schedule", "schedule_invalid", kv{"detail": err.Error()}, "%s", err.Error()))
		return
	}
	if tag != "" {
		w.Header().Set("ETag", outETag(tag))
	}
	writeJSON(w, http.StatusOK, out)
}

// draftTimeline answers POST /api/v1/schedules/timeline: the timeline of
// a schedule as a form holds it, before it is saved. The schedule is
// validated with the stored document (its owners must exist); an id of a
// stored schedule stands for that one edited.
func (s *Server) draftTimeline(w http.ResponseWriter, r *http.Request) {
	body, err := readObject(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var q struct {
		From string `json:"from"`
		Days string `json:"days"`
	}
	if raw, ok := body["from"]; ok && json.Unmarshal(raw, &q.From) != nil {
		s.fail(w, r, badRequest("from", "json_type", kv{"got": string(raw), "want": "string"}, "from must be a string"))
		return
	}
	if raw, ok := body["days"]; ok {
		var n json.Number
		if json.Unmarshal(raw, &n) != nil {
			s.fail(w, r, badRequest("days", "json_type", kv{"got": string(raw), "want": "number"}, "days must be a number"))
			return
		}
		q.Days = n.String()
	}
	raw, ok := body["schedule"]
	var sb map[string]json.RawMessage
	if !ok || json.Unmarshal(raw, &sb) != nil || sb == nil {
		s.fail(w, r, badRequest("schedule", "schedule_object", nil, "schedule must be an object: the schedule as the form holds it"))
		return
	}
	d, _, err := s.load(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var v config.Schedule
	if err := mergeInto(&v, nil, sb, false, nil); err != nil {
		s.fail(w, r, err)
		return
	}
	normalizeSchedule(&v)
	i := schedules.find(d, v.ID)
	if v.ID <= 0 || i < 0 {
		v.ID = schedules.nextID(d)
		d.Schedules = append(d.Schedules, v)
		i = len(d.Schedules) - 1
	} else {
		d.Schedules[i] = v
	}
	if err := schedules.validate(s, d, i); err != nil {
		s.fail(w, r, err)
		return
	}
	x := config.NewIndex(d)
	s.answerTimeline(w, r, x, x.Schedule(v.ID), q.From, q.Days, "")
}

// addOverride answers POST /api/v1/schedules/{id}/overrides: the override
// is added after the others (so it wins where they overlap) and the
// schedule is answered as stored.
func (s *Server) addOverride(w http.ResponseWriter, r *http.Request) {
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
	s.mutate(w, r, http.StatusCreated, func(d *config.Document, n *saveNote) (any, error) {
		i := schedules.find(d, id)
		if i < 0 {
			return nil, notFound("schedule", id)
		}
		var o config.Override
		if err := mergeInto(&o, nil, body, false, nil); err != nil {
			return nil, schedules.at(i, prefixed(err, fmt.Sprintf("overrides[%d].", len(d.Schedules[i].Overrides))))
		}
		d.Schedules[i].Overrides = append(d.Schedules[i].Overrides, o)
		normalizeSchedule(&d.Schedules[i])
		if err := schedules.validate(s, d, i); err != nil {
			return nil, err
		}
		*n = saveNote{Action: "edit", Kind: schedules.kind, ID: id}
		return maskedMap(d.Schedules[i], nil), nil
	})
}

// prefixed puts p before the field names of a body error.
func prefixed(err error, p string) error {
	if ae, ok := err.(*apiError); ok {
		for _, f := range ae.Fields {
			f.Field = p + f.Field
		}
	}
	return err
}

// deleteOverride answers DELETE /api/v1/schedules/{id}/overrides/{index}
// (the override's place in the list, from 0).
func (s *Server) deleteOverride(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	k, err := strconv.Atoi(r.PathValue("index"))
	if err != nil || k < 0 {
		s.fail(w, r, badRequest("index", "path_index", kv{"value": r.PathValue("index")}, "index %q must be a number from 0", r.PathValue("index")))
		return
	}
	s.mutate(w, r, http.StatusOK, func(d *config.Document, n *saveNote) (any, error) {
		i := schedules.find(d, id)
		if i < 0 {
			return nil, notFound("schedule", id)
		}
		sc := &d.Schedules[i]
		if k >= len(sc.Overrides) {
			return nil, notFound("override", fmt.Sprintf("%d of schedule %d", k, id))
		}
		removed := sc.Overrides[k]
		sc.Overrides = slices.Delete(sc.Overrides, k, k+1)
		*n = saveNote{Action: "edit", Kind: schedules.kind, ID: id}
		return map[string]any{"deleted": removed, "schedule": maskedMap(*sc, nil)}, nil
	})
}

// alertNow says what an alert of project p at level would do at now: whom
// it rings (by the project's mention and schedule), and what its quiet
// hours do to it (deliver, held until, silent until).
func alertNow(x *config.Index, p *config.Project, level string, now time.Time) map[string]any {
	ring := route.Rings(x, p, level, now)
	rung := []map[string]any{}
	for _, o := range ring.Owners {
		rung = append(rung, map[string]any{"id": o.ID, "name": o.Name})
	}
	out := map[string]any{
		"at": now.Format(time.RFC3339), "level": level, "mention": p.MentionMode(),
		"schedule": nil, "on_duty": personOf(ring.OnDuty), "fallback": ring.Fallback,
		"rung": rung, "mentions_suppressed": len(p.OwnerIDs) > 0 && !route.MentionsAt(p, level),
	}
	if ring.Schedule != nil {
		out["schedule"] = person{ID: ring.Schedule.ID, Name: ring.Schedule.Name}
	}
	decision, until := plan.Quiet(p, level, now)
	q := map[string]any{"decision": decision.String()}
	if decision != quiet.Deliver {
		q["until"] = until.Format(time.RFC3339)
	} else if h, err := quiet.New(p.QuietHours); err == nil {
		// Delivered inside a window: its level bypasses the quiet hours.
		if in, end := h.At(now); in {
			q["bypassed"], q["until"] = true, end.Format(time.RFC3339)
		}
	}
	if qh := p.QuietHours; qh != nil {
		q["mode"] = qh.Mode
		if q["mode"] == "" {
			q["mode"] = config.QuietHold
		}
		if qh.BypassLevel != "" {
			q["bypass_level"] = qh.BypassLevel
		}
	}
	out["quiet"] = q
	return out
}

// projectNow answers GET /api/v1/projects/{id}/now?level=: what an alert
// of the project would do if it came now.
func (s *Server) projectNow(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	level := strings.ToLower(strings.TrimSpace(r.URL.Query().Get("level")))
	if level == "" {
		level = "error"
	}
	if !slices.Contains(config.Levels, level) {
		s.fail(w, r, badRequest("level", "filter_level", kv{"value": level, "levels": config.Levels},
			"level must be one of %s, not %q", strings.Join(config.Levels, ", "), level))
		return
	}
	d, tag, err := s.load(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := findProject(d, id)
	if p == nil {
		s.fail(w, r, notFound("project", id))
		return
	}
	w.Header().Set("ETag", outETag(tag))
	out := alertNow(config.NewIndex(d), p, level, time.Now())
	out["project"] = map[string]any{"id": p.ID, "name": p.Name, "slug": p.Slug}
	writeJSON(w, http.StatusOK, out)
}
