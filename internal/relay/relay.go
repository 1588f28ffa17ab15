// Package relay is the webhook endpoint: it takes a Sentry webhook, checks
// its token and signature, routes it by the configuration document, renders
// one message per robot and delivers them, answering Sentry within its
// timeout.
package relay

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sentry-white/sentry-white/internal/actions"
	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/deliveries"
	"github.com/sentry-white/sentry-white/internal/dispatch"
	"github.com/sentry-white/sentry-white/internal/docstore"
	"github.com/sentry-white/sentry-white/internal/nonce"
	"github.com/sentry-white/sentry-white/internal/notifiers"
	"github.com/sentry-white/sentry-white/internal/notify"
	"github.com/sentry-white/sentry-white/internal/plan"
	"github.com/sentry-white/sentry-white/internal/render"
	"github.com/sentry-white/sentry-white/internal/route"
	"github.com/sentry-white/sentry-white/internal/sentry"
	"github.com/sentry-white/sentry-white/internal/sentryapi"
	"github.com/sentry-white/sentry-white/internal/store"
	"github.com/sentry-white/sentry-white/internal/timed"
	"github.com/sentry-white/sentry-white/internal/tlsroots"
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
	Docs Docs
	// Kinds are the robot kinds it sends to (required): what a message
	// costs a robot, and its budget.
	Kinds  *notifiers.Registry
	Logger *slog.Logger
	Render render.Options
	// Dispatch configures the dispatcher that delivers the messages (rate
	// budgets, digests, retries, spool): its Senders, Spool, Policy… The
	// relay sets its Kind (from Kinds), Resolve (jobs addressed from the
	// current document),
	// OnFinal (outcomes logged and recorded), Background and
	// RequeueInFlight (from FC).
	Dispatch dispatch.Options

	// Budgets for answering Sentry: the integration platform waits 1 s, the
	// legacy plugin 5 s. Deliveries still running when the budget ends are
	// answered 202 and continue.
	IntegrationBudget time.Duration
	LegacyBudget      time.Duration
	// MaxHookAge is the tolerance for Sentry-Hook-Timestamp on signed
	// requests; 0 means 10 minutes.
	MaxHookAge time.Duration
	// DedupeTTL is how long a delivered webhook's identity is remembered
	// to drop a second copy; 0 means one hour.
	DedupeTTL time.Duration

	Now func() time.Time

	// History records deliveries; nil keeps none.
	History *deliveries.Log
	// Store and Prefix are where timed work keeps its state: alerts held
	// through quiet hours and the claims of handoff notices and digests
	// (package timed), and the marks of actions taken from the chat
	// (package actions), so every instance knows them. Without a Store
	// there is no timed work, an alert a project's quiet hours would hold
	// goes out at once without @, and actions are known to this process
	// only.
	Store  store.Backend
	Prefix string
	// FC is set on Function Compute, where the instance may be frozen once
	// the answer is sent: history is written before answering, and alerts
	// that must wait are handed to an asynchronous invocation of SelfURL.
	FC      bool
	SelfURL string
	// Client posts the asynchronous hand-off; nil means a 5 s client.
	Client *http.Client
	// Facts adds Sentry's facts about an alert's issue (read with the
	// organization's api_token) before it is rendered; nil adds none.
	Facts plan.Facts

	// Sentry is Sentry's API for action links (package actions) and the
	// morning summary's issues still open; nil means a sentryapi.Client
	// with an 8 s timeout per call.
	Sentry actions.Sentry
}

// Handler serves the relay's HTTP interface.
type Handler struct {
	o        Options
	log      *slog.Logger
	plan     *plan.Planner
	disp     *dispatch.Dispatcher
	timed    *timed.Runner // nil without a store
	refusals refusalLimit  // refused webhooks recorded in the history
	handoffs *nonce.Set    // hand-off ids accepted (FC), each once
	acts     *actions.Handler
}

// New returns a relay handler and the dispatcher it delivers with. The
// dispatcher's background work starts with its Start (or the first
// webhook), once the caller has wired everything.
func New(o Options) (*Handler, error) {
	if o.Kinds == nil {
		return nil, errors.New("relay: no robot kinds")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.IntegrationBudget == 0 {
		o.IntegrationBudget = 800 * time.Millisecond
	}
	if o.LegacyBudget == 0 {
		o.LegacyBudget = 2500 * time.Millisecond // Sentry before 22.2 waited 3 s, later 5 s
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Client == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		tlsroots.Apply(t)
		o.Client = &http.Client{Transport: t, Timeout: 5 * time.Second}
	}
	h := &Handler{o: o, log: o.Logger, handoffs: nonce.NewSet(handoffMaxIDs),
		plan: plan.New(plan.Options{Kind: o.Kinds.Lookup, Render: o.Render, MaxHookAge: o.MaxHookAge, DedupeTTL: o.DedupeTTL, Now: o.Now, KeepSource: o.FC, Facts: o.Facts})}
	do := o.Dispatch
	do.Kind, do.Resolve, do.OnFinal = o.Kinds.Lookup, plan.ResolverAt(o.Docs, o.Now), h.record
	do.Background, do.RequeueInFlight = !o.FC, o.FC
	if do.Logger == nil {
		do.Logger = o.Logger
	}
	d, err := dispatch.New(do)
	if err != nil {
		return nil, err
	}
	h.disp = d
	if o.Sentry == nil {
		o.Sentry = &sentryapi.Client{Timeout: 8 * time.Second}
	}
	if o.Store != nil {
		h.timed = timed.New(timed.Options{Docs: o.Docs, Store: o.Store, Prefix: o.Prefix, Send: d, Kind: o.Kinds.Lookup, History: o.History,
			Render: o.Render, Sentry: o.Sentry, Now: o.Now, Logger: o.Logger})
	}
	h.acts = actions.New(actions.Options{Docs: o.Docs, Sentry: o.Sentry, Tell: h.tell, History: o.History,
		Store: o.Store, Prefix: o.Prefix, Lang: o.Render.Lang, Zone: o.Render.Zone, FC: o.FC, Now: o.Now, Logger: o.Logger})
	return h, nil
}

// Dispatcher is the dispatcher the handler delivers with.
func (h *Handler) Dispatcher() *dispatch.Dispatcher { return h.disp }

// Timed is the runner of the relay's timed work (handoff notices, held
// alerts), nil without a store. A server ticks it (Run); on Function
// Compute the timer trigger's POST /invoke does.
func (h *Handler) Timed() *timed.Runner { return h.timed }

// Wait blocks until deliveries that outlived their requests finish, or ctx
// ends.
func (h *Handler) Wait(ctx context.Context) error { return h.disp.Wait(ctx) }

// record is the dispatcher's OnFinal hook: it adds a delivery's final
// outcome to the history and tells the planner (a delivered message starts
// its issue's repeat window). A failure is logged; so is a delivery that
// came after its webhook was answered (queued, retried, a digest) — one
// delivered within its request is in its webhook's line.
func (h *Handler) record(o dispatch.Outcome) {
	rec := plan.Record(o)
	h.plan.Done(o.Job, o.Err == nil, o.At)
	switch {
	case o.Err != nil:
		h.log.Warn("delivery failed", "request_id", rec.RequestID, "project", rec.Project, "robot", rec.Robot, "kind", rec.Kind,
			"result", "failed", "code", o.Err.Code, "error", o.Err.Error(), "attempts", o.Attempts, "latency_ms", rec.LatencyMS)
	case o.Late:
		mentions := 0
		if o.Message != nil {
			mentions = len(o.Message.Mentions)
		}
		h.log.Info("delivered", "request_id", rec.RequestID, "project", rec.Project, "robot", rec.Robot, "kind", rec.Kind,
			"result", "ok", "attempts", o.Attempts, "mentions", mentions, "digest", o.Digest, "latency_ms", rec.LatencyMS)
	}
	if h.o.History != nil {
		h.o.History.Add(rec)
	}
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if actions.Owns(r.URL.Path) {
		h.acts.ServeHTTP(w, r.WithContext(h.withCredentials(r)))
		return
	}
	if i := strings.LastIndex(r.URL.Path, sentryAppPath); i >= 0 {
		h.sentryApp(w, r, r.URL.Path[i+len(sentryAppPath):])
		return
	}
	switch r.URL.Path {
	case "/", "/webhook", "/webhook/":
	case handoffPath:
		h.handoff(w, r)
		return
	case "/initialize", "/pre-stop":
		h.lifecycle(w, r)
		return
	case invokePath:
		h.invoke(w, r)
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
// loads the document before traffic (a store read only for FC's own call);
// /pre-stop sends what the budgets allow and writes the delivery history
// before the instance goes away. A fault
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
		// Only FC's own lifecycle call re-reads the store: FC marks it
		// with x-fc-control-path, which its trigger refuses from clients
		// (their calls arrive as /http-invoke). The path called through
		// the trigger is answered from the cached document, as GET / is,
		// so strangers cannot make the relay read the store.
		var err error
		hook := r.Header.Get("x-fc-control-path") == "/initialize"
		if hook {
			err = h.o.Docs.Refresh(ctx)
		} else {
			_, err = h.o.Docs.Get(ctx)
		}
		if err != nil {
			step, _ := failedStep(err)
			if hook {
				h.log.Warn("configuration not loaded by /initialize; the instance serves and GET / explains",
					"request_id", requestID(r), "error", describeStoreError(err))
			}
			writeJSON(w, http.StatusOK, map[string]any{"status": "degraded", "step": step})
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
		return
	}
	_ = h.disp.DrainReady(ctx)
	h.beforeFreeze(ctx, h.log.With("request_id", requestID(r)))
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "queued": h.disp.Queued()})
}

// withCredentials passes Function Compute's per-request role keys to the
// store. They are taken only on Function Compute, whose gateway sets them:
// elsewhere any client could send x-fc-* headers.
func (h *Handler) withCredentials(r *http.Request) context.Context {
	if !h.o.FC {
		return r.Context()
	}
	return store.WithFCCredentials(r)
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
	health := h.disp.Health()
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
		if other := h.disp.Foreign(); len(other) > 0 {
			body["spool"] = map[string]any{"folder": h.disp.SpoolFolder(), "other_stores": other,
				"note": "the spool folder holds alerts spooled for other stores (or by an older version): this relay neither sends, counts nor deletes them; a relay on that store sends them"}
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
	// HeldUntil is when the project's quiet hours end, for a held alert.
	HeldUntil string `json:"held_until,omitempty"`
}

// webhook takes a Sentry webhook: read and authorize it, plan it, submit
// the plan's jobs, answer within Sentry's budget, and log one line.
func (h *Handler) webhook(w http.ResponseWriter, r *http.Request) {
	start := h.o.Now()
	line := hookLine{rid: requestID(r), start: start}
	ctx := h.withCredentials(r)
	body := bodies.get()
	x, ev, refusal := h.read(ctx, w, r, body)
	var pl *plan.Plan
	if refusal == nil {
		line.event(ev)
		var err error
		if pl, err = h.plan.PlanContext(ctx, x, plan.Request{Event: ev, Body: body.b, Header: r.Header, RequestID: line.rid, Received: start}); err != nil {
			refusal = planRefusal(err)
		}
	}
	bodies.put(body) // planned: nothing refers to the body any more
	if refusal != nil {
		line.status, line.err = refusal.status, refusal.msg
		h.logHook(ctx, &line, "webhook refused")
		h.refused(ctx, r, line.rid, refusal.status, refusal.msg, ev)
		writeJSON(w, refusal.status, refusal.body(line.rid))
		return
	}
	if pl.Outcome == plan.Send && ev.FollowUp() {
		if who, echo := h.echo(ctx, x, pl, ev); echo {
			pl.Outcome, pl.Reason = plan.Ignored, fmt.Sprintf("Sentry's webhook of a change %s made from the chat: the relay already told the group", who)
		}
	}
	held := h.hold(ctx, pl, line.rid)
	if pl.Outcome != plan.Send {
		h.observe(ctx, x, ev, pl) // before the answer: an instance may be frozen after it
	}
	if pl.Outcome == plan.Held && len(pl.Jobs) == 0 {
		line.reason, line.status, line.robots = pl.Reason, http.StatusOK, len(held)
		if h.o.FC {
			h.beforeFreeze(ctx, h.log.With("request_id", line.rid))
		}
		writeJSON(w, http.StatusOK, &answerBody{Status: plan.Held, RequestID: line.rid, Delivered: held, Reason: pl.Reason})
		h.logHook(ctx, &line, "webhook held")
		return
	}
	if pl.Outcome != plan.Send && pl.Outcome != plan.Held {
		line.reason = pl.Reason
		h.logHook(ctx, &line, "webhook "+pl.Outcome)
		writeJSON(w, http.StatusOK, map[string]any{"status": pl.Outcome, pl.Outcome: true, "reason": pl.Reason,
			"request_id": line.rid, "delivered": []outcome{}})
		return
	}
	if h.o.FC {
		// Alerts that had to wait and were not handed off (without
		// SelfURL, or restored from this instance's spool, which keeps no
		// event to render again) are sent by the next request that finds
		// their robot with budget.
		_ = h.disp.DrainReady(ctx)
	}
	budget := h.o.LegacyBudget
	if ev.Resource != sentry.ResourceLegacy {
		budget = h.o.IntegrationBudget
	}
	results := h.disp.Submit(plan.WithDocument(ctx, x), pl.Jobs, start.Add(budget))
	status, resp := h.answer(pl, results, line.rid)
	resp.Delivered = append(resp.Delivered, held...)
	if status != http.StatusOK && status != http.StatusAccepted {
		h.plan.Release(pl) // not delivered: Sentry sending it again is no copy
	} else {
		h.observe(ctx, x, ev, pl)
	}
	if h.o.FC {
		h.beforeFreeze(ctx, h.log.With("request_id", line.rid))
	}
	writeJSON(w, status, resp)
	if f, ok := w.(http.Flusher); ok {
		f.Flush() // Sentry has its answer; the line is written after
	}
	line.answered(status, results, ev)
	h.logHook(ctx, &line, "webhook answered")
}

// echo drops from pl the follow-ups that are Sentry's webhook of a change
// the relay made from the chat (package actions), whose follow-up the
// relay posted itself; it reports who made it when nothing is left.
func (h *Handler) echo(ctx context.Context, x *config.Index, pl *plan.Plan, ev *sentry.Event) (string, bool) {
	who := ""
	left := pl.Drop(func(t route.Target) bool {
		w, ok := h.acts.Echo(ctx, x, t.Project.OrganizationID, ev)
		if ok {
			who = w
		}
		return ok
	})
	return who, !left
}

// tell posts the follow-up of a change made from the chat (actions.Teller):
// planned as a webhook's follow-up for the project, delivered within the
// integration budget, the rest queued (on FC handed off).
func (h *Handler) tell(ctx context.Context, x *config.Index, prj *config.Project, ev *sentry.Event) (string, error) {
	jobs := h.plan.FollowUp(x, ev, prj, "")
	if len(jobs) == 0 {
		return "off", nil
	}
	results := h.disp.Submit(plan.WithDocument(ctx, x), jobs, h.o.Now().Add(h.o.IntegrationBudget))
	if h.o.FC {
		h.beforeFreeze(ctx, h.log)
	}
	var failed []string
	for _, res := range results {
		if res.Status == dispatch.Failed || res.Status == dispatch.Unsaved {
			failed = append(failed, res.Err.Error())
		}
	}
	if len(failed) > 0 {
		return "", errors.New(strings.Join(failed, "; "))
	}
	return "posted", nil
}

// refusal is a webhook answered with an error.
type refusal struct {
	status int
	msg    string
	extra  map[string]any
}

func (f *refusal) body(rid string) map[string]any {
	b := map[string]any{"status": "error", "error": f.msg, "request_id": rid}
	for k, v := range f.extra {
		b[k] = v
	}
	return b
}

func refuse(status int, format string, args ...any) *refusal {
	return &refusal{status: status, msg: fmt.Sprintf(format, args...)}
}

// planRefusal maps the planner's refusals to their HTTP status, once.
func planRefusal(err error) *refusal {
	var pe *plan.Error
	if !errors.As(err, &pe) {
		return refuse(http.StatusInternalServerError, "%s", err.Error())
	}
	switch pe.Kind {
	case plan.Unauthorized:
		return refuse(http.StatusUnauthorized, "%s", pe.Msg)
	case plan.NotFound:
		f := refuse(http.StatusNotFound, "%s", pe.Msg)
		if pe.Project != "" {
			f.extra = map[string]any{"project": pe.Project}
		}
		return f
	}
	return refuse(http.StatusBadRequest, "%s", pe.Msg)
}

// read takes what a webhook request carries: the document (whose token it
// must name), the body within the limit (into body), and the event it
// holds.
func (h *Handler) read(ctx context.Context, w http.ResponseWriter, r *http.Request, body *bodyBuf) (*config.Index, *sentry.Event, *refusal) {
	x, err := h.o.Docs.Get(ctx)
	if err != nil {
		return nil, nil, refuse(http.StatusServiceUnavailable, "%s", describeStoreError(err))
	}
	if want := x.Doc.WebhookToken.Reveal(); want != "" {
		switch got := queryValue(r.URL.RawQuery, "token"); {
		case got == "":
			return nil, nil, refuse(http.StatusUnauthorized, "the token is missing: add ?token=<webhook_token> to the webhook URL")
		case subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1:
			return nil, nil, refuse(http.StatusUnauthorized, "the token is wrong: copy the webhook URL from the configurator again")
		}
	}
	if ct := r.Header.Get("Content-Type"); !acceptableType(ct) {
		return nil, nil, refuse(http.StatusUnsupportedMediaType, "content type %q is not JSON; Sentry sends application/json", ct)
	}
	if r.ContentLength > MaxBody {
		drain(w, r.Body)
		return nil, nil, refuse(http.StatusRequestEntityTooLarge, "the body is %d bytes; the limit is %d (4 MiB)", r.ContentLength, MaxBody)
	}
	err = body.read(r.Body, r.ContentLength)
	switch {
	case err != nil:
		return nil, nil, refuse(http.StatusBadRequest, "the body could not be read: %s", err.Error())
	case len(body.b) > MaxBody:
		drain(w, r.Body)
		return nil, nil, refuse(http.StatusRequestEntityTooLarge, "the body is over %d bytes (4 MiB)", MaxBody)
	}
	ev, err := sentry.Parse(body.b, r.Header)
	if err != nil {
		return nil, nil, refuse(http.StatusBadRequest, "%s", err.Error())
	}
	return x, ev, nil
}

// answer words what Submit did: 200 delivered, 202 when some continue
// after the answer, 502 when a robot refused, 503 when an alert that must
// wait could not be saved (claiming durable acceptance would be a lie:
// Sentry may send it again, and then it is not a copy).
func (h *Handler) answer(pl *plan.Plan, results []dispatch.Outcome, rid string) (int, *answerBody) {
	status, state := http.StatusOK, "delivered"
	outs := make([]outcome, 0, len(results))
	var failed, unsaved []string
	waiting := false
	for i, res := range results {
		t := pl.Targets[i]
		o := outcome{Robot: t.Robot.Name, Kind: t.Robot.Kind, Project: res.Job.Project, PayloadOrganization: res.Job.PayloadOrg,
			Mentions: len(t.Owners), Attempts: res.Attempts, Status: res.Status}
		if res.Job.Silent {
			o.Mentions = 0
		}
		switch res.Status {
		case dispatch.Failed:
			o.Code, o.Error, o.Fix = res.Err.Code, res.Err.Error(), res.Err.Fix.String()
			failed = append(failed, o.Error)
		case dispatch.Unsaved:
			o.Error, o.Fix = res.Err.Msg, res.Err.Fix.String()
			unsaved = append(unsaved, t.Robot.Name)
		case dispatch.Queued, dispatch.Pending:
			o.Pending, waiting = true, true
		}
		outs = append(outs, o)
	}
	switch {
	case len(unsaved) > 0:
		status, state = http.StatusServiceUnavailable, "refused"
		failed = append(failed, fmt.Sprintf("the alert for %s must wait for the robot, but the relay cannot save it (its spool cannot be written)",
			strings.Join(unsaved, ", ")))
	case len(failed) > 0:
		status, state = http.StatusBadGateway, "failed"
	case waiting:
		status, state = http.StatusAccepted, "accepted"
	}
	resp := &answerBody{Status: state, RequestID: rid, Delivered: outs}
	if len(failed) > 0 {
		resp.Error = strings.Join(failed, "; ")
	}
	if waiting && len(failed) == 0 {
		resp.Reason = "some robots are at their rate limit or still being retried; the alert is queued and will be delivered (merged into a digest if needed)"
	}
	return status, resp
}

// answerBody is the answer to a webhook that was sent on; its members in
// the order of their names, as they were when it was a map.
type answerBody struct {
	Delivered []outcome `json:"delivered"`
	Error     string    `json:"error,omitempty"`
	Reason    string    `json:"reason,omitempty"`
	RequestID string    `json:"request_id"`
	Status    string    `json:"status"`
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

// writeJSON answers v as JSON, with its Content-Length (so the answer can
// be flushed before the handler returns without chunked encoding).
func writeJSON(w http.ResponseWriter, status int, v any) {
	buf := jsonBufs.Get().(*bytes.Buffer)
	buf.Reset()
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
	if buf.Cap() <= maxPooled {
		jsonBufs.Put(buf)
	}
}

var jsonBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
