package robottest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const dtSecret = "SECa7f09b5ea245debd13fb7fe1993897008f6b44ddf80310d14f3de4d3f407221d"

func dtSign(secret string, ts int64) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(ts, 10) + "\n" + secret))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// dtSignedPath is the path of a message to the robot "signed", with the
// timestamp and the signature when they are not zero.
func dtSignedPath(ts int64, sign string) string {
	q := url.Values{"access_token": {"signed"}}
	if ts != 0 {
		q.Set("timestamp", strconv.FormatInt(ts, 10))
	}
	if sign != "" {
		q.Set("sign", sign)
	}
	return "/robot/send?" + q.Encode()
}

func dtMarkdown(title, text string) map[string]any {
	return map[string]any{"msgtype": "markdown", "markdown": map[string]any{"title": title, "text": text}}
}

// TestDingTalkAnswers: every refusal comes with its errcode and with the
// text DingTalk gives, in Chinese (today, the default) or in English.
func TestDingTalkAnswers(t *testing.T) {
	clock := newClock()
	now := clock.Now().UnixMilli()
	texts := map[string][2]string{ // case → {zh substring, en substring}
		"no sign":       {"机器人发送签名不匹配", "sign not match"},
		"no timestamp":  {"机器人发送签名不匹配", "sign not match"},
		"wrong sign":    {"机器人发送签名不匹配", "sign not match"},
		"expired":       {"机器人发送签名过期", "invalid timestamp"},
		"bad timestamp": {"机器人发送签名过期", "invalid timestamp"},
		"keyword":       {"description:关键词不匹配;solution:", "keywords not in content"},
		"ip":            {"description:ip 不在白名单中;solution:", "ip 127.0.0.1 not in whitelist"},
		"too long":      {"20000bytes", "message too long, exceed 20000 bytes"},
	}
	for i, lang := range []string{"zh", "en"} {
		t.Run(lang, func(t *testing.T) {
			d := NewDingTalk(
				DingTalkRobot{Token: "signed", Secret: dtSecret, Keywords: []string{"详情"}},
				DingTalkRobot{Token: "ip", AllowIPs: []string{"10.0.0.0/8"}},
				DingTalkRobot{Token: "loopback", AllowIPs: []string{"192.0.2.1", "127.0.0.1"}, Keywords: []string{"sentry_alert"}},
			)
			defer d.Close()
			d.Now = clock.Now
			if lang == "en" {
				d.SetLang("en")
			}
			signed := func(ts int64, sign string) string { return d.URL() + dtSignedPath(ts, sign) }
			ok := dtMarkdown("详情 | t", "h")
			for _, c := range []struct {
				name string
				url  string
				body any
				code int
			}{
				{"signed", signed(now, dtSign(dtSecret, now)), ok, 0},
				{"no sign", signed(now, ""), ok, 310000},
				{"no timestamp", signed(0, dtSign(dtSecret, now)), ok, 310000},
				{"wrong sign", signed(now, dtSign("SECother", now)), ok, 310000},
				{"expired", signed(now-3600001, dtSign(dtSecret, now-3600001)), ok, 310000},
				{"bad timestamp", d.URL() + "/robot/send?access_token=signed&timestamp=x&sign=y", ok, 310000},
				{"keyword", signed(now, dtSign(dtSecret, now)), dtMarkdown("t", "h"), 310000},
				{"keyword in the title only", signed(now, dtSign(dtSecret, now)), dtMarkdown("详情", "h"), 0},
				{"ip", d.URL() + "/robot/send?access_token=ip", ok, 310000},
				{"allowed address, raw keyword", d.URL() + "/robot/send?access_token=loopback", dtMarkdown("t", "sentry_alert"), 0},
				{"escaped keyword", d.URL() + "/robot/send?access_token=loopback", dtMarkdown("t", `sentry\_alert`), 310000},
				{"too long", signed(now, dtSign(dtSecret, now)), dtMarkdown("详情", strings.Repeat("x", 20000)), 460101},
				{"unknown token", d.URL() + "/robot/send?access_token=nope", ok, 300005},
			} {
				status, a := post(t, c.url, c.body)
				if status != http.StatusOK || errcode(a) != c.code {
					t.Errorf("%s: HTTP %d %v, want errcode %d", c.name, status, a, c.code)
					continue
				}
				if want, ok := texts[c.name]; ok && !strings.Contains(a["errmsg"].(string), want[i]) {
					t.Errorf("%s: errmsg %q lacks %q", c.name, a["errmsg"], want[i])
				}
			}
			if n := len(d.Messages()); n != 3 {
				t.Errorf("accepted %d messages, want 3", n)
			}
		})
	}
}

// TestDingTalkRateLimitTexts: 410100 comes with the newer Chinese text,
// 130101 with the older English one.
func TestDingTalkRateLimitTexts(t *testing.T) {
	for _, c := range []struct {
		code int
		text string
	}{{410100, "发送速度太快而限流"}, {130101, "send too fast"}} {
		d := NewDingTalk(DingTalkRobot{Token: "t"})
		d.LimitCode, d.PerMinute = c.code, 1
		post(t, d.URL()+"/robot/send?access_token=t", dtMarkdown("a", "b"))
		_, a := post(t, d.URL()+"/robot/send?access_token=t", dtMarkdown("a", "b"))
		if errcode(a) != c.code || !strings.Contains(a["errmsg"].(string), c.text) {
			t.Errorf("rate limited: %v, want %d %q", a, c.code, c.text)
		}
		d.Close()
	}
}

// TestDingTalkSetNow: the clock can move while the stand-in serves.
func TestDingTalkSetNow(t *testing.T) {
	d := NewDingTalk(DingTalkRobot{Token: "signed", Secret: dtSecret})
	defer d.Close()
	ts := time.Now().UnixMilli()
	u := d.URL() + "/robot/send?" + url.Values{"access_token": {"signed"}, "timestamp": {strconv.FormatInt(ts, 10)}, "sign": {dtSign(dtSecret, ts)}}.Encode()
	if _, a := post(t, u, dtMarkdown("a", "b")); errcode(a) != 0 {
		t.Fatalf("signed now: %v", a)
	}
	d.SetNow(func() time.Time { return time.Now().Add(2 * time.Hour) })
	if _, a := post(t, u, dtMarkdown("a", "b")); errcode(a) != 310000 || !strings.Contains(a["errmsg"].(string), "过期") {
		t.Errorf("two hours later: %v", a)
	}
}

// TestDingTalkAnswerLatency: with AnswerLatency the group has the message
// though the client gave up before the answer; with Latency it does not.
func TestDingTalkAnswerLatency(t *testing.T) {
	d := NewDingTalk(DingTalkRobot{Token: "t", Keywords: []string{"详情"}})
	defer d.Close()
	body := `{"msgtype": "text", "text": {"content": "详情"}}`
	post := func() error {
		c := &http.Client{Timeout: 500 * time.Millisecond}
		resp, err := c.Post(d.URL()+"/robot/send?access_token=t", "application/json", strings.NewReader(body))
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	d.SetLatency(3 * time.Second)
	if err := post(); err == nil || len(d.Messages()) != 0 {
		t.Fatalf("Latency: %v, %d messages; want a timeout and none", err, len(d.Messages()))
	}
	d.SetLatency(0)
	d.SetAnswerLatency(3 * time.Second)
	if err := post(); err == nil || len(d.Messages()) != 1 {
		t.Fatalf("AnswerLatency: %v, %d messages; want a timeout and the message taken", err, len(d.Messages()))
	}
}

// TestLeanDingTalk: in lean mode the stand-in refuses a request a sender
// got wrong with the same answer as in full mode, and reports each message
// it takes to its taken function once the answer is out.
func TestLeanDingTalk(t *testing.T) {
	robots := []DingTalkRobot{
		{Token: "signed", Secret: dtSecret, Keywords: []string{"详情"}},
		{Token: "ip", AllowIPs: []string{"10.0.0.0/8"}},
		{Token: "loopback", AllowIPs: []string{"192.0.2.1", "127.0.0.1"}, Keywords: []string{"sentry_alert"}},
	}
	full := NewDingTalk(robots...)
	defer full.Close()
	type take struct {
		body    string
		in, out time.Time
	}
	var (
		mu    sync.Mutex
		taken []take
	)
	lean := NewLeanDingTalk(0, func(body []byte, in, out time.Time) {
		mu.Lock()
		defer mu.Unlock()
		taken = append(taken, take{string(body), in, out})
	}, robots...)
	leanSrv := httptest.NewServer(lean)
	defer leanSrv.Close()

	now := time.Now().UnixMilli()
	signed := dtSignedPath
	ok := dtMarkdown("详情 | t", "h")
	var accepted []string
	for _, c := range []struct {
		name string
		path string
		body any
	}{
		{"signed", signed(now, dtSign(dtSecret, now)), ok},
		{"no sign", signed(now, ""), ok},
		{"wrong sign", signed(now, dtSign("SECother", now)), ok},
		{"expired", signed(now-3600001, dtSign(dtSecret, now-3600001)), ok},
		{"bad timestamp", "/robot/send?access_token=signed&timestamp=x&sign=y", ok},
		{"keyword", signed(now, dtSign(dtSecret, now)), dtMarkdown("t", "h")},
		{"ip", "/robot/send?access_token=ip", ok},
		{"allowed address", "/robot/send?access_token=loopback", dtMarkdown("t", "sentry_alert")},
		{"escaped keyword", "/robot/send?access_token=loopback", dtMarkdown("t", `sentry\_alert`)},
		{"too long", signed(now, dtSign(dtSecret, now)), dtMarkdown("详情", strings.Repeat("x", 20000))},
		{"unknown token", "/robot/send?access_token=nope", ok},
		{"no token", "/robot/send", ok},
	} {
		fullStatus, fullAnswer := post(t, full.URL()+c.path, c.body)
		leanStatus, leanAnswer := post(t, leanSrv.URL+c.path, c.body)
		if leanStatus != fullStatus || !reflect.DeepEqual(leanAnswer, fullAnswer) {
			t.Errorf("%s: lean answered HTTP %d %v, full HTTP %d %v", c.name, leanStatus, leanAnswer, fullStatus, fullAnswer)
		}
		if errcode(fullAnswer) == 0 {
			b, _ := json.Marshal(c.body)
			accepted = append(accepted, string(b))
		}
	}
	if len(accepted) != 2 {
		t.Fatalf("the full stand-in took %d messages, want 2", len(accepted))
	}
	leanSrv.Close() // waits for the handlers: taken runs after the answer is out
	mu.Lock()
	defer mu.Unlock()
	if len(taken) != len(accepted) {
		t.Fatalf("taken called %d times, want %d", len(taken), len(accepted))
	}
	for i, tk := range taken {
		if tk.body != accepted[i] || tk.out.Before(tk.in) {
			t.Errorf("taken #%d: %q from %v to %v, want %q", i, tk.body, tk.in, tk.out, accepted[i])
		}
	}
	if got, want := lean.Rejected(), full.Rejected(); !slices.Equal(got, want) {
		t.Errorf("lean refused %v, full %v", got, want)
	}
	if len(lean.Messages()) != 0 {
		t.Error("a lean stand-in keeps no message")
	}
}
