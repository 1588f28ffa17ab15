package configapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/docstore"
	"github.com/sentry-white/sentry-white/internal/notify"
	"github.com/sentry-white/sentry-white/internal/store"
)

// Store kinds in the settings.
const (
	StoreFolder = "folder"
	StoreOSS    = "oss"
	// StoreRelay edits the relay's own store through its admin API: the
	// relay URL below and the admin key set on the function.
	StoreRelay = "relay"
)

// Settings are the configurator's own choices, kept on this computer in
// settings.json (mode 0600): which store to edit, the relay's URL and admin
// key, and the UI language.
type Settings struct {
	StoreKind   string `json:"store_kind"` // folder, oss or relay
	Folder      string `json:"folder"`
	OSSEndpoint string `json:"oss_endpoint"`
	// OSSRegion is the bucket's region for V4 signatures; empty means the
	// one the endpoint names (or OSS_REGION).
	OSSRegion          string        `json:"oss_region"`
	OSSBucket          string        `json:"oss_bucket"`
	OSSPrefix          string        `json:"oss_prefix"`
	OSSAccessKeyID     string        `json:"oss_access_key_id"`
	OSSAccessKeySecret config.Secret `json:"oss_access_key_secret"`
	// RelayURL is the relay's public URL (the FC HTTP trigger), which the
	// webhook URL for Sentry is built from, and the store with StoreRelay.
	RelayURL string `json:"relay_url"`
	// RelayAdminKey is the relay's SENTRY_WHITE_ADMIN_KEY, for StoreRelay;
	// empty means the environment's.
	RelayAdminKey config.Secret `json:"relay_admin_key"`
	Language      string        `json:"language"` // zh or en
	// SentryTokens are Sentry auth tokens (project:read) by organization
	// (see sentryTokenKey); only this computer keeps them, never the
	// document the relay reads. Changed only by sentryprojects.go.
	SentryTokens map[string]config.Secret `json:"sentry_tokens,omitempty"`

	saved bool // read from (or written to) the settings file
}

// secretFields of the settings, by JSON name.
var settingsSecrets = secretsOf[Settings]("relay_admin_key")

func settingsDir(getenv func(string) string) (string, error) {
	if d := strings.TrimSpace(getenv("SENTRY_WHITE_CONFIG_DIR")); d != "" {
		return d, nil
	}
	d, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the folder for settings (set SENTRY_WHITE_CONFIG_DIR): %w", err)
	}
	return filepath.Join(d, "sentry-white"), nil
}

func settingsFile(dir string) string { return filepath.Join(dir, "settings.json") }

func readSettings(path string) (Settings, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Settings{}, nil
	}
	if err != nil {
		return Settings{}, fmt.Errorf("read settings: %w", err)
	}
	var st Settings
	if err := json.Unmarshal(b, &st); err != nil {
		return Settings{}, fmt.Errorf("the settings file %s is not valid JSON (%v); fix or delete it", path, err)
	}
	st.saved = true
	return st, nil
}

// writeSettings replaces the settings file atomically, readable only by
// its owner: it holds the OSS AccessKey secret and the relay's admin key.
func writeSettings(path string, st Settings) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("save settings: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".settings-*.json")
	if err != nil {
		return fmt.Errorf("save settings: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if err := tmp.Chmod(0o600); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		tmp.Close()
		return fmt.Errorf("save settings: %w", err)
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("save settings: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save settings: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save settings: %w", err)
	}
	return nil
}

// location is the store the settings name, and the environment to open it
// with: the settings' OSS endpoint, region and keys, or the relay's admin
// key, in place of the process's.
func (st Settings) location(base func(string) string) (store.Location, func(string) string, error) {
	if st.StoreKind == StoreRelay {
		loc, err := store.ParseLocation("relay+" + strings.TrimSpace(st.RelayURL))
		if err != nil {
			return store.Location{}, nil, err
		}
		env := func(k string) string {
			if v := strings.TrimSpace(st.RelayAdminKey.Reveal()); k == "SENTRY_WHITE_ADMIN_KEY" && v != "" {
				return v
			}
			return base(k)
		}
		return loc, env, nil
	}
	if st.StoreKind != StoreOSS {
		dir := strings.TrimSpace(st.Folder)
		if dir == "" {
			dir = store.DefaultDir
		}
		return store.Location{Scheme: "file", Dir: dir, Prefix: store.DefaultPrefix}, base, nil
	}
	prefix := strings.Trim(strings.TrimSpace(st.OSSPrefix), "/")
	if prefix == "" {
		prefix = strings.TrimSuffix(store.DefaultPrefix, "/")
	}
	loc, err := store.ParseLocation("oss://" + strings.TrimSpace(st.OSSBucket) + "/" + prefix)
	if err != nil {
		return store.Location{}, nil, err
	}
	env := func(k string) string {
		switch k {
		case "OSS_ENDPOINT":
			if v := strings.TrimSpace(st.OSSEndpoint); v != "" {
				return v
			}
		case "OSS_REGION":
			if v := strings.TrimSpace(st.OSSRegion); v != "" {
				return v
			}
			if st.OSSEndpoint != "" && store.RegionFromEndpoint(st.OSSEndpoint) != "" {
				return "" // the settings' endpoint names its region
			}
		case "ALIBABA_CLOUD_ACCESS_KEY_ID":
			if v := strings.TrimSpace(st.OSSAccessKeyID); v != "" {
				return v
			}
		case "ALIBABA_CLOUD_ACCESS_KEY_SECRET":
			if v := strings.TrimSpace(st.OSSAccessKeySecret.Reveal()); v != "" {
				return v
			}
		case "ALIBABA_CLOUD_SECURITY_TOKEN":
			if st.OSSAccessKeyID != "" {
				return "" // a token in the environment belongs to other keys
			}
		}
		return base(k)
	}
	return loc, env, nil
}

// validate names each settings field at fault.
// Endpoint and keys may be left empty when getenv has them.
func (st Settings) validate(getenv func(string) string) []*config.FieldError {
	var fes []*config.FieldError
	add := func(f, code string, params kv, format string, args ...any) {
		fes = append(fes, fieldErr(f, code, params, format, args...))
	}
	switch st.StoreKind {
	case StoreFolder:
		if strings.ContainsRune(st.Folder, 0) {
			add("folder", "folder_path", nil, "is not a folder path")
		}
	case StoreOSS:
		if strings.TrimSpace(st.OSSEndpoint) == "" && getenv("OSS_ENDPOINT") == "" {
			add("oss_endpoint", "oss_endpoint_required", nil, "is required: a custom domain bound to the bucket, or the region endpoint, e.g. https://oss-cn-hangzhou.aliyuncs.com")
		} else if u, err := url.Parse(withScheme(st.OSSEndpoint)); st.OSSEndpoint != "" && (err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https")) {
			add("oss_endpoint", "oss_endpoint", nil, "must be a custom domain bound to the bucket, or the region endpoint, e.g. https://oss-cn-hangzhou.aliyuncs.com")
		}
		ep := strings.TrimSpace(st.OSSEndpoint)
		if ep == "" {
			ep = getenv("OSS_ENDPOINT")
		}
		if r := strings.TrimSpace(st.OSSRegion); r != "" {
			if strings.Trim(strings.ToLower(r), "abcdefghijklmnopqrstuvwxyz0123456789-") != "" || !strings.Contains(r, "-") {
				add("oss_region", "oss_region", nil, "must be a region ID such as cn-hangzhou")
			}
		} else if ep != "" && store.RegionFromEndpoint(ep) == "" && getenv("OSS_REGION") == "" {
			add("oss_region", "oss_region_required", nil, "is required for this endpoint, which names no region: the bucket's region ID, e.g. cn-hangzhou")
		}
		if b := strings.TrimSpace(st.OSSBucket); b == "" {
			add("oss_bucket", "required", nil, "is required")
		} else if _, err := store.ParseLocation("oss://" + b + "/"); err != nil {
			add("oss_bucket", "oss_bucket", nil, "must be 3-63 lower-case letters, digits or hyphens")
		}
		if p := st.OSSPrefix; strings.Contains(p, "..") || strings.ContainsAny(p, "\\ \t") {
			add("oss_prefix", "oss_prefix", nil, "must be a folder such as api/")
		}
		if strings.TrimSpace(st.OSSAccessKeyID) == "" && getenv("ALIBABA_CLOUD_ACCESS_KEY_ID") == "" {
			add("oss_access_key_id", "required", nil, "is required")
		}
		if strings.TrimSpace(st.OSSAccessKeySecret.Reveal()) == "" && getenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET") == "" {
			add("oss_access_key_secret", "required", nil, "is required")
		}
	case StoreRelay:
		if strings.TrimSpace(st.RelayURL) == "" {
			add("relay_url", "relay_url_required", nil, "is required to edit the configuration through the relay: the FC trigger's public URL, e.g. https://….fcapp.run")
		} else if fe := relayURLProblem("relay_url", st.RelayURL); fe != nil {
			fes = append(fes, fe)
		}
		if k := strings.TrimSpace(st.RelayAdminKey.Reveal()); k == "" && strings.TrimSpace(getenv("SENTRY_WHITE_ADMIN_KEY")) == "" {
			add("relay_admin_key", "admin_key_required", nil, "is required: the SENTRY_WHITE_ADMIN_KEY set on the function")
		} else if k != "" && len(k) < store.MinAdminKey {
			add("relay_admin_key", "admin_key_short", kv{"min": store.MinAdminKey}, "must be at least %d characters, as on the function", store.MinAdminKey)
		}
	default:
		add("store_kind", "store_kind", kv{"value": st.StoreKind}, "%q is not a store kind; use folder, oss or relay", st.StoreKind)
	}
	if v := strings.TrimSpace(st.RelayURL); v != "" && st.StoreKind != StoreRelay {
		if u, err := url.Parse(v); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			add("relay_url", "relay_url", nil, "must be the relay's http(s) URL, e.g. the FC trigger's public URL https://….fcapp.run")
		}
	}
	if st.Language != "" && st.Language != "zh" && st.Language != "en" {
		add("language", "lang", nil, "must be zh or en")
	}
	return fes
}

// relayURLProblem checks a relay URL for the relay store kind as
// store.CheckRelayURL does, coded for the page.
func relayURLProblem(field, raw string) *config.FieldError {
	u, err := url.Parse(strings.TrimSpace(raw))
	switch {
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		return fieldErr(field, "relay_url_invalid", kv{"value": raw}, "%q is not the relay's URL, e.g. https://sentry-white-relay-xxxx.cn-hangzhou.fcapp.run", raw)
	case u.User != nil || u.RawQuery != "" || u.Fragment != "":
		return fieldErr(field, "relay_url_extra", nil, "the relay URL %q must have no user, query or fragment", u.Redacted())
	}
	if _, err := store.CheckRelayURL(raw); err != nil {
		return fieldErr(field, "relay_url_http", kv{"value": raw}, "%s", err.Error())
	}
	return nil
}

func withScheme(s string) string {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "://") {
		return "https://" + s
	}
	return s
}

// resolveStore opens the store named by the flag, else the environment,
// else the settings file, else the default folder.
func (s *Server) resolveStore() activeStore {
	if v := strings.TrimSpace(s.o.Store); v != "" {
		return s.openLocation(v, "flag", s.o.Getenv)
	}
	if v := strings.TrimSpace(s.o.Getenv("SENTRY_WHITE_STORE")); v != "" {
		return s.openLocation(v, "env", s.o.Getenv)
	}
	if s.set.saved {
		return s.openSettings(s.set, s.o.Getenv)
	}
	return s.openLocation(store.DefaultDir, "default", s.o.Getenv)
}

func (s *Server) openLocation(v, source string, getenv func(string) string) activeStore {
	loc, err := store.ParseLocation(v)
	if err != nil {
		return activeStore{loc: v, source: source, err: err}
	}
	return s.open(loc, source, getenv)
}

func (s *Server) openSettings(st Settings, getenv func(string) string) activeStore {
	loc, env, err := st.location(getenv)
	if err != nil {
		return activeStore{loc: st.StoreKind, source: "settings", err: err}
	}
	return s.open(loc, "settings", env)
}

func (s *Server) open(loc store.Location, source string, getenv func(string) string) activeStore {
	b, err := store.Open(loc, getenv)
	if err != nil {
		return activeStore{loc: loc.String(), source: source, err: err}
	}
	return activeStore{docs: docstore.NewDocs(b, loc.Prefix, s.docKinds), loc: loc.String(), source: source}
}

// effective is the saved settings, with the store fields describing the
// store in use when the settings do not choose it (a -store flag, the
// environment or the default), so that the page shows, and a save keeps,
// the store being edited.
func (s *Server) effective() (Settings, activeStore) {
	s.mu.Lock()
	st, act := s.set, s.active
	s.mu.Unlock()
	if act.source != "settings" {
		if loc, err := store.ParseLocation(act.loc); err == nil {
			switch loc.Scheme {
			case "file":
				st.StoreKind, st.Folder = StoreFolder, loc.Dir
			case "relay":
				st.StoreKind, st.RelayURL = StoreRelay, loc.URL
			default:
				st.StoreKind, st.OSSBucket, st.OSSPrefix = StoreOSS, loc.Bucket, loc.Prefix
				if st.OSSEndpoint == "" {
					st.OSSEndpoint = s.o.Getenv("OSS_ENDPOINT")
				}
			}
		}
	}
	if st.StoreKind == "" {
		st.StoreKind = StoreFolder
	}
	return st, act
}

// view is the settings as the API shows them, the secret masked.
func (s *Server) view() map[string]any {
	st, act := s.effective()
	m := maskedMap(st, settingsSecrets)
	delete(m, "sentry_tokens") // shown per organization, masked, by sentryprojects.go
	m["active_store"] = act.loc
	m["store_source"] = act.source
	// A -store flag or SENTRY_WHITE_STORE wins over the settings at every
	// start: a store chosen here is used now, and not after a restart.
	if v := strings.TrimSpace(s.o.Store); v != "" {
		m["store_override"] = map[string]any{"source": "flag", "store": v}
	} else if v := strings.TrimSpace(s.o.Getenv("SENTRY_WHITE_STORE")); v != "" {
		m["store_override"] = map[string]any{"source": "env", "store": v}
	}
	m["settings_file"] = s.settingsPath
	if act.err != nil {
		m["store_error"] = notify.Redact(act.err.Error())
	}
	return m
}

func (s *Server) getSettings(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.view())
}

// revealSettings answers the settings' secrets as saved, on request.
func (s *Server) revealSettings(w http.ResponseWriter, r *http.Request) {
	st, _ := s.effective()
	writeJSON(w, http.StatusOK, revealed(st, settingsSecrets))
}

// mergeSettings applies a request body to the saved settings: omitted
// fields and a masked secret keep their saved values.
func (s *Server) mergeSettings(w http.ResponseWriter, r *http.Request) (Settings, error) {
	body, err := readObject(w, r)
	if err != nil {
		return Settings{}, err
	}
	cur, _ := s.effective()
	for _, k := range []string{"active_store", "store_source", "settings_file", "store_error", "sentry_tokens"} {
		delete(body, k)
	}
	var next Settings
	if err := mergeInto(&next, &cur, body, true, settingsSecrets); err != nil {
		return Settings{}, err
	}
	if next.StoreKind == "" {
		next.StoreKind = StoreFolder
	}
	for _, p := range []*string{&next.Folder, &next.OSSEndpoint, &next.OSSRegion, &next.OSSBucket, &next.OSSPrefix, &next.OSSAccessKeyID, &next.RelayURL} {
		*p = strings.TrimSpace(*p)
	}
	next.OSSRegion = strings.ToLower(next.OSSRegion)
	next.OSSAccessKeySecret = config.Secret(strings.TrimSpace(next.OSSAccessKeySecret.Reveal()))
	next.RelayAdminKey = config.Secret(strings.TrimSpace(next.RelayAdminKey.Reveal()))
	if fes := next.validate(s.o.Getenv); len(fes) > 0 {
		return Settings{}, validation(fes)
	}
	return next, nil
}

func (s *Server) putSettings(w http.ResponseWriter, r *http.Request) {
	before, _ := s.effective()
	next, err := s.mergeSettings(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	next.saved = true
	if err := writeSettings(s.settingsPath, next); err != nil {
		s.fail(w, r, &apiError{Status: http.StatusInternalServerError, Code: "settings_write", Params: kv{"detail": err.Error()}, Msg: err.Error()})
		return
	}
	s.mu.Lock()
	s.set = next
	// Switch stores when the store fields changed, or when the store chosen
	// here could not be opened before; the next request uses it.
	if storeFieldsChanged(before, next) || (s.active.source == "settings" && s.active.err != nil) {
		s.active = s.openSettings(next, s.o.Getenv)
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, s.view())
}

func storeFieldsChanged(a, b Settings) bool {
	return a.StoreKind != b.StoreKind || a.Folder != b.Folder || a.OSSEndpoint != b.OSSEndpoint || a.OSSRegion != b.OSSRegion ||
		a.OSSBucket != b.OSSBucket || a.OSSPrefix != b.OSSPrefix || a.OSSAccessKeyID != b.OSSAccessKeyID ||
		a.OSSAccessKeySecret != b.OSSAccessKeySecret ||
		a.StoreKind == StoreRelay && (a.RelayURL != b.RelayURL || a.RelayAdminKey != b.RelayAdminKey)
}

// deleteSettings removes the settings file; the store reverts to the flag,
// the environment or the default folder.
func (s *Server) deleteSettings(w http.ResponseWriter, r *http.Request) {
	if err := os.Remove(s.settingsPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.fail(w, r, &apiError{Status: http.StatusInternalServerError, Code: "settings_write", Params: kv{"detail": err.Error()}, Msg: "remove settings: " + err.Error()})
		return
	}
	s.mu.Lock()
	s.set = Settings{}
	s.active = s.resolveStore()
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, s.view())
}

// testSettings opens the store the body describes (merged over the saved
// settings, not saved) and reads the document, answering in words.
func (s *Server) testSettings(w http.ResponseWriter, r *http.Request) {
	st, err := s.mergeSettings(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	loc, env, err := st.location(s.o.Getenv)
	if err != nil {
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "code": "location", "message": err.Error(), "params": kv{"detail": err.Error()}})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 20*time.Second)
	defer cancel()
	res := s.checkStore(ctx, loc, env)
	if res["ok"] != true {
		s.log.Warn("connection test failed", "store", res["store"], "code", res["code"], "message", res["message"])
	}
	writeJSON(w, http.StatusOK, res)
}

// checkStore reads the document at loc and says what happened: ok, code
// (the page words "test.<code>" with params) and the message in English.
func (s *Server) checkStore(ctx context.Context, loc store.Location, env func(string) string) map[string]any {
	params := kv{"store": loc.String()}
	res := map[string]any{"store": loc.String(), "params": params}
	b, err := store.Open(loc, env)
	if err != nil {
		params["detail"] = notify.Redact(err.Error())
		res["ok"], res["code"], res["message"] = false, "open", "the store cannot be opened: "+notify.Redact(err.Error())
		return res
	}
	conn := "connected"
	if r, ok := b.(*store.Relay); ok {
		// Through the relay: say which store it serves (this also checks
		// the admin key before the document is read).
		served, err := r.Info(ctx)
		if err != nil {
			params["detail"] = notify.Redact(err.Error())
			res["ok"], res["code"] = false, storeErrorCode(err)
			res["message"] = describeStoreError(err)
			return res
		}
		conn = "connected through the relay to " + served
		res["served"], params["served"] = served, served
	}
	d, _, err := docstore.NewDocs(b, loc.Prefix, s.docKinds).Load(ctx)
	switch {
	case err == nil:
		params["o"], params["w"], params["r"], params["p"] = len(d.Organizations), len(d.Owners), len(d.Robots), len(d.Projects)
		res["ok"], res["code"] = true, "ok"
		res["message"] = fmt.Sprintf("%s: the configuration has %d organizations, %d owners, %d robots and %d projects",
			conn, len(d.Organizations), len(d.Owners), len(d.Robots), len(d.Projects))
	case errors.Is(err, store.ErrNotFound):
		params["key"] = store.ConfigKey(loc.Prefix)
		res["ok"], res["code"] = true, "no_document"
		res["message"] = fmt.Sprintf("%s; there is no configuration document yet (%s), which is fine for a new setup: the first save creates it", conn, store.ConfigKey(loc.Prefix))
	case len(config.Fields(err)) > 0:
		fes := config.Fields(err)
		res["ok"], res["code"], res["field"] = false, "invalid_document", fes[0].Field
		res["message"] = conn + ", but the stored document is invalid: " + err.Error()
		res["fields"] = errorBody(validation(fes))["fields"]
	default:
		params["detail"] = notify.Redact(err.Error())
		res["ok"], res["code"] = false, storeErrorCode(err)
		res["message"] = describeStoreError(err)
	}
	return res
}

// storeErrorCode is the connection test's code for a failure (the page
// words it in either language; the message carries the details).
func storeErrorCode(err error) string {
	var re *store.RelayError
	relayStore := errors.As(err, &re) && re.RelayStore()
	switch {
	case errors.Is(err, store.ErrAdminKey):
		return "admin_key"
	case errors.Is(err, store.ErrNoAdminAPI):
		return "no_admin_api"
	case relayStore:
		return "relay_store"
	case errors.Is(err, store.ErrPublicEndpoint):
		return "public_endpoint"
	case errors.Is(err, store.ErrWrongRegion):
		return "wrong_region"
	case errors.Is(err, store.ErrUnreachable):
		if re != nil {
			return "relay_unreachable"
		}
		return "unreachable"
	case errors.Is(err, store.ErrCredentials):
		return "credentials"
	case errors.Is(err, store.ErrNoBucket):
		return "no_bucket"
	}
	return "error"
}

// describeStoreError says in words which step of reaching the store failed
// and how to fix it; the store's own text (with OSS's code and the fix for
// it) follows in parentheses.
func describeStoreError(err error) string {
	msg := notify.Redact(err.Error())
	switch storeErrorCode(err) {
	case "admin_key":
		return "the relay refused the admin key: use the SENTRY_WHITE_ADMIN_KEY set on the function, and check this computer's clock (" + msg + ")"
	case "no_admin_api":
		return "the relay has no admin API: set the environment variable SENTRY_WHITE_ADMIN_KEY on the function (the same key as here) and deploy this version of the relay (" + msg + ")"
	case "relay_store":
		return "the relay answered, but it cannot read or write its own store; fix the function's store as its GET / says (" + msg + ")"
	case "relay_unreachable":
		return "the relay cannot be reached: check the relay URL (the function's HTTP trigger) and this computer's network (" + msg + ")"
	case "public_endpoint":
		return "OSS does not let this account use the public endpoint (accounts that activated OSS since 2025-03-20): edit through the relay instead (store kind \"through the relay\"), or use a custom domain bound to the bucket as the endpoint (" + msg + ")"
	case "wrong_region":
		return "the bucket is in another region than the endpoint: use the bucket's region endpoint and region (" + msg + ")"
	case "unreachable":
		return "the OSS endpoint cannot be reached: check the endpoint and this computer's network (" + msg + ")"
	case "credentials":
		return "OSS refused the credentials or the call: " + msg
	case "no_bucket":
		return "the bucket does not exist at this endpoint: create it, or fix the bucket name or the endpoint's region (" + msg + ")"
	}
	if errors.Is(err, fs.ErrPermission) {
		return "the folder cannot be read or written: check its permissions (" + msg + ")"
	}
	return "the store cannot be read: " + msg
}
