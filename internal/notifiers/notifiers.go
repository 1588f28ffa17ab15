// Package notifiers is the registry of robot kinds: the one place that
// lists them. A Registry is a value the programs make once (Default) and
// hand to everything that needs the kinds: the document layer gets their
// rules (Registry.Document), the dispatcher their budgets, the configurator
// and its page their descriptions. Adding a kind is a new package under
// internal/notify that exports a *notify.Kind, and one line in Default.
package notifiers

import (
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/notify"
	"github.com/sentry-white/sentry-white/internal/notify/dingtalk"
	"github.com/sentry-white/sentry-white/internal/notify/feishu"
	"github.com/sentry-white/sentry-white/internal/notify/wecom"
)

// Default returns the robot kinds this version sends to; the first is the
// default for a robot whose document names none.
func Default() *Registry {
	return New(
		dingtalk.Kind,
		wecom.Kind,
		feishu.Kind,
	)
}

// Registry is a list of robot kinds, the default first. It does not change
// once made, and is safe for concurrent use.
type Registry struct {
	kinds []*notify.Kind
	rules config.Kinds
}

// New returns a registry of kinds, the first the default; a later kind of
// the same name replaces an earlier one in its place (a test can give a
// kind of its own). It panics on a kind a document could not name: no
// name, or one not in lower case.
func New(kinds ...*notify.Kind) *Registry {
	r := &Registry{}
	for _, k := range kinds {
		if k.Name == "" || k.Name != strings.ToLower(strings.TrimSpace(k.Name)) {
			panic(fmt.Sprintf("notifiers: kind name %q must be lower case, without spaces", k.Name))
		}
		if i := slices.IndexFunc(r.kinds, func(x *notify.Kind) bool { return x.Name == k.Name }); i >= 0 {
			r.kinds[i], r.rules[i] = k, k.Rules()
			continue
		}
		r.kinds = append(r.kinds, k)
		r.rules = append(r.rules, k.Rules())
	}
	return r
}

// All returns the kinds, the default first.
func (r *Registry) All() []*notify.Kind { return slices.Clone(r.kinds) }

// Lookup returns the kind named name, or nil.
func (r *Registry) Lookup(name string) *notify.Kind {
	for _, k := range r.kinds {
		if k.Name == name {
			return k
		}
	}
	return nil
}

// Document returns what the document layer needs of the kinds (config.Parse,
// Validate, Normalize), the default first.
func (r *Registry) Document() config.Kinds { return slices.Clone(r.rules) }

// Senders returns a sender per kind sharing client (nil means
// notify.NewHTTPClient()). Each kind's API base comes from its environment
// variable (getenv), else its default, so tests point them at stand-ins.
func (r *Registry) Senders(getenv func(string) string, client *http.Client) map[string]notify.Sender {
	if client == nil {
		client = notify.NewHTTPClient()
	}
	out := map[string]notify.Sender{}
	for _, k := range r.kinds {
		base := k.DefaultBase
		if v := strings.TrimSpace(getenv(k.BaseEnv)); v != "" {
			base = v
		}
		out[k.Name] = k.New(base, client)
	}
	return out
}
