package configapi

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/actlink"
	"github.com/sentry-white/sentry-white/internal/deliveries"
	"github.com/sentry-white/sentry-white/internal/sentryapi/sentrytest"
	"github.com/sentry-white/sentry-white/internal/store"
)

const actToken = "sntrys_0a4c8e2b6d1f5a9c3e7b0d4f8a2c6e1b5d9f3a7c0e4b8d2f6a1c5e9b3d7f0a4c"

// actingEnv is a configurator with one organization at a Sentry stand-in
// (its api_token may change issues and list members), two owners — 张三 a
// member, 李四 not — a robot and a project.
func actingEnv(t *testing.T) (*testEnv, *sentrytest.Server) {
	t.Helper()
	e := newEnv(t)
	sn := sentrytest.New()
	t.Cleanup(sn.Close)
	sn.AddExample("acme", actToken, "TypeError")
	sn.AddToken("no-members", sentrytest.Token{Scopes: []string{"event:write"}})
	sn.AddMember("acme", sentrytest.Member{Email: "invited@example.com", Pending: true})
	e.must(http.StatusCreated, "POST", "/api/v1/organizations", map[string]any{"name": "公司", "sentry_url": sn.URL, "slug": "acme", "api_token": actToken})
	e.must(http.StatusCreated, "POST", "/api/v1/owners", map[string]any{"name": "张三", "mobile": "13800138000", "sentry_user": "zhangsan@example.com"})
	e.must(http.StatusCreated, "POST", "/api/v1/owners", map[string]any{"name": "李四", "mobile": "13900139000", "sentry_user": "lisi@example.com"})
	e.must(http.StatusCreated, "POST", "/api/v1/robots", map[string]any{"name": "研发群", "access_token": "abc123"})
	e.must(http.StatusCreated, "POST", "/api/v1/projects", map[string]any{"name": "商城后台", "slug": "mall-api", "organization_id": 1,
		"owner_ids": []int{1, 2}, "robot_ids": []int{1}})
	return e, sn
}

// TestActionLinksSettings: the relay URL links are built on, the key
// rotated (every earlier link refused), never shown, kept by imports.
func TestActionLinksSettings(t *testing.T) {
	e, _ := actingEnv(t)
	m := e.must(http.StatusOK, "GET", "/api/v1/action-links", nil)
	if m["stored"] != false || m["relay_url"] != "" || asList(m["organizations"])[0].(map[string]any)["links"] != false {
		t.Fatalf("before: %v", m)
	}
	bad := e.must(http.StatusUnprocessableEntity, "PUT", "/api/v1/action-links", map[string]any{"relay_url": "https://alerts.example.com/?token=x"})
	if f := fieldsOf(bad); len(f) != 1 || f[0] != "relay_url" {
		t.Errorf("a relay URL with a token: %v", bad)
	}
	m = e.must(http.StatusOK, "PUT", "/api/v1/action-links", map[string]any{"relay_url": " https://alerts.example.com/ "})
	if m["relay_url"] != "https://alerts.example.com" || asList(m["organizations"])[0].(map[string]any)["links"] != true {
		t.Fatalf("after: %v", m)
	}
	d := e.stored()
	if d.RelayURL != "https://alerts.example.com" || d.ActionKey != "" {
		t.Fatalf("stored %q %q", d.RelayURL, d.ActionKey)
	}
	// A link made now (with the key derived from the api_token) …
	l := actlink.Link{Org: 1, Project: 1, Issue: "42", Action: actlink.Resolve, Expires: time.Now().Add(time.Hour)}
	_, sig, _ := actlink.Parse(l.Path(actlink.Key(d, &d.Organizations[0])))
	w := e.do("POST", "/api/v1/action-links/rotate-key", map[string]any{})
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"rotated": true`) {
		t.Fatalf("rotate: %d %s", w.Code, w.Body)
	}
	d = e.stored()
	if d.ActionKey == "" || strings.Contains(w.Body.String(), d.ActionKey.Reveal()) {
		t.Fatalf("the key is not stored, or the answer shows it: %s", w.Body)
	}
	// … no longer verifies.
	if err := l.Check(sig, actlink.Key(d, &d.Organizations[0]), time.Now()); err == nil {
		t.Error("a link from before the rotation still verifies")
	}
	for _, p := range []string{"/api/v1/organizations", "/api/v1/snapshot", "/api/v1/action-links", "/api/v1/webhook"} {
		if strings.Contains(e.do("GET", p, nil).Body.String(), d.ActionKey.Reveal()) {
			t.Errorf("GET %s shows the action key", p)
		}
	}
	// An import without a key keeps the stored one, and one with another key
	// does not replace it.
	raw, _ := os.ReadFile(filepath.Join(e.dir, "api", "v1", "config.json"))
	var doc map[string]any
	_ = json.Unmarshal(raw, &doc)
	delete(doc, "action_key")
	e.must(http.StatusOK, "PUT", "/api/v1/document", doc)
	if e.stored().ActionKey != d.ActionKey {
		t.Error("an import dropped the action key")
	}
	doc["action_key"] = "an-older-key-from-elsewhere"
	e.must(http.StatusOK, "PUT", "/api/v1/document", doc)
	if e.stored().ActionKey != d.ActionKey {
		t.Error("an import replaced the action key: only a rotation may")
	}
}

// TestSentryMembers: the organization's members from Sentry, each with the
// value to store in sentry_user, and which owners are members.
func TestSentryMembers(t *testing.T) {
	e, _ := actingEnv(t)
	m := e.must(http.StatusOK, "GET", "/api/v1/organizations/1/sentry-members", nil)
	members := asList(m["members"])
	if m["ok"] != true || m["token"] != "api_token" || len(members) != 2 {
		t.Fatalf("members: %v", m)
	}
	pending, zs := members[0].(map[string]any), members[1].(map[string]any)
	if pending["pending"] != true || pending["value"] != "" || zs["value"] != "zhangsan@example.com" || zs["user_id"] != "42" || zs["role"] != "member" {
		t.Errorf("members %v", members)
	}
	owners := asList(m["owners"])
	if len(owners) != 2 || owners[0].(map[string]any)["member"] != true || owners[1].(map[string]any)["member"] != false {
		t.Errorf("owners %v", owners)
	}
	if strings.Contains(jsonNum(m), actToken) {
		t.Error("the answer shows the token")
	}
	// A token without member:read: Sentry's refusal, naming the permission.
	e.must(http.StatusOK, "PATCH", "/api/v1/organizations/1", map[string]any{"api_token": "no-members"})
	m = e.must(http.StatusOK, "GET", "/api/v1/organizations/1/sentry-members", nil)
	se, _ := m["error"].(map[string]any)
	if m["ok"] != false || se["code"] != "forbidden" || !strings.Contains(se["fix"].(string), "Member: Read") {
		t.Errorf("no member:read: %v", m)
	}
	e.must(http.StatusOK, "PATCH", "/api/v1/organizations/1", map[string]any{"api_token": ""})
	e.must(http.StatusUnprocessableEntity, "GET", "/api/v1/organizations/1/sentry-members", nil)
	e.must(http.StatusNotFound, "GET", "/api/v1/organizations/9/sentry-members", nil)
}

// TestPreviewWithActionLinks: the preview shows each robot's message with
// its links (a sample issue for the sample event), and why there are none.
func TestPreviewWithActionLinks(t *testing.T) {
	e, _ := actingEnv(t)
	m := e.must(http.StatusOK, "POST", "/api/v1/projects/1/preview", map[string]any{})
	if info := m["action_links"].(map[string]any); info["on"] != false || info["off_code"] != "no_relay_url" {
		t.Errorf("without relay_url: %v", info)
	}
	if acts := asList(asList(m["robots"])[0].(map[string]any)["actions"]); len(acts) != 0 {
		t.Errorf("links without relay_url: %v", acts)
	}
	e.must(http.StatusOK, "PUT", "/api/v1/action-links", map[string]any{"relay_url": "https://alerts.example.com"})
	m = e.must(http.StatusOK, "POST", "/api/v1/projects/1/preview", map[string]any{})
	rb := asList(m["robots"])[0].(map[string]any)
	acts := asList(rb["actions"])
	if info := m["action_links"].(map[string]any); info["on"] != true || info["sample_issue"] != true || len(acts) != 3 {
		t.Fatalf("sample preview: %v %v", m["action_links"], acts)
	}
	d := e.stored()
	for i, a := range acts {
		a := a.(map[string]any)
		url := a["url"].(string)
		l, sig, err := actlink.Parse(strings.TrimPrefix(url, "https://alerts.example.com"))
		if err != nil || a["action"] != actlink.Actions[i] || l.Issue != sampleIssue || l.Check(sig, actlink.Key(d, &d.Organizations[0]), time.Now()) != nil {
			t.Errorf("action %d: %v (%v)", i, a, err)
		}
		if !strings.Contains(rb["text"].(string), url) {
			t.Errorf("the DingTalk text lacks %s", url)
		}
	}
	// A real payload: links for its issue.
	payload, err := os.ReadFile(filepath.Join("..", "..", "testdata", "sentry", "legacy_saas.json"))
	if err != nil {
		t.Fatal(err)
	}
	m = e.must(http.StatusOK, "POST", "/api/v1/projects/1/preview", map[string]any{"payload": json.RawMessage(payload)})
	acts = asList(asList(m["robots"])[0].(map[string]any)["actions"])
	if len(acts) != 3 || !strings.Contains(acts[0].(map[string]any)["url"].(string), "/act/1/1/4567890123/resolve/") || m["action_links"].(map[string]any)["sample_issue"] != false {
		t.Errorf("payload preview: %v", acts)
	}
	// A follow-up carries none, and says why.
	resolved, _ := os.ReadFile(filepath.Join("..", "..", "testdata", "sentry", "issue_resolved.json"))
	m = e.must(http.StatusOK, "POST", "/api/v1/projects/1/preview", map[string]any{"payload": json.RawMessage(resolved), "resource": "issue"})
	if info := m["action_links"].(map[string]any); info["off_code"] != "follow_up" {
		t.Errorf("follow-up: %v", info)
	}
	// Without the organization's token, none.
	e.must(http.StatusOK, "PATCH", "/api/v1/organizations/1", map[string]any{"api_token": ""})
	m = e.must(http.StatusOK, "POST", "/api/v1/projects/1/preview", map[string]any{})
	if info := m["action_links"].(map[string]any); info["off_code"] != "no_api_token" || len(asList(asList(m["robots"])[0].(map[string]any)["actions"])) != 0 {
		t.Errorf("no api_token: %v", m)
	}
}

// TestActionsInTheDeliveries: the history's action records show in the
// deliveries API, filtered by result=action.
func TestActionsInTheDeliveries(t *testing.T) {
	e, _ := actingEnv(t)
	l := deliveries.New(store.NewFile(e.dir), "api/", nil)
	l.Add(deliveries.Record{ID: "a1", Time: time.Now(), Project: "mall-api", Result: deliveries.Acted, Title: "TypeError",
		Action: &deliveries.Action{Action: "take", OrganizationID: 1, Issue: "42", Who: "张三", SentryUser: "zhangsan@example.com",
			Outcome: deliveries.ActionDone, SentryStatus: 200, Answer: "the issue is now unresolved, assigned to 张三", FollowUp: "posted"}})
	l.Add(deliveries.Record{ID: "a2", Time: time.Now(), Project: "mall-api", Result: deliveries.Acted, Error: "Sentry refused (429)", Fix: "wait",
		Action: &deliveries.Action{Action: "resolve", OrganizationID: 1, Issue: "42", Who: "李四", Outcome: deliveries.ActionRefused, SentryStatus: 429}})
	l.Add(deliveries.Record{ID: "d1", Time: time.Now(), Project: "mall-api", Robot: "研发群", Kind: "dingtalk", Result: deliveries.Delivered})
	if err := l.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	m := e.must(http.StatusOK, "GET", "/api/v1/deliveries?result=action", nil)
	list := asList(m["deliveries"])
	if len(list) != 2 {
		t.Fatalf("actions: %v", m)
	}
	for _, v := range list {
		v := v.(map[string]any)
		a := v["action"].(map[string]any)
		if v["result"] != "action" || a["who"] == "" || a["outcome"] == "" {
			t.Errorf("record %v", v)
		}
		if v["id"] == "a2" && (v["error"] != "Sentry refused (429)" || a["sentry_status"] != 429.0) {
			t.Errorf("refused record %v", v)
		}
	}
	if all := asList(e.must(http.StatusOK, "GET", "/api/v1/deliveries", nil)["deliveries"]); len(all) != 3 {
		t.Errorf("all: %d records", len(all))
	}
	if got := e.must(http.StatusOK, "GET", "/api/v1/deliveries/a1", nil); got["action"] == nil {
		t.Errorf("one action: %v", got)
	}
}
