package render

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/sentry-white/sentry-white/internal/config"
	"github.com/sentry-white/sentry-white/internal/notify"
)

// Mentions lists owners as the people a message @-mentions.
func Mentions(owners []*config.Owner) []notify.Mention {
	out := make([]notify.Mention, 0, len(owners))
	for _, o := range owners {
		out = append(out, notify.Mention{Name: o.Name, Mobile: o.Mobile, IDs: o.UserIDs()})
	}
	return out
}

// Address returns m as it goes to robot r now: carrying the robot's
// current keyword (in the title too, where the vendors look for it) and
// @-mentioning mentions. m is not changed.
func Address(m *notify.Message, r *config.Robot, mentions []notify.Mention) *notify.Message {
	c := *m
	c.Keyword = r.EffectiveKeyword()
	if !strings.Contains(c.Title, c.Keyword) {
		c.Title = clip(c.Keyword+" | "+c.Title, 120)
	}
	c.Mentions = mentions
	return &c
}

// Digest renders a digest message: lines of alerts merged while a robot was
// at its rate limit (or blocked), standing for alerts alerts, more of
// which are not listed (they came while the robot's queue was full).
func Digest(items []notify.DigestItem, alerts, more int, lang string) *notify.Message {
	m := &notify.Message{Lang: lang, State: "digest"}
	projects := map[string]bool{}
	for _, it := range items {
		projects[it.Slug+"\x00"+it.Project] = true
		if it.Slug != "" && it.Project != "" && it.Project != it.Slug {
			it.Project += " (" + it.Slug + ")"
		} else if it.Project == "" {
			it.Project = it.Slug
		}
		it.Title = clip(it.Title, 100)
		if m.Level == "" || config.LevelRank(it.Level) > config.LevelRank(m.Level) {
			m.Level = it.Level
		}
		m.Digest = append(m.Digest, it)
	}
	if more > 0 {
		f := notify.Field{Label: "未列出", Value: fmt.Sprintf("另有 %d 条告警（机器人队列已满）", more)}
		if lang == "en" {
			f = notify.Field{Label: "Not listed", Value: fmt.Sprintf("%d more alerts (the robot's queue was full)", more)}
		}
		m.Fields = append(m.Fields, f)
	}
	if lang == "en" {
		m.Heading = fmt.Sprintf("%d alerts merged while the robot was at its rate limit", alerts)
		m.Title = fmt.Sprintf("%d alerts in %d projects", alerts, len(projects))
	} else {
		m.Heading = fmt.Sprintf("限流期间合并的 %d 条告警", alerts)
		m.Title = fmt.Sprintf("%d 条告警（%d 个项目）", alerts, len(projects))
	}
	return m
}

// MergeMentions joins lists of people to @-mention, each person once.
func MergeMentions(lists ...[]notify.Mention) []notify.Mention {
	var out []notify.Mention
	seen := map[string]bool{}
	for _, l := range lists {
		for _, p := range l {
			id := p.Name + "|" + p.Mobile
			if len(p.IDs) > 0 {
				for _, k := range slices.Sorted(maps.Keys(p.IDs)) {
					id += "|" + k + "=" + p.IDs[k]
				}
			}
			if !seen[id] {
				seen[id] = true
				out = append(out, p)
			}
		}
	}
	return out
}

// RepeatField is the line a message carries when n repeats of its issue
// were collapsed since the last message (a project's repeat window).
func RepeatField(n int, lang string) notify.Field {
	if lang == "en" {
		return notify.Field{Label: "Repeats since the last message", Value: strconv.Itoa(n)}
	}
	return notify.Field{Label: "上条消息后重复次数", Value: strconv.Itoa(n)}
}
