package sip

import (
	"bytes"
	"net"
	"net/netip"
	"runtime"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
)

// The UDP listener reads and writes datagrams many to a system call (recvmmsg, sendmmsg).
// Under load a registration's largest cost was its four system calls (two datagrams read,
// two written): in pprof the sendto and recvfrom calls and the scheduling around them
// (the runtime hands a thread's P to another thread when a system call lasts) took over a
// third of the CPU, and on a virtual machine each call costs more. Batching changes nothing
// that is sent, only how many datagrams a call carries: as many as are waiting, so a lone
// request is read, and its answer written, at once.

// udpBatch is the number of datagrams one system call reads or writes at most.
const udpBatch = 32

// maxDatagram is the largest UDP payload; a read buffer of that size never truncates.
const maxDatagram = 65535

// batchConn is the listener's socket as golang.org/x/net gives batch calls for it.
type batchConn interface {
	ReadBatch(ms []ipv4.Message, flags int) (int, error)
	WriteBatch(ms []ipv4.Message, flags int) (int, error)
}

func newBatchConn(c *net.UDPConn) batchConn {
	if a, ok := c.LocalAddr().(*net.UDPAddr); ok && a.IP.To4() != nil {
		return ipv4.NewPacketConn(c)
	}
	return ipv6.NewPacketConn(c)
}

// batchReader hands out datagrams one at a time from batches read together. Reading
// goroutine only.
type batchReader struct {
	conn    batchConn
	msgs    []ipv4.Message
	next, n int // msgs[next:n] are read and not yet handed out
}

func newBatchReader(c batchConn) *batchReader {
	r := &batchReader{conn: c, msgs: make([]ipv4.Message, udpBatch)}
	for i := range r.msgs {
		r.msgs[i].Buffers = [][]byte{make([]byte, maxDatagram)}
	}
	return r
}

// read returns the next datagram and its source; data is valid until the next call.
func (r *batchReader) read() (data []byte, src netip.AddrPort, err error) {
	for r.next == r.n {
		n, err := r.conn.ReadBatch(r.msgs, 0)
		if err != nil {
			return nil, netip.AddrPort{}, err
		}
		r.next, r.n = 0, n
	}
	m := &r.msgs[r.next]
	r.next++
	if a, ok := m.Addr.(*net.UDPAddr); ok {
		// Unmapped: a dual-stack socket reports an IPv4 source as ::ffff:a.b.c.d, and the
		// source is "a.b.c.d:port" everywhere (bindings, bans, logs) as net gives it.
		src = a.AddrPort()
		src = netip.AddrPortFrom(src.Addr().Unmap(), src.Port())
	}
	return m.Buffers[0][:m.N], src, nil
}

// batchWriter sends the datagrams queued from any goroutine, as many to a system call as
// are queued when it gets to them.
type batchWriter struct {
	conn  batchConn
	queue chan outDatagram
	done  chan struct{}
}

type outDatagram struct {
	buf *bytes.Buffer // from responseBuffers; returned there once sent
	to  netip.AddrPort
}

func newBatchWriter(c batchConn) *batchWriter {
	w := &batchWriter{conn: c, queue: make(chan outDatagram, 4*udpBatch), done: make(chan struct{})}
	go w.run()
	return w
}

// send queues buf for to; the writer puts buf back into responseBuffers once it is sent.
func (w *batchWriter) send(buf *bytes.Buffer, to netip.AddrPort) {
	w.queue <- outDatagram{buf: buf, to: to}
}

// close sends what is queued and stops the writer; nothing may be sent after it.
func (w *batchWriter) close() {
	close(w.queue)
	<-w.done
}

func (w *batchWriter) run() {
	defer close(w.done)
	out := make([]outDatagram, 0, udpBatch)
	msgs := make([]ipv4.Message, udpBatch)
	for d := range w.queue {
		out = append(out[:0], d)
		// Let the goroutines that are ready run first: the workers answering the rest of
		// the requests read with this one queue their answers, which then go in this call.
		// Without it the writer, woken by the first answer, ran before them and sent
		// about one datagram a call.
		runtime.Gosched()
	more:
		for len(out) < udpBatch {
			select {
			case d, ok := <-w.queue:
				if !ok {
					break more
				}
				out = append(out, d)
			default:
				break more
			}
		}
		for i, d := range out {
			msgs[i] = ipv4.Message{Buffers: [][]byte{d.buf.Bytes()}, Addr: net.UDPAddrFromAddrPort(d.to)}
		}
		// A datagram the kernel refuses is skipped: the phone retransmits its request, as
		// it does when an answer is lost.
		for sent := 0; sent < len(out); {
			n, err := w.conn.WriteBatch(msgs[sent:len(out)], 0)
			if err != nil {
				n = max(n, 1)
			}
			sent += n
		}
		for i, d := range out {
			responseBuffers.Put(d.buf)
			msgs[i] = ipv4.Message{}
		}
	}
}
