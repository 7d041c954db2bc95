# net-mesh: the one entry point. `make run` builds and runs the demo; `make test` installs what
# is missing, builds every language and runs every suite; `make bench` runs the benchmarks.
SHELL := /bin/bash
CARGO ?= cargo
export CARGO_TARGET_DIR ?= $(CURDIR)/target
export CARGO_TERM_COLOR ?= never

.PHONY: run test bench lint fmt rust-test toolchain

# Each language skin adds its own fragment in mk/ that appends its targets to these lists.
TEST_TARGETS :=
BENCH_TARGETS :=
-include mk/*.mk

run:
	$(CARGO) run --release -q -p net-mesh-cli --bin net -- demo

test: toolchain lint rust-test $(TEST_TARGETS)

toolchain:
	@command -v $(CARGO) >/dev/null || { echo "cargo not found: install Rust (rustup)"; exit 1; }
	@rustup component list --installed 2>/dev/null | grep -q clippy || rustup component add clippy rustfmt

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

rust-test:
	$(CARGO) test --workspace --all-targets
	$(CARGO) test --workspace --doc

bench:
	$(CARGO) bench -p net-mesh --bench bus
	$(CARGO) run --release -q -p net-mesh-cli --bin net -- bench
	$(if $(strip $(BENCH_TARGETS)),$(MAKE) --no-print-directory $(BENCH_TARGETS))

fmt:
	$(CARGO) fmt --all
