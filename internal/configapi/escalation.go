package configapi

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/sentry-white/sentry-white/internal/actlink"
	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/deliveries"
	"github.com/sentry-white/sentry-white/internal/escalate"
	"github.com/sentry-white/sentry-white/internal/notify"
	"github.com/sentry-white/sentry-white/internal/render"
	"github.com/sentry-white/sentry-white/internal/route"
	"github.com/sentry-white/sentry-white/internal/summary"
)

// Escalation and the morning summary (contract §7 projects[].escalation,
// robots[].daily_digest), for the page:
//
//	GET  /api/v1/projects/{id}/escalation   what the project's escalation does, in plain words, and
//	                                        whether the relay can know an alert was taken: ?lang= (zh)
//	     (POST /api/v1/projects/{id}/preview carries the same as "escalation")
//	GET  /api/v1/robots/{id}/summary        the robot's morning summary of yesterday as it would go now
//	                                        (the message and its request bodies): ?lang= (zh)
//	POST /api/v1/robots/{id}/summary        send it now {"lang"}: the robot's result, as a test alert's

func (s *Server) escalationRoutes() {
	s.mux.HandleFunc("GET /api/v1/projects/{id}/escalation", s.projectEscalation)
	s.mux.HandleFunc("GET /api/v1/robots/{id}/summary", s.previewSummary)
	s.mux.HandleFunc("POST /api/v1/robots/{id}/summary", s.sendSummary)
}

// escalationView says what project p's escalation does for an alert of
// level at now: each step, whom it rings now and when after the alert;
// the plan in words (lang); whether the relay can learn that an alert was
// taken (an issue webhook received from the project's organization, or
// action links in its alerts) — without either the relay sends no
// escalation (it would ring everyone for every alert) — and a warning
// while the organization never sent an issue webhook. nil when the
// project does not escalate.
func (s *Server) escalationView(ctx context.Context, x *config.Index, p *config.Project, level, lang string, now time.Time) map[string]any {
	e := p.Escalation
	if e == nil || len(e.Steps) == 0 {
		return nil
	}
	var owners []string
	var ownerRefs []map[string]any
	for _, id := range p.OwnerIDs {
		if o := x.Owner(id); o != nil {
			owners = append(owners, o.Name)
			ownerRefs = append(ownerRefs, map[string]any{"id": o.ID, "name": o.Name})
		}
	}
	onDuty, hasDuty := route.OnDuty(x, p, now)
	dutyName := ""
	if hasDuty {
		dutyName = onDuty.Name
	}
	steps := []map[string]any{}
	for i, st := range e.Steps {
		v := map[string]any{"step": st, "after_minutes": (i + 1) * e.AfterMinutes}
		switch st {
		case config.StepOnCall:
			if hasDuty {
				v["rings"] = []map[string]any{{"id": onDuty.ID, "name": onDuty.Name}}
			} else {
				v["rings"], v["fallback"] = ownerRefs, true
			}
		case config.StepOwners:
			v["rings"] = ownerRefs
		case config.StepAll:
			v["rings_all"] = true
		}
		steps = append(steps, v)
	}
	out := map[string]any{
		"after_minutes": e.AfterMinutes, "min_level": e.MinLevel, "steps": steps,
		"words":   render.EscalationPlan(e, dutyName, owners, lang),
		"applies": e.MinLevel == "" || config.LevelRank(level) >= config.LevelRank(e.MinLevel),
		"level":   level,
	}
	if docs, err := s.docs(); err == nil {
		last, err := escalate.Store{B: docs.B, Prefix: docs.Prefix}.LastIssueWebhook(ctx, p.OrganizationID)
		switch {
		case err != nil:
			out["issue_webhooks_error"] = "the store cannot be read: " + describeStoreError(err)
		case last.IsZero():
			out["issue_webhooks"] = nil
			org := x.Organization(p.OrganizationID)
			name := "the project's organization"
			if org != nil {
				name = fmt.Sprintf("organization %q", org.Name)
			}
			links := actlink.Enabled(x.Doc, org)
			out["active"] = links
			if links {
				out["warning"] = fmt.Sprintf("the relay has never received an issue webhook from %s, so escalation knows only of "+
					"the action links used from the chat, not of an alert assigned, resolved or ignored in Sentry. "+
					"Tick \"issue\" under Webhooks in the Sentry internal integration", name)
				out["warning_code"] = "no_issue_webhooks_links"
			} else {
				out["warning"] = fmt.Sprintf("the relay has never received an issue webhook from %s, and its alerts carry no action "+
					"links, so escalation cannot know when someone takes an alert: it sends none (it would ring everyone for every alert). "+
					"Tick \"issue\" under Webhooks in the Sentry internal integration", name)
				out["warning_code"] = "no_issue_webhooks"
			}
			out["warning_params"] = kv{"organization_id": p.OrganizationID}
		default:
			out["issue_webhooks"] = map[string]any{"last": last.UTC().Format(time.RFC3339)}
			out["active"] = true
		}
	}
	return out
}

// projectEscalation answers GET /api/v1/projects/{id}/escalation.
func (s *Server) projectEscalation(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	lang := r.URL.Query().Get("lang")
	if err == nil && lang != "" && lang != "zh" && lang != "en" {
		err = badRequest("lang", "lang", nil, "lang must be zh or en")
	}
	var d *config.Document
	if err == nil {
		d, _, err = s.load(r.Context())
	}
	var p *config.Project
	if err == nil {
		if p = findProject(d, id); p == nil {
			err = notFound("project", id)
		}
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	level := "error"
	if p.Escalation != nil && p.Escalation.MinLevel != "" {
		level = p.Escalation.MinLevel
	}
	v := s.escalationView(r.Context(), config.NewIndex(d), p, level, lang, time.Now())
	writeJSON(w, http.StatusOK, map[string]any{"project": map[string]any{"id": p.ID, "name": p.Name, "slug": p.Slug},
		"escalates": v != nil, "escalation": v})
}

// robotSummary makes robot id's morning summary of yesterday, as it would
// go now, from the store's delivery history and acknowledgements.
func (s *Server) robotSummary(ctx context.Context, id int64, lang string) (*config.Robot, map[string]any, *notify.Message, error) {
	d, _, err := s.load(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	x := config.NewIndex(d)
	rb := x.Robot(id)
	if rb == nil {
		return nil, nil, nil, notFound("robot", id)
	}
	docs, err := s.docs()
	if err != nil {
		return nil, nil, nil, err
	}
	dd := rb.DailyDigest
	if dd == nil {
		dd = &config.DailyDigest{At: "09:30"} // not set yet: the page may send one before saving it
	}
	if _, ok := config.ParseClock(dd.At, false); !ok {
		return nil, nil, nil, badRequest("daily_digest.at", "clock", kv{"value": dd.At}, "%q is not a time of day (HH:MM, such as 09:30)", dd.At)
	}
	if _, err := config.Location(dd.Timezone); err != nil {
		return nil, nil, nil, badRequest("daily_digest.timezone", "timezone", kv{"value": dd.Timezone}, "%q is not a time zone (such as Asia/Shanghai)", dd.Timezone)
	}
	now := time.Now()
	from, to, due, err := summary.Window(dd, now)
	if err != nil {
		return nil, nil, nil, err
	}
	src := summary.Sources{History: deliveries.New(docs.B, docs.Prefix, s.log), Acks: escalate.Store{B: docs.B, Prefix: docs.Prefix},
		Sentry: sentryClient}
	day, err := summary.Build(ctx, src, x, rb, from, to, now, lang)
	if err != nil {
		return nil, nil, nil, storeError(err)
	}
	msg := summary.Message(day, rb, s.kinds.Lookup(rb.Kind), lang)
	info := map[string]any{"robot_id": rb.ID, "robot": rb.Name, "kind": rb.Kind, "day": from.Format("2006-01-02"),
		"from": from.Format(time.RFC3339), "to": to.Format(time.RFC3339), "scheduled": rb.DailyDigest != nil,
		"lines": len(msg.Fields)}
	if rb.DailyDigest != nil {
		info["at"], info["timezone"], info["due"] = dd.At, dd.Timezone, due.Format(time.RFC3339)
	}
	return rb, info, msg, nil
}

// previewSummary answers GET /api/v1/robots/{id}/summary.
func (s *Server) previewSummary(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	lang := r.URL.Query().Get("lang")
	if err == nil && lang != "" && lang != "zh" && lang != "en" {
		err = badRequest("lang", "lang", nil, "lang must be zh or en")
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rb, info, msg, err := s.robotSummary(r.Context(), id, lang)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	info["preview"] = s.robotView(rb, msg)
	writeJSON(w, http.StatusOK, info)
}

// sendSummary answers POST /api/v1/robots/{id}/summary: the summary sent
// now, through the relay's sender code, as a test alert is; the relay's
// own summary at the robot's time still comes.
func (s *Server) sendSummary(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	var opt alertOptions
	if err == nil {
		opt, err = readAlertOptions(w, r)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rb, info, msg, err := s.robotSummary(r.Context(), id, opt.Lang)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), testTimeout)
	defer cancel()
	res := s.send(ctx, rb, msg, s.o.Policy)
	s.log.Info("morning summary sent from the configurator", "robot", rb.Name, "kind", rb.Kind, "ok", res.OK, "code", res.Code)
	info["ok"], info["results"] = res.OK, []result{res}
	writeJSON(w, http.StatusOK, info)
}
