package api

import (
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"switchboard"
)

const promptTag = "Prompts"

// The routes of prompts and system prompts. Uploads take what music classes take (see
// audioUpload); text prompts are JSON.
func (s *Server) promptRoutes() []resourceRoute {
	langQuery := queryParam{"language", "Language tag (en, de, pt-BR …); default: the account's language"}
	return []resourceRoute{
		{method: "GET", path: "/prompts", summary: "List prompts (paged)", message: "List of prompts",
			result: []promptJSON{}, query: pageQuery,
			serve: listPaged(&s.store, switchboard.Store.PagePrompts, promptID, toPromptJSON)},
		{method: "POST", path: "/prompts", summary: "Create a prompt from audio or text", message: "Prompt created",
			status: http.StatusCreated,
			description: "Either an audio file — a WAV or MP3 sent as is (Content-Type audio/wav or audio/mpeg, name and language " +
				"in the query) or as the part \"file\" of a multipart/form-data form (a field name before it) — converted to 8 kHz " +
				"mono at upload: at most 20 MiB sent and 10 minutes of audio; or a JSON body {\"name\", \"text\", \"voice\", " +
				"\"language\"} spoken by espeak-ng at creation (text at most 4000 bytes). Audio that cannot be decoded, is longer, " +
				"or text too long is refused with 400, a larger file with 413; without espeak-ng on the server a text prompt is " +
				"refused with 503.",
			query:   []queryParam{{"name", "Prompt name (uploads)"}, {"language", "Language of the prompt (uploads), optional"}},
			request: audioUploadBody{}, result: promptJSON{}, serve: s.createPrompt},
		{method: "GET", path: "/prompts/system", summary: "List the system prompts in a language", message: "List of system prompts",
			description: "Every system prompt the call engine plays, with where its audio comes from for this account: " +
				"\"account\" (uploaded here), \"system\" (generated), \"fallback-en\" (no audio in the language: English) or " +
				"\"tones\" (no audio at all: espeak-ng was missing; a tone pattern plays).",
			query: []queryParam{langQuery}, result: []systemPromptJSON{}, serve: s.listSystemPrompts},
		{method: "GET", path: "/prompts/{prompt_id}", summary: "Get a prompt", message: "Prompt details",
			result: promptJSON{}, serve: getByID(&s.store, "prompt_id", switchboard.Store.GetPrompt, toPromptJSON)},
		{method: "DELETE", path: "/prompts/{prompt_id}", summary: "Delete a prompt", message: "Prompt deleted",
			description: "Refused with 409 while a call flow plays the prompt.",
			result:      deletedJSON{}, serve: deleteByID(&s.provision, "prompt_id", ProvisioningService.DeletePrompt)},
		{method: "PUT", path: "/prompts/system/{name}", summary: "Replace a system prompt for this account", message: "System prompt replaced",
			description: "The account's calls play the uploaded audio for this system prompt in the language (the query's, or " +
				"the account's) from now on. The body is an audio file as for POST /prompts.",
			query: []queryParam{langQuery}, request: audioUploadBody{}, result: systemPromptJSON{}, serve: s.replaceSystemPrompt},
		{method: "DELETE", path: "/prompts/system/{name}", summary: "Remove the account's own system prompt", message: "System prompt reset",
			description: "The generated prompt (or its fallback) plays again. 404 when the account has no audio of its own for it.",
			query:       []queryParam{langQuery}, result: deletedJSON{}, serve: s.resetSystemPrompt},
	}
}

// promptFileRoutes are the audio downloads: a WAV, not the JSON envelope.
func (s *Server) promptFileRoutes() {
	s.handleAPI(route{Method: "GET", Path: "/prompts/{prompt_id}/audio", Access: accessDeveloper, Needs: needsProvisioning, Tag: promptTag,
		Summary: "Download a prompt's audio", Message: "WAV audio", Result: audioFileResult{},
		Description: "The stored WAV (8 kHz mono 16-bit PCM). HTTP Range requests are served."}, s.promptAudio)
	s.handleAPI(route{Method: "GET", Path: "/prompts/system/{name}/audio", Access: accessDeveloper, Needs: needsProvisioning, Tag: promptTag,
		Summary: "Download a system prompt's audio", Message: "WAV audio", Result: audioFileResult{},
		Query:       []queryParam{{"language", "Language tag; default: the account's language"}},
		Description: "What the account's calls play for the system prompt: its upload, the generated audio, or the fallback tones."}, s.systemPromptAudio)
}

// audioFileResult marks a route answering a WAV file (see the OpenAPI generator).
type audioFileResult struct{}

type promptJSON struct {
	PK              int64   `json:"pk" doc:"Prompt ID, as a call flow names it"`
	Name            string  `json:"name" doc:"Prompt name"`
	Source          string  `json:"source" doc:"wav or mp3 (uploaded) or tts (spoken by espeak-ng)"`
	Text            string  `json:"text" doc:"For tts: the text spoken"`
	Voice           string  `json:"voice" doc:"For tts: the espeak-ng voice"`
	Language        string  `json:"language" doc:"The prompt's language; \"\" when not given"`
	DurationSeconds float64 `json:"duration_seconds" doc:"Length of the audio"`
	Size            int64   `json:"size" doc:"Bytes of the stored WAV (8 kHz mono 16-bit)"`
	CreatedAt       string  `json:"created_at" doc:"RFC 3339 time of creation"`
}

type promptTextJSON struct {
	Name     string `json:"name" doc:"Prompt name"`
	Text     string `json:"text" doc:"The words to speak (at most 4000 bytes)"`
	Voice    string `json:"voice" doc:"espeak-ng voice (en, en-us, de …); default: language, then the account's language"`
	Language string `json:"language" doc:"The prompt's language tag, optional"`
}

type systemPromptJSON struct {
	Name      string  `json:"name" doc:"System prompt name"`
	Language  string  `json:"language" doc:"Language asked for"`
	Source    string  `json:"source" doc:"account, system, fallback-en or tones"`
	Text      string  `json:"text" doc:"What the generated audio says; \"\" for the account's own or tones"`
	Size      int64   `json:"size" doc:"Bytes of the WAV; 0 for tones"`
	UpdatedAt *string `json:"updated_at" doc:"RFC 3339 time the audio was stored; null for tones"`
}

func promptID(p *switchboard.Prompt) int64 { return p.ID }

func toPromptJSON(p *switchboard.Prompt) promptJSON {
	return promptJSON{PK: p.ID, Name: p.Name, Source: p.Source, Text: p.Text, Voice: p.Voice, Language: p.Language,
		DurationSeconds: p.Duration().Seconds(), Size: p.Size, CreatedAt: formatTime(p.CreatedAt)}
}

func toSystemPromptJSON(i *switchboard.SystemPromptInfo) systemPromptJSON {
	out := systemPromptJSON{Name: i.Name, Language: i.Language, Source: i.Source, Text: i.Text, Size: i.Size}
	if !i.ModTime.IsZero() {
		t := formatTime(i.ModTime)
		out.UpdatedAt = &t
	}
	return out
}

func (s *Server) createPrompt(w http.ResponseWriter, r *http.Request, c *caller) (any, error) {
	if mediaType, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mediaType == "application/json" {
		var body promptTextJSON
		if err := decodeJSON(w, r, &body); err != nil {
			return nil, err
		}
		p, err := s.provision.CreatePromptFromText(r.Context(), c.accountID, body.Name,
			switchboard.PromptSpeech{Text: body.Text, Voice: body.Voice, Language: body.Language})
		return rendered(p, err, toPromptJSON)
	}
	upload, name, err := audioUpload(w, r)
	if err != nil {
		return nil, err
	}
	p, err := s.provision.CreatePromptFromAudio(r.Context(), c.accountID, name, r.URL.Query().Get("language"), upload)
	return rendered(p, err, toPromptJSON)
}

func (s *Server) listSystemPrompts(w http.ResponseWriter, r *http.Request, c *caller) (any, error) {
	list, err := s.provision.SystemPrompts(r.Context(), c.accountID, r.URL.Query().Get("language"))
	if err != nil {
		return nil, err
	}
	out := make([]systemPromptJSON, 0, len(list))
	for i := range list {
		out = append(out, toSystemPromptJSON(&list[i]))
	}
	return out, nil
}

func (s *Server) replaceSystemPrompt(w http.ResponseWriter, r *http.Request, c *caller) (any, error) {
	upload, _, err := audioUpload(w, r)
	if err != nil {
		return nil, err
	}
	info, err := s.provision.ReplaceSystemPrompt(r.Context(), c.accountID, r.PathValue("name"), r.URL.Query().Get("language"), upload)
	return rendered(info, err, toSystemPromptJSON)
}

func (s *Server) resetSystemPrompt(w http.ResponseWriter, r *http.Request, c *caller) (any, error) {
	if err := s.provision.ResetSystemPrompt(r.Context(), c.accountID, r.PathValue("name"), r.URL.Query().Get("language")); err != nil {
		return nil, err
	}
	return struct {
		Name    string `json:"name"`
		Deleted bool   `json:"deleted"`
	}{r.PathValue("name"), true}, nil
}

func (s *Server) promptAudio(w http.ResponseWriter, r *http.Request, c *caller) error {
	id, err := pathID(r, "prompt_id")
	if err != nil {
		return err
	}
	p, f, info, err := s.provision.OpenPromptAudio(r.Context(), c.accountID, id)
	if err != nil {
		return err
	}
	defer f.Close()
	serveWAV(w, r, "prompt-"+sanitizeFilename(p.Name)+".wav", info.ModTime, f)
	return nil
}

func (s *Server) systemPromptAudio(w http.ResponseWriter, r *http.Request, c *caller) error {
	name := r.PathValue("name")
	f, info, err := s.provision.OpenSystemPromptAudio(r.Context(), c.accountID, name, r.URL.Query().Get("language"))
	if err != nil {
		return err
	}
	defer f.Close()
	serveWAV(w, r, sanitizeFilename(name)+".wav", info.ModTime, f)
	return nil
}

// serveWAV answers the file with Range support (http.ServeContent).
func serveWAV(w http.ResponseWriter, r *http.Request, filename string, mod time.Time, f io.ReadSeeker) {
	w.Header().Set("Content-Type", "audio/wav")
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": filename}))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "", mod, f)
}

// sanitizeFilename keeps letters, digits, '-' and '_' of a name for a download's file name.
func sanitizeFilename(name string) string {
	out := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, name)
	if len(out) > 60 {
		out = out[:60]
	}
	return out
}
