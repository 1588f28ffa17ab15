//go:build pprof

package main

import (
	"net/http"
	_ "net/http/pprof" // the profiles, on their own listener
	"os"
)

// A relay built with -tags pprof serves net/http/pprof on
// SENTRY_WHITE_PPROF (e.g. 127.0.0.1:6061), to profile it under load
// (docs/benchmarks.md). Release builds have no such listener.
func init() {
	if addr := os.Getenv("SENTRY_WHITE_PPROF"); addr != "" {
		go func() { _ = http.ListenAndServe(addr, nil) }()
	}
}
