package original

import (
	"maps"
	"slices"
	"testing"
)

// TestWhysAreWorded: every reason a value cannot be used has its English
// words, and the list the configurator's page words is the same.
func TestWhysAreWorded(t *testing.T) {
	if got, want := slices.Sorted(maps.Keys(whyText)), slices.Sorted(slices.Values(Whys)); !slices.Equal(got, want) {
		t.Errorf("whyText words %v; Whys lists %v", got, want)
	}
}
