package api

import (
	"net/http"
	"strconv"
	"time"

	"switchboard"
)

// Queues are listed and read through the v3 routes (v3.go); these change them.
func (s *Server) queueRoutes() []resourceRoute {
	return []resourceRoute{
		{method: "POST", path: "/queues", summary: "Create a queue", message: "Queue created", status: http.StatusCreated,
			request: createBody(queueRequestJSON{}), result: queueJSON{},
			serve: createHandler[queueRequestJSON](&s.provision, ProvisioningService.CreateQueue, toQueueJSON)},
		{method: "PATCH", path: "/queues/{queue_id}", summary: "Change a queue (only the fields given)", message: "Queue updated",
			request: patchBody(queueRequestJSON{}), result: queueJSON{},
			serve: updateHandler[queueRequestJSON](&s.provision, "queue_id", ProvisioningService.UpdateQueue, toQueueJSON)},
		{method: "DELETE", path: "/queues/{queue_id}", summary: "Delete a queue", message: "Queue deleted", result: deletedJSON{},
			serve: deleteByID(&s.provision, "queue_id", ProvisioningService.DeleteQueue)},
		{method: "GET", path: "/queues/{queue_id}/members", summary: "List a queue's members (by user id, paged)", message: "List of queue members",
			result: []memberJSON{}, query: memberPageQuery, serve: s.listMembers},
		{method: "POST", path: "/queues/{queue_id}/members", summary: "Add a member to a queue (or update it)", message: "Queue member added",
			status: http.StatusCreated, request: createBody(memberRequestJSON{}), result: memberJSON{}, serve: s.addMember},
		{method: "PATCH", path: "/queues/{queue_id}/members/{user_id}", summary: "Change a member: penalty, pause or unpause",
			message: "Queue member updated", request: patchBody(memberRequestJSON{}), result: memberJSON{}, serve: s.patchMember},
		{method: "DELETE", path: "/queues/{queue_id}/members/{user_id}", summary: "Remove a member from a queue",
			message: "Queue member removed", result: deletedJSON{}, serve: s.removeMember},
		{method: "GET", path: "/queues/{queue_id}/callbacks", summary: "List a queue's callbacks (pending, or all with status=all; newest first, at most 1000)",
			message: "List of queue callbacks", result: []callbackJSON{}, query: callbackQuery, serve: s.listCallbacks},
	}
}

// callbackQuery chooses which callbacks are listed.
var callbackQuery = []queryParam{{"status", "pending (default): the callbacks waiting for their turn; all: every callback, done and failed too"}}

func (s *Server) listCallbacks(w http.ResponseWriter, r *http.Request, c *caller) (any, error) {
	id, err := pathID(r, "queue_id")
	if err != nil {
		return nil, err
	}
	var all bool
	switch status := r.URL.Query().Get("status"); status {
	case "", switchboard.CallbackPending:
	case "all":
		all = true
	default:
		return nil, switchboard.FieldError(switchboard.EBADREQUEST, "status", "must be pending or all")
	}
	cbs, err := s.store.ListQueueCallbacks(r.Context(), c.accountID, id, all)
	if err != nil {
		return nil, err
	}
	out := make([]callbackJSON, 0, len(cbs))
	for _, cb := range cbs {
		out = append(out, callbackJSON{PK: cb.ID, QueueID: cb.QueueID, QueueCallID: cb.StayID, CallID: cb.CallID,
			CallerID: cb.From, CallerName: cb.CallerName, CallbackNumber: cb.CallbackNumber,
			EnteredAt: cb.EnteredAt.UTC().Format(time.RFC3339), RequestedAt: cb.RequestedAt.UTC().Format(time.RFC3339),
			Attempts: cb.Attempts, Status: cb.Status, CallbackCallID: cb.CallbackCallID})
	}
	return out, nil
}

// callbackJSON is a queue callback (docs/queues.md "Callback").
type callbackJSON struct {
	PK             int64  `json:"pk" doc:"Callback ID"`
	QueueID        int64  `json:"queue_id" doc:"The queue"`
	QueueCallID    string `json:"queue_call_id" doc:"The caller's stay in the queue, kept by the callback"`
	CallID         string `json:"call_id" doc:"The call that asked for the callback"`
	CallerID       string `json:"caller_id" doc:"The caller's number"`
	CallerName     string `json:"caller_name" doc:"The caller's name, when known"`
	CallbackNumber string `json:"callback_number" doc:"What is dialled back: an E.164 number or the caller's extension"`
	EnteredAt      string `json:"entered_at" doc:"When the caller entered the queue: their place (UTC ISO 8601)"`
	RequestedAt    string `json:"requested_at" doc:"When the caller asked (UTC ISO 8601)"`
	Attempts       int    `json:"attempts" doc:"Times the caller was dialled back"`
	Status         string `json:"status" doc:"pending, done (put through to an agent) or failed"`
	CallbackCallID string `json:"callback_call_id" doc:"The last callback call (its call record and events); empty before the first dial"`
}

// memberPageQuery documents the paging of a queue's members, whose cursor is a user id.
var memberPageQuery = []queryParam{
	pageQuery[0], pageQuery[1],
	{"after", "Only members with a larger user id: pass the X-Next-Cursor header of the previous page"},
}

func (s *Server) listMembers(w http.ResponseWriter, r *http.Request, c *caller) (any, error) {
	id, err := pathID(r, "queue_id")
	if err != nil {
		return nil, err
	}
	p, err := parsePage(r)
	if err != nil {
		return nil, err
	}
	members, more, err := s.store.PageQueueMembers(r.Context(), c.accountID, id, p)
	if err != nil {
		return nil, err
	}
	out, err := s.membersJSON(r.Context(), c.accountID, members)
	if err != nil {
		return nil, err
	}
	if more && len(members) > 0 {
		writeNextPage(w, r, p, strconv.FormatInt(members[len(members)-1].UserID, 10))
	}
	return out, nil
}

func (s *Server) addMember(w http.ResponseWriter, r *http.Request, c *caller) (any, error) {
	queueID, err := pathID(r, "queue_id")
	if err != nil {
		return nil, err
	}
	var body memberRequestJSON
	if err := decodeJSON(w, r, &body); err != nil {
		return nil, err
	}
	m := switchboard.QueueMember{QueueID: queueID, UserID: deref(body.UserID), Penalty: deref(body.Penalty), Paused: deref(body.Paused)}
	if err := s.provision.AddQueueMember(r.Context(), c.accountID, m); err != nil {
		return nil, err
	}
	return s.member(r, c, m)
}

func (s *Server) patchMember(w http.ResponseWriter, r *http.Request, c *caller) (any, error) {
	queueID, userID, err := memberPath(r)
	if err != nil {
		return nil, err
	}
	var body memberRequestJSON
	if err = decodeJSON(w, r, &body); err == nil {
		err = refuseCreateOnly(body)
	}
	if err != nil {
		return nil, err
	}
	m, err := s.provision.UpdateQueueMember(r.Context(), c.accountID, queueID, userID,
		switchboard.QueueMemberChange{Penalty: body.Penalty, Paused: body.Paused})
	if err != nil {
		return nil, err
	}
	return s.member(r, c, m)
}

func (s *Server) removeMember(w http.ResponseWriter, r *http.Request, c *caller) (any, error) {
	queueID, userID, err := memberPath(r)
	if err != nil {
		return nil, err
	}
	if err := s.provision.RemoveQueueMember(r.Context(), c.accountID, queueID, userID); err != nil {
		return nil, err
	}
	return deletedJSON{PK: userID, Deleted: true}, nil
}

// memberPath reads …/queues/{queue_id}/members/{user_id}.
func memberPath(r *http.Request) (queueID, userID int64, err error) {
	if queueID, err = pathID(r, "queue_id"); err == nil {
		userID, err = pathID(r, "user_id")
	}
	return queueID, userID, err
}

// member renders the member with its user's names.
func (s *Server) member(r *http.Request, c *caller, m switchboard.QueueMember) (any, error) {
	u, err := s.store.GetUser(r.Context(), c.accountID, m.UserID)
	if err != nil {
		return nil, err
	}
	return toMemberJSON(u, m), nil
}

type queueJSON struct {
	PK             int64      `json:"pk" doc:"Queue ID"`
	Name           string     `json:"name" doc:"Queue identifier: the ID as a string (e.g. \"100134\")"`
	QueueName      string     `json:"queue_name" doc:"User-friendly queue name"`
	Extension      string     `json:"extension" doc:"Queue extension number"`
	Strategy       string     `json:"strategy" doc:"Ring strategy: ringall, leastrecent, fewestcalls, random, rrmemory, linear, wrandom"`
	MusicOnHold    string     `json:"musiconhold" doc:"Music on hold class"`
	Timeout        int        `json:"timeout" doc:"Ring timeout in seconds"`
	Retry          int        `json:"retry" doc:"Retry interval in seconds"`
	WrapUpTime     int        `json:"wrapuptime" doc:"Wrap-up time in seconds"`
	MaxLen         int        `json:"maxlen" doc:"Maximum queue length (0 = unlimited)"`
	JoinEmpty      string     `json:"joinempty" doc:"Allow joining empty queue: yes, no, strict, loose"`
	LeaveWhenEmpty string     `json:"leavewhenempty" doc:"Leave when queue becomes empty: yes, no, strict, loose"`
	RingInUse      string     `json:"ringinuse" doc:"Ring members already on calls: yes, no"`
	MaxWait        int        `json:"max_wait" doc:"Seconds a caller may wait before the overflow; 0 = no limit"`
	ServiceLevel   int        `json:"service_level" doc:"Seconds within which an answer counts for the service level"`
	Overflow       targetJSON `json:"overflow" doc:"Where callers go when the queue is full or they wait too long"`
	// Callback: see docs/queues.md "Callback".
	CallbackEnabled bool   `json:"callback_enabled" doc:"A waiting caller may press callback_key to hang up and be called back, keeping their place"`
	CallbackKey     string `json:"callback_key" doc:"The DTMF key that asks for a callback: 0-9, * or #"`
	CallbackAfterS  int    `json:"callback_after_s" doc:"Seconds a caller must have waited before the key is taken; 0 = at once"`
	CallbackMax     int    `json:"callback_max" doc:"Most pending callbacks in the queue; 0 = no limit"`
	CallbackRetries int    `json:"callback_retries" doc:"How many more times an unanswered callback is dialled before it is given up"`
	Recording       string `json:"recording" doc:"Recording policy of the queue's calls: none, inbound, outbound or all; \"\" = the account's recording_default"`
}

func toQueueJSON(q *switchboard.Queue) queueJSON {
	return queueJSON{PK: q.ID, Name: q.Name(), QueueName: q.QueueName, Extension: q.Extension, Strategy: string(q.Strategy),
		MusicOnHold: q.MusicOnHold, Timeout: q.Timeout, Retry: q.Retry, WrapUpTime: q.WrapUpTime, MaxLen: q.MaxLen,
		JoinEmpty: q.JoinEmpty, LeaveWhenEmpty: q.LeaveWhenEmpty, RingInUse: q.RingInUse, MaxWait: q.MaxWait,
		ServiceLevel: q.ServiceLevel, Overflow: toTargetJSON(q.Overflow), CallbackEnabled: q.CallbackEnabled,
		CallbackKey: q.CallbackKey, CallbackAfterS: q.CallbackAfter, CallbackMax: q.CallbackMax, CallbackRetries: q.CallbackRetries,
		Recording: q.Recording}
}

// queueRequestJSON is the body of POST and PATCH queues: a field left out is "not given".
type queueRequestJSON struct {
	QueueName      *string     `json:"queue_name" doc:"Friendly name" create:"required"`
	Extension      *string     `json:"extension" doc:"Extension, 2 to 8 digits" create:"required"`
	Strategy       *string     `json:"strategy" doc:"Ring strategy" default:"ringall"`
	MusicOnHold    *string     `json:"musiconhold" doc:"Music on hold class" default:"default"`
	Timeout        *int        `json:"timeout" doc:"Ring timeout in seconds" default:"15" create:"nullable"`
	Retry          *int        `json:"retry" doc:"Retry interval in seconds" default:"5" create:"nullable"`
	WrapUpTime     *int        `json:"wrapuptime" doc:"Wrap-up time in seconds"`
	MaxLen         *int        `json:"maxlen" doc:"Maximum queue length (0 = unlimited)"`
	JoinEmpty      *string     `json:"joinempty" doc:"yes, no, strict, loose" default:"yes"`
	LeaveWhenEmpty *string     `json:"leavewhenempty" doc:"yes, no, strict, loose" default:"no"`
	RingInUse      *string     `json:"ringinuse" doc:"yes or no" default:"no"`
	MaxWait        *int        `json:"max_wait" doc:"Seconds before overflow; 0 = no limit"`
	ServiceLevel   *int        `json:"service_level" doc:"Service level seconds" default:"20"`
	Overflow       *targetJSON `json:"overflow" doc:"Overflow target" default:"hang up" create:"nullable"`

	CallbackEnabled *bool   `json:"callback_enabled" doc:"Offer waiting callers a callback that keeps their place" default:"false"`
	CallbackKey     *string `json:"callback_key" doc:"DTMF key asking for a callback: 0-9, * or #" default:"1"`
	CallbackAfterS  *int    `json:"callback_after_s" doc:"Seconds of waiting before the key is taken; 0 = at once" default:"0"`
	CallbackMax     *int    `json:"callback_max" doc:"Most pending callbacks; 0 = no limit" default:"0"`
	CallbackRetries *int    `json:"callback_retries" doc:"More dials of an unanswered callback, 0 to 10" default:"1"`
	Recording       *string `json:"recording" doc:"Recording policy of the queue's calls: none, inbound, outbound or all; \"\" = the account's recording_default" default:""`
}

// memberRequestJSON is the body of POST and PATCH queue members; PATCH takes the user from
// the path.
type memberRequestJSON struct {
	UserID  *int64 `json:"user_id" doc:"The user to add" create:"required" patch:"-"`
	Penalty *int   `json:"penalty" doc:"0 to 1000" default:"0"`
	Paused  *bool  `json:"paused" doc:"Pause (true) or unpause (false) the member" default:"false"`
}

func (b queueRequestJSON) change() switchboard.QueueChange {
	c := switchboard.QueueChange{QueueName: b.QueueName, Extension: b.Extension, MusicOnHold: b.MusicOnHold,
		Timeout: b.Timeout, Retry: b.Retry, WrapUpTime: b.WrapUpTime, MaxLen: b.MaxLen, JoinEmpty: b.JoinEmpty,
		LeaveWhenEmpty: b.LeaveWhenEmpty, RingInUse: b.RingInUse, MaxWait: b.MaxWait, ServiceLevel: b.ServiceLevel,
		Overflow: b.Overflow.target(), CallbackEnabled: b.CallbackEnabled, CallbackKey: b.CallbackKey,
		CallbackAfter: b.CallbackAfterS, CallbackMax: b.CallbackMax, CallbackRetries: b.CallbackRetries,
		Recording: b.Recording}
	if b.Strategy != nil {
		strategy := switchboard.QueueStrategy(*b.Strategy)
		c.Strategy = &strategy
	}
	return c
}
