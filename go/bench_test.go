package net

import (
	"encoding/json"
	"runtime"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// The benchmarks follow ffi/benches/ingest.rs and core/benches/bus.rs: the standard 64-byte
// event, one shard, a 2^16-slot ring under fail_producer (a full ring fails the benchmark
// instead of timing a drop path), retention bounded so memory stays flat, and the bus flushed
// outside the timer every half ring.

// threadCPU is the CPU time the calling OS thread has used (CLOCK_THREAD_CPUTIME_ID).
func threadCPU(b *testing.B) int64 {
	var ts syscall.Timespec
	const clockThreadCPUTimeID = 3
	if _, _, errno := syscall.Syscall(syscall.SYS_CLOCK_GETTIME, clockThreadCPUTimeID,
		uintptr(unsafe.Pointer(&ts)), 0); errno != 0 {
		b.Fatalf("clock_gettime: %v", errno)
	}
	return ts.Nano()
}

// cpuClock reports, next to the wall-clock ns/op, the CPU time the benchmark's own thread spent
// per op ("cpu-ns/op"): on a machine shared with other builds the wall time includes time spent
// waiting for a core, the thread's CPU time does not. The goroutine is locked to its thread, and
// the clock stops with the benchmark timer. It does not count the drain worker's CPU.
type cpuClock struct {
	b       *testing.B
	started int64
	total   int64
}

func startCPU(b *testing.B) *cpuClock {
	runtime.LockOSThread()
	b.Cleanup(runtime.UnlockOSThread)
	return &cpuClock{b: b, started: threadCPU(b)}
}

func (c *cpuClock) stop()  { c.total += threadCPU(c.b) - c.started }
func (c *cpuClock) start() { c.started = threadCPU(c.b) }

// report stops the clock and reports CPU ns per unit (ops, or events when perOp > 1).
func (c *cpuClock) report(units int, name string) {
	c.stop()
	c.b.ReportMetric(float64(c.total)/float64(units), name)
}

// event64 is the standard 64-byte JSON event of /work/shared/BENCHMARKS.md.
var event64 = func() string {
	e := `{"token":"hello","index":0,"pad":"`
	for len(e) < 62 {
		e += "x"
	}
	return e + `"}`
}()

const halfRing = 1 << 15

func benchBus(b *testing.B) *Bus {
	if len(event64) != 64 {
		b.Fatalf("event is %d bytes", len(event64))
	}
	bus, err := New(&Config{
		RingCapacity: 1 << 16,
		Backpressure: &Backpressure{Mode: "fail_producer"},
		Adapter:      map[string]any{"type": "memory", "max_events_per_shard": 1 << 16},
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { bus.Shutdown() })
	return bus
}

// flushEvery flushes outside the timers once `every` events were ingested since the last flush.
func flushEvery(b *testing.B, cpu *cpuClock, bus *Bus, pending *int, n, every int) {
	*pending += n
	if *pending < every {
		return
	}
	b.StopTimer()
	cpu.stop()
	if err := bus.Flush(); err != nil {
		b.Fatal(err)
	}
	*pending = 0
	cpu.start()
	b.StartTimer()
}

func BenchmarkIngestRaw(b *testing.B) {
	bus := benchBus(b)
	pending := 0
	b.ReportAllocs()
	b.SetBytes(64)
	cpu := startCPU(b)
	for b.Loop() {
		if _, err := bus.IngestRaw(event64); err != nil {
			b.Fatal(err)
		}
		flushEvery(b, cpu, bus, &pending, 1, halfRing)
	}
	cpu.report(b.N, "cpu-ns/op")
}

func benchBatch(b *testing.B, into bool) {
	bus := benchBus(b)
	batch := make([]string, 1000)
	for i := range batch {
		batch[i] = event64
	}
	out := make([]Outcome, len(batch))
	pending := 0
	b.ReportAllocs()
	b.SetBytes(64 * int64(len(batch)))
	cpu := startCPU(b)
	for b.Loop() {
		var err error
		if into {
			err = bus.IngestRawBatchInto(batch, out)
		} else {
			out, err = bus.IngestRawBatch(batch)
		}
		if err != nil {
			b.Fatal(err)
		}
		if out[len(out)-1].Err != nil {
			b.Fatal(out[len(out)-1].Err)
		}
		flushEvery(b, cpu, bus, &pending, len(batch), halfRing)
	}
	cpu.report(b.N*len(batch), "cpu-ns/event")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch)), "ns/event")
}

// BenchmarkIngestRawBatch1000 is IngestRawBatchInto (the zero-allocation form).
func BenchmarkIngestRawBatch1000(b *testing.B) { benchBatch(b, true) }

// BenchmarkIngestRawBatch1000Alloc is IngestRawBatch (one result slice per call).
func BenchmarkIngestRawBatch1000Alloc(b *testing.B) { benchBatch(b, false) }

// BenchmarkCgoTransition is one cgo call that does no work (net_abi_version): the floor the
// Go skin adds to every libnet call.
func BenchmarkCgoTransition(b *testing.B) {
	b.ReportAllocs()
	cpu := startCPU(b)
	for b.Loop() {
		if libABIVersion() != ABIVersion {
			b.Fatal("ABI mismatch")
		}
	}
	cpu.report(b.N, "cpu-ns/op")
}

// BenchmarkReferenceJSONValid is a peer measured in the same run, with no cgo and no bus: Go's
// own encoding/json.Valid on the same 64-byte event. It shows how fast this machine is at the
// moment of the run, so IngestRaw figures from different periods can be compared through
// their ratio to it (on a shared host the vCPU's speed varies from period to period).
func BenchmarkReferenceJSONValid(b *testing.B) {
	raw := []byte(event64)
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	cpu := startCPU(b)
	for b.Loop() {
		if !json.Valid(raw) {
			b.Fatal("event64 is not valid JSON")
		}
	}
	cpu.report(b.N, "cpu-ns/op")
}

// interleaveChunk is how many calls of one kind BenchmarkIngestRawInterleaved makes before it
// switches to the other kind: long enough that the clock reads are noise, short enough (tens of
// microseconds) that both kinds see the vCPU at the same speed.
const interleaveChunk = 256

// BenchmarkIngestRawInterleaved alternates chunks of IngestRaw and of encoding/json.Valid on
// the same event, in one goroutine on one OS thread, and reports each one's ns per call
// ("ingest-ns/op", "json-valid-ns/op") and their ratio. The separate benchmarks run seconds
// apart, and the host's speed can change in between; here both see the same moments and the
// same CPU, so the ratio says how IngestRaw compares with Go validating the bytes alone.
func BenchmarkIngestRawInterleaved(b *testing.B) {
	bus := benchBus(b)
	raw := []byte(event64)
	runtime.LockOSThread()
	b.Cleanup(runtime.UnlockOSThread)
	var ingestNs, validNs int64
	pending, calls := 0, 0
	for b.Loop() {
		t0 := time.Now()
		for range interleaveChunk {
			if _, err := bus.IngestRaw(event64); err != nil {
				b.Fatal(err)
			}
		}
		t1 := time.Now()
		for range interleaveChunk {
			if !json.Valid(raw) {
				b.Fatal("event64 is not valid JSON")
			}
		}
		ingestNs += t1.Sub(t0).Nanoseconds()
		validNs += time.Since(t1).Nanoseconds()
		calls += interleaveChunk
		pending += interleaveChunk
		if pending >= halfRing {
			b.StopTimer()
			if err := bus.Flush(); err != nil {
				b.Fatal(err)
			}
			pending = 0
			b.StartTimer()
		}
	}
	b.ReportMetric(float64(ingestNs)/float64(calls), "ingest-ns/op")
	b.ReportMetric(float64(validNs)/float64(calls), "json-valid-ns/op")
	b.ReportMetric(float64(ingestNs)/float64(validNs), "ingest/valid")
}
