package config

import (
	"strings"
	"testing"
)

// testKinds are the robot kinds of these tests, named as the documents in
// testdata name them: the document layer applies whatever rules it is
// given (the kinds' own rules are tested in their packages).
var testKinds = Kinds{
	{Name: "dingtalk", OwnerIDKey: "dingtalk_user_id", OwnerIDAlways: true},
	{Name: "wecom", OwnerIDKey: "wecom_user_id", CheckRobot: func(r *Robot) []*FieldError {
		if r.Secret != "" {
			return []*FieldError{{Field: "secret", Msg: "has no signing secret"}}
		}
		return nil
	}},
	{Name: "feishu", OwnerIDKey: "feishu_open_id"},
}

// TestOwnerIDs: an owner's ids are read from the members their kinds name
// and written back as earlier versions wrote them: an empty id of a kind
// that always writes it stays, other empty or null ids go, ids of kinds
// the document does not know are kept as they were, and an id that is not
// a string is an error naming its member.
func TestOwnerIDs(t *testing.T) {
	d, err := Parse([]byte(`{"schema": 1, "owners": [
	  {"id": 1, "mobile": "13800138000", "dingtalk_user_id": null, "wecom_user_id": "", "feishu_open_id": "ou_1",
	   "slack_user_id": "U1", "future_user_id": 5, "future_open_id": null},
	  {"id": 2, "wecom_user_id": "lisi"}]}`), testKinds)
	if err != nil {
		t.Fatal(err)
	}
	o := &d.Owners[0]
	if o.UserID("feishu") != "ou_1" || o.UserID("dingtalk") != "" || o.UserID("slack") != "" || len(o.UserIDs()) != 1 {
		t.Errorf("ids %v", o.UserIDs())
	}
	if d.Owners[1].Name != "lisi" {
		t.Errorf("an owner without a name or mobile is named by an id: %q", d.Owners[1].Name)
	}
	out, err := Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	want := `"mobile": "13800138000",
      "dingtalk_user_id": "",
      "feishu_open_id": "ou_1",
      "future_open_id": null,
      "future_user_id": 5,
      "slack_user_id": "U1"
    },`
	if !strings.Contains(string(out), want) {
		t.Errorf("owner written as\n%s\nwant\n%s", out, want)
	}
	testKinds.SetOwnerID(o, "wecom", "zhangsan")
	testKinds.SetOwnerID(o, "feishu", "")
	testKinds.SetOwnerID(o, "slack", "U2") // not a kind of these: nothing changes
	if o.UserID("wecom") != "zhangsan" || o.UserID("feishu") != "" || string(o.Extra["wecom_user_id"]) != `"zhangsan"` ||
		o.Extra["feishu_open_id"] != nil || string(o.Extra["slack_user_id"]) != `"U1"` {
		t.Errorf("after SetOwnerID: ids %v, members %s", o.UserIDs(), o.Extra)
	}

	_, err = Parse([]byte(`{"schema": 1, "owners": [{"id": 1, "mobile": "13800138000", "wecom_user_id": 5}]}`), testKinds)
	if fs := Fields(err); len(fs) != 1 || fs[0].Field != "owners[0].wecom_user_id" || fs[0].Code != "json_type" {
		t.Errorf("an id that is a number: %v", err)
	}
}

// TestNoKinds: a document validated without robot kinds says so for each
// robot rather than calling its kind unknown.
func TestNoKinds(t *testing.T) {
	_, err := Parse([]byte(`{"schema": 1, "robots": [{"id": 1, "access_token": "abc"}]}`), nil)
	if fs := Fields(err); len(fs) != 1 || fs[0].Code != "kind_unregistered" {
		t.Errorf("no kinds: %v", err)
	}
}
