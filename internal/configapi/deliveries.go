package configapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/deliveries"
	"github.com/sentry-white/sentry-white/internal/dispatch"
	"github.com/sentry-white/sentry-white/internal/notify"
	"github.com/sentry-white/sentry-white/internal/plan"
	"github.com/sentry-white/sentry-white/internal/store"
)

// The delivery history: what the relay sent (internal/deliveries, in the
// store being edited), listed with filters, and failed deliveries re-sent
// through the relay's own sender code.

// deliveryLog opens the delivery history of the store being edited.
func (s *Server) deliveryLog() (*deliveries.Log, error) {
	docs, err := s.docs()
	if err != nil {
		return nil, err
	}
	return deliveries.New(docs.B, docs.Prefix, s.log), nil
}

// deliveryFilter reads ?project=&robot=&result=&since=&limit=. since is a
// time (RFC 3339), a day (2006-01-02, local midnight) or a duration back
// from now (24h, 90m).
func deliveryFilter(r *http.Request, now time.Time) (deliveries.Filter, error) {
	q := r.URL.Query()
	f := deliveries.Filter{
		Project: strings.TrimSpace(q.Get("project")),
		Robot:   strings.TrimSpace(q.Get("robot")),
		Result:  strings.TrimSpace(q.Get("result")),
	}
	switch f.Result {
	case "", "all":
		f.Result = ""
	case deliveries.Delivered, deliveries.Failed, deliveries.Refused, deliveries.Held, deliveries.Acted:
	default:
		return f, badRequest("result", "filter_result", kv{"value": f.Result}, "result must be delivered, failed, refused, held, action or empty for all, not %q", f.Result)
	}
	if v := strings.TrimSpace(q.Get("since")); v != "" {
		if t, err := time.Parse(time.RFC3339, v); err == nil {
			f.Since = t
		} else if t, err := time.ParseInLocation("2006-01-02", v, time.Local); err == nil {
			f.Since = t
		} else if d, err := time.ParseDuration(v); err == nil && d > 0 {
			f.Since = now.Add(-d)
		} else {
			return f, badRequest("since", "filter_since", kv{"value": v}, "since must be a time such as 2025-06-01T08:00:00+08:00, a day such as 2025-06-01 or a duration such as 24h, not %q", v)
		}
	}
	if v := strings.TrimSpace(q.Get("limit")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > deliveries.MaxList {
			return f, badRequest("limit", "filter_limit", kv{"value": v, "max": deliveries.MaxList}, "limit must be a number from 1 to %d, not %q", deliveries.MaxList, v)
		}
		f.Limit = n
	}
	return f, nil
}

// deliveryView is a record as the API shows it: without the message (GET
// /deliveries/{id} adds it), with a fix in words for a failure, whether it
// can be re-sent, and the latest re-send of it.
func (s *Server) deliveryView(rec deliveries.Record, robots map[int64]*config.Robot, resends map[string]deliveries.Record) map[string]any {
	v := map[string]any{
		"id": rec.ID, "time": rec.Time, "project": rec.Project, "project_name": rec.ProjectName,
		"robot_id": rec.RobotID, "robot": rec.Robot, "kind": rec.Kind, "result": rec.Result,
		"attempts": rec.Attempts, "latency_ms": rec.LatencyMS, "title": rec.Title, "link": rec.Link,
		"level": rec.Level, "digest": rec.Digest,
	}
	if rec.RequestID != "" {
		v["request_id"] = rec.RequestID
	}
	if rec.PayloadOrganization != "" {
		v["payload_organization"] = rec.PayloadOrganization
	}
	if rec.ResendOf != "" {
		v["resend_of"] = rec.ResendOf
	}
	if rec.Rule != "" {
		v["rule"] = rec.Rule
	}
	if rec.Facts != "" {
		v["facts"] = rec.Facts
	}
	if rec.State != "" {
		v["state"] = rec.State
	}
	if rec.Escalation > 0 {
		v["escalation"] = rec.Escalation // the step of an escalation this message was
	}
	if rec.Result == deliveries.Held {
		// Held through its project's quiet hours: until when, and whether
		// its digest went out (a later record with its id).
		v["held_until"] = rec.HeldUntil
		if rs, ok := resends[heldKey(rec.ID)]; ok {
			v["released"] = map[string]any{"time": rs.Time, "result": rs.Result, "digest": rs.Digest}
		}
		return v
	}
	if rec.Result == deliveries.Refused {
		// A webhook the relay refused: why, and what Sentry sent.
		v["cause"], v["status"], v["error"], v["fix"] = rec.Cause, rec.Status, notify.Redact(rec.Error), rec.Fix
		for k, s := range map[string]string{"resource": rec.Resource, "org": rec.Org, "host": rec.Host} {
			if s != "" {
				v[k] = s
			}
		}
		return v
	}
	if rec.Result == deliveries.Acted && rec.Action != nil {
		// An action taken from the chat: who, what, Sentry's answer.
		v["action"] = rec.Action
		if rec.Error != "" {
			v["error"], v["fix"] = notify.Redact(rec.Error), rec.Fix
		}
		return v
	}
	if rec.Result == deliveries.Failed {
		// The recorded error ends with the fix; the fix is its own member.
		v["code"], v["error"] = rec.Code, notify.Redact(strings.TrimSuffix(rec.Error, " ("+rec.Fix+")"))
		var robot *config.Robot
		if rb := robots[rec.RobotID]; rb != nil && rb.Kind == rec.Kind {
			robot = rb
		}
		fix, code, params := s.recordFix(rec, robot)
		if fix != "" {
			v["fix"], v["fix_code"] = fix, code
			if len(params) > 0 {
				v["fix_params"] = params
			}
		}
		v["resendable"] = rec.Message != nil
		if robots != nil {
			rb := robots[rec.RobotID]
			v["robot_exists"] = rb != nil && rb.Kind == rec.Kind
		}
		if rs, ok := resends[rec.ID]; ok {
			v["resent"] = map[string]any{"id": rs.ID, "time": rs.Time, "result": rs.Result}
		}
	}
	return v
}

// currentRobots indexes the robots of the document; nil when it cannot be
// read (the history is still shown).
func (s *Server) currentRobots(ctx context.Context) map[int64]*config.Robot {
	d, _, err := s.load(ctx)
	if err != nil {
		return nil
	}
	m := make(map[int64]*config.Robot, len(d.Robots))
	for i := range d.Robots {
		m[d.Robots[i].ID] = &d.Robots[i]
	}
	return m
}

// heldKey is where latestResends keeps the outcome of the held alert id.
func heldKey(id string) string { return "held:" + id }

// latestResends maps each failed record among recs to the newest record
// that re-sent it, and each held one (under heldKey) to its outcome.
func latestResends(ctx context.Context, l *deliveries.Log, recs []deliveries.Record) map[string]deliveries.Record {
	var oldest, oldestHeld time.Time
	held := map[string]bool{}
	for _, r := range recs {
		switch {
		case r.Result == deliveries.Failed && (oldest.IsZero() || r.Time.Before(oldest)):
			oldest = r.Time
		case r.Result == deliveries.Held:
			held[r.ID] = true
			if oldestHeld.IsZero() || r.Time.Before(oldestHeld) {
				oldestHeld = r.Time
			}
		}
	}
	out := map[string]deliveries.Record{}
	if !oldest.IsZero() {
		if rs, err := l.Resends(ctx, oldest); err == nil {
			out = rs
		}
	}
	if len(held) > 0 {
		if rel, err := l.Outcomes(ctx, oldestHeld, held); err == nil {
			for id, r := range rel {
				out[heldKey(id)] = r
			}
		}
	}
	return out
}

// listDeliveries answers GET /api/v1/deliveries.
func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request) {
	f, err := deliveryFilter(r, time.Now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	l, err := s.deliveryLog()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	recs, err := l.List(r.Context(), f)
	if err != nil {
		s.fail(w, r, storeError(fmt.Errorf("read the delivery history: %w", err)))
		return
	}
	robots := s.currentRobots(r.Context())
	resends := latestResends(r.Context(), l, recs)
	list := make([]map[string]any, len(recs))
	for i, rec := range recs {
		list[i] = s.deliveryView(rec, robots, resends)
	}
	limit := f.Limit
	if limit == 0 {
		limit = deliveries.MaxList
	}
	writeJSON(w, http.StatusOK, map[string]any{"deliveries": list, "count": len(list), "limit": limit,
		"truncated": len(list) >= limit, "keep_days": deliveries.KeepDays})
}

// findDelivery reads the record named in the path.
func (s *Server) findDelivery(r *http.Request) (*deliveries.Log, deliveries.Record, error) {
	id := r.PathValue("id")
	l, err := s.deliveryLog()
	if err != nil {
		return nil, deliveries.Record{}, err
	}
	rec, err := l.Get(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, rec, &apiError{Status: http.StatusNotFound, Code: "delivery_not_found", Params: kv{"id": id, "days": deliveries.KeepDays},
			Msg: fmt.Sprintf("delivery %q is not in the history (it keeps the last %d days)", id, deliveries.KeepDays)}
	}
	if err != nil {
		return nil, rec, storeError(fmt.Errorf("read the delivery history: %w", err))
	}
	return l, rec, nil
}

// getDelivery answers GET /api/v1/deliveries/{id}: the record and, for a
// failure, the message it would re-send.
func (s *Server) getDelivery(w http.ResponseWriter, r *http.Request) {
	l, rec, err := s.findDelivery(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	v := s.deliveryView(rec, s.currentRobots(r.Context()), latestResends(r.Context(), l, []deliveries.Record{rec}))
	if rec.Message != nil {
		v["message"] = s.messageView(rec.Message)
	}
	writeJSON(w, http.StatusOK, v)
}

// resendTimeout bounds a re-send, retries included.
const resendTimeout = 30 * time.Second

// resendDelivery answers POST /api/v1/deliveries/{id}/resend: the failed
// message goes again to the robot (as configured now: its token, secret
// and keyword) with the relay's retry policy, and the outcome is added to
// the history as a new record pointing at the old one.
//
// A record a re-send already delivered is refused (409 already_resent:
// sending it again @-mentions everyone again) unless the body says
// {"again": true}.
func (s *Server) resendDelivery(w http.ResponseWriter, r *http.Request) {
	body, err := readObject(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var again bool
	if raw, ok := body["again"]; ok && json.Unmarshal(raw, &again) != nil {
		s.fail(w, r, badRequest("again", "json_type", kv{"got": string(raw), "want": "bool"}, "again must be true or false"))
		return
	}
	l, rec, err := s.findDelivery(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if rs, ok := latestResends(r.Context(), l, []deliveries.Record{rec})[rec.ID]; ok && rs.Result == deliveries.Delivered && !again {
		s.fail(w, r, &apiError{Status: http.StatusConflict, Code: "already_resent", Params: kv{"id": rs.ID, "time": rs.Time, "robot": rs.Robot},
			Msg: fmt.Sprintf("a re-send of delivery %s was already delivered to %s at %s; sending it again @-mentions everyone again: send {\"again\": true} to do it anyway",
				rec.ID, rs.Robot, rs.Time.Format(time.RFC3339))})
		return
	}
	if rec.Result != deliveries.Failed {
		s.fail(w, r, &apiError{Status: http.StatusConflict, Code: "not_failed", Params: kv{"id": rec.ID, "result": rec.Result, "robot": rec.Robot},
			Msg: fmt.Sprintf("delivery %s was %s to %s; only failed deliveries can be re-sent", rec.ID, rec.Result, rec.Robot)})
		return
	}
	if rec.Message == nil {
		s.fail(w, r, &apiError{Status: http.StatusUnprocessableEntity, Code: "no_message", Params: kv{"id": rec.ID, "link": rec.Link},
			Msg: fmt.Sprintf("delivery %s does not hold the message, so it cannot be re-sent; the alert is in Sentry: %s", rec.ID, rec.Link)})
		return
	}
	d, _, err := s.load(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	robot := config.NewIndex(d).Robot(rec.RobotID)
	if robot == nil {
		s.fail(w, r, &apiError{Status: http.StatusConflict, Code: "robot_deleted", Params: kv{"robot": rec.Robot, "id": rec.RobotID},
			Msg: fmt.Sprintf("robot %q (id %d) is no longer in the configuration, so there is nowhere to re-send this message; open the alert in Sentry instead", rec.Robot, rec.RobotID)})
		return
	}
	if robot.Kind != rec.Kind {
		s.fail(w, r, &apiError{Status: http.StatusConflict, Code: "robot_changed",
			Params: kv{"id": rec.RobotID, "robot": robot.Name, "kind": robot.Kind, "was_kind": rec.Kind, "was_robot": rec.Robot},
			Msg:    fmt.Sprintf("robot id %d is now %q, a %s robot, not the %s robot %q this message was for; it is not re-sent", rec.RobotID, robot.Name, robot.Kind, rec.Kind, rec.Robot)})
		return
	}
	msg := *rec.Message
	msg.Keyword = robot.EffectiveKeyword() // the keyword may have been the fault, since fixed
	ctx, cancel := context.WithTimeout(r.Context(), resendTimeout)
	defer cancel()
	start := time.Now()
	sent := s.post(ctx, robot, &msg, notify.DefaultPolicy)
	res := s.describe(robot, &msg, sent)
	res.Project = rec.ProjectName
	if res.Project == "" {
		res.Project = rec.Project
	}
	// Recorded as the relay records its deliveries, pointing at the old one.
	next := plan.Record(dispatch.Outcome{
		Job: &dispatch.Job{ID: dispatch.NewID(), RobotID: robot.ID, Kind: robot.Kind, Project: rec.Project,
			ProjectName: rec.ProjectName, PayloadOrg: rec.PayloadOrganization, Message: msg, Created: start},
		Robot: robot, Message: &msg, Attempts: sent.Attempts, Err: sent.Err, Digest: rec.Digest, At: time.Now(),
	})
	next.ResendOf = rec.ID
	if fix := res.Fix; next.Result == deliveries.Failed && fix != "" {
		next.Fix, next.FixCode, next.FixParams = fix, res.FixCode, res.FixParams
	}
	s.log.Info("delivery re-sent", "delivery", rec.ID, "robot", robot.Name, "kind", robot.Kind, "ok", res.OK,
		"code", res.Code, "attempts", res.Attempts)
	l.Add(next)
	answer := map[string]any{"ok": res.OK, "result": res, "record": s.deliveryView(next, nil, nil)}
	if err := l.Flush(r.Context()); err != nil {
		answer["history_error"] = "the outcome was not added to the delivery history: " + describeStoreError(err)
		answer["history_error_code"], answer["history_error_params"] = "history_unwritten", kv{"cause": storeErrorCode(err), "detail": notify.Redact(err.Error())}
		s.log.Warn("delivery history not written", "error", notify.Redact(err.Error()))
	}
	writeJSON(w, http.StatusOK, answer)
}

// recordFix says what to do about a recorded failure, in English and coded:
// the fix recorded with it. A record of an earlier version kept its fix in
// English only: for it, the robot kind explains the robot's answer code
// again (for the robot as configured now), else the English is shown as it
// is; a record without a fix gets what its answer code suggests.
func (s *Server) recordFix(rec deliveries.Record, robot *config.Robot) (text, code string, params kv) {
	if rec.FixCode != "" {
		return rec.Fix, rec.FixCode, rec.FixParams
	}
	if k := s.kinds.Lookup(rec.Kind); rec.Code != 0 && k != nil && k.Explain != nil {
		if f := k.Explain(rec.Code, answerText(rec), robot == nil || robot.Secret != ""); f != nil {
			return f.String(), f.Code, f.Params
		}
	}
	if rec.Fix != "" {
		return rec.Fix, "text", kv{"text": rec.Fix}
	}
	if rec.Code != 0 {
		return failureFix(&notify.Error{Code: rec.Code})
	}
	return "", "", nil
}

// answerText is the robot's own answer in a recorded error (`robot "x"
// answered errcode 310000: keywords not in content (…)`).
func answerText(rec deliveries.Record) string {
	msg := rec.Error
	if _, after, ok := strings.Cut(msg, fmt.Sprintf("errcode %d: ", rec.Code)); ok {
		msg = after
	}
	return strings.TrimSuffix(msg, " ("+rec.Fix+")")
}
