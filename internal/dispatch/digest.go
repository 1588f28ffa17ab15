package dispatch

import (
	"strings"

	"github.com/sentry-white/sentry-white/internal/notify"
)

// DigestItems merges jobs waiting for one robot into the lines of a digest:
// one per issue, in the order they came, with repeats of an issue counted.
// It also returns how many alerts the digest stands for, and how many of
// them are not listed (folded in while a queue was full). A line of a job
// the robot may already have (PossibleRepeat) says so. The words around
// them are render's.
func DigestItems(jobs []*Job) (items []notify.DigestItem, alerts, more int) {
	index := map[issue]int{}
	for _, j := range jobs {
		msg := &j.Message
		k := issueOf(j)
		n := 1 + j.Repeats
		alerts += n + j.Folded
		more += j.Folded
		title := msg.Heading
		if j.PossibleRepeat {
			title = notify.PossibleRepeatMark(msg.Lang) + title
		}
		if i, ok := index[k]; ok {
			items[i].Count += n
			if j.PossibleRepeat && !strings.HasPrefix(items[i].Title, notify.PossibleRepeatMark(msg.Lang)) {
				items[i].Title = title
			}
			continue
		}
		index[k] = len(items)
		items = append(items, notify.DigestItem{
			Project: j.ProjectName, Slug: j.Project, Title: title, Link: msg.Link,
			Level: msg.Level, Time: j.Created, Count: n,
		})
	}
	return items, alerts, more
}
