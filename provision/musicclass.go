package provision

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"

	"switchboard"
	"switchboard/media"
)

// musicFormats maps the content types an upload may declare to the decoder's format.
var musicFormats = map[string]string{
	"audio/wav": "wav", "audio/x-wav": "wav", "audio/wave": "wav", "audio/vnd.wave": "wav",
	"audio/mpeg": "mp3", "audio/mp3": "mp3", "audio/mpeg3": "mp3", "audio/x-mpeg-3": "mp3",
}

// PutMusicClass converts an uploaded WAV or MP3 file to 8 kHz µ-law and stores it as the
// class name, replacing that class's audio if it exists. The whole file is read and decoded
// before anything is written, and the write is one transaction: a bad or oversized upload
// leaves the class as it was.
func (s *Service) PutMusicClass(ctx context.Context, accountID int64, name string, u switchboard.MusicUpload) (*switchboard.MusicClass, bool, error) {
	if !switchboard.ValidMusicClassName(name) {
		return nil, false, switchboard.FieldError(switchboard.EBADREQUEST, "name",
			"must be 1 to 40 lower-case letters, digits, '-' or '_', starting with a letter or digit")
	}
	mediaType, _, _ := mime.ParseMediaType(u.ContentType)
	format, ok := musicFormats[mediaType]
	if !ok {
		return nil, false, switchboard.Errorf(switchboard.EBADREQUEST,
			"The upload must be a WAV or MP3 file sent as audio/wav or audio/mpeg (got %q)", u.ContentType)
	}
	data, err := io.ReadAll(io.LimitReader(u.Body, switchboard.MaxMusicUploadBytes+1))
	var known *switchboard.Error
	if errors.As(err, &known) {
		return nil, false, err // the door's own answer (a body over its limit)
	}
	if err != nil {
		return nil, false, switchboard.Errorf(switchboard.EBADREQUEST, "The upload could not be read: %v", err)
	}
	if len(data) > switchboard.MaxMusicUploadBytes {
		return nil, false, switchboard.Errorf(switchboard.ETOOLARGE, "The audio file is larger than %d MiB", switchboard.MaxMusicUploadBytes>>20)
	}
	var pcm []int16
	if format == "wav" {
		pcm, err = media.ReadWAV(bytes.NewReader(data), switchboard.MaxMusicDuration)
	} else {
		pcm, err = media.ReadMP3(bytes.NewReader(data), switchboard.MaxMusicDuration)
	}
	switch {
	case errors.Is(err, media.ErrAudioTooLong):
		return nil, false, audioError(fmt.Sprintf("is longer than %s: cut it shorter", switchboard.MaxMusicDuration))
	case errors.Is(err, media.ErrBadAudio):
		return nil, false, audioError(fmt.Sprintf("is not a %s file this server can play (%v)", format, err))
	case err != nil:
		return nil, false, err
	}
	m := &switchboard.MusicClass{AccountID: accountID, Name: name, Format: format, Samples: len(pcm)}
	created, err := s.store.PutMusicClass(ctx, m, media.EncodeFrame(nil, media.PCMU, pcm))
	if err != nil {
		return nil, false, err
	}
	return m, created, nil
}

func audioError(problem string) error {
	err := switchboard.FieldError(switchboard.EBADREQUEST, "audio", problem)
	err.Message = "The audio file " + problem
	return err
}

// DeleteMusicClass deletes an uploaded class; while a queue names it, it stays (CONFLICT).
// Deleting the default class's upload brings back the generated default.
func (s *Service) DeleteMusicClass(ctx context.Context, accountID int64, name string) error {
	return s.store.DeleteMusicClass(ctx, accountID, name)
}

// checkMusicClass refuses a musiconhold that names no class of the account: the default
// (generated or uploaded) or an uploaded one.
func (s *Service) checkMusicClass(ctx context.Context, v switchboard.ValidationErrors, accountID int64, name *string) error {
	if name == nil || *name == switchboard.DefaultMusicClass || *name == "" {
		return nil
	}
	_, err := s.store.GetMusicClass(ctx, accountID, *name)
	if switchboard.ErrorCode(err) == switchboard.ENOTFOUND {
		v.Add("musiconhold", "names no music class of this account: upload it first (PUT /music_classes/"+*name+")")
		return nil
	}
	return err
}
