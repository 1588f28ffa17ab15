package deliveries

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/sentry-white/sentry-white/internal/notify"
)

// TestAppendRecord: the bytes json.Marshal makes of a record, with every
// member set or empty, odd text, times in other zones and odd latencies.
func TestAppendRecord(t *testing.T) {
	if n := reflect.TypeFor[Record]().NumField(); n != knownMembers {
		t.Fatalf("Record has %d members; appendRecord writes %d: teach it the new ones", n, knownMembers)
	}
	odd := "q\"b\\ <x> & \n\t 中文 🔥 \u2028 \xff"
	full := Record{ID: "d1", Time: time.Date(2026, 12, 1, 10, 0, 0, 123456789, time.UTC), RequestID: odd, Project: "p", ProjectName: odd,
		PayloadOrganization: "o", RobotID: -7, Robot: odd, Kind: "dingtalk", Result: Failed, Code: 310000, Error: odd, Fix: "f", FixCode: "keyword",
		Attempts: 3, LatencyMS: 12.345, Title: odd, Link: "https://x/?a=1&b=<2>", Level: "error", State: "regressed", Digest: 4, Escalation: 2, ResendOf: "d0",
		Rule: odd, Facts: odd,
		Cause: "token_wrong", Status: 401, Resource: "event_alert", Org: odd, Host: "acme.sentry.io",
		HeldUntil: time.Date(2026, 12, 2, 8, 0, 0, 0, time.FixedZone("CST", 8*3600))}
	recs := []Record{{}, full, {ID: "x", Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("CST", 8*3600)), LatencyMS: 1e-7},
		{Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.FixedZone("odd", 5*3600+30*60+7)), LatencyMS: 1e21},
		{Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, {LatencyMS: math.NaN()}, {LatencyMS: -0.5},
		{Time: time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("far", 25*3600))},
		{Result: Held, HeldUntil: time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("far", 25*3600))}}
	withMsg := full
	withMsg.Message = &notify.Message{Title: "t", Fields: []notify.Field{{Label: "l", Value: odd}}}
	withParams := full
	withParams.FixParams = map[string]any{"n": 20, "what": odd}
	withAction := full
	withAction.Result, withAction.Action = Acted, &Action{Action: "take", OrganizationID: 1, Issue: "42", Who: odd, Outcome: ActionDone, SentryStatus: 200, Answer: odd}
	recs = append(recs, withMsg, withParams, withAction)
	for i, r := range recs {
		want, werr := json.Marshal(&r)
		got, gerr := appendRecord([]byte("prefix"), &r)
		if (werr != nil) != (gerr != nil) {
			t.Errorf("record %d: error %v, json.Marshal %v", i, gerr, werr)
			continue
		}
		if werr == nil && string(got) != "prefix"+string(want) {
			t.Errorf("record %d:\n got %s\nwant prefix%s", i, got, want)
		}
	}
}
