// Package actions is the relay's side of acting from the chat: the pages
// an alert's action links open, and the one request that acts.
//
// GET on a link never changes anything (chat clients and link scanners
// fetch links on their own): it checks the link (package actlink), reads
// the issue from Sentry with the organization's api_token and answers a
// confirm page with a form — who is acting, among the project's owners,
// and one button. Only that form's POST acts, and only when it carries
// its page's form token, comes from the relay's own origin, and names an
// owner of the project: it reads the issue, changes it through Sentry's
// API unless it already is so (a second POST changes nothing), records the
// action in the delivery history, and tells the group with a follow-up
// that says who acted from the chat. Sentry's own webhook of that change,
// when the organization's integration sends one, is then not posted again
// (Echo).
package actions

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sentry-white/sentry-white/internal/actlink"
	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/deliveries"
	"github.com/sentry-white/sentry-white/internal/notify"
	"github.com/sentry-white/sentry-white/internal/render"
	"github.com/sentry-white/sentry-white/internal/sentry"
	"github.com/sentry-white/sentry-white/internal/sentryapi"
	"github.com/sentry-white/sentry-white/internal/store"
)

// Docs supplies the current configuration document.
type Docs interface {
	Get(ctx context.Context) (*config.Index, error)
}

// Sentry is the part of Sentry's API acting needs (sentryapi.Client).
type Sentry interface {
	Issue(ctx context.Context, sentryURL, org, token, id string) (*sentryapi.Issue, error)
	UpdateIssue(ctx context.Context, sentryURL, org, token, id string, u sentryapi.IssueUpdate) (*sentryapi.Issue, error)
	Members(ctx context.Context, sentryURL, org, token string) ([]sentryapi.Member, error)
}

// Teller posts the follow-up of an action to the project's robots: ev is
// the issue event it reads as (resolved, ignored or assigned, with who
// acted). It reports "posted", or "off" when the project's follow-ups are
// off.
type Teller func(ctx context.Context, x *config.Index, prj *config.Project, ev *sentry.Event) (string, error)

// Options configure a Handler.
type Options struct {
	Docs   Docs
	Sentry Sentry
	Tell   Teller
	// History records every action; nil keeps none.
	History *deliveries.Log
	// Store keeps the marks of recent actions under Prefix, so that every
	// relay instance knows an action and Sentry's webhook of it is not
	// posted again; nil keeps them in this process only.
	Store  store.Backend
	Prefix string
	// Lang is the pages' first language ("zh" or "en"); Zone the time
	// zone of the times they show.
	Lang string
	Zone *time.Location
	// FC: the instance may be frozen once the answer is sent, so the
	// history is written before answering.
	FC bool
	// EchoWindow is how long after an action Sentry's webhook of it is
	// taken for its echo; 0 means 10 minutes.
	EchoWindow time.Duration
	Now        func() time.Time
	Logger     *slog.Logger
}

// Handler serves the pages of action links. It is safe for concurrent
// use.
type Handler struct {
	o      Options
	log    *slog.Logger
	recent *recent
	locks  [64]sync.Mutex // by issue: one action of an issue at a time
}

// New returns a Handler.
func New(o Options) *Handler {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.EchoWindow <= 0 {
		o.EchoWindow = 10 * time.Minute
	}
	h := &Handler{o: o, log: o.Logger}
	h.recent = newRecent(o.Store, o.Prefix, o.EchoWindow, o.Now, o.Logger)
	return h
}

// Owns reports whether the handler serves path.
func Owns(path string) bool { return strings.HasPrefix(path, actlink.PathPrefix) }

// maxForm bounds a posted form.
const maxForm = 8 << 10

// target is a checked link and what it names in the document.
type target struct {
	x    *config.Index
	link actlink.Link
	key  []byte
	org  *config.Organization
	prj  *config.Project // nil when the project is no longer configured for the organization
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Cache-Control", "no-store")
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "same-origin")
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodPost:
	default:
		hd.Set("Allow", "GET, HEAD, POST")
		h.message(w, http.StatusMethodNotAllowed, "error", bi{"不支持这种请求", "Method not allowed"})
		return
	}
	t, ok := h.check(w, r)
	if !ok {
		return
	}
	if r.Method == http.MethodPost {
		h.post(w, r, t)
		return
	}
	h.confirm(w, r, t, nil)
}

// check reads the document and the link, answering the page that refuses
// a link that does not hold. Nothing is asked of Sentry before it holds.
func (h *Handler) check(w http.ResponseWriter, r *http.Request) (*target, bool) {
	x, err := h.o.Docs.Get(r.Context())
	if err != nil {
		h.log.Warn("action link: configuration not readable", "error", notify.Redact(err.Error()))
		h.message(w, http.StatusServiceUnavailable, "error", bi{"中继现在读不到配置", "The relay cannot read its configuration now"},
			bi{"什么也没有改动。请稍后再打开这个链接。", "Nothing was changed. Open the link again later."})
		return nil, false
	}
	l, sig, err := actlink.Parse(r.URL.Path)
	if err != nil {
		h.refused(r, "malformed", l)
		h.message(w, http.StatusNotFound, "error", bi{"这不是有效的操作链接", "This is not a valid action link"},
			bi{"链接不完整或被改动过。请从群里的告警消息重新打开。什么也没有改动。", "The link is incomplete or was changed. Open it again from the alert in the group. Nothing was changed."})
		return nil, false
	}
	org := x.Organization(l.Org)
	if org == nil || !actlink.Enabled(x.Doc, org) {
		h.refused(r, "off", l)
		h.message(w, http.StatusNotFound, "error", bi{"这个组织没有开启群内操作", "Acting from the chat is off for this organization"},
			bi{"配置里没有这个组织，或者它没有 Sentry 令牌（api_token），或者没有中继地址（relay_url）。什么也没有改动。",
				"The configuration has no such organization, or it has no Sentry token (api_token), or no relay_url is set. Nothing was changed."})
		return nil, false
	}
	key := actlink.Key(x.Doc, org)
	switch err := l.Check(sig, key, h.o.Now()); {
	case errors.Is(err, actlink.ErrSignature):
		h.refused(r, "signature", l)
		h.message(w, http.StatusForbidden, "error", bi{"这个链接无效", "This link is not valid"},
			bi{"链接被改动过，或者不是这个中继发出的，或者发出后操作密钥已经更换。请从群里最新的告警消息打开。什么也没有改动。",
				"The link was changed, or this relay did not make it, or the action key was rotated since. Open it from a recent alert in the group. Nothing was changed."})
		return nil, false
	case errors.Is(err, actlink.ErrExpired):
		h.refused(r, "expired", l)
		exp := l.Expires.In(h.zone()).Format("2006-01-02 15:04")
		p := &page{Kind: "warn", Heading: h.line(bi{"这个链接已过期", "This link has expired"}),
			Lines: []line{h.line(biF("操作链接发出后 7 天内有效，这个在 %s 过期了。请到 Sentry 里处理这个问题。什么也没有改动。",
				"Action links work for 7 days; this one expired at %s. Act on the issue in Sentry. Nothing was changed.", exp))},
			Sentry: render.Link(&sentry.Event{IssueID: l.Issue}, org)}
		h.write(w, http.StatusGone, p)
		return nil, false
	}
	t := &target{x: x, link: l, key: key, org: org}
	if p := x.Project(l.Project); p != nil && p.OrganizationID == org.ID {
		t.prj = p
	}
	return t, true
}

// refused logs a link refused, without its signature.
func (h *Handler) refused(r *http.Request, why string, l actlink.Link) {
	h.log.Info("action link refused", "why", why, "method", r.Method, "org", l.Org, "project", l.Project, "issue", l.Issue, "action", l.Action)
}

// candidates are the owners who may act: the project's, or, when the
// project is no longer configured, every owner.
func (t *target) candidates() []*config.Owner {
	var out []*config.Owner
	if t.prj != nil {
		for _, id := range t.prj.OwnerIDs {
			if o := t.x.Owner(id); o != nil {
				out = append(out, o)
			}
		}
		return out
	}
	for i := range t.x.Doc.Owners {
		out = append(out, &t.x.Doc.Owners[i])
	}
	return out
}

// whoCookie remembers on a device who acted last.
const whoCookie = "sw_who"

// issueCall bounds one call to Sentry: a phone waits for the page.
func (h *Handler) sentryCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, 15*time.Second)
}

// confirm answers the confirm page: the issue as Sentry has it now, who
// is acting, the button. problem, when set, is what the last post lacked.
func (h *Handler) confirm(w http.ResponseWriter, r *http.Request, t *target, problem *bi) {
	words := actionWords[t.link.Action]
	p := &page{Kind: "info", Heading: h.line(words.heading), Sentry: render.Link(&sentry.Event{IssueID: t.link.Issue}, t.org)}
	ctx, cancel := h.sentryCtx(r.Context())
	is, err := h.o.Sentry.Issue(ctx, t.org.SentryURL, t.org.Slug, t.org.APIToken.Reveal(), t.link.Issue)
	cancel()
	status := http.StatusOK
	if err != nil {
		se := asSentryError(err)
		lines := sentryWords(se, "Issue & Event: Read")
		switch se.Code {
		case sentryapi.CodeNotFound, sentryapi.CodeForbidden, sentryapi.CodeUnauthorized, sentryapi.CodeNoToken, sentryapi.CodeBadURL:
			// Acting would be refused the same way: no form.
			p.Kind, p.Heading = "error", h.line(bi{"无法处理这个问题", "This issue cannot be acted on"})
			for _, l := range append(lines, bi{"什么也没有改动。", "Nothing was changed."}) {
				p.Lines = append(p.Lines, h.line(l))
			}
			h.log.Info("action page: issue not readable", "org", t.org.ID, "issue", t.link.Issue, "code", se.Code, "status", se.Status)
			h.write(w, http.StatusOK, p)
			return
		}
		// Sentry cannot be read now: say so, and still allow acting.
		p.Lines = append(p.Lines, h.line(bi{"现在读不到 Sentry 里这个问题的状态，但仍然可以操作：", "Sentry cannot be read now, but you can still act:"}))
		for _, l := range lines {
			p.Lines = append(p.Lines, h.line(l))
		}
	}
	prjName := ""
	if t.prj != nil {
		prjName = t.prj.Name + " (" + t.prj.Slug + ")"
	}
	if is != nil {
		if prjName == "" {
			prjName = is.Project.Slug
		}
		iv := &issueView{Title: render.Text(is.Title, 300), Project: prjName, State: h.line(h.stateWords(is))}
		iv.Labels.Project, iv.Labels.State = h.line(bi{"项目", "Project"}), h.line(bi{"当前状态", "State now"})
		p.Issue = iv
		if s := render.SafeLink(is.Permalink); s != "" {
			p.Sentry = s
		}
	} else {
		iv := &issueView{Title: "Sentry issue " + t.link.Issue, Project: prjName, State: h.line(bi{"未知（读不到 Sentry）", "unknown (Sentry not readable)"})}
		iv.Labels.Project, iv.Labels.State = h.line(bi{"项目", "Project"}), h.line(bi{"当前状态", "State now"})
		p.Issue = iv
	}
	f := &formView{Action: r.URL.Path, Token: actlink.FormToken(t.key, t.link, h.o.Now()),
		Legend: h.line(bi{"谁在操作", "Who is acting"}), Button: h.line(words.button)}
	if problem != nil {
		l := h.line(*problem)
		f.Problem = &l
		status = http.StatusUnprocessableEntity
	}
	if is != nil && alreadySo(t.link.Action, is, nil) {
		l := h.line(bi{"这个问题现在已经是这个状态；再操作一次不会有任何改动。", "The issue already is so; acting again changes nothing."})
		f.Note = &l
	}
	remembered, _ := r.Cookie(whoCookie)
	cands := t.candidates()
	usable := 0
	for _, o := range cands {
		c := ownerChoice{ID: o.ID, Name: o.Name}
		if t.link.Action == actlink.Take && o.SentryUser == "" {
			c.Disabled, c.Note = true, h.line(bi{"没有设置 Sentry 用户，不能指派", "no Sentry user set: cannot be assigned"})
		} else {
			usable++
			c.Checked = remembered != nil && remembered.Value == strconv.FormatInt(o.ID, 10)
		}
		f.Owners = append(f.Owners, c)
	}
	if usable == 1 {
		for i := range f.Owners {
			f.Owners[i].Checked = !f.Owners[i].Disabled
		}
	}
	if usable == 0 {
		f.Disabled = true
		l := h.line(bi{"这个项目没有可以选择的负责人：请在配置器里给负责人填写 Sentry 用户（sentry_user），或给项目添加负责人。",
			"The project has no owner to choose: set the owners' Sentry user (sentry_user) in the configurator, or add owners to the project."})
		f.Problem = &l
	}
	p.Form = f
	exp := t.link.Expires.In(h.zone()).Format("2006-01-02 15:04")
	p.Footer = append(p.Footer, h.line(biF("只有点下按钮才会操作。链接有效期至 %s。", "Only the button acts. The link works until %s.", exp)))
	h.write(w, status, p)
}

// sameOrigin checks a POST's Origin (else its Referer) against the
// relay's own: the origin of relay_url or of the host the request came to.
// A request with neither header relies on its form token alone.
func (t *target) sameOrigin(r *http.Request) bool {
	src := r.Header.Get("Origin")
	if src == "" {
		ref := r.Header.Get("Referer")
		if ref == "" {
			return true
		}
		u, err := url.Parse(ref)
		if err != nil || u.Host == "" {
			return false
		}
		src = u.Scheme + "://" + u.Host
	}
	if src == "null" {
		return false
	}
	src = strings.ToLower(strings.TrimRight(src, "/"))
	allowed := []string{"https://" + r.Host, "http://" + r.Host}
	if u, err := url.Parse(strings.TrimSpace(t.x.Doc.RelayURL)); err == nil && u.Host != "" {
		allowed = append(allowed, u.Scheme+"://"+u.Host)
	}
	for _, a := range allowed {
		if src == strings.ToLower(a) {
			return true
		}
	}
	return false
}

func asSentryError(err error) *sentryapi.Error {
	var se *sentryapi.Error
	if errors.As(err, &se) {
		return se
	}
	return &sentryapi.Error{Code: "error", Msg: notify.Redact(err.Error()), Fix: "try again"}
}
