package net

import "encoding/json"

// Stats is a snapshot of the bus counters (docs/bus.md, "Stats").
type Stats struct {
	// Accepted is the number of events accepted (sum over shards).
	Accepted uint64 `json:"accepted"`
	// Delivered is the number of events stored by the adapter.
	Delivered uint64 `json:"delivered"`
	// InFlight is accepted events neither delivered nor dropped yet.
	InFlight uint64 `json:"in_flight"`
	// Dropped counts drops by reason.
	Dropped DropCounts `json:"dropped"`
	// Rejected counts refused offers by reason.
	Rejected RejectCounts `json:"rejected"`
	// AdapterErrors counts failed adapter calls.
	AdapterErrors uint64 `json:"adapter_errors"`
	// AdapterName names the adapter.
	AdapterName string `json:"adapter_name"`
	// Adapter holds the adapter's retention counters.
	Adapter AdapterCounters `json:"adapter"`
	// Shards holds the counters per shard.
	Shards []ShardStats `json:"shards"`
	// AdapterConnection is a networked adapter's connection state as the engine reports it
	// (absent for the memory adapter), passed through as JSON; Connection decodes it.
	AdapterConnection json.RawMessage `json:"adapter_connection,omitempty"`
}

// ConnectionStats is the connection state of a networked adapter (redis, jetstream, mesh).
type ConnectionStats struct {
	// Connected says whether the last operation reached the server (mesh: every peer).
	Connected bool `json:"connected"`
	// Errors counts failed operations since start (mesh: failed batches).
	Errors uint64 `json:"errors"`
	// Reconnects counts connections re-established since start.
	Reconnects uint64 `json:"reconnects"`
	// LastError is the most recent error ("" when none).
	LastError string `json:"last_error"`
	// LocalAddr is, for the mesh adapter only, the address its node is bound to, with the
	// real port when Listen asked for port 0 ("" for the other adapters).
	LocalAddr string `json:"local_addr,omitempty"`
	// Card is, for the mesh adapter only, its node's 128-byte card as 256 hex digits.
	// LocalAddr + "@" + Card is the "peers" entry another bus lists to reach this one.
	Card string `json:"card,omitempty"`
}

// Connection decodes AdapterConnection; ok is false for the memory adapter (no connection).
func (s *Stats) Connection() (c ConnectionStats, ok bool, err error) {
	if len(s.AdapterConnection) == 0 {
		return c, false, nil
	}
	if err := json.Unmarshal(s.AdapterConnection, &c); err != nil {
		return c, false, &Error{Kind: ErrInternal, Message: "adapter_connection: " + err.Error()}
	}
	return c, true, nil
}

// DropCounts counts dropped events by reason.
type DropCounts struct {
	// DropOldest: accepted events pushed out of a full ring.
	DropOldest uint64 `json:"drop_oldest"`
	// DropNewest: offered events discarded at a full ring.
	DropNewest uint64 `json:"drop_newest"`
	// Sampled: offered events not kept by sampling.
	Sampled uint64 `json:"sampled"`
	// AdapterFailed: accepted events the adapter refused after every retry.
	AdapterFailed uint64 `json:"adapter_failed"`
}

// RejectCounts counts offered events refused with an error.
type RejectCounts struct {
	// Backpressure: fail_producer refusals.
	Backpressure uint64 `json:"backpressure"`
	// Timeout: block waits that timed out.
	Timeout uint64 `json:"timeout"`
}

// AdapterCounters are the adapter's retention counters.
type AdapterCounters struct {
	// Stored is events stored since start.
	Stored uint64 `json:"stored"`
	// Evicted is events removed by retention since start.
	Evicted uint64 `json:"evicted"`
	// Retained is events retained now.
	Retained uint64 `json:"retained"`
	// RetainedBytes is payload bytes retained now.
	RetainedBytes uint64 `json:"retained_bytes"`
}

// ShardStats are the counters of one shard.
type ShardStats struct {
	// Shard is the shard index.
	Shard uint16 `json:"shard"`
	// Accepted is events accepted into the ring.
	Accepted uint64 `json:"accepted"`
	// Delivered is events stored by the adapter.
	Delivered uint64 `json:"delivered"`
	// Queued is events waiting in the ring now.
	Queued uint64 `json:"queued"`
	// Dropped counts drops by reason.
	Dropped DropCounts `json:"dropped"`
	// Rejected counts refusals by reason.
	Rejected RejectCounts `json:"rejected"`
}

// ShutdownReport is what Shutdown reports.
type ShutdownReport struct {
	// Accepted is events accepted over the bus's life.
	Accepted uint64 `json:"accepted"`
	// Delivered is events stored by the adapter.
	Delivered uint64 `json:"delivered"`
	// Dropped counts drops by reason.
	Dropped DropCounts `json:"dropped"`
	// Undelivered is accepted events neither delivered nor counted as dropped (0 unless the
	// engine has a bug).
	Undelivered uint64 `json:"undelivered"`
	// AdapterError is the adapter's flush/shutdown error, if any.
	AdapterError *string `json:"adapter_error"`
}
