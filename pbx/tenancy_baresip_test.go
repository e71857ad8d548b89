package pbx_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"switchboard"
	"switchboard/internal/testpeer"
	"switchboard/internal/tstest"
	"switchboard/store/storetest"
)

// tenant is one company of the end-to-end test: its account, its users 1001 (a baresip) and
// 1002 (a test UA), and their passwords.
type tenant struct {
	account    *switchboard.Account
	u1001      *switchboard.User
	u1002      *switchboard.User
	pw1001     string
	pw1002     string
	phone1002  *ua
	softphone  *domainBaresip
	domainName string
}

// newTenant creates an account with the SIP domain and its users 1001 and 1002, whose
// devices are named 1001 and 1002 in every account: only the domain tells them apart.
func newTenant(t *testing.T, e *env, acct *switchboard.Account, domain, secret string) *tenant {
	t.Helper()
	ctx := context.Background()
	acct.SIPDomain = domain
	if acct.ID == 0 {
		if err := e.db.CreateAccount(ctx, acct); err != nil {
			t.Fatal(err)
		}
	} else if err := e.db.UpdateAccount(ctx, acct); err != nil {
		t.Fatal(err)
	}
	tn := &tenant{account: acct, domainName: domain, pw1001: "1001-" + secret, pw1002: "1002-" + secret}
	for _, x := range []struct {
		ext string
		u   **switchboard.User
		pw  string
	}{{"1001", &tn.u1001, tn.pw1001}, {"1002", &tn.u1002, tn.pw1002}} {
		u := &switchboard.User{AccountID: acct.ID, Extension: x.ext, FirstName: acct.Name, LastName: x.ext}
		if err := e.db.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		d := &switchboard.Device{AccountID: acct.ID, UserID: u.ID, SIPUsername: x.ext, Realm: domain}
		d.SetSIPPassword(x.pw)
		if err := e.db.CreateDevice(ctx, d); err != nil {
			t.Fatal(err)
		}
		*x.u = u
	}
	return tn
}

// domainRequest is a request for user@domain sent to the PBX's address (the domain does
// not resolve: the PBX is its outbound proxy).
func domainRequest(e *env, method sip.RequestMethod, user, domain, fromUser, fromDomain string) *sip.Request {
	req := sip.NewRequest(method, sip.Uri{Scheme: "sip", User: user, Host: domain})
	req.SetDestination(e.sipAddr)
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: fromUser, Host: fromDomain}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(10))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: user, Host: domain}, Params: sip.NewParams()})
	return req
}

// registerAt registers the UA's contact as user@domain, answering the challenge.
func (u *ua) registerAt(e *env, domain, username, password string) int {
	u.t.Helper()
	req := domainRequest(e, sip.REGISTER, username, domain, username, domain)
	req.Recipient = sip.Uri{Scheme: "sip", Host: domain}
	req.AppendHeader(sip.NewHeader("Contact", "<sip:"+username+"@"+u.addr+">"))
	req.AppendHeader(sip.NewHeader("Expires", "600"))
	return u.do(req, username, password)
}

// do sends req, answers one digest challenge, and returns the final status.
func (u *ua) do(req *sip.Request, username, password string) int {
	u.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), tstest.DefaultWait)
	defer cancel()
	res, err := u.cli.Do(ctx, req, sipgo.ClientRequestBuild)
	if err != nil {
		u.t.Fatal(err)
	}
	if res.StatusCode == 401 || res.StatusCode == 407 {
		res, err = u.cli.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: username, Password: password})
		if err != nil {
			u.t.Fatal(err)
		}
	}
	return res.StatusCode
}

// domainBaresip is a baresip registered as user@domain with the PBX as its outbound proxy,
// auto-answering and sending a tone; ctrl_tcp takes its commands.
type domainBaresip struct {
	ctrl string
	out  *tstest.Buffer
}

func startDomainBaresip(t *testing.T, bin string, e *env, user, domain, password string, rtpBase int) *domainBaresip {
	t.Helper()
	dir := t.TempDir()
	listen := net.JoinHostPort("127.0.0.1", strconv.Itoa(tstest.FreePortPair(t, "127.0.0.1")))
	ctrl := net.JoinHostPort("127.0.0.1", strconv.Itoa(tstest.FreePort(t, "127.0.0.1")))
	config := strings.Join([]string{
		"poll_method epoll",
		"sip_listen " + listen,
		"audio_source ausine,440",
		"ausrc_srate 48000", "ausrc_channels 2", "auplay_srate 48000",
		"audio_player aufile," + filepath.Join(dir, "heard.wav"),
		"audio_alert aufile," + filepath.Join(dir, "alert.wav"),
		fmt.Sprintf("rtp_ports %d-%d", rtpBase, rtpBase+99),
		"rtp_stats yes",
		"module_path /usr/lib/baresip/modules",
		"module g711.so", "module ausine.so", "module aufile.so", "module account.so",
		"module menu.so", "module ctrl_tcp.so",
		"ctrl_tcp_listen " + ctrl,
		"",
	}, "\n")
	account := fmt.Sprintf("<sip:%s@%s>;auth_pass=%s;outbound=\"sip:%s\";answermode=auto;regint=600;audio_codecs=PCMU\n",
		user, domain, password, e.sipAddr)
	for name, body := range map[string]string{"config": config, "accounts": account, "contacts": ""} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-f", dir, "-n", "127.0.0.1")
	p := &domainBaresip{ctrl: ctrl, out: &tstest.Buffer{}}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("baresip %s@%s output:\n%s", user, domain, lastLines(p.out.Bytes(), 60))
		}
	})
	return p
}

// command sends one command to baresip's ctrl_tcp module (netstring-framed JSON).
func (p *domainBaresip) command(t *testing.T, cmd, params string) {
	t.Helper()
	var conn net.Conn
	tstest.WaitFor(t, "baresip's control port", func() bool {
		c, err := net.Dial("tcp", p.ctrl)
		conn = c
		return err == nil
	})
	defer conn.Close()
	msg, _ := json.Marshal(map[string]string{"command": cmd, "params": params, "token": "test"})
	if _, err := conn.Write([]byte(strconv.Itoa(len(msg)) + ":" + string(msg) + ",")); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(tstest.DefaultWait))
	buf := make([]byte, 4096)
	_, _ = conn.Read(buf) // the answer shows the command was taken
}

// The done-when: two accounts both provision 1001 and 1002 with different
// passwords; each registers its own baresip as 1001 using its domain; each calls its own
// 1002; neither reaches or disturbs the other's phones, whatever is tried across.
func TestTwoTenantsSameExtensionsOnTheirDomains(t *testing.T) {
	bin := testpeer.Require(t, "baresip", "baresip-core")
	e := newEnvSIP(t, storetest.NewSQLite(t), nil)
	acme := newTenant(t, e, e.account, "acme.test", "acme-secret")
	beta := newTenant(t, e, &switchboard.Account{Name: "Beta"}, "beta.test", "beta-secret")
	for i, tn := range []*tenant{acme, beta} {
		tn.phone1002 = newUA(t, "127.0.0.1", "1002")
		if code := tn.phone1002.registerAt(e, tn.domainName, "1002", tn.pw1002); code != 200 {
			t.Fatalf("%s's 1002 registering: %d", tn.domainName, code)
		}
		tn.softphone = startDomainBaresip(t, bin, e, "1001", tn.domainName, tn.pw1001, 19000+200*i)
	}
	for _, tn := range []*tenant{acme, beta} {
		tstest.WaitFor(t, tn.domainName+"'s baresip to register", func() bool {
			on, _ := e.srv.UserPresence(tn.account.ID, tn.u1001.ID)
			return on
		})
	}

	// Each baresip calls its own 1002: only that phone rings, and hears baresip's tone.
	for _, tn := range []*tenant{acme, beta} {
		other := acme
		if tn == acme {
			other = beta
		}
		tn.softphone.command(t, "dial", "sip:1002@"+tn.domainName)
		in := tn.phone1002.next()
		if got := in.req.From().Address.User; got != "1001" {
			t.Errorf("%s's 1002 sees caller %q", tn.domainName, got)
		}
		in.answer(t, "127.0.0.1", 0)
		answerSent(t, in)
		if heard := heardTone(t, in.rtp); heard < 10 {
			t.Errorf("%s's 1002 heard %d tone packets from its 1001; want 10", tn.domainName, heard)
		}
		select {
		case stray := <-other.phone1002.incoming:
			t.Errorf("%s's 1002 rang for %s's call: %s", other.domainName, tn.domainName, stray.req.StartLine())
		default:
		}
		if err := in.dlg.Bye(context.Background()); err != nil {
			t.Fatal(err)
		}
		r := e.endedRecordOf(tn.account.ID, switchboard.CallOutbound)
		if r.UserID != tn.u1001.ID || r.To != "1002" || r.Disposition != switchboard.DispositionAnswered {
			t.Errorf("%s's record = %+v", tn.domainName, r)
		}
	}

	// Beta's 1002, with its own (valid) credentials, tries acme's phones every way.
	mallory := beta.phone1002
	acmeContacts := e.srv.Contacts(acme.account.ID, acme.u1001.ID)
	for _, tc := range []struct {
		method sip.RequestMethod
		want   []int // any of
	}{
		{sip.INVITE, []int{407}},   // as 1002@acme.test: acme's 1002 has another password
		{sip.REGISTER, []int{401}}, // taking over acme's 1001
		{sip.MESSAGE, []int{405, 404, 403, 407}},
		{sip.SUBSCRIBE, []int{401, 404, 403, 407}}, // a busy lamp on acme's 1001
	} {
		req := domainRequest(e, tc.method, "1001", "acme.test", "1002", "acme.test")
		if tc.method == sip.REGISTER {
			req = domainRequest(e, tc.method, "1001", "acme.test", "1001", "acme.test")
			req.Recipient = sip.Uri{Scheme: "sip", Host: "acme.test"}
			req.AppendHeader(sip.NewHeader("Contact", "<sip:1001@"+mallory.addr+">"))
		}
		if tc.method == sip.INVITE {
			req.AppendHeader(sip.NewHeader("Contact", "<sip:1002@"+mallory.addr+">"))
			req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
			req.SetBody(newRTPPeer(t, "127.0.0.1").offer(0))
		}
		if tc.method == sip.SUBSCRIBE {
			req.AppendHeader(sip.NewHeader("Event", "dialog"))
			req.AppendHeader(sip.NewHeader("Contact", "<sip:1002@"+mallory.addr+">"))
		}
		user := "1002"
		if tc.method == sip.REGISTER {
			user = "1001"
		}
		code := mallory.do(req, user, beta.pw1002)
		ok := false
		for _, w := range tc.want {
			ok = ok || code == w
		}
		if !ok {
			t.Errorf("beta's credentials, %s to 1001@acme.test: %d; want one of %v", tc.method, code, tc.want)
		}
	}
	// OPTIONS for a domain that is no one's: 404 unchallenged.
	if code := mallory.do(domainRequest(e, sip.OPTIONS, "1001", "gamma.test", "1002", "gamma.test"), "1002", beta.pw1002); code != 404 {
		t.Errorf("OPTIONS for gamma.test: %d; want 404", code)
	}
	// A call from beta addressed to 1001@acme.test is beta's call: it rings beta's own 1001.
	acmeCalls, err := e.db.ListCallRecords(context.Background(), acme.account.ID, switchboard.CallRecordFilter{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			rs, _ := e.db.ListCallRecords(context.Background(), beta.account.ID, switchboard.CallRecordFilter{})
			for _, r := range rs {
				t.Logf("beta's record: %+v", *r)
			}
		}
	})
	c := mallory.dialAt(e, "1001", "acme.test", "beta.test", "1002", beta.pw1002)
	c.answered(t) // by beta's baresip, auto-answering
	if heard := heardTone(t, c.rtp); heard < 10 {
		t.Errorf("beta's 1002 heard %d tone packets from its own 1001; want 10", heard)
	}
	if err := c.dlg.Bye(context.Background()); err != nil {
		t.Fatal(err)
	}
	tstest.WaitFor(t, "beta's call from 1002 to its own 1001 recorded", func() bool {
		rs, err := e.db.ListCallRecords(context.Background(), beta.account.ID, switchboard.CallRecordFilter{})
		for _, r := range rs {
			if err == nil && r.UserID == beta.u1002.ID && r.To == "1001" && r.Disposition == switchboard.DispositionAnswered {
				return true
			}
		}
		return false
	})
	if now, _ := e.db.ListCallRecords(context.Background(), acme.account.ID, switchboard.CallRecordFilter{}); len(now) != len(acmeCalls) {
		t.Errorf("acme has %d call records after beta's attempts; want %d", len(now), len(acmeCalls))
	}
	// Nothing of acme's was disturbed: its 1001 keeps its one binding and still calls out.
	if got := e.srv.Contacts(acme.account.ID, acme.u1001.ID); len(got) != 1 || got[0] != acmeContacts[0] {
		t.Errorf("acme's 1001 bindings after the attempts = %+v; want %+v", got, acmeContacts)
	}
	if on, _ := e.srv.UserPresence(acme.account.ID, acme.u1001.ID); !on {
		t.Error("acme's 1001 went offline")
	}
	acme.softphone.command(t, "dial", "sip:1002@acme.test")
	in := acme.phone1002.next()
	in.answer(t, "127.0.0.1", 0)
	answerSent(t, in)
	if heard := heardTone(t, in.rtp); heard < 10 {
		t.Errorf("acme's 1002 heard %d tone packets after beta's attempts; want 10", heard)
	}
	if err := in.dlg.Bye(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// heardTone sends our audio (latching the PBX's leg) and counts the non-silent PCMU
// packets coming back from a baresip's tone, up to 10, for at most the default wait.
func heardTone(t *testing.T, p *rtpPeer) int {
	t.Helper()
	heard := 0
	for i, deadline := 0, time.Now().Add(tstest.DefaultWait); heard < 10 && time.Now().Before(deadline); i++ {
		p.send(t, ulawFrame(i))
		if pkt := p.recv(20 * time.Millisecond); pkt != nil && pkt.PayloadType == 0 && !silent(pkt.Payload) {
			heard++
		}
	}
	return heard
}

// dialAt calls user@toDomain as fromUser@fromDomain through the PBX's address, answering
// the 407 with the credentials.
func (u *ua) dialAt(e *env, user, toDomain, fromDomain, fromUser, password string) *call {
	u.t.Helper()
	peer := newRTPPeer(u.t, strings.Split(u.addr, ":")[0])
	req := domainRequest(e, sip.INVITE, user, toDomain, fromUser, fromDomain)
	req.AppendHeader(sip.NewHeader("Contact", "<sip:"+fromUser+"@"+u.addr+">"))
	req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
	req.SetBody(peer.offer(0))
	dlg, err := u.dcc.WriteInvite(context.Background(), req)
	if err != nil {
		u.t.Fatal(err)
	}
	c := &call{dlg: dlg, rtp: peer, err: make(chan error, 1), res: make(chan *sip.Response, 16)}
	go func() {
		c.err <- dlg.WaitAnswer(context.Background(), sipgo.AnswerOptions{Username: fromUser, Password: password})
	}()
	return c
}

// endedRecordOf waits for an ended call record of the account in that direction.
func (e *env) endedRecordOf(accountID int64, direction string) *switchboard.CallRecord {
	e.t.Helper()
	var ended *switchboard.CallRecord
	tstest.WaitFor(e.t, "an ended "+direction+" call record", func() bool {
		rs, err := e.db.ListCallRecords(context.Background(), accountID, switchboard.CallRecordFilter{})
		if err != nil {
			e.t.Fatal(err)
		}
		for _, r := range rs {
			if r.Direction == direction && !r.EndedAt.IsZero() {
				ended = r
				return true
			}
		}
		return false
	})
	return ended
}

// answerSent waits until the 200 of in.answer went out (and was ACKed).
func answerSent(t *testing.T, in *inbound) {
	t.Helper()
	select {
	case <-in.final:
	case <-time.After(tstest.DefaultWait):
		t.Fatal("the answer was not sent in time")
	}
}
