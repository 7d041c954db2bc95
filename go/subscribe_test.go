package net

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestSubscribeWhileProducersIngest(t *testing.T) {
	bus := newBus(t, &Config{NumShards: 4})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	events, errc := bus.Subscribe(ctx, SubscribeOpts{
		Filter: map[string]any{"path": "keep", "eq": true},
	})
	const producers, each = 4, 250
	var wg sync.WaitGroup
	for p := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				ev := fmt.Sprintf(`{"p":%d,"i":%d,"keep":%t}`, p, i, i%5 != 0)
				if _, err := bus.IngestRaw(ev); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	want := producers * each * 4 / 5
	seen := map[string]bool{}
	for len(seen) < want {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatalf("subscription closed after %d events: %v", len(seen), <-errc)
			}
			if ev.Lagged != 0 {
				t.Fatalf("unexpected lag of %d", ev.Lagged)
			}
			if seen[string(ev.Raw)] {
				t.Fatalf("duplicate %s", ev.Raw)
			}
			seen[string(ev.Raw)] = true
		case <-ctx.Done():
			t.Fatalf("only %d of %d events arrived", len(seen), want)
		}
	}
	wg.Wait()
}

func TestSubscribeStopsOnCancelAndShutdown(t *testing.T) {
	bus := newBus(t, nil)
	ctx, cancel := context.WithCancel(t.Context())
	events, errc := bus.Subscribe(ctx, SubscribeOpts{From: "latest"})
	cancel()
	deadline := time.After(5 * time.Second)
	for open := true; open; {
		select {
		case _, open = <-events:
		case <-deadline:
			t.Fatal("subscription did not stop after cancel")
		}
	}
	if err := <-errc; err != nil {
		t.Fatalf("cancel reported %v", err)
	}

	events, errc = bus.Subscribe(t.Context(), SubscribeOpts{})
	if _, err := bus.IngestRaw(`{"last":true}`); err != nil {
		t.Fatal(err)
	}
	if _, err := bus.Shutdown(); err != nil {
		t.Fatal(err)
	}
	var got []Event
	for ev := range events {
		got = append(got, ev)
	}
	if err := <-errc; err != nil || len(got) != 1 || string(got[0].Raw) != `{"last":true}` {
		t.Fatalf("after shutdown got %v, %v", got, err)
	}
}

func TestSubscribeReportsLag(t *testing.T) {
	bus := newBus(t, &Config{Adapter: map[string]any{"type": "memory", "max_events_per_shard": 4}})
	for i := range 10 {
		if _, err := bus.IngestRaw(fmt.Sprintf(`{"n":%d}`, i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := bus.Flush(); err != nil {
		t.Fatal(err)
	}
	events, _ := bus.Subscribe(t.Context(), SubscribeOpts{})
	first := <-events
	if first.Lagged != 6 {
		t.Fatalf("first item %+v, want a lag of 6", first)
	}
	if ev := <-events; string(ev.Raw) != `{"n":6}` || ev.ID != 6 {
		t.Fatalf("after the lag got %+v", ev)
	}
}

func TestSubscribeBadOptions(t *testing.T) {
	bus := newBus(t, nil)
	for _, c := range []struct {
		opts SubscribeOpts
		want error
	}{
		{SubscribeOpts{From: "yesterday"}, ErrInvalidArgument},
		{SubscribeOpts{From: "latest", Cursor: "x"}, ErrInvalidArgument},
		{SubscribeOpts{Batch: -1}, ErrInvalidArgument},
		{SubscribeOpts{Cursor: "!!!"}, ErrInvalidCursor},
		{SubscribeOpts{Filter: map[string]any{"or": 1}}, ErrInvalidFilter},
	} {
		events, errc := bus.Subscribe(t.Context(), c.opts)
		if err := <-errc; !errors.Is(err, c.want) {
			t.Errorf("%+v: got %v, want %v", c.opts, err, c.want)
		}
		if _, open := <-events; open {
			t.Errorf("%+v: events channel left open", c.opts)
		}
	}
}
