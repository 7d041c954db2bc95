package net

import (
	"encoding/json"
	"fmt"
	"runtime"
	"sync"
	"time"
)

// Bus is an event bus running in the linked engine. All methods are safe for concurrent use.
// A Bus is released when it becomes unreachable (after draining, if Shutdown was not called);
// call Shutdown to drain deterministically.
type Bus struct {
	h cBus
	// hot is h as an integer, for the per-event calls (see capi.go).
	hot     cHandle
	scratch sync.Pool
}

// Receipt says where an accepted event went.
type Receipt struct {
	// Shard is the shard index.
	Shard uint16
	// Seq is the per-shard sequence number (strictly increasing in acceptance order).
	Seq uint64
}

// Outcome is the result of one event of a batch: a receipt, or Err (a sentinel such as
// ErrInvalidJSON; per-event messages are not kept).
type Outcome struct {
	// Receipt is valid when Err is nil.
	Receipt Receipt
	// Err is nil or the sentinel of the event's error kind.
	Err error
}

// New creates a bus. A nil config means every default.
func New(config *Config) (*Bus, error) {
	text, err := config.JSON()
	if err != nil {
		return nil, err
	}
	return NewFromJSON(text)
}

// NewFromJSON creates a bus from configuration JSON in the engine's strict format
// (docs/bus.md); "" means every default.
func NewFromJSON(config string) (*Bus, error) {
	if v := libABIVersion(); v != ABIVersion {
		return nil, &Error{Kind: ErrInternal, Message: fmt.Sprintf(
			"libnet ABI version %d, this package was built for %d", v, ABIVersion)}
	}
	h, err := cInit(config)
	if err != nil {
		return nil, err
	}
	b := &Bus{h: h, hot: hotHandle(h)}
	b.scratch.New = func() any { return new(batchScratch) }
	runtime.AddCleanup(b, cFree, h)
	return b, nil
}

// IngestRaw validates one JSON event and ingests it. It makes no Go allocation on success.
func (b *Bus) IngestRaw(event string) (Receipt, error) {
	if b == nil {
		return Receipt{}, errNilBus
	}
	return b.cIngestRaw(event)
}

// IngestBytes is IngestRaw for a byte slice (the bytes are copied by the engine).
func (b *Bus) IngestBytes(event []byte) (Receipt, error) {
	if b == nil {
		return Receipt{}, errNilBus
	}
	return b.cIngestRaw(bytesAsString(event))
}

// IngestWithKey ingests event on the shard chosen by key: events with one key keep their order.
func (b *Bus) IngestWithKey(event, key string) (Receipt, error) {
	if b == nil {
		return Receipt{}, errNilBus
	}
	return b.cIngestKey(event, key)
}

// Ingest serializes v with encoding/json and ingests it.
func (b *Bus) Ingest(v any) (Receipt, error) {
	if b == nil {
		return Receipt{}, errNilBus
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return Receipt{}, &Error{Kind: ErrInvalidArgument, Message: err.Error()}
	}
	return b.cIngestRaw(bytesAsString(raw))
}

// IngestRawBatch ingests events in one call and returns one Outcome per event, in order.
// Without a partition key the batch goes to one shard and keeps its order. The error is
// non-nil only when the call itself failed (then no event was ingested).
func (b *Bus) IngestRawBatch(events []string) ([]Outcome, error) {
	out := make([]Outcome, len(events))
	if err := b.IngestRawBatchInto(events, out); err != nil {
		return nil, err
	}
	return out, nil
}

// IngestRawBatchInto is IngestRawBatch writing into out (len(out) >= len(events)); it makes no
// Go allocation in steady state.
func (b *Bus) IngestRawBatchInto(events []string, out []Outcome) error {
	if b == nil {
		return errNilBus
	}
	if len(out) < len(events) {
		return &Error{Kind: ErrInvalidArgument, Message: fmt.Sprintf(
			"out has room for %d outcomes, need %d", len(out), len(events))}
	}
	s := b.scratch.Get().(*batchScratch)
	defer b.scratch.Put(s)
	s.pack(events)
	if err := b.cIngestPacked(s); err != nil {
		return err
	}
	for i := range events {
		out[i] = s.outcome(i)
	}
	return nil
}

// Flush waits until every event accepted before the call is visible to Poll and Subscribe
// (bounded by the engine default, 30 s).
func (b *Bus) Flush() error { return b.FlushTimeout(-1) }

// FlushTimeout is Flush with an explicit bound (negative = engine default); ErrTimeout when
// it passes.
func (b *Bus) FlushTimeout(timeout time.Duration) error {
	if b == nil {
		return errNilBus
	}
	return b.cFlush(timeout)
}

// ConfigJSON returns the normalized configuration the bus runs with (every key, defaults
// filled in).
func (b *Bus) ConfigJSON() (string, error) {
	if b == nil {
		return "", errNilBus
	}
	return b.jsonCall(callConfig)
}

// Shutdown stops accepting events (later ingests fail with ErrShuttingDown), drains every
// ring into the adapter and reports the outcome. Idempotent; Poll keeps working afterwards.
func (b *Bus) Shutdown() (ShutdownReport, error) {
	if b == nil {
		return ShutdownReport{}, errNilBus
	}
	text, err := b.jsonCall(callShutdown)
	if err != nil {
		return ShutdownReport{}, err
	}
	var r ShutdownReport
	if err := json.Unmarshal([]byte(text), &r); err != nil {
		return ShutdownReport{}, &Error{Kind: ErrInternal, Message: err.Error()}
	}
	return r, nil
}

// Stats returns a snapshot of the bus counters.
func (b *Bus) Stats() (Stats, error) {
	if b == nil {
		return Stats{}, errNilBus
	}
	text, err := b.jsonCall(callStats)
	if err != nil {
		return Stats{}, err
	}
	var s Stats
	if err := json.Unmarshal([]byte(text), &s); err != nil {
		return Stats{}, &Error{Kind: ErrInternal, Message: err.Error()}
	}
	return s, nil
}
