package net

// The Redis Streams and NATS JetStream adapters driven through libnet, against the real
// servers `make test-adapters` starts (NET_TEST_REDIS_URL, NET_TEST_NATS_URL). Without those
// variables (a plain `make test-go`) the tests are skipped and say why.

import (
	"errors"
	"fmt"
	"os"
	"testing"
	"time"
)

// liveAdapter returns the adapter object for kind ("redis" or "jetstream") with a prefix no
// other run uses, or skips the test when the server's variable is not set.
func liveAdapter(t *testing.T, kind, envVar string) map[string]any {
	t.Helper()
	url := os.Getenv(envVar)
	if url == "" {
		t.Skipf("%s is not set: run `make test-adapters` to start the servers", envVar)
	}
	prefix := fmt.Sprintf("go_%s_%d_%d", kind, os.Getpid(), time.Now().UnixNano()%1_000_000_000)
	return map[string]any{"type": kind, "url": url, "prefix": prefix}
}

func testAdapterRoundTrip(t *testing.T, kind, envVar string) {
	const n = 2000
	bus := newBus(t, &Config{NumShards: 2, Adapter: liveAdapter(t, kind, envVar)})
	for i := range n {
		if _, err := bus.IngestRaw(fmt.Sprintf(`{"i":%d}`, i)); err != nil {
			t.Fatalf("ingest %d: %v", i, err)
		}
	}
	if err := bus.Flush(); err != nil {
		t.Fatal(err)
	}
	// Read everything back in pages; per shard the ids must be dense and increasing.
	seen := make(map[string]bool, n)
	next := map[uint16]uint64{}
	cursor := ""
	for range n {
		res, err := bus.Poll(PollRequest{Limit: 333, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range res.Events {
			if e.ID != next[e.Shard] {
				t.Fatalf("shard %d: id %d, want %d", e.Shard, e.ID, next[e.Shard])
			}
			next[e.Shard]++
			if seen[string(e.Raw)] {
				t.Fatalf("event %s read twice", e.Raw)
			}
			seen[string(e.Raw)] = true
		}
		cursor = res.Cursor
		if !res.HasMore {
			break
		}
	}
	if len(seen) != n {
		t.Fatalf("read back %d distinct events, want %d", len(seen), n)
	}
	stats, err := bus.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if stats.Delivered != n {
		t.Fatalf("stats delivered %d, want %d", stats.Delivered, n)
	}

	// A cursor from a memory-adapter bus with the same shards is refused, not misread.
	mem := newBus(t, &Config{NumShards: 2})
	if _, err := mem.IngestRaw(`{"i":0}`); err != nil {
		t.Fatal(err)
	}
	if err := mem.Flush(); err != nil {
		t.Fatal(err)
	}
	page, err := mem.Poll(PollRequest{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bus.Poll(PollRequest{Cursor: page.Cursor}); !errors.Is(err, ErrInvalidCursor) {
		t.Fatalf("memory cursor on a %s bus: got %v, want ErrInvalidCursor", kind, err)
	}
}

func TestLiveRedisAdapter(t *testing.T) { testAdapterRoundTrip(t, "redis", "NET_TEST_REDIS_URL") }

func TestLiveJetStreamAdapter(t *testing.T) {
	testAdapterRoundTrip(t, "jetstream", "NET_TEST_NATS_URL")
}
