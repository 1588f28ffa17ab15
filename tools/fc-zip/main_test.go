package main

import (
	"archive/zip"
	"bytes"
	"context"
	"debug/buildinfo"
	"debug/elf"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// TestZip builds the real relay and checks what Function Compute needs:
// one entry named bootstrap, run bit set in the zip, a static
// linux/amd64 ELF executable.
func TestZip(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the relay; skipped with -short")
	}
	out := filepath.Join(t.TempDir(), "dist", "sentry-white-fc.zip")
	var stdout bytes.Buffer
	if err := run(context.Background(), []string{"-o", out}, &stdout); err != nil {
		t.Fatal(err)
	}
	if msg := stdout.String(); !strings.Contains(msg, "zipped") || !strings.Contains(msg, "unpacked") {
		t.Errorf("output %q does not state the zip and unpacked sizes", msg)
	}

	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if len(zr.File) != 1 {
		t.Fatalf("the zip holds %d entries, want exactly 1", len(zr.File))
	}
	f := zr.File[0]
	if f.Name != "bootstrap" {
		t.Errorf("entry %q, want bootstrap", f.Name)
	}
	if got := f.Mode(); got != 0o755 {
		t.Errorf("mode %v, want -rwxr-xr-x", got)
	}
	if creator := f.CreatorVersion >> 8; creator != 3 {
		t.Errorf("creator %d, want 3 (Unix) so the external attributes hold the mode", creator)
	}
	if unixMode := fs.FileMode(f.ExternalAttrs >> 16); unixMode != 0o100755 {
		t.Errorf("Unix mode in the external attributes %o, want 100755", uint32(unixMode))
	}
	if f.Method != zip.Deflate {
		t.Errorf("method %d, want deflate", f.Method)
	}
	rc, err := f.Open()
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("\x7fELF")) {
		t.Fatalf("bootstrap starts %q, want the ELF magic", data[:4])
	}

	ef, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if ef.Class != elf.ELFCLASS64 || ef.Machine != elf.EM_X86_64 || ef.Type != elf.ET_EXEC {
		t.Errorf("ELF %v %v %v, want ELFCLASS64 EM_X86_64 ET_EXEC", ef.Class, ef.Machine, ef.Type)
	}
	for _, p := range ef.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("bootstrap has a PT_INTERP header: it is dynamically linked")
		}
		if p.Type == elf.PT_DYNAMIC {
			t.Error("bootstrap has a PT_DYNAMIC header: it is dynamically linked")
		}
	}
	if s := ef.Section(".interp"); s != nil {
		t.Error("bootstrap has an .interp section")
	}
	if libs, err := ef.ImportedLibraries(); err == nil && len(libs) > 0 {
		t.Errorf("bootstrap needs %v (DT_NEEDED)", libs)
	}

	bi, err := buildinfo.Read(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	// go omits -ldflags from the build info under -trimpath; check its
	// effect instead: -s drops the symbol table, -w the DWARF.
	for _, s := range ef.Sections {
		if s.Name == ".symtab" || strings.HasPrefix(s.Name, ".debug_") || strings.HasPrefix(s.Name, ".zdebug_") {
			t.Errorf("bootstrap keeps section %s; want it stripped (-ldflags \"-s -w\")", s.Name)
		}
	}
	for k, want := range map[string]string{"GOOS": "linux", "GOARCH": "amd64", "CGO_ENABLED": "0", "-trimpath": "true"} {
		if got := settings[k]; got != want {
			t.Errorf("build setting %s = %q, want %q", k, got, want)
		}
	}
	if bi.Path != relayPkg {
		t.Errorf("bootstrap is %s, want %s", bi.Path, relayPkg)
	}
}

func TestBadInvocations(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-o", filepath.Join(dir, "x.zip"), "extra"}, &out); err == nil {
		t.Error("a stray argument was accepted")
	}
	if err := run(context.Background(), []string{"-nope"}, &out); err == nil {
		t.Error("an unknown flag was accepted")
	}
	err := run(context.Background(), []string{"-o", filepath.Join(dir, "x.zip"), "-pkg", "github.com/sentry-white/sentry-white/cmd/does-not-exist"}, &out)
	if err == nil || !strings.Contains(err.Error(), "go build") {
		t.Errorf("building a missing package: %v, want a go build error", err)
	}
	if _, statErr := zip.OpenReader(filepath.Join(dir, "x.zip")); statErr == nil {
		t.Error("a failed build left a zip behind")
	}
}
