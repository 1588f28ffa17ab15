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
// words the code in the reader's language (web/static/i18n/<lang>.json: "err.<code>"
// for errors and field errors, "fix.<code>" for what to do about a robot's
// refusal, "drop.<code>" and "note.<code>" for alerts that were not sent).
// TestEveryCodeHasWords checks that each code emitted here and in
// internal/config has a Chinese and an English text.

// failureFix says what to do about a failed delivery, in English and as a
// code with parameters: the fix the robot's kind gave (worded by the kind,
// Kind.Fixes), else what the answer or the transport failure suggests
// ("fix.<code>").
func failureFix(e *notify.Error) (text, code string, params kv) {
	if f := e.Fix; f != nil {
		return f.String(), f.Code, f.Params
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
