package deliveries

import (
	"context"
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
