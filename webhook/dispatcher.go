package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"switchboard"
)

// responseBodyLimit is how much of a receiver's answer is read and logged. The rest is
// discarded (up to drainLimit, so the connection can be reused) or the connection closed:
// a receiver answering gigabytes costs no memory.
const (
	responseBodyLimit = 4 << 10
	drainLimit        = 64 << 10
)

// maxRetryAfter caps a receiver's Retry-After, so that one answer cannot park a delivery
// for days.
const maxRetryAfter = time.Hour

// maxBackoff caps the exponential backoff between two attempts.
const maxBackoff = time.Hour

// Retry rules when the subscription does not set its own (Retries = RetriesFormatDefault).
const (
	defaultRetries = 5
	// voiceovercloud's documented rule: "try again once immediately and then wait 1 second
	// and try again".
	vocFormat = "voiceovercloud"
)

var vocRetryDelays = []time.Duration{0, time.Second}

// retriesOf is how many retries the subscription gets after the first attempt.
func retriesOf(w *switchboard.Webhook) int {
	if w.Retries >= 0 {
		return w.Retries
	}
	if w.Format == vocFormat {
		return len(vocRetryDelays)
	}
	return defaultRetries
}

// retryDelay is the wait before retry n (1 for the first retry). jitter is in [0, 1).
// Exponential: base, 2·base, 4·base … capped at maxBackoff, each scaled into [75%, 125%)
// so that receivers recovering from an outage are not hit by every sender at once.
func (s *Service) retryDelay(w *switchboard.Webhook, n int, jitter float64) time.Duration {
	if w.Retries < 0 && w.Format == vocFormat {
		return vocRetryDelays[min(n, len(vocRetryDelays))-1]
	}
	d := float64(s.cfg.RetryBase) * math.Pow(2, float64(n-1))
	d = min(d, float64(maxBackoff))
	return time.Duration(d * (0.75 + 0.5*jitter))
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0, false
		}
		return min(time.Duration(secs)*time.Second, maxRetryAfter), true
	}
	if t, err := http.ParseTime(v); err == nil {
		d := t.Sub(now)
		return max(0, min(d, maxRetryAfter)), true
	}
	return 0, false
}

// redactedHeaders are request headers whose values are secrets; the attempt log shows
// RedactedHeaderValue instead, as it does for every custom header.
var redactedHeaders = map[string]bool{
	"X-Pbx-Token": true, "Authorization": true, "Proxy-Authorization": true, "Cookie": true,
}

// send makes one attempt of a claimed delivery and says what happens next.
func (s *Service) send(ctx context.Context, c *switchboard.ClaimedDelivery) switchboard.AttemptOutcome {
	d, w := c.Delivery, c.Webhook
	now := s.cfg.Now()
	out := switchboard.AttemptOutcome{DeliveryID: d.ID, WebhookID: w.ID}
	out.Attempt = switchboard.DeliveryAttempt{DeliveryID: d.ID, Number: d.Attempts + 1, At: now}

	// Once the main URL has used up its retries, the next attempt is the fallback URL's,
	// and its only one: it succeeds or the delivery fails.
	toFallback := w.FallbackURL != "" && d.RoundAttempts > retriesOf(w)
	status, retryAfter, err := s.attempt(ctx, w, c.Event, d.WireName, d.MessageID, now, &out.Attempt, toFallback)
	s.metrics.observeAttempt(out.Attempt.Latency)
	round := d.RoundAttempts + 1
	switch {
	case err == nil && status >= 200 && status < 300:
		out.Status = switchboard.DeliverySucceeded
		s.metrics.delivered("succeeded")
		return out
	case errors.Is(err, errUnrenderable):
		// Retrying cannot help: the same event renders the same way every time.
		out.Status = switchboard.DeliveryFailed
		s.metrics.delivered("failed")
		return out
	case toFallback:
		out.Status = switchboard.DeliveryFailed // a fallback's 410 does not turn the subscription off
		s.metrics.delivered("failed")
		return out
	case status == http.StatusGone:
		out.Status = switchboard.DeliveryFailed
		out.DisableReason = "the receiver answered 410 Gone"
		s.metrics.delivered("failed")
		return out
	}
	if round > retriesOf(w) && w.FallbackURL != "" {
		out.Status = switchboard.DeliveryPending // the fallback URL's turn, at once
		out.NextAttemptAt = now
		s.metrics.delivered("retried")
		return out
	}
	if round > retriesOf(w) {
		out.Status = switchboard.DeliveryFailed
		s.metrics.delivered("failed")
		return out
	}
	delay := s.retryDelay(w, round, s.cfg.Rand())
	if retryAfter > delay {
		delay = retryAfter
	}
	out.Status = switchboard.DeliveryPending
	out.NextAttemptAt = now.Add(delay)
	s.metrics.delivered("retried")
	return out
}

var errUnrenderable = errors.New("the event cannot be rendered in this format")

// attempt renders and sends the request, filling the attempt log. It returns the HTTP status
// (0 when none was received), the receiver's Retry-After on 429/503, and why the attempt
// failed (nil for any answer; the caller judges the status).
func (s *Service) attempt(ctx context.Context, w *switchboard.Webhook, ev *switchboard.Event, wireName, messageID string,
	now time.Time, log *switchboard.DeliveryAttempt, toFallback bool) (status int, retryAfter time.Duration, err error) {
	fail := func(e error) (int, time.Duration, error) {
		log.Error = e.Error()
		return 0, 0, e
	}
	target, err := s.target(w, now)
	if err != nil {
		return fail(err)
	}
	if toFallback {
		target.URL = w.FallbackURL
	}
	req, err := Render(target, ev, wireName, messageID, now)
	if err != nil {
		return fail(fmt.Errorf("%w: %v", errUnrenderable, err))
	}
	log.RequestMethod, log.RequestURL = req.Method, req.URL
	// The custom headers' values are secrets too (they are sealed at rest): the log, which
	// is stored in clear and shown by the API, names them without their values.
	custom := byCanonicalName(target.Headers)
	log.RequestHeaders = make(map[string][]string, len(req.Header))
	for k, v := range req.Header {
		k := http.CanonicalHeaderKey(k)
		if _, isCustom := custom[k]; redactedHeaders[k] || isCustom && !ownHeaders[k] {
			v = []string{RedactedHeaderValue}
		}
		log.RequestHeaders[k] = v
	}
	log.RequestBody = string(req.Body)

	var body io.Reader
	if len(req.Body) > 0 {
		body = bytes.NewReader(req.Body)
	}
	hreq, err := http.NewRequestWithContext(ctx, req.Method, req.URL, body)
	if err != nil {
		return fail(fmt.Errorf("%w: %v", errUnrenderable, err))
	}
	hreq.Header = req.Header.Clone()
	start := time.Now() // latency is measured on the wall clock whatever clock decides retries
	resp, err := s.client.Do(hreq)
	log.Latency = time.Since(start)
	if err != nil {
		return fail(describeSendError(err))
	}
	defer resp.Body.Close()
	head, readErr := io.ReadAll(io.LimitReader(resp.Body, responseBodyLimit))
	// Drain a little more so a small answer leaves the connection reusable; a huge one is
	// cut off by closing.
	io.CopyN(io.Discard, resp.Body, drainLimit)
	log.ResponseStatus = resp.StatusCode
	log.ResponseBody = string(head)
	log.Latency = time.Since(start)
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		if readErr != nil {
			// The receiver said yes; a body cut short does not change that.
			log.ResponseBody += "\n[response body cut short: " + readErr.Error() + "]"
		}
		return resp.StatusCode, 0, nil
	case resp.StatusCode >= 300 && resp.StatusCode < 400:
		log.Error = fmt.Sprintf("the receiver answered %d (redirects are not followed)", resp.StatusCode)
	default:
		log.Error = fmt.Sprintf("the receiver answered %d", resp.StatusCode)
	}
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		retryAfter, _ = parseRetryAfter(resp.Header.Get("Retry-After"), s.cfg.Now())
	}
	return resp.StatusCode, retryAfter, errors.New(log.Error)
}

// describeSendError turns a client error into a sentence for the attempt log.
func describeSendError(err error) error {
	var ue interface{ Timeout() bool }
	if errors.As(err, &ue) && ue.Timeout() {
		return fmt.Errorf("no answer within the timeout: %v", err)
	}
	return err
}

// target opens the subscription's secrets and custom header values and builds what Render
// needs. The previous
// secret of a rotation with overlap is sent too until its time is up.
func (s *Service) target(w *switchboard.Webhook, now time.Time) (Target, error) {
	secret, err := s.sealer.Open(w.SealedSecret)
	if err != nil {
		return Target{}, err
	}
	secrets := []string{secret}
	if len(w.SealedPreviousSecret) > 0 && now.Before(w.PreviousSecretUntil) {
		prev, err := s.sealer.Open(w.SealedPreviousSecret)
		if err != nil {
			return Target{}, err
		}
		secrets = append(secrets, prev)
	}
	headers, err := s.sealer.openHeaders(w.Headers)
	if err != nil {
		return Target{}, err
	}
	return Target{Format: w.Format, URL: w.URL, Method: w.Method, Headers: headers, Secrets: secrets}, nil
}

// RunOnce claims every due delivery it can (up to Workers), sends them concurrently, records
// the outcomes and returns how many it handled. Tests drive the dispatcher with it on an
// injected clock; Run does the same work continuously.
func (s *Service) RunOnce(ctx context.Context) (int, error) {
	claimed, err := s.cfg.Store.ClaimDeliveries(ctx, s.cfg.Now(), s.lease(), s.cfg.Workers, s.cfg.PerEndpoint)
	if err != nil || len(claimed) == 0 {
		return 0, err
	}
	outcomes := make([]switchboard.AttemptOutcome, len(claimed))
	var wg sync.WaitGroup
	for i, c := range claimed {
		wg.Go(func() { outcomes[i] = s.send(ctx, c) })
	}
	wg.Wait()
	return len(claimed), s.cfg.Store.RecordAttempts(ctx, outcomes, s.cfg.DisableAfter, s.cfg.Now())
}

// lease is how long a claim holds: long enough for the attempt and for its outcome to be
// written, short enough that a crashed node's claims are soon retried by another.
func (s *Service) lease() time.Duration { return 2*s.cfg.Timeout + 5*time.Second }

// dispatch is Run's delivery loop: a claimer keeps up to Workers deliveries in flight, each
// sent on its own goroutine; a recorder writes finished outcomes in batches (one transaction
// for many), which is what lets a single SQLite writer keep up.
func (s *Service) dispatch(ctx context.Context) error {
	type result struct {
		outcome   switchboard.AttemptOutcome
		abandoned bool
	}
	results := make(chan result, s.cfg.Workers)
	freed := make(chan struct{}, 1) // nudges the claimer: the recorder freed slots
	var inFlight atomic.Int64       // claimed and not yet recorded

	recorderDone := make(chan struct{})
	go func() {
		defer close(recorderDone)
		buf := make([]switchboard.AttemptOutcome, 0, s.cfg.Workers)
		wait := time.NewTimer(0)
		for first := range results {
			batch, n := buf[:0], 1 // n counts results taken, recorded or not
			if !first.abandoned {
				batch = append(batch, first.outcome)
			}
			// The outcomes of one claim arrive close together: wait a moment for the rest
			// of those in flight so that they share one transaction. A transaction costs
			// the single SQLite writer far more than a row does.
			wait.Reset(coalesceWait)
		collect:
			for int64(n) < inFlight.Load() {
				select {
				case r, ok := <-results:
					if !ok {
						break collect
					}
					n++
					if !r.abandoned {
						batch = append(batch, r.outcome)
					}
				case <-wait.C:
					break collect
				}
			}
			if !wait.Stop() {
				select {
				case <-wait.C:
				default:
				}
			}
			if len(batch) > 0 {
				s.record(batch)
			}
			inFlight.Add(int64(-n))
			select {
			case freed <- struct{}{}:
			default:
			}
		}
	}()

	var sending sync.WaitGroup
	defer func() {
		sending.Wait() // attempts under way end quickly: their context is done
		close(results)
		<-recorderDone
	}()

	poll := time.NewTimer(0)
	defer poll.Stop()
	for {
		if free := s.cfg.Workers - int(inFlight.Load()); free > 0 {
			claimed, err := s.cfg.Store.ClaimDeliveries(ctx, s.cfg.Now(), s.lease(), free, s.cfg.PerEndpoint)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				s.cfg.Logger.Error("webhook: claiming deliveries failed", "err", err)
			}
			inFlight.Add(int64(len(claimed)))
			for _, c := range claimed {
				sending.Go(func() {
					o := s.send(ctx, c)
					// An attempt cut short by shutdown is not the receiver's fault, so it
					// costs no retry and is not recorded: the lease (or the restart's
					// release) brings the delivery back.
					results <- result{o, ctx.Err() != nil}
				})
			}
			if len(claimed) == free {
				// More may be due right now: claim again as soon as slots free.
				select {
				case <-freed:
				case <-ctx.Done():
					return nil
				}
				continue
			}
		}
		if !poll.Stop() {
			select {
			case <-poll.C:
			default:
			}
		}
		poll.Reset(s.cfg.PollInterval)
		select {
		case <-freed:
		case <-s.cfg.DeliveriesCreated: // nil when not configured: never ready
		case <-poll.C:
		case <-ctx.Done():
			return nil
		}
	}
}

// coalesceWait is how long the recorder waits for more outcomes to batch with the first.
const coalesceWait = 2 * time.Millisecond

// record writes outcomes, retrying a failed write: a delivery whose outcome is lost is sent
// again after its lease, which is allowed (at least once) but wasteful.
func (s *Service) record(batch []switchboard.AttemptOutcome) {
	for try := 0; ; try++ {
		err := s.cfg.Store.RecordAttempts(context.Background(), batch, s.cfg.DisableAfter, s.cfg.Now())
		if err == nil {
			return
		}
		s.cfg.Logger.Error("webhook: recording delivery outcomes failed", "err", err, "try", try+1)
		if try == 4 {
			return
		}
		time.Sleep(time.Duration(try+1) * 200 * time.Millisecond)
	}
}
