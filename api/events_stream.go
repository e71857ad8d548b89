package api

import (
	"context"
	"net/http"
	"time"

	"switchboard"
)

// EventStreamer serves the live event stream (stream.Hub) to a caller this server has
// authenticated: userID 0 for a developer key (every event of the account), else the user
// of a user key (only that user's events). An error is returned before anything is written.
type EventStreamer interface {
	ServeEventStream(w http.ResponseWriter, r *http.Request, accountID, userID int64) error
	ServeEventWebSocket(w http.ResponseWriter, r *http.Request, accountID, userID int64) error
}

// eventStreamResult marks the stream routes for the OpenAPI document: their answer is a
// stream, not the JSON envelope.
type eventStreamResult struct{}

var eventStreamQuery = []queryParam{
	{"events", "Comma-separated event names to receive: canonical names (call.inbound.started), a format's names, " +
		"wildcards (call.*, queue.member.*) or * (default: every event)"},
	{"after", "Resume after this event id (seq): the events stored since are sent first, from the event table, then the live ones. " +
		"0 = every stored event. Absent = live events only. The Last-Event-ID header, when sent, wins"},
}

func (s *Server) eventStreamRoutes() {
	const about = "The events of shared/EVENTS.md as they happen, in the canonical JSON of the standard webhook format " +
		"({\"type\",\"timestamp\",\"data\"}) with the event's seq as its id. A developer key receives every event of the account; " +
		"a user key only events naming that user (user_id or another *_user_id field): their own calls, presence and messages. " +
		"A consumer that falls more than its buffer behind is sent an overflow notice with the last seq delivered and " +
		"disconnected; it resumes with Last-Event-ID (or after=) without losing an event. See docs/events-stream.md."
	s.handleAPI(route{Method: "GET", Path: "/events/stream", Access: accessUserOrDeveloper, Tag: "Events",
		Summary: "Live event stream (Server-Sent Events)",
		Description: about + " Messages: id (seq), event (the canonical name), data (the JSON); a comment every 15 s keeps " +
			"proxies from closing an idle stream; event: overflow ends a stream that fell behind.",
		Message: "text/event-stream", Result: eventStreamResult{}, Query: eventStreamQuery},
		func(w http.ResponseWriter, r *http.Request, c *caller) error {
			userID, err := s.streamUser(c)
			if err != nil {
				return err
			}
			return s.eventStream.ServeEventStream(w, r.WithContext(s.whileKeyValid(r)), c.accountID, userID)
		})
	s.handleAPI(route{Method: "GET", Path: "/events/ws", Access: accessUserOrDeveloper, Tag: "Events",
		Summary: "Live event stream (WebSocket)",
		Description: about + " One text message per event: the same JSON with \"id\" (the seq) first; pings every 15 s; " +
			"on overflow a {\"type\":\"overflow\",\"last_seq\":N} message and a close with status 1013. " +
			"A browser, which cannot send X-API-Key on a WebSocket, offers the key as a subprotocol beside the stream's own: " +
			"new WebSocket(url, [\"switchboard.v3\", \"key.\" + key]); the server answers switchboard.v3.",
		Message: "WebSocket upgrade", Result: eventStreamResult{}, Query: eventStreamQuery},
		func(w http.ResponseWriter, r *http.Request, c *caller) error {
			userID, err := s.streamUser(c)
			if err != nil {
				return err
			}
			return s.eventStream.ServeEventWebSocket(w, r.WithContext(s.whileKeyValid(r)), c.accountID, userID)
		})
}

// streamKeyCheck is how often an open stream checks that its API key is still valid, so
// that revoking a key ends its streams too (within this, plus the key cache's TTL).
var streamKeyCheck = 30 * time.Second

// whileKeyValid returns the request's context, ended also when the request's API key stops
// being valid (revoked) or the store cannot say.
func (s *Server) whileKeyValid(r *http.Request) context.Context {
	ctx, cancel := context.WithCancel(r.Context())
	provided := providedKey(r)
	go func() {
		defer cancel()
		tick := time.NewTicker(streamKeyCheck)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				if k, err := s.lookupKey(r, provided); err != nil || k == nil {
					return
				}
			}
		}
	}()
	return ctx
}

// streamUser is whose events the caller may receive: 0 (all) for a developer key, the key's
// user for a user key. It also answers 503 when no stream is configured.
func (s *Server) streamUser(c *caller) (int64, error) {
	if s.eventStream == nil {
		return 0, switchboard.Errorf(switchboard.EUNAVAILABLE, "The live event stream is not running on this server")
	}
	if c.isDeveloper() {
		return 0, nil
	}
	if c.key == nil || c.key.UserID <= 0 {
		// A user key always has a user; refusing here keeps "0 = every event" for developers only.
		return 0, switchboard.Errorf(switchboard.EAUTHINVALID, "This API key belongs to no user")
	}
	return c.key.UserID, nil
}
