package sms

import (
	"context"
	"slices"
	"strings"

	"switchboard"
)

// The Messages API's reads and the settings, scoped as the key allows: userID 0 is a
// developer key (the whole account); a user sees the messages of the numbers they own or
// are SMS-assigned to, and phone-to-phone messages they sent or received.

func (s *Service) scope(ctx context.Context, accountID, userID int64, f *switchboard.MessageFilter) error {
	if userID == 0 {
		return nil
	}
	nums, err := s.st.ListNumbers(ctx, accountID, switchboard.NumberFilter{AssignedToUserID: userID})
	if err != nil {
		return err
	}
	f.NumberIDs = []int64{}
	for _, n := range nums {
		f.NumberIDs = append(f.NumberIDs, n.ID)
	}
	return nil
}

// ListMessages pages the messages the key may see, newest first.
func (s *Service) ListMessages(ctx context.Context, accountID, userID int64, f switchboard.MessageFilter) ([]*switchboard.Message, bool, error) {
	if err := s.scope(ctx, accountID, userID, &f); err != nil {
		return nil, false, err
	}
	return s.st.PageMessages(ctx, accountID, f)
}

// Conversations groups the messages the key may see by number and other party.
func (s *Service) Conversations(ctx context.Context, accountID, userID int64, f switchboard.MessageFilter) ([]*switchboard.Conversation, error) {
	if err := s.scope(ctx, accountID, userID, &f); err != nil {
		return nil, err
	}
	return s.st.Conversations(ctx, accountID, f)
}

// GetMessage returns one message with its status history; one the key may not see is
// NOT_FOUND.
func (s *Service) GetMessage(ctx context.Context, accountID, userID int64, id string) (*switchboard.Message, []switchboard.MessageStatusChange, error) {
	m, err := s.st.GetMessage(ctx, accountID, id)
	if err != nil {
		return nil, nil, err
	}
	if userID != 0 {
		f := switchboard.MessageFilter{}
		if err := s.scope(ctx, accountID, userID, &f); err != nil {
			return nil, nil, err
		}
		mine := m.NumberID != 0 && slices.Contains(f.NumberIDs, m.NumberID)
		mine = mine || (m.NumberID == 0 && (m.SentByUserID == userID || m.PhoneUserID == userID))
		if !mine {
			return nil, nil, switchboard.Errorf(switchboard.ENOTFOUND, "Message %s not found", id)
		}
	}
	h, err := s.st.MessageHistory(ctx, accountID, id)
	return m, h, err
}

// InjectInbound is the simulator's inbound message (POST /simulator/sms): as if the
// simulated carrier delivered it to the account's number `to`. The number must be the
// account's, SMS-enabled, and its carrier the simulator.
func (s *Service) InjectInbound(ctx context.Context, accountID int64, from, to, body string) (*switchboard.Message, error) {
	v := switchboard.ValidationErrors{}
	var num *switchboard.Number
	if e, ok := normalize(to); !ok {
		v.Add("to", "is not a valid phone number")
	} else if list, err := s.st.ListNumbers(ctx, accountID, switchboard.NumberFilter{Number: e}); err != nil {
		return nil, err
	} else if len(list) == 0 {
		v.Add("to", "must be one of this account's numbers")
	} else if !list[0].SMSEnabled {
		v.Add("to", "does not have SMS enabled")
	} else {
		num = list[0]
	}
	if _, ok := normalize(from); !ok && !shortCodeRE.MatchString(strings.TrimSpace(from)) {
		v.Add("from", "is not a valid phone number")
	}
	if _, err := CheckBody(body, MaxParts); err != nil {
		v.Add("message", fieldMessage(err))
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	set, err := s.Effective(ctx, accountID, num.ID)
	if err != nil {
		return nil, err
	}
	if c := s.carrierName(set); c != "simulator" {
		return nil, switchboard.Errorf(switchboard.ECONFLICT,
			"The number's SMS carrier is %q, not the simulator: inbound messages arrive from that carrier", c)
	}
	return s.Receive(ctx, "simulator", from, num.Number, body, "")
}

// SettingsChange is a change of SMS settings (PUT /sms/settings); nil fields keep their value.
type SettingsChange struct {
	NumberID       int64
	MaxParts       *int
	Carrier        *string
	AllowPremium   *bool
	RatePerMinute  *int
	KannelURL      *string
	KannelUser     *string
	KannelPassword *string // "" clears it
	KannelSMSC     *string
}

// Settings reads the account's (numberID 0) or a number's settings.
func (s *Service) Settings(ctx context.Context, accountID, numberID int64) (*switchboard.SMSSettings, error) {
	if numberID != 0 {
		if _, err := s.st.GetNumber(ctx, accountID, numberID); err != nil {
			return nil, err
		}
	}
	return s.st.GetSMSSettings(ctx, accountID, numberID)
}

// UpdateSettings validates and saves a change; the Kannel password is sealed.
func (s *Service) UpdateSettings(ctx context.Context, accountID int64, c SettingsChange) (*switchboard.SMSSettings, error) {
	cur, err := s.Settings(ctx, accountID, c.NumberID)
	if err != nil {
		return nil, err
	}
	v := switchboard.ValidationErrors{}
	if c.MaxParts != nil {
		if *c.MaxParts < 0 || *c.MaxParts > MaxParts {
			v.Add("sms_max_parts", "must be 0 to 10 (0 or 1: single messages only)")
		}
		cur.MaxParts = *c.MaxParts
	}
	if c.Carrier != nil {
		if *c.Carrier != "" && !slices.Contains(CarrierNames, *c.Carrier) {
			v.Add("sms_carrier", "must be simulator, kannel or sip (or empty for the server's default)")
		}
		cur.Carrier = *c.Carrier
	}
	if c.AllowPremium != nil {
		cur.AllowPremium = *c.AllowPremium
	}
	if c.RatePerMinute != nil {
		if *c.RatePerMinute < 0 || *c.RatePerMinute > 100000 {
			v.Add("rate_per_minute", "must be 0 to 100000 (0: the server's default)")
		}
		cur.RatePerMinute = *c.RatePerMinute
	}
	if c.KannelURL != nil {
		u := strings.TrimSpace(*c.KannelURL)
		if u != "" && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
			v.Add("kannel.url", "must be an http:// or https:// URL of smsbox's sendsms")
		}
		cur.KannelURL = u
	}
	if c.KannelUser != nil {
		cur.KannelUser = *c.KannelUser
	}
	if c.KannelSMSC != nil {
		cur.KannelSMSC = *c.KannelSMSC
	}
	if c.KannelPassword != nil {
		cur.KannelPassword = nil
		if *c.KannelPassword != "" {
			if s.cfg.Sealer == nil {
				return nil, switchboard.Errorf(switchboard.EUNAVAILABLE, "Secrets cannot be stored: the server has no key")
			}
			cur.KannelPassword = s.cfg.Sealer.Seal(*c.KannelPassword)
		}
	}
	if cur.Carrier == "kannel" && cur.KannelURL == "" {
		v.Add("kannel.url", "is required when sms_carrier is kannel")
	}
	if err := v.Err(); err != nil {
		return nil, err
	}
	cur.AccountID, cur.NumberID = accountID, c.NumberID
	if err := s.st.PutSMSSettings(ctx, cur); err != nil {
		return nil, err
	}
	s.ForgetAccount(accountID)
	s.mu.Lock()
	s.carriers = map[string]switchboard.SMSCarrier{} // rebuilt with the new settings
	s.mu.Unlock()
	return cur, nil
}
