# The Redis Streams and NATS JetStream adapters (core/src/adapter/redis, jetstream), tested and
# benchmarked against real servers.
#
#   make test-adapters    start redis-server and nats-server -js on free 127.0.0.1 ports, run
#                         core/tests/adapter_{redis,jetstream}.rs against them, stop them
#   make test-adapters-skins
#                         the same servers; the live adapter tests of the Go, Node and Python
#                         skins (go/adapters_live_test.go, sdk-ts/test/adapters-live.test.ts,
#                         sdk-py/tests/test_adapters_live.py), which skip themselves elsewhere
#   make bench-adapters   the same servers; core/benches/adapters.rs with its peers
#                         (redis-benchmark, a plain async-nats publisher) measured in the same run
#
# The servers come from Debian (installed here when missing). Tests read NET_TEST_REDIS_URL /
# NET_TEST_NATS_URL, the bench NET_BENCH_REDIS_URL / NET_BENCH_NATS_URL. The servers are stopped
# by PID in an EXIT trap that keeps the command's exit status.

TEST_TARGETS += test-adapters test-adapters-skins
BENCH_TARGETS += bench-adapters

ADAPTER_PACKAGES := redis-server redis-tools nats-server netcat-openbsd

.PHONY: adapter-servers test-adapters test-adapters-skins bench-adapters

adapter-servers:
	@for tool in redis-server redis-cli redis-benchmark nats-server nc python3; do \
		command -v $$tool >/dev/null || missing=1; \
	done; \
	if [ -n "$$missing" ]; then \
		sudo=; [ "$$(id -u)" = 0 ] || sudo=sudo; \
		$$sudo apt-get update -qq && \
		$$sudo apt-get install -y -qq --no-install-recommends $(ADAPTER_PACKAGES) >/dev/null; \
	fi

# $(call with_adapter_servers,COMMAND): run COMMAND with both servers up and their URLs exported.
define with_adapter_servers
	@set -euo pipefail; \
	free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }; \
	dir=$$(mktemp -d); rport=$$(free_port); nport=$$(free_port); \
	while [ "$$nport" = "$$rport" ]; do nport=$$(free_port); done; \
	redis-server --bind 127.0.0.1 --port $$rport --save '' --appendonly no --dir "$$dir" \
		>"$$dir/redis.log" 2>&1 & rpid=$$!; \
	nats-server -a 127.0.0.1 -p $$nport -js -sd "$$dir/js" >"$$dir/nats.log" 2>&1 & npid=$$!; \
	stop() { rc=$$?; kill $$rpid $$npid 2>/dev/null || true; \
		wait $$rpid $$npid 2>/dev/null || true; rm -rf "$$dir" || true; exit $$rc; }; \
	trap stop EXIT; \
	for _ in $$(seq 100); do \
		redis-cli -p $$rport ping >/dev/null 2>&1 && nc -z 127.0.0.1 $$nport 2>/dev/null && break; \
		sleep 0.1; \
	done; \
	redis-cli -p $$rport ping >/dev/null || { cat "$$dir/redis.log"; echo "redis-server did not start"; exit 1; }; \
	nc -z 127.0.0.1 $$nport || { cat "$$dir/nats.log"; echo "nats-server did not start"; exit 1; }; \
	echo "adapter servers: redis on $$rport, nats on $$nport"; \
	export NET_TEST_REDIS_URL=redis://127.0.0.1:$$rport NET_TEST_NATS_URL=nats://127.0.0.1:$$nport; \
	export NET_BENCH_REDIS_URL=$$NET_TEST_REDIS_URL NET_BENCH_NATS_URL=$$NET_TEST_NATS_URL; \
	$(1)
endef

test-adapters: adapter-servers
	$(call with_adapter_servers,$(CARGO) test -p net-mesh --test adapter_redis --test adapter_jetstream)

# go-lib, node-addon, node-deps and python-env come from mk/ffi.mk, mk/node.mk, mk/python.mk.
test-adapters-skins: adapter-servers go-lib node-addon node-deps python-env
	$(call with_adapter_servers,\
		(cd go && $(GO_ENV) $(GO) test -count=1 -run Live -v . | grep -E '^(---|ok|FAIL|PASS)') && \
		(cd $(NODE_SDK) && CI=1 NO_COLOR=1 $(NPM) exec -- vitest run test/adapters-live.test.ts) && \
		(cd sdk-py && $(PY_ENV) $(PYTEST) -rs tests/test_adapters_live.py))

bench-adapters: adapter-servers
	$(call with_adapter_servers,$(CARGO) bench -p net-mesh --bench adapters)
