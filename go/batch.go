package net

// #include "net.h"
import "C"

import "unsafe"

// batchScratch holds the packed form of a batch for net_ingest_raw_packed: every event's
// bytes back to back, their lengths, and the outcomes libnet writes. Reused through a
// sync.Pool, so a steady stream of batches allocates nothing. None of these buffers holds a Go
// pointer, so they may be passed to C as they are.
type batchScratch struct {
	buf  []byte
	lens []C.size_t
	outs []C.net_outcome
}

// pack sizes every buffer for events first, then copies: one pass records the lengths, a
// second copies the bytes at known offsets (no append growth checks in the copy loop).
func (s *batchScratch) pack(events []string) {
	n := len(events)
	if cap(s.lens) < n {
		s.lens = make([]C.size_t, n)
	}
	if cap(s.outs) < n {
		s.outs = make([]C.net_outcome, n)
	}
	s.lens = s.lens[:n]
	s.outs = s.outs[:n]
	total := 0
	for i, e := range events {
		s.lens[i] = C.size_t(len(e))
		total += len(e)
	}
	if cap(s.buf) < total {
		s.buf = make([]byte, total)
	}
	s.buf = s.buf[:total]
	off := 0
	for _, e := range events {
		off += copy(s.buf[off:], e)
	}
}

func (s *batchScratch) outcome(i int) Outcome {
	o := &s.outs[i]
	if o.status != 0 {
		return Outcome{Err: kindOf(int(o.status))}
	}
	return Outcome{Receipt: Receipt{Shard: uint16(o.shard), Seq: uint64(o.seq)}}
}

// bytesAsString views b as a string without copying (b must not change during the call).
func bytesAsString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
