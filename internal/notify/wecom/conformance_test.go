package wecom_test

import (
	"testing"

	"github.com/sentry-white/sentry-white/internal/notify/notifytest"
	"github.com/sentry-white/sentry-white/internal/notify/wecom"
	"github.com/sentry-white/sentry-white/internal/robottest"
)

func TestConformance(t *testing.T) {
	notifytest.Run(t, wecom.Kind, func(*testing.T) notifytest.Vendor { return robottest.NewWeComVendor() })
}
