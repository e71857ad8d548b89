package recording

import (
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"switchboard"
	"switchboard/media"
)

// ServeAudio answers a request for the recording's audio: the one download of recordings,
// for the API and the portal. The WAV is served with HTTP Range (http.ServeContent) so that
// a player can seek; MP3 and Ogg Opus, asked for by ?format= or the Accept header
// (audioFormat), are encoded while they are sent. The caller has checked that the requester
// may hear rec; one without audio (still being written, or failed) is CONFLICT.
func (s *Service) ServeAudio(w http.ResponseWriter, r *http.Request, rec *switchboard.Recording) error {
	format, err := audioFormat(r)
	if err != nil {
		return err
	}
	if rec.Status != switchboard.RecordingAvailable {
		return switchboard.Errorf(switchboard.ECONFLICT, "The recording is %s: it has no audio to download", rec.Status)
	}
	f, info, err := s.Blobs.Open(r.Context(), rec.BlobKey)
	if err != nil {
		return err
	}
	defer f.Close()
	w.Header().Set("Cache-Control", "private, max-age=0")
	if enc, ok := encodedFormats[format]; ok {
		return serveEncoded(w, r, rec, f, enc)
	}
	w.Header().Set("Content-Type", "audio/wav")
	w.Header().Set("Content-Disposition", "attachment; filename=\""+rec.ID+".wav\"")
	http.ServeContent(w, r, "", info.ModTime, f)
	return nil
}

// encodedFormat is a format the download converts the WAV into while it sends it.
type encodedFormat struct {
	contentType, extension string
	encode                 func(dst io.Writer, src io.Reader) error // 8 kHz stereo PCM in, the file out
}

var encodedFormats = map[string]encodedFormat{
	"mp3":  {"audio/mpeg", "mp3", media.EncodeMP3},
	"opus": {"audio/ogg; codecs=opus", "opus", media.EncodeOpus},
}

// audioFormat is the format a download asks for: ?format= (wav, mp3, opus) first, else the
// Accept header's preference among audio/wav, audio/mpeg and audio/ogg (ties, wildcards and
// anything else: WAV, as before the other formats were offered).
func audioFormat(r *http.Request) (string, error) {
	if f := r.URL.Query().Get("format"); f != "" {
		switch f = strings.ToLower(f); f {
		case "wav", "mp3", "opus":
			return f, nil
		case "ogg":
			return "opus", nil
		}
		return "", switchboard.FieldError(switchboard.EBADREQUEST, "format", "must be wav, mp3 or opus")
	}
	best, bestQ := "wav", 0.0
	q := map[string]float64{}
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		v := 1.0
		if p, err := strconv.ParseFloat(params["q"], 64); err == nil {
			v = p
		}
		switch mt {
		case "audio/mpeg", "audio/mp3":
			q["mp3"] = max(q["mp3"], v)
		case "audio/ogg", "audio/opus":
			q["opus"] = max(q["opus"], v)
		case "audio/wav", "audio/x-wav", "audio/wave", "audio/*", "*/*":
			bestQ = max(bestQ, v)
		}
	}
	for _, f := range []string{"mp3", "opus"} {
		if q[f] > bestQ {
			best, bestQ = f, q[f]
		}
	}
	return best, nil
}

// serveEncoded encodes the recording's WAV data while it is sent (one codec frame in
// memory). The file is made on the fly, so its length is not known beforehand and a byte
// range of it cannot be cut without encoding what comes before: Range is ignored (200 with
// the whole file, Accept-Ranges: none), as RFC 9110 allows.
func serveEncoded(w http.ResponseWriter, r *http.Request, rec *switchboard.Recording, f io.ReadSeeker, enc encodedFormat) error {
	if _, err := f.Seek(media.WAVHeaderSize, io.SeekStart); err != nil {
		return err
	}
	w.Header().Set("Content-Type", enc.contentType)
	w.Header().Set("Content-Disposition", "attachment; filename=\""+rec.ID+"."+enc.extension+"\"")
	w.Header().Set("Accept-Ranges", "none")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return nil
	}
	// The data size in the header is the file's: read no further than it says.
	_ = enc.encode(w, io.LimitReader(f, rec.Size-media.WAVHeaderSize)) // only a client gone away ends it early
	return nil
}
