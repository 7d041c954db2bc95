# Channels and the AuthGuard (core/src/channel): criterion benches for name parse + hash and the
# guard's per-packet fast path (targets in docs/channels.md). Their tests are plain `cargo test`
# targets and run under `make test` already.
.PHONY: bench-channel
BENCH_TARGETS += bench-channel

bench-channel:
	$(CARGO) bench -p net-mesh --bench channel

# channels.json re-derived by gen_channels.py: its own XXH3 written from the specification in
# plain python3 (also compared with the C reference when the `xxhash` package is installed).
.PHONY: test-channel-fixture
TEST_TARGETS += test-channel-fixture

test-channel-fixture:
	python3 tests/cross_lang/wire/gen_channels.py --check
