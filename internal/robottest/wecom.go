package robottest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sync"
	"time"
)

// WeComMessage is one message a WeCom stand-in accepted, with what it
// mentioned and how.
type WeComMessage struct {
	Key     string
	MsgType string // text, markdown or markdown_v2
	Content string
	// MentionedList and MentionedMobileList are the text message's
	// mentioned_list (userids) and mentioned_mobile_list: WeCom honours them
	// only on text.
	MentionedList       []string
	MentionedMobileList []string
	// MarkdownMentions are the <@userid> in a markdown (v1) content, the only
	// way markdown mentions.
	MarkdownMentions []string
	// IgnoredMentions are mentioned_list and mentioned_mobile_list entries
	// sent on a markdown message, which WeCom ignores: nobody is notified.
	IgnoredMentions []string
	Raw             []byte
	At              time.Time
}

// KeyState is the state of a WeCom robot's webhook in its group.
type KeyState int

// Key states.
const (
	KeyActive     KeyState = iota
	KeyDisabled            // the group's message push was turned off: 93004
	KeyNotInGroup          // the robot was removed from the group: 93008
)

// WeCom is a stand-in for POST /cgi-bin/webhook/send?key=<key>
// (docs/chat-robots.md §2): unknown key → 93000, a disabled webhook → 93004, a
// robot no longer in its group → 93008 (SetKeyState), text over 2048
// bytes or markdown over 4096 bytes → 40058 (or 45002, TooLargeCode), the
// 21st call per key within 60 s → 45009, FaultConcurrency → 45033,
// mentioned_* on markdown ignored. Every answer is HTTP 200.
type WeCom struct {
	Server *httptest.Server
	// Now is the stand-in's clock (rate limits); set it before use for a
	// fake clock.
	Now func() time.Time
	// PerMinute is the rate limit per key (default 20). Every call with a
	// known key counts, refused ones included.
	PerMinute int
	// TooLargeCode is the errcode for content over its limit: 40058
	// (default, "markdown.content exceed max length 4096", as observed) or
	// 45002 (the documented "content size out of limit").
	TooLargeCode int

	mu       sync.Mutex
	keys     map[string]bool
	states   map[string]KeyState
	calls    map[string][]time.Time // key -> calls in the last minute
	messages []WeComMessage
	rejected []int
	faults   []Fault
	requests int
}

// NewWeCom starts a stand-in knowing the webhook keys.
func NewWeCom(keys ...string) *WeCom {
	w := &WeCom{Now: time.Now, PerMinute: 20, TooLargeCode: 40058, keys: map[string]bool{}, states: map[string]KeyState{}, calls: map[string][]time.Time{}}
	for _, k := range keys {
		w.keys[k] = true
	}
	w.Server = httptest.NewServer(w)
	return w
}

// URL is the API base to give the relay (SENTRY_WHITE_WECOM_API).
func (w *WeCom) URL() string { return w.Server.URL }

// Close stops the server.
func (w *WeCom) Close() { w.Server.Close() }

// AddKey registers another robot by its webhook key.
func (w *WeCom) AddKey(key string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.keys[key] = true
}

// SetKeyState puts a known key's webhook in a state: KeyDisabled answers
// 93004, KeyNotInGroup 93008, KeyActive delivers again.
func (w *WeCom) SetKeyState(key string, s KeyState) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.states[key] = s
}

// FailNext makes the next requests fail with the given faults, in order:
// Fault500 answers HTTP 500, FaultBusy errcode -1, FaultConcurrency errcode
// 45033, FaultTimeout holds the request until the client gives up,
// FaultNoCode a JSON body without errcode.
func (w *WeCom) FailNext(f ...Fault) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.faults = append(w.faults, f...)
}

// Messages returns the accepted messages so far.
func (w *WeCom) Messages() []WeComMessage {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]WeComMessage(nil), w.messages...)
}

// Rejected returns the non-zero errcodes answered so far.
func (w *WeCom) Rejected() []int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]int(nil), w.rejected...)
}

// Requests counts every request received.
func (w *WeCom) Requests() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.requests
}

func (w *WeCom) answer(rw http.ResponseWriter, code int, msg string) {
	if code != 0 {
		w.rejected = append(w.rejected, code)
		msg = fmt.Sprintf("%s, hint: [1700000000_1_stand-in], from ip: 127.0.0.1, more info at https://open.work.weixin.qq.com/devtool/query?e=%d", msg, code)
	}
	rw.Header().Set("Content-Type", "application/json; charset=UTF-8")
	_ = json.NewEncoder(rw).Encode(map[string]any{"errcode": code, "errmsg": msg})
}

var wecomAt = regexp.MustCompile(`<@([^<>\s]+)>`)

// ServeHTTP implements the documented behaviour.
func (w *WeCom) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	w.mu.Lock()
	defer w.mu.Unlock()
	w.requests++
	if len(w.faults) > 0 {
		f := w.faults[0]
		w.faults = w.faults[1:]
		switch f {
		case Fault500:
			rw.WriteHeader(http.StatusInternalServerError)
			_, _ = rw.Write([]byte("<html>500 Internal Server Error</html>"))
			return
		case FaultBusy:
			w.answer(rw, -1, "system busy")
			return
		case FaultConcurrency:
			w.answer(rw, 45033, "api concurrent out of limit")
			return
		case FaultTimeout:
			w.mu.Unlock()
			select {
			case <-r.Context().Done():
			case <-time.After(30 * time.Second):
			}
			w.mu.Lock()
			return
		case FaultNoCode:
			_ = json.NewEncoder(rw).Encode(map[string]any{"status": 1111, "wait": 5})
			return
		}
	}
	if r.URL.Path != "/cgi-bin/webhook/send" {
		rw.WriteHeader(http.StatusNotFound)
		return
	}
	if r.Method != http.MethodPost {
		w.answer(rw, 43002, "require POST method")
		return
	}
	key := r.URL.Query().Get("key")
	if !w.keys[key] {
		w.answer(rw, 93000, "invalid webhook url")
		return
	}
	switch w.states[key] {
	case KeyDisabled:
		w.answer(rw, 93004, "webhook disabled in the group")
		return
	case KeyNotInGroup:
		w.answer(rw, 93008, "robot not in the group")
		return
	}
	now := w.Now()
	recent := w.calls[key][:0]
	for _, t := range w.calls[key] {
		if now.Sub(t) < time.Minute {
			recent = append(recent, t)
		}
	}
	recent = append(recent, now)
	w.calls[key] = recent
	if len(recent) > w.PerMinute {
		w.answer(rw, 45009, "api freq out of limit")
		return
	}
	var m struct {
		MsgType string `json:"msgtype"`
		Text    *struct {
			Content             string   `json:"content"`
			MentionedList       []string `json:"mentioned_list"`
			MentionedMobileList []string `json:"mentioned_mobile_list"`
		} `json:"text"`
		Markdown *struct {
			Content             string   `json:"content"`
			MentionedList       []string `json:"mentioned_list"`
			MentionedMobileList []string `json:"mentioned_mobile_list"`
		} `json:"markdown"`
		MarkdownV2 *struct {
			Content string `json:"content"`
		} `json:"markdown_v2"`
	}
	if err := json.Unmarshal(body, &m); err != nil {
		w.answer(rw, 40058, "Warning: wrong json format. invalid Request Parameter")
		return
	}
	msg := WeComMessage{Key: key, MsgType: m.MsgType, Raw: body, At: now}
	limit := 4096
	switch {
	case m.MsgType == "text" && m.Text != nil:
		msg.Content = m.Text.Content
		msg.MentionedList, msg.MentionedMobileList = m.Text.MentionedList, m.Text.MentionedMobileList
		limit = 2048
	case m.MsgType == "markdown" && m.Markdown != nil:
		msg.Content = m.Markdown.Content
		msg.IgnoredMentions = append(append([]string(nil), m.Markdown.MentionedList...), m.Markdown.MentionedMobileList...)
		for _, at := range wecomAt.FindAllStringSubmatch(msg.Content, -1) {
			msg.MarkdownMentions = append(msg.MarkdownMentions, at[1])
		}
	case m.MsgType == "markdown_v2" && m.MarkdownV2 != nil:
		msg.Content = m.MarkdownV2.Content
	case m.MsgType == "text" || m.MsgType == "markdown" || m.MsgType == "markdown_v2":
		w.answer(rw, 44004, "Warning: wrong json format. empty content")
		return
	default:
		w.answer(rw, 40008, "invalid message type")
		return
	}
	if msg.Content == "" {
		w.answer(rw, 44004, "Warning: wrong json format. empty content")
		return
	}
	if len(msg.Content) > limit {
		if w.TooLargeCode == 45002 {
			w.answer(rw, 45002, "content size out of limit")
		} else {
			w.answer(rw, 40058, fmt.Sprintf("%s.content exceed max length %d", m.MsgType, limit))
		}
		return
	}
	w.messages = append(w.messages, msg)
	w.answer(rw, 0, "ok")
}
