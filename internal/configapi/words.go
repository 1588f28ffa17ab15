package configapi

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/notify"
	"github.com/sentry-white/sentry-white/internal/route"
	"github.com/sentry-white/sentry-white/internal/sentry"
)

// Codes on the wire: every message the API sends to the page carries a
// stable code and its parameters beside the English text, and the page
// words the code in the reader's language (web/static/i18n.js: "err.<code>"
// for errors and field errors, "fix.<code>" for what to do about a robot's
// refusal, "drop.<code>" and "note.<code>" for alerts that were not sent).
// TestEveryCodeHasWords checks that each code emitted here and in
// internal/config has a Chinese and an English text.

// fixTexts codes the explanations the robot kinds give in English
// (notify.Error.Fix, notify.Kind.Explain), so the page can say them in
// either language. A kind's English label in a text reads {kind} here (no
// kind is named outside its package and the registry). A text missing here
// still reaches the page, as is, with the code "text";
// TestFixTextsAreCoded finds such texts.
var fixTexts = map[string]string{
	"check the robot's access_token":                                                                                                                                         "check_token",
	"the robot rejected the signing time; check this machine's clock":                                                                                                        "clock",
	"the robot's 加签 secret does not match: copy the SEC… secret from the robot's security settings again":                                                                    "sign_mismatch",
	"the robot's keyword must appear in every message; set it to 详情 or change the robot":                                                                                     "keyword",
	"the robot's IP allow-list does not include this server; use keyword or 加签 security instead":                                                                             "ip_allowlist",
	"the bot's IP allow-list does not include this server; use keyword or signing security instead":                                                                          "ip_allowlist",
	"the robot's security settings refused the message (keyword, 加签 or IP)":                                                                                                  "security",
	"the robot's access_token is wrong or the robot was deleted; copy it from the robot's webhook URL again":                                                                 "token_wrong",
	"the robot's webhook key is wrong or the robot was removed: copy the key= value from the robot's webhook URL again":                                                      "token_wrong",
	"the bot's hook token is wrong or the bot was removed: copy the part after /hook/ from the bot's webhook URL again":                                                      "token_wrong",
	"the robot is disabled; enable it in the group's robot settings":                                                                                                         "robot_disabled",
	"the group was dissolved; create a robot in another group":                                                                                                               "group_dissolved",
	"the robot is no longer in the group; add it again":                                                                                                                      "robot_removed",
	"{kind} allows 20 messages a minute per robot and then blocks it for 10 minutes":                                                                                         "rate_limited",
	"{kind} allows 20 messages a minute per robot; the rest wait for the next minute":                                                                                        "rate_limited",
	"{kind} allows 5 messages a second and 100 a minute per bot":                                                                                                             "rate_limited",
	"the message is longer than {kind}'s 20000 bytes":                                                                                                                        "too_long",
	"{kind} refused a parameter or the message is too long (markdown 4096 bytes, text 2048)":                                                                                 "too_long",
	"{kind} refused the request as malformed or larger than 20 KB":                                                                                                           "too_long",
	"{kind} flagged the content or a link as unsafe":                                                                                                                         "unsafe_content",
	"{kind} refused the request format":                                                                                                                                      "bad_format",
	"{kind} refused the message type":                                                                                                                                        "bad_format",
	"{kind} received an empty message":                                                                                                                                       "empty_message",
	"the bot refused the signature or its time: copy the signing secret (签名校验) from the bot's security settings again, and check this machine's clock":                       "sign_or_clock",
	"free disk space or fix the spool folder's permissions (SENTRY_WHITE_SPOOL); Sentry may send it again":                                                                   "spool",
	"the robot rejected the signing time; check this machine's clock ({kind} accepts one hour either way)":                                                                   "clock",
	"the robot has 加签 (signing) on, but no secret is set here: it needs its SEC… secret; copy it from the robot's security settings into the robot's secret":                 "secret_missing",
	"the bot has signature verification (签名校验) on, but no secret is set here: it needs its signing secret; copy it from the bot's security settings into the robot's secret": "secret_missing",
	"the group's message push (消息推送) for this robot was turned off: re-enable it in the group's robot settings, or add a new robot and paste its webhook URL":                "push_off",
	"the robot is no longer in the group: add the robot back to the group, or add a new robot and paste its webhook URL":                                                     "robot_removed",
	"the message is larger than {kind} accepts (markdown 4096 bytes, text 2048 bytes)":                                                                                       "too_long",
}

// fixFor codes what to do about a failed delivery to robot (nil when it is
// no longer configured), whose explanation in English is text.
func (s *Server) fixFor(e *notify.Error, text string, robot *config.Robot) (string, kv) {
	k := s.kinds.Lookup(e.Kind)
	code, params := fixTexts[fixKey(k, text)], kv{}
	if k != nil {
		params["kind"] = k.Label
		params["token_label"] = k.Token.Label
	}
	switch {
	case text == "":
		return "", nil
	case code == "":
		return "text", kv{"text": text}
	case code == "rate_limited" && k != nil:
		limits := make([]kv, len(k.Budget.Limits))
		for i, l := range k.Budget.Limits {
			limits[i] = kv{"n": l.N, "seconds": int(l.Per.Seconds())}
		}
		params["limits"], params["block_minutes"] = limits, int(k.Budget.Block.Minutes())
	case code == "too_long" && k != nil:
		params["max"] = k.MaxBody
	}
	// A robot whose vendor expects a signature but which has no secret here
	// is refused as if its clock or signature were wrong: it needs its
	// secret.
	if (code == "clock" || code == "sign_mismatch" || code == "sign_or_clock") && robot != nil && robot.Secret == "" &&
		k != nil && k.Secret != nil {
		code = "secret_missing"
	}
	if code == "secret_missing" && k != nil && k.Secret != nil {
		if k.Secret.Prefix == "" {
			return "secret_missing_plain", kv{"kind": k.Label, "secret_label": k.Secret.Label}
		}
		return code, kv{"kind": k.Label, "secret_label": k.Secret.Label, "prefix": k.Secret.Prefix}
	}
	return code, params
}

// fixKey is text as fixTexts holds it: the kind's English label as {kind}.
func fixKey(k *notify.Kind, text string) string {
	if k == nil || k.Label.En == "" {
		return text
	}
	return strings.ReplaceAll(text, k.Label.En, "{kind}")
}

// failureFix says what to do about a failed delivery, in English and as a
// code: the sender's own fix, else the kind's explanation of the vendor's
// code, else what the transport failure suggests.
func (s *Server) failureFix(e *notify.Error, robot *config.Robot) (text, code string, params kv) {
	text = e.Fix
	if k := s.kinds.Lookup(e.Kind); text == "" && e.Code != 0 && k != nil && k.Explain != nil {
		text = k.Explain(e.Code, e.Msg)
	}
	if text != "" {
		code, params = s.fixFor(e, text, robot)
		return text, code, params
	}
	switch {
	case e.Code != 0:
		return fmt.Sprintf("the robot answered error code %d; look it up in the chat tool's robot documentation", e.Code),
			"errcode", kv{"code": e.Code}
	case e.Status == http.StatusNotFound:
		return "the robot's API answered 404: check the robot kind and its token", "http_404", nil
	case e.Status >= 500:
		return "the chat tool's server failed; try again in a minute", "server", kv{"status": e.Status}
	case e.Status == 0:
		return "the robot's server could not be reached: check this computer's network connection or proxy", "unreachable", nil
	}
	return "", "", nil
}

// dropFor codes why route.Match skipped project p for ev (mirroring route's
// filters), and "" when it did not.
func dropFor(p *config.Project, ev *sentry.Event, reason string) (string, kv) {
	switch {
	case reason == "":
		return "", nil
	case ev.FollowUp() && !p.WantsFollowUps():
		return "follow_ups", nil
	case len(p.Environments) > 0 && ev.Environment != "" && !containsFold(p.Environments, ev.Environment):
		return "environment", kv{"value": ev.Environment, "list": p.Environments}
	case p.MinLevel != "" && !ev.FollowUp() && ev.State != sentry.StateResolved && config.LevelRank(ev.Level) < config.LevelRank(p.MinLevel):
		return "level", kv{"value": ev.Level, "min": p.MinLevel}
	case len(p.RobotIDs) == 0:
		return "no_robot", nil
	}
	return "text", kv{"text": reason}
}

func containsFold(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// dropReason is the first project route.Match skipped, coded.
func dropReason(plan *route.Plan, ev *sentry.Event) (text, code string, params kv) {
	for _, sk := range plan.Skipped {
		code, params = dropFor(sk.Project, ev, sk.Reason)
		return sk.Reason, code, params
	}
	return "", "", nil
}

// ignoredCode codes why Sentry's webhook carries no alert.
func ignoredCode(ev *sentry.Event) (string, kv) {
	switch ev.Resource {
	case "installation":
		return "installation", nil
	case "comment":
		return "comment", nil
	}
	return "resource", kv{"resource": ev.Resource}
}

// robotProblems checks a robot against its kind's description: a secret
// for a kind that signs with none, or one without the kind's prefix.
func (s *Server) robotProblems(r *config.Robot, field string) []*config.FieldError {
	k := s.kinds.Lookup(r.Kind)
	secret := r.Secret.Reveal()
	if k == nil || secret == "" {
		return nil
	}
	switch {
	case k.Secret == nil:
		return []*config.FieldError{fieldErr(field+".secret", "secret_unused", kv{"kind": k.Label},
			"%s robots have no signing secret; leave it empty", k.Label.En)}
	case k.Secret.Prefix != "" && !strings.HasPrefix(secret, k.Secret.Prefix):
		return []*config.FieldError{fieldErr(field+".secret", "secret_prefix", kv{"kind": k.Label, "prefix": k.Secret.Prefix},
			"a %s signing secret starts with %s; copy it from the robot's security settings again", k.Label.En, k.Secret.Prefix)}
	}
	return nil
}

// recode replaces the kinds' own rules about robots (config's code
// "kind_rule", in English only) by robotProblems' coded ones when they
// name the same field.
func (s *Server) recode(d *config.Document, fes []*config.FieldError) []*config.FieldError {
	var coded map[string]*config.FieldError
	for _, f := range fes {
		if f.Code != "kind_rule" {
			continue
		}
		if coded == nil {
			coded = map[string]*config.FieldError{}
			for i := range d.Robots {
				for _, c := range s.robotProblems(&d.Robots[i], fmt.Sprintf("robots[%d]", i)) {
					coded[c.Field] = c
				}
			}
		}
		if c := coded[f.Field]; c != nil {
			*f = *c
		}
	}
	return fes
}
