package web

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"

	"switchboard"
	"switchboard/transcribe"
)

// Call media in the portal: recordings (played from /recordings/{id}/audio, which streams
// through the recording service's one download, with Range), voicemails and transcripts,
// shown with the calls they belong to. An administrator sees the account's, a user only
// those of their own calls (their recordings, their box's messages).

// RecordingService is the part of recording.Service the portal uses.
type RecordingService interface {
	ServeAudio(w http.ResponseWriter, r *http.Request, rec *switchboard.Recording) error
	Delete(ctx context.Context, accountID int64, id string) error
}

// errNoRecording is the answer for an id the session may not hear: absent, another
// account's, or (for a user) another user's.
func errNoRecording(id string) error {
	return switchboard.Errorf(switchboard.ENOTFOUND, "No recording with id %q", id)
}

// ownRecording is the path's recording when the session may hear it.
func (h *Handler) ownRecording(r *http.Request, s *session) (*switchboard.Recording, error) {
	id := r.PathValue("id")
	if !switchboard.ValidRecordingID(id) {
		return nil, errNoRecording(id)
	}
	rec, err := h.store.GetRecording(r.Context(), s.Login.AccountID, id)
	if err != nil {
		return nil, err
	}
	if !s.Admin() && rec.UserID != s.Login.UserID {
		return nil, errNoRecording(id)
	}
	return rec, nil
}

// pathRecording is the path's recording, when recordings are configured here and the
// session may hear it.
func (h *Handler) pathRecording(r *http.Request, s *session) (*switchboard.Recording, error) {
	if h.recordings == nil {
		return nil, switchboard.Errorf(switchboard.EUNAVAILABLE, "Call recording is not configured on this server")
	}
	return h.ownRecording(r, s)
}

func (h *Handler) recordingAudio(w http.ResponseWriter, r *http.Request, s *session) {
	rec, err := h.pathRecording(r, s)
	if err == nil {
		err = h.recordings.ServeAudio(w, r, rec)
	}
	if err != nil {
		h.fail(w, r, "error", page{Title: "Recording", S: s}, err)
	}
}

// recordingsData is the Recordings page: the newest recordings the session may hear.
type recordingsData struct {
	Recordings    []*switchboard.Recording
	More          bool
	RetentionDays int
	Users         map[int64]*switchboard.User
}

// recordingsPageSize bounds the Recordings page; older ones are listed through the API.
const recordingsPageSize = 200

func (h *Handler) loadRecordings(ctx context.Context, r *http.Request, s *session) (string, any, error) {
	const title = "Recordings"
	a := s.Login.AccountID
	f := switchboard.RecordingFilter{}
	if !s.Admin() {
		f.UserID = s.Login.UserID
	}
	recs, more, err := h.store.PageRecordings(ctx, a, f, switchboard.Page{Limit: recordingsPageSize})
	if err != nil {
		return title, nil, err
	}
	acct, err := h.store.GetAccount(ctx, a)
	if err != nil {
		return title, nil, err
	}
	users, _, err := h.usersByID(ctx, a)
	return title, &recordingsData{Recordings: recs, More: more, RetentionDays: acct.RecordingRetentionDays, Users: users}, err
}

func (h *Handler) recordingDelete(w http.ResponseWriter, r *http.Request, s *session) {
	rec, err := h.pathRecording(r, s)
	if err == nil {
		err = h.recordings.Delete(r.Context(), s.Login.AccountID, rec.ID)
	}
	h.changed(w, r, s, "recordings", "/recordings", h.loadRecordings, err)
}

func (h *Handler) mediaRoutes() {
	h.get("/recordings", false, h.detailPage("recordings", h.loadRecordings))
	h.get("/recordings/{id}/audio", false, h.recordingAudio)
	h.post("/recordings/{id}/delete", true, h.recordingDelete)
}

// callMedia is what the history shows under one call.
type callMedia struct {
	Recordings  []*switchboard.Recording
	Voicemails  []*switchboard.VoicemailMessage
	Transcripts []transcriptView
}

// transcriptView is one recording's transcript as turns to read.
type transcriptView struct {
	RecordingID string
	Turns       []turnView
}

type turnView struct {
	Speaker, Text, At string
}

// speakers names the analytics' roles for a reader.
var speakers = map[string]string{transcribe.RoleAgent: "Agent", transcribe.RoleCustomer: "Customer"}

func transcriptTurns(t *switchboard.Transcript) transcriptView {
	var doc transcribe.Analytics
	v := transcriptView{RecordingID: t.RecordingID}
	if json.Unmarshal(t.Analytics, &doc) != nil {
		return v
	}
	for _, turn := range doc.Transcript {
		speaker := speakers[turn.ParticipantRole]
		if speaker == "" {
			speaker = turn.ParticipantRole
		}
		sec := turn.BeginOffsetMillis / 1000
		v.Turns = append(v.Turns, turnView{Speaker: speaker, Text: turn.Content, At: strconv.FormatInt(sec/60, 10) + ":" + twoDigits(sec%60)})
	}
	return v
}

func twoDigits(n int64) string {
	if n < 10 {
		return "0" + strconv.FormatInt(n, 10)
	}
	return strconv.FormatInt(n, 10)
}

// callsMedia reads the media of the calls shown, by call id. Recordings and transcripts
// are of the calls given (already the session's own); a user gets only their own
// recordings and only their box's voicemails.
func (h *Handler) callsMedia(ctx context.Context, s *session, calls []*switchboard.CallRecord) (map[string]*callMedia, error) {
	a := s.Login.AccountID
	out := map[string]*callMedia{}
	media := func(callID string) *callMedia {
		if out[callID] == nil {
			out[callID] = &callMedia{}
		}
		return out[callID]
	}
	ids := make([]string, 0, len(calls))
	shown := map[string]bool{}
	for _, c := range calls {
		ids = append(ids, c.UniqueID)
		shown[c.UniqueID] = true
	}
	recs, err := h.store.CallsRecordings(ctx, a, ids)
	if err != nil {
		return nil, err
	}
	for callID, rs := range recs {
		visible := map[string]bool{} // a call's transcripts are per recording: only those of these
		for _, rec := range rs {
			if s.Admin() || rec.UserID == s.Login.UserID {
				media(callID).Recordings = append(media(callID).Recordings, rec)
				visible[rec.ID] = true
			}
		}
		if len(visible) == 0 {
			continue
		}
		ts, err := h.store.GetCallTranscripts(ctx, a, callID)
		if switchboard.ErrorCode(err) == switchboard.ENOTFOUND {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, t := range ts {
			if visible[t.RecordingID] {
				media(callID).Transcripts = append(media(callID).Transcripts, transcriptTurns(t))
			}
		}
	}
	boxes, err := h.visibleBoxes(ctx, s)
	if err != nil {
		return nil, err
	}
	for _, b := range boxes {
		msgs, _, err := h.store.PageVoicemailMessages(ctx, a, switchboard.VoicemailFilter{BoxID: b.ID}, switchboard.Page{Limit: 1000})
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			if shown[m.CallID] {
				media(m.CallID).Voicemails = append(media(m.CallID).Voicemails, m)
			}
		}
	}
	return out, nil
}

// visibleBoxes are the voicemail boxes the session may hear: the account's for an
// administrator, the user's own for a user.
func (h *Handler) visibleBoxes(ctx context.Context, s *session) ([]*switchboard.VoicemailBox, error) {
	boxes, err := pageAll(ctx, s.Login.AccountID, h.store.PageVoicemailBoxes)
	if err != nil || s.Admin() {
		return boxes, err
	}
	var own []*switchboard.VoicemailBox
	for _, b := range boxes {
		if b.UserID == s.Login.UserID {
			own = append(own, b)
		}
	}
	return own, nil
}
