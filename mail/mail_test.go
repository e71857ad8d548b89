package mail_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strings"
	"testing"
	"time"

	"switchboard"
	"switchboard/blob"
	sbmail "switchboard/mail"
	"switchboard/store/storetest"
)

// smtpServer is a minimal SMTP server (RFC 5321's commands a client needs to send one
// message, no extensions) that hands each message's data to the test.
func smtpServer(t *testing.T) (addr string, msgs <-chan []byte) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	out := make(chan []byte, 8)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go serveSMTP(conn, out)
		}
	}()
	return ln.Addr().String(), out
}

func serveSMTP(conn net.Conn, out chan<- []byte) {
	defer conn.Close()
	r := bufio.NewReader(conn)
	say := func(s string) { _, _ = io.WriteString(conn, s+"\r\n") }
	say("220 test ESMTP")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimSpace(line))
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			say("250 test")
		case strings.HasPrefix(cmd, "MAIL"), strings.HasPrefix(cmd, "RCPT"), strings.HasPrefix(cmd, "RSET"):
			say("250 OK")
		case cmd == "DATA":
			say("354 go on")
			var data bytes.Buffer
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				data.WriteString(strings.TrimPrefix(l, "."))
			}
			out <- data.Bytes()
			say("250 queued")
		case cmd == "QUIT":
			say("221 bye")
			return
		default:
			say("502 not here")
		}
	}
}

func TestVoicemailEmailWithAttachmentAndLink(t *testing.T) {
	ctx := context.Background()
	db := storetest.NewSQLite(t)
	acct := &switchboard.Account{Name: "Acme"}
	if err := db.CreateAccount(ctx, acct); err != nil {
		t.Fatal(err)
	}
	u := &switchboard.User{AccountID: acct.ID, Extension: "1001", FirstName: "Ada", Email: "ada@example.com", VoicemailEnabled: true}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	blobs, err := blob.NewDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	wav := []byte("RIFF....WAVEfmt fake audio \x00\x01\x02")
	if _, err := blobs.Put(ctx, "accounts/1/voicemail/1/m.wav", bytes.NewReader(wav)); err != nil {
		t.Fatal(err)
	}
	addr, msgs := smtpServer(t)
	sender, err := sbmail.New(sbmail.Config{Addr: addr, From: "pbx@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	links := &switchboard.VoicemailLinks{Key: []byte("key"), BaseURL: "https://pbx.example.com"}
	mailer := &sbmail.VoicemailMailer{Sender: sender, Users: db, Blobs: blobs, Links: links}
	box := switchboard.NewVoicemailBox(acct.ID, u.ID, "Ada")
	box.Email, box.EmailAttach = true, true
	m := &switchboard.VoicemailMessage{ID: 7, AccountID: acct.ID, BoxID: 1, From: "+14155550100", CallerName: "Bob\r\nBcc: evil@example.com",
		DurationMS: 3000, AudioKey: "accounts/1/voicemail/1/m.wav", CreatedAt: time.Now()}

	mailer.Left(box, m)
	msg := receive(t, msgs)
	if to := msg.Header.Get("To"); !strings.Contains(to, "ada@example.com") || msg.Header.Get("Bcc") != "" {
		t.Fatalf("To %q, Bcc %q", to, msg.Header.Get("Bcc"))
	}
	_, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var attached []byte
	for {
		p, err := mr.NextPart()
		if err != nil {
			break
		}
		if p.FileName() == "voicemail-7.wav" {
			attached, _ = io.ReadAll(base64.NewDecoder(base64.StdEncoding, p))
		}
	}
	if !bytes.Equal(attached, wav) {
		t.Fatalf("attachment %q, want the message's WAV", attached)
	}

	// attach=false: a signed link instead.
	box.EmailAttach = false
	mailer.Left(box, m)
	msg = receive(t, msgs)
	body, _ := io.ReadAll(base64.NewDecoder(base64.StdEncoding, msg.Body))
	if !strings.Contains(string(body), "https://pbx.example.com/v3/voice/") || !strings.Contains(string(body), "sig=") {
		t.Fatalf("link email: %s", body)
	}

	// The box's email off: nothing is sent.
	box.Email = false
	mailer.Left(box, m)
	mailer.Wait()
	select {
	case <-msgs:
		t.Fatal("an email was sent with voicemail_email off")
	default:
	}
}

func receive(t *testing.T, msgs <-chan []byte) *mail.Message {
	t.Helper()
	select {
	case raw := <-msgs:
		msg, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		return msg
	case <-time.After(10 * time.Second):
		t.Fatal("no email arrived")
	}
	return nil
}
