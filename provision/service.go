package provision

import (
	"context"
	"errors"
	"log/slog"
	"sync"

	"switchboard"
	"switchboard/phone"
	"switchboard/prompt"
)

// Sealer seals trunk passwords at rest (webhook.Sealer with the server key).
type Sealer interface {
	Seal(plaintext string) []byte
}

// Engine is the call engine's in-memory copy of provisioning data, told after a change is
// committed so that the next call sees it at once. pbx.Engine implements it.
type Engine interface {
	InvalidateQueueMembers(queueID int64)
	InvalidateTrunks()
}

// Config is what a Service needs.
type Config struct {
	Store switchboard.Store
	// Sealer seals trunk passwords; nil means a trunk with a password cannot be stored (503).
	Sealer Sealer
	// Engine is told of changes to queue members and trunks; nil = no call engine in this
	// process (another node's engine sees changes when its caches expire).
	Engine Engine
	Logger *slog.Logger // nil = discard
	// Blobs stores prompt audio; nil = prompts answer 503.
	Blobs switchboard.BlobStore
	// Speaker speaks text prompts (espeak-ng); nil or not installed = text prompts answer 503.
	Speaker *prompt.Speaker
	// FlowRefs checks that the prompts, voicemail boxes and conference rooms a call flow
	// names exist in the account, by switchboard.FlowRef* kind (see FlowRefChecker).
	FlowRefs map[string]FlowRefChecker
}

// Service implements the root's provisioning services (UserService, QueueService, …).
type Service struct {
	store  switchboard.Store
	sealer Sealer
	engine Engine
	logger *slog.Logger
	// flowRefs: Config.FlowRefs.
	flowRefs map[string]FlowRefChecker
	// trustMu serializes the check and the write of trusted addresses (trunks, grants) in
	// this process, so that two accounts cannot both take one address at the same moment.
	trustMu sync.Mutex

	blobs   switchboard.BlobStore
	speaker *prompt.Speaker
	// vmMu guards vmCfg, the voicemail storage and hooks (SetVoicemail, voicemail.go).
	vmMu  sync.Mutex
	vmCfg VoicemailConfig
	// transcriptionCheck (under vmMu): SetTranscriptionCheck.
	transcriptionCheck TranscriptionCheck
}

// New returns the service for cfg.
func New(cfg Config) *Service {
	s := &Service{store: cfg.Store, sealer: cfg.Sealer, engine: cfg.Engine, logger: cfg.Logger, blobs: cfg.Blobs, speaker: cfg.Speaker,
		flowRefs: cfg.FlowRefs}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	return s
}

var (
	_ switchboard.AccountService    = (*Service)(nil)
	_ switchboard.UserService       = (*Service)(nil)
	_ switchboard.DeviceService     = (*Service)(nil)
	_ switchboard.QueueService      = (*Service)(nil)
	_ switchboard.RingGroupService  = (*Service)(nil)
	_ switchboard.NumberService     = (*Service)(nil)
	_ switchboard.ContactService    = (*Service)(nil)
	_ switchboard.APIKeyService     = (*Service)(nil)
	_ switchboard.TrunkService      = (*Service)(nil)
	_ switchboard.MusicClassService = (*Service)(nil)
	_ switchboard.PromptService     = (*Service)(nil)
	_ switchboard.CallFlowService   = (*Service)(nil)
	_ switchboard.ConferenceService = (*Service)(nil)
)

// queueMembersChanged tells the engine, if there is one, to read the queue's members again.
func (s *Service) queueMembersChanged(queueID int64) {
	if s.engine != nil {
		s.engine.InvalidateQueueMembers(queueID)
	}
}

// set copies a given value (non-nil) of a change into the field.
func set[T any](field *T, given *T) {
	if given != nil {
		*field = *given
	}
}

// created ends every Create: x is stored with create once it is valid (see validate). The
// store's Create methods validate too, but only the domain's rules.
func created[T interface{ Validate() error }](ctx context.Context, v switchboard.ValidationErrors, x T, create func(context.Context, T) error) (T, error) {
	err := validate(v, x)
	if err == nil {
		err = create(ctx, x)
	}
	if err != nil {
		var none T
		return none, err
	}
	return x, nil
}

// validate merges the problems the apply step found with the domain's Validate, so that a
// client hears of every bad field at once; where both name a field, the apply step's
// (more specific) problem is kept.
func validate(v switchboard.ValidationErrors, x interface{ Validate() error }) error {
	if err := x.Validate(); err != nil {
		var e *switchboard.Error
		if !errors.As(err, &e) || len(e.Details) == 0 {
			return err
		}
		for field, problem := range e.Details {
			v.Add(field, problem)
		}
	}
	return v.Err()
}

// normalizePhone turns a typed number into E.164, recording a problem for field when it is
// not a phone number; the raw value is returned then, for the domain check to see.
func normalizePhone(v switchboard.ValidationErrors, field, raw string) string {
	if raw == "" {
		return ""
	}
	n, ok := phone.Normalize(raw)
	if !ok {
		v.Add(field, "is not a valid phone number")
		return raw
	}
	return n
}

// normalizeTarget returns the target with its number, if given, in E.164.
func normalizeTarget(v switchboard.ValidationErrors, field string, c switchboard.TargetChange) switchboard.Target {
	t := switchboard.Target{Type: c.Type, ID: c.ID}
	if c.Number != nil {
		n, ok := phone.Normalize(*c.Number)
		if !ok {
			v.Add(field, "number is not a valid phone number")
			return t
		}
		t.Number = n
	}
	return t
}

// checkUserRef records a problem for field unless id (0 = none) is a user of the account.
func (s *Service) checkUserRef(ctx context.Context, v switchboard.ValidationErrors, accountID int64, field string, id int64) error {
	switch {
	case id == 0:
		return nil
	case id < 0:
		v.Add(field, "must be a user ID")
		return nil
	}
	_, err := s.store.GetUser(ctx, accountID, id)
	if switchboard.ErrorCode(err) == switchboard.ENOTFOUND {
		v.Add(field, "is not a user of this account")
		return nil
	}
	return err
}
