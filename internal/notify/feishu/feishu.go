// Package feishu sends interactive cards to Feishu / Lark custom bots
// (自定义机器人): signed with a fresh timestamp in seconds on every request
// when the bot has a secret, the keyword in the card's title, owners
// @-mentioned by open_id, and every answer checked for a zero code.
package feishu

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/notify"
)

// DefaultBase is Feishu's open platform; the send endpoint is
// <base>/open-apis/bot/v2/hook/<token>. Lark uses https://open.larksuite.com.
const DefaultBase = "https://open.feishu.cn"

// MaxBody is the most a request body may be, in bytes: Feishu documents
// "20 KB", and 20,000 bytes is under it however a KB is counted.
const MaxBody = 20000

// maxTitle bounds the card title, in bytes.
const maxTitle = 600

const name = "feishu"

// Kind describes Feishu / Lark custom bots to the registry.
var Kind = &notify.Kind{
	Name:        name,
	Label:       notify.Text{Zh: "飞书", En: "Feishu"},
	BaseEnv:     "SENTRY_WHITE_FEISHU_API",
	DefaultBase: DefaultBase,
	// 5 a second and 100 a minute per bot (docs/chat-robots.md §3).
	Budget: notify.Budget{Limits: []notify.Limit{{N: 5, Per: time.Second}, {N: 100, Per: time.Minute}},
		Block: time.Minute, DigestItems: 30},
	MaxBody: MaxBody,
	Token: notify.Input{Key: "access_token", Label: notify.Text{Zh: "Webhook token", En: "Webhook token"},
		Help: notify.Text{Zh: "机器人 Webhook 地址里 /hook/ 后面的部分；直接粘贴整段地址即可",
			En: "the part after /hook/ in the bot's webhook URL; paste the whole URL"}},
	Secret: &notify.Input{Key: "secret", Label: notify.Text{Zh: "签名校验密钥", En: "Signing secret"},
		Help: notify.Text{Zh: "安全设置开启“签名校验”时的密钥；没开留空", En: "the secret of the bot's signature check; empty when it is off"}},
	Keyword: true,
	OwnerID: &notify.Input{Key: "feishu_open_id", Prefix: "ou_", Label: notify.Text{Zh: "飞书 open_id", En: "Feishu open_id"},
		Help: notify.Text{Zh: "选填；飞书机器人只能按 open_id @（ou_ 开头）", En: "optional; Feishu bots can only mention by open_id (ou_…)"}},
	URLExample: "https://open.feishu.cn/open-apis/bot/v2/hook/…",
	Fixes:      fixes,
	New:        func(base string, c *http.Client) notify.Sender { return &Notifier{Base: base, Client: c} },
	Requests: func(m *notify.Message) ([]json.RawMessage, error) {
		b, err := Body(m, "", 0)
		return []json.RawMessage{b}, err
	},
	Explain: func(code int, msg string, signed bool) *notify.Fix {
		_, _, _, f := explain(code, msg, signed)
		return f
	},
	// Signed: a timestamp and a signature of fixed length in the body.
	Size: func(m *notify.Message) int {
		b, err := build(m, "secret", 1700000000)
		if err != nil {
			return MaxBody + 1
		}
		return len(b)
	},
	ParseURL: func(u *url.URL) (string, bool) {
		_, rest, ok := strings.Cut(u.Path, "/hook/")
		rest = strings.Trim(rest, "/")
		return rest, ok && rest != "" && !strings.Contains(rest, "/")
	},
}

// Notifier posts to Feishu custom bots. It is safe for concurrent use.
type Notifier struct {
	Base   string           // API base URL; "" means DefaultBase
	Client *http.Client     // nil means a client with a 5 s timeout
	Now    func() time.Time // for signing; nil means time.Now
}

var defaultClient = &http.Client{Timeout: 5 * time.Second}

// Send posts m to bot r once as an interactive card, signed with a fresh
// timestamp when the bot has a secret.
func (n *Notifier) Send(ctx context.Context, r *config.Robot, m *notify.Message) error {
	if r == nil || m == nil {
		return &notify.Error{Kind: name, Msg: "nothing to send: no robot or no message"}
	}
	token := r.AccessToken.Reveal()
	if strings.TrimSpace(token) == "" {
		return &notify.Error{Robot: r.Name, Kind: r.Kind, Msg: "the bot has no hook token", Fix: fix(fixTokenWrong)}
	}
	var ts int64
	secret := r.Secret.Reveal()
	if secret != "" {
		now := time.Now
		if n.Now != nil {
			now = n.Now
		}
		ts = now().Unix()
	}
	body, err := Body(m, secret, ts)
	if err != nil {
		return &notify.Error{Robot: r.Name, Kind: r.Kind, Msg: err.Error()}
	}
	base := n.Base
	if base == "" {
		base = DefaultBase
	}
	u, err := url.Parse(strings.TrimRight(base, "/") + "/open-apis/bot/v2/hook/" + url.PathEscape(token))
	if err != nil {
		return &notify.Error{Robot: r.Name, Kind: r.Kind, Msg: "invalid Feishu API base URL or hook token"}
	}
	c := n.Client
	if c == nil {
		c = defaultClient
	}
	status, raw, err := notify.Post(ctx, c, r, u.String(), body, token, secret)
	if err != nil {
		return err
	}
	return Classify(r, status, raw)
}

// Sign returns Feishu's signature: base64 of HMAC-SHA256 keyed by
// "<timestamp s>\n<secret>" over an empty message. It goes into the body,
// not URL-escaped.
func Sign(secret string, tsSeconds int64) string {
	mac := hmac.New(sha256.New, []byte(strconv.FormatInt(tsSeconds, 10)+"\n"+secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

type answer struct {
	Code *int   `json:"code"`
	Msg  string `json:"msg"`
}

// Classify turns Feishu's answer into nil (code 0 with HTTP 200) or a
// *notify.Error that says whether to retry and, for configuration faults,
// how to fix it. Feishu answers 9499 with HTTP 400, so the body's code is
// read whatever the status below 500.
func Classify(r *config.Robot, status int, raw []byte) error {
	var a answer
	if e := notify.DecodeAnswer(r, status, raw, &a); e != nil {
		return e
	}
	e, ok := notify.CodeAnswer(r, status, a.Code, "code")
	if ok {
		return nil
	}
	if e.Code == 0 {
		return e
	}
	e.Msg = notify.Scrub(a.Msg, r.AccessToken.Reveal(), r.Secret.Reveal())
	e.Retry, e.RateLimited, e.Resign, e.Fix = explain(e.Code, a.Msg, r.Secret.Reveal() != "")
	return e
}

// What to do about Feishu's refusals, by code.
const (
	fixRateLimited   = "rate_limited"
	fixBadRequest    = "bad_request"
	fixTokenWrong    = "token_wrong"
	fixSignOrClock   = "sign_or_clock"
	fixSecretMissing = "secret_missing"
	fixIPAllowList   = "ip_allowlist"
	fixKeyword       = "keyword"
)

// fixes words them (Kind.Fixes).
var fixes = map[string]notify.Text{
	fixRateLimited: {Zh: "飞书机器人每秒最多发 5 条、每分钟最多发 100 条消息", En: "Feishu allows 5 messages a second and 100 a minute per bot"},
	fixBadRequest:  {Zh: "飞书认为请求格式不对，或超过了 20 KB", En: "Feishu refused the request as malformed or larger than 20 KB"},
	fixTokenWrong: {Zh: "Webhook token 不对，或机器人已被移除：请从机器人的 Webhook 地址重新复制 /hook/ 后面的部分",
		En: "the bot's hook token is wrong or the bot was removed: copy the part after /hook/ from the bot's webhook URL again"},
	fixSignOrClock: {Zh: "机器人拒绝了签名或签名时间：请从机器人安全设置里重新复制签名校验的密钥，并检查这台电脑的时钟",
		En: "the bot refused the signature or its time: copy the signing secret (签名校验) from the bot's security settings again, and check this machine's clock"},
	fixSecretMissing: {Zh: "这个机器人开启了签名校验，但这里没有填它的密钥：请从机器人安全设置里复制签名密钥，编辑机器人填上",
		En: "the bot has signature verification (签名校验) on, but no secret is set here: it needs its signing secret; copy it from the bot's security settings into the robot's secret"},
	fixIPAllowList: {Zh: "机器人的 IP 白名单不包含这台机器：请改用关键词或签名校验",
		En: "the bot's IP allow-list does not include this server; use keyword or signing security instead"},
	fixKeyword: {Zh: "机器人的自定义关键词必须出现在每条消息里：把关键词设为“详情”，或在这里改成机器人设置的关键词",
		En: "the robot's keyword must appear in every message; set it to 详情 or change the robot"},
}

func fix(code string) *notify.Fix { return notify.NewFix(fixes, code, nil) }

// explain classifies a non-zero code (docs/chat-robots.md §3); signed says
// whether the bot has a secret here.
func explain(code int, msg string, signed bool) (retry, limited, resign bool, f *notify.Fix) {
	switch code {
	case 11232, 11233:
		// 11233 ("create message chat trigger rate limit") is the limit on
		// messages created in a chat, reported by public senders.
		return false, true, false, fix(fixRateLimited)
	case 9499:
		if strings.Contains(strings.ToLower(msg), "too many") {
			return false, true, false, fix(fixRateLimited)
		}
		return false, false, false, fix(fixBadRequest)
	case 19001:
		return false, false, false, fix(fixTokenWrong)
	case 19021:
		if !signed {
			// The bot checks signatures and nothing was signed: no clock
			// is wrong, and there is nothing to sign again with.
			return false, false, false, fix(fixSecretMissing)
		}
		return false, false, true, fix(fixSignOrClock)
	case 19022:
		return false, false, false, fix(fixIPAllowList)
	case 19024:
		return false, false, false, fix(fixKeyword)
	}
	return false, false, false, nil
}

type body struct {
	Timestamp string `json:"timestamp,omitempty"`
	Sign      string `json:"sign,omitempty"`
	MsgType   string `json:"msg_type"`
	Card      card   `json:"card"`
}

type card struct {
	Config struct {
		WideScreenMode bool `json:"wide_screen_mode"`
	} `json:"config"`
	Header struct {
		Title    text   `json:"title"`
		Template string `json:"template"`
	} `json:"header"`
	Elements []any `json:"elements"`
}

type text struct {
	Tag     string `json:"tag"`
	Content string `json:"content"`
}

type div struct {
	Tag  string `json:"tag"`
	Text text   `json:"text"`
}

type action struct {
	Tag     string   `json:"tag"`
	Actions []button `json:"actions"`
	// Layout arranges the buttons on a narrow screen: "trisection" puts
	// three in a row.
	Layout string `json:"layout,omitempty"`
}

type button struct {
	Tag  string `json:"tag"`
	Text text   `json:"text"`
	Type string `json:"type"`
	URL  string `json:"url"`
}

// Body renders m as an interactive-card request body of at most MaxBody
// bytes. With a secret, it carries timestamp (seconds, as a string) and sign
// at the top level. notify.Fit shortens the details to fit; the title (which
// carries the keyword) and the mentions stay.
func Body(m *notify.Message, secret string, tsSeconds int64) ([]byte, error) {
	return notify.Fit(MaxBody, m, func(m *notify.Message) ([]byte, error) { return build(m, secret, tsSeconds) })
}

// build renders m as the card's request body, as it is.
func build(m *notify.Message, secret string, tsSeconds int64) ([]byte, error) {
	var b body
	if secret != "" {
		b.Timestamp = strconv.FormatInt(tsSeconds, 10)
		b.Sign = Sign(secret, tsSeconds)
	}
	b.MsgType = "interactive"
	b.Card.Config.WideScreenMode = true
	b.Card.Header.Title = text{Tag: "plain_text", Content: Title(m)}
	b.Card.Header.Template = Template(m.Level, m.State)
	b.Card.Elements = Elements(m)
	return notify.EncodeJSON(&b)
}

// Elements are the card's body: the details (lark_md), the note (the shared
// Sentry login) as plain text, where no markdown applies, the keyword as
// plain text when no other text carries it as configured, the mentions,
// and the button to the issue.
func Elements(m *notify.Message) []any {
	out := []any{}
	var texts []string
	if content := Details(m); content != "" {
		out = append(out, div{Tag: "div", Text: text{Tag: "lark_md", Content: content}})
		texts = append(texts, content)
	}
	if m.Note != "" {
		note := oneLine(m.Note)
		out = append(out, div{Tag: "div", Text: text{Tag: "plain_text", Content: note}})
		texts = append(texts, note)
	}
	tail := tailElements(m)
	for _, e := range tail {
		switch e := e.(type) {
		case div:
			texts = append(texts, e.Text.Content)
		case action:
			for _, b := range e.Actions {
				texts = append(texts, b.Text.Content)
			}
		}
	}
	if kw := m.Keyword; kw != "" && !strings.Contains(strings.Join(texts, "\n"), kw) {
		label := "关键词: "
		if m.Lang == "en" {
			label = "Keyword: "
		}
		out = append(out, div{Tag: "div", Text: text{Tag: "plain_text", Content: label + kw}})
	}
	return append(out, tail...)
}

func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == '\r' || r == '\n' }), " ")
}

// Title is the card title: m's title with the keyword, since Feishu looks
// for keywords only in text and title values.
func Title(m *notify.Message) string {
	t := strings.TrimSpace(m.Title)
	if t == "" {
		t = strings.TrimSpace(m.Heading)
	}
	if m.Keyword != "" && !strings.Contains(t, m.Keyword) {
		if t == "" {
			t = m.Keyword
		} else {
			t = m.Keyword + " | " + t
		}
	}
	if len(t) > maxTitle {
		t = notify.CutBytes(t, maxTitle-len("…")) + "…"
	}
	return t
}

// Template is the header colour for a level and state.
func Template(level, state string) string {
	if state == "resolved" {
		return "green"
	}
	switch strings.ToLower(level) {
	case "fatal", "critical", "error":
		return "red"
	case "warning":
		return "orange"
	}
	return "blue"
}

// Details renders the heading and the facts as lark_md. A digest lists one
// plain line per alert, led by its level mark: lists do not render in
// lark_md (a "- " would show as it is).
func Details(m *notify.Message) string {
	var b strings.Builder
	if len(m.Digest) > 0 {
		fmt.Fprintf(&b, "**%s**\n", Escape(m.Heading))
		for _, it := range m.Digest {
			fmt.Fprintf(&b, "%s %s\n", notify.LevelMark(it.Level, ""), notify.DigestLine(it, Escape, escapeURL))
		}
	} else if h := Escape(m.Heading); h != "" {
		if m.Link != "" {
			h = "[" + h + "](" + escapeURL(m.Link) + ")"
		}
		fmt.Fprintf(&b, "**%s**\n", h)
	}
	for _, f := range m.Fields {
		v := Escape(f.Value)
		if f.Link != "" {
			v = "[" + v + "](" + escapeURL(f.Link) + ")"
		}
		fmt.Fprintf(&b, "**%s**: %s\n", Escape(f.Label), v)
	}
	return strings.TrimRight(b.String(), "\n")
}

// Mentions renders the @-mentions: <at id=all></at> for a message that
// rings the whole group, <at id=…></at> for owners with an open_id, and the
// names of the others in plain text (Feishu bots cannot mention by mobile).
func Mentions(m *notify.Message) string {
	var parts []string
	if m.AtAll {
		parts = append(parts, "<at id=all></at>")
	}
	for _, p := range m.Mentions {
		switch {
		case validID(p.ID(name)):
			parts = append(parts, "<at id="+p.ID(name)+"></at>")
		case strings.TrimSpace(p.Name) != "":
			parts = append(parts, "@"+Escape(strings.TrimSpace(p.Name)))
		}
	}
	return strings.Join(parts, " ")
}

func tailElements(m *notify.Message) []any {
	out := []any{}
	if at := Mentions(m); at != "" {
		out = append(out, div{Tag: "div", Text: text{Tag: "lark_md", Content: at}})
	}
	if m.Link != "" {
		label := "在 Sentry 中查看详情"
		if m.Lang == "en" {
			label = m.LinkLabel()
		}
		out = append(out, action{Tag: "action", Actions: []button{{
			Tag: "button", Text: text{Tag: "plain_text", Content: label}, Type: "primary", URL: m.Link,
		}}})
	}
	if len(m.Actions) > 0 {
		// A row of buttons to the relay's confirm pages, under the
		// mentions, which stay in their lark_md text.
		row := action{Tag: "action", Layout: "trisection"}
		for _, a := range m.Actions {
			row.Actions = append(row.Actions, button{Tag: "button", Text: text{Tag: "plain_text", Content: a.Label}, Type: "default", URL: a.URL})
		}
		out = append(out, row)
	}
	return out
}

// validID accepts open_ids and user_ids that cannot break out of <at id=…>.
func validID(id string) bool {
	if id == "" || len(id) > 128 || id == "all" {
		return false
	}
	for _, c := range id {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// entity is an HTML character reference, which lark_md decodes.
var entity = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});`)
})

// Escape makes Sentry-supplied text literal in lark_md, with the HTML
// entities Feishu's cards take for markup characters, and only where the
// character would be markup, so the card shows the text as it is:
//   - "<" before a letter, "/" or "!" (a tag: <at>, <font>) is "&lt;";
//   - "*", "_", "~" and "`" are written "&#42;", "&#95;", "&#126;" and
//     "&#96;" when the text has two of them (one alone cannot open and
//     close emphasis, strike-through or code);
//   - "[" and "]" are "&#91;" and "&#93;" when the text has "](" (a link);
//   - "&" is "&amp;" where it would start an entity;
//   - line breaks become spaces.
func Escape(s string) string {
	s = oneLine(s)
	pair := func(c string) bool { return strings.Count(s, c) >= 2 }
	stars, unders, tildes, ticks := pair("*"), pair("_"), pair("~"), pair("`")
	links := strings.Contains(s, "](")
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '<' && i+1 < len(s) && (s[i+1] >= 'a' && s[i+1] <= 'z' || s[i+1] >= 'A' && s[i+1] <= 'Z' || s[i+1] == '/' || s[i+1] == '!'):
			b.WriteString("&lt;")
		case c == '&' && entity().MatchString(s[i:]):
			b.WriteString("&amp;")
		case c == '*' && stars:
			b.WriteString("&#42;")
		case c == '_' && unders:
			b.WriteString("&#95;")
		case c == '~' && tildes:
			b.WriteString("&#126;")
		case c == '`' && ticks:
			b.WriteString("&#96;")
		case c == '[' && links:
			b.WriteString("&#91;")
		case c == ']' && links:
			b.WriteString("&#93;")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func escapeURL(u string) string { return notify.EscapeURL(u) }
