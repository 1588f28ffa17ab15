package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/dispatch"
	"github.com/sentry-white/sentry-white/internal/docstore"
	"github.com/sentry-white/sentry-white/internal/original/originaltest"
	"github.com/sentry-white/sentry-white/internal/relay"
	"github.com/sentry-white/sentry-white/internal/robottest"
	"github.com/sentry-white/sentry-white/internal/store"
	"github.com/sentry-white/sentry-white/internal/store/osstest"
)

// importCmd runs `sentry-white import-original args…` and returns its output.
func importCmd(t *testing.T, env map[string]string, args ...string) (string, error) {
	t.Helper()
	vars := map[string]string{"SENTRY_WHITE_CONFIG_DIR": t.TempDir()}
	for k, v := range env {
		vars[k] = v
	}
	var out bytes.Buffer
	err := run(context.Background(), testKinds, append([]string{"import-original"}, args...), func(k string) string { return vars[k] }, &out, nil)
	return out.String(), err
}

// TestImportOriginalThenTheRelayDelivers moves the fixture in with the
// command, then has the relay deliver a Sentry alert of an imported
// project to its imported robot, @-mentioning its imported owners.
func TestImportOriginalThenTheRelayDelivers(t *testing.T) {
	dir := originaltest.Folder(t)
	out, err := importCmd(t, nil, "-store", "file:"+dir)
	if err != nil {
		t.Fatalf("import-original: %v\n%s", err, out)
	}
	for _, want := range []string{
		"Created: 1 organizations, 3 owners, 2 robots, 3 projects",
		`project 5 "旧后台" was deleted`,
		`robot names robot 9, which is missing`,
		`person 5 "钱七": phone "12345" cannot be used`,
		"api/v1/robots is missing: its 3 records were read",
		"Wrote api/v1/config.json in file:" + dir,
		"?token=",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the output lacks %q:\n%s", want, out)
		}
	}
	for _, secret := range []string{originaltest.TokenDev, originaltest.TokenCRM, "readonly-2022"} {
		if strings.Contains(out, secret) {
			t.Errorf("the output shows a secret %q", secret)
		}
	}
	d, _, err := docstore.NewDocs(store.NewFile(dir), "api/", testKinds.Document()).Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if d.WebhookToken == "" || len(d.Projects) != 3 {
		t.Fatalf("stored %+v", d)
	}

	ding := robottest.NewDingTalk(
		robottest.DingTalkRobot{Token: originaltest.TokenDev, Keywords: []string{"详情"}},
		robottest.DingTalkRobot{Token: originaltest.TokenCRM, Keywords: []string{"详情"}})
	t.Cleanup(ding.Close)
	h, err := relay.New(relay.Options{
		Kinds: testKinds,
		Docs:  docstore.NewCache(store.NewFile(dir), store.ConfigKey("api/"), time.Hour, testKinds.Document()),
		Dispatch: dispatch.Options{Senders: testKinds.Senders(func(k string) string {
			if k == "SENTRY_WHITE_DINGTALK_API" {
				return ding.URL()
			}
			return ""
		}, nil)},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	post := func(body []byte) (int, string) {
		t.Helper()
		resp, err := http.Post(srv.URL+"/?token="+d.WebhookToken.Reveal(), "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(raw)
	}
	legacy, err := os.ReadFile(filepath.Join("..", "..", "testdata", "sentry", "legacy_saas.json"))
	if err != nil {
		t.Fatal(err)
	}
	if code, body := post(legacy); code != http.StatusOK {
		t.Fatalf("mall-api: %d %s", code, body)
	}
	msgs := ding.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1 (rejected %v)", len(msgs), ding.Rejected())
	}
	m := msgs[0]
	if m.Token != originaltest.TokenDev || !m.Mentioned || !slices.Equal(m.AtMobiles, []string{"13800138000", "13900139000"}) ||
		!strings.Contains(m.Text, "详情") || !strings.Contains(m.Text, "商城后台") || !strings.Contains(m.Text, "viewer@acme.com") {
		t.Errorf("mall-api's message: %+v", m)
	}

	// crm-web: its robot was kept as a whole webhook URL, its original is
	// missing (no organization, no shared login).
	var p map[string]any
	if err := json.Unmarshal(legacy, &p); err != nil {
		t.Fatal(err)
	}
	p["project"], p["project_slug"], p["project_name"] = "crm-web", "crm-web", "crm-web"
	crm, _ := json.Marshal(p)
	if code, body := post(crm); code != http.StatusOK {
		t.Fatalf("crm-web: %d %s", code, body)
	}
	msgs = ding.Messages()
	if len(msgs) != 2 || msgs[1].Token != originaltest.TokenCRM || !slices.Equal(msgs[1].AtMobiles, []string{"13700137000"}) ||
		strings.Contains(msgs[1].Text, "viewer@acme.com") {
		t.Errorf("crm-web's message: %+v", msgs[1:])
	}

	// pay-service has no robot (its robot 9 is missing): nothing is sent.
	p["project"], p["project_slug"] = "pay-service", "pay-service"
	pay, _ := json.Marshal(p)
	post(pay)
	if n := len(ding.Messages()); n != 2 {
		t.Errorf("%d messages after pay-service, want still 2", n)
	}

	// Once is enough: a second run writes nothing.
	out, err = importCmd(t, nil, "-store", "file:"+dir)
	if err != nil || !strings.Contains(out, "Nothing to write") {
		t.Errorf("a second run: %v\n%s", err, out)
	}

	// A robot given its signing secret since: moving in again would clear
	// it (the original's robots have none), and the command says so.
	docs := docstore.NewDocs(store.NewFile(dir), "api/", testKinds.Document())
	d, tag, err := docs.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	d.Robots[0].Secret = robotSecret
	if _, err := docs.Save(t.Context(), d, tag); err != nil {
		t.Fatal(err)
	}
	out, err = importCmd(t, nil, "-store", "file:"+dir, "-dry-run")
	want := fmt.Sprintf("robot #%d %q: secret is cleared (%s → empty)", d.Robots[0].ID, d.Robots[0].Name, robotSecret[:5]+"…"+robotSecret[len(robotSecret)-3:])
	if err != nil || !strings.Contains(out, "Risky changes") || !strings.Contains(out, want) || strings.Contains(out, robotSecret) {
		t.Errorf("a dry run over a signing robot: %v\n%s\nwant %s", err, out, want)
	}
}

func TestImportOriginalCommandRefusals(t *testing.T) {
	// Nothing of the original layout: non-zero, naming what it looked for.
	empty := t.TempDir()
	out, err := importCmd(t, nil, "-store", "file:"+empty)
	if err == nil || !strings.Contains(err.Error(), "api/v1/originals") {
		t.Fatalf("an empty store: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(empty, "api", "v1", "config.json")); !os.IsNotExist(err) {
		t.Error("a document was written to an empty store")
	}

	// A document with entries is there: the contract fails the command
	// only when nothing could be read, so it is replaced, and kept in the
	// history; -dry-run says so first and writes nothing.
	dir := originaltest.Folder(t)
	docs := docstore.NewDocs(store.NewFile(dir), "api/", testKinds.Document())
	d := config.Empty()
	d.Owners = []config.Owner{{ID: 1, Name: "已有", Mobile: "13500135000"}}
	if _, err := docs.Save(t.Context(), d, ""); err != nil {
		t.Fatal(err)
	}
	out, err = importCmd(t, nil, "-store", "file:"+dir, "-dry-run")
	if err != nil || !strings.Contains(out, "Dry run: nothing written") || !strings.Contains(out, "replacing") {
		t.Fatalf("dry run: %v\n%s", err, out)
	}
	if got, _, _ := docs.Load(t.Context()); len(got.Owners) != 1 {
		t.Fatal("the dry run wrote")
	}
	out, err = importCmd(t, nil, "-store", "file:"+dir)
	if err != nil || !strings.Contains(out, "kept in the history") {
		t.Fatalf("over a document: %v\n%s", err, out)
	}
	if got, _, _ := docs.Load(t.Context()); len(got.Owners) != 3 {
		t.Errorf("after the replace: %+v", got.Owners)
	}
	hist, err := docs.History(t.Context())
	if err != nil || len(hist) == 0 {
		t.Fatalf("the replaced document is not in the history: %v %v", hist, err)
	}
	// Run again: the same import, nothing to write; -replace still parses.
	out, err = importCmd(t, nil, "-store", "file:"+dir, "-replace")
	if err != nil || !strings.Contains(out, "Nothing to write") {
		t.Fatalf("again: %v\n%s", err, out)
	}

	if _, err := importCmd(t, nil, "-store", "file:"+dir, "extra"); err == nil {
		t.Error("an extra argument was accepted")
	}
	if out, err := importCmd(t, nil, "-help"); err != nil || !strings.Contains(out, "import-original") {
		t.Errorf("-help: %v %s", err, out)
	}
}

// TestImportOriginalSkipsOddRecords: one record whose id is 1.5, null,
// 2^63-1 or missing, or that is no object at all, is skipped and named in
// the output; the other records of its list are imported, and the project
// that names them keeps its owners.
func TestImportOriginalSkipsOddRecords(t *testing.T) {
	dir := t.TempDir()
	b := store.NewFile(dir)
	for k, v := range map[string]string{
		"api/v1/originals": `{"originals":[{"id":1,"name":"主账号"}],"max_id":1}`,
		"api/v1/responsible_people": `{"responsible_people":[
			{"id":1,"name":"张三","phone":"13800138000"},
			{"id":1.5,"name":"一点五","phone":"13700137000"},
			{"id":null,"name":"空号","phone":"13600136000"},
			{"id":9223372036854775807,"name":"最大","phone":"13500135000"},
			{"name":"无号","phone":"13400134000"},
			null,
			{"id":2,"name":"李四","phone":"13900139000"}],"max_id":2}`,
		"api/v1/robots":   `{"robots":[{"id":1,"name":"研发群","access_token":"` + originaltest.TokenDev + `"}],"max_id":1}`,
		"api/v1/projects": `{"projects":[{"id":1,"name":"mall-api","original_id":1,"robot_id":1,"responsible_people_id":[1,2,1.5,9223372036854775807]}],"max_id":1}`,
	} {
		if _, err := b.Put(t.Context(), k, []byte(v), nil); err != nil {
			t.Fatal(err)
		}
	}
	out, err := importCmd(t, nil, "-store", "file:"+dir)
	if err != nil {
		t.Fatalf("import-original: %v\n%s", err, out)
	}
	for _, want := range []string{
		"Created: 1 organizations, 2 owners, 1 robots, 1 projects",
		`"一点五": id "1.5" cannot be used`,
		`"空号": id "null" cannot be used`,
		`"最大": id "9223372036854775807" cannot be used`,
		`"无号": id "" cannot be used`,
		"record 6 of the list is not a JSON object",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the output lacks %q:\n%s", want, out)
		}
	}
	d, _, err := docstore.NewDocs(b, "api/", testKinds.Document()).Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Owners) != 2 || len(d.Projects) != 1 || !slices.Equal(d.Projects[0].OwnerIDs, []int64{1, 2}) {
		t.Errorf("stored owners %+v, projects %+v; want 张三 and 李四, owners of mall-api", d.Owners, d.Projects)
	}
}

func TestImportOriginalCommandOnOSS(t *testing.T) {
	srv := osstest.New("sw-original")
	t.Cleanup(srv.Close)
	originaltest.SeedOSS(t, srv, "sw-original", "api/")
	env := map[string]string{"OSS_ENDPOINT": srv.URL, "OSS_REGION": "cn-hangzhou", "ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAItest", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "oss-secret-value-0123"}
	// The store from the environment, as scripts set it.
	env["SENTRY_WHITE_STORE"] = "oss://sw-original/api/"
	out, err := importCmd(t, env)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out, "differs from the list in substitute_name; the list wins") || !strings.Contains(out, "projects/12 is not in the list") {
		t.Errorf("the bucket's per-record objects are not reported:\n%s", out)
	}
	raw, ok := srv.Object("sw-original", "api/v1/config.json")
	if !ok {
		t.Fatal("no api/v1/config.json in the bucket")
	}
	if d, err := config.Parse(raw, testKinds.Document()); err != nil || len(d.Projects) != 3 {
		t.Errorf("the bucket's document: %v", err)
	}
	// Refused keys: non-zero, the secret kept out.
	srv.Fail(osstest.Fault{Status: 403, Code: "SignatureDoesNotMatch"})
	_, err = importCmd(t, env)
	if err == nil || !strings.Contains(err.Error(), "credentials") || strings.Contains(err.Error(), "oss-secret") {
		t.Errorf("refused keys: %v", err)
	}
}
