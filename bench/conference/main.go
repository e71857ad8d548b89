// Command conference benchmarks conference rooms: N participants, each a media.Session
// joined to a media.Mixer (rooms of R participants), with a load generator sending a G.711
// tone at 50 packets a second per participant and counting the mixed audio that comes back.
// It reports the process's CPU (CPU seconds per wall second; 1.0 is one core) per
// participant, and, as the baseline in the same run, the CPU per leg of the plain relay
// (the same N sessions bridged in pairs by media.Bridge) under the same generator and load.
//
// What it measures is the media path only: sessions, mixers and UDP over loopback, no SIP
// signalling (a participant's SIP costs its INVITE and BYE, nothing while it talks).
//
// The generator runs as a child process (this binary with -role load) so that the CPU of
// the rooms is measured apart from it; both share the machine.
//
//	go run ./bench/conference -participants 100,200 -rooms 5,50 -duration 20s -write docs/benchmarks.md
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pion/rtp"

	"switchboard/media"
)

func main() {
	role := flag.String("role", "bench", "bench (the measurement) or load (the generator it starts)")
	participants := flag.String("participants", "100,200", "comma-separated numbers of participants")
	rooms := flag.String("rooms", "5,50", "comma-separated room sizes (participants per room)")
	duration := flag.Duration("duration", 20*time.Second, "how long each run sends RTP")
	legs := flag.Int("legs", 0, "load role: number of phones to bind")
	write := flag.String("write", "", "markdown file whose conference section gets the results")
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
	for _, nf := range strings.Split(*participants, ",") {
		n := atoi(nf)
		for _, rf := range strings.Split(*rooms, ",") {
			size := atoi(rf)
			// The baseline runs right after the rooms, with the same generator and load.
			for _, kind := range []string{kindConference, kindRelay} {
				r, err := run(kind, n, size, *duration)
				if err != nil {
					fmt.Fprintf(os.Stderr, "%s, %d participants: %v\n", kind, n, err)
					os.Exit(1)
				}
				fmt.Printf("kind=%q participants=%d room=%d sent=%d received=%d cpu=%.3f cpu_per_party_ms=%.3f load_cpu=%.3f\n",
					r.Kind, r.N, r.Room, r.Sent, r.Received, r.CPU, 1000*r.CPU/float64(r.N), r.LoadCPU)
				results = append(results, r)
			}
		}
	}
	if *write != "" {
		if err := writeMarkdown(*write, results, *duration); err != nil {
			fmt.Fprintln(os.Stderr, "write:", err)
			os.Exit(1)
		}
	}
}

func atoi(s string) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 2 {
		fmt.Fprintf(os.Stderr, "bad number %q (at least 2)\n", s)
		os.Exit(2)
	}
	return n
}

var loadAverage = "unknown"

const (
	kindConference = "conference"
	kindRelay      = "plain relay"
)

type result struct {
	Kind           string
	N, Room        int
	Sent, Received uint64
	CPU, LoadCPU   float64
	Wall           float64
}

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

// run measures n participants: kind conference puts them in rooms of size (the last room
// may be smaller), kind plain relay bridges them in pairs.
func run(kind string, n, size int, d time.Duration) (result, error) {
	self, err := os.Executable()
	if err != nil {
		return result{}, err
	}
	cmd := exec.Command(self, "-role", "load", "-legs", strconv.Itoa(n), "-duration", d.String())
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
	defer stdin.Close()
	lines := bufio.NewScanner(stdout)
	lines.Buffer(make([]byte, 1<<20), 1<<20)
	var phones []netip.AddrPort
	if !lines.Scan() {
		return result{}, fmt.Errorf("generator said nothing: %v", lines.Err())
	}
	if err := json.Unmarshal(lines.Bytes(), &phones); err != nil {
		return result{}, err
	}

	pool, err := media.NewPortPool(0, 0)
	if err != nil {
		return result{}, err
	}
	ip := netip.MustParseAddr("127.0.0.1")
	sessions := make([]*media.Session, 0, n)
	var closers []func()
	defer func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
		for _, s := range sessions {
			s.Close()
		}
	}()
	for _, phone := range phones {
		s, err := media.NewSession(media.SessionConfig{Pool: pool, LocalIP: ip})
		if err != nil {
			return result{}, err
		}
		sessions = append(sessions, s)
		if err := s.SetRemote(&media.Remote{Addr: phone, Codec: media.Codec{Encoding: media.PCMU}, TelephoneEvent: 101}); err != nil {
			return result{}, err
		}
	}
	switch kind {
	case kindConference:
		for start := 0; start < n; start += size {
			m := media.NewMixer(media.MixerConfig{JoinLeaveTones: true})
			closers = append(closers, m.Close)
			for _, s := range sessions[start:min(start+size, n)] {
				if _, err := m.Join(s, false); err != nil {
					return result{}, err
				}
			}
		}
	case kindRelay:
		for i := 0; i+1 < n; i += 2 {
			b, err := media.Bridge(sessions[i], sessions[i+1])
			if err != nil {
				return result{}, err
			}
			closers = append(closers, func() { b.Close() })
		}
	}
	runtime.GC()
	ports := make([]netip.AddrPort, n)
	for i, s := range sessions {
		ports[i] = s.LocalAddr()
	}
	cpu0 := cpuSeconds()
	if err := json.NewEncoder(stdin).Encode(ports); err != nil {
		return result{}, err
	}
	if !lines.Scan() {
		return result{}, fmt.Errorf("generator ended without a report: %v", lines.Err())
	}
	cpu1 := cpuSeconds()
	var rep loadReport
	if err := json.Unmarshal(lines.Bytes(), &rep); err != nil {
		return result{}, err
	}
	return result{Kind: kind, N: n, Room: size, Sent: rep.Sent, Received: rep.Received,
		CPU: (cpu1 - cpu0) / rep.WallSeconds, LoadCPU: rep.CPUSeconds / rep.WallSeconds, Wall: rep.WallSeconds}, nil
}

// runLoad is the generator: legs phones, each sending a 20 ms PCMU frame of a tone every
// 20 ms to its session and counting the packets it receives. Phones are spread over the
// 20 ms cycle in 20 groups 1 ms apart, as real phones are.
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
	// One second of a 440 Hz tone, µ-law, sent frame after frame.
	tone := make([]int16, media.SampleRate)
	for i := range tone {
		tone[i] = int16(3000 * math.Sin(2*math.Pi*440*float64(i)/media.SampleRate))
	}
	ulaw := media.EncodeFrame(nil, media.PCMU, tone)

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
			buf := make([]byte, 2048)
			var n uint64
			for frame := 0; time.Now().Before(stop); frame++ {
				off := (frame * media.FrameSamples) % (len(ulaw) - media.FrameSamples)
				for i := g; i < legs; i += groups {
					pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: uint16(frame),
						Timestamp: uint32(frame * media.FrameSamples), SSRC: uint32(i + 1)}, Payload: ulaw[off : off+media.FrameSamples]}
					m, err := pkt.MarshalTo(buf)
					if err == nil {
						if _, err := conns[i].WriteToUDPAddrPort(buf[:m], sessions[i]); err == nil {
							n++
						}
					}
				}
				<-ticker.C
			}
			sent.Add(n)
		})
	}
	senders.Wait()
	wall := time.Since(wall0).Seconds()
	cpu := cpuSeconds() - cpu0
	time.Sleep(200 * time.Millisecond) // the last mixed frames
	for _, c := range conns {
		c.Close()
	}
	readers.Wait()
	return json.NewEncoder(os.Stdout).Encode(loadReport{Sent: sent.Load(), Received: received.Load(), CPUSeconds: cpu, WallSeconds: wall})
}

// writeMarkdown replaces the conference section of the file (between its heading and the
// end marker) with the results, or appends one.
func writeMarkdown(path string, results []result, d time.Duration) error {
	var b strings.Builder
	fmt.Fprintf(&b, "## Conference rooms (`media.Mixer`)\n\n")
	fmt.Fprintf(&b, "Run %s on a %d-core machine (%s/%s):\n\n", time.Now().UTC().Format("2006-01-02"), runtime.NumCPU(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(&b, "    go run ./bench/conference -participants %s -rooms %s -duration %s -write docs/benchmarks.md\n\n",
		joinInts(results, func(r result) int { return r.N }), joinInts(results, func(r result) int { return r.Room }), d)
	b.WriteString(`Each participant is a ` + "`media.Session`" + ` joined to a ` + "`media.Mixer`" + ` (a room of the size shown; join and
leave tones on), PCMU; its phone (a UDP socket of the load generator, a separate process on
the same 2 cores and loopback) sends a 440 Hz tone at 50 packets/s and receives the room's mix
for it, 50 packets/s. Only media is measured: no SIP (a party's signalling is its INVITE and
BYE). CPU is the benchmark process's CPU seconds per wall second (1.00 = one core); "per
party" divides it by the participants, in milliseconds of CPU per second.

Baseline, in the same run: right after each conference run, the same number of sessions
bridged in pairs by ` + "`media.Bridge`" + ` (the plain relay of two-party calls) under the same generator
and load; "per party" is then per relay leg. Other engineers' builds and tests may have been
running too: the load average was ` + loadAverage + ` at the start.

| participants | room size | kind | packets sent | packets received | CPU | CPU per party (ms/s) | generator CPU |
|---:|---:|---|---:|---:|---:|---:|---:|
`)
	for _, r := range results {
		fmt.Fprintf(&b, "| %d | %d | %s | %d | %d | %.2f | %.3f | %.2f |\n", r.N, r.Room, r.Kind, r.Sent, r.Received, r.CPU,
			1000*r.CPU/float64(r.N), r.LoadCPU)
	}
	b.WriteString("\n| participants | room size | CPU per party, conference (ms/s) | CPU per leg, plain relay (ms/s) | **ratio conference / relay** |\n|---:|---:|---:|---:|---:|\n")
	for i := 0; i+1 < len(results); i += 2 {
		c, r := results[i], results[i+1]
		pc, pr := 1000*c.CPU/float64(c.N), 1000*r.CPU/float64(r.N)
		fmt.Fprintf(&b, "| %d | %d | %.3f | %.3f | **%.2f** |\n", c.N, c.Room, pc, pr, pc/pr)
	}
	b.WriteString("\nTarget: at least 100 concurrent participants on this 2-core box.\n\n<!-- conference:end -->\n")

	old, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	text := string(old)
	const head, end = "## Conference rooms (`media.Mixer`)", "<!-- conference:end -->\n"
	if i := strings.Index(text, head); i >= 0 {
		if j := strings.Index(text[i:], end); j >= 0 {
			text = text[:i] + b.String() + text[i+j+len(end):]
			return os.WriteFile(path, []byte(text), 0o644)
		}
	}
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	return os.WriteFile(path, []byte(text+"\n"+b.String()), 0o644)
}

func joinInts(results []result, f func(result) int) string {
	var out []string
	seen := map[int]bool{}
	for _, r := range results {
		if v := f(r); !seen[v] {
			seen[v] = true
			out = append(out, strconv.Itoa(v))
		}
	}
	return strings.Join(out, ",")
}
