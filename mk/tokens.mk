# The permission-token benches (core/benches/token.rs): one token's ed25519 verify, a two-link
# chain through TokenVerifier with and without its cache, and chain parsing. Their tests
# (core/tests/token_*.rs) are plain `cargo test` targets and run under `make test` already.
.PHONY: bench-tokens
BENCH_TARGETS += bench-tokens

bench-tokens:
	$(CARGO) bench -p net-mesh --bench token
