package sip

import (
	"bytes"
	"net"
	"sync"

	"github.com/emiago/sipgo/sip"
)

// REGISTERs over UDP are answered by udpRegistrar without sipgo's transport and
// transaction layers. Under SIPp most of a registration's CPU was sipgo's: a goroutine per
// request whose stack grew each time, a transaction with its timers and a 10 s context, the
// connection pool's bookkeeping (pprof, docs/benchmarks.md). The registrar needs none of it
// for REGISTER: handleRegister ends its transaction as soon as it has answered, and
// recognises a retransmission by its nonce count (nonceIssuer.useCount). Here a datagram that
// starts with "REGISTER " is parsed in the reading goroutine, as sipgo would, handled by
// one of a few long-lived workers and answered with one write to its source.
//
// Only sources sipgo has already seen take this path. sipgo sends requests to a phone (an
// INVITE, a qualify OPTIONS, a NOTIFY) from the socket the phone last reached it on by
// looking the phone's address up in its connection pool, which it fills as datagrams
// arrive; a phone whose REGISTERs all bypassed sipgo would be called from a fresh socket
// that its NAT drops. A phone's first REGISTER (the one that gets the challenge) goes
// through sipgo and puts it in the pool; its later ones come here.
type udpRegistrar struct {
	handle func(req *sip.Request, tx sip.ServerTransaction)
	conn   net.PacketConn // the listener, unfiltered: answers are written to it directly
	parser *sip.Parser    // reading goroutine only

	known   sync.Map // source "ip:port" -> struct{}: handed to sipgo at least once
	nKnown  int      // entries in known, reading goroutine only
	work    chan fastRequest
	workers sync.WaitGroup
}

type fastRequest struct {
	req *sip.Request
	to  net.Addr
}

// maxKnownSources bounds the memory the fast path spends on remembering sources; past it,
// new sources stay on sipgo's path (which is correct, only slower).
const maxKnownSources = 1 << 20

// fastRegisterWorkers handle REGISTERs; a worker waits for the registration to be stored,
// so there are enough to keep a group commit's worth in flight (groupcommit.go). When all
// are busy a request gets a goroutine of its own, as under sipgo.
const fastRegisterWorkers = 64

var registerPrefix = []byte("REGISTER ")

func newUDPRegistrar(conn net.PacketConn, parser *sip.Parser, handle func(*sip.Request, sip.ServerTransaction)) *udpRegistrar {
	r := &udpRegistrar{handle: handle, conn: conn, parser: parser, work: make(chan fastRequest, fastRegisterWorkers)}
	for range fastRegisterWorkers {
		r.workers.Go(func() {
			for fr := range r.work {
				r.serve(fr)
			}
		})
	}
	return r
}

// take handles data from addr if it is a REGISTER from a known source, and reports whether
// it did; otherwise the datagram goes on to sipgo. Reading goroutine only.
func (r *udpRegistrar) take(data []byte, addr net.Addr) bool {
	src := addr.String()
	if !bytes.HasPrefix(data, registerPrefix) {
		r.remember(src)
		return false
	}
	if _, ok := r.known.Load(src); !ok {
		r.remember(src)
		return false
	}
	msg, err := r.parser.ParseSIP(data)
	if err != nil {
		return false // sipgo parses it again, fails, and logs and counts it (parselog.go)
	}
	req, ok := msg.(*sip.Request)
	if !ok || req.Via() == nil || req.CSeq() == nil || req.CallID() == nil || req.From() == nil || req.To() == nil {
		return false // sipgo answers malformed requests 400 itself
	}
	req.SetTransport("UDP")
	req.SetSource(src)
	select {
	case r.work <- fastRequest{req: req, to: addr}:
	default:
		go r.serve(fastRequest{req: req, to: addr})
	}
	return true
}

func (r *udpRegistrar) remember(src string) {
	if r.nKnown >= maxKnownSources {
		return
	}
	if _, loaded := r.known.LoadOrStore(src, struct{}{}); !loaded {
		r.nKnown++
	}
}

func (r *udpRegistrar) serve(fr fastRequest) {
	r.handle(fr.req, &statelessTx{conn: r.conn, to: fr.to})
}

// close stops the workers once the reading goroutine has stopped calling take.
func (r *udpRegistrar) close() {
	close(r.work)
	r.workers.Wait()
}

// statelessTx answers a request with one datagram to its source: the server transaction of
// a REGISTER handled on the fast path. It keeps no state; a retransmission of the request
// is handled afresh (see handleRegister).
type statelessTx struct {
	conn net.PacketConn
	to   net.Addr
}

var responseBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

func (t *statelessTx) Respond(res *sip.Response) error {
	buf := responseBuffers.Get().(*bytes.Buffer)
	defer responseBuffers.Put(buf)
	buf.Reset()
	res.StringWrite(buf)
	_, err := t.conn.WriteTo(buf.Bytes(), t.to)
	return err
}

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

func (t *statelessTx) Terminate()                         {}
func (t *statelessTx) OnTerminate(sip.FnTxTerminate) bool { return false }
func (t *statelessTx) Done() <-chan struct{}              { return closedChan }
func (t *statelessTx) Err() error                         { return nil }
func (t *statelessTx) Acks() <-chan *sip.Request          { return nil }
func (t *statelessTx) OnCancel(sip.FnTxCancel) bool       { return false }
