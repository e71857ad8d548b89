package provision

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strconv"

	"switchboard"
	"switchboard/events"
	"switchboard/media"
)

// VoicemailConfig is what the voicemail side of the service needs besides the store.
type VoicemailConfig struct {
	// Changed is told after a box's messages changed (left, read, deleted): the message
	// waiting lamps of the box's user are lit or put out from there.
	Changed func(accountID, boxID, userID int64)
	// Left is told after a message was stored (voicemail to email).
	Left func(b *switchboard.VoicemailBox, m *switchboard.VoicemailMessage)
}

func (s *Service) vm() VoicemailConfig {
	s.vmMu.Lock()
	defer s.vmMu.Unlock()
	return s.vmCfg
}

// SetVoicemail configures voicemail storage and change hooks; call it before serving.
func (s *Service) SetVoicemail(cfg VoicemailConfig) {
	s.vmMu.Lock()
	s.vmCfg = cfg
	s.vmMu.Unlock()
}

var _ switchboard.VoicemailService = (*Service)(nil)

// voicemailBlobs is where messages' WAV files are kept (Config.Blobs); without it everything
// voicemail answers 503.
func (s *Service) voicemailBlobs() (switchboard.BlobStore, error) {
	b := s.blobs
	if b == nil {
		return nil, switchboard.Errorf(switchboard.EUNAVAILABLE, "Voicemail storage is not configured on this server")
	}
	return b, nil
}

// UserVoicemailBox returns the user's box, creating it with the defaults on first use (a
// user gets a box the first time anything needs it: a call, *97, the API).
func (s *Service) UserVoicemailBox(ctx context.Context, accountID, userID int64) (*switchboard.VoicemailBox, error) {
	b, err := s.store.GetUserVoicemailBox(ctx, accountID, userID)
	if switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		return b, err
	}
	u, err := s.store.GetUser(ctx, accountID, userID)
	if err != nil {
		return nil, err
	}
	b = switchboard.NewVoicemailBox(accountID, userID, u.DisplayName())
	err = s.store.CreateVoicemailBox(ctx, b)
	if switchboard.ErrorCode(err) == switchboard.ECONFLICT { // created meanwhile by another request
		return s.store.GetUserVoicemailBox(ctx, accountID, userID)
	}
	return b, err
}

// CreateVoicemailBox creates a shared box (no user): the defaults, then the change.
func (s *Service) CreateVoicemailBox(ctx context.Context, accountID int64, c switchboard.VoicemailBoxChange) (*switchboard.VoicemailBox, error) {
	b := switchboard.NewVoicemailBox(accountID, 0, "")
	if err := applyVoicemailBox(b, c); err != nil {
		return nil, err
	}
	if err := s.store.CreateVoicemailBox(ctx, b); err != nil {
		return nil, err
	}
	return b, nil
}

// UpdateVoicemailBox applies a PATCH to the account's box.
func (s *Service) UpdateVoicemailBox(ctx context.Context, accountID, id int64, c switchboard.VoicemailBoxChange) (*switchboard.VoicemailBox, error) {
	return s.store.UpdateVoicemailBoxFunc(ctx, accountID, id, func(b *switchboard.VoicemailBox) error {
		return applyVoicemailBox(b, c)
	})
}

// applyVoicemailBox is the one validated path of create and PATCH.
func applyVoicemailBox(b *switchboard.VoicemailBox, c switchboard.VoicemailBoxChange) error {
	v := switchboard.ValidationErrors{}
	set(&b.Name, c.Name)
	set(&b.MaxMessageSeconds, c.MaxMessageSeconds)
	set(&b.MaxMessages, c.MaxMessages)
	set(&b.OnNoAnswer, c.OnNoAnswer)
	set(&b.OnBusy, c.OnBusy)
	set(&b.OnDND, c.OnDND)
	set(&b.OnOffline, c.OnOffline)
	set(&b.Email, c.Email)
	set(&b.EmailAttach, c.EmailAttach)
	if c.PIN != nil {
		switch {
		case *c.PIN == "":
			b.PINHash = ""
		case !switchboard.ValidVoicemailPIN(*c.PIN):
			v.Add("pin", "must be 4 to 10 digits, or empty for no PIN")
		default:
			b.PINHash = switchboard.HashVoicemailPIN(*c.PIN)
		}
	}
	return validate(v, b)
}

// DeleteVoicemailBox deletes a box with its messages and their audio.
func (s *Service) DeleteVoicemailBox(ctx context.Context, accountID, id int64) error {
	b, err := s.store.GetVoicemailBox(ctx, accountID, id)
	if err != nil {
		return err
	}
	keys, err := s.store.DeleteVoicemailBox(ctx, accountID, id)
	if err != nil {
		return err
	}
	s.removeBlobs(ctx, "voicemail file", keys)
	s.voicemailChanged(accountID, b.ID, b.UserID)
	return nil
}

// LeaveVoicemail stores the WAV, then the message with its event in one transaction. When
// the row cannot be stored (the box filled up meanwhile) the file is removed again.
func (s *Service) LeaveVoicemail(ctx context.Context, m *switchboard.VoicemailMessage, wav []byte, event func(*switchboard.VoicemailMessage) *switchboard.Event) error {
	blobs, err := s.voicemailBlobs()
	if err != nil {
		return err
	}
	b, err := s.store.GetVoicemailBox(ctx, m.AccountID, m.BoxID)
	if err != nil {
		return err
	}
	if m.AudioKey == "" {
		m.AudioKey = switchboard.AccountBlobKey(m.AccountID, "voicemail", strconv.FormatInt(m.BoxID, 10),
			switchboard.NewEventID()[4:]+".wav")
	}
	m.AudioBytes = int64(len(wav))
	if _, err := blobs.Put(ctx, m.AudioKey, bytes.NewReader(wav)); err != nil {
		return fmt.Errorf("storing the voicemail audio: %w", err)
	}
	if err := s.store.CreateVoicemailMessage(ctx, m, event); err != nil {
		_ = blobs.Delete(context.WithoutCancel(ctx), m.AudioKey)
		return err
	}
	s.voicemailChanged(m.AccountID, b.ID, b.UserID)
	if left := s.vm().Left; left != nil {
		left(b, m)
	}
	return nil
}

// MarkVoicemailRead marks a message read; the first time, voicemail.read is stored with it.
func (s *Service) MarkVoicemailRead(ctx context.Context, accountID, id int64) (*switchboard.VoicemailMessage, error) {
	var box *switchboard.VoicemailBox
	m, changed, err := s.store.MarkVoicemailRead(ctx, accountID, id, func(m *switchboard.VoicemailMessage) *switchboard.Event {
		box, _ = s.store.GetVoicemailBox(ctx, accountID, m.BoxID)
		return s.voicemailEvent(ctx, switchboard.EventVoicemailRead, box, m)
	})
	if err == nil && changed {
		s.voicemailChanged(accountID, m.BoxID, boxUser(box))
	}
	return m, err
}

// DeleteVoicemailMessage deletes a message (voicemail.deleted in the same transaction) and
// then its audio.
func (s *Service) DeleteVoicemailMessage(ctx context.Context, accountID, id int64) error {
	var box *switchboard.VoicemailBox
	m, err := s.store.DeleteVoicemailMessage(ctx, accountID, id, func(m *switchboard.VoicemailMessage) *switchboard.Event {
		box, _ = s.store.GetVoicemailBox(ctx, accountID, m.BoxID)
		return s.voicemailEvent(ctx, switchboard.EventVoicemailDeleted, box, m)
	})
	if err != nil {
		return err
	}
	if blobs := s.blobs; blobs != nil {
		if err := blobs.Delete(ctx, m.AudioKey); err != nil {
			s.logger.Warn("removing a voicemail file failed", "key", m.AudioKey, "error", err)
		}
	}
	s.voicemailChanged(accountID, m.BoxID, boxUser(box))
	return nil
}

// voicemailEvent builds voicemail.read or voicemail.deleted inside the change's
// transaction. The counts are read from the read pool, which does not see the change yet,
// and corrected by it: a read message moves from new to old, a deleted one leaves its side.
func (s *Service) voicemailEvent(ctx context.Context, name string, b *switchboard.VoicemailBox, m *switchboard.VoicemailMessage) *switchboard.Event {
	c, _ := s.store.VoicemailCounts(ctx, m.AccountID, m.BoxID)
	switch name {
	case switchboard.EventVoicemailRead:
		c.New, c.Old = max(0, c.New-1), c.Old+1
	case switchboard.EventVoicemailDeleted:
		if m.Read {
			c.Old = max(0, c.Old-1)
		} else {
			c.New = max(0, c.New-1)
		}
	}
	data := map[string]any{events.FieldVoicemailID: m.ID, events.FieldVoicemailBoxID: m.BoxID,
		events.FieldNewMessages: c.New, events.FieldOldMessages: c.Old}
	if b != nil && b.UserID != 0 {
		data[events.FieldUserID] = b.UserID
		if u, err := s.store.GetUser(ctx, m.AccountID, b.UserID); err == nil {
			data[events.FieldExtension] = u.Extension
		}
	}
	return switchboard.NewEvent(m.AccountID, name, data)
}

func boxUser(b *switchboard.VoicemailBox) int64 {
	if b == nil {
		return 0
	}
	return b.UserID
}

func (s *Service) voicemailChanged(accountID, boxID, userID int64) {
	if f := s.vm().Changed; f != nil {
		f(accountID, boxID, userID)
	}
}

// OpenVoicemailAudio opens a message's WAV for download.
func (s *Service) OpenVoicemailAudio(ctx context.Context, accountID, id int64) (*switchboard.VoicemailMessage, io.ReadSeekCloser, int64, error) {
	blobs, err := s.voicemailBlobs()
	if err != nil {
		return nil, nil, 0, err
	}
	m, err := s.store.GetVoicemailMessage(ctx, accountID, id)
	if err != nil {
		return nil, nil, 0, err
	}
	f, info, err := blobs.Open(ctx, m.AudioKey)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("opening the voicemail audio: %w", err)
	}
	return m, f, info.Size, nil
}

// SetVoicemailGreeting converts an uploaded WAV or MP3 (as music on hold is converted:
// 8 kHz µ-law, at most MaxMusicDuration) and makes it the box's greeting. The audio is
// stored first under a new key and the box points at it in one update; the old greeting's
// audio is removed after.
func (s *Service) SetVoicemailGreeting(ctx context.Context, accountID, id int64, u switchboard.MusicUpload) (*switchboard.VoicemailBox, error) {
	blobs, err := s.voicemailBlobs()
	if err != nil {
		return nil, err
	}
	if _, err := s.store.GetVoicemailBox(ctx, accountID, id); err != nil {
		return nil, err
	}
	_, audio, _, err := convertMusic(u)
	if err != nil {
		return nil, err
	}
	key := switchboard.AccountBlobKey(accountID, "voicemail", strconv.FormatInt(id, 10), "greeting-"+switchboard.NewEventID()[4:]+".ulaw")
	if _, err := blobs.Put(ctx, key, bytes.NewReader(audio)); err != nil {
		return nil, fmt.Errorf("storing the greeting: %w", err)
	}
	return s.replaceGreeting(ctx, blobs, accountID, id, key)
}

// DeleteVoicemailGreeting brings back the default greeting.
func (s *Service) DeleteVoicemailGreeting(ctx context.Context, accountID, id int64) (*switchboard.VoicemailBox, error) {
	blobs, err := s.voicemailBlobs()
	if err != nil {
		return nil, err
	}
	return s.replaceGreeting(ctx, blobs, accountID, id, "")
}

func (s *Service) replaceGreeting(ctx context.Context, blobs switchboard.BlobStore, accountID, id int64, key string) (*switchboard.VoicemailBox, error) {
	var old string
	b, err := s.store.UpdateVoicemailBoxFunc(ctx, accountID, id, func(b *switchboard.VoicemailBox) error {
		old, b.GreetingKey = b.GreetingKey, key
		return nil
	})
	if err != nil {
		if key != "" {
			_ = blobs.Delete(context.WithoutCancel(ctx), key)
		}
		return nil, err
	}
	if old != "" {
		if err := blobs.Delete(ctx, old); err != nil {
			s.logger.Warn("removing an old greeting failed", "key", old, "error", err)
		}
	}
	return b, nil
}

// VoicemailGreeting reads the box's own greeting, nil when it has none.
func (s *Service) VoicemailGreeting(ctx context.Context, b *switchboard.VoicemailBox) ([]int16, error) {
	if b.GreetingKey == "" {
		return nil, nil
	}
	blobs, err := s.voicemailBlobs()
	if err != nil {
		return nil, err
	}
	f, _, err := blobs.Open(ctx, b.GreetingKey)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	ulaw, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	pcm := make([]int16, len(ulaw))
	for i, v := range ulaw {
		pcm[i] = media.UlawDecode(v)
	}
	return pcm, nil
}

// removeBlobs removes the files of rows just deleted. A failure only leaves an orphan file
// behind (logged): the rows are gone either way.
func (s *Service) removeBlobs(ctx context.Context, what string, keys []string) {
	if s.blobs == nil {
		return
	}
	for _, k := range keys {
		if err := s.blobs.Delete(ctx, k); err != nil {
			s.logger.Warn("removing a "+what+" failed", "key", k, "error", err)
		}
	}
}
