package api

import (
	"net/http"

	"switchboard"
)

func (s *Server) apiKeyRoutes() []resourceRoute {
	return []resourceRoute{
		{method: "GET", path: "/api_keys", summary: "List API keys (prefixes only, never the keys; paged)", message: "List of API keys",
			result: []apiKeyJSON{}, query: pageQuery, serve: listPaged(&s.store, switchboard.Store.PageAPIKeys,
				func(k *switchboard.APIKey) int64 { return k.ID }, toAPIKeyJSON)},
		{method: "POST", path: "/api_keys", summary: "Create an API key (the key is shown once, in result.key)", message: "API key created",
			status: http.StatusCreated, request: createBody(apiKeyRequestJSON{}), result: apiKeyCreatedJSON{}, serve: s.createAPIKey},
		{method: "DELETE", path: "/api_keys/{key_id}", summary: "Revoke an API key (it stops working at once)", message: "API key revoked",
			result: deletedJSON{}, serve: deleteByID(&s.provision, "key_id", ProvisioningService.RevokeAPIKey)},
	}
}

func (s *Server) createAPIKey(w http.ResponseWriter, r *http.Request, c *caller) (any, error) {
	var body apiKeyRequestJSON
	if err := decodeJSON(w, r, &body); err != nil {
		return nil, err
	}
	k, plaintext, err := s.provision.CreateAPIKey(r.Context(), c.accountID, switchboard.APIKeyChange{
		Kind: switchboard.APIKeyKind(body.Kind), UserID: body.UserID, Name: body.Name, AllowedIPs: body.AllowedIPs})
	if err != nil {
		return nil, err
	}
	return apiKeyCreatedJSON{apiKeyJSON: toAPIKeyJSON(k), Key: plaintext}, nil
}

type apiKeyJSON struct {
	PK         int64    `json:"pk" doc:"Key ID"`
	Kind       string   `json:"kind" doc:"user or developer"`
	UserID     *int64   `json:"user_id" doc:"The user of a user key; null for developer keys"`
	Name       string   `json:"name" doc:"A label"`
	Prefix     string   `json:"prefix" doc:"The key's first characters, to tell keys apart"`
	AllowedIPs []string `json:"allowed_ips" doc:"Addresses or CIDRs the key may be used from; empty = anywhere"`
	CreatedAt  string   `json:"created_at" doc:"RFC 3339 time of creation"`
	RevokedAt  *string  `json:"revoked_at" doc:"RFC 3339 time of revocation; null while valid"`
}

// apiKeyCreatedJSON is a new key with its plaintext, shown only in the create response.
type apiKeyCreatedJSON struct {
	apiKeyJSON
	Key string `json:"key" doc:"The API key. Shown only in this response: store it now"`
}

func toAPIKeyJSON(k *switchboard.APIKey) apiKeyJSON {
	ips := k.AllowedIPs
	if ips == nil {
		ips = []string{}
	}
	return apiKeyJSON{PK: k.ID, Kind: string(k.Kind), UserID: nullableID(k.UserID), Name: k.Name, Prefix: k.Prefix,
		AllowedIPs: ips, CreatedAt: formatTime(k.CreatedAt), RevokedAt: nullableTime(k.RevokedAt)}
}

// apiKeyRequestJSON is the body of POST api_keys (a key is never changed, only revoked).
type apiKeyRequestJSON struct {
	Kind       string   `json:"kind" doc:"user or developer" create:"required"`
	UserID     int64    `json:"user_id" doc:"The user of a user key"`
	Name       string   `json:"name" doc:"A label, at most 100 characters"`
	AllowedIPs []string `json:"allowed_ips" doc:"Addresses or CIDRs the key may be used from; empty = anywhere"`
}
