// Package benchpbx is what the SIP benchmarks (bench/calls, bench/queues) share: a call
// engine on its own SIP server over a fresh SQLite store, SIPp's uas, the process's CPU
// time and a sampler for peaks.
package benchpbx

import (
	"context"
	"encoding/binary"
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
	return StartWith(ctx, name, nil)
}

// StartWith is Start with the engine's config changed by mutate (nil: as Start).
func StartWith(ctx context.Context, name string, mutate func(*pbx.Config)) (_ *PBX, err error) {
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
	cfg := pbx.Config{Store: p.DB, SIP: p.SIP, Logger: quiet}
	if mutate != nil {
		mutate(&cfg)
	}
	if p.Engine, err = pbx.New(cfg); err != nil {
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

// WritePCMUPcap writes a pcap of d of PCMU RTP (50 packets/s) for SIPp's play_pcap_audio.
func WritePCMUPcap(path string, d time.Duration) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	hdr := make([]byte, 24)
	binary.LittleEndian.PutUint32(hdr[0:], 0xa1b2c3d4)
	binary.LittleEndian.PutUint16(hdr[4:], 2)
	binary.LittleEndian.PutUint16(hdr[6:], 4)
	binary.LittleEndian.PutUint32(hdr[16:], 65535)
	binary.LittleEndian.PutUint32(hdr[20:], 1) // Ethernet
	if _, err := f.Write(hdr); err != nil {
		return err
	}
	packets := int(d / (20 * time.Millisecond))
	payload := make([]byte, 160)
	for i := range payload {
		payload[i] = 0xff - byte(i%16)
	}
	for i := 0; i < packets; i++ {
		rtp := make([]byte, 12+len(payload))
		rtp[0], rtp[1] = 0x80, 0
		binary.BigEndian.PutUint16(rtp[2:], uint16(i))
		binary.BigEndian.PutUint32(rtp[4:], uint32(i*160))
		binary.BigEndian.PutUint32(rtp[8:], 0x5eed)
		copy(rtp[12:], payload)
		udp := make([]byte, 8+len(rtp))
		binary.BigEndian.PutUint16(udp[0:], 6000)
		binary.BigEndian.PutUint16(udp[2:], 6002)
		binary.BigEndian.PutUint16(udp[4:], uint16(len(udp)))
		copy(udp[8:], rtp)
		ip := make([]byte, 20+len(udp))
		ip[0], ip[8], ip[9] = 0x45, 64, 17
		binary.BigEndian.PutUint16(ip[2:], uint16(len(ip)))
		copy(ip[12:], []byte{127, 0, 0, 1})
		copy(ip[16:], []byte{127, 0, 0, 1})
		copy(ip[20:], udp)
		frame := append(make([]byte, 12), 0x08, 0x00)
		frame = append(frame, ip...)
		rec := make([]byte, 16)
		ts := time.Duration(i) * 20 * time.Millisecond
		binary.LittleEndian.PutUint32(rec[0:], uint32(ts/time.Second))
		binary.LittleEndian.PutUint32(rec[4:], uint32((ts%time.Second)/time.Microsecond))
		binary.LittleEndian.PutUint32(rec[8:], uint32(len(frame)))
		binary.LittleEndian.PutUint32(rec[12:], uint32(len(frame)))
		if _, err := f.Write(append(rec, frame...)); err != nil {
			return err
		}
	}
	return nil
}

// UACRTPScenario is SIPp's uac with PCMU audio played from PCAP while the call is up.
const UACRTPScenario = `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="uac with RTP">
  <send retrans="500">
    <![CDATA[
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:+15557654321@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Type: application/sdp
      Content-Length: [len]

      v=0
      o=user1 53655765 2353687637 IN IP[local_ip_type] [local_ip]
      s=-
      c=IN IP[media_ip_type] [media_ip]
      t=0 0
      m=audio [media_port] RTP/AVP 0
      a=rtpmap:0 PCMU/8000
    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="183" optional="true"/>
  <recv response="200" rtd="true"/>
  <send>
    <![CDATA[
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:+15557654321@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <nop><action><exec play_pcap_audio="PCAP"/></action></nop>
  <pause/>
  <send retrans="500">
    <![CDATA[
      BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: sipp <sip:+15557654321@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
      Call-ID: [call_id]
      CSeq: 2 BYE
      Contact: sip:sipp@[local_ip]:[local_port]
      Max-Forwards: 70
      Content-Length: 0
    ]]>
  </send>
  <recv response="200" crlf="true"/>
</scenario>
`
