package recording

import (
	"net/http"

	"switchboard"
)

// ServeAudio answers a request for the recording's WAV, with HTTP Range (http.ServeContent)
// so that a player can seek: the one download of recordings, for the API and the portal.
// The caller has checked that the requester may hear rec; one without audio (still being
// written, or failed) is CONFLICT.
func (s *Service) ServeAudio(w http.ResponseWriter, r *http.Request, rec *switchboard.Recording) error {
	if rec.Status != switchboard.RecordingAvailable {
		return switchboard.Errorf(switchboard.ECONFLICT, "The recording is %s: it has no audio to download", rec.Status)
	}
	f, info, err := s.Blobs.Open(r.Context(), rec.BlobKey)
	if err != nil {
		return err
	}
	defer f.Close()
	w.Header().Set("Content-Type", "audio/wav")
	w.Header().Set("Content-Disposition", "attachment; filename=\""+rec.ID+".wav\"")
	w.Header().Set("Cache-Control", "private, max-age=0")
	http.ServeContent(w, r, "", info.ModTime, f)
	return nil
}
