package sip

import (
	"io"
	"net"
	"net/netip"
	"sync"
	"time"
)

// BanPolicy says when a source address that keeps failing authentication is shut out.
// Zero fields take the defaults: 10 failures within 60 s ban the address for 15 minutes.
type BanPolicy struct {
	MaxFailures int           // failures within Window that trigger a ban
	Window      time.Duration // counting window, starting at the first failure
	BanFor      time.Duration // how long packets from the address are dropped
	// MaxTracked caps the number of addresses with failures or bans kept in memory.
	// Default 65,536; when full the oldest entries are dropped first.
	MaxTracked int
}

func (p BanPolicy) withDefaults() BanPolicy {
	if p.MaxFailures <= 0 {
		p.MaxFailures = 10
	}
	if p.Window <= 0 {
		p.Window = 60 * time.Second
	}
	if p.BanFor <= 0 {
		p.BanFor = 15 * time.Minute
	}
	if p.MaxTracked <= 0 {
		p.MaxTracked = 65536
	}
	return p
}

// banList counts authentication failures per source IP and bans addresses that exceed the
// policy. Memory is bounded by MaxTracked entries in each table.
type banList struct {
	policy BanPolicy
	now    func() time.Time

	mu       sync.Mutex
	failures map[netip.Addr]*failureCount
	banned   map[netip.Addr]time.Time // until
}

type failureCount struct {
	n     int
	since time.Time
}

func newBanList(p BanPolicy, now func() time.Time) *banList {
	return &banList{policy: p.withDefaults(), now: now,
		failures: make(map[netip.Addr]*failureCount), banned: make(map[netip.Addr]time.Time)}
}

// isBanned is on the read path of every packet, so it stays a map lookup.
func (b *banList) isBanned(ip netip.Addr) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	until, ok := b.banned[ip]
	if !ok {
		return false
	}
	if b.now().Before(until) {
		return true
	}
	delete(b.banned, ip)
	return false
}

// fail records one failure and reports whether it banned the address.
func (b *banList) fail(ip netip.Addr) (bannedNow bool) {
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	f, ok := b.failures[ip]
	if ok && now.Sub(f.since) >= b.policy.Window {
		ok = false
	}
	if !ok {
		if len(b.failures) >= b.policy.MaxTracked {
			b.evictFailuresLocked(now)
		}
		f = &failureCount{since: now}
		b.failures[ip] = f
	}
	f.n++
	if f.n < b.policy.MaxFailures {
		return false
	}
	delete(b.failures, ip)
	if len(b.banned) >= b.policy.MaxTracked {
		b.evictBansLocked(now)
	}
	b.banned[ip] = now.Add(b.policy.BanFor)
	return true
}

// evictFailuresLocked drops stale windows, and if none are stale the oldest one, so a flood
// of sources cannot grow the table.
func (b *banList) evictFailuresLocked(now time.Time) {
	var oldest netip.Addr
	var oldestSince time.Time
	for ip, f := range b.failures {
		if now.Sub(f.since) >= b.policy.Window {
			delete(b.failures, ip)
			continue
		}
		if !oldest.IsValid() || f.since.Before(oldestSince) {
			oldest, oldestSince = ip, f.since
		}
	}
	if len(b.failures) >= b.policy.MaxTracked && oldest.IsValid() {
		delete(b.failures, oldest)
	}
}

func (b *banList) evictBansLocked(now time.Time) {
	var soonest netip.Addr
	var soonestUntil time.Time
	for ip, until := range b.banned {
		if !now.Before(until) {
			delete(b.banned, ip)
			continue
		}
		if !soonest.IsValid() || until.Before(soonestUntil) {
			soonest, soonestUntil = ip, until
		}
	}
	if len(b.banned) >= b.policy.MaxTracked && soonest.IsValid() {
		delete(b.banned, soonest)
	}
}

// prune drops expired bans and windows; the sweeper calls it.
func (b *banList) prune() {
	now := b.now()
	b.mu.Lock()
	defer b.mu.Unlock()
	for ip, f := range b.failures {
		if now.Sub(f.since) >= b.policy.Window {
			delete(b.failures, ip)
		}
	}
	for ip, until := range b.banned {
		if !now.Before(until) {
			delete(b.banned, ip)
		}
	}
}

func addrIP(a net.Addr) netip.Addr {
	switch v := a.(type) {
	case *net.UDPAddr:
		ip, _ := netip.AddrFromSlice(v.IP)
		return ip.Unmap()
	case *net.TCPAddr:
		ip, _ := netip.AddrFromSlice(v.IP)
		return ip.Unmap()
	}
	ap, err := netip.ParseAddrPort(a.String())
	if err != nil {
		return netip.Addr{}
	}
	return ap.Addr().Unmap()
}

// filteredPacketConn drops datagrams from banned sources before sipgo sees (and parses)
// them.
type filteredPacketConn struct {
	net.PacketConn              // the listener (a *net.UDPConn), for writes and the rest
	in             *batchReader // reads many datagrams to a system call (udpbatch.go)
	bans           *banList
	dropped        func()
	last           *lastDatagram // what was handed on last, for the parse failure it may cause
	fast           *udpRegistrar // takes REGISTERs from known sources past sipgo (fastregister.go)
}

// ReadFrom hands sipgo the next datagram that is neither banned nor taken by the fast
// path; only those get a net.Addr.
func (c *filteredPacketConn) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		data, src, err := c.in.read()
		if err != nil {
			return 0, nil, err
		}
		ip := src.Addr() // unmapped by read
		if c.bans.isBanned(ip) {
			c.dropped()
			continue
		}
		if c.fast != nil && c.fast.take(data, src) {
			continue
		}
		n := copy(p, data)
		c.last.set(ip, p[:n])
		return n, net.UDPAddrFromAddrPort(src), nil
	}
}

// filteredListener refuses TCP connections from banned sources, and its connections stop
// reading as soon as their source is banned.
type filteredListener struct {
	net.Listener
	bans    *banList
	dropped func()
	reads   *recentReads // what connections read, for the parse failures it may cause
}

func (l *filteredListener) Accept() (net.Conn, error) {
	for {
		conn, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		ip := addrIP(conn.RemoteAddr())
		if l.bans.isBanned(ip) {
			l.dropped()
			conn.Close()
			continue
		}
		return &filteredConn{Conn: conn, ip: ip, bans: l.bans, dropped: l.dropped, reads: l.reads}, nil
	}
}

type filteredConn struct {
	net.Conn
	ip      netip.Addr
	bans    *banList
	dropped func()
	reads   *recentReads
}

// Read ends the stream once the peer is banned: what it sent is never parsed, and sipgo
// closes the connection on EOF.
func (c *filteredConn) Read(p []byte) (int, error) {
	if c.bans.isBanned(c.ip) {
		c.dropped()
		return 0, io.EOF
	}
	n, err := c.Conn.Read(p)
	if n > 0 && c.bans.isBanned(c.ip) {
		c.dropped()
		return 0, io.EOF
	}
	if n > 0 {
		c.reads.add(c.ip, p[:n])
	}
	return n, err
}
