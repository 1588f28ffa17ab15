// Package wecom sends markdown messages to WeCom group robots (企业微信群机器人).
//
// The webhook key is the robot's only credential: WeCom has no signing,
// keyword or IP setting. Owners are @-mentioned the way WeCom notifies them:
// in markdown only as <@userid>, so an owner known only by mobile number is
// mentioned by a second, short text message carrying mentioned_mobile_list
// (docs/chat-robots.md §2). Such an alert costs two of the robot's 20 messages a
// minute; Messages reports the cost.
package wecom

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/notify"
)

// DefaultBase is WeCom's API; the send endpoint is
// <base>/cgi-bin/webhook/send?key=<key>.
const DefaultBase = "https://qyapi.weixin.qq.com"

// Limits on message content, in bytes (docs/chat-robots.md §2).
const (
	MaxMarkdown = 4096
	MaxText     = 2048
)

const name = "wecom"

// Kind describes WeCom group robots to the registry.
var Kind = &notify.Kind{
	Name:        name,
	Label:       notify.Text{Zh: "企业微信", En: "WeCom"},
	BaseEnv:     "SENTRY_WHITE_WECOM_API",
	DefaultBase: DefaultBase,
	// 20 messages a minute per robot (docs/chat-robots.md §2).
	Budget:  notify.Budget{Limits: []notify.Limit{{N: 20, Per: time.Minute}}, Block: time.Minute, DigestItems: 8},
	MaxBody: MaxMarkdown,
	Token: notify.Input{Key: "access_token", Label: notify.Text{Zh: "Webhook key", En: "Webhook key"},
		Help: notify.Text{Zh: "群机器人 Webhook 地址里 key= 后面的部分；直接粘贴整段地址即可",
			En: "the part after key= in the group robot's webhook URL; paste the whole URL"}},
	OwnerID: &notify.Input{Key: "wecom_user_id", Label: notify.Text{Zh: "企业微信 userid", En: "WeCom userid"},
		Help: notify.Text{Zh: "选填；企业微信机器人用它 @（没有时按手机号 @）", En: "optional; WeCom robots mention by it (else by mobile)"}},
	MentionsByMobile: true,
	URLExample:       "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…",
	Fixes:            fixes,
	New:              func(base string, c *http.Client) notify.Sender { return &Notifier{Base: base, Client: c} },
	Requests: func(m *notify.Message) ([]json.RawMessage, error) {
		md, err := MarkdownBody(m)
		if err != nil {
			return nil, err
		}
		out := []json.RawMessage{md}
		text, err := TextBody(m)
		if text != nil {
			out = append(out, text)
		}
		return out, err
	},
	ParseURL: func(u *url.URL) (string, bool) {
		k := u.Query().Get("key")
		return k, k != ""
	},
	// The markdown content's limit is the one a message can exceed.
	Size: func(m *notify.Message) int {
		c, _ := markdownContent(m)
		return len(c)
	},
	CheckRobot: func(r *config.Robot) []*config.FieldError {
		if r.Secret != "" {
			return []*config.FieldError{{Field: "secret", Msg: "WeCom robots have no signing secret; leave it empty"}}
		}
		return nil
	},
	Explain: func(code int, _ string, _ bool) *notify.Fix {
		_, _, f := explain(code)
		return f
	},
	Cost: Messages,
}

// Notifier posts to WeCom group robots. It is safe for concurrent use.
type Notifier struct {
	Base   string       // API base URL; "" means DefaultBase
	Client *http.Client // nil means a client with a 5 s timeout
}

var defaultClient = &http.Client{Timeout: 5 * time.Second}

// Send posts m to robot r as one markdown message and, when some mentioned
// owner has a mobile number but no WeCom userid, a short text message that
// @-mentions them by mobile.
//
// When the markdown message went out and the text message then failed, the
// error is not retryable: a retry would post the alert twice.
func (n *Notifier) Send(ctx context.Context, r *config.Robot, m *notify.Message) error {
	if r == nil || m == nil {
		return &notify.Error{Kind: name, Msg: "nothing to send: no robot or no message"}
	}
	md, err := MarkdownBody(m)
	if err != nil {
		return &notify.Error{Robot: r.Name, Kind: r.Kind, Msg: err.Error()}
	}
	if err := n.post(ctx, r, md); err != nil {
		return err
	}
	text, err := TextBody(m)
	if err != nil {
		return &notify.Error{Robot: r.Name, Kind: r.Kind, Msg: "the alert was delivered, but the @-mention message could not be built: " + err.Error()}
	}
	if text == nil {
		return nil
	}
	if err := n.post(ctx, r, text); err != nil {
		e := notify.AsError(err, r)
		partial := *e
		partial.Msg = "the alert was delivered, but the @-mention by mobile failed: " + e.Msg
		partial.Retry, partial.RateLimited, partial.Resign = false, false, false
		return &partial
	}
	return nil
}

// Messages returns how many WeCom messages Send posts for m: 2 when some
// mention needs the text message by mobile, else 1. Rate limiters should
// take that many from the robot's 20-a-minute budget.
func Messages(m *notify.Message) int {
	if m != nil && m.AtAll || len(mobileMentions(m)) > 0 {
		return 2
	}
	return 1
}

func (n *Notifier) post(ctx context.Context, r *config.Robot, body []byte) error {
	key := r.AccessToken.Reveal()
	if strings.TrimSpace(key) == "" {
		return &notify.Error{Robot: r.Name, Kind: r.Kind, Msg: "the robot has no webhook key", Fix: fix(fixTokenWrong)}
	}
	base := n.Base
	if base == "" {
		base = DefaultBase
	}
	u, err := url.Parse(strings.TrimRight(base, "/") + "/cgi-bin/webhook/send")
	if err != nil {
		return &notify.Error{Robot: r.Name, Kind: r.Kind, Msg: "invalid WeCom API base URL"}
	}
	u.RawQuery = url.Values{"key": {key}}.Encode()
	c := n.Client
	if c == nil {
		c = defaultClient
	}
	status, raw, err := notify.Post(ctx, c, r, u.String(), body, key)
	if err != nil {
		return err
	}
	return Classify(r, status, raw)
}

type answer struct {
	ErrCode *int   `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
}

// Classify turns WeCom's answer into nil (errcode 0 with HTTP 200) or a
// *notify.Error that says whether to retry and, for configuration faults,
// how to fix it.
func Classify(r *config.Robot, status int, raw []byte) error {
	var a answer
	if e := notify.DecodeAnswer(r, status, raw, &a); e != nil {
		return e
	}
	e, ok := notify.CodeAnswer(r, status, a.ErrCode, "errcode")
	if ok {
		return nil
	}
	if e.Code == 0 {
		return e
	}
	e.Msg = notify.Scrub(a.ErrMsg, r.AccessToken.Reveal())
	e.Retry, e.RateLimited, e.Fix = explain(e.Code)
	return e
}

// What to do about WeCom's refusals, by code.
const (
	fixTokenWrong   = "token_wrong"
	fixRateLimited  = "rate_limited"
	fixPushOff      = "push_off"
	fixRobotRemoved = "robot_removed"
	fixTooLong      = "too_long"
	fixBadParam     = "bad_param"
	fixBadFormat    = "bad_format"
	fixEmpty        = "empty_message"
)

// fixes words them (Kind.Fixes).
var fixes = map[string]notify.Text{
	fixTokenWrong: {Zh: "Webhook key 不对，或机器人已被移除：请从机器人的 Webhook 地址重新复制 key= 后面的部分",
		En: "the robot's webhook key is wrong or the robot was removed: copy the key= value from the robot's webhook URL again"},
	fixRateLimited: {Zh: "企业微信机器人每分钟最多发 20 条消息，其余的等到下一分钟再发",
		En: "WeCom allows 20 messages a minute per robot; the rest wait for the next minute"},
	fixPushOff: {Zh: "群里这个机器人的消息推送被关闭了：请在群机器人设置里重新开启，或添加新机器人并粘贴它的 Webhook 地址",
		En: "the group's message push (消息推送) for this robot was turned off: re-enable it in the group's robot settings, or add a new robot and paste its webhook URL"},
	fixRobotRemoved: {Zh: "机器人已不在群里：请把它重新加到群里，或添加新机器人并粘贴它的 Webhook 地址",
		En: "the robot is no longer in the group: add the robot back to the group, or add a new robot and paste its webhook URL"},
	fixTooLong: {Zh: "消息超过了企业微信的上限（markdown 4096 字节，文本 2048 字节）",
		En: "the message is larger than WeCom accepts (markdown 4096 bytes, text 2048 bytes)"},
	fixBadParam: {Zh: "企业微信拒绝了一个参数，或消息太长（markdown 4096 字节，文本 2048 字节）",
		En: "WeCom refused a parameter or the message is too long (markdown 4096 bytes, text 2048)"},
	fixBadFormat: {Zh: "企业微信拒绝了消息类型", En: "WeCom refused the message type"},
	fixEmpty:     {Zh: "企业微信收到的是空消息", En: "WeCom received an empty message"},
}

func fix(code string) *notify.Fix { return notify.NewFix(fixes, code, nil) }

// explain classifies a non-zero errcode (docs/chat-robots.md §2).
func explain(code int) (retry, limited bool, f *notify.Fix) {
	switch code {
	case -1:
		return true, false, nil
	case 45033:
		// Too many requests at once: a retry shortly (the delivery
		// policy's backoff) goes through.
		return true, false, nil
	case 45009:
		return false, true, fix(fixRateLimited)
	case 93000:
		return false, false, fix(fixTokenWrong)
	case 93004:
		return false, false, fix(fixPushOff)
	case 93008:
		return false, false, fix(fixRobotRemoved)
	case 45002:
		return false, false, fix(fixTooLong)
	case 40058:
		return false, false, fix(fixBadParam)
	case 40008:
		return false, false, fix(fixBadFormat)
	case 44004:
		return false, false, fix(fixEmpty)
	}
	return false, false, nil
}

type markdownBody struct {
	MsgType  string `json:"msgtype"`
	Markdown struct {
		Content string `json:"content"`
	} `json:"markdown"`
}

type textBody struct {
	MsgType string `json:"msgtype"`
	Text    struct {
		Content             string   `json:"content"`
		MentionedList       []string `json:"mentioned_list,omitempty"`
		MentionedMobileList []string `json:"mentioned_mobile_list"`
	} `json:"text"`
}

// MarkdownBody renders m as a WeCom markdown (v1) request body whose content
// stays within MaxMarkdown bytes (notify.Fit shortens the details; the
// keyword and the <@userid> mentions stay).
func MarkdownBody(m *notify.Message) ([]byte, error) {
	content, err := notify.Fit(MaxMarkdown, m, markdownContent)
	if err != nil {
		return nil, err
	}
	var b markdownBody
	b.MsgType = "markdown"
	b.Markdown.Content = string(content)
	return notify.EncodeJSON(&b)
}

// markdownContent is the content of m's markdown message, as sent: JSON
// turns each invalid byte into a 3-byte U+FFFD, so that is what is
// measured.
func markdownContent(m *notify.Message) ([]byte, error) {
	head, tail := Markdown(m)
	return []byte(strings.ToValidUTF8(head+tail, "\uFFFD")), nil
}

// TextBody renders the text message that @-mentions by mobile the owners who
// have no WeCom userid, and everyone (mentioned_list ["@all"]) for a
// message that rings the whole group, or returns nil when there is none of
// either: markdown mentions neither. Its content is the alert's title,
// within MaxText bytes.
func TextBody(m *notify.Message) ([]byte, error) {
	mobiles := mobileMentions(m)
	if len(mobiles) == 0 && !m.AtAll {
		return nil, nil
	}
	var b textBody
	b.MsgType = "text"
	b.Text.MentionedMobileList = mobiles
	if b.Text.MentionedMobileList == nil {
		b.Text.MentionedMobileList = []string{}
	}
	if m.AtAll {
		b.Text.MentionedList = []string{"@all"}
	}
	title := strings.TrimSpace(m.Title)
	if title == "" {
		title = m.Heading
	}
	title = strings.ToValidUTF8(title, "\uFFFD")
	tail := ""
	if m.Keyword != "" && !strings.Contains(title, m.Keyword) {
		tail = " " + m.Keyword
	}
	if len(title)+len(tail) > MaxText {
		title = notify.CutBytes(title, MaxText-len(tail)-len("…")) + "…"
	}
	b.Text.Content = title + tail
	if strings.TrimSpace(b.Text.Content) == "" {
		return nil, errors.New("the message has no title")
	}
	return notify.EncodeJSON(&b)
}

// mobileMentions lists the mobiles of mentioned owners without a usable
// WeCom userid: markdown cannot mention them.
func mobileMentions(m *notify.Message) []string {
	if m == nil {
		return nil
	}
	var out []string
	for _, p := range m.Mentions {
		if validUserID(p.ID(name)) {
			continue
		}
		if mob := strings.TrimSpace(p.Mobile); validMobile(mob) {
			out = append(out, mob)
		}
	}
	return out
}

// validUserID accepts WeCom userids that cannot break out of <@…>.
func validUserID(id string) bool {
	if id == "" || len(id) > 64 || strings.EqualFold(id, "@all") {
		return false
	}
	for _, c := range id {
		if c <= ' ' || c == '<' || c == '>' || c == 0x7f {
			return false
		}
	}
	return utf8.ValidString(id)
}

func validMobile(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	return strings.Trim(s, "+-0123456789") == ""
}

// Markdown renders m's markdown content in two parts: the head (heading and
// facts, which may be cut to fit) and the tail (the link, the keyword and the
// mentions, never cut). WeCom breaks lines on a single "\n". The keyword is
// written exactly as configured when the message does not already carry it
// so.
func Markdown(m *notify.Message) (head, tail string) {
	var b strings.Builder
	if len(m.Digest) > 0 {
		writeDigest(&b, m)
	} else {
		heading := Escape(m.Heading)
		if m.Link != "" {
			heading = "[" + heading + "](" + escapeURL(m.Link) + ")"
		}
		fmt.Fprintf(&b, "### %s %s\n", notify.LevelMark(m.Level, m.State), heading)
		for _, f := range m.Fields {
			v := Escape(f.Value)
			if f.Link != "" {
				v = "[" + v + "](" + escapeURL(f.Link) + ")"
			} else if m.Level != "" && strings.EqualFold(strings.TrimSpace(f.Value), m.Level) {
				v = `<font color="` + levelColor(m.Level, m.State) + `">` + v + "</font>"
			}
			fmt.Fprintf(&b, "**%s**: %s\n", Escape(f.Label), v)
		}
		if m.Note != "" {
			fmt.Fprintf(&b, "> %s\n", Note(m.Note))
		}
	}
	var t strings.Builder
	if m.Link != "" {
		fmt.Fprintf(&t, "[%s](%s)", Escape(m.LinkLabel()), escapeURL(m.Link))
	}
	if m.Keyword != "" && !strings.Contains(b.String()+t.String(), m.Keyword) {
		if t.Len() > 0 {
			t.WriteString(" ")
		} else if m.Lang == "en" {
			t.WriteString("Keyword: ") // not at a line's start, where "#kw" is a heading
		} else {
			t.WriteString("关键词: ")
		}
		t.WriteString(m.Keyword)
	}
	if acts := notify.ActionLine(m, Escape, escapeURL); acts != "" {
		// A line of links to the relay's confirm pages: markdown keeps the
		// <@userid> mentions, which a template card cannot carry.
		if t.Len() > 0 {
			t.WriteString("\n")
		}
		t.WriteString(acts)
	}
	var ats []string
	for _, p := range m.Mentions {
		if validUserID(p.ID(name)) {
			ats = append(ats, "<@"+p.ID(name)+">")
		}
	}
	if len(ats) > 0 {
		t.WriteString("\n" + strings.Join(ats, " "))
	}
	return b.String(), t.String()
}

func writeDigest(b *strings.Builder, m *notify.Message) {
	fmt.Fprintf(b, "### %s\n", Escape(m.Heading))
	for _, it := range m.Digest {
		fmt.Fprintf(b, "> %s\n", notify.DigestLine(it, Escape, escapeURL))
	}
	for _, f := range m.Fields {
		fmt.Fprintf(b, "**%s**: %s\n", Escape(f.Label), Escape(f.Value))
	}
}

// levelColor maps a level to one of WeCom's three font colours: warning
// (orange-red), info (green) and comment (grey).
func levelColor(level, state string) string {
	if state == "resolved" {
		return "info"
	}
	switch strings.ToLower(level) {
	case "fatal", "critical", "error", "warning":
		return "warning"
	}
	return "comment"
}

// Escape makes Sentry-supplied text literal in WeCom markdown. WeCom
// documents no escape syntax (a backslash would show), so only what would
// be markup becomes its full-width look-alike, and nothing else changes:
//   - "<" before a letter, "/", "@" or "!" (a tag: <font>, <@userid>)
//     becomes "＜", so Sentry's text can never colour or mention;
//   - "[" and "]" when the text has "](" (a link) become "［" and "］";
//   - "*" when the text has "**" twice (bold) becomes "＊";
//   - line breaks become spaces, so a value never starts a line (no
//     heading or quote can begin in it).
func Escape(s string) string {
	if strings.ContainsAny(s, "\r\n") {
		s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == '\r' || r == '\n' }), " ")
	}
	links, bold := strings.Contains(s, "]("), strings.Count(s, "**") >= 2
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '<' && i+1 < len(s) && startsTag(s[i+1]):
			b.WriteString("＜")
		case c == '[' && links:
			b.WriteString("［")
		case c == ']' && links:
			b.WriteString("］")
		case c == '*' && bold:
			b.WriteString("＊")
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func startsTag(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '/' || c == '@' || c == '!'
}

// Note renders the closing line, "<label>: <value>" (the shared Sentry
// login "account / password"), with the value exactly as it is: unchanged
// when nothing in it is markup to WeCom, else as inline code (which WeCom's
// markdown documents), where no markup applies. A password is never
// altered.
func Note(note string) string {
	note = strings.Join(strings.FieldsFunc(note, func(r rune) bool { return r == '\r' || r == '\n' }), " ")
	label, value, ok := strings.Cut(note, ": ")
	if !ok {
		return literal(note)
	}
	return Escape(label) + ": " + literal(value)
}

// literal returns s so that WeCom markdown shows it as it is: unchanged
// when no character of it can be markup, else as an inline code span.
func literal(s string) string {
	if !strings.ContainsAny(s, "*[]<`&\\") {
		return s
	}
	return notify.CodeSpan(s)
}

func escapeURL(u string) string { return notify.EscapeURL(u) }

// Cost is how many of the robot's messages m takes (see Messages); the
// dispatcher charges the robot's budget with it.
func (n *Notifier) Cost(m *notify.Message) int { return Messages(m) }
