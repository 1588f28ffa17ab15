// Package notifytest is the conformance suite every robot kind passes
// against a stand-in of its vendor's API: deliveries, retries of transient
// failures, rate limits, configuration faults explained, signing, worst-case
// messages that still fit, and no secret in any error.
package notifytest

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/notify"
)

// Vendor is a stand-in of a kind's robot API on loopback that behaves as
// the vendor documents it: tokens, signatures, keywords, size and rate
// limits, error codes.
type Vendor interface {
	// URL is the API base to give the kind's sender.
	URL() string
	Close()
	// Robot returns a robot the stand-in knows, with the keyword 详情 and,
	// when signed is true and the kind signs, a signing secret.
	Robot(signed bool) *config.Robot
	// FailNext makes the next request fail with HTTP 500, or hang until
	// the client gives up when hang is true.
	FailNext(hang bool)
	// Accepted returns the text of each message accepted so far (title and
	// body, as the vendor shows them).
	Accepted() []string
}

// KeywordVendor is a Vendor that can check keywords as the vendor does.
// The suite checks a kind's keywords against its stand-in when the
// stand-in is one (every built-in kind's is).
type KeywordVendor interface {
	Vendor
	// KeywordRobot returns a robot the stand-in knows whose keyword, in the
	// vendor's security settings and in the configuration, is kw (for a
	// kind without keywords: a robot configured with kw).
	KeywordRobot(kw string) *config.Robot
	// Received returns the alerts accepted so far, each as its title (""
	// when the kind's messages have none) and its text, raw as sent: where
	// the vendor looks for the keyword.
	Received() []Received
}

// Received is one accepted message, raw as the vendor received it.
type Received struct {
	Title string
	Text  string
}

// KeywordClasses are robot keywords with each kind of character that
// markdown (or a vendor's markup) gives a meaning: every kind must carry
// them exactly as configured.
var KeywordClasses = []struct{ Name, Keyword string }{
	{"underscore", "sentry_alert"},
	{"emphasis", "_urgent_"},
	{"asterisk", "a*b"},
	{"brackets", "[x]"},
	{"heading", "#tag"},
	{"quote", ">q"},
	{"backtick", "`tick"},
	{"tilde", "~x~"},
	{"pipe", "a|b"},
	{"angle", "<kw>"},
	{"backslash", `C:\kw`},
	{"ampersand", "&amp;"},
	{"chinese", "告警"},
}

// Run checks kind k against the vendor stand-in newVendor starts.
func Run(t *testing.T, k *notify.Kind, newVendor func(t *testing.T) Vendor) {
	t.Helper()
	sender := func(v Vendor, timeout time.Duration) notify.Sender {
		return k.New(v.URL(), &http.Client{Timeout: timeout})
	}
	policy := notify.Policy{Attempts: 3, Base: time.Millisecond, Max: time.Millisecond}

	// The kind words every fix it gives in both languages, with the same
	// parameters: the configurator's page shows them (Kind.Fixes).
	t.Run("fixes are worded", func(t *testing.T) {
		if len(k.Fixes) == 0 {
			t.Fatal("the kind words no fix (Kind.Fixes)")
		}
		for code, w := range k.Fixes {
			if code == "" || w.Zh == "" || w.En == "" {
				t.Errorf("fix %q: %+v; want a code and words in both languages", code, w)
			}
			if zh, en := params(w.Zh), params(w.En); !slices.Equal(zh, en) {
				t.Errorf("fix %q takes %v in Chinese and %v in English", code, zh, en)
			}
		}
	})

	t.Run("delivers", func(t *testing.T) {
		v := newVendor(t)
		defer v.Close()
		r := v.Robot(false)
		res := notify.Deliver(context.Background(), sender(v, 5*time.Second), r, Message(k), policy)
		if res.Err != nil || res.Attempts != 1 {
			t.Fatalf("attempts %d, err %v", res.Attempts, res.Err)
		}
		got := v.Accepted()
		if len(got) != 1 || !strings.Contains(got[0], "详情") || !strings.Contains(got[0], "TypeError") {
			t.Fatalf("accepted %q", got)
		}
	})

	t.Run("retries a server error", func(t *testing.T) {
		v := newVendor(t)
		defer v.Close()
		v.FailNext(false)
		res := notify.Deliver(context.Background(), sender(v, 5*time.Second), v.Robot(false), Message(k), policy)
		if res.Err != nil || res.Attempts != 2 || len(v.Accepted()) != 1 {
			t.Fatalf("attempts %d, err %v, accepted %d", res.Attempts, res.Err, len(v.Accepted()))
		}
	})

	t.Run("a timeout is marked and retried once", func(t *testing.T) {
		v := newVendor(t)
		defer v.Close()
		v.FailNext(true)
		v.FailNext(true)
		res := notify.Deliver(context.Background(), sender(v, 150*time.Millisecond), v.Robot(false), Message(k), policy)
		if res.Err == nil || !res.Err.Timeout || res.Attempts != 2 {
			t.Fatalf("attempts %d, err %+v; want two timed-out attempts", res.Attempts, res.Err)
		}
	})

	t.Run("rate limit", func(t *testing.T) {
		v := newVendor(t)
		defer v.Close()
		s, r := sender(v, 5*time.Second), v.Robot(false)
		for i := 0; i < 200; i++ {
			err := s.Send(context.Background(), r, Message(k))
			if err == nil {
				continue
			}
			e := notify.AsError(err, r)
			if !e.RateLimited || e.Retry {
				t.Fatalf("send %d: %+v; want a rate-limit refusal, not retried at once", i+1, e)
			}
			if limit := k.Budget.Limits[0].N; i < limit {
				t.Errorf("refused after %d sends, within the kind's budget of %d", i, limit)
			}
			return
		}
		t.Fatal("200 sends in a burst were never rate limited")
	})

	t.Run("unknown token is a configuration fault", func(t *testing.T) {
		v := newVendor(t)
		defer v.Close()
		r := v.Robot(false)
		r.AccessToken = "no-such-token-4711"
		res := notify.Deliver(context.Background(), sender(v, 5*time.Second), r, Message(k), policy)
		if res.Err == nil || res.Err.Retry || res.Attempts != 1 || res.Err.Fix == nil {
			t.Fatalf("attempts %d, err %+v; want one attempt, not retried, with a fix", res.Attempts, res.Err)
		}
		worded(t, k, res.Err.Fix)
		noSecret(t, res.Err.Error(), r)
	})

	// The keyword is in the title and in the text exactly as the robot's
	// security settings have it, whatever its characters, even when Sentry
	// text around it is escaped; the vendor then takes the message.
	t.Run("keyword exactly as configured", func(t *testing.T) {
		for _, c := range KeywordClasses {
			for _, inTitle := range []bool{true, false} {
				name := c.Name
				if !inTitle {
					name += " added to the title"
				}
				t.Run(name, func(t *testing.T) {
					nv := newVendor(t)
					defer nv.Close()
					v, ok := nv.(KeywordVendor)
					if !ok {
						t.Skip("the stand-in is not a notifytest.KeywordVendor")
					}
					r := v.KeywordRobot(c.Keyword)
					m := Message(k)
					m.Keyword = c.Keyword
					m.Title = "商城后台: job " + c.Keyword + " failed"
					if !inTitle {
						m.Title = "商城后台: TypeError"
					}
					m.Heading = "TypeError in job " + c.Keyword + " (*_`[x]`_*)"
					m.Fields = append(m.Fields, notify.Field{Label: "环境", Value: "prod " + c.Keyword})
					res := notify.Deliver(context.Background(), sender(v, 5*time.Second), r, m, policy)
					if res.Err != nil {
						t.Fatalf("keyword %q: %v", c.Keyword, res.Err)
					}
					got := v.Received()
					if len(got) != 1 {
						t.Fatalf("received %d messages, want 1", len(got))
					}
					if got[0].Title != "" && !strings.Contains(got[0].Title, c.Keyword) {
						t.Errorf("the title lacks the keyword %q: %q", c.Keyword, got[0].Title)
					}
					if !strings.Contains(got[0].Text, c.Keyword) {
						t.Errorf("the text lacks the keyword %q exactly as configured:\n%s", c.Keyword, got[0].Text)
					}
				})
			}
		}
	})

	if k.Secret != nil {
		// A robot that signs on the vendor's side but whose secret was
		// cleared here is told about its secret: not to check a clock, and
		// not re-signed (there is nothing to sign with).
		t.Run("a cleared secret is explained", func(t *testing.T) {
			v := newVendor(t)
			defer v.Close()
			cleared := *v.Robot(true)
			cleared.Secret = ""
			res := notify.Deliver(context.Background(), sender(v, 5*time.Second), &cleared, Message(k), policy)
			if res.Err == nil || res.Err.Retry || res.Err.Resign || res.Attempts != 1 {
				t.Fatalf("attempts %d, err %+v; want one refusal, not retried or re-signed", res.Attempts, res.Err)
			}
			if fix := res.Err.Fix.String(); !strings.Contains(fix, "secret") || strings.Contains(fix, "clock") {
				t.Errorf("a cleared secret is explained as %q; want what to do about the secret", fix)
			}
			if k.Secret.Prefix != "" && !strings.Contains(res.Err.Fix.String(), k.Secret.Prefix) {
				t.Errorf("the fix %q does not say the secret starts with %s", res.Err.Fix, k.Secret.Prefix)
			}
			worded(t, k, res.Err.Fix)
		})

		t.Run("signs every request", func(t *testing.T) {
			v := newVendor(t)
			defer v.Close()
			r := v.Robot(true)
			if r.Secret == "" {
				t.Fatal("the stand-in gave no signed robot")
			}
			s := sender(v, 5*time.Second)
			for i := 0; i < 3; i++ {
				if err := s.Send(context.Background(), r, Message(k)); err != nil {
					t.Fatalf("signed send %d: %v", i, err)
				}
			}
			bad := *r
			bad.Secret = config.Secret(k.Secret.Prefix + "0000wrong-secret-0000")
			res := notify.Deliver(context.Background(), s, &bad, Message(k), policy)
			if res.Err == nil || res.Err.Retry || res.Err.Fix == nil {
				t.Fatalf("a wrong secret: %+v; want a refusal with a fix", res.Err)
			}
			worded(t, k, res.Err.Fix)
			noSecret(t, res.Err.Error(), &bad)
		})
	}

	t.Run("worst-case message fits", func(t *testing.T) {
		v := newVendor(t)
		defer v.Close()
		r := v.Robot(false)
		for name, m := range WorstCases(k) {
			err := sender(v, 5*time.Second).Send(context.Background(), r, m)
			if err != nil {
				t.Errorf("%s: %v", name, err)
				continue
			}
			bodies, err := k.Requests(m)
			if err != nil {
				t.Errorf("%s: preview: %v", name, err)
			}
			for _, b := range bodies {
				if len(b) > k.MaxBody && k.MaxBody >= 8<<10 {
					t.Errorf("%s: a %d-byte body over the kind's %d", name, len(b), k.MaxBody)
				}
			}
		}
		if n := len(v.Accepted()); n != len(WorstCases(k)) {
			t.Errorf("%d of %d worst cases accepted", n, len(WorstCases(k)))
		}
		for _, a := range v.Accepted() {
			if !strings.Contains(a, "详情") {
				t.Errorf("a shortened message lost its keyword: %.200q", a)
			}
		}
	})

	t.Run("no secret in transport errors", func(t *testing.T) {
		r := &config.Robot{ID: 1, Name: "r", Kind: k.Name, AccessToken: "tok/en+with?odd=chars&x", Secret: "SECsecret+/value"}
		s := k.New("http://127.0.0.1:1", &http.Client{Timeout: time.Second})
		err := s.Send(context.Background(), r, Message(k))
		if err == nil {
			t.Fatal("a send to a closed port succeeded")
		}
		if e := notify.AsError(err, r); !e.Retry {
			t.Errorf("a refused connection is not retryable: %+v", e)
		}
		noSecret(t, err.Error(), r)
	})
}

func noSecret(t *testing.T, s string, r *config.Robot) {
	t.Helper()
	for _, v := range []string{r.AccessToken.Reveal(), r.Secret.Reveal()} {
		if len(v) >= 4 && strings.Contains(s, v) {
			t.Errorf("the error names a secret: %s", s)
		}
	}
}

// Message is a typical alert to a robot of kind k, mentioning an owner by
// mobile and by the kind's own id.
func Message(k *notify.Kind) *notify.Message {
	return &notify.Message{
		Title: "详情 | 商城后台: TypeError", Heading: "TypeError: Cannot read properties of undefined",
		Link: "https://acme.sentry.io/issues/42/", Level: "error", State: "triggered", Keyword: "详情",
		Fields:   []notify.Field{{Label: "项目", Value: "商城后台 (mall-api)"}, {Label: "环境", Value: "production"}},
		Mentions: []notify.Mention{{Name: "张三", Mobile: "13800138000", IDs: ownerID(k, "zhangsan")}},
	}
}

// ownerID is a person's ids for kind k: id, after the prefix the kind's ids
// start with; none when the kind mentions no one by id.
func ownerID(k *notify.Kind, id string) map[string]string {
	if k.OwnerID == nil {
		return nil
	}
	return map[string]string{k.Name: k.OwnerID.Prefix + id}
}

// WorstCases are messages to a robot of kind k at or beyond what render
// produces, in text that grows most under each vendor's escaping and
// JSON's: every one must still be sent.
func WorstCases(k *notify.Kind) map[string]*notify.Message {
	grow := strings.Repeat("*_`[]<>&\"\\\u2028", 60)                              // escapes and JSON escapes
	wide := strings.Repeat("错误堆栈", 400)                                           // 3-byte runes
	link := "https://acme.sentry.io/issues/42/?q=" + strings.Repeat("a%20", 7500) // 30 KB
	out := map[string]*notify.Message{}
	for name, v := range map[string]string{"escapes": grow, "wide": wide} {
		m := Message(k)
		m.Heading = v
		for i := 0; i < 20; i++ {
			m.Fields = append(m.Fields, notify.Field{Label: "字段", Value: v})
		}
		m.Note = v
		out[name] = m
	}
	m := Message(k)
	m.Link = link
	out["long link"] = m
	m = Message(k)
	for i := 0; i < 600; i++ {
		m.Mentions = append(m.Mentions, notify.Mention{Name: "负责人", Mobile: "139" + strings.Repeat("0", 8),
			IDs: ownerID(k, "0123456789abcdef0123456789abcdef")})
	}
	out["many mentions"] = m
	m = Message(k)
	for i := 0; i < 30; i++ {
		m.Digest = append(m.Digest, notify.DigestItem{Project: "商城后台 (mall-api)", Title: grow, Link: link, Level: "error", Count: i + 1})
	}
	m.Heading = "限流期间合并的 30 条告警"
	out["digest"] = m
	return out
}

// worded checks that a fix the kind gave is one of its Fixes, with its
// words.
func worded(t *testing.T, k *notify.Kind, f *notify.Fix) {
	t.Helper()
	if w, ok := k.Fixes[f.Code]; !ok || w != f.Words {
		t.Errorf("the fix %q is not worded in Kind.Fixes (%+v)", f.Code, f.Words)
	}
}

var param = regexp.MustCompile(`\{(\w+)\}`)

// params lists the {name} parameters of a text, sorted.
func params(s string) []string {
	var out []string
	for _, m := range param.FindAllStringSubmatch(s, -1) {
		out = append(out, m[1])
	}
	slices.Sort(out)
	return out
}
