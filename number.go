package switchboard

import (
	"context"
	"time"
)

// Number is a phone number (DID) of the account.
type Number struct {
	ID                int64
	AccountID         int64
	Number            string // E.164
	FriendlyName      string
	SMSEnabled        bool
	MMSEnabled        bool
	OwnerUserID       int64 // 0 = none
	SMSAssignedUserID int64 // 0 = none
	Status            string
	AIAgentID         string
	Target            Target // where inbound calls to this number go
	// Language is what callers to this number hear system prompts in; "" = the account's.
	Language string
	// Recording is the policy of calls through this number (recording.go); "" = the
	// account's. RecordingConsentPromptID is the number's own consent announcement (0 = the
	// account's).
	Recording                string
	RecordingConsentPromptID int64
	CreatedAt                time.Time
}

// NumberStatuses are the statuses a number may have.
var NumberStatuses = map[string]bool{"active": true, "inactive": true, "porting": true, "suspended": true}

// Validate checks the number's fields.
func (n *Number) Validate() error {
	v := ValidationErrors{}
	if !ValidE164(n.Number) {
		v.Add("number", "must be an E.164 number such as +15551234567")
	}
	if len(n.FriendlyName) > 100 {
		v.Add("friendly_name", "must be at most 100 characters")
	}
	if n.MMSEnabled && !n.SMSEnabled {
		v.Add("mms_enabled", "requires sms_enabled")
	}
	if !NumberStatuses[n.Status] {
		v.Add("status", "must be one of active, inactive, porting, suspended")
	}
	if err := n.Target.Validate(); err != "" {
		v.Add("target", err)
	}
	if n.Language != "" && !ValidLanguage(n.Language) {
		v.Add("language", languageProblem)
	}
	if !ValidRecordingPolicy(n.Recording, true) {
		v.Add("recording", RecordingPolicyProblem)
	}
	if n.RecordingConsentPromptID < 0 {
		v.Add("recording_consent_prompt_id", "must be a prompt id, or 0 for the account's")
	}
	return v.Err()
}

// NumberFilter narrows ListNumbers; zero fields match everything.
type NumberFilter struct {
	Number            string
	OwnerUserID       int64
	Status            string
	SMSAssignedUserID int64
	AIAgentID         string
	// AssignedToUserID matches numbers the user owns or is SMS-assigned to (the /user/numbers view).
	AssignedToUserID int64
}

// NumberChange is a create or a PATCH of a number as the API received it: a nil field is
// "not given" (left as it is on PATCH, defaulted on create). Number and Target's number are as
// typed; they are stored E.164. A number's Number is set only on create.
type NumberChange struct {
	Number                   *string
	FriendlyName             *string
	SMSEnabled               *bool
	MMSEnabled               *bool
	OwnerUserID              *int64 // 0 = none
	SMSAssignedUserID        *int64 // 0 = none
	Status                   *string
	AIAgentID                *string
	Target                   *TargetChange
	Language                 *string // "" = the account's language
	Recording                *string // "" = the account's policy
	RecordingConsentPromptID *int64  // 0 = the account's announcement
	// CallFlowID routes the number to the account's call flow: its Target becomes
	// {callflow, id}; 0 clears a flow target (calls then have no target). Given together
	// with Target it is refused.
	CallFlowID *int64
}

// NumberService provisions phone numbers. provision.Service implements it.
type NumberService interface {
	CreateNumber(ctx context.Context, accountID int64, c NumberChange) (*Number, error)
	UpdateNumber(ctx context.Context, accountID, id int64, c NumberChange) (*Number, error)
	DeleteNumber(ctx context.Context, accountID, id int64) error
}

// PromptLanguage is the language callers to the number hear system prompts in: the
// number's own, else its account's (account may be nil: then DefaultLanguage).
func (n *Number) PromptLanguage(account *Account) string {
	if n.Language != "" {
		return n.Language
	}
	if account == nil {
		return DefaultLanguage
	}
	return account.SpokenLanguage()
}
