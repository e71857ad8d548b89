package api

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"path"
	"strings"

	"switchboard"
)

func (s *Server) musicClassRoutes() []resourceRoute {
	return []resourceRoute{
		{method: "GET", path: "/music_classes", summary: "List uploaded music on hold classes (paged)", message: "List of music classes",
			description: "The classes uploaded to the account. The class \"default\" exists without upload (generated music) and is " +
				"not listed until audio is uploaded under its name.",
			result: []musicClassJSON{}, query: pageQuery,
			serve: listPaged(&s.store, switchboard.Store.PageMusicClasses, musicClassID, toMusicClassJSON)},
		{method: "GET", path: "/music_classes/{class_name}", summary: "Get a music class", message: "Music class details",
			result: musicClassJSON{}, serve: s.getMusicClass},
		{method: "PUT", path: "/music_classes/{class_name}", summary: "Upload the audio of a music class (creates or replaces it)",
			message: "Music class stored",
			description: "The body is a WAV or MP3 file, sent as is (Content-Type audio/wav or audio/mpeg) or as the part \"file\" " +
				"of a multipart/form-data form. It is converted to 8 kHz mono G.711 at upload: at most 20 MiB sent, at most " +
				"5 minutes of audio. A file that cannot be decoded is refused with 400 naming the field audio, a larger one " +
				"with 413; the class is then left as it was.",
			request: audioUploadBody{}, result: musicClassJSON{}, serve: s.putMusicClass},
		{method: "DELETE", path: "/music_classes/{class_name}", summary: "Delete an uploaded music class",
			message:     "Music class deleted",
			description: "Refused with 409 while a queue plays the class. Deleting the upload of \"default\" brings back the generated default.",
			result:      musicClassDeletedJSON{}, serve: s.deleteMusicClass},
	}
}

type musicClassJSON struct {
	Name            string  `json:"name" doc:"Class name, as a queue's musiconhold names it"`
	Format          string  `json:"format" doc:"What was uploaded: wav or mp3 (generated for the built-in default)"`
	DurationSeconds float64 `json:"duration_seconds" doc:"Length of the stored audio; it repeats"`
	CreatedAt       string  `json:"created_at" doc:"RFC 3339 time of the first upload (empty for the generated default)"`
	UpdatedAt       string  `json:"updated_at" doc:"RFC 3339 time of the last upload (empty for the generated default)"`
}

type musicClassDeletedJSON struct {
	Name    string `json:"name" doc:"Class deleted"`
	Deleted bool   `json:"deleted" doc:"Always true"`
}

// audioUploadBody marks a route whose request is an audio file, not JSON (see
// audioUploadSchema).
type audioUploadBody struct{}

func audioUploadSchema() jsonObject {
	binary := jsonObject{"schema": jsonObject{"type": "string", "format": "binary"}}
	return jsonObject{"required": true, "content": jsonObject{
		"audio/wav": binary, "audio/mpeg": binary,
		"multipart/form-data": jsonObject{"schema": jsonObject{"type": "object", "required": []string{"file"},
			"properties": jsonObject{"file": jsonObject{"type": "string", "format": "binary"}}}},
	}}
}

func musicClassID(m *switchboard.MusicClass) int64 { return m.ID }

func toMusicClassJSON(m *switchboard.MusicClass) musicClassJSON {
	return musicClassJSON{Name: m.Name, Format: m.Format, DurationSeconds: m.Duration().Seconds(),
		CreatedAt: formatTime(m.CreatedAt), UpdatedAt: formatTime(m.UpdatedAt)}
}

// generatedDefault is what GET says of the default class before any upload.
var generatedDefault = musicClassJSON{Name: switchboard.DefaultMusicClass, Format: "generated", DurationSeconds: 3}

func (s *Server) getMusicClass(w http.ResponseWriter, r *http.Request, c *caller) (any, error) {
	name := r.PathValue("class_name")
	m, err := s.store.GetMusicClass(r.Context(), c.accountID, name)
	if name == switchboard.DefaultMusicClass && switchboard.ErrorCode(err) == switchboard.ENOTFOUND {
		return generatedDefault, nil
	}
	return rendered(m, err, toMusicClassJSON)
}

func (s *Server) putMusicClass(w http.ResponseWriter, r *http.Request, c *caller) (any, error) {
	upload, err := audioUpload(w, r)
	if err != nil {
		return nil, err
	}
	m, _, err := s.provision.PutMusicClass(r.Context(), c.accountID, r.PathValue("class_name"), upload)
	return rendered(m, err, toMusicClassJSON)
}

func (s *Server) deleteMusicClass(w http.ResponseWriter, r *http.Request, c *caller) (any, error) {
	name := r.PathValue("class_name")
	if err := s.provision.DeleteMusicClass(r.Context(), c.accountID, name); err != nil {
		return nil, err
	}
	return musicClassDeletedJSON{Name: name, Deleted: true}, nil
}

// audioUpload finds the audio file in the request: the body itself, or the part "file" of a
// multipart form, whose content type is the part's own or, for the generic
// application/octet-stream browsers send, the one its file name's extension implies.
func audioUpload(w http.ResponseWriter, r *http.Request) (switchboard.MusicUpload, error) {
	// The limit is the service's, with room for a form's headers: the service reads one
	// byte more than it allows to tell a file that is too large.
	r.Body = http.MaxBytesReader(w, r.Body, switchboard.MaxMusicUploadBytes+64<<10)
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mediaType != "multipart/form-data" {
		return switchboard.MusicUpload{ContentType: r.Header.Get("Content-Type"), Body: tooLargeAs413(r.Body)}, nil
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return switchboard.MusicUpload{}, badRequest("file", "the multipart form cannot be read: "+err.Error())
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return switchboard.MusicUpload{}, badRequest("file", "is required: the form has no part named file")
		}
		if err != nil {
			return switchboard.MusicUpload{}, badRequest("file", "the multipart form cannot be read: "+err.Error())
		}
		if part.FormName() != "file" {
			continue
		}
		ct := part.Header.Get("Content-Type")
		if t, _, _ := mime.ParseMediaType(ct); t == "" || t == "application/octet-stream" {
			switch strings.ToLower(path.Ext(part.FileName())) {
			case ".wav":
				ct = "audio/wav"
			case ".mp3":
				ct = "audio/mpeg"
			}
		}
		return switchboard.MusicUpload{ContentType: ct, Body: tooLargeAs413(part)}, nil
	}
}

// tooLargeAs413 turns the MaxBytesReader's error into the PAYLOAD_TOO_LARGE answer.
func tooLargeAs413(r io.Reader) io.Reader { return maxBytesReader{r} }

type maxBytesReader struct{ r io.Reader }

func (m maxBytesReader) Read(p []byte) (int, error) {
	n, err := m.r.Read(p)
	var tooLarge *http.MaxBytesError
	if err != nil && errors.As(err, &tooLarge) {
		return n, switchboard.Errorf(switchboard.ETOOLARGE, "The audio file is larger than %d MiB", switchboard.MaxMusicUploadBytes>>20)
	}
	return n, err
}
