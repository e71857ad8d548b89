package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"switchboard/internal/testpeer"
	"switchboard/internal/tstest"
	"switchboard/media"
)

// TestTLSAndSRTPCallBetweenTwoBaresips is issue 14's promise for encrypted calls: two
// baresips register over TLS and call each other with SRTP (mediaenc=srtp-mand); a packet
// capture on the loopback interface, taken the whole time, holds no SIP in clear and no
// audio in clear (neither tone is found in any captured payload), while each phone's
// recording holds the other's tone.
func TestTLSAndSRTPCallBetweenTwoBaresips(t *testing.T) {
	bin := testpeer.Require(t, "baresip", "baresip-core")
	const aliceTone, bobTone = 440, 1200
	capture := startCapture(t)
	m, demo, cert := startTLSDemo(t, "32400-32499")
	base, tlsAddr := m.HTTPURL(), m.SIPTLSAddr().String()
	secure := func(tone int) func(*baresipSetup) {
		return func(s *baresipSetup) {
			s.tone = tone
			s.uriParams = ";transport=tls"
			s.params = ";mediaenc=srtp-mand"
			// sndfile records what the phone decodes (dump-*-dec.wav) in its directory.
			s.config = []string{"sip_cafile " + cert, "module srtp.so", "module sndfile.so", "snd_path " + s.dir}
		}
	}
	alice := startBaresip(t, bin, tlsAddr, demo.Users[0], 32500, secure(aliceTone))
	bob := startBaresip(t, bin, tlsAddr, demo.Users[1], 32600, secure(bobTone))

	online := func(ext string) bool {
		var a struct {
			Result []struct {
				PresenceID        string `json:"presence_id"`
				DevicesRegistered bool   `json:"devices_registered"`
			}
		}
		getJSON(t, http.DefaultClient, base+"/v3/voice/61/availability", demo.DeveloperKey, &a)
		for _, u := range a.Result {
			if u.PresenceID == ext {
				return u.DevicesRegistered
			}
		}
		return false
	}
	tstest.WaitForWithin(t, 20*time.Second, "both phones registered over TLS", func() bool {
		return online("1001") && online("1002")
	})

	alice.command(t, "dial", "1002") // completed with the account's registrar and ;transport=tls
	tstest.WaitForWithin(t, 20*time.Second, "each phone to hear the other's tone", func() bool {
		return hearsTone(alice.dir, bobTone) && hearsTone(bob.dir, aliceTone)
	})
	alice.command(t, "hangup", "")
	packets := capture.stop()

	ports := map[uint16]string{}
	_, tlsPort, _ := net.SplitHostPort(tlsAddr)
	for _, a := range []net.Addr{m.SIPUDPAddr(), m.SIPTCPAddr()} {
		_, p, _ := net.SplitHostPort(a.String())
		n, _ := strconv.Atoi(p)
		ports[uint16(n)] = "SIP"
	}
	n, _ := strconv.Atoi(tlsPort)
	ports[uint16(n)] = "SIP over TLS"
	for p := 32400; p < 32700; p++ {
		ports[uint16(p)] = "RTP"
	}
	var sipSeen, rtpSeen int
	for _, p := range packets {
		kind, ok := ports[p.srcPort]
		if !ok {
			kind, ok = ports[p.dstPort]
		}
		if !ok || len(p.payload) == 0 {
			continue
		}
		for _, clear := range []string{"SIP/2.0", "INVITE sip:", "REGISTER sip:", "Digest ", "a=crypto", "m=audio"} {
			if bytes.Contains(p.payload, []byte(clear)) {
				t.Fatalf("captured %s packet %d->%d carries %q in clear:\n%q", kind, p.srcPort, p.dstPort, clear, p.payload)
			}
		}
		switch kind {
		case "SIP over TLS":
			sipSeen++
		case "RTP":
			// RTP (version 2) carrying at least a 20 ms frame; RTCP, on the odd ports, holds no audio.
			if p.udp && p.srcPort%2 == 0 && p.dstPort%2 == 0 && len(p.payload) >= 12+160 && p.payload[0]>>6 == 2 {
				rtpSeen++
				audio := ulawSamples(p.payload[12 : 12+160])
				for _, f := range []float64{aliceTone, bobTone} {
					if r := toneRatio(audio, f, 8000); r > 0.25 {
						t.Fatalf("captured RTP %d->%d: the %v Hz tone is audible in clear (ratio %.2f)", p.srcPort, p.dstPort, f, r)
					}
				}
			}
		}
	}
	// The capture saw the call: signalling on the TLS port and a good deal of media.
	if sipSeen < 10 || rtpSeen < 100 {
		t.Fatalf("capture holds %d TLS and %d RTP packets; want the whole call", sipSeen, rtpSeen)
	}
}

// startTLSDemo runs `serve --demo` with SIP over TLS on a self-signed certificate (cert,
// for the phones to trust), with the default digest (MD5 alone, which baresip answers).
func startTLSDemo(t *testing.T, rtpPorts string) (m *Main, demo demoFile, cert string) {
	t.Helper()
	cert, key := writeSelfSignedCert(t, t.TempDir())
	dir := t.TempDir()
	m, _, _ = startServe(t, "--demo", "--data", dir, "--http", "127.0.0.1:0",
		"--sip", "127.0.0.1:0", "--rtp-ports", rtpPorts,
		"--sip-tls", "127.0.0.1:0", "--sip-tls-cert", cert, "--sip-tls-key", key)
	b, _ := os.ReadFile(filepath.Join(dir, "demo.json"))
	if err := json.Unmarshal(b, &demo); err != nil {
		t.Fatal(err)
	}
	return m, demo, cert
}

// TestSecureOnlyDeviceCannotCallWithoutSRTP: once its device is set to require_secure
// through the API, a baresip registered over TLS but sending plain RTP is refused with 488
// when it calls, and nobody rings.
func TestSecureOnlyDeviceCannotCallWithoutSRTP(t *testing.T) {
	bin := testpeer.Require(t, "baresip", "baresip-core")
	m, demo, cert := startTLSDemo(t, "32700-32799")
	base, tlsAddr := m.HTTPURL()+"/v3/voice/61", m.SIPTLSAddr().String()
	var devices struct{ Result []struct{ PK int64 } }
	getJSON(t, http.DefaultClient, base+"/users/"+strconv.FormatInt(demo.Users[0].PK, 10)+"/devices", demo.DeveloperKey, &devices)
	if len(devices.Result) != 1 {
		t.Fatalf("demo user 1001 has devices %+v", devices.Result)
	}
	code, body, err := apiCall("PATCH", base+"/devices/"+strconv.FormatInt(devices.Result[0].PK, 10), demo.DeveloperKey,
		map[string]any{"require_secure": true})
	if err != nil || code != 200 {
		t.Fatalf("PATCH require_secure: %d %s %v", code, body, err)
	}
	plainOverTLS := func(s *baresipSetup) {
		s.uriParams = ";transport=tls"
		s.config = []string{"sip_cafile " + cert}
	}
	alice := startBaresip(t, bin, tlsAddr, demo.Users[0], 32800, plainOverTLS)
	bob := startBaresip(t, bin, tlsAddr, demo.Users[1], 32900, plainOverTLS)
	tstest.WaitForWithin(t, 20*time.Second, "both phones registered over TLS", func() bool {
		return strings.Count(alice.out.String()+bob.out.String(), "200 OK (Switchboard)") >= 2
	})
	alice.command(t, "dial", "1002")
	tstest.WaitForWithin(t, 20*time.Second, "the call refused for want of SRTP", func() bool {
		return strings.Contains(alice.out.String(), "488 Not Acceptable Here: this device must use SRTP")
	})
	// bob's baresip logs each INVITE it reads ("using AF from sdp offer"): none came.
	if strings.Contains(bob.out.String(), "sdp offer") {
		t.Fatalf("bob's phone was called:\n%s", bob.out.String())
	}
}

// hearsTone reports whether what a baresip decoded (its sndfile recording in dir, a 16-bit
// mono WAV still being written) holds freq for a second.
func hearsTone(dir string, freq float64) bool {
	files, _ := filepath.Glob(filepath.Join(dir, "dump-*-dec.wav"))
	if len(files) != 1 {
		return false
	}
	b, err := os.ReadFile(files[0])
	if err != nil || len(b) < 44 || string(b[36:40]) != "data" {
		return false
	}
	rate := int(binary.LittleEndian.Uint32(b[24:28]))
	b = b[44:]
	samples := make([]float64, len(b)/2)
	for i := range samples {
		samples[i] = float64(int16(binary.LittleEndian.Uint16(b[2*i:])))
	}
	window := rate / 10
	hits := 0
	for i := 0; window > 0 && i+window <= len(samples); i += window {
		if toneRatio(samples[i:i+window], freq, float64(rate)) > 0.5 {
			hits++
		}
	}
	return hits >= 10
}

// ulawSamples decodes G.711 µ-law bytes.
func ulawSamples(p []byte) []float64 {
	out := make([]float64, len(p))
	for i, b := range p {
		out[i] = float64(media.UlawDecode(b))
	}
	return out
}

// toneRatio is the share of the samples' energy at freq (Goertzel): near 1 for a pure tone,
// about 2/len(samples) for noise such as encrypted bytes decoded as audio.
func toneRatio(samples []float64, freq, rate float64) float64 {
	coeff := 2 * math.Cos(2*math.Pi*freq/rate)
	var s1, s2, energy float64
	for _, x := range samples {
		s1, s2 = x+coeff*s1-s2, s1
		energy += x * x
	}
	if energy == 0 {
		return 0
	}
	power := s1*s1 + s2*s2 - coeff*s1*s2
	return power / (energy * float64(len(samples)) / 2)
}

// capturedPacket is one IPv4 TCP or UDP packet seen on the loopback interface.
type capturedPacket struct {
	udp              bool
	srcPort, dstPort uint16
	payload          []byte
}

type packetCapture struct {
	fd      int
	done    chan struct{}
	done2   chan struct{}
	mu      sync.Mutex
	packets []capturedPacket
	once    sync.Once
}

// startCapture records every IPv4 packet on lo (an AF_PACKET socket: the tests run as root)
// until stop.
func startCapture(t *testing.T) *packetCapture {
	t.Helper()
	const ethPAll = 0x0003
	proto := int(ethPAll<<8&0xff00 | ethPAll>>8) // htons
	fd, err := syscall.Socket(syscall.AF_PACKET, syscall.SOCK_DGRAM, proto)
	if err != nil {
		t.Skipf("packet capture needs CAP_NET_RAW: %v", err)
	}
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		syscall.Close(fd)
		t.Fatal(err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrLinklayer{Protocol: uint16(proto), Ifindex: lo.Index}); err != nil {
		syscall.Close(fd)
		t.Fatal(err)
	}
	tv := syscall.NsecToTimeval(int64(100 * time.Millisecond))
	if err := syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv); err != nil {
		syscall.Close(fd)
		t.Fatal(err)
	}
	c := &packetCapture{fd: fd, done: make(chan struct{})}
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		buf := make([]byte, 65536)
		for {
			select {
			case <-c.done:
				return
			default:
			}
			n, _, err := syscall.Recvfrom(fd, buf, 0)
			if err != nil {
				if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EINTR) {
					continue
				}
				return
			}
			if p, ok := parseIPv4(buf[:n]); ok {
				c.mu.Lock()
				c.packets = append(c.packets, p)
				c.mu.Unlock()
			}
		}
	}()
	c.done2 = stopped
	t.Cleanup(func() { c.stop() })
	return c
}

func (c *packetCapture) stop() []capturedPacket {
	c.once.Do(func() {
		close(c.done)
		<-c.done2
		syscall.Close(c.fd)
	})
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.packets
}

func parseIPv4(b []byte) (capturedPacket, bool) {
	if len(b) < 20 || b[0]>>4 != 4 {
		return capturedPacket{}, false
	}
	ihl := int(b[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(b[2:4]))
	if total > len(b) || ihl < 20 || total < ihl {
		return capturedPacket{}, false
	}
	l4 := b[ihl:total]
	switch b[9] {
	case 17: // UDP
		if len(l4) < 8 {
			return capturedPacket{}, false
		}
		return capturedPacket{udp: true, srcPort: binary.BigEndian.Uint16(l4[0:2]), dstPort: binary.BigEndian.Uint16(l4[2:4]),
			payload: bytes.Clone(l4[8:])}, true
	case 6: // TCP
		if len(l4) < 20 {
			return capturedPacket{}, false
		}
		off := int(l4[12]>>4) * 4
		if off < 20 || off > len(l4) {
			return capturedPacket{}, false
		}
		return capturedPacket{srcPort: binary.BigEndian.Uint16(l4[0:2]), dstPort: binary.BigEndian.Uint16(l4[2:4]),
			payload: bytes.Clone(l4[off:])}, true
	}
	return capturedPacket{}, false
}
