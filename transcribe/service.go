package transcribe

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"switchboard"
)

// Service runs the transcription queue: it claims due jobs, sends each channel of the
// recording to the engines (in order, the next one taking over when one fails), masks
// personal data, builds the analytics and stores the transcript with its
// transcription.finished event in one transaction. Set the fields, then Run.
type Service struct {
	Store switchboard.TranscriptionStore
	Blobs switchboard.BlobStore // where the recordings' WAVs are
	// Engines in the order they are tried. None: transcription is off (Available says why).
	Engines []Engine
	// Analyzer scores sentiment and writes the recap; Local when nil. A failing analyzer
	// falls back to Local for that job (logged), it does not fail the transcript.
	Analyzer Analyzer
	// Workers bounds the jobs this process runs at once (2); PerAccount the jobs one account
	// has running across all nodes (1).
	Workers, PerAccount int
	// Lease is how long a claim lasts before another worker may take the job (15 min).
	Lease time.Duration
	// MaxAttempts: a job that failed this many times (retryable failures) fails for good (5).
	MaxAttempts int
	// Backoff is the wait before attempt n+1 after n failed: 30 s doubling, at most 1 h.
	Backoff func(attempts int) time.Duration
	// Poll is how often the queue is looked at when nothing woke the service (2 s).
	Poll time.Duration
	// SingleNode: at start, every leased job is released (the leases were this node's own,
	// from a run that died), instead of waiting for them to run out.
	SingleNode bool
	// NoEngineHint completes the message of Available when no engine is configured (the
	// flags that configure one).
	NoEngineHint string
	Logger       *slog.Logger
	Now          func() time.Time

	wake chan struct{}
	once sync.Once
}

// maxRecordingBytes bounds the audio read for one job (a 2-channel 8 kHz 16-bit WAV takes
// 32 kB a second: this is over four hours).
const maxRecordingBytes = 512 << 20

func (s *Service) init() {
	s.once.Do(func() { s.wake = make(chan struct{}, 1) })
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

func (s *Service) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

func orDefault[T int | time.Duration](v, d T) T {
	if v <= 0 {
		return d
	}
	return v
}

// Available is nil when an engine is configured, else the SERVICE_UNAVAILABLE error that
// enabling transcription answers, naming the missing settings.
func (s *Service) Available() error {
	if s != nil && len(s.Engines) > 0 {
		return nil
	}
	msg := "Transcription is off on this server: no speech-to-text engine is configured"
	hint := "set --transcribe-openai-url and --transcribe-openai-model (env SWITCHBOARD_TRANSCRIBE_OPENAI_URL, SWITCHBOARD_TRANSCRIBE_OPENAI_MODEL), or build with -tags sherpa and set --transcribe-sherpa-model"
	if s != nil && s.NoEngineHint != "" {
		hint = s.NoEngineHint
	}
	return &switchboard.Error{Code: switchboard.EUNAVAILABLE, Message: msg + ": " + hint,
		Details: map[string]string{"engines": "none configured"}}
}

// Missing says what is missing for transcription to run, "" when an engine is configured:
// provision.Service.SetTranscriptionCheck takes it, so that enabling transcription on an
// account is refused with this text while the server has no engine.
func (s *Service) Missing() string {
	if err := s.Available(); err != nil {
		return strings.TrimPrefix(switchboard.ErrorMessage(err), "Transcription is off on this server: ")
	}
	return ""
}

// Wake makes Run look at the queue now (a job was just enqueued).
func (s *Service) Wake() {
	s.init()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// TxEnqueuer is the store's enqueue inside another change's transaction (store.DB).
type TxEnqueuer interface {
	EnqueueTranscriptionIn(ctx context.Context, tx switchboard.StoreTx, j *switchboard.TranscriptionJob) (bool, error)
}

// RecordingHook is the recording service's OnAvailable: inside the transaction that makes
// the recording available it adds the recording's job, when the account has transcription
// on and this server has an engine. So a recording is never available without its job,
// and a crash between the two cannot lose it.
func (s *Service) RecordingHook(st TxEnqueuer) func(ctx context.Context, tx switchboard.StoreTx, r *switchboard.Recording) error {
	return func(ctx context.Context, tx switchboard.StoreTx, r *switchboard.Recording) error {
		if s.Available() != nil || r.Status != switchboard.RecordingAvailable {
			return nil
		}
		added, err := st.EnqueueTranscriptionIn(ctx, tx, JobFor(r))
		if added {
			s.Wake() // the claim may come before the commit: the next poll finds it then
		}
		return err
	}
}

// JobFor is the transcription job of a recording.
func JobFor(r *switchboard.Recording) *switchboard.TranscriptionJob {
	return &switchboard.TranscriptionJob{AccountID: r.AccountID, RecordingID: r.ID, CallID: r.CallID,
		Direction: r.Direction, BlobKey: r.BlobKey, DurationMs: r.DurationMs}
}

// Run works the queue until ctx ends; jobs running then are left to their lease (or, on a
// single node, released at the next start). It returns nil when ctx ends.
func (s *Service) Run(ctx context.Context) error {
	s.init()
	if len(s.Engines) == 0 {
		<-ctx.Done()
		return nil
	}
	if s.SingleNode {
		if err := s.Store.ReleaseTranscriptionLeases(ctx); err != nil {
			return fmt.Errorf("transcribe: releasing the previous run's claims: %w", err)
		}
	}
	workers := orDefault(s.Workers, 2)
	slots := make(chan struct{}, workers)
	var wg sync.WaitGroup
	defer wg.Wait()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		case <-s.wake:
		}
		free := workers - len(slots)
		if free > 0 {
			jobs, err := s.Store.ClaimTranscriptionJobs(ctx, s.now(), orDefault(s.Lease, 15*time.Minute), free, orDefault(s.PerAccount, 1))
			if err != nil && ctx.Err() == nil {
				s.logger().Error("transcribe: claiming jobs", "err", err)
			}
			for _, j := range jobs {
				slots <- struct{}{}
				wg.Add(1)
				go func() {
					defer func() { <-slots; wg.Done(); s.Wake() }()
					s.Process(ctx, j)
				}()
			}
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(orDefault(s.Poll, 2*time.Second))
	}
}

// jobError is a failure of a job: permanent or worth another attempt (after at least wait).
type jobError struct {
	msg       string
	permanent bool
	wait      time.Duration
}

// Process runs one claimed job to its end: stored transcript, retry later, or failure with
// its event. Exported for tests and tools that drive the queue themselves.
func (s *Service) Process(ctx context.Context, j *switchboard.TranscriptionJob) {
	log := s.logger().With("job", j.ID, "recording", j.RecordingID, "call", j.CallID, "attempt", j.Attempts)
	t, ev, failovers, jerr := s.transcribe(ctx, j, log)
	if ctx.Err() != nil {
		return // shutting down: the lease (or the next start) hands the job on
	}
	var err error
	switch {
	case jerr == nil:
		err = s.Store.CompleteTranscriptionJob(ctx, j, t, append(failovers, ev)...)
		if err == nil {
			log.Info("transcribe: transcript stored", "engine", t.Engine, "redactions", t.Redactions)
		}
	case !jerr.permanent && j.Attempts < orDefault(s.MaxAttempts, 5):
		wait := max(s.backoff(j.Attempts), jerr.wait)
		log.Warn("transcribe: attempt failed, will retry", "err", jerr.msg, "in", wait)
		err = s.Store.RetryTranscriptionJob(ctx, j, s.now().Add(wait), jerr.msg, failovers...)
	default:
		log.Error("transcribe: job failed", "err", jerr.msg)
		err = s.Store.FailTranscriptionJob(ctx, j, jerr.msg, append(failovers, s.failedEvent(j, jerr.msg))...)
	}
	if err != nil {
		// CONFLICT: the lease ran out and another worker has the job; it will finish it.
		log.Error("transcribe: storing the job's outcome", "err", err)
	}
}

func (s *Service) backoff(attempts int) time.Duration {
	if s.Backoff != nil {
		return s.Backoff(attempts)
	}
	d := 30 * time.Second
	for i := 1; i < attempts && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

// channelRoles says which role each WAV channel holds: left is the caller, so the customer
// on an inbound call and the user (the agent) on an outbound or internal one.
func channelRoles(direction string) [2]string {
	if direction == "inbound" {
		return [2]string{RoleCustomer, RoleAgent}
	}
	return [2]string{RoleAgent, RoleCustomer}
}

// transcribe does the work of a job; it writes nothing.
func (s *Service) transcribe(ctx context.Context, j *switchboard.TranscriptionJob, log *slog.Logger) (*switchboard.Transcript, *switchboard.Event, []*switchboard.Event, *jobError) {
	settings, err := s.Store.GetTranscriptionSettings(ctx, j.AccountID)
	if err != nil {
		return nil, nil, nil, &jobError{msg: "reading the account's settings: " + err.Error()}
	}
	audio, err := s.readRecording(ctx, j.BlobKey)
	if err != nil {
		perm := switchboard.ErrorCode(err) == switchboard.ENOTFOUND
		return nil, nil, nil, &jobError{msg: "reading the recording: " + switchboard.ErrorMessage(err), permanent: perm}
	}
	chans, rate, err := splitChannels(audio)
	if err != nil {
		return nil, nil, nil, &jobError{msg: err.Error(), permanent: true}
	}
	roles := channelRoles(j.Direction)
	names := [2]string{"left", "right"}

	var failovers []*switchboard.Event
	var lastErr error
	allPermanent := true
	for i, eng := range s.Engines {
		segs := map[string][]Segment{}
		tokens := 0
		var err error
		for c, samples := range chans {
			if silent(samples) {
				continue // a side that said nothing (or was paused throughout)
			}
			var res *Result
			res, err = eng.Transcribe(ctx, Audio{WAV: MonoWAV(samples, rate), Samples: samples, Rate: rate,
				Language: settings.Language, Channel: names[c]})
			if err != nil {
				break
			}
			segs[roles[c]] = res.Segments
			tokens += res.TotalTokens
		}
		if err == nil {
			t, ev := s.finish(ctx, j, settings, eng, segs, tokens, log)
			return t, ev, failovers, nil
		}
		if ctx.Err() != nil {
			return nil, nil, nil, &jobError{msg: "interrupted"}
		}
		lastErr = err
		allPermanent = allPermanent && permanent(err)
		log.Warn("transcribe: engine failed", "engine", eng.Name(), "err", err)
		if i+1 < len(s.Engines) {
			next := s.Engines[i+1]
			log.Warn("transcribe: failing over", "from", eng.Name(), "to", next.Name())
			ev := switchboard.NewEvent(j.AccountID, switchboard.EventTranscriptionFailedOver, map[string]any{
				"recording_id": j.RecordingID, "engine": eng.Name(), "next_engine": next.Name(), "error": err.Error()})
			ev.CallID, ev.CRMID = j.CallID, j.CRMID
			failovers = append(failovers, ev)
		}
	}
	var wait time.Duration
	if lastErr != nil {
		wait = retryAfter(lastErr)
	}
	return nil, nil, failovers, &jobError{msg: lastErr.Error(), permanent: allPermanent, wait: wait}
}

func (s *Service) readRecording(ctx context.Context, key string) ([]byte, error) {
	rc, _, err := s.Blobs.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	data, err := io.ReadAll(io.LimitReader(rc, maxRecordingBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxRecordingBytes {
		return nil, switchboard.Errorf(switchboard.ENOTFOUND, "the recording is over %d MB", maxRecordingBytes>>20)
	}
	return data, nil
}

// finish masks, analyses and renders a job's transcript and its event.
func (s *Service) finish(ctx context.Context, j *switchboard.TranscriptionJob, settings *switchboard.TranscriptionSettings,
	eng Engine, segs map[string][]Segment, tokens int, log *slog.Logger) (*switchboard.Transcript, *switchboard.Event) {
	redactions := 0
	if settings.Redact {
		for role, list := range segs {
			for i := range list {
				text, n := Redact(list[i].Text)
				list[i].Text, list[i].Words = text, nil // words could spell out what was masked
				redactions += n
			}
			segs[role] = list
		}
	}
	in := callInput{AccountID: j.AccountID, CallID: j.CallID, Language: settings.Language, DurationMs: j.DurationMs,
		Agent: segs[RoleAgent], Customer: segs[RoleCustomer], Redact: settings.Redact, Redactions: redactions,
		CompletedAt: s.now()}
	ts := turns(in)
	var analyzer Analyzer = Local{}
	if s.Analyzer != nil {
		analyzer = s.Analyzer
	}
	ins, err := analyzer.Analyze(ctx, ts)
	if err != nil {
		log.Warn("transcribe: analyzer failed, using the local one", "analyzer", analyzer.Name(), "err", err)
		ins, _ = Local{}.Analyze(ctx, ts)
	}
	if settings.Redact {
		// A language model may repeat what it read; what it read was masked, but its own
		// words are masked too, in case it rebuilt a number.
		ins.Summary, _ = Redact(ins.Summary)
		for i := range ins.ActionItems {
			ins.ActionItems[i], _ = Redact(ins.ActionItems[i])
		}
	}
	tokens += ins.TotalTokens
	doc, _ := json.Marshal(buildAnalytics(in, ts, ins)) // plain structs: cannot fail
	t := &switchboard.Transcript{Engine: eng.Name(), Model: eng.Model(), Language: settings.Language,
		TotalTokens: tokens, Redactions: redactions, Analytics: doc}
	ev := switchboard.NewEvent(j.AccountID, switchboard.EventTranscriptionFinished, map[string]any{
		"success": true, "transcription": string(doc), "provider": eng.Provider(), "model": eng.Model(),
		"total_tokens": tokens, "recording_id": j.RecordingID, "redactions": redactions})
	ev.CallID, ev.CRMID = j.CallID, j.CRMID
	return t, ev
}

// failedEvent is transcription.finished for a job that failed for good.
func (s *Service) failedEvent(j *switchboard.TranscriptionJob, reason string) *switchboard.Event {
	provider, model := "", ""
	if len(s.Engines) > 0 {
		provider, model = s.Engines[0].Provider(), s.Engines[0].Model()
	}
	ev := switchboard.NewEvent(j.AccountID, switchboard.EventTranscriptionFinished, map[string]any{
		"success": false, "error": "transcription failed: " + reason, "provider": provider, "model": model,
		"total_tokens": 0, "recording_id": j.RecordingID})
	ev.CallID, ev.CRMID = j.CallID, j.CRMID
	return ev
}

// EngineNames lists the configured engines, for logs and the settings answer.
func (s *Service) EngineNames() string {
	var names []string
	for _, e := range s.Engines {
		names = append(names, e.Name()+" ("+e.Model()+")")
	}
	return strings.Join(names, ", ")
}
