package web

import (
	"net/http"
	"strings"

	"switchboard"
)

type keysData struct {
	Keys   []*switchboard.APIKey
	Users  []*switchboard.User
	NewKey string // shown once
}

func (h *Handler) keysData(r *http.Request, s *session) (*keysData, error) {
	keys, err := h.store.ListAPIKeys(r.Context(), s.Login.AccountID)
	if err != nil {
		return nil, err
	}
	users, err := h.store.ListUsers(r.Context(), s.Login.AccountID)
	return &keysData{Keys: keys, Users: users}, err
}

func (h *Handler) keysPage(w http.ResponseWriter, r *http.Request, s *session) {
	d, err := h.keysData(r, s)
	if err != nil {
		h.fail(w, r, "error", page{Title: "API keys", S: s}, err)
		return
	}
	h.render(w, r, http.StatusOK, "keys", page{Title: "API keys", S: s, Data: d})
}

// keyCreate creates a key through the provisioning service and shows it once.
func (h *Handler) keyCreate(w http.ResponseWriter, r *http.Request, s *session) {
	c := switchboard.APIKeyChange{Kind: switchboard.APIKeyKind(r.PostForm.Get("kind")), Name: strings.TrimSpace(r.PostForm.Get("name"))}
	if c.Kind == switchboard.KeyUser {
		c.UserID = formInt(r, "user_id")
	}
	c.AllowedIPs = strings.FieldsFunc(r.PostForm.Get("allowed_ips"), func(r rune) bool { return r == ',' || r == ' ' || r == '\n' || r == '\r' })
	_, plaintext, err := h.provision.CreateAPIKey(r.Context(), s.Login.AccountID, c)
	d, lerr := h.keysData(r, s)
	if lerr != nil {
		h.fail(w, r, "error", page{Title: "API keys", S: s}, lerr)
		return
	}
	p := page{Title: "API keys", S: s, Data: d}
	if err != nil {
		h.fail(w, r, "keys", p, err)
		return
	}
	d.NewKey, p.Notice = plaintext, "Key created. It is shown only now: store it safely."
	h.render(w, r, http.StatusOK, "keys", p)
}

func (h *Handler) keyRevoke(w http.ResponseWriter, r *http.Request, s *session) {
	if err := h.provision.RevokeAPIKey(r.Context(), s.Login.AccountID, pathID(r, "id")); err != nil {
		h.fail(w, r, "error", page{Title: "Revoke key", S: s}, err)
		return
	}
	http.Redirect(w, r, "/api-keys", http.StatusSeeOther)
}
