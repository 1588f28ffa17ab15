package configapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/notify"
)

// relayCheckTimeout bounds the relay check: a cold start of the function
// takes a few seconds.
const relayCheckTimeout = 20 * time.Second

// relayClient asks the relay; tests may replace it.
var relayClient = &http.Client{Timeout: relayCheckTimeout,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// relayCheck answers POST /api/v1/relay-check: it asks the relay's GET
// /?token=… (from here: the page may talk to no other origin) whether it
// is deployed, which version of the document it serves (the store's ETag)
// and whether that is the version stored now. code is ok, degraded,
// failing (the relay answered, see its step and message), token_mismatch
// (the relay does not know this webhook token: it reads another store, or
// the saved document has not reached it), unreachable, not_relay (the URL
// answers, but not as a relay) or no_relay_url.
func (s *Server) relayCheck(w http.ResponseWriter, r *http.Request) {
	if _, err := readObject(w, r); err != nil {
		s.fail(w, r, err)
		return
	}
	d, tag, err := s.load(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.mu.Lock()
	relay := strings.TrimSpace(s.set.RelayURL)
	s.mu.Unlock()
	if relay == "" {
		s.fail(w, r, &apiError{Status: http.StatusUnprocessableEntity, Code: "no_relay_url",
			Msg: "enter the relay URL first (the function's public URL)"})
		return
	}
	u, err := url.Parse(relay)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		s.fail(w, r, validation([]*config.FieldError{fieldErr("relay_url", "relay_url", nil,
			"must be the relay's http(s) URL, e.g. the FC trigger's public URL https://….fcapp.run")}))
		return
	}
	shown := u.Redacted() // without the token, for the answer and the log
	out := map[string]any{"url": shown, "saved_version": outETag(tag)}
	if code, _ := reachWarning(relay); code != "" {
		out["warning_code"] = code
	}
	q := u.Query()
	if tok := d.WebhookToken.Reveal(); tok != "" {
		q.Set("token", tok)
	}
	u.RawQuery = q.Encode()
	ctx, cancel := context.WithTimeout(r.Context(), relayCheckTimeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	req.Header.Set("Accept", "application/json")
	resp, err := relayClient.Do(req)
	if err != nil {
		detail := notify.Scrub(notify.Redact(err.Error()), d.WebhookToken.Reveal())
		var ue *url.Error
		if errors.As(err, &ue) {
			detail = notify.Scrub(notify.Redact(ue.Err.Error()), d.WebhookToken.Reveal())
		}
		out["ok"], out["code"], out["detail"] = false, "unreachable", detail
		s.log.Info("relay check", "relay", shown, "code", "unreachable")
		writeJSON(w, http.StatusOK, out)
		return
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	out["http_status"] = resp.StatusCode
	var ans struct {
		Status   *string `json:"status"`
		Step     string  `json:"step"`
		Message  string  `json:"message"`
		Version  *string `json:"version"`
		Projects *int    `json:"projects"`
		LoadedAt string  `json:"loaded_at"`
		Error    string  `json:"error"`
		Delivery string  `json:"delivery"`
	}
	if json.Unmarshal(raw, &ans) != nil || ans.Status == nil {
		out["ok"], out["code"] = false, "not_relay"
		out["detail"] = fmt.Sprintf("HTTP %d, %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		writeJSON(w, http.StatusOK, out)
		return
	}
	out["status"], out["step"], out["message"] = *ans.Status, ans.Step, ans.Message
	for k, v := range map[string]string{"loaded_at": ans.LoadedAt, "error": ans.Error, "delivery": ans.Delivery} {
		if v != "" {
			out[k] = v
		}
	}
	if ans.Projects != nil {
		out["projects"] = *ans.Projects
	}
	code := *ans.Status // ok, degraded or failing
	switch {
	case ans.Version == nil && (code == "ok" || code == "degraded"):
		// The relay gives the details only to the webhook token it holds.
		code = "token_mismatch"
	case ans.Version != nil:
		out["version"] = *ans.Version
		out["matches"] = tag != "" && sameETag(*ans.Version, tag)
	}
	if code != "ok" && code != "degraded" && code != "failing" && code != "token_mismatch" {
		code = "not_relay"
	}
	out["ok"], out["code"] = code == "ok", code
	s.log.Info("relay check", "relay", shown, "code", code, "matches", out["matches"])
	writeJSON(w, http.StatusOK, out)
}

// recognize answers POST /api/v1/robots/recognize {"url"}: the robot kind
// whose webhook URL it is (each kind recognises its own), so the page can
// switch the form's kind as a URL is pasted without naming any kind.
func (s *Server) recognize(w http.ResponseWriter, r *http.Request) {
	body, err := readObject(w, r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var in string
	if raw, ok := body["url"]; !ok || json.Unmarshal(raw, &in) != nil {
		s.fail(w, r, badRequest("url", "url_body", nil, `send {"url": "…"}, a robot's webhook URL`))
		return
	}
	tok, kind, ok := s.tokenFromURL(in)
	out := map[string]any{"recognized": ok}
	if ok {
		out["kind"], out["token"] = kind, tok
	} else if strings.Contains(in, "://") || strings.Contains(in, "/") {
		out["code"] = "url_unknown"
	}
	writeJSON(w, http.StatusOK, out)
}
