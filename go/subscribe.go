package net

import (
	"context"
	"encoding/json"
	"errors"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// SubscribeOpts configures a subscription. Zero fields take the engine defaults.
type SubscribeOpts struct {
	// Filter is a filter in the engine's JSON filter language (nil = every event).
	Filter any `json:"filter,omitempty"`
	// From is "beginning" (default) or "latest" (only events stored after subscribing).
	From string `json:"from,omitempty"`
	// Cursor resumes after the events a previous Poll covered (excludes From).
	Cursor string `json:"cursor,omitempty"`
	// Batch is the most events fetched per wake-up (0 = engine default 256).
	Batch int `json:"batch,omitempty"`
	// Ordering is "per_shard" (default) or "insertion_time" within one fetch.
	Ordering string `json:"ordering,omitempty"`
}

// ErrEnded is returned by Subscription.Next once the bus shut down and every remaining event
// was delivered. It is not an engine error kind.
var ErrEnded = errors.New("net: subscription ended (the bus shut down)")

// ErrClosed is returned by Subscription.Next after Close, or after a Next whose context was
// done stopped the subscription. It is not an engine error kind.
var ErrClosed = errors.New("net: subscription closed")

// Subscription is a push subscription read with Next. Next is meant for one goroutine at a
// time (concurrent calls are serialized); Close may be called from any goroutine and stops a
// Next that is waiting. A Subscription that becomes unreachable is released by the runtime,
// but Close releases it deterministically.
type Subscription struct {
	// mu is held by Next for the whole C call and by Close around the free, so the C handle
	// is never freed while a call (or a context's cancel) uses it.
	mu      sync.Mutex
	sub     *subscription
	state   *subState
	bus     *Bus // keeps the bus (and so the engine) alive while the subscription is in use
	closing atomic.Bool
}

// subState is shared with the runtime cleanup; it must not point back to the Subscription.
type subState struct {
	sub   *subscription
	freed atomic.Bool
}

func (st *subState) free() {
	if st.freed.CompareAndSwap(false, true) {
		st.sub.free()
	}
}

// OpenSubscription opens a subscription read with Next (Subscribe wraps it in a channel).
func (b *Bus) OpenSubscription(opts SubscribeOpts) (*Subscription, error) {
	if b == nil {
		return nil, errNilBus
	}
	text, err := json.Marshal(opts)
	if err != nil {
		return nil, &Error{Kind: ErrInvalidArgument, Message: err.Error()}
	}
	sub, err := b.cSubscribe(string(text))
	if err != nil {
		return nil, err
	}
	s := &Subscription{sub: sub, state: &subState{sub: sub}, bus: b}
	runtime.AddCleanup(s, (*subState).free, s.state)
	return s, nil
}

// Next waits for the next item until ctx is done. An item with Lagged > 0 is not an event:
// the subscriber fell behind retention and that many events were evicted unread.
//
// When ctx is done while Next waits, the wait is woken at once (libnet's
// net_subscription_cancel; no polling) and Next returns ctx.Err(). That stops the
// subscription for good, like closing a connection to interrupt a read: later calls return
// ErrClosed, and Cursor still says where it stopped, so a new subscription (SubscribeOpts.
// Cursor) resumes without losing or repeating events. For a bounded wait that keeps the
// subscription, use NextTimeout. Next returns ErrEnded after the bus shut down.
func (s *Subscription) Next(ctx context.Context) (Event, error) {
	if s == nil {
		return Event{}, ErrClosed
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state.freed.Load() {
		return Event{}, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		s.sub.cancel()
		return Event{}, err
	}
	cancelled := make(chan struct{})
	stop := context.AfterFunc(ctx, func() {
		s.sub.cancel()
		close(cancelled)
	})
	ev, err := s.wait(-1)
	if !stop() {
		// The cancel ran or is running: wait for it, so it never touches a freed handle.
		<-cancelled
		if errors.Is(err, ErrClosed) {
			return Event{}, ctx.Err()
		}
		// An item that won the race is returned (the cursor already moved past it); the
		// subscription is cancelled all the same, so the next call returns ErrClosed.
	}
	return ev, err
}

// NextTimeout waits at most d (< 0: without bound) for the next item; ErrTimeout when nothing
// arrived in time (the subscription continues). Otherwise as Next.
func (s *Subscription) NextTimeout(d time.Duration) (Event, error) {
	if s == nil {
		return Event{}, ErrClosed
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state.freed.Load() {
		return Event{}, ErrClosed
	}
	ms := int64(-1)
	if d >= 0 {
		// Round up, so a positive duration below a millisecond still waits.
		ms = int64((d + time.Millisecond - 1) / time.Millisecond)
	}
	return s.wait(ms)
}

// wait runs one net_subscription_next; s.mu is held.
func (s *Subscription) wait(ms int64) (Event, error) {
	status, ev, skipped, err := s.sub.next(ms)
	runtime.KeepAlive(s.bus)
	switch {
	case err != nil:
		return Event{}, err
	case status == statusEnded:
		return Event{}, ErrEnded
	case status == statusCancelled:
		return Event{}, ErrClosed
	case status == statusLagged:
		return Event{Lagged: skipped}, nil
	}
	return ev, nil
}

// Cursor is the position after the last item Next handed out; pass it as SubscribeOpts.Cursor
// or PollRequest.Cursor to resume. Valid after the subscription stopped, until Close.
func (s *Subscription) Cursor() (string, error) {
	if s == nil {
		return "", ErrClosed
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.state.freed.Load() {
		return "", ErrClosed
	}
	return s.sub.cursor()
}

// Close stops the subscription (a waiting Next returns ErrClosed, or ctx.Err() if its
// context is done too) and releases it. Idempotent; safe from any goroutine.
func (s *Subscription) Close() {
	if s == nil || !s.closing.CompareAndSwap(false, true) {
		return
	}
	// Cancel before taking the lock: it wakes a Next that holds it. The handle is live here:
	// only this (first) Close frees it, and the runtime cleanup cannot run while s is in use.
	s.sub.cancel()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state.free()
}

// Subscribe delivers events as they land until ctx is done or the bus shuts down; both
// channels are then closed. An item with Lagged > 0 says the subscriber fell behind retention.
// A failure (for example ErrInvalidFilter when opening) is sent on the error channel, which
// has room for one error, before both close. Cancelling ctx is not an error, and it stops the
// subscription at once (the waiting libnet call is woken, not polled).
func (b *Bus) Subscribe(ctx context.Context, opts SubscribeOpts) (<-chan Event, <-chan error) {
	events := make(chan Event, 64)
	errc := make(chan error, 1)
	sub, err := b.OpenSubscription(opts)
	if err != nil {
		errc <- err
		close(events)
		close(errc)
		return events, errc
	}
	go func() {
		defer close(errc)
		defer close(events)
		defer sub.Close()
		for {
			ev, err := sub.Next(ctx)
			switch {
			case errors.Is(err, ErrEnded), ctx.Err() != nil:
				return
			case err != nil:
				errc <- err
				return
			}
			select {
			case events <- ev:
			case <-ctx.Done():
				return
			}
		}
	}()
	return events, errc
}
