// Package actlink makes and checks the links an alert carries to act on its
// Sentry issue from the chat (resolve, ignore for an hour, take it), and the
// form tokens of the relay's confirm page.
//
// A link is a capability, not a credential: it names an organization and a
// project of the document, a Sentry issue, an action and an expiry, signed
// with HMAC-SHA256. It carries no Sentry token; whoever opens it gets a
// confirm page, and only that page's form acts.
//
// The signing key of an organization's links is derived from the
// document's action_key when one is stored, else from the organization's
// api_token: a document written by hand with only relay_url and api_token
// has working links at once, without the relay ever writing the document
// (its role may only read it). Storing an action_key (the configurator's
// rotate) changes every organization's key, which invalidates every link
// sent before; until then, changing an organization's api_token does.
package actlink

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
)

// The actions a link can name.
const (
	Resolve = "resolve" // PUT {"status":"resolved"}
	Ignore  = "ignore"  // PUT {"status":"ignored","statusDetails":{"ignoreDuration":60}}
	Take    = "take"    // PUT {"assignedTo":…}: the chosen owner's sentry_user
)

// Actions lists the actions in the order a message shows them.
var Actions = []string{Resolve, Ignore, Take}

// IgnoreMinutes is how long the ignore action ignores an issue.
const IgnoreMinutes = 60

// Lifetime is how long a link works after the alert was rendered.
const Lifetime = 7 * 24 * time.Hour

// PathPrefix is where the relay serves links.
const PathPrefix = "/act/"

// Why a link is refused.
var (
	ErrMalformed = errors.New("not an action link of this relay")
	ErrSignature = errors.New("the link's signature does not match")
	ErrExpired   = errors.New("the link has expired")
)

// Link is what a link names.
type Link struct {
	Org     int64  // organizations[].id
	Project int64  // projects[].id
	Issue   string // Sentry's numeric issue id
	Action  string // Resolve, Ignore or Take
	Expires time.Time
}

// Key returns the key that signs org's links in d, or nil when org serves
// no links (it has no api_token).
func Key(d *config.Document, org *config.Organization) []byte {
	if org == nil || org.APIToken == "" {
		return nil
	}
	base := d.ActionKey.Reveal()
	if base == "" {
		base = org.APIToken.Reveal()
	}
	mac := hmac.New(sha256.New, []byte(base))
	mac.Write([]byte("sentry-white action links v1\x00organization\x00"))
	mac.Write(strconv.AppendInt(nil, org.ID, 10))
	return mac.Sum(nil)
}

// Enabled reports whether messages of org's projects carry links: the
// document has a relay_url and org an api_token.
func Enabled(d *config.Document, org *config.Organization) bool {
	return d != nil && strings.TrimSpace(d.RelayURL) != "" && org != nil && org.APIToken != ""
}

// ValidIssue reports whether id is a Sentry issue id a link can name: the
// numeric id, as Sentry's API takes it.
func ValidIssue(id string) bool {
	if id == "" || len(id) > 20 || id[0] == '0' {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			return false
		}
	}
	return true
}

func validAction(a string) bool { return a == Resolve || a == Ignore || a == Take }

// body is what a link's signature covers.
func (l Link) body() string {
	return strconv.FormatInt(l.Org, 10) + "/" + strconv.FormatInt(l.Project, 10) + "/" + l.Issue + "/" + l.Action + "/" +
		strconv.FormatInt(l.Expires.Unix(), 10)
}

func sum(key []byte, domain, msg string) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(domain))
	mac.Write([]byte{0})
	mac.Write([]byte(msg))
	return mac.Sum(nil)
}

var b64 = base64.RawURLEncoding

// Path returns the link's path on the relay, signed with key:
// /act/<org>/<project>/<issue>/<action>/<expires>/<signature>.
func (l Link) Path(key []byte) string {
	body := l.body()
	return PathPrefix + body + "/" + b64.EncodeToString(sum(key, "link", body))
}

// URL returns the link on the relay at relayURL.
func (l Link) URL(relayURL string, key []byte) string {
	return strings.TrimRight(strings.TrimSpace(relayURL), "/") + l.Path(key)
}

// Parse reads a link's path (from PathPrefix on) without checking its
// signature: the organization it names says which key checks it. Anything
// that is not a link's shape is ErrMalformed.
func Parse(path string) (Link, []byte, error) {
	rest, ok := strings.CutPrefix(path, PathPrefix)
	if !ok {
		return Link{}, nil, ErrMalformed
	}
	parts := strings.Split(strings.TrimSuffix(rest, "/"), "/")
	if len(parts) != 6 {
		return Link{}, nil, ErrMalformed
	}
	org, err1 := strconv.ParseInt(parts[0], 10, 64)
	prj, err2 := strconv.ParseInt(parts[1], 10, 64)
	exp, err3 := strconv.ParseInt(parts[4], 10, 64)
	sig, err4 := b64.DecodeString(parts[5])
	l := Link{Org: org, Project: prj, Issue: parts[2], Action: parts[3], Expires: time.Unix(exp, 0).UTC()}
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil || org <= 0 || prj <= 0 || exp <= 0 ||
		!ValidIssue(l.Issue) || !validAction(l.Action) || len(sig) != sha256.Size || l.body() != strings.Join(parts[:5], "/") {
		return Link{}, nil, ErrMalformed
	}
	return l, sig, nil
}

// Check verifies a parsed link's signature with key, then its expiry:
// ErrSignature for a link altered, forged, or signed with a key rotated
// since; ErrExpired for one past its expiry.
func (l Link) Check(sig, key []byte, now time.Time) error {
	if len(key) == 0 || !hmac.Equal(sig, sum(key, "link", l.body())) {
		return ErrSignature
	}
	if !now.Before(l.Expires) {
		return ErrExpired
	}
	return nil
}

// FormTokenAge is how long a confirm page's form acts after it was shown.
const FormTokenAge = 2 * time.Hour

// FormToken returns the token of a confirm page's form for l, shown at
// issued: bound to the link (every member and its expiry) and to a nonce
// of the page, signed with the organization's key. A page of another site
// cannot read it, so it cannot post the form.
func FormToken(key []byte, l Link, issued time.Time) string {
	var n [12]byte
	_, _ = rand.Read(n[:])
	return formToken(key, l, issued.Unix(), b64.EncodeToString(n[:]))
}

func formToken(key []byte, l Link, issued int64, nonce string) string {
	ts := strconv.FormatInt(issued, 10)
	return ts + "." + nonce + "." + b64.EncodeToString(sum(key, "form", l.body()+"\x00"+ts+"\x00"+nonce))
}

// Why a form token is refused.
var (
	ErrNoFormToken  = errors.New("the form carries no token of its page")
	ErrFormToken    = errors.New("the form's token is not its page's")
	ErrFormTokenOld = errors.New("the page was opened too long ago")
)

// CheckFormToken verifies a form token for l: made with key for this
// very link, at most FormTokenAge old (and not from the future).
func CheckFormToken(key []byte, l Link, token string, now time.Time) error {
	if token == "" {
		return ErrNoFormToken
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return ErrFormToken
	}
	issued, err := strconv.ParseInt(parts[0], 10, 64)
	if err != nil || len(key) == 0 || !hmac.Equal([]byte(token), []byte(formToken(key, l, issued, parts[1]))) {
		return ErrFormToken
	}
	at := time.Unix(issued, 0)
	if now.Sub(at) > FormTokenAge || at.Sub(now) > time.Minute {
		return ErrFormTokenOld
	}
	return nil
}

// NewKey returns a random action key for the document (43 characters of
// base64url, 256 bits).
func NewKey() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return b64.EncodeToString(b[:])
}
