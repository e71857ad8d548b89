package web

import (
	"net/http"

	"github.com/pquerna/otp/totp"

	"switchboard"
)

// A user's own page: profile, forwarding, DND, voicemail — through the same provisioning
// call as the administrator's user page, on the session's own user only.

func (h *Handler) mePage(w http.ResponseWriter, r *http.Request, s *session) {
	if s.Login.UserID == 0 {
		http.Redirect(w, r, "/security", http.StatusSeeOther)
		return
	}
	u, err := h.store.GetUser(r.Context(), s.Login.AccountID, s.Login.UserID)
	if err != nil {
		h.fail(w, r, "error", page{Title: "My settings", S: s}, err)
		return
	}
	h.render(w, r, http.StatusOK, "me", page{Title: "My settings", S: s, Data: u})
}

func (h *Handler) meUpdate(w http.ResponseWriter, r *http.Request, s *session) {
	if s.Login.UserID == 0 {
		h.render(w, r, http.StatusNotFound, "notfound", page{Title: "Not found", S: s})
		return
	}
	c := userChangeFromForm(r)
	c.Extension = nil // a user cannot take another extension: that is the administrator's
	u, err := h.provision.UpdateUser(r.Context(), s.Login.AccountID, s.Login.UserID, c)
	if err != nil {
		cur, gerr := h.store.GetUser(r.Context(), s.Login.AccountID, s.Login.UserID)
		if gerr != nil {
			err = gerr
		}
		h.fail(w, r, "me", page{Title: "My settings", S: s, Data: cur}, err)
		return
	}
	h.render(w, r, http.StatusOK, "me", page{Title: "My settings", S: s, Data: u, Notice: "Saved."})
}

type securityData struct {
	HasTOTP bool
	// While turning TOTP on: the sealed secret (sent back with the code), its URL and QR.
	Sealed, URL, QR string
}

func (h *Handler) securityPage(w http.ResponseWriter, r *http.Request, s *session) {
	h.render(w, r, http.StatusOK, "security", page{Title: "Sign-in security", S: s, Data: securityData{HasTOTP: s.Login.TOTPSealed != ""}})
}

// passwordChange replaces the password after checking the current one; every session of
// the login (this one too) ends.
func (h *Handler) passwordChange(w http.ResponseWriter, r *http.Request, s *session) {
	p := page{Title: "Sign-in security", S: s, Data: securityData{HasTOTP: s.Login.TOTPSealed != ""}}
	if !checkPassword(s.Login.PasswordHash, r.PostForm.Get("current")) {
		h.fail(w, r, "security", p, switchboard.FieldError(switchboard.EBADREQUEST, "current", "is not your password"))
		return
	}
	next := r.PostForm.Get("new")
	if len(next) < minPasswordLen || len(next) > 200 {
		h.fail(w, r, "security", p, switchboard.FieldError(switchboard.EBADREQUEST, "new", "must be 10 to 200 characters"))
		return
	}
	if err := h.store.SetPortalPassword(r.Context(), s.Login.AccountID, s.Login.ID, HashPassword(next)); err != nil {
		h.fail(w, r, "security", p, err)
		return
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

// totpStart makes a secret and shows it; it is stored only once a code from it is typed.
func (h *Handler) totpStart(w http.ResponseWriter, r *http.Request, s *session) {
	p := page{Title: "Sign-in security", S: s, Data: securityData{HasTOTP: s.Login.TOTPSealed != ""}}
	if h.sealer == nil {
		h.fail(w, r, "security", p, switchboard.Errorf(switchboard.EUNAVAILABLE, "Two-factor sign-in needs the server key"))
		return
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: "Switchboard", AccountName: s.Login.Login})
	if err != nil {
		h.fail(w, r, "security", p, err)
		return
	}
	p.Data = securityData{Sealed: string(h.sealer.Seal(key.Secret())), URL: key.URL(), QR: qrDataURL(key.URL())}
	h.render(w, r, http.StatusOK, "security", p)
}

func (h *Handler) totpConfirm(w http.ResponseWriter, r *http.Request, s *session) {
	sealed := r.PostForm.Get("sealed")
	p := page{Title: "Sign-in security", S: s, Data: securityData{HasTOTP: s.Login.TOTPSealed != ""}}
	secret, err := h.openSealed(sealed)
	if err != nil || !totp.Validate(r.PostForm.Get("code"), secret) {
		h.fail(w, r, "security", p, switchboard.FieldError(switchboard.EBADREQUEST, "code", "does not match: start again"))
		return
	}
	if err := h.store.SetPortalTOTP(r.Context(), s.Login.AccountID, s.Login.ID, sealed); err != nil {
		h.fail(w, r, "security", p, err)
		return
	}
	p.Data, p.Notice = securityData{HasTOTP: true}, "Two-factor sign-in is on: from now on, sign in with a code too."
	h.render(w, r, http.StatusOK, "security", p)
}

func (h *Handler) openSealed(sealed string) (string, error) {
	if h.sealer == nil {
		return "", switchboard.Errorf(switchboard.EUNAVAILABLE, "no server key")
	}
	return h.sealer.Open([]byte(sealed))
}
