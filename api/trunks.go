package api

import (
	"context"
	"net/http"

	"switchboard"
)

// TrunkService provisions SIP trunks. The call engine (pbx.Engine) implements it: it seals
// the password with the server key and starts recognising the trunk's addresses at once.
// The API finds it on Config.Calls; without one, trunk routes answer 503.
type TrunkService interface {
	CreateTrunk(ctx context.Context, t *switchboard.Trunk, password string) error
	UpdateTrunk(ctx context.Context, t *switchboard.Trunk, password *string) error
	DeleteTrunk(ctx context.Context, accountID, id int64) error
	GetTrunk(ctx context.Context, accountID, id int64) (*switchboard.Trunk, error)
	ListTrunks(ctx context.Context, accountID int64) ([]*switchboard.Trunk, error)
}

type trunkJSON struct {
	PK                int64    `json:"pk" doc:"Trunk ID"`
	Name              string   `json:"name" doc:"Name"`
	Host              string   `json:"host" doc:"The carrier's SIP server, IP address or host name"`
	Port              int      `json:"port" doc:"SIP port (default 5060)"`
	Transport         string   `json:"transport" doc:"udp or tcp"`
	Username          string   `json:"username" doc:"Digest username for the carrier's challenges"`
	PasswordSet       bool     `json:"password_set" doc:"Whether a password is stored (it is never shown)"`
	InboundAddresses  []string `json:"inbound_addresses" doc:"IPs or CIDRs the carrier's calls come from; empty means host, when it is an IP"`
	CallerIDNumber    string   `json:"caller_id_number" doc:"E.164 number presented on outbound calls"`
	AllowUserCallerID bool     `json:"allow_user_caller_id" doc:"Present the calling user's own number when they own one"`
	CreatedAt         string   `json:"created_at" doc:"RFC 3339 time of creation"`
	UpdatedAt         string   `json:"updated_at" doc:"RFC 3339 time of the last change"`
}

func toTrunkJSON(t *switchboard.Trunk) trunkJSON {
	addrs := t.InboundAddresses
	if addrs == nil {
		addrs = []string{}
	}
	return trunkJSON{PK: t.ID, Name: t.Name, Host: t.Host, Port: t.Port, Transport: t.Transport, Username: t.Username,
		PasswordSet: len(t.SealedPassword) > 0, InboundAddresses: addrs, CallerIDNumber: t.CallerIDNumber,
		AllowUserCallerID: t.AllowUserCallerID, CreatedAt: formatTime(t.CreatedAt), UpdatedAt: formatTime(t.UpdatedAt)}
}

// trunkRequestJSON is the body of creating or replacing a trunk.
type trunkRequestJSON struct {
	Name              string   `json:"name" doc:"Name" required:"true"`
	Host              string   `json:"host" doc:"The carrier's SIP server, IP address or host name" required:"true"`
	Port              int      `json:"port" doc:"SIP port (default 5060)"`
	Transport         string   `json:"transport" doc:"udp (default) or tcp"`
	Username          string   `json:"username" doc:"Digest username for the carrier's challenges"`
	Password          *string  `json:"password" doc:"Digest password; stored encrypted, never shown. On replace, absent keeps the stored one"`
	InboundAddresses  []string `json:"inbound_addresses" doc:"IPs or CIDRs the carrier's calls come from (required when host is a name)"`
	CallerIDNumber    string   `json:"caller_id_number" doc:"E.164 number presented on outbound calls; any form, stored E.164"`
	AllowUserCallerID bool     `json:"allow_user_caller_id" doc:"Present the calling user's own number when they own one"`
}

func (b *trunkRequestJSON) trunk(v switchboard.ValidationErrors, accountID int64) *switchboard.Trunk {
	t := &switchboard.Trunk{AccountID: accountID, Name: b.Name, Host: b.Host, Port: b.Port, Transport: b.Transport,
		Username: b.Username, InboundAddresses: b.InboundAddresses, AllowUserCallerID: b.AllowUserCallerID}
	if b.CallerIDNumber != "" {
		t.CallerIDNumber = normalizePhone(v, "caller_id_number", b.CallerIDNumber)
	}
	t.ApplyDefaults()
	return t
}

func (s *Server) trunkRoutes() {
	const tag = "Trunks"
	s.handleAPI(route{Method: "POST", Path: "/trunks", Access: accessDeveloper, Tag: tag, Status: http.StatusCreated,
		Summary: "Create a SIP trunk",
		Description: "The carrier that takes the account's calls to the phone network and brings calls to its numbers. " +
			"Calls from the carrier are recognised by source address only (inbound_addresses, or host when it is an IP). " +
			"The password is stored encrypted and never shown.",
		Message: "Trunk created", Request: trunkRequestJSON{}, Result: trunkJSON{}}, s.createTrunk)
	s.handleAPI(route{Method: "GET", Path: "/trunks", Access: accessDeveloper, Tag: tag,
		Summary: "List SIP trunks", Description: "Outbound calls use the first.", Message: "List of trunks", Result: []trunkJSON{}}, s.listTrunks)
	s.handleAPI(route{Method: "GET", Path: "/trunks/{trunk_id}", Access: accessDeveloper, Tag: tag,
		Summary: "Get a SIP trunk", Message: "Trunk details", Result: trunkJSON{}}, s.getTrunk)
	s.handleAPI(route{Method: "PUT", Path: "/trunks/{trunk_id}", Access: accessDeveloper, Tag: tag,
		Summary: "Replace a SIP trunk", Description: "Replaces every field; an absent password keeps the stored one.",
		Message: "Trunk updated", Request: trunkRequestJSON{}, Result: trunkJSON{}}, s.replaceTrunk)
	s.handleAPI(route{Method: "DELETE", Path: "/trunks/{trunk_id}", Access: accessDeveloper, Tag: tag,
		Summary: "Delete a SIP trunk", Message: "Trunk deleted", Result: deletedJSON{}}, s.deleteTrunk)
}

func (s *Server) trunkService() (TrunkService, error) {
	if ts, ok := s.calls.(TrunkService); ok {
		return ts, nil
	}
	return nil, switchboard.Errorf(switchboard.EUNAVAILABLE, "SIP trunks are not available: no call engine is configured on this server")
}

func (s *Server) createTrunk(w http.ResponseWriter, r *http.Request, c *caller) error {
	ts, err := s.trunkService()
	if err != nil {
		return err
	}
	var body trunkRequestJSON
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	v := switchboard.ValidationErrors{}
	t := body.trunk(v, c.accountID)
	password := ""
	if body.Password != nil {
		password = *body.Password
	}
	if t.Username != "" && password == "" {
		v.Add("password", "is required with a username")
	}
	if password != "" {
		t.SealedPassword = []byte{0} // stands in for the sealed value while validating
	}
	if err := validate(v, t); err != nil {
		return err
	}
	t.SealedPassword = nil
	if err := ts.CreateTrunk(r.Context(), t, password); err != nil {
		return err
	}
	s.writeResult(w, http.StatusCreated, "Trunk created", toTrunkJSON(t))
	return nil
}

func (s *Server) listTrunks(w http.ResponseWriter, r *http.Request, c *caller) error {
	ts, err := s.trunkService()
	if err != nil {
		return err
	}
	list, err := ts.ListTrunks(r.Context(), c.accountID)
	if err != nil {
		return err
	}
	out := make([]trunkJSON, 0, len(list))
	for _, t := range list {
		out = append(out, toTrunkJSON(t))
	}
	s.writeResult(w, http.StatusOK, "List of trunks", out)
	return nil
}

func (s *Server) getTrunk(w http.ResponseWriter, r *http.Request, c *caller) error {
	ts, err := s.trunkService()
	if err != nil {
		return err
	}
	id, err := pathID(r, "trunk_id")
	if err != nil {
		return err
	}
	t, err := ts.GetTrunk(r.Context(), c.accountID, id)
	if err != nil {
		return err
	}
	s.writeResult(w, http.StatusOK, "Trunk details", toTrunkJSON(t))
	return nil
}

func (s *Server) replaceTrunk(w http.ResponseWriter, r *http.Request, c *caller) error {
	ts, err := s.trunkService()
	if err != nil {
		return err
	}
	id, err := pathID(r, "trunk_id")
	if err != nil {
		return err
	}
	var body trunkRequestJSON
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	old, err := ts.GetTrunk(r.Context(), c.accountID, id)
	if err != nil {
		return err
	}
	v := switchboard.ValidationErrors{}
	t := body.trunk(v, c.accountID)
	t.ID = id
	t.SealedPassword = old.SealedPassword
	if body.Password != nil && *body.Password != "" {
		t.SealedPassword = []byte{0}
	}
	if err := validate(v, t); err != nil {
		return err
	}
	if err := ts.UpdateTrunk(r.Context(), t, body.Password); err != nil {
		return err
	}
	s.writeResult(w, http.StatusOK, "Trunk updated", toTrunkJSON(t))
	return nil
}

func (s *Server) deleteTrunk(w http.ResponseWriter, r *http.Request, c *caller) error {
	ts, err := s.trunkService()
	if err != nil {
		return err
	}
	id, err := pathID(r, "trunk_id")
	if err != nil {
		return err
	}
	if err := ts.DeleteTrunk(r.Context(), c.accountID, id); err != nil {
		return err
	}
	s.writeDeleted(w, "Trunk deleted", id)
	return nil
}
