package stream

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/coder/websocket"

	"switchboard"
)

// writeTimeout bounds one write to a consumer, so that a consumer that stops reading
// does not hold its goroutine forever (it is dropped with an overflow once its buffer fills).
const writeTimeout = 30 * time.Second

// request reads a stream request's filter (?events=) and resume point: the Last-Event-ID
// header (what a reconnecting EventSource sends, so it wins over the URL it reconnects to),
// else ?after=, else Live.
func request(r *http.Request) (Filter, int64, error) {
	filter, err := ParseFilter(r.URL.Query().Get("events"))
	if err != nil {
		return Filter{}, 0, err
	}
	after := Live
	field, raw := "Last-Event-ID", r.Header.Get("Last-Event-ID")
	if raw == "" {
		field, raw = "after", r.URL.Query().Get("after")
	}
	if raw != "" {
		n, err := strconv.ParseInt(strings.TrimSpace(raw), 10, 64)
		if err != nil || n < 0 {
			return Filter{}, 0, &switchboard.Error{Code: switchboard.EBADREQUEST,
				Message: field + " must be the id (seq) of an event already received: a whole number, 0 for every stored event",
				Details: map[string]string{field: raw}}
		}
		after = n
	}
	return filter, after, nil
}

// overflowJSON is the data of the overflow notice.
func overflowJSON(last int64) string {
	return `{"type":"overflow","last_seq":` + strconv.FormatInt(last, 10) +
		`,"message":"This consumer fell too far behind the live events and is disconnected; reconnect with Last-Event-ID (or after=) ` +
		strconv.FormatInt(last, 10) + ` to receive the rest"}`
}

// ServeEventStream serves the stream as Server-Sent Events to a consumer of the account
// authenticated by the caller (userID 0: a developer key; else the user of a user key). An
// error comes before anything is written (a bad filter or resume point, the store failing)
// and is the caller's to write; once the stream has begun it returns nil.
func (h *Hub) ServeEventStream(w http.ResponseWriter, r *http.Request, accountID, userID int64) error {
	filter, after, err := request(r)
	if err != nil {
		return err
	}
	sub, err := h.Subscribe(r.Context(), accountID, userID, after, filter)
	if err != nil {
		return err
	}
	defer sub.Close()

	rc := http.NewResponseController(w)
	hd := w.Header()
	hd.Set("Content-Type", "text/event-stream; charset=utf-8")
	hd.Set("Cache-Control", "no-cache")
	hd.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	// retry: how long a browser's EventSource waits before reconnecting (with Last-Event-ID).
	io.WriteString(w, "retry: 2000\n: stream of account "+strconv.FormatInt(accountID, 10)+"\n\n")
	flush := func() error {
		rc.SetWriteDeadline(time.Now().Add(writeTimeout))
		return rc.Flush()
	}
	if flush() != nil {
		return nil
	}
	ctx := r.Context()
	lastWrite := time.Now()
	for {
		items, err := sub.next(ctx, h.cfg.Heartbeat-time.Since(lastWrite))
		switch {
		case errors.Is(err, ErrOverflow):
			// No id: the browser's Last-Event-ID stays the last event delivered.
			io.WriteString(w, "event: overflow\ndata: "+overflowJSON(sub.Last())+"\n\n")
			flush()
			return nil
		case err != nil:
			if !errors.Is(err, errClosed) && ctx.Err() == nil {
				h.cfg.Logger.Warn("event stream: reading events failed; the consumer reconnects", "account_id", accountID, "err", err)
			}
			return nil // the consumer reconnects with Last-Event-ID
		}
		if len(items) == 0 {
			if time.Since(lastWrite) < h.cfg.Heartbeat {
				continue
			}
			io.WriteString(w, ": heartbeat\n\n") // a comment: keeps proxies from closing an idle stream
		}
		for _, it := range items {
			if _, err := w.Write(it.sse); err != nil {
				return nil
			}
		}
		if flush() != nil {
			return nil
		}
		lastWrite = time.Now()
	}
}

// Subprotocol is the WebSocket subprotocol of the stream. A client that offers subprotocols
// (a browser offering its API key as "key.…" beside it) gets this one as the answer.
const Subprotocol = "switchboard.v3"

// ServeEventWebSocket serves the stream over a WebSocket: one text message per event (the
// canonical JSON with "id", the seq, first), pings as heartbeats, and on overflow a
// {"type":"overflow","last_seq":N} message and a close with 1013 (try again later). Errors
// are as ServeEventStream's.
//
// The caller has authenticated the request, its Origin included where the credential is
// one a browser sends by itself (the portal's session cookie: web/wallboard.go refuses
// other sites' pages). An API key is no such credential — a page of another site cannot
// know it — so the Origin is not checked here.
func (h *Hub) ServeEventWebSocket(w http.ResponseWriter, r *http.Request, accountID, userID int64) error {
	if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		return switchboard.Errorf(switchboard.EBADREQUEST,
			"This endpoint speaks WebSocket (send Upgrade: websocket); for Server-Sent Events use GET /v3/voice/%d/events/stream", accountID)
	}
	if offered := r.Header.Values("Sec-WebSocket-Protocol"); len(offered) > 0 && !offersSubprotocol(offered) {
		// A browser whose offer is not answered fails the handshake without saying why.
		return switchboard.Errorf(switchboard.EBADREQUEST,
			"Offer the subprotocol %s with the others: new WebSocket(url, [%q, \"key.\" + key])", Subprotocol, Subprotocol)
	}
	filter, after, err := request(r)
	if err != nil {
		return err
	}
	sub, err := h.Subscribe(r.Context(), accountID, userID, after, filter)
	if err != nil {
		return err
	}
	defer sub.Close()
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{Subprotocol}, InsecureSkipVerify: true})
	if err != nil {
		return nil // Accept has answered the failed handshake
	}
	defer c.CloseNow()
	ctx := c.CloseRead(r.Context()) // reads control frames (pongs, close); ends when the peer goes
	write := func(msg []byte) error {
		wctx, cancel := context.WithTimeout(ctx, writeTimeout)
		defer cancel()
		return c.Write(wctx, websocket.MessageText, msg)
	}
	for {
		items, err := sub.next(ctx, h.cfg.Heartbeat)
		switch {
		case errors.Is(err, ErrOverflow):
			if write([]byte(overflowJSON(sub.Last()))) == nil {
				c.Close(websocket.StatusTryAgainLater, "overflow: resume with after="+strconv.FormatInt(sub.Last(), 10))
			}
			return nil
		case errors.Is(err, errClosed):
			c.Close(websocket.StatusGoingAway, "server shutting down: resume with after="+strconv.FormatInt(sub.Last(), 10))
			return nil
		case err != nil:
			return nil
		}
		if len(items) == 0 {
			pctx, cancel := context.WithTimeout(ctx, writeTimeout)
			err := c.Ping(pctx)
			cancel()
			if err != nil {
				return nil
			}
			continue
		}
		for _, it := range items {
			if write(it.ws) != nil {
				return nil
			}
		}
	}
}

// offersSubprotocol reports whether the handshake's Sec-WebSocket-Protocol values offer
// Subprotocol.
func offersSubprotocol(values []string) bool {
	for _, v := range values {
		for p := range strings.SplitSeq(v, ",") {
			if strings.EqualFold(strings.TrimSpace(p), Subprotocol) {
				return true
			}
		}
	}
	return false
}
