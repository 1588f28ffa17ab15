package dingtalk_test

import (
	"testing"

	"github.com/sentry-white/sentry-white/internal/notify/dingtalk"
	"github.com/sentry-white/sentry-white/internal/notify/notifytest"
	"github.com/sentry-white/sentry-white/internal/robottest"
)

func TestConformance(t *testing.T) {
	notifytest.Run(t, dingtalk.Kind, func(*testing.T) notifytest.Vendor { return robottest.NewDingTalkVendor() })
}
