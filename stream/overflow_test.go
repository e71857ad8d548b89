package stream

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"switchboard"
	"switchboard/internal/tstest"
	"switchboard/store/storetest"
)

// gateWriter is a ResponseWriter whose writes wait until the gate opens: a consumer that
// does not read.
type gateWriter struct {
	header http.Header
	gate   chan struct{}
	mu     sync.Mutex
	out    strings.Builder
}

func (g *gateWriter) Header() http.Header { return g.header }
func (g *gateWriter) WriteHeader(int)     {}
func (g *gateWriter) Flush()              {}
func (g *gateWriter) Write(p []byte) (int, error) {
	<-g.gate
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.out.Write(p)
}

// TestOverflowIsToldNotSkipped: a consumer that stops reading while more events than its
// buffer arrive gets every event it had been given, then "event: overflow" with the last
// seq delivered, and its stream ends; resuming from there gives the rest.
func TestOverflowIsToldNotSkipped(t *testing.T) {
	db := storetest.NewSQLite(t)
	ctx := context.Background()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(db.CreateAccount(ctx, &switchboard.Account{ID: 61, Name: "A"}))
	hub := New(Config{Store: db, Bus: db.EventBus(), Buffer: 4})
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	go hub.Run(runCtx)

	gw := &gateWriter{header: http.Header{}, gate: make(chan struct{})}
	served := make(chan error, 1)
	go func() {
		served <- hub.ServeEventStream(gw, httptest.NewRequest("GET", "/v3/voice/61/events/stream", nil), 61, 0)
	}()
	tstest.WaitFor(t, "the consumer to subscribe", func() bool { return hub.consumers(61) == 1 })
	var evs []*switchboard.Event
	for range 10 {
		evs = append(evs, switchboard.NewEvent(61, switchboard.EventQueueEntered, nil))
	}
	must(db.AppendEvents(ctx, evs...))
	tstest.WaitFor(t, "the hub to drop the consumer", func() bool { return hub.consumers(61) == 0 })
	close(gw.gate) // the consumer reads again
	must(<-served)

	out := gw.out.String()
	for i, ev := range evs {
		has := strings.Contains(out, ev.ID)
		if has != (i < 4) {
			t.Errorf("event %d (seq %d) in the stream: %v; want the 4 buffered ones only\n%s", i, ev.Seq, has, out)
		}
	}
	want := "event: overflow\ndata: {\"type\":\"overflow\",\"last_seq\":" + itoa(evs[3].Seq)
	if !strings.Contains(out, want) || !strings.HasSuffix(out, "\n\n") || strings.Index(out, want) < strings.Index(out, evs[3].ID) {
		t.Errorf("the stream does not end with the overflow notice %q:\n%s", want, out)
	}

	// Resuming after the last seq delivered gives the other six.
	sub, err := hub.Subscribe(ctx, 61, 0, evs[3].Seq, Filter{})
	must(err)
	defer sub.Close()
	items, err := sub.next(ctx, 0)
	must(err)
	if len(items) != 6 || items[0].seq != evs[4].Seq || items[5].seq != evs[9].Seq {
		t.Errorf("resume gave %d items", len(items))
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
