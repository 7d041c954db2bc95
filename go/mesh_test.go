package net

// The mesh adapter ({"type": "mesh", ...}, docs/mesh.md "The JSON form") driven through libnet:
// two buses in this process exchange events over UDP on 127.0.0.1, and bad mesh configs are
// ErrInvalidConfig naming the key. No server is needed, so these always run.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

const meshPSK = "6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b6b"

// meshAdapter is a mesh adapter object on a free port of 127.0.0.1 listing peers.
func meshAdapter(peers ...string) map[string]any {
	if peers == nil {
		peers = []string{} // nil would encode as null, which the engine refuses
	}
	return map[string]any{
		"type": "mesh", "listen": "127.0.0.1:0", "psk_hex": meshPSK, "peers": peers,
		"connect_timeout_ms": 10000, "credit_timeout_ms": 10000,
	}
}

// meshPeer is bus's "ADDR@CARD" entry, read from its stats.
func meshPeer(t *testing.T, bus *Bus) string {
	t.Helper()
	st, err := bus.Stats()
	if err != nil {
		t.Fatal(err)
	}
	c, ok, err := st.Connection()
	if err != nil || !ok {
		t.Fatalf("mesh bus stats have no connection state: %v (%s)", err, st.AdapterConnection)
	}
	if !strings.HasPrefix(c.LocalAddr, "127.0.0.1:") || c.LocalAddr == "127.0.0.1:0" {
		t.Fatalf("local_addr %q is not the bound address", c.LocalAddr)
	}
	if len(c.Card) != 256 {
		t.Fatalf("card %q is not 256 hex digits", c.Card)
	}
	return c.LocalAddr + "@" + c.Card
}

func TestMeshBusesExchangeEvents(t *testing.T) {
	b := newBus(t, &Config{NumShards: 2, Adapter: meshAdapter()})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	events, errc := b.Subscribe(ctx, SubscribeOpts{})
	a := newBus(t, &Config{Adapter: meshAdapter(meshPeer(t, b))})

	const n = 200
	for i := range n {
		if _, err := a.IngestRaw(fmt.Sprintf(`{"m":%d}`, i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.Flush(); err != nil {
		t.Fatal(err)
	}
	// B's subscriber is pushed each event once.
	pushed := map[string]bool{}
	for len(pushed) < n {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatalf("subscription closed after %d events: %v", len(pushed), <-errc)
			}
			if pushed[string(ev.Raw)] {
				t.Fatalf("%s pushed twice", ev.Raw)
			}
			pushed[string(ev.Raw)] = true
		case <-ctx.Done():
			t.Fatalf("only %d of %d events reached B", len(pushed), n)
		}
	}
	for i := range n {
		if !pushed[fmt.Sprintf(`{"m":%d}`, i)] {
			t.Fatalf("event %d missing", i)
		}
	}
	// B's poll returns them too, and its counters saw them arrive.
	polled := 0
	cursor := ""
	for {
		res, err := b.Poll(PollRequest{Limit: 64, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		polled += len(res.Events)
		cursor = res.Cursor
		if !res.HasMore {
			break
		}
	}
	if polled != n {
		t.Fatalf("B polled %d events, want %d", polled, n)
	}
	st, err := b.Stats()
	if err != nil || st.Accepted != n || st.AdapterName != "mesh" {
		t.Fatalf("B stats %+v, %v", st, err)
	}
	// A memory bus has no connection state.
	mem := newBus(t, nil)
	if st, _ := mem.Stats(); len(st.AdapterConnection) != 0 {
		t.Fatalf("memory bus reports a connection: %s", st.AdapterConnection)
	}
	if _, ok, err := (&Stats{}).Connection(); ok || err != nil {
		t.Fatalf("empty stats decoded a connection (%v)", err)
	}
}

func TestMeshConfigErrorsNameTheKey(t *testing.T) {
	with := func(extra map[string]any) map[string]any {
		a := map[string]any{"type": "mesh", "listen": "127.0.0.1:0", "psk_hex": meshPSK}
		for k, v := range extra {
			if v == nil {
				delete(a, k)
			} else {
				a[k] = v
			}
		}
		return a
	}
	cases := []struct {
		adapter map[string]any
		key     string
	}{
		{with(map[string]any{"listen": nil}), "adapter.listen"},
		{with(map[string]any{"listen": "localhost:7000"}), "adapter.listen"},
		{with(map[string]any{"psk_hex": nil}), "adapter.psk_hex"},
		{with(map[string]any{"psk_hex": "00"}), "adapter.psk_hex"},
		{with(map[string]any{"psk_file": "/k"}), "adapter.psk_file"},
		{with(map[string]any{"peers": []string{"127.0.0.1:7001"}}), "adapter.peers.0"},
		{with(map[string]any{"peers": []any{map[string]any{"addr": "127.0.0.1:1", "card": "xyz"}}}), "adapter.peers.0.card"},
		{with(map[string]any{"stream_id": 0}), "adapter.stream_id"},
		{with(map[string]any{"url": "redis://h"}), "adapter.url"},
		// Valid to parse, refused when the bus is built (the file does not exist).
		{with(map[string]any{"psk_hex": nil, "psk_file": "/nonexistent/net-mesh-go.psk"}), "adapter.psk_file"},
		{with(map[string]any{"key_file": "/nonexistent/net-mesh-go.key"}), "adapter.key_file"},
	}
	for _, c := range cases {
		_, err := New(&Config{Adapter: c.adapter})
		var e *Error
		if !errors.Is(err, ErrInvalidConfig) || !errors.As(err, &e) || e.Key != c.key {
			t.Errorf("%v: got %v, want ErrInvalidConfig naming %s", c.adapter, err, c.key)
		}
	}
}
