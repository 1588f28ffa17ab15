// Package notifiers is the registry of robot kinds: the one place that lists
// them. Adding a kind is a new package under internal/notify that exports a
// *notify.Kind, and one line in kinds below; config, validation, dispatch,
// the configurator and its page all loop over this list.
package notifiers

import (
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/notify"
	"github.com/sentry-white/sentry-white/internal/notify/dingtalk"
	"github.com/sentry-white/sentry-white/internal/notify/feishu"
	"github.com/sentry-white/sentry-white/internal/notify/wecom"
)

// kinds are the robot kinds this version sends to; the first is the
// default for a robot whose document names none.
var kinds = []*notify.Kind{
	dingtalk.Kind,
	wecom.Kind,
	feishu.Kind,
}

var mu sync.RWMutex

func init() {
	for _, k := range kinds {
		config.RegisterKind(k.Rules())
	}
}

// Register adds a kind (tests use it for a kind of their own).
func Register(k *notify.Kind) {
	mu.Lock()
	defer mu.Unlock()
	kinds = slices.DeleteFunc(kinds, func(x *notify.Kind) bool { return x.Name == k.Name })
	kinds = append(kinds, k)
	config.RegisterKind(k.Rules())
}

// All returns the kinds, the default first.
func All() []*notify.Kind {
	mu.RLock()
	defer mu.RUnlock()
	return slices.Clone(kinds)
}

// Lookup returns the kind named name, or nil.
func Lookup(name string) *notify.Kind {
	mu.RLock()
	defer mu.RUnlock()
	for _, k := range kinds {
		if k.Name == name {
			return k
		}
	}
	return nil
}

// Senders returns a sender per kind sharing client (nil means
// notify.NewHTTPClient()). Each kind's API base comes from its environment
// variable (getenv), else its default, so tests point them at stand-ins.
func Senders(getenv func(string) string, client *http.Client) map[string]notify.Sender {
	if client == nil {
		client = notify.NewHTTPClient()
	}
	out := map[string]notify.Sender{}
	for _, k := range All() {
		base := k.DefaultBase
		if v := strings.TrimSpace(getenv(k.BaseEnv)); v != "" {
			base = v
		}
		out[k.Name] = k.New(base, client)
	}
	return out
}
