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
	d, err := h.meData(r, s)
	if err != nil {
		h.fail(w, r, "error", page{Title: "My settings", S: s}, err)
		return
	}
	h.render(w, r, http.StatusOK, "me", page{Title: "My settings", S: s, Data: d})
}

type meData struct {
	*switchboard.User
	Box    *switchboard.VoicemailBox // nil when voicemail is not available here
	Agents *agentsData               // the user's queues and agent state; no Agents when in none
}

// meData reads the session's user and their voicemail box (created with the defaults on
// first use, as a call or *97 would).
func (h *Handler) meData(r *http.Request, s *session) (*meData, error) {
	u, err := h.store.GetUser(r.Context(), s.Login.AccountID, s.Login.UserID)
	if err != nil {
		return nil, err
	}
	d := &meData{User: u}
	if d.Agents, err = h.agents(r.Context(), s.Login.AccountID, u.ID); err != nil {
		return nil, err
	}
	if box, err := h.provision.UserVoicemailBox(r.Context(), s.Login.AccountID, s.Login.UserID); err == nil {
		d.Box = box
	}
	return d, nil
}

// meVoicemail changes the user's own box: PIN (when typed), when calls go to it, email.
func (h *Handler) meVoicemail(w http.ResponseWriter, r *http.Request, s *session) {
	if s.Login.UserID == 0 {
		h.render(w, r, http.StatusNotFound, "notfound", page{Title: "Not found", S: s})
		return
	}
	box, err := h.provision.UserVoicemailBox(r.Context(), s.Login.AccountID, s.Login.UserID)
	if err == nil {
		c := switchboard.VoicemailBoxChange{OnNoAnswer: formBool(r, "on_no_answer"), OnBusy: formBool(r, "on_busy"),
			OnDND: formBool(r, "on_dnd"), OnOffline: formBool(r, "on_offline"), Email: formBool(r, "email_notify"), EmailAttach: formBool(r, "email_attach")}
		if pin := formString(r, "pin"); pin != nil && *pin != "" {
			c.PIN = pin
		}
		_, err = h.provision.UpdateVoicemailBox(r.Context(), s.Login.AccountID, box.ID, c)
	}
	d, derr := h.meData(r, s)
	if derr != nil {
		h.fail(w, r, "error", page{Title: "My settings", S: s}, derr)
		return
	}
	p := page{Title: "My settings", S: s, Data: d}
	if err != nil {
		h.fail(w, r, "me", p, err)
		return
	}
	p.Notice = "Voicemail settings saved."
	h.render(w, r, http.StatusOK, "me", p)
}

func (h *Handler) meUpdate(w http.ResponseWriter, r *http.Request, s *session) {
	if s.Login.UserID == 0 {
		h.render(w, r, http.StatusNotFound, "notfound", page{Title: "Not found", S: s})
		return
	}
	c := userChangeFromForm(r)
	c.Extension = nil // a user cannot take another extension: that is the administrator's
	_, err := h.provision.UpdateUser(r.Context(), s.Login.AccountID, s.Login.UserID, c)
	d, derr := h.meData(r, s)
	if derr != nil {
		h.fail(w, r, "error", page{Title: "My settings", S: s}, derr)
		return
	}
	p := page{Title: "My settings", S: s, Data: d}
	if err != nil {
		h.fail(w, r, "me", p, err)
		return
	}
	p.Notice = "Saved."
	h.render(w, r, http.StatusOK, "me", p)
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
