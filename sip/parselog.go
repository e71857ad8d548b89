package sip

import (
	"bytes"
	"context"
	"log/slog"
	"net/netip"
	"strconv"
	"sync"
	"time"
)

// Unparsable messages are an attacker's cheapest lever on the log: sipgo logs each one in
// full at ERROR, so a flood of garbage datagrams wrote more log than it sent (issue 14, F2).
// The server hands sipgo a logger whose handler takes sipgo's "failed to parse" records
// away from the log and through parseFailed instead: a bounded summary (source, size, the
// first bytes quoted), rate limited per source and overall, with a line counting what was
// left out; and each failure counts towards its source's ban like a wrong password.

const (
	parseLogHead = 64 // bytes of an unparsable message shown in the log
	// Per source: a burst of parseLogBurst lines, then one per parseLogEvery.
	parseLogBurst = 3
	parseLogEvery = time.Minute
	// Over all sources: a burst of parseLogGlobalBurst lines, then one per second.
	parseLogGlobalBurst = 20
	parseLogGlobalEvery = time.Second
	parseLogMaxSources  = 4096
)

// lastDatagram remembers the source and head of the datagram the UDP listener handed to
// sipgo last. sipgo parses a datagram on the goroutine that read it, right after the read,
// and logs a parse failure there too, so the failure is that datagram's: it is matched by
// size and first bytes to be sure.
type lastDatagram struct {
	mu   sync.Mutex
	src  netip.Addr
	size int
	head []byte
}

func (l *lastDatagram) set(src netip.Addr, data []byte) {
	l.mu.Lock()
	l.src, l.size = src, len(data)
	l.head = append(l.head[:0], data[:min(len(data), parseLogHead)]...)
	l.mu.Unlock()
}

// source is the sender of data if it is the last datagram read.
func (l *lastDatagram) source(data []byte) (netip.Addr, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.src.IsValid() || l.size != len(data) || !bytes.HasPrefix(data, l.head) {
		return netip.Addr{}, false
	}
	return l.src, true
}

// recentReads remembers the source, size and head of the last reads of every TCP
// connection, so that a parse failure (sipgo logs the chunk it failed on, without its
// source) can be matched to the connection that sent it. Identical garbage sent from two
// addresses may be counted against either: both are sending garbage.
type recentReads struct {
	mu    sync.Mutex
	reads [64]struct {
		src  netip.Addr
		size int
		head []byte
	}
	next int
}

// add records a read; a nil recentReads records nothing (the TLS listener's raw layer,
// whose bytes are ciphertext: its connections record what they decrypt instead).
func (r *recentReads) add(src netip.Addr, data []byte) {
	if r == nil {
		return
	}
	r.mu.Lock()
	e := &r.reads[r.next]
	e.src, e.size = src, len(data)
	e.head = append(e.head[:0], data[:min(len(data), parseLogHead)]...)
	r.next = (r.next + 1) % len(r.reads)
	r.mu.Unlock()
}

// source is the sender of the most recent read that was data.
func (r *recentReads) source(data []byte) (netip.Addr, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i := range len(r.reads) {
		e := &r.reads[(r.next-1-i+2*len(r.reads))%len(r.reads)]
		if e.src.IsValid() && e.size == len(data) && bytes.HasPrefix(data, e.head) {
			return e.src, true
		}
	}
	return netip.Addr{}, false
}

// bucket is a token bucket on the server's clock.
type bucket struct {
	tokens float64
	at     time.Time
}

func (b *bucket) take(now time.Time, burst int, every time.Duration) bool {
	if b.at.IsZero() {
		b.tokens, b.at = float64(burst), now
	}
	if d := now.Sub(b.at); d > 0 {
		b.tokens = min(float64(burst), b.tokens+float64(d)/float64(every))
		b.at = now
	}
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// parseLog rate-limits the log lines about unparsable messages.
type parseLog struct {
	mu          sync.Mutex
	global      bucket
	perSource   map[netip.Addr]*bucket
	suppressed  int // lines left out since the last summary
	lastSummary time.Time
}

// allow reports whether a line about src (invalid when unknown) may be written now.
func (p *parseLog) allow(now time.Time, src netip.Addr) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	ok := true
	if src.IsValid() {
		b := p.perSource[src]
		if b == nil {
			if len(p.perSource) >= parseLogMaxSources {
				for k := range p.perSource { // any one: the global bucket still bounds the log
					delete(p.perSource, k)
					break
				}
			}
			b = &bucket{}
			p.perSource[src] = b
		}
		ok = b.take(now, parseLogBurst, parseLogEvery)
	}
	if ok {
		ok = p.global.take(now, parseLogGlobalBurst, parseLogGlobalEvery)
	}
	if !ok {
		p.suppressed++
	}
	return ok
}

// summary returns the number of lines left out, at most once per parseLogEvery, and
// forgets sources whose buckets are full again.
func (p *parseLog) summary(now time.Time) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	for ip, b := range p.perSource {
		if now.Sub(b.at) >= parseLogBurst*parseLogEvery {
			delete(p.perSource, ip)
		}
	}
	if p.suppressed == 0 || now.Sub(p.lastSummary) < parseLogEvery {
		return 0
	}
	n := p.suppressed
	p.suppressed, p.lastSummary = 0, now
	return n
}

// parseFailed handles one of sipgo's "failed to parse" records.
func (s *Server) parseFailed(r slog.Record) {
	var data string
	var problem string
	r.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "data":
			data = a.Value.String()
		case "error":
			problem = a.Value.String()
		}
		return true
	})
	s.metrics.parseErrors.Inc()
	transport := "udp"
	src, known := s.lastUDP.source([]byte(data))
	if !known {
		transport = "tcp"
		src, known = s.lastTCP.source([]byte(data))
	}
	if known {
		if s.bans.fail(src) {
			s.metrics.bans.Inc()
			s.log.Warn("SIP source banned after repeated unparsable messages", "ip", src.String(), "for", s.cfg.Ban.BanFor)
		}
	}
	if !s.parseLog.allow(s.now(), src) {
		return
	}
	source := "unknown"
	if src.IsValid() {
		source = src.String()
	}
	head := data[:min(len(data), parseLogHead)]
	if len(problem) > 200 {
		problem = problem[:200] + "…"
	}
	s.log.Warn("unparsable SIP message", "transport", transport, "source", source, "size", len(data),
		"head", strconv.QuoteToASCII(head), "error", strconv.QuoteToASCII(problem))
}

// logParseSummary writes how many lines about unparsable messages were left out; the
// sweeper calls it.
func (s *Server) logParseSummary() {
	if n := s.parseLog.summary(s.now()); n > 0 {
		s.log.Warn("unparsable SIP messages not logged (rate limit)", "count", n)
	}
}

// sipgoHandler is the slog handler given to sipgo: it passes every record on, except
// parse failures, which go to the server's parseFailed.
type sipgoHandler struct {
	slog.Handler
	srv *Server
}

func (h sipgoHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelError || h.Handler.Enabled(ctx, l)
}

func (h sipgoHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Message == "failed to parse" {
		h.srv.parseFailed(r)
		return nil
	}
	if !h.Handler.Enabled(ctx, r.Level) {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func (h sipgoHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return sipgoHandler{Handler: h.Handler.WithAttrs(as), srv: h.srv}
}

func (h sipgoHandler) WithGroup(name string) slog.Handler {
	return sipgoHandler{Handler: h.Handler.WithGroup(name), srv: h.srv}
}
