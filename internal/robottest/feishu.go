package robottest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// FeishuRobot is one custom bot the stand-in knows.
type FeishuRobot struct {
	Token    string
	Secret   string   // signing secret (签名校验); "" means signing off
	Keywords []string // custom keywords; empty means keyword check off
}

// FeishuMessage is one accepted message.
type FeishuMessage struct {
	Token   string
	MsgType string // text, post, interactive, …
	Title   string // the card header's or the post's title
	// Texts are the text and title values, the only places Feishu looks for
	// keywords (never in href or url).
	Texts []string
	// Bodies are the text values alone (the card's body, without its
	// title).
	Bodies []string
	// Mentions are the open_ids / user_ids @-mentioned: <at id=…> in cards,
	// <at user_id="…"> in text, {"tag":"at"} in posts.
	Mentions []string
	URLs     []string // the card's button URLs
	Signed   bool     // the body carried a valid timestamp and sign
	Raw      []byte
	At       time.Time
}

// Feishu is a stand-in for POST /open-apis/bot/v2/hook/<token>
// (docs/chat-robots.md §3): body over 20480 bytes or malformed → 9499 (HTTP
// 400); unknown token → 19001; more than 5 calls a second or 100 a minute
// per bot → 11232 (or 11233, LimitCode); with a secret, a string timestamp within 3600 s of the
// stand-in's clock and sign = base64(HMAC-SHA256(key = timestamp+"\n"+secret,
// message = "")) in the body, else 19021; with keywords, one of them in a
// text or title value, else 19024.
type Feishu struct {
	Server *httptest.Server
	// Now is the stand-in's clock (rate limits, timestamps); set it before
	// use for a fake clock.
	Now func() time.Time
	// PerSecond and PerMinute are the rate limits per bot (default 5 and
	// 100). Every call with a known token counts, refused ones included.
	PerSecond, PerMinute int
	// LimitCode is the code for rate limiting: 11232 (default, "frequency
	// limited") or 11233 (the message-creation trigger limit public
	// senders report).
	LimitCode int

	mu       sync.Mutex
	robots   map[string]FeishuRobot
	calls    map[string][]time.Time // token -> calls in the last minute
	messages []FeishuMessage
	rejected []int
	faults   []Fault
	requests int
}

// NewFeishu starts a stand-in knowing robots.
func NewFeishu(robots ...FeishuRobot) *Feishu {
	f := &Feishu{Now: time.Now, PerSecond: 5, PerMinute: 100, LimitCode: 11232,
		robots: map[string]FeishuRobot{}, calls: map[string][]time.Time{}}
	for _, r := range robots {
		f.robots[r.Token] = r
	}
	f.Server = httptest.NewServer(f)
	return f
}

// URL is the API base to give the relay (SENTRY_WHITE_FEISHU_API).
func (f *Feishu) URL() string { return f.Server.URL }

// Close stops the server.
func (f *Feishu) Close() { f.Server.Close() }

// AddRobot registers another bot.
func (f *Feishu) AddRobot(r FeishuRobot) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.robots[r.Token] = r
}

// FailNext makes the next requests fail with the given faults, in order:
// Fault500 answers HTTP 500, FaultBusy HTTP 400 with 9499 "too many
// request" (the overload answer seen in practice), FaultTimeout holds the
// request until the client gives up, FaultNoCode a JSON body without code.
func (f *Feishu) FailNext(faults ...Fault) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faults = append(f.faults, faults...)
}

// Messages returns the accepted messages so far.
func (f *Feishu) Messages() []FeishuMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]FeishuMessage(nil), f.messages...)
}

// Rejected returns the non-zero codes answered so far.
func (f *Feishu) Rejected() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]int(nil), f.rejected...)
}

// Requests counts every request received.
func (f *Feishu) Requests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests
}

func (f *Feishu) answer(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if code == 0 {
		_ = json.NewEncoder(w).Encode(map[string]any{"StatusCode": 0, "StatusMessage": "success", "code": 0, "data": map[string]any{}, "msg": "success"})
		return
	}
	f.rejected = append(f.rejected, code)
	if code == 9499 {
		w.WriteHeader(http.StatusBadRequest)
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"code": code, "data": map[string]any{}, "msg": msg})
}

// MaxFeishuBody is the largest body the Feishu stand-in accepts, in bytes.
const MaxFeishuBody = 20480

// ServeHTTP implements the documented behaviour.
func (f *Feishu) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests++
	if len(f.faults) > 0 {
		fault := f.faults[0]
		f.faults = f.faults[1:]
		switch fault {
		case Fault500:
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte("<html>500 Internal Server Error</html>"))
			return
		case FaultBusy, FaultConcurrency:
			f.answer(w, 9499, "too many request")
			return
		case FaultTimeout:
			f.mu.Unlock()
			select {
			case <-r.Context().Done():
			case <-time.After(30 * time.Second):
			}
			f.mu.Lock()
			return
		case FaultNoCode:
			_ = json.NewEncoder(w).Encode(map[string]any{"StatusCode": 0, "StatusMessage": "success"})
			return
		}
	}
	token, ok := strings.CutPrefix(r.URL.Path, "/open-apis/bot/v2/hook/")
	if !ok || token == "" || strings.Contains(token, "/") {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	if r.Method != http.MethodPost || len(body) > MaxFeishuBody {
		f.answer(w, 9499, "Bad Request")
		return
	}
	robot, ok := f.robots[token]
	if !ok {
		f.answer(w, 19001, "param invalid: incoming webhook access token invalid")
		return
	}
	now := f.Now()
	recent := f.calls[token][:0]
	perSecond := 0
	for _, t := range f.calls[token] {
		if now.Sub(t) < time.Minute {
			recent = append(recent, t)
			if now.Sub(t) < time.Second {
				perSecond++
			}
		}
	}
	recent = append(recent, now)
	f.calls[token] = recent
	if perSecond+1 > f.PerSecond || len(recent) > f.PerMinute {
		if f.LimitCode == 11233 {
			f.answer(w, 11233, "create message chat trigger rate limit")
		} else {
			f.answer(w, 11232, "frequency limited psm[lark.oapi.app_platform_runtime]appID[1]")
		}
		return
	}
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		f.answer(w, 9499, "Bad Request")
		return
	}
	msg := FeishuMessage{Token: token, Raw: body, At: now}
	msg.MsgType, _ = m["msg_type"].(string)
	if robot.Secret != "" {
		ts, _ := m["timestamp"].(string) // a string, as documented
		sign, _ := m["sign"].(string)
		sec, err := strconv.ParseInt(ts, 10, 64)
		if err != nil || abs(now.Unix()-sec) > 3600 || sign != FeishuSign(robot.Secret, sec) {
			f.answer(w, 19021, "sign match fail or timestamp is not within one hour from current time")
			return
		}
		msg.Signed = true
	}
	var content any
	switch msg.MsgType {
	case "text", "post", "image", "share_chat":
		content = m["content"]
	case "interactive":
		content = m["card"]
	default:
		f.answer(w, 9499, "Bad Request")
		return
	}
	if _, ok := content.(map[string]any); !ok {
		f.answer(w, 9499, "Bad Request")
		return
	}
	walkFeishu(content, &msg)
	if len(robot.Keywords) > 0 {
		found := false
		for _, k := range robot.Keywords {
			for _, t := range msg.Texts {
				found = found || strings.Contains(t, k)
			}
		}
		if !found {
			f.answer(w, 19024, "Key Words Not Found")
			return
		}
	}
	f.messages = append(f.messages, msg)
	f.answer(w, 0, "success")
}

// FeishuSign is the signature Feishu expects: base64 of HMAC-SHA256 keyed by
// "<timestamp s>\n<secret>" over an empty message.
func FeishuSign(secret string, tsSeconds int64) string {
	mac := hmac.New(sha256.New, []byte(strconv.FormatInt(tsSeconds, 10)+"\n"+secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

var feishuAt = regexp.MustCompile(`<at (?:id|user_id|open_id)="?([^"\s>]+)"?\s*>`)

// walkFeishu collects the text and title values, mentions and URLs of a
// message's content or card.
func walkFeishu(v any, msg *FeishuMessage) {
	switch v := v.(type) {
	case []any:
		for _, e := range v {
			walkFeishu(e, msg)
		}
	case map[string]any:
		if v["tag"] == "at" {
			if id, ok := v["user_id"].(string); ok {
				msg.Mentions = append(msg.Mentions, id)
			}
		}
		if v["tag"] == "button" {
			if u, ok := v["url"].(string); ok {
				msg.URLs = append(msg.URLs, u)
			}
		}
		for _, k := range slices.Sorted(maps.Keys(v)) { // deterministic order
			e := v[k]
			if k == "text" || k == "title" {
				msg.addText(k, e)
			}
			walkFeishu(e, msg)
		}
	}
}

// addText records a text or title value: a string, or a text object's
// content (cards write {"tag":"plain_text","content":…}).
func (msg *FeishuMessage) addText(key string, v any) {
	var s string
	switch v := v.(type) {
	case string:
		s = v
	case map[string]any:
		s, _ = v["content"].(string)
	}
	if s == "" {
		return
	}
	msg.Texts = append(msg.Texts, s)
	if key == "title" && msg.Title == "" {
		msg.Title = s
	}
	if key == "text" {
		msg.Bodies = append(msg.Bodies, s)
	}
	for _, at := range feishuAt.FindAllStringSubmatch(s, -1) {
		msg.Mentions = append(msg.Mentions, at[1])
	}
}
