package pbx_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"
	"github.com/prometheus/client_golang/prometheus"

	"switchboard"
	"switchboard/internal/tstest"
	"switchboard/media"
	"switchboard/pbx"
	sbsip "switchboard/sip"
	"switchboard/store"
	"switchboard/store/storetest"
	"switchboard/webhook"
)

// The engine's RTP ports in these tests: a range of their own, apart from media's tests
// (15000-18999), baresip's (19000-19999) and tstest.FreePort's (20000 and up).
const rtpPortMin, rtpPortMax = 10000, 14999

func quietLogger() *slog.Logger {
	if os.Getenv("PBX_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// env is a running PBX: the SIP server on 127.0.0.1 (UDP) and the engine, on a real SQLite
// store, with one account.
type env struct {
	t       *testing.T
	db      *store.DB
	srv     *sbsip.Server
	eng     *pbx.Engine
	sealer  *webhook.Sealer
	account *switchboard.Account
	sipAddr string
	// stopEngine ends the engine's Run and waits for it to return; the SIP server runs on.
	stopEngine func()
}

func newEnv(t *testing.T, mutate ...func(*pbx.Config)) *env {
	t.Helper()
	return newEnvOn(t, storetest.NewSQLite(t), mutate...)
}

func newEnvOn(t *testing.T, db *store.DB, mutate ...func(*pbx.Config)) *env {
	t.Helper()
	return newEnvSIP(t, db, nil, mutate...)
}

// newEnvSIP is newEnvOn with the SIP server's config changed by sipMutate.
func newEnvSIP(t *testing.T, db *store.DB, sipMutate func(*sbsip.Config), mutate ...func(*pbx.Config)) *env {
	t.Helper()
	sipCfg := sbsip.Config{Store: db, UDPAddr: "127.0.0.1:0", Logger: quietLogger(),
		Registry: prometheus.NewRegistry()}
	if sipMutate != nil {
		sipMutate(&sipCfg)
	}
	srv, err := sbsip.NewServer(sipCfg)
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := webhook.NewSealer(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	cfg := pbx.Config{Store: db, SIP: srv, Sealer: sealer, Logger: quietLogger(),
		RTPPortMin: rtpPortMin, RTPPortMax: rtpPortMax}
	for _, m := range mutate {
		m(&cfg)
	}
	eng, err := pbx.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	eng.Attach()
	ctx, cancel := context.WithCancel(context.Background())
	sipDone := make(chan error, 1)
	go func() { sipDone <- srv.Run(ctx) }()
	select {
	case <-srv.Ready():
	case err := <-sipDone:
		cancel()
		t.Fatalf("SIP server: %v", err)
	}
	// The engine stops on its own context, before the SIP server, as cmd/switchboard stops them.
	engCtx, stopEngine := context.WithCancel(ctx)
	engDone := make(chan error, 1)
	go func() { engDone <- eng.Run(engCtx) }()
	var engStopped sync.Once
	stop := func() { engStopped.Do(func() { stopEngine(); <-engDone }) }
	t.Cleanup(func() {
		stop()
		cancel()
		<-sipDone
	})
	acct := &switchboard.Account{Name: "Acme"}
	if err := db.CreateAccount(context.Background(), acct); err != nil {
		t.Fatal(err)
	}
	return &env{t: t, db: db, srv: srv, eng: eng, sealer: sealer, account: acct, sipAddr: srv.UDPAddr().String(),
		stopEngine: stop}
}

func (e *env) user(ext string, mutate ...func(*switchboard.User)) *switchboard.User {
	e.t.Helper()
	u := &switchboard.User{AccountID: e.account.ID, Extension: ext, FirstName: "User", LastName: ext}
	for _, m := range mutate {
		m(u)
	}
	if err := e.db.CreateUser(context.Background(), u); err != nil {
		e.t.Fatal(err)
	}
	return u
}

func (e *env) device(u *switchboard.User, username, password string) {
	e.t.Helper()
	d := &switchboard.Device{AccountID: e.account.ID, UserID: u.ID, SIPUsername: username}
	d.SetSIPPassword(password)
	if err := e.db.CreateDevice(context.Background(), d); err != nil {
		e.t.Fatal(err)
	}
}

// trunk provisions the account's trunk pointing at the carrier.
func (e *env) trunk(c *carrier, mutate ...func(*switchboard.Trunk)) *switchboard.Trunk {
	e.t.Helper()
	host, port, _ := net.SplitHostPort(c.addr)
	var p int
	fmt.Sscan(port, &p)
	tr := &switchboard.Trunk{AccountID: e.account.ID, Name: "Carrier", Host: host, Port: p, Transport: "udp",
		Username: c.username, SealedPassword: e.sealer.Seal(c.password), CallerIDNumber: "+15550009999"}
	for _, m := range mutate {
		m(tr)
	}
	if err := e.db.CreateTrunk(context.Background(), tr); err != nil {
		e.t.Fatal(err)
	}
	e.eng.InvalidateTrunks()
	return tr
}

// events returns the names of the account's stored events of one call, in order.
func (e *env) callEvents(callID string) []*switchboard.Event {
	e.t.Helper()
	evs, err := e.db.ListEvents(context.Background(), e.account.ID, 0, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []*switchboard.Event
	for _, ev := range evs {
		if ev.CallID == callID {
			out = append(out, ev)
		}
	}
	return out
}

func names(evs []*switchboard.Event) []string {
	out := make([]string, len(evs))
	for i, ev := range evs {
		out[i] = ev.Name
	}
	return out
}

// endedRecord waits for the call's record to be closed and returns it.
func (e *env) endedRecord(direction string) *switchboard.CallRecord {
	e.t.Helper()
	return e.endedRecordOf(e.account.ID, direction)
}

// waitIdle waits until the engine has no call left.
func (e *env) waitIdle() {
	e.t.Helper()
	tstest.WaitFor(e.t, "the engine's calls to end", func() bool { return e.eng.ActiveCalls() == 0 })
}

// ua is a SIP user agent written for the tests with sipgo: a phone or a carrier. It
// listens on its own UDP port and sends from it.
type ua struct {
	t    *testing.T
	addr string
	pc   net.PacketConn // its socket (vanish closes it)
	ua   *sipgo.UserAgent
	cli  *sipgo.Client
	dsc  *sipgo.DialogServerCache
	dcc  *sipgo.DialogClientCache

	incoming chan *inbound
	hookMu   sync.Mutex
	// onInvite, when set, answers INVITEs itself (the carrier's digest challenge).
	onInvite func(req *sip.Request, tx sip.ServerTransaction) bool
	// onBye, when set, sees every BYE before the UA answers it.
	onBye func(req *sip.Request)
	// notifies gets the body of every NOTIFY the UA receives (a transfer's sipfrag).
	notifies chan string
	// infos gets the body of every INFO the UA receives (a relayed key).
	infos chan string
}

func (u *ua) setOnBye(f func(req *sip.Request)) {
	u.hookMu.Lock()
	u.onBye = f
	u.hookMu.Unlock()
}

func (u *ua) setOnInvite(f func(req *sip.Request, tx sip.ServerTransaction) bool) {
	u.hookMu.Lock()
	u.onInvite = f
	u.hookMu.Unlock()
}

// inbound is an INVITE a test UA received.
type inbound struct {
	req   *sip.Request
	dlg   *sipgo.DialogServerSession
	rtp   *rtpPeer
	final chan struct{} // closed once the test has sent a final response
	once  sync.Once
}

func (in *inbound) finalSent() { in.once.Do(func() { close(in.final) }) }

// reject answers the INVITE with a final failure.
func (in *inbound) reject(t *testing.T, code int, reason string) {
	t.Helper()
	go func() {
		_ = in.dlg.Respond(code, reason, nil)
		in.finalSent()
	}()
}

func newUA(t *testing.T, ip, user string) *ua {
	t.Helper()
	pc, err := net.ListenPacket("udp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	agent, err := sipgo.NewUA(sipgo.WithUserAgent(user), sipgo.WithUserAgentHostname(ip),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(quietLogger())),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(quietLogger())))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(agent, sipgo.WithServerLogger(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	cli, err := sipgo.NewClient(agent, sipgo.WithClientConnectionAddr(addr), sipgo.WithClientLogger(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	host, portS, _ := net.SplitHostPort(addr)
	var port int
	fmt.Sscan(portS, &port)
	contact := sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: host, Port: port}}
	u := &ua{t: t, addr: addr, pc: pc, ua: agent, cli: cli,
		dsc:      sipgo.NewDialogServerCache(cli, contact),
		dcc:      sipgo.NewDialogClientCache(cli, contact),
		incoming: make(chan *inbound, 8), notifies: make(chan string, 16), infos: make(chan string, 16)}
	srv.OnInfo(func(req *sip.Request, tx sip.ServerTransaction) {
		select {
		case u.infos <- string(req.Body()):
		default:
		}
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	srv.OnNotify(func(req *sip.Request, tx sip.ServerTransaction) {
		select {
		case u.notifies <- string(req.Body()):
		default:
		}
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	srv.OnInvite(func(req *sip.Request, tx sip.ServerTransaction) {
		u.hookMu.Lock()
		hook := u.onInvite
		u.hookMu.Unlock()
		if hook != nil && hook(req, tx) {
			return
		}
		if to, _ := req.To().Params.Get("tag"); to != "" {
			// A re-INVITE (hold): accept with the same media.
			_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", req.Body()))
			return
		}
		dlg, err := u.dsc.ReadInvite(req, tx)
		if err != nil {
			_ = tx.Respond(sip.NewResponseFromRequest(req, 400, "Bad", nil))
			return
		}
		in := &inbound{req: req, dlg: dlg, final: make(chan struct{})}
		u.incoming <- in
		// sipgo ends the transaction when the handler returns: wait for the test's answer.
		select {
		case <-in.final:
		case <-dlg.Context().Done():
		case <-time.After(3 * tstest.DefaultWait):
		}
	})
	srv.OnAck(func(req *sip.Request, tx sip.ServerTransaction) {
		_ = u.dsc.ReadAck(req, tx)
	})
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		u.hookMu.Lock()
		hook := u.onBye
		u.hookMu.Unlock()
		if hook != nil {
			hook(req)
		}
		if err := u.dsc.ReadBye(req, tx); err == nil {
			return
		}
		if err := u.dcc.ReadBye(req, tx); err != nil {
			_ = tx.Respond(sip.NewResponseFromRequest(req, 481, "No dialog", nil))
		}
	})
	go func() { _ = srv.ServeUDP(pc) }()
	// ServeUDP registers the socket asynchronously; the client sends from it only once it is.
	tstest.WaitFor(t, "the test UA to listen", func() bool {
		c, err := agent.TransportLayer().GetConnection("udp", addr)
		return err == nil && c != nil
	})
	t.Cleanup(func() {
		pc.Close()
		cli.Close()
		agent.Close()
	})
	return u
}

// register registers the phone's contact with the PBX, answering the digest challenge.
func (u *ua) register(e *env, username, password string) {
	u.t.Helper()
	var recipient sip.Uri
	if err := sip.ParseUri("sip:"+username+"@"+e.sipAddr, &recipient); err != nil {
		u.t.Fatal(err)
	}
	req := sip.NewRequest(sip.REGISTER, recipient)
	req.AppendHeader(sip.NewHeader("Contact", "<sip:"+username+"@"+u.addr+">"))
	req.AppendHeader(sip.NewHeader("Expires", "600"))
	ctx, cancel := context.WithTimeout(context.Background(), tstest.DefaultWait)
	defer cancel()
	res, err := u.cli.Do(ctx, req, sipgo.ClientRequestRegisterBuild)
	if err != nil {
		u.t.Fatal(err)
	}
	if res.StatusCode == 401 {
		res, err = u.cli.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: username, Password: password})
		if err != nil {
			u.t.Fatal(err)
		}
	}
	if res.StatusCode != 200 {
		u.t.Fatalf("REGISTER %s: %d %s", username, res.StatusCode, res.Reason)
	}
}

// call is a call the UA placed.
type call struct {
	dlg *sipgo.DialogClientSession
	rtp *rtpPeer
	err chan error // WaitAnswer's result
	res chan *sip.Response
}

// dial sends an INVITE to the PBX for target (an extension or number), offering codecs
// (payload types, e.g. 0 and 8), with digest credentials for the 407.
func (u *ua) dial(e *env, target, username, password string, codecs ...uint8) *call {
	u.t.Helper()
	return u.dialCtx(context.Background(), e, target, username, password, codecs...)
}

// dialCtx is dial with a context whose end CANCELs the INVITE.
func (u *ua) dialCtx(ctx context.Context, e *env, target, username, password string, codecs ...uint8) *call {
	u.t.Helper()
	peer := newRTPPeer(u.t, strings.Split(u.addr, ":")[0])
	return u.dialOffer(ctx, e, target, username, password, peer, peer.offer(codecs...))
}

// dialOffer is dialCtx with the SDP offer given (for peer's socket).
func (u *ua) dialOffer(ctx context.Context, e *env, target, username, password string, peer *rtpPeer, offer []byte) *call {
	u.t.Helper()
	var recipient sip.Uri
	if err := sip.ParseUri("sip:"+target+"@"+e.sipAddr, &recipient); err != nil {
		u.t.Fatal(err)
	}
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: username, Host: strings.Split(u.addr, ":")[0]},
		Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(12))
	dlg, err := u.dcc.Invite(context.Background(), recipient, offer, from,
		sip.NewHeader("Content-Type", "application/sdp"))
	if err != nil {
		u.t.Fatal(err)
	}
	c := &call{dlg: dlg, rtp: peer, err: make(chan error, 1), res: make(chan *sip.Response, 16)}
	go func() {
		c.err <- dlg.WaitAnswer(ctx, sipgo.AnswerOptions{Username: username, Password: password,
			OnResponse: func(r *sip.Response) error {
				select {
				case c.res <- r:
				default:
				}
				return nil
			}})
	}()
	return c
}

// answeredUnacked waits for the call to be answered without ACKing the 200.
func (c *call) answeredUnacked(t *testing.T) {
	t.Helper()
	select {
	case err := <-c.err:
		if err != nil {
			t.Fatalf("call not answered: %v", err)
		}
	case <-time.After(tstest.DefaultWait):
		t.Fatal("call not answered in time")
	}
}

// answered waits for the call to be answered, ACKs, and points RTP at the PBX's answer.
func (c *call) answered(t *testing.T) {
	t.Helper()
	c.answeredUnacked(t)
	if err := c.dlg.Ack(context.Background()); err != nil {
		t.Fatal(err)
	}
	c.rtp.setRemote(t, c.dlg.InviteResponse.Body())
}

// finalCode waits for the call to fail and returns the final status code.
func (c *call) finalCode(t *testing.T) int {
	t.Helper()
	select {
	case err := <-c.err:
		var dr *sipgo.ErrDialogResponse
		if errors.As(err, &dr) {
			return dr.Res.StatusCode
		}
		if err == nil {
			t.Fatalf("call answered; want a failure")
		}
		if c.dlg.InviteResponse != nil {
			return c.dlg.InviteResponse.StatusCode
		}
		t.Fatalf("call failed without a response: %v", err)
	case <-time.After(tstest.DefaultWait):
		t.Fatal("no final response in time")
	}
	return 0
}

// next waits for the next INVITE the UA receives.
func (u *ua) next() *inbound {
	u.t.Helper()
	select {
	case in := <-u.incoming:
		return in
	case <-time.After(tstest.DefaultWait):
		u.t.Fatal("no INVITE arrived")
	}
	return nil
}

// answer answers an incoming INVITE with an offer of codecs, in the background (the 200
// is retransmitted until the ACK).
func (in *inbound) answer(t *testing.T, ip string, codecs ...uint8) {
	t.Helper()
	in.rtp = newRTPPeer(t, ip)
	in.rtp.setRemote(t, in.req.Body())
	if len(codecs) > 0 {
		in.rtp.codec = codecs[0] // what we answer is what we send
	}
	body := in.rtp.offer(codecs...)
	go func() {
		_ = in.dlg.RespondSDP(body)
		in.finalSent()
	}()
}

func (in *inbound) ring(t *testing.T) {
	t.Helper()
	if err := in.dlg.Respond(180, "Ringing", nil); err != nil {
		t.Fatal(err)
	}
}

// ended waits for the dialog to end (BYE or CANCEL from the PBX).
func endedWithin(t *testing.T, ctx context.Context, what string) {
	t.Helper()
	select {
	case <-ctx.Done():
	case <-time.After(tstest.DefaultWait):
		t.Fatalf("%s: dialog did not end", what)
	}
}

// rtpPeer is a test phone's RTP socket.
type rtpPeer struct {
	conn   *net.UDPConn
	remote netip.AddrPort
	codec  uint8
	seq    uint16
	ts     uint32
	ssrc   uint32
	mu     sync.Mutex
}

func newRTPPeer(t *testing.T, ip string) *rtpPeer {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &rtpPeer{conn: conn, ssrc: 0x1234abcd, seq: 100, ts: 1000}
}

func (p *rtpPeer) port() int { return p.conn.LocalAddr().(*net.UDPAddr).Port }

// offer is an SDP body for the peer's socket with the codecs (default PCMU, PCMA) and
// telephone-event.
func (p *rtpPeer) offer(codecs ...uint8) []byte {
	if len(codecs) == 0 {
		codecs = []uint8{0, 8}
	}
	ip := p.conn.LocalAddr().(*net.UDPAddr).IP.String()
	var pts, maps []string
	for _, c := range codecs {
		pts = append(pts, fmt.Sprint(c))
		switch c {
		case 0:
			maps = append(maps, "a=rtpmap:0 PCMU/8000")
		case 8:
			maps = append(maps, "a=rtpmap:8 PCMA/8000")
		case 18:
			maps = append(maps, "a=rtpmap:18 G729/8000")
		}
	}
	pts = append(pts, "101")
	s := "v=0\r\no=- 1 1 IN IP4 " + ip + "\r\ns=-\r\nc=IN IP4 " + ip + "\r\nt=0 0\r\n" +
		fmt.Sprintf("m=audio %d RTP/AVP %s\r\n", p.port(), strings.Join(pts, " ")) +
		strings.Join(maps, "\r\n") + "\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n"
	return []byte(s)
}

// setRemote reads the PBX's SDP: where to send and which codec it chose.
func (p *rtpPeer) setRemote(t *testing.T, body []byte) {
	t.Helper()
	r, err := media.ParseSDP(body)
	if err != nil {
		t.Fatalf("PBX SDP: %v\n%s", err, body)
	}
	p.mu.Lock()
	p.remote, p.codec = r.Addr, r.Codec.PayloadType
	p.mu.Unlock()
}

func (p *rtpPeer) send(t *testing.T, payload []byte) {
	t.Helper()
	p.mu.Lock()
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: p.codec, SequenceNumber: p.seq, Timestamp: p.ts,
		SSRC: p.ssrc}, Payload: payload}
	p.seq++
	p.ts += uint32(len(payload))
	remote := p.remote
	p.mu.Unlock()
	b, err := pkt.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.conn.WriteToUDPAddrPort(b, remote); err != nil {
		t.Fatal(err)
	}
}

// recv returns the next RTP packet, or nil after the timeout.
func (p *rtpPeer) recv(timeout time.Duration) *rtp.Packet {
	buf := make([]byte, 1500)
	_ = p.conn.SetReadDeadline(time.Now().Add(timeout))
	n, _, err := p.conn.ReadFromUDPAddrPort(buf)
	if err != nil {
		return nil
	}
	var pkt rtp.Packet
	if pkt.Unmarshal(buf[:n]) != nil {
		return nil
	}
	return &pkt
}

// expectAudio sends frames from `from` until `to` receives one whose payload is want,
// which proves the relay (and transcoding) end to end. Packets are sent every 20 ms like a
// phone, for at most tstest.DefaultWait.
func expectAudio(t *testing.T, from, to *rtpPeer, sent, want []byte) {
	t.Helper()
	for deadline := time.Now().Add(tstest.DefaultWait); time.Now().Before(deadline); {
		from.send(t, sent)
		if pkt := to.recv(20 * time.Millisecond); pkt != nil {
			if string(pkt.Payload) == string(want) {
				return
			}
		}
	}
	t.Fatalf("the other leg did not receive the expected audio within %v", tstest.DefaultWait)
}

// samples is a recognisable frame: a ramp, encoded as µ-law.
func ulawFrame(seed int) []byte {
	b := make([]byte, media.FrameSamples)
	for i := range b {
		b[i] = media.UlawEncode(int16((i*97 + seed*31) % 8000 * 3))
	}
	return b
}

// transcodeUlawToAlaw is what the bridge must deliver to an A-law leg for a µ-law frame.
func transcodeUlawToAlaw(in []byte) []byte {
	out := make([]byte, len(in))
	for i, b := range in {
		out[i] = media.AlawEncode(media.UlawDecode(b))
	}
	return out
}

// carrier is a SIP trunk peer written for the tests: it challenges INVITEs with digest
// (MD5, as carriers commonly do) and records what it accepted.
type carrier struct {
	*ua
	username, password string
	mu                 sync.Mutex
	authorized         int
}

const carrierRealm = "carrier.test"

func newCarrier(t *testing.T, ip, username, password string) *carrier {
	c := &carrier{ua: newUA(t, ip, "carrier"), username: username, password: password}
	c.setOnInvite(func(req *sip.Request, tx sip.ServerTransaction) bool {
		if to, _ := req.To().Params.Get("tag"); to != "" || c.username == "" {
			return false
		}
		h := req.GetHeader("Proxy-Authorization")
		if h == nil || !c.checkDigest(req, h.Value()) {
			res := sip.NewResponseFromRequest(req, 407, "Proxy Authentication Required", nil)
			res.AppendHeader(sip.NewHeader("Proxy-Authenticate",
				`Digest realm="`+carrierRealm+`", nonce="`+sip.GenerateTagN(16)+`", algorithm=MD5`))
			_ = tx.Respond(res)
			return true
		}
		c.mu.Lock()
		c.authorized++
		c.mu.Unlock()
		return false
	})
	return c
}

func md5hex(s string) string {
	h := md5.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

// checkDigest verifies an RFC 2617 digest response (with or without qop=auth).
func (c *carrier) checkDigest(req *sip.Request, v string) bool {
	params := map[string]string{}
	v = strings.TrimPrefix(strings.TrimSpace(v), "Digest ")
	for _, part := range strings.Split(v, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if ok {
			params[strings.ToLower(k)] = strings.Trim(val, `"`)
		}
	}
	if params["username"] != c.username || params["realm"] != carrierRealm {
		return false
	}
	ha1 := md5hex(c.username + ":" + carrierRealm + ":" + c.password)
	ha2 := md5hex("INVITE:" + params["uri"])
	want := md5hex(ha1 + ":" + params["nonce"] + ":" + ha2)
	if params["qop"] != "" {
		want = md5hex(ha1 + ":" + params["nonce"] + ":" + params["nc"] + ":" + params["cnonce"] + ":" + params["qop"] + ":" + ha2)
	}
	return want == params["response"]
}

// mediaUlaw is the µ-law byte for an A-law byte, as the bridge transcodes it.
func mediaUlaw(alaw byte) byte { return media.UlawEncode(media.AlawDecode(alaw)) }

func sipgoAuth(user, pass string) sipgo.AnswerOptions {
	return sipgo.AnswerOptions{Username: user, Password: pass}
}

// statusOf is the status code of a failed WaitAnswer.
func statusOf(err error) int {
	var dr *sipgo.ErrDialogResponse
	if errors.As(err, &dr) {
		return dr.Res.StatusCode
	}
	return 0
}

// establishedCall has alice (1001) call bob (1002) in PCMU, bob answer, and waits until
// the call is up both ways. It returns bob's phone, alice's call and bob's leg.
func establishedCall(t *testing.T, e *env) (bob *ua, c *call, in *inbound) {
	t.Helper()
	alice, bob, _, _ := twoPhones(t, e)
	c, in = callBob(t, e, alice, bob)
	return bob, c, in
}

// callBob has alice's phone call bob's (1002) in PCMU, bob answer, and waits until the
// call is up both ways. It returns alice's call and bob's leg.
func callBob(t *testing.T, e *env, alice, bob *ua) (*call, *inbound) {
	t.Helper()
	c := alice.dial(e, "1002", "alice", "alice-pw-1", 0)
	in := bob.next()
	in.answer(t, "127.0.0.1", 0)
	c.answered(t)
	endedOrConfirmed(t, in)
	return c, in
}
