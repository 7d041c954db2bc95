# RedEX / CortEX: the criterion benches (append throughput, tail latency, group commit).
# Their tests (including the SIGKILL crash test, which re-runs its own test binary as the
# child) are plain `cargo test` targets and run under `make test` already.
.PHONY: bench-redex
BENCH_TARGETS += bench-redex

bench-redex:
	$(CARGO) bench -p net-mesh --bench redex
