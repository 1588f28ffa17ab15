package robottest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable clock safe for the stand-ins' goroutines.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// post sends body and returns the HTTP status and the decoded answer.
func post(t *testing.T, url string, body any) (int, map[string]any) {
	t.Helper()
	var raw []byte
	switch b := body.(type) {
	case string:
		raw = []byte(b)
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.Post(url, "application/json; charset=utf-8", bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	var a map[string]any
	if err := json.Unmarshal(out, &a); err != nil {
		t.Fatalf("answer is not JSON: %s", out)
	}
	return resp.StatusCode, a
}

func errcode(a map[string]any) int {
	f, _ := a["errcode"].(float64)
	return int(f)
}

func markdown(content string) map[string]any {
	return map[string]any{"msgtype": "markdown", "markdown": map[string]any{"content": content}}
}

func textMsg(content string) map[string]any {
	return map[string]any{"msgtype": "text", "text": map[string]any{"content": content}}
}

func TestWeComCodes(t *testing.T) {
	w := NewWeCom("k1")
	defer w.Close()
	send := w.URL() + "/cgi-bin/webhook/send?key=k1"
	tests := []struct {
		name string
		url  string
		body any
		want int
	}{
		{"unknown key", w.URL() + "/cgi-bin/webhook/send?key=nope", markdown("hi"), 93000},
		{"no key", w.URL() + "/cgi-bin/webhook/send", markdown("hi"), 93000},
		{"markdown at the limit", send, markdown(strings.Repeat("好", 1365) + "a"), 0},
		{"markdown over the limit", send, markdown(strings.Repeat("a", 4097)), 40058},
		{"text at the limit", send, textMsg(strings.Repeat("a", 2048)), 0},
		{"text over the limit", send, textMsg(strings.Repeat("好", 683)), 40058},
		{"markdown_v2", send, map[string]any{"msgtype": "markdown_v2", "markdown_v2": map[string]any{"content": "| a |"}}, 0},
		{"empty content", send, markdown(""), 44004},
		{"missing part", send, map[string]any{"msgtype": "text"}, 44004},
		{"unknown type", send, map[string]any{"msgtype": "voice"}, 40008},
		{"not JSON", send, `{"msgtype":`, 40058},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, a := post(t, tc.url, tc.body)
			if status != http.StatusOK || errcode(a) != tc.want {
				t.Errorf("got HTTP %d %v, want HTTP 200 errcode %d", status, a, tc.want)
			}
			if tc.want != 0 && !strings.Contains(a["errmsg"].(string), "more info at") {
				t.Errorf("errmsg %q lacks WeCom's hint", a["errmsg"])
			}
		})
	}
	if got := len(w.Messages()); got != 3 {
		t.Errorf("accepted %d messages, want 3", got)
	}
	if got := w.Rejected(); len(got) != 8 || got[0] != 93000 {
		t.Errorf("rejected %v", got)
	}
}

// TestWeComGroupFaults: a disabled webhook answers 93004, a robot out of
// its group 93008, content over the limit 45002 when switched so, and the
// concurrency fault 45033.
func TestWeComGroupFaults(t *testing.T) {
	w := NewWeCom("k1")
	defer w.Close()
	send := w.URL() + "/cgi-bin/webhook/send?key=k1"
	w.SetKeyState("k1", KeyDisabled)
	if _, a := post(t, send, markdown("hi")); errcode(a) != 93004 {
		t.Errorf("disabled: %v", a)
	}
	w.SetKeyState("k1", KeyNotInGroup)
	if _, a := post(t, send, markdown("hi")); errcode(a) != 93008 {
		t.Errorf("not in the group: %v", a)
	}
	w.SetKeyState("k1", KeyActive)
	w.TooLargeCode = 45002
	if _, a := post(t, send, markdown(strings.Repeat("a", 4097))); errcode(a) != 45002 {
		t.Errorf("too large: %v", a)
	}
	w.FailNext(FaultConcurrency)
	if _, a := post(t, send, markdown("hi")); errcode(a) != 45033 {
		t.Errorf("concurrency: %v", a)
	}
	if _, a := post(t, send, markdown("hi")); errcode(a) != 0 {
		t.Errorf("after the faults: %v", a)
	}
}

func TestWeComMentions(t *testing.T) {
	w := NewWeCom("k1")
	defer w.Close()
	send := w.URL() + "/cgi-bin/webhook/send?key=k1"
	post(t, send, map[string]any{"msgtype": "markdown", "markdown": map[string]any{
		"content": "### 告警\n<@zhangsan> <@lisi>", "mentioned_mobile_list": []string{"13800138000"}, "mentioned_list": []string{"wangwu"}}})
	post(t, send, map[string]any{"msgtype": "text", "text": map[string]any{
		"content": "告警 <@nobody>", "mentioned_list": []string{"zhangsan"}, "mentioned_mobile_list": []string{"13900139000"}}})
	got := w.Messages()
	if len(got) != 2 {
		t.Fatalf("accepted %d messages, want 2", len(got))
	}
	md, txt := got[0], got[1]
	if strings.Join(md.MarkdownMentions, ",") != "zhangsan,lisi" || strings.Join(md.IgnoredMentions, ",") != "wangwu,13800138000" ||
		md.MentionedList != nil || md.MentionedMobileList != nil {
		t.Errorf("markdown: %+v; want <@> mentions honoured and mentioned_* ignored", md)
	}
	if strings.Join(txt.MentionedList, ",") != "zhangsan" || strings.Join(txt.MentionedMobileList, ",") != "13900139000" || txt.MarkdownMentions != nil {
		t.Errorf("text: %+v; want mentioned_list and mentioned_mobile_list honoured, <@> ignored", txt)
	}
}

func TestWeComRateLimit(t *testing.T) {
	w := NewWeCom("k1", "k2")
	defer w.Close()
	c := newClock()
	w.Now = c.Now
	send := w.URL() + "/cgi-bin/webhook/send?key="
	for i := range 20 {
		if _, a := post(t, send+"k1", textMsg("告警")); errcode(a) != 0 {
			t.Fatalf("call %d: %v", i+1, a)
		}
		c.Add(2 * time.Second)
	}
	if _, a := post(t, send+"k1", textMsg("告警")); errcode(a) != 45009 {
		t.Fatalf("21st call within 60 s: %v, want 45009", a)
	}
	if _, a := post(t, send+"k2", textMsg("告警")); errcode(a) != 0 {
		t.Errorf("another key is limited too: %v", a)
	}
	// t = 61 s: the first call left the minute, but the refused 21st call
	// counts too, so this is again the 21st.
	c.Add(21 * time.Second)
	if _, a := post(t, send+"k1", textMsg("告警")); errcode(a) != 45009 {
		t.Errorf("refused calls do not count: %v", a)
	}
	c.Add(4 * time.Second) // t = 65 s: calls at 0, 2 and 4 s have left
	if _, a := post(t, send+"k1", textMsg("告警")); errcode(a) != 0 {
		t.Errorf("after the first calls left the minute: %v", a)
	}
}

func TestWeComFaults(t *testing.T) {
	w := NewWeCom("k1")
	defer w.Close()
	send := w.URL() + "/cgi-bin/webhook/send?key=k1"
	w.FailNext(FaultBusy, FaultNoCode, Fault500)
	if _, a := post(t, send, textMsg("x")); errcode(a) != -1 {
		t.Errorf("busy: %v", a)
	}
	if _, a := post(t, send, textMsg("x")); a["errcode"] != nil {
		t.Errorf("no code: %v", a)
	}
	resp, err := http.Post(send, "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusInternalServerError {
		t.Errorf("500 fault: HTTP %d", resp.StatusCode)
	}
	if _, a := post(t, send, textMsg("x")); errcode(a) != 0 {
		t.Errorf("after the faults: %v", a)
	}
	if got := w.Requests(); got != 4 {
		t.Errorf("requests = %d, want 4", got)
	}
}
