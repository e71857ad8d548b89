package media

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
)

// DefaultInactivityTimeout is how long a session may go without RTP before Inactive
// reports it (RTP from a live phone never stops for that long, even in silence, unless the
// call is on hold).
const DefaultInactivityTimeout = 60 * time.Second

// ErrClosed is returned by operations on a closed session.
var ErrClosed = errors.New("media: session closed")

// SessionConfig says where a session binds and how it tells time.
type SessionConfig struct {
	Pool    *PortPool  // required: where the session's RTP port comes from
	LocalIP netip.Addr // required: the address to bind, and the one to put in SDP

	// InactivityTimeout is the silence after which Inactive reports true; 0 means
	// DefaultInactivityTimeout.
	InactivityTimeout time.Duration
	// Clock returns the current time; nil means time.Now. Tests inject a fake.
	Clock func() time.Time
}

// Stats are a session's counters since it was created.
type Stats struct {
	PacketsIn  uint64 // RTP packets accepted from the remote (audio, events and other types)
	BytesIn    uint64
	PacketsOut uint64 // RTP packets sent to the remote
	BytesOut   uint64
	// Dropped counts packets from an unexpected source: another IP than the remote's, or
	// another port once the session has latched.
	Dropped   uint64
	Malformed uint64 // datagrams that are not RTP version 2
	// Ignored counts accepted packets of a payload type that was not negotiated (comfort
	// noise, RTCP sent on the RTP port): neither played nor relayed.
	Ignored       uint64
	DigitsDropped uint64 // key presses lost because nobody read Digits
	// SRTPFailed counts packets of an SRTP session that failed authentication (wrong key,
	// tampered, replayed): dropped unread.
	SRTPFailed uint64
	LastPacket time.Time // when the last accepted packet arrived; zero if none yet
	Latched    bool      // whether the remote address was learnt from a packet
}

// remoteState is the immutable view of the far end the receive path and senders read; it
// is replaced whole (SetRemote, latching) so that they never need a lock for it.
type remoteState struct {
	expect  netip.AddrPort // the address the SDP gave
	target  netip.AddrPort // where we send: expect, or the latched source
	latched bool
	codec   Codec
	event   int // telephone-event payload type, or NoTelephoneEvent
	// receivesNothing: the remote's SDP said a=sendonly or a=inactive, so it asked for no
	// audio (a phone putting its call on hold): nothing is sent to it, played or relayed.
	receivesNothing bool

	// SRTP, when the remote's SDP carried a key: srtpIn decrypts what it sends (used by the
	// reader goroutine only), srtpOut encrypts what we send (used under sendMu only).
	remoteKey []byte
	srtpIn    *srtp.Context
	srtpOut   *srtp.Context
}

// canSend reports whether there is somewhere to send: not before SDP and not while the
// remote put the call on hold with c=0.0.0.0 or port 0, or asked for no audio with
// a=sendonly or a=inactive (RFC 3264 section 5.1: we must not send to it then).
func (r *remoteState) canSend() bool {
	return r != nil && !r.receivesNothing &&
		r.target.Addr().IsValid() && !r.target.Addr().IsUnspecified() && r.target.Port() != 0
}

// Session is the media of one call leg: one local UDP socket, the remote it talks to, and
// the outgoing RTP stream that bridged and played audio share. It is safe for concurrent use.
type Session struct {
	conn    *net.UDPConn
	pool    *PortPool
	port    int
	local   netip.AddrPort
	clock   func() time.Time
	timeout time.Duration
	started time.Time

	remote atomic.Pointer[remoteState]

	packetsIn, bytesIn, packetsOut, bytesOut   atomic.Uint64
	dropped, malformed, ignored, digitsDropped atomic.Uint64
	srtpFailed                                 atomic.Uint64
	lastPacket                                 atomic.Int64 // UnixNano of the clock; 0 = none
	idleSince                                  atomic.Int64 // UnixNano when the inactivity count (re)started

	digits   chan Digit
	detector digitDetector // owned by the reader goroutine
	// sentEvents: a telephone-event came from the remote, which sends its keys that way;
	// DetectInband ignores its tones from then on.
	sentEvents atomic.Bool

	// relayMu is held by the reader while it forwards a packet to the peer, so that a
	// Relay's Close waits for a forward in flight and none happens after it returns.
	relayMu sync.Mutex
	peer    *Session
	relay   *Relay

	sendMu  sync.Mutex // guards out and writes to conn
	out     outStream
	srtpBuf []byte // encrypted packet, under sendMu
	decBuf  []byte // decrypted packet, reader goroutine only

	keyMu    sync.Mutex
	localKey *Crypto       // our SDES key, made by SRTPKey
	keyOut   *srtp.Context // encrypts with localKey

	playing atomic.Int32 // Play calls running; relayed audio into this session yields to them

	listen listeners                   // Listen's sinks, by id
	sinks  atomic.Pointer[[]AudioSink] // the sinks the reader calls; nil when none
	sinkMu sync.Mutex                  // held by the reader while it calls sinks
	heard  []int16                     // decoded audio for the sinks, under sinkMu

	closeOnce  sync.Once
	closed     atomic.Bool
	closedCh   chan struct{}
	readerDone chan struct{}
}

// NewSession binds a UDP socket on cfg.LocalIP and a port from cfg.Pool and starts
// receiving. Call SetRemote once the far end's SDP is known, and Close when the leg ends.
func NewSession(cfg SessionConfig) (*Session, error) {
	if cfg.Pool == nil {
		return nil, errors.New("media: SessionConfig.Pool is required")
	}
	if !cfg.LocalIP.IsValid() {
		return nil, errors.New("media: SessionConfig.LocalIP is required")
	}
	if cfg.InactivityTimeout < 0 {
		return nil, fmt.Errorf("media: InactivityTimeout %s is negative", cfg.InactivityTimeout)
	}
	if cfg.InactivityTimeout == 0 {
		cfg.InactivityTimeout = DefaultInactivityTimeout
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	ip := cfg.LocalIP.Unmap()
	conn, port, err := cfg.Pool.listen(ip)
	if err != nil {
		return nil, err
	}
	s := &Session{
		conn:       conn,
		pool:       cfg.Pool,
		port:       port,
		local:      netip.AddrPortFrom(ip, uint16(port)),
		clock:      cfg.Clock,
		timeout:    cfg.InactivityTimeout,
		digits:     make(chan Digit, 32),
		closedCh:   make(chan struct{}),
		readerDone: make(chan struct{}),
	}
	s.started = s.clock()
	s.idleSince.Store(s.started.UnixNano())
	s.out.init()
	go s.readLoop()
	return s, nil
}

// LocalAddr is the address and port the session receives on: the ones to put in SDP.
func (s *Session) LocalAddr() netip.AddrPort { return s.local }

// Codec is the negotiated codec, the zero Codec before SetRemote.
func (s *Session) Codec() Codec {
	if r := s.remote.Load(); r != nil {
		return r.codec
	}
	return Codec{}
}

// TelephoneEvent is the negotiated telephone-event payload type, or NoTelephoneEvent.
func (s *Session) TelephoneEvent() int {
	if r := s.remote.Load(); r != nil {
		return r.event
	}
	return NoTelephoneEvent
}

// RemoteAddr is where the session sends: the SDP's address until a packet latches it.
func (s *Session) RemoteAddr() netip.AddrPort {
	if r := s.remote.Load(); r != nil {
		return r.target
	}
	return netip.AddrPort{}
}

// SRTPKey is the session's own SRTP key for suite (AES_CM_128_HMAC_SHA1_80 or _32), made
// on first use: the key to offer (BuildSecureOffer) or answer with (AnswerSecure). It
// changes only when another suite is asked for. The session encrypts with it once SetRemote
// is given the far end's key.
func (s *Session) SRTPKey(suite CryptoSuite) (*Crypto, error) {
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	if s.localKey != nil && s.localKey.Suite == suite {
		k := *s.localKey
		return &k, nil
	}
	key, err := newCrypto(1, suite)
	if err != nil {
		return nil, err
	}
	out, err := key.srtpContext(false)
	if err != nil {
		return nil, err
	}
	s.localKey, s.keyOut = key, out
	k := *key
	return &k, nil
}

// SetRemote points the session at the far end that r (a parsed SDP) describes: its
// address, codec, telephone-event payload type and direction: while r says a=sendonly or
// a=inactive the session sends it nothing (no played, relayed or event packets). With r.Crypto (RTP/SAVP) every packet
// is SRTP both ways from then on: what arrives is decrypted with the remote's key (and
// dropped when it fails authentication), what is sent is encrypted with SRTPKey's, so a
// bridge between an SRTP leg and a plain one decrypts on one side and encrypts on the
// other. Without r.Crypto the session is plain RTP. Call it again for a re-INVITE; the
// latched address survives when the SDP address is unchanged. For a phone behind NAT whose
// SDP carries a private address, the engine may set r.Addr's IP to the signalling source
// first: latching accepts any port from the expected IP.
func (s *Session) SetRemote(r *Remote) error {
	if s.closed.Load() {
		return ErrClosed
	}
	if r == nil || !r.Codec.Valid() {
		return errors.New("media: SetRemote needs a negotiated PCMU or PCMA codec")
	}
	if r.Codec.PayloadType > 127 {
		return fmt.Errorf("media: payload type %d is out of range", r.Codec.PayloadType)
	}
	if r.TelephoneEvent != NoTelephoneEvent &&
		(r.TelephoneEvent < 0 || r.TelephoneEvent > 127 || r.TelephoneEvent == int(r.Codec.PayloadType)) {
		return fmt.Errorf("media: telephone-event payload type %d is invalid", r.TelephoneEvent)
	}
	expect := netip.AddrPortFrom(r.Addr.Addr().Unmap(), r.Addr.Port())
	next := &remoteState{expect: expect, target: expect, codec: r.Codec, event: r.TelephoneEvent,
		receivesNothing: r.Direction == SendOnly || r.Direction == Inactive}
	if r.Crypto != nil {
		if _, err := s.SRTPKey(r.Crypto.Suite); err != nil {
			return err
		}
		s.keyMu.Lock()
		next.srtpOut = s.keyOut
		s.keyMu.Unlock()
		next.remoteKey = r.Crypto.Key
		if old := s.remote.Load(); old != nil && old.srtpIn != nil && string(old.remoteKey) == string(r.Crypto.Key) {
			next.srtpIn = old.srtpIn // the same key: keep its rollover and replay state
		} else {
			in, err := r.Crypto.srtpContext(true)
			if err != nil {
				return err
			}
			next.srtpIn = in
		}
	}
	for {
		old := s.remote.Load()
		if old != nil && old.latched && old.expect == expect {
			next.target, next.latched = old.target, true
		}
		if s.remote.CompareAndSwap(old, next) {
			break
		}
	}
	s.idleSince.Store(s.clock().UnixNano())
	return nil
}

// Digits delivers the key presses the remote sends as RFC 4733 telephone-events, one per
// press, whether or not the session is bridged; with DetectInband, also those it sends as
// tones. It is closed when the session closes. If nobody reads, presses beyond a buffer of
// 32 are dropped and counted.
func (s *Session) Digits() <-chan Digit { return s.digits }

// Stats returns the session's counters.
func (s *Session) Stats() Stats {
	st := Stats{
		PacketsIn:     s.packetsIn.Load(),
		BytesIn:       s.bytesIn.Load(),
		PacketsOut:    s.packetsOut.Load(),
		BytesOut:      s.bytesOut.Load(),
		Dropped:       s.dropped.Load(),
		Malformed:     s.malformed.Load(),
		Ignored:       s.ignored.Load(),
		DigitsDropped: s.digitsDropped.Load(),
		SRTPFailed:    s.srtpFailed.Load(),
	}
	if ns := s.lastPacket.Load(); ns != 0 {
		st.LastPacket = time.Unix(0, ns)
	}
	if r := s.remote.Load(); r != nil {
		st.Latched = r.latched
	}
	return st
}

// Inactive reports whether no RTP has arrived for the inactivity timeout, counted from the
// last accepted packet, or from SetRemote (or creation) if none came since. The engine calls
// it periodically and hangs up a leg whose phone went away; it should not while the leg is
// on hold with a=inactive, when silence is expected.
func (s *Session) Inactive() bool {
	since := s.idleSince.Load()
	if last := s.lastPacket.Load(); last > since {
		since = last
	}
	return s.clock().Sub(time.Unix(0, since)) >= s.timeout
}

// Close stops the session: it ends any bridge it is in, stops receiving, closes Digits and
// returns the port to the pool. It is safe to call more than once.
func (s *Session) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		close(s.closedCh)
		s.relayMu.Lock()
		r := s.relay
		s.relayMu.Unlock()
		if r != nil {
			r.Close()
		}
		s.sendMu.Lock() // no Play write is in flight once we hold it, and none starts after
		s.conn.Close()
		s.sendMu.Unlock()
		<-s.readerDone
		close(s.digits)
		s.pool.release(s.port)
	})
	return nil
}

// readLoop receives until the socket is closed. Bridged audio is forwarded from here, in
// the receiving goroutine, so that a relayed packet costs one read and one write and no
// hand-off between goroutines.
func (s *Session) readLoop() {
	defer close(s.readerDone)
	buf := make([]byte, maxDatagram)
	var pkt rtp.Packet
	for {
		n, src, err := s.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if s.closed.Load() || errors.Is(err, net.ErrClosed) {
				return
			}
			continue // a transient error (e.g. an ICMP report) on a UDP socket is not fatal
		}
		s.receive(buf[:n], src, &pkt)
	}
}

// receive handles one datagram from src.
func (s *Session) receive(data []byte, src netip.AddrPort, pkt *rtp.Packet) {
	if err := pkt.Unmarshal(data); err != nil || pkt.Version != 2 {
		s.malformed.Add(1)
		return
	}
	src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
	if r := s.remote.Load(); r != nil && r.srtpIn != nil {
		// Authenticated before anything else, latching included: a forged packet from the
		// right IP cannot steer where we send.
		if src.Addr() != r.expect.Addr() || r.latched && src != r.target {
			s.dropped.Add(1)
			return
		}
		dec, err := r.srtpIn.DecryptRTP(s.decBuf[:0], data, nil)
		if err != nil {
			s.srtpFailed.Add(1)
			return
		}
		s.decBuf = dec[:0]
		if err := pkt.Unmarshal(dec); err != nil {
			s.malformed.Add(1)
			return
		}
	}
	r, ok := s.admit(src)
	if !ok {
		s.dropped.Add(1)
		return
	}
	s.packetsIn.Add(1)
	s.bytesIn.Add(uint64(len(data)))
	s.lastPacket.Store(s.clock().UnixNano())

	switch {
	case pkt.PayloadType == r.codec.PayloadType:
		s.hear(pkt.Payload, r.codec.Encoding) // before forward, which may transcode in place
		s.forward(pkt, r, false)
	case r.event != NoTelephoneEvent && int(pkt.PayloadType) == r.event:
		s.sentEvents.Store(true)
		for _, d := range s.detector.observe(pkt.Timestamp, pkt.Payload) {
			s.deliverDigit(d)
		}
		s.forward(pkt, r, true)
	default:
		s.ignored.Add(1)
	}
}

// deliverDigit hands a key press to Digits, or counts it dropped when nobody read the
// buffer's worth before it; reader goroutine only (Close closes digits after it ends).
func (s *Session) deliverDigit(d Digit) {
	select {
	case s.digits <- d:
	default:
		s.digitsDropped.Add(1)
	}
}

// admit applies symmetric RTP: packets must come from the IP the SDP named; the first one
// latches its source (any port) as the address we send to, and later packets must come
// from exactly that address. It returns the remote state to use for the packet.
func (s *Session) admit(src netip.AddrPort) (*remoteState, bool) {
	for {
		r := s.remote.Load()
		if r == nil || src.Addr() != r.expect.Addr() {
			return nil, false
		}
		if r.latched {
			return r, src == r.target
		}
		next := *r
		next.target, next.latched = src, true
		if s.remote.CompareAndSwap(r, &next) {
			return &next, true
		}
	}
}

// forward hands a received packet to the bridged peer, if any.
func (s *Session) forward(pkt *rtp.Packet, from *remoteState, isEvent bool) {
	s.relayMu.Lock()
	defer s.relayMu.Unlock()
	if s.peer == nil {
		return
	}
	if isEvent {
		s.peer.sendRelayedEvent(pkt)
	} else {
		s.peer.sendRelayedAudio(pkt, from.codec.Encoding)
	}
}

// sendRelayedAudio sends audio from the other leg, transcoded to this leg's codec if the
// codecs differ. Audio yields to Play: an announcement to one leg mutes the other leg's
// voice for its duration.
func (s *Session) sendRelayedAudio(pkt *rtp.Packet, from Encoding) {
	if s.playing.Load() > 0 {
		return
	}
	r := s.remote.Load()
	if !r.canSend() {
		return
	}
	transcodeInPlace(pkt.Payload, from, r.codec.Encoding)
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	seq, ts, marker := s.out.mapRelayed(pkt, s.clock())
	s.writeLocked(r, r.codec.PayloadType, seq, ts, marker || pkt.Marker, pkt.Payload)
}

// sendRelayedEvent sends a telephone-event from the other leg with this leg's event
// payload type; a leg that did not negotiate telephone-event gets none.
func (s *Session) sendRelayedEvent(pkt *rtp.Packet) {
	r := s.remote.Load()
	if !r.canSend() || r.event == NoTelephoneEvent {
		return
	}
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	seq, ts, marker := s.out.mapRelayed(pkt, s.clock())
	s.writeLocked(r, uint8(r.event), seq, ts, marker || pkt.Marker, pkt.Payload)
}

// SendDigit sends key d to the remote as one RFC 4733 telephone-event (a press of
// digitSamples, its three end packets after it) and reports whether it could: false when
// the remote negotiated no telephone-event, asked for no audio, or the session is closed.
// The packets go out at once, as a relay of a key that was already pressed.
func (s *Session) SendDigit(d Digit) bool {
	code, err := EventForDigit(d)
	if err != nil {
		return false
	}
	r := s.remote.Load()
	if !r.canSend() || r.event == NoTelephoneEvent {
		return false
	}
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	if s.closed.Load() {
		return false
	}
	now := s.clock()
	seq, ts := s.out.startEvent(now)
	for i := range 6 {
		if i > 0 {
			seq++
			s.out.advance(seq, ts, now)
		}
		ev := TelephoneEvent{Event: code, Volume: 10, Duration: uint16(min(i+1, 4) * digitSamples / 4), End: i >= 3}
		s.writeLocked(r, uint8(r.event), seq, ts, i == 0, ev.Marshal())
	}
	return true
}

// digitSamples is how long a relayed key press lasts: 100 ms, the usual minimum of DTMF
// receivers.
const digitSamples = SampleRate / 10

// sendFrame sends one locally generated 20 ms frame (Play).
func (s *Session) sendFrame(payload []byte) error {
	r := s.remote.Load()
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	if s.closed.Load() {
		return ErrClosed
	}
	if !r.canSend() {
		return nil // on hold or not yet answered: the frame is due now, and now it has nowhere to go
	}
	seq, ts, marker := s.out.nextLocal(len(payload), s.clock())
	s.writeLocked(r, r.codec.PayloadType, seq, ts, marker, payload)
	return nil
}

// writeLocked marshals and sends one packet of our outgoing stream; sendMu is held.
func (s *Session) writeLocked(r *remoteState, pt uint8, seq uint16, ts uint32, marker bool, payload []byte) {
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, Marker: marker, PayloadType: pt, SequenceNumber: seq, Timestamp: ts,
		SSRC: s.out.ssrc}, Payload: payload}
	n, err := pkt.MarshalTo(s.out.buf[:])
	if err != nil {
		return // a payload too large for one datagram; it came from a peer, so drop it
	}
	wire := s.out.buf[:n]
	if r.srtpOut != nil {
		if wire, err = r.srtpOut.EncryptRTP(s.srtpBuf[:0], wire, nil); err != nil {
			return
		}
		s.srtpBuf = wire[:0]
	}
	n = len(wire)
	if _, err := s.conn.WriteToUDPAddrPort(wire, r.target); err != nil {
		return // UDP: a failed send is a lost packet, which RTP tolerates
	}
	s.packetsOut.Add(1)
	s.bytesOut.Add(uint64(n))
}
