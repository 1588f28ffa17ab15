package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/sentry-white/sentry-white/tools/load/report"
)

// floorSource is the smallest Go HTTP server that answers GET / as the
// relay does: its cold start is the floor of any Go relay's on this
// machine (exec, the Go runtime, listening, one answer).
const floorSource = `package main

import (
	"flag"
	"net/http"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:0", "")
	flag.Parse()
	_ = http.ListenAndServe(*addr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte("{\"status\":\"ok\"}\n"))
	}))
}
`

// floorName names the floor server in the cold starts.
const floorName = "floor"

// coldStartFloor builds the floor server and times its cold starts.
func (l *loader) coldStartFloor(rep *report.Report) error {
	if l.o.coldStarts < 1 {
		return nil
	}
	dir := filepath.Join(l.work, "floor")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(floorSource), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module floor\n\ngo 1.22\n"), 0o644); err != nil {
		return err
	}
	bin := filepath.Join(dir, "floor")
	env := append(os.Environ(), "CGO_ENABLED=0")
	cmd := []string{"build", "-C", dir, "-trimpath", "-ldflags", "-s -w", "-o", bin, "."}
	if err := runCmd(context.Background(), env, "go", cmd...); err != nil {
		return err
	}
	cs := report.ColdStart{Relay: floorName, Runs: l.o.coldStarts}
	var durs []time.Duration
	for i := range l.o.coldStarts {
		p, err := startProc(bin, nil, l.env, dir, fmt.Sprintf("floor%d", i), 10*time.Second)
		if err != nil {
			return err
		}
		durs = append(durs, p.FirstAnswer)
		cs.SamplesMS = append(cs.SamplesMS, msOf(p.FirstAnswer))
		cs.IdleRSSAllKB = append(cs.IdleRSSAllKB, p.IdleRSSKB)
		if err := p.stop(10 * time.Second); err != nil && !isSignalExit(err) {
			return fmt.Errorf("floor server: %v", err)
		}
	}
	v := percentiles(durs, 50, 0.0001, 100)
	cs.MedianMS, cs.MinMS, cs.MaxMS = msOf(v[0]), msOf(v[1]), msOf(v[2])
	rss := slices.Clone(cs.IdleRSSAllKB)
	slices.Sort(rss)
	cs.IdleRSSKB = rss[len(rss)/2]
	rep.ColdStart = append(rep.ColdStart, cs)
	fmt.Fprintf(l.out, "cold start of the floor (an empty Go HTTP server): median %.2f ms (min %.2f, max %.2f)\n", cs.MedianMS, cs.MinMS, cs.MaxMS)
	return nil
}
