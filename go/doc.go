// Package net is the Go skin of the net-mesh event bus: a thin cgo layer over libnet (the C
// ABI in include/net.h), linked statically, so a Go binary needs no shared library at run time.
//
// Every behaviour comes from the Rust engine: configuration is the engine's strict JSON,
// poll options, filters and cursors are evaluated by the engine, and errors carry the engine's
// stable kinds, exposed as sentinel errors usable with errors.Is.
//
//	bus, err := net.New(&net.Config{NumShards: 4})
//	if err != nil { ... }
//	defer bus.Shutdown()
//	receipt, err := bus.IngestRaw(`{"token":"hello"}`)
//	page, err := bus.Poll(net.PollRequest{Limit: 100})
//
// Build: `make test-go` (or `make go-lib`) builds libnet and publishes it as go/lib/libnet.a,
// which the #cgo directives link. See docs/go.md.
package net
