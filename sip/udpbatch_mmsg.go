//go:build linux && (amd64 || arm64)

package sip

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mmsgConn calls recvmmsg and sendmmsg on the listener's socket itself, with
// unix.RawSyscall6: the socket is non-blocking (Go's netpoller waits for it), so a call
// never blocks, and a raw call keeps the thread's P. Through the runtime's Syscall
// (golang.org/x/net's batch calls), a sendmmsg that delivers 32 datagrams over loopback
// lasts long enough for sysmon to take the P away and hand it to another thread: under SIPp,
// sysmon polling every 20 µs and the thread switches it caused took about a fifth of the
// registrar's CPU (perf, docs/benchmarks.md). It also reads and writes addresses as
// netip.AddrPort in place, where golang.org/x/net allocated a net.UDPAddr per datagram.
type mmsgConn struct {
	rc     syscall.RawConn
	inet6  bool        // an AF_INET6 socket (Go makes one for a wildcard address), else AF_INET
	rd, wr mmsgScratch // the reading goroutine's, the writer's
}

// mmsgScratch is the kernel's view of one batch: headers, one buffer each, addresses.
type mmsgScratch struct {
	hdrs  [udpBatch]unix.Mmsghdr
	iovs  [udpBatch]unix.Iovec
	names [udpBatch]unix.RawSockaddrInet6 // large enough for an IPv4 address too
}

func newBatchConn(c *net.UDPConn) (batchConn, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	var domain int
	cerr := rc.Control(func(fd uintptr) { domain, err = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_DOMAIN) })
	if err = errors.Join(cerr, err); err != nil {
		return nil, err
	}
	return &mmsgConn{rc: rc, inet6: domain == unix.AF_INET6}, nil
}

func (c *mmsgConn) readBatch(ds []datagram) (int, error) {
	s := &c.rd
	n := min(len(ds), udpBatch)
	for i := range n {
		s.iovs[i] = unix.Iovec{Base: &ds[i].buf[0]}
		s.iovs[i].SetLen(len(ds[i].buf))
		s.hdrs[i] = unix.Mmsghdr{Hdr: unix.Msghdr{Name: (*byte)(unsafe.Pointer(&s.names[i])), Namelen: unix.SizeofSockaddrInet6, Iov: &s.iovs[i]}}
		s.hdrs[i].Hdr.SetIovlen(1)
	}
	got, err := c.call(unix.SYS_RECVMMSG, &s.hdrs[0], n, c.rc.Read)
	for i := range got {
		ds[i].n = int(s.hdrs[i].Len)
		ds[i].addr = sockaddrToAddrPort(&s.names[i])
	}
	return got, err
}

func (c *mmsgConn) writeBatch(ds []datagram) (int, error) {
	s := &c.wr
	n := min(len(ds), udpBatch)
	for i := range n {
		s.iovs[i] = unix.Iovec{Base: unsafe.SliceData(ds[i].buf)}
		s.iovs[i].SetLen(len(ds[i].buf))
		namelen := c.sockaddr(ds[i].addr, &s.names[i])
		s.hdrs[i] = unix.Mmsghdr{Hdr: unix.Msghdr{Name: (*byte)(unsafe.Pointer(&s.names[i])), Namelen: namelen, Iov: &s.iovs[i]}}
		s.hdrs[i].Hdr.SetIovlen(1)
	}
	return c.call(unix.SYS_SENDMMSG, &s.hdrs[0], n, c.rc.Write)
}

// call makes one recvmmsg or sendmmsg of n headers, waiting in the netpoller (through the
// RawConn's Read or Write) while the socket has nothing to read or no room to write.
func (c *mmsgConn) call(trap uintptr, hdrs *unix.Mmsghdr, n int, wait func(func(uintptr) bool) error) (int, error) {
	var got int
	var errno syscall.Errno
	err := wait(func(fd uintptr) bool {
		r, _, e := unix.RawSyscall6(trap, fd, uintptr(unsafe.Pointer(hdrs)), uintptr(n), unix.MSG_DONTWAIT, 0, 0)
		if e == unix.EAGAIN || e == unix.EINTR {
			return false
		}
		got, errno = int(r), e
		return true
	})
	if err != nil {
		return 0, err
	}
	if errno != 0 {
		return 0, errno
	}
	return got, nil
}

// sockaddrToAddrPort reads the source the kernel wrote, an IPv4 or IPv6 address (an IPv4
// source on a dual-stack socket comes as ::ffff:a.b.c.d; batchReader.read unmaps it).
func sockaddrToAddrPort(sa *unix.RawSockaddrInet6) netip.AddrPort {
	switch sa.Family {
	case unix.AF_INET:
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		return netip.AddrPortFrom(netip.AddrFrom4(sa4.Addr), portFromNetwork(sa4.Port))
	case unix.AF_INET6:
		return netip.AddrPortFrom(netip.AddrFrom16(sa.Addr), portFromNetwork(sa.Port))
	}
	return netip.AddrPort{}
}

// sockaddr writes to into sa as the socket's family takes it and returns its length: on an
// AF_INET6 socket an IPv4 address is mapped (::ffff:a.b.c.d), as Go's net does.
func (c *mmsgConn) sockaddr(to netip.AddrPort, sa *unix.RawSockaddrInet6) uint32 {
	if !c.inet6 {
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		*sa4 = unix.RawSockaddrInet4{Family: unix.AF_INET, Port: portToNetwork(to.Port()), Addr: to.Addr().Unmap().As4()}
		return unix.SizeofSockaddrInet4
	}
	*sa = unix.RawSockaddrInet6{Family: unix.AF_INET6, Port: portToNetwork(to.Port()), Addr: to.Addr().As16()}
	return unix.SizeofSockaddrInet6
}

// The Port fields hold the port in network byte order, read as a native uint16.
func portFromNetwork(p uint16) uint16 {
	return binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(&p))[:])
}

func portToNetwork(p uint16) uint16 {
	var n uint16
	binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(&n))[:], p)
	return n
}
