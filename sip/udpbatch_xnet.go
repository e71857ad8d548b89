//go:build !(linux && (amd64 || arm64))

package sip

import (
	"net"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// xnetConn makes the batch calls through golang.org/x/net (one datagram a call where the
// system has no recvmmsg/sendmmsg); on Linux udpbatch_mmsg.go makes them itself.
type xnetConn struct {
	conn interface {
		ReadBatch(ms []ipv4.Message, flags int) (int, error)
		WriteBatch(ms []ipv4.Message, flags int) (int, error)
	}
	rd, wr [udpBatch]ipv4.Message
}

func newBatchConn(c *net.UDPConn) (batchConn, error) {
	if a, ok := c.LocalAddr().(*net.UDPAddr); ok && a.IP.To4() != nil {
		return &xnetConn{conn: ipv4.NewPacketConn(c)}, nil
	}
	return &xnetConn{conn: ipv6.NewPacketConn(c)}, nil
}

func (c *xnetConn) readBatch(ds []datagram) (int, error) {
	n := min(len(ds), udpBatch)
	for i := range n {
		c.rd[i] = ipv4.Message{Buffers: [][]byte{ds[i].buf}}
	}
	got, err := c.conn.ReadBatch(c.rd[:n], 0)
	for i := range got {
		ds[i].n = c.rd[i].N
		if a, ok := c.rd[i].Addr.(*net.UDPAddr); ok {
			ds[i].addr = a.AddrPort()
		}
	}
	return got, err
}

func (c *xnetConn) writeBatch(ds []datagram) (int, error) {
	n := min(len(ds), udpBatch)
	for i := range n {
		c.wr[i] = ipv4.Message{Buffers: [][]byte{ds[i].buf}, Addr: net.UDPAddrFromAddrPort(ds[i].addr)}
	}
	return c.conn.WriteBatch(c.wr[:n], 0)
}
