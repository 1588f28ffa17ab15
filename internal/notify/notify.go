// Package notify holds what every chat-robot sender shares: the rendered
// Message, the classified delivery Error, and the retry loop.
package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/tlsroots"
)

// Field is one labelled line of an alert. Value is plain text; each sender
// escapes it for its own markup.
type Field struct {
	Label string
	Value string
	Link  string // optional: Value links here
}

// Mention is one person to @-mention, with every id a chat tool may need.
type Mention struct {
	Name   string            `json:"name"`
	Mobile string            `json:"mobile,omitempty"`
	IDs    map[string]string `json:"ids,omitempty"` // user id by robot kind
}

// ID returns the person's user id for a robot kind, or "".
func (p Mention) ID(kind string) string { return p.IDs[kind] }

// DigestItem is one alert merged into a digest message.
type DigestItem struct {
	Project string // display name and slug, as the message shows it
	Slug    string // the project's Sentry slug
	Title   string
	Link    string
	Level   string
	Time    time.Time
	Count   int // how many alerts this line stands for (repeats of one issue)
}

// Message is one alert rendered for a robot, before the robot's own format.
type Message struct {
	Title    string  // one line: what the chat list and the notification show
	Heading  string  // the issue title
	Link     string  // the issue in Sentry
	Level    string  // Sentry level, for colours
	State    string  // new, regressed, resolved, …
	Fields   []Field // labelled facts, in display order
	Note     string  // a closing line, e.g. the shared Sentry login
	Keyword  string  // the robot's keyword; every message carries it
	Mentions []Mention
	// AtAll @-mentions everyone in the group (an alert rule's mention
	// "all"): DingTalk's isAtAll, WeCom's @all, Feishu's <at id=all>.
	AtAll  bool
	Digest []DigestItem // non-empty for a digest of merged alerts
	Lang   string       // "zh" (default) or "en"
	// Actions are the links that act on the issue from the chat (resolve,
	// ignore for an hour, take it), in the order shown; none when the
	// document serves no action links. Each kind shows them near the
	// mentions, and they are never cut to fit.
	Actions []Action `json:"Actions,omitempty"`
}

// Action is one link of a message that acts on its issue: the relay's
// confirm page for it.
type Action struct {
	Label string
	URL   string
}

// ActionLine renders m's actions as markdown links, "[label](url)"
// separated by " · ", with esc making a label literal and escURL making a
// link safe in the robot's markup; "" without actions.
func ActionLine(m *Message, esc, escURL func(string) string) string {
	var b strings.Builder
	for i, a := range m.Actions {
		if i > 0 {
			b.WriteString(" · ")
		}
		b.WriteString("[" + esc(a.Label) + "](" + escURL(a.URL) + ")")
	}
	return b.String()
}

// LinkLabel is the text of the link to Sentry. In Chinese it is 查看详情,
// which carries the default robot keyword 详情.
func (m *Message) LinkLabel() string {
	if m.Lang == "en" {
		return "Open in Sentry (详情)"
	}
	return "查看详情"
}

// PossibleRepeatMark goes before the title of a message the group may
// already have: its first send got no answer (a timeout, or the relay
// stopped while it was under way), so it is sent again rather than risk
// losing it.
func PossibleRepeatMark(lang string) string {
	if lang == "en" {
		return "(possible repeat) "
	}
	return "（可能重复）"
}

// MarkPossibleRepeat returns a copy of m that says it may be a repeat: its
// title and heading carry PossibleRepeatMark and a first field says why. A
// message already marked is returned as it is.
func (m *Message) MarkPossibleRepeat() *Message {
	mark := PossibleRepeatMark(m.Lang)
	if strings.HasPrefix(m.Title, mark) {
		return m
	}
	c := *m
	c.Title, c.Heading = mark+m.Title, mark+m.Heading
	why := Field{Label: "可能重复", Value: "上一次发送没有得到机器人的回答（超时，或中继在发送时停止），这条可能已经在群里"}
	if m.Lang == "en" {
		why = Field{Label: "Possible repeat", Value: "the last send got no answer from the robot (a timeout, or the relay stopped while sending); the group may already have this alert"}
	}
	c.Fields = append([]Field{why}, m.Fields...)
	return &c
}

// Mobiles lists the mentions' mobile numbers.
func (m *Message) Mobiles() []string {
	var out []string
	for _, p := range m.Mentions {
		if p.Mobile != "" {
			out = append(out, p.Mobile)
		}
	}
	return out
}

// Error is a failed delivery, classified by the sender.
type Error struct {
	Robot  string // robot name
	Kind   string // robot kind
	Code   int    // the robot API's error code; 0 for transport errors
	Status int    // HTTP status, when one came back
	Msg    string // the API's message or the transport error, with secrets removed
	// Retry means another attempt may succeed (network, 5xx, busy).
	Retry bool
	// RateLimited means the robot refused for sending too fast.
	RateLimited bool
	// Resign means the request should be signed again with a fresh
	// timestamp once (a vendor's "invalid timestamp").
	Resign bool
	// Fix says what to do about a configuration fault, when it is one.
	Fix *Fix
	// Timeout means no answer came in time: the robot may have taken the
	// message, so another attempt may post it twice.
	Timeout bool
}

// IsTimeout reports whether a transport error is a timeout (the request
// may have reached the robot).
func IsTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout()
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "robot %q", e.Robot)
	if e.Code != 0 {
		fmt.Fprintf(&b, " answered errcode %d", e.Code)
	} else if e.Status != 0 {
		fmt.Fprintf(&b, " answered HTTP %d", e.Status)
	}
	if e.Msg != "" {
		b.WriteString(": " + e.Msg)
	}
	if e.Fix != nil {
		b.WriteString(" (" + e.Fix.String() + ")")
	}
	return b.String()
}

// Fix says what to do about a failed delivery: a stable code, the
// parameters of its words, and its words in both languages, given by whoever
// knows them (a robot kind for its vendor's answers, from Kind.Fixes; the
// dispatcher for its spool). The configurator's page words a fix from its
// code and parameters; the relay's answers and logs say it in English.
type Fix struct {
	Code   string         `json:"code"`
	Params map[string]any `json:"params,omitempty"`
	Words  Text           `json:"-"`
}

// NewFix is the fix code with params, worded from words (a kind's Fixes).
func NewFix(words map[string]Text, code string, params map[string]any) *Fix {
	return &Fix{Code: code, Params: params, Words: words[code]}
}

// In words f in lang ("en", else Chinese), {name} replaced by the
// parameter name.
func (f *Fix) In(lang string) string {
	if f == nil {
		return ""
	}
	s := f.Words.In(lang)
	if len(f.Params) == 0 || !strings.Contains(s, "{") {
		return s
	}
	var b strings.Builder
	for {
		open := strings.IndexByte(s, '{')
		end := strings.IndexByte(s[open+1:], '}')
		if open < 0 || end < 0 {
			break
		}
		end += open + 1
		b.WriteString(s[:open])
		if v, ok := f.Params[s[open+1:end]]; ok {
			fmt.Fprint(&b, v)
		} else {
			b.WriteString(s[open : end+1])
		}
		s = s[end+1:]
	}
	b.WriteString(s)
	return b.String()
}

// String is f in English, as the relay's answers and logs say it ("" for
// none).
func (f *Fix) String() string { return f.In("en") }

// AsError returns err as *Error, wrapping other errors as retryable
// transport failures.
func AsError(err error, robot *config.Robot) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Robot: robot.Name, Kind: robot.Kind, Msg: Redact(err.Error()), Retry: true}
}

// secretQuery is compiled on first use: a relay that never redacts an
// error does not pay for it at start.
var secretQuery = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`(?i)((?:access_token|key|sign|token|timestamp|secret)=)[^&\s"']*`)
})

// Redact removes tokens and signatures carried in query parameters from a
// URL or an error text. Senders also Scrub the values they know (a token
// in a URL path).
func Redact(s string) string { return secretQuery().ReplaceAllString(s, "${1}REDACTED") }

// RedactURL returns u without its secret query values.
func RedactURL(u *url.URL) string { return Redact(u.String()) }

// Sender posts one message to one robot, once. Each call signs afresh.
type Sender interface {
	Send(ctx context.Context, r *config.Robot, m *Message) error
}

// Policy bounds the retries of one delivery.
type Policy struct {
	Attempts int           // total attempts, at least 1
	Base     time.Duration // first backoff
	Max      time.Duration // backoff cap
	// Sleep waits d or until ctx ends; nil means a real timer.
	Sleep func(ctx context.Context, d time.Duration) error
}

// DefaultPolicy retries transient failures three more times, 200 ms apart
// and growing, jittered; the caller's context bounds the total.
var DefaultPolicy = Policy{Attempts: 4, Base: 200 * time.Millisecond, Max: 2 * time.Second}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Backoff returns the wait before attempt n (1-based retry count), with
// ±50% jitter.
func (p Policy) Backoff(n int) time.Duration {
	d := p.Base
	for i := 1; i < n && d < p.Max; i++ {
		d *= 2
	}
	if p.Max > 0 && d > p.Max {
		d = p.Max
	}
	if d <= 0 {
		return 0
	}
	return d/2 + rand.N(d)
}

// Result reports a finished delivery.
type Result struct {
	Attempts int
	Err      *Error // nil on success
}

// Deliver sends m to r through s, retrying what the sender marks
// retryable and re-signing once on a timestamp error, until the policy or
// ctx runs out.
func Deliver(ctx context.Context, s Sender, r *config.Robot, m *Message, p Policy) Result {
	if p.Attempts < 1 {
		p.Attempts = 1
	}
	sleep := p.Sleep
	if sleep == nil {
		sleep = sleepCtx
	}
	resigned, timedOut := false, false
	var last *Error
	for n := 1; ; n++ {
		err := s.Send(ctx, r, m)
		if err == nil {
			return Result{Attempts: n}
		}
		last = AsError(err, r)
		if last.Resign && !resigned {
			resigned = true
			continue // a fresh timestamp right away; does not count against retries
		}
		if last.Timeout {
			// The robot may have posted it: one more try at most, so a slow
			// robot does not fill the group with copies, and that one says
			// it may be a repeat.
			if timedOut {
				return Result{Attempts: n, Err: last}
			}
			timedOut = true
			m = m.MarkPossibleRepeat()
		}
		if !last.Retry || n >= p.Attempts || ctx.Err() != nil {
			return Result{Attempts: n, Err: last}
		}
		if err := sleep(ctx, p.Backoff(n)); err != nil {
			return Result{Attempts: n, Err: last}
		}
	}
}

// NewHTTPClient returns the client senders share: keep-alive connections to
// the robot APIs with a bounded idle pool, and timeouts that fit Sentry's
// and Function Compute's budgets. At most MaxRobotConns connections per API
// host are open: a burst of alerts takes turns on them rather than opening
// (and TLS-handshaking) one per alert; the pool keeps them all idle.
func NewHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 128
	t.MaxConnsPerHost = MaxRobotConns
	t.MaxIdleConnsPerHost = MaxRobotConns
	t.IdleConnTimeout = 90 * time.Second
	t.TLSHandshakeTimeout = 3 * time.Second
	t.ResponseHeaderTimeout = 5 * time.Second
	// Robot APIs answer a few dozen bytes of JSON: no gzip to ask for or
	// unwrap.
	t.DisableCompression = true
	tlsroots.Apply(t) // the system's roots read at the first handshake, few of them parsed
	return &http.Client{Transport: t, Timeout: 6 * time.Second}
}

// MaxRobotConns bounds the connections to one robot API host. A burst of
// 50 alerts opened 50 connections to it, each with a TLS handshake of
// about a millisecond of CPU, 20 ms on a 0.05 vCPU Function Compute
// instance, before the alerts could be answered; taking turns on 8, an
// alert waits for a send of another instead (tens of milliseconds across
// the internet; 8 connections carry 50 alerts within Sentry's second
// while a robot answers within 120 ms).
const MaxRobotConns = 8

// DecodeAnswer does what every robot API's answer needs first: HTTP 5xx is
// a retryable failure, a body that is not JSON is a failure (retryable when
// it came with 200 or 429, as from a proxy), and otherwise raw is decoded
// into v and DecodeAnswer returns nil.
func DecodeAnswer(r *config.Robot, status int, raw []byte, v any) *Error {
	e := &Error{Robot: r.Name, Kind: r.Kind, Status: status}
	if status >= 500 {
		e.Msg, e.Retry = fmt.Sprintf("HTTP %d", status), true
		return e
	}
	if err := json.Unmarshal(raw, v); err != nil {
		e.Msg = fmt.Sprintf("HTTP %d with a body that is not JSON", status)
		e.Retry = status == http.StatusOK || status == http.StatusTooManyRequests
		return e
	}
	return nil
}

// LevelMark is the emoji that leads an alert's heading in chat: by state
// for follow-ups, else by level.
func LevelMark(level, state string) string {
	switch state {
	case "resolved":
		return "✅"
	case "assigned", "ignored", "unresolved":
		return "🔔"
	}
	switch level {
	case "fatal", "critical":
		return "🔥"
	case "error":
		return "🔴"
	case "warning":
		return "🟠"
	}
	return "🔵"
}

// DigestLine renders one digest item as "[title](link) (project · level ·
// ×N)", with esc making text literal and escURL making a link safe in the
// robot's markup.
func DigestLine(it DigestItem, esc, escURL func(string) string) string {
	line := esc(it.Title)
	if it.Link != "" {
		line = "[" + line + "](" + escURL(it.Link) + ")"
	}
	extra := esc(it.Project)
	if it.Level != "" {
		extra += " · " + esc(it.Level)
	}
	if it.Count > 1 {
		extra += fmt.Sprintf(" · ×%d", it.Count)
	}
	return line + " (" + extra + ")"
}

// CodeAnswer judges the code of a decoded robot answer (field names it in
// messages: "errcode", "code"). ok means success: code 0 with HTTP 200.
// Otherwise e is the failure; when the robot gave a non-zero code, e.Code
// holds it for the sender to explain.
func CodeAnswer(r *config.Robot, status int, code *int, field string) (e *Error, ok bool) {
	e = &Error{Robot: r.Name, Kind: r.Kind, Status: status}
	switch {
	case code == nil:
		e.Msg = fmt.Sprintf("HTTP %d with an answer that has no %s", status, field)
	case *code != 0:
		e.Code = *code
	case status == http.StatusOK:
		return nil, true
	default:
		e.Msg = fmt.Sprintf("HTTP %d", status)
	}
	return e, false
}
