package deliveries

import (
	"bytes"
	"context"
	"encoding/json"
	"time"
)

// Outcomes maps each of ids (alerts held through quiet hours) to the
// newest record of the same id that is not held — its delivery, or its
// failure — looking through every delivery since since.
func (l *Log) Outcomes(ctx context.Context, since time.Time, ids map[string]bool) (map[string]Record, error) {
	days, err := l.days(ctx)
	if err != nil {
		return nil, err
	}
	from := since.UTC().Format("2006-01-02")
	out := map[string]Record{}
	for _, d := range days {
		if d.day < from {
			break
		}
		err := l.lines(ctx, d.deliveries, func(line []byte) bool {
			var r Record
			if bytes.Contains(line, []byte(`"id":`)) && json.Unmarshal(line, &r) == nil && ids[r.ID] && r.Result != Held {
				if prev, ok := out[r.ID]; !ok || r.Time.After(prev.Time) {
					out[r.ID] = r
				}
			}
			return true
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
