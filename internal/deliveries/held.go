package deliveries

import (
	"context"
	"encoding/json"
	"time"
)

// Outcomes maps each of ids (alerts held through quiet hours) to the
// newest record of the same id that is not held — its delivery, or its
// failure — looking through every delivery since since.
func (l *Log) Outcomes(ctx context.Context, since time.Time, ids map[string]bool) (map[string]Record, error) {
	return l.newestBy(ctx, since, []byte(`"id":`), func(r *Record) string {
		if ids[r.ID] && r.Result != Held {
			return r.ID
		}
		return ""
	})
}

// Between calls fn with each delivery recorded from from (inclusive) to to
// (exclusive), oldest object first, in the order written: deliveries,
// failures and held alerts, never refused webhooks. The morning summary
// reads a day with it.
func (l *Log) Between(ctx context.Context, from, to time.Time, fn func(r *Record)) error {
	days, err := l.days(ctx)
	if err != nil {
		return err
	}
	first, last := from.UTC().Format("2006-01-02"), to.UTC().Format("2006-01-02")
	for i := len(days) - 1; i >= 0; i-- {
		d := days[i]
		if d.day < first || d.day > last {
			continue
		}
		err := l.lines(ctx, d.deliveries, func(line []byte) bool {
			var r Record
			if json.Unmarshal(line, &r) == nil && r.Result != Refused && !r.Time.Before(from) && r.Time.Before(to) {
				fn(&r)
			}
			return true
		})
		if err != nil {
			return err
		}
	}
	return nil
}
