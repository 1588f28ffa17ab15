// Package relay is the webhook endpoint: it takes a Sentry webhook, checks
// its token and signature, routes it by the configuration document, renders
// one message per robot and delivers them, answering Sentry within its
// timeout.
package relay

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/deliveries"
	"github.com/sentry-white/sentry-white/internal/dispatch"
	"github.com/sentry-white/sentry-white/internal/docstore"
	"github.com/sentry-white/sentry-white/internal/notifiers"
	"github.com/sentry-white/sentry-white/internal/notify"
	"github.com/sentry-white/sentry-white/internal/render"
	"github.com/sentry-white/sentry-white/internal/route"
	"github.com/sentry-white/sentry-white/internal/sentry"
	"github.com/sentry-white/sentry-white/internal/store"
)

// MaxBody is the largest webhook body accepted (contract §4).
const MaxBody = 4 << 20

// Docs supplies the current configuration document.
type Docs interface {
	// Get returns the document in use (cached); it reads the store only when
	// its cache window has passed.
	Get(ctx context.Context) (*config.Index, error)
	// Refresh revalidates against the store now.
	Refresh(ctx context.Context) error
	// Status reports the document in use and the last store fault.
	Status() docstore.Status
}

// Options configure a Handler.
type Options struct {
	Docs    Docs
	Senders map[string]notify.Sender // by robot kind
	// Kind describes a robot kind (its budget); nil means the registry's.
	Kind   func(name string) *notify.Kind
	Logger *slog.Logger
	Render render.Options
	Policy notify.Policy

	// Budgets for answering Sentry: the integration platform waits 1 s, the
	// legacy plugin 5 s. Deliveries still running when the budget ends are
	// answered 202 and continue (see Dispatcher).
	IntegrationBudget time.Duration
	LegacyBudget      time.Duration
	// DeliveryTimeout bounds one delivery, retries included, after the
	// answer.
	DeliveryTimeout time.Duration
	// MaxHookAge is the tolerance for Sentry-Hook-Timestamp on signed
	// requests; 0 means 10 minutes.
	MaxHookAge time.Duration

	Now func() time.Time

	// Dispatcher delivers the messages (rate budgets, digests, retries,
	// spool). nil means an in-memory one over Senders.
	Dispatcher *dispatch.Dispatcher
	// History records deliveries; nil keeps none.
	History *deliveries.Log
	// FC is set on Function Compute, where the instance may be frozen once
	// the answer is sent: history is written before answering, and alerts
	// that must wait are handed to an asynchronous invocation of SelfURL.
	FC      bool
	SelfURL string
	// DedupeTTL is how long a delivered webhook's identity is remembered
	// to drop a second copy; 0 means one hour.
	DedupeTTL time.Duration
	// Client posts the asynchronous hand-off; nil means a 5 s client.
	Client *http.Client
}

// Handler serves the relay's HTTP interface.
type Handler struct {
	o        Options
	log      *slog.Logger
	seen     *dedupe
	repeats  *repeats
	refusals refusalLimit // refused webhooks recorded in the history
}

// New returns a relay handler.
func New(o Options) *Handler {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Policy.Attempts == 0 {
		o.Policy = notify.DefaultPolicy
	}
	if o.IntegrationBudget == 0 {
		o.IntegrationBudget = 800 * time.Millisecond
	}
	if o.LegacyBudget == 0 {
		o.LegacyBudget = 2500 * time.Millisecond // Sentry before 22.2 waited 3 s, later 5 s
	}
	if o.DeliveryTimeout == 0 {
		o.DeliveryTimeout = 30 * time.Second
	}
	if o.MaxHookAge == 0 {
		o.MaxHookAge = 10 * time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.DedupeTTL == 0 {
		o.DedupeTTL = time.Hour
	}
	if o.Client == nil {
		o.Client = &http.Client{Timeout: 5 * time.Second}
	}
	h := &Handler{o: o, log: o.Logger, seen: newDedupe(o.DedupeTTL, 10000), repeats: newRepeats()}
	if h.o.Dispatcher == nil {
		d, err := dispatch.New(dispatch.Options{Senders: o.Senders, Kind: o.Kind, Resolve: h.Resolve, Policy: o.Policy, Logger: o.Logger,
			Background: !o.FC, RequeueInFlight: o.FC, OnFinal: h.Record, SendTimeout: o.DeliveryTimeout})
		if err != nil { // only a spool can fail, and there is none
			panic(err)
		}
		h.o.Dispatcher = d
	}
	return h
}

// Wait blocks until deliveries that outlived their requests finish, or ctx
// ends.
func (h *Handler) Wait(ctx context.Context) error { return h.o.Dispatcher.Wait(ctx) }

// Resolve is the dispatcher's Resolver: it addresses jobs from the current
// document — their robot by id, the robot's keyword, and the owners their
// projects @-mention now — and merges several jobs into a digest.
func (h *Handler) Resolve(ctx context.Context, jobs []*dispatch.Job) (*config.Robot, *notify.Message, error) {
	j := jobs[0]
	x, ok := ctx.Value(indexKey{}).(*config.Index) // the document the webhook was routed with
	var err error
	if !ok {
		x, err = h.o.Docs.Get(ctx)
	}
	if err != nil {
		return nil, nil, &notify.Error{Robot: fmt.Sprintf("robot %d", j.RobotID), Kind: j.Kind, Retry: true,
			Msg: "the configuration cannot be read: " + notify.Redact(err.Error())}
	}
	r := x.Robot(j.RobotID)
	if r == nil {
		return nil, nil, fmt.Errorf("robot %d was deleted from the configuration after the alert was accepted", j.RobotID)
	}
	lists := make([][]notify.Mention, 0, len(jobs))
	for _, j := range jobs {
		lists = append(lists, mentions(x, j))
	}
	msg := &j.Message
	if len(jobs) > 1 || j.Repeats > 0 || j.Folded > 0 {
		items, alerts, more := dispatch.DigestItems(jobs)
		msg = render.Digest(items, alerts, more, j.Message.Lang)
	}
	return r, render.Address(msg, r, render.MergeMentions(lists...)), nil
}

// indexKey carries, in a send's context, the document its webhook was
// routed with: a send within the request is addressed from it, with no
// second look at the store.
type indexKey struct{}

// mentions returns whom j's alert @-mentions now: its project's owners,
// unless the alert is below the project's mention level.
func mentions(x *config.Index, j *dispatch.Job) []notify.Mention {
	p := x.Project(j.ProjectID)
	if p == nil || !route.MentionsAt(p, j.Message.Level) {
		return nil
	}
	owners := make([]*config.Owner, 0, len(p.OwnerIDs))
	for _, id := range p.OwnerIDs {
		if o := x.Owner(id); o != nil {
			owners = append(owners, o)
		}
	}
	return render.Mentions(owners)
}

// Record is the dispatcher's OnFinal hook: it logs the final outcome of a
// delivery and adds it to the history.
func (h *Handler) Record(o dispatch.Outcome) {
	j := o.Job
	robot, kind := fmt.Sprintf("robot %d", j.RobotID), j.Kind
	if o.Robot != nil {
		robot, kind = o.Robot.Name, o.Robot.Kind
	}
	msg := &j.Message
	if o.Message != nil && len(o.Message.Digest) == 0 {
		msg = o.Message // as sent, with its mentions
	}
	h.repeats.done(j.RepeatKey, o.Err == nil, o.At)
	rec := deliveries.Record{
		ID: j.ID, Time: o.At, RequestID: j.RequestID, Project: j.Project, RobotID: j.RobotID,
		Robot: robot, Kind: kind, Result: deliveries.Delivered, Attempts: o.Attempts,
		LatencyMS: ms(o.At.Sub(j.Created)), Title: j.Message.Heading, Link: j.Message.Link,
		Level: j.Message.Level, Digest: o.Digest, ProjectName: j.ProjectName, PayloadOrganization: j.PayloadOrg,
	}
	log := h.log.With("request_id", j.RequestID, "project", j.Project, "robot", robot, "kind", kind)
	if o.Err != nil {
		rec.Result, rec.Code, rec.Error, rec.Fix = deliveries.Failed, o.Err.Code, o.Err.Error(), o.Err.Fix
		m := *msg
		rec.Message = &m
		log.Warn("delivery failed", "result", "failed", "code", o.Err.Code, "error", o.Err.Error(),
			"attempts", o.Attempts, "latency_ms", rec.LatencyMS)
	} else {
		log.Info("delivered", "result", "ok", "attempts", o.Attempts, "mentions", len(msg.Mentions),
			"digest", o.Digest, "latency_ms", rec.LatencyMS)
	}
	if h.o.History != nil {
		h.o.History.Add(rec)
	}
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/", "/webhook", "/webhook/":
	case handoffPath:
		h.handoff(w, r)
		return
	case "/initialize", "/pre-stop":
		h.lifecycle(w, r)
		return
	default:
		writeJSON(w, http.StatusNotFound, map[string]any{"error": "not found: the webhook URL is / or /webhook"})
		return
	}
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		h.deployCheck(w, r)
	case http.MethodPost:
		h.webhook(w, r)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"error": "method not allowed: Sentry POSTs webhooks"})
	}
}

// lifecycle answers Function Compute's optional instance hooks: /initialize
// loads the document before traffic; /pre-stop sends what the budgets allow
// and writes the delivery history before the instance goes away. A fault
// at /initialize is logged and the hook still succeeds: a failed
// initializer makes FC fail every request of the instance, including the
// configurator's first save through the admin API and GET /, which
// explains the fault. The answers say nothing of the configuration (the
// paths are reachable through the HTTP trigger).
func (h *Handler) lifecycle(w http.ResponseWriter, r *http.Request) {
	if !h.o.FC {
		writeJSON(w, http.StatusNotFound, map[string]any{"error": "not found: the webhook URL is / or /webhook"})
		return
	}
	ctx := h.withCredentials(r)
	if r.URL.Path == "/initialize" {
		if err := h.o.Docs.Refresh(ctx); err != nil {
			step, _ := failedStep(err)
			h.log.Warn("configuration not loaded by /initialize; the instance serves and GET / explains",
				"request_id", requestID(r), "error", describeStoreError(err))
			writeJSON(w, http.StatusOK, map[string]any{"status": "degraded", "step": step})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
		return
	}
	_ = h.o.Dispatcher.DrainReady(ctx)
	h.beforeFreeze(ctx, h.log.With("request_id", requestID(r)))
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "queued": h.o.Dispatcher.Queued()})
}

// withCredentials passes Function Compute's per-request role keys to the
// store. They are taken only on Function Compute, whose gateway sets them:
// elsewhere any client could send x-fc-* headers.
func (h *Handler) withCredentials(r *http.Request) context.Context {
	ctx := r.Context()
	if !h.o.FC {
		return ctx
	}
	if id := r.Header.Get("x-fc-access-key-id"); id != "" {
		ctx = store.WithCredentials(ctx, store.Credentials{
			AccessKeyID:     id,
			AccessKeySecret: r.Header.Get("x-fc-access-key-secret"),
			SecurityToken:   r.Header.Get("x-fc-security-token"),
		})
	}
	return ctx
}

// deployCheck answers GET /: ok, degraded (still routing, but the store,
// the document or the delivery queue has a fault) or failing. Without the
// webhook token it says only that and which step, in words; the details
// (field paths, store paths, versions) need ?token=. It reads the store no
// more often than webhooks do (the cache window).
func (h *Handler) deployCheck(w http.ResponseWriter, r *http.Request) {
	x, err := h.o.Docs.Get(h.withCredentials(r))
	st := h.o.Docs.Status()
	if err == nil {
		err = st.Err
	}
	health := h.o.Dispatcher.Health()
	authorized := x != nil && x.Doc.WebhookToken != "" &&
		subtle.ConstantTimeCompare([]byte(r.URL.Query().Get("token")), []byte(x.Doc.WebhookToken.Reveal())) == 1
	state, code := "ok", http.StatusOK
	switch {
	case !st.Loaded:
		state, code = "failing", http.StatusServiceUnavailable
	case err != nil || health != "":
		state, code = "degraded", http.StatusServiceUnavailable
	}
	body := map[string]any{"status": state}
	switch {
	case state == "ok":
		body["message"] = "部署成功 / deployed"
	case err != nil:
		step, words := failedStep(err)
		body["step"], body["message"] = step, words
	default:
		body["step"], body["message"] = "delivery", "alerts that must wait cannot all be kept; see the relay's log"
	}
	if state == "degraded" {
		body["message"] = body["message"].(string) + "; still routing with the last good configuration"
	}
	if authorized {
		body["projects"] = st.Projects
		if x != nil {
			body["version"] = x.Version
		}
		if !st.LoadedAt.IsZero() {
			body["loaded_at"] = st.LoadedAt.UTC().Format(time.RFC3339)
		}
		if err != nil {
			body["error"] = describeStoreError(err)
		}
		if health != "" {
			body["delivery"] = health
		}
	}
	if state != "ok" {
		msg := health
		if err != nil {
			msg = describeStoreError(err)
		}
		h.log.Warn("deploy check: "+state, "request_id", requestID(r), "error", msg)
	}
	writeJSON(w, code, body)
}

// failedStep names the step that failed, and says so in words that reveal
// nothing of the configuration.
func failedStep(err error) (step, words string) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return "document", "the configuration document is missing: save it once from the configurator"
	case len(config.Fields(err)) > 0:
		return "document", "the configuration document is invalid"
	case errors.Is(err, store.ErrCredentials):
		return "credentials", "the store refused the relay's credentials"
	}
	return "store", "the configuration store cannot be read"
}

// describeStoreError says which step failed in words.
func describeStoreError(err error) string {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return "the configuration document is missing: " + notify.Redact(err.Error()) +
			"; save the configuration once from the configurator (sentry-white)"
	case len(config.Fields(err)) > 0:
		return "the configuration document is invalid: " + err.Error()
	}
	return "the store cannot be read: " + notify.Redact(err.Error())
}

func requestID(r *http.Request) string {
	for _, k := range []string{"x-fc-request-id", "Request-ID", "X-Request-ID"} {
		if v := r.Header.Get(k); v != "" && len(v) <= 128 {
			return v
		}
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// outcome is one robot's delivery result in the answer.
type outcome struct {
	Robot   string `json:"robot"`
	Kind    string `json:"kind"`
	Project string `json:"project"`
	// PayloadOrganization is the organization the payload named when it
	// differs from the one of the project it was routed to.
	PayloadOrganization string `json:"payload_organization,omitempty"`
	Attempts            int    `json:"attempts,omitempty"`
	Mentions            int    `json:"mentions"`
	Code                int    `json:"code,omitempty"`
	Error               string `json:"error,omitempty"`
	Fix                 string `json:"fix,omitempty"`
	Pending             bool   `json:"pending,omitempty"`
	Status              string `json:"status"`
}

func (h *Handler) webhook(w http.ResponseWriter, r *http.Request) {
	start := h.o.Now()
	rid := requestID(r)
	log := h.log.With("request_id", rid)
	ctx := h.withCredentials(r)

	var ev *sentry.Event // what fail records of a refusal: the parsed body,
	var body []byte      // and the body, as far as the request got
	fail := func(status int, msg string, extra ...any) {
		answer := map[string]any{"status": "error", "error": msg, "request_id": rid}
		for i := 0; i+1 < len(extra); i += 2 {
			answer[extra[i].(string)] = extra[i+1]
		}
		log.Info("webhook refused", "status", status, "error", msg, "latency_ms", ms(h.o.Now().Sub(start)))
		h.refused(ctx, r, rid, status, msg, ev, body)
		writeJSON(w, status, answer)
	}

	x, err := h.o.Docs.Get(ctx)
	if err != nil {
		fail(http.StatusServiceUnavailable, describeStoreError(err))
		return
	}
	if want := x.Doc.WebhookToken.Reveal(); want != "" {
		got := r.URL.Query().Get("token")
		if got == "" {
			fail(http.StatusUnauthorized, "the token is missing: add ?token=<webhook_token> to the webhook URL")
			return
		}
		if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
			fail(http.StatusUnauthorized, "the token is wrong: copy the webhook URL from the configurator again")
			return
		}
	}
	if ct := r.Header.Get("Content-Type"); !acceptableType(ct) {
		fail(http.StatusUnsupportedMediaType, fmt.Sprintf("content type %q is not JSON; Sentry sends application/json", ct))
		return
	}
	if r.ContentLength > MaxBody {
		drain(w, r.Body)
		fail(http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is %d bytes; the limit is %d (4 MiB)", r.ContentLength, MaxBody))
		return
	}
	body, err = readBody(r.Body, r.ContentLength)
	if err != nil {
		fail(http.StatusBadRequest, "the body could not be read: "+err.Error())
		return
	}
	if len(body) > MaxBody {
		drain(w, r.Body)
		fail(http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is over %d bytes (4 MiB)", MaxBody))
		return
	}
	ev, err = sentry.Parse(body, r.Header)
	if err != nil {
		fail(http.StatusBadRequest, err.Error())
		return
	}
	log = log.With("resource", ev.Resource, "action", ev.Action)
	if ev.Ignored != "" {
		log.Info("webhook ignored", "reason", ev.Ignored)
		writeJSON(w, http.StatusOK, map[string]any{"status": "ignored", "ignored": true, "reason": ev.Ignored, "request_id": rid})
		return
	}
	log = log.With("project", strings.Join(ev.ProjectSlugs, ","))
	// Routing (contract §4): every project with the slug, narrowed by the
	// signature's organization, then chosen by the payload's organization
	// and host only when several share the slug.
	projects := route.BySlug(x, ev)
	if len(projects) == 0 {
		_, err := route.Choose(x, ev, nil)
		fail(http.StatusNotFound, err.Error(), "project", strings.Join(ev.ProjectSlugs, ","))
		return
	}
	// The legacy WebHooks plugin never signs its bodies: the client secret
	// is the integration's, so an unsigned legacy body relies on the token.
	// A signature that is sent is always checked. One that verifies
	// against an organization's client_secret decides the organization;
	// otherwise the chosen projects must be of organizations without one.
	checkSig := ev.Resource != sentry.ResourceLegacy || r.Header.Get("Sentry-Hook-Signature") != ""
	var unsigned []*config.Project
	var sigErr error
	if checkSig {
		var signed []*config.Project
		unsigned, signed, sigErr = h.verify(x, projects, body, r.Header)
		if len(signed) > 0 {
			projects, checkSig = signed, false
		}
	}
	if projects, err = route.Choose(x, ev, projects); err != nil {
		fail(http.StatusNotFound, err.Error(), "project", strings.Join(ev.ProjectSlugs, ","))
		return
	}
	if checkSig {
		projects = slices.DeleteFunc(projects, func(p *config.Project) bool { return !slices.Contains(unsigned, p) })
		if len(projects) == 0 {
			fail(http.StatusUnauthorized, sigErr.Error())
			return
		}
	}
	plan, err := route.Match(x, ev, projects)
	if err != nil {
		fail(http.StatusNotFound, err.Error())
		return
	}
	if len(plan.Targets) == 0 {
		var reasons []string
		for _, s := range plan.Skipped {
			reasons = append(reasons, fmt.Sprintf("%s: %s", s.Project.Slug, s.Reason))
		}
		log.Info("webhook filtered", "reason", strings.Join(reasons, "; "))
		writeJSON(w, http.StatusOK, map[string]any{"status": "filtered", "reason": strings.Join(reasons, "; "), "request_id": rid, "delivered": []outcome{}})
		return
	}

	if key := dedupeKey(ev, body, plan.Projects, x.Version); !h.seen.add(key, h.o.Now()) {
		log.Info("duplicate webhook dropped", "key", key)
		writeJSON(w, http.StatusOK, map[string]any{"status": "duplicate", "duplicate": true, "request_id": rid,
			"reason": "this webhook was already delivered", "delivered": []outcome{}})
		return
	}

	budget := h.o.LegacyBudget
	if ev.Resource != sentry.ResourceLegacy {
		budget = h.o.IntegrationBudget
	}
	var jobs []*dispatch.Job
	var targets []route.Target // by job
	var collapsed []string
	type repeatInfo struct {
		repeat bool
		n      int
		key    string
	}
	checked := map[int64]repeatInfo{} // once per project, whatever its robots
	for _, t := range plan.Targets {
		ri, ok := checked[t.Project.ID]
		if !ok {
			ri.repeat, ri.n, ri.key = h.repeats.check(t.Project, ev, h.o.Now())
			checked[t.Project.ID] = ri
		}
		repeat, n := ri.repeat, ri.n
		if repeat {
			collapsed = append(collapsed, t.Robot.Name)
			continue
		}
		msg := render.Message(t, ev, h.o.Render)
		if n > 0 {
			msg.Fields = append(msg.Fields, notify.Field{Label: repeatLabel(h.o.Render.Lang), Value: strconv.Itoa(n)})
		}
		j := newJob(rid, t, msg, start)
		j.RepeatKey = ri.key
		j.PayloadOrg = t.PayloadOrg
		jobs = append(jobs, j)
		targets = append(targets, t)
	}
	if len(jobs) == 0 {
		log.Info("repeat collapsed", "robots", strings.Join(collapsed, ","))
		writeJSON(w, http.StatusOK, map[string]any{"status": "collapsed", "request_id": rid, "delivered": []outcome{},
			"reason": "a repeat of an issue already alerted within the project's repeat window; it is counted in the next message"})
		return
	}
	if h.o.FC && h.o.SelfURL == "" {
		// Without a hand-off, alerts that had to wait are sent by the next
		// request that finds their robot with budget.
		_ = h.o.Dispatcher.DrainReady(ctx)
	}
	results := h.o.Dispatcher.Submit(context.WithValue(ctx, indexKey{}, x), jobs, start.Add(budget))

	status, state := http.StatusOK, "delivered"
	outs := make([]outcome, 0, len(results))
	var failed, unsaved []string
	waiting := false
	for i, res := range results {
		t := targets[i]
		o := outcome{Robot: t.Robot.Name, Kind: t.Robot.Kind, Project: res.Job.Project,
			PayloadOrganization: res.Job.PayloadOrg,
			Mentions:            len(t.Owners), Attempts: res.Attempts, Status: res.Status}
		switch res.Status {
		case dispatch.Failed:
			o.Code, o.Error, o.Fix = res.Err.Code, res.Err.Error(), res.Err.Fix
			failed = append(failed, o.Error)
		case dispatch.Unsaved:
			o.Error, o.Fix = res.Err.Msg, res.Err.Fix
			unsaved = append(unsaved, t.Robot.Name)
			h.repeats.done(res.Job.RepeatKey, false, h.o.Now())
		case dispatch.Queued, dispatch.Pending:
			o.Pending, waiting = true, true
		}
		outs = append(outs, o)
	}
	switch {
	case len(unsaved) > 0:
		// Claiming durable acceptance would be a lie: Sentry may send it
		// again, and then it is not a duplicate.
		status, state = http.StatusServiceUnavailable, "refused"
		failed = append(failed, fmt.Sprintf("the alert for %s must wait for the robot, but the relay cannot save it (its spool cannot be written)",
			strings.Join(unsaved, ", ")))
		h.seen.remove(dedupeKey(ev, body, plan.Projects, x.Version))
	case len(failed) > 0:
		status, state = http.StatusBadGateway, "failed"
		h.seen.remove(dedupeKey(ev, body, plan.Projects, x.Version)) // let a re-send through
	case waiting:
		status, state = http.StatusAccepted, "accepted"
	}
	if h.o.FC {
		h.beforeFreeze(ctx, log)
	}
	resp := map[string]any{"status": state, "request_id": rid, "delivered": outs}
	if len(failed) > 0 {
		resp["error"] = strings.Join(failed, "; ")
	}
	if waiting {
		resp["reason"] = "some robots are at their rate limit or still being retried; the alert is queued and will be delivered (merged into a digest if needed)"
	}
	if slices.ContainsFunc(jobs, func(j *dispatch.Job) bool { return j.PayloadOrg != "" }) {
		log = log.With("payload_organization", ev.OrgSlug)
	}
	log.Info("webhook answered", "status", status, "robots", len(outs), "latency_ms", ms(h.o.Now().Sub(start)))
	writeJSON(w, status, resp)
}

// newJob makes the dispatch job of one target's message: the robot and
// project by id, the message without its addressing (the dispatcher's
// Resolve adds the keyword and mentions when it is sent).
func newJob(rid string, t route.Target, msg *notify.Message, created time.Time) *dispatch.Job {
	cost := 1
	if k := notifiers.Lookup(t.Robot.Kind); k != nil {
		cost = k.Messages(msg)
	}
	m := *msg
	m.Mentions = nil
	return &dispatch.Job{ID: dispatch.NewID(), RequestID: rid, RobotID: t.Robot.ID, Kind: t.Robot.Kind,
		ProjectID: t.Project.ID, Project: t.Project.Slug, ProjectName: t.Project.Name, Message: m, Cost: cost,
		Created: created}
}

// verify checks Sentry-Hook-Signature over the raw body against the
// client_secret of each project's organization (and that the hook
// timestamp is fresh). signed lists the projects whose organization's
// secret verified it; unsigned those of organizations without a secret;
// err says why the others failed.
func (h *Handler) verify(x *config.Index, projects []*config.Project, body []byte, hdr http.Header) (unsigned, signed []*config.Project, err error) {
	sig := hdr.Get("Sentry-Hook-Signature")
	for _, p := range projects {
		org := x.Organization(p.OrganizationID)
		if org == nil || org.ClientSecret == "" {
			unsigned = append(unsigned, p)
			continue
		}
		if e := sentry.VerifySignature(body, org.ClientSecret.Reveal(), sig); e != nil {
			if err == nil {
				err = e
			}
			continue
		}
		if ts := hdr.Get("Sentry-Hook-Timestamp"); ts != "" {
			sec, e := strconv.ParseFloat(ts, 64)
			age := h.o.Now().Sub(time.Unix(int64(sec), 0))
			if e != nil || age > h.o.MaxHookAge || age < -h.o.MaxHookAge {
				if err == nil {
					err = fmt.Errorf("the Sentry-Hook-Timestamp %q is more than %s from now; refusing a replay", ts, h.o.MaxHookAge)
				}
				continue
			}
		}
		signed = append(signed, p)
	}
	if err == nil {
		err = sentry.ErrBadSignature
	}
	return unsigned, signed, err
}

// maxDrain bounds what is read of a body over the limit before answering.
const maxDrain = 64 << 20

// drain reads (and drops) what is left of a body too large to take, so the
// client that sends it whole before reading gets its 413 instead of a
// connection reset; the server's read timeout bounds a slow one, and the
// connection is closed after the answer.
func drain(w http.ResponseWriter, body io.Reader) {
	w.Header().Set("Connection", "close")
	_, _ = io.Copy(io.Discard, io.LimitReader(body, maxDrain))
}

// readBody reads at most MaxBody+1 bytes into a buffer sized from the
// Content-Length when it is known (io.ReadAll grows from 512 bytes, copying
// a webhook several times).
func readBody(body io.Reader, length int64) ([]byte, error) {
	r := io.LimitReader(body, MaxBody+1)
	if length < 0 || length > MaxBody {
		return io.ReadAll(r)
	}
	buf := make([]byte, 0, length+1) // +1: room to see the end without growing
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)] // longer than announced: grow
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
}

func acceptableType(ct string) bool {
	if ct == "" {
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return false
	}
	switch {
	case mt == "application/json", mt == "text/json", mt == "text/plain",
		strings.HasSuffix(mt, "+json"), mt == "application/x-www-form-urlencoded":
		// curl -d sends form-urlencoded; the body must still be JSON.
		return true
	}
	return false
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
