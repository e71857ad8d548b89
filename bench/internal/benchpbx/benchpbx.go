// Package benchpbx is what the SIP benchmarks (bench/calls, bench/queues) share: a call
// engine on its own SIP server over a fresh SQLite store, SIPp's uas, the process's CPU
// time and a sampler for peaks.
package benchpbx

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"switchboard/pbx"
	"switchboard/sip"
	"switchboard/store"
)

// PBX is a call engine and its SIP server (UDP on loopback) running on a SQLite store in a
// temporary directory, until Close.
type PBX struct {
	Dir     string // the temporary directory: the database, and room for SIPp's files
	DB      *store.DB
	SIP     *sip.Server
	Engine  *pbx.Engine
	SIPAddr string // "127.0.0.1:port" SIP listens on for UDP

	cancel  context.CancelFunc
	running sync.WaitGroup
}

// Start runs a PBX for the benchmark name (the temporary directory's prefix). The registrar
// challenges with MD5 alone, its default and the only digest SIPp 3.6 computes.
func Start(ctx context.Context, name string) (_ *PBX, err error) {
	if _, err := exec.LookPath("sipp"); err != nil {
		return nil, fmt.Errorf("sipp is required: apt-get install -y sip-tester")
	}
	dir, err := os.MkdirTemp("", name)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	p := &PBX{Dir: dir, cancel: cancel}
	defer func() {
		if err != nil {
			p.Close()
		}
	}()
	if p.DB, err = store.Open(ctx, filepath.Join(dir, "bench.db")); err != nil {
		return nil, err
	}
	if err := p.DB.Migrate(ctx); err != nil {
		return nil, err
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	if p.SIP, err = sip.NewServer(sip.Config{Store: p.DB, UDPAddr: "127.0.0.1:0", Logger: quiet,
		Registry: prometheus.NewRegistry()}); err != nil {
		return nil, err
	}
	if p.Engine, err = pbx.New(pbx.Config{Store: p.DB, SIP: p.SIP, Logger: quiet}); err != nil {
		return nil, err
	}
	p.Engine.Attach()
	p.running.Go(func() { _ = p.SIP.Run(ctx) })
	<-p.SIP.Ready()
	p.running.Go(func() { _ = p.Engine.Run(ctx) })
	p.SIPAddr = p.SIP.UDPAddr().String()
	return p, nil
}

// Close stops SIP and the engine, waits for them, and removes the store.
func (p *PBX) Close() {
	p.cancel()
	p.running.Wait()
	if p.DB != nil {
		p.DB.Close()
	}
	os.RemoveAll(p.Dir)
}

// StartUAS starts SIPp's built-in uas, which answers every INVITE, with args (address and
// ports), and returns once it had time to bind. stop kills it.
func StartUAS(ctx context.Context, args ...string) (stop func(), err error) {
	uas := exec.CommandContext(ctx, "sipp", append([]string{"-sn", "uas"}, args...)...)
	uas.Stdout, uas.Stderr = io.Discard, io.Discard
	if err := uas.Start(); err != nil {
		return nil, fmt.Errorf("sipp uas: %w", err)
	}
	time.Sleep(300 * time.Millisecond) // let the uas bind its port before the first call
	return func() { _ = uas.Process.Kill(); _ = uas.Wait() }, nil
}

// CPUTime is the CPU time (user and system) this process has used so far.
func CPUTime() time.Duration {
	var u syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &u)
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

// Every calls sample every d until stop, which returns once sample will not run again: what
// sample wrote may then be read.
func Every(d time.Duration, sample func()) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				sample()
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// FreePort is a UDP port on ip free now, for SIPp to bind.
func FreePort(ip string) int {
	c, err := net.ListenPacket("udp", ip+":0")
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// LastLines is the last n lines of a program's output.
func LastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
