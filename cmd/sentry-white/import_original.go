package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/sentry-white/sentry-white/internal/configapi"
	"github.com/sentry-white/sentry-white/internal/notifiers"
)

// importOriginal is `sentry-white import-original`: it converts the original
// sentry-white's objects in the store (api/v1/originals, projects, robots,
// responsible_people) into api/v1/config.json, as the page's 从旧版导入
// does, and prints what it created and what it could not. It fails only
// when nothing could be read (no such data, the store unreachable) or the
// write failed (contract §6). A document already there is replaced, and
// kept in the history; -dry-run shows first what would be replaced.
func importOriginal(ctx context.Context, kinds *notifiers.Registry, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("sentry-white import-original", flag.ContinueOnError)
	fs.SetOutput(stdout)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: sentry-white import-original [-store LOC] [-dry-run]")
		fmt.Fprintln(fs.Output(), "Converts the original sentry-white's data (api/v1/originals, projects, robots, responsible_people) into api/v1/config.json; the original's objects are left as they are.")
		fs.PrintDefaults()
	}
	storeLoc := fs.String("store", "", "the store holding the original's data: file:DIR or oss://BUCKET/PREFIX (default: env SENTRY_WHITE_STORE, else the store chosen on the settings page, else ./sentry-white-data)")
	// Replacing is the default (the contract fails the command only when
	// nothing could be read); -replace is still accepted from scripts
	// written for the version that asked for it.
	_ = fs.Bool("replace", true, "accepted for compatibility: a document already in the store is always replaced, and kept in the history")
	dryRun := fs.Bool("dry-run", false, "print what would be created without writing")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("import-original: unexpected argument %q; see -help", fs.Arg(0))
	}
	// The configurator's own API resolves the store (flag, environment,
	// settings file) and does the import, so the command and the page
	// behave the same. It serves nothing here.
	api, err := configapi.New(configapi.Options{Kinds: kinds, Addr: "127.0.0.1:0", Token: configapi.NewToken(), Getenv: getenv, Store: *storeLoc})
	if err != nil {
		return err
	}
	res, err := api.ImportOriginal(ctx, configapi.ImportOriginalOptions{Replace: true, DryRun: *dryRun})
	if err != nil {
		return fmt.Errorf("import-original: %w", err)
	}
	loc, _ := api.StoreLocation()
	fmt.Fprint(stdout, res.Report.Text())
	c := res.Counts
	summary := fmt.Sprintf("%d organizations, %d owners, %d robots, %d projects", c["organizations"], c["owners"], c["robots"], c["projects"])
	switch {
	case res.Identical:
		fmt.Fprintf(stdout, "\nNothing to write: api/v1/config.json in %s already holds this configuration (%s).\n", loc, summary)
	case *dryRun:
		fmt.Fprintf(stdout, "\nDry run: nothing written. Without -dry-run, api/v1/config.json in %s would get %s", loc, summary)
		if res.Replaced {
			fmt.Fprint(stdout, ", replacing the document there")
		}
		fmt.Fprintln(stdout, ".")
	default:
		fmt.Fprintf(stdout, "\nWrote api/v1/config.json in %s: %s", loc, summary)
		if res.Replaced {
			fmt.Fprint(stdout, " (the document it replaced is kept in the history: sentry-white's 历史 / 历史版本 / History page restores it)")
		}
		fmt.Fprintln(stdout, ". The original's objects are left as they were, so it keeps running until Sentry gets the new URL.")
	}
	if len(res.Risky) > 0 && !res.Identical {
		fmt.Fprintln(stdout, "\nRisky changes to the configuration there (check them; the History page restores the version replaced):")
		for _, r := range res.Risky {
			fmt.Fprintln(stdout, "  - "+r)
		}
	}
	if !*dryRun {
		fmt.Fprintln(stdout, "\nSentry needs one change: in each project's WebHooks plugin (Alerts → WEBHOOKS → Callback URLs), replace the original function's URL"+
			" with the new relay's URL followed by ?token=<webhook token>. Run sentry-white and open its Webhook page (Webhook 接入) to copy that URL.")
	}
	return nil
}
