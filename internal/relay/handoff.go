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
	"github.com/sentry-white/sentry-white/internal/notify"
)

// handoffPath receives alerts that one Function Compute invocation could
// not deliver before answering Sentry. The relay posts them to its own
// trigger URL as an asynchronous invocation (X-Fc-Invocation-Type: Async):
// FC persists the request and runs it, with retries, in an invocation that
// may wait for the robot's budget. The body is signed with the webhook
// token, so no one else can use this path.
const handoffPath = "/internal/handoff"

// handoffMaxAge bounds how late an asynchronous invocation may arrive.
const handoffMaxAge = 6 * time.Hour

// handoffMaxBody keeps each hand-off under Function Compute's 128 KB limit
// on an asynchronous request body, with room for the envelope.
const handoffMaxBody = 120 << 10

type handoffBody struct {
	Jobs []*dispatch.Job `json:"jobs"`
}

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
			if left, err := h.postHandoff(ctx, jobs); err != nil {
				log.Error("hand-off to an asynchronous invocation failed; alerts stay queued here",
					"alerts", len(left), "error", notify.Redact(err.Error()))
				_ = h.disp.Enqueue(left)
			} else {
				log.Info("alerts handed to an asynchronous invocation", "alerts", len(jobs))
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
// to keep each body under FC's limit. Jobs name their robots by id and
// hold no credential. On an error, the jobs not yet handed on are
// returned.
func (h *Handler) postHandoff(ctx context.Context, jobs []*dispatch.Job) ([]*dispatch.Job, error) {
	x, err := h.o.Docs.Get(ctx)
	if err != nil {
		return jobs, err
	}
	for len(jobs) > 0 {
		n, body, err := handoffChunk(jobs)
		if err != nil {
			return jobs, err
		}
		if err := h.postHandoffBody(ctx, x.Doc.WebhookToken.Reveal(), body); err != nil {
			return jobs, err
		}
		jobs = jobs[n:]
	}
	return nil, nil
}

// handoffChunk encodes as many of jobs (at least one) as fit one hand-off
// body and says how many.
func handoffChunk(jobs []*dispatch.Job) (int, []byte, error) {
	size, n := len(`{"jobs":[]}`), 0
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
	body, err := json.Marshal(handoffBody{Jobs: jobs[:n]})
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

// handoff runs in the asynchronous invocation: it checks the signature and
// delivers the alerts, waiting for the robots' budgets if it must.
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
	age := h.o.Now().Sub(time.Unix(sec, 0))
	want := handoffSignature(x.Doc.WebhookToken.Reveal(), ts, body)
	if x.Doc.WebhookToken == "" || !hmac.Equal([]byte(want), []byte(r.Header.Get("X-Sentry-White-Signature"))) ||
		age > handoffMaxAge || age < -time.Minute {
		log.Warn("hand-off refused: bad signature or timestamp")
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "the hand-off signature is missing, wrong or expired"})
		return
	}
	var hb handoffBody
	if err = json.Unmarshal(body, &hb); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "hand-off body: " + err.Error()})
		return
	}
	_ = h.disp.Enqueue(hb.Jobs)
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 14*time.Minute)
	defer cancel()
	_ = h.disp.Drain(dctx) // on timeout, what is left is handed on below
	if h.o.History != nil {
		if ferr := h.o.History.Flush(ctx); ferr != nil {
			log.Warn("delivery history not written", "error", notify.Redact(ferr.Error()))
		}
	}
	left := h.disp.TakeQueued()
	log.Info("hand-off drained", "alerts", len(hb.Jobs), "left", len(left))
	if len(left) > 0 {
		// The invocation ran out of time (a robot blocked for long): pass
		// what is left to a new invocation rather than re-run this one,
		// which would send the delivered alerts twice.
		if rest, perr := h.postHandoff(ctx, left); perr != nil {
			_ = h.disp.Enqueue(rest)
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": "alerts still wait for budget: " + notify.Redact(perr.Error()), "left": len(left)})
			return
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "delivered", "alerts": len(hb.Jobs), "handed_on": len(left)})
}
