package api

import (
	"net/http"

	"switchboard"
)

func (s *Server) settingsRoutes() []resourceRoute {
	return []resourceRoute{
		{method: "GET", path: "/settings", summary: "Account settings", message: "Account settings", result: settingsJSON{},
			serve: s.getSettings},
		{method: "PATCH", path: "/settings", summary: "Change account settings", message: "Account settings updated",
			request: settingsPatchJSON{}, result: settingsJSON{}, serve: s.patchSettings},
	}
}

func (s *Server) getSettings(w http.ResponseWriter, r *http.Request, c *caller) (any, error) {
	a, err := s.store.GetAccount(r.Context(), c.accountID)
	return rendered(a, err, toSettingsJSON)
}

// patchSettings changes the caller's own account.
func (s *Server) patchSettings(w http.ResponseWriter, r *http.Request, c *caller) (any, error) {
	var body settingsPatchJSON
	if err := decodeJSON(w, r, &body); err != nil {
		return nil, err
	}
	a, err := s.provision.UpdateAccount(r.Context(), c.accountID, body.change())
	return rendered(a, err, toSettingsJSON)
}

type settingsJSON struct {
	AccountID        int64    `json:"account_id" doc:"Account ID"`
	Name             string   `json:"name" doc:"Account name"`
	PublicEndpoints  bool     `json:"public_endpoints" doc:"Whether the no-key endpoints (availability online/offline, queue basics, queue availability) answer"`
	SIPDomain        string   `json:"sip_domain" doc:"The account's SIP domain (its phones register as user@sip_domain); empty when none"`
	MaxOutboundCalls int      `json:"max_outbound_calls" doc:"Concurrent outbound calls through trunks the account may have; 0 = no limit"`
	MaxOutMinutes    int      `json:"max_outbound_minutes_per_hour" doc:"Minutes of outbound trunk calls the account may use in any hour; 0 = no limit"`
	CountryCode      string   `json:"country_code" doc:"The account's country calling code (1, 44 …): calls within it always go out"`
	AllowedCountries []string `json:"allowed_countries" doc:"Other country calling codes outbound calls may reach; [\"*\"] = any; [] = none"`
	Language         string   `json:"language" doc:"The account's default language (en, de, pt-BR …): system prompts play in it"`
	// Recording and transcription (docs/recording.md).
	RecordingDefault         string `json:"recording_default" doc:"Recording policy of calls whose user, queue and number say \"\": none, inbound, outbound or all"`
	RecordingRetentionDays   int    `json:"recording_retention_days" doc:"Recordings are deleted this many days after they ended; 0 = kept"`
	RecordingConsentPromptID int64  `json:"recording_consent_prompt_id" doc:"Prompt played as the recording consent announcement; 0 = none"`
	TranscriptionEnabled     bool   `json:"transcription_enabled" doc:"Every recording is transcribed (needs a transcription engine on the server)"`
	RedactionEnabled         bool   `json:"redaction_enabled" doc:"Card numbers, national IDs, bank accounts and emails are masked in transcripts"`
}

type settingsPatchJSON struct {
	PublicEndpoints  *bool     `json:"public_endpoints" doc:"Enable or disable the no-key endpoints"`
	SIPDomain        *string   `json:"sip_domain" doc:"Set the account's SIP domain (a lowercase host name unique across accounts, e.g. acme.pbx.example); empty removes it"`
	MaxOutboundCalls *int      `json:"max_outbound_calls" doc:"Concurrent outbound trunk calls allowed, 0 (no limit) to 100000"`
	MaxOutMinutes    *int      `json:"max_outbound_minutes_per_hour" doc:"Outbound trunk minutes allowed in any hour, 0 (no limit) to 100000"`
	CountryCode      *string   `json:"country_code" doc:"The account's country calling code, 1 to 3 digits"`
	AllowedCountries *[]string `json:"allowed_countries" doc:"Replaces the list of other calling codes allowed; [\"*\"] allows every country"`
	Language         *string   `json:"language" doc:"The account's default language, a tag such as en, de or pt-BR; \"\" = en"`
	// Recording and transcription (docs/recording.md).
	RecordingDefault         *string `json:"recording_default" doc:"Default recording policy: none, inbound, outbound or all"`
	RecordingRetentionDays   *int    `json:"recording_retention_days" doc:"Days recordings are kept after they ended, 0 (kept) to 3650"`
	RecordingConsentPromptID *int64  `json:"recording_consent_prompt_id" doc:"A prompt of the account played as the consent announcement; 0 = none"`
	TranscriptionEnabled     *bool   `json:"transcription_enabled" doc:"Transcribe every recording; refused while no transcription engine is configured"`
	RedactionEnabled         *bool   `json:"redaction_enabled" doc:"Mask card numbers, national IDs, bank accounts and emails in transcripts"`
}

func toSettingsJSON(a *switchboard.Account) settingsJSON {
	allowed := a.AllowedCountries
	if allowed == nil {
		allowed = []string{}
	}
	return settingsJSON{AccountID: a.ID, Name: a.Name, PublicEndpoints: a.PublicEndpoints, SIPDomain: a.SIPDomain,
		MaxOutboundCalls: a.MaxOutboundCalls, MaxOutMinutes: a.MaxOutMinutes, CountryCode: a.HomeCountry(), AllowedCountries: allowed,
		Language:         a.SpokenLanguage(),
		RecordingDefault: a.RecordingPolicy(), RecordingRetentionDays: a.RecordingRetentionDays,
		RecordingConsentPromptID: a.RecordingConsentPromptID, TranscriptionEnabled: a.TranscriptionEnabled,
		RedactionEnabled: a.RedactionEnabled}
}

func (b settingsPatchJSON) change() switchboard.AccountChange {
	return switchboard.AccountChange{PublicEndpoints: b.PublicEndpoints, SIPDomain: b.SIPDomain, MaxOutboundCalls: b.MaxOutboundCalls,
		CountryCode: b.CountryCode, AllowedCountries: b.AllowedCountries, MaxOutMinutes: b.MaxOutMinutes,
		Language:         b.Language,
		RecordingDefault: b.RecordingDefault, RecordingRetentionDays: b.RecordingRetentionDays,
		RecordingConsentPromptID: b.RecordingConsentPromptID, TranscriptionEnabled: b.TranscriptionEnabled,
		RedactionEnabled: b.RedactionEnabled}
}
