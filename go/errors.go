package net

// #include "net.h"
import "C"

import "fmt"

// Kind is one of the engine's stable error kinds (tests/cross_lang/errors.json). The package
// exposes one sentinel per kind (ErrInvalidJSON, ...); every error this package returns
// matches exactly one of them with errors.Is.
type Kind struct {
	code int
	name string
}

// Error returns the kind's stable snake_case name.
func (k *Kind) Error() string { return k.name }

// Code is the kind's stable negative status code (the C ABI's return value).
func (k *Kind) Code() int { return k.code }

// Name is the kind's stable snake_case name, e.g. "invalid_json".
func (k *Kind) Name() string { return k.name }

func newKind(code C.int, name string) *Kind { return &Kind{code: int(code), name: name} }

// The sentinel errors, one per engine error kind. Codes come from include/net.h.
var (
	// ErrInternal: a bug or a caught panic inside the library.
	ErrInternal = newKind(C.NET_ERR_INTERNAL, "internal")
	// ErrInvalidArgument: a bad limit, batch, ordering, request key, or a closed/nil Bus.
	ErrInvalidArgument = newKind(C.NET_ERR_INVALID_ARGUMENT, "invalid_argument")
	// ErrInvalidJSON: an event is not valid JSON.
	ErrInvalidJSON = newKind(C.NET_ERR_INVALID_JSON, "invalid_json")
	// ErrInvalidConfig: bad configuration; Error.Key names the key.
	ErrInvalidConfig = newKind(C.NET_ERR_CONFIG, "config")
	// ErrBackpressure: the ring is full under fail_producer.
	ErrBackpressure = newKind(C.NET_ERR_BACKPRESSURE, "backpressure")
	// ErrDropped: the event was dropped by drop_newest or sample (and counted).
	ErrDropped = newKind(C.NET_ERR_DROPPED, "dropped")
	// ErrTimeout: a bounded wait expired (block backpressure, flush).
	ErrTimeout = newKind(C.NET_ERR_TIMEOUT, "timeout")
	// ErrShuttingDown: ingest or flush after Shutdown.
	ErrShuttingDown = newKind(C.NET_ERR_SHUTTING_DOWN, "shutting_down")
	// ErrInvalidCursor: a cursor is malformed, corrupt or from another bus layout.
	ErrInvalidCursor = newKind(C.NET_ERR_INVALID_CURSOR, "invalid_cursor")
	// ErrInvalidFilter: a filter is not valid in the filter language.
	ErrInvalidFilter = newKind(C.NET_ERR_INVALID_FILTER, "invalid_filter")
	// ErrPayloadTooLarge: an event is larger than max_event_bytes.
	ErrPayloadTooLarge = newKind(C.NET_ERR_PAYLOAD_TOO_LARGE, "payload_too_large")
	// ErrAdapter: the adapter (storage backend) failed.
	ErrAdapter = newKind(C.NET_ERR_ADAPTER, "adapter")
)

// Kinds lists every sentinel in code order (-1, -2, ...).
var Kinds = []*Kind{
	ErrInternal, ErrInvalidArgument, ErrInvalidJSON, ErrInvalidConfig, ErrBackpressure,
	ErrDropped, ErrTimeout, ErrShuttingDown, ErrInvalidCursor, ErrInvalidFilter,
	ErrPayloadTooLarge, ErrAdapter,
}

// kindOf maps a negative status code to its sentinel (ErrInternal for an unknown code).
func kindOf(code int) *Kind {
	if code < 0 && -code <= len(Kinds) {
		return Kinds[-code-1]
	}
	return ErrInternal
}

// Error is a failed call: its kind (a sentinel, matched by errors.Is), the engine's message
// and, for configuration errors, the dotted key at fault.
type Error struct {
	// Kind is the sentinel this error matches.
	Kind *Kind
	// Message is the engine's human-readable description (it may change between versions).
	Message string
	// Key is the offending configuration key for ErrInvalidConfig ("" otherwise).
	Key string
}

// Error formats the kind and the message.
func (e *Error) Error() string {
	if e.Message == "" {
		return "net: " + e.Kind.name
	}
	return fmt.Sprintf("net: %s: %s", e.Kind.name, e.Message)
}

// Unwrap returns the sentinel, so errors.Is(err, net.ErrInvalidJSON) works.
func (e *Error) Unwrap() error { return e.Kind }

// Code is the stable negative status code of the error's kind.
func (e *Error) Code() int { return e.Kind.code }

func newError(code int, message, key string) error {
	return &Error{Kind: kindOf(code), Message: message, Key: key}
}

// errNilBus is returned by every method of a nil *Bus.
var errNilBus = &Error{Kind: ErrInvalidArgument, Message: "nil *Bus (use net.New)"}
