package actions

import (
	"context"
	"errors"
	"hash/fnv"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sentry-white/sentry-white/internal/actlink"
	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/deliveries"
	"github.com/sentry-white/sentry-white/internal/dispatch"
	"github.com/sentry-white/sentry-white/internal/escalate"
	"github.com/sentry-white/sentry-white/internal/notify"
	"github.com/sentry-white/sentry-white/internal/render"
	"github.com/sentry-white/sentry-white/internal/sentry"
	"github.com/sentry-white/sentry-white/internal/sentryapi"
)

// post acts: the form's POST, checked (origin, form token, who), then the
// change through Sentry, recorded, and the group told.
func (h *Handler) post(w http.ResponseWriter, r *http.Request, t *target) {
	start := h.o.Now()
	if !t.sameOrigin(r) {
		h.refused(r, "origin", t.link)
		h.message(w, http.StatusForbidden, "error", bi{"这个请求来自别的网站", "This request came from another site"},
			bi{"只有中继自己的确认页面能操作。什么也没有改动。请从群里的告警消息打开链接。", "Only the relay's own confirm page can act. Nothing was changed. Open the link from the alert in the group."})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxForm)
	if err := r.ParseForm(); err != nil {
		h.refused(r, "form", t.link)
		h.message(w, http.StatusBadRequest, "error", bi{"表单无法读取", "The form cannot be read"},
			bi{"什么也没有改动。请重新打开链接。", "Nothing was changed. Open the link again."})
		return
	}
	switch err := actlink.CheckFormToken(t.key, t.link, r.PostForm.Get("ft"), start); {
	case errors.Is(err, actlink.ErrFormTokenOld):
		h.confirm(w, r, t, &bi{"这个页面打开太久了，什么也没有改动。请确认后再按一次按钮。", "This page was opened too long ago; nothing was changed. Check and press the button again."})
		return
	case err != nil:
		h.refused(r, "form_token", t.link)
		h.message(w, http.StatusForbidden, "error", bi{"这个请求不是从确认页面发出的", "This request did not come from the confirm page"},
			bi{"只有确认页面上的按钮能操作。什么也没有改动。请重新打开链接再按按钮。", "Only the confirm page's button acts. Nothing was changed. Open the link again and press the button."})
		return
	}
	var owner *config.Owner
	if id, err := strconv.ParseInt(r.PostForm.Get("who"), 10, 64); err == nil {
		for _, o := range t.candidates() {
			if o.ID == id {
				owner = o
			}
		}
	}
	switch {
	case owner == nil:
		h.confirm(w, r, t, &bi{"请选择谁在操作（必须是这个项目的负责人）。什么也没有改动。", "Choose who is acting (one of the project's owners). Nothing was changed."})
		return
	case t.link.Action == actlink.Take && owner.SentryUser == "":
		problem := biF("%s 没有设置 Sentry 用户（sentry_user），不能指派给他。什么也没有改动。",
			"%s has no Sentry user (sentry_user) set, so the issue cannot be assigned to them. Nothing was changed.", owner.Name)
		h.confirm(w, r, t, &problem)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: whoCookie, Value: strconv.FormatInt(owner.ID, 10), Path: actlink.PathPrefix,
		MaxAge: 400 * 24 * 3600, HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: r.TLS != nil || strings.HasPrefix(strings.ToLower(t.x.Doc.RelayURL), "https:")})

	mu := &h.locks[lockIndex(t.link.Org, t.link.Issue)]
	mu.Lock()
	res := h.act(r.Context(), t, owner)
	mu.Unlock()
	if res.outcome == deliveries.ActionDone || res.outcome == deliveries.ActionAlready {
		h.acknowledge(r.Context(), t, owner)
	}
	rec := h.record(t, owner, res, start)
	if h.o.History != nil {
		h.o.History.Add(rec)
		if h.o.FC {
			if err := h.o.History.Flush(r.Context()); err != nil {
				h.log.Warn("delivery history not written", "error", notify.Redact(err.Error()))
			}
		}
	}
	h.log.Info("action", "org", t.org.ID, "project", t.link.Project, "issue", t.link.Issue, "action", t.link.Action,
		"owner", owner.ID, "outcome", res.outcome, "sentry_status", rec.Action.SentryStatus, "follow_up", res.followUp)
	h.result(w, t, owner, res)
}

// acknowledge stops the issue's escalation (package escalate): someone
// took it from the chat. Without a store there is no escalation to stop.
func (h *Handler) acknowledge(ctx context.Context, t *target, owner *config.Owner) {
	if h.o.Store == nil {
		return
	}
	if err := escalate.Ack(ctx, h.o.Store, h.o.Prefix, t.org.ID, t.link.Issue, owner.Name); err != nil {
		h.log.Warn("the action's acknowledgement could not be recorded; the issue may still escalate", "org", t.org.ID,
			"issue", t.link.Issue, "error", notify.Redact(err.Error()))
	}
}

func lockIndex(org int64, issue string) int {
	f := fnv.New32a()
	f.Write([]byte(strconv.FormatInt(org, 10) + "/" + issue))
	return int(f.Sum32() % 64)
}

// outcome is what acting did.
type outcome struct {
	outcome    string           // deliveries.ActionDone, …
	before     *sentryapi.Issue // as read before acting, when it could be
	after      *sentryapi.Issue // as Sentry answered the change (or as it was)
	err        *sentryapi.Error // Sentry's refusal, or why nothing was asked
	notAMember bool             // the assignee is not in the organization's member list
	assignee   string           // the assignedTo sent, for take
	followUp   string
}

// assignee is whom a take assigns: the owner's sentry_user, and Sentry's
// user id for it when the member list could be read.
type assignee struct{ raw, id string }

// act changes the issue unless it already is so.
func (h *Handler) act(ctx context.Context, t *target, owner *config.Owner) *outcome {
	org, id := t.org, t.link.Issue
	tok := t.org.APIToken.Reveal()
	res := &outcome{}
	cctx, cancel := h.sentryCtx(ctx)
	before, err := h.o.Sentry.Issue(cctx, org.SentryURL, org.Slug, tok, id)
	cancel()
	if err != nil {
		se := asSentryError(err)
		switch se.Code {
		case sentryapi.CodeNotFound, sentryapi.CodeForbidden, sentryapi.CodeUnauthorized, sentryapi.CodeNoToken, sentryapi.CodeBadURL:
			res.outcome, res.err = deliveries.ActionRefused, se
			return res
		}
		// Not readable now (rate limit, timeout, network): act anyway;
		// Sentry's update is idempotent.
	}
	res.before = before
	var who *assignee
	if t.link.Action == actlink.Take {
		who = &assignee{raw: strings.TrimSpace(owner.SentryUser)}
		cctx, cancel := h.sentryCtx(ctx)
		members, err := h.o.Sentry.Members(cctx, org.SentryURL, org.Slug, tok)
		cancel()
		if err == nil {
			for i := range members {
				if m := &members[i]; m.Matches(who.raw) && !m.Pending {
					who.id = m.User.ID
				}
			}
			if who.id == "" {
				res.outcome, res.notAMember = deliveries.ActionRefused, true
				return res
			}
		}
		// Without the member list (no member:read), Sentry resolves the
		// username or email itself, and refuses one it does not know.
		res.assignee = who.raw
		if who.id != "" {
			res.assignee = "user:" + who.id
		}
	}
	if before != nil && alreadySo(t.link.Action, before, who) {
		res.outcome, res.after = deliveries.ActionAlready, before
		return res
	}
	update := sentryapi.IssueUpdate{Status: "resolved"}
	switch t.link.Action {
	case actlink.Ignore:
		update = sentryapi.IssueUpdate{Status: "ignored", StatusDetails: &sentryapi.StatusDetails{IgnoreDuration: actlink.IgnoreMinutes}}
	case actlink.Take:
		update = sentryapi.IssueUpdate{AssignedTo: res.assignee}
	}
	mark := h.recent.begin(ctx, t.org.ID, id, t.link.Action, owner.Name)
	cctx, cancel = h.sentryCtx(ctx)
	after, err := h.o.Sentry.UpdateIssue(cctx, org.SentryURL, org.Slug, tok, id, update)
	cancel()
	if err != nil {
		res.err = asSentryError(err)
		res.outcome = deliveries.ActionRefused
		if res.err.Code == sentryapi.CodeTimeout || res.err.Code == sentryapi.CodeNetwork || res.err.Code == sentryapi.CodeServer {
			// The change may have been made: Sentry's state says.
			cctx, cancel := h.sentryCtx(ctx)
			now, rerr := h.o.Sentry.Issue(cctx, org.SentryURL, org.Slug, tok, id)
			cancel()
			switch {
			case rerr == nil && alreadySo(t.link.Action, now, who):
				after, res.err = now, nil
			case rerr == nil:
				res.after = now // not made: say how it is
			default:
				res.outcome = deliveries.ActionUnknown
			}
		}
		if res.err != nil {
			if res.outcome == deliveries.ActionRefused {
				h.recent.cancel(ctx, mark)
			}
			return res
		}
	}
	res.outcome, res.after = deliveries.ActionDone, after
	h.recent.done(ctx, mark)
	res.followUp = h.tell(ctx, t, owner, res)
	return res
}

// alreadySo reports whether is already is what the action makes it.
func alreadySo(action string, is *sentryapi.Issue, who *assignee) bool {
	switch action {
	case actlink.Resolve:
		return is.Status == "resolved"
	case actlink.Ignore:
		return is.Status == "ignored"
	case actlink.Take:
		a := is.AssignedTo
		if who == nil || a == nil || a.Type != "user" {
			return false
		}
		if who.id != "" {
			return a.ID == who.id
		}
		raw := strings.TrimPrefix(who.raw, "user:")
		return raw == a.ID || a.Email != "" && strings.EqualFold(raw, a.Email)
	}
	return false
}

// tell posts the follow-up of a change made: the issue event Sentry's own
// webhook would have brought, saying who acted and that it was from the
// chat.
func (h *Handler) tell(ctx context.Context, t *target, owner *config.Owner, res *outcome) string {
	if t.prj == nil {
		return "the project is no longer configured"
	}
	if h.o.Tell == nil {
		return "off"
	}
	is := res.after
	if is == nil {
		is = res.before
	}
	ev := &sentry.Event{Resource: sentry.ResourceIssue, IssueID: t.link.Issue, ProjectSlugs: []string{t.prj.Slug}, OrgSlug: t.org.Slug,
		Title: "Sentry issue " + t.link.Issue}
	if is != nil {
		ev.Title, ev.Culprit, ev.Level, ev.ShortID, ev.URL = is.Title, is.Culprit, is.Level, is.ShortID, is.Permalink
	}
	ev.Actor = owner.Name + "，在群里操作"
	if h.o.Lang == "en" {
		ev.Actor = owner.Name + ", from the chat"
	}
	switch t.link.Action {
	case actlink.Resolve:
		ev.Action, ev.State = "resolved", sentry.StateResolved
	case actlink.Ignore:
		ev.Action, ev.State = "ignored", sentry.StateIgnored
		ev.Message = "忽略 1 小时"
		if h.o.Lang == "en" {
			ev.Message = "ignored for an hour"
		}
		if is != nil {
			if until, err := time.Parse(time.RFC3339, is.StatusDetails.IgnoreUntil); err == nil {
				at := until.In(h.zone()).Format("15:04")
				ev.Message += map[bool]string{true: ", until " + at, false: "，到 " + at}[h.o.Lang == "en"]
			}
		}
	case actlink.Take:
		ev.Action, ev.State, ev.Assignee = "assigned", sentry.StateAssigned, owner.Name
	}
	said, err := h.o.Tell(ctx, t.x, t.prj, ev)
	if err != nil {
		h.log.Warn("action follow-up not posted", "org", t.org.ID, "issue", t.link.Issue, "error", notify.Redact(err.Error()))
		return "not posted: " + notify.Redact(err.Error())
	}
	return said
}

// record is the delivery history's record of an action.
func (h *Handler) record(t *target, owner *config.Owner, res *outcome, start time.Time) deliveries.Record {
	now := h.o.Now()
	a := &deliveries.Action{Action: t.link.Action, OrganizationID: t.org.ID, Organization: t.org.Name, Issue: t.link.Issue,
		OwnerID: owner.ID, Who: owner.Name, Outcome: res.outcome, FollowUp: res.followUp}
	if t.link.Action == actlink.Take {
		a.SentryUser = owner.SentryUser
	}
	rec := deliveries.Record{ID: dispatch.NewID(), Time: now, Result: deliveries.Acted, Action: a,
		LatencyMS: float64(now.Sub(start).Microseconds()) / 1000, Link: render.Link(&sentry.Event{IssueID: t.link.Issue}, t.org)}
	if t.prj != nil {
		rec.Project, rec.ProjectName = t.prj.Slug, t.prj.Name
	}
	is := res.after
	if is == nil {
		is = res.before
	}
	if is != nil {
		rec.Title, rec.Level, a.ShortID, a.State = render.Text(is.Title, 300), is.Level, is.ShortID, is.Status
		if l := render.SafeLink(is.Permalink); l != "" {
			rec.Link = l
		}
	}
	switch {
	case res.notAMember:
		a.Answer = "the member list of organization " + t.org.Slug + " has no " + owner.SentryUser + "; nothing was sent to Sentry"
		rec.Error, rec.Fix = a.Answer, "set the owner's sentry_user to the email they sign in to Sentry with, and invite them to the organization"
	case res.err != nil:
		a.SentryStatus, a.Answer = res.err.Status, res.err.Msg
		rec.Error, rec.Fix = res.err.Msg, res.err.Fix
	case res.outcome == deliveries.ActionAlready:
		a.SentryStatus, a.Answer = http.StatusOK, "the issue already was "+stateText(is)+"; nothing was sent"
	case is != nil:
		a.SentryStatus, a.Answer = http.StatusOK, "the issue is now "+stateText(is)
	}
	return rec
}

// stateText is an issue's state in English, for the record.
func stateText(is *sentryapi.Issue) string {
	if is == nil {
		return "unknown"
	}
	s := is.Status
	if is.Substatus != "" {
		s += " (" + is.Substatus + ")"
	}
	if a := is.AssignedTo; a != nil {
		s += ", assigned to " + a.Name
	}
	return s
}

// result answers the page that says what happened.
func (h *Handler) result(w http.ResponseWriter, t *target, owner *config.Owner, res *outcome) {
	words := actionWords[t.link.Action]
	p := &page{Sentry: render.Link(&sentry.Event{IssueID: t.link.Issue}, t.org)}
	is := res.after
	if is == nil {
		is = res.before
	}
	if is != nil {
		iv := &issueView{Title: render.Text(is.Title, 300), Project: is.Project.Slug, State: h.line(h.stateWords(is))}
		if t.prj != nil {
			iv.Project = t.prj.Name + " (" + t.prj.Slug + ")"
		}
		iv.Labels.Project, iv.Labels.State = h.line(bi{"项目", "Project"}), h.line(bi{"现在状态", "State now"})
		p.Issue = iv
		if s := render.SafeLink(is.Permalink); s != "" {
			p.Sentry = s
		}
	}
	status := http.StatusOK
	add := func(l bi) { p.Lines = append(p.Lines, h.line(l)) }
	switch res.outcome {
	case deliveries.ActionDone:
		p.Kind, p.Heading = "ok", h.line(words.done)
		add(biF("%s 在群里操作，Sentry 已经改好了。", "%s acted from the chat; Sentry made the change.", owner.Name))
		switch {
		case res.followUp == "posted":
			add(bi{"群里会收到一条说明是谁处理的消息。", "The group gets a message saying who did it."})
		case res.followUp == "off":
			add(bi{"这个项目关闭了后续消息，群里不会收到说明。", "The project's follow-ups are off, so the group gets no message about it."})
		}
	case deliveries.ActionAlready:
		p.Kind, p.Heading = "info", h.line(words.already)
		add(bi{"这次没有向 Sentry 发送任何改动。", "Nothing was sent to Sentry this time."})
	case deliveries.ActionUnknown:
		status = http.StatusGatewayTimeout
		p.Kind, p.Heading = "warn", h.line(bi{"不确定是否已经改好", "Not known whether it was done"})
		add(bi{"Sentry 没有及时回应，之后也读不到它的状态：改动可能已经生效，也可能没有。请在 Sentry 里看一下，再决定是否重试。",
			"Sentry did not answer in time and its state cannot be read: the change may or may not have been made. Look at the issue in Sentry before trying again."})
	default:
		status = http.StatusBadGateway
		p.Kind, p.Heading = "error", h.line(bi{"没有改动", "Nothing was changed"})
		switch {
		case res.notAMember:
			status = http.StatusUnprocessableEntity
			add(biF("Sentry 组织的成员里没有 %s（%s 的 Sentry 用户），所以没有指派。请在配置器里把负责人的 Sentry 用户改成他登录 Sentry 用的邮箱，并邀请他加入组织。",
				"The Sentry organization's members do not include %s (%s's Sentry user), so nothing was assigned. In the configurator, set the owner's Sentry user to the email they sign in to Sentry with, and invite them to the organization.",
				owner.SentryUser, owner.Name))
		case res.err != nil:
			switch res.err.Code {
			case sentryapi.CodeRateLimited:
				status = http.StatusTooManyRequests
			case sentryapi.CodeTimeout:
				status = http.StatusGatewayTimeout
			case sentryapi.CodeNotFound:
				status = http.StatusNotFound
			case sentryapi.CodeBadRequest:
				status = http.StatusUnprocessableEntity
			}
			perm := "Issue & Event: Read & Write"
			if res.before == nil && res.after == nil && res.err.Code == sentryapi.CodeForbidden {
				perm = "Issue & Event: Read"
			}
			for _, l := range sentryWords(res.err, perm) {
				add(l)
			}
		}
	}
	h.write(w, status, p)
}
