package sip

import (
	"bytes"
	"errors"
	"net"
	"net/netip"
	"runtime"
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

// udpSocketBuffer is the size asked for the UDP listener's receive and send buffers. A
// burst of requests — phones re-registering together after an outage, a load generator's
// window — waits in the receive buffer while the server is busy, and what does not fit is
// dropped by the kernel: the phone retransmits it only after 500 ms or more. The default
// (net.core.rmem_default, often 208 KiB) holds about 160 small datagrams. The kernel caps
// the size at net.core.rmem_max and net.core.wmem_max; raise those for more.
const udpSocketBuffer = 4 << 20

// listenUDP opens the UDP listener with udpSocketBuffer-sized buffers.
func listenUDP(addr *net.UDPAddr) (*net.UDPConn, error) {
	c, err := net.ListenUDP("udp", addr)
	if err != nil {
		return nil, err
	}
	if err := errors.Join(c.SetReadBuffer(udpSocketBuffer), c.SetWriteBuffer(udpSocketBuffer)); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// batchConn reads and writes batches of datagrams on the listener's socket: with
// recvmmsg and sendmmsg on Linux (udpbatch_mmsg.go), through golang.org/x/net elsewhere
// (udpbatch_xnet.go). One goroutine reads and one writes.
type batchConn interface {
	// readBatch reads at least one datagram into ds[i].buf, setting n and addr, waiting
	// for one if none is there; it returns how many it read.
	readBatch(ds []datagram) (int, error)
	// writeBatch sends ds[i].buf to ds[i].addr, from the first, and returns how many it
	// sent.
	writeBatch(ds []datagram) (int, error)
}

// datagram is one slot of a batch.
type datagram struct {
	buf  []byte
	n    int            // bytes read into buf
	addr netip.AddrPort // the source read, or the destination to write to
}

// batchReader hands out datagrams one at a time from batches read together. Reading
// goroutine only.
type batchReader struct {
	conn    batchConn
	ds      []datagram
	next, n int // ds[next:n] are read and not yet handed out
}

func newBatchReader(c batchConn) *batchReader {
	r := &batchReader{conn: c, ds: make([]datagram, udpBatch)}
	for i := range r.ds {
		r.ds[i].buf = make([]byte, maxDatagram)
	}
	return r
}

// read returns the next datagram and its source; data is valid until the next call.
func (r *batchReader) read() (data []byte, src netip.AddrPort, err error) {
	for r.next == r.n {
		n, err := r.conn.readBatch(r.ds)
		if err != nil {
			return nil, netip.AddrPort{}, err
		}
		r.next, r.n = 0, n
	}
	d := &r.ds[r.next]
	r.next++
	// Unmapped: a dual-stack socket reports an IPv4 source as ::ffff:a.b.c.d, and the
	// source is "a.b.c.d:port" everywhere (bindings, bans, logs) as net gives it.
	src = netip.AddrPortFrom(d.addr.Addr().Unmap(), d.addr.Port())
	return d.buf[:d.n], src, nil
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
	ds := make([]datagram, udpBatch)
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
			ds[i] = datagram{buf: d.buf.Bytes(), addr: d.to}
		}
		// A datagram the kernel refuses is skipped: the phone retransmits its request, as
		// it does when an answer is lost.
		for sent := 0; sent < len(out); {
			n, err := w.conn.writeBatch(ds[sent:len(out)])
			if err != nil {
				n = max(n, 1)
			}
			sent += n
		}
		for i, d := range out {
			responseBuffers.Put(d.buf)
			ds[i] = datagram{}
		}
	}
}
