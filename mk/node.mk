# Node skin: the napi-rs addon `@net-mesh/core` (bindings/node) and the TypeScript SDK
# `@net-mesh/sdk` (sdk-ts). Included by the root Makefile (`-include mk/*.mk`).
#
#   make test-node    debug addon, npm ci, tsc --strict check, vitest (Node 20, vitest 4)
#   make bench-node   release addon, SDK build, bench/bench.mjs (SDK next to the engine)
#   make node         release addon + SDK build, ready to `npm install` from another project
#
# The addon is built with plain cargo into the workspace target dir and copied to
# bindings/node/net-mesh-core.node (see bindings/node/scripts/build-addon.mjs).

NODE ?= node
NPM ?= npm
NODE_CORE := bindings/node
NODE_SDK := sdk-ts

.PHONY: node node-toolchain node-addon node-addon-release node-deps test-node bench-node

TEST_TARGETS += test-node
BENCH_TARGETS += bench-node

node-toolchain:
	@command -v $(NODE) >/dev/null || { echo "node not found: install Node.js 20 or newer"; exit 1; }
	@command -v $(NPM) >/dev/null || { echo "npm not found: install npm"; exit 1; }
	@$(NODE) -e 'process.exit(+process.versions.node.split(".")[0] >= 20 ? 0 : 1)' \
		|| { echo "Node.js 20 or newer is required (found $$($(NODE) --version))"; exit 1; }

node-addon: node-toolchain
	$(NODE) $(NODE_CORE)/scripts/build-addon.mjs

node-addon-release: node-toolchain
	$(NODE) $(NODE_CORE)/scripts/build-addon.mjs --release

node-deps: node-toolchain
	cd $(NODE_SDK) && $(NPM) ci --no-audit --no-fund

test-node: node-addon node-deps
	cd $(NODE_SDK) && $(NPM) run --silent typecheck
	cd $(NODE_SDK) && CI=1 NO_COLOR=1 $(NPM) exec -- vitest run

bench-node: node-addon-release node-deps
	cd $(NODE_SDK) && $(NPM) run --silent build
	cd $(NODE_SDK) && $(NODE) bench/bench.mjs

node: node-addon-release node-deps
	cd $(NODE_SDK) && $(NPM) run --silent build
