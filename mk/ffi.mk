# libnet: the C ABI (ffi/, include/net.h), its C tests and example, and the Go module (go/).
#
#   make libnet          debug libnet.a + libnet.so in $(LIBNET_DEBUG)
#   make libnet-release  release build in $(LIBNET_RELEASE)
#   make ffi-header      regenerate the checked-in include/net.h
#   make test-c          C tests (gcc + libnet.a) under valgrind, plus the example (static and shared)
#   make test-go         go vet + go test -race (links libnet.a statically), then the
#                        allocation test without -race (sync.Pool is randomized under -race)
#   make bench-ffi       C vs Rust ingest_raw (criterion) and the C bench program
#   make bench-go        go test -bench (IngestRaw, IngestRawBatch)
#
# The ffi crate's lib is named `net_ffi` (the engine already owns the name `net`), so cargo
# writes libnet_ffi.{a,so}; the rules below publish them under the names C and Go link against.

LIBNET_DEBUG := $(CARGO_TARGET_DIR)/libnet/debug
LIBNET_RELEASE := $(CARGO_TARGET_DIR)/libnet/release
# What a static link of a Rust staticlib needs on Linux (`--print native-static-libs`).
LIBNET_SYSLIBS := -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc
LIBNET_CFLAGS := -std=c11 -Wall -Wextra -Werror -pedantic -g -Iinclude
GO ?= go
GO_DIR := $(CURDIR)/go
VALGRIND := valgrind --quiet --error-exitcode=99 --leak-check=full \
	--show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=definite,indirect,possible

TEST_TARGETS += test-c test-go
BENCH_TARGETS += bench-ffi bench-go

.PHONY: libnet libnet-release ffi-header test-c test-go bench-ffi bench-go ffi-tools go-lib go-lib-release

# Publish cargo's libnet_ffi.{a,so} of profile $(1) as libnet.{a,so} in $(2) (hard link when
# possible: the debug archive is hundreds of MB).
define publish_libnet
	@mkdir -p $(2)
	@for ext in a so; do \
		ln -f $(CARGO_TARGET_DIR)/$(1)/libnet_ffi.$$ext $(2)/libnet.$$ext 2>/dev/null || \
		cp -f $(CARGO_TARGET_DIR)/$(1)/libnet_ffi.$$ext $(2)/libnet.$$ext; \
	done
endef

libnet:
	$(CARGO) build -p net-mesh-ffi --lib
	$(call publish_libnet,debug,$(LIBNET_DEBUG))

libnet-release:
	$(CARGO) build --release -p net-mesh-ffi --lib
	$(call publish_libnet,release,$(LIBNET_RELEASE))

ffi-header:
	NET_BLESS=1 $(CARGO) test -p net-mesh-ffi --test header

# Installs what the C and Go targets need when it is missing (a fresh machine).
ffi-tools:
	@command -v gcc >/dev/null || { apt-get update -qq && apt-get install -y -qq --no-install-recommends gcc libc6-dev; }
	@command -v valgrind >/dev/null || { apt-get update -qq && apt-get install -y -qq --no-install-recommends valgrind; }
	@command -v $(GO) >/dev/null || { echo "go not found: install Go >= 1.24 (https://go.dev/dl)"; exit 1; }

test-c: ffi-tools libnet
	@mkdir -p $(LIBNET_DEBUG)/bin
	gcc $(LIBNET_CFLAGS) -o $(LIBNET_DEBUG)/bin/test_net ffi/tests/c/test_net.c \
		$(LIBNET_DEBUG)/libnet.a $(LIBNET_SYSLIBS)
	$(VALGRIND) $(LIBNET_DEBUG)/bin/test_net
	gcc $(LIBNET_CFLAGS) -o $(LIBNET_DEBUG)/bin/hello examples/c/hello.c \
		$(LIBNET_DEBUG)/libnet.a $(LIBNET_SYSLIBS)
	$(VALGRIND) $(LIBNET_DEBUG)/bin/hello > /dev/null
	gcc $(LIBNET_CFLAGS) -o $(LIBNET_DEBUG)/bin/hello_shared examples/c/hello.c \
		-L$(LIBNET_DEBUG) -lnet
	LD_LIBRARY_PATH=$(LIBNET_DEBUG) $(LIBNET_DEBUG)/bin/hello_shared > /dev/null
	@if command -v g++ >/dev/null; then \
		printf '#include "net.h"\nint main() { return NET_OK; }\n' | \
		g++ -x c++ -std=c++17 -fsyntax-only -Wall -Wextra -Werror -Iinclude -; fi
	@echo "test-c: C tests and example passed under valgrind"

# Go links go/lib/libnet.a (a fixed path for `#cgo LDFLAGS`), published from the debug build
# for tests and from the release build for benches. Go's build cache keys the cgo package on
# its sources and flags, not on the archive `#cgo LDFLAGS` names: after the archive is replaced
# (debug <-> release, or rebuilt) go would reuse a test binary linked against the previous one
# (`make bench-go` after `make test-go` timed the debug library). GO_ENV therefore puts a stamp
# of the archive (mtime, size, inode) into CGO_CFLAGS, so every new archive is a new cache key;
# `-count=1` only stops go from reusing test results. Use $(GO_ENV) for every go command that
# links libnet.
GO_ENV = CGO_ENABLED=1 CGO_CFLAGS="-O2 -g -DNET_LIBNET_STAMP=$(shell stat -c '%Y_%s_%i' $(GO_DIR)/lib/libnet.a 2>/dev/null)"

go-lib: libnet
	@mkdir -p $(GO_DIR)/lib
	@ln -f $(LIBNET_DEBUG)/libnet.a $(GO_DIR)/lib/libnet.a 2>/dev/null || cp -f $(LIBNET_DEBUG)/libnet.a $(GO_DIR)/lib/libnet.a

go-lib-release: libnet-release
	@mkdir -p $(GO_DIR)/lib
	@ln -f $(LIBNET_RELEASE)/libnet.a $(GO_DIR)/lib/libnet.a 2>/dev/null || cp -f $(LIBNET_RELEASE)/libnet.a $(GO_DIR)/lib/libnet.a

test-go: ffi-tools go-lib
	cd $(GO_DIR) && $(GO_ENV) $(GO) vet ./...
	cd $(GO_DIR) && $(GO_ENV) $(GO) test -race -count=1 ./...
	cd $(GO_DIR) && $(GO_ENV) $(GO) test -count=1 -run 'Allocate|StaticallyLinked' ./...

bench-ffi: ffi-tools libnet-release
	$(CARGO) bench -p net-mesh-ffi --bench ingest
	@mkdir -p $(LIBNET_RELEASE)/bin
	gcc -std=c11 -O2 -Iinclude -o $(LIBNET_RELEASE)/bin/bench_ingest ffi/tests/c/bench_ingest.c \
		$(LIBNET_RELEASE)/libnet.a $(LIBNET_SYSLIBS)
	$(LIBNET_RELEASE)/bin/bench_ingest

bench-go: ffi-tools go-lib-release
	cd $(GO_DIR) && $(GO_ENV) $(GO) test -count=1 -run '^$$' -bench . -benchmem ./...
