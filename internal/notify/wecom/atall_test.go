package wecom

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/sentry-white/sentry-white/internal/notify"
)

// TestAtAll: markdown cannot ring the whole group, so a message with AtAll
// is followed by a text message whose mentioned_list is ["@all"], and
// counts two messages against the robot's budget.
func TestAtAll(t *testing.T) {
	m := &notify.Message{Title: "详情 | t", Heading: "t", Keyword: "详情", AtAll: true}
	if Messages(m) != 2 {
		t.Errorf("Messages = %d, want 2", Messages(m))
	}
	b, err := TextBody(m)
	if err != nil || b == nil {
		t.Fatalf("%s %v", b, err)
	}
	var got textBody
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Text.MentionedList, []string{"@all"}) || got.Text.Content == "" {
		t.Errorf("%s", b)
	}
	m.AtAll = false
	if b, err := TextBody(m); b != nil || err != nil || Messages(m) != 1 {
		t.Errorf("without AtAll: %s %v", b, err)
	}
}
