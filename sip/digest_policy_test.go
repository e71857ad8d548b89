package sip

import (
	"context"
	"slices"
	"testing"

	"switchboard"
)

func algorithms(cs []challenge) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.algorithm)
	}
	return out
}

// The default challenge is MD5 alone, what every phone answers (baresip 1.0 fails on any
// SHA-256 challenge; SIPp and many desk phones read only the first). A device set to require
// SHA-256 hears SHA-256 alone, and a right password answered with MD5 is refused, so no MD5
// response of its password is ever accepted.
func TestDeviceThatRequiresSHA256(t *testing.T) {
	e := startServer(t)
	alice := e.user(t, "1001")
	bob := e.user(t, "1002")
	strict := e.device(t, alice, "alice1001", "pw-alice-1")
	if _, err := e.db.UpdateDeviceFunc(context.Background(), strict.AccountID, strict.ID, func(d *switchboard.Device) error {
		d.DigestAlgorithm = switchboard.DigestSHA256
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	e.device(t, bob, "bob1002", "pw-bob-22")

	// The ordinary device and an unknown username: MD5 alone, alike.
	for _, user := range []string{"bob1002", "nobody99"} {
		p := dialPhone(t, "udp", e.udp, "", user, "x")
		if got := algorithms(challenges(t, p.do("REGISTER", p.contactHeader(3600)...), "WWW-Authenticate")); !slices.Equal(got, []string{"MD5"}) {
			t.Errorf("%s challenged with %v, want [MD5]", user, got)
		}
	}
	if res := dialPhone(t, "udp", e.udp, "", "bob1002", "pw-bob-22").register("MD5", "Contact: <sip:bob1002@127.0.0.1:5999>"); res.StatusCode != 200 {
		t.Fatalf("bob with MD5: %d %s, want 200", res.StatusCode, res.Reason)
	}

	p := dialPhone(t, "udp", e.udp, "", "alice1001", "pw-alice-1")
	cs := challenges(t, p.do("REGISTER", p.contactHeader(3600)...), "WWW-Authenticate")
	if got := algorithms(cs); !slices.Equal(got, []string{"SHA-256"}) {
		t.Fatalf("alice (sha-256) challenged with %v, want [SHA-256] alone", got)
	}
	// The right password, hashed with MD5 against that nonce: refused, not registered.
	res := p.do("REGISTER", append([]string{p.auth("MD5", cs[0].nonce, 1)}, p.contactHeader(3600)...)...)
	if res.StatusCode != 403 || res.Reason != forbiddenWeakDigest {
		t.Fatalf("alice answering with MD5: %d %s, want 403 %s", res.StatusCode, res.Reason, forbiddenWeakDigest)
	}
	if cs := e.srv.Contacts(e.account.ID, alice.ID); len(cs) != 0 {
		t.Fatalf("alice registered through an MD5 answer: %+v", cs)
	}
	// SHA-256 registers.
	if res := p.do("REGISTER", append([]string{p.auth("SHA-256", cs[0].nonce, 2)}, p.contactHeader(3600)...)...); res.StatusCode != 200 {
		t.Fatalf("alice with SHA-256: %d %s, want 200", res.StatusCode, res.Reason)
	}

	// Her INVITE: SHA-256 alone in the 407, and an MD5 answer refused.
	invite := p.do("INVITE", "Contact: "+p.contact)
	if invite.StatusCode != 407 {
		t.Fatalf("INVITE: got %d, want 407", invite.StatusCode)
	}
	ics := challenges(t, invite, "Proxy-Authenticate")
	if got := algorithms(ics); !slices.Equal(got, []string{"SHA-256"}) {
		t.Fatalf("alice's INVITE challenged with %v, want [SHA-256] alone", got)
	}
	p.send(p.request("ACK"))
	auth := digestHeader("Proxy-Authorization", "MD5", "alice1001", "pw-alice-1", "INVITE", "sip:"+p.server, ics[0].nonce, 1)
	if res := p.do("INVITE", auth, "Contact: "+p.contact); res.StatusCode != 403 || res.Reason != forbiddenWeakDigest {
		t.Fatalf("alice's INVITE answered with MD5: %d %s, want 403", res.StatusCode, res.Reason)
	}
	if got := e.counter(t, e.srv.metrics.authFailures); got != 0 {
		t.Errorf("auth failures = %v, want 0: a right password in the wrong digest is not a guess", got)
	}
}

// ParseDigest reads --sip-digest: the orders it names, and a clear error otherwise.
func TestParseDigest(t *testing.T) {
	for in, want := range map[string][]string{
		"md5": {"MD5"}, "sha256": {"SHA-256"}, "sha256,md5": {"SHA-256", "MD5"}, "md5, sha-256": {"MD5", "SHA-256"},
	} {
		got, err := ParseDigest(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("ParseDigest(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "sha1", "md5,md5", "md5,,sha256"} {
		if _, err := ParseDigest(in); err == nil {
			t.Errorf("ParseDigest(%q) accepted", in)
		}
	}
}
