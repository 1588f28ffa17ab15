package main

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/docstore"
	"github.com/sentry-white/sentry-white/internal/robottest"
	"github.com/sentry-white/sentry-white/internal/store"
)

// TestThreeRobotKinds: one project with a DingTalk, a WeCom and a Feishu
// robot gets one correct, signed message in each, with owners mentioned the
// way each tool notifies them; a staging warning with a production-only
// filter sends nothing; a production warning below the mention level goes
// out without @.
func TestThreeRobotKinds(t *testing.T) {
	const feishuSecret = "5pS0x0dW5wKZ1nqB3ZqJkc"
	dt := robottest.NewDingTalk(robottest.DingTalkRobot{Token: "dt-token", Secret: exampleSecret, Keywords: []string{"详情"}})
	defer dt.Close()
	wc := robottest.NewWeCom("wc-key")
	defer wc.Close()
	fs := robottest.NewFeishu(robottest.FeishuRobot{Token: "fs-token", Secret: feishuSecret, Keywords: []string{"详情"}})
	defer fs.Close()

	doc := &config.Document{
		Schema: 1, WebhookToken: "tok",
		Organizations: []config.Organization{{ID: 1, Name: "org", SentryURL: "https://sentry.io", Slug: "acme"}},
		Owners: []config.Owner{
			{ID: 1, Name: "张三", Mobile: "13800138000"},
			{ID: 2, Name: "李四", Mobile: "13900139000"},
		},
		Robots: []config.Robot{
			{ID: 1, Name: "钉钉群", Kind: "dingtalk", AccessToken: "dt-token", Secret: exampleSecret, Keyword: "详情"},
			{ID: 2, Name: "企业微信群", Kind: "wecom", AccessToken: "wc-key", Keyword: "详情"},
			{ID: 3, Name: "飞书群", Kind: "feishu", AccessToken: "fs-token", Secret: feishuSecret, Keyword: "详情"},
		},
		Projects: []config.Project{{ID: 1, Name: "商城后台", Slug: "mall-api", OrganizationID: 1, OwnerIDs: []int64{1, 2},
			RobotIDs: []int64{1, 2, 3}, Environments: []string{"production"}, MentionLevel: "error"}},
	}
	kinds := testKinds.Document()
	kinds.SetOwnerID(&doc.Owners[0], "wecom", "zhangsan")
	kinds.SetOwnerID(&doc.Owners[0], "feishu", "ou_zhangsan")
	dir := t.TempDir()
	if _, err := docstore.NewDocs(store.NewFile(dir), "api/", testKinds.Document()).Save(context.Background(), doc, ""); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"SENTRY_WHITE_DINGTALK_API": dt.URL(), "SENTRY_WHITE_WECOM_API": wc.URL(), "SENTRY_WHITE_FEISHU_API": fs.URL()}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	spool := t.TempDir()
	go func() {
		done <- run(ctx, testKinds, []string{"-store", "file:" + dir, "-addr", "127.0.0.1:0", "-spool", spool},
			func(k string) string { return env[k] }, io.Discard, ready)
	}()
	// Stop the relay (and its last history flush) before the temporary
	// folders go.
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}()
	base := "http://" + <-ready + "/?token=tok"

	// A production error: everyone @-mentioned.
	if code, body := post(t, base, payload(t, "legacy_saas.json")); code != 200 {
		t.Fatalf("production error: %d %s", code, body)
	}
	d := dt.Messages()
	if len(d) != 1 || !d[0].Mentioned || strings.Join(d[0].AtMobiles, ",") != "13800138000,13900139000" {
		t.Errorf("DingTalk: %+v", d)
	}
	w := wc.Messages()
	// WeCom: markdown with <@userid> for 张三, plus a text message carrying
	// 李四's mobile (WeCom mentions by mobile only on text).
	if len(w) != 2 || w[0].MsgType != "markdown" || strings.Join(w[0].MarkdownMentions, ",") != "zhangsan" ||
		w[1].MsgType != "text" || strings.Join(w[1].MentionedMobileList, ",") != "13900139000" {
		t.Errorf("WeCom: %+v", w)
	}
	f := fs.Messages()
	if len(f) != 1 || f[0].MsgType != "interactive" || !f[0].Signed || strings.Join(f[0].Mentions, ",") != "ou_zhangsan" {
		t.Errorf("Feishu: %+v", f)
	}
	for _, m := range w {
		if !strings.Contains(m.Content, "详情") {
			t.Errorf("WeCom message without the keyword: %s", m.Content)
		}
	}

	// A staging warning: the production-only filter drops it everywhere.
	staging := strings.NewReplacer(`"production"`, `"staging"`, `"error"`, `"warning"`, "9f2c1b7d", "00000001").Replace(string(payload(t, "legacy_saas.json")))
	if code, body := post(t, base, []byte(staging)); code != 200 || !strings.Contains(body, "filtered") {
		t.Fatalf("staging warning: %d %s", code, body)
	}
	// A production warning below the mention level: sent without @.
	warning := strings.NewReplacer(`"error"`, `"warning"`, "9f2c1b7d", "00000002").Replace(string(payload(t, "legacy_saas.json")))
	if code, body := post(t, base, []byte(warning)); code != 200 {
		t.Fatalf("production warning: %d %s", code, body)
	}
	d = dt.Messages()
	if len(d) != 2 || len(d[1].AtMobiles) != 0 || strings.Contains(d[1].Text, "@1380") {
		t.Errorf("DingTalk warning should carry no @: %+v", d[len(d)-1])
	}
	if w = wc.Messages(); len(w) != 3 || len(w[2].MarkdownMentions) != 0 {
		t.Errorf("WeCom warning should carry no mention: %d messages", len(w))
	}
	if f = fs.Messages(); len(f) != 2 || len(f[1].Mentions) != 0 {
		t.Errorf("Feishu warning should carry no mention: %+v", f)
	}
}
