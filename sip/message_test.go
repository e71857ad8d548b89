package sip

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"switchboard"
	"switchboard/internal/tstest"
	"switchboard/webhook"
)

// msgUA is a SIP user agent built on sipgo: it registers, sends MESSAGEs (answering the
// server's digest challenges as a phone does) and answers the MESSAGEs it receives with
// answer (200 unless set).
type msgUA struct {
	t        *testing.T
	addr     string
	cli      *sipgo.Client
	user     string
	password string
	server   string
	answer   atomic.Int32
	mu       sync.Mutex
	got      []*sip.Request
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newMsgUA(t *testing.T, ip, server, user, password string) *msgUA {
	t.Helper()
	pc, err := net.ListenPacket("udp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	agent, err := sipgo.NewUA(sipgo.WithUserAgent(user), sipgo.WithUserAgentHostname(ip),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(quiet())),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(quiet())))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(agent, sipgo.WithServerLogger(quiet()))
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	cli, err := sipgo.NewClient(agent, sipgo.WithClientConnectionAddr(addr), sipgo.WithClientLogger(quiet()))
	if err != nil {
		t.Fatal(err)
	}
	u := &msgUA{t: t, addr: addr, cli: cli, user: user, password: password, server: server}
	u.answer.Store(200)
	srv.OnMessage(func(req *sip.Request, tx sip.ServerTransaction) {
		u.mu.Lock()
		u.got = append(u.got, req)
		u.mu.Unlock()
		code := int(u.answer.Load())
		_ = tx.Respond(sip.NewResponseFromRequest(req, code, "Answer", nil))
	})
	go func() { _ = srv.ServeUDP(pc) }()
	// ServeUDP registers the socket asynchronously; the client sends from it only once it is.
	tstest.WaitFor(t, "the test UA to listen", func() bool {
		c, err := agent.TransportLayer().GetConnection("udp", addr)
		return err == nil && c != nil
	})
	t.Cleanup(func() {
		agent.Close()
		pc.Close()
	})
	return u
}

// rawMessage is a MESSAGE of the raw phone p (helpers_test.go) to `to`, with a body and
// extra header lines: for what sipgo's client will not send (over UDP, a body larger than
// the MTU).
func rawMessage(p *phone, to string, body []byte, extra ...string) string {
	p.cseq++
	transport := "UDP"
	if p.tcp {
		transport = "TCP"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "MESSAGE sip:%s@%s SIP/2.0\r\n", to, p.host())
	fmt.Fprintf(&b, "Via: SIP/2.0/%s %s;branch=z9hG4bK%s;rport\r\n", transport, p.conn.LocalAddr(), randHex(10))
	fmt.Fprintf(&b, "From: <sip:%s@%s>;tag=%s\r\n", p.user, p.host(), "ft"+strconv.Itoa(p.cseq))
	fmt.Fprintf(&b, "To: <sip:%s@%s>\r\n", to, p.host())
	fmt.Fprintf(&b, "Call-ID: %s\r\n", p.callID)
	fmt.Fprintf(&b, "CSeq: %d MESSAGE\r\n", p.cseq)
	b.WriteString("Max-Forwards: 70\r\nContent-Type: text/plain\r\n")
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n", len(body))
	b.Write(body)
	return b.String()
}

// received returns the MESSAGEs the UA got so far.
func (u *msgUA) received() []*sip.Request {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]*sip.Request(nil), u.got...)
}

// do sends req and answers one digest challenge with the UA's password.
func (u *msgUA) do(req *sip.Request) *sip.Response {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), tstest.DefaultWait)
	defer cancel()
	res, err := u.cli.Do(ctx, req)
	if err != nil {
		u.t.Fatalf("%s: %v", req.Method, err)
	}
	if res.StatusCode == 401 || res.StatusCode == 407 {
		res, err = u.cli.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: u.user, Password: u.password})
		if err != nil {
			u.t.Fatalf("%s with credentials: %v", req.Method, err)
		}
	}
	return res
}

// uri is sip:user@server.
func (u *msgUA) uri(user string) sip.Uri {
	host, port := splitHostPort(u.server)
	return sip.Uri{Scheme: "sip", User: user, Host: host, Port: port}
}

func (u *msgUA) register() {
	u.t.Helper()
	req := sip.NewRequest(sip.REGISTER, u.uri(""))
	host, port := splitHostPort(u.addr)
	from := &sip.FromHeader{Address: u.uri(u.user), Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: u.uri(u.user), Params: sip.NewParams()})
	req.AppendHeader(&sip.ContactHeader{Address: sip.Uri{Scheme: "sip", User: u.user, Host: host, Port: port}})
	req.AppendHeader(sip.NewHeader("Expires", "3600"))
	if res := u.do(req); res.StatusCode != 200 {
		u.t.Fatalf("REGISTER %s: %d %s", u.user, res.StatusCode, res.Reason)
	}
}

// message builds a MESSAGE to `to` (a user part) with a body of content type ct.
func (u *msgUA) message(to, ct string, body []byte) *sip.Request {
	req := sip.NewRequest(sip.MESSAGE, u.uri(to))
	from := &sip.FromHeader{Address: u.uri(u.user), Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: u.uri(to), Params: sip.NewParams()})
	if ct != "" {
		req.AppendHeader(sip.NewHeader("Content-Type", ct))
	}
	req.SetBody(body)
	return req
}

func (u *msgUA) send(to, ct string, body []byte) *sip.Response {
	u.t.Helper()
	return u.do(u.message(to, ct, body))
}

func splitHostPort(addr string) (string, int) {
	host, p, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(p)
	return host, port
}

// fakePhoneSMS records what the SIP core hands the messaging service; FromPhone refuses
// recipients other than "1002" and "+15557654321" with NOT_FOUND, as the service does.
type fakePhoneSMS struct {
	mu         sync.Mutex
	sent       []string // "account/user -> to: body"
	registered []userKey
}

func (f *fakePhoneSMS) FromPhone(_ context.Context, accountID, userID int64, to, body string) (*switchboard.Message, error) {
	if to != "1002" && to != "+15557654321" {
		return nil, switchboard.Errorf(switchboard.ENOTFOUND, "no extension or number %s", to)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, fmt.Sprintf("%d/%d -> %s: %s", accountID, userID, to, body))
	return &switchboard.Message{ID: "msg_" + strconv.Itoa(len(f.sent))}, nil
}

func (f *fakePhoneSMS) UserRegistered(_ context.Context, accountID, userID int64) {
	f.mu.Lock()
	f.registered = append(f.registered, userKey{accountID, userID})
	f.mu.Unlock()
}

func (f *fakePhoneSMS) sentCopy() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.sent...)
}

func (f *fakePhoneSMS) registeredCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.registered)
}

// TestMessageFromPhone: a registered phone's MESSAGE is challenged, then stored through the
// messaging service and answered 202; every way of getting it wrong has its own answer.
func TestMessageFromPhone(t *testing.T) {
	e := startServer(t)
	fake := &fakePhoneSMS{}
	e.srv.SetPhoneSMS(fake)
	alice := e.user(t, "1001")
	e.device(t, alice, "alice", "alice-pw-1")
	dave := e.user(t, "1004")
	e.device(t, dave, "dave", "dave-pw-1")
	a := newMsgUA(t, "127.0.0.1", e.udp, "alice", "alice-pw-1")
	a.register()

	// Without credentials: a challenge, nothing stored.
	ctx, cancel := context.WithTimeout(context.Background(), tstest.DefaultWait)
	defer cancel()
	res, err := a.cli.Do(ctx, a.message("1002", "text/plain", []byte("hi")))
	if err != nil || res.StatusCode != 401 || res.GetHeader("WWW-Authenticate") == nil {
		t.Fatalf("MESSAGE without credentials: %v %v, want 401 with a challenge", res, err)
	}

	text := "Καλημέρα 你好 😀 €[]"
	if res := a.send("1002", "text/plain;charset=UTF-8", []byte(text)); res.StatusCode != 202 {
		t.Fatalf("MESSAGE to 1002: %d %s, want 202", res.StatusCode, res.Reason)
	}
	if res := a.send("+15557654321", "text/plain", []byte("to a number")); res.StatusCode != 202 {
		t.Fatalf("MESSAGE to a number: %d %s, want 202", res.StatusCode, res.Reason)
	}
	want := []string{
		fmt.Sprintf("%d/%d -> 1002: %s", e.account.ID, alice.ID, text),
		fmt.Sprintf("%d/%d -> +15557654321: to a number", e.account.ID, alice.ID),
	}
	if got := fake.sentCopy(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("stored %q, want %q", got, want)
	}

	for _, tc := range []struct {
		name, to, ct string
		body         []byte
		code         int
	}{
		{"unknown extension", "1999", "text/plain", []byte("hello?"), 404},
		{"html", "1002", "text/html", []byte("<b>hi</b>"), 415},
		{"is-composing", "1002", "application/im-iscomposing+xml", []byte("<x/>"), 415},
		{"latin-1", "1002", "text/plain;charset=ISO-8859-1", []byte("caf\xe9"), 415},
		{"no content type", "1002", "", []byte("hi"), 415},
		{"invalid UTF-8", "1002", "text/plain", []byte("caf\xe9"), 400},
		{"empty", "1002", "text/plain", []byte("  "), 400},
	} {
		res := a.send(tc.to, tc.ct, tc.body)
		if res.StatusCode != tc.code {
			t.Errorf("%s: %d %s, want %d", tc.name, res.StatusCode, res.Reason, tc.code)
		}
		if tc.code == 415 && res.GetHeader("Accept") == nil {
			t.Errorf("%s: 415 without Accept", tc.name)
		}
	}
	if got := len(fake.sentCopy()); got != 2 {
		t.Errorf("refused MESSAGEs were stored: %d messages, want 2", got)
	}

	// Too large for a MESSAGE: over TCP, where a phone could send it.
	p := dialPhone(t, "tcp", e.tcp, "", "alice", "alice-pw-1")
	big := []byte(strings.Repeat("x", MaxMessageBody+1))
	p.send(rawMessage(p, "1002", big))
	res = p.read()
	if res.StatusCode != 401 {
		t.Fatalf("large MESSAGE without credentials: %d, want 401", res.StatusCode)
	}
	c := pick(t, challenges(t, res, "WWW-Authenticate"), algMD5)
	uri := "sip:1002@" + p.host()
	p.send(rawMessage(p, "1002", big, realmDigestHeader(switchboard.SIPRealm, "Authorization", algMD5, "alice", "alice-pw-1", "MESSAGE", uri, c.nonce, 1)))
	if res := p.read(); res.StatusCode != 413 {
		t.Errorf("too large: %d %s, want 413", res.StatusCode, res.Reason)
	}

	// A device with the right password that is not registered: 403.
	d := newMsgUA(t, "127.0.0.1", e.udp, "dave", "dave-pw-1")
	if res := d.send("1002", "text/plain", []byte("hi")); res.StatusCode != 403 {
		t.Errorf("unregistered device: %d %s, want 403", res.StatusCode, res.Reason)
	}
	// A wrong password: challenged again, and counted towards a ban.
	failures := e.counter(t, e.srv.metrics.authFailures)
	m := newMsgUA(t, "127.0.0.1", e.udp, "alice", "wrong")
	if res := m.send("1002", "text/plain", []byte("hi")); res.StatusCode != 401 {
		t.Errorf("wrong password: %d %s, want 401", res.StatusCode, res.Reason)
	}
	if got := e.counter(t, e.srv.metrics.authFailures); got != failures+1 {
		t.Errorf("auth failures %v, want %v", got, failures+1)
	}
	if got := len(fake.sentCopy()); got != 2 {
		t.Errorf("%d messages stored, want 2", got)
	}
}

// TestMessageWithoutServiceIsNotAllowed: with no messaging service a MESSAGE stays 405.
func TestMessageWithoutServiceIsNotAllowed(t *testing.T) {
	e := startServer(t)
	alice := e.user(t, "1001")
	e.device(t, alice, "alice", "alice-pw-1")
	a := newMsgUA(t, "127.0.0.1", e.udp, "alice", "alice-pw-1")
	a.register()
	if res := a.send("1002", "text/plain", []byte("hi")); res.StatusCode != 405 {
		t.Fatalf("MESSAGE: %d, want 405", res.StatusCode)
	}
}

// TestDeliverToUserReachesEveryPhone: a message for a user goes to each registered phone,
// from the sender's extension, as UTF-8 text; the count is of phones that took it.
func TestDeliverToUserReachesEveryPhone(t *testing.T) {
	e := startServer(t)
	e.srv.SetPhoneSMS(&fakePhoneSMS{})
	bob := e.user(t, "1002")
	e.device(t, bob, "bob-desk", "bob-pw-1")
	e.device(t, bob, "bob-mobile", "bob-pw-2")
	e.device(t, bob, "bob-off", "bob-pw-3")
	desk := newMsgUA(t, "127.0.0.1", e.udp, "bob-desk", "bob-pw-1")
	mobile := newMsgUA(t, "127.0.0.1", e.udp, "bob-mobile", "bob-pw-2")
	desk.register()
	mobile.register()

	text := "Γειά σου 世界 🎉 €[]~"
	n, err := e.srv.DeliverToUser(context.Background(), e.account.ID, bob.ID, "1001", text)
	if err != nil || n != 2 {
		t.Fatalf("DeliverToUser: %d, %v; want 2 phones", n, err)
	}
	for name, u := range map[string]*msgUA{"desk": desk, "mobile": mobile} {
		got := u.received()
		if len(got) != 1 {
			t.Fatalf("%s got %d MESSAGEs, want 1", name, len(got))
		}
		req := got[0]
		if string(req.Body()) != text || req.From().Address.User != "1001" ||
			req.ContentType() == nil || req.ContentType().Value() != "text/plain;charset=UTF-8" {
			t.Errorf("%s got From %s, Content-Type %v, body %q", name, req.From().Address.String(), req.ContentType(), req.Body())
		}
	}

	// A phone that refuses does not count; from an E.164 number the From says so.
	mobile.answer.Store(486)
	n, err = e.srv.DeliverToUser(context.Background(), e.account.ID, bob.ID, "+15551234567", "hello")
	if err != nil || n != 1 {
		t.Fatalf("DeliverToUser with one phone refusing: %d, %v; want 1", n, err)
	}
	if got := desk.received(); got[len(got)-1].From().Address.User != "+15551234567" {
		t.Errorf("From %s, want +15551234567", got[len(got)-1].From().Address.String())
	}

	// Nobody registered: 0 and no error, and the user is marked for their next REGISTER.
	carol := e.user(t, "1003")
	n, err = e.srv.DeliverToUser(context.Background(), e.account.ID, carol.ID, "1001", "anyone?")
	if err != nil || n != 0 {
		t.Fatalf("DeliverToUser to nobody: %d, %v; want 0, nil", n, err)
	}
}

// TestRegisterAsksForPendingMessages: a REGISTER asks the service to deliver what waits
// for the user only when something may: the user's first REGISTER since the start, and one
// after a delivery found no phone; refreshes in between cost nothing.
func TestRegisterAsksForPendingMessages(t *testing.T) {
	e := startServer(t)
	fake := &fakePhoneSMS{}
	e.srv.SetPhoneSMS(fake)
	bob := e.user(t, "1002")
	e.device(t, bob, "bob", "bob-pw-1")
	key := userKey{e.account.ID, bob.ID}

	b := newMsgUA(t, "127.0.0.1", e.udp, "bob", "bob-pw-1")
	b.register()
	tstest.WaitFor(t, "UserRegistered after the first REGISTER", func() bool { return fake.registeredCount() == 1 })
	if _, due := e.srv.smsDue(key); due {
		t.Fatal("a refresh with nothing pending would ask the service again")
	}
	// A delivery no phone takes marks bob; his next REGISTER asks again, once.
	b.answer.Store(480)
	if n, _ := e.srv.DeliverToUser(context.Background(), e.account.ID, bob.ID, "1001", "later"); n != 0 {
		t.Fatalf("delivered to %d phones, want 0", n)
	}
	b.register()
	tstest.WaitFor(t, "UserRegistered after a failed delivery", func() bool { return fake.registeredCount() == 2 })
	if _, due := e.srv.smsDue(key); due {
		t.Fatal("the pending mark was not cleared by the REGISTER that asked")
	}
}

// checkerSMS is a messaging service that says itself which users have messages waiting.
type checkerSMS struct {
	fakePhoneSMS
	pending atomic.Bool
}

func (c *checkerSMS) HasPhonePending(accountID, userID int64) bool { return c.pending.Load() }

func TestRegisterAsksTheServiceThatKnows(t *testing.T) {
	e := startServer(t)
	svc := &checkerSMS{}
	e.srv.SetPhoneSMS(svc)
	bob := e.user(t, "1002")
	e.device(t, bob, "bob", "bob-pw-1")
	key := userKey{e.account.ID, bob.ID}
	if _, due := e.srv.smsDue(key); due {
		t.Fatal("asked although the service has nothing pending")
	}
	svc.pending.Store(true)
	b := newMsgUA(t, "127.0.0.1", e.udp, "bob", "bob-pw-1")
	b.register()
	tstest.WaitFor(t, "UserRegistered", func() bool { return svc.registeredCount() == 1 })
}

// fakeTrunks is a call handler that knows one trunk: source ip, number owned.
type fakeTrunks struct {
	ip     netip.Addr
	number string
}

func (f *fakeTrunks) TrunkSource(ip netip.Addr, dialled string, overTLS bool) bool {
	return ip == f.ip && dialled == f.number
}
func (f *fakeTrunks) TrustedSource(ip netip.Addr) bool                                { return ip == f.ip }
func (f *fakeTrunks) Invite(*sip.Request, sip.ServerTransaction, *switchboard.Device) {}
func (f *fakeTrunks) InDialog(*sip.Request, sip.ServerTransaction) bool               { return false }

type fakeInbox struct {
	mu  sync.Mutex
	got []string
}

func (f *fakeInbox) Receive(_ context.Context, carrier, from, to, body, ref string) (*switchboard.Message, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.got = append(f.got, carrier+" "+from+" -> "+to+": "+body)
	return &switchboard.Message{ID: "msg_in"}, nil
}

func (f *fakeInbox) messages() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.got...)
}

func (f *fakeInbox) Report(context.Context, int64, string, string, string, string) error { return nil }

// TestMessageFromTrunk: a MESSAGE from the trunk's address to the account's number is an
// inbound SMS, taken without a challenge; from elsewhere it is a phone's and challenged.
func TestMessageFromTrunk(t *testing.T) {
	e := startServer(t)
	e.srv.SetCallHandler(&fakeTrunks{ip: netip.MustParseAddr("127.0.0.7"), number: "+15550001111"})
	inbox := &fakeInbox{}
	e.srv.SetSMSInbox(inbox)
	e.srv.SetPhoneSMS(&fakePhoneSMS{})
	carrier := newMsgUA(t, "127.0.0.7", e.udp, "+15559998888", "")
	text := "Ünïcödé ✓ 中文"
	ctx, cancel := context.WithTimeout(context.Background(), tstest.DefaultWait)
	defer cancel()
	res, err := carrier.cli.Do(ctx, carrier.message("+15550001111", "text/plain; charset=utf-8", []byte(text)))
	if err != nil || res.StatusCode != 202 {
		t.Fatalf("trunk MESSAGE: %v %v, want 202", res, err)
	}
	if got := strings.Join(inbox.messages(), "\n"); got != "sip +15559998888 -> +15550001111: "+text {
		t.Fatalf("inbox got %q", got)
	}
	// The same carrier to a number the trunk's account does not own: not a trunk's.
	res, err = carrier.cli.Do(ctx, carrier.message("+15550002222", "text/plain", []byte("x")))
	if err != nil || res.StatusCode != 401 {
		t.Fatalf("trunk MESSAGE to another number: %v %v, want 401", res, err)
	}
	// Another address to the number: challenged.
	other := newMsgUA(t, "127.0.0.8", e.udp, "+15559998888", "")
	res, err = other.cli.Do(ctx, other.message("+15550001111", "text/plain", []byte("x")))
	if err != nil || res.StatusCode != 401 {
		t.Fatalf("MESSAGE from elsewhere: %v %v, want 401", res, err)
	}
	if got := inbox.messages(); len(got) != 1 {
		t.Fatalf("inbox got %q, want 1 message", got)
	}
}

// carrierUA is a SIP carrier that challenges (401 with an MD5 digest), then checks the
// credentials and answers MESSAGEs with code.
type carrierUA struct {
	addr     string
	code     atomic.Int32
	mu       sync.Mutex
	got      []*sip.Request
	attempts int
}

func newCarrierUA(t *testing.T, user, password string) *carrierUA {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	agent, err := sipgo.NewUA(sipgo.WithUserAgentHostname("127.0.0.1"),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(quiet())),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(quiet())))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(agent, sipgo.WithServerLogger(quiet()))
	if err != nil {
		t.Fatal(err)
	}
	c := &carrierUA{addr: pc.LocalAddr().String()}
	c.code.Store(200)
	const realm, nonce = "carrier.test", "abc123"
	srv.OnMessage(func(req *sip.Request, tx sip.ServerTransaction) {
		c.mu.Lock()
		c.attempts++
		c.mu.Unlock()
		h := req.GetHeader("Authorization")
		if h == nil {
			res := sip.NewResponseFromRequest(req, 401, "Unauthorized", nil)
			res.AppendHeader(sip.NewHeader("WWW-Authenticate", `Digest realm="`+realm+`", nonce="`+nonce+`", algorithm=MD5, qop="auth"`))
			_ = tx.Respond(res)
			return
		}
		cr, ok := parseCredentials(h.Value())
		sum := md5.Sum([]byte(user + ":" + realm + ":" + password))
		if !ok || cr.username != user || cr.nonce != nonce ||
			!responseMatches(digestResponse(algMD5, hex.EncodeToString(sum[:]), "MESSAGE", cr), cr.response) {
			_ = tx.Respond(sip.NewResponseFromRequest(req, 403, "Bad credentials", nil))
			return
		}
		c.mu.Lock()
		c.got = append(c.got, req)
		c.mu.Unlock()
		_ = tx.Respond(sip.NewResponseFromRequest(req, int(c.code.Load()), "Answer", nil))
	})
	go func() { _ = srv.ServeUDP(pc) }()
	t.Cleanup(func() {
		agent.Close()
		pc.Close()
	})
	return c
}

type fakeTrunkList struct{ trunks []*switchboard.Trunk }

func (f *fakeTrunkList) ListTrunks(_ context.Context, accountID int64) ([]*switchboard.Trunk, error) {
	var out []*switchboard.Trunk
	for _, t := range f.trunks {
		if t.AccountID == accountID {
			out = append(out, t)
		}
	}
	return out, nil
}

// TestTrunkCarrierSendsMessage: the "sip" carrier sends the SMS to the account's trunk as a
// MESSAGE, answers the carrier's challenge with the trunk's sealed password, and tells a
// refusal to retry from one that is final.
func TestTrunkCarrierSendsMessage(t *testing.T) {
	e := startServer(t)
	carrier := newCarrierUA(t, "acme", "trunk-secret")
	sealer, err := webhook.NewSealer([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	host, port := splitHostPort(carrier.addr)
	trunks := &fakeTrunkList{trunks: []*switchboard.Trunk{{ID: 1, AccountID: e.account.ID, Host: host, Port: port,
		Transport: "udp", Username: "acme", SealedPassword: sealer.Seal("trunk-secret")}}}
	c := NewTrunkCarrier(e.srv, trunks, sealer)
	var _ switchboard.SMSCarrier = c
	text := "Код 1234 — 你好 😀 €[]"
	m := &switchboard.Message{ID: "msg_0123456789abcdef0123456789abcdef", AccountID: e.account.ID,
		From: "+15551230000", To: "+15557654321", Body: text}
	ref, err := c.Send(context.Background(), m)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	carrier.mu.Lock()
	got := carrier.got
	carrier.mu.Unlock()
	if len(got) != 1 {
		t.Fatalf("carrier took %d MESSAGEs, want 1", len(got))
	}
	req := got[0]
	if req.Recipient.User != "+15557654321" || req.From().Address.User != "+15551230000" || string(req.Body()) != text ||
		req.ContentType().Value() != "text/plain;charset=UTF-8" || req.CallID().Value() != ref {
		t.Errorf("carrier got %s from %s, body %q, Call-ID %s (ref %s)", req.Recipient.String(),
			req.From().Address.String(), req.Body(), req.CallID().Value(), ref)
	}
	if !strings.HasPrefix(ref, "0123456789abcdef0123456789abcdef@") {
		t.Errorf("ref %q is not derived from the message id", ref)
	}

	for _, tc := range []struct {
		code      int
		permanent bool
	}{{503, false}, {480, false}, {404, true}, {403, true}} {
		carrier.code.Store(int32(tc.code))
		_, err := c.Send(context.Background(), m)
		ce, ok := err.(*switchboard.CarrierError)
		if !ok || ce.Permanent != tc.permanent || !strings.Contains(ce.Reason, strconv.Itoa(tc.code)) {
			t.Errorf("carrier answering %d: %v, want a CarrierError with Permanent %v", tc.code, err, tc.permanent)
		}
	}

	// A wrong password is refused by the carrier for good.
	carrier.code.Store(200)
	trunks.trunks[0].SealedPassword = sealer.Seal("not-it")
	if _, err := c.Send(context.Background(), m); err == nil || !err.(*switchboard.CarrierError).Permanent {
		t.Errorf("wrong trunk password: %v, want a permanent CarrierError", err)
	}
	// No trunk: permanent, and nothing is sent.
	attempts := func() int {
		carrier.mu.Lock()
		defer carrier.mu.Unlock()
		return carrier.attempts
	}
	before := attempts()
	m2 := *m
	m2.AccountID = e.account.ID + 100
	if _, err := c.Send(context.Background(), &m2); err == nil || !err.(*switchboard.CarrierError).Permanent {
		t.Errorf("no trunk: %v, want a permanent CarrierError", err)
	}
	if attempts() != before {
		t.Errorf("something was sent without a trunk")
	}
}

// TestDeliverToUserFollowsTheRegistrationsFlow: a phone behind NAT registers a Contact
// nobody can reach (its private address); its messages come to the address and, over TCP,
// the connection its REGISTER came from.
func TestDeliverToUserFollowsTheRegistrationsFlow(t *testing.T) {
	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			e := startServer(t, func(c *Config) { c.QualifyInterval = -1 })
			e.srv.SetPhoneSMS(&fakePhoneSMS{})
			bob := e.user(t, "1002")
			e.device(t, bob, "bob", "bob-pw-1")
			server := e.udp
			if network == "tcp" {
				server = e.tcp
			}
			p := dialPhone(t, network, server, "", "bob", "bob-pw-1")
			private := "Contact: <sip:bob@10.255.0.1:5060;transport=" + network + ">"
			if res := p.register(algMD5, private, "Expires: 3600"); res.StatusCode != 200 {
				t.Fatalf("REGISTER: %d", res.StatusCode)
			}
			type result struct {
				n   int
				err error
			}
			done := make(chan result, 1)
			go func() {
				n, err := e.srv.DeliverToUser(context.Background(), e.account.ID, bob.ID, "1001", "через NAT ✓")
				done <- result{n, err}
			}()
			req, err := p.readRequest()
			if err != nil || req == nil {
				t.Fatalf("no MESSAGE on the phone's own socket: %v", err)
			}
			if req.Method != sip.MESSAGE || string(req.Body()) != "через NAT ✓" || req.Recipient.Host != "10.255.0.1" {
				t.Fatalf("got %s %s body %q", req.Method, req.Recipient.String(), req.Body())
			}
			p.send(sip.NewResponseFromRequest(req, 200, "OK", nil).String())
			if r := <-done; r.err != nil || r.n != 1 {
				t.Fatalf("DeliverToUser: %d, %v; want 1", r.n, r.err)
			}
		})
	}
}
