package dispatch

import (
	"fmt"

	"github.com/sentry-white/sentry-white/internal/notify"
)

// Digest merges queued jobs for one robot into one message: a line per
// issue (repeats of one issue counted), the robot's keyword, and every
// owner the merged alerts would have @-mentioned.
func Digest(jobs []*Job) *notify.Message {
	first := &jobs[0].Message
	m := &notify.Message{Keyword: first.Keyword, Lang: first.Lang, Level: first.Level}
	type key struct{ title, link string }
	index := map[key]int{}
	seen := map[string]bool{}
	projects := map[string]bool{}
	total := 0
	for _, j := range jobs {
		msg := &j.Message
		k := key{msg.Heading, msg.Link}
		n := 1 + j.Repeats
		total += n
		if i, ok := index[k]; ok {
			m.Digest[i].Count += n
		} else {
			index[k] = len(m.Digest)
			m.Digest = append(m.Digest, notify.DigestItem{
				Project: projectOf(j), Title: clipRunes(msg.Heading, 100), Link: msg.Link,
				Level: msg.Level, Time: j.Created, Count: n,
			})
		}
		projects[j.Project] = true
		for _, p := range msg.Mentions {
			id := p.Mobile + "|" + p.DingTalkUserID + "|" + p.WeComUserID + "|" + p.FeishuOpenID
			if !seen[id] {
				seen[id] = true
				m.Mentions = append(m.Mentions, p)
			}
		}
	}
	if m.Lang == "en" {
		m.Heading = fmt.Sprintf("%d alerts merged while the robot was at its rate limit", total)
		m.Title = fmt.Sprintf("%s | %d alerts in %d projects", m.Keyword, total, len(projects))
	} else {
		m.Heading = fmt.Sprintf("限流期间合并的 %d 条告警", total)
		m.Title = fmt.Sprintf("%s | %d 条告警（%d 个项目）", m.Keyword, total, len(projects))
	}
	m.State = "digest"
	return m
}

// projectOf names a job's project as its message does ("name (slug)").
func projectOf(j *Job) string {
	if j.ProjectName == "" {
		return j.Project
	}
	return j.ProjectName + " (" + j.Project + ")"
}

func clipRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
