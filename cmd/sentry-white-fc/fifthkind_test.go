package main

// A fifth robot kind, defined here and nowhere else: a generic JSON
// webhook. A registry listing it is all it takes for the document to
// accept its robots, for the relay to deliver to them within the kind's
// own budget, and for the conformance suite to check it like the vendors'
// kinds.

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/docstore"
	"github.com/sentry-white/sentry-white/internal/notifiers"
	"github.com/sentry-white/sentry-white/internal/notify"
	"github.com/sentry-white/sentry-white/internal/notify/notifytest"
	"github.com/sentry-white/sentry-white/internal/store"
)

const hookMaxBody = 8 << 10

var hookKind = &notify.Kind{
	Name: "webhook", Label: notify.Text{Zh: "通用 Webhook", En: "Generic webhook"},
	BaseEnv: "SENTRY_WHITE_WEBHOOK_API", DefaultBase: "https://hooks.example",
	Budget:     notify.Budget{Limits: []notify.Limit{{N: 30, Per: time.Minute}}, Block: time.Minute, DigestItems: 10},
	MaxBody:    hookMaxBody,
	Token:      notify.Input{Key: "access_token", Label: notify.Text{Zh: "令牌", En: "Token"}},
	Secret:     &notify.Input{Key: "secret", Label: notify.Text{Zh: "签名密钥", En: "Signing secret"}},
	OwnerID:    &notify.Input{Key: "webhook_user", Label: notify.Text{Zh: "Webhook 用户", En: "Webhook user"}},
	URLExample: "https://hooks.example/hooks/…",
	New:        func(base string, c *http.Client) notify.Sender { return &hookSender{base: base, client: c} },
	Requests: func(m *notify.Message) ([]json.RawMessage, error) {
		b, err := notify.Fit(hookMaxBody, m, hookBody)
		return []json.RawMessage{b}, err
	},
	ParseURL: func(u *url.URL) (string, bool) {
		t, ok := strings.CutPrefix(u.Path, "/hooks/")
		return t, ok && t != ""
	},
	Fixes: hookFixes,
	Explain: func(code int, _ string, _ bool) *notify.Fix {
		if c, ok := hookFix[code]; ok {
			return notify.NewFix(hookFixes, c, nil)
		}
		return nil
	},
}

// hookFix codes what to do about the webhook's answer codes; hookFixes
// words them.
var (
	hookFix   = map[int]string{401: "token", 403: "secret"}
	hookFixes = map[string]notify.Text{
		"token":  {Zh: "Webhook 令牌不认识：请重新复制", En: "the webhook token is unknown: copy it again"},
		"secret": {Zh: "签名密钥不匹配", En: "the signing secret does not match"},
	}
)

type hookSender struct {
	base   string
	client *http.Client
}

func hookBody(m *notify.Message) ([]byte, error) {
	var text strings.Builder
	text.WriteString(m.Heading + "\n")
	for _, f := range m.Fields {
		text.WriteString(f.Label + ": " + f.Value + "\n")
	}
	for _, it := range m.Digest {
		text.WriteString("- " + it.Title + "\n")
	}
	text.WriteString(m.Note + "\n" + m.Link + " " + m.Keyword)
	var users []string
	for _, p := range m.Mentions {
		users = append(users, p.ID("webhook")+p.Mobile)
	}
	return notify.EncodeJSON(map[string]any{"title": m.Title, "text": text.String(), "mention": users})
}

func (s *hookSender) Send(ctx context.Context, r *config.Robot, m *notify.Message) error {
	body, err := notify.Fit(hookMaxBody, m, hookBody)
	if err != nil {
		return &notify.Error{Robot: r.Name, Kind: r.Kind, Msg: err.Error()}
	}
	u := strings.TrimRight(s.base, "/") + "/hooks/" + url.PathEscape(r.AccessToken.Reveal())
	if sec := r.Secret.Reveal(); sec != "" {
		u += "?sig=" + hookSign(sec, body)
	}
	status, raw, err := notify.Post(ctx, s.client, r, u, body, r.AccessToken.Reveal(), r.Secret.Reveal())
	if err != nil {
		return err
	}
	var a struct{ Code *int }
	if e := notify.DecodeAnswer(r, status, raw, &a); e != nil {
		return e
	}
	e, ok := notify.CodeAnswer(r, status, a.Code, "code")
	if ok {
		return nil
	}
	e.RateLimited = e.Code == 429
	e.Fix = hookKind.Explain(e.Code, "", r.Secret != "")
	return e
}

func hookSign(secret string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write(body)
	return hex.EncodeToString(mac.Sum(nil))
}

// hookVendor is the kind's stand-in: known tokens (one signed), 30
// messages a minute, the body limit, faults, and the texts accepted.
type hookVendor struct {
	*httptest.Server
	mu       sync.Mutex
	secrets  map[string]string
	calls    int
	faults   []bool // hang?
	accepted []string
	mentions [][]string
}

func newHookVendor() *hookVendor {
	v := &hookVendor{secrets: map[string]string{"hook-token": "", "hook-signed": "hook-secret-0001"}}
	v.Server = httptest.NewServer(v)
	return v
}

func (v *hookVendor) URL() string { return v.Server.URL }
func (v *hookVendor) Robot(signed bool) *config.Robot {
	r := &config.Robot{ID: 1, Name: "hook", Kind: "webhook", AccessToken: "hook-token", Keyword: "详情"}
	if signed {
		r.AccessToken, r.Secret = "hook-signed", "hook-secret-0001"
	}
	return r
}
func (v *hookVendor) FailNext(hang bool) {
	v.mu.Lock()
	v.faults = append(v.faults, hang)
	v.mu.Unlock()
}
func (v *hookVendor) Accepted() []string {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]string(nil), v.accepted...)
}

func (v *hookVendor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	v.mu.Lock()
	defer v.mu.Unlock()
	answer := func(code int) { fmt.Fprintf(w, `{"code":%d}`, code) }
	if len(v.faults) > 0 {
		hang := v.faults[0]
		v.faults = v.faults[1:]
		if !hang {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		v.mu.Unlock()
		<-r.Context().Done()
		v.mu.Lock()
		return
	}
	secret, ok := v.secrets[strings.TrimPrefix(r.URL.Path, "/hooks/")]
	switch {
	case !ok:
		answer(401)
	case secret != "" && r.URL.Query().Get("sig") != hookSign(secret, body):
		answer(403)
	case len(body) > hookMaxBody:
		answer(413)
	case v.calls >= 30:
		answer(429)
	default:
		v.calls++
		var m struct {
			Title, Text string
			Mention     []string
		}
		if json.Unmarshal(body, &m) != nil {
			answer(400)
			return
		}
		v.accepted = append(v.accepted, m.Title+"\n"+m.Text)
		v.mentions = append(v.mentions, m.Mention)
		answer(0)
	}
}

func TestFifthKind(t *testing.T) {
	kinds := notifiers.New(append(notifiers.Default().All(), hookKind)...)

	t.Run("conformance", func(t *testing.T) {
		notifytest.Run(t, hookKind, func(*testing.T) notifytest.Vendor { return newHookVendor() })
	})

	t.Run("relay delivers to it", func(t *testing.T) {
		hv := newHookVendor()
		defer hv.Close()
		doc := &config.Document{Schema: 1, WebhookToken: "tok",
			Owners:   []config.Owner{{ID: 1, Name: "张三"}},
			Robots:   []config.Robot{{ID: 1, Name: "通用", Kind: "webhook", AccessToken: "hook-signed", Secret: "hook-secret-0001"}},
			Projects: []config.Project{{ID: 1, Name: "商城后台", Slug: "mall-api", OwnerIDs: []int64{1}, RobotIDs: []int64{1}}}}
		kinds.Document().SetOwnerID(&doc.Owners[0], "webhook", "zhang.san")
		dir := t.TempDir()
		if _, err := docstore.NewDocs(store.NewFile(dir), "api/", kinds.Document()).Save(context.Background(), doc, ""); err != nil {
			t.Fatal(err)
		}
		// The owner's id is stored under the member the kind names.
		raw, _ := config.Marshal(doc)
		if !bytes.Contains(raw, []byte(`"webhook_user": "zhang.san"`)) {
			t.Errorf("the owner's id is not stored under webhook_user:\n%s", raw)
		}
		env := map[string]string{"SENTRY_WHITE_WEBHOOK_API": hv.URL()}
		ctx, cancel := context.WithCancel(context.Background())
		ready, done := make(chan string, 1), make(chan error, 1)
		spool := t.TempDir()
		go func() {
			done <- run(ctx, kinds, []string{"-store", "file:" + dir, "-addr", "127.0.0.1:0", "-spool", spool},
				func(k string) string { return env[k] }, io.Discard, ready)
		}()
		defer func() { cancel(); <-done }()
		if code, body := post(t, "http://"+<-ready+"/?token=tok", payload(t, "legacy_saas.json")); code != 200 {
			t.Fatalf("webhook: %d %s", code, body)
		}
		got := hv.Accepted()
		if len(got) != 1 || !strings.Contains(got[0], "商城后台") || !strings.Contains(got[0], "详情") {
			t.Fatalf("accepted %q", got)
		}
		if m := hv.mentions[0]; len(m) != 1 || m[0] != "zhang.san" {
			t.Errorf("mentions %q", m)
		}
	})
}
