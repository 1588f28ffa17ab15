package notifiers

import (
	"testing"

	"github.com/sentry-white/sentry-white/internal/config"
)

// Every robot kind a document may name has a sender.
func TestEveryKindHasASender(t *testing.T) {
	s := New(func(string) string { return "" }, nil)
	for _, k := range config.Kinds {
		if s[k] == nil {
			t.Errorf("no sender for robot kind %q", k)
		}
	}
	if len(s) != len(config.Kinds) {
		t.Errorf("%d senders for %d kinds", len(s), len(config.Kinds))
	}
}
