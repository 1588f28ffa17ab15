package original_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/sentry-white/sentry-white/internal/notifiers"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/docstore"
	"github.com/sentry-white/sentry-white/internal/original"
	"github.com/sentry-white/sentry-white/internal/original/originaltest"
	"github.com/sentry-white/sentry-white/internal/store"
	"github.com/sentry-white/sentry-white/internal/store/osstest"
)

// has reports whether the report holds a problem with code about record
// list/id, optionally naming refList/refID.

// kinds are the robot kinds of the documents, the programs' own.
var kinds = notifiers.Default().Document()

func has(r *original.Report, code, list string, id int64, ref ...any) bool {
	for _, p := range r.Problems {
		if p.Code != code || p.List != list || p.ID != id {
			continue
		}
		if len(ref) == 2 && (p.RefList != ref[0].(string) || p.RefID != int64(ref[1].(int))) {
			continue
		}
		return true
	}
	return false
}

func dump(r *original.Report) string {
	var b strings.Builder
	for _, p := range r.Problems {
		fmt.Fprintf(&b, "\n  %s %s %s %d: %s", p.Level, p.Code, p.List, p.ID, p.Message)
	}
	return b.String()
}

// checkFixture checks what both stores give: the organizations, owners,
// robots and projects of the fixture, deleted records skipped and every
// dangling id named.
func checkFixture(t *testing.T, d *config.Document, r *original.Report) {
	t.Helper()
	if err := d.Validate(kinds); err != nil {
		t.Fatalf("invalid document: %v", err)
	}
	if len(d.WebhookToken) < 16 {
		t.Errorf("webhook token %q: want a new random one", d.WebhookToken)
	}
	if len(d.Organizations) != 1 {
		t.Fatalf("organizations %+v, want only the live original 1", d.Organizations)
	}
	o := d.Organizations[0]
	if o.ID != 1 || o.Name != "公司主账号" || o.Account != "viewer@acme.com" || o.Password.Reveal() != "readonly-2022" ||
		o.Slug != "" || o.SentryURL != "https://sentry.io" {
		t.Errorf("organization %+v", o)
	}
	wantOwners := []config.Owner{{ID: 1, Name: "张三", Mobile: "13800138000"}, {ID: 2, Name: "李四", Mobile: "13900139000"}, {ID: 3, Name: "王五", Mobile: "13700137000"}}
	if len(d.Owners) != len(wantOwners) {
		t.Fatalf("owners %+v, want %+v", d.Owners, wantOwners)
	}
	for i, w := range wantOwners {
		if g := d.Owners[i]; g.ID != w.ID || g.Name != w.Name || g.Mobile != w.Mobile {
			t.Errorf("owners[%d] = %+v, want %+v", i, g, w)
		}
	}
	if len(d.Robots) != 2 {
		t.Fatalf("robots %+v, want 2 and 7", d.Robots)
	}
	for i, w := range []struct {
		id          int64
		name, token string
	}{{2, "研发群", originaltest.TokenDev}, {7, "CRM 群", originaltest.TokenCRM}} {
		g := d.Robots[i]
		if g.ID != w.id || g.Name != w.name || g.AccessToken.Reveal() != w.token || g.Kind != "dingtalk" || g.Keyword != "详情" || g.Secret != "" {
			t.Errorf("robots[%d] = %+v (token %q)", i, g, g.AccessToken.Reveal())
		}
	}
	type proj struct {
		id             int64
		name, slug     string
		org            int64
		owners, robots []int64
	}
	want := []proj{
		{3, "商城后台", "mall-api", 1, []int64{1, 2}, []int64{2}},
		{4, "支付服务", "pay-service", 1, []int64{2}, []int64{}},
		{6, "CRM 前台", "crm-web", 0, []int64{3}, []int64{7}},
	}
	if len(d.Projects) != len(want) {
		t.Fatalf("projects %+v, want %+v", d.Projects, want)
	}
	for i, w := range want {
		g := d.Projects[i]
		if g.ID != w.id || g.Name != w.name || g.Slug != w.slug || g.OrganizationID != w.org || !slices.Equal(g.OwnerIDs, w.owners) || !slices.Equal(g.RobotIDs, w.robots) {
			t.Errorf("projects[%d] = %+v, want %+v", i, g, w)
		}
	}

	for _, c := range []struct {
		code, list string
		id         int64
		ref        []any
	}{
		{original.CodeDeleted, original.Originals, 2, nil},
		{original.CodeDeleted, original.People, 4, nil},
		{original.CodeDeleted, original.Robots, 5, nil},
		{original.CodeDeleted, original.Projects, 5, nil},
		{original.CodeInvalid, original.People, 5, nil},
		{original.CodeListFromRecords, original.Robots, 0, nil},
		{original.CodeDangling, original.Projects, 3, []any{original.People, 4}},
		{original.CodeDangling, original.Projects, 4, []any{original.Robots, 9}},
		{original.CodeNoRobot, original.Projects, 4, nil},
		{original.CodeDangling, original.Projects, 6, []any{original.Originals, 3}},
		{original.CodeDangling, original.Projects, 6, []any{original.People, 8}},
		{original.CodeNoSlug, original.Originals, 1, nil},
	} {
		if !has(r, c.code, c.list, c.id, c.ref...) {
			t.Errorf("the report lacks %s for %s %d %v:%s", c.code, c.list, c.id, c.ref, dump(r))
		}
	}
	for _, p := range r.Problems {
		if p.Code == original.CodeDangling {
			want := map[int64]string{4: original.ReasonDeleted, 9: original.ReasonMissing, 3: original.ReasonMissing, 8: original.ReasonMissing}[p.RefID]
			if p.Reason != want {
				t.Errorf("%s: reason %q, want %q", p.Message, p.Reason, want)
			}
		}
		if p.Message == "" || p.Level == "" {
			t.Errorf("problem without message or level: %+v", p)
		}
	}
	if r.Skipped != 5 {
		t.Errorf("%d records skipped, want 5 (4 deleted, 1 invalid phone):%s", r.Skipped, dump(r))
	}
	if c := r.Counts; c["organizations"] != 1 || c["owners"] != 3 || c["robots"] != 2 || c["projects"] != 3 {
		t.Errorf("counts %v", c)
	}
	// No secret reaches the report, in JSON or as text.
	b, _ := json.Marshal(r)
	for _, s := range append(d.Secrets(), originaltest.TokenDev[:20], "old-pass") {
		if strings.Contains(string(b), s) || strings.Contains(r.Text(), s) {
			t.Errorf("the report shows the secret %q", s)
		}
	}
	text := r.Text()
	for _, s := range []string{"Created: 1 organizations, 3 owners, 2 robots, 3 projects", "robot 9", "deleted", "pay-service"} {
		if !strings.Contains(text, s) {
			t.Errorf("the text report lacks %q:\n%s", s, text)
		}
	}
}

func TestImportFolder(t *testing.T) {
	dir := originaltest.Folder(t)
	d, r, err := original.Import(t.Context(), store.NewFile(dir), "api/", original.Options{Kinds: kinds})
	if err != nil {
		t.Fatal(err)
	}
	checkFixture(t, d, r)
	if r.Store != "file:"+dir {
		t.Errorf("store %q", r.Store)
	}
	for _, l := range r.Lists {
		want := map[string]original.ListState{original.Robots: original.StateRecords}[l.List]
		if want == "" {
			want = original.StateList
		}
		if l.State != want {
			t.Errorf("list %s: state %s, want %s", l.List, l.State, want)
		}
	}
	// The original's objects are left as they were.
	after := originaltest.Folder(t)
	for _, k := range []string{"api/v1/projects", "api/v1/robots/2"} {
		a, _ := os.ReadFile(filepath.Join(dir, k))
		b, _ := os.ReadFile(filepath.Join(after, k))
		if string(a) != string(b) {
			t.Errorf("%s changed", k)
		}
	}
}

func ossBackend(t *testing.T, srv *osstest.Server, loc string) store.Backend {
	t.Helper()
	l, err := store.ParseLocation(loc)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"OSS_ENDPOINT": srv.URL, "OSS_REGION": "cn-hangzhou", "ALIBABA_CLOUD_ACCESS_KEY_ID": "LTAItest", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "test-secret"}
	b, err := store.Open(l, func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestImportOSS(t *testing.T) {
	srv := osstest.New("sw-original")
	t.Cleanup(srv.Close)
	originaltest.SeedOSS(t, srv, "sw-original", "api/")
	d, r, err := original.Import(t.Context(), ossBackend(t, srv, "oss://sw-original/api/"), "api/", original.Options{Kinds: kinds})
	if err != nil {
		t.Fatal(err)
	}
	checkFixture(t, d, r)
	// In a bucket the per-record objects sit beside their list: the list
	// wins over the one that disagrees, and the one not in it is ignored.
	if d.Projects[0].Name != "商城后台" {
		t.Errorf("project 3 is named %q; the list's name must win", d.Projects[0].Name)
	}
	found := false
	for _, p := range r.Problems {
		if p.Code == original.CodeDisagrees && p.List == original.Projects && p.ID == 3 {
			found = slices.Equal(p.Fields, []string{"substitute_name"}) && p.Key == "api/v1/projects/3"
		}
	}
	if !found {
		t.Errorf("no disagreement of projects/3 in substitute_name:%s", dump(r))
	}
	if !has(r, original.CodeNotInList, original.Projects, 12) {
		t.Errorf("projects/12 not reported:%s", dump(r))
	}
	for _, p := range d.Projects {
		if p.ID == 12 {
			t.Error("a per-record object not in the list was imported")
		}
	}
}

func TestNothingToRead(t *testing.T) {
	dir := t.TempDir()
	_, _, err := original.Import(t.Context(), store.NewFile(dir), "api/", original.Options{Kinds: kinds})
	if !errors.Is(err, original.ErrNotFound) || !strings.Contains(err.Error(), "api/v1/projects") {
		t.Fatalf("an empty folder: %v, want ErrNotFound naming the keys", err)
	}
	// A store of this sentry-white only (config.json, history) is not the
	// original layout either.
	b := store.NewFile(dir)
	if _, err := docstore.NewDocs(b, "api/", kinds).Save(t.Context(), config.Empty(), ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := original.Import(t.Context(), b, "api/", original.Options{Kinds: kinds}); !errors.Is(err, original.ErrNotFound) {
		t.Fatalf("a sentry-white store: %v, want ErrNotFound", err)
	}
	// Lists that are all unusable: nothing could be read.
	for _, l := range original.Lists {
		if _, err := b.Put(t.Context(), original.Key("api/", l), []byte("<html>not JSON</html>"), nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := original.Import(t.Context(), b, "api/", original.Options{Kinds: kinds}); !errors.Is(err, original.ErrNotFound) {
		t.Fatalf("unreadable lists: %v, want ErrNotFound", err)
	}
}

func TestUnreachableStoreIsAnError(t *testing.T) {
	srv := osstest.New("sw-original")
	b := ossBackend(t, srv, "oss://sw-original/api/")
	srv.Close()
	_, _, err := original.Import(t.Context(), b, "api/", original.Options{Kinds: kinds})
	if err == nil || errors.Is(err, original.ErrNotFound) || !errors.Is(err, store.ErrUnreachable) {
		t.Fatalf("a closed endpoint: %v, want an unreachable store", err)
	}
	srv2 := osstest.New("sw-original")
	t.Cleanup(srv2.Close)
	srv2.Fail(osstest.Fault{Status: 403, Code: "InvalidAccessKeyId"})
	_, _, err = original.Import(t.Context(), ossBackend(t, srv2, "oss://sw-original/api/"), "api/", original.Options{Kinds: kinds})
	if !errors.Is(err, store.ErrCredentials) || strings.Contains(err.Error(), "test-secret") {
		t.Fatalf("refused keys: %v", err)
	}
}

// put writes objects into a fresh folder store.
func put(t *testing.T, objs map[string]string) store.Backend {
	t.Helper()
	b := store.NewFile(t.TempDir())
	for k, v := range objs {
		if _, err := b.Put(context.Background(), k, []byte(v), nil); err != nil {
			t.Fatal(err)
		}
	}
	return b
}

func TestUnreadableListFallsBackToRecords(t *testing.T) {
	srv := osstest.New("bkt")
	t.Cleanup(srv.Close)
	for k, v := range map[string]string{
		"api/v1/responsible_people":   `{"responsible_people": "oops"}`,
		"api/v1/responsible_people/1": `{"id":1,"name":"张三","phone":"13800138000","deleted_at":"0001-01-01 00:00:00"}`,
		"api/v1/responsible_people/2": `not json`,
		"api/v1/responsible_people/3": `{"id":4,"name":"wrong id"}`,
		"api/v1/projects":             `{"projects":[{"id":1,"name":"mall-api","responsible_people_id":[1]}],"max_id":1}`,
	} {
		if err := srv.Seed("bkt", k, []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	d, r, err := original.Import(t.Context(), ossBackend(t, srv, "oss://bkt/api/"), "api/", original.Options{Kinds: kinds})
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Owners) != 1 || d.Owners[0].Mobile != "13800138000" || !slices.Equal(d.Projects[0].OwnerIDs, []int64{1}) {
		t.Errorf("owners %+v, project %+v", d.Owners, d.Projects)
	}
	var keys []string
	for _, p := range r.Problems {
		if p.Code == original.CodeUnreadable {
			keys = append(keys, p.Key)
		}
	}
	slices.Sort(keys)
	if !slices.Equal(keys, []string{"api/v1/responsible_people", "api/v1/responsible_people/2", "api/v1/responsible_people/3"}) {
		t.Errorf("unreadable objects %v:%s", keys, dump(r))
	}
	if !has(r, original.CodeMissingList, original.Originals, 0) || !has(r, original.CodeMissingList, original.Robots, 0) {
		t.Errorf("missing lists not reported:%s", dump(r))
	}
	if !has(r, original.CodeNoRobot, original.Projects, 1) {
		t.Errorf("a project without robot not reported:%s", dump(r))
	}
}

func TestOddRecords(t *testing.T) {
	tok := strings.Repeat("ab", 32)
	b := put(t, map[string]string{
		"api/v1/originals": `{"originals":[{"id":1,"name":"","account_name":"a@b.c","projects":[{"id":2}]},{"id":"2","name":"second"}]}`,
		"api/v1/responsible_people": `{"responsible_people":[
			{"id":1,"name":"张三","phone":"０086 138 0013 8000"},
			{"id":2,"name":"张三（重复）","phone":"13800138000","projects_id":[3]},
			{"id":1,"name":"dup id","phone":"13900139000"},
			{"id":0,"name":"no id","phone":"13900139000"},
			{"id":3,"name":"","phone":"+852 1234 5678","projects_id":[2]},
			{"id":4,"name":"nobody","phone":""}]}`,
		"api/v1/robots": `[{"id":1,"name":"a","access_token":"` + tok + `","project_id":2},
			{"id":2,"name":"same","access_token":"https://oapi.dingtalk.com/robot/send?access_token=` + tok + `"},
			{"id":3,"name":"bad","access_token":"not a token!"},
			{"id":4,"name":"empty","access_token":""}]`,
		"api/v1/projects": `{"projects":[
			{"id":1,"name":"Mall-API","substitute_name":"` + strings.Repeat("长", 120) + `","robot":{"id":2},"responsible_people_id":[1,2],"original_id":1},
			{"id":2,"name":"pay","substitute_name":"","robot":{"id":0},"responsible_people_id":[]},
			{"id":3,"name":"mall-api","robot_id":3,"original_id":1},
			{"id":4,"name":"商城","original_id":1},
			{"id":5,"name":"","original_id":1},
			{"id":6,"name":"ok","robot":{"id":4},"responsible_people_id":[4],"original_id":"2","deleted_at":null}]}`,
	})
	d, r, err := original.Import(t.Context(), b, "api/", original.Options{WebhookToken: "keep-this-token", Kinds: kinds})
	if err != nil {
		t.Fatal(err)
	}
	if d.WebhookToken.Reveal() != "keep-this-token" {
		t.Errorf("token %q, want the one given", d.WebhookToken.Reveal())
	}
	if len(d.Organizations) != 2 || d.Organizations[0].Name != "a@b.c" || d.Organizations[1].Name != "second" {
		t.Errorf("organizations %+v", d.Organizations)
	}
	if len(d.Owners) != 2 || d.Owners[0].Mobile != "13800138000" || d.Owners[1].Mobile != "+85212345678" || d.Owners[1].Name != "+85212345678" {
		t.Errorf("owners %+v", d.Owners)
	}
	if len(d.Robots) != 1 || d.Robots[0].AccessToken.Reveal() != tok {
		t.Errorf("robots %+v", d.Robots)
	}
	byID := map[int64]config.Project{}
	for _, p := range d.Projects {
		byID[p.ID] = p
	}
	if p := byID[1]; p.Slug != "Mall-API" || len([]rune(p.Name)) != 100 || !slices.Equal(p.OwnerIDs, []int64{1}) || !slices.Equal(p.RobotIDs, []int64{1}) {
		t.Errorf("project 1 %+v: want owners merged into 1, robot 2 merged into 1, the name cut to 100", p)
	}
	// Empty references: taken from the records that name the project.
	if p := byID[2]; p.Name != "pay" || p.OrganizationID != 1 || !slices.Equal(p.RobotIDs, []int64{1}) || !slices.Equal(p.OwnerIDs, []int64{3}) {
		t.Errorf("project 2 %+v: want organization, robot and owner from the reverse references", p)
	}
	if _, ok := byID[3]; ok {
		t.Error("project 3 has the slug of project 1 in the same organization (case aside) and was imported")
	}
	if _, ok := byID[4]; ok {
		t.Error("a project whose slug is not a Sentry slug was imported")
	}
	if p := byID[6]; p.OrganizationID != 2 || len(p.RobotIDs) != 0 || len(p.OwnerIDs) != 0 {
		t.Errorf("project 6 %+v", p)
	}
	for _, c := range []struct {
		code, list string
		id         int64
	}{
		{original.CodeMerged, original.People, 2},
		{original.CodeDuplicateID, original.People, 1},
		{original.CodeInvalid, original.People, 0},
		{original.CodeInvalid, original.People, 4},
		{original.CodeMerged, original.Robots, 2},
		{original.CodeInvalid, original.Robots, 3},
		{original.CodeInvalid, original.Robots, 4},
		{original.CodeFixed, original.Projects, 1},
		{original.CodeFallback, original.Projects, 2},
		{original.CodeDuplicateSlug, original.Projects, 3},
		{original.CodeInvalid, original.Projects, 4},
		{original.CodeInvalid, original.Projects, 5},
		{original.CodeDangling, original.Projects, 6},
		{original.CodeNoOwner, original.Projects, 6},
		{original.CodeUnused, original.Originals, 0},
	} {
		if c.code == original.CodeUnused {
			continue // every organization has a project here
		}
		if !has(r, c.code, c.list, c.id) {
			t.Errorf("no %s for %s %d:%s", c.code, c.list, c.id, dump(r))
		}
	}
	for _, p := range r.Problems {
		if p.Code == original.CodeDangling && p.ID == 6 && p.RefList == original.Robots && p.Reason != original.ReasonSkipped {
			t.Errorf("robot 4 was skipped (empty token); the reason reads %q", p.Reason)
		}
		if strings.Contains(p.Message, tok) {
			t.Errorf("a token in %q", p.Message)
		}
	}
}

func TestListsOnlyDetects(t *testing.T) {
	dir := originaltest.Folder(t)
	s, err := original.Read(t.Context(), store.NewFile(dir), "api/", original.ReadOptions{ListsOnly: true})
	if err != nil || !s.Found() {
		t.Fatalf("detect: %v", err)
	}
	// The robots list is missing, so its records are read all the same.
	for _, i := range s.Info {
		if i.List == original.Robots && (i.State != original.StateRecords || i.Records != 3) {
			t.Errorf("robots: %+v", i)
		}
		if i.List == original.Projects && i.Objects != 0 {
			t.Errorf("projects: per-record objects read in detection: %+v", i)
		}
	}
}

func TestNormalizeMobile(t *testing.T) {
	for in, want := range map[string]string{
		"13800138000":       "13800138000",
		"+86 138-0013-8000": "13800138000",
		"+8613800138000":    "13800138000",
		"0086 13800138000":  "13800138000",
		"8613800138000":     "13800138000",
		"(138) 0013 8000":   "13800138000",
		"１３８００１３８０００":       "13800138000",
		"+852 1234 5678":    "+85212345678",
		"+852-12345678":     "+852-12345678",
		"12345":             "",
		"":                  "",
		"010-12345678":      "",
		"138001380001":      "",
	} {
		got, ok := original.NormalizeMobile(in)
		if got != want || ok != (want != "") {
			t.Errorf("NormalizeMobile(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func TestDeletedAt(t *testing.T) {
	for v, deleted := range map[string]bool{
		`"0001-01-01 00:00:00"`:       false,
		`"0001-01-01T00:00:00Z"`:      false,
		`"0001-01-01T00:00:00+08:00"`: false,
		`""`:                          false,
		`null`:                        false,
		`"2022-05-10 09:30:00"`:       true,
		`"0001-01-01 00:00:01"`:       true,
		`"yes"`:                       true,
	} {
		b := put(t, map[string]string{"api/v1/responsible_people": `{"responsible_people":[{"id":1,"name":"x","phone":"13800138000","deleted_at":` + v + `}]}`})
		d, r, err := original.Import(t.Context(), b, "api/", original.Options{Kinds: kinds})
		if err != nil {
			t.Fatal(err)
		}
		if got := len(d.Owners) == 0; got != deleted || has(r, original.CodeDeleted, original.People, 1) != deleted {
			t.Errorf("deleted_at %s: deleted %v, want %v", v, got, deleted)
		}
	}
	// Absent means not deleted.
	b := put(t, map[string]string{"api/v1/responsible_people": `{"responsible_people":[{"id":1,"phone":"13800138000"}]}`})
	if d, _, err := original.Import(t.Context(), b, "api/", original.Options{Kinds: kinds}); err != nil || len(d.Owners) != 1 || d.Owners[0].Name != "13800138000" {
		t.Errorf("no deleted_at: %v %+v", err, d)
	}
}

func TestAccessToken(t *testing.T) {
	for in, want := range map[string]string{
		"abc123":   "abc123",
		" abc123 ": "abc123",
		"https://oapi.dingtalk.com/robot/send?access_token=abc123":     "abc123",
		"https://oapi.dingtalk.com/robot/send?access_token=abc123&x=1": "abc123",
		"oapi.dingtalk.com/robot/send?access_token=abc123":             "abc123",
		"http://[::1/robot/send?access_token=abc123&x=1":               "abc123",
	} {
		if got := original.AccessToken(in); got != want {
			t.Errorf("AccessToken(%q) = %q, want %q", in, got, want)
		}
	}
}
