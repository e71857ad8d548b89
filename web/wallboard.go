package web

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"switchboard"
)

// The wallboard is a page whose script (assets/wallboard.js) reads /wallboard/state.json
// and reads it again whenever the live event stream says something happened: the same
// stream as the API's /v3/voice/{account}/events/stream, served at /wallboard/events to the
// session cookie (a browser's EventSource cannot send an API key), and over a WebSocket at
// /wallboard/ws for pages that prefer one. While the stream is not there the page reads the
// state every few seconds.
// The state is built from the live state and today's queue stays in the store.

type wallUser struct {
	ID        int64         `json:"id"`
	Extension string        `json:"extension"`
	Name      string        `json:"name"`
	Online    bool          `json:"online"`
	DND       bool          `json:"dnd"`
	Calls     []wallChannel `json:"calls"`
}

type wallChannel struct {
	From      string `json:"from"`
	To        string `json:"to"`
	Seconds   int    `json:"seconds"`
	Direction string `json:"direction"`
}

type wallCaller struct {
	From    string `json:"from"`
	Name    string `json:"name"`
	Seconds int    `json:"seconds"` // waited so far, or before hanging up
	At      string `json:"at,omitempty"`
}

type wallAgent struct {
	Extension string `json:"extension"`
	Name      string `json:"name"`
	State     string `json:"state"` // offline, paused, on call, available
}

type wallQueue struct {
	ID              int64        `json:"id"`
	Name            string       `json:"name"`
	Extension       string       `json:"extension"`
	Waiting         []wallCaller `json:"waiting"`
	LongestWait     int          `json:"longest_wait"`
	Agents          []wallAgent  `json:"agents"`
	Offered         int          `json:"offered"`
	Answered        int          `json:"answered"`
	ServiceLevelPct int          `json:"service_level_pct"` // answered within the threshold, of answered + abandoned after it
	ServiceLevelSec int          `json:"service_level_sec"`
	ASA             int          `json:"asa"` // average seconds to answer today
	Abandoned       []wallCaller `json:"abandoned"`
}

type wallState struct {
	AccountID int64       `json:"account_id"`
	Users     []wallUser  `json:"users"`
	Queues    []wallQueue `json:"queues"`
	At        string      `json:"at"`
}

func (h *Handler) wallboardPage(w http.ResponseWriter, r *http.Request, s *session) {
	h.render(w, r, http.StatusOK, "wallboard", page{Title: "Wallboard", S: s,
		Data: struct {
			Account int64
			Events  string
		}{s.Login.AccountID, strings.Join(switchboard.EventNames, " ")}})
}

// wallboardEvents streams the signed-in administrator's account's events.
func (h *Handler) wallboardEvents(w http.ResponseWriter, r *http.Request, s *session) {
	if h.events == nil {
		streamError(w, errNoStream)
		return
	}
	streamError(w, h.events.ServeEventStream(w, r, s.Login.AccountID, 0))
}

// eventWebSocketServer is the part of the live event stream (stream.Hub, the EventStreamer
// the server is configured with) that serves it over a WebSocket.
type eventWebSocketServer interface {
	ServeEventWebSocket(w http.ResponseWriter, r *http.Request, accountID, userID int64) error
}

// wallboardWS streams the signed-in administrator's account's events over a WebSocket: the
// messages of the API's /events/ws, for a page of the portal. The session cookie is a
// credential the browser sends by itself — also when a page of another site opens a
// WebSocket here, and a WebSocket is not held back by the same-origin policy (cross-site
// WebSocket hijacking) — so a handshake from a page that is not the portal's is refused.
func (h *Handler) wallboardWS(w http.ResponseWriter, r *http.Request, s *session) {
	if !h.sameOrigin(r) {
		http.Error(w, "This WebSocket opens only from the portal's own pages (the handshake's Origin is another site)", http.StatusForbidden)
		return
	}
	ws, ok := h.events.(eventWebSocketServer)
	if !ok {
		streamError(w, errNoStream)
		return
	}
	streamError(w, ws.ServeEventWebSocket(w, r, s.Login.AccountID, 0))
}

var errNoStream = switchboard.Errorf(switchboard.EUNAVAILABLE, "The live event stream is not available on this server")

// streamError answers a stream's refusal, which comes before anything is written (nil: the
// stream was served).
func streamError(w http.ResponseWriter, err error) {
	if err != nil {
		http.Error(w, switchboard.ErrorMessage(err), statusOf(err))
	}
}

func (h *Handler) wallboardState(w http.ResponseWriter, r *http.Request, s *session) {
	st, err := h.buildWallState(r, s.Login.AccountID)
	if err != nil {
		h.fail(w, r, "error", page{Title: "Wallboard", S: s}, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(st)
}

func (h *Handler) buildWallState(r *http.Request, accountID int64) (*wallState, error) {
	ctx, now := r.Context(), h.now()
	users, err := h.store.ListUsers(ctx, accountID)
	if err != nil {
		return nil, err
	}
	st := &wallState{AccountID: accountID, Users: []wallUser{}, Queues: []wallQueue{}, At: now.UTC().Format(time.RFC3339)}
	byID := map[int64]*wallUser{}
	for _, u := range users {
		online, chans := h.live.UserPresence(accountID, u.ID)
		wu := wallUser{ID: u.ID, Extension: u.Extension, Name: u.DisplayName(), Online: online, DND: u.DoNotDisturb, Calls: []wallChannel{}}
		for _, c := range chans {
			wu.Calls = append(wu.Calls, wallChannel{From: c.From, To: c.To, Seconds: c.CallSeconds, Direction: c.Direction})
		}
		st.Users = append(st.Users, wu)
	}
	for i := range st.Users {
		byID[st.Users[i].ID] = &st.Users[i]
	}
	queues, err := h.store.ListQueues(ctx, accountID)
	if err != nil {
		return nil, err
	}
	midnight := now.UTC().Truncate(24 * time.Hour)
	for _, q := range queues {
		ls := h.live.QueueStats(accountID, q.ID)
		wq := wallQueue{ID: q.ID, Name: q.QueueName, Extension: q.Extension, Waiting: []wallCaller{}, Agents: []wallAgent{},
			Abandoned: []wallCaller{}, LongestWait: ls.LongestWaitSeconds, Offered: ls.Today.Offered, Answered: ls.Today.Answered,
			ServiceLevelSec: q.ServiceLevel}
		if ls.Today.Answered > 0 {
			wq.ASA = ls.Today.TotalAnswerWait / ls.Today.Answered
		}
		if n := ls.Today.Answered + ls.Today.AbandonedAfterSL; n > 0 {
			wq.ServiceLevelPct = 100 * ls.Today.AnsweredWithinSL / n
		}
		members, err := h.store.ListQueueMembers(ctx, accountID, q.ID)
		if err != nil {
			return nil, err
		}
		for _, m := range members {
			u := byID[m.UserID]
			if u == nil {
				continue
			}
			state := "available"
			switch {
			case !u.Online:
				state = "offline"
			case m.Paused:
				state = "paused"
			case len(u.Calls) > 0:
				state = "on call"
			case u.DND:
				state = "do not disturb"
			}
			wq.Agents = append(wq.Agents, wallAgent{Extension: u.Extension, Name: u.Name, State: state})
		}
		page, err := h.store.ListGroupCalls(ctx, accountID, switchboard.TargetQueue,
			switchboard.CallQuery{From: midnight, IDs: []int64{q.ID}, Desc: true, Limit: 200})
		if err != nil {
			return nil, err
		}
		for _, c := range page.Calls {
			switch {
			case c.LeftAt.IsZero() && c.AnsweredAt.IsZero():
				wq.Waiting = append(wq.Waiting, wallCaller{From: c.From, Name: c.CallerName, Seconds: int(now.Sub(c.EnteredAt).Seconds())})
			case c.Status == switchboard.GroupCallAbandoned:
				wq.Abandoned = append(wq.Abandoned, wallCaller{From: c.From, Name: c.CallerName, Seconds: c.WaitSeconds, At: when(c.LeftAt)})
			}
		}
		st.Queues = append(st.Queues, wq)
	}
	return st, nil
}
