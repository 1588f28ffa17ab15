// Package dingtalk sends markdown messages to DingTalk custom robots
// (自定义机器人): 加签 with a fresh timestamp on every request, the keyword
// in every message, owners @-mentioned by mobile, and every answer checked
// for a zero errcode.
package dingtalk

import (
	"bytes"
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
	"sync/atomic"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/notify"
)

// DefaultBase is DingTalk's API; the send endpoint is <base>/robot/send.
const DefaultBase = "https://oapi.dingtalk.com"

// MaxBody is DingTalk's limit on a request body, in bytes.
const MaxBody = 20000

// Kind describes DingTalk robots to the registry.
var Kind = &notify.Kind{
	Name:        name,
	Label:       notify.Text{Zh: "钉钉", En: "DingTalk"},
	BaseEnv:     "SENTRY_WHITE_DINGTALK_API",
	DefaultBase: DefaultBase,
	// 20 a minute, then a 10-minute block (docs/chat-robots.md §1.5).
	Budget:  notify.Budget{Limits: []notify.Limit{{N: 20, Per: time.Minute}}, Block: 10 * time.Minute, DigestItems: 30},
	MaxBody: MaxBody,
	Token: notify.Input{Key: "access_token", Label: notify.Text{Zh: "access_token", En: "access_token"},
		Help: notify.Text{Zh: "添加机器人后给出的 Webhook 地址里 access_token= 后面的部分；直接粘贴整段地址即可",
			En: "the part after access_token= in the webhook URL shown when the robot was added; paste the whole URL"}},
	Secret: &notify.Input{Key: "secret", Prefix: "SEC", Label: notify.Text{Zh: "加签密钥（SEC 开头）", En: "Signing secret (starts with SEC)"},
		Help: notify.Text{Zh: "安全设置选“加签”时的密钥；没开加签留空", En: "the secret of the robot's 加签 security setting; empty when signing is off"}},
	Keyword: true,
	OwnerID: &notify.Input{Key: "dingtalk_user_id", WriteEmpty: true, Label: notify.Text{Zh: "钉钉 userId", En: "DingTalk userId"},
		Help: notify.Text{Zh: "选填；没有手机号时用它 @", En: "optional; used to @ when there is no mobile"}},
	MentionsByMobile: true,
	URLExample:       "https://oapi.dingtalk.com/robot/send?access_token=…",
	Fixes:            fixes,
	New:              func(base string, c *http.Client) notify.Sender { return &Notifier{Base: base, Client: c} },
	Requests: func(m *notify.Message) ([]json.RawMessage, error) {
		b, err := Body(m)
		return []json.RawMessage{b}, err
	},
	ParseURL: parseURL,
	Explain: func(code int, msg string, signed bool) *notify.Fix {
		_, _, _, f := explain(code, msg, signed)
		return f
	},
	Size: func(m *notify.Message) int {
		b, err := body(m)
		if err != nil {
			return MaxBody + 1
		}
		return len(b)
	},
}

const name = "dingtalk"

// parseURL takes …/robot/send?access_token=T (oapi.dingtalk.com, .io).
func parseURL(u *url.URL) (string, bool) {
	if t := u.Query().Get("access_token"); t != "" {
		return t, true
	}
	return "", false
}

// Notifier posts to DingTalk robots. It is safe for concurrent use.
type Notifier struct {
	Base   string           // API base URL; "" means DefaultBase
	Client *http.Client     // nil means a client with a 5 s timeout
	Now    func() time.Time // for signing; nil means time.Now

	send atomic.Pointer[sendURL] // Base's send endpoint, parsed once
}

// sendURL is <base>/robot/send, parsed.
type sendURL struct {
	base string
	u    *url.URL
	err  error
}

var defaultClient = &http.Client{Timeout: 5 * time.Second}

// Send posts m to robot r once, signed with a fresh timestamp.
func (n *Notifier) Send(ctx context.Context, r *config.Robot, m *notify.Message) error {
	body, err := Body(m)
	if err != nil {
		return &notify.Error{Robot: r.Name, Kind: r.Kind, Msg: err.Error()}
	}
	u, err := n.endpoint(r)
	if err != nil {
		return &notify.Error{Robot: r.Name, Kind: r.Kind, Msg: err.Error(), Fix: fix(fixCheckToken)}
	}
	c := n.Client
	if c == nil {
		c = defaultClient
	}
	status, raw, err := notify.PostURL(ctx, c, r, u, body, r.AccessToken.Reveal(), r.Secret.Reveal())
	if err != nil {
		return err
	}
	return Classify(r, status, raw)
}

// sendURL returns the send endpoint of n's base, parsed once.
func (n *Notifier) sendURL() (*url.URL, error) {
	base := n.Base
	if base == "" {
		base = DefaultBase
	}
	if c := n.send.Load(); c != nil && c.base == base {
		return c.u, c.err
	}
	c := &sendURL{base: base}
	if c.u, c.err = url.Parse(strings.TrimRight(base, "/") + "/robot/send"); c.err != nil {
		c.u, c.err = nil, fmt.Errorf("invalid DingTalk API base URL")
	}
	n.send.Store(c)
	return c.u, c.err
}

// endpoint is the send URL for robot r: its access_token and, when it has
// a secret, a fresh timestamp and its 加签 sign, in the order url.Values
// encodes them.
func (n *Notifier) endpoint(r *config.Robot) (*url.URL, error) {
	base, err := n.sendURL()
	if err != nil {
		return nil, err
	}
	u := *base
	var ts int64
	s := r.Secret.Reveal()
	if s != "" {
		now := time.Now
		if n.Now != nil {
			now = n.Now
		}
		ts = now().UnixMilli()
	}
	if u.RawQuery != "" {
		// A base URL with a query of its own: merged, sorted.
		q := u.Query()
		q.Set("access_token", r.AccessToken.Reveal())
		if s != "" {
			q.Set("timestamp", strconv.FormatInt(ts, 10))
			q.Set("sign", Sign(s, ts)) // Encode escapes it exactly once
		}
		u.RawQuery = q.Encode()
		return &u, nil
	}
	// The same query, written directly.
	q := make([]byte, 0, 128)
	q = append(q, "access_token="...)
	q = append(q, url.QueryEscape(r.AccessToken.Reveal())...)
	if s != "" {
		q = append(q, "&sign="...)
		q = append(q, url.QueryEscape(Sign(s, ts))...)
		q = append(q, "&timestamp="...)
		q = strconv.AppendInt(q, ts, 10)
	}
	u.RawQuery = string(q)
	return &u, nil
}

// Sign returns DingTalk's 加签 signature, base64 (not yet URL-escaped) of
// HMAC-SHA256 keyed by the secret over "<timestamp ms>\n<secret>".
func Sign(secret string, tsMillis int64) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(tsMillis, 10) + "\n" + secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// answerOK is what DingTalk answers a message it took.
var answerOK = []byte(`{"errcode":0,"errmsg":"ok"}`)

type answer struct {
	ErrCode *int   `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
	Status  *int   `json:"status"` // anti-abuse layer: {"status":1111,"wait":5,"punish":"deny"}
	Wait    int    `json:"wait"`
}

// Classify turns DingTalk's answer into nil (errcode 0) or a *notify.Error
// that says whether to retry and, for configuration faults, how to fix it.
func Classify(r *config.Robot, status int, raw []byte) error {
	if status == http.StatusOK && bytes.Equal(raw, answerOK) {
		return nil // DingTalk's usual answer, read without a decoder
	}
	var a answer
	if e := notify.DecodeAnswer(r, status, raw, &a); e != nil {
		return e
	}
	e, ok := notify.CodeAnswer(r, status, a.ErrCode, "errcode")
	if ok {
		return nil
	}
	if a.ErrCode == nil && a.Status != nil {
		e.Msg = fmt.Sprintf("anti-abuse answer status %d (wait %d s)", *a.Status, a.Wait)
		e.RateLimited = true
		return e
	}
	if e.Code == 0 {
		return e
	}
	e.Msg = notify.Redact(a.ErrMsg)
	e.Retry, e.RateLimited, e.Resign, e.Fix = explain(e.Code, a.ErrMsg, r.Secret.Reveal() != "")
	return e
}

// Refusals DingTalk answers with errcode 310000, told apart by its text.
type refusal int

const (
	refusedOther refusal = iota
	refusedSign
	refusedTimestamp
	refusedKeyword
	refusedIP
)

// ipInText is an address after "ip", as in "ip 203.0.113.9 not in
// whitelist": "description" has the letters "ip" too.
var ipInText = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?i)\bip\s*\d{1,3}(?:\.\d{1,3}){3}\b`) })

// classify310000 tells which security setting refused a message from
// DingTalk's text, English ("sign not match", "invalid timestamp",
// "keywords not in content", "ip … not in whitelist") or Chinese
// ("description:机器人发送签名不匹配;solution:…", "…签名过期…",
// "…关键词不匹配…", "…ip 不在白名单中…"). Signature, time and keyword come
// first: the Chinese signature text speaks of 时间戳 and the time text of
// 签名, and no rule looks for the bare letters "ip" (docs/chat-robots.md §0).
func classify310000(msg string) refusal {
	lower := strings.ToLower(msg)
	has := func(subs ...string) bool {
		for _, s := range subs {
			if strings.Contains(lower, s) {
				return true
			}
		}
		return false
	}
	switch {
	case has("签名不匹配", "sign not match"):
		return refusedSign
	case has("过期", "timestamp"):
		return refusedTimestamp
	case has("关键词", "keyword"):
		return refusedKeyword
	case ipInText().MatchString(msg) || has("whitelist", "白名单"):
		return refusedIP
	case has("签名", "sign"):
		return refusedSign
	}
	return refusedOther
}

// What to do about DingTalk's refusals, by code.
const (
	fixCheckToken     = "check_token"
	fixSignMismatch   = "sign_mismatch"
	fixSecretMissing  = "secret_missing"
	fixClock          = "clock"
	fixKeyword        = "keyword"
	fixIPAllowList    = "ip_allowlist"
	fixSecurity       = "security"
	fixTokenWrong     = "token_wrong"
	fixRobotDisabled  = "robot_disabled"
	fixGroupDissolved = "group_dissolved"
	fixRobotRemoved   = "robot_removed"
	fixRateLimited    = "rate_limited"
	fixTooLong        = "too_long"
	fixUnsafe         = "unsafe_content"
	fixBadFormat      = "bad_format"
)

// fixes words them (Kind.Fixes).
var fixes = map[string]notify.Text{
	fixCheckToken: {Zh: "请检查机器人的 access_token", En: "check the robot's access_token"},
	fixSignMismatch: {Zh: "加签密钥不匹配：请从机器人安全设置里重新复制 SEC 开头的密钥",
		En: "the robot's 加签 secret does not match: copy the SEC… secret from the robot's security settings again"},
	fixSecretMissing: {Zh: "这个机器人开启了加签，但这里没有填它的密钥：请从机器人安全设置里复制 SEC 开头的密钥，编辑机器人填上",
		En: "the robot has 加签 (signing) on, but no secret is set here: it needs its SEC… secret; copy it from the robot's security settings into the robot's secret"},
	fixClock: {Zh: "机器人拒绝了签名时间：请检查这台电脑的时钟（钉钉允许前后相差一小时）",
		En: "the robot rejected the signing time; check this machine's clock (DingTalk accepts one hour either way)"},
	fixKeyword: {Zh: "机器人的自定义关键词必须出现在每条消息里：把关键词设为“详情”，或在这里改成机器人设置的关键词",
		En: "the robot's keyword must appear in every message; set it to 详情 or change the robot"},
	fixIPAllowList: {Zh: "机器人的 IP 白名单不包含这台机器：请改用关键词或加签",
		En: "the robot's IP allow-list does not include this server; use keyword or 加签 security instead"},
	fixSecurity: {Zh: "机器人的安全设置拒绝了消息（关键词、加签或 IP）",
		En: "the robot's security settings refused the message (keyword, 加签 or IP)"},
	fixTokenWrong: {Zh: "access_token 不对，或机器人已被删除：请从机器人的 Webhook 地址重新复制",
		En: "the robot's access_token is wrong or the robot was deleted; copy it from the robot's webhook URL again"},
	fixRobotDisabled:  {Zh: "机器人已被停用：请在群的机器人设置里启用", En: "the robot is disabled; enable it in the group's robot settings"},
	fixGroupDissolved: {Zh: "群已解散：请在其他群创建机器人", En: "the group was dissolved; create a robot in another group"},
	fixRobotRemoved:   {Zh: "机器人已不在群里：请重新添加", En: "the robot is no longer in the group; add it again"},
	fixRateLimited: {Zh: "钉钉机器人每分钟最多发 20 条消息，超过后会被限流 10 分钟",
		En: "DingTalk allows 20 messages a minute per robot and then blocks it for 10 minutes"},
	fixTooLong:   {Zh: "消息超过了钉钉的长度上限（20000 字节）", En: "the message is longer than DingTalk's 20000 bytes"},
	fixUnsafe:    {Zh: "钉钉认为内容或链接不安全", En: "DingTalk flagged the content or a link as unsafe"},
	fixBadFormat: {Zh: "钉钉拒绝了请求格式", En: "DingTalk refused the request format"},
}

func fix(code string) *notify.Fix { return notify.NewFix(fixes, code, nil) }

// explain classifies a non-zero errcode (docs/chat-robots.md §1.6); signed says
// whether the robot has a secret here. A signature or time refusal of a
// robot without one means the robot signs on DingTalk's side: DingTalk
// answers a request without sign and timestamp as a signature mismatch.
func explain(code int, msg string, signed bool) (retry, limited, resign bool, f *notify.Fix) {
	switch code {
	case -1:
		return true, false, false, nil
	case 310000:
		switch classify310000(msg) {
		case refusedSign:
			if !signed {
				return false, false, false, fix(fixSecretMissing)
			}
			return false, false, false, fix(fixSignMismatch)
		case refusedTimestamp:
			if !signed {
				return false, false, false, fix(fixSecretMissing)
			}
			return false, false, true, fix(fixClock)
		case refusedKeyword:
			return false, false, false, fix(fixKeyword)
		case refusedIP:
			return false, false, false, fix(fixIPAllowList)
		}
		return false, false, false, fix(fixSecurity)
	case 300001, 300005, 400101, 40035:
		return false, false, false, fix(fixTokenWrong)
	case 400102:
		return false, false, false, fix(fixRobotDisabled)
	case 400013:
		return false, false, false, fix(fixGroupDissolved)
	case 400106:
		return false, false, false, fix(fixRobotRemoved)
	case 410100, 130101:
		return false, true, false, fix(fixRateLimited)
	case 460101, 101002:
		return false, false, false, fix(fixTooLong)
	case 430101, 430102, 430103, 430104:
		return false, false, false, fix(fixUnsafe)
	case 400105, 43002, 43004:
		return false, false, false, fix(fixBadFormat)
	}
	return false, false, false, nil
}

// Body renders m as a DingTalk markdown request body of at most MaxBody
// bytes (notify.Fit shortens the details, never the keyword or mentions).
func Body(m *notify.Message) ([]byte, error) {
	return notify.Fit(MaxBody, m, body)
}

// body writes the request, {"msgtype":"markdown","markdown":{"title",
// "text"},"at":{"atMobiles","atUserIds","isAtAll"}}, straight into bytes
// (the same bytes encoding/json made of it). Owners are @-mentioned by
// mobile, else by DingTalk user id.
func body(m *notify.Message) ([]byte, error) {
	var mentions strings.Builder
	if m.AtAll {
		mentions.WriteString(everyone(m.Lang))
	}
	for _, p := range m.Mentions {
		id := p.Mobile
		if id == "" {
			id = p.ID(name)
		}
		if id != "" {
			if mentions.Len() > 0 {
				mentions.WriteByte(' ')
			}
			mentions.WriteByte('@')
			mentions.WriteString(id)
		}
	}
	head, tail := Text(m, mentions.String())
	title := Title(m)
	size := len(title) + len(head) + len(tail)
	b := make([]byte, 0, 160+size+size/8+mentions.Len()) // room for the escapes of the line breaks
	b = append(b, `{"msgtype":"markdown","markdown":{"title":`...)
	b = notify.AppendJSONString(b, title)
	b = append(b, `,"text":"`...)
	b = notify.AppendJSONText(b, head)
	b = notify.AppendJSONText(b, tail)
	b = append(b, `"},"at":{"atMobiles":[`...)
	n := 0
	for _, p := range m.Mentions {
		if p.Mobile != "" {
			b = appendItem(b, &n, p.Mobile)
		}
	}
	b = append(b, `],"atUserIds":[`...)
	n = 0
	for _, p := range m.Mentions {
		if id := p.ID(name); p.Mobile == "" && id != "" {
			b = appendItem(b, &n, id)
		}
	}
	if m.AtAll {
		return append(b, `],"isAtAll":true}}`...), nil
	}
	return append(b, `],"isAtAll":false}}`...), nil
}

// everyone is the visible line of a message that @-mentions the whole
// group (isAtAll): the group sees whom it rang.
func everyone(lang string) string {
	if lang == "en" {
		return "@all"
	}
	return "@所有人"
}

// appendItem appends s to a JSON list of n items so far.
func appendItem(b []byte, n *int, s string) []byte {
	if *n > 0 {
		b = append(b, ',')
	}
	*n++
	return notify.AppendJSONString(b, s)
}

// Title is the markdown title, what the chat list and the notification
// show (plain text, not markdown): m's title, with the robot's keyword
// exactly as configured, since which fields DingTalk checks is not
// documented.
func Title(m *notify.Message) string {
	t := strings.TrimSpace(m.Title)
	if t == "" {
		t = strings.TrimSpace(m.Heading)
	}
	if m.Keyword != "" && !strings.Contains(t, m.Keyword) {
		if t == "" {
			return m.Keyword
		}
		t = m.Keyword + " | " + t
	}
	return t
}

// Text renders m's markdown in two parts: the head (heading and facts, which
// may be cut to fit) and the tail (link, keyword and mentions, never cut).
// Paragraphs are separated by a blank line, since DingTalk ignores a single
// line break. The keyword is written exactly as configured (never
// escaped: DingTalk looks for it in the raw text) when the message does not
// already carry it so.
func Text(m *notify.Message, mentions string) (head, tail string) {
	var b strings.Builder
	if len(m.Digest) > 0 {
		writeDigest(&b, m)
	} else {
		b.Grow(256 + len(m.Heading) + 2*len(m.Link))
		heading := Escape(m.Heading)
		if m.Link != "" {
			heading = "[" + heading + "](" + escapeURL(m.Link) + ")"
		}
		b.WriteString("#### ")
		b.WriteString(notify.LevelMark(m.Level, m.State))
		b.WriteByte(' ')
		b.WriteString(heading)
		b.WriteString("\n\n")
		for _, f := range m.Fields {
			v := Escape(f.Value)
			if f.Link != "" {
				v = "[" + v + "](" + escapeURL(f.Link) + ")"
			}
			b.WriteString("**")
			b.WriteString(Escape(f.Label))
			b.WriteString("**: ")
			b.WriteString(v)
			b.WriteString("\n\n")
		}
		if m.Note != "" {
			b.WriteString("> ")
			b.WriteString(Note(m.Note))
			b.WriteString("\n\n")
		}
	}
	head = b.String()
	var t strings.Builder
	if m.Link != "" {
		t.WriteByte('[')
		t.WriteString(Escape(m.LinkLabel()))
		t.WriteString("](")
		t.WriteString(escapeURL(m.Link))
		t.WriteByte(')')
	}
	if m.Keyword != "" && !containsAcross(head, t.String(), m.Keyword) {
		if t.Len() > 0 {
			t.WriteString(" ")
		} else {
			// Not at the start of a paragraph, where "#kw" would be a
			// heading and ">kw" a quote.
			t.WriteString(keywordLabel(m.Lang))
		}
		t.WriteString(m.Keyword)
	}
	if acts := notify.ActionLine(m, Escape, escapeURL); acts != "" {
		// One paragraph of links to the relay's confirm pages, before the
		// mentions (an ActionCard would carry buttons, but cannot @).
		if t.Len() > 0 {
			t.WriteString("\n\n")
		}
		t.WriteString(acts)
	}
	if mentions != "" {
		t.WriteString("\n\n" + mentions)
	}
	return head, t.String()
}

// containsAcross reports whether a+b contains s, without joining them.
func containsAcross(a, b, s string) bool {
	if strings.Contains(a, s) || strings.Contains(b, s) {
		return true
	}
	n := len(s) - 1
	return n > 0 && strings.Contains(a[max(0, len(a)-n):]+b[:min(len(b), n)], s)
}

func keywordLabel(lang string) string {
	if lang == "en" {
		return "Keyword: "
	}
	return "关键词: "
}

func writeDigest(b *strings.Builder, m *notify.Message) {
	fmt.Fprintf(b, "#### %s\n\n", Escape(m.Heading))
	for _, it := range m.Digest {
		fmt.Fprintf(b, "- %s\n", notify.DigestLine(it, Escape, escapeURL))
	}
	b.WriteString("\n")
	for _, f := range m.Fields {
		fmt.Fprintf(b, "**%s**: %s\n\n", Escape(f.Label), Escape(f.Value))
	}
}

// Note renders the closing line, "<label>: <value>" (the shared Sentry
// login "account / password"), without ever escaping the value with
// backslashes: a password is copied from the chat. The value is written as
// it is when nothing in it is markup to DingTalk, and as inline code, where
// markdown does not apply, when something is.
func Note(note string) string {
	label, value, ok := strings.Cut(foldLines(note), ": ")
	if !ok {
		return Literal(label)
	}
	return Escape(label) + ": " + Literal(value)
}

// Literal returns s for DingTalk markdown so that it shows exactly as it
// is: unchanged when no character of it can be markup, else as an inline
// code span.
func Literal(s string) string {
	s = foldLines(s)
	if !strings.ContainsAny(s, "*_`[]<\\&") {
		return s
	}
	return notify.CodeSpan(s)
}

// foldLines turns line breaks into spaces: a value never starts a line, so
// no heading, quote or list can begin inside it.
func foldLines(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool { return r == '\r' || r == '\n' }), " ")
}

// Escape makes Sentry-supplied text literal in DingTalk markdown, escaping
// only what DingTalk's documented subset (headings, bold, italic, links,
// images, quotes, lists; docs/chat-robots.md §1.4) would take as markup, so no
// backslash shows where none is needed:
//   - line breaks become spaces, so a value never starts a line and "#",
//     ">", "-", "1." stay text;
//   - "*", "_" and "`" are escaped only when the text has two of them
//     (one alone cannot open and close emphasis or code);
//   - "[" and "]" only when the text has "](", a link or an image;
//   - "<" before a letter, "/", "!" or "?" (a tag, which the PC client
//     renders) becomes "&lt;";
//   - "\" only before ASCII punctuation, where it would escape it.
//
// "|" and "~" are never escaped: DingTalk has no tables or strike-through.
func Escape(s string) string {
	if !needsEscape(s) {
		return s // most text: nothing to fold or escape, nothing to copy
	}
	s = foldLines(s)
	pair := func(c string) bool { return strings.Count(s, c) >= 2 }
	stars, unders, ticks := pair("*"), pair("_"), pair("`")
	links := strings.Contains(s, "](")
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '*' && stars, c == '_' && unders, c == '`' && ticks, (c == '[' || c == ']') && links:
			b.WriteByte('\\')
		case c == '\\' && i+1 < len(s) && isPunct(s[i+1]):
			b.WriteByte('\\')
		case c == '<' && i+1 < len(s) && startsTag(s[i+1]):
			b.WriteString("&lt;")
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// markup marks the bytes Escape may change: what it escapes and the line
// breaks it folds.
var markup = func() (t [256]bool) {
	for _, c := range []byte("*_`[]\\<\r\n") {
		t[c] = true
	}
	return t
}()

// needsEscape reports whether s has a byte Escape may change.
func needsEscape(s string) bool {
	for i := 0; i < len(s); i++ {
		if markup[s[i]] {
			return true
		}
	}
	return false
}

func isPunct(c byte) bool {
	return c >= '!' && c <= '/' || c >= ':' && c <= '@' || c >= '[' && c <= '`' || c >= '{' && c <= '~'
}

func startsTag(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '/' || c == '!' || c == '?'
}

func escapeURL(u string) string { return notify.EscapeURL(u) }
