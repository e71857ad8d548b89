package media

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/pion/rtp"
)

var loopback = netip.MustParseAddr("127.0.0.1")

// phone is a test peer: a plain UDP socket that sends and receives RTP with pion/rtp.
type phone struct {
	t    *testing.T
	conn *net.UDPConn
	ssrc uint32
	seq  uint16
	ts   uint32
}

func newPhone(t *testing.T, ip netip.Addr) *phone {
	t.Helper()
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(netip.AddrPortFrom(ip, 0)))
	if err != nil {
		t.Fatalf("phone socket: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return &phone{t: t, conn: conn, ssrc: 0x11223344, seq: 1000, ts: 50000}
}

func (p *phone) addr() netip.AddrPort { return p.conn.LocalAddr().(*net.UDPAddr).AddrPort() }

// send sends one packet to the session and advances the phone's stream.
func (p *phone) send(to *Session, pt uint8, marker bool, payload []byte, samples uint32) {
	p.t.Helper()
	p.sendTo(to.LocalAddr(), &rtp.Packet{
		Header:  rtp.Header{Version: 2, PayloadType: pt, Marker: marker, SequenceNumber: p.seq, Timestamp: p.ts, SSRC: p.ssrc},
		Payload: payload,
	})
	p.seq++
	p.ts += samples
}

func (p *phone) sendTo(to netip.AddrPort, pkt *rtp.Packet) {
	p.t.Helper()
	b, err := pkt.Marshal()
	if err != nil {
		p.t.Fatalf("marshal: %v", err)
	}
	if _, err := p.conn.WriteToUDPAddrPort(b, to); err != nil {
		p.t.Fatalf("send: %v", err)
	}
}

// sendEvent sends one RFC 4733 packet at timestamp ts (the event's start).
func (p *phone) sendEvent(to *Session, pt uint8, ts uint32, ev TelephoneEvent, marker bool) {
	p.t.Helper()
	p.sendTo(to.LocalAddr(), &rtp.Packet{
		Header:  rtp.Header{Version: 2, PayloadType: pt, Marker: marker, SequenceNumber: p.seq, Timestamp: ts, SSRC: p.ssrc},
		Payload: ev.Marshal(),
	})
	p.seq++
}

// read waits for the next packet; the deadline only keeps a broken relay from hanging
// the test, it decides nothing.
func (p *phone) read() (*rtp.Packet, netip.AddrPort) {
	p.t.Helper()
	buf := make([]byte, 2048)
	p.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, from, err := p.conn.ReadFromUDPAddrPort(buf)
	if err != nil {
		p.t.Fatalf("phone %s: no packet: %v", p.addr(), err)
	}
	var pkt rtp.Packet
	if err := pkt.Unmarshal(buf[:n]); err != nil {
		p.t.Fatalf("phone got a packet that is not RTP: %v", err)
	}
	return &pkt, from
}

// The RTP ports of these tests are 15000-18999: a range of their own, apart from pbx's tests
// (10000-14999), baresip's (19000-19999) and tstest.FreePort's (20000 and up). The last 200
// even ports, from manySessionsPortMin, are TestPortsAndGoroutinesReturnAfterManySessions's.
const testPortMin, manySessionsPortMin = 15000, 18600

func newPool(t *testing.T) *PortPool {
	t.Helper()
	p, err := NewPortPool(testPortMin, manySessionsPortMin-1)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func newSession(t *testing.T, pool *PortPool, clock func() time.Time) *Session {
	t.Helper()
	s, err := NewSession(SessionConfig{Pool: pool, LocalIP: loopback, Clock: clock})
	if err != nil {
		t.Fatalf("NewSession: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// connect points s at ph with codec and telephone-event payload type event.
func connect(t *testing.T, s *Session, ph *phone, codec Codec, event int) {
	t.Helper()
	if err := s.SetRemote(&Remote{Addr: ph.addr(), Codec: codec, TelephoneEvent: event, Direction: SendRecv}); err != nil {
		t.Fatalf("SetRemote: %v", err)
	}
}

var (
	pcmu = Codec{Encoding: PCMU, PayloadType: 0}
	pcma = Codec{Encoding: PCMA, PayloadType: 8}
)
