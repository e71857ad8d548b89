package sip

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"net/netip"
	"strconv"
	"strings"
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
	out    *batchWriter // answers go straight to the listener's socket (udpbatch.go)
	parser *sip.Parser  // reading goroutine only

	// known maps the sources handed to sipgo at least once to their "ip:port", the
	// request's Source: a REGISTER from them costs no formatting. Reading goroutine only.
	known   map[netip.AddrPort]string
	work    chan fastRequest
	workers sync.WaitGroup
}

type fastRequest struct {
	req *sip.Request
	to  netip.AddrPort
}

// maxKnownSources bounds the memory the fast path spends on remembering sources; past it,
// new sources stay on sipgo's path (which is correct, only slower).
const maxKnownSources = 1 << 20

// fastRegisterWorkers handle REGISTERs; a worker waits for the registration to be stored,
// so there are enough to keep a group commit's worth in flight (groupcommit.go). When all
// are busy a request gets a goroutine of its own, as under sipgo.
const fastRegisterWorkers = 64

var registerPrefix = []byte("REGISTER ")

func newUDPRegistrar(out *batchWriter, parser *sip.Parser, handle func(*sip.Request, sip.ServerTransaction)) *udpRegistrar {
	r := &udpRegistrar{handle: handle, out: out, parser: parser, known: make(map[netip.AddrPort]string),
		work: make(chan fastRequest, fastRegisterWorkers)}
	for range fastRegisterWorkers {
		r.workers.Go(func() {
			for fr := range r.work {
				r.serve(fr)
			}
		})
	}
	return r
}

// take handles data from src if it is a REGISTER from a known source, and reports whether
// it did; otherwise the datagram goes on to sipgo. Reading goroutine only.
func (r *udpRegistrar) take(data []byte, src netip.AddrPort) bool {
	source, known := r.known[src]
	if !known {
		if len(r.known) < maxKnownSources {
			r.known[src] = src.String()
		}
		return false
	}
	if !bytes.HasPrefix(data, registerPrefix) {
		return false
	}
	req, ok := parseRegisterDatagram(data) // fastparse.go
	if !ok {
		msg, err := r.parser.ParseSIP(data)
		if err != nil {
			return false // sipgo parses it again, fails, and logs and counts it (parselog.go)
		}
		req, ok = msg.(*sip.Request)
	}
	if !ok || req.Via() == nil || req.CSeq() == nil || req.CallID() == nil || req.From() == nil || req.To() == nil {
		return false // sipgo answers malformed requests 400 itself
	}
	req.SetTransport("UDP")
	req.SetSource(source)
	select {
	case r.work <- fastRequest{req: req, to: src}:
	default:
		go r.serve(fastRequest{req: req, to: src})
	}
	return true
}

func (r *udpRegistrar) serve(fr fastRequest) {
	r.handle(fr.req, &statelessTx{out: r.out, to: fr.to})
}

// close stops the workers once the reading goroutine has stopped calling take, then the
// writer once they have sent their answers.
func (r *udpRegistrar) close() {
	close(r.work)
	r.workers.Wait()
	r.out.close()
}

// statelessTx answers a request with one datagram to its source: the server transaction of
// a REGISTER handled on the fast path. It keeps no state; a retransmission of the request
// is handled afresh (see handleRegister).
type statelessTx struct {
	out *batchWriter
	to  netip.AddrPort
}

var responseBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// Respond queues the response for the writer, which reports no errors: a response lost
// on the way is one the phone asks for again by retransmitting its request.
func (t *statelessTx) Respond(res *sip.Response) error {
	buf := responseBuffers.Get().(*bytes.Buffer)
	buf.Reset()
	res.StringWrite(buf)
	t.out.send(buf, t.to)
	return nil
}

// respond answers req as Server.respond does, writing the response straight into a pooled
// buffer instead of building a sip.Response first (which copied every header of the
// request into a new message, a tenth of a registration's CPU). The headers are those
// sip.NewResponseFromRequest gives a REGISTER's response: the Vias, the top one with
// rport and received filled in when asked (RFC 3581), From, To with a tag, Call-ID, CSeq.
func (t *statelessTx) respond(req *sip.Request, code int, reason string, headers []sip.Header) {
	buf := responseBuffers.Get().(*bytes.Buffer)
	buf.Reset()
	buf.WriteString(req.SipVersion)
	buf.WriteByte(' ')
	buf.WriteString(strconv.Itoa(code))
	buf.WriteByte(' ')
	buf.WriteString(reason)
	buf.WriteString("\r\n")
	for i, h := range headersOf(req, "Via") {
		if via, ok := h.(*sip.ViaHeader); ok {
			t.writeVia(buf, via, i == 0)
		} else {
			h.StringWrite(buf)
		}
		buf.WriteString("\r\n")
	}
	req.From().StringWrite(buf)
	buf.WriteString("\r\n")
	req.To().StringWrite(buf)
	if !req.To().Params.Has("tag") {
		buf.WriteString(";tag=")
		buf.WriteString(newTag())
	}
	buf.WriteString("\r\n")
	req.CallID().StringWrite(buf)
	buf.WriteString("\r\n")
	req.CSeq().StringWrite(buf)
	buf.WriteString("\r\nServer: Switchboard\r\n")
	for _, h := range headers {
		h.StringWrite(buf)
		buf.WriteString("\r\n")
	}
	buf.WriteString("Content-Length: 0\r\n\r\n")
	t.out.send(buf, t.to)
}

// writeVia writes a Via header as sipgo's ViaHeader.StringWrite does, without building its
// value as a string first (two allocations a header). On the top Via an empty rport is
// filled in with the source's port and received added with its address (RFC 3581), as
// sipgo's response does.
func (t *statelessTx) writeVia(buf *bytes.Buffer, via *sip.ViaHeader, top bool) {
	buf.WriteString("Via: ")
	buf.WriteString(via.ProtocolName)
	buf.WriteByte('/')
	buf.WriteString(via.ProtocolVersion)
	buf.WriteByte('/')
	buf.WriteString(via.Transport)
	buf.WriteByte(' ')
	if a, err := netip.ParseAddr(via.Host); err == nil && a.Is6() && !a.Is4In6() {
		buf.WriteByte('[')
		buf.WriteString(via.Host)
		buf.WriteByte(']')
	} else {
		buf.WriteString(via.Host)
	}
	if via.Port > 0 {
		buf.WriteByte(':')
		buf.WriteString(strconv.Itoa(via.Port))
	}
	rport := false
	if top {
		v, ok := via.Params.Get("rport")
		rport = ok && v == ""
	}
	received := false
	for _, kv := range via.Params {
		buf.WriteByte(';')
		buf.WriteString(kv.K)
		v := kv.V
		switch {
		case rport && kv.K == "rport":
			v = strconv.Itoa(int(t.to.Port()))
		case rport && kv.K == "received":
			v, received = t.to.Addr().Unmap().String(), true
		}
		writeParamValue(buf, v)
	}
	if rport && !received {
		buf.WriteString(";received=")
		buf.WriteString(t.to.Addr().Unmap().String())
	}
}

// writeParamValue writes "=value" as sipgo does: quoted when it holds a space or tab,
// nothing for an empty value.
func writeParamValue(buf *bytes.Buffer, v string) {
	if v == "" {
		return
	}
	if strings.ContainsAny(v, " \t") {
		buf.WriteString("=\"")
		buf.WriteString(v)
		buf.WriteByte('"')
		return
	}
	buf.WriteByte('=')
	buf.WriteString(v)
}

// newTag is a To tag: 64 random bits (RFC 3261 §19.3 asks for at least 32).
func newTag() string {
	var b [8]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}

var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

func (t *statelessTx) Terminate()                         {}
func (t *statelessTx) OnTerminate(sip.FnTxTerminate) bool { return false }
func (t *statelessTx) Done() <-chan struct{}              { return closedChan }
func (t *statelessTx) Err() error                         { return nil }
func (t *statelessTx) Acks() <-chan *sip.Request          { return nil }
func (t *statelessTx) OnCancel(sip.FnTxCancel) bool       { return false }
