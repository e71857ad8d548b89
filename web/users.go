package web

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"

	"switchboard"
)

// pathID is the {id} of the URL; a malformed id is simply not found.
func pathID(r *http.Request, name string) int64 {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || id <= 0 {
		return -1
	}
	return id
}

// formString is a trimmed form value, or nil when the field was not in the form.
func formString(r *http.Request, name string) *string {
	if _, ok := r.PostForm[name]; !ok {
		return nil
	}
	v := strings.TrimSpace(r.PostForm.Get(name))
	return &v
}

// formBool reads a checkbox; hidden "name_present" fields say the box was on the form.
func formBool(r *http.Request, name string) *bool {
	if _, ok := r.PostForm[name+"_present"]; !ok {
		return nil
	}
	v := r.PostForm.Get(name) == "on"
	return &v
}

type userRow struct {
	*switchboard.User
	Online bool
	Calls  int
}

func (h *Handler) userRows(ctx context.Context, accountID int64) ([]userRow, error) {
	users, err := h.store.ListUsers(ctx, accountID)
	if err != nil {
		return nil, err
	}
	rows := make([]userRow, len(users))
	for i, u := range users {
		online, ch := h.live.UserPresence(u.AccountID, u.ID)
		rows[i] = userRow{User: u, Online: online, Calls: len(ch)}
	}
	return rows, nil
}

func (h *Handler) usersPage(w http.ResponseWriter, r *http.Request, s *session) {
	rows, err := h.userRows(r.Context(), s.Login.AccountID)
	if err != nil {
		h.fail(w, r, "error", page{Title: "Users", S: s}, err)
		return
	}
	h.render(w, r, http.StatusOK, "users", page{Title: "Users", S: s, Data: rows})
}

func userChangeFromForm(r *http.Request) switchboard.UserChange {
	return switchboard.UserChange{
		Extension: formString(r, "extension"), FirstName: formString(r, "first_name"), LastName: formString(r, "last_name"),
		Email: formString(r, "email"), CallerIDName: formString(r, "caller_id_name"), ForwardNumber: formString(r, "forward_number"),
		ForwardEnabled: formBool(r, "forward_enabled"), DoNotDisturb: formBool(r, "dnd"), VoicemailEnabled: formBool(r, "voicemail_enabled"),
	}
}

func (h *Handler) userCreate(w http.ResponseWriter, r *http.Request, s *session) {
	u, err := h.provision.CreateUser(r.Context(), s.Login.AccountID, userChangeFromForm(r))
	if err != nil {
		rows, _ := h.userRows(r.Context(), s.Login.AccountID)
		h.fail(w, r, "users", page{Title: "Users", S: s, Data: rows}, err)
		return
	}
	http.Redirect(w, r, "/users/"+strconv.FormatInt(u.ID, 10), http.StatusSeeOther)
}

type userDetail struct {
	User    *switchboard.User
	Online  bool
	Devices []*switchboard.Device
	Logins  []*switchboard.PortalLogin
	// Shown once, right after creation:
	NewDevice   *switchboard.Device
	NewPassword string
	Config      string
	QR          string // data: URL of a PNG, "" when none
	NewLogin    *switchboard.PortalLogin
}

func (h *Handler) loadUser(r *http.Request, s *session, id int64) (*userDetail, error) {
	u, err := h.store.GetUser(r.Context(), s.Login.AccountID, id)
	if err != nil {
		return nil, err
	}
	devices, err := h.store.ListDevices(r.Context(), s.Login.AccountID, u.ID)
	if err != nil {
		return nil, err
	}
	logins, err := h.store.ListPortalLogins(r.Context(), s.Login.AccountID)
	if err != nil {
		return nil, err
	}
	d := &userDetail{User: u, Devices: devices}
	for _, l := range logins {
		if l.UserID == u.ID {
			d.Logins = append(d.Logins, l)
		}
	}
	d.Online, _ = h.live.UserPresence(u.AccountID, u.ID)
	return d, nil
}

func (h *Handler) userPage(w http.ResponseWriter, r *http.Request, s *session) {
	d, err := h.loadUser(r, s, pathID(r, "id"))
	if err != nil {
		h.fail(w, r, "error", page{Title: "User", S: s}, err)
		return
	}
	h.render(w, r, http.StatusOK, "user", page{Title: "User " + d.User.Extension, S: s, Data: d})
}

func (h *Handler) userUpdate(w http.ResponseWriter, r *http.Request, s *session) {
	id := pathID(r, "id")
	_, err := h.provision.UpdateUser(r.Context(), s.Login.AccountID, id, userChangeFromForm(r))
	h.afterUserChange(w, r, s, id, err, "Saved.")
}

// afterUserChange shows the user's page again, with err or notice.
func (h *Handler) afterUserChange(w http.ResponseWriter, r *http.Request, s *session, id int64, err error, notice string) {
	d, lerr := h.loadUser(r, s, id)
	if lerr != nil {
		h.fail(w, r, "error", page{Title: "User", S: s}, lerr)
		return
	}
	p := page{Title: "User " + d.User.Extension, S: s, Data: d}
	if err != nil {
		h.fail(w, r, "user", p, err)
		return
	}
	p.Notice = notice
	h.render(w, r, http.StatusOK, "user", p)
}

func (h *Handler) userDelete(w http.ResponseWriter, r *http.Request, s *session) {
	if err := h.provision.DeleteUser(r.Context(), s.Login.AccountID, pathID(r, "id")); err != nil {
		h.fail(w, r, "error", page{Title: "Delete user", S: s}, err)
		return
	}
	http.Redirect(w, r, "/users", http.StatusSeeOther)
}

// deviceCreate adds a device and shows its SIP password once, with a softphone config.
func (h *Handler) deviceCreate(w http.ResponseWriter, r *http.Request, s *session) {
	userID := pathID(r, "id")
	c := switchboard.DeviceChange{Name: formString(r, "name")}
	if u := formString(r, "sip_username"); u != nil && *u != "" {
		c.SIPUsername = u
	}
	dev, password, err := h.provision.CreateDevice(r.Context(), s.Login.AccountID, userID, c)
	if err != nil {
		h.afterUserChange(w, r, s, userID, err, "")
		return
	}
	d, err := h.loadUser(r, s, userID)
	if err != nil {
		h.fail(w, r, "error", page{Title: "User", S: s}, err)
		return
	}
	d.NewDevice, d.NewPassword = dev, password
	d.Config = h.softphoneConfig(r, dev, password)
	d.QR = qrDataURL(d.Config)
	h.render(w, r, http.StatusOK, "user", page{Title: "User " + d.User.Extension, S: s, Data: d,
		Notice: "Device created. Its SIP password is shown only now: copy it into the phone."})
}

// softphoneConfig is the text a softphone needs: server, user and password (a SIP URI
// line that baresip and most softphones accept, and the fields spelled out).
func (h *Handler) softphoneConfig(r *http.Request, d *switchboard.Device, password string) string {
	host := r.Host
	if name, _, err := net.SplitHostPort(r.Host); err == nil {
		host = name
	}
	server := host
	if h.sipServer != nil {
		if addr := h.sipServer(); addr != "" {
			server = addr
			if ip, port, err := net.SplitHostPort(addr); err == nil {
				if a, err := netip.ParseAddr(ip); err == nil && a.IsUnspecified() {
					server = net.JoinHostPort(host, port)
				}
			}
		}
	}
	domain := host
	if a, err := h.store.GetAccount(r.Context(), d.AccountID); err == nil && a.SIPDomain != "" {
		domain = a.SIPDomain
	}
	return "SIP server: " + server + "\nDomain: " + domain + "\nUsername: " + d.SIPUsername + "\nPassword: " + password +
		"\n\nbaresip account line:\n<sip:" + d.SIPUsername + "@" + domain + ">;auth_pass=" + password + ";outbound=\"sip:" + server + "\";regint=60"
}

func (h *Handler) deviceDelete(w http.ResponseWriter, r *http.Request, s *session) {
	dev, err := h.store.GetDevice(r.Context(), s.Login.AccountID, pathID(r, "id"))
	if err == nil {
		err = h.provision.DeleteDevice(r.Context(), s.Login.AccountID, dev.ID)
	}
	if err != nil {
		h.fail(w, r, "error", page{Title: "Delete device", S: s}, err)
		return
	}
	http.Redirect(w, r, "/users/"+strconv.FormatInt(dev.UserID, 10), http.StatusSeeOther)
}

// userLoginCreate gives the user a portal login; its generated password is shown once.
func (h *Handler) userLoginCreate(w http.ResponseWriter, r *http.Request, s *session) {
	userID := pathID(r, "id")
	if _, err := h.store.GetUser(r.Context(), s.Login.AccountID, userID); err != nil {
		h.fail(w, r, "error", page{Title: "User", S: s}, err)
		return
	}
	l, password, err := Logins{Store: h.store}.Create(r.Context(), s.Login.AccountID, r.PostForm.Get("login"), switchboard.PortalUser, userID, "")
	if err != nil {
		h.afterUserChange(w, r, s, userID, err, "")
		return
	}
	d, err := h.loadUser(r, s, userID)
	if err != nil {
		h.fail(w, r, "error", page{Title: "User", S: s}, err)
		return
	}
	d.NewLogin, d.NewPassword = l, password
	h.render(w, r, http.StatusOK, "user", page{Title: "User " + d.User.Extension, S: s, Data: d,
		Notice: "Portal login created. Its password is shown only now."})
}

func (h *Handler) loginDelete(w http.ResponseWriter, r *http.Request, s *session) {
	if err := h.store.DeletePortalLogin(r.Context(), s.Login.AccountID, pathID(r, "id")); err != nil {
		h.fail(w, r, "error", page{Title: "Delete login", S: s}, err)
		return
	}
	http.Redirect(w, r, safeNext(r.PostForm.Get("next")), http.StatusSeeOther)
}
