package notify

import (
	"encoding/json"
	"net/http"
	"net/url"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
)

// Text is a label in the two languages of the configurator and messages.
type Text struct {
	Zh string `json:"zh"`
	En string `json:"en"`
}

// In returns the text in lang ("en", else Chinese).
func (t Text) In(lang string) string {
	if lang == "en" {
		return t.En
	}
	return t.Zh
}

// Limit is one rate limit of a robot API: N messages per sliding window.
type Limit struct {
	N   int           `json:"n"`
	Per time.Duration `json:"per_ns"`
}

// Budget is a robot kind's documented limits.
type Budget struct {
	Limits []Limit `json:"limits"`
	// Block is how long the robot refuses everything after a rate-limit
	// answer.
	Block time.Duration `json:"block_ns"`
	// DigestItems is how many alerts one digest message lists.
	DigestItems int `json:"digest_items"`
}

// Input describes one input of a robot or an owner for a kind, as the
// configurator shows it.
type Input struct {
	// Key is the JSON member ("access_token", "secret",
	// "<kind>_user_id").
	Key   string `json:"key"`
	Label Text   `json:"label"`
	Help  Text   `json:"help"`
	// Prefix is what a valid value starts with ("SEC"), if anything.
	Prefix string `json:"prefix,omitempty"`
	// WriteEmpty keeps an owner id member in the document even when it is
	// empty, as earlier versions wrote it.
	WriteEmpty bool `json:"-"`
}

// Kind describes one robot kind: everything the relay, the configurator
// and the page need to know of it. Each internal/notify/<kind> package
// exports one; the registry (internal/notifiers) lists them and is handed
// to whatever needs the kinds, and nothing else names a kind.
type Kind struct {
	// Name is the kind as a robot's "kind" member holds it.
	Name  string `json:"name"`
	Label Text   `json:"label"`
	// BaseEnv is the environment variable that overrides DefaultBase (tests
	// point it at a stand-in).
	BaseEnv     string `json:"base_env"`
	DefaultBase string `json:"default_base"`
	Budget      Budget `json:"budget"`
	// MaxBody is the vendor's limit on a request body, in bytes.
	MaxBody int `json:"max_body"`
	// Token is what the robot's access_token holds; Secret its signing
	// secret, nil when the kind has none.
	Token  Input  `json:"token"`
	Secret *Input `json:"secret,omitempty"`
	// Keyword tells whether the vendor checks a custom keyword.
	Keyword bool `json:"keyword"`
	// OwnerID is the owner member with a person's id for this kind, nil
	// when the kind mentions by mobile only; MentionsByMobile tells
	// whether it can @-mention by mobile number.
	OwnerID          *Input `json:"owner_id,omitempty"`
	MentionsByMobile bool   `json:"mentions_by_mobile"`
	// URLExample is what the vendor's webhook URL looks like.
	URLExample string `json:"url_example"`
	// Fixes words, by code, every fix the kind gives (Error.Fix from its
	// senders, Explain) in both languages; {name} is a parameter of the
	// fix. The configurator's page words the fixes of the kind's robots
	// from these (GET /api/v1/meta).
	Fixes map[string]Text `json:"fixes"`

	// New returns the kind's sender posting to base through client.
	New func(base string, client *http.Client) Sender `json:"-"`
	// Requests returns the request bodies a robot of the kind receives for
	// m, in order, unsigned (the configurator's preview).
	Requests func(m *Message) ([]json.RawMessage, error) `json:"-"`
	// ParseURL recognises the kind's webhook URL and returns the token in
	// it.
	ParseURL func(u *url.URL) (token string, ok bool) `json:"-"`
	// CheckRobot returns what is wrong with a robot of the kind, beyond a
	// token every robot needs; fields are relative ("secret").
	CheckRobot func(r *config.Robot) []*config.FieldError `json:"-"`
	// Explain says what to do about an answer code of the vendor's (and
	// its text) to a robot that signs its requests (signed) or not; nil
	// when it is not a configuration fault. The configurator explains with
	// it the failures recorded without a fix code (by earlier versions).
	Explain func(code int, msg string, signed bool) *Fix `json:"-"`
	// Cost is how many of the robot's messages m takes; nil means 1.
	Cost func(m *Message) int `json:"-"`
	// Size is how many bytes of MaxBody m takes as it is, before Fit
	// would shorten it (signed, where the signature is in the body); nil
	// when the kind cannot tell.
	Size func(m *Message) int `json:"-"`
}

// Fits reports whether m goes to a robot of k whole: no detail of it cut
// to fit the vendor's limit. A kind that cannot tell its size is assumed
// to take each byte of the message's text twice.
func (k *Kind) Fits(m *Message) bool {
	if k.Size != nil {
		return k.Size(m) <= k.MaxBody
	}
	n := len(m.Title) + len(m.Heading) + len(m.Link) + len(m.Note) + len(m.Keyword)
	for _, f := range m.Fields {
		n += len(f.Label) + len(f.Value) + len(f.Link) + 8
	}
	for _, it := range m.Digest {
		n += len(it.Title) + len(it.Link) + len(it.Project) + 16
	}
	return 2*n+512 <= k.MaxBody
}

// Messages returns how many messages of its budget m costs a robot of k.
func (k *Kind) Messages(m *Message) int {
	if k.Cost == nil {
		return 1
	}
	return max(k.Cost(m), 1)
}

// Rules is what the document layer needs of k.
func (k *Kind) Rules() config.KindRules {
	r := config.KindRules{Name: k.Name, CheckRobot: k.CheckRobot}
	if k.OwnerID != nil {
		r.OwnerIDKey, r.OwnerIDAlways = k.OwnerID.Key, k.OwnerID.WriteEmpty
	}
	return r
}
