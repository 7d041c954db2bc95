package net

import "encoding/json"

// PollRequest says what to read. Zero fields take the engine defaults.
type PollRequest struct {
	// Limit is the most events to return (1..=100000; 0 = engine default 100).
	Limit int `json:"limit,omitempty"`
	// Cursor resumes after a previous result ("" = the oldest retained event).
	Cursor string `json:"cursor,omitempty"`
	// Filter is a filter in the engine's JSON filter language: a value that encodes to it
	// (map[string]any, a struct, json.RawMessage). nil = every event.
	Filter any `json:"filter,omitempty"`
	// Ordering is "per_shard" (default) or "insertion_time".
	Ordering string `json:"ordering,omitempty"`
}

// PollResult is a page of events and the cursor to continue from.
type PollResult struct {
	// Events are ordered as requested.
	Events []Event
	// Cursor resumes exactly after the last event returned.
	Cursor string
	// Skipped counts events the request's cursor pointed at that retention evicted.
	Skipped uint64
	// HasMore is true when more events (possibly not matching) remain.
	HasMore bool
}

// Event is one stored event.
type Event struct {
	// Shard is the shard the event lives in.
	Shard uint16
	// ID is the event's position in its shard (dense, from 0; what cursors record).
	ID uint64
	// Seq is the sequence number from the producer's receipt.
	Seq uint64
	// InsertionTS is the insertion time in nanoseconds since the Unix epoch.
	InsertionTS uint64
	// Raw is the event's JSON, byte for byte as ingested (nil for a lag marker).
	Raw []byte
	// Lagged, when non-zero, marks a subscription item that is not an event: the subscriber
	// fell behind retention and this many events were evicted unread.
	Lagged uint64
}

// Poll reads events without consuming them. Invalid requests fail with ErrInvalidArgument,
// ErrInvalidFilter or ErrInvalidCursor, exactly as the engine decides.
func (b *Bus) Poll(req PollRequest) (*PollResult, error) {
	if b == nil {
		return nil, errNilBus
	}
	text, err := json.Marshal(req)
	if err != nil {
		return nil, &Error{Kind: ErrInvalidArgument, Message: err.Error()}
	}
	return b.cPollEx(string(text))
}
