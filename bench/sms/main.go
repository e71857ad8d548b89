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
	"log"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"switchboard"
	"switchboard/sms/kannel"
	"switchboard/sms/kannel/kanneltest"
)

const serverKey = "62656e63682d736d732d6b65792d62656e63682d736d732d6b65792d62656e63"

func main() {
	bin := flag.String("bin", "", "the switchboard binary")
	n := flag.Int("n", 2000, "messages per path")
	conc := flag.Int("c", 8, "concurrent senders")
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
	k, err := kanneltest.Start(kanneltest.Options{CallbackURL: base, AccountID: 61, Secret: kannel.Secret(keyBytes, 61),
		Ports: [4]int{freePort(), freePort(), freePort(), freePort()}, Dir: filepath.Join(dir, "kannel")})
	if err != nil {
		log.Fatal(err)
	}
	defer k.Close()
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

	type result struct{ accepted, delivered time.Duration }
	run := func(prefix string, send func(i int) error) result {
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
		waitFor(fmt.Sprintf("%d messages at fakesmsc", *n), func() bool { return count(k, prefix) >= *n })
		return result{accepted, time.Since(start)}
	}
	text := "Your order 4711 has shipped and arrives tomorrow between 9 and 12."
	kannelRun := run("+1555900", func(i int) error {
		_, err := direct.Send(context.Background(), &switchboard.Message{ID: fmt.Sprintf("msg_%032x", i), From: line.Number,
			To: fmt.Sprintf("+1555900%04d", i), Body: text, Encoding: "gsm7"})
		return err
	})
	sbRun := run("+1555910", func(i int) error {
		code, body := call("POST", api+"/sms/send", key, map[string]any{"from": line.Number, "to": fmt.Sprintf("+1555910%04d", i), "message": text})
		if code != 200 {
			return fmt.Errorf("%d %s", code, body)
		}
		return nil
	})
	rate := func(d time.Duration) float64 { return float64(*n) / d.Seconds() }
	fmt.Printf("%d messages per path, %d concurrent senders, one bearerbox + smsbox + fakesmsc, Switchboard on SQLite.\n\n", *n, *conc)
	fmt.Println("| path | accepted, msg/s | delivered to fakesmsc, msg/s |")
	fmt.Println("|---|---|---|")
	fmt.Printf("| Kannel's sendsms driven directly (baseline) | %.0f | %.0f |\n", rate(kannelRun.accepted), rate(kannelRun.delivered))
	fmt.Printf("| Switchboard sms/send → outbox → Kannel | %.0f | %.0f |\n", rate(sbRun.accepted), rate(sbRun.delivered))
	fmt.Printf("\nRatio (Switchboard / Kannel directly), delivered: **%.2f** (target ≥ 0.8); accepted: %.2f.\n",
		rate(sbRun.delivered)/rate(kannelRun.delivered), rate(sbRun.accepted)/rate(kannelRun.accepted))
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
