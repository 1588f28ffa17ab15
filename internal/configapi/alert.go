package configapi

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/notify"
	"github.com/sentry-white/sentry-white/internal/plan"
	"github.com/sentry-white/sentry-white/internal/route"
	"github.com/sentry-white/sentry-white/internal/sentry"
)

// sampleEvent is a real legacy WebHooks plugin body (sentry.io, 2025): the
// sample alert for tests and previews.
//
//go:embed sample_event.json
var sampleEvent []byte

// testTimeout bounds a test alert, retries included.
const testTimeout = 20 * time.Second

// alertOptions is the optional body of a test or a preview.
type alertOptions struct {
	Lang string `json:"lang"` // message language, zh (default) or en
	// Payload is a Sentry webhook body to preview instead of the sample;
	// Resource is its Sentry-Hook-Resource header (empty for the legacy
	// plugin).
	Payload  json.RawMessage `json:"payload"`
	Resource string          `json:"resource"`
}

func readAlertOptions(w http.ResponseWriter, r *http.Request) (alertOptions, error) {
	var o alertOptions
	body, err := readObject(w, r)
	if err != nil {
		return o, err
	}
	b, _ := json.Marshal(body)
	if err := json.Unmarshal(b, &o); err != nil {
		return o, badRequest("", "body_shape", kv{"detail": jsonError(err)}, "the body does not fit: %s", jsonError(err))
	}
	if o.Lang != "" && o.Lang != "zh" && o.Lang != "en" {
		return o, badRequest("lang", "lang", nil, "lang must be zh or en")
	}
	return o, nil
}

// testTitle marks the sample alert's title in the message's language.
var testTitle = map[string]string{"zh": "sentry-white 测试告警 · ", "en": "sentry-white test alert · "}

// sample returns the sample alert as project p of org would receive it in
// lang (zh or en; "" is zh, the relay's default): its slug and name, a link
// built from the organization, and a level and environment its filters let
// through.
func sample(p *config.Project, org *config.Organization, lang string) *sentry.Event {
	ev, err := sentry.Parse(sampleEvent, nil)
	if err != nil {
		panic("configapi: the embedded sample event does not parse: " + err.Error())
	}
	ev.ProjectSlugs = []string{p.Slug}
	ev.ProjectName = p.Name
	ev.OrgSlug = ""
	if org != nil {
		ev.OrgSlug = org.Slug
	}
	ev.URL, ev.IssueID = "", "" // link to the organization's issues, not to a made-up one
	if lang != "en" {
		lang = "zh"
	}
	ev.Title = testTitle[lang] + ev.Title
	ev.Rules = []string{"sentry-white test"}
	ev.Time = time.Now()
	ev.FirstSeen = time.Time{}
	if len(p.Environments) > 0 {
		ev.Environment = p.Environments[0]
	}
	if p.MinLevel != "" && config.LevelRank(p.MinLevel) > config.LevelRank(ev.Level) {
		ev.Level = p.MinLevel
	}
	return ev
}

// result is one robot's answer to a test alert.
type result struct {
	RobotID  int64    `json:"robot_id"`
	Robot    string   `json:"robot"`
	Kind     string   `json:"kind"`
	Project  string   `json:"project"`
	OK       bool     `json:"ok"`
	Attempts int      `json:"attempts"`
	Mentions []string `json:"mentions"` // who was @-mentioned: name (mobile or user id)
	Code     int      `json:"code,omitempty"`
	Detail   string   `json:"detail,omitempty"` // the robot's own answer, or the transport error
	Error    string   `json:"error,omitempty"`
	Fix      string   `json:"fix,omitempty"`
	// FixCode and FixParams say Fix for the page: in the words of the
	// robot's kind (Kind.Fixes), else "fix.<code>".
	FixCode   string `json:"fix_code,omitempty"`
	FixParams kv     `json:"fix_params,omitempty"`
	Message   string `json:"message"` // the outcome in words
}

// planFor plans ev for project p alone with the relay's planner (as the
// relay would deliver it to p's robots).
func (s *Server) planFor(x *config.Index, ev *sentry.Event, p *config.Project, lang string) (*plan.Plan, *route.Plan, error) {
	return plan.New(plan.Options{Kind: s.kinds.Lookup}).ForProject(x, ev, p, lang)
}

// deliver sends a plan's messages, each addressed to its target, through
// the relay's code: the sender of the robot's kind with retries.
func (s *Server) deliver(ctx context.Context, pl *plan.Plan) []result {
	out := make([]result, 0, len(pl.Jobs))
	for i, j := range pl.Jobs {
		t := pl.Targets[i]
		res := s.send(ctx, t.Robot, plan.AddressTarget(t, j), s.o.Policy)
		res.Project = t.Project.Name
		s.log.Info("test alert", "robot", t.Robot.Name, "kind", t.Robot.Kind, "ok", res.OK, "code", res.Code, "attempts", res.Attempts)
		out = append(out, res)
	}
	return out
}

// send delivers one rendered message to a robot (post) and says in words
// what happened (describe).
func (s *Server) send(ctx context.Context, robot *config.Robot, msg *notify.Message, policy notify.Policy) result {
	return s.describe(robot, msg, s.post(ctx, robot, msg, policy))
}

// post delivers one rendered message to a robot with notify.Deliver and
// the sender of its kind, as the relay's dispatcher does.
func (s *Server) post(ctx context.Context, robot *config.Robot, msg *notify.Message, policy notify.Policy) notify.Result {
	sender := s.senders[robot.Kind]
	if sender == nil {
		return notify.Result{Err: &notify.Error{Robot: robot.Name, Kind: robot.Kind,
			Msg: fmt.Sprintf("robot kind %q is not supported by this version", robot.Kind)}}
	}
	return notify.Deliver(ctx, sender, robot, msg, policy)
}

// describe says in words (and codes) what a delivery to robot did.
func (s *Server) describe(robot *config.Robot, msg *notify.Message, r notify.Result) result {
	res := result{RobotID: robot.ID, Robot: robot.Name, Kind: robot.Kind, Mentions: s.mentionNames(msg), Attempts: r.Attempts}
	if s.senders[robot.Kind] == nil {
		var names []string
		for _, k := range s.kinds.All() {
			names = append(names, k.Name)
		}
		res.Detail, res.Error = r.Err.Msg, r.Err.Error()
		res.Fix, res.FixCode, res.FixParams = "choose another robot kind; this version sends to "+strings.Join(names, ", "),
			"unsupported_kind", kv{"value": robot.Kind, "kinds": names}
		res.Message = fmt.Sprintf("%s did not accept the message: %s. What to do: %s", robot.Name, r.Err.Msg, res.Fix)
		return res
	}
	if r.Err == nil {
		res.OK = true
		res.Message = fmt.Sprintf("delivered to %s", robot.Name)
		if len(res.Mentions) > 0 {
			res.Message += ", mentioning " + strings.Join(res.Mentions, ", ")
		}
		return res
	}
	res.Code, res.Detail, res.Error = r.Err.Code, r.Err.Msg, r.Err.Error()
	res.Fix, res.FixCode, res.FixParams = failureFix(r.Err)
	res.Message = fmt.Sprintf("%s did not accept the message: %s", robot.Name, r.Err.Msg)
	if res.Fix != "" {
		res.Message += ". What to do: " + res.Fix
	}
	return res
}

func (s *Server) mentionNames(m *notify.Message) []string {
	out := []string{}
	for _, p := range m.Mentions {
		id := p.Mobile
		for _, k := range s.kinds.All() {
			if id == "" {
				id = p.ID(k.Name)
			}
		}
		out = append(out, fmt.Sprintf("%s (%s)", p.Name, id))
	}
	return out
}

// note is why nothing was sent, in English and coded ("note.<code>").
type note struct {
	text, code string
	params     kv
}

func answer(w http.ResponseWriter, project string, results []result, n note) {
	ok := len(results) > 0
	for _, r := range results {
		ok = ok && r.OK
	}
	body := map[string]any{"ok": ok, "project": project, "results": results}
	if n.text != "" {
		body["note"], body["note_code"] = n.text, n.code
		if len(n.params) > 0 {
			body["note_params"] = n.params
		}
	}
	writeJSON(w, http.StatusOK, body)
}

// testRobot sends the sample alert to one robot. It speaks for the first
// project that routes to the robot (its owners are @-mentioned, its
// organization's link and shared login shown), without that project's
// filters; a robot no project uses gets the alert of a made-up project.
func (s *Server) testRobot(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	opt, err := readAlertOptions(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d, _, err := s.load(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	x := config.NewIndex(d)
	if x.Robot(id) == nil {
		s.fail(w, r, notFound("robot", id))
		return
	}
	p := config.Project{Name: "sentry-white", Slug: "sentry-white-test"}
	for _, q := range d.Projects {
		if slices.Contains(q.RobotIDs, id) {
			p = q
			break
		}
	}
	p.RobotIDs = []int64{id}
	p.Environments, p.MinLevel, p.MentionLevel, p.FollowUps = nil, "", "", nil
	ev := sample(&p, x.Organization(p.OrganizationID), opt.Lang)
	pl, _, err := s.planFor(x, ev, &p, opt.Lang)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), testTimeout)
	defer cancel()
	answer(w, p.Name, s.deliver(ctx, pl), note{})
}

// testProject sends the sample alert to a project's robots, as the relay
// would for a real alert of the project.
func (s *Server) testProject(w http.ResponseWriter, r *http.Request) {
	opt, x, p, ok := s.projectAlert(w, r)
	if !ok {
		return
	}
	ev := sample(p, x.Organization(p.OrganizationID), opt.Lang)
	pl, rp, err := s.planFor(x, ev, p, opt.Lang)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var n note
	if len(pl.Jobs) == 0 {
		n = note{"nothing was sent: the project has no robot; pick one in the project's settings", "no_robot", nil}
		if text, code, params := dropReason(rp, ev); text != "" {
			n = note{"nothing was sent: " + text, code, params}
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), testTimeout)
	defer cancel()
	answer(w, p.Name, s.deliver(ctx, pl), n)
}

// projectAlert reads what a project's test alert and preview share: the
// project named in the path, the alert options and the document. When one
// of them is wrong it answers the request itself and ok is false.
func (s *Server) projectAlert(w http.ResponseWriter, r *http.Request) (opt alertOptions, x *config.Index, p *config.Project, ok bool) {
	id, err := pathID(r)
	if err == nil {
		opt, err = readAlertOptions(w, r)
	}
	var d *config.Document
	if err == nil {
		d, _, err = s.load(r.Context())
	}
	if err == nil {
		if p = findProject(d, id); p == nil {
			err = notFound("project", id)
		}
	}
	if err != nil {
		s.fail(w, r, err)
		return opt, nil, nil, false
	}
	return opt, config.NewIndex(d), p, true
}

func findProject(d *config.Document, id int64) *config.Project {
	for i := range d.Projects {
		if d.Projects[i].ID == id {
			return &d.Projects[i]
		}
	}
	return nil
}

// preview renders what each of a project's robots would receive for a
// Sentry payload (the sample by default), without sending anything.
func (s *Server) preview(w http.ResponseWriter, r *http.Request) {
	opt, x, p, ok := s.projectAlert(w, r)
	if !ok {
		return
	}
	var ev *sentry.Event
	sampled := len(opt.Payload) == 0 || string(opt.Payload) == "null"
	if sampled {
		ev = sample(p, x.Organization(p.OrganizationID), opt.Lang)
	} else {
		h := http.Header{}
		if opt.Resource != "" {
			h.Set("Sentry-Hook-Resource", opt.Resource)
		}
		var err error
		if ev, err = sentry.Parse(opt.Payload, h); err != nil {
			s.fail(w, r, &apiError{Status: http.StatusUnprocessableEntity, Code: "validation", Msg: "the payload cannot be read: " + err.Error(),
				Fields: []*config.FieldError{fieldErr("payload", "payload", kv{"detail": err.Error()}, "%s", err.Error())}})
			return
		}
	}
	out := map[string]any{
		"project": map[string]any{"id": p.ID, "name": p.Name, "slug": p.Slug},
		"sample":  sampled,
		"event": map[string]any{"title": ev.Title, "level": ev.Level, "environment": ev.Environment,
			"project_slugs": ev.ProjectSlugs, "resource": ev.Resource},
		"robots": []any{},
	}
	if ev.Ignored != "" {
		code, params := ignoredCode(ev)
		out["dropped"], out["dropped_code"], out["dropped_params"] = "Sentry sends this webhook without an alert: "+ev.Ignored, "ignored_"+code, params
		writeJSON(w, http.StatusOK, out)
		return
	}
	if !sampled && !slices.ContainsFunc(ev.ProjectSlugs, func(sl string) bool { return strings.EqualFold(sl, p.Slug) }) {
		out["warning"] = fmt.Sprintf("this payload is for project %q, not %q: the relay would not route it to this project",
			strings.Join(ev.ProjectSlugs, ", "), p.Slug)
		out["warning_code"], out["warning_params"] = "other_project", kv{"slugs": ev.ProjectSlugs, "slug": p.Slug}
	}
	pl, rp, err := s.planFor(x, ev, p, opt.Lang)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if text, code, params := dropReason(rp, ev); text != "" {
		out["dropped"], out["dropped_code"], out["dropped_params"] = text, code, params
	}
	out["mentions_suppressed"] = len(p.OwnerIDs) > 0 && !route.Mentions(p, ev)
	out["action_links"] = actionLinksInfo(x, p, ev, sampled)
	out["now"] = alertNow(x, p, ev.Level, time.Now()) // whom it rings now; held or silent in quiet hours
	if v := s.escalationView(r.Context(), x, p, ev.Level, opt.Lang, time.Now()); v != nil {
		out["escalation"] = v
	}
	var robots []any
	for i, j := range pl.Jobs {
		t := pl.Targets[i]
		if sampled {
			previewActions(x, t, ev, &j.Message)
		}
		msg := plan.AddressTarget(t, j)
		rb := s.robotView(t.Robot, msg)
		rb["actions"] = actionsView(msg)
		robots = append(robots, rb)
	}
	if robots != nil {
		out["robots"] = robots
	}
	writeJSON(w, http.StatusOK, out)
}

// robotView is what robot rb receives for msg: its request bodies (the
// first's markdown text), the message's parts and whom it mentions.
func (s *Server) robotView(rb *config.Robot, msg *notify.Message) map[string]any {
	v := map[string]any{"robot_id": rb.ID, "robot": rb.Name, "kind": rb.Kind,
		"keyword": rb.EffectiveKeyword(), "mentions": s.mentionNames(msg)}
	bodies, err := s.requestBodies(rb.Kind, msg)
	switch {
	case err != nil:
		v["error"] = err.Error()
	case len(bodies) > 0:
		v["body"], v["bodies"] = bodies[0], bodies
		var parsed struct {
			Markdown struct {
				Text    string `json:"text"`
				Content string `json:"content"`
			} `json:"markdown"`
		}
		if json.Unmarshal(bodies[0], &parsed) == nil {
			v["text"] = parsed.Markdown.Text + parsed.Markdown.Content
		}
	}
	v["message"] = s.messageView(msg)
	return v
}

// requestBodies are the exact request bodies a robot of kind receives for
// m, in order (a kind may send a second message to @-mention by mobile),
// unsigned: a signature is added when it is sent.
func (s *Server) requestBodies(kind string, m *notify.Message) ([]json.RawMessage, error) {
	k := s.kinds.Lookup(kind)
	if k == nil || k.Requests == nil {
		return nil, nil
	}
	return k.Requests(m)
}

// messageView is a rendered message as JSON: its parts, whatever the robot
// kind.
func (s *Server) messageView(m *notify.Message) map[string]any {
	fields := make([]map[string]string, len(m.Fields))
	for i, f := range m.Fields {
		fields[i] = map[string]string{"label": f.Label, "value": f.Value}
	}
	return map[string]any{"title": m.Title, "heading": m.Heading, "link": m.Link, "level": m.Level,
		"fields": fields, "note": m.Note, "keyword": m.Keyword, "mentions": s.mentionNames(m)}
}
