package provision

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"strings"
	"unicode/utf8"

	"switchboard"
	"switchboard/prompt"
)

// PromptInUse tells which call flows of the account play the prompt (their names), for
// DeletePrompt to refuse deleting it; the flow service provides it.
type PromptInUse func(ctx context.Context, accountID, promptID int64) ([]string, error)

// SetPromptInUse sets the hook DeletePrompt consults (nil: no flow plays prompts). Set it
// before the service serves requests.
func (s *Service) SetPromptInUse(f PromptInUse) { s.promptInUse = f }

// prompts answers 503 while no blob store is configured.
func (s *Service) promptStorage() error {
	if s.blobs == nil {
		return switchboard.Errorf(switchboard.EUNAVAILABLE, "Prompts are not available: no storage for audio is configured on this server")
	}
	return nil
}

func checkPromptName(v switchboard.ValidationErrors, name string) {
	if strings.TrimSpace(name) == "" || len(name) > switchboard.MaxPromptNameLength || strings.ContainsAny(name, "\x00\r\n") ||
		!utf8.ValidString(name) {
		v.Add("name", "is required: at most 100 characters on one line")
	}
}

func checkLanguage(v switchboard.ValidationErrors, field, lang string) {
	if lang != "" && !switchboard.ValidLanguage(lang) {
		v.Add(field, switchboard.LanguageProblem())
	}
}

// CreatePromptFromAudio converts an uploaded WAV or MP3 to 8 kHz mono and stores it. The
// name and language are checked before the upload is read; the audio is written to the
// blob store before the row, and removed again if the row cannot be written.
func (s *Service) CreatePromptFromAudio(ctx context.Context, accountID int64, name, language string, u switchboard.PromptUpload) (*switchboard.Prompt, error) {
	if err := s.promptStorage(); err != nil {
		return nil, err
	}
	v := switchboard.ValidationErrors{}
	checkPromptName(v, name)
	checkLanguage(v, "language", language)
	if err := v.Err(); err != nil {
		return nil, err
	}
	format, pcm, err := decodeUpload(u, switchboard.MaxPromptUploadBytes, switchboard.MaxPromptDuration)
	if err != nil {
		return nil, err
	}
	return s.storePrompt(ctx, &switchboard.Prompt{AccountID: accountID, Name: name, Source: format, Language: language}, pcm)
}

// CreatePromptFromText speaks the text with espeak-ng in the voice (default: the language,
// then the account's language) and stores the audio.
func (s *Service) CreatePromptFromText(ctx context.Context, accountID int64, name string, sp switchboard.PromptSpeech) (*switchboard.Prompt, error) {
	if err := s.promptStorage(); err != nil {
		return nil, err
	}
	v := switchboard.ValidationErrors{}
	checkPromptName(v, name)
	checkLanguage(v, "language", sp.Language)
	switch {
	case strings.TrimSpace(sp.Text) == "":
		v.Add("text", "is required: the words to speak")
	case len(sp.Text) > switchboard.MaxPromptTextBytes:
		v.Add("text", "must be at most 4000 bytes: split a longer announcement into several prompts")
	case !utf8.ValidString(sp.Text) || strings.ContainsRune(sp.Text, 0):
		v.Add("text", "must be UTF-8 text")
	}
	if sp.Voice != "" && !prompt.ValidVoice(sp.Voice) {
		v.Add("voice", "must be an espeak-ng voice such as en, en-us or de")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	voice := sp.Voice
	if voice == "" {
		voice = sp.Language
	}
	if voice == "" {
		a, err := s.store.GetAccount(ctx, accountID)
		if err != nil {
			return nil, err
		}
		voice = a.SpokenLanguage()
	}
	pcm, err := s.speaker.Speak(ctx, sp.Text, voice)
	if err != nil {
		return nil, err
	}
	return s.storePrompt(ctx, &switchboard.Prompt{AccountID: accountID, Name: name, Source: switchboard.PromptSourceTTS,
		Text: sp.Text, Voice: voice, Language: sp.Language}, pcm)
}

// storePrompt writes the audio under a new key of the account, then the row.
func (s *Service) storePrompt(ctx context.Context, p *switchboard.Prompt, pcm []int16) (*switchboard.Prompt, error) {
	var id [12]byte
	rand.Read(id[:])
	p.BlobKey = switchboard.AccountBlobKey(p.AccountID, "prompts", hex.EncodeToString(id[:])+".wav")
	p.Samples = len(pcm)
	size, err := s.blobs.Put(ctx, p.BlobKey, bytes.NewReader(prompt.EncodeWAV(pcm)))
	if err != nil {
		return nil, err
	}
	p.Size = size
	if err := s.store.CreatePrompt(ctx, p); err != nil {
		if derr := s.blobs.Delete(context.WithoutCancel(ctx), p.BlobKey); derr != nil {
			s.logger.Warn("prompt audio left behind", "key", p.BlobKey, "err", derr)
		}
		return nil, err
	}
	return p, nil
}

// OpenPromptAudio opens the stored WAV of the account's prompt.
func (s *Service) OpenPromptAudio(ctx context.Context, accountID, id int64) (*switchboard.Prompt, io.ReadSeekCloser, switchboard.BlobInfo, error) {
	if err := s.promptStorage(); err != nil {
		return nil, nil, switchboard.BlobInfo{}, err
	}
	p, err := s.store.GetPrompt(ctx, accountID, id)
	if err != nil {
		return nil, nil, switchboard.BlobInfo{}, err
	}
	r, info, err := s.blobs.Open(ctx, p.BlobKey)
	if err != nil {
		return nil, nil, switchboard.BlobInfo{}, err
	}
	return p, r, info, nil
}

// DeletePrompt deletes the account's prompt unless a call flow plays it (CONFLICT naming
// the flows), then its audio.
func (s *Service) DeletePrompt(ctx context.Context, accountID, id int64) error {
	if err := s.promptStorage(); err != nil {
		return err
	}
	if _, err := s.store.GetPrompt(ctx, accountID, id); err != nil {
		return err
	}
	if s.promptInUse != nil {
		flows, err := s.promptInUse(ctx, accountID, id)
		if err != nil {
			return err
		}
		if len(flows) > 0 {
			return switchboard.FieldError(switchboard.ECONFLICT, "prompt_id",
				"is played by the call flow "+strings.Join(flows, ", ")+": take it out of the flow first")
		}
	}
	p, err := s.store.DeletePrompt(ctx, accountID, id)
	if err != nil {
		return err
	}
	if err := s.blobs.Delete(context.WithoutCancel(ctx), p.BlobKey); err != nil {
		s.logger.Warn("prompt audio left behind", "key", p.BlobKey, "err", err)
	}
	return nil
}

// systemPrompt checks the name and language of a system prompt operation; language ""
// is the account's.
func (s *Service) systemPrompt(ctx context.Context, accountID int64, name, language string) (*prompt.SystemPrompt, string, error) {
	if err := s.promptStorage(); err != nil {
		return nil, "", err
	}
	v := switchboard.ValidationErrors{}
	checkLanguage(v, "language", language)
	if err := v.Err(); err != nil {
		return nil, "", err
	}
	if language == "" {
		a, err := s.store.GetAccount(ctx, accountID)
		if err != nil {
			return nil, "", err
		}
		language = a.SpokenLanguage()
	}
	if name == "" {
		return nil, language, nil
	}
	p := prompt.Lookup(name)
	if p == nil {
		return nil, "", switchboard.Errorf(switchboard.ENOTFOUND, "No system prompt named %q (GET /prompts/system lists them)", name)
	}
	return p, language, nil
}

func systemInfo(p *prompt.SystemPrompt, language, source string, info switchboard.BlobInfo) switchboard.SystemPromptInfo {
	text := p.Texts[language]
	if source == prompt.SourceFallbackEN {
		text = p.Texts[switchboard.DefaultLanguage]
	}
	if source == prompt.SourceTones || source == prompt.SourceAccount {
		text = ""
	}
	return switchboard.SystemPromptInfo{Name: p.Name, Language: language, Text: text, Source: source, Size: info.Size, ModTime: info.ModTime}
}

// SystemPrompts lists the catalog in the language with where each prompt's audio comes from.
func (s *Service) SystemPrompts(ctx context.Context, accountID int64, language string) ([]switchboard.SystemPromptInfo, error) {
	_, language, err := s.systemPrompt(ctx, accountID, "", language)
	if err != nil {
		return nil, err
	}
	var out []switchboard.SystemPromptInfo
	for _, p := range prompt.Catalog() {
		source, info, err := prompt.Resolve(ctx, s.blobs, accountID, p, language)
		if err != nil {
			return nil, err
		}
		out = append(out, systemInfo(p, language, source, info))
	}
	return out, nil
}

// ReplaceSystemPrompt makes the upload the account's audio for the system prompt in the
// language; the account's calls play it from the next time on.
func (s *Service) ReplaceSystemPrompt(ctx context.Context, accountID int64, name, language string, u switchboard.PromptUpload) (*switchboard.SystemPromptInfo, error) {
	p, language, err := s.systemPrompt(ctx, accountID, name, language)
	if err != nil {
		return nil, err
	}
	_, pcm, err := decodeUpload(u, switchboard.MaxPromptUploadBytes, switchboard.MaxPromptDuration)
	if err != nil {
		return nil, err
	}
	key := prompt.AccountSystemKey(accountID, language, p.Name)
	if _, err := s.blobs.Put(ctx, key, bytes.NewReader(prompt.EncodeWAV(pcm))); err != nil {
		return nil, err
	}
	info, err := s.blobs.Stat(ctx, key)
	if err != nil {
		return nil, err
	}
	r := systemInfo(p, language, prompt.SourceAccount, info)
	return &r, nil
}

// ResetSystemPrompt removes the account's audio for the system prompt in the language
// (NOT_FOUND when it has none): the generated prompt plays again.
func (s *Service) ResetSystemPrompt(ctx context.Context, accountID int64, name, language string) error {
	p, language, err := s.systemPrompt(ctx, accountID, name, language)
	if err != nil {
		return err
	}
	key := prompt.AccountSystemKey(accountID, language, p.Name)
	if _, err := s.blobs.Stat(ctx, key); err != nil {
		if switchboard.ErrorCode(err) == switchboard.ENOTFOUND {
			return switchboard.Errorf(switchboard.ENOTFOUND, "This account has no audio of its own for %q in %s", name, language)
		}
		return err
	}
	return s.blobs.Delete(ctx, key)
}

// OpenSystemPromptAudio opens the WAV the account's calls play for the system prompt in
// the language: its upload, the generated one, or the fallback tones.
func (s *Service) OpenSystemPromptAudio(ctx context.Context, accountID int64, name, language string) (io.ReadSeekCloser, switchboard.BlobInfo, error) {
	p, language, err := s.systemPrompt(ctx, accountID, name, language)
	if err != nil {
		return nil, switchboard.BlobInfo{}, err
	}
	source, info, err := prompt.Resolve(ctx, s.blobs, accountID, p, language)
	if err != nil {
		return nil, switchboard.BlobInfo{}, err
	}
	if source == prompt.SourceTones {
		wav := prompt.EncodeWAV(prompt.Tones(p))
		return nopCloser{bytes.NewReader(wav)}, switchboard.BlobInfo{Key: p.Name, Size: int64(len(wav))}, nil
	}
	r, info, err := s.blobs.Open(ctx, info.Key)
	return r, info, err
}

type nopCloser struct{ io.ReadSeeker }

func (nopCloser) Close() error { return nil }
