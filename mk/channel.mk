# Channels and the AuthGuard (core/src/channel): criterion benches for name parse + hash and the
# guard's per-packet fast path (targets in docs/channels.md). Their tests are plain `cargo test`
# targets and run under `make test` already.
.PHONY: bench-channel
BENCH_TARGETS += bench-channel

bench-channel:
	$(CARGO) bench -p net-mesh --bench channel
