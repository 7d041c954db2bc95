package net

import (
	"errors"
	"strings"
	"testing"
)

// TestDrainLingerNs: nil leaves the key out (engine default), a pointer to 0 turns the window
// off, and an out-of-range value is ErrInvalidConfig naming the key.
func TestDrainLingerNs(t *testing.T) {
	text, err := (&Config{}).JSON()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(text, "drain_linger_ns") {
		t.Errorf("nil DrainLingerNs sent: %s", text)
	}
	bus := newBus(t, &Config{})
	norm, err := bus.ConfigJSON()
	if err != nil {
		t.Fatal(err)
	}
	if got := decode(t, norm).(map[string]any)["drain_linger_ns"]; got != float64(5000) {
		t.Errorf("default drain_linger_ns = %v, want 5000", got)
	}

	for _, ns := range []int{0, 1000000} {
		bus := newBus(t, &Config{DrainLingerNs: &ns})
		norm, err := bus.ConfigJSON()
		if err != nil {
			t.Fatal(err)
		}
		if got := decode(t, norm).(map[string]any)["drain_linger_ns"]; got != float64(ns) {
			t.Errorf("drain_linger_ns = %v, want %d", got, ns)
		}
		// The bus works with the window off or at its longest.
		for i := 0; i < 100; i++ {
			if _, err := bus.IngestRaw(`{"i":1}`); err != nil {
				t.Fatal(err)
			}
		}
		if err := bus.Flush(); err != nil {
			t.Fatal(err)
		}
		if s, err := bus.Stats(); err != nil || s.Delivered != 100 {
			t.Errorf("%d ns: delivered %+v, %v", ns, s, err)
		}
	}

	for _, ns := range []int{1000001, -1} {
		_, err := New(&Config{DrainLingerNs: &ns})
		var e *Error
		if !errors.Is(err, ErrInvalidConfig) || !errors.As(err, &e) || e.Key != "drain_linger_ns" {
			t.Errorf("%d: got %v, want ErrInvalidConfig for drain_linger_ns", ns, err)
		}
	}
}
