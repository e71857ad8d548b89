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
	AccountID       int64  `json:"account_id" doc:"Account ID"`
	Name            string `json:"name" doc:"Account name"`
	PublicEndpoints bool   `json:"public_endpoints" doc:"Whether the no-key endpoints (availability online/offline, queue basics, queue availability) answer"`
	SIPDomain       string `json:"sip_domain" doc:"The account's SIP domain (its phones register as user@sip_domain); empty when none"`
}

type settingsPatchJSON struct {
	PublicEndpoints *bool   `json:"public_endpoints" doc:"Enable or disable the no-key endpoints"`
	SIPDomain       *string `json:"sip_domain" doc:"Set the account's SIP domain (a lowercase host name unique across accounts, e.g. acme.pbx.example); empty removes it"`
}

func toSettingsJSON(a *switchboard.Account) settingsJSON {
	return settingsJSON{AccountID: a.ID, Name: a.Name, PublicEndpoints: a.PublicEndpoints, SIPDomain: a.SIPDomain}
}

func (b settingsPatchJSON) change() switchboard.AccountChange {
	return switchboard.AccountChange{PublicEndpoints: b.PublicEndpoints, SIPDomain: b.SIPDomain}
}
