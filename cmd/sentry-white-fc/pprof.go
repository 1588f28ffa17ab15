//go:build pprof

package main

import (
	"fmt"
	"net/http"
	_ "net/http/pprof" // the profiles, on their own listener
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"
)

// A relay built with -tags pprof serves net/http/pprof on
// SENTRY_WHITE_PPROF (e.g. 127.0.0.1:6061), to profile it under load
// (docs/benchmarks.md), and with SENTRY_WHITE_CPUPROFILE=PREFIX writes a
// CPU profile of its whole life, from its first instruction of Go code to
// SIGTERM, sampled at 1 kHz, to PREFIX.<pid>: the profile of a cold start
// and of a burst in a fresh process, merged over many processes. Release
// builds have neither.
func init() {
	if addr := os.Getenv("SENTRY_WHITE_PPROF"); addr != "" {
		go func() { _ = http.ListenAndServe(addr, nil) }()
	}
	if prefix := os.Getenv("SENTRY_WHITE_CPUPROFILE"); prefix != "" {
		f, err := os.Create(fmt.Sprintf("%s.%d", prefix, os.Getpid()))
		if err != nil {
			fmt.Fprintln(os.Stderr, "cpu profile:", err)
			return
		}
		runtime.SetCPUProfileRate(1000) // StartCPUProfile keeps it (and says so)
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(os.Stderr, "cpu profile:", err)
			return
		}
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, syscall.SIGTERM, os.Interrupt)
		go func() {
			<-stop
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
}
