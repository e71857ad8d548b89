// Command sms measures SMS throughput through Kannel (not a timed test; run.sh runs it):
// messages per second accepted by Switchboard's sms/send and delivered to Kannel's simulated
// SMSC (fakesmsc) through the outbox and Kannel, against Kannel's own sendsms driven directly
// with the same parameters (dlr-url included) in the same run, on the same Kannel.
package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"switchboard"
	"switchboard/prompt"
	"switchboard/sms/kannel"
	"switchboard/sms/kannel/kanneltest"
)

const serverKey = "62656e63682d736d732d6b65792d62656e63682d736d732d6b65792d62656e63"

func main() {
	bin := flag.String("bin", "", "the switchboard binary")
	n := flag.Int("n", 2000, "messages per path")
	conc := flag.Int("c", 64, "concurrent senders (API clients, or sendsms clients of the baseline)")
	rounds := flag.Int("rounds", 5, "rounds of both paths")
	pin := flag.Bool("pin", false, "Kannel on core 1, Switchboard and the clients on core 0 (taskset), as when the gateway has its own machine")
	flag.Parse()
	if *bin == "" {
		log.Fatal("-bin is required")
	}
	if err := kanneltest.Available(); err != nil {
		log.Fatal(err)
	}
	// Both paths keep their connections to Kannel and to the API open.
	http.DefaultTransport.(*http.Transport).MaxIdleConnsPerHost = 64
	dir, err := os.MkdirTemp("", "bench-sms")
	if err != nil {
		log.Fatal(err)
	}
	defer func() {
		if os.Getenv("BENCH_KEEP") == "" {
			os.RemoveAll(dir)
		} else {
			log.Printf("kept %s", dir)
		}
	}()

	// Switchboard, on SQLite, with the demo account.
	addr := fmt.Sprintf("127.0.0.1:%d", freePort())
	base := "http://" + addr
	srv := exec.Command(*bin, "serve", "--demo", "--data", filepath.Join(dir, "data"), "--http", addr, "--sip", "off",
		"--secret-key", serverKey, "--rate-limit-per-key", "10000000", "--log-level", "warn")
	srv.Stderr = os.Stderr
	srv.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := srv.Start(); err != nil {
		log.Fatal(err)
	}
	defer func() { srv.Process.Signal(syscall.SIGTERM); srv.Wait() }()
	waitFor("the server", func() bool {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	})
	waitSystemPrompts(filepath.Join(dir, "data"))
	var demo struct {
		DeveloperKey string `json:"developer_key"`
		Numbers      []struct {
			PK     int64  `json:"pk"`
			Number string `json:"number"`
		} `json:"numbers"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "data", "demo.json"))
	if err != nil || json.Unmarshal(b, &demo) != nil {
		log.Fatalf("demo.json: %v", err)
	}
	key, line := demo.DeveloperKey, demo.Numbers[0]
	api := base + "/v3/voice/61"

	keyBytes, _ := hex.DecodeString(serverKey)
	k, err := kanneltest.Start(kanneltest.Options{ReceiveOnly: true, CallbackURL: base, AccountID: 61, Secret: kannel.Secret(keyBytes, 61),
		Ports: [4]int{freePort(), freePort(), freePort(), freePort()}, Dir: filepath.Join(dir, "kannel")})
	if err != nil {
		log.Fatal(err)
	}
	defer k.Close()
	if *pin {
		// The clients go with Switchboard: in the baseline they cost Kannel nothing, beside
		// Switchboard they take from its core.
		pinTo("0", os.Getpid(), srv.Process.Pid)
		pinTo("1", k.PIDs()...)
	}
	call("PUT", api+"/sms/settings", key, map[string]any{"sms_carrier": "kannel", "rate_per_minute": 100000,
		"kannel": map[string]any{"url": k.SendURL(), "username": k.Username(), "password": k.Password()}})
	call("PUT", api+"/sms/settings", key, map[string]any{"number_id": line.PK, "rate_per_minute": 100000})

	// The baseline's delivery reports go to a receiver that only answers 200, as Switchboard's
	// callbacks answer Kannel (Switchboard's own reports come back to Switchboard).
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	direct, err := kannel.New(61, kannel.Config{SendURL: k.SendURL(), Username: k.Username(), Password: k.Password(),
		CallbackURL: "http://" + ln.Addr().String(), Secret: "bench"})
	if err != nil {
		log.Fatal(err)
	}

	// Rounds alternate the two paths, so that the load of the shared machine, which drifts,
	// weighs on both alike; each round's ratio compares runs made one after the other.
	type result struct {
		accepted, delivered time.Duration
		sbCPU, kannelCPU    time.Duration // CPU time of the server and of Kannel's three processes
	}
	run := func(prefix string, send func(i int) error) result {
		sb0, k0, sent0 := cpuTime(srv.Process.Pid), cpuTime(k.PIDs()...), k.NSent()
		start := time.Now()
		var next atomic.Int64
		var wg sync.WaitGroup
		for range *conc {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := int(next.Add(1)) - 1; i < *n; i = int(next.Add(1)) - 1 {
					if err := send(i); err != nil {
						log.Fatalf("send %d: %v", i, err)
					}
				}
			}()
		}
		wg.Wait()
		accepted := time.Since(start)
		// Polled by count (the previous run has settled, so every new message is this run's):
		// copying and matching the growing list every 5 ms would take CPU from the run.
		waitFor(fmt.Sprintf("%d messages at fakesmsc", *n), func() bool { return k.NSent()-sent0 >= *n })
		r := result{accepted: accepted, delivered: time.Since(start),
			sbCPU: cpuTime(srv.Process.Pid) - sb0, kannelCPU: cpuTime(k.PIDs()...) - k0}
		if got := count(k, prefix); got != *n {
			log.Fatalf("fakesmsc got %d messages to %s…, want %d", got, prefix, *n)
		}
		// Delivery reports still on their way belong to this run, not to the next.
		settle(append(k.PIDs(), srv.Process.Pid))
		return r
	}
	text := "Your order 4711 has shipped and arrives tomorrow between 9 and 12."
	rate := func(d time.Duration) float64 { return float64(*n) / d.Seconds() }
	perMsg := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 / float64(*n) }
	layout := "all processes share the cores"
	if *pin {
		layout = "Kannel's three processes pinned to core 1, Switchboard and the clients to core 0"
	}
	fmt.Printf("%d messages per path and round, %d concurrent clients, one bearerbox + smsbox + fakesmsc, Switchboard on SQLite; %s.\n\n", *n, *conc, layout)
	fmt.Println("| round | load average (1 min) | path | accepted, msg/s | delivered to fakesmsc, msg/s | CPU ms per message: Switchboard | Kannel |")
	fmt.Println("|---|---|---|---|---|---|---|")
	var ratios []float64
	for round := range *rounds {
		load := loadAverage()
		direct := run(fmt.Sprintf("+15559%d0", round%10), func(i int) error {
			_, err := direct.Send(context.Background(), &switchboard.Message{ID: fmt.Sprintf("msg_%08x%024x", round, i), From: line.Number,
				To: fmt.Sprintf("+15559%d0%04d", round%10, i), Body: text, Encoding: "gsm7"})
			return err
		})
		sb := run(fmt.Sprintf("+15559%d1", round%10), func(i int) error {
			code, body := call("POST", api+"/sms/send", key, map[string]any{"from": line.Number, "to": fmt.Sprintf("+15559%d1%04d", round%10, i), "message": text})
			if code != 200 {
				return fmt.Errorf("%d %s", code, body)
			}
			return nil
		})
		fmt.Printf("| %d | %s | Kannel's sendsms driven directly (baseline) | %.0f | %.0f | — | %.2f |\n", round+1, load,
			rate(direct.accepted), rate(direct.delivered), perMsg(direct.kannelCPU))
		fmt.Printf("| %d | | Switchboard sms/send → outbox → Kannel | %.0f | %.0f | %.2f | %.2f |\n", round+1,
			rate(sb.accepted), rate(sb.delivered), perMsg(sb.sbCPU), perMsg(sb.kannelCPU))
		ratios = append(ratios, rate(sb.delivered)/rate(direct.delivered))
	}
	fmt.Printf("\nRatio (Switchboard / Kannel directly), delivered, per round:")
	for _, r := range ratios {
		fmt.Printf(" %.2f", r)
	}
	slices.Sort(ratios)
	fmt.Printf("; median **%.2f** (target ≥ 0.8).\n", ratios[len(ratios)/2])
}

// pinTo binds every thread of the processes to the cores (taskset -a: threads started later
// inherit it).
func pinTo(cores string, pids ...int) {
	for _, pid := range pids {
		if out, err := exec.Command("taskset", "-a", "-cp", cores, strconv.Itoa(pid)).CombinedOutput(); err != nil {
			log.Fatalf("taskset %s %d: %v %s", cores, pid, err, out)
		}
	}
}

// cpuTime is the CPU time (user and system) the processes have used so far.
func cpuTime(pids ...int) time.Duration {
	var ticks int64
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// Fields after the command name, which is in parentheses: utime and stime are the
		// 12th and 13th of them, in clock ticks (100 per second on Linux).
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		for _, s := range f[11:13] {
			v, _ := strconv.ParseInt(s, 10, 64)
			ticks += v
		}
	}
	return time.Duration(ticks) * 10 * time.Millisecond
}

// settle waits until the processes are idle: under 5 % of a core for half a second.
func settle(pids []int) {
	for range 60 {
		before := cpuTime(pids...)
		time.Sleep(500 * time.Millisecond)
		if cpuTime(pids...)-before < 25*time.Millisecond {
			return
		}
	}
}

// loadAverage is the machine's load average over the last minute.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}

// waitSystemPrompts waits until the demo server has spoken all its system prompts into the
// data directory (espeak-ng runs for a while after the server is up; without espeak-ng none
// is written): the benchmark measures the server at work, not its setup.
func waitSystemPrompts(data string) {
	want := len(prompt.Languages) * len(prompt.Catalog())
	for i := 0; i < 600; i++ {
		n := 0
		filepath.WalkDir(filepath.Join(data, "blobs", "system", "prompts"), func(_ string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				n++
			}
			return nil
		})
		if n >= want || (n == 0 && i >= 20) {
			return
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func count(k *kanneltest.Kannel, prefix string) int {
	c := 0
	for _, m := range k.Sent() {
		if strings.HasPrefix(m.To, prefix) {
			c++
		}
	}
	return c
}

func call(method, url, key string, body any) (int, []byte) {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, url, bytes.NewReader(b))
	req.Header.Set("X-API-Key", key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		log.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	if method == "PUT" && resp.StatusCode != 200 {
		log.Fatalf("%s %s: %d %s", method, url, resp.StatusCode, out)
	}
	return resp.StatusCode, out
}

func freePort() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func waitFor(what string, cond func() bool) {
	deadline := time.Now().Add(10 * time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			log.Fatalf("still waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
