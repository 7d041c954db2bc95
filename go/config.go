package net

import "encoding/json"

// Config is the bus configuration. It is sent to the engine as JSON and validated there
// (docs/bus.md, "Configuration"): a zero field is left out, so it takes the engine default;
// any value that is out of range fails New with ErrInvalidConfig naming the key.
type Config struct {
	// NumShards is the number of shards (1..=1024; default 1).
	NumShards int `json:"num_shards,omitempty"`
	// RingCapacity is each shard's ring capacity, a power of two (default 16384).
	RingCapacity int `json:"ring_capacity,omitempty"`
	// Backpressure is the full-ring policy (default drop_oldest).
	Backpressure *Backpressure `json:"backpressure,omitempty"`
	// PartitionKey is a dot path whose value picks the shard ("" = round robin).
	PartitionKey string `json:"partition_key,omitempty"`
	// DrainBatch is the most events handed to the adapter at once (default 1024).
	DrainBatch int `json:"drain_batch,omitempty"`
	// DrainWorkers is the number of drain threads (0 = automatic).
	DrainWorkers int `json:"drain_workers,omitempty"`
	// DrainLingerNs is the drain workers' coalescing window in nanoseconds (0..=1000000): while
	// events stream into a shard, its worker waits up to this long to pop a run of them at
	// once (docs/bus.md). nil = the engine default (5000); a pointer to 0 turns it off.
	DrainLingerNs *int `json:"drain_linger_ns,omitempty"`
	// MaxEventBytes is the largest accepted event (default 1 MiB).
	MaxEventBytes int `json:"max_event_bytes,omitempty"`
	// Adapter is the adapter object exactly as the engine takes it, e.g.
	// {"type": "memory", "max_events_per_shard": 1000}; nil = the memory adapter's defaults.
	Adapter map[string]any `json:"adapter,omitempty"`
}

// Backpressure selects what a producer experiences when its shard's ring is full.
type Backpressure struct {
	// Mode is drop_oldest, drop_newest, fail_producer, block or sample.
	Mode string `json:"mode"`
	// TimeoutMs is the block mode's wait bound (0 = engine default 100 ms).
	TimeoutMs int `json:"timeout_ms,omitempty"`
	// KeepOneIn is the sample mode's rate (0 = engine default 10).
	KeepOneIn int `json:"keep_one_in,omitempty"`
	// HighWater is the sample mode's fill fraction (0 = engine default 0.8).
	HighWater float64 `json:"high_water,omitempty"`
}

// JSON is the configuration text sent to the engine.
func (c *Config) JSON() (string, error) {
	if c == nil {
		return "{}", nil
	}
	b, err := json.Marshal(c)
	if err != nil {
		return "", &Error{Kind: ErrInvalidConfig, Message: err.Error(), Key: "<root>"}
	}
	return string(b), nil
}

// NormalizeConfig parses configuration JSON exactly as NewFromJSON does, without creating a
// bus (nothing is started or connected), and returns the engine's normalized form: every key,
// defaults filled in. "" means every default.
func NormalizeConfig(config string) (string, error) {
	return cNormalize(config)
}
