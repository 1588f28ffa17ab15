package actions

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/actlink"
	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/deliveries"
	"github.com/sentry-white/sentry-white/internal/notifiers"
	"github.com/sentry-white/sentry-white/internal/sentry"
	"github.com/sentry-white/sentry-white/internal/sentryapi"
	"github.com/sentry-white/sentry-white/internal/sentryapi/sentrytest"
	"github.com/sentry-white/sentry-white/internal/store"
)

const (
	apiToken = "sntrys_a7f09b5ea245debd13fb7fe1993897008f6b44ddf80310d14f3de4d3f407221d"
	issueID  = "4567890123"
)

type staticDocs struct{ x *config.Index }

func (d staticDocs) Get(context.Context) (*config.Index, error) { return d.x, nil }

// env is a relay's action handler on loopback, with Sentry's stand-in,
// a history in a folder store and a recording teller.
type env struct {
	t       *testing.T
	sentry  *sentrytest.Server
	doc     *config.Document
	h       *Handler
	srv     *httptest.Server
	st      store.Backend
	hist    *deliveries.Log
	logs    *bytes.Buffer
	mu      sync.Mutex
	told    []*sentry.Event
	keyOrg1 []byte
}

func newEnv(t *testing.T) *env {
	t.Helper()
	s := sentrytest.New()
	t.Cleanup(s.Close)
	s.AddExample("acme", apiToken, "TypeError: Cannot read properties of undefined (reading 'price')")
	e := &env{t: t, sentry: s, logs: &bytes.Buffer{}}
	e.doc = &config.Document{Schema: 1, WebhookToken: "tok", RelayURL: "https://alerts.example.com",
		Organizations: []config.Organization{
			{ID: 1, Name: "公司", SentryURL: s.URL, Slug: "acme", APIToken: apiToken},
			{ID: 2, Name: "别的组织", SentryURL: s.URL, Slug: "other", APIToken: "sntrys_other"},
		},
		Owners: []config.Owner{
			{ID: 1, Name: "张三", Mobile: "13800138000", SentryUser: "zhangsan@example.com"},
			{ID: 2, Name: "李四", Mobile: "13900139000"},
			{ID: 3, Name: "王五", Mobile: "13700137000", SentryUser: "wangwu@example.com"},
		},
		Robots:   []config.Robot{{ID: 1, Name: "群", Kind: "dingtalk", AccessToken: "dt"}},
		Projects: []config.Project{{ID: 1, Name: "商城后台", Slug: "mall-api", OrganizationID: 1, OwnerIDs: []int64{1, 2, 3}, RobotIDs: []int64{1}}},
	}
	if err := e.doc.Validate(notifiers.Default().Document()); err != nil {
		t.Fatal(err)
	}
	e.keyOrg1 = actlink.Key(e.doc, &e.doc.Organizations[0])
	e.st = store.NewFile(t.TempDir())
	e.hist = deliveries.New(e.st, "api/", nil)
	e.h = e.handler(e.st)
	e.srv = httptest.NewServer(e.h)
	t.Cleanup(e.srv.Close)
	return e
}

func (e *env) handler(st store.Backend) *Handler {
	return New(Options{Docs: staticDocs{config.NewIndex(e.doc)}, Sentry: &sentryapi.Client{Timeout: 400 * time.Millisecond},
		History: e.hist, Store: st, Prefix: "api/", Logger: slog.New(slog.NewJSONHandler(e.logs, nil)),
		Tell: func(_ context.Context, _ *config.Index, prj *config.Project, ev *sentry.Event) (string, error) {
			e.mu.Lock()
			defer e.mu.Unlock()
			e.told = append(e.told, ev)
			return "posted", nil
		}})
}

func (e *env) link(action string, org int64, expires time.Time) string {
	key := e.keyOrg1
	if org != 1 {
		key = actlink.Key(e.doc, &e.doc.Organizations[org-1])
	}
	return actlink.Link{Org: org, Project: 1, Issue: issueID, Action: action, Expires: expires}.Path(key)
}

func (e *env) week() time.Time { return time.Now().Add(actlink.Lifetime).Truncate(time.Second) }

func (e *env) get(path string) (int, string, http.Header) {
	e.t.Helper()
	resp, err := http.Get(e.srv.URL + path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// post sends the form; hdr are header pairs (Origin defaults to the
// relay's own).
func (e *env) post(path string, form url.Values, hdr ...string) (int, string, http.Header) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", e.srv.URL)
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

var ftRE = regexp.MustCompile(`name="ft" value="([^"]+)"`)

// formToken opens the confirm page and returns its form token.
func (e *env) formToken(path string) string {
	e.t.Helper()
	code, page, _ := e.get(path)
	m := ftRE.FindStringSubmatch(page)
	if code != 200 || m == nil {
		e.t.Fatalf("confirm page %d without a form:\n%s", code, page)
	}
	return m[1]
}

func (e *env) records() []deliveries.Record {
	e.t.Helper()
	if err := e.hist.Flush(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	recs, err := e.hist.List(context.Background(), deliveries.Filter{Result: deliveries.Acted})
	if err != nil {
		e.t.Fatal(err)
	}
	return recs
}

func (e *env) tolds() []*sentry.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]*sentry.Event(nil), e.told...)
}

// noSecrets checks that no page and no log line shows a secret.
func (e *env) noSecrets(pages ...string) {
	e.t.Helper()
	for _, s := range append(pages, e.logs.String()) {
		for _, secret := range []string{apiToken, "sntrys_other", string(e.keyOrg1)} {
			if strings.Contains(s, secret) {
				e.t.Errorf("a secret shows: %.200s", s)
			}
		}
	}
}

// TestGetNeverActs: GET and HEAD of every link answer the confirm page —
// the issue's title, project and state from Sentry, the owners, one
// button — and change nothing.
func TestGetNeverActs(t *testing.T) {
	e := newEnv(t)
	for _, a := range actlink.Actions {
		code, page, hdr := e.get(e.link(a, 1, e.week()))
		if code != 200 || !strings.Contains(page, "TypeError: Cannot read properties") || !strings.Contains(page, "商城后台 (mall-api)") ||
			!strings.Contains(page, "未解决") || !strings.Contains(page, `id="act"`) || !strings.Contains(page, "张三") {
			t.Errorf("%s: %d\n%s", a, code, page)
		}
		if csp := hdr.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self'") || !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("CSP %q", csp)
		}
		if strings.Contains(page, "<script") || strings.Contains(page, "http://") && !strings.Contains(page, e.sentry.URL) {
			t.Errorf("%s: the page loads something", a)
		}
		e.noSecrets(page)
	}
	req, _ := http.NewRequest(http.MethodHead, e.srv.URL+e.link(actlink.Resolve, 1, e.week()), nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Errorf("HEAD: %v %v", resp, err)
	}
	// Take: 李四 has no Sentry user and cannot be chosen.
	_, page, _ := e.get(e.link(actlink.Take, 1, e.week()))
	if !regexp.MustCompile(`value="2" id="who-2" disabled`).MatchString(page) {
		t.Errorf("李四 can be chosen to take it:\n%s", page)
	}
	if w := e.sentry.Writes(); len(w) != 0 {
		t.Fatalf("GET changed the issue: %+v", w)
	}
	for _, r := range e.sentry.Requests() {
		if r.Method != http.MethodGet {
			t.Errorf("GET made a %s to Sentry", r.Method)
		}
	}
	if len(e.tolds()) != 0 || len(e.records()) != 0 {
		t.Error("GET told the group or recorded an action")
	}
}

// TestPostActs: each POST makes exactly the documented write, says what
// happened, tells the group once, records the action; a second POST
// changes nothing and says so.
func TestPostActs(t *testing.T) {
	e := newEnv(t)
	path := e.link(actlink.Ignore, 1, e.week())
	ft := e.formToken(path)
	code, page, hdr := e.post(path, url.Values{"ft": {ft}, "who": {"1"}})
	if code != 200 || !strings.Contains(page, "已忽略 1 小时") || !strings.Contains(page, "张三 在群里操作") {
		t.Fatalf("ignore: %d\n%s", code, page)
	}
	if c := hdr.Get("Set-Cookie"); !strings.Contains(c, "sw_who=1") || !strings.Contains(c, "HttpOnly") || !strings.Contains(c, "SameSite=Lax") || !strings.Contains(c, "Path=/act/") {
		t.Errorf("cookie %q", c)
	}
	w := e.sentry.Writes()
	if len(w) != 1 || len(w[0].Body) != 2 || w[0].Body["status"] != "ignored" ||
		w[0].Body["statusDetails"].(map[string]any)["ignoreDuration"] != 60.0 || len(w[0].Body["statusDetails"].(map[string]any)) != 1 {
		t.Fatalf("writes %+v", w)
	}
	told := e.tolds()
	if len(told) != 1 || told[0].State != sentry.StateIgnored || told[0].Actor != "张三，在群里操作" || told[0].IssueID != issueID ||
		!strings.HasPrefix(told[0].Message, "忽略 1 小时，到 ") || told[0].Title != "TypeError: Cannot read properties of undefined (reading 'price')" {
		t.Fatalf("told %+v", told)
	}
	// Again, with the same page: nothing sent, the state said.
	code, page, _ = e.post(path, url.Values{"ft": {ft}, "who": {"1"}})
	if code != 200 || !strings.Contains(page, "已经是忽略状态") || len(e.sentry.Writes()) != 1 || len(e.tolds()) != 1 {
		t.Fatalf("second post: %d, %d writes\n%s", code, len(e.sentry.Writes()), page)
	}
	// The device remembers who acted.
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+e.link(actlink.Resolve, 1, e.week()), nil)
	req.AddCookie(&http.Cookie{Name: "sw_who", Value: "3"})
	resp, _ := http.DefaultClient.Do(req)
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `value="3" id="who-3" checked`) {
		t.Errorf("the remembered owner is not chosen:\n%s", b)
	}

	// Resolve: exactly {"status":"resolved"}.
	rp := e.link(actlink.Resolve, 1, e.week())
	if code, page, _ := e.post(rp, url.Values{"ft": {e.formToken(rp)}, "who": {"2"}}); code != 200 || !strings.Contains(page, "已解决") {
		t.Fatalf("resolve: %d\n%s", code, page)
	}
	// Take: {"assignedTo": "user:42"}, the member Sentry's list names.
	tp := e.link(actlink.Take, 1, e.week())
	if code, page, _ := e.post(tp, url.Values{"ft": {e.formToken(tp)}, "who": {"1"}}); code != 200 || !strings.Contains(page, "已指派") || !strings.Contains(page, "指派给 张三") {
		t.Fatalf("take: %d\n%s", code, page)
	}
	w = e.sentry.Writes()
	if len(w) != 3 || len(w[1].Body) != 1 || w[1].Body["status"] != "resolved" || len(w[2].Body) != 1 || w[2].Body["assignedTo"] != "user:42" {
		t.Fatalf("writes %+v", w)
	}
	told = e.tolds()
	if len(told) != 3 || told[1].State != sentry.StateResolved || told[1].Actor != "李四，在群里操作" ||
		told[2].State != sentry.StateAssigned || told[2].Assignee != "张三" {
		t.Fatalf("told %+v", told)
	}
	recs := e.records()
	if len(recs) != 4 {
		t.Fatalf("%d records: %+v", len(recs), recs)
	}
	byOutcome := map[string]int{}
	for _, r := range recs {
		a := r.Action
		byOutcome[a.Outcome]++
		if r.Result != deliveries.Acted || a.Issue != issueID || a.OrganizationID != 1 || r.Project != "mall-api" || a.Who == "" || a.Answer == "" || a.SentryStatus != 200 {
			t.Errorf("record %+v %+v", r, a)
		}
	}
	if byOutcome[deliveries.ActionDone] != 3 || byOutcome[deliveries.ActionAlready] != 1 {
		t.Errorf("outcomes %v", byOutcome)
	}
	if recs[0].Action.Action != actlink.Take || recs[0].Action.SentryUser != "zhangsan@example.com" || recs[0].Action.FollowUp != "posted" {
		t.Errorf("newest record %+v", recs[0].Action)
	}
	e.noSecrets(page)
}

// TestBadInput: every refusal is a clear page, changes nothing, tells
// nobody, and shows no secret.
func TestBadInput(t *testing.T) {
	e := newEnv(t)
	good := e.link(actlink.Resolve, 1, e.week())
	ft := e.formToken(good)
	sig := good[strings.LastIndexByte(good, '/')+1:]
	other := actlink.Link{Org: 1, Project: 1, Issue: issueID, Action: actlink.Ignore, Expires: e.week()}
	check := func(name string, code int, page string, wantCode int, want string) {
		t.Helper()
		if code != wantCode || !strings.Contains(page, want) {
			t.Errorf("%s: %d, want %d with %q:\n%s", name, code, wantCode, want, page)
		}
		e.noSecrets(page)
	}
	// Links.
	code, page, _ := e.get(strings.Replace(good, "/resolve/", "/ignore/", 1))
	check("tampered action", code, page, 403, "这个链接无效")
	code, page, _ = e.get(strings.Replace(good, "/"+issueID+"/", "/4567890124/", 1))
	check("tampered issue", code, page, 403, "这个链接无效")
	code, page, _ = e.get(strings.Replace(good, "/act/1/", "/act/2/", 1))
	check("another organization", code, page, 403, "这个链接无效")
	code, page, _ = e.get(strings.TrimSuffix(good, sig) + "x")
	check("cut signature", code, page, 404, "不是有效的操作链接")
	code, page, _ = e.get("/act/9/1/" + issueID + "/resolve/9999999999/" + sig)
	check("unknown organization", code, page, 404, "没有开启群内操作")
	expired := e.link(actlink.Resolve, 1, time.Now().Add(-time.Minute).Truncate(time.Second))
	code, page, _ = e.get(expired)
	check("expired", code, page, 410, "已过期")
	code, page, _ = e.post(expired, url.Values{"ft": {ft}, "who": {"1"}})
	check("post to an expired link", code, page, 410, "已过期")
	// A link of another organization's own key, for an issue of ours.
	code, page, _ = e.get(e.link(actlink.Resolve, 2, e.week()))
	check("the other organization's link", code, page, 200, "无法处理")

	// Posts.
	code, page, _ = e.post(good, url.Values{"who": {"1"}})
	check("no form token", code, page, 403, "不是从确认页面发出的")
	code, page, _ = e.post(good, url.Values{"ft": {actlink.FormToken(e.keyOrg1, other, time.Now())}, "who": {"1"}})
	check("another link's form token", code, page, 403, "不是从确认页面发出的")
	code, page, _ = e.post(good, url.Values{"ft": {ft}, "who": {"1"}}, "Origin", "https://evil.example")
	check("another origin", code, page, 403, "来自别的网站")
	code, page, _ = e.post(good, url.Values{"ft": {ft}, "who": {"1"}}, "Origin", "", "Referer", "https://evil.example/page")
	check("another referer", code, page, 403, "来自别的网站")
	code, page, _ = e.post(good, url.Values{"ft": {ft}, "who": {"1"}}, "Origin", "null")
	check("an opaque origin", code, page, 403, "来自别的网站")
	code, page, _ = e.post(good, url.Values{"ft": {ft}})
	check("nobody chosen", code, page, 422, "请选择谁在操作")
	code, page, _ = e.post(good, url.Values{"ft": {ft}, "who": {"99"}})
	check("not an owner", code, page, 422, "请选择谁在操作")
	take := e.link(actlink.Take, 1, e.week())
	tft := e.formToken(take)
	code, page, _ = e.post(take, url.Values{"ft": {tft}, "who": {"2"}})
	check("an owner without a Sentry user", code, page, 422, "没有设置 Sentry 用户")
	code, page, _ = e.post(take, url.Values{"ft": {tft}, "who": {"3"}})
	check("a person not in the member list", code, page, 422, "成员里没有 wangwu@example.com")

	// Sentry's refusals.
	e.sentry.FailMethod(http.MethodPut, sentrytest.Fault{Status: 429, Body: `{"detail":"You are attempting to use this endpoint too frequently."}`})
	code, page, _ = e.post(good, url.Values{"ft": {ft}, "who": {"1"}})
	check("429", code, page, 429, "限流")
	e.sentry.FailMethod(http.MethodPut, sentrytest.Fault{Hang: true})
	code, page, _ = e.post(good, url.Values{"ft": {ft}, "who": {"1"}})
	check("timeout", code, page, 504, "没有及时回应")
	e.sentry.FailMethod(http.MethodPut, sentrytest.Fault{})
	e.sentry.FailMethod(http.MethodGet, sentrytest.Fault{Hang: true})
	code, page, _ = e.get(good)
	check("Sentry not readable: still a form", code, page, 200, `id="act"`)
	if !strings.Contains(page, "读不到") {
		t.Errorf("the page does not say Sentry cannot be read:\n%s", page)
	}
	e.sentry.FailMethod(http.MethodGet, sentrytest.Fault{})
	gone := actlink.Link{Org: 1, Project: 1, Issue: "999", Action: actlink.Resolve, Expires: e.week()}.Path(e.keyOrg1)
	code, page, _ = e.get(gone)
	check("an issue the token cannot see", code, page, 200, "找不到这个问题")
	if strings.Contains(page, `id="act"`) {
		t.Error("a form for an issue Sentry does not have")
	}
	code, page, _ = e.post(gone, url.Values{"ft": {actlink.FormToken(e.keyOrg1, actlink.Link{Org: 1, Project: 1, Issue: "999", Action: actlink.Resolve, Expires: e.week()}, time.Now())}, "who": {"1"}})
	check("a post for an issue the token cannot see", code, page, 404, "找不到这个问题")
	e.sentry.NarrowToken(apiToken, sentrytest.TokenMore{Projects: []string{"other"}})
	code, page, _ = e.get(good)
	check("a token without the project", code, page, 200, "Issue &amp; Event: Read")
	e.sentry.NarrowToken(apiToken, sentrytest.TokenMore{Projects: []string{"mall-api"}})

	if w := e.sentry.Writes(); len(w) != 0 {
		t.Errorf("bad input changed the issue: %+v", w)
	}
	if is, _ := e.sentry.IssueOf("acme", issueID); is.Status != "unresolved" || is.AssignedTo != nil {
		t.Errorf("the issue changed: %+v", is)
	}
	if len(e.tolds()) != 0 {
		t.Errorf("bad input told the group: %+v", e.tolds())
	}
	// What reached Sentry is recorded, refused; what did not reach it is
	// only logged.
	recs := e.records()
	if len(recs) != 4 {
		t.Errorf("%d records, want the not-a-member, 429, timeout and unknown-issue posts", len(recs))
	}
	for _, r := range recs {
		if r.Action.Outcome != deliveries.ActionRefused || r.Error == "" {
			t.Errorf("record %+v %+v", r, r.Action)
		}
	}
	e.noSecrets()

	// Nothing was lost: the good link still works.
	if code, page, _ := e.post(good, url.Values{"ft": {e.formToken(good)}, "who": {"1"}}); code != 200 || len(e.sentry.Writes()) != 1 {
		t.Errorf("after it all: %d\n%s", code, page)
	}
}

// TestEcho: after an action, Sentry's webhook of it is its echo — in this
// process and, through the store, in another instance — and nothing else
// is.
func TestEcho(t *testing.T) {
	e := newEnv(t)
	x := config.NewIndex(e.doc)
	ev := &sentry.Event{Resource: sentry.ResourceIssue, State: sentry.StateResolved, IssueID: issueID}
	if _, ok := e.h.Echo(t.Context(), x, 1, ev); ok {
		t.Fatal("an echo before any action")
	}
	p := e.link(actlink.Resolve, 1, e.week())
	if code, _, _ := e.post(p, url.Values{"ft": {e.formToken(p)}, "who": {"1"}}); code != 200 {
		t.Fatal(code)
	}
	if who, ok := e.h.Echo(t.Context(), x, 1, ev); !ok || who != "张三" {
		t.Errorf("echo: %q %v", who, ok)
	}
	another := e.handler(e.st) // another instance, the same store
	if who, ok := another.Echo(t.Context(), x, 1, ev); !ok || who != "张三" {
		t.Errorf("another instance: %q %v", who, ok)
	}
	if _, ok := e.handler(nil).Echo(t.Context(), x, 1, ev); ok {
		t.Error("an instance without the store knows it")
	}
	for name, other := range map[string]*sentry.Event{
		"another issue":  {Resource: sentry.ResourceIssue, State: sentry.StateResolved, IssueID: "42"},
		"another change": {Resource: sentry.ResourceIssue, State: sentry.StateAssigned, IssueID: issueID},
		"reopened":       {Resource: sentry.ResourceIssue, State: sentry.StateUnresolved, IssueID: issueID},
		"an alert":       {Resource: sentry.ResourceEventAlert, State: sentry.StateTriggered, IssueID: issueID},
	} {
		if _, ok := e.h.Echo(t.Context(), x, 1, other); ok {
			t.Errorf("%s taken for an echo", name)
		}
	}
	if _, ok := e.h.Echo(t.Context(), x, 2, ev); ok {
		t.Error("another organization's webhook taken for an echo")
	}
	later := e.handler(e.st)
	later.o.Now = func() time.Time { return time.Now().Add(11 * time.Minute) }
	later.recent.now = later.o.Now
	if _, ok := later.Echo(t.Context(), x, 1, ev); ok {
		t.Error("an echo after the window")
	}
}

// TestEnglishFirst: with the relay's language English, the pages say
// everything in English first, Chinese second; the follow-up says who
// acted in English.
func TestEnglishFirst(t *testing.T) {
	e := newEnv(t)
	e.h.o.Lang = "en"
	path := e.link(actlink.Resolve, 1, e.week())
	_, page, _ := e.get(path)
	if !strings.Contains(page, `<html lang="en">`) || !strings.Contains(page, `<span lang="en">Resolve this issue</span><span class="alt" lang="zh-CN">解决这个问题</span>`) {
		t.Errorf("page:\n%s", page)
	}
	if code, page, _ := e.post(path, url.Values{"ft": {e.formToken(path)}, "who": {"1"}}); code != 200 || !strings.Contains(page, `<span lang="en">Resolved</span>`) {
		t.Fatalf("%d\n%s", code, page)
	}
	if told := e.tolds(); len(told) != 1 || told[0].Actor != "张三, from the chat" {
		t.Errorf("told %+v", told)
	}
}
