// Command media benchmarks the RTP relay: N concurrent anchored calls, each two media
// sessions bridged by the media package, with a load generator sending G.711 at 50
// packets a second each way and counting what comes back. It reports packet loss and the
// relay's CPU use (process CPU seconds per wall second; 1.0 is one core). At each call count
// it then runs a bare UDP relay (bareRelay) under the same generator and load, as the
// baseline, and reports the CPU ratio between the two.
//
// The load generator runs as a child process (this binary with -role load) so that the
// relay's CPU is measured apart from it; both share the machine.
//
//	go run ./bench/media -calls 100,250,500 -duration 20s -write docs/benchmarks.md
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"switchboard/bench/internal/benchdoc"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pion/rtp"

	"switchboard/media"
)

func main() {
	role := flag.String("role", "relay", "relay (the benchmark) or load (the generator it starts)")
	calls := flag.String("calls", "100,250,500", "comma-separated numbers of concurrent calls")
	duration := flag.Duration("duration", 20*time.Second, "how long each run sends RTP")
	legs := flag.Int("legs", 0, "load role: number of phones to bind")
	write := flag.String("write", "", "markdown file whose media-relay section gets the results")
	flag.Parse()

	if *role == "load" {
		if err := runLoad(*legs, *duration); err != nil {
			fmt.Fprintln(os.Stderr, "load:", err)
			os.Exit(1)
		}
		return
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		loadAverage = strings.Join(strings.Fields(string(b))[:3], " ")
	}
	var results []result
	for _, f := range strings.Split(*calls, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			fmt.Fprintf(os.Stderr, "bad -calls entry %q\n", f)
			os.Exit(2)
		}
		// The baseline runs right after the relay under test, at the same call count with
		// the same generator, so both see much the same machine.
		for _, kind := range []string{relaySwitchboard, relayBare} {
			r, err := runRelay(kind, n, *duration)
			if err != nil {
				fmt.Fprintf(os.Stderr, "%s, %d calls: %v\n", kind, n, err)
				os.Exit(1)
			}
			fmt.Printf("relay=%q calls=%d sent=%d received=%d loss=%.4f%% relay_cpu=%.3f load_cpu=%.3f pps_relayed=%.0f\n",
				r.Relay, r.Calls, r.Sent, r.Received, r.lossPercent(), r.RelayCPU, r.LoadCPU, r.RelayedPPS)
			results = append(results, r)
		}
	}
	if *write != "" {
		if err := writeMarkdown(*write, results, *duration); err != nil {
			fmt.Fprintln(os.Stderr, "write:", err)
			os.Exit(1)
		}
	}
}

// loadAverage is the machine's 1/5/15-minute load when the benchmark started.
var loadAverage = "unknown"

type result struct {
	Relay      string // relaySwitchboard or relayBare
	Calls      int
	Sent       uint64
	Received   uint64
	RelayCPU   float64 // relay process CPU seconds per wall second
	LoadCPU    float64 // load generator's, likewise
	RelayedPPS float64
}

func (r result) lossPercent() float64 {
	if r.Sent == 0 {
		return 100
	}
	return 100 * float64(r.Sent-min(r.Received, r.Sent)) / float64(r.Sent)
}

// loadReport is what the generator prints when done.
type loadReport struct {
	Sent, Received uint64
	CPUSeconds     float64
	WallSeconds    float64
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// relayUnderTest is one of the two relays measured: 2n legs (leg 2i and 2i+1 make call i),
// each aimed at its phone.
type relayUnderTest interface {
	Ports() []netip.AddrPort // where each leg receives, in leg order
	Relayed() uint64         // packets sent out of all legs so far
	Close()
}

// runRelay runs one benchmark of n calls through the relay named kind: it starts the
// generator, learns its phones' addresses, sets up the relay's 2n legs aimed at them, and
// lets it send. Only this relay runs in this process meanwhile (the previous one is closed),
// so the process's CPU is this relay's.
func runRelay(kind string, n int, d time.Duration) (result, error) {
	self, err := os.Executable()
	if err != nil {
		return result{}, err
	}
	cmd := exec.Command(self, "-role", "load", "-legs", strconv.Itoa(2*n), "-duration", d.String())
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return result{}, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return result{}, err
	}
	if err := cmd.Start(); err != nil {
		return result{}, err
	}
	defer cmd.Wait()
	defer stdin.Close() // an early return ends the generator (it is waiting on stdin)
	lines := bufio.NewScanner(stdout)
	lines.Buffer(make([]byte, 1<<20), 1<<20)

	var phones []netip.AddrPort
	if !lines.Scan() {
		return result{}, fmt.Errorf("generator said nothing: %v", lines.Err())
	}
	if err := json.Unmarshal(lines.Bytes(), &phones); err != nil {
		return result{}, err
	}

	var rel relayUnderTest
	switch kind {
	case relaySwitchboard:
		rel, err = newSwitchboardRelay(phones)
	case relayBare:
		rel, err = newBareRelay(phones)
	default:
		err = fmt.Errorf("unknown relay %q", kind)
	}
	if err != nil {
		return result{}, err
	}
	closed := false
	defer func() {
		if !closed {
			rel.Close()
		}
	}()
	runtime.GC() // start the measurement with set-up garbage collected

	cpu0 := cpuSeconds()
	if err := json.NewEncoder(stdin).Encode(rel.Ports()); err != nil {
		return result{}, err
	}
	if !lines.Scan() {
		return result{}, fmt.Errorf("generator ended without a report: %v", lines.Err())
	}
	cpu1 := cpuSeconds()
	rel.Close() // before Relayed: the bare relay's goroutines add their counts as they end
	closed = true
	var rep loadReport
	if err := json.Unmarshal(lines.Bytes(), &rep); err != nil {
		return result{}, err
	}
	return result{
		Relay: kind, Calls: n, Sent: rep.Sent, Received: rep.Received,
		RelayCPU:   (cpu1 - cpu0) / rep.WallSeconds, // the drain after sending costs ~nothing
		LoadCPU:    rep.CPUSeconds / rep.WallSeconds,
		RelayedPPS: float64(rel.Relayed()) / rep.WallSeconds,
	}, nil
}

const (
	relaySwitchboard = "switchboard"
	relayBare        = "bare UDP relay"
)

// switchboardRelay is the relay under test: a media.Session per leg, told its phone's
// address as SDP would, and media.Bridge per call.
type switchboardRelay struct {
	sessions []*media.Session
	bridges  []*media.Relay
}

func newSwitchboardRelay(phones []netip.AddrPort) (_ *switchboardRelay, err error) {
	pool, err := media.NewPortPool(0, 0)
	if err != nil {
		return nil, err
	}
	r := &switchboardRelay{}
	defer func() {
		if err != nil {
			r.Close()
		}
	}()
	ip := netip.MustParseAddr("127.0.0.1")
	for _, phone := range phones {
		s, err := media.NewSession(media.SessionConfig{Pool: pool, LocalIP: ip})
		if err != nil {
			return nil, err
		}
		r.sessions = append(r.sessions, s)
		codec := media.Codec{Encoding: media.PCMU, PayloadType: 0}
		if err := s.SetRemote(&media.Remote{Addr: phone, Codec: codec, TelephoneEvent: 101}); err != nil {
			return nil, err
		}
	}
	for i := 0; i+1 < len(r.sessions); i += 2 {
		b, err := media.Bridge(r.sessions[i], r.sessions[i+1])
		if err != nil {
			return nil, err
		}
		r.bridges = append(r.bridges, b)
	}
	return r, nil
}

func (r *switchboardRelay) Ports() []netip.AddrPort {
	ports := make([]netip.AddrPort, len(r.sessions))
	for i, s := range r.sessions {
		ports[i] = s.LocalAddr()
	}
	return ports
}

func (r *switchboardRelay) Relayed() uint64 {
	var n uint64
	for _, s := range r.sessions {
		n += s.Stats().PacketsOut
	}
	return n
}

func (r *switchboardRelay) Close() {
	for _, b := range r.bridges {
		b.Close()
	}
	for _, s := range r.sessions {
		s.Close()
	}
}

// bareRelay is the baseline: per call two UDP sockets and one goroutine per direction that
// reads a datagram from one leg's socket and writes it, unparsed, out of the other leg's
// socket to that leg's peer. A leg's peer starts as its phone's address (what SDP would say,
// as the switchboard relay is told) and is latched to the source of what the leg receives.
// No RTP parsing, no codec or source checks, no counters beyond one per goroutine: what the
// kernel and Go's net package cost on their own.
type bareRelay struct {
	conns   []*net.UDPConn
	peers   []atomic.Pointer[netip.AddrPort]
	relayed atomic.Uint64
	wg      sync.WaitGroup
}

func newBareRelay(phones []netip.AddrPort) (*bareRelay, error) {
	r := &bareRelay{conns: make([]*net.UDPConn, len(phones)), peers: make([]atomic.Pointer[netip.AddrPort], len(phones))}
	for i, phone := range phones {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			r.Close()
			return nil, err
		}
		r.conns[i] = c
		r.peers[i].Store(&phone)
	}
	for i := 0; i+1 < len(phones); i += 2 {
		r.wg.Go(func() { r.forward(i, i+1) })
		r.wg.Go(func() { r.forward(i+1, i) })
	}
	return r, nil
}

// forward relays what leg from receives to leg to's peer until from's socket is closed.
func (r *bareRelay) forward(from, to int) {
	buf := make([]byte, 2048)
	var n uint64
	defer func() { r.relayed.Add(n) }()
	for {
		m, src, err := r.conns[from].ReadFromUDPAddrPort(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		if p := r.peers[from].Load(); *p != src {
			r.peers[from].Store(&src)
		}
		if _, err := r.conns[to].WriteToUDPAddrPort(buf[:m], *r.peers[to].Load()); err == nil {
			n++
		}
	}
}

func (r *bareRelay) Ports() []netip.AddrPort {
	ports := make([]netip.AddrPort, len(r.conns))
	for i, c := range r.conns {
		ports[i] = c.LocalAddr().(*net.UDPAddr).AddrPort()
	}
	return ports
}

// Relayed is complete once Close has returned (each goroutine adds its count as it ends).
func (r *bareRelay) Relayed() uint64 { return r.relayed.Load() }

func (r *bareRelay) Close() {
	for _, c := range r.conns {
		if c != nil {
			c.Close()
		}
	}
	r.wg.Wait()
}

// runLoad is the generator: legs phones, each sending 20 ms PCMU packets to its session
// and counting the packets its session relays to it from the other leg. Phones are spread
// over the 20 ms cycle, as real phones are, in 20 groups 1 ms apart.
func runLoad(legs int, d time.Duration) error {
	ip := netip.MustParseAddr("127.0.0.1")
	conns := make([]*net.UDPConn, legs)
	addrs := make([]netip.AddrPort, legs)
	for i := range conns {
		c, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, 0)))
		if err != nil {
			return err
		}
		conns[i], addrs[i] = c, c.LocalAddr().(*net.UDPAddr).AddrPort()
	}
	if err := json.NewEncoder(os.Stdout).Encode(addrs); err != nil {
		return err
	}
	var sessions []netip.AddrPort
	if err := json.NewDecoder(os.Stdin).Decode(&sessions); err != nil {
		return err
	}
	if len(sessions) != legs {
		return fmt.Errorf("got %d session addresses for %d phones", len(sessions), legs)
	}

	var received atomic.Uint64
	var readers sync.WaitGroup
	for _, c := range conns {
		readers.Go(func() {
			buf := make([]byte, 2048)
			var n uint64
			for {
				if _, _, err := c.ReadFromUDPAddrPort(buf); err != nil {
					received.Add(n)
					return
				}
				n++
			}
		})
	}

	const groups = 20
	var sent atomic.Uint64
	var senders sync.WaitGroup
	cpu0, wall0 := cpuSeconds(), time.Now()
	stop := wall0.Add(d)
	for g := range groups {
		senders.Go(func() {
			time.Sleep(time.Duration(g) * time.Millisecond)
			ticker := time.NewTicker(20 * time.Millisecond)
			defer ticker.Stop()
			payload := make([]byte, media.FrameSamples)
			for i := range payload {
				payload[i] = 0xFF // µ-law silence
			}
			buf := make([]byte, 2048)
			var n uint64
			for tick := uint32(0); time.Now().Before(stop); tick++ {
				for i := g; i < legs; i += groups {
					packet := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: uint16(tick),
						Timestamp: tick * media.FrameSamples, SSRC: uint32(i + 1)}, Payload: payload}
					m, err := packet.MarshalTo(buf)
					if err != nil {
						panic(err)
					}
					if _, err := conns[i].WriteToUDPAddrPort(buf[:m], sessions[i]); err == nil {
						n++
					}
				}
				<-ticker.C
			}
			sent.Add(n)
		})
	}
	senders.Wait()
	wall1, cpu1 := time.Now(), cpuSeconds()
	time.Sleep(500 * time.Millisecond) // let the last relayed packets arrive
	for _, c := range conns {
		c.Close()
	}
	readers.Wait()
	return json.NewEncoder(os.Stdout).Encode(loadReport{
		Sent: sent.Load(), Received: received.Load(),
		CPUSeconds: cpu1 - cpu0, WallSeconds: wall1.Sub(wall0).Seconds(),
	})
}

const (
	startMarker = "<!-- media-relay:start -->"
	endMarker   = "<!-- media-relay:end -->"
)

// writeMarkdown replaces the media-relay section of path (creating the file, or appending
// the section, if needed) and leaves the rest of the file alone.
func writeMarkdown(path string, results []result, d time.Duration) error {
	var b strings.Builder
	b.WriteString(startMarker + "\n")
	b.WriteString("## Media relay (RTP, `media` package)\n\n")
	fmt.Fprintf(&b, "Run %s on a %d-core machine (%s/%s):\n\n", time.Now().UTC().Format("2006-01-02"), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH)
	var calls []string
	for _, r := range results {
		if r.Relay == relaySwitchboard {
			calls = append(calls, strconv.Itoa(r.Calls))
		}
	}
	fmt.Fprintf(&b, "    go run ./bench/media -calls %s -duration %s -write docs/benchmarks.md\n\n", strings.Join(calls, ","), d)
	b.WriteString("Each call is two `media.Session`s bridged by `media.Bridge`, PCMU on both legs; each leg's\n")
	b.WriteString("phone sends 50 packets/s (20 ms, 172-byte datagrams) and receives the other leg's, so a call\n")
	b.WriteString("is 200 datagrams/s through the relay (100 in, 100 out). The load generator is a separate\n")
	b.WriteString("process on the same 2 cores and loopback interface, so it competes with the relay for CPU;\n")
	b.WriteString("CPU is process CPU seconds per wall second (1.00 = one core busy). Other engineers' builds\n")
	fmt.Fprintf(&b, "and tests may have been running too: the load average was %s at the start.\n\n", loadAverage)
	b.WriteString("Baseline, in the same run: right after each switchboard run, a bare UDP relay takes the same\n")
	b.WriteString("generator and load at the same call count. Per call it has two sockets and one goroutine per\n")
	b.WriteString("direction that reads a datagram and writes it, unparsed, to the other leg's peer (the phone's\n")
	b.WriteString("address, latched to the source of what that leg receives); nothing else (`bareRelay` in\n")
	b.WriteString("bench/media). It is what the kernel and Go's UDP sockets cost on their own.\n\n")
	b.WriteString("Loss is 1 - received/sent. \"Due\" is what 50 packets/s per leg comes to; where \"sent\" is\n")
	b.WriteString("lower the generator fell behind its schedule (it is CPU-bound too), so the relay was offered less.\n\n")
	b.WriteString("| calls | relay | packets due | packets sent | packets received | loss | relay CPU | generator CPU | relayed packets/s |\n")
	b.WriteString("|---:|---|---:|---:|---:|---:|---:|---:|---:|\n")
	for _, r := range results {
		due := uint64(r.Calls) * 2 * 50 * uint64(d/time.Second)
		fmt.Fprintf(&b, "| %d | %s | %d | %d | %d | %.3f %% | %.2f | %.2f | %.0f |\n",
			r.Calls, r.Relay, due, r.Sent, r.Received, r.lossPercent(), r.RelayCPU, r.LoadCPU, r.RelayedPPS)
	}
	b.WriteString("\nThe CPU ratio compares the two relays at the load each was actually offered (\"packets sent\"\n")
	b.WriteString("above); where the generator fell behind in one run and not the other, that differs.\n")
	b.WriteString("\n| calls | loss switchboard | loss bare relay | CPU switchboard | CPU bare relay | **CPU ratio switchboard / bare** |\n")
	b.WriteString("|---:|---:|---:|---:|---:|---:|\n")
	for i := 0; i+1 < len(results); i += 2 {
		sb, bare := results[i], results[i+1]
		ratio := "n/a"
		if bare.RelayCPU > 0 {
			ratio = fmt.Sprintf("%.2f", sb.RelayCPU/bare.RelayCPU)
		}
		fmt.Fprintf(&b, "| %d | %.3f %% | %.3f %% | %.2f | %.2f | **%s** |\n",
			sb.Calls, sb.lossPercent(), bare.lossPercent(), sb.RelayCPU, bare.RelayCPU, ratio)
	}
	b.WriteString("\nTarget: at least 500 concurrent anchored calls with under 0.1 % packet loss on this 2-core box.\n")
	b.WriteString("\n" + endMarker + "\n")
	return benchdoc.WriteSection(path, startMarker, endMarker, b.String())
}
