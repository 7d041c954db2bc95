package net

import (
	"context"
	"encoding/json"
	"errors"
	"runtime"
	"time"
)

// waitSlice bounds each blocking wait inside libnet, so a cancelled context is noticed within
// this time. Events themselves are pushed: a waiting subscriber wakes as soon as they land.
const waitSlice = 50 * time.Millisecond

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

// Subscribe delivers events as they land until ctx is done or the bus shuts down; both
// channels are then closed. An item with Lagged > 0 says the subscriber fell behind retention.
// A failure (for example ErrInvalidFilter when opening) is sent on the error channel, which
// has room for one error, before both close. Cancelling ctx is not an error.
func (b *Bus) Subscribe(ctx context.Context, opts SubscribeOpts) (<-chan Event, <-chan error) {
	events := make(chan Event, 64)
	errc := make(chan error, 1)
	fail := func(err error) (<-chan Event, <-chan error) {
		errc <- err
		close(events)
		close(errc)
		return events, errc
	}
	if b == nil {
		return fail(errNilBus)
	}
	text, err := json.Marshal(opts)
	if err != nil {
		return fail(&Error{Kind: ErrInvalidArgument, Message: err.Error()})
	}
	sub, err := b.cSubscribe(string(text))
	if err != nil {
		return fail(err)
	}
	go func() {
		// The bus must outlive the subscription: a collected Bus would be freed (and shut
		// down) by its cleanup, ending the stream early.
		defer runtime.KeepAlive(b)
		defer close(errc)
		defer close(events)
		defer sub.free()
		for ctx.Err() == nil {
			status, ev, skipped, err := sub.next(waitSlice)
			switch {
			case errors.Is(err, ErrTimeout):
				continue
			case err != nil:
				errc <- err
				return
			case status == statusEnded:
				return
			case status == statusLagged:
				ev = Event{Lagged: skipped}
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
