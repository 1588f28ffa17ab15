// Package robottest provides stand-ins for chat-robot APIs that behave as
// the vendors document (docs/chat-robots.md): signatures, keywords, size limits,
// error codes and rate limits. Tests, the configurator's browser tests and
// the load tool run them on loopback.
package robottest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DingTalkRobot is one robot the stand-in knows.
type DingTalkRobot struct {
	Token    string
	Secret   string   // 加签 secret (SEC…); "" means signing off
	Keywords []string // custom keywords; empty means keyword check off
	// AllowIPs is the robot's IP allow-list (IP addresses or CIDR ranges);
	// empty means the IP check is off. The stand-in's clients are on
	// loopback, so "10.0.0.0/8" refuses them and "127.0.0.1" lets them in.
	AllowIPs []string
}

// The stand-in's answer texts in each language. DingTalk answers 310000 in
// Chinese today ("description:…;solution:…;"), and answered in English
// before; both are seen in the wild (docs/chat-robots.md §0). The Chinese texts
// are the ones public reports quote (qd-today/qd#510,
// sunmh207/AI-Codereview-Gitlab#142, 0wQ/air780e-forwarder#51,
// mggger/chatgpt-bot-dingding#2, sansan0/TrendRadar#70); the English
// ones carry the "more:" link they had.
const dingTalkMore = ", more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]"

var dingTalkTexts = map[string][2]string{ // what → {zh, en}
	"sign":      {"description:机器人发送签名不匹配;solution:请确认签名和生成签名的时间戳必须都放在调用的网址中，请确认机器人的密钥加密和填写正确;link:请参考本接口对应文档获得具体要求，或者在https://open.dingtalk.com/document/  搜索相关文档;", "sign not match" + dingTalkMore},
	"timestamp": {"description:机器人发送签名过期;solution:签名生成时间和发送时间请保持在 timestampms 以内;", "invalid timestamp" + dingTalkMore},
	"keyword":   {"description:关键词不匹配;solution:请联系群管理员查看此机器人的关键词，并在发送的信息中包含此关键词;", "keywords not in content" + dingTalkMore},
	"ip":        {"description:ip 不在白名单中;solution:请联系对应群的管理员，设置机器人安全ip地址段;", "ip %s not in whitelist" + dingTalkMore},
	"limit":     {"发送速度太快而限流", "send too fast, exceed 20 times per minute"},
	"too long":  {"description:body 大小不合法;solution:请保持 body 大小在 20000bytes 以内;", "message too long, exceed 20000 bytes"},
	"msgtype":   {"不支持的消息类型", "unsupported msgtype"},
	// These come in one language only.
	"method":       {"需要POST请求", "需要POST请求"},
	"no token":     {"缺少参数 access_token", "缺少参数 access_token"},
	"token":        {"token is not exist", "token is not exist"},
	"content type": {"无效的HTTP HEADER Content-Type", "无效的HTTP HEADER Content-Type"},
}

// DingTalkMessage is one accepted message.
type DingTalkMessage struct {
	Token     string
	MsgType   string
	Title     string
	Text      string
	AtMobiles []string
	AtUserIDs []string
	// AtAll is at.isAtAll: the message rings everyone in the group.
	AtAll bool
	// Mentioned is true when every atMobiles entry also appears as
	// @<mobile> in the text (DingTalk needs both).
	Mentioned bool
	Raw       []byte
	At        time.Time
}

// Fault makes the stand-in fail a request the way a real server might.
type Fault int

// Faults.
const (
	FaultNone    Fault = iota
	Fault500           // HTTP 500
	FaultBusy          // errcode -1, system busy
	FaultTimeout       // hold the request until the client gives up
	FaultNoCode        // HTTP 200 with the anti-abuse body and no errcode
	// FaultConcurrency is WeCom's concurrency limit, errcode 45033; the
	// DingTalk and Feishu stand-ins answer it as FaultBusy.
	FaultConcurrency
)

// DingTalk is a stand-in for POST /robot/send.
type DingTalk struct {
	Server *httptest.Server
	// Now is the stand-in's clock (rate limits, timestamps); set it before
	// use for a fake clock.
	Now func() time.Time
	// LimitCode is the errcode for rate limiting: 410100 (default) or 130101.
	LimitCode int
	// Lang is the language of the errmsg texts: "zh" (or "", the default)
	// for the Chinese "description:…;solution:…;" texts DingTalk answers
	// today, "en" for the older English ones ("sign not match", …).
	// SetLang changes it while the stand-in serves.
	Lang string
	// PerMinute is the rate limit (default 20); Block is how long a robot
	// stays blocked after exceeding it (default 10 minutes).
	PerMinute int
	Block     time.Duration
	// Latency delays every answer, like a slow robot API (SetLatency
	// changes it while the stand-in serves); a client that gives up before
	// has sent nothing.
	Latency time.Duration
	// AnswerLatency holds the answer after the robot took the message:
	// the group has it whether or not the client waits for the answer
	// (SetAnswerLatency changes it while the stand-in serves).
	AnswerLatency time.Duration

	// lean is set for a stand-in in lean mode (NewLeanDingTalk).
	lean *leanDingTalk

	mu       sync.RWMutex
	robots   map[string]DingTalkRobot
	calls    map[string][]time.Time // token -> calls in the last minute
	blocked  map[string]time.Time   // token -> blocked until
	messages []DingTalkMessage
	rejected []int // errcodes answered
	faults   []Fault
	requests int
}

// NewDingTalk starts a stand-in knowing robots.
func NewDingTalk(robots ...DingTalkRobot) *DingTalk {
	d := &DingTalk{robots: map[string]DingTalkRobot{}, calls: map[string][]time.Time{},
		blocked: map[string]time.Time{}, Now: time.Now, LimitCode: 410100, PerMinute: 20, Block: 10 * time.Minute}
	for _, r := range robots {
		d.robots[r.Token] = r
	}
	d.Server = httptest.NewServer(d)
	return d
}

// leanDingTalk is what a stand-in in lean mode needs besides the robots.
type leanDingTalk struct {
	latency time.Duration
	taken   func(body []byte, in, out time.Time)
	bufs    sync.Pool
}

// NewLeanDingTalk returns a DingTalk stand-in in lean mode, the meter of
// load tests: it refuses what a sender can get wrong as DingTalk does and
// with the same answers (the path and method, the token, the Content-Type,
// the IP allow-list, the 加签 signature on the real clock, the body size
// and the keyword, looked for in the raw body), but applies no rate limit,
// keeps no message and takes no lock for a message it takes, so that it
// costs the machine little next to the system it measures. After the
// answer to a message it takes is on the wire, it calls taken (if not nil)
// with the body, valid during the call only, and the times the request
// came in and its answer went out. It waits latency before it answers.
//
// It is not serving: it is an http.Handler for a server of the caller's
// (the load tool counts connections and requests in flight around it).
// Rejected lists its refusals; Messages and Requests stay empty.
func NewLeanDingTalk(latency time.Duration, taken func(body []byte, in, out time.Time), robots ...DingTalkRobot) *DingTalk {
	d := &DingTalk{robots: map[string]DingTalkRobot{}, lean: &leanDingTalk{latency: latency, taken: taken}}
	d.lean.bufs.New = func() any { return new(bytes.Buffer) }
	for _, r := range robots {
		d.robots[r.Token] = r
	}
	return d
}

// URL is the API base to give the relay (SENTRY_WHITE_DINGTALK_API).
func (d *DingTalk) URL() string { return d.Server.URL }

// Close stops the server (a lean stand-in has none of its own).
func (d *DingTalk) Close() {
	if d.Server != nil {
		d.Server.Close()
	}
}

// AddRobot registers another robot.
func (d *DingTalk) AddRobot(r DingTalkRobot) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.robots[r.Token] = r
}

// SetLang switches the language of the answers: "zh" or "en".
func (d *DingTalk) SetLang(lang string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.Lang = lang
}

// SetNow replaces the stand-in's clock while it serves (e.g. one that runs
// two hours ahead of the relay's, for an expired signature).
func (d *DingTalk) SetNow(now func() time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.Now = now
}

// text is the errmsg for what, in the stand-in's language.
func (d *DingTalk) text(what string) string {
	t := dingTalkTexts[what]
	if d.Lang == "en" {
		return t[1]
	}
	return t[0]
}

// SetLatency changes how long every answer is held.
func (d *DingTalk) SetLatency(l time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.Latency = l
}

// SetAnswerLatency changes how long the answer is held after the message
// was taken.
func (d *DingTalk) SetAnswerLatency(l time.Duration) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.AnswerLatency = l
}

// FailNext makes the next requests fail with the given faults, in order.
func (d *DingTalk) FailNext(f ...Fault) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.faults = append(d.faults, f...)
}

// Messages returns the accepted messages so far.
func (d *DingTalk) Messages() []DingTalkMessage {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]DingTalkMessage(nil), d.messages...)
}

// Rejected returns the non-zero errcodes answered so far.
func (d *DingTalk) Rejected() []int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]int(nil), d.rejected...)
}

// Requests counts every request received.
func (d *DingTalk) Requests() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.requests
}

func (d *DingTalk) answer(w http.ResponseWriter, code int, msg string) {
	if code != 0 {
		d.rejected = append(d.rejected, code)
	}
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	_ = json.NewEncoder(w).Encode(map[string]any{"errcode": code, "errmsg": msg})
}

// ServeHTTP implements the documented behaviour (docs/chat-robots.md §1.7): the
// token, the rate limit, the IP allow-list, the signature, the body size,
// the message type and the keyword, in that order, each refusal answered
// with the errcode and the text DingTalk gives (in Lang).
func (d *DingTalk) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if d.lean != nil {
		d.serveLean(w, r)
		return
	}
	d.mu.Lock()
	hold := d.AnswerLatency
	d.mu.Unlock()
	if hold <= 0 {
		d.serve(w, r)
		return
	}
	rec := httptest.NewRecorder()
	d.serve(rec, r)
	select {
	case <-time.After(hold):
	case <-r.Context().Done():
		return // the message was taken all the same
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}

func (d *DingTalk) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	d.mu.Lock()
	latency := d.Latency
	d.mu.Unlock()
	if latency > 0 {
		select {
		case <-time.After(latency):
		case <-r.Context().Done():
			return
		}
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.requests++
	if len(d.faults) > 0 {
		f := d.faults[0]
		d.faults = d.faults[1:]
		switch f {
		case Fault500:
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte("<html>500 Internal Server Error</html>"))
			return
		case FaultBusy, FaultConcurrency:
			d.answer(w, -1, "系统繁忙")
			return
		case FaultTimeout:
			d.mu.Unlock()
			select {
			case <-r.Context().Done():
			case <-time.After(30 * time.Second):
			}
			d.mu.Lock()
			return
		case FaultNoCode:
			_ = json.NewEncoder(w).Encode(map[string]any{"status": 1111, "wait": 5, "punish": "deny"})
			return
		}
	}
	if r.URL.Path != "/robot/send" {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	if r.Method != http.MethodPost {
		d.answer(w, 43002, d.text("method"))
		return
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		d.answer(w, 40035, d.text("no token"))
		return
	}
	token := q.Get("access_token")
	if token == "" {
		d.answer(w, 40035, d.text("no token"))
		return
	}
	robot, ok := d.robots[token]
	if !ok {
		d.answer(w, 300005, d.text("token"))
		return
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		d.answer(w, 43004, d.text("content type"))
		return
	}
	now := d.Now()
	limited := d.text("limit")
	if d.LimitCode == 130101 {
		limited = dingTalkTexts["limit"][1] // the older code came with the English text
	}
	if until, ok := d.blocked[token]; ok && now.Before(until) {
		d.answer(w, d.LimitCode, limited)
		return
	}
	recent := d.calls[token][:0]
	for _, t := range d.calls[token] {
		if now.Sub(t) < time.Minute {
			recent = append(recent, t)
		}
	}
	recent = append(recent, now)
	d.calls[token] = recent
	if len(recent) > d.PerMinute {
		d.blocked[token] = now.Add(d.Block)
		d.answer(w, d.LimitCode, limited)
		return
	}
	if ip, ok := ipAllowed(robot, r); !ok {
		d.answer(w, 310000, strings.Replace(d.text("ip"), "%s", ip, 1))
		return
	}
	if what := signProblem(robot, q, now); what != "" {
		d.answer(w, 310000, d.text(what))
		return
	}
	if len(body) > 20000 {
		d.answer(w, 460101, d.text("too long"))
		return
	}
	var m struct {
		MsgType string `json:"msgtype"`
		Text    struct {
			Content string `json:"content"`
		} `json:"text"`
		Markdown struct {
			Title string `json:"title"`
			Text  string `json:"text"`
		} `json:"markdown"`
		ActionCard struct {
			Title string `json:"title"`
			Text  string `json:"text"`
		} `json:"actionCard"`
		At struct {
			AtMobiles []string `json:"atMobiles"`
			AtUserIDs []string `json:"atUserIds"`
			IsAtAll   bool     `json:"isAtAll"`
		} `json:"at"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		d.answer(w, 400105, d.text("msgtype"))
		return
	}
	msg := DingTalkMessage{Token: token, MsgType: m.MsgType, AtMobiles: m.At.AtMobiles, AtUserIDs: m.At.AtUserIDs, AtAll: m.At.IsAtAll, Raw: body, At: now}
	switch m.MsgType {
	case "text":
		msg.Text = m.Text.Content
	case "markdown":
		msg.Title, msg.Text = m.Markdown.Title, m.Markdown.Text
	case "actionCard":
		msg.Title, msg.Text = m.ActionCard.Title, m.ActionCard.Text
	default:
		d.answer(w, 400105, d.text("msgtype"))
		return
	}
	// The keyword is looked for in the raw title and text, as sent: an
	// escaped keyword ("sentry\_alert") is not the keyword.
	if len(robot.Keywords) > 0 {
		found := false
		for _, k := range robot.Keywords {
			found = found || strings.Contains(msg.Title, k) || strings.Contains(msg.Text, k)
		}
		if !found {
			d.answer(w, 310000, d.text("keyword"))
			return
		}
	}
	msg.Mentioned = true
	for _, mob := range msg.AtMobiles {
		msg.Mentioned = msg.Mentioned && strings.Contains(msg.Text, "@"+mob)
	}
	d.messages = append(d.messages, msg)
	d.answer(w, 0, "ok")
}

// serveLean is ServeHTTP in lean mode: the checks of serve that a sender
// can fail, in the same order, without the rate limit and the record.
func (d *DingTalk) serveLean(w http.ResponseWriter, r *http.Request) {
	in := time.Now()
	l := d.lean
	buf := l.bufs.Get().(*bytes.Buffer)
	buf.Reset()
	defer l.bufs.Put(buf)
	_, _ = buf.ReadFrom(io.LimitReader(r.Body, 1<<20))
	if l.latency > 0 {
		select {
		case <-time.After(l.latency):
		case <-r.Context().Done():
			return
		}
	}
	if r.URL.Path != "/robot/send" {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	refuse := func(code int, what, ip string) {
		d.mu.Lock()
		defer d.mu.Unlock()
		d.answer(w, code, strings.Replace(d.text(what), "%s", ip, 1))
	}
	if r.Method != http.MethodPost {
		refuse(43002, "method", "")
		return
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	token := q.Get("access_token")
	if err != nil || token == "" {
		refuse(40035, "no token", "")
		return
	}
	d.mu.RLock()
	robot, ok := d.robots[token]
	d.mu.RUnlock()
	if !ok {
		refuse(300005, "token", "")
		return
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		refuse(43004, "content type", "")
		return
	}
	if ip, ok := ipAllowed(robot, r); !ok {
		refuse(310000, "ip", ip)
		return
	}
	if what := signProblem(robot, q, in); what != "" {
		refuse(310000, what, "")
		return
	}
	body := buf.Bytes()
	if len(body) > 20000 {
		refuse(460101, "too long", "")
		return
	}
	if len(robot.Keywords) > 0 && !slices.ContainsFunc(robot.Keywords, func(k string) bool { return bytes.Contains(body, []byte(k)) }) {
		refuse(310000, "keyword", "")
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json;charset=utf-8")
	h.Set("Content-Length", answerOKLen)
	_, _ = w.Write(answerOK)
	// The answer is on the wire before taken runs, so what taken does is
	// not counted as the robot's time.
	w.(http.Flusher).Flush()
	if l.taken != nil {
		l.taken(body, in, time.Now())
	}
}

var (
	answerOK    = []byte(`{"errcode":0,"errmsg":"ok"}`)
	answerOKLen = strconv.Itoa(len(answerOK))
)

// ipAllowed reports whether the request came from an address robot's
// allow-list lets in, and the address.
func ipAllowed(robot DingTalkRobot, r *http.Request) (string, bool) {
	if len(robot.AllowIPs) == 0 {
		return "", true
	}
	ip := clientIP(r)
	return ip.String(), allowed(robot.AllowIPs, ip)
}

// signProblem says what is wrong with the 加签 of a request to robot at
// now ("sign" or "timestamp"), "" when nothing is or the robot signs
// nothing. A request without its sign or timestamp (a robot whose secret
// was not configured) is answered as a signature mismatch: the Chinese
// solution asks for both in the URL, and unsigned senders report "sign not
// match" (RayWangQvQ/BiliBiliTool#566, srcrs/UnicomTask#236,
// sunmh207/AI-Codereview-Gitlab#142/#196).
func signProblem(robot DingTalkRobot, q url.Values, now time.Time) string {
	if robot.Secret == "" {
		return ""
	}
	tsText, sign := q.Get("timestamp"), q.Get("sign")
	if tsText == "" || sign == "" {
		return "sign"
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil || abs(now.UnixMilli()-ts) > 3600000 {
		return "timestamp"
	}
	mac := hmac.New(sha256.New, []byte(robot.Secret))
	mac.Write([]byte(strconv.FormatInt(ts, 10) + "\n" + robot.Secret))
	if sign != base64.StdEncoding.EncodeToString(mac.Sum(nil)) {
		return "sign"
	}
	return ""
}

// clientIP is the address a request came from.
func clientIP(r *http.Request) net.IP {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	return net.ParseIP(host)
}

// allowed reports whether ip is in an allow-list of addresses and CIDR
// ranges.
func allowed(list []string, ip net.IP) bool {
	for _, e := range list {
		if _, n, err := net.ParseCIDR(e); err == nil {
			if n.Contains(ip) {
				return true
			}
		} else if a := net.ParseIP(e); a != nil && a.Equal(ip) {
			return true
		}
	}
	return false
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}
