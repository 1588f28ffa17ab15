# sentry-white — build, run and test. Everything runs offline on loopback.
GO      ?= go
# STORE is the store `make run` and `make relay` use; unset, the configurator
# uses the store chosen on its settings page (else ./sentry-white-data) and
# the relay ./sentry-white-data. ARGS adds flags of the program's own:
# make run ARGS=-no-browser, make relay ARGS='-lang en'.
STORE   ?=
ARGS    ?=
FUZZTIME ?= 10s
export CGO_ENABLED ?= 0

.PHONY: all build run relay test test-short fuzz lint fc-zip dist bench screenshots clean

all: build

## build: both programs into bin/
build:
	$(GO) build -o bin/ ./cmd/...

## run: the configurator (the store chosen on its settings page, or STORE=…; flags in ARGS=…, e.g.
##      ARGS=-no-browser); prints the loopback URL
run:
	$(GO) run ./cmd/sentry-white$(if $(STORE), -store $(STORE))$(if $(ARGS), $(ARGS))

## relay: the relay on the local folder store, or STORE=… (port 9000; flags in ARGS=…)
relay:
	$(GO) run ./cmd/sentry-white-fc -store $(or $(STORE),file:./sentry-white-data) -addr 127.0.0.1:9000$(if $(ARGS), $(ARGS))

## test: vet, every test under the race detector (browser tests included), a short fuzz of each parser
##       (and of the field types of the real Sentry bodies in testdata/sentry/real)
test: lint
	CGO_ENABLED=1 $(GO) test -race -count=1 ./...
	$(MAKE) fuzz

## test-short: the unit tests without the race detector
test-short:
	$(GO) test -count=1 ./...

fuzz:
	$(GO) test -run='^$$' -fuzz='^FuzzParse$$' -fuzztime=$(FUZZTIME) ./internal/sentry
	$(GO) test -run='^$$' -fuzz='^FuzzRealTypes$$' -fuzztime=$(FUZZTIME) ./internal/sentry
	$(GO) test -run='^$$' -fuzz='^FuzzParse$$' -fuzztime=$(FUZZTIME) ./internal/config

## lint: go vet and gofmt
lint:
	$(GO) vet ./...
	@out=$$(gofmt -l cmd internal tools web); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

## fc-zip: dist/sentry-white-fc.zip holding bootstrap (static linux/amd64)
fc-zip:
	$(GO) run ./tools/fc-zip -o dist/sentry-white-fc.zip

## dist: release binaries of the configurator for Windows, macOS, Linux, and the FC zip
dist: fc-zip
	GOOS=windows GOARCH=amd64 $(GO) build -trimpath -ldflags "-s -w" -o dist/sentry-white-windows-amd64.exe ./cmd/sentry-white
	GOOS=darwin  GOARCH=arm64 $(GO) build -trimpath -ldflags "-s -w" -o dist/sentry-white-darwin-arm64 ./cmd/sentry-white
	GOOS=darwin  GOARCH=amd64 $(GO) build -trimpath -ldflags "-s -w" -o dist/sentry-white-darwin-amd64 ./cmd/sentry-white
	GOOS=linux   GOARCH=amd64 $(GO) build -trimpath -ldflags "-s -w" -o dist/sentry-white-linux-amd64 ./cmd/sentry-white

## screenshots: rewrite docs/screenshots/*.png from the browser tests (needs Chromium): every page
##              in both languages at 1280 px (<page>-<lang>.png) and at 390 px (<page>-<lang>-390.png)
screenshots:
	$(GO) test -count=1 -run '^TestBrowser' ./cmd/sentry-white -update

## bench: Go benchmarks, the relay beside a direct-to-robot baseline and the relay of 534f2bd (5 rounds),
##        cold start, cost on FC, and the relay beside e24e791 and a minimal relay in cgroups shaped like
##        FC's instance sizes (as root; skipped without); rewrites BENCHMARKS.md and the README's bench
##        section (about 12 minutes)
bench:
	$(GO) run ./tools/bench -o BENCHMARKS.md

clean:
	rm -rf bin dist
