package api

import (
	"context"
	"net/http"
	"strconv"

	"switchboard"
)

// Voicemail routes: boxes (developer keys; a user key reads and changes its own box) and
// messages (developer keys, or a user key for the messages of its own box). The audio of a
// message also answers a signed link (?expires=&sig=) without any key: the link of the
// voicemail.left event and of voicemail emails.
func (s *Server) voicemailRoutes() {
	tag := "Voicemail"
	dev := func(rt route, h apiHandler) {
		rt.Access, rt.Needs, rt.Tag = accessDeveloper, needsVoicemail, tag
		s.handleAPI(rt, h)
	}
	own := func(rt route, h apiHandler) {
		rt.Access, rt.Needs, rt.Tag = accessUserOrDeveloper, needsVoicemail, tag
		s.handleAPI(rt, h)
	}
	dev(route{Method: "GET", Path: "/voicemail/boxes", Summary: "List voicemail boxes (paged)", Message: "List of voicemail boxes",
		Description: "Every user's box (created when first needed) and the shared boxes.", Result: []voicemailBoxJSON{}, Query: pageQuery},
		s.resultOf("List of voicemail boxes", listPaged(&s.store, switchboard.Store.PageVoicemailBoxes, func(b *switchboard.VoicemailBox) int64 { return b.ID }, toVoicemailBoxJSON)))
	dev(route{Method: "POST", Path: "/voicemail/boxes", Summary: "Create a shared voicemail box", Message: "Voicemail box created",
		Status: http.StatusCreated, Request: voicemailBoxBody{}, Result: voicemailBoxJSON{}}, s.createVoicemailBox)
	own(route{Method: "GET", Path: "/voicemail/boxes/{box_id}", Summary: "Get a voicemail box", Message: "Voicemail box details",
		Result: voicemailBoxJSON{}}, s.getVoicemailBox)
	own(route{Method: "PATCH", Path: "/voicemail/boxes/{box_id}", Summary: "Change a voicemail box", Message: "Voicemail box updated",
		Description: "pin: 4 to 10 digits, \"\" for none; it is stored hashed and never shown.",
		Request:     voicemailBoxBody{}, Result: voicemailBoxJSON{}}, s.patchVoicemailBox)
	dev(route{Method: "DELETE", Path: "/voicemail/boxes/{box_id}", Summary: "Delete a voicemail box and its messages",
		Message: "Voicemail box deleted", Result: deletedJSON{}}, s.deleteVoicemailBox)
	own(route{Method: "PUT", Path: "/voicemail/boxes/{box_id}/greeting", Summary: "Upload a voicemail box's greeting",
		Message: "Voicemail box updated", Description: "Callers hear it before the beep in place of the default greeting. " + musicUploadRules,
		Request: audioUploadBody{}, Result: voicemailBoxJSON{}}, s.putVoicemailGreeting)
	own(route{Method: "DELETE", Path: "/voicemail/boxes/{box_id}/greeting", Summary: "Go back to the default greeting",
		Message: "Voicemail box updated", Result: voicemailBoxJSON{}}, s.deleteVoicemailGreeting)
	own(route{Method: "GET", Path: "/voicemail/boxes/{box_id}/messages", Summary: "List a box's messages (paged)",
		Message: "List of voicemail messages", Result: []voicemailMessageJSON{},
		Query: append([]queryParam{{"status", "new (unread) or read; all when absent"}}, pageQuery...)}, s.listVoicemailMessages)
	own(route{Method: "GET", Path: "/voicemail/messages/{message_id}", Summary: "Get a voicemail message", Message: "Voicemail message details",
		Result: voicemailMessageJSON{}}, s.getVoicemailMessage)
	own(route{Method: "PATCH", Path: "/voicemail/messages/{message_id}", Summary: "Mark a voicemail message read",
		Message: "Voicemail message updated", Request: voicemailMessagePatch{}, Result: voicemailMessageJSON{}}, s.patchVoicemailMessage)
	own(route{Method: "DELETE", Path: "/voicemail/messages/{message_id}", Summary: "Delete a voicemail message",
		Message: "Voicemail message deleted", Result: deletedJSON{}}, s.deleteVoicemailMessage)
	s.voicemailAudioRoute(tag)
}

type voicemailBoxJSON struct {
	PK                int64  `json:"pk" doc:"Voicemail box ID"`
	UserID            *int64 `json:"user_id" doc:"The box's user; null for a shared box"`
	Name              string `json:"name" doc:"Box name"`
	HasPIN            bool   `json:"has_pin" doc:"Whether a PIN guards listening by phone"`
	Greeting          string `json:"greeting" doc:"default, or uploaded"`
	MaxMessageSeconds int    `json:"max_message_seconds" doc:"Longest message recorded"`
	MaxMessages       int    `json:"max_messages" doc:"Messages kept at most (new and read)"`
	OnNoAnswer        bool   `json:"on_no_answer" doc:"Unanswered direct calls go to voicemail"`
	OnBusy            bool   `json:"on_busy" doc:"Calls while the user is busy go to voicemail"`
	OnDND             bool   `json:"on_dnd" doc:"Calls while on do not disturb go to voicemail"`
	OnOffline         bool   `json:"on_offline" doc:"Calls while no phone is registered go to voicemail"`
	Email             bool   `json:"voicemail_email" doc:"New messages are emailed to the user"`
	EmailAttach       bool   `json:"attach" doc:"The email carries the WAV (else a signed link)"`
	CreatedAt         string `json:"created_at" doc:"RFC 3339 time of creation"`
	UpdatedAt         string `json:"updated_at" doc:"RFC 3339 time of the last change"`
}

func toVoicemailBoxJSON(b *switchboard.VoicemailBox) voicemailBoxJSON {
	greeting := "default"
	if b.GreetingKey != "" {
		greeting = "uploaded"
	}
	j := voicemailBoxJSON{PK: b.ID, Name: b.Name, HasPIN: b.PINHash != "", Greeting: greeting, MaxMessageSeconds: b.MaxMessageSeconds,
		MaxMessages: b.MaxMessages, OnNoAnswer: b.OnNoAnswer, OnBusy: b.OnBusy, OnDND: b.OnDND, OnOffline: b.OnOffline,
		Email: b.Email, EmailAttach: b.EmailAttach, CreatedAt: formatTime(b.CreatedAt), UpdatedAt: formatTime(b.UpdatedAt)}
	if b.UserID != 0 {
		id := b.UserID
		j.UserID = &id
	}
	return j
}

type voicemailBoxBody struct {
	Name              *string `json:"name,omitempty" doc:"Box name"`
	PIN               *string `json:"pin,omitempty" doc:"4 to 10 digits; \"\" removes the PIN"`
	MaxMessageSeconds *int    `json:"max_message_seconds,omitempty" doc:"5 to 600"`
	MaxMessages       *int    `json:"max_messages,omitempty" doc:"1 to 1000"`
	OnNoAnswer        *bool   `json:"on_no_answer,omitempty" doc:"Unanswered direct calls go to voicemail"`
	OnBusy            *bool   `json:"on_busy,omitempty" doc:"Busy: voicemail"`
	OnDND             *bool   `json:"on_dnd,omitempty" doc:"Do not disturb: voicemail"`
	OnOffline         *bool   `json:"on_offline,omitempty" doc:"No registered phone: voicemail"`
	Email             *bool   `json:"voicemail_email,omitempty" doc:"Email new messages to the user"`
	EmailAttach       *bool   `json:"attach,omitempty" doc:"Attach the WAV (else a signed link)"`
}

func (b voicemailBoxBody) change() switchboard.VoicemailBoxChange {
	return switchboard.VoicemailBoxChange{Name: b.Name, PIN: b.PIN, MaxMessageSeconds: b.MaxMessageSeconds,
		MaxMessages: b.MaxMessages, OnNoAnswer: b.OnNoAnswer, OnBusy: b.OnBusy, OnDND: b.OnDND, OnOffline: b.OnOffline,
		Email: b.Email, EmailAttach: b.EmailAttach}
}

type voicemailMessageJSON struct {
	PK              int64   `json:"pk" doc:"Voicemail message ID"`
	BoxID           int64   `json:"box_id" doc:"The box it was left in"`
	UniqueCallID    string  `json:"unique_call_id" doc:"The call that left it"`
	CallerID        string  `json:"caller_id" doc:"The caller's number or extension; empty when anonymous"`
	CallerName      string  `json:"caller_name" doc:"The caller's name, when known"`
	DurationSeconds float64 `json:"duration_seconds" doc:"Length of the message"`
	Read            bool    `json:"read" doc:"Whether it was listened to or marked read"`
	CreatedAt       string  `json:"created_at" doc:"RFC 3339 time it was left"`
}

func toVoicemailMessageJSON(m *switchboard.VoicemailMessage) voicemailMessageJSON {
	return voicemailMessageJSON{PK: m.ID, BoxID: m.BoxID, UniqueCallID: m.CallID, CallerID: m.From, CallerName: m.CallerName,
		DurationSeconds: m.Duration().Seconds(), Read: m.Read, CreatedAt: formatTime(m.CreatedAt)}
}

type voicemailMessagePatch struct {
	Read *bool `json:"read" doc:"true marks the message read (false is refused: a message cannot be made new again)"`
}

// resultOf adapts a provisioning result handler to an apiHandler writing the envelope.
func (s *Server) resultOf(message string, h resultHandler) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, c *caller) error {
		res, err := h(w, r, c)
		if err != nil {
			return err
		}
		s.writeResult(w, http.StatusOK, message, res)
		return nil
	}
}

// ownBox returns the box when the caller may use it: any box of the account for a
// developer key, only the key's user's box for a user key. Another user's box is
// NOT_FOUND, as one that does not exist.
func (s *Server) ownBox(ctx context.Context, c *caller, boxID int64) (*switchboard.VoicemailBox, error) {
	b, err := s.store.GetVoicemailBox(ctx, c.accountID, boxID)
	if err != nil {
		return nil, err
	}
	if !c.isDeveloper() && (c.key == nil || b.UserID == 0 || b.UserID != c.key.UserID) {
		return nil, switchboard.Errorf(switchboard.ENOTFOUND, "No voicemail box with id %d", boxID)
	}
	return b, nil
}

// ownMessage is ownBox for a message.
func (s *Server) ownMessage(ctx context.Context, c *caller, id int64) (*switchboard.VoicemailMessage, error) {
	m, err := s.store.GetVoicemailMessage(ctx, c.accountID, id)
	if err != nil {
		return nil, err
	}
	if _, err := s.ownBox(ctx, c, m.BoxID); err != nil {
		return nil, switchboard.Errorf(switchboard.ENOTFOUND, "No voicemail message with id %d", id)
	}
	return m, nil
}

func (s *Server) createVoicemailBox(w http.ResponseWriter, r *http.Request, c *caller) error {
	var body voicemailBoxBody
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	b, err := s.voicemail.CreateVoicemailBox(r.Context(), c.accountID, body.change())
	if err != nil {
		return err
	}
	s.writeResult(w, http.StatusCreated, "Voicemail box created", toVoicemailBoxJSON(b))
	return nil
}

func (s *Server) getVoicemailBox(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := pathID(r, "box_id")
	if err != nil {
		return err
	}
	b, err := s.ownBox(r.Context(), c, id)
	if err != nil {
		return err
	}
	s.writeResult(w, http.StatusOK, "Voicemail box details", toVoicemailBoxJSON(b))
	return nil
}

func (s *Server) patchVoicemailBox(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := pathID(r, "box_id")
	if err != nil {
		return err
	}
	if _, err := s.ownBox(r.Context(), c, id); err != nil {
		return err
	}
	var body voicemailBoxBody
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	b, err := s.voicemail.UpdateVoicemailBox(r.Context(), c.accountID, id, body.change())
	if err != nil {
		return err
	}
	s.writeResult(w, http.StatusOK, "Voicemail box updated", toVoicemailBoxJSON(b))
	return nil
}

func (s *Server) deleteVoicemailBox(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := pathID(r, "box_id")
	if err != nil {
		return err
	}
	if err := s.voicemail.DeleteVoicemailBox(r.Context(), c.accountID, id); err != nil {
		return err
	}
	s.writeResult(w, http.StatusOK, "Voicemail box deleted", deletedJSON{PK: id, Deleted: true})
	return nil
}

func (s *Server) listVoicemailMessages(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := pathID(r, "box_id")
	if err != nil {
		return err
	}
	if _, err := s.ownBox(r.Context(), c, id); err != nil {
		return err
	}
	f := switchboard.VoicemailFilter{BoxID: id}
	switch r.URL.Query().Get("status") {
	case "":
	case "new":
		f.Read = new(bool)
	case "read":
		read := true
		f.Read = &read
	default:
		return badRequest("status", "must be new or read")
	}
	list := listPaged(&s.store, func(st switchboard.Store, ctx context.Context, accountID int64, p switchboard.Page) ([]*switchboard.VoicemailMessage, bool, error) {
		return st.PageVoicemailMessages(ctx, accountID, f, p)
	}, func(m *switchboard.VoicemailMessage) int64 { return m.ID }, toVoicemailMessageJSON)
	res, err := list(w, r, c)
	if err != nil {
		return err
	}
	s.writeResult(w, http.StatusOK, "List of voicemail messages", res)
	return nil
}

func (s *Server) getVoicemailMessage(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := pathID(r, "message_id")
	if err != nil {
		return err
	}
	m, err := s.ownMessage(r.Context(), c, id)
	if err != nil {
		return err
	}
	s.writeResult(w, http.StatusOK, "Voicemail message details", toVoicemailMessageJSON(m))
	return nil
}

func (s *Server) patchVoicemailMessage(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := pathID(r, "message_id")
	if err != nil {
		return err
	}
	if _, err := s.ownMessage(r.Context(), c, id); err != nil {
		return err
	}
	var body voicemailMessagePatch
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	if body.Read == nil || !*body.Read {
		return badRequest("read", "must be true: a message can be marked read, not new again")
	}
	m, err := s.voicemail.MarkVoicemailRead(r.Context(), c.accountID, id)
	if err != nil {
		return err
	}
	s.writeResult(w, http.StatusOK, "Voicemail message updated", toVoicemailMessageJSON(m))
	return nil
}

func (s *Server) deleteVoicemailMessage(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := pathID(r, "message_id")
	if err != nil {
		return err
	}
	if _, err := s.ownMessage(r.Context(), c, id); err != nil {
		return err
	}
	if err := s.voicemail.DeleteVoicemailMessage(r.Context(), c.accountID, id); err != nil {
		return err
	}
	s.writeResult(w, http.StatusOK, "Voicemail message deleted", deletedJSON{PK: id, Deleted: true})
	return nil
}

// voicemailAudioRoute serves a message's WAV (HTTP Range through http.ServeContent): with
// a key as the other message routes, or with a signed link and no key. A link that does not
// check or has expired is 403 whatever the message.
func (s *Server) voicemailAudioRoute(tag string) {
	rt := route{Method: "GET", Path: "/voicemail/messages/{message_id}/audio", Access: accessUserOrDeveloper, Needs: needsVoicemail,
		Tag: tag, Summary: "Download a voicemail message (WAV)",
		Description: "8 kHz 16-bit mono WAV; HTTP Range is honoured. Without a key, the signed link of the voicemail.left " +
			"event or email (expires and sig) gives access until it expires (403 after, or when tampered with).",
		Query: []queryParam{{"expires", "Signed link: unix time it expires"}, {"sig", "Signed link: its signature"}}}
	s.routes = append(s.routes, &rt)
	s.mux.HandleFunc(rt.pattern(), func(w http.ResponseWriter, r *http.Request) {
		if err := s.serveVoicemailAudio(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

func (s *Server) serveVoicemailAudio(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var accountID int64
	var c *caller
	if q.Has("sig") && r.Header.Get(apiKeyHeader) == "" {
		id, err := pathID(r, "account_id")
		if err != nil {
			return err
		}
		msg, err := pathID(r, "message_id")
		if err != nil {
			return err
		}
		if s.vmLinks == nil || !s.vmLinks.Check(id, msg, q.Get("expires"), q.Get("sig"), s.now()) {
			return switchboard.Errorf(switchboard.EAUTHINVALID, "This voicemail link is not valid or has expired")
		}
		accountID = id
	} else {
		var err error
		if c, err = s.authenticate(w, r, accessUserOrDeveloper); err != nil {
			return err
		}
		accountID = c.accountID
	}
	if err := s.unavailable(needsVoicemail); err != nil {
		return err
	}
	id, err := pathID(r, "message_id")
	if err != nil {
		return err
	}
	if c != nil {
		if _, err := s.ownMessage(r.Context(), c, id); err != nil {
			return err
		}
	}
	m, f, _, err := s.voicemail.OpenVoicemailAudio(r.Context(), accountID, id)
	if err != nil {
		return err
	}
	defer f.Close()
	w.Header().Set("Content-Type", "audio/wav")
	w.Header().Set("Content-Disposition", "attachment; filename=\"voicemail-"+strconv.FormatInt(m.ID, 10)+".wav\"")
	http.ServeContent(w, r, "", m.CreatedAt, f)
	return nil
}

func (s *Server) putVoicemailGreeting(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := pathID(r, "box_id")
	if err != nil {
		return err
	}
	if _, err := s.ownBox(r.Context(), c, id); err != nil {
		return err
	}
	upload, _, err := audioUpload(w, r)
	if err != nil {
		return err
	}
	b, err := s.voicemail.SetVoicemailGreeting(r.Context(), c.accountID, id, upload)
	if err != nil {
		return err
	}
	s.writeResult(w, http.StatusOK, "Voicemail box updated", toVoicemailBoxJSON(b))
	return nil
}

func (s *Server) deleteVoicemailGreeting(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := pathID(r, "box_id")
	if err != nil {
		return err
	}
	if _, err := s.ownBox(r.Context(), c, id); err != nil {
		return err
	}
	b, err := s.voicemail.DeleteVoicemailGreeting(r.Context(), c.accountID, id)
	if err != nil {
		return err
	}
	s.writeResult(w, http.StatusOK, "Voicemail box updated", toVoicemailBoxJSON(b))
	return nil
}
