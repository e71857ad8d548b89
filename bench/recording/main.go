// Command recording benchmarks call recording: N concurrent anchored calls (two media
// sessions bridged per call, as the engine bridges them), with a load generator sending
// G.711 at 50 packets a second each way, once unrecorded and once recorded, in the same
// run. A recorded call is what the engine runs: a media.Recorder hearing both legs, writing
// a stereo WAV through recording.Service's writer into a blob.Dir data directory (SQLite
// rows), completed (Commit, Finish) at the end. It reports the process's CPU for each and
// the ratio recorded / unrecorded.
//
// The load generator runs as a child process (this binary with -role load) so that the
// process's CPU is the calls' alone.
//
//	go run ./bench/recording -calls 200 -duration 20s -write docs/benchmarks.md
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pion/rtp"

	"switchboard"
	"switchboard/bench/internal/benchdoc"
	"switchboard/blob"
	"switchboard/media"
	"switchboard/recording"
	"switchboard/store"
)

func main() {
	role := flag.String("role", "calls", "calls (the benchmark) or load (the generator it starts)")
	calls := flag.String("calls", "200", "comma-separated numbers of concurrent calls")
	duration := flag.Duration("duration", 20*time.Second, "how long each run sends RTP")
	legs := flag.Int("legs", 0, "load role: number of phones to bind")
	write := flag.String("write", "", "markdown file whose recording section gets the results")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the recorded runs to this file")
	flag.Parse()
	cpuProfile = *profile
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
		for _, recorded := range []bool{false, true} {
			r, err := run(n, recorded, *duration)
			if err != nil {
				fmt.Fprintf(os.Stderr, "%d calls, recorded %v: %v\n", n, recorded, err)
				os.Exit(1)
			}
			fmt.Printf("calls=%d recorded=%v sent=%d received=%d loss=%.4f%% cpu=%.3f load_cpu=%.3f wav_bytes=%d finish_cpu=%.3fs\n",
				r.Calls, r.Recorded, r.Sent, r.Received, r.lossPercent(), r.CPU, r.LoadCPU, r.WAVBytes, r.FinishCPU)
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

var loadAverage = "unknown"

// cpuProfile names the file of -cpuprofile.
var cpuProfile string

type result struct {
	Calls          int
	Recorded       bool
	Sent, Received uint64
	CPU, LoadCPU   float64 // CPU seconds per wall second
	WAVBytes       int64   // recorded audio stored
	// FinishCPU is the CPU seconds completing every recording took after the calls
	// (flush, header, fsync, the rows and events): once per recording, not per second.
	FinishCPU float64
}

// cpuPerKPacket is the CPU seconds per 1000 packets the generator sent: the runs are
// compared at the load each was actually offered (the generator, CPU-bound on a shared
// machine, does not always keep its schedule).
func (r result) cpuPerKPacket(wall float64) float64 {
	if r.Sent == 0 {
		return 0
	}
	return r.CPU * wall / float64(r.Sent) * 1000
}

func (r result) lossPercent() float64 {
	if r.Sent == 0 {
		return 100
	}
	return 100 * float64(r.Sent-min(r.Received, r.Sent)) / float64(r.Sent)
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

// callSet is n bridged calls, recorded or not.
type callSet struct {
	sessions []*media.Session
	bridges  []*media.Relay
	recs     []*recorded
	svc      *recording.Service
	db       *store.DB
	dir      string
}

type recorded struct {
	id  string
	w   recording.RecordingWriter
	rec *media.Recorder
}

func newCallSet(phones []netip.AddrPort, record bool) (_ *callSet, err error) {
	cs := &callSet{}
	defer func() {
		if err != nil {
			cs.close()
		}
	}()
	if record {
		cs.dir, err = os.MkdirTemp("", "bench-recording-")
		if err != nil {
			return nil, err
		}
		ctx := context.Background()
		if cs.db, err = store.Open(ctx, filepath.Join(cs.dir, "switchboard.db")); err != nil {
			return nil, err
		}
		if err := cs.db.Migrate(ctx); err != nil {
			return nil, err
		}
		acct := &switchboard.Account{Name: "Bench"}
		if err := cs.db.CreateAccount(ctx, acct); err != nil {
			return nil, err
		}
		blobs, err := blob.NewDir(filepath.Join(cs.dir, "blobs"))
		if err != nil {
			return nil, err
		}
		cs.svc = &recording.Service{Store: cs.db, Blobs: blobs}
		for i := 0; i < len(phones)/2; i++ {
			r := &switchboard.Recording{AccountID: acct.ID, CallID: fmt.Sprintf("1700000000.%d", i), Direction: "inbound"}
			w, err := cs.svc.Begin(ctx, r)
			if err != nil {
				return nil, err
			}
			rec, err := media.NewRecorder(media.RecorderConfig{Out: w})
			if err != nil {
				return nil, err
			}
			cs.recs = append(cs.recs, &recorded{id: r.ID, w: w, rec: rec})
		}
	}
	pool, err := media.NewPortPool(0, 0)
	if err != nil {
		return nil, err
	}
	ip := netip.MustParseAddr("127.0.0.1")
	for _, phone := range phones {
		s, err := media.NewSession(media.SessionConfig{Pool: pool, LocalIP: ip})
		if err != nil {
			return nil, err
		}
		cs.sessions = append(cs.sessions, s)
		if err := s.SetRemote(&media.Remote{Addr: phone, Codec: media.Codec{Encoding: media.PCMU, PayloadType: 0}, TelephoneEvent: 101}); err != nil {
			return nil, err
		}
	}
	for i := 0; i+1 < len(cs.sessions); i += 2 {
		b, err := media.Bridge(cs.sessions[i], cs.sessions[i+1])
		if err != nil {
			return nil, err
		}
		cs.bridges = append(cs.bridges, b)
		if record {
			r := cs.recs[i/2].rec
			_ = r.SetChannel(media.Left, cs.sessions[i])
			_ = r.SetChannel(media.Right, cs.sessions[i+1])
		}
	}
	return cs, nil
}

func (cs *callSet) ports() []netip.AddrPort {
	out := make([]netip.AddrPort, len(cs.sessions))
	for i, s := range cs.sessions {
		out[i] = s.LocalAddr()
	}
	return out
}

// finish completes the recordings as the engine does at hang-up and returns the audio
// bytes stored.
func (cs *callSet) finish() (int64, error) {
	var total int64
	for _, r := range cs.recs {
		st, err := r.rec.Close()
		if err != nil {
			return 0, err
		}
		if _, err := r.w.Commit(); err != nil {
			return 0, err
		}
		if err := cs.svc.Finish(context.Background(), r.id, st.Duration.Milliseconds(), st.Paused.Milliseconds()); err != nil {
			return 0, err
		}
		total += st.DataBytes
	}
	cs.recs = nil
	return total, nil
}

func (cs *callSet) close() {
	for _, r := range cs.recs {
		_, _ = r.rec.Close()
		r.w.Abort()
	}
	for _, b := range cs.bridges {
		b.Close()
	}
	for _, s := range cs.sessions {
		s.Close()
	}
	if cs.db != nil {
		cs.db.Close()
	}
	if cs.dir != "" {
		os.RemoveAll(cs.dir)
	}
}

// run runs n calls (recorded or not) under the generator and measures this process's CPU
// while the generator sends, the recordings' completion included.
func run(n int, record bool, d time.Duration) (result, error) {
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
	cs, err := newCallSet(phones, record)
	if err != nil {
		return result{}, err
	}
	defer cs.close()
	runtime.GC()
	if record && cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return result{}, err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return result{}, err
		}
		defer pprof.StopCPUProfile()
	}
	cpu0 := cpuSeconds()
	if err := json.NewEncoder(stdin).Encode(cs.ports()); err != nil {
		return result{}, err
	}
	if !lines.Scan() {
		return result{}, fmt.Errorf("generator ended without a report: %v", lines.Err())
	}
	cpu1 := cpuSeconds()
	wav, err := cs.finish()
	if err != nil {
		return result{}, err
	}
	cpu2 := cpuSeconds()
	var rep loadReport
	if err := json.Unmarshal(lines.Bytes(), &rep); err != nil {
		return result{}, err
	}
	return result{Calls: n, Recorded: record, Sent: rep.Sent, Received: rep.Received,
		CPU: (cpu1 - cpu0) / rep.WallSeconds, LoadCPU: rep.CPUSeconds / rep.WallSeconds, WAVBytes: wav,
		FinishCPU: cpu2 - cpu1}, nil
}

// runLoad is the generator (as bench/media's): legs phones, each sending 20 ms PCMU packets
// to its session and counting what its session relays to it, spread over the 20 ms cycle.
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
			// Speech-like payload: a µ-law sine, so the recording writes real samples.
			pcm := make([]int16, media.FrameSamples)
			for i := range pcm {
				pcm[i] = int16(4000 * sinTable[(i*8)%len(sinTable)])
			}
			payload := media.EncodeFrame(nil, media.PCMU, pcm)
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
	return json.NewEncoder(os.Stdout).Encode(loadReport{Sent: sent.Load(), Received: received.Load(),
		CPUSeconds: cpu1 - cpu0, WallSeconds: wall1.Sub(wall0).Seconds()})
}

// sinTable is one period of a sine in 64 steps.
var sinTable = func() []float64 {
	t := make([]float64, 64)
	for i := range t {
		t[i] = math.Sin(2 * math.Pi * float64(i) / 64)
	}
	return t
}()

const (
	startMarker = "<!-- recording:start -->"
	endMarker   = "<!-- recording:end -->"
)

func writeMarkdown(path string, results []result, d time.Duration) error {
	var b strings.Builder
	b.WriteString(startMarker + "\n")
	b.WriteString("## Call recording (`media.Recorder` + `recording.Service`)\n\n")
	var calls []string
	for _, r := range results {
		if !r.Recorded {
			calls = append(calls, strconv.Itoa(r.Calls))
		}
	}
	fmt.Fprintf(&b, "Run %s on a %d-core machine (%s/%s), load average %s at the start:\n\n", time.Now().UTC().Format("2006-01-02"),
		runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, loadAverage)
	fmt.Fprintf(&b, "    go run ./bench/recording -calls %s -duration %s -write docs/benchmarks.md\n\n", strings.Join(calls, ","), d)
	b.WriteString("Each call is two `media.Session`s bridged by `media.Bridge` (PCMU, 50 packets/s each way from a\n")
	b.WriteString("load generator in a separate process). Baseline, in the same run and at the same call count:\n")
	b.WriteString("the same calls unrecorded. Recorded, each call also has a `media.Recorder` hearing both legs and\n")
	b.WriteString("writing a stereo 8 kHz WAV through `recording.Service`'s writer into a data directory (SQLite\n")
	b.WriteString("rows, Begin before the measurement). CPU is the process's CPU seconds per wall second while the\n")
	b.WriteString("calls run (1.00 = one core); completing the recordings afterwards (last write, header, fsync,\n")
	b.WriteString("rows and recording.available) is measured apart, as it is paid once per call. Other engineers'\n")
	b.WriteString("work shared the machine, and the generator does not always keep its schedule, so the runs are\n")
	b.WriteString("compared per packet sent: CPU ms per 1000 packets.\n\n")
	b.WriteString("| calls | recorded | packets sent | packets received | loss | CPU | CPU ms / 1000 packets | generator CPU | WAV bytes | completing all (CPU s) |\n")
	b.WriteString("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	wall := d.Seconds()
	for _, r := range results {
		fmt.Fprintf(&b, "| %d | %v | %d | %d | %.3f %% | %.2f | %.3f | %.2f | %d | %.2f |\n",
			r.Calls, r.Recorded, r.Sent, r.Received, r.lossPercent(), r.CPU, 1000*r.cpuPerKPacket(wall), r.LoadCPU, r.WAVBytes, r.FinishCPU)
	}
	b.WriteString("\n| calls | CPU ms / 1000 packets unrecorded | recorded | **extra CPU of recording** |\n|---:|---:|---:|---:|\n")
	for i := 0; i+1 < len(results); i += 2 {
		base, rec := results[i], results[i+1]
		extra := "n/a"
		if bp := base.cpuPerKPacket(wall); bp > 0 {
			extra = fmt.Sprintf("%+.0f %%", 100*(rec.cpuPerKPacket(wall)/bp-1))
		}
		fmt.Fprintf(&b, "| %d | %.3f | %.3f | **%s** |\n", base.Calls, 1000*base.cpuPerKPacket(wall), 1000*rec.cpuPerKPacket(wall), extra)
	}
	b.WriteString("\nTarget: recording costs less than 25 % extra CPU at 200 concurrent calls.\n")
	b.WriteString("\n" + endMarker + "\n")
	return benchdoc.WriteSection(path, startMarker, endMarker, b.String())
}
