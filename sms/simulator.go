package sms

import (
	"context"
	"sync"
	"time"

	"switchboard"
)

// Magic numbers of the simulator, after Twilio's test credentials.
const (
	// SimulatorFailNumber accepts the message (sent) and then reports it undelivered.
	SimulatorFailNumber = "+15005550001"
	// SimulatorRefuseNumber is refused at once, permanently (the message fails).
	SimulatorRefuseNumber = "+15005550009"
)

// Simulator is a carrier that delivers nothing: it accepts each message, answers a
// reference, and after a short delay reports it delivered (undelivered for
// SimulatorFailNumber). It is idempotent by message id: a message sent again (after a crash
// between claim and confirmation) gets the same reference and one report.
type Simulator struct {
	inbox switchboard.SMSInbox
	delay time.Duration

	mu   sync.Mutex
	seen map[string]string // message id -> ref
	n    int
}

// NewSimulator returns a simulator reporting to inbox after delay.
func NewSimulator(inbox switchboard.SMSInbox, delay time.Duration) *Simulator {
	return &Simulator{inbox: inbox, delay: delay, seen: map[string]string{}}
}

func (*Simulator) Name() string { return "simulator" }

// Send accepts m; see the type's comment.
func (s *Simulator) Send(_ context.Context, m *switchboard.Message) (string, error) {
	if m.To == SimulatorRefuseNumber {
		return "", &switchboard.CarrierError{Permanent: true,
			Reason: "simulator: " + SimulatorRefuseNumber + " is the magic number the carrier refuses"}
	}
	s.mu.Lock()
	ref, dup := s.seen[m.ID]
	if !dup {
		s.n++
		ref = "sim_" + m.ID[len(m.ID)-12:] + "_" + itoa(s.n)
		s.seen[m.ID] = ref
	}
	s.mu.Unlock()
	if dup {
		return ref, nil
	}
	id, to, account := m.ID, m.To, m.AccountID
	time.AfterFunc(s.delay, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		status, text := switchboard.SMSDelivered, "DELIVRD"
		if to == SimulatorFailNumber {
			status, text = switchboard.SMSUndelivered, "UNDELIV: "+SimulatorFailNumber+" is the simulator's magic number that never receives"
		}
		_ = s.inbox.Report(ctx, account, "simulator", id, status, text)
	})
	return ref, nil
}
