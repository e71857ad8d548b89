package api

import (
	"net/http"

	"switchboard"
)

func (s *Server) numberRoutes() []resourceRoute {
	return []resourceRoute{
		{method: "POST", path: "/numbers", summary: "Add a number", message: "Number created", status: http.StatusCreated,
			request: createBody(numberRequestJSON{}), result: numberJSON{},
			serve: createHandler[numberRequestJSON](&s.provision, ProvisioningService.CreateNumber, toNumberJSON)},
		{method: "GET", path: "/numbers/{number_id}", summary: "Get a number", message: "Number details", result: numberJSON{},
			serve: getByID(&s.store, "number_id", switchboard.Store.GetNumber, toNumberJSON)},
		{method: "PATCH", path: "/numbers/{number_id}", summary: "Change a number (only the fields given)", message: "Number updated",
			request: patchBody(numberRequestJSON{}), result: numberJSON{},
			serve: updateHandler[numberRequestJSON](&s.provision, "number_id", ProvisioningService.UpdateNumber, toNumberJSON)},
		{method: "DELETE", path: "/numbers/{number_id}", summary: "Delete a number", message: "Number deleted", result: deletedJSON{},
			serve: deleteByID(&s.provision, "number_id", ProvisioningService.DeleteNumber)},
	}
}

type numberJSON struct {
	PK                       int64      `json:"pk" doc:"Number ID"`
	Number                   string     `json:"number" doc:"Phone number in E.164 format"`
	FriendlyName             string     `json:"friendly_name" doc:"User-friendly display name"`
	SMSEnabled               bool       `json:"sms_enabled" doc:"Whether SMS is enabled for this number"`
	MMSEnabled               bool       `json:"mms_enabled" doc:"Whether MMS is enabled for this number"`
	OwnerID                  *int64     `json:"owner_id" doc:"The user who owns the number; null when none"`
	SMSAssignedUserID        *int64     `json:"sms_assigned_user_id" doc:"The user who handles its SMS; null when none"`
	Status                   string     `json:"status" doc:"active, inactive, porting, suspended"`
	AIAgentID                *string    `json:"ai_agent_id" doc:"The AI agent assigned; null when none"`
	Target                   targetJSON `json:"target" doc:"Where inbound calls go"`
	Language                 string     `json:"language" doc:"The language callers to this number hear system prompts in; \"\" = the account's"`
	CallFlowID               *int64     `json:"callflow_id" doc:"The call flow inbound calls run (target type callflow); null when none"`
	CreatedAt                string     `json:"created_at" doc:"RFC 3339 time of creation"`
	Recording                string     `json:"recording" doc:"Recording policy of calls through this number: none, inbound, outbound or all; \"\" = the account's recording_default"`
	RecordingConsentPromptID int64      `json:"recording_consent_prompt_id" doc:"Consent announcement prompt of this number; 0 = the account's"`
}

func toNumberJSON(n *switchboard.Number) numberJSON {
	return numberJSON{PK: n.ID, Number: n.Number, FriendlyName: n.FriendlyName, SMSEnabled: n.SMSEnabled,
		MMSEnabled: n.MMSEnabled, OwnerID: nullableID(n.OwnerUserID), SMSAssignedUserID: nullableID(n.SMSAssignedUserID),
		Status: n.Status, AIAgentID: nullableString(n.AIAgentID), Target: toTargetJSON(n.Target), CallFlowID: numberCallFlow(n), CreatedAt: formatTime(n.CreatedAt),
		Language: n.Language, Recording: n.Recording, RecordingConsentPromptID: n.RecordingConsentPromptID}
}

// numberCallFlow is the number's call flow id, nil when it routes elsewhere.
func numberCallFlow(n *switchboard.Number) *int64 {
	if n.Target.Type != switchboard.TargetCallFlow {
		return nil
	}
	return nullableID(n.Target.ID)
}

// numberRequestJSON is the body of POST and PATCH numbers: a field left out is "not given".
// PATCH cannot change the number itself.
type numberRequestJSON struct {
	Number                   *string     `json:"number" doc:"The number, any form a phone number is written in; stored E.164" create:"required" patch:"-"`
	FriendlyName             *string     `json:"friendly_name" doc:"Display name"`
	SMSEnabled               *bool       `json:"sms_enabled" doc:"SMS enabled"`
	MMSEnabled               *bool       `json:"mms_enabled" doc:"MMS enabled (needs sms_enabled)"`
	OwnerID                  *int64      `json:"owner_id" doc:"Owner user ID; 0 = none (clears it)"`
	SMSAssignedUserID        *int64      `json:"sms_assigned_user_id" doc:"SMS-assigned user ID; 0 = none (clears it)"`
	Status                   *string     `json:"status" doc:"active, inactive, porting, suspended" default:"active"`
	AIAgentID                *string     `json:"ai_agent_id" doc:"AI agent ID; \"\" = none (clears it)"`
	Target                   *targetJSON `json:"target" doc:"Where inbound calls go" create:"nullable"`
	Language                 *string     `json:"language" doc:"Language of system prompts for callers to this number (en, de, pt-BR …); \"\" = the account's"`
	CallFlowID               *int64      `json:"callflow_id" doc:"Route inbound calls to this call flow (sets target to {type: callflow, id}); 0 clears a flow target. Not with target."`
	Recording                *string     `json:"recording" doc:"Recording policy of calls through this number: none, inbound, outbound or all; \"\" = the account's recording_default" default:""`
	RecordingConsentPromptID *int64      `json:"recording_consent_prompt_id" doc:"A prompt of the account played as this number's consent announcement; 0 = the account's" default:"0"`
}

func (b numberRequestJSON) change() switchboard.NumberChange {
	return switchboard.NumberChange{Number: b.Number, FriendlyName: b.FriendlyName, SMSEnabled: b.SMSEnabled,
		MMSEnabled: b.MMSEnabled, OwnerUserID: b.OwnerID, SMSAssignedUserID: b.SMSAssignedUserID, Status: b.Status,
		AIAgentID: b.AIAgentID, Target: b.Target.target(), Language: b.Language, CallFlowID: b.CallFlowID,
		Recording: b.Recording, RecordingConsentPromptID: b.RecordingConsentPromptID}
}
