// Command webhooks benchmarks webhook delivery on SQLite with the default durability (WAL,
// synchronous=NORMAL), the real store, the real dispatcher and a local receiver that
// answers 200 at once:
//
//   - throughput: N events are stored first (their deliveries fanned out in the same
//     transactions), then the dispatcher starts and the time until the receiver has all N is
//     measured: deliveries/s;
//   - latency: events are stored one per transaction at a steady rate (default 1,000/s) while
//     the dispatcher runs; the delay from the event's commit to its receipt is measured
//     (p50, p99).
//
// It writes the figures into docs/benchmarks.md between the webhook-delivery markers.
//
//	go run ./bench/webhooks [-n 20000] [-rate 1000] [-seconds 10] [-write docs/benchmarks.md]
package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"switchboard"
	"switchboard/store"
	"switchboard/webhook"
)

func main() {
	n := flag.Int("n", 20000, "events stored before the dispatcher starts (throughput run)")
	rate := flag.Int("rate", 1000, "events per second in the latency run")
	seconds := flag.Int("seconds", 10, "length of the latency run")
	workers := flag.Int("workers", 0, "dispatcher workers (0 = the default)")
	perEndpoint := flag.Int("per-endpoint", 0, "deliveries in flight to one subscription (0 = the default)")
	write := flag.String("write", "", "write the results into this markdown file (e.g. docs/benchmarks.md)")
	repeat := flag.Int("repeat", 3, "throughput runs; the median is reported")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the throughput run to this file")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			log.Fatal(err)
		}
		pprof.StartCPUProfile(f)
	}

	// The box is shared and the figure moves from run to run: the median of several runs is
	// reported, with the slowest and fastest.
	var runs []time.Duration
	for range *repeat {
		tp, err := throughput(*n, *workers, *perEndpoint)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("throughput: %d deliveries in %.3f s = %.0f deliveries/s\n", *n, tp.Seconds(), float64(*n)/tp.Seconds())
		runs = append(runs, tp)
	}
	slices.Sort(runs)
	tp := runs[len(runs)/2]
	fmt.Printf("throughput median of %d runs: %.0f deliveries/s (slowest %.0f, fastest %.0f)\n", len(runs),
		float64(*n)/tp.Seconds(), float64(*n)/runs[len(runs)-1].Seconds(), float64(*n)/runs[0].Seconds())
	if *cpuProfile != "" {
		pprof.StopCPUProfile()
		f, _ := os.Create(*cpuProfile + ".lat")
		pprof.StartCPUProfile(f)
	}
	lat, err := latency(*rate, *seconds, *workers, *perEndpoint)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("latency at %d events/s for %d s: %d events, p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
		*rate, *seconds, lat.count, ms(lat.p50), ms(lat.p99), ms(lat.max))
	if *cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	if *write != "" {
		cmd := "go run ./bench/webhooks " + strings.Join(os.Args[1:], " ")
		if err := writeSection(*write, strings.TrimSpace(cmd), *n, runs, *rate, *seconds, lat); err != nil {
			log.Fatal(err)
		}
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// receiver counts deliveries and notes when each message id first arrived.
type receiver struct {
	mu    sync.Mutex
	first map[string]time.Time
	count atomic.Int64
	all   chan struct{}
	want  int64
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	now := time.Now()
	id := r.Header.Get("webhook-id")
	rc.mu.Lock()
	if _, seen := rc.first[id]; !seen {
		rc.first[id] = now
		if int64(len(rc.first)) == rc.want {
			close(rc.all)
		}
	}
	rc.mu.Unlock()
	rc.count.Add(1)
}

// setup opens a fresh SQLite store with one account and one subscription to a local receiver.
func setup(want int, workers, perEndpoint int) (*store.DB, *webhook.Service, *receiver, func(), error) {
	dir, err := os.MkdirTemp("", "webhook-bench-")
	if err != nil {
		return nil, nil, nil, nil, err
	}
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(dir, "bench.db"))
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		return nil, nil, nil, nil, err
	}
	acc := &switchboard.Account{Name: "bench"}
	if err := db.CreateAccount(ctx, acc); err != nil {
		return nil, nil, nil, nil, err
	}
	rc := &receiver{first: map[string]time.Time{}, all: make(chan struct{}), want: int64(want)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, nil, nil, nil, err
	}
	srv := &http.Server{Handler: rc}
	go srv.Serve(ln)
	key := make([]byte, 32)
	rand.Read(key)
	svc, err := webhook.NewService(webhook.Config{Store: &timed{DB: db}, Key: key, Workers: workers, PerEndpoint: perEndpoint,
		Policy: webhook.URLPolicy{AllowHTTP: true, AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}},
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		return nil, nil, nil, nil, err
	}
	url := "http://" + ln.Addr().String() + "/hook"
	if _, _, err := svc.CreateWebhook(ctx, acc.ID, switchboard.WebhookChange{URL: &url, Events: []string{"contact.created"},
		Format: ptr("standard")}); err != nil {
		return nil, nil, nil, nil, err
	}
	cleanup := func() {
		srv.Close()
		db.Close()
		os.RemoveAll(dir)
	}
	return db, svc, rc, cleanup, nil
}

func ptr[T any](v T) *T { return &v }

func contactEvent(i int) *switchboard.Event {
	return switchboard.ContactEvent(switchboard.EventContactCreated, &switchboard.Contact{ID: int64(i + 1), AccountID: 1,
		Phone: fmt.Sprintf("+1555%07d", i), FirstName: "Bench", LastName: fmt.Sprint(i)}, nil)
}

func throughput(n, workers, perEndpoint int) (time.Duration, error) {
	db, svc, rc, cleanup, err := setup(n, workers, perEndpoint)
	if err != nil {
		return 0, err
	}
	for _, c := range []*atomic.Int64{&claimNS, &recordNS, &claims, &records, &claimed} {
		c.Store(0)
	}
	defer cleanup()
	ctx := context.Background()
	const batch = 500
	for i := 0; i < n; i += batch {
		evs := make([]*switchboard.Event, 0, batch)
		for j := i; j < min(i+batch, n); j++ {
			evs = append(evs, contactEvent(j))
		}
		if err := db.AppendEvents(ctx, evs...); err != nil {
			return 0, err
		}
	}
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	start := time.Now()
	go func() { done <- svc.Run(runCtx) }()
	select {
	case <-rc.all:
	case <-time.After(5 * time.Minute):
		stop()
		return 0, fmt.Errorf("throughput: only %d of %d delivered in 5 minutes", len(rc.first), n)
	}
	elapsed := time.Since(start)
	stop()
	fmt.Printf("  claims %d (%.1f ms total, %d claimed), records %d (%.1f ms total)\n", claims.Load(), float64(claimNS.Load())/1e6, claimed.Load(), records.Load(), float64(recordNS.Load())/1e6)
	return elapsed, <-done
}

type latencyResult struct {
	count         int
	p50, p99, max time.Duration
}

func latency(rate, seconds, workers, perEndpoint int) (latencyResult, error) {
	total := rate * seconds
	db, svc, rc, cleanup, err := setup(total, workers, perEndpoint)
	if err != nil {
		return latencyResult{}, err
	}
	defer cleanup()
	ctx := context.Background()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- svc.Run(runCtx) }()

	// Each event is its own transaction, as an API call or a call event would be; the clock
	// starts when the commit returns.
	committed := make(map[string]time.Time, total)
	interval := time.Second / time.Duration(rate)
	start := time.Now()
	for i := 0; i < total; i++ {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		ev := contactEvent(i)
		if err := db.AppendEvents(ctx, ev); err != nil {
			stop()
			return latencyResult{}, err
		}
		committed[ev.ID] = time.Now()
	}
	produced := time.Since(start)
	select {
	case <-rc.all:
	case <-time.After(2 * time.Minute):
		stop()
		return latencyResult{}, fmt.Errorf("latency: only %d of %d delivered", len(rc.first), total)
	}
	stop()
	if err := <-done; err != nil {
		return latencyResult{}, err
	}
	if achieved := float64(total) / produced.Seconds(); achieved < 0.95*float64(rate) {
		fmt.Printf("note: the producer reached only %.0f events/s of %d\n", achieved, rate)
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	delays := make([]time.Duration, 0, total)
	for id, at := range committed {
		// A receipt can precede the commit's return (the dispatcher may claim as soon as
		// the transaction commits); that counts as no delay.
		delays = append(delays, max(0, rc.first[id].Sub(at)))
	}
	slices.Sort(delays)
	pick := func(q float64) time.Duration { return delays[min(len(delays)-1, int(q*float64(len(delays))))] }
	return latencyResult{count: len(delays), p50: pick(0.50), p99: pick(0.99), max: delays[len(delays)-1]}, nil
}

const (
	markStart = "<!-- webhook-delivery:start -->"
	markEnd   = "<!-- webhook-delivery:end -->"
)

// writeSection replaces (or appends) this benchmark's section of the markdown file.
func writeSection(path, cmd string, n int, runs []time.Duration, rate, seconds int, lat latencyResult) error {
	tp := runs[len(runs)/2]
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	section := fmt.Sprintf(`%s
## Webhook delivery

Measured %s on this machine (%d cores, %s), SQLite with the default durability (WAL,
synchronous=NORMAL), the real store and dispatcher (default workers and per-endpoint
bound), one standard-format subscription, and a receiver on loopback in the same process
answering 200 at once. Every delivery is claimed, signed, sent, and its outcome and attempt
log are written before it counts.
Command: `+"`%s`"+`

| run | result |
|---|---|
| throughput: %d events stored, then drained (median of %d runs) | %.3f s, **%.0f deliveries/s** (runs from %.0f to %.0f) |
| latency: %d events/s for %d s, one event per transaction | p50 **%.1f ms**, p99 **%.1f ms**, max %.1f ms |

Targets on this 2-core box: at least 5,000 deliveries/s; p99 under 100 ms at 1,000 events/s.
The figures move with whatever else runs on the shared cores: while other benchmarks ran,
single throughput runs came out as low as about 3,000 deliveries/s.
%s`, markStart, time.Now().UTC().Format("2006-01-02"), runtime.NumCPU(), runtime.Version(), cmd,
		n, len(runs), tp.Seconds(), float64(n)/tp.Seconds(), float64(n)/runs[len(runs)-1].Seconds(), float64(n)/runs[0].Seconds(), rate, seconds, ms(lat.p50), ms(lat.p99), ms(lat.max), markEnd)
	text := string(old)
	if i, j := strings.Index(text, markStart), strings.Index(text, markEnd); i >= 0 && j > i {
		text = text[:i] + section + text[j+len(markEnd):]
	} else {
		if text == "" {
			text = "# Benchmarks\n"
		}
		text = strings.TrimRight(text, "\n") + "\n\n" + section + "\n"
	}
	return os.WriteFile(path, []byte(text), 0o644)
}

// timed wraps the store to show how many claim and record transactions a run took and
// how long they held the writer: the figures that explain the throughput.
type timed struct {
	*store.DB
}

var claimNS, recordNS, claims, records, claimed atomic.Int64

func (t *timed) ClaimDeliveries(ctx context.Context, now time.Time, lease time.Duration, limit, per int) ([]*switchboard.ClaimedDelivery, error) {
	s := time.Now()
	c, err := t.DB.ClaimDeliveries(ctx, now, lease, limit, per)
	claimNS.Add(int64(time.Since(s)))
	claims.Add(1)
	claimed.Add(int64(len(c)))
	return c, err
}

func (t *timed) RecordAttempts(ctx context.Context, o []switchboard.AttemptOutcome, d int, now time.Time) error {
	s := time.Now()
	err := t.DB.RecordAttempts(ctx, o, d, now)
	recordNS.Add(int64(time.Since(s)))
	records.Add(1)
	return err
}
