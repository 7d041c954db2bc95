package net

import "testing"

// TestRawPathDoesNotAllocate pins the zero-allocation claim of IngestRaw and
// IngestRawBatchInto (docs/go.md); the benchmarks report the same with -benchmem.
func TestRawPathDoesNotAllocate(t *testing.T) {
	bus := newBus(t, nil)
	if n := testing.AllocsPerRun(200, func() {
		if _, err := bus.IngestRaw(`{"a":1}`); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("IngestRaw: %v allocations per call", n)
	}
	if raceEnabled {
		return // sync.Pool discards items at random under -race; `make test-go` also runs without
	}
	batch := []string{`{"a":1}`, `{"a":2}`, `[3]`}
	out := make([]Outcome, len(batch))
	if n := testing.AllocsPerRun(200, func() {
		if err := bus.IngestRawBatchInto(batch, out); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("IngestRawBatchInto: %v allocations per call", n)
	}
}
