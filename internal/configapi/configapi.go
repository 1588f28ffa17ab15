// Package configapi serves the configurator's JSON API under /api/v1/: the
// configuration document's organizations, owners, robots and projects, the
// local settings (which store to edit), import and export, the history of
// versions, test alerts that go through the relay's own routing,
// rendering and delivery code, and the relay's delivery history, whose
// failed messages can be re-sent.
//
// Every request must carry the bearer token and name the loopback address
// served in its Host header, so neither another user's page nor a DNS
// rebinding attack can read or change the configuration; requests that
// change state must also be JSON, which a plain HTML form cannot send.
package configapi

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/docstore"
	"github.com/sentry-white/sentry-white/internal/notifiers"
	"github.com/sentry-white/sentry-white/internal/notify"
	"github.com/sentry-white/sentry-white/internal/store"
)

// Body limits: an entity or a settings change is small; a whole document
// may hold hundreds of projects.
const (
	maxBody     = 1 << 20
	maxDocument = 4 << 20
)

// Options configure a Server.
type Options struct {
	// Addr is the loopback address served (host:port). Requests whose Host
	// is not 127.0.0.1, localhost or [::1] at this port get 403.
	Addr string
	// Token is the bearer token every request must carry.
	Token string
	// Getenv reads the environment; nil means os.Getenv. It supplies
	// SENTRY_WHITE_STORE, SENTRY_WHITE_CONFIG_DIR, the OSS keys and the
	// robot API base URLs (each kind's BaseEnv).
	Getenv func(string) string
	// Store is the store location from the -store flag; "" means the
	// environment (SENTRY_WHITE_STORE), else the settings file, else
	// store.DefaultDir.
	Store string
	// ConfigDir holds settings.json; "" means SENTRY_WHITE_CONFIG_DIR, else
	// os.UserConfigDir()/sentry-white.
	ConfigDir string
	// Client posts test alerts; nil means notify.NewHTTPClient().
	Client *http.Client
	// Kinds are the robot kinds the configurator offers and the document's
	// robots may be of (required; notifiers.Default in the program).
	Kinds *notifiers.Registry
	// Senders by robot kind; nil means Kinds.Senders(Getenv, Client).
	Senders map[string]notify.Sender
	// Policy bounds a test alert's retries; zero means two attempts.
	Policy notify.Policy
	Logger *slog.Logger
}

// Server is the configurator's API. It is safe for concurrent use.
type Server struct {
	o            Options
	log          *slog.Logger
	mux          *http.ServeMux
	hosts        map[string]bool
	origins      map[string]bool
	senders      map[string]notify.Sender
	kinds        *notifiers.Registry
	docKinds     config.Kinds // kinds.Document()
	settingsPath string

	mu     sync.Mutex
	set    Settings    // as saved in the settings file
	active activeStore // the store being edited
}

// activeStore is the store in use and where its location came from.
type activeStore struct {
	docs   *docstore.Docs // nil when it could not be opened
	loc    string         // e.g. file:./sentry-white-data
	source string         // flag, env, settings or default
	err    error          // why it could not be opened
}

// New returns a Server. It reads the settings file and opens the store; a
// store that cannot be opened is reported by the API (and can be fixed on
// the settings page) rather than failing here.
func New(o Options) (*Server, error) {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Token == "" {
		return nil, errors.New("configapi: a token is required")
	}
	if o.Kinds == nil {
		return nil, errors.New("configapi: no robot kinds")
	}
	host, port, err := net.SplitHostPort(o.Addr)
	if err != nil {
		return nil, fmt.Errorf("configapi: address %q: %w", o.Addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("configapi: address %q is not a loopback address", o.Addr)
	}
	if o.Policy.Attempts == 0 {
		o.Policy = notify.Policy{Attempts: 2, Base: 300 * time.Millisecond, Max: time.Second}
	}
	if o.Client == nil {
		o.Client = notify.NewHTTPClient()
	}
	if o.Senders == nil {
		o.Senders = o.Kinds.Senders(o.Getenv, o.Client)
	}
	s := &Server{o: o, log: o.Logger, senders: o.Senders, kinds: o.Kinds, docKinds: o.Kinds.Document(),
		hosts: map[string]bool{}, origins: map[string]bool{}}
	for _, h := range []string{"127.0.0.1", "localhost", "[::1]"} {
		s.hosts[h+":"+port] = true
		s.origins["http://"+h+":"+port] = true
	}
	dir := o.ConfigDir
	if dir == "" {
		dir, err = settingsDir(o.Getenv)
		if err != nil {
			return nil, err
		}
	}
	s.settingsPath = settingsFile(dir)
	if s.set, err = readSettings(s.settingsPath); err != nil {
		return nil, err
	}
	s.active = s.resolveStore()
	if s.active.err != nil {
		s.log.Warn("store not opened", "store", s.active.loc, "error", notify.Redact(s.active.err.Error()))
	}
	s.routes()
	return s, nil
}

// StoreLocation describes the store in use, for the start-up line.
func (s *Server) StoreLocation() (loc, source string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active.loc, s.active.source
}

// HostAllowed reports whether host (a request's Host header) names the
// loopback address served.
func (s *Server) HostAllowed(host string) bool { return s.hosts[strings.ToLower(host)] }

// Guard refuses requests for other hosts (DNS rebinding) before h sees
// them. The API applies it itself; use it for the static files.
func (s *Server) Guard(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.HostAllowed(r.Host) {
			writeJSON(w, http.StatusForbidden, s.hostError(r.Host))
			return
		}
		h.ServeHTTP(w, r)
	})
}

func (s *Server) hostError(host string) map[string]any {
	_, port, _ := net.SplitHostPort(s.o.Addr)
	return errorBody(&apiError{Code: "host", Params: kv{"host": host, "port": port},
		Msg: fmt.Sprintf("host %q is not this configurator's address; open http://127.0.0.1:%s/ on this computer", host, port)})
}

// ServeHTTP checks the host, the origin, the token and the content type,
// then serves the API.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if !s.HostAllowed(r.Host) {
		writeJSON(w, http.StatusForbidden, s.hostError(r.Host))
		return
	}
	if o := r.Header.Get("Origin"); o != "" && !s.origins[strings.ToLower(o)] {
		writeJSON(w, http.StatusForbidden, errorBody(&apiError{Code: "origin", Params: kv{"origin": o},
			Msg: fmt.Sprintf("requests from %q are not allowed; use the configurator's own page", o)}))
		return
	}
	if !s.tokenOK(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="sentry-white"`)
		writeJSON(w, http.StatusUnauthorized, errorBody(&apiError{Code: "token",
			Msg: "missing or wrong token: open the URL sentry-white printed (it carries ?token=…), or send Authorization: Bearer <token>"}))
		return
	}
	if !contentTypeOK(r) {
		writeJSON(w, http.StatusUnsupportedMediaType, errorBody(&apiError{Code: "content_type",
			Msg: "send the request body as JSON with Content-Type: application/json"}))
		return
	}
	s.mux.ServeHTTP(w, r)
}

func (s *Server) tokenOK(r *http.Request) bool {
	auth := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), []byte(s.o.Token)) == 1
}

// contentTypeOK requires JSON on requests that change state. DELETE carries
// no body (and, like PUT and PATCH, is never sent cross-site without a
// preflight); it is refused only when it names another type.
func contentTypeOK(r *http.Request) bool {
	ct := r.Header.Get("Content-Type")
	switch r.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch:
	case http.MethodDelete:
		if ct == "" {
			return true
		}
	default:
		return true
	}
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

func (s *Server) routes() {
	m := http.NewServeMux()
	s.mux = m
	registerEntity(s, organizations)
	registerEntity(s, owners)
	registerEntity(s, robots)
	registerEntity(s, projects)
	s.scheduleRoutes()
	s.escalationRoutes()
	m.HandleFunc("GET /api/v1/snapshot", s.snapshot)
	m.HandleFunc("GET /api/v1/meta", s.meta)
	m.HandleFunc("GET /api/v1/settings", s.getSettings)
	m.HandleFunc("GET /api/v1/settings/secrets", s.revealSettings)
	m.HandleFunc("PUT /api/v1/settings", s.putSettings)
	m.HandleFunc("POST /api/v1/settings", s.putSettings)
	m.HandleFunc("PATCH /api/v1/settings", s.putSettings)
	m.HandleFunc("DELETE /api/v1/settings", s.deleteSettings)
	m.HandleFunc("POST /api/v1/settings/test", s.testSettings)
	m.HandleFunc("GET /api/v1/document", s.exportDocument)
	m.HandleFunc("PUT /api/v1/document", s.importDocument)
	m.HandleFunc("POST /api/v1/document/diff", s.diffDocument)
	m.HandleFunc("GET /api/v1/history", s.history)
	m.HandleFunc("GET /api/v1/history/{id}", s.historyDiff)
	m.HandleFunc("POST /api/v1/history/{id}/restore", s.restore)
	m.HandleFunc("GET /api/v1/webhook", s.webhook)
	m.HandleFunc("POST /api/v1/webhook-token/regenerate", s.regenerateToken)
	m.HandleFunc("GET /api/v1/action-links", s.getActionLinks)
	m.HandleFunc("PUT /api/v1/action-links", s.putActionLinks)
	m.HandleFunc("POST /api/v1/action-links/rotate-key", s.rotateActionKey)
	m.HandleFunc("POST /api/v1/relay-check", s.relayCheck)
	m.HandleFunc("POST /api/v1/robots/recognize", s.recognize)
	m.HandleFunc("POST /api/v1/robots/{id}/test", s.testRobot)
	m.HandleFunc("POST /api/v1/projects/{id}/test", s.testProject)
	m.HandleFunc("POST /api/v1/projects/{id}/preview", s.preview)
	m.HandleFunc("GET /api/v1/deliveries", s.listDeliveries)
	m.HandleFunc("GET /api/v1/deliveries/{id}", s.getDelivery)
	m.HandleFunc("POST /api/v1/deliveries/{id}/resend", s.resendDelivery)
	m.HandleFunc("GET /api/v1/original", s.getOriginal)
	m.HandleFunc("POST /api/v1/original/import", s.importOriginal)
	m.HandleFunc("GET /api/v1/organizations/{id}/sentry-token", s.getSentryToken)
	m.HandleFunc("PUT /api/v1/organizations/{id}/sentry-token", s.putSentryToken)
	m.HandleFunc("DELETE /api/v1/organizations/{id}/sentry-token", s.deleteSentryToken)
	m.HandleFunc("GET /api/v1/organizations/{id}/sentry-projects", s.listSentryProjects)
	m.HandleFunc("POST /api/v1/organizations/{id}/sentry-projects", s.addSentryProjects)
	m.HandleFunc("GET /api/v1/organizations/{id}/sentry-members", s.listSentryMembers)
	m.HandleFunc("POST /api/v1/organizations/{id}/api-token/check", s.checkAPIToken)
	m.HandleFunc("GET /api/v1/sentry-integration", s.sentryIntegration)
	m.HandleFunc("/api/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, errorBody(&apiError{Code: "no_endpoint", Params: kv{"method": r.Method, "path": r.URL.Path},
			Msg: fmt.Sprintf("no API endpoint %s %s", r.Method, r.URL.Path)}))
	})
}

// docs returns the store being edited, or an API error saying why there is
// none.
func (s *Server) docs() (*docstore.Docs, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.active.docs == nil {
		detail := notify.Redact(errText(s.active.err))
		return nil, &apiError{Status: http.StatusServiceUnavailable, Code: "store_closed", Params: kv{"store": s.active.loc, "detail": detail},
			Msg: fmt.Sprintf("the store %s cannot be opened: %s; fix it on the settings page", s.active.loc, detail)}
	}
	return s.active.docs, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// readBody reads a request body of at most limit bytes; an empty body
// reads as nil.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, &apiError{Status: http.StatusRequestEntityTooLarge, Code: "too_large", Params: kv{"limit": limit},
				Msg: fmt.Sprintf("the body is over %d bytes", limit)}
		}
		return nil, badRequest("", "body_unreadable", kv{"detail": err.Error()}, "the body could not be read: %v", err)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, nil
	}
	return b, nil
}

// readObject reads a JSON object body; an empty body is an empty object.
func readObject(w http.ResponseWriter, r *http.Request) (map[string]json.RawMessage, error) {
	raw, err := readBody(w, r, maxBody)
	if err != nil {
		return nil, err
	}
	obj := map[string]json.RawMessage{}
	if raw == nil {
		return obj, nil
	}
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, badRequest("", "body_object", kv{"detail": jsonError(err)}, "the body must be a JSON object: %s", jsonError(err))
	}
	if obj == nil { // the body was null
		obj = map[string]json.RawMessage{}
	}
	return obj, nil
}

func jsonError(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field != "" {
			return fmt.Sprintf("%s: got a JSON %s, want %s", te.Field, te.Value, te.Type)
		}
		return fmt.Sprintf("got a JSON %s", te.Value)
	}
	return err.Error()
}

// ETags: the store's ETag is sent as is; "no document yet" is sent as
// `"new"` so that a client can still send it back in If-Match.
const newETag = `"new"`

func outETag(tag string) string {
	if tag == "" {
		return newETag
	}
	return tag
}

// ifMatch returns the ETag the client based its write on, if it sent one.
func ifMatch(r *http.Request) (string, bool) {
	v := strings.TrimSpace(r.Header.Get("If-Match"))
	if v == "" || v == "*" {
		return "", false
	}
	v = strings.TrimPrefix(v, "W/")
	if v == newETag {
		return "", true
	}
	return v, true
}

func sameETag(a, b string) bool {
	return strings.Trim(a, `"`) == strings.Trim(b, `"`)
}

// load reads the document (empty when none is stored yet).
func (s *Server) load(ctx context.Context) (*config.Document, string, error) {
	docs, err := s.docs()
	if err != nil {
		return nil, "", err
	}
	d, tag, err := docs.LoadOrEmpty(ctx)
	if err != nil {
		return nil, "", storeError(err)
	}
	return d, tag, nil
}

// mutate loads the document, lets change edit it, validates and saves it
// with compare-and-swap, and answers status with change's result. With
// If-Match the write must be based on that version (else 409); without, a
// concurrent write is retried on a fresh copy.
//
// change may fill the note that says what the save did (the history shows
// it); the document is never written without a webhook token.
func (s *Server) mutate(w http.ResponseWriter, r *http.Request, status int, change func(d *config.Document, n *saveNote) (any, error)) {
	docs, err := s.docs()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	want, pinned := ifMatch(r)
	for attempt := 0; attempt < 5; attempt++ {
		d, tag, err := docs.LoadOrEmpty(r.Context())
		if err != nil {
			s.fail(w, r, storeError(err))
			return
		}
		if pinned && !sameETag(want, tag) {
			s.fail(w, r, errStale)
			return
		}
		var n saveNote
		had := secretValues(d)
		res, err := change(d, &n)
		if err == nil {
			if fes := maskedSecrets(had, d); len(fes) > 0 {
				err = validation(fes)
			}
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		keepToken(d, nil)
		newTag, err := docs.Save(r.Context(), d, tag)
		if errors.Is(err, store.ErrConflict) && !pinned {
			continue
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if n.Action != "" {
			s.note(r.Context(), docs, d, n)
		}
		w.Header().Set("ETag", outETag(newTag))
		writeJSON(w, status, res)
		return
	}
	s.fail(w, r, &apiError{Status: http.StatusConflict, Code: "busy", Msg: "the configuration kept changing while saving; try again"})
}

// newToken returns 32 random hex digits.
func newToken() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// NewToken returns a random token for the API (32 hex digits).
func NewToken() string { return newToken() }

// webhookURL adds ?token= to the relay URL: <relay>/?token=…, the path the
// relay serves webhooks on (a relay URL without a path gets its /).
func webhookURL(relay, token string) string {
	relay = strings.TrimSpace(relay)
	if relay == "" {
		return ""
	}
	u, err := url.Parse(relay)
	if err != nil {
		return ""
	}
	if u.Path == "" {
		u.Path = "/"
	}
	if token != "" {
		q := u.Query()
		q.Set("token", token)
		u.RawQuery = q.Encode()
	}
	return u.String()
}
