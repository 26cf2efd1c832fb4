# tguard: cargo builds the Rust static library, then go builds the CLI.
#
#   make run     build, index the Go distribution's sources, search them
#   make test    everything CI checks (installs what it needs first)
#   make test-quick  linters, go test -short, cargo test --lib: about a minute warm
#   make lint    gofmt, go vet, staticcheck, cargo fmt --check, clippy
#   make deps    the Debian packages the tests need (root, apt-get)
#   make stress  the proof harness at full size; writes docs/RELIABILITY.md
#   make bench   the benchmarks (docs/BENCHMARKS.md); make bench-quick: under 3 minutes

SHELL   := /bin/bash
GO      ?= go
CARGO   ?= cargo
# The Rust target triple; the library lands in rust/target/$(TRIPLE)/release,
# one folder per target, as bridge/link.go expects.
TRIPLE  ?= $(shell rustc -vV 2>/dev/null | sed -n 's/^host: //p')
RUSTLIB := rust/target/$(TRIPLE)/release/libtguard_bridge.a
BIN     := bin/tguard
RUN_DIR ?= .run

# Every Debian package a test needs, in one place: .ci/run and make test
# both go through "make deps".
DEB_PACKAGES := samba smbnetfs fuse3 spin util-linux mount e2fsprogs procps etcd-server

FUZZTIME ?= 20s

.PHONY: all build rust run test deps test-rust test-go test-header test-windows \
        test-model test-fuzz test-e2e stress bench bench-quick bench-tools clean \
        linux windows windows-rust deps-windows lint lint-go lint-rust test-quick \
        test-unprivileged

all: build

build: $(BIN)

rust:
	$(CARGO) build --release --locked --target $(TRIPLE) --manifest-path rust/Cargo.toml

$(RUSTLIB): rust

# go build does not look inside the Rust library that bridge's LDFLAGS
# name, and keeps an existing binary whose Go inputs are unchanged. Passing
# the library's hash as a link flag makes a new library a new link (and
# "tguard version" prints it).
RUSTLIB_LDFLAGS = -ldflags=-X=main.rustLibrary=$$(sha256sum $(RUSTLIB) | cut -c1-64)

$(BIN): rust
	$(GO) build $(RUSTLIB_LDFLAGS) -o $(BIN) ./cmd/tguard

run: build
	# A new index with a new journal: a journal kept from the last run would
	# apply its entries again to the new index (correct, but counted twice).
	rm -rf $(RUN_DIR)/index $(RUN_DIR)/journal.db $(RUN_DIR)/journal.db-* && mkdir -p $(RUN_DIR)
	./$(BIN) index --verbose --index $(RUN_DIR)/index --journal $(RUN_DIR)/journal.db "$$($(GO) env GOROOT)/src" 2>$(RUN_DIR)/skipped.log || { cat $(RUN_DIR)/skipped.log; exit 1; }
	@echo "(skipped files are listed in $(RUN_DIR)/skipped.log)"
	./$(BIN) stats --index $(RUN_DIR)/index
	./$(BIN) search --index $(RUN_DIR)/index --limit 5 "mutex starvation"
	./$(BIN) search --index $(RUN_DIR)/index --limit 5 '"garbage collector" +sweep'

deps:
	@bash tests/scripts/deps.sh $(DEB_PACKAGES) $(WIN_DEB_PACKAGES)

test: deps lint build test-header test-rust test-windows test-go test-model test-fuzz \
      test-unprivileged

# A test missing something it needs (root, the Samba share, etcd) skips with
# one line; under make test it fails instead (tests/prereq), and the long
# (chaos, fault) tests run.
REQUIRE_ALL := TGUARD_REQUIRE_ALL=1

# The contributor tier, about a minute with warm caches: no root, Samba,
# FUSE or etcd needed (what needs them skips with one line).
test-quick: lint rust
	$(GO) test -short -count=1 ./...
	$(CARGO) test --release --locked --target $(TRIPLE) --manifest-path rust/Cargo.toml --lib

# go test ./... as an ordinary user (made if missing when run as root), so
# that the tier really passes without privileges; see the script.
test-unprivileged: rust
	GO=$(GO) TRIPLE=$(TRIPLE) bash tests/scripts/unprivileged.sh

# Linters. staticcheck comes from the Go module proxy at a pinned version,
# installed once into its own folder under .run/tools (a new version, a new
# folder). gofmt looks at every Go file but the build outputs.
STATICCHECK_VERSION := v0.8.2
STATICCHECK = $(abspath $(RUN_DIR))/tools/staticcheck-$(STATICCHECK_VERSION)/staticcheck

$(STATICCHECK):
	GOBIN=$(dir $@) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

lint: lint-go lint-rust

lint-go: $(STATICCHECK)
	@unformatted=$$(find . \( -path ./rust/target -o -path ./$(RUN_DIR) -o -path ./.git \) -prune -o \
	  -name '*.go' -print | xargs gofmt -l); \
	if [ -n "$$unformatted" ]; then echo "gofmt -l: not formatted:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(GO) vet -tags failpoints ./cmd/... ./indexer/...
	$(STATICCHECK) ./...

lint-rust:
	$(CARGO) fmt --manifest-path rust/Cargo.toml --check
	$(CARGO) clippy --release --locked --target $(TRIPLE) --manifest-path rust/Cargo.toml --all-targets --all-features -- -D warnings

test-rust:
	$(CARGO) test --release --locked --target $(TRIPLE) --manifest-path rust/Cargo.toml

# The committed header must be what cbindgen makes of the committed sources.
test-header: rust
	@if git rev-parse --git-dir >/dev/null 2>&1; then \
	  git diff --exit-code -- bridge/tguard_bridge.h || { echo "bridge/tguard_bridge.h differs from a fresh one: commit it"; exit 1; }; \
	fi

# Cross-builds, one folder per GOOS_GOARCH (and per Rust triple).
LINUX_TRIPLE := x86_64-unknown-linux-gnu
LINUX_BIN    := bin/linux_amd64/tguard

linux:
	$(CARGO) build --release --locked --target $(LINUX_TRIPLE) --manifest-path rust/Cargo.toml
	CGO_ENABLED=1 GOOS=linux GOARCH=amd64 $(GO) build \
	  -ldflags=-X=main.rustLibrary=$$(sha256sum rust/target/$(LINUX_TRIPLE)/release/libtguard_bridge.a | cut -c1-64) \
	  -o $(LINUX_BIN) ./cmd/tguard

# Windows: Debian's Rust (rustc-web) builds the standard library for the
# target from its sources (no prebuilt Windows std exists for it), with its
# own CARGO_HOME under rust/target: rustup's toolchain and ~/.cargo are not
# touched, and later builds reuse rust/target/$(WIN_TRIPLE). The header is
# the committed one (it does not depend on the target). See tests/windows.
WIN_TRIPLE   := x86_64-pc-windows-gnu
WIN_RUSTLIB  := rust/target/$(WIN_TRIPLE)/release/libtguard_bridge.a
WIN_BIN      := bin/windows_amd64/tguard.exe
WIN_CC       := x86_64-w64-mingw32-gcc
WIN_DEB_PACKAGES := rustc-web cargo-web rust-web-src gcc-mingw-w64-x86-64 wine wine64
WIN_CARGO    := env CARGO_HOME=$(CURDIR)/rust/target/windows-cargo-home RUSTC=/usr/bin/rustc \
  RUSTDOC=/usr/bin/rustdoc RUSTC_BOOTSTRAP=1 TGUARD_SKIP_CBINDGEN=1 \
  CARGO_TARGET_X86_64_PC_WINDOWS_GNU_LINKER=$(WIN_CC) CC_x86_64_pc_windows_gnu=$(WIN_CC) \
  AR_x86_64_pc_windows_gnu=x86_64-w64-mingw32-ar /usr/bin/cargo
WIN_GO       := env CGO_ENABLED=1 GOOS=windows GOARCH=amd64 CC=$(WIN_CC) $(GO)

deps-windows:
	@bash tests/scripts/deps.sh $(WIN_DEB_PACKAGES)

windows-rust: deps-windows
	$(WIN_CARGO) build -Z build-std=std,panic_unwind --release --locked --target $(WIN_TRIPLE) \
	  --manifest-path rust/Cargo.toml

windows: windows-rust
	$(WIN_GO) build -ldflags=-X=main.rustLibrary=$$(sha256sum $(WIN_RUSTLIB) | cut -c1-64) \
	  -o $(WIN_BIN) ./cmd/tguard

# The Windows test binaries (bridge, lock, indexer, tests/windows) and
# tguard.exe, run under Wine (tests/windows/wine-test.sh says how).
test-windows: windows build
	GOOS=windows GOARCH=amd64 $(GO) vet ./lock/...
	GO=$(GO) RUN_DIR=$(RUN_DIR) WIN_BIN=$(WIN_BIN) bash tests/windows/wine-test.sh

# All Go tests (unit, multi-process, SMB share, end-to-end on bin/tguard),
# once under the race detector with cgo pointer checks on.
test-go: build
	$(REQUIRE_ALL) GODEBUG=cgocheck=1 $(GO) test -race -count=1 -timeout 20m ./...

test-model:
	bash tests/scripts/spin-check.sh

test-fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzParseRecord$$' -fuzztime $(FUZZTIME) ./lock/

test-e2e: build
	$(REQUIRE_ALL) $(GO) test -count=1 -timeout 10m ./tests/e2e/

# The proof harness at full size: the same tests make test runs
# with small defaults, without the race detector (it slows the processes,
# not the protocol), one package at a time (the share tests share port
# 445). tests/report writes docs/RELIABILITY.md from the run's own output
# and fails if a test failed; the raw stream is kept in .run/stress.json.
STRESS_PARAMS := $(REQUIRE_ALL) TGUARD_LOCAL_CYCLES=2000 TGUARD_SHARELOCK_CYCLES=500 TGUARD_SHARELOCK_ROUNDS=20 \
                 TGUARD_CHAOS_KILLS=120 TGUARD_PAUSE_TRIALS=30
STRESS_TESTS  := ^(TestLocalDisk|TestShareLock|TestZombiesAcrossHosts|TestChaosKills|TestBadInput.*|TestPrimitives)$$

stress: deps build
	@mkdir -p $(RUN_DIR)
	set -o pipefail; $(STRESS_PARAMS) $(GO) test -json -count=1 -p 1 -timeout 85m -run '$(STRESS_TESTS)' \
	  ./tests/sharelock/ ./tests/shareindex/ ./tests/e2e/ ./tests/share/ | tee $(RUN_DIR)/stress.json | \
	  $(STRESS_PARAMS) $(GO) run ./tests/report -out docs/RELIABILITY.md -cmd "make stress"

# Benchmarks (tests/bench): the native Rust baseline is a Cargo example,
# built into the same target-triple folder as the library.
NATIVE_INDEX := rust/target/$(TRIPLE)/release/examples/native_index
BENCH_BIN    := bin/tguard-bench

# tantivy-cli, the baseline of bench job 7: the newest release that builds
# here, installed once into .run/tools and kept (without --locked: its
# lock file pins a crate that no longer compiles). Its version goes into
# the report.
TOOLS_DIR   := $(RUN_DIR)/tools
TANTIVY_CLI := $(TOOLS_DIR)/bin/tantivy
BENCH_ARGS   = -tguard $(BIN) -native $(NATIVE_INDEX) -tantivy-cli $(TANTIVY_CLI) \
               -tantivy-cli-version "$$(cat $(TOOLS_DIR)/tantivy-cli.version)"

$(TANTIVY_CLI):
	$(CARGO) install tantivy-cli --root $(TOOLS_DIR) --target-dir $(TOOLS_DIR)/target

# Its version, and the Tantivy version its release was built with.
$(TOOLS_DIR)/tantivy-cli.version: $(TANTIVY_CLI)
	echo "$$($(CARGO) install --list --root $(TOOLS_DIR) | sed -n 's/^tantivy-cli v\([^:]*\):.*/\1/p') ($$(grep -ho 'tantivy-0\.[0-9.]*/src/lib.rs' $(TOOLS_DIR)/target/release/deps/*.d | sort -u | sed 's|/src/lib.rs||'))" > $(TOOLS_DIR)/tantivy-cli.version

bench-tools: build $(TOOLS_DIR)/tantivy-cli.version
	$(CARGO) build --release --locked --target $(TRIPLE) --manifest-path rust/Cargo.toml --features bench --example native_index
	$(GO) build $(RUSTLIB_LDFLAGS) -o $(BENCH_BIN) ./tests/bench

bench: bench-tools
	./$(BENCH_BIN) $(BENCH_ARGS)

bench-quick: bench-tools
	./$(BENCH_BIN) -quick $(BENCH_ARGS)

clean:
	rm -rf bin $(RUN_DIR)
	$(CARGO) clean --manifest-path rust/Cargo.toml
