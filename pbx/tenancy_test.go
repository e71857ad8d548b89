package pbx_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/tstest"
)

// otherAccount creates a second account in e's store.
func (e *env) otherAccount(name string) *switchboard.Account {
	e.t.Helper()
	a := &switchboard.Account{Name: name}
	if err := e.db.CreateAccount(context.Background(), a); err != nil {
		e.t.Fatal(err)
	}
	return a
}

// F1 (issue 14): another account's trunk whose addresses cover the phones' address must
// not switch off authentication for them, nor take their calls.
func TestAnotherAccountsTrunkDoesNotCaptureRegisteredPhones(t *testing.T) {
	for _, tc := range []struct {
		name string
		tr   switchboard.Trunk
	}{
		{"catch-all inbound addresses", switchboard.Trunk{Host: "192.0.2.10", InboundAddresses: []string{"0.0.0.0/0"}}},
		{"host on the phones' address", switchboard.Trunk{Host: "127.0.0.1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			alice, bob, _, _ := twoPhones(t, e)
			// Before B's trunk: an INVITE without credentials is challenged.
			if code := alice.dial(e, "1002", "", "").finalCode(t); code != 407 {
				t.Fatalf("unauthenticated INVITE answered %d before B's trunk; want 407", code)
			}
			b := e.otherAccount("Beta")
			num := &switchboard.Number{AccountID: b.ID, Number: "+15550002000", Status: "active",
				Target: switchboard.Target{Type: switchboard.TargetHangup}}
			if err := e.db.CreateNumber(context.Background(), num); err != nil {
				t.Fatal(err)
			}
			tr := tc.tr
			tr.AccountID, tr.Name, tr.Port, tr.Transport = b.ID, "Beta carrier", 5060, "udp"
			if err := e.db.CreateTrunk(context.Background(), &tr); err != nil {
				t.Fatal(err)
			}
			e.eng.InvalidateTrunks()

			// A's phone is still challenged, dialling A's extension or B's number.
			if code := alice.dial(e, "1002", "", "").finalCode(t); code != 407 {
				t.Errorf("unauthenticated INVITE to 1002 answered %d after B's trunk; want 407", code)
			}
			if code := alice.dial(e, "+15550002000", "", "").finalCode(t); code != 407 {
				t.Errorf("unauthenticated INVITE from a registered phone's address to B's number answered %d; want 407", code)
			}
			// And A's call works.
			c := alice.dial(e, "1002", "alice", "alice-pw-1")
			in := bob.next()
			in.answer(t, "127.0.0.1", 0)
			c.answered(t)
			expectAudio(t, c.rtp, in.rtp, ulawFrame(3), ulawFrame(3))
			if err := c.dlg.Bye(context.Background()); err != nil {
				t.Fatal(err)
			}
			endedWithin(t, in.dlg.Context(), "bob's leg")
		})
	}
}

// catchAllTrunk gives account b a number that hangs up and a trunk trusting every address.
func (e *env) catchAllTrunk(b *switchboard.Account, number string) {
	e.t.Helper()
	num := &switchboard.Number{AccountID: b.ID, Number: number, Status: "active",
		Target: switchboard.Target{Type: switchboard.TargetHangup}}
	if err := e.db.CreateNumber(context.Background(), num); err != nil {
		e.t.Fatal(err)
	}
	tr := &switchboard.Trunk{AccountID: b.ID, Name: "Catch-all", Host: "192.0.2.10", Port: 5060, Transport: "udp",
		InboundAddresses: []string{"0.0.0.0/0"}}
	if err := e.db.CreateTrunk(context.Background(), tr); err != nil {
		e.t.Fatal(err)
	}
	e.eng.InvalidateTrunks()
}

// A trunk vouches only for calls to its own account's numbers: an INVITE for anything else
// from an address it trusts, registered phone or not, is challenged like any phone's.
func TestTrunkVouchesOnlyForItsAccountsNumbers(t *testing.T) {
	e := newEnv(t)
	_, bob, _, _ := twoPhones(t, e)
	carolUser := e.user("1003")
	e.device(carolUser, "carol", "carol-pw-1")
	e.catchAllTrunk(e.otherAccount("Beta"), "+15550002000")

	carol := newUA(t, "127.0.0.3", "carol") // never registered
	if code := carol.dial(e, "1002", "", "").finalCode(t); code != 407 {
		t.Errorf("INVITE to A's extension from an address B's trunk trusts answered %d; want 407", code)
	}
	c := carol.dial(e, "1002", "carol", "carol-pw-1")
	in := bob.next()
	in.answer(t, "127.0.0.1", 0)
	c.answered(t)
	if err := c.dlg.Bye(context.Background()); err != nil {
		t.Fatal(err)
	}
	endedWithin(t, in.dlg.Context(), "bob's leg")
}

// An INVITE that carries credentials is a phone's: it is authenticated, never taken as a
// trunk's, even from an address a trunk of the dialled number's account trusts.
func TestInviteWithCredentialsIsNeverATrunks(t *testing.T) {
	e := newEnv(t)
	e.catchAllTrunk(e.otherAccount("Beta"), "+15550002000")
	status := rawRequest(t, e, "127.0.0.3", func(local string) string {
		return "INVITE sip:+15550002000@" + e.sipAddr + " SIP/2.0\r\n" +
			"Via: SIP/2.0/UDP " + local + ";branch=z9hG4bK-cred-1;rport\r\n" +
			"Max-Forwards: 70\r\n" +
			"From: <sip:mallory@127.0.0.3>;tag=m1\r\n" +
			"To: <sip:+15550002000@" + e.sipAddr + ">\r\n" +
			"Call-ID: cred-1@127.0.0.3\r\n" +
			"CSeq: 1 INVITE\r\n" +
			"Contact: <sip:mallory@" + local + ">\r\n" +
			`Proxy-Authorization: Digest username="mallory", realm="` + switchboard.SIPRealm +
			`", nonce="00", uri="sip:+15550002000@` + e.sipAddr + `", response="00000000000000000000000000000000", qop=auth, nc=00000001, cnonce="c", algorithm=MD5` + "\r\n" +
			"Content-Length: 0\r\n\r\n"
	})
	if !strings.HasPrefix(status, "SIP/2.0 407") {
		t.Errorf("INVITE with wrong credentials answered %q; want 407", status)
	}
}

// rawRequest sends the request text built for its local address from localIP over UDP and
// returns the status line of the final answer.
func rawRequest(t *testing.T, e *env, localIP string, build func(local string) string) string {
	t.Helper()
	conn, err := net.ListenPacket("udp", localIP+":0")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	dst, err := net.ResolveUDPAddr("udp", e.sipAddr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.WriteTo([]byte(build(conn.LocalAddr().String())), dst); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	for {
		if err := conn.SetReadDeadline(time.Now().Add(tstest.DefaultWait)); err != nil {
			t.Fatal(err)
		}
		n, _, err := conn.ReadFrom(buf)
		if err != nil {
			t.Fatalf("no final response: %v", err)
		}
		if status := strings.SplitN(string(buf[:n]), "\r\n", 2)[0]; !strings.HasPrefix(status, "SIP/2.0 1") {
			return status
		}
	}
}

// A carrier names its own domain, not one of ours: while accounts have domains, its
// keep-alive OPTIONS are answered and never count towards a ban; anyone else's OPTIONS for
// that domain is 404.
func TestCarrierOptionsAreNotAnUnknownDomain(t *testing.T) {
	e := newEnv(t)
	e.account.SIPDomain = "acme.test"
	if err := e.db.UpdateAccount(context.Background(), e.account); err != nil {
		t.Fatal(err)
	}
	carrier := newCarrier(t, carrierIP, "acme", "trunk-secret")
	e.trunk(carrier)
	options := func(local string) string {
		return "OPTIONS sip:" + e.sipAddr + " SIP/2.0\r\n" +
			"Via: SIP/2.0/UDP " + local + ";branch=z9hG4bK-" + strings.ReplaceAll(local, ":", "-") + time.Now().Format("150405.000000000") + ";rport\r\n" +
			"Max-Forwards: 70\r\n" +
			"From: <sip:ping@sip.carrier.example>;tag=o1\r\n" +
			"To: <sip:" + e.sipAddr + ">\r\n" +
			"Call-ID: " + time.Now().Format("150405.000000000") + "@carrier\r\n" +
			"CSeq: 1 OPTIONS\r\n" +
			"Content-Length: 0\r\n\r\n"
	}
	for i := range 12 {
		if status := rawRequest(t, e, carrierIP, options); !strings.HasPrefix(status, "SIP/2.0 200") {
			t.Fatalf("carrier's OPTIONS %d answered %q; want 200", i, status)
		}
	}
	if status := rawRequest(t, e, "127.0.0.3", options); !strings.HasPrefix(status, "SIP/2.0 404") {
		t.Errorf("OPTIONS for sip.carrier.example from elsewhere answered %q; want 404", status)
	}
}
