package deliveries

import (
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"time"

	"github.com/sentry-white/sentry-white/internal/notify"
)

// appendRecord appends r as one JSON line's object, the bytes json.Marshal
// makes of it, without reflection: what Flush writes for every delivery.
// Records it does not write itself (a failure's message or its fix's
// parameters, an action, a time or latency encoding/json refuses, a Record
// with members this writer does not know) go through json.Marshal.
func appendRecord(dst []byte, r *Record) ([]byte, error) {
	if r.Message != nil || r.FixParams != nil || r.Action != nil || !plainTime(r.Time) || !r.HeldUntil.IsZero() && !plainTime(r.HeldUntil) || math.IsNaN(r.LatencyMS) || math.IsInf(r.LatencyMS, 0) || recordMembers != knownMembers {
		b, err := json.Marshal(r)
		return append(dst, b...), err
	}
	b := append(dst, `{"id":`...)
	b = notify.AppendJSONStringHTML(b, r.ID)
	b = append(b, `,"time":"`...)
	b = r.Time.AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	b = optString(b, `,"request_id":`, r.RequestID)
	b = append(b, `,"project":`...)
	b = notify.AppendJSONStringHTML(b, r.Project)
	b = optString(b, `,"project_name":`, r.ProjectName)
	b = optString(b, `,"payload_organization":`, r.PayloadOrganization)
	b = append(b, `,"robot_id":`...)
	b = strconv.AppendInt(b, r.RobotID, 10)
	b = append(b, `,"robot":`...)
	b = notify.AppendJSONStringHTML(b, r.Robot)
	b = append(b, `,"kind":`...)
	b = notify.AppendJSONStringHTML(b, r.Kind)
	b = append(b, `,"result":`...)
	b = notify.AppendJSONStringHTML(b, r.Result)
	b = optInt(b, `,"code":`, r.Code)
	b = optString(b, `,"error":`, r.Error)
	b = optString(b, `,"fix":`, r.Fix)
	b = optString(b, `,"fix_code":`, r.FixCode)
	b = optInt(b, `,"attempts":`, r.Attempts)
	b = append(b, `,"latency_ms":`...)
	b = appendFloat(b, r.LatencyMS)
	b = optString(b, `,"title":`, r.Title)
	b = optString(b, `,"link":`, r.Link)
	b = optString(b, `,"level":`, r.Level)
	b = optInt(b, `,"digest":`, r.Digest)
	b = optString(b, `,"resend_of":`, r.ResendOf)
	b = optString(b, `,"rule":`, r.Rule)
	b = optString(b, `,"facts":`, r.Facts)
	if !r.HeldUntil.IsZero() {
		b = append(b, `,"held_until":"`...)
		b = r.HeldUntil.AppendFormat(b, time.RFC3339Nano)
		b = append(b, '"')
	}
	b = optString(b, `,"state":`, r.State)
	b = optInt(b, `,"escalation":`, r.Escalation)
	b = optString(b, `,"cause":`, r.Cause)
	b = optInt(b, `,"status":`, r.Status)
	b = optString(b, `,"resource":`, r.Resource)
	b = optString(b, `,"org":`, r.Org)
	b = optString(b, `,"host":`, r.Host)
	return append(b, '}'), nil
}

// knownMembers is how many members appendRecord writes; recordMembers
// how many Record has. A member added to Record without teaching
// appendRecord sends every record through json.Marshal (and fails
// TestAppendRecord) instead of losing it.
const knownMembers = 34

var recordMembers = reflect.TypeFor[Record]().NumField()

// plainTime reports whether Time.MarshalJSON takes t (a year of four
// digits, a zone less than a day off UTC); it then writes what
// AppendFormat(RFC3339Nano) writes.
func plainTime(t time.Time) bool {
	if y := t.Year(); y < 0 || y > 9999 {
		return false
	}
	_, off := t.Zone()
	return off > -24*3600 && off < 24*3600
}

func optString(b []byte, key, v string) []byte {
	if v == "" {
		return b
	}
	return notify.AppendJSONStringHTML(append(b, key...), v)
}

func optInt(b []byte, key string, v int) []byte {
	if v == 0 {
		return b
	}
	return strconv.AppendInt(append(b, key...), int64(v), 10)
}

// appendFloat writes f as encoding/json writes a float64.
func appendFloat(b []byte, f float64) []byte {
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-09 → e-9, as encoding/json cleans it.
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}
