package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"switchboard"
)

// RecordingService is what the recording routes need beyond the store's rows: deleting a
// recording with its audio, serving its audio, and checking the signed links of the events
// (recording.Service).
type RecordingService interface {
	Delete(ctx context.Context, accountID int64, id string) error
	ServeAudio(w http.ResponseWriter, r *http.Request, rec *switchboard.Recording) error
	CheckLink(accountID int64, id, expires, sig string, now time.Time) bool
}

// Recording routes: list, metadata, audio (HTTP Range; also by the signed link of
// recording.available, without a key) and delete. A developer key sees the account's
// recordings; a user key only the recordings of its own user's calls.
func (s *Server) recordingRoutes() {
	tag := "Recordings"
	own := func(rt route, h apiHandler) {
		rt.Access, rt.Needs, rt.Tag = accessUserOrDeveloper, needsRecordings, tag
		s.handleAPI(rt, h)
	}
	own(route{Method: "GET", Path: "/recordings", Summary: "List call recordings (paged, newest first)", Message: "List of recordings",
		Description: "Filters: call_id, user_id, from and to (RFC 3339 time or YYYY-MM-DD, UTC; from inclusive, to exclusive, on the " +
			"recording's start). A user key lists its own user's recordings only. When more rows follow, X-Next-Cursor holds the " +
			"cursor to pass as after.",
		Result: []recordingJSON{},
		Query: append([]queryParam{{"call_id", "Only the call's recordings"}, {"user_id", "Only the user's recordings"},
			{"from", "Started at or after (RFC 3339 or YYYY-MM-DD)"}, {"to", "Started before (RFC 3339 or YYYY-MM-DD)"}},
			keyPageQuery...)}, s.listRecordings)
	own(route{Method: "GET", Path: "/recordings/{recording_id}", Summary: "Get a recording", Message: "Recording details",
		Result: recordingJSON{}}, s.getRecording)
	s.handleAPI(route{Method: "DELETE", Path: "/recordings/{recording_id}", Access: accessDeveloper, Needs: needsRecordings, Tag: tag,
		Summary: "Delete a recording and its audio", Message: "Recording deleted",
		Description: "A recording still being written (status recording) cannot be deleted: 409.",
		Result:      recordingDeletedJSON{}}, s.deleteRecording)
	s.recordingAudioRoute(tag)
}

type recordingJSON struct {
	ID         string  `json:"id" doc:"Recording ID (rec_ and 32 hex digits)"`
	CallID     string  `json:"call_id" doc:"The call's unique id"`
	UserID     *int64  `json:"user_id" doc:"The user of the call; null when none"`
	QueueID    *int64  `json:"queue_id" doc:"The queue of the call; null when none"`
	Direction  string  `json:"direction" doc:"inbound, outbound or internal"`
	Status     string  `json:"status" doc:"recording (being written), available or failed"`
	Size       int64   `json:"size" doc:"Bytes of the WAV file"`
	Duration   float64 `json:"duration" doc:"Seconds of audio"`
	PausedTime float64 `json:"paused_duration" doc:"Seconds paused (silence in the file)"`
	Format     string  `json:"format" doc:"audio/wav: two channels (left the caller, right the other party), 8 kHz, 16-bit (the stored file; the download also offers MP3 and Opus)"`
	StartedAt  string  `json:"started_at" doc:"RFC 3339 time the recording started"`
	EndedAt    *string `json:"ended_at" doc:"RFC 3339 time it ended; null while recording"`
	Error      string  `json:"error,omitempty" doc:"Why it failed (status failed)"`
	AudioURL   string  `json:"audio_url,omitempty" doc:"Path of the audio download (needs a key)"`
}

type recordingDeletedJSON struct {
	ID      string `json:"id" doc:"ID of the recording deleted"`
	Deleted bool   `json:"deleted" doc:"Always true"`
}

// recordingRefJSON is a recording as a call record lists it.
type recordingRefJSON struct {
	ID       string  `json:"id" doc:"Recording ID"`
	Status   string  `json:"status" doc:"recording, available or failed"`
	Duration float64 `json:"duration" doc:"Seconds of audio"`
	AudioURL string  `json:"audio_url" doc:"Path of the audio download (needs a key)"`
}

func recordingAudioPath(r *switchboard.Recording) string {
	return v3Prefix[:len(v3Prefix)-len("/{account_id}")] + "/" + strconv.FormatInt(r.AccountID, 10) + "/recordings/" + r.ID + "/audio"
}

func toRecordingJSON(r *switchboard.Recording) recordingJSON {
	j := recordingJSON{ID: r.ID, CallID: r.CallID, UserID: nullableID(r.UserID), QueueID: nullableID(r.QueueID),
		Direction: r.Direction, Status: r.Status, Size: r.Size, Duration: float64(r.DurationMs) / 1000,
		PausedTime: float64(r.PausedMs) / 1000, Format: "audio/wav", StartedAt: formatTime(r.StartedAt), Error: r.Error}
	if !r.EndedAt.IsZero() {
		e := formatTime(r.EndedAt)
		j.EndedAt = &e
	}
	if r.Status == switchboard.RecordingAvailable {
		j.AudioURL = recordingAudioPath(r)
	}
	return j
}

func toRecordingRefJSON(r *switchboard.Recording) recordingRefJSON {
	return recordingRefJSON{ID: r.ID, Status: r.Status, Duration: float64(r.DurationMs) / 1000, AudioURL: recordingAudioPath(r)}
}

// parseDay reads a from/to bound: an RFC 3339 time or a UTC date.
func parseDay(field, raw string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, raw); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", raw); err == nil {
		return t, nil
	}
	return time.Time{}, badRequest(field, "must be an RFC 3339 time or a date YYYY-MM-DD")
}

// recordingCursor reads the after parameter of the recording list.
func recordingCursor(raw string, p *switchboard.Page) string {
	if _, _, ok := switchboard.ParseRecordingCursor(raw); !ok {
		return "is not a cursor of this list: pass the X-Next-Cursor header back as it is"
	}
	p.AfterKey = raw
	return ""
}

func (s *Server) listRecordings(w http.ResponseWriter, r *http.Request, c *caller) error {
	q := r.URL.Query()
	f := switchboard.RecordingFilter{CallID: q.Get("call_id")}
	if raw := q.Get("user_id"); raw != "" {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || id <= 0 {
			return badRequest("user_id", "must be a user id")
		}
		f.UserID = id
	}
	var err error
	if raw := q.Get("from"); raw != "" {
		if f.From, err = parseDay("from", raw); err != nil {
			return err
		}
	}
	if raw := q.Get("to"); raw != "" {
		if f.To, err = parseDay("to", raw); err != nil {
			return err
		}
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.To.After(f.From) {
		return badRequest("to", "must be after from")
	}
	if !c.isDeveloper() {
		if f.UserID != 0 && f.UserID != c.key.UserID {
			return switchboard.FieldError(switchboard.EAUTHINVALID, "user_id", "a user key lists its own recordings only")
		}
		f.UserID = c.key.UserID
	}
	list := listPagedBy(&s.store, func(st switchboard.Store, ctx context.Context, accountID int64, p switchboard.Page) ([]*switchboard.Recording, bool, error) {
		return st.PageRecordings(ctx, accountID, f, p)
	}, recordingCursor, switchboard.RecordingCursor, toRecordingJSON)
	res, err := list(w, r, c)
	if err != nil {
		return err
	}
	s.writeResult(w, http.StatusOK, "List of recordings", res)
	return nil
}

// ownRecording is the recording of the path, when the caller may see it: NOT_FOUND for
// another account's, and for a user key, for another user's.
func (s *Server) ownRecording(ctx context.Context, r *http.Request, c *caller) (*switchboard.Recording, error) {
	id := r.PathValue("recording_id")
	if !switchboard.ValidRecordingID(id) {
		return nil, switchboard.Errorf(switchboard.ENOTFOUND, "No recording with id %q in this account", id)
	}
	rec, err := s.store.GetRecording(ctx, c.accountID, id)
	if err != nil {
		return nil, err
	}
	if !c.isDeveloper() && rec.UserID != c.key.UserID {
		return nil, switchboard.Errorf(switchboard.ENOTFOUND, "No recording with id %q in this account", id)
	}
	return rec, nil
}

func (s *Server) getRecording(w http.ResponseWriter, r *http.Request, c *caller) error {
	rec, err := s.ownRecording(r.Context(), r, c)
	if err != nil {
		return err
	}
	s.writeResult(w, http.StatusOK, "Recording details", toRecordingJSON(rec))
	return nil
}

func (s *Server) deleteRecording(w http.ResponseWriter, r *http.Request, c *caller) error {
	rec, err := s.ownRecording(r.Context(), r, c)
	if err != nil {
		return err
	}
	if err := s.recordings.Delete(r.Context(), c.accountID, rec.ID); err != nil {
		return err
	}
	s.writeResult(w, http.StatusOK, "Recording deleted", recordingDeletedJSON{ID: rec.ID, Deleted: true})
	return nil
}

// recordingAudioRoute serves a recording's WAV (HTTP Range through http.ServeContent):
// with a key, or with the signed link of recording.available and no key. A link that does
// not check or has expired is 403 whatever the recording.
func (s *Server) recordingAudioRoute(tag string) {
	rt := route{Method: "GET", Path: "/recordings/{recording_id}/audio", Access: accessUserOrDeveloper, Needs: needsRecordings,
		Tag: tag, Summary: "Download a recording (WAV, MP3 or Opus)",
		Description: "Two-channel 8 kHz 16-bit WAV (left the caller, right the other party); HTTP Range is honoured " +
			"(a range outside the file, or a malformed one: 416). MP3 with format=mp3 or an Accept header preferring " +
			"audio/mpeg (stereo, the same channels, MPEG-2 Layer III at 16 kHz, 48 kbit/s); Ogg Opus with format=opus " +
			"or an Accept header preferring audio/ogg (stereo, 8 kHz, 24 kbit/s). Both are encoded while they are sent, " +
			"so Range is ignored for them (200 with the whole file, Accept-Ranges: none). Another format is 400. " +
			"Without a key, the signed link of the recording.available event (expires and sig) gives access until it " +
			"expires (403 after, or when tampered with).",
		Query: []queryParam{{"format", "wav (default), mp3 or opus"}, {"expires", "Signed link: unix time it expires"},
			{"sig", "Signed link: its signature"}}}
	s.routes = append(s.routes, &rt)
	s.mux.HandleFunc(rt.pattern(), func(w http.ResponseWriter, r *http.Request) {
		if err := s.serveRecordingAudio(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

func (s *Server) serveRecordingAudio(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	c := &caller{}
	if q.Has("sig") && r.Header.Get(apiKeyHeader) == "" {
		id, err := pathID(r, "account_id")
		if err != nil {
			return err
		}
		if s.recordings == nil || !s.recordings.CheckLink(id, r.PathValue("recording_id"), q.Get("expires"), q.Get("sig"), s.now()) {
			return switchboard.Errorf(switchboard.EAUTHINVALID, "This recording link is not valid or has expired")
		}
		// The link names one recording of one account: read it as a developer would.
		c = &caller{accountID: id, key: &switchboard.APIKey{AccountID: id, Kind: switchboard.KeyDeveloper}}
	} else {
		var err error
		if c, err = s.authenticate(w, r, accessUserOrDeveloper); err != nil {
			return err
		}
	}
	if err := s.unavailable(needsRecordings); err != nil {
		return err
	}
	rec, err := s.ownRecording(r.Context(), r, c)
	if err != nil {
		return err
	}
	return s.recordings.ServeAudio(w, r, rec)
}

// callsRecordings is the recordings of a page of call records, rendered, by call id; a
// call without recordings gets [] (set by the caller from a missing key).
func (s *Server) callsRecordings(ctx context.Context, accountID int64, records []*switchboard.CallRecord) (map[string][]recordingRefJSON, error) {
	ids := make([]string, 0, len(records))
	for _, r := range records {
		ids = append(ids, r.UniqueID)
	}
	recs, err := s.store.CallsRecordings(ctx, accountID, ids)
	if err != nil {
		return nil, err
	}
	out := map[string][]recordingRefJSON{}
	for _, r := range records {
		refs := []recordingRefJSON{}
		for _, rec := range recs[r.UniqueID] {
			refs = append(refs, toRecordingRefJSON(rec))
		}
		out[r.UniqueID] = refs
	}
	return out, nil
}
