// Package pbx is Switchboard's call engine: a back-to-back user agent that anchors every
// call's media. Each call has a caller leg and a callee leg, each a SIP dialog of its own
// with its own RTP port (media.Session); audio and RFC 4733 events are relayed between them
// by a media.Bridge, transcoding PCMU<->PCMA when the legs chose different codecs.
//
// The SIP core (package sip) authenticates and hands new INVITEs and in-dialog requests to
// the Engine (it implements sip.CallHandler). The engine routes (extensions, forwarding,
// numbers, the account's trunk), forks to every registered phone of a user, passes on
// ringing, early media, busy, CANCEL and BYE, plays music on hold to the party a phone holds,
// ends calls whose RTP stops, and stores each call's record with its events.
//
// The engine works with sipgo's message types (github.com/emiago/sipgo/sip) but sends and
// receives only through the sip.Server's client and handlers: it owns no socket of its own
// except the RTP ports.
package pbx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"

	"switchboard"
	"switchboard/media"
	"switchboard/phone"
	"switchboard/sip"
	"switchboard/webhook"
)

// Store is what the engine reads and writes: exactly the methods it calls (a *store.DB
// has them all).
type Store interface {
	// Routing.
	GetAccount(ctx context.Context, id int64) (*switchboard.Account, error) // its toll-fraud guards
	GetUser(ctx context.Context, accountID, id int64) (*switchboard.User, error)
	GetUserByExtension(ctx context.Context, accountID int64, extension string) (*switchboard.User, error)
	ExtensionTarget(ctx context.Context, accountID int64, extension string) (switchboard.Target, error)
	GetNumberByE164(ctx context.Context, number string) (*switchboard.Number, error)
	ListNumbers(ctx context.Context, accountID int64, f switchboard.NumberFilter) ([]*switchboard.Number, error)
	ListAllTrunks(ctx context.Context) ([]*switchboard.Trunk, error)
	ListTrunks(ctx context.Context, accountID int64) ([]*switchboard.Trunk, error)

	// Queues and ring groups.
	GetQueue(ctx context.Context, accountID, id int64) (*switchboard.Queue, error)
	ListQueues(ctx context.Context, accountID int64) ([]*switchboard.Queue, error)
	ListQueueMembers(ctx context.Context, accountID, queueID int64) ([]switchboard.QueueMember, error)
	QueueDayStats(ctx context.Context, accountID, queueID int64, since time.Time, serviceLevel int) (switchboard.QueueDayStats, error)
	GetRingGroup(ctx context.Context, accountID, id int64) (*switchboard.RingGroup, error)
	ListRingGroups(ctx context.Context, accountID int64) ([]*switchboard.RingGroup, error)

	// Call records, queue and ring group stays, and their events.
	StartCallRecord(ctx context.Context, r *switchboard.CallRecord, events ...*switchboard.Event) error
	EndCallRecord(ctx context.Context, r *switchboard.CallRecord, events ...*switchboard.Event) error
	CloseOpenCallRecords(ctx context.Context, at time.Time, endEvent func(*switchboard.CallRecord) *switchboard.Event) ([]*switchboard.CallRecord, error)
	StartGroupCall(ctx context.Context, g *switchboard.GroupCall, events ...*switchboard.Event) error
	AnswerGroupCall(ctx context.Context, g *switchboard.GroupCall, events ...*switchboard.Event) error
	EndGroupCall(ctx context.Context, g *switchboard.GroupCall, events ...*switchboard.Event) error
	CloseOpenGroupCalls(ctx context.Context, at time.Time) (int, error)
	AppendEvents(ctx context.Context, events ...*switchboard.Event) error

	// Queue callbacks (queue_callback.go): stored when asked for, updated per attempt,
	// resumed at start.
	CreateQueueCallback(ctx context.Context, cb *switchboard.QueueCallback, max int, events ...*switchboard.Event) error
	UpdateQueueCallback(ctx context.Context, cb *switchboard.QueueCallback, events ...*switchboard.Event) error
	ResumeQueueCallbacks(ctx context.Context) ([]*switchboard.QueueCallback, error)

	// Music on hold: the audio (8 kHz µ-law) of a class; ENOTFOUND when none is uploaded.
	GetMusicClassAudio(ctx context.Context, accountID int64, name string) ([]byte, error)

	// Conference rooms (conference.go).
	GetConferenceRoom(ctx context.Context, accountID, id int64) (*switchboard.ConferenceRoom, error)
	// Call flows (flowcall.go): the account's flow (ENOTFOUND for another account's), and
	// the trace of what flows did with a call.
	GetCallFlow(ctx context.Context, accountID, id int64) (*switchboard.CallFlow, error)
	SaveCallTrace(ctx context.Context, tr *switchboard.CallTrace) error
}

// Sealer seals trunk passwords at rest and opens them to answer the carrier's challenges
// (webhook.Sealer, with the server key).
type Sealer interface {
	Seal(plaintext string) []byte
	Open(sealed []byte) (string, error)
}

// Config configures an Engine. Zero values take the documented defaults.
type Config struct {
	Store Store
	SIP   *sip.Server
	// Sealer seals and opens trunk passwords; nil means trunks with a username can be
	// neither provisioned nor used.
	Sealer Sealer
	// MediaIP is the address RTP ports bind to and SDP announces; the default is the SIP
	// server's contact host when it is an IP, else 127.0.0.1.
	MediaIP netip.Addr
	// RTPPortMin and RTPPortMax bound the RTP ports (default 10000-20000).
	RTPPortMin, RTPPortMax int
	// InactivityTimeout ends an answered call whose legs sent no RTP for that long
	// (default 60 s; calls on hold are exempt).
	InactivityTimeout time.Duration
	// DefaultRingTime is how long phones ring when the user has no ring time (default 30 s).
	DefaultRingTime time.Duration
	// SweepInterval is how often inactivity is checked (default 5 s).
	SweepInterval time.Duration
	// QueuePoll is how often waiting queue callers and ringing timers look at the clock and
	// the agents again (default 100 ms); a call ending wakes them at once too.
	QueuePoll time.Duration
	// AckTimeout is how long a 200 OK we sent to an INVITE or re-INVITE is retransmitted
	// while waiting for its ACK (default 64*T1 = 32 s, RFC 3261). A caller that never ACKs
	// the answer is then hung up on both legs (disposition failed); a lost re-INVITE ACK
	// only stops the retransmissions.
	AckTimeout time.Duration
	// ParkTimeout is how long a parked call waits for a retrieval before it rings the
	// parker back (default 45 s).
	ParkTimeout time.Duration
	// FlowMaxSteps caps the nodes one call enters in a flow (default flow.DefaultMaxSteps).
	FlowMaxSteps int
	// WebhookPolicy decides which URLs a flow's webhook node may reach (the server's
	// webhook policy: https and public addresses only unless it says otherwise).
	WebhookPolicy webhook.URLPolicy
	// Prompts gives flows their prompts' audio; nil plays tones instead (flowcall.go).
	Prompts switchboard.PromptLibrary
	// Recordings stores call recordings (recording.Service); nil = calls are not recorded
	// (recording.go).
	Recordings RecordingService
	Now        func() time.Time
	Logger     *slog.Logger
}

// Engine is the call engine. It implements sip.CallHandler and switchboard.CallPlacer.
//
// Lock order: a queue's statusSnapshot.mu, then Engine.mu, then a call's call.mu. Every
// other mutex is a leaf, held while no other of these is taken: queueManager.mu (computing
// statuses reads Engine.mu first and releases it), queueManager.kickMu, membersMu and
// snapsMu, Engine.mediaMu, trunkMu, usersMu and flagsMu, a leg's mu and respondMu. (A leg's mu is held while
// its state goes to the SIP core's busy lamp hub, whose lock is a leaf in turn: blf.go.)
type Engine struct {
	cfg   Config
	store Store
	sip   *sip.Server
	ports *media.PortPool
	now   func() time.Time
	log   *slog.Logger

	seq atomic.Uint64 // the sequence part of uniqueids

	// recovered is closed once Recover has closed the records of the last run: calls
	// start only then, so that recovery, racing the first INVITE, never closes a live call.
	recovered     chan struct{}
	recoveredOnce sync.Once

	mu sync.Mutex
	// stopping is set once Run's context has ended: from then on the engine starts no call
	// and no in-dialog work (track refuses it), so no wg.Add can race Run's wg.Wait.
	stopping bool
	calls    map[string]*call // by uniqueid
	// busy counts, per user, the live calls (in calls) the user is a party to, so queues
	// see who is on a call without walking every call.
	busy map[agentKey]int
	// outAccount and outUser count the outbound trunk calls holding a slot (tollfraud.go).
	outAccount map[int64]int
	outUser    map[agentKey]int
	// outMinutes counts the outbound trunk minutes of the last hour, per account and user.
	outMinutes minuteLedgers
	dialogs    map[string]*leg // by SIP dialog id, for in-dialog requests
	// wg counts the call goroutines and the work they spawn. An Add that may find the count
	// at zero (a new call, work started by an in-dialog request) goes through track; a call's
	// own goroutine adds directly, its count keeping wg above zero.
	wg sync.WaitGroup

	mediaMu     sync.Mutex
	mediaTotals MediaTotals
	ended       map[switchboard.CallDisposition]int

	queues      *queueManager
	intn        func(n int) int // the queue strategies' random source: rand.IntN
	answerDelay delayHistogram  // answer-to-bridge delays of queue and ring group calls

	trunkMu      sync.Mutex
	trunks       []*switchboard.Trunk
	trunksLoaded time.Time

	// parkMu (a leaf) guards parked: the account's calls in park slots (park.go).
	parkMu sync.Mutex
	parked map[parkKey]*parkedCall
	// users changes users for feature codes (SetUserService); flags caches the queue
	// members' do not disturb and call waiting (features.go). Both mutexes are leaves.
	usersMu sync.Mutex
	users   switchboard.UserService
	flows   switchboard.CallFlowService // *60 (flow_override.go), under usersMu
	agents  AgentStates                 // *45 and *46 (agent_codes.go), under usersMu
	flagsMu sync.Mutex
	flags   map[agentKey]userFlags
	// conf holds the conference rooms in progress (conference.go).
	conf conferences

	// flowHTTPClient posts webhook nodes' requests (flowcall.go).
	flowHTTPMu     sync.Mutex // a leaf
	flowHTTPClient *http.Client
	// vm is the voicemail configuration and PIN failure counts (voicemail.go); its mutex
	// is a leaf.
	vm voicemailState
}

var (
	_ sip.CallHandler            = (*Engine)(nil)
	_ switchboard.CallPlacer     = (*Engine)(nil)
	_ switchboard.CallController = (*Engine)(nil)
)

// New checks cfg and returns an engine; connect it with cfg.SIP.SetCallHandler(engine) and
// cfg.SIP.SetChannelSource(engine.Channels) before the SIP server runs, and call Run.
func New(cfg Config) (*Engine, error) {
	if cfg.Store == nil || cfg.SIP == nil {
		return nil, errors.New("pbx: Config.Store and Config.SIP are required")
	}
	if cfg.InactivityTimeout <= 0 {
		cfg.InactivityTimeout = media.DefaultInactivityTimeout
	}
	if cfg.DefaultRingTime <= 0 {
		cfg.DefaultRingTime = 30 * time.Second
	}
	if cfg.SweepInterval <= 0 {
		cfg.SweepInterval = 5 * time.Second
	}
	if cfg.AckTimeout <= 0 {
		cfg.AckTimeout = defaultAckTimeout()
	}
	if cfg.ParkTimeout <= 0 {
		cfg.ParkTimeout = defaultParkTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.QueuePoll <= 0 {
		cfg.QueuePoll = 100 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	pool, err := media.NewPortPool(cfg.RTPPortMin, cfg.RTPPortMax)
	if err != nil {
		return nil, fmt.Errorf("pbx: RTP ports: %w", err)
	}
	e := &Engine{cfg: cfg, store: cfg.Store, sip: cfg.SIP, ports: pool, now: cfg.Now,
		log:   cfg.Logger.With("component", "pbx"),
		calls: make(map[string]*call), busy: map[agentKey]int{},
		outAccount: map[int64]int{}, outUser: map[agentKey]int{}, outMinutes: minuteLedgers{}, dialogs: make(map[string]*leg), queues: newQueueManager(), flags: map[agentKey]userFlags{},
		recovered: make(chan struct{}), intn: rand.IntN}
	// Uniqueids are <epoch>.<sequence>; starting the sequence at the start time's
	// milliseconds keeps ids of a restarted process apart from the last one's.
	e.seq.Store(uint64(cfg.Now().UnixMilli() % 1_000_000 * 1000))
	return e, nil
}

// Attach connects the engine to its SIP server: INVITEs and in-dialog requests come to the
// engine, and the SIP core's UserPresence sees its channels.
func (e *Engine) Attach() {
	e.sip.SetCallHandler(e)
	e.sip.SetChannelSource(e.Channels)
}

// Ports is the RTP port pool (its InUse count shows leaks).
func (e *Engine) Ports() *media.PortPool { return e.ports }

// Recover closes the records of calls that were up when the process last stopped
// (disposition failed, ended now) with their ended events. Run calls it first; calls wait
// for its first run to finish before their records are written.
func (e *Engine) Recover(ctx context.Context) error {
	closed, err := e.store.CloseOpenCallRecords(ctx, e.now().UTC(), recoveredEndEvent)
	for _, r := range closed {
		e.log.Warn("closed the record of a call that was up when the process stopped", "uniqueid", r.UniqueID,
			"account_id", r.AccountID)
	}
	if _, gerr := e.store.CloseOpenGroupCalls(ctx, e.now().UTC()); gerr != nil && err == nil {
		err = gerr
	}
	e.recoveredOnce.Do(func() { close(e.recovered) })
	return err
}

// Run recovers open call records, then checks calls for RTP inactivity until ctx ends; it
// then hangs up every call and returns once their goroutines are done.
func (e *Engine) Run(ctx context.Context) error {
	if err := e.Recover(ctx); err != nil {
		e.log.Error("closing open call records failed", "error", err)
	}
	e.resumeCallbacks(ctx) // after Recover, which closed their stays

	t := time.NewTicker(e.cfg.SweepInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			e.mu.Lock()
			e.stopping = true
			e.mu.Unlock()
			e.queues.stop()
			e.HangupAll("shutdown")
			e.wg.Wait()
			return nil
		case <-t.C:
			e.SweepInactive()
		}
	}
}

// SweepInactive ends answered calls whose media went silent (RTP inactivity): both legs
// sent nothing for the inactivity timeout and the call is not on hold. Run calls it
// periodically; tests call it after moving the clock.
func (e *Engine) SweepInactive() {
	for _, c := range e.liveCalls() {
		if c.inactive() {
			c.hangup(causeInactive)
		}
	}
}

// track counts one more goroutine that Run waits for, unless the engine is stopping
// (false: the work must not start).
func (e *Engine) track() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stopping {
		return false
	}
	e.wg.Add(1)
	return true
}

// goTracked runs f in a goroutine that Run waits for; once the engine is stopping, f does
// not run.
func (e *Engine) goTracked(f func()) {
	if !e.track() {
		return
	}
	go func() {
		defer e.wg.Done()
		f()
	}()
}

// isStopping reports whether Run's context has ended.
func (e *Engine) isStopping() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.stopping
}

// HangupAll ends every call (BYE to answered legs, CANCEL or a final response to ringing ones).
func (e *Engine) HangupAll(reason string) {
	for _, c := range e.liveCalls() {
		c.hangup(reason)
	}
}

// Wait returns once every call goroutine has finished.
func (e *Engine) Wait() { e.wg.Wait() }

// ActiveCalls is the number of calls in progress.
func (e *Engine) ActiveCalls() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.calls)
}

func (e *Engine) liveCalls() []*call {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]*call, 0, len(e.calls))
	for _, c := range e.calls {
		out = append(out, c)
	}
	return out
}

// Channels returns the user's calls in progress, as the availability endpoint shows them.
func (e *Engine) Channels(accountID, userID int64) []switchboard.Channel {
	now := e.now()
	out := []switchboard.Channel{}
	for _, c := range e.liveCalls() {
		if c.accountID != accountID {
			continue
		}
		out = append(out, c.channelsOf(userID, now)...)
	}
	return out
}

// MediaTotals are the RTP counters of every call leg that has ended, for the caller's legs
// (the INVITEs the engine received) and the callee's (the ones it sent).
type MediaTotals struct {
	Legs                  int
	CallerIn, CallerOut   uint64
	CalleeIn, CalleeOut   uint64
	PacketsIn, PacketsOut uint64
	Dropped, Malformed    uint64
}

func (e *Engine) countEnded(d switchboard.CallDisposition) {
	e.mediaMu.Lock()
	defer e.mediaMu.Unlock()
	if e.ended == nil {
		e.ended = map[switchboard.CallDisposition]int{}
	}
	e.ended[d]++
}

// CallsEnded counts the calls ended since start, by disposition.
func (e *Engine) CallsEnded() map[switchboard.CallDisposition]int {
	e.mediaMu.Lock()
	defer e.mediaMu.Unlock()
	out := make(map[switchboard.CallDisposition]int, len(e.ended))
	for k, v := range e.ended {
		out[k] = v
	}
	return out
}

func (e *Engine) countMedia(st media.Stats, caller bool) {
	e.mediaMu.Lock()
	defer e.mediaMu.Unlock()
	e.mediaTotals.Legs++
	if caller {
		e.mediaTotals.CallerIn += st.PacketsIn
		e.mediaTotals.CallerOut += st.PacketsOut
	} else {
		e.mediaTotals.CalleeIn += st.PacketsIn
		e.mediaTotals.CalleeOut += st.PacketsOut
	}
	e.mediaTotals.PacketsIn += st.PacketsIn
	e.mediaTotals.PacketsOut += st.PacketsOut
	e.mediaTotals.Dropped += st.Dropped
	e.mediaTotals.Malformed += st.Malformed
}

// MediaTotals returns the RTP counters of the legs ended so far (benchmarks read loss here).
func (e *Engine) MediaTotals() MediaTotals {
	e.mediaMu.Lock()
	defer e.mediaMu.Unlock()
	return e.mediaTotals
}

// nextUniqueID returns an Asterisk-style uniqueid: <epoch seconds>.<sequence>.
func (e *Engine) nextUniqueID() string {
	return strconv.FormatInt(e.now().Unix(), 10) + "." + strconv.FormatUint(e.seq.Add(1), 10)
}

func (e *Engine) addCall(c *call) {
	e.mu.Lock()
	e.calls[c.id] = c
	c.mu.Lock()
	for _, p := range c.parties {
		e.busy[agentKey{c.accountID, p.userID}]++
	}
	c.mu.Unlock()
	stopping := e.stopping
	e.mu.Unlock()
	if stopping {
		c.hangup("shutdown") // started just before Run stopped, after its HangupAll
	}
	e.queues.changed() // a party may have been a free agent
}

func (e *Engine) removeCall(c *call) {
	c.mu.Lock()
	slots := c.slots
	c.mu.Unlock()
	releaseSlots(slots)
	e.mu.Lock()
	if e.calls[c.id] == c {
		delete(e.calls, c.id)
		c.mu.Lock()
		for _, p := range c.parties {
			k := agentKey{c.accountID, p.userID}
			if e.busy[k]--; e.busy[k] <= 0 {
				delete(e.busy, k)
			}
		}
		c.mu.Unlock()
	}
	e.mu.Unlock()
	e.queues.changed()
}

// addParty adds a user to the call's parties (an agent answered), counting them busy while
// the call is live.
func (c *call) addParty(p party) {
	e := c.e
	e.mu.Lock()
	c.mu.Lock()
	c.parties = append(c.parties, p)
	c.mu.Unlock()
	if e.calls[c.id] == c {
		e.busy[agentKey{c.accountID, p.userID}]++
	}
	e.mu.Unlock()
	e.queues.changed()
}

// userBusy reports whether the user is a party to a call in progress.
func (e *Engine) userBusy(accountID, userID int64) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.busy[agentKey{accountID, userID}] > 0
}

func (e *Engine) addDialog(id string, l *leg) {
	if id == "" {
		return
	}
	e.mu.Lock()
	e.dialogs[id] = l
	e.mu.Unlock()
}

func (e *Engine) removeDialog(id string) {
	e.mu.Lock()
	delete(e.dialogs, id)
	e.mu.Unlock()
}

func (e *Engine) findDialog(req *sipmsg.Request) *leg {
	e.mu.Lock()
	defer e.mu.Unlock()
	if id, err := sipmsg.DialogIDFromRequestUAS(req); err == nil {
		if l := e.dialogs[id]; l != nil {
			return l
		}
	}
	if id, err := sipmsg.DialogIDFromRequestUAC(req); err == nil {
		if l := e.dialogs[id]; l != nil {
			return l
		}
	}
	return nil
}

// dialogUA is the sipgo dialog agent over the SIP server's client. In-dialog requests go to
// the address the peer's messages came from (RewriteContact), so phones behind NAT and
// phones with unroutable Contact headers are reached.
func (e *Engine) dialogUA(transport string) (*sipgo.DialogUA, error) {
	client := e.sip.Client()
	if client == nil {
		return nil, errors.New("pbx: the SIP server is not running")
	}
	return &sipgo.DialogUA{Client: client, ContactHDR: e.sip.ContactHeaderFor(transport), RewriteContact: true}, nil
}

// mediaIP is the address of RTP sessions.
func (e *Engine) mediaIP() netip.Addr {
	if e.cfg.MediaIP.IsValid() {
		return e.cfg.MediaIP
	}
	if ip, err := netip.ParseAddr(e.sip.ContactHeader().Address.Host); err == nil && !ip.IsUnspecified() {
		return ip
	}
	return netip.MustParseAddr("127.0.0.1")
}

// newMedia opens an RTP session for a leg.
func (e *Engine) newMedia() (*media.Session, error) {
	return media.NewSession(media.SessionConfig{Pool: e.ports, LocalIP: e.mediaIP(),
		InactivityTimeout: e.cfg.InactivityTimeout, Clock: e.now})
}

// trunkCacheTTL bounds how stale the trunk list used to recognise sources may be.
const trunkCacheTTL = 2 * time.Second

func (e *Engine) allTrunks() []*switchboard.Trunk {
	e.trunkMu.Lock()
	defer e.trunkMu.Unlock()
	if e.trunks != nil && e.now().Sub(e.trunksLoaded) < trunkCacheTTL && e.now().Sub(e.trunksLoaded) >= 0 {
		return e.trunks
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	ts, err := e.store.ListAllTrunks(ctx)
	if err != nil {
		e.log.Error("listing trunks failed", "error", err)
		return e.trunks // the last good list
	}
	e.trunks, e.trunksLoaded = ts, e.now()
	return ts
}

// InvalidateTrunks makes the next source check read the trunks again (after the API
// changed one).
func (e *Engine) InvalidateTrunks() {
	e.trunkMu.Lock()
	e.trunks = nil
	e.trunkMu.Unlock()
}

// trunksFrom returns the trunks whose inbound addresses include ip.
func (e *Engine) trunksFrom(ip netip.Addr) []*switchboard.Trunk {
	var out []*switchboard.Trunk
	for _, t := range e.allTrunks() {
		for _, p := range t.TrunkSources() {
			if p.Contains(ip.Unmap()) {
				out = append(out, t)
				break
			}
		}
	}
	return out
}

// TrustedSource reports whether any account's trunk trusts ip.
func (e *Engine) TrustedSource(ip netip.Addr) bool { return len(e.trunksFrom(ip)) > 0 }

// TrunkSource reports whether an INVITE from ip for dialled comes from a trunk: ip is an
// inbound address of a trunk of the account that owns the dialled number. A trunk never
// vouches for calls to another account, nor for anything but its account's numbers; a trunk
// whose transport is TLS vouches only for INVITEs that came over TLS (overTLS), so its
// address alone, spoofed over UDP, gets no call in.
func (e *Engine) TrunkSource(ip netip.Addr, dialled string, overTLS bool) bool {
	trunks := e.trunksFrom(ip)
	if len(trunks) == 0 {
		return false
	}
	number, ok := phone.Normalize(dialled)
	if !ok {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
	defer cancel()
	num, err := e.store.GetNumberByE164(ctx, number)
	if err != nil {
		if switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			e.log.Error("number lookup failed", "error", err)
		}
		return false
	}
	for _, t := range trunks {
		if t.AccountID == num.AccountID && (overTLS || t.Transport != switchboard.TransportTLS) {
			return true
		}
	}
	return false
}

// hostPort joins a host and port for SIP URIs and destinations.
func hostPort(host string, port int) string { return net.JoinHostPort(host, strconv.Itoa(port)) }
