package mail

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"switchboard"
)

// VoicemailMailer emails each new message to its box's user, when the box says so
// (VoicemailBox.Email) and the user has an address: the WAV attached (EmailAttach) or a
// signed link to it.
type VoicemailMailer struct {
	Sender *Sender
	Users  interface {
		GetUser(ctx context.Context, accountID, id int64) (*switchboard.User, error)
	}
	Blobs  switchboard.BlobStore
	Links  *switchboard.VoicemailLinks
	Logger *slog.Logger
	wg     sync.WaitGroup
}

// mailTimeout bounds one voicemail email, reading the audio included.
const mailTimeout = time.Minute

// Left sends the email of a new message in the background (provision.VoicemailConfig.Left).
func (v *VoicemailMailer) Left(b *switchboard.VoicemailBox, m *switchboard.VoicemailMessage) {
	if !b.Email || b.UserID == 0 {
		return
	}
	v.wg.Add(1)
	go func() {
		defer v.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), mailTimeout)
		defer cancel()
		if err := v.send(ctx, b, m); err != nil && v.Logger != nil {
			v.Logger.Warn("voicemail email failed", "account_id", m.AccountID, "voicemail_id", m.ID, "error", err)
		}
	}()
}

// Wait waits for the emails in flight (shutdown).
func (v *VoicemailMailer) Wait() { v.wg.Wait() }

func (v *VoicemailMailer) send(ctx context.Context, b *switchboard.VoicemailBox, m *switchboard.VoicemailMessage) error {
	u, err := v.Users.GetUser(ctx, m.AccountID, b.UserID)
	if err != nil {
		return err
	}
	if strings.TrimSpace(u.Email) == "" {
		return nil
	}
	caller := m.From
	if caller == "" {
		caller = "an anonymous caller"
	}
	if m.CallerName != "" {
		caller = m.CallerName + " (" + caller + ")"
	}
	msg := Message{To: u.Email, Subject: fmt.Sprintf("New voicemail from %s", strings.NewReplacer("\r", " ", "\n", " ").Replace(caller))}
	msg.Text = fmt.Sprintf("%s left you a voicemail of %d seconds at %s.\n", caller,
		int(m.Duration().Round(time.Second)/time.Second), m.CreatedAt.UTC().Format(time.RFC1123))
	if b.EmailAttach {
		f, _, err := v.Blobs.Open(ctx, m.AudioKey)
		if err != nil {
			return err
		}
		data, err := io.ReadAll(f)
		f.Close()
		if err != nil {
			return err
		}
		msg.Attachments = []Attachment{{Name: fmt.Sprintf("voicemail-%d.wav", m.ID), ContentType: "audio/wav", Data: data}}
	} else if v.Links != nil {
		msg.Text += "\nListen: " + v.Links.URL(m.AccountID, m.ID, time.Now()) + "\n"
	}
	return v.Sender.Send(ctx, msg)
}
