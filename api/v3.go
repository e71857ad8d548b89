package api

import (
	"context"
	"math"
	"net/http"
	"sort"
	"strconv"

	"switchboard"
	"switchboard/phone"
)

// v3Routes registers the endpoints of the Voice360 v3 API, with the seed's paths, fields
// and messages.
func (s *Server) v3Routes() {
	s.handleAPI(route{Method: "GET", Path: "/availability", Access: accessPublicOrDeveloper, Tag: "Availability",
		Summary:     "User availability",
		Description: "Real-time availability of every user of the account: online/offline and active calls. Without a key (when the account has public endpoints enabled) only online/offline is shown, without channels.",
		Message:     "User availability data", Result: []availabilityJSON{}, Query: keyPageQuery}, s.getAvailability)
	s.handleAPI(route{Method: "GET", Path: "/queues", Access: accessPublicOrDeveloper, Tag: "Queues",
		Summary:     "List queues",
		Description: "Every queue of the account with its settings, by id, paged (limit, offset, after). Without a key (public endpoints) only pk, name, queue_name, extension and strategy.",
		Message:     "List of queues", Result: []queueJSON{}, Query: pageQuery}, s.listQueues)
	s.handleAPI(route{Method: "GET", Path: "/queues/{queue_id}", Access: accessPublicOrDeveloper, Tag: "Queues",
		Summary:     "Queue details",
		Description: "One queue's settings and its assigned users. Without a key (public endpoints) basic information only, no members.",
		Message:     "Queue details", Result: queueDetailJSON{}}, s.byQueue(s.getQueue))
	s.handleAPI(route{Method: "GET", Path: "/availability/queues", Access: accessPublicOrDeveloper, Tag: "Availability",
		Summary: "Queue availability", Description: "Real-time agent counts and activity of every queue, by id, paged (limit, offset, after).",
		Message: "Queue availability data", Result: []queueStatsJSON{}, Query: pageQuery}, s.listQueueAvailability)
	s.handleAPI(route{Method: "GET", Path: "/availability/queues/{queue_id}", Access: accessPublicOrDeveloper, Tag: "Availability",
		Summary: "Availability of one queue", Description: "Real-time agent counts and activity of one queue.",
		Message: "Queue availability data", Result: queueStatsJSON{}}, s.byQueue(s.getQueueAvailability))
	s.handleAPI(route{Method: "POST", Path: "/call/outbound", Access: accessDeveloper, Tag: "Calls", Action: true,
		Summary:     "Place an outbound call",
		Description: "Rings the extension's phones, then calls the destination. Answers 503 SERVICE_UNAVAILABLE while no SIP service or trunk is configured.",
		Message:     "Call initiated successfully", Request: outboundCallJSON{}, Result: outboundCallResultJSON{}}, s.placeCall)
	s.handleAPI(route{Method: "POST", Path: "/sms/send", Access: accessUserOrDeveloper, Tag: "SMS", Action: true,
		Summary:     "Send an SMS",
		Description: "Sends an SMS from an SMS-enabled number of the account (for a user key: one the user owns or is SMS-assigned to). Answers 503 SERVICE_UNAVAILABLE while no SMS gateway is configured.",
		Message:     "SMS sent successfully", Request: smsSendJSON{}, Result: smsResultJSON{}}, s.sendSMS)
	s.handleAPI(route{Method: "GET", Path: "/numbers", Access: accessDeveloper, Tag: "Numbers",
		Summary: "List numbers", Description: "Every phone number (DID) of the account, regardless of assignment, by id, paged (limit, offset, after); filter with the query parameters.",
		Message: "List of numbers", Result: []numberJSON{},
		Query: []queryParam{
			{"number", "Filter by phone number (E.164, or any form a phone number is written in)"},
			{"owner_id", "Filter by owner user ID"},
			{"status", "Filter by number status (active, inactive, porting, suspended)"},
			{"sms_assigned_user_id", "Filter by SMS assigned user ID"},
			{"ai_agent_id", "Filter by AI agent assignment"},
			pageQuery[0], pageQuery[1], pageQuery[2],
		}}, s.listNumbers)
	s.handleAPI(route{Method: "GET", Path: "/user/numbers", Access: accessUser, Tag: "User",
		Summary: "The user's numbers", Description: "Numbers the key's user owns or is SMS-assigned to, by id, paged (limit, offset, after).",
		Message: "List of phone numbers assigned to user", Result: []numberJSON{}, Query: pageQuery}, s.listUserNumbers)
	s.handleAPI(route{Method: "GET", Path: "/user/profile", Access: accessUser, Tag: "User",
		Summary: "The user's profile", Description: "The key's user: extension, voicemail and forwarding settings.",
		Message: "User profile details", Result: profileJSON{}}, s.getProfile)
}

func (s *Server) getAvailability(w http.ResponseWriter, r *http.Request, c *caller) error {
	p, err := parsePageWith(r, keyAfter)
	if err != nil {
		return err
	}
	all, err := s.cache.listUsers(r.Context(), s.store, c.accountID)
	if err != nil {
		return err
	}
	users, more := pageOfUsers(all, p)
	if more && len(users) > 0 {
		writeNextPage(w, r, p, userCursor(users[len(users)-1]))
	}
	if c.public() {
		out := make([]publicAvailabilityJSON, 0, len(users))
		for _, u := range users {
			registered, _ := s.live.UserPresence(c.accountID, u.ID)
			out = append(out, publicAvailabilityJSON{PK: u.ID, PresenceID: u.Extension, CallerID: u.DisplayName(),
				FirstName: u.FirstName, LastName: u.LastName, DevicesRegistered: registered})
		}
		s.writeResult(w, http.StatusOK, "User availability data", out)
		return nil
	}
	out := make([]availabilityJSON, 0, len(users))
	for _, u := range users {
		registered, channels := s.live.UserPresence(c.accountID, u.ID)
		chans := make([]channelJSON, 0, len(channels))
		for _, ch := range channels {
			chans = append(chans, channelJSON{To: ch.To, From: ch.From, CallSeconds: ch.CallSeconds, Direction: ch.Direction})
		}
		out = append(out, availabilityJSON{PK: u.ID, PresenceID: u.Extension, CallerID: u.DisplayName(),
			FirstName: u.FirstName, LastName: u.LastName, DevicesRegistered: registered, Channels: chans})
	}
	s.writeResult(w, http.StatusOK, "User availability data", out)
	return nil
}

func (s *Server) listQueues(w http.ResponseWriter, r *http.Request, c *caller) error {
	p, err := parsePage(r)
	if err != nil {
		return err
	}
	queues, more, err := s.store.PageQueues(r.Context(), c.accountID, p)
	if err != nil {
		return err
	}
	if more && len(queues) > 0 {
		writeNextPage(w, r, p, strconv.FormatInt(queues[len(queues)-1].ID, 10))
	}
	if c.public() {
		out := make([]publicQueueJSON, 0, len(queues))
		for _, q := range queues {
			out = append(out, toPublicQueueJSON(q))
		}
		s.writeResult(w, http.StatusOK, "List of queues", out)
		return nil
	}
	out := make([]queueJSON, 0, len(queues))
	for _, q := range queues {
		out = append(out, toQueueJSON(q))
	}
	s.writeResult(w, http.StatusOK, "List of queues", out)
	return nil
}

// byQueue adapts the handler of one queue: it reads {queue_id} and finds the account's
// queue first.
func (s *Server) byQueue(h func(w http.ResponseWriter, r *http.Request, c *caller, q *switchboard.Queue) error) apiHandler {
	return byID("queue_id", func(w http.ResponseWriter, r *http.Request, c *caller, id int64) error {
		q, err := s.store.GetQueue(r.Context(), c.accountID, id)
		if err != nil {
			return err
		}
		return h(w, r, c, q)
	})
}

// toPublicQueueJSON is the queue as callers without a key see it.
func toPublicQueueJSON(q *switchboard.Queue) publicQueueJSON {
	return publicQueueJSON{PK: q.ID, Name: q.Name(), QueueName: q.QueueName, Extension: q.Extension, Strategy: string(q.Strategy)}
}

func (s *Server) getQueue(w http.ResponseWriter, r *http.Request, c *caller, q *switchboard.Queue) error {
	if c.public() {
		s.writeResult(w, http.StatusOK, "Queue details", toPublicQueueJSON(q))
		return nil
	}
	members, err := s.queueMembers(r.Context(), c.accountID, q.ID)
	if err != nil {
		return err
	}
	s.writeResult(w, http.StatusOK, "Queue details", queueDetailJSON{queueJSON: toQueueJSON(q), AssignedUsers: members})
	return nil
}

// queueMembers returns a queue's members with their names.
func (s *Server) queueMembers(ctx context.Context, accountID, queueID int64) ([]memberJSON, error) {
	members, err := s.store.ListQueueMembers(ctx, accountID, queueID)
	if err != nil {
		return nil, err
	}
	return s.membersJSON(ctx, accountID, members)
}

// membersJSON renders queue members with their users' names.
func (s *Server) membersJSON(ctx context.Context, accountID int64, members []switchboard.QueueMember) ([]memberJSON, error) {
	out := make([]memberJSON, 0, len(members))
	for _, m := range members {
		u, err := s.store.GetUser(ctx, accountID, m.UserID)
		if err != nil {
			return nil, err
		}
		out = append(out, toMemberJSON(u, m))
	}
	return out, nil
}

func toMemberJSON(u *switchboard.User, m switchboard.QueueMember) memberJSON {
	return memberJSON{PK: u.ID, PresenceID: u.Extension, FirstName: u.FirstName, LastName: u.LastName, Penalty: m.Penalty, Paused: m.Paused}
}

func (s *Server) queueAvailability(c *caller, q *switchboard.Queue) any {
	st := s.live.QueueStats(c.accountID, q.ID)
	seed := queueAvailabilityJSON{PK: q.ID, Name: q.Name(), QueueName: q.QueueName, Extension: q.Extension,
		IsReady: st.AgentsOnline > 0, AgentsOnline: st.AgentsOnline, AgentsAvailable: st.AgentsAvailable,
		AgentsOnCall: st.AgentsOnCall, ActiveCalls: st.ActiveCalls}
	if c.public() {
		return seed
	}
	out := queueStatsJSON{queueAvailabilityJSON: seed,
		CallersWaiting: st.CallersWaiting, CallbacksPending: st.CallbacksPending, LongestWaitSeconds: st.LongestWaitSeconds, Offered: st.Today.Offered,
		Answered: st.Today.Answered, Abandoned: st.Today.Abandoned, ServiceLevel: 100,
		ServiceLevelSeconds: q.ServiceLevel}
	if n := st.Today.Answered + st.Today.AbandonedAfterSL; n > 0 {
		out.ServiceLevel = round1(100 * float64(st.Today.AnsweredWithinSL) / float64(n))
	}
	if st.Today.Answered > 0 {
		out.AverageSpeedOfAnswer = round1(float64(st.Today.TotalAnswerWait) / float64(st.Today.Answered))
	}
	if st.Today.Talked > 0 {
		out.AverageHandleTime = round1(float64(st.Today.TotalTalk) / float64(st.Today.Talked))
	}
	return out
}

func round1(f float64) float64 { return math.Round(f*10) / 10 }

// pageOfUsers is one page of users, and whether more follow. The read cache keeps the
// account's users whole and in the users list's order (by extension, unique in the
// account), so availability pages over it, with the cursor of GET users, rather than
// reading the store on every poll.
func pageOfUsers(users []*switchboard.User, p switchboard.Page) ([]*switchboard.User, bool) {
	start := 0
	if p.After != 0 {
		start = sort.Search(len(users), func(i int) bool {
			u := users[i]
			return u.Extension > p.AfterKey || u.Extension == p.AfterKey && u.ID > p.After
		})
	}
	start = min(start+p.Offset, len(users))
	end := min(start+p.Size(), len(users))
	return users[start:end], end < len(users)
}

func (s *Server) listQueueAvailability(w http.ResponseWriter, r *http.Request, c *caller) error {
	p, err := parsePage(r)
	if err != nil {
		return err
	}
	queues, more, err := s.store.PageQueues(r.Context(), c.accountID, p)
	if err != nil {
		return err
	}
	if more && len(queues) > 0 {
		writeNextPage(w, r, p, strconv.FormatInt(queues[len(queues)-1].ID, 10))
	}
	out := make([]any, 0, len(queues))
	for _, q := range queues {
		out = append(out, s.queueAvailability(c, q))
	}
	s.writeResult(w, http.StatusOK, "Queue availability data", out)
	return nil
}

func (s *Server) getQueueAvailability(w http.ResponseWriter, r *http.Request, c *caller, q *switchboard.Queue) error {
	s.writeResult(w, http.StatusOK, "Queue availability data", s.queueAvailability(c, q))
	return nil
}

// numberFilterFromQuery reads the numbers endpoint's filters.
func numberFilterFromQuery(r *http.Request) (switchboard.NumberFilter, error) {
	q := r.URL.Query()
	f := switchboard.NumberFilter{Status: q.Get("status"), AIAgentID: q.Get("ai_agent_id")}
	if raw := q.Get("number"); raw != "" {
		n, ok := phone.Normalize(raw)
		if !ok {
			return f, badRequest("number", "is not a valid phone number")
		}
		f.Number = n
	}
	for name, dst := range map[string]*int64{"owner_id": &f.OwnerUserID, "sms_assigned_user_id": &f.SMSAssignedUserID} {
		if raw := q.Get(name); raw != "" {
			id, err := strconv.ParseInt(raw, 10, 64)
			if err != nil || id <= 0 {
				return f, badRequest(name, "must be a positive integer")
			}
			*dst = id
		}
	}
	if f.Status != "" && !switchboard.NumberStatuses[f.Status] {
		return f, badRequest("status", "must be one of active, inactive, porting, suspended")
	}
	return f, nil
}

func (s *Server) listNumbers(w http.ResponseWriter, r *http.Request, c *caller) error {
	f, err := numberFilterFromQuery(r)
	if err != nil {
		return err
	}
	p, err := parsePage(r)
	if err != nil {
		return err
	}
	numbers, more, err := s.store.PageNumbers(r.Context(), c.accountID, f, p)
	if err != nil {
		return err
	}
	if more && len(numbers) > 0 {
		writeNextPage(w, r, p, strconv.FormatInt(numbers[len(numbers)-1].ID, 10))
	}
	s.writeResult(w, http.StatusOK, "List of numbers", numbersJSON(numbers))
	return nil
}

func numbersJSON(numbers []*switchboard.Number) []numberJSON {
	out := make([]numberJSON, 0, len(numbers))
	for _, n := range numbers {
		out = append(out, toNumberJSON(n))
	}
	return out
}

func (s *Server) listUserNumbers(w http.ResponseWriter, r *http.Request, c *caller) error {
	p, err := parsePage(r)
	if err != nil {
		return err
	}
	numbers, more, err := s.store.PageNumbers(r.Context(), c.accountID, switchboard.NumberFilter{AssignedToUserID: c.key.UserID}, p)
	if err != nil {
		return err
	}
	if more && len(numbers) > 0 {
		writeNextPage(w, r, p, strconv.FormatInt(numbers[len(numbers)-1].ID, 10))
	}
	s.writeResult(w, http.StatusOK, "List of phone numbers assigned to user", numbersJSON(numbers))
	return nil
}

func (s *Server) getProfile(w http.ResponseWriter, r *http.Request, c *caller) error {
	u, err := s.store.GetUser(r.Context(), c.accountID, c.key.UserID)
	if err != nil {
		return err
	}
	s.writeResult(w, http.StatusOK, "User profile details", profileJSON{PK: u.ID, AsteriskUserID: u.ID,
		PresenceID: u.Extension, CallerID: u.DisplayName(), FirstName: u.FirstName, LastName: u.LastName, Email: u.Email,
		VoicemailEnabled: u.VoicemailEnabled, ForwardEnabled: u.ForwardEnabled, ForwardNumber: nullableString(u.ForwardNumber),
		TimeZone: u.TimeZone})
	return nil
}
