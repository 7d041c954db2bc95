# The membership bench (core/benches/fanout.rs): publish fan-out to 8 subscribers over
# loopback (target >= 500k events/s delivered in total). The membership tests (real UDP on
# 127.0.0.1: core/tests/membership_*.rs) are plain `cargo test` targets and run under
# `make test` already.
.PHONY: bench-membership
BENCH_TARGETS += bench-membership

bench-membership:
	$(CARGO) bench -p net-mesh --bench fanout
