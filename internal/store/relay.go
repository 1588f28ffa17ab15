package store

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The admin API: a relay started with SENTRY_WHITE_ADMIN_KEY offers its
// store to the configurator under AdminPathPrefix (package adminapi serves
// it), so that a computer outside Aliyun needs neither an AccessKey nor a
// public OSS endpoint. Keys on the wire are relative to the relay's store
// prefix. Every request is signed with HMAC-SHA256 keyed by the admin key
// over AdminStringToSign; the key itself never travels.
const (
	AdminPathPrefix = "/admin/v1/"
	// AdminHeaderDate is the request time in Unix seconds.
	AdminHeaderDate = "X-Sentry-White-Date"
	// AdminHeaderNonce is a random value used once (16 to 64 letters and
	// digits).
	AdminHeaderNonce = "X-Sentry-White-Nonce"
	// AdminHeaderContentSHA256 is the hex SHA-256 of the request body.
	AdminHeaderContentSHA256 = "X-Sentry-White-Content-Sha256"
	// AdminHeaderSignature is the hex HMAC-SHA256 of AdminStringToSign.
	AdminHeaderSignature = "X-Sentry-White-Signature"
	// AdminHeaderAPI marks every answer of the admin API (a 404 without it
	// means the relay has no admin API).
	AdminHeaderAPI = "X-Sentry-White-Admin"
	// AdminWindow is how far a request's time may be from the relay's.
	AdminWindow = 5 * time.Minute
	// MinAdminKey is the shortest admin key accepted.
	MinAdminKey = 16
	// adminScheme names the signature version in the string to sign.
	adminScheme = "SW1-HMAC-SHA256"
)

// Errors of the relay backend; test with errors.Is.
var (
	// ErrAdminKey: the relay refused the request's signature (wrong admin
	// key, clock off, replayed request).
	ErrAdminKey = errors.New("admin key refused")
	// ErrNoAdminAPI: the relay answers, but has no admin API
	// (SENTRY_WHITE_ADMIN_KEY is not set on it, or it is an older version).
	ErrNoAdminAPI = errors.New("no admin API")
)

// AdminStringToSign is what an admin request's signature covers: the
// method, the canonical request URI (AdminCanonicalURI), the time, the
// nonce, the body's hash and the conditional headers.
func AdminStringToSign(method, canonicalURI, date, nonce, bodySHA256, ifMatch, ifNoneMatch string) string {
	return strings.Join([]string{adminScheme, method, canonicalURI, date, nonce, bodySHA256, ifMatch, ifNoneMatch}, "\n")
}

// AdminCanonicalURI is the path and query of u in the form both sides sign,
// whatever escaping a gateway applied on the way: the unescaped path, then
// "?" and the query parameters sorted by key, percent-encoded as
// application/x-www-form-urlencoded (url.Values.Encode), when there are any.
func AdminCanonicalURI(u *url.URL) string {
	q := u.Query().Encode()
	if q == "" {
		return u.Path
	}
	return u.Path + "?" + q
}

// AdminSign returns the hex HMAC-SHA256 of s keyed by key.
func AdminSign(key, s string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write([]byte(s))
	return hex.EncodeToString(m.Sum(nil))
}

// BodySHA256 is the hex SHA-256 of a request body.
func BodySHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// CheckRelayURL validates the relay's base URL for a relay+ location:
// https, or http for a loopback address only (the document holds robot
// secrets), with no credentials, query or fragment.
func CheckRelayURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("%q is not the relay's URL, e.g. https://sentry-white-relay-xxxx.cn-hangzhou.fcapp.run", raw)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("the relay URL %q must have no user, query or fragment", u.Redacted())
	}
	if u.Scheme == "http" && !isLoopbackHost(u.Hostname()) {
		return nil, fmt.Errorf("the relay URL %q is plain http: use https (the configuration holds robot secrets); http is for a relay on this computer only", raw)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

func isLoopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// Relay is a Backend on a relay's admin API. Its keys are those of the
// relay's store seen under DefaultPrefix ("api/v1/config.json" is the
// document whatever the relay's own prefix). It is safe for concurrent use;
// the admin key never appears in its errors.
type Relay struct {
	base   *url.URL
	key    string
	http   *http.Client
	prefix string
	// Now is the clock requests are dated with; nil means time.Now.
	Now func() time.Time
}

var _ Backend = (*Relay)(nil)
var _ Appender = (*Relay)(nil)

// DefaultRelayTimeout bounds one admin call, cold start of the function
// included.
const DefaultRelayTimeout = 30 * time.Second

// NewRelay returns a backend on the relay at base (its HTTP trigger URL)
// signing with key. It sends nothing.
func NewRelay(base, key string) (*Relay, error) {
	u, err := CheckRelayURL(base)
	if err != nil {
		return nil, err
	}
	if len(strings.TrimSpace(key)) < MinAdminKey {
		return nil, fmt.Errorf("the admin key is shorter than %d characters: use the SENTRY_WHITE_ADMIN_KEY set on the function (e.g. made with: openssl rand -hex 24)", MinAdminKey)
	}
	return &Relay{
		base:   u,
		key:    strings.TrimSpace(key),
		prefix: DefaultPrefix,
		http: &http.Client{
			Timeout: DefaultRelayTimeout,
			// A signed request is never re-sent elsewhere.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}, nil
}

// String names the relay, never the key.
func (r *Relay) String() string { return "relay+" + r.base.String() }

// URL is the relay's base URL.
func (r *Relay) URL() string { return r.base.String() }

func (r *Relay) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

// rel turns a backend key (under DefaultPrefix) into the relay's relative
// key.
func (r *Relay) rel(op, key string) (string, error) {
	k, ok := strings.CutPrefix(key, r.prefix)
	if !ok || k == "" {
		return "", &RelayError{Op: op, Key: key, Msg: "the key is outside the relay's store (" + r.prefix + "…)"}
	}
	return k, nil
}

// RelayError is a failed admin call. Its text says which step failed, in
// the relay's words when it answered; it never holds the admin key.
type RelayError struct {
	Op     string // get, put, list, delete, append
	Key    string
	Status int    // HTTP status when the relay answered
	Code   string // the admin API's code, e.g. unauthorized, credentials
	Msg    string
	Kind   error // ErrAdminKey, ErrNoAdminAPI, ErrUnreachable, ErrNotFound, ErrConflict, or a store kind of the relay's store
	Hint   string
}

func (e *RelayError) Error() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "relay %s %s: ", e.Op, e.Key)
	if e.Kind != nil {
		sb.WriteString(e.Kind.Error())
	} else {
		sb.WriteString("failed")
	}
	if e.Status != 0 {
		fmt.Fprintf(&sb, " (HTTP %d)", e.Status)
	}
	if e.Msg != "" {
		sb.WriteString(": " + e.Msg)
	}
	if e.Hint != "" {
		sb.WriteString("; " + e.Hint)
	}
	return sb.String()
}

func (e *RelayError) Unwrap() error { return e.Kind }

// RelayStore reports whether err is the relay's own store failing (as
// opposed to reaching the relay).
func (e *RelayError) RelayStore() bool { return e.Status == http.StatusBadGateway }

// adminAnswer is the JSON an admin call answers with.
type adminAnswer struct {
	Error string   `json:"error"`
	Code  string   `json:"code"`
	ETag  string   `json:"etag"`
	Keys  []string `json:"keys"`
	Store string   `json:"store"`
}

// call sends one signed admin request and returns the answer's status,
// headers and body; statuses other than 2xx and 304 come back as errors.
func (r *Relay) call(ctx context.Context, op, method, path string, q url.Values, key string, body []byte, hdr map[string]string) (int, http.Header, []byte, error) {
	u := *r.base
	u.Path = r.base.Path + AdminPathPrefix + path
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, &RelayError{Op: op, Key: key, Msg: err.Error()}
	}
	var nb [16]byte
	_, _ = rand.Read(nb[:])
	nonce := hex.EncodeToString(nb[:])
	date := strconv.FormatInt(r.now().Unix(), 10)
	sum := BodySHA256(body)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	req.Header.Set(AdminHeaderDate, date)
	req.Header.Set(AdminHeaderNonce, nonce)
	req.Header.Set(AdminHeaderContentSHA256, sum)
	req.Header.Set(AdminHeaderSignature, AdminSign(r.key, AdminStringToSign(method, AdminCanonicalURI(req.URL), date, nonce, sum,
		req.Header.Get("If-Match"), req.Header.Get("If-None-Match"))))
	req.Header.Set("User-Agent", "sentry-white")
	if len(body) > 0 {
		req.Header.Set("Content-Type", "application/octet-stream")
	}
	resp, err := r.http.Do(req)
	if err != nil {
		kind := ErrUnreachable
		if errors.Is(err, context.Canceled) {
			kind = nil
		}
		return 0, nil, nil, &RelayError{Op: op, Key: key, Kind: kind, Msg: r.netCause(err),
			Hint: "check the relay URL (the function's HTTP trigger) and this computer's network"}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxObject+1))
	if err != nil {
		return 0, nil, nil, &RelayError{Op: op, Key: key, Kind: ErrUnreachable, Msg: "reading the answer: " + r.netCause(err)}
	}
	if len(data) > maxObject {
		return 0, nil, nil, &RelayError{Op: op, Key: key, Msg: fmt.Sprintf("the answer is over %d MiB", maxObject>>20)}
	}
	if resp.StatusCode < 300 || resp.StatusCode == http.StatusNotModified {
		return resp.StatusCode, resp.Header, data, nil
	}
	return resp.StatusCode, resp.Header, data, r.answerError(op, key, resp, data)
}

// netCause is a transport error without the request URL.
func (r *Relay) netCause(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return strings.ReplaceAll(err.Error(), r.key, "***")
}

// answerError explains a refusal of the relay.
func (r *Relay) answerError(op, key string, resp *http.Response, data []byte) error {
	e := &RelayError{Op: op, Key: key, Status: resp.StatusCode}
	var a adminAnswer
	_ = json.Unmarshal(data, &a)
	e.Code, e.Msg = a.Code, strings.ReplaceAll(a.Error, r.key, "***")
	if resp.Header.Get(AdminHeaderAPI) == "" {
		// Not the admin API: an old relay, a relay without the key, or
		// something else at that URL.
		e.Kind = ErrNoAdminAPI
		e.Msg = ""
		switch {
		case resp.StatusCode >= 300 && resp.StatusCode < 400:
			e.Hint = fmt.Sprintf("the relay URL redirects to %q; use the final URL", resp.Header.Get("Location"))
		case resp.StatusCode == http.StatusNotFound:
			e.Hint = fmt.Sprintf("the relay at %s has no admin API: set the environment variable SENTRY_WHITE_ADMIN_KEY on the function (the same key as here) and deploy this version of the relay", r.base)
		case resp.StatusCode == http.StatusMethodNotAllowed || resp.StatusCode == http.StatusForbidden:
			e.Hint = "the function's HTTP trigger refused the request: let it allow GET, POST, PUT and DELETE (deploy/s.yaml), without authentication"
		default:
			e.Hint = fmt.Sprintf("%s did not answer as a sentry-white relay: check the relay URL", r.base)
		}
		return e
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		e.Kind = ErrAdminKey
		e.Hint = "use the SENTRY_WHITE_ADMIN_KEY set on the function, and check this computer's clock"
	case resp.StatusCode == http.StatusNotFound:
		e.Kind = ErrNotFound
	case resp.StatusCode == http.StatusConflict:
		e.Kind = ErrConflict
	case resp.StatusCode == http.StatusBadGateway:
		e.Kind = map[string]error{"credentials": ErrCredentials, "no_bucket": ErrNoBucket, "unreachable": ErrUnreachable,
			"public_endpoint": ErrPublicEndpoint, "wrong_region": ErrWrongRegion}[a.Code]
		e.Hint = "the relay reached, but its own store failed; its GET / says the same"
	case resp.StatusCode == http.StatusServiceUnavailable:
		e.Kind = ErrNoAdminAPI
	}
	return e
}

// Get reads key; with ifNoneMatch equal to the current ETag it returns
// ErrNotModified.
func (r *Relay) Get(ctx context.Context, key, ifNoneMatch string) (Object, error) {
	k, err := r.rel("get", key)
	if err != nil {
		return Object{}, err
	}
	hdr := map[string]string{}
	if ifNoneMatch != "" {
		hdr["If-None-Match"] = ifNoneMatch
	}
	status, h, data, err := r.call(ctx, "get", http.MethodGet, "object", url.Values{"key": {k}}, key, nil, hdr)
	if err != nil {
		return Object{}, err
	}
	if status == http.StatusNotModified {
		tag := h.Get("ETag")
		if tag == "" {
			tag = ifNoneMatch
		}
		return Object{ETag: tag}, ErrNotModified
	}
	return Object{Data: data, ETag: h.Get("ETag")}, nil
}

// Put writes key; ifMatch nil writes unconditionally, "" creates only, any
// other value must be the current ETag (else ErrConflict).
func (r *Relay) Put(ctx context.Context, key string, data []byte, ifMatch *string) (string, error) {
	k, err := r.rel("put", key)
	if err != nil {
		return "", err
	}
	hdr := map[string]string{}
	switch {
	case ifMatch == nil:
	case *ifMatch == "":
		hdr["If-None-Match"] = "*"
	default:
		hdr["If-Match"] = *ifMatch
	}
	_, h, body, err := r.call(ctx, "put", http.MethodPut, "object", url.Values{"key": {k}}, key, data, hdr)
	if err != nil {
		return "", err
	}
	if tag := h.Get("ETag"); tag != "" {
		return tag, nil
	}
	var a adminAnswer
	_ = json.Unmarshal(body, &a)
	return a.ETag, nil
}

// List returns the keys under prefix, sorted.
func (r *Relay) List(ctx context.Context, prefix string) ([]string, error) {
	p, ok := strings.CutPrefix(prefix, r.prefix)
	if !ok {
		if strings.HasPrefix(r.prefix, prefix) {
			p = "" // a prefix above the store's: everything in it
		} else {
			return nil, nil
		}
	}
	_, _, body, err := r.call(ctx, "list", http.MethodGet, "list", url.Values{"prefix": {p}}, prefix, nil, nil)
	if err != nil {
		return nil, err
	}
	var a adminAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		return nil, &RelayError{Op: "list", Key: prefix, Msg: "the relay's answer is not a key list: " + err.Error()}
	}
	keys := make([]string, 0, len(a.Keys))
	for _, k := range a.Keys {
		keys = append(keys, r.prefix+k)
	}
	return keys, nil
}

// Delete removes key; a missing key is not an error.
func (r *Relay) Delete(ctx context.Context, key string) error {
	k, err := r.rel("delete", key)
	if err != nil {
		return err
	}
	_, _, _, err = r.call(ctx, "delete", http.MethodDelete, "object", url.Values{"key": {k}}, key, nil, nil)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// Append adds data at the end of key, creating it when missing (the relay
// appends in its own store).
func (r *Relay) Append(ctx context.Context, key string, data []byte) error {
	k, err := r.rel("append", key)
	if err != nil {
		return err
	}
	_, _, _, err = r.call(ctx, "append", http.MethodPost, "append", url.Values{"key": {k}}, key, data, nil)
	return err
}

// Info asks the relay which store it serves (e.g. "oss://bucket/api/ at
// https://oss-cn-hangzhou-internal.aliyuncs.com, region cn-hangzhou").
func (r *Relay) Info(ctx context.Context) (string, error) {
	_, _, body, err := r.call(ctx, "info", http.MethodGet, "info", nil, "", nil, nil)
	if err != nil {
		return "", err
	}
	var a adminAnswer
	_ = json.Unmarshal(body, &a)
	return a.Store, nil
}
