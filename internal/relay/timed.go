package relay

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/notify"
	"github.com/sentry-white/sentry-white/internal/plan"
	"github.com/sentry-white/sentry-white/internal/sentry"
)

// invokePath is where Function Compute's event invocations arrive (the
// custom runtime's POST /invoke): the timer trigger in deploy/s.yaml calls
// it every minute, and each call does the timed work that is due (package
// timed). It answers 404 outside Function Compute, where a ticker does the
// work, and refuses a request that came through the HTTP trigger (FC marks
// those x-fc-control-path: /http-invoke; clients cannot send x-fc-*
// headers), so strangers cannot make the function work.
const invokePath = "/invoke"

// invoke runs the timed work due now, within the invocation: on FC
// nothing may run after the answer, so the delivery history is written
// before it.
func (h *Handler) invoke(w http.ResponseWriter, r *http.Request) {
	switch {
	case !h.o.FC:
		writeJSON(w, http.StatusNotFound, map[string]any{"error": "not found: the webhook URL is / or /webhook"})
		return
	case r.Method != http.MethodPost:
		w.Header().Set("Allow", "POST")
		writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"error": "method not allowed: Function Compute POSTs its event invocations"})
		return
	case r.Header.Get("X-Fc-Control-Path") == "/http-invoke":
		writeJSON(w, http.StatusForbidden, map[string]any{"error": "/invoke is for Function Compute's timer trigger, not the HTTP trigger"})
		return
	}
	ctx := h.withCredentials(r)
	log := h.log.With("request_id", requestID(r))
	if h.timed == nil {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "done": map[string]int{}})
		return
	}
	done, err := h.timed.Tick(ctx)
	h.beforeFreeze(ctx, log)
	if err != nil {
		log.Warn("timed work: the configuration cannot be read", "error", describeStoreError(err))
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "error", "error": describeStoreError(err)})
		return
	}
	if len(done) > 0 {
		log.Info("timed work done", "done", done)
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "done": done})
}

// hold keeps the plan's held messages in the store until their projects'
// quiet hours end (package timed sends them then, one digest per robot)
// and answers for each. A message that cannot be kept — no store, a write
// that fails — is not lost: it goes out now, without any @, as in silent
// quiet hours, and joins the plan's jobs.
func (h *Handler) hold(ctx context.Context, pl *plan.Plan, rid string) []outcome {
	if len(pl.Held) == 0 {
		return nil
	}
	var outs []outcome
	for _, hd := range pl.Held {
		var err error = errNoStore
		if h.timed != nil {
			err = h.timed.Hold(ctx, hd)
		}
		if err == nil {
			t := hd.Target
			outs = append(outs, outcome{Robot: t.Robot.Name, Kind: t.Robot.Kind, Project: hd.Job.Project,
				PayloadOrganization: hd.Job.PayloadOrg, Status: plan.Held, HeldUntil: hd.Until.UTC().Format(time.RFC3339)})
			continue
		}
		h.log.Error("an alert the project's quiet hours hold cannot be kept; it is sent now without @", "request_id", rid,
			"project", hd.Job.Project, "robot_id", hd.Job.RobotID, "error", notify.Redact(err.Error()))
		j := hd.Job
		plan.Silence(j, hd.Until, h.o.Now(), h.o.Render.Zone)
		pl.Jobs = append(pl.Jobs, j)
		pl.Targets = append(pl.Targets, hd.Target)
	}
	return outs
}

// observe gives a planned webhook to the escalations (package timed,
// Runner.Observe): acknowledgements, regressions and the first alert of
// an issue of a project that escalates, and the organization's issue
// webhooks seen. Without a store there are no escalations.
func (h *Handler) observe(ctx context.Context, x *config.Index, ev *sentry.Event, pl *plan.Plan) {
	if h.timed != nil {
		h.timed.Observe(ctx, x, ev, pl)
	}
}

var errNoStore = errors.New("this relay keeps no store for held alerts")
