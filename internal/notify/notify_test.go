package notify

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
)

type scripted struct {
	errs  []error
	calls int
	sent  []*Message
}

func (s *scripted) Send(ctx context.Context, r *config.Robot, m *Message) error {
	s.calls++
	s.sent = append(s.sent, m)
	if len(s.errs) == 0 {
		return nil
	}
	err := s.errs[0]
	s.errs = s.errs[1:]
	return err
}

func TestDeliverPolicy(t *testing.T) {
	r := &config.Robot{Name: "r"}
	var slept []time.Duration
	p := Policy{Attempts: 4, Base: 100 * time.Millisecond, Max: time.Second,
		Sleep: func(ctx context.Context, d time.Duration) error { slept = append(slept, d); return nil }}
	retry := &Error{Retry: true, Msg: "busy"}
	for _, tc := range []struct {
		name     string
		errs     []error
		attempts int
		ok       bool
	}{
		{"first try", nil, 1, true},
		{"two transient", []error{retry, retry}, 3, true},
		{"gives up", []error{retry, retry, retry, retry, retry}, 4, false},
		{"config fault not retried", []error{&Error{Code: 310000}}, 1, false},
		{"re-signed once", []error{&Error{Resign: true}, &Error{Resign: true}}, 2, false},
		{"re-sign then ok", []error{&Error{Resign: true}}, 2, true},
		{"plain error is transport", []error{errors.New("reset"), nil}, 2, true},
		{"a second timeout stops", []error{&Error{Retry: true, Timeout: true}, &Error{Retry: true, Timeout: true}, retry}, 2, false},
		{"one timeout then ok", []error{&Error{Retry: true, Timeout: true}}, 2, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &scripted{errs: tc.errs}
			res := Deliver(context.Background(), s, r, &Message{}, p)
			if res.Attempts != tc.attempts || (res.Err == nil) != tc.ok {
				t.Errorf("attempts %d err %v; want %d ok=%v", res.Attempts, res.Err, tc.attempts, tc.ok)
			}
		})
	}
	for _, d := range slept {
		if d < 50*time.Millisecond || d > 1500*time.Millisecond {
			t.Errorf("backoff %v outside the jittered bounds", d)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if res := Deliver(ctx, &scripted{errs: []error{retry, retry}}, r, &Message{}, Policy{Attempts: 4, Base: time.Millisecond}); res.Attempts != 1 {
		t.Errorf("a cancelled context must stop retries: %d attempts", res.Attempts)
	}
}

// TestTimeoutRetrySaysPossibleRepeat (#30.7): the robot may have posted a
// message that timed out, so its one retry says 可能重复 / possible repeat;
// a retry after a plain failure does not.
func TestTimeoutRetrySaysPossibleRepeat(t *testing.T) {
	p := Policy{Attempts: 4, Sleep: func(context.Context, time.Duration) error { return nil }}
	for _, lang := range []string{"zh", "en"} {
		m := &Message{Title: "详情 | 商城后台: TypeError", Heading: "TypeError", Lang: lang, Fields: []Field{{Label: "项目", Value: "商城后台"}}}
		s := &scripted{errs: []error{&Error{Retry: true, Msg: "busy"}, &Error{Retry: true, Timeout: true}}}
		if res := Deliver(context.Background(), s, &config.Robot{Name: "r"}, m, p); res.Err != nil || len(s.sent) != 3 {
			t.Fatalf("%s: %d sends, %v", lang, len(s.sent), res.Err)
		}
		mark := PossibleRepeatMark(lang)
		if s.sent[1] != m || strings.Contains(s.sent[1].Title, mark) {
			t.Errorf("%s: the retry after a busy answer is marked: %q", lang, s.sent[1].Title)
		}
		last := s.sent[2]
		if !strings.HasPrefix(last.Title, mark) || !strings.HasPrefix(last.Heading, mark) || len(last.Fields) != 2 || last.Fields[1].Label != "项目" {
			t.Errorf("%s: the retry after a timeout reads %q %q %+v", lang, last.Title, last.Heading, last.Fields)
		}
		if m.Title != "详情 | 商城后台: TypeError" || len(m.Fields) != 1 {
			t.Errorf("%s: the caller's message was changed: %+v", lang, m)
		}
		if again := last.MarkPossibleRepeat(); again != last {
			t.Errorf("%s: marked twice", lang)
		}
	}
}

func TestRedact(t *testing.T) {
	in := `Post "https://oapi.dingtalk.com/robot/send?access_token=abc&sign=x%2B&timestamp=1" key=k1 secret=s3`
	out := Redact(in)
	for _, s := range []string{"abc", "x%2B", "k1", "s3"} {
		if strings.Contains(out, s) {
			t.Errorf("Redact left %q: %s", s, out)
		}
	}
	// Scrub also removes known values wherever a URL carries them.
	in = `Post "https://open.feishu.cn/open-apis/bot/v2/hook/tok+123?x=1": sec/ret`
	out = Scrub(in, "tok+123", "sec/ret")
	for _, s := range []string{"tok+123", "tok%2B123", "sec/ret"} {
		if strings.Contains(out, s) {
			t.Errorf("Scrub left %q: %s", s, out)
		}
	}
}

func TestIsTimeout(t *testing.T) {
	if !IsTimeout(context.DeadlineExceeded) || IsTimeout(errors.New("connection refused")) {
		t.Error("IsTimeout")
	}
}

// TestFixWords: a fix is worded in either language with its parameters;
// the English is what errors say.
func TestFixWords(t *testing.T) {
	words := map[string]Text{"limit": {Zh: "每分钟最多 {n} 条，{n} 条之后{x}", En: "{n} a minute, then {x}: {missing}"}}
	f := NewFix(words, "limit", map[string]any{"n": 20, "x": "wait"})
	if got, want := f.In("zh"), "每分钟最多 20 条，20 条之后wait"; got != want {
		t.Errorf("In(zh) = %q, want %q", got, want)
	}
	if got, want := f.String(), "20 a minute, then wait: {missing}"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got := NewFix(words, "unknown", nil); got.Code != "unknown" || got.String() != "" {
		t.Errorf("a code without words: %+v %q", got, got.String())
	}
	var none *Fix
	if none.String() != "" || none.In("zh") != "" {
		t.Error("a nil fix has words")
	}
	e := &Error{Robot: "r", Code: 7, Msg: "m", Fix: f}
	if got, want := e.Error(), `robot "r" answered errcode 7: m (20 a minute, then wait: {missing})`; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
