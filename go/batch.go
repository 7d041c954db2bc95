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

func (s *batchScratch) pack(events []string) {
	total := 0
	for _, e := range events {
		total += len(e)
	}
	s.buf = s.buf[:0]
	if cap(s.buf) < total {
		s.buf = make([]byte, 0, total)
	}
	s.lens = s.lens[:0]
	for _, e := range events {
		s.buf = append(s.buf, e...)
		s.lens = append(s.lens, C.size_t(len(e)))
	}
	if cap(s.outs) < len(events) {
		s.outs = make([]C.net_outcome, len(events))
	}
	s.outs = s.outs[:len(events)]
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
