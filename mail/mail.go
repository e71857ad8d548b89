// Package mail sends email through an SMTP server (net/smtp): voicemail to email today.
// It is configured with --smtp-addr and friends; without an address nothing is sent.
package mail

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net"
	"net/mail"
	"net/smtp"
	"strings"
	"time"
)

// Config is the SMTP server and the sender's address.
type Config struct {
	Addr     string // host:port of the SMTP server
	From     string // the From address
	Username string // for SMTP AUTH PLAIN (only over TLS or to localhost, as net/smtp insists)
	Password string
}

// Sender sends messages through the configured server.
type Sender struct{ cfg Config }

// New checks cfg and returns a sender.
func New(cfg Config) (*Sender, error) {
	if _, _, err := net.SplitHostPort(cfg.Addr); err != nil {
		return nil, fmt.Errorf("mail: the SMTP address %q must be host:port", cfg.Addr)
	}
	if _, err := mail.ParseAddress(cfg.From); err != nil {
		return nil, fmt.Errorf("mail: the From address %q: %v", cfg.From, err)
	}
	return &Sender{cfg: cfg}, nil
}

// Attachment is a file attached to a message.
type Attachment struct {
	Name, ContentType string
	Data              []byte
}

// Message is one email.
type Message struct {
	To          string
	Subject     string
	Text        string
	Attachments []Attachment
}

// Send sends m. The header values are encoded (RFC 2047) and the recipient checked, so
// that no field of the message can inject a header.
func (s *Sender) Send(ctx context.Context, m Message) error {
	to, err := mail.ParseAddress(m.To)
	if err != nil {
		return fmt.Errorf("mail: recipient %q: %v", m.To, err)
	}
	from, _ := mail.ParseAddress(s.cfg.From)
	raw, err := compose(from, to, m)
	if err != nil {
		return err
	}
	var auth smtp.Auth
	if s.cfg.Username != "" {
		host, _, _ := net.SplitHostPort(s.cfg.Addr)
		auth = smtp.PlainAuth("", s.cfg.Username, s.cfg.Password, host)
	}
	done := make(chan error, 1)
	go func() { done <- smtp.SendMail(s.cfg.Addr, auth, from.Address, []string{to.Address}, raw) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// compose renders the message as MIME: text alone, or multipart/mixed with attachments.
func compose(from, to *mail.Address, m Message) ([]byte, error) {
	if strings.ContainsAny(m.Subject, "\r\n") {
		return nil, errors.New("mail: the subject holds a line break")
	}
	var b bytes.Buffer
	header := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	header("From", from.String())
	header("To", to.String())
	header("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	header("Date", time.Now().UTC().Format(time.RFC1123Z))
	header("MIME-Version", "1.0")
	text := base64.StdEncoding.EncodeToString([]byte(m.Text))
	if len(m.Attachments) == 0 {
		header("Content-Type", `text/plain; charset="utf-8"`)
		header("Content-Transfer-Encoding", "base64")
		b.WriteString("\r\n" + wrap(text))
		return b.Bytes(), nil
	}
	var rnd [12]byte
	_, _ = rand.Read(rnd[:])
	boundary := "sb-" + hex.EncodeToString(rnd[:])
	header("Content-Type", `multipart/mixed; boundary="`+boundary+`"`)
	b.WriteString("\r\n--" + boundary + "\r\n")
	b.WriteString("Content-Type: text/plain; charset=\"utf-8\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" + wrap(text))
	for _, a := range m.Attachments {
		b.WriteString("--" + boundary + "\r\n")
		fmt.Fprintf(&b, "Content-Type: %s\r\nContent-Transfer-Encoding: base64\r\n", a.ContentType)
		fmt.Fprintf(&b, "Content-Disposition: %s\r\n\r\n", mime.FormatMediaType("attachment", map[string]string{"filename": a.Name}))
		b.WriteString(wrap(base64.StdEncoding.EncodeToString(a.Data)))
	}
	b.WriteString("--" + boundary + "--\r\n")
	return b.Bytes(), nil
}

// wrap cuts base64 into lines of 76 characters (RFC 2045).
func wrap(s string) string {
	var b strings.Builder
	for len(s) > 76 {
		b.WriteString(s[:76] + "\r\n")
		s = s[76:]
	}
	b.WriteString(s + "\r\n")
	return b.String()
}
