package feishu

import (
	"strings"
	"testing"

	"github.com/sentry-white/sentry-white/internal/notify"
)

// TestAtAll: a card that rings the whole group carries <at id=all></at>.
func TestAtAll(t *testing.T) {
	m := &notify.Message{Title: "详情 | t", Heading: "t", Keyword: "详情", AtAll: true}
	if got := Mentions(m); !strings.HasPrefix(got, "<at id=all></at>") {
		t.Errorf("Mentions = %q", got)
	}
	m.AtAll = false
	if got := Mentions(m); strings.Contains(got, "all") {
		t.Errorf("Mentions = %q", got)
	}
}
