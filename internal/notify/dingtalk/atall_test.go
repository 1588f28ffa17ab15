package dingtalk

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/sentry-white/sentry-white/internal/notify"
)

// TestAtAll: a message that rings the whole group (an alert rule's
// mention "all") sets at.isAtAll and says so in the text; others do not.
func TestAtAll(t *testing.T) {
	for _, all := range []bool{true, false} {
		m := &notify.Message{Title: "详情 | t", Heading: "t", Keyword: "详情", AtAll: all,
			Mentions: []notify.Mention{{Name: "张三", Mobile: "13800138000"}}}
		b, err := Body(m)
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			Markdown struct{ Text string } `json:"markdown"`
			At       struct {
				AtMobiles []string `json:"atMobiles"`
				IsAtAll   bool     `json:"isAtAll"`
			} `json:"at"`
		}
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		if got.At.IsAtAll != all || strings.Contains(got.Markdown.Text, "@所有人") != all || len(got.At.AtMobiles) != 1 {
			t.Errorf("AtAll %v: %s", all, b)
		}
	}
}
