package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/actlink"
	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/deliveries"
	"github.com/sentry-white/sentry-white/internal/notifiers"
	"github.com/sentry-white/sentry-white/internal/robottest"
	"github.com/sentry-white/sentry-white/internal/sentryapi/sentrytest"
	"github.com/sentry-white/sentry-white/internal/store"
)

const (
	actAPIToken = "sntrys_eyJpYXQiOjE3MDAwMDAwMDAsInVybCI6Imh0dHBzOi8vc2VudHJ5LmlvIn0_relay"
	actIssue    = "4567890123"
)

// actingRelay is the built relay on loopback with Sentry's stand-in and
// the three robot stand-ins, its document written by hand with only
// relay_url and the organization's api_token for acting (no action_key).
type actingRelay struct {
	t      *testing.T
	p      *proc
	base   string
	dir    string
	sentry *sentrytest.Server
	dt     *robottest.DingTalk
	wc     *robottest.WeCom
	fs     *robottest.Feishu
	doc    *config.Document
}

func startActingRelay(t *testing.T) *actingRelay {
	t.Helper()
	s := sentrytest.New()
	t.Cleanup(s.Close)
	s.AddExample("acme", actAPIToken, "TypeError: Cannot read properties of undefined (reading 'price')")
	a := &actingRelay{t: t, sentry: s,
		dt: robottest.NewDingTalk(robottest.DingTalkRobot{Token: "dt-token", Secret: exampleSecret, Keywords: []string{"详情"}}),
		wc: robottest.NewWeCom("wc-key"),
		fs: robottest.NewFeishu(robottest.FeishuRobot{Token: "fs-token", Keywords: []string{"详情"}})}
	t.Cleanup(a.dt.Close)
	t.Cleanup(a.wc.Close)
	t.Cleanup(a.fs.Close)
	a.dir = storeFolder(t, a.document("http://relay.invalid"))
	env := []string{"SENTRY_WHITE_DINGTALK_API=" + a.dt.URL(), "SENTRY_WHITE_WECOM_API=" + a.wc.URL(), "SENTRY_WHITE_FEISHU_API=" + a.fs.URL(),
		"SENTRY_WHITE_SENTRY_TIMEOUT=600ms"}
	a.p = startProc(t, env, "-store", "file:"+a.dir, "-addr", "127.0.0.1:0", "-spool", filepath.Join(t.TempDir(), "spool"))
	if a.p.addr == "" {
		t.Fatalf("the relay did not start: %v", a.p.logs)
	}
	a.base = "http://" + a.p.addr
	// The relay's public URL is where it listens: the folder store is
	// read again at the next request.
	if err := os.WriteFile(filepath.Join(a.dir, "api", "v1", "config.json"), []byte(a.document(a.base)), 0o600); err != nil {
		t.Fatal(err)
	}
	var err error
	if a.doc, err = config.Parse([]byte(a.document(a.base)), notifiers.Default().Document()); err != nil {
		t.Fatal(err)
	}
	return a
}

func (a *actingRelay) document(relay string) string {
	return `{"schema": 1, "webhook_token": "tok", "relay_url": "` + relay + `",
  "organizations": [{"id": 1, "name": "公司", "sentry_url": "` + a.sentry.URL + `", "slug": "acme", "api_token": "` + actAPIToken + `"},
                    {"id": 2, "name": "别的组织", "sentry_url": "` + a.sentry.URL + `", "slug": "other", "api_token": "sntrys_other_org"}],
  "owners": [{"id": 1, "name": "张三", "mobile": "13800138000", "wecom_user_id": "zhangsan", "feishu_open_id": "ou_zhangsan", "sentry_user": "zhangsan@example.com"},
             {"id": 2, "name": "王五", "mobile": "13700137000", "wecom_user_id": "wangwu", "feishu_open_id": "ou_wangwu", "sentry_user": "wangwu@example.com"}],
  "robots": [{"id": 1, "name": "钉钉群", "kind": "dingtalk", "access_token": "dt-token", "secret": "` + exampleSecret + `", "keyword": "详情"},
             {"id": 2, "name": "企业微信群", "kind": "wecom", "access_token": "wc-key"},
             {"id": 3, "name": "飞书群", "kind": "feishu", "access_token": "fs-token", "keyword": "详情"}],
  "projects": [{"id": 1, "name": "商城后台", "slug": "mall-api", "organization_id": 1, "owner_ids": [1, 2], "robot_ids": [1, 2, 3]}]}`
}

// messages is how many messages the three robots took.
func (a *actingRelay) messages() int {
	return len(a.dt.Messages()) + len(a.wc.Messages()) + len(a.fs.Messages())
}

func (a *actingRelay) get(link string) (int, string) {
	a.t.Helper()
	resp, err := http.Get(link)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (a *actingRelay) post(link string, form url.Values, origin string) (int, string) {
	a.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, link, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

var formTokenRE = regexp.MustCompile(`name="ft" value="([^"]+)"`)

// act opens a link's confirm page and presses its button as who.
func (a *actingRelay) act(link, who string) (int, string) {
	a.t.Helper()
	code, page := a.get(link)
	m := formTokenRE.FindStringSubmatch(page)
	if code != 200 || m == nil {
		a.t.Fatalf("confirm page %d:\n%s", code, page)
	}
	return a.post(link, url.Values{"ft": {m[1]}, "who": {who}}, a.base)
}

// noSecret checks pages and the relay's log for the tokens.
func (a *actingRelay) noSecret(texts ...string) {
	a.t.Helper()
	a.p.mu.Lock()
	logs, _ := json.Marshal(a.p.logs)
	a.p.mu.Unlock()
	for _, s := range append(texts, string(logs)) {
		for _, secret := range []string{actAPIToken, "sntrys_other_org", "dt-token", "wc-key", "fs-token", exampleSecret} {
			if strings.Contains(s, secret) {
				a.t.Errorf("%q shows in %.300s", secret, s)
			}
		}
	}
}

var linkRE = regexp.MustCompile(`\[(解决|忽略 1 小时|我来处理)\]\((http://[^)]+)\)`)

// TestActionLinksEndToEnd: the alert carries the links in all three kinds
// with the mentions kept; GET changes nothing; each POST makes exactly its
// write; the relay tells the group who acted, once, and Sentry's webhook of
// the change is not posted again; every action is in the history.
func TestActionLinksEndToEnd(t *testing.T) {
	a := startActingRelay(t)
	if code, body := post(t, a.base+"/?token=tok", payload(t, "legacy_saas.json")); code != 200 {
		t.Fatalf("webhook: %d %s", code, body)
	}
	d, w, f := a.dt.Messages(), a.wc.Messages(), a.fs.Messages()
	if len(d) != 1 || len(w) != 1 || len(f) != 1 {
		t.Fatalf("messages: %d %d %d", len(d), len(w), len(f))
	}
	links := map[string]string{}
	for _, m := range linkRE.FindAllStringSubmatch(d[0].Text, -1) {
		links[m[1]] = m[2]
	}
	if len(links) != 3 || !d[0].Mentioned || !strings.Contains(d[0].Text, "@13800138000") {
		t.Fatalf("DingTalk text:\n%s", d[0].Text)
	}
	for label, link := range links {
		if !strings.HasPrefix(link, a.base+"/act/1/1/"+actIssue+"/") {
			t.Errorf("%s → %s", label, link)
		}
		if !strings.Contains(w[0].Content, "["+label+"]("+link+")") {
			t.Errorf("WeCom lacks %s:\n%s", label, w[0].Content)
		}
		found := false
		for _, u := range f[0].URLs {
			found = found || u == link
		}
		if !found {
			t.Errorf("Feishu lacks the button %s: %v", label, f[0].URLs)
		}
	}
	if strings.Join(w[0].MarkdownMentions, ",") != "zhangsan,wangwu" || strings.Join(f[0].Mentions, ",") != "ou_zhangsan,ou_wangwu" {
		t.Errorf("mentions: WeCom %v, Feishu %v", w[0].MarkdownMentions, f[0].Mentions)
	}

	// GET never acts, whoever fetches the links (a chat client, a scanner).
	for _, link := range links {
		for range 2 {
			if code, page := a.get(link); code != 200 || !strings.Contains(page, "TypeError: Cannot read properties") {
				t.Fatalf("GET %s: %d\n%s", link, code, page)
			}
		}
	}
	if len(a.sentry.Writes()) != 0 {
		t.Fatalf("GET wrote to Sentry: %+v", a.sentry.Writes())
	}

	// Resolve: exactly {"status":"resolved"}; the group is told once.
	code, page := a.act(links["解决"], "1")
	if code != 200 || !strings.Contains(page, "已解决") {
		t.Fatalf("resolve: %d\n%s", code, page)
	}
	writes := a.sentry.Writes()
	if len(writes) != 1 || len(writes[0].Body) != 1 || writes[0].Body["status"] != "resolved" {
		t.Fatalf("writes %+v", writes)
	}
	waitFor(t, "the follow-up in the three groups", func() bool { return a.messages() == 6 })
	d = a.dt.Messages()
	if !strings.Contains(d[1].Text, "张三，在群里操作") || !strings.Contains(d[1].Text, "已解决") || linkRE.MatchString(d[1].Text) {
		t.Errorf("follow-up:\n%s", d[1].Text)
	}
	// Sentry's webhook of that change is its echo: answered, not posted.
	echo := strings.Replace(string(payload(t, "issue_resolved.json")), `"id":"1170820242"`, `"id":"`+actIssue+`"`, 1)
	if !strings.Contains(echo, actIssue) {
		t.Fatal("the echo body names another issue")
	}
	code, body := post(t, a.base+"/?token=tok", []byte(echo), "Sentry-Hook-Resource", "issue")
	if code != 200 || !strings.Contains(body, `"status":"ignored"`) || !strings.Contains(body, "张三") {
		t.Errorf("echo: %d %s", code, body)
	}
	if n := a.messages(); n != 6 {
		t.Errorf("the echo was posted: %d messages", n)
	}
	// A second POST: nothing sent, the state said, nobody told again.
	if code, page := a.act(links["解决"], "1"); code != 200 || !strings.Contains(page, "已经是已解决状态") {
		t.Errorf("again: %d\n%s", code, page)
	}
	// Ignore for an hour and take: exactly their writes.
	if code, page := a.act(links["忽略 1 小时"], "1"); code != 200 || !strings.Contains(page, "已忽略 1 小时") {
		t.Fatalf("ignore: %d\n%s", code, page)
	}
	if code, page := a.act(links["我来处理"], "1"); code != 200 || !strings.Contains(page, "指派给 张三") {
		t.Fatalf("take: %d\n%s", code, page)
	}
	writes = a.sentry.Writes()
	if len(writes) != 3 || writes[1].Body["status"] != "ignored" || writes[1].Body["statusDetails"].(map[string]any)["ignoreDuration"] != 60.0 ||
		len(writes[2].Body) != 1 || writes[2].Body["assignedTo"] != "user:42" {
		t.Fatalf("writes %+v", writes)
	}
	waitFor(t, "two more follow-ups in each group", func() bool { return a.messages() == 12 })
	if d := a.dt.Messages(); !strings.Contains(d[3].Text, "已指派 → 张三") {
		t.Errorf("take's follow-up:\n%s", d[3].Text)
	}
	a.noSecret(page)

	// Every action in the history: three done, one already.
	hist := deliveries.New(store.NewFile(a.dir), "api/", nil)
	var recs []deliveries.Record
	waitFor(t, "the actions in the history", func() bool {
		recs, _ = hist.List(context.Background(), deliveries.Filter{Result: deliveries.Acted})
		return len(recs) == 4
	})
	outcomes := map[string]int{}
	for _, r := range recs {
		outcomes[r.Action.Outcome]++
		if r.Action.Who != "张三" || r.Action.SentryStatus != 200 || r.Time.IsZero() || r.Action.Answer == "" {
			t.Errorf("record %+v", r.Action)
		}
	}
	if outcomes["done"] != 3 || outcomes["already"] != 1 {
		t.Errorf("outcomes %v", outcomes)
	}
}

// TestActionLinksRefusals: every bad input and every refusal of Sentry's,
// through the built relay: a clear page, nothing changed in Sentry, no
// message to the groups, no secret in a page or the log.
func TestActionLinksRefusals(t *testing.T) {
	a := startActingRelay(t)
	key := actlink.Key(a.doc, &a.doc.Organizations[0])
	link := func(l actlink.Link, k []byte) string { return a.base + l.Path(k) }
	week := time.Now().Add(actlink.Lifetime).Truncate(time.Second)
	resolve := actlink.Link{Org: 1, Project: 1, Issue: actIssue, Action: actlink.Resolve, Expires: week}
	good := link(resolve, key)
	code, page := a.get(good)
	ft := formTokenRE.FindStringSubmatch(page)
	if code != 200 || ft == nil {
		t.Fatalf("the good link: %d\n%s", code, page)
	}
	var pages []string
	expect := func(name string, code int, page string, want int, words string) {
		t.Helper()
		pages = append(pages, page)
		if code != want || !strings.Contains(page, words) {
			t.Errorf("%s: %d, want %d with %q:\n%s", name, code, want, words, page)
		}
	}
	form := url.Values{"ft": {ft[1]}, "who": {"1"}}
	c, p := a.get(strings.Replace(good, "/resolve/", "/ignore/", 1))
	expect("a tampered link", c, p, 403, "这个链接无效")
	c, p = a.get(link(actlink.Link{Org: 2, Project: 1, Issue: actIssue, Action: actlink.Resolve, Expires: week}, key))
	expect("a link for another organization", c, p, 403, "这个链接无效")
	expired := actlink.Link{Org: 1, Project: 1, Issue: actIssue, Action: actlink.Resolve, Expires: time.Now().Add(-time.Second).Truncate(time.Second)}
	c, p = a.get(link(expired, key))
	expect("a replay after expiry", c, p, 410, "已过期")
	c, p = a.post(link(expired, key), form, a.base)
	expect("a post after expiry", c, p, 410, "已过期")
	c, p = a.post(good, url.Values{"who": {"1"}}, a.base)
	expect("a POST without the page's form token", c, p, 403, "不是从确认页面发出的")
	c, p = a.post(good, form, "https://evil.example")
	expect("a POST from another origin", c, p, 403, "来自别的网站")
	unknown := actlink.Link{Org: 1, Project: 1, Issue: "999", Action: actlink.Resolve, Expires: week}
	c, p = a.get(link(unknown, key))
	expect("a link for an issue the token cannot see", c, p, 200, "找不到这个问题")
	c, p = a.post(link(unknown, key), url.Values{"ft": {actlink.FormToken(key, unknown, time.Now())}, "who": {"1"}}, a.base)
	expect("a post for an issue the token cannot see", c, p, 404, "找不到这个问题")
	take := actlink.Link{Org: 1, Project: 1, Issue: actIssue, Action: actlink.Take, Expires: week}
	c, p = a.post(link(take, key), url.Values{"ft": {actlink.FormToken(key, take, time.Now())}, "who": {"2"}}, a.base)
	expect("a person not in the member list", c, p, 422, "成员里没有 wangwu@example.com")
	a.sentry.FailMethod(http.MethodPut, sentrytest.Fault{Status: 429, Body: `{"detail":"You are attempting to use this endpoint too frequently."}`})
	c, p = a.post(good, form, a.base)
	expect("Sentry answering 429", c, p, 429, "限流")
	a.sentry.FailMethod(http.MethodPut, sentrytest.Fault{Hang: true})
	c, p = a.post(good, form, a.base)
	expect("Sentry timing out", c, p, 504, "没有及时回应")
	a.sentry.FailMethod(http.MethodPut, sentrytest.Fault{})
	// Rotating the key (the configurator writes action_key) ends every link.
	rotated := strings.Replace(a.document(a.base), `"schema": 1,`, `"schema": 1, "action_key": "`+actlink.NewKey()+`",`, 1)
	if err := os.WriteFile(filepath.Join(a.dir, "api", "v1", "config.json"), []byte(rotated), 0o600); err != nil {
		t.Fatal(err)
	}
	c, p = a.get(good)
	expect("a link from before a rotation", c, p, 403, "操作密钥已经更换")

	if w := a.sentry.Writes(); len(w) != 0 {
		t.Errorf("bad input changed the issue: %+v", w)
	}
	if is, _ := a.sentry.IssueOf("acme", actIssue); is.Status != "unresolved" || is.AssignedTo != nil {
		t.Errorf("the issue changed: %+v", is)
	}
	if n := a.messages(); n != 0 {
		t.Errorf("%d messages to the groups", n)
	}
	a.noSecret(pages...)
	// Nothing was lost: the refused actions that reached Sentry are in the
	// history, refused, with Sentry's answer.
	hist := deliveries.New(store.NewFile(a.dir), "api/", nil)
	waitFor(t, "the refused actions in the history", func() bool {
		recs, _ := hist.List(context.Background(), deliveries.Filter{Result: deliveries.Acted})
		return len(recs) == 4
	})
	recs, _ := hist.List(context.Background(), deliveries.Filter{Result: deliveries.Acted})
	for _, r := range recs {
		if r.Action.Outcome != deliveries.ActionRefused || r.Error == "" || strings.Contains(r.Error, actAPIToken) {
			t.Errorf("record %+v: %s", r.Action, r.Error)
		}
	}
}
