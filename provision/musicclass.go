package provision

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"time"

	"switchboard"
	"switchboard/media"
)

// musicFormats maps the content types an upload may declare to the decoder's format.
var musicFormats = map[string]string{
	"audio/wav": "wav", "audio/x-wav": "wav", "audio/wave": "wav", "audio/vnd.wave": "wav",
	"audio/mpeg": "mp3", "audio/mp3": "mp3", "audio/mpeg3": "mp3", "audio/x-mpeg-3": "mp3",
}

// CreateMusicClass converts an uploaded WAV or MP3 file to 8 kHz µ-law and stores it as a
// new class. The whole file is read and decoded before anything is written, and the write
// is one statement: a bad or oversized upload stores nothing.
func (s *Service) CreateMusicClass(ctx context.Context, accountID int64, name string, u switchboard.MusicUpload) (*switchboard.MusicClass, error) {
	if !switchboard.ValidMusicClassName(name) {
		return nil, switchboard.FieldError(switchboard.EBADREQUEST, "name",
			"must be 1 to 40 lower-case letters, digits, '-' or '_', starting with a letter or digit")
	}
	format, audio, samples, err := convertMusic(u)
	if err != nil {
		return nil, err
	}
	m := &switchboard.MusicClass{AccountID: accountID, Name: name, Format: format, Samples: samples}
	if err := s.store.CreateMusicClass(ctx, m, audio); err != nil {
		return nil, err
	}
	return m, nil
}

// ReplaceMusicClassAudio converts an upload like CreateMusicClass and makes it the class's
// audio; a bad upload leaves the class as it was. The class is looked up first, so that a
// class of another account is NOT_FOUND whatever the body.
func (s *Service) ReplaceMusicClassAudio(ctx context.Context, accountID, id int64, u switchboard.MusicUpload) (*switchboard.MusicClass, error) {
	if _, err := s.store.GetMusicClass(ctx, accountID, id); err != nil {
		return nil, err
	}
	format, audio, samples, err := convertMusic(u)
	if err != nil {
		return nil, err
	}
	return s.store.ReplaceMusicClassAudio(ctx, accountID, id, format, samples, audio)
}

// convertMusic reads and decodes an upload: its format, its audio as 8 kHz µ-law and its
// length in samples.
func convertMusic(u switchboard.MusicUpload) (format string, audio []byte, samples int, err error) {
	format, pcm, err := decodeUpload(u, switchboard.MaxMusicUploadBytes, switchboard.MaxMusicDuration)
	if err != nil {
		return "", nil, 0, err
	}
	return format, media.EncodeFrame(nil, media.PCMU, pcm), len(pcm), nil
}

// decodeUpload reads an uploaded WAV or MP3 file (music or a prompt) of at most maxBytes
// and decodes it to 8 kHz mono PCM of at most maxDuration: its format ("wav" or "mp3")
// and its samples. A file that is not such audio, or is too long, is BAD_REQUEST naming
// audio; one too large PAYLOAD_TOO_LARGE.
func decodeUpload(u switchboard.MusicUpload, maxBytes int, maxDuration time.Duration) (format string, pcm []int16, err error) {
	mediaType, _, _ := mime.ParseMediaType(u.ContentType)
	format, ok := musicFormats[mediaType]
	if !ok {
		return "", nil, switchboard.Errorf(switchboard.EBADREQUEST,
			"The upload must be a WAV or MP3 file sent as audio/wav or audio/mpeg (got %q)", u.ContentType)
	}
	data, err := io.ReadAll(io.LimitReader(u.Body, int64(maxBytes)+1))
	var known *switchboard.Error
	if errors.As(err, &known) {
		return "", nil, err // the door's own answer (a body over its limit)
	}
	if err != nil {
		return "", nil, switchboard.Errorf(switchboard.EBADREQUEST, "The upload could not be read: %v", err)
	}
	if len(data) > maxBytes {
		return "", nil, switchboard.Errorf(switchboard.ETOOLARGE, "The audio file is larger than %d MiB", maxBytes>>20)
	}
	if format == "wav" {
		pcm, err = media.ReadWAV(bytes.NewReader(data), maxDuration)
	} else {
		pcm, err = media.ReadMP3(bytes.NewReader(data), maxDuration)
	}
	switch {
	case errors.Is(err, media.ErrAudioTooLong):
		return "", nil, audioError(fmt.Sprintf("is longer than %s: cut it shorter", maxDuration))
	case errors.Is(err, media.ErrBadAudio):
		article := map[string]string{"wav": "a WAV", "mp3": "an MP3"}[format]
		return "", nil, audioError(fmt.Sprintf("is not %s file this server can play (%v)", article, err))
	case err != nil:
		return "", nil, err
	}
	return format, pcm, nil
}

func audioError(problem string) error {
	err := switchboard.FieldError(switchboard.EBADREQUEST, "audio", problem)
	err.Message = "The audio file " + problem
	return err
}

// DeleteMusicClass deletes a class; while a queue names it, it stays (CONFLICT). Deleting
// the class named default brings back the generated default.
func (s *Service) DeleteMusicClass(ctx context.Context, accountID, id int64) error {
	return s.store.DeleteMusicClass(ctx, accountID, id)
}

// checkMusicClass refuses a musiconhold that names no class of the account: the default
// (generated or uploaded) or an uploaded one.
func (s *Service) checkMusicClass(ctx context.Context, v switchboard.ValidationErrors, accountID int64, name *string) error {
	if name == nil || *name == switchboard.DefaultMusicClass || *name == "" {
		return nil
	}
	_, err := s.store.GetMusicClassByName(ctx, accountID, *name)
	if switchboard.ErrorCode(err) == switchboard.ENOTFOUND {
		v.Add("musiconhold", "names no music class of this account: upload it first (POST /music_classes?name="+*name+")")
		return nil
	}
	return err
}
