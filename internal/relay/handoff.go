package relay

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sentry-white/sentry-white/internal/dispatch"
	"github.com/sentry-white/sentry-white/internal/nonce"
	"github.com/sentry-white/sentry-white/internal/notify"
	"github.com/sentry-white/sentry-white/internal/plan"
	"github.com/sentry-white/sentry-white/internal/render"
	"github.com/sentry-white/sentry-white/internal/sentry"
)

// handoffPath receives alerts that one Function Compute invocation could
// not deliver before answering Sentry. The relay posts them to its own
// trigger URL as an asynchronous invocation (X-Fc-Invocation-Type: Async):
// FC persists the request and runs it, with retries, in an invocation that
// may wait for the robot's budget. The body is signed with the webhook
// token, so no one else can use this path, and each hand-off is accepted
// once; it carries ids and the event's facts, rendered and addressed again
// by the invocation (see handoffBody).
const handoffPath = "/internal/handoff"

// handoffMaxAge bounds how late an asynchronous invocation may arrive.
const handoffMaxAge = 6 * time.Hour

// handoffMaxBody keeps each hand-off under Function Compute's 128 KB limit
// on an asynchronous request body, with room for the envelope.
const handoffMaxBody = 120 << 10

// handoffBody is what a hand-off carries: its id, accepted once, and per
// alert the ids of its project and robot and the facts of its Sentry event
// (render.Facts) — never a rendered message, a link as sent, an owner or
// a credential. The invocation renders and addresses each alert again
// from the document it reads, as it would a webhook's (plan.Rerender), so
// whoever holds the webhook token (the hand-off's key) can send no more
// than a webhook could.
type handoffBody struct {
	ID   string       `json:"id"`
	Jobs []handoffJob `json:"jobs"`
}

type handoffJob struct {
	ID        string    `json:"id"`
	RequestID string    `json:"request_id,omitempty"`
	ProjectID int64     `json:"project_id"`
	RobotID   int64     `json:"robot_id"`
	Created   time.Time `json:"created"`
	Tries     int       `json:"tries,omitempty"`
	Repeats   int       `json:"repeats,omitempty"`
	Folded    int       `json:"folded,omitempty"`
	RepeatKey string    `json:"repeat_key,omitempty"`
	// Repeated counts the repeats collapsed before the alert (its
	// message says so).
	Repeated int `json:"repeated,omitempty"`
	// PossibleRepeat: the robot may have it already (a send stopped at
	// the answer); it goes out marked 可能重复 / possible repeat.
	PossibleRepeat bool          `json:"possible_repeat,omitempty"`
	Event          *sentry.Event `json:"event"`
	// SilentUntil marks an alert that came in its project's quiet hours
	// (mode silent): it goes without any @.
	SilentUntil time.Time `json:"silent_until,omitzero"`
	// Facts says whether Sentry's facts were added to the event (for the
	// delivery record); the event carries them.
	Facts string `json:"facts,omitempty"`
}

// toHandoff is j as a hand-off carries it; false when j has no Source
// (a job restored from this instance's spool), which stays here.
func toHandoff(j *dispatch.Job) (handoffJob, bool) {
	src, ok := j.Source.(*plan.Source)
	if !ok || src == nil || src.Event == nil {
		return handoffJob{}, false
	}
	return handoffJob{ID: j.ID, RequestID: j.RequestID, ProjectID: j.ProjectID, RobotID: j.RobotID, Created: j.Created,
		Tries: j.Tries, Repeats: j.Repeats, Folded: j.Folded, RepeatKey: j.RepeatKey, Repeated: src.Repeated,
		PossibleRepeat: j.PossibleRepeat, Event: src.Event, SilentUntil: src.SilentUntil, Facts: j.Facts}, true
}

// handoffMaxIDs bounds the hand-off ids remembered within handoffMaxAge.
const handoffMaxIDs = 50000

func handoffSignature(token string, ts string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(token))
	mac.Write([]byte(ts))
	mac.Write([]byte{'\n'})
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// beforeFreeze runs at the end of a request on Function Compute: it hands
// queued alerts to an asynchronous invocation and writes the delivery
// history, since nothing may run once the answer is sent.
func (h *Handler) beforeFreeze(ctx context.Context, log *slog.Logger) {
	if h.o.SelfURL != "" {
		if jobs := h.disp.TakeQueued(); len(jobs) > 0 {
			left, err := h.postHandoff(ctx, jobs)
			if err != nil {
				log.Error("hand-off to an asynchronous invocation failed; alerts stay queued here",
					"alerts", len(left), "error", notify.Redact(err.Error()))
			} else if len(left) > 0 {
				log.Warn("alerts restored from this instance's spool cannot be handed off; they go out with a later request here", "alerts", len(left))
			}
			_ = h.disp.Enqueue(left)
			if n := len(jobs) - len(left); n > 0 {
				log.Info("alerts handed to an asynchronous invocation", "alerts", n)
			}
		}
	}
	if h.o.History != nil {
		if err := h.o.History.Flush(ctx); err != nil {
			log.Warn("delivery history not written", "error", notify.Redact(err.Error()))
		}
	}
}

// postHandoff hands jobs to asynchronous invocations, as many as it takes
// to keep each body under FC's limit. It returns the jobs not handed on:
// those without a Source, and on an error those not yet sent.
func (h *Handler) postHandoff(ctx context.Context, jobs []*dispatch.Job) ([]*dispatch.Job, error) {
	var kept, sendable []*dispatch.Job
	var out []handoffJob
	for _, j := range jobs {
		if hj, ok := toHandoff(j); ok {
			sendable, out = append(sendable, j), append(out, hj)
		} else {
			kept = append(kept, j)
		}
	}
	if len(out) == 0 {
		return kept, nil
	}
	x, err := h.o.Docs.Get(ctx)
	if err != nil {
		return jobs, err
	}
	for sent := 0; sent < len(out); {
		n, body, err := handoffChunk(out[sent:])
		if err == nil {
			err = h.postHandoffBody(ctx, x.Doc.WebhookToken.Reveal(), body)
		}
		if err != nil {
			return append(kept, sendable[sent:]...), err
		}
		sent += n
	}
	return kept, nil
}

// handoffChunk encodes as many of jobs (at least one) as fit one hand-off
// body, under a new id, and says how many.
func handoffChunk(jobs []handoffJob) (int, []byte, error) {
	id := dispatch.NewID() + dispatch.NewID()
	size, n := len(`{"id":"`+id+`","jobs":[]}`), 0
	for n < len(jobs) {
		b, err := json.Marshal(jobs[n])
		if err != nil {
			return 0, nil, err
		}
		if n > 0 && size+len(b)+1 > handoffMaxBody {
			break
		}
		size += len(b) + 1
		n++
	}
	body, err := json.Marshal(handoffBody{ID: id, Jobs: jobs[:n]})
	return n, body, err
}

func (h *Handler) postHandoffBody(ctx context.Context, token string, body []byte) error {
	ts := strconv.FormatInt(h.o.Now().Unix(), 10)
	url := strings.TrimRight(h.o.SelfURL, "/") + handoffPath
	req, err := http.NewRequestWithContext(context.WithoutCancel(ctx), http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("hand-off URL: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Fc-Invocation-Type", "Async")
	req.Header.Set("X-Sentry-White-Timestamp", ts)
	req.Header.Set("X-Sentry-White-Signature", handoffSignature(token, ts, body))
	resp, err := h.o.Client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("hand-off answered HTTP %d", resp.StatusCode)
	}
	return nil
}

// handoff runs in the asynchronous invocation: it checks the signature,
// time and id (each hand-off is accepted once), renders and addresses the
// alerts again from the current document, and delivers them, waiting for
// the robots' budgets if it must.
func (h *Handler) handoff(w http.ResponseWriter, r *http.Request) {
	ctx := h.withCredentials(r)
	log := h.log.With("request_id", requestID(r))
	if !h.o.FC {
		writeJSON(w, http.StatusNotFound, map[string]any{"error": "not found: the webhook URL is / or /webhook"})
		return
	}
	if r.Method != http.MethodPost {
		writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"error": "method not allowed"})
		return
	}
	x, err := h.o.Docs.Get(ctx)
	if err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": describeStoreError(err)})
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil || len(body) > MaxBody {
		writeJSON(w, http.StatusRequestEntityTooLarge, map[string]any{"error": "hand-off body too large"})
		return
	}
	ts := r.Header.Get("X-Sentry-White-Timestamp")
	sec, _ := strconv.ParseInt(ts, 10, 64)
	at := time.Unix(sec, 0)
	age := h.o.Now().Sub(at)
	want := handoffSignature(x.Doc.WebhookToken.Reveal(), ts, body)
	if x.Doc.WebhookToken == "" || !hmac.Equal([]byte(want), []byte(r.Header.Get("X-Sentry-White-Signature"))) ||
		age > handoffMaxAge || age < -time.Minute {
		log.Warn("hand-off refused: bad signature or timestamp")
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "the hand-off signature is missing, wrong or expired"})
		return
	}
	var hb handoffBody
	if err = json.Unmarshal(body, &hb); err != nil || !validID(hb.ID) {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "hand-off body: it needs an id and its jobs"})
		return
	}
	switch h.handoffs.Use(hb.ID, at.Add(handoffMaxAge+time.Minute), h.o.Now()) {
	case nonce.Replayed:
		log.Warn("hand-off refused: already accepted", "handoff", hb.ID)
		writeJSON(w, http.StatusConflict, map[string]any{"error": "this hand-off was already accepted; nothing is sent again"})
		return
	case nonce.Full:
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": "too many hand-offs to remember; try again later"})
		return
	}
	jobs := make([]*dispatch.Job, 0, len(hb.Jobs))
	for _, hj := range hb.Jobs {
		src := &plan.Source{Repeated: hj.Repeated, SilentUntil: hj.SilentUntil}
		if hj.Event != nil {
			src.Event = render.Facts(hj.Event)
		}
		j, err := h.plan.Rerender(x, src, hj.ProjectID, hj.RobotID, hj.RequestID, hj.Created)
		if err != nil {
			log.Warn("handed-off alert not sent: the configuration no longer sends it there", "handoff", hb.ID,
				"project_id", hj.ProjectID, "robot_id", hj.RobotID, "error", err.Error())
			continue
		}
		if validID(hj.ID) {
			j.ID = hj.ID
		}
		j.Tries, j.Repeats, j.Folded, j.RepeatKey = max(hj.Tries, 0), max(hj.Repeats, 0), max(hj.Folded, 0), hj.RepeatKey
		j.PossibleRepeat, j.Facts = hj.PossibleRepeat, hj.Facts
		jobs = append(jobs, j)
	}
	_ = h.disp.Enqueue(jobs)
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 14*time.Minute)
	defer cancel()
	_ = h.disp.Drain(dctx) // on timeout, what is left is handed on below
	if h.o.History != nil {
		if ferr := h.o.History.Flush(ctx); ferr != nil {
			log.Warn("delivery history not written", "error", notify.Redact(ferr.Error()))
		}
	}
	left := h.disp.TakeQueued()
	log.Info("hand-off drained", "handoff", hb.ID, "alerts", len(jobs), "refused", len(hb.Jobs)-len(jobs), "left", len(left))
	if len(left) > 0 {
		// The invocation ran out of time (a robot blocked for long): pass
		// what is left to a new invocation rather than re-run this one,
		// which would send the delivered alerts twice.
		if rest, perr := h.postHandoff(ctx, left); perr != nil || len(rest) > 0 {
			_ = h.disp.Enqueue(rest)
			msg := "alerts still wait for budget"
			if perr != nil {
				msg += ": " + notify.Redact(perr.Error())
			}
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": msg, "left": len(rest)})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "delivered", "alerts": len(jobs), "refused": len(hb.Jobs) - len(jobs), "handed_on": len(left)})
}

// validID accepts a hand-off's or a job's id: 1 to 64 letters, digits,
// '-' and '_' (a job's id names its spool file).
func validID(s string) bool {
	return len(s) > 0 && len(s) <= 64 && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") == ""
}
