package web

import (
	"errors"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"
)

var funcs = template.FuncMap{
	"when":  when,
	"join":  strings.Join,
	"int64": func(i int64) string { return strconv.FormatInt(i, 10) },
	"agentForm": func(action, csrf string, a agentRow, d *agentsData) agentForm {
		return agentForm{Action: action, CSRF: csrf, Agent: a, Reasons: d.Reasons, States: d.States, Self: d.Self}
	},
	"seconds": func(ms int64) string { return strconv.FormatFloat(float64(ms)/1000, 'f', 1, 64) },
	"int64ms": func(ms int) int64 { return int64(ms) },
}

func (h *Handler) loginPage(w http.ResponseWriter, r *http.Request) {
	if h.sessionOf(r) != nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	h.render(w, r, http.StatusOK, "login", page{Title: "Sign in", Data: loginData{Next: safeNext(r.URL.Query().Get("next"))}})
}

type loginData struct{ Login, Next string }

// safeNext keeps a redirect after sign-in on this site: a local path only.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || len(next) > 500 {
		return "/"
	}
	return next
}

func (h *Handler) loginPost(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		h.render(w, r, http.StatusRequestEntityTooLarge, "login", page{Title: "Sign in", Error: "The form is too large."})
		return
	}
	data := loginData{Login: r.PostFormValue("login"), Next: safeNext(r.PostFormValue("next"))}
	if !h.checkCSRF(r, nil) {
		h.render(w, r, http.StatusForbidden, "login", page{Title: "Sign in", Error: "This form did not come from this portal.", Data: data})
		return
	}
	token, err := h.signIn(r.Context(), data.Login, r.PostFormValue("password"), r.PostFormValue("code"), h.clientIP(r))
	switch {
	case errors.Is(err, errThrottled):
		h.render(w, r, http.StatusTooManyRequests, "login", page{Title: "Sign in", Error: "Too many failed sign-ins: wait 15 minutes and try again.", Data: data})
		return
	case errors.Is(err, errSignIn):
		h.render(w, r, http.StatusUnauthorized, "login", page{Title: "Sign in", Error: "Wrong login, password or code.", Data: data})
		return
	case err != nil:
		h.fail(w, r, "login", page{Title: "Sign in", Data: data}, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", HttpOnly: true, Secure: h.secure || r.TLS != nil,
		SameSite: http.SameSiteLaxMode, MaxAge: int(sessionTTL.Seconds())})
	http.Redirect(w, r, data.Next, http.StatusSeeOther)
}

// logout revokes the session in the store, so that the cookie, replayed, signs nobody in.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request, s *session) {
	if err := h.store.RevokePortalSession(r.Context(), s.ID); err != nil {
		h.fail(w, r, "error", page{Title: "Sign out", S: s}, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", HttpOnly: true, Secure: h.secure || r.TLS != nil,
		SameSite: http.SameSiteLaxMode, MaxAge: -1})
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (h *Handler) home(w http.ResponseWriter, r *http.Request, s *session) {
	if !s.Admin() {
		http.Redirect(w, r, "/me", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/users", http.StatusSeeOther)
}

// when is a time as the portal shows it (UTC), "—" for none.
func when(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05")
}
