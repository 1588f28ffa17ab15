package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func read(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "config", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParseKeepsUnknownFields(t *testing.T) {
	d, err := Parse(read(t, "full.json"), testKinds)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(d.Projects), 2; got != want {
		t.Fatalf("projects = %d, want %d", got, want)
	}
	out, err := Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"future_top_level"`, `"region": "us"`, `"team": "backend"`, `"x-note": "kept"`, `"s3cret"`, `"mention_level": "error"`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("rewrite lost %s:\n%s", want, out)
		}
	}
	// A second round trip is stable.
	d2, err := Parse(out, testKinds)
	if err != nil {
		t.Fatal(err)
	}
	out2, _ := Marshal(d2)
	if string(out) != string(out2) {
		t.Errorf("round trip not stable:\n%s\n---\n%s", out, out2)
	}
	// Go's default HTML escaping must not mangle text.
	d.Projects[0].Name = "a<b>&c"
	out3, _ := Marshal(d)
	if !strings.Contains(string(out3), `"a<b>&c"`) {
		t.Errorf("HTML-escaped output: %s", out3)
	}
}

func TestValidateNamesFields(t *testing.T) {
	_, err := Parse(read(t, "invalid.json"), testKinds)
	if err == nil {
		t.Fatal("invalid document accepted")
	}
	for _, want := range []string{
		`owners[0].mobile: "12345" is not a mobile number`,
		"projects[2].owner_ids: owner 7 does not exist",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if n := len(Fields(err)); n != 2 {
		t.Errorf("%d field errors, want 2: %v", n, err)
	}
}

// codesDeclared fails t for a field error whose code is not in Codes (the
// list the configurator's page words).
func codesDeclared(t *testing.T, err error) {
	t.Helper()
	for _, fe := range Fields(err) {
		if !slices.Contains(Codes, fe.Code) {
			t.Errorf("%s: the code %q is not in Codes", fe.Field, fe.Code)
		}
	}
}

func TestValidateTable(t *testing.T) {
	base := func() *Document {
		d, err := Parse(read(t, "full.json"), testKinds)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	tests := []struct {
		name   string
		change func(d *Document)
		field  string
	}{
		{"schema", func(d *Document) { d.Schema = 2 }, "schema"},
		{"dup org id", func(d *Document) { d.Organizations[1].ID = 1 }, "organizations[1].id"},
		{"zero id", func(d *Document) { d.Owners[0].ID = 0 }, "owners[0].id"},
		{"bad sentry url", func(d *Document) { d.Organizations[0].SentryURL = "sentry.io" }, "organizations[0].sentry_url"},
		{"owner nothing to mention", func(d *Document) { testKinds.SetOwnerID(&d.Owners[2], "dingtalk", "") }, "owners[2].mobile"},
		{"robot kind", func(d *Document) { d.Robots[0].Kind = "slack" }, "robots[0].kind"},
		{"robot url as token", func(d *Document) {
			d.Robots[0].AccessToken = "https://oapi.dingtalk.com/robot/send?access_token=abc"
		}, "robots[0].access_token"},
		{"robot no token", func(d *Document) { d.Robots[1].AccessToken = "" }, "robots[1].access_token"},
		{"wecom secret", func(d *Document) { d.Robots[1].Kind = "wecom"; d.Robots[1].Secret = "x" }, "robots[1].secret"},
		{"project slug", func(d *Document) { d.Projects[0].Slug = "商城" }, "projects[0].slug"},
		{"dup slug same org", func(d *Document) { d.Projects[1].OrganizationID = 1 }, "projects[1].slug"},
		{"missing org", func(d *Document) { d.Projects[0].OrganizationID = 9 }, "projects[0].organization_id"},
		{"missing robot", func(d *Document) { d.Projects[0].RobotIDs = []int64{1, 5} }, "projects[0].robot_ids"},
		{"dup owner ref", func(d *Document) { d.Projects[0].OwnerIDs = []int64{1, 1} }, "projects[0].owner_ids"},
		{"min level", func(d *Document) { d.Projects[1].MinLevel = "severe" }, "projects[1].min_level"},
		{"mention level", func(d *Document) { d.Projects[1].MentionLevel = "loud" }, "projects[1].mention_level"},
		{"empty environment", func(d *Document) { d.Projects[1].Environments = []string{""} }, "projects[1].environments[0]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := base()
			tt.change(d)
			err := d.Validate(testKinds)
			if err == nil {
				t.Fatal("accepted")
			}
			codesDeclared(t, err)
			found := false
			for _, fe := range Fields(err) {
				found = found || fe.Field == tt.field
			}
			if !found {
				t.Errorf("error %q does not name %s", err, tt.field)
			}
		})
	}
	if err := base().Validate(testKinds); err != nil {
		t.Errorf("full.json: %v", err)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tt := range []struct{ body, want string }{
		{"", "document: is empty"},
		{"{", "invalid JSON"},
		{`{"projects": 3}`, "projects: invalid JSON"},
		{`{} {}`, "data after"},
		{`{"schema": 1, "webhook_token": "has space"}`, "webhook_token"},
	} {
		_, err := Parse([]byte(tt.body), testKinds)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %v, want %q", tt.body, err, tt.want)
		}
	}
	d, err := Parse([]byte(`{}`), testKinds)
	if err != nil || d.Schema != 1 {
		t.Errorf("Parse({}) = %+v, %v; want an empty schema-1 document", d, err)
	}
}

func TestSecretsNeverPrint(t *testing.T) {
	d, _ := Parse(read(t, "full.json"), testKinds)
	r := d.Robots[0]
	for _, s := range []string{r.Secret.String(), r.AccessToken.GoString()} {
		if strings.Contains(s, "SEC") || strings.Contains(s, "abc123") {
			t.Errorf("secret printed: %s", s)
		}
	}
	b, _ := json.Marshal(r)
	if !strings.Contains(string(b), "abc123") {
		t.Error("JSON must keep the real token for the store")
	}
	if got := len(d.Secrets()); got != 6 {
		t.Errorf("Secrets() = %d values, want 6", got)
	}
}

func TestIndex(t *testing.T) {
	d, _ := Parse(read(t, "full.json"), testKinds)
	x := NewIndex(d)
	if got := len(x.ProjectsBySlug("MALL-API")); got != 2 {
		t.Errorf("ProjectsBySlug = %d, want 2", got)
	}
	if x.Robot(2).EffectiveKeyword() != DefaultKeyword {
		t.Error("empty keyword should default to 详情")
	}
	if x.Owner(9) != nil || x.Organization(2) == nil {
		t.Error("lookups by id")
	}
}

func FuzzParse(f *testing.F) {
	for _, n := range []string{"full.json", "invalid.json"} {
		f.Add(read(f, n))
	}
	f.Add([]byte(`{"schema":1,"projects":[{"id":1,"owner_ids":[1,1]}]}`))
	for _, doc := range listDocs {
		f.Add([]byte(doc))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sameAsByEntry(t, data)
		d, err := Parse(data, testKinds)
		if err != nil {
			return
		}
		out, err := Marshal(d)
		if err != nil {
			t.Fatalf("marshal a valid document: %v", err)
		}
		if _, err := Parse(out, testKinds); err != nil {
			t.Fatalf("a valid document does not survive a rewrite: %v\n%s", err, out)
		}
	})
}

// TestMinimalHandWrittenDocument: only what routing needs is required; the
// rest is filled so messages and the configurator can name things.
func TestMinimalHandWrittenDocument(t *testing.T) {
	d, err := Parse([]byte(`{
	  "owners": [{"id": 1, "mobile": "13800138000"}, {"id": 2, "mobile": "+8613900139000"}],
	  "robots": [{"id": 1, "access_token": "abc"}, {"id": 2, "kind": "DingTalk", "access_token": "def"}],
	  "projects": [{"id": 1, "slug": "mall-api", "owner_ids": [1, 2], "robot_ids": [1, 2]}],
	  "organizations": [{"id": 1, "slug": "acme"}]
	}`), testKinds)
	if err != nil {
		t.Fatal(err)
	}
	if d.Robots[0].Kind != "dingtalk" || d.Robots[1].Kind != "dingtalk" || d.Robots[0].Name != "robot 1" {
		t.Errorf("robots = %+v", d.Robots)
	}
	if d.Owners[0].Name != "13800138000" || d.Projects[0].Name != "mall-api" || d.Organizations[0].Name != "acme" {
		t.Errorf("names not filled: %+v %+v %+v", d.Owners[0], d.Projects[0], d.Organizations[0])
	}
}

// TestNormalizeMobile: mobiles as people type or paste them become what
// the chat tools @-mention.
func TestNormalizeMobile(t *testing.T) {
	for in, want := range map[string]string{
		"13800138000":       "13800138000",
		"+86 13800138000":   "13800138000",
		"+86 138 0013 8000": "13800138000",
		"+86-138-0013-8000": "13800138000",
		"138-0013-8000":     "13800138000",
		"138 0013 8000":     "13800138000",
		"(0086)13800138000": "13800138000",
		"8613800138000":     "13800138000",
		"１３８００１３８０００":       "13800138000",
		"＋８６ １３８－００１３－８０００": "13800138000",
		"+852-12345678":  "+852-12345678",
		"+852 1234 5678": "+85212345678",
		"12345":          "12345",
	} {
		if got := NormalizeMobile(in); got != want {
			t.Errorf("NormalizeMobile(%q) = %q, want %q", in, got, want)
		}
	}
}

// listDocs are documents whose lists the one-pass decoder must take as
// the decoder of each entry does: unknown members at every level, a list
// given twice, null lists and entries, names by case or with escapes.
var listDocs = []string{
	`{"schema":1,"future":{"a":[1,2]},"owners":[{"id":1,"mobile":"13800138000","pager":"x"},null,{"id":2}],` +
		`"robots":[],"projects":null,"organizations":[{"id":1,"slug":"acme","sso":true}]}`,
	`{"owners":[{"id":1}],"owners":[{"id":2,"x":1},{"id":3,"y":{"z":"}"}}]}`,
	`{"Owners":[{"id":1,"x":1}]}`,
	`{"own\u0065rs":[{"id":1,"x":1}]}`,
	`{"projects":[{"id":1,"slug":"a","quiet_hours":{"from":"22:00","to":"08:00","extra":1},"k":"\"]"}]}`,
	`null`,
	`{"robots":[{"id":1,"access_token":"t","kind":"dingtalk","ſecret":"x"}]}`,
	`{"projects":[1]}`,
	`{"owners":[{"id":1}]} trailing`,
}

// TestDecodeListsAsByEntry: the one-pass decoder gives what decoding
// each entry does, or leaves the document to it.
func TestDecodeListsAsByEntry(t *testing.T) {
	// Which ones the one pass takes; the others go entry by entry.
	onePass := []bool{true, true, false, false, true, true, true, false, false}
	for i, doc := range listDocs {
		if _, ok := decodeLists([]byte(doc)); ok != onePass[i] {
			t.Errorf("decodeLists(%s) ok = %v, want %v", doc, ok, onePass[i])
		}
		sameAsByEntry(t, []byte(doc))
	}
	full := read(t, "full.json")
	if _, ok := decodeLists(full); !ok {
		t.Error("the full example document is not decoded in one pass")
	}
	sameAsByEntry(t, full)
}

// sameAsByEntry fails t when decodeLists decodes data other than
// unmarshalEntries does.
func sameAsByEntry(t *testing.T, data []byte) {
	t.Helper()
	fast, ok := decodeLists(data)
	if !ok {
		return
	}
	var slow Document
	if err := slow.unmarshalEntries(data); err != nil {
		t.Fatalf("decoded in one pass, but by entry: %v\n%s", err, data)
	}
	if !reflect.DeepEqual(fast, slow) {
		t.Fatalf("one pass: %+v\nby entry: %+v\n%s", fast, slow, data)
	}
}
