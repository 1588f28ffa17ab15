// Command sentry-white-fc is the relay: an HTTP server that takes Sentry
// webhooks and posts one alert per robot to chat group robots (the kinds
// internal/notifiers registers).
// It runs as an Aliyun Function Compute custom runtime (packaged as
// bootstrap) and the same on any host.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // FC's runtime may have no zoneinfo; SENTRY_WHITE_TZ needs it

	"github.com/sentry-white/sentry-white/internal/adminapi"
	"github.com/sentry-white/sentry-white/internal/deliveries"
	"github.com/sentry-white/sentry-white/internal/dispatch"
	"github.com/sentry-white/sentry-white/internal/docstore"
	"github.com/sentry-white/sentry-white/internal/facts"
	"github.com/sentry-white/sentry-white/internal/notifiers"
	"github.com/sentry-white/sentry-white/internal/notify"
	"github.com/sentry-white/sentry-white/internal/plan"
	"github.com/sentry-white/sentry-white/internal/relay"
	"github.com/sentry-white/sentry-white/internal/render"
	"github.com/sentry-white/sentry-white/internal/sentryapi"
	"github.com/sentry-white/sentry-white/internal/store"
)

func main() {
	// One CPU thread for Go code unless GOMAXPROCS says otherwise, in both
	// modes (Go's default would be 2 on FC: a cgroup's limit is rounded up
	// to at least 2). Measured (docs/benchmarks.md#threads-per-mode): on an
	// FC-shaped 0.05 vCPU a second thread spends the quota on waking
	// threads — a burst of 50 over 1,000 projects answered 157 of 250
	// within 1 s against 250, one at a time 1.6 against 1.0 ms of CPU per
	// webhook; on a plain server of 2 cores it bought 7 % throughput at 50
	// concurrent webhooks for 18 % more CPU per webhook, and answered one
	// at a time slower (0.39 against 0.29 ms of overhead).
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, notifiers.Default(), os.Args[1:], os.Getenv, os.Stdout, nil); err != nil {
		fmt.Fprintln(os.Stderr, "sentry-white-fc:", err)
		os.Exit(1)
	}
}

// defaultAddr is 0.0.0.0 and the port FC's custom runtime expects.
func defaultAddr(getenv func(string) string) string {
	for _, k := range []string{"FC_CUSTOM_LISTEN_PORT", "FC_SERVER_PORT"} {
		if p := getenv(k); p != "" {
			return "0.0.0.0:" + p
		}
	}
	return "0.0.0.0:9000"
}

// run starts the relay, sending to robots of kinds, and serves until ctx
// ends. When ready is non-nil it receives the listening address (tests
// listen on :0).
func run(ctx context.Context, kinds *notifiers.Registry, args []string, getenv func(string) string, stdout io.Writer, ready chan<- string) error {
	fs := flag.NewFlagSet("sentry-white-fc", flag.ContinueOnError)
	fs.SetOutput(stdout)
	storeLoc := fs.String("store", envOr(getenv, "SENTRY_WHITE_STORE", store.DefaultDir), "configuration store: file:DIR or oss://BUCKET/PREFIX (env SENTRY_WHITE_STORE; OSS_ENDPOINT, OSS_REGION, OSS_CNAME)")
	addr := fs.String("addr", defaultAddr(getenv), "listen address (default port from FC_CUSTOM_LISTEN_PORT, FC_SERVER_PORT, else 9000)")
	window := fs.Duration("cache", durEnv(getenv, "SENTRY_WHITE_CACHE", 0), "how long the document is trusted before a conditional re-read (env SENTRY_WHITE_CACHE; default 10s on OSS, and on a folder store every webhook checks the file, which costs one stat)")
	tz := fs.String("tz", envOr(getenv, "SENTRY_WHITE_TZ", "Asia/Shanghai"), "time zone for times in messages (env SENTRY_WHITE_TZ)")
	lang := fs.String("lang", envOr(getenv, "SENTRY_WHITE_LANG", "zh"), "message language: zh or en (env SENTRY_WHITE_LANG)")
	onFC := getenv("FC_FUNCTION_NAME") != ""
	mode := fs.String("mode", envOr(getenv, "SENTRY_WHITE_MODE", "auto"), "server, fc, or auto (fc when FC_FUNCTION_NAME is set) (env SENTRY_WHITE_MODE)")
	spoolDir := fs.String("spool", envOr(getenv, "SENTRY_WHITE_SPOOL", defaultSpool(onFC)), "folder for alerts accepted but not yet delivered (env SENTRY_WHITE_SPOOL)")
	selfURL := fs.String("self-url", getenv("SENTRY_WHITE_SELF_URL"), "on FC: this function's HTTP trigger URL, for handing queued alerts to an asynchronous invocation (env SENTRY_WHITE_SELF_URL)")
	tick := fs.Duration("tick", durEnv(getenv, "SENTRY_WHITE_TICK", 30*time.Second), "as a server: how often timed work (handoff notices, alerts held through quiet hours) is looked at; 0 turns it off (env SENTRY_WHITE_TICK; on FC the timer trigger calls POST /invoke instead)")
	history := fs.Bool("history", envOr(getenv, "SENTRY_WHITE_HISTORY", "on") != "off", "record deliveries in the store under <prefix>v1/deliveries/ (env SENTRY_WHITE_HISTORY=off to disable)")
	factsTimeout := fs.Duration("facts-timeout", durEnv(getenv, "SENTRY_WHITE_FACTS_TIMEOUT", facts.DefaultTimeout), "how long an alert waits for Sentry's facts about its issue (organizations with an api_token); 0 turns the look-up off (env SENTRY_WHITE_FACTS_TIMEOUT)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	log := slog.New(slog.NewJSONHandler(stdout, nil))

	loc, err := store.ParseLocation(*storeLoc)
	if err != nil {
		return err
	}
	if loc.Scheme == "relay" {
		return fmt.Errorf("-store %s: the relay keeps its configuration in a folder or an OSS bucket (relay+https:// is the configurator's way to reach a relay)", loc)
	}
	backend, err := store.Open(loc, getenv)
	if err != nil {
		return err
	}
	zone := render.Shanghai
	if *tz != "Asia/Shanghai" {
		if zone, err = time.LoadLocation(*tz); err != nil {
			return fmt.Errorf("-tz %q: %w", *tz, err)
		}
	}
	fc := *mode == "fc" || *mode == "auto" && onFC
	if *window == 0 {
		*window = docstore.DefaultWindow
		if loc.Scheme == "file" {
			*window = -1 // revalidate on every webhook: a stat
		}
	}
	docs := docstore.NewCache(backend, store.ConfigKey(loc.Prefix), *window, kinds.Document())
	var hist *deliveries.Log
	if *history {
		hist = deliveries.New(backend, loc.Prefix, log)
	}
	// A spool that cannot be written does not stop the relay: alerts that
	// can be sent at once still are, and the dispatcher refuses (503) and
	// reports what it cannot save until the folder works again. On FC
	// nothing may run after the answer: sends still under way then are
	// handed to an asynchronous invocation instead (the relay sets that).
	var sentryFacts plan.Facts
	if *factsTimeout > 0 {
		sentryFacts = &facts.Reader{Timeout: *factsTimeout}
	}
	h, err := relay.New(relay.Options{
		Docs:     docs,
		Kinds:    kinds,
		Logger:   log,
		Render:   render.Options{Zone: zone, Lang: *lang},
		Dispatch: dispatch.Options{Senders: kinds.Senders(getenv, nil), Spool: *spoolDir, Store: loc.Identity()},
		History:  hist,
		FC:       fc,
		SelfURL:  *selfURL,
		Store:    backend,
		Prefix:   loc.Prefix,
		// Action links: Sentry's API with a bound per call (env
		// SENTRY_WHITE_SENTRY_TIMEOUT).
		Sentry: &sentryapi.Client{Timeout: durEnv(getenv, "SENTRY_WHITE_SENTRY_TIMEOUT", 8*time.Second)},
		Facts:  sentryFacts,
	})
	if err != nil {
		return err
	}
	disp := h.Dispatcher()
	disp.Start() // everything is wired: alerts from the spool may go
	bg, stopBg := context.WithCancel(context.Background())
	defer stopBg()
	flushed := make(chan struct{})
	if hist != nil && !fc {
		go func() { hist.Run(bg, 2*time.Second); close(flushed) }()
	} else {
		close(flushed)
	}

	handler := withAdmin(h, backend, loc, fc, getenv, log)
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	// Load the document at start so the first webhook costs no store read;
	// a failure here is reported and retried on the first request.
	if err := docs.Refresh(ctx); err != nil {
		log.Warn("configuration not loaded at start", "store", backend.String(), "error", notify.Redact(err.Error()))
	}
	if fc && *selfURL == "" {
		log.Warn("SENTRY_WHITE_SELF_URL is not set: on Function Compute, alerts that must wait for a robot's rate limit or a slow robot are sent only when a later request reaches this instance; set it to this function's HTTP trigger URL")
	}
	log.Info("relay listening", "addr", ln.Addr().String(), "store", backend.String(), "mode", map[bool]string{true: "fc", false: "server"}[fc],
		"queued", disp.Queued())
	if ready != nil {
		ready <- ln.Addr().String()
	}
	srv := newServer(handler, fc, getenv)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	// Timed work: a ticker as a server; on FC the timer trigger's POST
	// /invoke (deploy/s.yaml), since nothing may run between requests.
	tickCtx, stopTicks := context.WithCancel(context.Background())
	ticked := make(chan struct{})
	if r := h.Timed(); r != nil && !fc && *tick > 0 {
		go func() { r.Run(tickCtx, *tick); close(ticked) }()
	} else {
		close(ticked)
	}
	select {
	case err := <-errc:
		stopTicks()
		<-ticked
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = srv.Shutdown(shutdown)
	stopTicks()
	<-ticked
	// Drain: finish in-flight sends and send what the budgets allow now;
	// alerts still waiting for a robot's budget stay in the spool.
	_ = disp.Close(shutdown)
	_ = disp.DrainReady(shutdown)
	stopBg()
	<-flushed
	if hist != nil && fc {
		_ = hist.Flush(shutdown)
	}
	log.Info("relay stopped", "queued", disp.Queued(), "spool", disp.SpoolFolder())
	return err
}

// withAdmin mounts the admin API (package adminapi) in front of the relay
// when SENTRY_WHITE_ADMIN_KEY is set: the configurator then edits this
// relay's store through it (-store relay+https://…). Without the key its
// paths are the relay's (404).
func withAdmin(relay http.Handler, backend store.Backend, loc store.Location, fc bool, getenv func(string) string, log *slog.Logger) http.Handler {
	key := strings.TrimSpace(getenv("SENTRY_WHITE_ADMIN_KEY"))
	if key == "" {
		return relay
	}
	var admin http.Handler
	a, err := adminapi.New(adminapi.Options{Backend: backend, Prefix: loc.Prefix, Key: key, Logger: log, FC: fc})
	if err != nil {
		log.Error("admin API disabled", "error", err.Error())
		admin = adminapi.Disabled("SENTRY_WHITE_ADMIN_KEY on the function is too short")
	} else {
		log.Info("admin API enabled", "path", store.AdminPathPrefix, "store", backend.String())
		admin = a
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, store.AdminPathPrefix) {
			admin.ServeHTTP(w, r)
			return
		}
		relay.ServeHTTP(w, r)
	})
}

// newServer bounds what a client may hold. As a plain server, a body that
// never arrives, a slow answer reader and an idle keep-alive connection
// are cut (Sentry sends a webhook in one go and waits 1-5 s); headers are
// bounded in time and size. On Function Compute the gateway has read the
// request before the function sees it, and FC forbids short server
// timeouts (an asynchronous hand-off runs for up to 14 minutes): only the
// header read and size are bounded there. SENTRY_WHITE_READ_TIMEOUT and
// SENTRY_WHITE_IDLE_TIMEOUT override the plain server's (tests use short
// ones).
func newServer(h http.Handler, fc bool, getenv func(string) string) *http.Server {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, MaxHeaderBytes: 32 << 10}
	if fc {
		srv.ReadHeaderTimeout = 30 * time.Second
		return srv
	}
	srv.ReadTimeout = durEnv(getenv, "SENTRY_WHITE_READ_TIMEOUT", 20*time.Second)
	srv.ReadHeaderTimeout = min(srv.ReadHeaderTimeout, srv.ReadTimeout)
	srv.WriteTimeout = 90 * time.Second // an answer may wait for a send that cannot be saved (up to 30 s)
	srv.IdleTimeout = durEnv(getenv, "SENTRY_WHITE_IDLE_TIMEOUT", 60*time.Second)
	return srv
}

// defaultSpool keeps queued alerts next to the working directory on a
// server, and in /tmp on FC, the only writable place there.
func defaultSpool(onFC bool) string {
	if onFC {
		return filepath.Join(os.TempDir(), "sentry-white-spool")
	}
	return "./sentry-white-spool"
}

func envOr(getenv func(string) string, k, def string) string {
	if v := strings.TrimSpace(getenv(k)); v != "" {
		return v
	}
	return def
}

func durEnv(getenv func(string) string, k string, def time.Duration) time.Duration {
	if v := getenv(k); v != "" {
		if d, err := time.ParseDuration(v); err == nil {
			return d
		}
	}
	return def
}
