package net

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
)

// newBus creates a bus that is shut down when the test ends.
func newBus(t testing.TB, cfg *Config) *Bus {
	t.Helper()
	bus, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bus.Shutdown() })
	return bus
}

func TestIngestPollRoundTrip(t *testing.T) {
	bus := newBus(t, &Config{NumShards: 2})
	for i := range 10 {
		if _, err := bus.Ingest(map[string]any{"i": i, "even": i%2 == 0}); err != nil {
			t.Fatal(err)
		}
	}
	if err := bus.Flush(); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	cursor := ""
	for range 20 {
		res, err := bus.Poll(PollRequest{Limit: 3, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range res.Events {
			seen[string(e.Raw)]++
		}
		cursor = res.Cursor
		if !res.HasMore {
			break
		}
	}
	if len(seen) != 10 {
		t.Fatalf("saw %d distinct events: %v", len(seen), seen)
	}
	for raw, n := range seen {
		if n != 1 {
			t.Errorf("%s seen %d times", raw, n)
		}
	}
	res, err := bus.Poll(PollRequest{
		Limit:    100,
		Filter:   map[string]any{"path": "even", "eq": true},
		Ordering: "insertion_time",
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Events) != 5 {
		t.Fatalf("filter matched %d events, want 5", len(res.Events))
	}
	for i := 1; i < len(res.Events); i++ {
		if res.Events[i-1].InsertionTS > res.Events[i].InsertionTS {
			t.Fatal("insertion_time ordering not honoured")
		}
	}
	st, err := bus.Stats()
	if err != nil || st.Accepted != 10 || len(st.Shards) != 2 {
		t.Fatalf("stats %+v, %v", st, err)
	}
}

func TestBadInputIsATypedError(t *testing.T) {
	bus := newBus(t, &Config{MaxEventBytes: 16})
	cases := []struct {
		err  error
		want error
	}{
		{second(bus.IngestRaw(`{"a":`)), ErrInvalidJSON},
		{second(bus.IngestRaw("\"\xff\"")), ErrInvalidJSON},
		{second(bus.IngestRaw("")), ErrInvalidJSON},
		{second(bus.IngestRaw(`{"a":"0123456789abcdef"}`)), ErrPayloadTooLarge},
		{second(bus.Ingest(func() {})), ErrInvalidArgument},
		{second(bus.Poll(PollRequest{Limit: 100001})), ErrInvalidArgument},
		{second(bus.Poll(PollRequest{Limit: -1})), ErrInvalidArgument},
		{second(bus.Poll(PollRequest{Ordering: "random"})), ErrInvalidArgument},
		{second(bus.Poll(PollRequest{Cursor: "not a cursor"})), ErrInvalidCursor},
		{second(bus.Poll(PollRequest{Filter: map[string]any{"path": "a"}})), ErrInvalidFilter},
		{second(New(&Config{NumShards: 5000})), ErrInvalidConfig},
		{second(New(&Config{Backpressure: &Backpressure{Mode: "drop_oldes"}})), ErrInvalidConfig},
		{second(NewFromJSON(`{"num_shard": 4}`)), ErrInvalidConfig},
		{second(NewFromJSON(`{num_shards: 4}`)), ErrInvalidConfig},
	}
	for i, c := range cases {
		if !errors.Is(c.err, c.want) {
			t.Errorf("case %d: got %v, want %v", i, c.err, c.want)
		}
		var e *Error
		if !errors.As(c.err, &e) || e.Message == "" {
			t.Errorf("case %d: %v has no message", i, c.err)
		}
	}
	_, err := NewFromJSON(`{"backpressure": {"mode": "block", "timeout": 5}}`)
	var e *Error
	if !errors.As(err, &e) || e.Key != "backpressure.timeout" {
		t.Errorf("config error %v does not name the key", err)
	}
}

func second[T any](_ T, err error) error { return err }

func TestNilBusNeverPanics(t *testing.T) {
	var bus *Bus
	checks := []error{
		second(bus.IngestRaw("{}")),
		second(bus.IngestBytes([]byte("{}"))),
		second(bus.IngestWithKey("{}", "k")),
		second(bus.Ingest(1)),
		second(bus.IngestRawBatch([]string{"{}"})),
		second(bus.Poll(PollRequest{})),
		second(bus.Stats()),
		second(bus.ConfigJSON()),
		second(bus.Shutdown()),
		bus.Flush(),
	}
	_, errc := bus.Subscribe(t.Context(), SubscribeOpts{})
	checks = append(checks, <-errc)
	for i, err := range checks {
		if !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("call %d on a nil bus: %v", i, err)
		}
	}
}

func TestShutdown(t *testing.T) {
	bus := newBus(t, nil)
	if _, err := bus.IngestRaw(`{"x":1}`); err != nil {
		t.Fatal(err)
	}
	report, err := bus.Shutdown()
	if err != nil || report.Accepted != 1 || report.Delivered != 1 || report.Undelivered != 0 {
		t.Fatalf("report %+v, %v", report, err)
	}
	if _, err := bus.Shutdown(); err != nil {
		t.Fatal("shutdown is not idempotent:", err)
	}
	if _, err := bus.IngestRaw(`{"x":2}`); !errors.Is(err, ErrShuttingDown) {
		t.Fatalf("ingest after shutdown: %v", err)
	}
	if err := bus.Flush(); !errors.Is(err, ErrShuttingDown) {
		t.Fatalf("flush after shutdown: %v", err)
	}
	res, err := bus.Poll(PollRequest{})
	if err != nil || len(res.Events) != 1 {
		t.Fatalf("poll after shutdown: %v %v", res, err)
	}
}

func TestBatchOutcomes(t *testing.T) {
	bus := newBus(t, nil)
	out, err := bus.IngestRawBatch([]string{`{"b":0}`, `{"b":`, `[2]`, ``})
	if err != nil {
		t.Fatal(err)
	}
	if out[0].Err != nil || out[2].Err != nil || out[2].Receipt.Seq != out[0].Receipt.Seq+1 {
		t.Errorf("outcomes %+v", out)
	}
	if !errors.Is(out[1].Err, ErrInvalidJSON) || !errors.Is(out[3].Err, ErrInvalidJSON) {
		t.Errorf("outcomes %+v", out)
	}
	if err := bus.IngestRawBatchInto([]string{"{}", "{}"}, make([]Outcome, 1)); !errors.Is(err, ErrInvalidArgument) {
		t.Errorf("short out slice: %v", err)
	}
	if out, err := bus.IngestRawBatch(nil); err != nil || len(out) != 0 {
		t.Errorf("empty batch: %v %v", out, err)
	}
	a, err1 := bus.IngestWithKey(`{"k":1}`, "user-7")
	b, err2 := bus.IngestWithKey(`{"k":2}`, "user-7")
	if err1 != nil || err2 != nil || a.Shard != b.Shard || b.Seq <= a.Seq {
		t.Errorf("keyed ingest %v %v %v %v", a, b, err1, err2)
	}
}

func TestBackpressureErrorsAreCounted(t *testing.T) {
	bus := newBus(t, &Config{RingCapacity: 2, Backpressure: &Backpressure{Mode: "fail_producer"}})
	refused := 0
	for range 2000 {
		if _, err := bus.IngestRaw(`{"x":1}`); errors.Is(err, ErrBackpressure) {
			refused++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	st, err := bus.Stats()
	if err != nil || st.Rejected.Backpressure != uint64(refused) {
		t.Fatalf("refused %d, stats %+v, %v", refused, st.Rejected, err)
	}
}

func TestConcurrentIngest(t *testing.T) {
	bus := newBus(t, &Config{NumShards: 4, Backpressure: &Backpressure{Mode: "block", TimeoutMs: 5000}})
	const producers, each = 8, 500
	var wg sync.WaitGroup
	for p := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			batch := make([]string, 0, 10)
			for i := range each {
				ev := fmt.Sprintf(`{"p":%d,"i":%d}`, p, i)
				if p%2 == 0 {
					if _, err := bus.IngestRaw(ev); err != nil {
						t.Error(err)
					}
					continue
				}
				batch = append(batch, ev)
				if len(batch) == cap(batch) {
					out, err := bus.IngestRawBatch(batch)
					if err != nil {
						t.Error(err)
					}
					for _, o := range out {
						if o.Err != nil {
							t.Error(o.Err)
						}
					}
					batch = batch[:0]
				}
			}
		}()
	}
	wg.Wait()
	if err := bus.Flush(); err != nil {
		t.Fatal(err)
	}
	res, err := bus.Poll(PollRequest{Limit: 100000})
	if err != nil || len(res.Events) != producers*each {
		t.Fatalf("polled %d events, %v", len(res.Events), err)
	}
}

// TestStaticallyLinked checks that the test binary does not need libnet.so at run time.
func TestStaticallyLinked(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ldd", exe).CombinedOutput()
	if err != nil {
		t.Skipf("ldd unavailable: %v %s", err, out)
	}
	if strings.Contains(string(out), "libnet") {
		t.Fatalf("the test binary depends on a shared libnet:\n%s", out)
	}
	if LibraryVersion() == "" || ABIVersion != libABIVersion() {
		t.Fatal("library version / ABI mismatch")
	}
}
