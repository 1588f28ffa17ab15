package relay

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/notifiers"
	"github.com/sentry-white/sentry-white/internal/sentry"
)

// The requests of the integration's alert-rule-action UI component
// (contract §7: robot, mention, notes), which Sentry sends to the relay
// while someone edits an alert rule in Sentry:
//
//	GET  <uri of the robot select>?installationId=…&projectSlug=…[&query=…]
//	     Sentry-App-Signature: hex HMAC-SHA256(client secret, "")
//	     → 200 [{"label", "value", "default"}]: the robots of the current document
//	POST <uri of the settings>[?<the webhook URL's query>]
//	     {"fields": [{"name", "value"}], "installationId"}
//	     Sentry-App-Signature: hex HMAC-SHA256(client secret, body)
//	     → 200 {"message"}, or 400 {"message"} that Sentry shows in the
//	       rule editor, prefixed with the integration's name, and the rule
//	       is not saved
//
// Sentry builds both URLs from the integration's webhook URL: its scheme
// and host, the component's uri as the path; the select's query is
// replaced by Sentry's own parameters, the settings request keeps the
// webhook URL's query. So the webhook token travels in the uri's path
// (/sentry-app/<token>/robots, /sentry-app/<token>/settings, as the
// configurator's schema writes them); ?token= is read too. When an
// organization has a client secret, Sentry-App-Signature must verify
// against one, unless an organization without a client secret (one that
// does not require signatures) is configured, whose integration cannot
// sign: then the token alone lets the request in, as for webhooks.
const sentryAppPath = "/sentry-app/"

// maxSettingsBody bounds the settings request's body.
const maxSettingsBody = 64 << 10

// maxNotes bounds the notes of a rule, in characters.
const maxNotes = 500

// appMessage is the answer Sentry shows in the rule editor.
type appMessage struct {
	Message string `json:"message"`
}

// selectOption is one option of a select field, as Sentry reads them.
type selectOption struct {
	Label   string `json:"label"`
	Value   string `json:"value"`
	Default bool   `json:"default,omitempty"`
}

// sentryApp answers the component's requests; rest is the path after
// /sentry-app/: "<token>/robots", "<token>/settings", or without the token.
func (h *Handler) sentryApp(w http.ResponseWriter, r *http.Request, rest string) {
	rid := requestID(r)
	log := h.log.With("request_id", rid, "installation", r.URL.Query().Get("installationId"))
	pathToken, what, ok := strings.Cut(strings.Trim(rest, "/"), "/")
	if !ok {
		pathToken, what = "", pathToken
	}
	var body []byte
	switch {
	case what == "robots" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
	case what == "settings" && r.Method == http.MethodPost:
		if r.ContentLength > maxSettingsBody {
			writeJSON(w, http.StatusRequestEntityTooLarge, appMessage{Message: "the settings are over 64 KB"})
			return
		}
		var err error
		if body, err = io.ReadAll(io.LimitReader(r.Body, maxSettingsBody+1)); err != nil || len(body) > maxSettingsBody {
			writeJSON(w, http.StatusBadRequest, appMessage{Message: "the settings could not be read"})
			return
		}
	default:
		writeJSON(w, http.StatusNotFound, appMessage{Message: "not found: the integration's URIs are /sentry-app/<token>/robots (GET) and /sentry-app/<token>/settings (POST)"})
		return
	}
	x, err := h.o.Docs.Get(h.withCredentials(r))
	if err != nil {
		log.Warn("sentry app request refused: no configuration", "what", what, "error", describeStoreError(err))
		writeJSON(w, http.StatusServiceUnavailable, appMessage{Message: h.words("哨兵小白读不到配置，请稍后再试", "sentry-white cannot read its configuration; try again later")})
		return
	}
	if why := appAuth(x, r, pathToken, body); why != "" {
		log.Warn("sentry app request refused", "what", what, "status", http.StatusUnauthorized, "error", why)
		writeJSON(w, http.StatusUnauthorized, appMessage{Message: why})
		return
	}
	if what == "robots" {
		opts := robotOptions(x, h.o.Kinds, r.URL.Query().Get("projectSlug"), r.URL.Query().Get("query"), h.o.Render.Lang)
		log.Info("sentry app robots listed", "project", r.URL.Query().Get("projectSlug"), "robots", len(opts))
		writeJSON(w, http.StatusOK, opts)
		return
	}
	status, msg := h.checkSettings(x, body)
	log.Info("sentry app settings checked", "status", status, "message", msg)
	writeJSON(w, status, appMessage{Message: msg})
}

// appAuth says why a component request may not come in, or "".
func appAuth(x *config.Index, r *http.Request, pathToken string, body []byte) string {
	if want := x.Doc.WebhookToken.Reveal(); want != "" {
		got := pathToken
		if got == "" {
			got, _, _ = strings.Cut(queryValue(r.URL.RawQuery, "token"), "?")
		}
		switch {
		case got == "":
			return "the token is missing: paste the integration's schema from the configurator (Webhook page) into Sentry again"
		case subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1:
			return "the token is wrong: paste the integration's schema from the configurator (Webhook page) into Sentry again"
		}
	}
	sig := r.Header.Get("Sentry-App-Signature")
	secrets, unsigned := 0, false
	for i := range x.Doc.Organizations {
		o := &x.Doc.Organizations[i]
		if o.ClientSecret == "" {
			unsigned = unsigned || !o.RequireSignature
			continue
		}
		secrets++
		if sentry.VerifySignature(body, o.ClientSecret.Reveal(), sig) == nil {
			return ""
		}
	}
	if secrets == 0 || unsigned {
		return ""
	}
	if strings.TrimSpace(sig) == "" {
		return "the Sentry-App-Signature header is missing; the organization's client secret is set, so Sentry's requests must be signed"
	}
	return "the Sentry-App-Signature does not match: check the organization's client secret in the configurator"
}

// robotOptions are the robots of the current document as the robot select
// shows them: "name (kind)", by id; the first robot of the project Sentry
// names is the default. query filters by name or id.
func robotOptions(x *config.Index, kinds *notifiers.Registry, projectSlug, query, lang string) []selectOption {
	var def int64
	if ps := x.ProjectsBySlug(strings.TrimSpace(projectSlug)); len(ps) > 0 && len(ps[0].RobotIDs) > 0 {
		def = ps[0].RobotIDs[0]
	}
	q := strings.ToLower(strings.TrimSpace(query))
	out := []selectOption{}
	robots := slices.Clone(x.Doc.Robots)
	slices.SortFunc(robots, func(a, b config.Robot) int { return int(a.ID - b.ID) })
	for _, rb := range robots {
		id := strconv.FormatInt(rb.ID, 10)
		if q != "" && !strings.Contains(strings.ToLower(rb.Name), q) && id != q {
			continue
		}
		kind := rb.Kind
		if k := kinds.Lookup(rb.Kind); k != nil && k.Label.In(lang) != "" {
			kind = k.Label.In(lang)
		}
		out = append(out, selectOption{Label: fmt.Sprintf("%s (%s)", rb.Name, kind), Value: id, Default: rb.ID == def})
	}
	return out
}

// checkSettings checks the settings a rule is saved with: robot, a robot
// of the current document; mention, one of owners, oncall, all, none (or
// none given); notes, at most maxNotes characters. 400 with a message
// Sentry shows when they are not.
func (h *Handler) checkSettings(x *config.Index, body []byte) (int, string) {
	var req struct {
		Fields []struct {
			Name  string          `json:"name"`
			Value json.RawMessage `json:"value"`
		} `json:"fields"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		return http.StatusBadRequest, h.words("设置不是 Sentry 发送的格式", "the settings are not in the form Sentry sends")
	}
	vals := map[string]string{}
	for _, f := range req.Fields {
		var s string
		if json.Unmarshal(f.Value, &s) != nil {
			s = strings.Trim(string(f.Value), `"`) // a number
			if s == "null" {
				s = ""
			}
		}
		vals[f.Name] = strings.TrimSpace(s)
	}
	robotID := vals[sentry.SettingRobot]
	if robotID == "" {
		return http.StatusBadRequest, h.words("请选择机器人", "choose a robot")
	}
	id, err := strconv.ParseInt(robotID, 10, 64)
	rb := x.Robot(id)
	if err != nil || rb == nil {
		return http.StatusBadRequest, h.words(
			fmt.Sprintf("机器人 %s 不在哨兵小白的配置里：请重新选择，或先在配置器里添加它", clipped(robotID)),
			fmt.Sprintf("robot %s is not in sentry-white's configuration: choose another, or add it in the configurator first", clipped(robotID)))
	}
	mention := strings.ToLower(vals[sentry.SettingMention])
	switch mention {
	case "", sentry.MentionOwners, sentry.MentionOnCall, sentry.MentionAll, sentry.MentionNone:
	default:
		return http.StatusBadRequest, h.words(
			fmt.Sprintf("@ 谁只能是 owners、oncall、all 或 none，不能是 %s", clipped(mention)),
			fmt.Sprintf("mention must be owners, oncall, all or none, not %s", clipped(mention)))
	}
	if n := utf8.RuneCountInString(vals[sentry.SettingNotes]); n > maxNotes {
		return http.StatusBadRequest, h.words(fmt.Sprintf("备注最多 %d 个字符（现在 %d 个）", maxNotes, n),
			fmt.Sprintf("notes are at most %d characters (these are %d)", maxNotes, n))
	}
	who := map[string][2]string{
		"": {"项目负责人", "the project's owners"}, sentry.MentionOwners: {"项目负责人", "the project's owners"},
		sentry.MentionOnCall: {"值班人", "the person on call"}, sentry.MentionAll: {"所有人", "everyone"}, sentry.MentionNone: {"不 @ 任何人", "nobody"},
	}[mention]
	return http.StatusOK, h.words(fmt.Sprintf("告警将发到「%s」，@ %s", rb.Name, who[0]), fmt.Sprintf("alerts go to %s, mentioning %s", rb.Name, who[1]))
}

// words picks the relay's message language.
func (h *Handler) words(zh, en string) string {
	if h.o.Render.Lang == "en" {
		return en
	}
	return zh
}

// clipped shows at most 40 characters of a value a user typed.
func clipped(s string) string {
	if r := []rune(s); len(r) > 40 {
		return strconv.Quote(string(r[:40]) + "…")
	}
	return strconv.Quote(s)
}
