// Package adminapi is the relay's admin API: with SENTRY_WHITE_ADMIN_KEY
// set on the relay, the configurator (store location relay+https://…)
// reads and writes the relay's own store through it, under the store's
// prefix only, so that a computer outside Aliyun needs no AccessKey and no
// public OSS endpoint. On Function Compute the calls use the function's
// role (the per-request keys FC passes in x-fc-access-key-*).
//
// Every request is signed by the client with HMAC-SHA256 keyed by the
// admin key over store.AdminStringToSign (method, canonical path and query,
// time, nonce, body hash, conditional headers). A request is refused with 401
// when its signature does not match (compared in constant time), when its
// time is more than store.AdminWindow away, when its body does not match
// its hash, or when its nonce was already used within the window. All but
// the body hash are checked before the body is read; bodies held at once
// are bounded (Options.MaxInFlight, 429 beyond).
//
// Endpoints, under store.AdminPathPrefix (/admin/v1/); keys are relative to
// the store's prefix:
//
//	GET    object?key=K   read (If-None-Match: 304), ETag in the answer
//	PUT    object?key=K   write; If-Match: ETAG, or If-None-Match: * to create only; 409 when stale
//	DELETE object?key=K   delete (204; a missing key too)
//	POST   append?key=K   append the body (the delivery log)
//	GET    list?prefix=P  {"keys": [...]}, sorted
//	GET    info           {"store": "..."}, which store the relay serves
//
// On Function Compute (Options.FC) the store calls use the function role's
// per-request keys; elsewhere x-fc-* headers are ignored.
package adminapi

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sentry-white/sentry-white/internal/nonce"
	"github.com/sentry-white/sentry-white/internal/notify"
	"github.com/sentry-white/sentry-white/internal/store"
)

// MaxBody bounds a request body (a document, or a delivery log append).
const MaxBody = 32 << 20

// DefaultMaxInFlight bounds the request bodies held in memory at once:
// one body of the largest size, or many small ones (a document is a few
// KiB). On FC's smallest instance (128 MB) that leaves room for the relay.
const DefaultMaxInFlight = MaxBody

// DefaultMaxNonces bounds the nonces remembered within the window.
const DefaultMaxNonces = 10000

// Options configure a Handler.
type Options struct {
	// Backend is the relay's own store; Prefix its key prefix (e.g. api/).
	Backend store.Backend
	Prefix  string
	// Key is the admin key (SENTRY_WHITE_ADMIN_KEY), at least
	// store.MinAdminKey characters.
	Key    string
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// FC trusts Function Compute's per-request role keys (x-fc-access-key-*
	// headers) for the store calls; only on Function Compute, where FC sets
	// them and clients cannot.
	FC bool
	// MaxNonces bounds the memory for nonces; 0 means DefaultMaxNonces.
	// When that many requests came within the window, further ones get
	// 429 until the oldest nonces expire.
	MaxNonces int
	// MaxInFlight bounds the bytes of request bodies held at once (each
	// request counts its Content-Length, or MaxBody when it sends none);
	// 0 means DefaultMaxInFlight. A signed request beyond it gets 429.
	MaxInFlight int64
}

// Handler serves the admin API.
type Handler struct {
	o        Options
	log      *slog.Logger
	nonces   *nonce.Set
	inflight *budget
}

// New returns the admin API over o.Backend. It fails when the key is too
// short to be safe.
func New(o Options) (*Handler, error) {
	o.Key = strings.TrimSpace(o.Key)
	if len(o.Key) < store.MinAdminKey {
		return nil, fmt.Errorf("SENTRY_WHITE_ADMIN_KEY is shorter than %d characters; use a random one, e.g. from: openssl rand -hex 24", store.MinAdminKey)
	}
	if o.Backend == nil {
		return nil, errors.New("adminapi: no store")
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxNonces <= 0 {
		o.MaxNonces = DefaultMaxNonces
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = DefaultMaxInFlight
	}
	return &Handler{o: o, log: o.Logger, nonces: nonce.NewSet(o.MaxNonces),
		inflight: &budget{max: o.MaxInFlight}}, nil
}

// Disabled answers every admin request 503 with reason (for a relay whose
// admin key is unusable), so the configurator says why instead of "no
// admin API".
func Disabled(reason string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusServiceUnavailable, map[string]any{"code": "disabled",
			"error": "the admin API is disabled: " + reason + " (see the function's log)"})
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set(store.AdminHeaderAPI, "v1")
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (h *Handler) refuse(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	level := slog.LevelInfo
	if status == http.StatusUnauthorized {
		level = slog.LevelWarn
	}
	h.log.Log(r.Context(), level, "admin request refused", "request_id", requestID(r), "method", r.Method,
		"path", r.URL.Path, "status", status, "code", code, "error", msg, "remote", r.RemoteAddr)
	writeJSON(w, status, map[string]any{"code": code, "error": msg})
}

func requestID(r *http.Request) string {
	for _, k := range []string{"x-fc-request-id", "X-Request-ID"} {
		if v := r.Header.Get(k); v != "" && len(v) <= 128 {
			return v
		}
	}
	return ""
}

// ServeHTTP authenticates the request, then serves it from the store.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op, ok := strings.CutPrefix(r.URL.Path, store.AdminPathPrefix)
	route := map[string]string{
		"GET object": "get", "PUT object": "put", "DELETE object": "delete",
		"POST append": "append", "GET list": "list", "GET info": "info",
	}[r.Method+" "+op]
	if !ok || route == "" {
		h.refuse(w, r, http.StatusNotFound, "no_such_call", fmt.Sprintf("no admin call %s %s", r.Method, r.URL.Path))
		return
	}
	body, release, err := h.authenticate(w, r)
	if err != nil {
		var ae *authError
		if errors.As(err, &ae) {
			if ae.status == http.StatusTooManyRequests {
				w.Header().Set("Retry-After", "60")
			}
			h.refuse(w, r, ae.status, ae.code, ae.msg)
		}
		return
	}
	defer release()
	ctx := r.Context()
	if h.o.FC {
		ctx = store.WithFCCredentials(r)
	}
	q := r.URL.Query()
	switch route {
	case "info":
		writeJSON(w, http.StatusOK, map[string]any{"store": h.o.Backend.String(), "prefix": h.o.Prefix})
	case "list":
		p := q.Get("prefix")
		if p != "" && !validKey(strings.TrimSuffix(p, "/")) {
			h.refuse(w, r, http.StatusBadRequest, "bad_key", fmt.Sprintf("prefix %q is not a relative key prefix such as v1/history/", p))
			return
		}
		keys, err := h.o.Backend.List(ctx, h.o.Prefix+p)
		if err != nil {
			h.storeError(w, r, "list", p, err)
			return
		}
		out := make([]string, 0, len(keys))
		for _, k := range keys {
			if rel, ok := strings.CutPrefix(k, h.o.Prefix); ok {
				out = append(out, rel)
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{"keys": out})
	default:
		key := q.Get("key")
		if !validKey(key) {
			h.refuse(w, r, http.StatusBadRequest, "bad_key", fmt.Sprintf("key %q is not a relative key such as v1/config.json", key))
			return
		}
		h.object(w, r, ctx, route, key, body)
	}
}

// object serves get, put, delete and append of one key.
func (h *Handler) object(w http.ResponseWriter, r *http.Request, ctx context.Context, op, key string, body []byte) {
	full := h.o.Prefix + key
	switch op {
	case "get":
		obj, err := h.o.Backend.Get(ctx, full, r.Header.Get("If-None-Match"))
		if errors.Is(err, store.ErrNotModified) {
			w.Header().Set(store.AdminHeaderAPI, "v1")
			w.Header().Set("ETag", obj.ETag)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		if err != nil {
			h.storeError(w, r, op, key, err)
			return
		}
		w.Header().Set(store.AdminHeaderAPI, "v1")
		w.Header().Set("ETag", obj.ETag)
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Length", strconv.Itoa(len(obj.Data)))
		_, _ = w.Write(obj.Data)
	case "put":
		var ifMatch *string
		switch inm := r.Header.Get("If-None-Match"); {
		case r.Header.Get("If-Match") != "":
			v := r.Header.Get("If-Match")
			ifMatch = &v
		case inm == "*":
			empty := ""
			ifMatch = &empty
		case inm != "":
			h.refuse(w, r, http.StatusBadRequest, "bad_condition", "a write takes If-Match: ETAG, or If-None-Match: * to create only")
			return
		}
		tag, err := h.o.Backend.Put(ctx, full, body, ifMatch)
		if err != nil {
			h.storeError(w, r, op, key, err)
			return
		}
		h.log.Info("admin write", "request_id", requestID(r), "op", op, "key", full, "bytes", len(body))
		w.Header().Set("ETag", tag)
		writeJSON(w, http.StatusOK, map[string]any{"etag": tag})
	case "delete":
		if err := h.o.Backend.Delete(ctx, full); err != nil && !errors.Is(err, store.ErrNotFound) {
			h.storeError(w, r, op, key, err)
			return
		}
		h.log.Info("admin write", "request_id", requestID(r), "op", op, "key", full)
		w.Header().Set(store.AdminHeaderAPI, "v1")
		w.WriteHeader(http.StatusNoContent)
	case "append":
		if err := appendTo(ctx, h.o.Backend, full, body); err != nil {
			h.storeError(w, r, op, key, err)
			return
		}
		w.Header().Set(store.AdminHeaderAPI, "v1")
		w.WriteHeader(http.StatusNoContent)
	}
}

// appendTo appends with the backend's Append, else by rewriting under
// compare-and-swap.
func appendTo(ctx context.Context, b store.Backend, key string, data []byte) error {
	if a, ok := b.(store.Appender); ok {
		return a.Append(ctx, key, data)
	}
	for range 5 {
		obj, err := b.Get(ctx, key, "")
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return err
		}
		etag := obj.ETag
		_, err = b.Put(ctx, key, append(obj.Data, data...), &etag)
		if !errors.Is(err, store.ErrConflict) {
			return err
		}
	}
	return fmt.Errorf("append %s: %w", key, store.ErrConflict)
}

// storeError answers a failed store call: 404, 409, or 502 naming the
// store's fault in its own words (which say how to fix it).
func (h *Handler) storeError(w http.ResponseWriter, r *http.Request, op, key string, err error) {
	msg := notify.Redact(err.Error())
	switch {
	case errors.Is(err, store.ErrNotFound):
		writeJSON(w, http.StatusNotFound, map[string]any{"code": "not_found", "error": msg})
		return
	case errors.Is(err, store.ErrConflict):
		writeJSON(w, http.StatusConflict, map[string]any{"code": "conflict", "error": msg})
		return
	}
	code := "store"
	switch {
	case errors.Is(err, store.ErrPublicEndpoint):
		code = "public_endpoint"
	case errors.Is(err, store.ErrWrongRegion):
		code = "wrong_region"
	case errors.Is(err, store.ErrCredentials):
		code = "credentials"
	case errors.Is(err, store.ErrNoBucket):
		code = "no_bucket"
	case errors.Is(err, store.ErrUnreachable):
		code = "unreachable"
	}
	h.log.Warn("admin call failed in the store", "request_id", requestID(r), "op", op, "key", key, "code", code, "error", msg)
	writeJSON(w, http.StatusBadGateway, map[string]any{"code": code, "error": "the relay's store " + h.o.Backend.String() + " failed: " + msg})
}

// validKey accepts a relative key: no leading slash, no empty, "." or ".."
// segment, no backslash or control character.
func validKey(k string) bool {
	if k == "" || len(k) > 1024 || strings.HasPrefix(k, "/") || strings.ContainsAny(k, "\\") {
		return false
	}
	for _, c := range k {
		if c < 0x20 || c == 0x7f {
			return false
		}
	}
	for _, part := range strings.Split(k, "/") {
		if part == "" || part == "." || part == ".." {
			return false
		}
	}
	return true
}

type authError struct {
	status int
	code   string
	msg    string
}

func (e *authError) Error() string { return e.msg }

func unauthorized(msg string) error {
	return &authError{status: http.StatusUnauthorized, code: "unauthorized", msg: msg}
}

// authenticate checks the request's signature, time, nonce and size and
// returns its body, with a release to call once the body is no longer
// needed. Everything the signature covers (method, path, time, nonce, the
// claimed body hash) and the announced size are checked before a byte of
// body is read, so a stranger's body is never read at all; the body is
// then read within its size and compared with the signed hash. The nonce
// is remembered only for a request whose signature matched (forged
// requests cannot fill the memory), and before its body is read (a replay
// is not read either). Bodies held at once are bounded by MaxInFlight.
func (h *Handler) authenticate(w http.ResponseWriter, r *http.Request) (body []byte, release func(), err error) {
	date, nv := r.Header.Get(store.AdminHeaderDate), r.Header.Get(store.AdminHeaderNonce)
	sum, sig := strings.ToLower(r.Header.Get(store.AdminHeaderContentSHA256)), strings.ToLower(r.Header.Get(store.AdminHeaderSignature))
	if date == "" || nv == "" || sum == "" || sig == "" {
		return nil, nil, unauthorized(fmt.Sprintf("the request is not signed: it needs %s, %s, %s and %s (use sentry-white -store relay+https://…, which signs with the admin key)",
			store.AdminHeaderDate, store.AdminHeaderNonce, store.AdminHeaderContentSHA256, store.AdminHeaderSignature))
	}
	if len(nv) < 16 || len(nv) > 64 || strings.Trim(nv, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != "" {
		return nil, nil, unauthorized("the nonce must be 16 to 64 letters and digits")
	}
	if len(sig) != 64 || len(sum) != 64 {
		return nil, nil, unauthorized("the signature and the body hash must be 64 hex digits (HMAC-SHA256, SHA-256)")
	}
	secs, err := strconv.ParseInt(date, 10, 64)
	if err != nil {
		return nil, nil, unauthorized(store.AdminHeaderDate + " must be the request time in Unix seconds")
	}
	now := h.o.Now()
	at := time.Unix(secs, 0)
	if skew := now.Sub(at); skew > store.AdminWindow || skew < -store.AdminWindow {
		return nil, nil, unauthorized(fmt.Sprintf("the request time is %s away from the relay's (at most %s): a replayed or delayed request, or this computer's clock is wrong",
			skew.Abs().Round(time.Second), store.AdminWindow))
	}
	want := store.AdminSign(h.o.Key, store.AdminStringToSign(r.Method, store.AdminCanonicalURI(r.URL), date, nv, sum,
		r.Header.Get("If-Match"), r.Header.Get("If-None-Match")))
	if !hmac.Equal([]byte(sig), []byte(want)) {
		return nil, nil, unauthorized("the signature does not match: the admin key differs from the function's SENTRY_WHITE_ADMIN_KEY, or the request was changed on the way")
	}
	switch h.nonces.Use(nv, at.Add(store.AdminWindow+time.Second), now) {
	case nonce.Replayed:
		return nil, nil, unauthorized("this request was already received (its nonce was used): a replayed request is refused")
	case nonce.Full:
		return nil, nil, busy(fmt.Sprintf("more than %d admin requests within %s; try again in a minute", h.o.MaxNonces, store.AdminWindow))
	}
	if r.ContentLength > MaxBody {
		return nil, nil, tooLarge()
	}
	size := r.ContentLength
	if size < 0 {
		size = MaxBody // length unknown (chunked): room for the most it may be
	}
	release, ok := h.inflight.reserve(size)
	if !ok {
		return nil, nil, busy(fmt.Sprintf("the relay already holds %d MiB of admin request bodies; try again in a minute", h.o.MaxInFlight>>20))
	}
	if r.ContentLength >= 0 {
		body = make([]byte, r.ContentLength)
		_, err = io.ReadFull(r.Body, body)
	} else {
		body, err = io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBody))
	}
	if err != nil {
		release()
		if errors.As(err, new(*http.MaxBytesError)) {
			return nil, nil, tooLarge()
		}
		return nil, nil, &authError{status: http.StatusBadRequest, code: "bad_body", msg: "reading the body: " + err.Error()}
	}
	if got := store.BodySHA256(body); !hmac.Equal([]byte(got), []byte(sum)) {
		release()
		return nil, nil, unauthorized("the body does not match its signed hash: it was changed on the way")
	}
	return body, release, nil
}

func tooLarge() error {
	return &authError{status: http.StatusRequestEntityTooLarge, code: "too_large", msg: fmt.Sprintf("the body is over %d MiB", MaxBody>>20)}
}

func busy(msg string) error {
	return &authError{status: http.StatusTooManyRequests, code: "busy", msg: msg}
}

// budget bounds the bytes of request bodies held at once.
type budget struct {
	mu   sync.Mutex
	used int64
	max  int64
}

// reserve takes n bytes of the budget, or reports false when they are not
// free; release gives them back.
func (b *budget) reserve(n int64) (release func(), ok bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.used+n > b.max {
		return nil, false
	}
	b.used += n
	var once sync.Once
	return func() {
		once.Do(func() {
			b.mu.Lock()
			b.used -= n
			b.mu.Unlock()
		})
	}, true
}
