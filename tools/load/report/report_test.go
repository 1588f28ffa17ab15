package report

import "testing"

func TestSpread(t *testing.T) {
	s := SpreadOf([]float64{3, 1, 2})
	if s.Median != 2 || s.Min != 1 || s.Max != 3 || s.N != 3 || s.RelPct() != 50 {
		t.Errorf("%+v", s)
	}
	if s := SpreadOf([]float64{4, 1, 2, 3}); s.Median != 2.5 {
		t.Errorf("even count: %+v", s)
	}
	if s := SpreadOf(nil); s != (Spread{}) {
		t.Errorf("empty: %+v", s)
	}
}

func TestSelect(t *testing.T) {
	r := &Report{Runs: []Run{{System: Direct, C: 50}, {System: Relays, Relay: "current", C: 50, Round: 1},
		{System: Relays, Relay: "old", C: 50}, {System: Relays, Relay: "current", C: 50, Round: 2}, {System: Relays, Relay: "current", C: 1}}}
	got := r.Select(Relays, "current", 50)
	if len(got) != 2 || got[0].Round != 1 || got[1].Round != 2 {
		t.Errorf("%+v", got)
	}
	if got := r.Select(Relays, "", 50); len(got) != 3 {
		t.Errorf("any relay: %d runs", len(got))
	}
}
