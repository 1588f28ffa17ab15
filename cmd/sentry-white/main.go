// Command sentry-white is the configurator: a local web page where a team
// manages the organizations, owners, robots and projects of sentry-white's
// configuration document and sends a test alert before trusting a robot.
// It serves only this computer (loopback), prints its URL with a one-time
// token and opens it in the browser. It edits a folder, an OSS bucket, or
// (-store relay+https://…) the relay's own store through the relay's admin
// API, which needs no AccessKey on this computer.
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
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // schedules and quiet hours name time zones; Windows has no zoneinfo

	"github.com/pkg/browser"

	"github.com/sentry-white/sentry-white/internal/configapi"
	"github.com/sentry-white/sentry-white/internal/notifiers"
	"github.com/sentry-white/sentry-white/web"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, notifiers.Default(), os.Args[1:], os.Getenv, os.Stdout, nil); err != nil {
		fmt.Fprintln(os.Stderr, "sentry-white:", err)
		os.Exit(1)
	}
}

// defaultAddr is where the configurator listens unless told otherwise; when
// the port is taken it falls back to a free one.
const defaultAddr = "127.0.0.1:7788"

// openBrowser opens a URL in the user's browser; tests replace it.
var openBrowser = func(u string) error {
	browser.Stdout, browser.Stderr = io.Discard, io.Discard
	return browser.OpenURL(u)
}

// run serves the configurator, offering robots of kinds, until ctx ends.
// When ready is non-nil it receives the listening address once the server
// accepts connections.
func run(ctx context.Context, kinds *notifiers.Registry, args []string, getenv func(string) string, stdout io.Writer, ready chan<- string) error {
	if len(args) > 0 && args[0] == "import-original" {
		return importOriginal(ctx, kinds, args[1:], getenv, stdout)
	}
	fs := flag.NewFlagSet("sentry-white", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: sentry-white [-store LOC] [-addr 127.0.0.1:PORT] [-no-browser]")
		fmt.Fprintln(fs.Output(), "       sentry-white import-original [-store LOC] [-dry-run]")
		fs.PrintDefaults()
	}
	storeLoc := fs.String("store", "", "configuration store: relay+https://RELAY-URL (the relay's own store, through its admin API; the key in SENTRY_WHITE_ADMIN_KEY or on the settings page), file:DIR, or oss://BUCKET/PREFIX (OSS_ENDPOINT, OSS_REGION, ALIBABA_CLOUD_ACCESS_KEY_*) (default: env SENTRY_WHITE_STORE, else the store chosen on the settings page, else ./sentry-white-data)")
	addr := fs.String("addr", defaultAddr, "loopback address to serve on (a busy default port falls back to a free one)")
	noBrowser := fs.Bool("no-browser", false, "print the URL without opening a browser")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q; see -help", fs.Arg(0))
	}
	explicit := false
	fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "addr" })

	ln, err := listen(*addr, !explicit)
	if err != nil {
		return err
	}
	defer ln.Close()

	token := strings.TrimSpace(getenv("SENTRY_WHITE_UI_TOKEN"))
	if token == "" {
		token = configapi.NewToken()
	}
	log := slog.New(slog.NewTextHandler(stdout, nil))
	api, err := configapi.New(configapi.Options{
		Kinds:  kinds,
		Addr:   ln.Addr().String(),
		Token:  token,
		Getenv: getenv,
		Store:  *storeLoc,
		Logger: log,
	})
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/api/", api)
	mux.Handle("/", api.Guard(web.Handler()))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	u := "http://" + ln.Addr().String() + "/?token=" + token
	fmt.Fprintln(stdout, u)
	loc, source := api.StoreLocation()
	fmt.Fprintf(stdout, "sentry-white configurator: editing %s (%s); press Ctrl+C to stop\n", loc, describeSource(source))
	if ready != nil {
		ready <- ln.Addr().String()
	}
	if !*noBrowser {
		if err := openBrowser(u); err != nil {
			fmt.Fprintf(stdout, "could not open a browser (%v); open the URL above yourself\n", err)
		}
	}

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}

// listen binds a loopback address. A busy port falls back to a free one
// when fallback is set (the default address).
func listen(addr string, fallback bool) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("-addr %q: want 127.0.0.1:PORT", addr)
	}
	if ip := net.ParseIP(host); !strings.EqualFold(host, "localhost") && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("-addr %q: the configurator serves only this computer and holds your robots' secrets; use a loopback address such as 127.0.0.1:7788", addr)
	}
	if strings.EqualFold(host, "localhost") {
		addr = net.JoinHostPort("127.0.0.1", addr[strings.LastIndex(addr, ":")+1:])
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil && fallback {
		if ln, ferr := net.Listen("tcp", net.JoinHostPort(host, "0")); ferr == nil {
			return ln, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w", addr, err)
	}
	return ln, nil
}

func describeSource(source string) string {
	switch source {
	case "flag":
		return "from -store"
	case "env":
		return "from SENTRY_WHITE_STORE"
	case "settings":
		return "chosen on the settings page"
	}
	return "the default folder store"
}
