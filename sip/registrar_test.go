package sip

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"switchboard/internal/tstest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"switchboard"
	"switchboard/store/storetest"
)

func TestRegisterWithMD5AndSHA256(t *testing.T) {
	for _, tc := range []struct{ network, alg string }{
		{"udp", "MD5"}, {"udp", "SHA-256"}, {"tcp", "MD5"}, {"tcp", "SHA-256"},
	} {
		t.Run(tc.network+"/"+tc.alg, func(t *testing.T) {
			// The default challenge is MD5 alone (every phone answers it); SHA-256 is
			// offered when the operator asks for RFC 8760's order.
			want := []string{"MD5"}
			var mutate []func(*Config)
			if tc.alg == "SHA-256" {
				want = []string{"SHA-256", "MD5"}
				mutate = append(mutate, func(c *Config) { c.Digest = "sha256,md5" })
			}
			e := startServer(t, mutate...)
			u := e.user(t, "1001")
			e.device(t, u, "alice1001", "s3cret-pass")
			addr := e.udp
			if tc.network == "tcp" {
				addr = e.tcp
			}
			p := dialPhone(t, tc.network, addr, "", "alice1001", "s3cret-pass")

			first := p.do("REGISTER", p.contactHeader(3600)...)
			if first.StatusCode != 401 {
				t.Fatalf("unauthenticated REGISTER: got %d, want 401", first.StatusCode)
			}
			cs := challenges(t, first, "WWW-Authenticate")
			var got []string
			for _, c := range cs {
				got = append(got, c.algorithm)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("challenges %+v: want %v", cs, want)
			}
			for _, c := range cs {
				if c.realm != switchboard.SIPRealm || c.qop != "auth" || c.nonce == "" || c.stale {
					t.Errorf("challenge %+v: want realm %q, qop auth, a nonce, not stale", c, switchboard.SIPRealm)
				}
			}

			c := pick(t, cs, tc.alg)
			res := p.do("REGISTER", append([]string{p.auth(tc.alg, c.nonce, 1)}, p.contactHeader(3600)...)...)
			if res.StatusCode != 200 {
				t.Fatalf("authenticated REGISTER: got %d %s, want 200", res.StatusCode, res.Reason)
			}
			contacts := headerValues(res, "Contact")
			if len(contacts) != 1 || !strings.Contains(contacts[0], "alice1001@") || !strings.HasSuffix(contacts[0], ";expires=3600") {
				t.Errorf("200 Contact = %q, want the registered contact with expires=3600", contacts)
			}
			if on, ch := e.srv.UserPresence(e.account.ID, u.ID); !on || ch == nil || len(ch) != 0 {
				t.Errorf("UserPresence = %v, %v; want true with no channels", on, ch)
			}
			if got := e.counter(t, e.srv.metrics.registrations); got != 1 {
				t.Errorf("registrations gauge = %v, want 1", got)
			}
		})
	}
}

// Wrong password and unknown username must look the same on the wire: same status, same
// headers, challenges that differ only in their random nonce.
func TestWrongPasswordAndUnknownUserAnswerAlike(t *testing.T) {
	e := startServer(t)
	u := e.user(t, "1001")
	e.device(t, u, "alice1001", "right-password")

	shape := func(p *phone) string {
		t.Helper()
		first := p.do("REGISTER", p.contactHeader(3600)...)
		c := pick(t, challenges(t, first, "WWW-Authenticate"), "MD5")
		res := p.do("REGISTER", append([]string{p.auth("MD5", c.nonce, 1)}, p.contactHeader(3600)...)...)
		var b strings.Builder
		fmt.Fprintf(&b, "%d %s\n", res.StatusCode, res.Reason)
		nonceRE := regexp.MustCompile(`nonce="[^"]*"`)
		for _, h := range res.Headers() {
			v := h.Value()
			switch h.Name() {
			case "Via", "From", "To", "Call-ID", "CSeq", "Date":
				v = "(echo)"
			case "WWW-Authenticate":
				v = nonceRE.ReplaceAllString(v, `nonce="N"`)
			}
			fmt.Fprintf(&b, "%s: %s\n", h.Name(), v)
		}
		return b.String()
	}
	wrong := shape(dialPhone(t, "udp", e.udp, "", "alice1001", "wrong-password"))
	unknown := shape(dialPhone(t, "udp", e.udp, "", "nobody", "whatever"))
	if !strings.HasPrefix(wrong, "401 ") {
		t.Fatalf("wrong password answered:\n%s", wrong)
	}
	if wrong != unknown {
		t.Errorf("wrong password and unknown user differ:\nwrong password:\n%s\nunknown user:\n%s", wrong, unknown)
	}
	if got := e.counter(t, e.srv.metrics.authFailures); got != 2 {
		t.Errorf("auth failures = %v, want 2", got)
	}
	if on, _ := e.srv.UserPresence(e.account.ID, u.ID); on {
		t.Error("user online after a wrong password")
	}
}

func TestNonceCountReplayIsRefused(t *testing.T) {
	e := startServer(t)
	u := e.user(t, "1001")
	e.device(t, u, "alice1001", "pw-123456")
	p := dialPhone(t, "udp", e.udp, "", "alice1001", "pw-123456")

	c := pick(t, challenges(t, p.do("REGISTER", p.contactHeader(3600)...), "WWW-Authenticate"), "MD5")
	if res := p.do("REGISTER", append([]string{p.auth("MD5", c.nonce, 1)}, p.contactHeader(3600)...)...); res.StatusCode != 200 {
		t.Fatalf("nc=1: got %d, want 200", res.StatusCode)
	}
	// The same nonce and nc in a new transaction is a replay.
	res := p.do("REGISTER", append([]string{p.auth("MD5", c.nonce, 1)}, p.contactHeader(3600)...)...)
	if res.StatusCode != 401 {
		t.Fatalf("replayed nc=1: got %d, want 401", res.StatusCode)
	}
	for _, ch := range challenges(t, res, "WWW-Authenticate") {
		if ch.stale || ch.nonce == c.nonce {
			t.Errorf("replay answered with %+v; want a fresh, not stale, nonce", ch)
		}
	}
	if got := e.outcomes(outcomeReplay); got != 1 {
		t.Errorf("replay outcomes = %v, want 1", got)
	}
	// Counting up with the same nonce is what phones do, and is accepted.
	if res := p.do("REGISTER", append([]string{p.auth("MD5", c.nonce, 2)}, p.contactHeader(3600)...)...); res.StatusCode != 200 {
		t.Fatalf("nc=2: got %d, want 200", res.StatusCode)
	}
}

func TestExpiredNonceIsStale(t *testing.T) {
	e := startServer(t, func(c *Config) { c.NonceTTL = time.Minute })
	u := e.user(t, "1001")
	e.device(t, u, "alice1001", "pw-123456")
	p := dialPhone(t, "udp", e.udp, "", "alice1001", "pw-123456")

	c := pick(t, challenges(t, p.do("REGISTER", p.contactHeader(3600)...), "WWW-Authenticate"), "MD5")
	e.clock.Advance(61 * time.Second)
	res := p.do("REGISTER", append([]string{p.auth("MD5", c.nonce, 1)}, p.contactHeader(3600)...)...)
	if res.StatusCode != 401 {
		t.Fatalf("expired nonce: got %d, want 401", res.StatusCode)
	}
	cs := challenges(t, res, "WWW-Authenticate")
	if len(cs) != 1 || !cs[0].stale {
		t.Fatalf("expired nonce challenges %+v: want one, stale=true", cs)
	}
	if got := e.counter(t, e.srv.metrics.authFailures); got != 0 {
		t.Errorf("a stale nonce with the right password counted as %v auth failures, want 0", got)
	}
	// The phone answers the new nonce and is in.
	if res := p.do("REGISTER", append([]string{p.auth("MD5", cs[0].nonce, 1)}, p.contactHeader(3600)...)...); res.StatusCode != 200 {
		t.Fatalf("fresh nonce after stale: got %d, want 200", res.StatusCode)
	}
}

func TestExpiryAndUnregisterChangePresence(t *testing.T) {
	e := startServer(t)
	u := e.user(t, "1001")
	e.device(t, u, "alice1001", "pw-123456")
	p := dialPhone(t, "udp", e.udp, "", "alice1001", "pw-123456")
	online := func() bool { on, _ := e.srv.UserPresence(e.account.ID, u.ID); return on }

	if res := p.register("MD5", p.contactHeader(120)...); res.StatusCode != 200 {
		t.Fatalf("register: %d", res.StatusCode)
	}
	if !online() {
		t.Fatal("not online after REGISTER")
	}
	e.clock.Advance(119 * time.Second)
	if !online() {
		t.Fatal("offline 1 s before the registration expires")
	}
	e.clock.Advance(time.Second)
	if online() {
		t.Fatal("still online when the registration expired")
	}
	if got := e.counter(t, e.srv.metrics.registrations); got != 0 {
		t.Errorf("registrations gauge after the expiry = %v, want 0", got)
	}
	e.srv.sweep(context.Background())
	evs := e.presenceEvents(t)
	if len(evs) != 2 || evs[0].Data["online"] != true || evs[1].Data["online"] != false {
		t.Fatalf("presence events after expiry = %v, want online then offline", eventData(evs))
	}

	// Un-register with Expires: 0.
	if res := p.register("MD5", p.contactHeader(3600)...); res.StatusCode != 200 || !online() {
		t.Fatalf("re-register: %d, online %v", res.StatusCode, online())
	}
	res := p.register("MD5", p.contactHeader(0)...)
	if res.StatusCode != 200 || len(headerValues(res, "Contact")) != 0 {
		t.Fatalf("un-register: %d with contacts %q, want 200 and none", res.StatusCode, headerValues(res, "Contact"))
	}
	if online() {
		t.Fatal("online after Expires: 0")
	}

	// Un-register everything with Contact: *.
	p.register("MD5", p.contactHeader(3600)...)
	if res := p.register("MD5", "Contact: *"); res.StatusCode != 400 {
		t.Errorf("Contact: * without Expires: 0: got %d, want 400", res.StatusCode)
	}
	if !online() {
		t.Fatal("a refused Contact: * changed the registration")
	}
	if res := p.register("MD5", "Contact: *", "Expires: 0"); res.StatusCode != 200 {
		t.Fatalf("Contact: *: got %d, want 200", res.StatusCode)
	}
	if online() {
		t.Fatal("online after Contact: *")
	}
	evs = e.presenceEvents(t)
	if len(evs) != 6 {
		t.Fatalf("presence events = %v, want 3 online/offline pairs", eventData(evs))
	}
	for i, ev := range evs {
		if want := i%2 == 0; ev.Data["online"] != want {
			t.Errorf("event %d online = %v, want %v", i, ev.Data["online"], want)
		}
		if ev.Data["extension"] != "1001" || fmt.Sprint(ev.Data["user_id"]) != fmt.Sprint(u.ID) {
			t.Errorf("event %d data = %v, want extension 1001 and user_id %d", i, ev.Data, u.ID)
		}
		if !ev.OccurredAt.Equal(e.clock.Now()) && ev.OccurredAt.After(e.clock.Now()) {
			t.Errorf("event %d occurred at %v, after the clock's now %v", i, ev.OccurredAt, e.clock.Now())
		}
	}
}

func eventData(evs []*switchboard.Event) []map[string]any {
	out := make([]map[string]any, len(evs))
	for i, ev := range evs {
		out[i] = ev.Data
	}
	return out
}

func TestTwoDevicesOfOneUser(t *testing.T) {
	e := startServer(t)
	u := e.user(t, "1001")
	e.device(t, u, "alice-desk", "pw-desk-1")
	e.device(t, u, "alice-soft", "pw-soft-1")
	desk := dialPhone(t, "udp", e.udp, "", "alice-desk", "pw-desk-1")
	soft := dialPhone(t, "tcp", e.tcp, "", "alice-soft", "pw-soft-1")
	online := func() bool { on, _ := e.srv.UserPresence(e.account.ID, u.ID); return on }

	desk.register("MD5", desk.contactHeader(3600)...)
	soft.register("MD5", soft.contactHeader(3600)...)
	if got := e.counter(t, e.srv.metrics.registered); got != 2 {
		t.Errorf("registered devices = %v, want 2", got)
	}
	desk.register("MD5", desk.contactHeader(0)...)
	if !online() {
		t.Fatal("offline while the softphone is still registered")
	}
	if got := e.counter(t, e.srv.metrics.registered); got != 1 {
		t.Errorf("registered devices after the desk phone un-registered = %v, want 1", got)
	}
	soft.register("MD5", soft.contactHeader(0)...)
	if online() {
		t.Fatal("online with no device registered")
	}
	evs := e.presenceEvents(t)
	if len(evs) != 2 {
		t.Fatalf("presence events = %v, want exactly online then offline", eventData(evs))
	}
	if evs[0].Data["online"] != true || fmt.Sprint(evs[0].Data["devices"]) != "1" ||
		evs[1].Data["online"] != false || fmt.Sprint(evs[1].Data["devices"]) != "0" {
		t.Errorf("presence events = %v", eventData(evs))
	}
}

func TestSeveralContactsOfOneDevice(t *testing.T) {
	e := startServer(t)
	u := e.user(t, "1001")
	e.device(t, u, "alice1001", "pw-123456")
	p := dialPhone(t, "udp", e.udp, "", "alice1001", "pw-123456")
	res := p.register("MD5", "Contact: <sip:alice1001@192.0.2.10:5060>;expires=600, <sip:alice1001@192.0.2.11:5070>", "Expires: 1200")
	if res.StatusCode != 200 {
		t.Fatalf("register two contacts: %d", res.StatusCode)
	}
	got := headerValues(res, "Contact")
	want := []string{"<sip:alice1001@192.0.2.10:5060>;expires=600", "<sip:alice1001@192.0.2.11:5070>;expires=1200"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("Contact = %q, want %q", got, want)
	}
	// A REGISTER without Contact lists the bindings, with what is left of each.
	e.clock.Advance(100 * time.Second)
	res = p.register("MD5")
	got = headerValues(res, "Contact")
	want = []string{"<sip:alice1001@192.0.2.10:5060>;expires=500", "<sip:alice1001@192.0.2.11:5070>;expires=1100"}
	if res.StatusCode != 200 || strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("query: %d Contact = %q, want 200 %q", res.StatusCode, got, want)
	}
}

func TestExpiresLimits(t *testing.T) {
	e := startServer(t)
	u := e.user(t, "1001")
	e.device(t, u, "alice1001", "pw-123456")
	p := dialPhone(t, "udp", e.udp, "", "alice1001", "pw-123456")

	res := p.register("MD5", p.contactHeader(30)...)
	if res.StatusCode != 423 || headerValues(res, "Min-Expires")[0] != "60" {
		t.Fatalf("Expires 30: got %d Min-Expires %q, want 423 and 60", res.StatusCode, headerValues(res, "Min-Expires"))
	}
	if on, _ := e.srv.UserPresence(e.account.ID, u.ID); on {
		t.Fatal("a 423 registered the phone")
	}
	res = p.register("MD5", p.contactHeader(100000)...)
	if c := headerValues(res, "Contact"); res.StatusCode != 200 || len(c) != 1 || !strings.HasSuffix(c[0], ";expires=3600") {
		t.Fatalf("Expires 100000: got %d %q, want 200 capped at 3600", res.StatusCode, c)
	}
	// No Expires at all: the default.
	res = p.register("MD5", "Contact: "+p.contact)
	if c := headerValues(res, "Contact"); res.StatusCode != 200 || !strings.HasSuffix(c[0], ";expires=3600") {
		t.Fatalf("no Expires: got %d %q, want 200 with the default 3600", res.StatusCode, c)
	}
	if res := p.register("MD5", "Contact: "+p.contact, "Expires: soon"); res.StatusCode != 400 {
		t.Errorf("Expires: soon: got %d, want 400", res.StatusCode)
	}
}

func TestToMustMatchCredentials(t *testing.T) {
	e := startServer(t)
	u := e.user(t, "1001")
	e.device(t, u, "alice1001", "pw-123456")
	v := e.user(t, "1002")
	e.device(t, v, "bob1002", "pw-654321")
	// Alice's credentials, Bob's address of record.
	p := dialPhone(t, "udp", e.udp, "", "alice1001", "pw-123456")
	p.user = "bob1002"
	first := p.do("REGISTER", p.contactHeader(3600)...)
	c := pick(t, challenges(t, first, "WWW-Authenticate"), "MD5")
	auth := digestHeader("Authorization", "MD5", "alice1001", "pw-123456", "REGISTER", "sip:"+p.server, c.nonce, 1)
	if res := p.do("REGISTER", append([]string{auth}, p.contactHeader(3600)...)...); res.StatusCode != 403 {
		t.Fatalf("REGISTER of another AOR: got %d, want 403", res.StatusCode)
	}
	if on, _ := e.srv.UserPresence(e.account.ID, v.ID); on {
		t.Fatal("Bob registered with Alice's password")
	}
}

// TestRegistrationsSurviveRestart: a server started on the store of one that stopped knows
// the phones registered with it (they re-register only when their expiry runs out), without
// announcing them again, and announces offline a user whose registration ran out.
func TestRegistrationsSurviveRestart(t *testing.T) {
	db := storetest.NewSQLite(t)
	first := startServerOn(t, db)
	alice, bob := first.user(t, "1001"), first.user(t, "1002")
	aliceDesk := first.device(t, alice, "alice1001", "pw-alice-1")
	first.device(t, bob, "bob1002", "pw-bob-1")
	ap := dialPhone(t, "udp", first.udp, "", "alice1001", "pw-alice-1")
	if res := ap.register("MD5", ap.contactHeader(3600)...); res.StatusCode != 200 {
		t.Fatalf("alice register: %d", res.StatusCode)
	}
	bp := dialPhone(t, "tcp", first.tcp, "", "bob1002", "pw-bob-1")
	if res := bp.register("MD5", bp.contactHeader(120)...); res.StatusCode != 200 {
		t.Fatalf("bob register: %d", res.StatusCode)
	}
	before := first.srv.deviceBindings(aliceDesk)
	first.stop()

	second := startServerOn(t, db)
	presence := func(u *switchboard.User) bool { on, _ := second.srv.UserPresence(u.AccountID, u.ID); return on }
	if !presence(alice) || !presence(bob) {
		t.Fatalf("after the restart alice online %v, bob online %v; want both still registered", presence(alice), presence(bob))
	}
	if diff := cmp.Diff(before, second.srv.deviceBindings(aliceDesk), cmp.AllowUnexported(binding{})); diff != "" {
		t.Errorf("alice's binding after the restart (-before +after):\n%s", diff)
	}
	if got := second.counter(t, second.srv.metrics.registered); got != 2 {
		t.Errorf("registered devices gauge after the restart = %v, want 2", got)
	}
	if evs := first.presenceEvents(t); len(evs) != 2 { // the users are of the first server's account
		t.Fatalf("presence events = %v, want the two online events of before the restart only", eventData(evs))
	}

	// Bob's 120 s run out; the sweep announces him offline and the store forgets him.
	second.clock.Advance(121 * time.Second)
	second.srv.sweep(context.Background())
	if presence(bob) || !presence(alice) {
		t.Fatalf("after bob's expiry: alice online %v, bob online %v", presence(alice), presence(bob))
	}
	evs := first.presenceEvents(t)
	if len(evs) != 3 || evs[2].Data["online"] != false || evs[2].Data["extension"] != "1002" {
		t.Fatalf("presence events = %v, want bob's offline event last", eventData(evs))
	}
	stored, err := db.ListRegistrations(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != 1 || stored[0].DeviceID != aliceDesk.ID {
		t.Fatalf("stored registrations after the sweep = %+v, want alice's only", stored)
	}
}

// A REGISTER's transaction ends as soon as it is answered (handleRegister), so a UDP
// retransmission of an authenticated REGISTER whose 200 was lost reaches the registrar
// again: it must get the same answer, not be refused as a replay of its nonce count. After
// Timer F no client retransmits, and the same bytes are a replay.
func TestRetransmittedRegisterGetsTheSameAnswer(t *testing.T) {
	e := startServer(t, func(c *Config) { c.NonceTTL = 10 * time.Minute })
	u := e.user(t, "1001")
	e.device(t, u, "alice1001", "pw-123456")
	p := dialPhone(t, "udp", e.udp, "", "alice1001", "pw-123456")

	c := pick(t, challenges(t, p.do("REGISTER", p.contactHeader(3600)...), "WWW-Authenticate"), "MD5")
	msg := p.request("REGISTER", append([]string{p.auth("MD5", c.nonce, 1)}, p.contactHeader(3600)...)...)
	for i := range 6 {
		attempt := "first"
		if i > 0 {
			attempt = fmt.Sprintf("retransmission %d", i)
		}
		p.send(msg)
		res := p.read()
		if res.StatusCode != 200 {
			t.Fatalf("%s: got %d %s, want 200", attempt, res.StatusCode, res.Reason)
		}
		if cs := headerValues(res, "Contact"); len(cs) != 1 || !strings.Contains(cs[0], "alice1001@") {
			t.Errorf("%s: Contact = %q, want the registered contact", attempt, cs)
		}
	}
	if got := e.outcomes(outcomeReplay); got != 0 {
		t.Errorf("replay outcomes = %v, want 0", got)
	}

	e.clock.Advance(retransmitWindow + time.Second)
	// The last send's transaction may still be ending (the handler ends it once it has
	// answered): until then sipgo itself answers a retransmission with the same 200. The
	// registrar must refuse the request once it reaches it.
	tstest.WaitFor(t, "the same REGISTER after Timer F refused 401", func() bool {
		p.send(msg)
		res := p.read()
		if res.StatusCode != 200 && res.StatusCode != 401 {
			t.Fatalf("same REGISTER after Timer F: got %d %s, want 401", res.StatusCode, res.Reason)
		}
		return res.StatusCode == 401
	})
	if got := e.outcomes(outcomeReplay); got != 1 {
		t.Errorf("replay outcomes = %v, want 1", got)
	}
}
