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

// The upload routes' common description.
const musicUploadRules = "The body is a WAV or MP3 file, sent as is (Content-Type audio/wav or audio/mpeg) or as the part " +
	"\"file\" of a multipart/form-data form. It is converted to 8 kHz mono G.711 at upload: at most 20 MiB sent, at most " +
	"5 minutes of audio. A file that cannot be decoded, or is longer, is refused with 400 naming the field audio, a larger " +
	"one with 413; nothing is stored then."

func (s *Server) musicClassRoutes() []resourceRoute {
	return []resourceRoute{
		{method: "GET", path: "/music_classes", summary: "List music on hold classes (paged)", message: "List of music classes",
			description: "The classes uploaded to the account. The class \"default\" plays generated music until audio is " +
				"uploaded under that name; it is listed only then.",
			result: []musicClassJSON{}, query: pageQuery,
			serve: listPaged(&s.store, switchboard.Store.PageMusicClasses, musicClassID, toMusicClassJSON)},
		{method: "POST", path: "/music_classes", summary: "Upload a music on hold class", message: "Music class created",
			status: http.StatusCreated, description: "The class's name is the query parameter name (or a form field name before " +
				"the file). A queue plays it when its musiconhold names it; \"default\" is what calls on hold hear otherwise. " +
				musicUploadRules,
			query:   []queryParam{{"name", "Class name: 1 to 40 lower-case letters, digits, '-' or '_'"}},
			request: audioUploadBody{}, result: musicClassJSON{}, serve: s.createMusicClass},
		{method: "GET", path: "/music_classes/{class_id}", summary: "Get a music class", message: "Music class details",
			result: musicClassJSON{}, serve: getByID(&s.store, "class_id", switchboard.Store.GetMusicClass, toMusicClassJSON)},
		{method: "PUT", path: "/music_classes/{class_id}", summary: "Replace the audio of a music class", message: "Music class updated",
			description: musicUploadRules, request: audioUploadBody{}, result: musicClassJSON{}, serve: s.replaceMusicClassAudio},
		{method: "DELETE", path: "/music_classes/{class_id}", summary: "Delete a music class", message: "Music class deleted",
			description: "Refused with 409 while a queue plays the class. Deleting \"default\" brings back the generated default.",
			result:      deletedJSON{}, serve: deleteByID(&s.provision, "class_id", ProvisioningService.DeleteMusicClass)},
	}
}

type musicClassJSON struct {
	PK              int64   `json:"pk" doc:"Music class ID"`
	Name            string  `json:"name" doc:"Class name, as a queue's musiconhold names it"`
	Format          string  `json:"format" doc:"What was uploaded: wav or mp3"`
	DurationSeconds float64 `json:"duration_seconds" doc:"Length of the stored audio; it repeats"`
	CreatedAt       string  `json:"created_at" doc:"RFC 3339 time of creation"`
	UpdatedAt       string  `json:"updated_at" doc:"RFC 3339 time of the last upload"`
}

// audioUploadBody marks a route whose request is an audio file, not JSON (see
// audioUploadSchema).
type audioUploadBody struct{}

func audioUploadSchema() jsonObject {
	binary := jsonObject{"schema": jsonObject{"type": "string", "format": "binary"}}
	return jsonObject{"required": true, "content": jsonObject{
		"audio/wav": binary, "audio/mpeg": binary,
		"multipart/form-data": jsonObject{"schema": jsonObject{"type": "object", "required": []string{"file"},
			"properties": jsonObject{"name": jsonObject{"type": "string"}, "file": jsonObject{"type": "string", "format": "binary"}}}},
	}}
}

func musicClassID(m *switchboard.MusicClass) int64 { return m.ID }

func toMusicClassJSON(m *switchboard.MusicClass) musicClassJSON {
	return musicClassJSON{PK: m.ID, Name: m.Name, Format: m.Format, DurationSeconds: m.Duration().Seconds(),
		CreatedAt: formatTime(m.CreatedAt), UpdatedAt: formatTime(m.UpdatedAt)}
}

func (s *Server) createMusicClass(w http.ResponseWriter, r *http.Request, c *caller) (any, error) {
	upload, name, err := audioUpload(w, r)
	if err != nil {
		return nil, err
	}
	m, err := s.provision.CreateMusicClass(r.Context(), c.accountID, name, upload)
	return rendered(m, err, toMusicClassJSON)
}

func (s *Server) replaceMusicClassAudio(w http.ResponseWriter, r *http.Request, c *caller) (any, error) {
	id, err := pathID(r, "class_id")
	if err != nil {
		return nil, err
	}
	upload, _, err := audioUpload(w, r)
	if err != nil {
		return nil, err
	}
	m, err := s.provision.ReplaceMusicClassAudio(r.Context(), c.accountID, id, upload)
	return rendered(m, err, toMusicClassJSON)
}

// audioUpload finds the audio file in the request, and the class name: the body itself
// with the query's name, or the part "file" of a multipart form, after which no part is
// read (a field "name" before it names the class). A part's content type is its own or,
// for the generic application/octet-stream browsers send, the one its file name implies.
func audioUpload(w http.ResponseWriter, r *http.Request) (u switchboard.MusicUpload, name string, err error) {
	// The limit is the service's, with room for a form's headers: the service reads one
	// byte more than it allows to tell a file that is too large.
	r.Body = http.MaxBytesReader(w, r.Body, switchboard.MaxMusicUploadBytes+64<<10)
	name = r.URL.Query().Get("name")
	mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mediaType != "multipart/form-data" {
		return switchboard.MusicUpload{ContentType: r.Header.Get("Content-Type"), Body: tooLargeAs413{r.Body}}, name, nil
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return u, "", badRequest("file", "the multipart form cannot be read: "+err.Error())
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return u, "", badRequest("file", "is required: the form has no part named file")
		}
		if err != nil {
			return u, "", badRequest("file", "the multipart form cannot be read: "+err.Error())
		}
		switch part.FormName() {
		case "name":
			b, err := io.ReadAll(io.LimitReader(part, 100))
			if err != nil {
				return u, "", badRequest("name", "cannot be read: "+err.Error())
			}
			name = string(b)
		case "file":
			ct := part.Header.Get("Content-Type")
			if t, _, _ := mime.ParseMediaType(ct); t == "" || t == "application/octet-stream" {
				switch strings.ToLower(path.Ext(part.FileName())) {
				case ".wav":
					ct = "audio/wav"
				case ".mp3":
					ct = "audio/mpeg"
				}
			}
			return switchboard.MusicUpload{ContentType: ct, Body: tooLargeAs413{part}}, name, nil
		}
	}
}

// tooLargeAs413 turns the MaxBytesReader's error into the PAYLOAD_TOO_LARGE answer.
type tooLargeAs413 struct{ r io.Reader }

func (m tooLargeAs413) Read(p []byte) (int, error) {
	n, err := m.r.Read(p)
	var tooLarge *http.MaxBytesError
	if err != nil && errors.As(err, &tooLarge) {
		return n, switchboard.Errorf(switchboard.ETOOLARGE, "The audio file is larger than %d MiB", switchboard.MaxMusicUploadBytes>>20)
	}
	return n, err
}
