// Package sip is Switchboard's SIP core: transports (UDP, TCP), the registrar with
// server-side digest authentication, and the ban list for addresses that keep failing it.
// github.com/emiago/sipgo provides transport, parsing and transactions; everything that
// decides is here.
//
// An INVITE from a phone is authenticated (407 challenge), one from a SIP trunk is
// recognised by its source address; either is then handed to the call engine (CallHandler,
// package pbx), which owns every dialog. Without a call engine INVITEs are answered 480.
package sip

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/prometheus/client_golang/prometheus"

	"switchboard"
)

// Store is what the SIP core reads and writes: exactly the methods it calls (a *store.DB
// has them all).
type Store interface {
	GetDeviceBySIPUsername(ctx context.Context, username string) (*switchboard.Device, error)
	GetDevice(ctx context.Context, accountID, id int64) (*switchboard.Device, error)
	GetAccountDeviceBySIPUsername(ctx context.Context, accountID int64, username string) (*switchboard.Device, error)
	GetAccountBySIPDomain(ctx context.Context, domain string) (*switchboard.Account, error)
	HasSIPDomains(ctx context.Context) (bool, error)
	// HasSHA256Devices reports whether any device requires SHA-256 (see Server.challenge).
	HasSHA256Devices(ctx context.Context) (bool, error)
	GetUser(ctx context.Context, accountID, id int64) (*switchboard.User, error)
	GetUserByExtension(ctx context.Context, accountID int64, extension string) (*switchboard.User, error) // busy lamps
	ListRegistrations(ctx context.Context) ([]switchboard.Registration, error)
	// ReplaceUserRegistrations stores the user's registrations with the presence events of
	// the change, in one transaction.
	ReplaceUserRegistrations(ctx context.Context, accountID, userID int64, regs []switchboard.Registration,
		events ...*switchboard.Event) error
	// SaveRegistrationChanges stores several users' binding changes, each with its events,
	// in one transaction (the registrar's group commit).
	SaveRegistrationChanges(ctx context.Context, changes []switchboard.RegistrationChange) error
}

// Config configures a Server. Zero values take the documented defaults.
type Config struct {
	Store   Store  // devices by SIP username, users, stored registrations
	UDPAddr string // e.g. "127.0.0.1:5060"; "" = no UDP
	TCPAddr string // "" = no TCP
	TLSAddr string // "" = no TLS (SIP over TLS, RFC 3261 section 26.2)
	// TLS serves the TLS port's certificate (ServerTLSConfig); required with TLSAddr.
	TLS *tls.Config
	// TLSHandshakeTimeout drops a TLS client that has not finished its handshake by then;
	// default DefaultTLSHandshakeTimeout.
	TLSHandshakeTimeout time.Duration
	// ClientTLS is the TLS configuration of connections the server opens (trunks over TLS);
	// nil verifies the peer against the system's roots.
	ClientTLS  *tls.Config
	PublicAddr string // host[:port] for Contact/Via when behind NAT; "" = the listen address
	Now        func() time.Time
	Logger     *slog.Logger
	Registry   *prometheus.Registry // may be nil
	Ban        BanPolicy            // zero value = defaults: 10 failures in 60 s -> banned 15 min
	NonceTTL   time.Duration        // default 5 min

	MaxExpires, MinExpires, DefaultExpires int // defaults 3600, 60, 3600

	// BLFMaxPerDevice and BLFMaxPerAccount cap the live busy lamp subscriptions (SUBSCRIBE
	// to the dialog event package) of one device and of one account; defaults
	// DefaultBLFMaxPerDevice and DefaultBLFMaxPerAccount.
	BLFMaxPerDevice, BLFMaxPerAccount int
	// Digest is the challenge of devices that do not require SHA-256, as ParseDigest reads
	// it: "" is DefaultDigest, MD5 alone, which every phone answers. A device with
	// DigestAlgorithm "sha-256" is always challenged with SHA-256 alone.
	Digest string

	// QualifyInterval is how often each registered contact is sent an OPTIONS (see
	// qualify.go); 0 is DefaultQualifyInterval, negative disables qualifying.
	QualifyInterval time.Duration
	// QualifyTimeout is how long a qualify OPTIONS waits for an answer before the contact
	// is marked unreachable; default DefaultQualifyTimeout.
	QualifyTimeout time.Duration
	// DeviceCacheTTL keeps the devices digest authentication looked up in memory for that
	// long, instead of reading a phone's credentials from the store on every request; a
	// changed password or a deleted device shows within it. 0 reads the store every time.
	DeviceCacheTTL time.Duration
}

// allowed is the Allow header: what this server answers to with something other than 405.
const allowed = "REGISTER, OPTIONS, INVITE, ACK, CANCEL, BYE, SUBSCRIBE, REFER, INFO"

// maxMessageLength caps a SIP message. Real REGISTERs are well under 2 KB; anything larger
// is refused by the parser instead of buffered.
const maxMessageLength = 16 * 1024

// Server is the SIP core. Its UserPresence is the call engine's (pbx.Engine implements
// switchboard.LiveState).
type Server struct {
	cfg     Config
	now     func() time.Time
	log     *slog.Logger
	metrics *metrics
	nonces  *nonceIssuer
	bans    *banList
	// lastUDP and parseLog take sipgo's parse failures (see parselog.go).
	lastUDP  lastDatagram
	lastTCP  recentReads
	parseLog parseLog
	// dummyHA1 stands in for the HA1 of an unknown username, so that an unknown user costs
	// the same hashing as a known one and gets the same answer.
	dummyHA1 map[string]string

	regs    registrations
	blf     *blfHub   // busy lamp subscriptions (blf.go)
	mwi     mwiHub    // message waiting subscriptions and the counts source (mwi.go)
	qualify qualifier // reachability of the bindings (qualify.go)
	sha256  sha256Hint
	// regWrites commits the REGISTERs' binding changes, many to a transaction.
	regWrites groupCommit
	// devices caches the devices authentication looked up (Config.DeviceCacheTTL).
	devices deviceCache
	// sms connects SIP MESSAGE to the messaging service (message.go).
	sms smsHub

	ready   chan struct{}
	addrMu  sync.Mutex // guards the fields below
	udpAddr net.Addr
	tcpAddr net.Addr
	tlsAddr net.Addr
	client  *sipgo.Client
	calls   CallHandler
	// channels gives each user's live calls (the call engine's registry).
	channels func(accountID, userID int64) []switchboard.Channel
}

// NewServer checks cfg and returns a server that listens once Run is called.
func NewServer(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("sip: Config.Store is required")
	}
	if cfg.UDPAddr == "" && cfg.TCPAddr == "" && cfg.TLSAddr == "" {
		return nil, errors.New("sip: at least one of UDPAddr, TCPAddr and TLSAddr is required")
	}
	if cfg.TLSAddr != "" && (cfg.TLS == nil || cfg.TLS.GetCertificate == nil && len(cfg.TLS.Certificates) == 0) {
		return nil, errors.New("sip: TLSAddr needs a TLS configuration with a certificate")
	}
	if cfg.TLSHandshakeTimeout <= 0 {
		cfg.TLSHandshakeTimeout = DefaultTLSHandshakeTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.NonceTTL <= 0 {
		cfg.NonceTTL = 5 * time.Minute
	}
	if cfg.MaxExpires <= 0 {
		cfg.MaxExpires = 3600
	}
	if cfg.MinExpires <= 0 {
		cfg.MinExpires = 60
	}
	if cfg.DefaultExpires <= 0 {
		cfg.DefaultExpires = 3600
	}
	if cfg.MinExpires > cfg.MaxExpires {
		return nil, fmt.Errorf("sip: MinExpires %d is above MaxExpires %d", cfg.MinExpires, cfg.MaxExpires)
	}
	cfg.DefaultExpires = min(max(cfg.DefaultExpires, cfg.MinExpires), cfg.MaxExpires)
	cfg.Ban = cfg.Ban.withDefaults()
	if cfg.BLFMaxPerDevice <= 0 {
		cfg.BLFMaxPerDevice = DefaultBLFMaxPerDevice
	}
	if cfg.BLFMaxPerAccount <= 0 {
		cfg.BLFMaxPerAccount = DefaultBLFMaxPerAccount
	}
	if cfg.Digest == "" {
		cfg.Digest = DefaultDigest
	}
	digest, err := ParseDigest(cfg.Digest)
	if err != nil {
		return nil, fmt.Errorf("sip: %w", err)
	}
	if cfg.QualifyInterval == 0 {
		cfg.QualifyInterval = DefaultQualifyInterval
	}
	if cfg.QualifyTimeout <= 0 {
		cfg.QualifyTimeout = DefaultQualifyTimeout
	}
	var secret [16]byte
	if _, err := rand.Read(secret[:]); err != nil {
		return nil, err
	}
	dummy := switchboard.Device{SIPUsername: "unknown"}
	dummy.SetSIPPassword(hex.EncodeToString(secret[:]))
	s := &Server{
		cfg:      cfg,
		now:      cfg.Now,
		log:      cfg.Logger.With("component", "sip"),
		nonces:   newNonceIssuer(cfg.NonceTTL, cfg.Now, digest),
		bans:     newBanList(cfg.Ban, cfg.Now),
		dummyHA1: map[string]string{algMD5: dummy.HA1MD5, algSHA256: dummy.HA1SHA256},
		regs:     registrations{users: make(map[userKey]*userReg)},
		blf:      newBLFHub(),
		parseLog: parseLog{perSource: make(map[netip.Addr]*bucket)},
		ready:    make(chan struct{}),

		regWrites: groupCommit{store: cfg.Store, log: cfg.Logger},
		devices:   deviceCache{ttl: cfg.DeviceCacheTTL},
	}
	m, err := newMetrics(cfg.Registry, s.liveCounts)
	if err != nil {
		return nil, fmt.Errorf("sip: register metrics: %w", err)
	}
	s.metrics = m
	return s, nil
}

// Ready is closed once Run is listening on every configured address.
func (s *Server) Ready() <-chan struct{} { return s.ready }

// UDPAddr is the bound UDP address once Ready (useful with port 0), or nil.
func (s *Server) UDPAddr() net.Addr {
	s.addrMu.Lock()
	defer s.addrMu.Unlock()
	return s.udpAddr
}

// TCPAddr is the bound TCP address once Ready, or nil.
func (s *Server) TCPAddr() net.Addr {
	s.addrMu.Lock()
	defer s.addrMu.Unlock()
	return s.tcpAddr
}

// TLSAddr is the bound TLS address once Ready, or nil.
func (s *Server) TLSAddr() net.Addr {
	s.addrMu.Lock()
	defer s.addrMu.Unlock()
	return s.tlsAddr
}

// Run reads the stored registrations (once per Server), listens until ctx ends, then
// closes the listeners and every transaction and connection, and returns once its
// goroutines are gone. Registrations survive in memory and in the store, so Run may be
// called again on the same Server (not concurrently), and a new Server on the same store
// knows the phones registered with the old one.
func (s *Server) Run(ctx context.Context) error {
	if err := s.loadRegistrations(ctx); err != nil {
		return err
	}
	var closers []func()
	closeAll := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	dropped := func() { s.metrics.dropped.Inc() }

	parser := sip.NewParser()
	parser.MaxMessageLength = maxMessageLength
	var pc net.PacketConn
	var fastRegister *udpRegistrar
	if s.cfg.UDPAddr != "" {
		addr, err := net.ResolveUDPAddr("udp", s.cfg.UDPAddr)
		if err != nil {
			return fmt.Errorf("sip: listen udp %s: %w", s.cfg.UDPAddr, err)
		}
		c, err := listenUDP(addr)
		if err != nil {
			return fmt.Errorf("sip: listen udp %s: %w", s.cfg.UDPAddr, err)
		}
		closers = append(closers, func() { c.Close() })
		fastParser := sip.NewParser()
		fastParser.MaxMessageLength = maxMessageLength
		batch, err := newBatchConn(c)
		if err != nil {
			closeAll()
			return fmt.Errorf("sip: listen udp %s: %w", s.cfg.UDPAddr, err)
		}
		fastRegister = newUDPRegistrar(newBatchWriter(batch), fastParser, s.handleRegister)
		// Deferred, so it runs after ServeUDP returned (wg.Wait below) or never started:
		// nothing hands the workers requests any more.
		defer fastRegister.close()
		pc = &filteredPacketConn{PacketConn: c, in: newBatchReader(batch), bans: s.bans, dropped: dropped, last: &s.lastUDP,
			fast: fastRegister}
	}
	var ln net.Listener
	if s.cfg.TCPAddr != "" {
		l, err := net.Listen("tcp", s.cfg.TCPAddr)
		if err != nil {
			closeAll()
			return fmt.Errorf("sip: listen tcp %s: %w", s.cfg.TCPAddr, err)
		}
		closers = append(closers, func() { l.Close() })
		ln = &filteredListener{Listener: l, bans: s.bans, dropped: dropped, reads: &s.lastTCP}
	}
	var tlsLn net.Listener
	if s.cfg.TLSAddr != "" {
		l, err := net.Listen("tcp", s.cfg.TLSAddr)
		if err != nil {
			closeAll()
			return fmt.Errorf("sip: listen tls %s: %w", s.cfg.TLSAddr, err)
		}
		closers = append(closers, func() { l.Close() })
		// Banned sources are refused before the handshake costs anything.
		tlsLn = &handshakeListener{Listener: &filteredListener{Listener: l, bans: s.bans, dropped: dropped},
			conf: s.cfg.TLS, timeout: s.cfg.TLSHandshakeTimeout, log: s.log, reads: &s.lastTCP}
	}

	sipLog := slog.New(sipgoHandler{Handler: s.log.Handler(), srv: s}).With("layer", "sipgo")
	uaOpts := []sipgo.UserAgentOption{
		sipgo.WithUserAgent("Switchboard"),
		sipgo.WithUserAgentParser(parser),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(sipLog)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(sipLog)),
	}
	if s.cfg.ClientTLS != nil {
		uaOpts = append(uaOpts, sipgo.WithUserAgenTLSConfig(s.cfg.ClientTLS))
	}
	if host := s.publicHost(pc, ln, tlsLn); host != "" {
		uaOpts = append(uaOpts, sipgo.WithUserAgentHostname(host))
	}
	ua, err := sipgo.NewUA(uaOpts...)
	if err != nil {
		closeAll()
		return fmt.Errorf("sip: user agent: %w", err)
	}
	srv, err := sipgo.NewServer(ua, sipgo.WithServerLogger(sipLog))
	if err != nil {
		ua.Close()
		closeAll()
		return fmt.Errorf("sip: server: %w", err)
	}
	client, err := sipgo.NewClient(ua, sipgo.WithClientLogger(sipLog))
	if err != nil {
		ua.Close()
		closeAll()
		return fmt.Errorf("sip: client: %w", err)
	}
	srv.OnRegister(s.handleRegister)
	srv.OnOptions(s.handleOptions)
	srv.OnInvite(s.handleInvite)
	srv.OnAck(s.handleInDialog)
	srv.OnBye(s.handleInDialog)
	srv.OnCancel(s.handleNoDialog) // a CANCEL matching an INVITE is handled by the transaction layer
	srv.OnInfo(s.handleInDialog)
	srv.OnUpdate(s.handleInDialog)
	srv.OnRefer(s.handleInDialog) // transfers (RFC 3515), inside a call's dialog only
	srv.OnSubscribe(s.handleSubscribe)
	srv.OnMessage(s.handleMessage) // message.go
	srv.OnNoRoute(s.handleUnsupported)
	s.blf.openBLF()

	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	if pc != nil {
		wg.Go(func() { errs <- srv.ServeUDP(pc) })
	}
	if ln != nil {
		wg.Go(func() { errs <- srv.ServeTCP(ln) })
	}
	if tlsLn != nil {
		wg.Go(func() { errs <- srv.ServeTLS(tlsLn) })
	}
	wg.Go(func() { s.sweeper(runCtx) })
	wg.Go(func() { s.blfSweeper(runCtx) })
	wg.Go(func() { s.qualifyLoop(runCtx, client) })

	s.addrMu.Lock()
	if pc != nil {
		s.udpAddr = pc.LocalAddr()
	}
	if ln != nil {
		s.tcpAddr = ln.Addr()
	}
	if tlsLn != nil {
		s.tlsAddr = tlsLn.Addr()
	}
	s.client = client
	s.addrMu.Unlock()
	select {
	case <-s.ready:
	default:
		close(s.ready)
	}
	s.log.Info("SIP listening", "udp", s.udpAddr, "tcp", s.tcpAddr, "tls", s.tlsAddr)

	var runErr error
	select {
	case <-ctx.Done():
	case err := <-errs:
		// A transport stopped on its own: stop everything and report why.
		if err != nil && !errors.Is(err, net.ErrClosed) {
			runErr = fmt.Errorf("sip: serve: %w", err)
		}
	}
	// Subscribers hear that their subscriptions end while the transports are still up.
	s.blf.closeBLF()
	stop()
	closeAll()
	client.Close()
	ua.Close()
	wg.Wait()
	// Refreshes written behind are stored before Run returns, so a restart finds them.
	flushCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.regWrites.flush(flushCtx); err != nil {
		s.log.Warn("storing the last registration refreshes failed", "error", err)
	}
	return runErr
}

// publicHost is the host (and port) the server names itself by in requests it originates.
func (s *Server) publicHost(pc net.PacketConn, ln, tlsLn net.Listener) string {
	if s.cfg.PublicAddr != "" {
		return s.cfg.PublicAddr
	}
	var a net.Addr
	if pc != nil {
		a = pc.LocalAddr()
	} else if ln != nil {
		a = ln.Addr()
	} else if tlsLn != nil {
		a = tlsLn.Addr()
	}
	if a == nil {
		return ""
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return ""
	}
	return host
}

func (s *Server) sweeper(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.sweep(ctx)
		}
	}
}

// respond sends a response built from req with extra headers, logging (not failing) a
// transport error: the client retransmits or gives up.
func (s *Server) respond(req *sip.Request, tx sip.ServerTransaction, code int, reason string, headers ...sip.Header) {
	var err error
	if fast, ok := tx.(*statelessTx); ok {
		fast.respond(req, code, reason, headers)
	} else {
		res := sip.NewResponseFromRequest(req, code, reason, nil)
		res.AppendHeader(sip.NewHeader("Server", "Switchboard"))
		for _, h := range headers {
			res.AppendHeader(h)
		}
		err = tx.Respond(res)
	}
	if err != nil {
		s.log.Debug("sending SIP response failed", "code", code, "error", err, "to", req.Source())
	}
}

func (s *Server) handleOptions(req *sip.Request, tx sip.ServerTransaction) {
	if _, ok := s.tenantOrRefuse(req, tx, fromHost(req)); !ok {
		return
	}
	s.respond(req, tx, 200, "OK", sip.NewHeader("Allow", s.allowed()), sip.NewHeader("Accept", "application/sdp"))
}

// handleNoDialog answers a CANCEL that matches no INVITE transaction.
func (s *Server) handleNoDialog(req *sip.Request, tx sip.ServerTransaction) {
	s.respond(req, tx, 481, "Call/Transaction Does Not Exist")
}

// knownMethods are SIP methods this server recognises but does not accept (405); any other
// method is not implemented (501), as RFC 3261 §21.5.2 and §21.4.6 distinguish.
var knownMethods = map[string]bool{"NOTIFY": true, "INFO": true,
	"MESSAGE": true, "PRACK": true, "UPDATE": true, "PUBLISH": true}

func (s *Server) handleUnsupported(req *sip.Request, tx sip.ServerTransaction) {
	if _, ok := s.tenantOrRefuse(req, tx, fromHost(req)); !ok {
		return
	}
	if knownMethods[strings.ToUpper(string(req.Method))] {
		s.respond(req, tx, 405, "Method Not Allowed", sip.NewHeader("Allow", allowed))
		return
	}
	s.respond(req, tx, 501, "Not Implemented", sip.NewHeader("Allow", allowed))
}

// handleInvite passes re-INVITEs to their dialog, INVITEs from a trunk's address straight to
// the call engine, and challenges (407) every other INVITE before the engine sees it.
func (s *Server) handleInvite(req *sip.Request, tx sip.ServerTransaction) {
	if req.To() == nil || req.From() == nil || req.CallID() == nil || req.CSeq() == nil || req.Contact() == nil {
		s.respond(req, tx, 400, "Missing To, From, Call-ID, CSeq or Contact")
		return
	}
	calls := s.callHandler()
	if _, ok := req.To().Params.Get("tag"); ok {
		s.handleInDialog(req, tx)
		return
	}
	if calls != nil && s.mayBeTrunk(req) {
		if ip, ok := sourceIP(req); ok && calls.TrunkSource(ip, dialledUser(req), strings.EqualFold(req.Transport(), "TLS")) {
			calls.Invite(req, tx, nil)
			return
		}
	}
	acct, ok := s.tenantOrRefuse(req, tx, fromHost(req))
	if !ok {
		return
	}
	dev, res := s.authenticate(req, "Proxy-Authorization", acct)
	switch res.kind {
	case authOK:
		if refuseInsecure(dev, req) {
			s.respond(req, tx, 403, forbiddenInsecure)
			return
		}
		if calls == nil {
			s.respond(req, tx, 480, "Temporarily Unavailable")
			return
		}
		calls.Invite(req, tx, dev)
	case authWeakDigest:
		s.respond(req, tx, 403, forbiddenWeakDigest)
	case authMalformed:
		s.respond(req, tx, 400, "Bad Proxy-Authorization")
	case authStoreError:
		s.respond(req, tx, 500, "Server Internal Error")
	default:
		s.challenge(req, tx, 407, "Proxy Authentication Required", "Proxy-Authenticate", res.kind == authStale, acct, fromUser(req))
	}
}

// mayBeTrunk reports whether an INVITE may be taken as a trunk's: one that carries
// credentials, or comes from the address a registered phone uses, is a phone's and is
// authenticated as such, whatever trunk another account has configured.
func (s *Server) mayBeTrunk(req *sip.Request) bool {
	if headerOf(req, "Proxy-Authorization") != nil || headerOf(req, "Authorization") != nil {
		return false
	}
	ip, ok := sourceIP(req)
	return ok && !s.registeredSource(ip)
}

// dialledUser is the user part an INVITE asks for: the Request-URI's, else the To's.
func dialledUser(req *sip.Request) string {
	if u := strings.TrimSpace(req.Recipient.User); u != "" {
		return u
	}
	if req.To() != nil {
		return req.To().Address.User
	}
	return ""
}

func (s *Server) handleRegister(req *sip.Request, tx sip.ServerTransaction) {
	// Over UDP sipgo keeps an answered transaction for Timer J (32 s) to answer the
	// request's retransmissions from it: at thousands of REGISTERs a second that is hundreds
	// of thousands of live transactions with their requests, responses and timers, and
	// allocating and collecting them cost about a quarter of the CPU per registration
	// (pprof under SIPp, docs/benchmarks.md). A REGISTER's transaction ends once answered
	// instead; a retransmission is handled afresh, which gives the same answer: a new
	// challenge for an unauthenticated one, and for an authenticated one the nonce count it
	// used is accepted again from the same request (nonceIssuer.useCount) and re-applies the
	// same bindings.
	defer tx.Terminate()
	if req.To() == nil || req.CallID() == nil || req.CSeq() == nil {
		s.registerOutcome(outcomeBadRequest)
		s.respond(req, tx, 400, "Missing To, Call-ID or CSeq")
		return
	}
	acct, ok := s.tenantOrRefuse(req, tx, req.Recipient.Host)
	if !ok {
		s.registerOutcome(outcomeNoDomain)
		return
	}
	dev, res := s.authenticate(req, "Authorization", acct)
	switch res.kind {
	case authOK:
	case authMissing:
		s.registerOutcome(outcomeChallenged)
		s.challenge(req, tx, 401, "Unauthorized", "WWW-Authenticate", false, acct, req.To().Address.User)
		return
	case authStale:
		s.registerOutcome(outcomeStale)
		s.challenge(req, tx, 401, "Unauthorized", "WWW-Authenticate", true, acct, req.To().Address.User)
		return
	case authReplay:
		s.registerOutcome(outcomeReplay)
		s.challenge(req, tx, 401, "Unauthorized", "WWW-Authenticate", false, acct, req.To().Address.User)
		return
	case authFailed:
		s.registerOutcome(outcomeAuthFailed)
		s.challenge(req, tx, 401, "Unauthorized", "WWW-Authenticate", false, acct, req.To().Address.User)
		return
	case authWeakDigest:
		s.registerOutcome(outcomeForbidden)
		s.respond(req, tx, 403, forbiddenWeakDigest)
		return
	case authMalformed:
		s.registerOutcome(outcomeBadRequest)
		s.respond(req, tx, 400, "Bad Authorization: Digest with qop=auth required")
		return
	case authStoreError:
		s.registerOutcome(outcomeError)
		s.respond(req, tx, 500, "Server Internal Error")
		return
	}

	// The address of record is the device's SIP username: a credential registers only itself.
	if !strings.EqualFold(req.To().Address.User, dev.SIPUsername) {
		s.registerOutcome(outcomeForbidden)
		s.respond(req, tx, 403, "Forbidden: To does not match the credentials")
		return
	}

	if refuseInsecure(dev, req) {
		s.registerOutcome(outcomeForbidden)
		s.respond(req, tx, 403, forbiddenInsecure)
		return
	}

	r, rerr := s.parseRegister(req, dev)
	if rerr == nil && len(r.contacts) == 0 && !r.wildcard {
		// A query: list the bindings, change nothing.
		s.registerOutcome(outcomeQuery)
		s.respond(req, tx, 200, "OK", contactHeaders(s.deviceBindings(dev), s.now())...)
		return
	}
	var bindings []binding
	if rerr == nil {
		r.retransmission = res.retransmission
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		bindings, rerr = s.applyRegister(ctx, r)
		cancel()
	}
	if rerr != nil {
		s.registerOutcome(rerr.outcome)
		var hs []sip.Header
		if rerr.code == 423 {
			hs = append(hs, sip.NewHeader("Min-Expires", strconv.Itoa(rerr.minExpires)))
		}
		s.respond(req, tx, rerr.code, rerr.reason, hs...)
		return
	}
	if len(bindings) == 0 {
		s.registerOutcome(outcomeUnregistered)
	} else {
		s.registerOutcome(outcomeRegistered)
	}
	s.respond(req, tx, 200, "OK", contactHeaders(bindings, s.now())...)
	s.mwiAfterRegister(dev, bindings) // mwi.go: the lamp's state again after each REGISTER
	s.smsAfterRegister(dev, bindings) // message.go: messages kept for the user's phones
}

// forbiddenInsecure is the reason a device that requires TLS hears over UDP or TCP.
const forbiddenInsecure = "Forbidden: this device must use SIP over TLS with SRTP"

// refuseInsecure reports whether req, from dev, broke the device's security policy.
func refuseInsecure(dev *switchboard.Device, req *sip.Request) bool {
	return dev.RequireSecure && !strings.EqualFold(req.Transport(), "TLS")
}

func contactHeaders(bs []binding, now time.Time) []sip.Header {
	hs := make([]sip.Header, 0, len(bs)+1)
	for _, b := range bs {
		left := int((b.expires.Sub(now) + time.Second - 1) / time.Second)
		hs = append(hs, sip.NewHeader("Contact", "<"+b.uri+">;expires="+strconv.Itoa(left)))
	}
	hs = append(hs, sip.NewHeader("Date", now.UTC().Format(time.RFC1123)))
	return hs
}

func (s *Server) registerOutcome(outcome string) {
	s.metrics.registers.WithLabelValues(outcome).Inc()
}

// realmOf is the digest realm of requests for acct: its SIP domain, or switchboard.SIPRealm
// for a request that named no account's domain.
func realmOf(acct *switchboard.Account) string {
	if acct == nil || acct.SIPDomain == "" {
		return switchboard.SIPRealm
	}
	return acct.SIPDomain
}

// challenge answers 401/407 with a fresh nonce for acct's realm: SHA-256 alone when username
// is a device that requires it, else the server's challenges (Config.Digest). An unknown
// username is challenged like any device that does not require SHA-256.
func (s *Server) challenge(req *sip.Request, tx sip.ServerTransaction, code int, reason, header string, stale bool,
	acct *switchboard.Account, username string) {
	var algs []string
	if s.sha256.mayRequire(s.cfg.Store) {
		if dev, err := s.lookupDevice(acct, username); err == nil && dev.RequiresSHA256() {
			algs = []string{algSHA256}
		} else if err != nil && switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			s.log.Error("device lookup failed; challenging with the default digest", "error", err)
		}
	}
	vals := s.nonces.challenges(stale, realmOf(acct), algs)
	hs := make([]sip.Header, 0, len(vals))
	for _, v := range vals {
		hs = append(hs, sip.NewHeader(header, v))
	}
	s.respond(req, tx, code, reason, hs...)
}

// sha256Hint remembers for a few seconds whether any device requires SHA-256, so that while
// none does (the usual case) a challenge costs no device lookup: REGISTER throughput is the
// registrar's measure. A device switched to SHA-256 is challenged so within sha256HintTTL;
// its MD5 answers are refused at once all the same (authenticate reads the device).
type sha256Hint struct {
	mu      sync.Mutex
	any     bool
	checked time.Time // wall clock
}

const sha256HintTTL = 5 * time.Second

func (h *sha256Hint) mayRequire(st Store) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.checked.IsZero() && time.Since(h.checked) < sha256HintTTL {
		return h.any
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	anyDevice, err := st.HasSHA256Devices(ctx)
	if err != nil {
		return true // look the device up: the challenge must not be weaker than it asks
	}
	h.any, h.checked = anyDevice, time.Now()
	return anyDevice
}

// forbiddenWeakDigest is the reason a device that requires SHA-256 hears when it answered
// with MD5 (it was challenged with SHA-256 alone, so only a forged or confused answer does).
const forbiddenWeakDigest = "Forbidden: this device must authenticate with SHA-256"

// lookupDevice finds the device with a SIP username: acct's when the request named its SIP
// domain, else by the username alone (see GetDeviceBySIPUsername).
func (s *Server) lookupDevice(acct *switchboard.Account, username string) (*switchboard.Device, error) {
	return s.device(acct, username) // through the credential cache (devicecache.go)
}

// fromUser is the user part of the From URI: the SIP username a phone's INVITE comes from.
func fromUser(req *sip.Request) string {
	if f := req.From(); f != nil {
		return f.Address.User
	}
	return ""
}

type authKind int

const (
	authOK authKind = iota
	authMissing
	authMalformed
	authFailed
	authStale
	authReplay
	authStoreError
	authWeakDigest // the password is right, but the device requires SHA-256 and MD5 answered
)

type authResult struct {
	kind authKind
	// retransmission: the request is a UDP retransmission of one already accepted (see
	// nonceIssuer.useCount); its REGISTER is applied again as it was the first time.
	retransmission bool
}

// authenticate checks the request's digest credentials in header against the device with
// that SIP username: of acct when the request named its SIP domain, else found by the
// username alone (see GetDeviceBySIPUsername). An unknown username is hashed against a dummy HA1 and fails exactly as
// a wrong password does, so the two cannot be told apart. Failures count towards a ban of
// the source address.
func (s *Server) authenticate(req *sip.Request, header string, acct *switchboard.Account) (*switchboard.Device, authResult) {
	h := headerOf(req, header)
	if h == nil {
		return nil, authResult{kind: authMissing}
	}
	c, ok := parseCredentials(h.Value())
	if !ok {
		return nil, authResult{kind: authMalformed}
	}
	dev, err := s.lookupDevice(acct, c.username)
	if err != nil && switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		s.log.Error("device lookup failed", "error", err)
		return nil, authResult{kind: authStoreError}
	}
	alg := algMD5
	if strings.EqualFold(c.algorithm, algSHA256) {
		alg = algSHA256
	}
	ha1 := s.dummyHA1[alg]
	if dev != nil {
		ha1 = dev.HA1MD5
		if alg == algSHA256 {
			ha1 = dev.HA1SHA256
		}
	}
	match := responseMatches(digestResponse(alg, ha1, string(req.Method), c), c.response)
	knownAlg := strings.EqualFold(c.algorithm, algMD5) || strings.EqualFold(c.algorithm, algSHA256)
	// The realm answered must be the one challenged for this domain. (A password set before
	// the account had its domain is hashed for switchboard.SIPRealm and does not match.)
	if !match || dev == nil || c.realm != realmOf(acct) || !knownAlg {
		s.authFailed(req)
		return nil, authResult{kind: authFailed}
	}
	if dev.RequiresSHA256() && alg != algSHA256 {
		// Refused, not challenged again: the phone was offered SHA-256 alone, so asking
		// once more would only loop.
		return nil, authResult{kind: authWeakDigest}
	}
	// The password is right. A nonce we did not issue (say, from before a restart) or one
	// that expired is stale, not a failure: the phone retries with the new nonce at once.
	if s.nonces.check(c.nonce) != nil {
		return nil, authResult{kind: authStale}
	}
	nc, ok := c.nonceCount()
	if !ok {
		return nil, authResult{kind: authMalformed}
	}
	switch s.nonces.useCount(c.nonce, nc, s.requestID(req)) {
	case nonceReplay:
		return nil, authResult{kind: authReplay}
	case nonceStale:
		return nil, authResult{kind: authStale}
	case nonceRetransmission:
		return dev, authResult{kind: authOK, retransmission: true}
	}
	return dev, authResult{kind: authOK}
}

// requestID identifies req across its retransmissions (see nonceIssuer.requestID).
func (s *Server) requestID(req *sip.Request) uint64 {
	var callID, branch string
	var cseq uint32
	if h := req.CallID(); h != nil {
		callID = h.Value()
	}
	if h := req.CSeq(); h != nil {
		cseq = h.SeqNo
	}
	if h := req.Via(); h != nil {
		branch, _ = h.Params.Get("branch")
	}
	return s.nonces.requestID(req.Source(), callID, cseq, branch)
}

func (s *Server) authFailed(req *sip.Request) {
	s.metrics.authFailures.Inc()
	ap, err := netip.ParseAddrPort(req.Source())
	if err != nil {
		return
	}
	if s.bans.fail(ap.Addr().Unmap()) {
		s.metrics.bans.Inc()
		s.log.Warn("SIP source banned after repeated authentication failures",
			"ip", ap.Addr().Unmap().String(), "for", s.cfg.Ban.BanFor)
	}
}

// fromHost is the host of the From URI: the domain of the caller, which tells the tenant of
// an INVITE, MESSAGE, SUBSCRIBE or OPTIONS.
func fromHost(req *sip.Request) string {
	if f := req.From(); f != nil {
		return f.Address.Host
	}
	return ""
}

// tenantOrRefuse tells the account a request is for from host (see tenant). A domain that
// belongs to no account is answered 404 without a challenge and counts towards a ban of
// the source, like a failed authentication: scanning for domains is scanning.
func (s *Server) tenantOrRefuse(req *sip.Request, tx sip.ServerTransaction, host string) (*switchboard.Account, bool) {
	acct, known, err := s.tenant(context.Background(), host)
	if err != nil {
		s.log.Error("SIP domain lookup failed", "error", err)
		s.respond(req, tx, 500, "Server Internal Error")
		return nil, false
	}
	if !known && s.carrier(req) {
		return nil, true
	}
	if !known {
		s.authFailed(req)
		s.respond(req, tx, 404, "Not Found: unknown domain")
		return nil, false
	}
	return acct, true
}

// tenant resolves host: the account whose SIP domain it is; no account (nil, known) for an
// IP address, the server's public host, or any host while no account has a SIP domain (a
// single-tenant deployment works on whatever name its phones use); unknown otherwise.
func (s *Server) tenant(ctx context.Context, host string) (acct *switchboard.Account, known bool, err error) {
	host = strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
	if _, err := netip.ParseAddr(host); err == nil || host == "" || host == s.publicName() {
		return nil, true, nil
	}
	// The deadline only from here: most requests name an address and need no look-up.
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	a, err := s.cfg.Store.GetAccountBySIPDomain(ctx, host)
	if err == nil {
		return a, true, nil
	}
	if switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		return nil, false, err
	}
	some, err := s.cfg.Store.HasSIPDomains(ctx)
	if err != nil {
		return nil, false, err
	}
	return nil, !some, nil
}

// Tenant tells the account whose SIP domain host is, as for the From of a request: nil
// and known for an IP address or the server's own name (any account), not known for a
// domain no account has. The engine checks a REFER's target with it.
func (s *Server) Tenant(ctx context.Context, host string) (acct *switchboard.Account, known bool, err error) {
	return s.tenant(ctx, host)
}

// publicName is the host of --sip-public, lowercase, or "".
func (s *Server) publicName() string {
	h := s.cfg.PublicAddr
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	return strings.ToLower(h)
}

// carrier reports whether the request comes from an address a trunk trusts.
func (s *Server) carrier(req *sip.Request) bool {
	h := s.callHandler()
	ip, ok := sourceIP(req)
	return h != nil && ok && h.TrustedSource(ip)
}
