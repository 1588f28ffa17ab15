package dingtalk

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/notify"
)

// markdownBody is DingTalk's markdown request, as the tests decode it.
type markdownBody struct {
	MsgType  string `json:"msgtype"`
	Markdown struct {
		Title string `json:"title"`
		Text  string `json:"text"`
	} `json:"markdown"`
	At struct {
		AtMobiles []string `json:"atMobiles"`
		AtUserIds []string `json:"atUserIds"`
		IsAtAll   bool     `json:"isAtAll"`
	} `json:"at"`
}

// encodedBody is the request as encoding/json made it before body wrote
// its bytes itself: the reference.
func encodedBody(m *notify.Message) ([]byte, error) {
	var b markdownBody
	b.MsgType = "markdown"
	b.Markdown.Title = Title(m)
	b.At.AtMobiles, b.At.AtUserIds = []string{}, []string{}
	var mentions []string
	for _, p := range m.Mentions {
		switch id := p.ID(name); {
		case p.Mobile != "":
			b.At.AtMobiles = append(b.At.AtMobiles, p.Mobile)
			mentions = append(mentions, "@"+p.Mobile)
		case id != "":
			b.At.AtUserIds = append(b.At.AtUserIds, id)
			mentions = append(mentions, "@"+id)
		}
	}
	head, tail := Text(m, strings.Join(mentions, " "))
	b.Markdown.Text = head + tail
	return notify.EncodeJSON(&b)
}

// TestBodyAsEncodingJSON: body writes the bytes encoding/json wrote, for
// messages with every kind of text, mention and digest.
func TestBodyAsEncodingJSON(t *testing.T) {
	odd := "q\"b\\s </b> & \x01\t\n 中文 🔥 \u2028 \xff *x* _y_ `z` [a](b)"
	msgs := []*notify.Message{
		{Title: "t", Heading: "h", Keyword: "详情"},
		{Title: odd, Heading: odd, Link: "https://x/issues/1/?a=(b)", Level: "error", State: "new", Keyword: "详情",
			Fields: []notify.Field{{Label: odd, Value: odd}, {Label: "l", Value: "v", Link: "https://x/<y>"}}, Note: "账号: a / p*w_d`",
			Mentions: []notify.Mention{{Name: "a", Mobile: "13800138000"}, {Name: "b", IDs: map[string]string{"dingtalk": "uid\"1"}},
				{Name: "c"}, {Name: "d", Mobile: "+852-1", IDs: map[string]string{"dingtalk": "u2"}}}},
		{Heading: "digest", Keyword: "kw", Lang: "en", Digest: []notify.DigestItem{{Project: odd, Title: odd, Link: "https://x/1", Level: "error", Count: 3},
			{Project: "p", Title: "t"}}, Fields: []notify.Field{{Label: "n", Value: odd}}},
		{Keyword: "字", Heading: "字字字字", Lang: "en"},
	}
	for i, m := range msgs {
		want, err := encodedBody(m)
		if err != nil {
			t.Fatal(err)
		}
		got, err := body(m)
		if err != nil || string(got) != string(want) {
			t.Errorf("message %d:\n got %s\nwant %s (%v)", i, got, want, err)
		}
	}
}

func TestContainsAcross(t *testing.T) {
	for _, c := range []struct {
		a, b, s string
		want    bool
	}{{"ab", "cd", "bc", true}, {"详", "情", "详情", true}, {"abc", "", "bc", true}, {"", "abc", "ab", true},
		{"ab", "cd", "ac", false}, {"", "", "x", false}, {"a", "b", "abc", false}} {
		if got := containsAcross(c.a, c.b, c.s); got != c.want {
			t.Errorf("containsAcross(%q, %q, %q) = %v", c.a, c.b, c.s, got)
		}
	}
}

// TestEndpointQuery: the query written directly is the one url.Values
// encodes, and a base URL's own query is kept.
func TestEndpointQuery(t *testing.T) {
	now := func() time.Time { return time.UnixMilli(1700000000004) }
	for _, tok := range []string{"abc123", "a b+c/d=é&x"} {
		n := &Notifier{Base: "https://oapi.dingtalk.com/", Now: now}
		for _, sec := range []string{secret, ""} {
			u, err := n.endpoint(&config.Robot{AccessToken: config.Secret(tok), Secret: config.Secret(sec)})
			if err != nil {
				t.Fatal(err)
			}
			q := url.Values{"access_token": {tok}}
			if sec != "" {
				q.Set("timestamp", "1700000000004")
				q.Set("sign", Sign(sec, 1700000000004))
			}
			if want := "https://oapi.dingtalk.com/robot/send?" + q.Encode(); u.String() != want {
				t.Errorf("%s\nwant %s", u, want)
			}
		}
	}
	n := &Notifier{Base: "http://proxy.example/dt?via=1", Now: now}
	u, _ := n.endpoint(&config.Robot{AccessToken: "t"})
	if u.String() != "http://proxy.example/dt?access_token=t&via=1%2Frobot%2Fsend" {
		t.Errorf("base with a query: %s", u)
	}
	if _, err := (&Notifier{Base: "http://[::1"}).endpoint(&config.Robot{AccessToken: "t"}); err == nil {
		t.Error("an invalid base URL was taken")
	}
}

// TestEscapeUnchangedIsSame: text without markup comes back as it is.
func TestEscapeUnchangedIsSame(t *testing.T) {
	for _, s := range []string{"", "plain text 中文", "a*b", "x_y", "<b>", "a\\*", "line\nbreak", "[x](y)", "`a` `b`"} {
		if needsEscape(s) {
			continue
		}
		if Escape(s) != s {
			t.Errorf("%q changed", s)
		}
	}
	for _, s := range []string{"a*b*", "a\nb", "<b>", "[a](b)", "\\*"} {
		if !needsEscape(s) {
			t.Errorf("%q needs escaping", s)
		}
	}
}
