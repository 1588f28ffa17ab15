package feishu_test

import (
	"testing"

	"github.com/sentry-white/sentry-white/internal/notify/feishu"
	"github.com/sentry-white/sentry-white/internal/notify/notifytest"
	"github.com/sentry-white/sentry-white/internal/robottest"
)

func TestConformance(t *testing.T) {
	notifytest.Run(t, feishu.Kind, func(*testing.T) notifytest.Vendor { return robottest.NewFeishuVendor() })
}
