package api

import (
	"net/http"

	"switchboard"
)

func (s *Server) conferenceRoutes() []resourceRoute {
	return []resourceRoute{
		{method: "GET", path: "/conferences", summary: "List conference rooms", message: "List of conference rooms",
			result: []conferenceRoomJSON{}, query: pageQuery, serve: listPaged(&s.store, switchboard.Store.PageConferenceRooms,
				func(r *switchboard.ConferenceRoom) int64 { return r.ID }, toConferenceRoomJSON)},
		{method: "POST", path: "/conferences", summary: "Create a conference room", message: "Conference room created",
			status: http.StatusCreated, description: "Phones dial the room's extension to join (or are transferred to it). " +
				"The extension shares the account's numbering with users, queues and ring groups: one already in use is refused with 409.",
			request: createBody(conferenceRoomRequestJSON{}), result: conferenceRoomJSON{},
			serve: createHandler[conferenceRoomRequestJSON](&s.provision, ProvisioningService.CreateConferenceRoom, toConferenceRoomJSON)},
		{method: "GET", path: "/conferences/{conference_id}", summary: "Get a conference room", message: "Conference room details",
			result: conferenceRoomJSON{}, serve: getByID(&s.store, "conference_id", switchboard.Store.GetConferenceRoom, toConferenceRoomJSON)},
		{method: "PATCH", path: "/conferences/{conference_id}", summary: "Change a conference room (only the fields given)",
			message: "Conference room updated", description: "Parties already in the room stay; new settings apply to those who join next.",
			request: patchBody(conferenceRoomRequestJSON{}), result: conferenceRoomJSON{},
			serve: updateHandler[conferenceRoomRequestJSON](&s.provision, "conference_id", ProvisioningService.UpdateConferenceRoom, toConferenceRoomJSON)},
		{method: "DELETE", path: "/conferences/{conference_id}", summary: "Delete a conference room", message: "Conference room deleted",
			description: "Frees the extension. Parties in the room stay connected to each other until they hang up.",
			result:      deletedJSON{}, serve: deleteByID(&s.provision, "conference_id", ProvisioningService.DeleteConferenceRoom)},
	}
}

// conferenceLiveRoutes act on the parties in a room now: they need the call engine.
func (s *Server) conferenceLiveRoutes() []resourceRoute {
	return []resourceRoute{
		{method: "GET", path: "/conferences/{conference_id}/participants", summary: "List the parties in a conference room now",
			message: "List of participants", result: []conferenceParticipantJSON{}, serve: s.listConferenceParticipants},
		{method: "POST", path: "/conferences/{conference_id}/participants/{participant_id}/mute", summary: "Mute a participant",
			message: "Participant muted", description: "The others stop hearing the participant, who still hears them (and may unmute with *6).",
			result: conferenceParticipantActionJSON{}, serve: s.conferenceParticipantAction("muted")},
		{method: "POST", path: "/conferences/{conference_id}/participants/{participant_id}/unmute", summary: "Unmute a participant",
			message: "Participant unmuted", result: conferenceParticipantActionJSON{}, serve: s.conferenceParticipantAction("unmuted")},
		{method: "POST", path: "/conferences/{conference_id}/participants/{participant_id}/kick", summary: "Remove a participant",
			message: "Participant removed", description: "Hangs up the participant's call; the others hear the leave tone.",
			result: conferenceParticipantActionJSON{}, serve: s.conferenceParticipantAction("kicked")},
	}
}

type conferenceRoomJSON struct {
	PK                int64  `json:"pk" doc:"Conference room ID"`
	Name              string `json:"name" doc:"Name"`
	Extension         string `json:"extension" doc:"Room number phones dial"`
	HasPIN            bool   `json:"has_pin" doc:"Whether callers must enter a PIN (the PIN itself is never shown)"`
	MaxParticipants   int    `json:"max_participants" doc:"Most parties at once; the next caller hears busy"`
	MuteOnJoin        bool   `json:"mute_on_join" doc:"Parties join muted (they unmute with *6)"`
	AnnounceJoinLeave bool   `json:"announce_join_leave" doc:"A tone for everyone when a party joins or leaves"`
	CreatedAt         string `json:"created_at" doc:"RFC 3339 time of creation"`
	UpdatedAt         string `json:"updated_at" doc:"RFC 3339 time of the last change"`
}

func toConferenceRoomJSON(r *switchboard.ConferenceRoom) conferenceRoomJSON {
	return conferenceRoomJSON{PK: r.ID, Name: r.Name, Extension: r.Extension, HasPIN: r.HasPIN(), MaxParticipants: r.MaxParticipants,
		MuteOnJoin: r.MuteOnJoin, AnnounceJoinLeave: r.AnnounceJoinLeave, CreatedAt: formatTime(r.CreatedAt), UpdatedAt: formatTime(r.UpdatedAt)}
}

// conferenceRoomRequestJSON is the body of POST and PATCH conferences: a field left out is
// "not given".
type conferenceRoomRequestJSON struct {
	Name              *string `json:"name" doc:"Name" create:"required"`
	Extension         *string `json:"extension" doc:"Room number, 2 to 8 digits, not used by a user, queue or ring group" create:"required"`
	PIN               *string `json:"pin" doc:"4 to 12 digits callers enter to join; empty = no PIN. Stored hashed, never shown" default:"no PIN"`
	MaxParticipants   *int    `json:"max_participants" doc:"2 to 200" default:"50"`
	MuteOnJoin        *bool   `json:"mute_on_join" doc:"Parties join muted" default:"false"`
	AnnounceJoinLeave *bool   `json:"announce_join_leave" doc:"Join and leave tones" default:"true"`
}

func (b conferenceRoomRequestJSON) change() switchboard.ConferenceRoomChange {
	return switchboard.ConferenceRoomChange{Name: b.Name, Extension: b.Extension, PIN: b.PIN, MaxParticipants: b.MaxParticipants,
		MuteOnJoin: b.MuteOnJoin, AnnounceJoinLeave: b.AnnounceJoinLeave}
}

type conferenceParticipantJSON struct {
	ParticipantID int64  `json:"participant_id" doc:"Participant ID, for mute, unmute and kick"`
	CallID        string `json:"call_id" doc:"The participant's call (uniqueid)"`
	Number        string `json:"number" doc:"The party's number or extension"`
	Name          string `json:"name" doc:"The party's caller name"`
	Muted         bool   `json:"muted" doc:"Whether the others hear the party"`
	JoinedAt      string `json:"joined_at" doc:"RFC 3339 time the party joined"`
}

type conferenceParticipantActionJSON struct {
	ParticipantID int64  `json:"participant_id" doc:"Participant ID"`
	Status        string `json:"status" doc:"muted, unmuted or kicked"`
}

func (s *Server) listConferenceParticipants(w http.ResponseWriter, r *http.Request, c *caller) (any, error) {
	id, err := pathID(r, "conference_id")
	if err != nil {
		return nil, err
	}
	parts, err := s.conferences.ConferenceParticipants(r.Context(), c.accountID, id)
	if err != nil {
		return nil, err
	}
	out := make([]conferenceParticipantJSON, 0, len(parts))
	for _, p := range parts {
		out = append(out, conferenceParticipantJSON{ParticipantID: p.ID, CallID: p.CallID, Number: p.Number, Name: p.Name,
			Muted: p.Muted, JoinedAt: formatTime(p.JoinedAt)})
	}
	return out, nil
}

func (s *Server) conferenceParticipantAction(status string) resultHandler {
	return func(w http.ResponseWriter, r *http.Request, c *caller) (any, error) {
		room, err := pathID(r, "conference_id")
		if err != nil {
			return nil, err
		}
		part, err := pathID(r, "participant_id")
		if err != nil {
			return nil, err
		}
		switch status {
		case "kicked":
			err = s.conferences.KickConferenceParticipant(r.Context(), c.accountID, room, part)
		default:
			err = s.conferences.MuteConferenceParticipant(r.Context(), c.accountID, room, part, status == "muted")
		}
		if err != nil {
			return nil, err
		}
		return conferenceParticipantActionJSON{ParticipantID: part, Status: status}, nil
	}
}
