package main

import (
	"net"
	"net/netip"
	"strconv"
)

// phoneAddresses tells a newcomer which address to give their phones. When SIP listens on
// loopback (the default), only phones on this machine can reach it: the hint names this
// machine's other addresses, one of which --sip should be given for phones elsewhere on the
// network. It returns the address phones use now and, with SIP on loopback, the suggestions.
func phoneAddresses(listening net.Addr) (use string, suggestions []string) {
	ap, err := netip.ParseAddrPort(listening.String())
	if err != nil {
		return listening.String(), nil
	}
	use = ap.String()
	if !ap.Addr().IsLoopback() {
		return use, nil
	}
	port := strconv.Itoa(int(ap.Port()))
	for _, ip := range machineAddresses() {
		suggestions = append(suggestions, net.JoinHostPort(ip.String(), port))
	}
	return use, suggestions
}

// machineAddresses lists this machine's unicast addresses other than loopback and
// link-local ones, IPv4 first.
func machineAddresses() []netip.Addr {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var v4, v6 []netip.Addr
	for _, a := range addrs {
		prefix, err := netip.ParsePrefix(a.String())
		if err != nil {
			continue
		}
		ip := prefix.Addr()
		if ip.IsLoopback() || ip.IsLinkLocalUnicast() || ip.IsMulticast() || ip.IsUnspecified() {
			continue
		}
		if ip.Is4() {
			v4 = append(v4, ip)
		} else {
			v6 = append(v6, ip)
		}
	}
	return append(v4, v6...)
}

// logPhoneAddresses says, once SIP listens, which address phones register at.
func (m *Main) logPhoneAddresses() {
	addr := m.SIPUDPAddr()
	if addr == nil {
		return
	}
	use, suggestions := phoneAddresses(addr)
	if len(suggestions) == 0 {
		m.logger.Info("phones register at this SIP address, UDP or TCP", "sip", use)
		return
	}
	m.logger.Info("SIP listens on loopback: only phones on this machine can register; "+
		"for phones elsewhere on your network, restart with --sip set to one of this machine's addresses",
		"sip", use, "addresses", suggestions)
}
