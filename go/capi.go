package net

// This file is the only one that talks to C. Each C helper below calls one libnet function
// and, when it fails, copies net_last_error() (and the config key) with strdup in the same
// call: net_last_error is per OS thread and a goroutine may move between threads between two
// cgo calls, so reading it in a second call could return another call's message.
//
// The ingest helpers are the hot path: one cgo call, no Go allocation, no copy on the Go side.
// They return nothing and write their result into a Go stack variable (ng_ingest_out) whose
// fields are all integers: a C function with a result makes cgo's wrapper call
// _cgo_topofstack twice around the call (about 3 ns of an IngestRaw profile), a void one does
// not. The Go pointers crossing the boundary are the event's data, typed *C.uint8_t, and the
// result, typed *C.ng_ingest_out: cgo knows at compile time that neither points to memory that
// can hold Go pointers (bytes; a struct of integers) and emits no run-time pointer check for
// them (an unsafe.Pointer or a pointer to a struct with pointers would be checked on every
// call; that check was about 6 % of an IngestRaw profile). The error strings are therefore
// carried as uintptr_t and turned back into char * by a C helper on the failure path. The bus handle
// goes in as a uintptr_t (Bus.hot) for the same reason: cgo cannot tell that a *C.net_bus
// points to C memory and would call cgoCheckPointer on it every time (about 2 ns).
// cgo pointer rules this relies on (https://pkg.go.dev/cmd/cgo#hdr-Passing_pointers):
//   - a Go pointer may be passed to C if the memory it points to holds no Go pointers: string
//     and []byte data are plain bytes, so (*C.uint8_t)(unsafe.StringData(s)) qualifies;
//   - C must not keep the pointer after the call returns: libnet copies the event before
//     returning and never stores the address (documented in net.h for net_ingest_raw);
//   - the memory must stay alive during the call: the string is an argument of the calling
//     Go function, so it is live until the call returns (runtime.KeepAlive documents it);
//   - `#cgo noescape` promises the pointer does not escape through C, so a []byte passed
//     to IngestBytes need not be moved to the heap. cgo honours noescape only together with
//     `#cgo nocallback` (C never calls back into Go), which itself costs a little: the
//     generated wrapper sets and clears a per-goroutine flag around the call.

/*
#cgo CFLAGS: -I${SRCDIR}/../include
#cgo LDFLAGS: ${SRCDIR}/lib/libnet.a -lgcc_s -lutil -lrt -lpthread -lm -ldl
#cgo noescape ng_ingest_raw
#cgo nocallback ng_ingest_raw
#cgo noescape ng_ingest_key
#cgo nocallback ng_ingest_key
#cgo noescape ng_ingest_packed
#cgo nocallback ng_ingest_packed
#include <stdlib.h>
#include <string.h>
#include "net.h"

typedef struct ng_err {
	char *msg;
	char *key;
} ng_err;

static int32_t ng_fail(int32_t rc, ng_err *err) {
	if (rc < 0 && err != NULL) {
		err->msg = strdup(net_last_error());
		err->key = strdup(net_last_error_key());
	}
	return rc;
}

static int32_t ng_init(const char *cfg, net_bus **out, ng_err *err) {
	return ng_fail(net_init(cfg, out), err);
}
// The result of one ingest, written by C into a Go stack variable. Integers only (the error
// strings as uintptr_t), so cgo needs no pointer check for a *ng_ingest_out argument.
typedef struct ng_ingest_out {
	uint64_t seq;
	uintptr_t msg;
	uintptr_t key;
	int32_t rc;
	uint16_t shard;
} ng_ingest_out;

static void ng_ingest_done(int32_t rc, net_receipt r, ng_ingest_out *out) {
	out->seq = r.seq;
	out->shard = r.shard;
	out->rc = rc;
	out->msg = 0;
	out->key = 0;
	if (rc < 0) {
		out->msg = (uintptr_t)strdup(net_last_error());
		out->key = (uintptr_t)strdup(net_last_error_key());
	}
}
// A string strdup'ed by ng_ingest_done, back as a char * (failure path only).
static char *ng_cstr(uintptr_t p) { return (char *)p; }
// The hot helpers take the handle as a uintptr_t (see the comment at the top of capi.go).
static void ng_ingest_raw(uintptr_t b, const uint8_t *p, size_t n, ng_ingest_out *out) {
	net_receipt r = {0, 0};
	int32_t rc = net_ingest_raw((net_bus *)b, p, n, &r);
	ng_ingest_done(rc, r, out);
}
static void ng_ingest_key(uintptr_t b, const uint8_t *p, size_t n, const uint8_t *k, size_t kn,
                          ng_ingest_out *out) {
	net_receipt r = {0, 0};
	int32_t rc = net_ingest_with_key((net_bus *)b, p, n, k, kn, &r);
	ng_ingest_done(rc, r, out);
}
// A batch call's status and, on failure, its copied message: returned by value.
typedef struct ng_status {
	char *msg;
	char *key;
	int32_t rc;
} ng_status;

static ng_status ng_ingest_packed(uintptr_t b, const uint8_t *p, const size_t *lens,
                                  size_t count, net_outcome *out) {
	ng_err err = {NULL, NULL};
	int32_t rc = ng_fail(net_ingest_raw_packed((net_bus *)b, p, lens, count, out), &err);
	ng_status st = {err.msg, err.key, rc};
	return st;
}
static int32_t ng_poll_ex(net_bus *b, const char *req, net_poll_page **out, ng_err *err) {
	return ng_fail(net_poll_ex(b, req, out), err);
}
static int32_t ng_flush(net_bus *b, int64_t ms, ng_err *err) {
	return ng_fail(net_flush(b, ms), err);
}
static int32_t ng_stats(net_bus *b, char **out, ng_err *err) {
	return ng_fail(net_stats(b, out), err);
}
static int32_t ng_config_normalize(const char *cfg, char **out, ng_err *err) {
	return ng_fail(net_config_normalize(cfg, out), err);
}
static int32_t ng_config_json(net_bus *b, char **out, ng_err *err) {
	return ng_fail(net_config_json(b, out), err);
}
static int32_t ng_shutdown(net_bus *b, char **out, ng_err *err) {
	return ng_fail(net_shutdown(b, out), err);
}
static int32_t ng_subscribe(net_bus *b, const char *opts, net_subscription **out, ng_err *err) {
	return ng_fail(net_subscribe(b, opts, out), err);
}
static int32_t ng_cursor(net_subscription *s, char **out, ng_err *err) {
	return ng_fail(net_subscription_cursor(s, out), err);
}
static int32_t ng_next(net_subscription *s, int64_t ms, net_event *ev, uint64_t *skipped,
                       ng_err *err) {
	return ng_fail(net_subscription_next(s, ms, ev, skipped), err);
}
*/
import "C"

import (
	"runtime"
	"time"
	"unsafe"
)

// Status codes of libnet (include/net.h), re-exported for callers that want raw codes.
const (
	// StatusOK is NET_OK.
	StatusOK = int(C.NET_OK)
	// statusEnded is NET_ENDED (a subscription ended).
	statusEnded = int(C.NET_ENDED)
	// statusLagged is NET_LAGGED (a subscriber fell behind retention).
	statusLagged = int(C.NET_LAGGED)
	// statusCancelled is NET_CANCELLED (net_subscription_cancel was called).
	statusCancelled = int(C.NET_CANCELLED)
	// ABIVersion is the NET_ABI_VERSION this package was compiled against.
	ABIVersion = uint32(C.NET_ABI_VERSION)
)

// libABIVersion is the ABI version of the linked library.
func libABIVersion() uint32 { return uint32(C.net_abi_version()) }

// LibraryVersion is the version string of the linked libnet.
func LibraryVersion() string { return C.GoString(C.net_version()) }

// takeErr turns a failed call's captured message into an *Error and frees the C copies.
func takeErr(rc C.int32_t, e *C.ng_err) error {
	msg, key := "", ""
	if e.msg != nil {
		msg = C.GoString(e.msg)
		C.free(unsafe.Pointer(e.msg))
	}
	if e.key != nil {
		key = C.GoString(e.key)
		C.free(unsafe.Pointer(e.key))
	}
	return newError(int(rc), msg, key)
}

// takeString copies a libnet string into Go memory and releases it with net_string_free.
func takeString(s *C.char) string {
	out := C.GoString(s)
	C.net_string_free(s)
	return out
}

// cString allocates a C copy of s (nil for ""), to be freed with freeCString.
func cString(s string) *C.char {
	if s == "" {
		return nil
	}
	return C.CString(s)
}

func freeCString(s *C.char) {
	if s != nil {
		C.free(unsafe.Pointer(s))
	}
}

func cInit(config string) (*C.net_bus, error) {
	cfg := cString(config)
	defer freeCString(cfg)
	var h *C.net_bus
	var e C.ng_err
	if rc := C.ng_init(cfg, &h, &e); rc != 0 {
		return nil, takeErr(rc, &e)
	}
	return h, nil
}

// cBus is a libnet bus handle.
type cBus = *C.net_bus

// cHandle is a libnet bus handle as an integer (C memory: the Go GC does not track it).
type cHandle = C.uintptr_t

func cFree(h cBus) { C.net_free(h) }

func cNormalize(config string) (string, error) {
	cfg := cString(config)
	defer freeCString(cfg)
	var out *C.char
	var e C.ng_err
	if rc := C.ng_config_normalize(cfg, &out, &e); rc != 0 {
		return "", takeErr(rc, &e)
	}
	return takeString(out), nil
}

// dataPtr is the address of s's bytes for C (possibly nil when s is empty; libnet accepts
// NULL with length 0). C reads the bytes during the call only and never keeps the pointer.
func dataPtr(s string) *C.uint8_t {
	return (*C.uint8_t)(unsafe.StringData(s))
}

// ingestResult turns an ingest result into a Receipt or an *Error.
func ingestResult(out *C.ng_ingest_out) (Receipt, error) {
	if out.rc != 0 {
		return Receipt{}, takeErr(out.rc, &C.ng_err{msg: C.ng_cstr(out.msg), key: C.ng_cstr(out.key)})
	}
	return Receipt{Shard: uint16(out.shard), Seq: uint64(out.seq)}, nil
}

// hotHandle is h as the integer the hot helpers take (no cgo pointer check on it).
func hotHandle(h cBus) C.uintptr_t { return C.uintptr_t(uintptr(unsafe.Pointer(h))) }

func (b *Bus) cIngestRaw(event string) (Receipt, error) {
	var out C.ng_ingest_out
	C.ng_ingest_raw(b.hot, dataPtr(event), C.size_t(len(event)), &out)
	runtime.KeepAlive(b)
	runtime.KeepAlive(event)
	return ingestResult(&out)
}

func (b *Bus) cIngestKey(event, key string) (Receipt, error) {
	var out C.ng_ingest_out
	C.ng_ingest_key(b.hot, dataPtr(event), C.size_t(len(event)), dataPtr(key),
		C.size_t(len(key)), &out)
	runtime.KeepAlive(b)
	runtime.KeepAlive(event)
	runtime.KeepAlive(key)
	return ingestResult(&out)
}

// cIngestPacked ingests the events packed in s.buf (lengths in s.lens) and fills s.outs.
func (b *Bus) cIngestPacked(s *batchScratch) error {
	n := len(s.lens)
	if n == 0 {
		return nil
	}
	var data *C.uint8_t
	if len(s.buf) > 0 {
		data = (*C.uint8_t)(unsafe.Pointer(&s.buf[0]))
	}
	st := C.ng_ingest_packed(b.hot, data, (*C.size_t)(unsafe.Pointer(&s.lens[0])), C.size_t(n),
		(*C.net_outcome)(unsafe.Pointer(&s.outs[0])))
	runtime.KeepAlive(b)
	if st.rc != 0 {
		return takeErr(st.rc, &C.ng_err{msg: st.msg, key: st.key})
	}
	return nil
}

// cPollEx runs net_poll_ex with a JSON request and copies the page into Go memory.
func (b *Bus) cPollEx(request string) (*PollResult, error) {
	req := cString(request)
	defer freeCString(req)
	var page *C.net_poll_page
	var e C.ng_err
	rc := C.ng_poll_ex(b.h, req, &page, &e)
	runtime.KeepAlive(b)
	if rc != 0 {
		return nil, takeErr(rc, &e)
	}
	defer C.net_poll_page_free(page)
	count := int(page.count)
	res := &PollResult{
		Cursor:  C.GoString(page.cursor),
		Skipped: uint64(page.skipped),
		HasMore: bool(page.has_more),
		Events:  make([]Event, count),
	}
	if count == 0 {
		return res, nil
	}
	evs := unsafe.Slice(page.events, count)
	total := 0
	for i := range evs {
		total += int(evs[i].len)
	}
	// One buffer for every payload: two allocations per poll, whatever the event count.
	buf := make([]byte, total)
	off := 0
	for i := range evs {
		n := int(evs[i].len)
		copy(buf[off:off+n], unsafe.Slice((*byte)(unsafe.Pointer(evs[i].ptr)), n))
		res.Events[i] = eventFromC(&evs[i], buf[off:off+n:off+n])
		off += n
	}
	return res, nil
}

func eventFromC(ev *C.net_event, raw []byte) Event {
	return Event{
		Shard:       uint16(ev.shard),
		ID:          uint64(ev.id),
		Seq:         uint64(ev.seq),
		InsertionTS: uint64(ev.insertion_ts),
		Raw:         raw,
	}
}

func (b *Bus) cFlush(timeout time.Duration) error {
	ms := int64(-1)
	if timeout >= 0 {
		ms = timeout.Milliseconds()
	}
	var e C.ng_err
	rc := C.ng_flush(b.h, C.int64_t(ms), &e)
	runtime.KeepAlive(b)
	if rc != 0 {
		return takeErr(rc, &e)
	}
	return nil
}

// jsonCall runs one of the libnet calls that return a JSON string.
func (b *Bus) jsonCall(which int) (string, error) {
	var out *C.char
	var e C.ng_err
	var rc C.int32_t
	switch which {
	case callStats:
		rc = C.ng_stats(b.h, &out, &e)
	case callConfig:
		rc = C.ng_config_json(b.h, &out, &e)
	default:
		rc = C.ng_shutdown(b.h, &out, &e)
	}
	runtime.KeepAlive(b)
	if rc != 0 {
		return "", takeErr(rc, &e)
	}
	return takeString(out), nil
}

const (
	callStats = iota
	callConfig
	callShutdown
)

// subscription is the C side of a Go subscription. next is called by one goroutine at a
// time; cancel may be called from any goroutine while the handle is live; free exactly once,
// after every next and cancel returned (Subscription enforces both).
type subscription struct {
	h *C.net_subscription
}

func (b *Bus) cSubscribe(options string) (*subscription, error) {
	opts := cString(options)
	defer freeCString(opts)
	var h *C.net_subscription
	var e C.ng_err
	rc := C.ng_subscribe(b.h, opts, &h, &e)
	runtime.KeepAlive(b)
	if rc != 0 {
		return nil, takeErr(rc, &e)
	}
	return &subscription{h: h}, nil
}

// next waits up to ms milliseconds (< 0: without bound) for an item: status, the event
// (copied), the lag count, or an error.
func (s *subscription) next(ms int64) (int, Event, uint64, error) {
	var ev C.net_event
	var skipped C.uint64_t
	var e C.ng_err
	rc := C.ng_next(s.h, C.int64_t(ms), &ev, &skipped, &e)
	switch {
	case rc == C.NET_OK:
		raw := C.GoBytes(unsafe.Pointer(ev.ptr), C.int(ev.len))
		return StatusOK, eventFromC(&ev, raw), 0, nil
	case rc == C.NET_LAGGED:
		return statusLagged, Event{}, uint64(skipped), nil
	case rc == C.NET_ENDED:
		return statusEnded, Event{}, 0, nil
	case rc == C.NET_CANCELLED:
		return statusCancelled, Event{}, 0, nil
	default:
		return int(rc), Event{}, 0, takeErr(rc, &e)
	}
}

// cancel wakes a next waiting on s (it returns statusCancelled), and makes every later next
// return it too. Safe from any goroutine while s is not freed.
func (s *subscription) cancel() { C.net_subscription_cancel(s.h) }

// cursor is the position after the last item handed out.
func (s *subscription) cursor() (string, error) {
	var out *C.char
	var e C.ng_err
	if rc := C.ng_cursor(s.h, &out, &e); rc != 0 {
		return "", takeErr(rc, &e)
	}
	return takeString(out), nil
}

func (s *subscription) free() { C.net_subscription_free(s.h) }
