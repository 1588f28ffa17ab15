// Package notifiers registers a sender for each robot kind. Adding a kind is
// one new package under internal/notify and one line here.
package notifiers

import (
	"net/http"
	"strings"

	"github.com/sentry-white/sentry-white/internal/notify"
	"github.com/sentry-white/sentry-white/internal/notify/dingtalk"
	"github.com/sentry-white/sentry-white/internal/notify/feishu"
	"github.com/sentry-white/sentry-white/internal/notify/wecom"
)

// New returns a sender per robot kind sharing client (nil means
// notify.NewHTTPClient()). API base URLs come from getenv so that tests can
// point them at local stand-ins:
// SENTRY_WHITE_DINGTALK_API, SENTRY_WHITE_WECOM_API, SENTRY_WHITE_FEISHU_API.
func New(getenv func(string) string, client *http.Client) map[string]notify.Sender {
	if client == nil {
		client = notify.NewHTTPClient()
	}
	base := func(env, def string) string {
		if v := strings.TrimSpace(getenv(env)); v != "" {
			return v
		}
		return def
	}
	return map[string]notify.Sender{
		"dingtalk": &dingtalk.Notifier{Base: base("SENTRY_WHITE_DINGTALK_API", dingtalk.DefaultBase), Client: client},
		"wecom":    &wecom.Notifier{Base: base("SENTRY_WHITE_WECOM_API", wecom.DefaultBase), Client: client},
		"feishu":   &feishu.Notifier{Base: base("SENTRY_WHITE_FEISHU_API", feishu.DefaultBase), Client: client},
	}
}
