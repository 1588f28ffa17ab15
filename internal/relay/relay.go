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
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
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
	Status() store.Status
}

// Options configure a Handler.
type Options struct {
	Docs    Docs
	Senders map[string]notify.Sender // by robot kind
	Logger  *slog.Logger
	Render  render.Options
	Policy  notify.Policy

	// Budgets for answering Sentry: the integration platform waits 1 s, the
	// legacy plugin 5 s. Deliveries still running when the budget ends are
	// answered 202 and continue (see Queue).
	IntegrationBudget time.Duration
	LegacyBudget      time.Duration
	// DeliveryTimeout bounds one delivery, retries included, after the
	// answer.
	DeliveryTimeout time.Duration
	// MaxHookAge is the tolerance for Sentry-Hook-Timestamp on signed
	// requests; 0 means 10 minutes.
	MaxHookAge time.Duration

	Now func() time.Time
}

// Handler serves the relay's HTTP interface.
type Handler struct {
	o   Options
	log *slog.Logger
	wg  sync.WaitGroup // deliveries that outlived their request
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
		o.LegacyBudget = 4 * time.Second
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
	return &Handler{o: o, log: o.Logger}
}

// Wait blocks until deliveries that outlived their requests finish, or ctx
// ends.
func (h *Handler) Wait(ctx context.Context) error {
	done := make(chan struct{})
	go func() { h.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/", "/webhook", "/webhook/":
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

// withCredentials passes Function Compute's per-request role keys to the
// store.
func withCredentials(r *http.Request) context.Context {
	ctx := r.Context()
	if id := r.Header.Get("x-fc-access-key-id"); id != "" {
		ctx = store.WithCredentials(ctx, store.Credentials{
			AccessKeyID:     id,
			AccessKeySecret: r.Header.Get("x-fc-access-key-secret"),
			SecurityToken:   r.Header.Get("x-fc-security-token"),
		})
	}
	return ctx
}

func (h *Handler) deployCheck(w http.ResponseWriter, r *http.Request) {
	ctx := withCredentials(r)
	err := h.o.Docs.Refresh(ctx)
	st := h.o.Docs.Status()
	if err == nil && st.Loaded {
		writeJSON(w, http.StatusOK, map[string]any{
			"status":   "ok",
			"message":  fmt.Sprintf("部署成功 / deployed: %d projects configured", st.Projects),
			"projects": st.Projects,
		})
		return
	}
	if err == nil {
		err = errors.New("no document loaded")
	}
	body := map[string]any{
		"status": "error",
		"error":  describeStoreError(err),
	}
	if st.Loaded {
		body["status"] = "degraded"
		body["message"] = fmt.Sprintf("still routing with the last good document (%d projects), read %s",
			st.Projects, st.LoadedAt.UTC().Format(time.RFC3339))
	}
	h.log.Warn("deploy check failed", "request_id", requestID(r), "error", describeStoreError(err))
	writeJSON(w, http.StatusServiceUnavailable, body)
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
	Robot    string `json:"robot"`
	Kind     string `json:"kind"`
	Project  string `json:"project"`
	Attempts int    `json:"attempts,omitempty"`
	Mentions int    `json:"mentions"`
	Code     int    `json:"code,omitempty"`
	Error    string `json:"error,omitempty"`
	Fix      string `json:"fix,omitempty"`
	Pending  bool   `json:"pending,omitempty"`
}

func (h *Handler) webhook(w http.ResponseWriter, r *http.Request) {
	start := h.o.Now()
	rid := requestID(r)
	log := h.log.With("request_id", rid)
	ctx := withCredentials(r)

	fail := func(status int, msg string, extra ...any) {
		body := map[string]any{"status": "error", "error": msg, "request_id": rid}
		for i := 0; i+1 < len(extra); i += 2 {
			body[extra[i].(string)] = extra[i+1]
		}
		log.Info("webhook refused", "status", status, "error", msg, "latency_ms", ms(h.o.Now().Sub(start)))
		writeJSON(w, status, body)
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
		fail(http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is %d bytes; the limit is %d (4 MiB)", r.ContentLength, MaxBody))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		fail(http.StatusBadRequest, "the body could not be read: "+err.Error())
		return
	}
	if len(body) > MaxBody {
		fail(http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is over %d bytes (4 MiB)", MaxBody))
		return
	}
	ev, err := sentry.Parse(body, r.Header)
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
	projects := route.Candidates(x, ev)
	if len(projects) == 0 {
		e := &route.UnknownProjectError{Slugs: ev.ProjectSlugs, Org: ev.OrgSlug}
		fail(http.StatusNotFound, e.Error(), "project", strings.Join(ev.ProjectSlugs, ","))
		return
	}
	projects, err = h.verify(x, projects, body, r.Header)
	if err != nil {
		fail(http.StatusUnauthorized, err.Error())
		return
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

	budget := h.o.LegacyBudget
	if ev.Resource != sentry.ResourceLegacy {
		budget = h.o.IntegrationBudget
	}
	outs, pending := h.deliver(ctx, log, ev, plan, start.Add(budget))

	status, state := http.StatusOK, "delivered"
	var failed []outcome
	for _, o := range outs {
		if o.Error != "" {
			failed = append(failed, o)
		}
	}
	switch {
	case len(failed) > 0:
		status, state = http.StatusBadGateway, "failed"
	case pending:
		status, state = http.StatusAccepted, "accepted"
	}
	resp := map[string]any{"status": state, "request_id": rid, "delivered": outs}
	if len(failed) > 0 {
		var parts []string
		for _, f := range failed {
			parts = append(parts, f.Error)
		}
		resp["error"] = strings.Join(parts, "; ")
	}
	log.Info("webhook answered", "status", status, "robots", len(outs), "latency_ms", ms(h.o.Now().Sub(start)))
	writeJSON(w, status, resp)
}

// verify applies Sentry-Hook-Signature: a project whose organization has a
// client_secret is kept only when the signature over the raw body matches
// it (and the hook timestamp is fresh); projects without a secret are kept.
func (h *Handler) verify(x *config.Index, projects []*config.Project, body []byte, hdr http.Header) ([]*config.Project, error) {
	sig := hdr.Get("Sentry-Hook-Signature")
	var kept []*config.Project
	var firstErr error
	for _, p := range projects {
		org := x.Organization(p.OrganizationID)
		if org == nil || org.ClientSecret == "" {
			kept = append(kept, p)
			continue
		}
		if err := sentry.VerifySignature(body, org.ClientSecret.Reveal(), sig); err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		if ts := hdr.Get("Sentry-Hook-Timestamp"); ts != "" {
			sec, err := strconv.ParseFloat(ts, 64)
			age := h.o.Now().Sub(time.Unix(int64(sec), 0))
			if err != nil || age > h.o.MaxHookAge || age < -h.o.MaxHookAge {
				if firstErr == nil {
					firstErr = fmt.Errorf("the Sentry-Hook-Timestamp %q is more than %s from now; refusing a replay", ts, h.o.MaxHookAge)
				}
				continue
			}
		}
		kept = append(kept, p)
	}
	if len(kept) == 0 {
		return nil, firstErr
	}
	return kept, nil
}

// job is one message for one robot.
type job struct {
	target route.Target
	msg    *notify.Message
}

// deliver sends every target's message concurrently. It waits until all are
// done or the deadline passes; deliveries still running then continue
// detached from the request (a caller that disconnects never cancels them).
func (h *Handler) deliver(ctx context.Context, log *slog.Logger, ev *sentry.Event, plan *route.Plan, deadline time.Time) ([]outcome, bool) {
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.o.DeliveryTimeout)
	results := make(chan int, len(plan.Targets))
	outs := make([]outcome, len(plan.Targets))
	var mu sync.Mutex
	h.wg.Add(len(plan.Targets))
	var running sync.WaitGroup
	running.Add(len(plan.Targets))
	go func() { running.Wait(); cancel() }()
	for i, t := range plan.Targets {
		msg := render.Message(t, ev, h.o.Render)
		o := outcome{Robot: t.Robot.Name, Kind: t.Robot.Kind, Project: t.Project.Slug, Mentions: len(msg.Mentions)}
		go func() {
			defer h.wg.Done()
			defer running.Done()
			start := h.o.Now()
			rlog := log.With("robot", t.Robot.Name, "kind", t.Robot.Kind, "project", t.Project.Slug)
			s := h.o.Senders[t.Robot.Kind]
			var res notify.Result
			if s == nil {
				res = notify.Result{Err: &notify.Error{Robot: t.Robot.Name, Kind: t.Robot.Kind,
					Msg: fmt.Sprintf("robot kind %q is not supported by this relay", t.Robot.Kind)}}
			} else {
				res = notify.Deliver(dctx, s, t.Robot, msg, h.o.Policy)
			}
			o.Attempts = res.Attempts
			if res.Err != nil {
				o.Code, o.Error, o.Fix = res.Err.Code, res.Err.Error(), res.Err.Fix
				rlog.Warn("delivery failed", "result", "failed", "code", res.Err.Code, "error", res.Err.Error(),
					"attempts", res.Attempts, "latency_ms", ms(h.o.Now().Sub(start)))
			} else {
				rlog.Info("delivered", "result", "ok", "attempts", res.Attempts, "mentions", len(msg.Mentions),
					"latency_ms", ms(h.o.Now().Sub(start)))
			}
			mu.Lock()
			outs[i] = o
			mu.Unlock()
			results <- i
		}()
	}
	timer := time.NewTimer(max(time.Until(deadline), 0))
	defer timer.Stop()
	done := make([]bool, len(plan.Targets))
	for n := 0; n < len(plan.Targets); n++ {
		select {
		case i := <-results:
			done[i] = true
		case <-timer.C:
			mu.Lock()
			snapshot := make([]outcome, len(outs))
			copy(snapshot, outs)
			mu.Unlock()
			for i, t := range plan.Targets {
				if !done[i] {
					snapshot[i] = outcome{Robot: t.Robot.Name, Kind: t.Robot.Kind, Project: t.Project.Slug, Pending: true}
				}
			}
			return snapshot, true
		}
	}
	return outs, false
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
