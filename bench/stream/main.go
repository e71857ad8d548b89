// Command stream benchmarks the live event stream: C concurrent SSE consumers of one
// account while R events per second are stored (one per transaction), and the CPU the
// serving process uses for it, measured from /proc/PID/stat over the run.
//
// The server runs in a child process (this program, re-executed with -serve), so that the
// consumers' CPU is not counted; the consumers are in this process, each reading its stream
// over its own loopback connection and counting the events.
//
//   - switchboard: the real server parts — SQLite store (WAL, synchronous=NORMAL), the
//     events.Bus, stream.Hub, and the API with key authentication — with a goroutine in the
//     same process storing the R events per second through the store (AppendEvents);
//   - storing only: the same process and event writer without consumers: what storing the
//     events costs by itself;
//   - baseline, in the same run: a bare net/http SSE handler that writes the same
//     pre-rendered messages to the same C consumers at the same rate (no store, no key).
//
// It writes the figures into docs/benchmarks.md between the event-stream markers.
//
//	go run ./bench/stream [-consumers 1000] [-rate 100] [-seconds 20] [-write docs/benchmarks.md]
package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"switchboard"
	"switchboard/api"
	"switchboard/bench/internal/benchdoc"
	"switchboard/store"
	"switchboard/stream"
	"switchboard/webhook"
)

func main() {
	consumers := flag.Int("consumers", 1000, "concurrent SSE consumers")
	rate := flag.Int("rate", 100, "events stored per second")
	seconds := flag.Int("seconds", 20, "length of each measured run")
	write := flag.String("write", "", "write the results into this markdown file (e.g. docs/benchmarks.md)")
	serve := flag.String("serve", "", "internal: run the server of this kind (switchboard, store-only, bare)")
	flag.Parse()
	if *serve != "" {
		if err := runServer(*serve, *rate); err != nil {
			log.Fatal(err)
		}
		return
	}
	load, _ := os.ReadFile("/proc/loadavg")
	var results []result
	for _, kind := range []string{"switchboard", "store-only", "bare"} {
		n := *consumers
		if kind == "store-only" {
			n = 0
		}
		r, err := measure(kind, n, *rate, time.Duration(*seconds)*time.Second)
		if err != nil {
			log.Fatalf("%s: %v", kind, err)
		}
		results = append(results, r)
		fmt.Printf("%-12s consumers %4d  CPU %.3f cores  events received %d of %d expected\n",
			kind, r.consumers, r.cores, r.received, r.expected)
	}
	cmd := "go run ./bench/stream -consumers " + strconv.Itoa(*consumers) + " -rate " + strconv.Itoa(*rate) +
		" -seconds " + strconv.Itoa(*seconds)
	if *write != "" {
		cmd += " -write " + *write
		if err := writeSection(*write, cmd, strings.Fields(string(load)), *rate, *seconds, results); err != nil {
			log.Fatal(err)
		}
	}
}

type result struct {
	kind               string
	consumers          int
	cores              float64 // CPU seconds per second of the server process
	received, expected int64
}

// measure starts the server of the kind, connects n consumers, lets them warm up, and
// measures the server's CPU over d.
func measure(kind string, n, rate int, d time.Duration) (result, error) {
	self, err := os.Executable()
	if err != nil {
		return result{}, err
	}
	cmd := exec.Command(self, "-serve", kind, "-rate", strconv.Itoa(rate))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return result{}, err
	}
	if err := cmd.Start(); err != nil {
		return result{}, err
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	// The child prints its stream URL and key, then serves.
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		return result{}, fmt.Errorf("server did not start: %w", err)
	}
	parts := strings.Fields(line)
	url, key := parts[0], parts[1]

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var received atomic.Int64
	var wg sync.WaitGroup
	tr := &http.Transport{MaxIdleConnsPerHost: n + 1, MaxConnsPerHost: 0, DisableCompression: true}
	client := &http.Client{Transport: tr}
	connected := make(chan error, n)
	for range n {
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
			req.Header.Set("X-API-Key", key)
			resp, err := client.Do(req)
			if err != nil {
				connected <- err
				return
			}
			defer resp.Body.Close()
			if resp.StatusCode != 200 {
				connected <- fmt.Errorf("stream: %s", resp.Status)
				return
			}
			connected <- nil
			br := bufio.NewReaderSize(resp.Body, 32<<10)
			for {
				line, err := br.ReadSlice('\n')
				if bytes.HasPrefix(line, []byte("id: ")) {
					received.Add(1)
				}
				if err != nil && err != bufio.ErrBufferFull {
					return
				}
			}
		})
	}
	for range n {
		if err := <-connected; err != nil {
			return result{}, err
		}
	}
	time.Sleep(3 * time.Second) // warm-up: every consumer is live
	pid := cmd.Process.Pid
	cpu0, at0, got0 := procCPU(pid), time.Now(), received.Load()
	time.Sleep(d)
	cpu1, at1, got1 := procCPU(pid), time.Now(), received.Load()
	cancel()
	cmd.Process.Kill()
	wg.Wait()
	elapsed := at1.Sub(at0)
	return result{kind: kind, consumers: n, cores: (cpu1 - cpu0).Seconds() / elapsed.Seconds(),
		received: got1 - got0, expected: int64(float64(n*rate) * elapsed.Seconds())}, nil
}

// paced calls fn rate times a second on an absolute schedule: a late tick (a slow commit,
// a busy machine) is made up at once instead of dropped, so the rate holds on average.
func paced(rate int, fn func() error) error {
	start := time.Now()
	var done int64
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	for range tick.C {
		due := int64(time.Since(start).Seconds() * float64(rate))
		for ; done < due; done++ {
			if err := fn(); err != nil {
				return err
			}
		}
	}
	return nil
}

// procCPU is the user+system CPU time of the process pid so far.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		log.Fatal(err)
	}
	// Fields after the command name (which is in parentheses): utime is the 14th field of
	// the line, stime the 15th, in clock ticks (100 per second on Linux).
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * (time.Second / 100)
}

// runServer serves one kind until killed, printing "URL KEY" on stdout when ready.
func runServer(kind string, rate int) error {
	ctx := context.Background()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	sample := switchboard.NewEvent(61, switchboard.EventCallInboundStarted, map[string]any{
		"direction": "inbound", "from": "+14155552671", "to": "+15551234567", "number": "+15551234567", "caller_name": "Ada Lovelace"})
	sample.CallID = "1700000000.42"
	sample.Seq = 1
	if kind == "bare" {
		return serveBare(ln, base, sample, rate)
	}
	dir, err := os.MkdirTemp("", "bench-stream-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	db, err := store.Open(ctx, filepath.Join(dir, "switchboard.db"))
	if err != nil {
		return err
	}
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	if err := db.CreateAccount(ctx, &switchboard.Account{ID: 61, Name: "Bench"}); err != nil {
		return err
	}
	plain, k := switchboard.NewAPIKey(switchboard.KeyDeveloper)
	k.AccountID, k.Name = 61, "bench"
	if err := db.CreateAPIKey(ctx, k); err != nil {
		return err
	}
	hub := stream.New(stream.Config{Store: db, Bus: db.EventBus()})
	go hub.Run(ctx)
	srv := &http.Server{Handler: api.New(api.Config{Store: db, EventStream: hub, KeyRequestsPerMinute: 1 << 30, CacheTTL: time.Second})}
	go srv.Serve(ln)
	fmt.Println(base+"/v3/voice/61/events/stream", plain)
	return paced(rate, func() error {
		ev := switchboard.NewEvent(61, sample.Name, sample.Data)
		ev.CallID = sample.CallID
		return db.AppendEvents(ctx, ev)
	})
}

// serveBare is the baseline: the events are pre-rendered SSE messages appended to one
// shared log at the rate; every consumer's handler, woken at each append, writes the
// messages it has not written yet and flushes — every consumer gets every event, as with
// switchboard, without store, authentication, filters or buffers.
func serveBare(ln net.Listener, base string, sample *switchboard.Event, rate int) error {
	body, err := webhook.StandardBody(sample)
	if err != nil {
		return err
	}
	var mu sync.Mutex
	var log [][]byte
	wake := make(chan struct{}) // closed and replaced at each append
	go paced(rate, func() error {
		mu.Lock()
		msg := "id: " + strconv.Itoa(len(log)+1) + "\nevent: " + sample.Name + "\ndata: " + string(body) + "\n\n"
		log = append(log, []byte(msg))
		close(wake)
		wake = make(chan struct{})
		mu.Unlock()
		return nil
	})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		mu.Lock()
		next := len(log)
		mu.Unlock()
		for {
			mu.Lock()
			pending, c := log[next:], wake
			mu.Unlock()
			if len(pending) == 0 {
				select {
				case <-r.Context().Done():
					return
				case <-c:
				}
				continue
			}
			for _, m := range pending {
				if _, err := w.Write(m); err != nil {
					return
				}
			}
			next += len(pending)
			w.(http.Flusher).Flush()
		}
	})
	fmt.Println(base+"/", "none")
	return (&http.Server{Handler: h}).Serve(ln)
}

const (
	markStart = "<!-- event-stream:start -->"
	markEnd   = "<!-- event-stream:end -->"
)

// writeSection replaces (or appends) this benchmark's section of the markdown file.
func writeSection(path, cmd string, load []string, rate, seconds int, rs []result) error {
	sb, storeOnly, bare := rs[0], rs[1], rs[2]
	loadAvg := "?"
	if len(load) >= 3 {
		loadAvg = strings.Join(load[:3], " ")
	}
	section := fmt.Sprintf(`%s
## Live event stream (SSE)

Measured %s on this machine (%d cores, %s; load average %s at the start, other work was
running on the shared cores). The server runs in a child process and its CPU (user + system,
from /proc/PID/stat) is measured over %d s after the consumers are connected and warm; the
consumers run in the parent, each on its own loopback connection, counting events.
Command: `+"`%s`"+`

- **switchboard**: the API (key authentication) and stream.Hub on a SQLite store (WAL,
  synchronous=NORMAL); %d events/s stored one per transaction by a goroutine of the same
  process, woken through the store's event bus, read once per account, rendered once, sent
  to every consumer.
- **storing only**: the same process and writer with no consumer: the cost of storing the
  events, included in the switchboard figure.
- **baseline**: a bare net/http SSE handler writing the same pre-rendered message to the
  same consumers at the same rate (no store, no authentication).

| run | consumers | server CPU | events received / expected |
|---|---|---|---|
| switchboard | %d | **%.3f cores** | %d / %d |
| storing only | %d | %.3f cores | — |
| baseline (bare SSE handler) | %d | %.3f cores | %d / %d |
| **ratio switchboard / baseline** | | **%.2f** | |

Events received: by all consumers within the measured window, against the events stored in
it times the consumers; consumers still catching up with events of the warm-up count them in
the window, so the figure can exceed 100 %%: it shows that every consumer was served at the
rate, not a loss. Target: under one core for %d consumers at %d events/s on this 2-core machine.
%s`, markStart, time.Now().UTC().Format("2006-01-02"), runtime.NumCPU(), runtime.Version(), loadAvg, seconds, cmd,
		rate,
		sb.consumers, sb.cores, sb.received, sb.expected,
		storeOnly.consumers, storeOnly.cores,
		bare.consumers, bare.cores, bare.received, bare.expected,
		sb.cores/bare.cores, sb.consumers, rate, markEnd)
	return benchdoc.WriteSection(path, markStart, markEnd, section)
}
