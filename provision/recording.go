package provision

import (
	"context"
	"fmt"
	"strings"

	"switchboard"
)

// TranscriptionCheck, when set (by the transcription service), says what is missing for
// transcription to run — "" when an engine is configured. Enabling transcription on an
// account is refused with that message while it is not "".
type TranscriptionCheck func() string

// SetTranscriptionCheck installs the check (nil = transcription cannot be enabled: no
// transcription service in this process).
func (s *Service) SetTranscriptionCheck(c TranscriptionCheck) {
	s.vmMu.Lock()
	s.transcriptionCheck = c
	s.vmMu.Unlock()
}

// checkRecordingChange checks, before the account's write transaction, what the recording
// part of a change refers to: the consent prompt must be the account's, and transcription
// can be enabled only when an engine is configured.
func (s *Service) checkRecordingChange(ctx context.Context, accountID int64, c switchboard.AccountChange) error {
	if c.RecordingConsentPromptID != nil {
		if err := s.checkConsentPrompt(ctx, accountID, "recording_consent_prompt_id", *c.RecordingConsentPromptID); err != nil {
			return err
		}
	}
	if c.TranscriptionEnabled != nil && *c.TranscriptionEnabled {
		s.vmMu.Lock()
		check := s.transcriptionCheck
		s.vmMu.Unlock()
		missing := "no transcription engine is configured on this server"
		if check != nil {
			missing = check()
		}
		if missing != "" {
			return switchboard.FieldError(switchboard.EBADREQUEST, "transcription_enabled", "cannot be enabled: "+missing)
		}
	}
	return nil
}

// changeRecordingSettings applies the recording and transcription part of an account
// change (checked by checkRecordingChange).
func changeRecordingSettings(a *switchboard.Account, c switchboard.AccountChange) {
	if c.RecordingDefault != nil {
		a.RecordingDefault = strings.TrimSpace(*c.RecordingDefault)
	}
	set(&a.RecordingRetentionDays, c.RecordingRetentionDays)
	set(&a.RedactionEnabled, c.RedactionEnabled)
	set(&a.RecordingConsentPromptID, c.RecordingConsentPromptID)
	set(&a.TranscriptionEnabled, c.TranscriptionEnabled)
}

// checkConsentPrompt checks that a consent prompt id (0 = none) is one of the account's
// prompts.
func (s *Service) checkConsentPrompt(ctx context.Context, accountID int64, field string, id int64) error {
	if id == 0 {
		return nil
	}
	if id < 0 {
		return switchboard.FieldError(switchboard.EBADREQUEST, field, "must be a prompt id, or 0 for none")
	}
	if _, err := s.store.GetPrompt(ctx, accountID, id); err != nil {
		if switchboard.ErrorCode(err) == switchboard.ENOTFOUND {
			return switchboard.FieldError(switchboard.EBADREQUEST, field, fmt.Sprintf("no prompt with id %d in this account", id))
		}
		return err
	}
	return nil
}

// checkNumberConsentPrompt checks a number change's consent prompt is the account's.
func (s *Service) checkNumberConsentPrompt(ctx context.Context, accountID int64, c switchboard.NumberChange) error {
	if c.RecordingConsentPromptID == nil {
		return nil
	}
	return s.checkConsentPrompt(ctx, accountID, "recording_consent_prompt_id", *c.RecordingConsentPromptID)
}
