package notify

import (
	"encoding/json"
	"strings"
	"testing"
)

// plain renders a message as JSON of its parts, standing in for a kind.
func plain(m *Message) ([]byte, error) { return json.Marshal(m) }

func fitMessage() *Message {
	return &Message{Title: "详情 | t", Heading: strings.Repeat("标题", 100), Link: "https://acme.sentry.io/issues/42/",
		Keyword: "详情", Fields: []Field{{Label: "项目", Value: "mall-api"}, {Label: "说明", Value: strings.Repeat("长", 2000)}},
		Mentions: []Mention{{Name: "张三", Mobile: "13800138000"}}}
}

// TestFitOrder: details go first, then the heading, then the link; the
// title, keyword and mentions stay while anything else can go.
func TestFitOrder(t *testing.T) {
	m := fitMessage()
	full, _ := plain(m)
	out, err := Fit(len(full)-1000, m, plain)
	if err != nil {
		t.Fatal(err)
	}
	var got Message
	_ = json.Unmarshal(out, &got)
	if got.Heading != m.Heading || got.Link != m.Link || len(got.Mentions) != 1 || got.Fields[0].Value != "mall-api" {
		t.Errorf("a small cut took more than the long detail: %+v", got)
	}
	if m.Fields[1].Value != strings.Repeat("长", 2000) {
		t.Error("Fit changed the caller's message")
	}
	out, err = Fit(420, m, plain)
	if err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal(out, &got)
	if len(out) > 420 || got.Title != m.Title || got.Keyword != "详情" || len(got.Mentions) != 1 || got.Link == "" {
		t.Errorf("a deep cut: %d bytes %+v", len(out), got)
	}
}

// TestFitKeepsTheNoteWhole: the note (the shared Sentry login, a
// password) is never cut, only dropped whole after the other details.
func TestFitKeepsTheNoteWhole(t *testing.T) {
	m := fitMessage()
	m.Note = "Sentry 共享账号: viewer@acme.com / " + strings.Repeat("p", 40)
	full, _ := plain(m)
	for limit := len(full) - 200; limit >= 420; limit -= 97 {
		out, err := Fit(limit, m, plain)
		if err != nil {
			t.Fatal(err)
		}
		var got Message
		_ = json.Unmarshal(out, &got)
		if got.Note != "" && got.Note != m.Note {
			t.Fatalf("limit %d: the note was cut to %q", limit, got.Note)
		}
		if got.Note == "" && len(got.Fields) > 0 {
			t.Fatalf("limit %d: the note was dropped before the fields %+v", limit, got.Fields)
		}
	}
}

// TestFitLongLink: a link of 30 KB loses its query, and the details stay.
func TestFitLongLink(t *testing.T) {
	m := fitMessage()
	m.Fields = m.Fields[:1]
	m.Link += "?q=" + strings.Repeat("x", 30000)
	out, err := Fit(2000, m, plain)
	if err != nil {
		t.Fatal(err)
	}
	var got Message
	_ = json.Unmarshal(out, &got)
	if got.Link != "https://acme.sentry.io/issues/42/" || len(got.Fields) != 1 {
		t.Errorf("link %q, fields %+v", got.Link, got.Fields)
	}
}

// TestFitImpossible: a limit too small for the title alone is an error,
// not a loop.
func TestFitImpossible(t *testing.T) {
	if _, err := Fit(10, fitMessage(), plain); err == nil {
		t.Error("a 10-byte limit was met")
	}
}

func TestCutRunes(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{{"abc", 3, "abc"}, {"abcd", 3, "ab…"}, {"错误堆栈", 2, "错…"}, {"ab", 0, "…"}} {
		if got := CutRunes(tc.in, tc.n); got != tc.want {
			t.Errorf("CutRunes(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
	if got := CutBytes("错误", 4); got != "错" {
		t.Errorf("CutBytes = %q", got)
	}
}
