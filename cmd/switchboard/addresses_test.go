package main

import (
	"net"
	"slices"
	"testing"
)

// On loopback (the default --sip) the hint lists this machine's other addresses with the
// SIP port, never a loopback one; on any other address there is nothing to suggest.
func TestPhoneAddressesSuggestTheMachinesAddressesOnlyOnLoopback(t *testing.T) {
	use, suggestions := phoneAddresses(&net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5060})
	if use != "127.0.0.1:5060" {
		t.Errorf("use = %q", use)
	}
	want := []string{}
	for _, ip := range machineAddresses() {
		want = append(want, net.JoinHostPort(ip.String(), "5060"))
	}
	if !slices.Equal(suggestions, want) && !(len(suggestions) == 0 && len(want) == 0) {
		t.Errorf("suggestions %v, want %v", suggestions, want)
	}
	for _, s := range suggestions {
		host, _, _ := net.SplitHostPort(s)
		if ip := net.ParseIP(host); ip == nil || ip.IsLoopback() {
			t.Errorf("suggested %q: not a usable address", s)
		}
	}
	if _, s := phoneAddresses(&net.UDPAddr{IP: net.IPv4(192, 0, 2, 7), Port: 5060}); len(s) != 0 {
		t.Errorf("suggestions for a LAN address: %v, want none", s)
	}
}
