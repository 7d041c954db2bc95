package net

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// fixture loads a golden file from tests/cross_lang/ (shared by every language).
func fixture(t *testing.T, rel string, into any) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "tests", "cross_lang", rel))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, into); err != nil {
		t.Fatal(err)
	}
}

// decode parses JSON text into generic values.
func decode(t *testing.T, text string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(text), &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestErrorKindsMatchFixture(t *testing.T) {
	var f struct {
		Kinds []struct {
			Kind string `json:"kind"`
			Code int    `json:"code"`
		} `json:"kinds"`
	}
	fixture(t, "errors.json", &f)
	if len(f.Kinds) != len(Kinds) {
		t.Fatalf("fixture has %d kinds, Go has %d", len(f.Kinds), len(Kinds))
	}
	for i, k := range f.Kinds {
		got := Kinds[i]
		if got.Name() != k.Kind || got.Code() != k.Code {
			t.Errorf("kind %d: Go %s/%d, fixture %s/%d", i, got.Name(), got.Code(), k.Kind, k.Code)
		}
		if kindOf(k.Code) != got {
			t.Errorf("kindOf(%d) is not %s", k.Code, k.Kind)
		}
		err := newError(k.Code, "m", "")
		if !errors.Is(err, got) {
			t.Errorf("errors.Is(%v, %s) is false", err, k.Kind)
		}
	}
}

func TestConfigCases(t *testing.T) {
	var f struct {
		Valid []struct {
			Name       string          `json:"name"`
			Input      json.RawMessage `json:"input"`
			Normalized any             `json:"normalized"`
		} `json:"valid"`
		Invalid []struct {
			Name      string          `json:"name"`
			Input     json.RawMessage `json:"input"`
			InputText *string         `json:"input_text"`
			Kind      string          `json:"kind"`
			Key       string          `json:"key"`
		} `json:"invalid"`
	}
	fixture(t, "bus/config_cases.json", &f)
	for _, c := range f.Valid {
		text, err := NormalizeConfig(string(c.Input))
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		if got := decode(t, text); !reflect.DeepEqual(got, c.Normalized) {
			t.Errorf("%s: normalized %s, want %v", c.Name, text, c.Normalized)
		}
		// A bus over the memory adapter starts without a server and reports the same form.
		if c.Normalized.(map[string]any)["adapter"].(map[string]any)["type"] != "memory" {
			continue
		}
		bus, err := NewFromJSON(string(c.Input))
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		text, err = bus.ConfigJSON()
		if err != nil {
			t.Fatal(err)
		}
		if got := decode(t, text); !reflect.DeepEqual(got, c.Normalized) {
			t.Errorf("%s: bus config %s, want %v", c.Name, text, c.Normalized)
		}
		bus.Shutdown()
	}
	for _, c := range f.Invalid {
		text := string(c.Input)
		if c.InputText != nil {
			text = *c.InputText
		}
		_, errNorm := NormalizeConfig(text)
		_, errNew := NewFromJSON(text)
		for _, err := range []error{errNorm, errNew} {
			var e *Error
			if !errors.Is(err, ErrInvalidConfig) || !errors.As(err, &e) {
				t.Errorf("%s: got %v, want ErrInvalidConfig", c.Name, err)
				continue
			}
			if e.Kind.Name() != c.Kind || e.Key != c.Key {
				t.Errorf("%s: kind %s key %q, want %s %q", c.Name, e.Kind.Name(), e.Key, c.Kind, c.Key)
			}
		}
	}
}

func TestEventCases(t *testing.T) {
	var f struct {
		Invalid []string `json:"invalid"`
		Valid   []string `json:"valid"`
	}
	fixture(t, "bus/event_cases.json", &f)
	bus := newBus(t, nil)
	for _, raw := range f.Invalid {
		if _, err := bus.IngestRaw(raw); !errors.Is(err, ErrInvalidJSON) {
			t.Errorf("%q: got %v, want ErrInvalidJSON", raw, err)
		}
	}
	for _, raw := range f.Valid {
		if _, err := bus.IngestRaw(raw); err != nil {
			t.Errorf("%q: %v", raw, err)
		}
	}
}

func TestFilterCases(t *testing.T) {
	var f struct {
		Event json.RawMessage `json:"event"`
		Cases []struct {
			Name   string          `json:"name"`
			Filter json.RawMessage `json:"filter"`
			Match  bool            `json:"match"`
		} `json:"cases"`
		Invalid []struct {
			Name   string          `json:"name"`
			Filter json.RawMessage `json:"filter"`
			Kind   string          `json:"kind"`
		} `json:"invalid"`
	}
	fixture(t, "bus/filter_cases.json", &f)
	bus := newBus(t, nil)
	if _, err := bus.IngestBytes(f.Event); err != nil {
		t.Fatal(err)
	}
	if err := bus.Flush(); err != nil {
		t.Fatal(err)
	}
	for _, c := range f.Cases {
		res, err := bus.Poll(PollRequest{Limit: 10, Filter: c.Filter})
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		if got := len(res.Events) == 1; got != c.Match {
			t.Errorf("%s: match %v, want %v", c.Name, got, c.Match)
		}
	}
	for _, c := range f.Invalid {
		if string(c.Filter) == "null" {
			continue // a null filter means "no filter" in a request
		}
		_, err := bus.Poll(PollRequest{Filter: c.Filter})
		if !errors.Is(err, ErrInvalidFilter) {
			t.Errorf("%s: poll got %v, want ErrInvalidFilter", c.Name, err)
		}
		_, errc := bus.Subscribe(t.Context(), SubscribeOpts{Filter: c.Filter})
		if err := <-errc; !errors.Is(err, ErrInvalidFilter) {
			t.Errorf("%s: subscribe got %v, want ErrInvalidFilter", c.Name, err)
		}
	}
}

func TestCursorCases(t *testing.T) {
	var f struct {
		Shards  int      `json:"shards"`
		Invalid []string `json:"invalid"`
	}
	fixture(t, "bus/cursor_cases.json", &f)
	bus := newBus(t, &Config{NumShards: f.Shards})
	for _, c := range f.Invalid {
		if c == "" {
			continue // "" means "no cursor" in PollRequest; the C and Rust tests cover it
		}
		if _, err := bus.Poll(PollRequest{Cursor: c}); !errors.Is(err, ErrInvalidCursor) {
			t.Errorf("%q: got %v, want ErrInvalidCursor", c, err)
		}
	}
}

// TestPollRequestCases sends the fixture's request texts verbatim to net_poll_ex: the engine
// parses them (core/src/bus/request.rs), so Go reports exactly what Rust and C report.
func TestPollRequestCases(t *testing.T) {
	var f struct {
		Valid []struct {
			Input      string `json:"input"`
			Normalized struct {
				Limit  int     `json:"limit"`
				Cursor *string `json:"cursor"`
				Filter any     `json:"filter"`
			} `json:"normalized"`
		} `json:"valid"`
		Invalid []struct {
			Input      string  `json:"input"`
			Key        *string `json:"key"`
			EngineKind string  `json:"engine_kind"`
		} `json:"invalid"`
	}
	fixture(t, "bus/poll_request_cases.json", &f)
	if len(f.Valid) == 0 || len(f.Invalid) == 0 {
		t.Fatal("empty fixture")
	}
	bus := newBus(t, nil)
	for i := range 5 {
		if _, err := bus.IngestRaw(`{"t":` + string(rune('0'+i)) + `}`); err != nil {
			t.Fatal(err)
		}
	}
	if err := bus.Flush(); err != nil {
		t.Fatal(err)
	}
	for _, c := range f.Valid {
		if c.Normalized.Cursor != nil {
			continue // the fixture's cursors are parser cases, not cursors of this bus
		}
		page, err := bus.cPollEx(c.Input)
		if err != nil {
			t.Errorf("%q: %v", c.Input, err)
			continue
		}
		want := min(c.Normalized.Limit, 5)
		if c.Normalized.Filter != nil {
			want = 0 // the fixture's filters name paths these events do not have
		}
		if len(page.Events) != want {
			t.Errorf("%q: %d events, want %d", c.Input, len(page.Events), want)
		}
	}
	for _, c := range f.Invalid {
		if c.Input == "" {
			continue // Go passes "" as NULL (the default request); Rust and C cover it
		}
		_, err := bus.cPollEx(c.Input)
		var e *Error
		if !errors.As(err, &e) || e.Kind.Name() != c.EngineKind {
			t.Errorf("%q: got %v, want kind %s", c.Input, err, c.EngineKind)
			continue
		}
		if c.Key != nil && !strings.Contains(e.Message, *c.Key) {
			t.Errorf("%q: message %q does not name %q", c.Input, e.Message, *c.Key)
		}
	}
}
