package api

import (
	"net/http"

	"switchboard"
)

func (s *Server) trunkRoutes() {
	s.resourceRoutes("Trunks", needsTrunks, []resourceRoute{
		{method: "POST", path: "/trunks", status: http.StatusCreated, summary: "Create a SIP trunk",
			description: "The carrier that takes the account's calls to the phone network and brings calls to its numbers. " +
				"Calls from the carrier are recognised by source address only (inbound_addresses, or host when it is an IP). " +
				"The password is stored encrypted and never shown.",
			message: "Trunk created", request: trunkRequestJSON{}, result: trunkJSON{},
			serve: createHandler[trunkRequestJSON](&s.trunks, switchboard.TrunkService.CreateTrunk, toTrunkJSON)},
		{method: "GET", path: "/trunks", summary: "List SIP trunks", description: "Outbound calls use the first.",
			message: "List of trunks", result: []trunkJSON{},
			query: pageQuery, serve: listPaged(&s.trunks, switchboard.TrunkService.PageTrunks,
				func(t *switchboard.Trunk) int64 { return t.ID }, toTrunkJSON)},
		{method: "GET", path: "/trunks/{trunk_id}", summary: "Get a SIP trunk", message: "Trunk details", result: trunkJSON{},
			serve: getByID(&s.trunks, "trunk_id", switchboard.TrunkService.GetTrunk, toTrunkJSON)},
		{method: "PUT", path: "/trunks/{trunk_id}", summary: "Replace a SIP trunk",
			description: "Replaces every field; an absent password keeps the stored one.",
			message:     "Trunk updated", request: trunkRequestJSON{}, result: trunkJSON{},
			serve: updateHandler[trunkRequestJSON](&s.trunks, "trunk_id", switchboard.TrunkService.UpdateTrunk, toTrunkJSON)},
		{method: "DELETE", path: "/trunks/{trunk_id}", summary: "Delete a SIP trunk", message: "Trunk deleted", result: deletedJSON{},
			serve: deleteByID(&s.trunks, "trunk_id", switchboard.TrunkService.DeleteTrunk)},
	})
}

type trunkJSON struct {
	PK                int64    `json:"pk" doc:"Trunk ID"`
	Name              string   `json:"name" doc:"Name"`
	Host              string   `json:"host" doc:"The carrier's SIP server, IP address or host name"`
	Port              int      `json:"port" doc:"SIP port (default 5060)"`
	Transport         string   `json:"transport" doc:"udp, tcp or tls (SIP over TLS, with SRTP media)"`
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
	Transport         string   `json:"transport" doc:"udp (default), tcp or tls (SIP over TLS, with SRTP media)"`
	Username          string   `json:"username" doc:"Digest username for the carrier's challenges"`
	Password          *string  `json:"password" doc:"Digest password; stored encrypted, never shown. On replace, absent keeps the stored one"`
	InboundAddresses  []string `json:"inbound_addresses" doc:"IPs or CIDRs the carrier's calls come from (required when host is a name)"`
	CallerIDNumber    string   `json:"caller_id_number" doc:"E.164 number presented on outbound calls; any form, stored E.164"`
	AllowUserCallerID bool     `json:"allow_user_caller_id" doc:"Present the calling user's own number when they own one"`
}

// change gives every field but the password: creating and replacing a trunk both set them
// all (absent ones to their defaults).
func (b trunkRequestJSON) change() switchboard.TrunkChange {
	return switchboard.TrunkChange{Name: &b.Name, Host: &b.Host, Port: &b.Port, Transport: &b.Transport,
		Username: &b.Username, Password: b.Password, InboundAddresses: &b.InboundAddresses,
		CallerIDNumber: &b.CallerIDNumber, AllowUserCallerID: &b.AllowUserCallerID}
}
