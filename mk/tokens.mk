# The permission-token benches (core/benches/token.rs): one token's ed25519 verify, a two-link
# chain through TokenVerifier with and without its cache, and chain parsing. Their tests
# (core/tests/token_*.rs) are plain `cargo test` targets and run under `make test` already.
.PHONY: bench-tokens
BENCH_TARGETS += bench-tokens

bench-tokens:
	$(CARGO) bench -p net-mesh --bench token

# tokens.json re-derived from the documented layout by an implementation independent of the
# engine (Python's hashlib and `cryptography`); skipped with a note where that package is missing.
.PHONY: test-token-fixture
TEST_TARGETS += test-token-fixture

test-token-fixture:
	@if python3 -c 'import cryptography' 2>/dev/null; then \
		python3 tests/cross_lang/wire/check_tokens.py; \
	else \
		echo "skip: tests/cross_lang/wire/check_tokens.py needs python3 with the cryptography package"; \
	fi
