package net

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// prompt bounds how long a cancelled wait may take to return (generous: shared machine, -race).
const prompt = 2 * time.Second

func openSub(t *testing.T, bus *Bus, opts SubscribeOpts) *Subscription {
	t.Helper()
	sub, err := bus.OpenSubscription(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sub.Close)
	return sub
}

// index reads {"i":N} events.
func index(t *testing.T, ev Event) int {
	t.Helper()
	n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(string(ev.Raw), `{"i":`), "}"))
	if err != nil {
		t.Fatalf("unexpected event %q", ev.Raw)
	}
	return n
}

func TestNextReturnsCtxErrPromptlyOnCancel(t *testing.T) {
	bus := newBus(t, nil)
	sub := openSub(t, bus, SubscribeOpts{From: "latest"})
	ctx, cancel := context.WithCancel(t.Context())
	type result struct {
		err error
		at  time.Time
	}
	done := make(chan result, 1)
	go func() {
		_, err := sub.Next(ctx)
		done <- result{err, time.Now()}
	}()
	select {
	case r := <-done:
		t.Fatalf("Next returned before the cancel: %v", r.err)
	case <-time.After(100 * time.Millisecond):
	}
	cancelledAt := time.Now()
	cancel()
	select {
	case r := <-done:
		if !errors.Is(r.err, context.Canceled) {
			t.Fatalf("Next returned %v, want context.Canceled", r.err)
		}
		if lat := r.at.Sub(cancelledAt); lat > prompt {
			t.Fatalf("Next took %v to notice the cancel", lat)
		}
	case <-time.After(prompt):
		t.Fatal("Next did not return after the cancel")
	}
	// Stopping is final; the cursor stays readable.
	if _, err := sub.Next(t.Context()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Next after cancel: %v, want ErrClosed", err)
	}
	if _, err := sub.Cursor(); err != nil {
		t.Fatal(err)
	}
}

func TestNextHonoursDeadlineAndAlreadyDoneContexts(t *testing.T) {
	bus := newBus(t, nil)
	sub := openSub(t, bus, SubscribeOpts{})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Millisecond)
	defer cancel()
	if _, err := sub.Next(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want DeadlineExceeded", err)
	}
	done, cancelDone := context.WithCancel(t.Context())
	cancelDone()
	sub2 := openSub(t, bus, SubscribeOpts{})
	if _, err := sub2.Next(done); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want Canceled", err)
	}
}

func TestNextTimeoutKeepsTheSubscription(t *testing.T) {
	bus := newBus(t, nil)
	sub := openSub(t, bus, SubscribeOpts{})
	if _, err := sub.NextTimeout(10 * time.Millisecond); !errors.Is(err, ErrTimeout) {
		t.Fatalf("got %v, want ErrTimeout", err)
	}
	if _, err := bus.IngestRaw(`{"i":0}`); err != nil {
		t.Fatal(err)
	}
	ev, err := sub.NextTimeout(10 * time.Second)
	if err != nil || index(t, ev) != 0 {
		t.Fatalf("got %q, %v", ev.Raw, err)
	}
	if _, err := bus.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if _, err := sub.Next(t.Context()); !errors.Is(err, ErrEnded) {
		t.Fatalf("after shutdown got %v, want ErrEnded", err)
	}
}

func TestCloseStopsAWaitingNext(t *testing.T) {
	bus := newBus(t, nil)
	sub, err := bus.OpenSubscription(SubscribeOpts{From: "latest"})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := sub.Next(context.Background())
		done <- err
	}()
	time.Sleep(50 * time.Millisecond)
	sub.Close()
	select {
	case err := <-done:
		if !errors.Is(err, ErrClosed) {
			t.Fatalf("Next returned %v, want ErrClosed", err)
		}
	case <-time.After(prompt):
		t.Fatal("Close did not wake Next")
	}
	sub.Close() // idempotent
	if _, err := sub.Cursor(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Cursor after Close: %v", err)
	}
}

// TestCancelRacingProducers cancels at a different point of a live stream each round: the
// consumer sees a gapless prefix, and a subscription resumed from the cursor sees the rest.
func TestCancelRacingProducers(t *testing.T) {
	const total = 300
	for round := range 8 {
		bus := newBus(t, &Config{NumShards: 1})
		sub := openSub(t, bus, SubscribeOpts{})
		ctx, cancel := context.WithCancel(t.Context())
		got := make(chan []int, 1)
		go func() {
			var seen []int
			for {
				ev, err := sub.Next(ctx)
				if err != nil {
					// ErrClosed: an event won the race with the cancel and was returned.
					if !errors.Is(err, context.Canceled) && !errors.Is(err, ErrClosed) {
						t.Errorf("round %d: %v", round, err)
					}
					got <- seen
					return
				}
				seen = append(seen, index(t, ev))
			}
		}()
		go func() {
			for i := range total {
				if _, err := bus.IngestRaw(fmt.Sprintf(`{"i":%d}`, i)); err != nil {
					t.Error(err)
				}
			}
		}()
		time.Sleep(time.Duration(round) * 300 * time.Microsecond)
		cancel()
		var seen []int
		select {
		case seen = <-got:
		case <-time.After(prompt):
			t.Fatalf("round %d: the consumer did not stop", round)
		}
		for i, n := range seen {
			if n != i {
				t.Fatalf("round %d: item %d is %d", round, i, n)
			}
		}
		cursor, err := sub.Cursor()
		if err != nil {
			t.Fatal(err)
		}
		rest := openSub(t, bus, SubscribeOpts{Cursor: cursor})
		for want := len(seen); want < total; want++ {
			ev, err := rest.NextTimeout(10 * time.Second)
			if err != nil || index(t, ev) != want {
				t.Fatalf("round %d: resumed at %q (%v), want %d", round, ev.Raw, err, want)
			}
		}
	}
}
