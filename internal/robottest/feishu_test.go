package robottest

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func code(a map[string]any) int {
	f, _ := a["code"].(float64)
	return int(f)
}

func feishuCard(title, md string) map[string]any {
	return map[string]any{"msg_type": "interactive", "card": map[string]any{
		"header": map[string]any{"title": map[string]any{"tag": "plain_text", "content": title}, "template": "red"},
		"elements": []any{
			map[string]any{"tag": "div", "text": map[string]any{"tag": "lark_md", "content": md}},
			map[string]any{"tag": "action", "actions": []any{map[string]any{
				"tag": "button", "text": map[string]any{"tag": "plain_text", "content": "打开"}, "url": "https://sentry.example/详情/"}}},
		},
	}}
}

func signed(body map[string]any, secret string, ts int64) map[string]any {
	body["timestamp"] = strconv.FormatInt(ts, 10)
	body["sign"] = FeishuSign(secret, ts)
	return body
}

func TestFeishuSign(t *testing.T) {
	// docs/chat-robots.md §3, worked example and vector 2.
	if got := FeishuSign("demo", 1599360473); got != "l1N0gAcBjdwBvGm1xMjOF0XSyaLRpR7tuO5dHfhAYc8=" {
		t.Errorf("demo: %s", got)
	}
	if got := FeishuSign("5pS0x0dW5wKZ1nqB3ZqJkc", 1700000000); got != "6QkWufoDZyOnPhXljXidr7NIH2M6Fs7QU5N9PAspWiQ=" {
		t.Errorf("vector 2: %s", got)
	}
}

func TestFeishuCodes(t *testing.T) {
	f := NewFeishu(
		FeishuRobot{Token: "signed", Secret: "demo"},
		FeishuRobot{Token: "kw", Keywords: []string{"详情", "告警"}},
		FeishuRobot{Token: "open"},
	)
	defer f.Close()
	c := newClock()
	f.Now = c.Now
	f.PerSecond = 100 // this test is not about rate limits
	now := c.Now().Unix()
	hook := f.URL() + "/open-apis/bot/v2/hook/"
	big := strings.Repeat("a", MaxFeishuBody)
	tests := []struct {
		name   string
		token  string
		body   any
		want   int
		status int
	}{
		{"unknown token", "nope", feishuCard("详情", "x"), 19001, 200},
		{"signed", "signed", signed(feishuCard("t", "x"), "demo", now), 0, 200},
		{"signed an hour ago", "signed", signed(feishuCard("t", "x"), "demo", now-3600), 0, 200},
		{"signed over an hour ago", "signed", signed(feishuCard("t", "x"), "demo", now-3601), 19021, 200},
		{"signed in the future", "signed", signed(feishuCard("t", "x"), "demo", now+3601), 19021, 200},
		{"wrong secret", "signed", signed(feishuCard("t", "x"), "other", now), 19021, 200},
		{"unsigned", "signed", feishuCard("t", "x"), 19021, 200},
		{"numeric timestamp", "signed", map[string]any{"timestamp": now, "sign": FeishuSign("demo", now), "msg_type": "text", "content": map[string]any{"text": "x"}}, 19021, 200},
		{"keyword in title", "kw", feishuCard("新问题 详情", "x"), 0, 200},
		{"keyword in lark_md", "kw", feishuCard("新问题", "**告警**"), 0, 200},
		{"keyword only in a button URL", "kw", feishuCard("新问题", "x"), 19024, 200},
		{"keyword only in an href", "kw", map[string]any{"msg_type": "post", "content": map[string]any{"post": map[string]any{"zh_cn": map[string]any{
			"title": "新问题", "content": []any{[]any{map[string]any{"tag": "a", "text": "打开", "href": "https://x/详情"}}}}}}}, 19024, 200},
		{"keyword in a text message", "kw", map[string]any{"msg_type": "text", "content": map[string]any{"text": "告警"}}, 0, 200},
		{"keyword in a post title", "kw", map[string]any{"msg_type": "post", "content": map[string]any{"post": map[string]any{"zh_cn": map[string]any{"title": "详情", "content": []any{}}}}}, 0, 200},
		{"card in content", "open", map[string]any{"msg_type": "interactive", "content": map[string]any{"text": "x"}}, 9499, 400},
		{"unknown type", "open", map[string]any{"msg_type": "voice"}, 9499, 400},
		{"not JSON", "open", `{"msg_type":`, 9499, 400},
		{"body over 20480 bytes", "open", map[string]any{"msg_type": "text", "content": map[string]any{"text": big}}, 9499, 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, a := post(t, hook+tc.token, tc.body)
			if status != tc.status || code(a) != tc.want {
				t.Errorf("got HTTP %d %v, want HTTP %d code %d", status, a, tc.status, tc.want)
			}
		})
	}
	got := f.Messages()
	if len(got) != 6 {
		t.Fatalf("accepted %d messages, want 6", len(got))
	}
	if !got[0].Signed || got[2].Signed || got[2].Title != "新问题 详情" || strings.Join(got[2].URLs, ",") != "https://sentry.example/详情/" {
		t.Errorf("recorded %+v", got[:3])
	}
	if r := f.Rejected(); len(r) != 12 {
		t.Errorf("rejected %v", r)
	}
}

func TestFeishuBodyLimitIsExact(t *testing.T) {
	f := NewFeishu(FeishuRobot{Token: "open"})
	defer f.Close()
	hook := f.URL() + "/open-apis/bot/v2/hook/open"
	prefix := `{"msg_type":"text","content":{"text":"`
	suffix := `"}}`
	fill := strings.Repeat("a", MaxFeishuBody-len(prefix)-len(suffix))
	if _, a := post(t, hook, prefix+fill+suffix); code(a) != 0 {
		t.Errorf("20480 bytes: %v", a)
	}
	if status, a := post(t, hook, prefix+fill+"a"+suffix); code(a) != 9499 || status != http.StatusBadRequest {
		t.Errorf("20481 bytes: HTTP %d %v", status, a)
	}
}

func TestFeishuMentions(t *testing.T) {
	f := NewFeishu(FeishuRobot{Token: "open"})
	defer f.Close()
	hook := f.URL() + "/open-apis/bot/v2/hook/open"
	post(t, hook, feishuCard("告警", "**x** <at id=ou_a></at> <at id=ou_b></at> @张三"))
	post(t, hook, map[string]any{"msg_type": "text", "content": map[string]any{"text": `<at user_id="ou_c">Tom</at> hi`}})
	post(t, hook, map[string]any{"msg_type": "post", "content": map[string]any{"post": map[string]any{"zh_cn": map[string]any{
		"title": "t", "content": []any{[]any{map[string]any{"tag": "text", "text": "x "}, map[string]any{"tag": "at", "user_id": "ou_d"}}}}}}})
	got := f.Messages()
	if len(got) != 3 {
		t.Fatalf("accepted %d messages", len(got))
	}
	for i, want := range []string{"ou_a,ou_b", "ou_c", "ou_d"} {
		if g := strings.Join(got[i].Mentions, ","); g != want {
			t.Errorf("message %d mentions %q, want %q", i, g, want)
		}
	}
}

func TestFeishuRateLimits(t *testing.T) {
	f := NewFeishu(FeishuRobot{Token: "a"}, FeishuRobot{Token: "b"})
	defer f.Close()
	c := newClock()
	f.Now = c.Now
	hook := f.URL() + "/open-apis/bot/v2/hook/"
	msg := map[string]any{"msg_type": "text", "content": map[string]any{"text": "x"}}
	for i := range 5 {
		if _, a := post(t, hook+"a", msg); code(a) != 0 {
			t.Fatalf("call %d: %v", i+1, a)
		}
	}
	if status, a := post(t, hook+"a", msg); code(a) != 11232 || status != http.StatusOK {
		t.Fatalf("6th call in a second: HTTP %d %v, want 11232", status, a)
	}
	if _, a := post(t, hook+"b", msg); code(a) != 0 {
		t.Errorf("another bot is limited too: %v", a)
	}
	c.Add(time.Second)
	if _, a := post(t, hook+"a", msg); code(a) != 0 {
		t.Fatalf("next second: %v", a)
	}
	// 7 calls so far; fill the minute to 100 at 2 a second.
	for n := 7; n < 100; n++ {
		if n%2 == 0 {
			c.Add(time.Second)
		}
		if _, a := post(t, hook+"a", msg); code(a) != 0 {
			t.Fatalf("call %d: %v", n+1, a)
		}
	}
	c.Add(time.Second)
	if _, a := post(t, hook+"a", msg); code(a) != 11232 {
		t.Fatalf("101st call in a minute: %v, want 11232", a)
	}
	c.Add(time.Minute)
	if _, a := post(t, hook+"a", msg); code(a) != 0 {
		t.Errorf("a minute later: %v", a)
	}
}

func TestFeishuFaults(t *testing.T) {
	f := NewFeishu(FeishuRobot{Token: "open"})
	defer f.Close()
	hook := f.URL() + "/open-apis/bot/v2/hook/open"
	msg := map[string]any{"msg_type": "text", "content": map[string]any{"text": "x"}}
	f.FailNext(FaultBusy, FaultNoCode)
	if status, a := post(t, hook, msg); status != http.StatusBadRequest || code(a) != 9499 || a["msg"] != "too many request" {
		t.Errorf("busy: HTTP %d %v", status, a)
	}
	if _, a := post(t, hook, msg); a["code"] != nil {
		t.Errorf("no code: %v", a)
	}
	if status, a := post(t, hook, msg); status != http.StatusOK || code(a) != 0 || a["msg"] != "success" {
		t.Errorf("after the faults: HTTP %d %v", status, a)
	}
}
