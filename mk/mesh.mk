# The mesh benches (core/benches/{mesh,relay,mesh_bus}.rs): header and AEAD, two nodes over
# loopback against plain UDP, round trips, the per-hop relay decision, and bus -> mesh -> bus.
# Their tests (real UDP on 127.0.0.1, a seeded simulated network) are plain `cargo test`
# targets and run under `make test` already.
.PHONY: bench-mesh
BENCH_TARGETS += bench-mesh

bench-mesh:
	$(CARGO) bench -p net-mesh --bench mesh --bench relay --bench mesh_bus
