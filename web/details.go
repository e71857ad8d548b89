package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"switchboard"
)

// Detail pages of queues, ring groups and trunks: each shows one of the account's rows
// (another account's id is not found) with forms that change it through the provisioning
// service. A form that succeeds redirects back to the page (a reload does not post it
// again); one that fails shows the page again with the error, nothing changed.

// loader reads a detail page's title and data for the session's account.
type loader func(ctx context.Context, r *http.Request, s *session) (title string, data any, err error)

func (h *Handler) detailPage(name string, load loader) sessionHandler {
	return func(w http.ResponseWriter, r *http.Request, s *session) {
		title, data, err := load(r.Context(), r, s)
		if err != nil {
			h.fail(w, r, "error", page{Title: title, S: s}, err)
			return
		}
		h.render(w, r, http.StatusOK, name, page{Title: title, S: s, Data: data})
	}
}

// changed ends a detail page's form post with the change's outcome err.
func (h *Handler) changed(w http.ResponseWriter, r *http.Request, s *session, name, back string, load loader, err error) {
	if err == nil {
		http.Redirect(w, r, back, http.StatusSeeOther)
		return
	}
	title, data, lerr := load(r.Context(), r, s)
	if lerr != nil {
		h.fail(w, r, "error", page{Title: title, S: s}, lerr)
		return
	}
	h.fail(w, r, name, page{Title: title, S: s, Data: data}, err)
}

// formNumber reads a whole number field: nil when the field is absent or empty, a field
// error when it is not a number.
func formNumber(r *http.Request, name string) (*int, error) {
	v := formString(r, name)
	if v == nil || *v == "" {
		return nil, nil
	}
	n, err := strconv.Atoi(*v)
	if err != nil {
		return nil, switchboard.FieldError(switchboard.EBADREQUEST, name, "must be a whole number")
	}
	return &n, nil
}

// formID reads the id a select sent; a missing or malformed one is a field error.
func formID(r *http.Request, name string) (int64, error) {
	id, err := strconv.ParseInt(strings.TrimSpace(r.PostForm.Get(name)), 10, 64)
	if err != nil || id <= 0 {
		return 0, switchboard.FieldError(switchboard.EBADREQUEST, name, "is required: choose one")
	}
	return id, nil
}

func orZero(n *int) int {
	if n == nil {
		return 0
	}
	return *n
}

func idPath(prefix string, id int64) string { return prefix + "/" + strconv.FormatInt(id, 10) }

// memberRow is a queue or ring group member as its page shows it.
type memberRow struct {
	User     *switchboard.User
	Penalty  int // queues
	State    switchboard.AgentState
	Reason   string
	RingTime int // ring groups: 0 = the group's
}

type memberPage struct {
	Queue   *switchboard.Queue
	Group   *switchboard.RingGroup
	Stats   switchboard.QueueLiveStats
	Members []memberRow
	Others  []*switchboard.User // the account's users who are not members, for the add form
	// Choices of the settings form.
	Strategies, RecordingPolicies []string
}

// usersByID reads the account's users, by id.
func (h *Handler) usersByID(ctx context.Context, accountID int64) (map[int64]*switchboard.User, []*switchboard.User, error) {
	users, err := h.store.ListUsers(ctx, accountID)
	byID := map[int64]*switchboard.User{}
	for _, u := range users {
		byID[u.ID] = u
	}
	return byID, users, err
}

// others are the users not in members.
func others(users []*switchboard.User, members []memberRow) []*switchboard.User {
	in := map[int64]bool{}
	for _, m := range members {
		in[m.User.ID] = true
	}
	var out []*switchboard.User
	for _, u := range users {
		if !in[u.ID] {
			out = append(out, u)
		}
	}
	return out
}

func (h *Handler) loadQueue(ctx context.Context, r *http.Request, s *session) (string, any, error) {
	a := s.Login.AccountID
	q, err := h.store.GetQueue(ctx, a, pathID(r, "id"))
	if err != nil {
		return "Queue", nil, err
	}
	members, err := h.store.ListQueueMembers(ctx, a, q.ID)
	if err != nil {
		return "Queue", nil, err
	}
	byID, users, err := h.usersByID(ctx, a)
	if err != nil {
		return "Queue", nil, err
	}
	d := &memberPage{Queue: q, Stats: h.live.QueueStats(a, q.ID), Strategies: strategies(),
		RecordingPolicies: []string{"", switchboard.RecordNone, switchboard.RecordInbound, switchboard.RecordOutbound, switchboard.RecordAll}}
	for _, m := range members {
		if u := byID[m.UserID]; u != nil {
			d.Members = append(d.Members, memberRow{User: u, Penalty: m.Penalty, State: m.State(), Reason: m.PauseReason})
		}
	}
	d.Others = others(users, d.Members)
	return "Queue " + q.QueueName, d, nil
}

func (h *Handler) loadRingGroup(ctx context.Context, r *http.Request, s *session) (string, any, error) {
	a := s.Login.AccountID
	g, err := h.store.GetRingGroup(ctx, a, pathID(r, "id"))
	if err != nil {
		return "Ring group", nil, err
	}
	byID, users, err := h.usersByID(ctx, a)
	if err != nil {
		return "Ring group", nil, err
	}
	d := &memberPage{Group: g, Strategies: []string{string(switchboard.RingSimultaneous), string(switchboard.RingSequential)}}
	for _, m := range g.Members {
		if u := byID[m.UserID]; u != nil {
			d.Members = append(d.Members, memberRow{User: u, RingTime: m.RingTime})
		}
	}
	d.Others = others(users, d.Members)
	return "Ring group " + g.Name, d, nil
}

func (h *Handler) detailRoutes() {
	h.get("/queues/{id}", true, h.detailPage("queue", h.loadQueue))
	h.post("/queues/{id}", true, h.queueUpdate)
	h.post("/queues/{id}/members", true, h.queueMemberAdd)
	h.post("/queues/{id}/members/{user}", true, h.queueMemberUpdate)
	h.post("/queues/{id}/members/{user}/delete", true, h.queueMemberRemove)
	h.get("/ring-groups/{id}", true, h.detailPage("ringgroup", h.loadRingGroup))
	h.post("/ring-groups/{id}", true, h.ringGroupUpdate)
	h.post("/ring-groups/{id}/members", true, h.ringMemberAdd)
	h.post("/ring-groups/{id}/members/{user}/move", true, h.ringMemberMove)
	h.post("/ring-groups/{id}/members/{user}/delete", true, h.ringMemberRemove)
	h.get("/trunks/{id}", true, h.detailPage("trunk", h.loadTrunk))
	h.post("/trunks/{id}", true, h.trunkUpdate)
}

func (h *Handler) queueChanged(w http.ResponseWriter, r *http.Request, s *session, err error) {
	h.changed(w, r, s, "queue", idPath("/queues", pathID(r, "id")), h.loadQueue, err)
}

// queueUpdate changes the queue's settings (members have their own forms). Each number
// field is checked by the provisioning service, as through the API.
func (h *Handler) queueUpdate(w http.ResponseWriter, r *http.Request, s *session) {
	c := switchboard.QueueChange{QueueName: formString(r, "queue_name"), Extension: formString(r, "extension"),
		MusicOnHold: formString(r, "musiconhold"), Recording: formString(r, "recording"),
		CallbackEnabled: formBool(r, "callback_enabled")}
	if v := formString(r, "strategy"); v != nil {
		st := switchboard.QueueStrategy(*v)
		c.Strategy = &st
	}
	var err error
	for _, f := range []struct {
		name string
		dst  **int
	}{{"timeout", &c.Timeout}, {"retry", &c.Retry}, {"wrapuptime", &c.WrapUpTime}, {"maxlen", &c.MaxLen},
		{"max_wait", &c.MaxWait}, {"service_level", &c.ServiceLevel}} {
		if *f.dst, err = formNumber(r, f.name); err != nil {
			break
		}
	}
	if err == nil {
		_, err = h.provision.UpdateQueue(r.Context(), s.Login.AccountID, pathID(r, "id"), c)
	}
	h.queueChanged(w, r, s, err)
}

func (h *Handler) queueMemberAdd(w http.ResponseWriter, r *http.Request, s *session) {
	userID, err := formID(r, "user_id")
	var penalty *int
	if err == nil {
		penalty, err = formNumber(r, "penalty")
	}
	if err == nil {
		m := switchboard.QueueMember{QueueID: pathID(r, "id"), UserID: userID, Penalty: orZero(penalty)}
		err = h.provision.AddQueueMember(r.Context(), s.Login.AccountID, m)
	}
	h.queueChanged(w, r, s, err)
}

func (h *Handler) queueMemberUpdate(w http.ResponseWriter, r *http.Request, s *session) {
	penalty, err := formNumber(r, "penalty")
	if err == nil {
		_, err = h.provision.UpdateQueueMember(r.Context(), s.Login.AccountID, pathID(r, "id"), pathID(r, "user"),
			switchboard.QueueMemberChange{Penalty: penalty})
	}
	h.queueChanged(w, r, s, err)
}

func (h *Handler) queueMemberRemove(w http.ResponseWriter, r *http.Request, s *session) {
	h.queueChanged(w, r, s, h.provision.RemoveQueueMember(r.Context(), s.Login.AccountID, pathID(r, "id"), pathID(r, "user")))
}

func (h *Handler) ringGroupChanged(w http.ResponseWriter, r *http.Request, s *session, err error) {
	h.changed(w, r, s, "ringgroup", idPath("/ring-groups", pathID(r, "id")), h.loadRingGroup, err)
}

// ringGroupUpdate changes the ring group's name, extension, strategy and ring time.
func (h *Handler) ringGroupUpdate(w http.ResponseWriter, r *http.Request, s *session) {
	ringTime, err := formNumber(r, "ring_time")
	if err == nil {
		c := switchboard.RingGroupChange{Name: formString(r, "name"), Extension: formString(r, "extension"), RingTime: ringTime}
		if v := formString(r, "strategy"); v != nil {
			st := switchboard.RingGroupStrategy(*v)
			c.Strategy = &st
		}
		_, err = h.provision.UpdateRingGroup(r.Context(), s.Login.AccountID, pathID(r, "id"), c)
	}
	h.ringGroupChanged(w, r, s, err)
}

func (h *Handler) ringMemberAdd(w http.ResponseWriter, r *http.Request, s *session) {
	userID, err := formID(r, "user_id")
	var ringTime *int
	if err == nil {
		ringTime, err = formNumber(r, "ring_time")
	}
	if err == nil {
		m := switchboard.RingGroupMember{UserID: userID, RingTime: orZero(ringTime)}
		_, err = h.provision.AddRingGroupMember(r.Context(), s.Login.AccountID, pathID(r, "id"), m)
	}
	h.ringGroupChanged(w, r, s, err)
}

func (h *Handler) ringMemberMove(w http.ResponseWriter, r *http.Request, s *session) {
	_, err := h.provision.MoveRingGroupMember(r.Context(), s.Login.AccountID, pathID(r, "id"), pathID(r, "user"), r.PostForm.Get("dir") == "up")
	h.ringGroupChanged(w, r, s, err)
}

func (h *Handler) ringMemberRemove(w http.ResponseWriter, r *http.Request, s *session) {
	_, err := h.provision.RemoveRingGroupMember(r.Context(), s.Login.AccountID, pathID(r, "id"), pathID(r, "user"))
	h.ringGroupChanged(w, r, s, err)
}

// trunkPage is a trunk's settings; its password is never shown, only whether one is set.
type trunkPage struct {
	Trunk       *switchboard.Trunk
	HasPassword bool
	Transports  []string
}

func (h *Handler) loadTrunk(ctx context.Context, r *http.Request, s *session) (string, any, error) {
	t, err := h.provision.GetTrunk(ctx, s.Login.AccountID, pathID(r, "id"))
	if err != nil {
		return "Trunk", nil, err
	}
	return "Trunk " + t.Name, &trunkPage{Trunk: t, HasPassword: len(t.SealedPassword) > 0,
		Transports: []string{switchboard.TransportUDP, switchboard.TransportTCP, switchboard.TransportTLS}}, nil
}

// trunkUpdate changes the trunk's settings; an empty password keeps the stored one.
func (h *Handler) trunkUpdate(w http.ResponseWriter, r *http.Request, s *session) {
	port, err := formNumber(r, "port")
	if err == nil {
		c := switchboard.TrunkChange{Name: formString(r, "name"), Host: formString(r, "host"), Port: port,
			Transport: formString(r, "transport"), Username: formString(r, "username"), Password: formString(r, "password"),
			CallerIDNumber: formString(r, "caller_id_number"), AllowUserCallerID: formBool(r, "allow_user_caller_id")}
		if v := formString(r, "inbound_addresses"); v != nil {
			addrs := strings.FieldsFunc(*v, func(c rune) bool { return c == ',' || c == '\n' || c == '\r' || c == ' ' })
			c.InboundAddresses = &addrs
		}
		_, err = h.provision.UpdateTrunk(r.Context(), s.Login.AccountID, pathID(r, "id"), c)
	}
	h.changed(w, r, s, "trunk", idPath("/trunks", pathID(r, "id")), h.loadTrunk, err)
}
