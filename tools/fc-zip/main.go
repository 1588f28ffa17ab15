// Command fc-zip packages the relay for Aliyun Function Compute: it builds
// cmd/sentry-white-fc as a static linux/amd64 executable and writes a zip
// holding exactly one entry, bootstrap, with its run bit (mode 0755) stored
// in the zip, so a custom runtime can start /code/bootstrap. It builds the
// same from Linux, macOS and Windows hosts (zip tools on Windows lose the
// run bit; this does not).
//
//	go run ./tools/fc-zip -o dist/sentry-white-fc.zip
package main

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
)

// relayPkg is the relay's import path; it builds from any directory inside
// the module.
const relayPkg = "github.com/sentry-white/sentry-white/cmd/sentry-white-fc"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "fc-zip:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("fc-zip", flag.ContinueOnError)
	fs.SetOutput(stdout)
	out := fs.String("o", filepath.Join("dist", "sentry-white-fc.zip"), "the zip to write")
	pkg := fs.String("pkg", relayPkg, "the package to build as bootstrap")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q; use -o FILE", fs.Args())
	}

	tmp, err := os.MkdirTemp("", "fc-zip-*")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "bootstrap")
	if err := build(ctx, *pkg, bin); err != nil {
		return err
	}
	zipped, unpacked, err := writeZip(*out, bin)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %s zipped; bootstrap is %s unpacked (static linux/amd64, mode 0755)\n",
		*out, size(zipped), size(unpacked))
	return nil
}

// build runs go build for linux/amd64 with cgo off, so the result has no
// dynamic loader and no libc dependency, whatever the host.
func build(ctx context.Context, pkg, out string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags", "-s -w", "-o", out, pkg)
	// Later entries win over the inherited ones (make test exports
	// CGO_ENABLED=1 for -race; the zip must not be cgo). GOAMD64=v1 runs on
	// any x86-64 host.
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=amd64", "CGO_ENABLED=0", "GOAMD64=v1")
	var msg bytes.Buffer
	cmd.Stdout, cmd.Stderr = &msg, &msg
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build %s: %w\n%s", pkg, err, strings.TrimSpace(msg.String()))
	}
	return nil
}

// writeZip writes out holding bin as "bootstrap", deflated, with Unix mode
// 0755 in its external attributes (creator Unix). It returns the sizes of
// the zip and of bin.
func writeZip(out, bin string) (zipped, unpacked int64, err error) {
	data, err := os.ReadFile(bin)
	if err != nil {
		return 0, 0, err
	}
	st, err := os.Stat(bin)
	if err != nil {
		return 0, 0, err
	}
	if dir := filepath.Dir(out); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return 0, 0, err
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".tmp-*")
	if err != nil {
		return 0, 0, err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	zw := zip.NewWriter(tmp)
	hdr := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate, Modified: st.ModTime()}
	hdr.SetMode(0o755) // regular file, rwxr-xr-x; sets the Unix creator
	w, err := zw.CreateHeader(hdr)
	if err == nil {
		_, err = w.Write(data)
	}
	if err == nil {
		err = zw.Close()
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, 0, fmt.Errorf("write %s: %w", out, err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil { // CreateTemp makes it private
		return 0, 0, fmt.Errorf("write %s: %w", out, err)
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return 0, 0, fmt.Errorf("write %s: %w", out, err)
	}
	zst, err := os.Stat(out)
	if err != nil {
		return 0, 0, err
	}
	return zst.Size(), int64(len(data)), nil
}

// size formats a byte count in MB with one decimal (and the exact bytes).
func size(n int64) string {
	return fmt.Sprintf("%.1f MB (%d bytes)", float64(n)/(1<<20), n)
}
