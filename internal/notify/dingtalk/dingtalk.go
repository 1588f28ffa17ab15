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
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/notify"
)

// DefaultBase is DingTalk's API; the send endpoint is <base>/robot/send.
const DefaultBase = "https://oapi.dingtalk.com"

// MaxBody is DingTalk's limit on a request body, in bytes.
const MaxBody = 20000

// Notifier posts to DingTalk robots. It is safe for concurrent use.
type Notifier struct {
	Base   string           // API base URL; "" means DefaultBase
	Client *http.Client     // nil means a client with a 5 s timeout
	Now    func() time.Time // for signing; nil means time.Now
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
		return &notify.Error{Robot: r.Name, Kind: r.Kind, Msg: err.Error(), Fix: "check the robot's access_token"}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return &notify.Error{Robot: r.Name, Kind: r.Kind, Msg: notify.Redact(err.Error())}
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	c := n.Client
	if c == nil {
		c = defaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		return &notify.Error{Robot: r.Name, Kind: r.Kind, Msg: transportError(err), Retry: true, Timeout: notify.IsTimeout(err)}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return Classify(r, resp.StatusCode, raw)
}

func transportError(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // the URL carries the token and signature
	}
	return notify.Redact(err.Error())
}

func (n *Notifier) endpoint(r *config.Robot) (string, error) {
	base := n.Base
	if base == "" {
		base = DefaultBase
	}
	u, err := url.Parse(strings.TrimRight(base, "/") + "/robot/send")
	if err != nil {
		return "", fmt.Errorf("invalid DingTalk API base URL")
	}
	q := u.Query()
	q.Set("access_token", r.AccessToken.Reveal())
	if s := r.Secret.Reveal(); s != "" {
		now := time.Now
		if n.Now != nil {
			now = n.Now
		}
		ts := now().UnixMilli()
		q.Set("timestamp", strconv.FormatInt(ts, 10))
		q.Set("sign", Sign(s, ts)) // Encode escapes it exactly once
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// Sign returns DingTalk's 加签 signature, base64 (not yet URL-escaped) of
// HMAC-SHA256 keyed by the secret over "<timestamp ms>\n<secret>".
func Sign(secret string, tsMillis int64) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(tsMillis, 10) + "\n" + secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

type answer struct {
	ErrCode *int   `json:"errcode"`
	ErrMsg  string `json:"errmsg"`
	Status  *int   `json:"status"` // anti-abuse layer: {"status":1111,"wait":5,"punish":"deny"}
	Wait    int    `json:"wait"`
}

// Classify turns DingTalk's answer into nil (errcode 0) or a *notify.Error
// that says whether to retry and, for configuration faults, how to fix it.
func Classify(r *config.Robot, status int, raw []byte) error {
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
	e.Retry, e.RateLimited, e.Resign, e.Fix = explain(e.Code, a.ErrMsg)
	return e
}

// explain classifies a non-zero errcode (chat-robots.md §1.6).
func explain(code int, msg string) (retry, limited, resign bool, fix string) {
	lower := strings.ToLower(msg)
	switch code {
	case -1:
		return true, false, false, ""
	case 310000:
		switch {
		case strings.Contains(lower, "timestamp"):
			return false, false, true, "the robot rejected the signing time; check this machine's clock"
		case strings.Contains(lower, "sign"):
			return false, false, false, "the robot's 加签 secret does not match: copy the SEC… secret from the robot's security settings again"
		case strings.Contains(lower, "keyword") || strings.Contains(msg, "关键词"):
			return false, false, false, "the robot's keyword must appear in every message; set it to 详情 or change the robot"
		case strings.Contains(lower, "ip") || strings.Contains(lower, "whitelist") || strings.Contains(msg, "白名单"):
			return false, false, false, "the robot's IP allow-list does not include this server; use keyword or 加签 security instead"
		}
		return false, false, false, "the robot's security settings refused the message (keyword, 加签 or IP)"
	case 300001, 300005, 400101, 40035:
		return false, false, false, "the robot's access_token is wrong or the robot was deleted; copy it from the robot's webhook URL again"
	case 400102:
		return false, false, false, "the robot is disabled; enable it in the group's robot settings"
	case 400013:
		return false, false, false, "the group was dissolved; create a robot in another group"
	case 400106:
		return false, false, false, "the robot is no longer in the group; add it again"
	case 410100, 130101:
		return false, true, false, "DingTalk allows 20 messages a minute per robot and then blocks it for 10 minutes"
	case 460101, 101002:
		return false, false, false, "the message is longer than DingTalk's 20000 bytes"
	case 430101, 430102, 430103, 430104:
		return false, false, false, "DingTalk flagged the content or a link as unsafe"
	case 400105, 43002, 43004:
		return false, false, false, "DingTalk refused the request format"
	}
	return false, false, false, ""
}

// Explain returns the plain-words fix for a DingTalk errcode and errmsg, or
// "" when it is not a configuration fault.
func Explain(code int, msg string) string {
	_, _, _, fix := explain(code, msg)
	return fix
}

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

// Body renders m as a DingTalk markdown request body under MaxBody bytes.
func Body(m *notify.Message) ([]byte, error) {
	var b markdownBody
	b.MsgType = "markdown"
	b.Markdown.Title = m.Title
	b.At.AtMobiles, b.At.AtUserIds = []string{}, []string{}
	var mentions []string
	for _, p := range m.Mentions {
		switch {
		case p.Mobile != "":
			b.At.AtMobiles = append(b.At.AtMobiles, p.Mobile)
			mentions = append(mentions, "@"+p.Mobile)
		case p.DingTalkUserID != "":
			b.At.AtUserIds = append(b.At.AtUserIds, p.DingTalkUserID)
			mentions = append(mentions, "@"+p.DingTalkUserID)
		}
	}
	head, tail := Text(m, strings.Join(mentions, " "))
	for budget := len(head); ; {
		b.Markdown.Text = head[:budget] + tail
		if budget < len(head) {
			b.Markdown.Text = cut(head, budget) + "…" + tail
		}
		out, err := encode(&b)
		if err != nil {
			return nil, err
		}
		if len(out) < MaxBody {
			return out, nil
		}
		over := len(out) - MaxBody + 64
		if budget <= over {
			return nil, fmt.Errorf("message does not fit DingTalk's %d bytes even without its details", MaxBody)
		}
		budget -= over
	}
}

func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// cut returns s cut to at most n bytes on a rune boundary, without a
// dangling backslash escape.
func cut(s string, n int) string {
	if n >= len(s) {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	s = s[:n]
	if strings.HasSuffix(s, `\`) && !strings.HasSuffix(s, `\\`) {
		s = s[:len(s)-1]
	}
	return s
}

// Text renders m's markdown in two parts: the head (heading and facts, which
// may be cut to fit) and the tail (keyword and mentions, never cut).
// Paragraphs are separated by a blank line, since DingTalk ignores a single
// line break.
func Text(m *notify.Message, mentions string) (head, tail string) {
	var b strings.Builder
	if len(m.Digest) > 0 {
		writeDigest(&b, m)
	} else {
		heading := Escape(m.Heading)
		if m.Link != "" {
			heading = "[" + heading + "](" + escapeURL(m.Link) + ")"
		}
		fmt.Fprintf(&b, "#### %s %s\n\n", notify.LevelMark(m.Level, m.State), heading)
		for _, f := range m.Fields {
			v := Escape(f.Value)
			if f.Link != "" {
				v = "[" + v + "](" + escapeURL(f.Link) + ")"
			}
			fmt.Fprintf(&b, "**%s**: %s\n\n", Escape(f.Label), v)
		}
		if m.Note != "" {
			fmt.Fprintf(&b, "> %s\n\n", Escape(m.Note))
		}
	}
	var t strings.Builder
	if m.Link != "" {
		fmt.Fprintf(&t, "[%s](%s)", Escape(m.LinkLabel()), escapeURL(m.Link))
	}
	if !strings.Contains(b.String()+t.String(), m.Keyword) && m.Keyword != "" {
		if t.Len() > 0 {
			t.WriteString(" ")
		}
		t.WriteString(Escape(m.Keyword))
	}
	if mentions != "" {
		t.WriteString("\n\n" + mentions)
	}
	return b.String(), t.String()
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

var escaper = strings.NewReplacer(
	`\`, `\\`, `*`, `\*`, `_`, `\_`, "`", "\\`", `[`, `\[`, `]`, `\]`,
	`<`, `&lt;`, `>`, `&gt;`, `~`, `\~`, `|`, `\|`,
)

// Escape makes Sentry-supplied text literal in DingTalk markdown.
func Escape(s string) string { return escaper.Replace(s) }

// urlEscaper is built once: a Replacer built per call cost a fifth of the
// relay's allocations per webhook.
var urlEscaper = strings.NewReplacer(" ", "%20", "(", "%28", ")", "%29", "<", "%3C", ">", "%3E")

func escapeURL(u string) string { return urlEscaper.Replace(u) }
