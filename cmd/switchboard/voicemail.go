package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"flag"
	"fmt"
	"log/slog"
	"time"

	"switchboard"
	"switchboard/mail"
	"switchboard/pbx"
	"switchboard/provision"
	"switchboard/sip"
)

// voicemailFlags configure the voicemail links (docs/voicemail.md).
type voicemailFlags struct {
	publicURL string
	linkTTL   time.Duration
	smtp      mail.Config
}

func addVoicemailFlags(fs *flag.FlagSet, f *voicemailFlags) {
	fs.StringVar(&f.publicURL, "public-url", "", "the API's public base URL (e.g. https://pbx.example.com), used in the signed voicemail links of events and emails; default: the --http listener's URL")
	fs.StringVar(&f.smtp.Addr, "smtp-addr", "", "host:port of the SMTP server voicemail emails go through; empty = no email")
	fs.StringVar(&f.smtp.From, "smtp-from", "", "From address of voicemail emails (with --smtp-addr)")
	fs.StringVar(&f.smtp.Username, "smtp-user", "", "SMTP AUTH user (PLAIN, sent only over TLS or to localhost)")
	fs.StringVar(&f.smtp.Password, "smtp-password", "", "SMTP AUTH password")
	fs.DurationVar(&f.linkTTL, "voicemail-link-ttl", switchboard.DefaultVoicemailLinkTTL, "how long a signed voicemail download link works")
}

// wireVoicemail connects voicemail: messages are kept in the server's blob store beside the
// prompts (keys are per account and per kind, so they never meet), a change lights
// the lamps of the box's user through the SIP server, the engine takes messages and serves
// *97/*98. The link key is derived from the server key, so nodes sharing a key share links.
func wireVoicemail(f voicemailFlags, blobs switchboard.BlobStore, key []byte, db switchboard.Store, svc *provision.Service, engine *pbx.Engine, sipServer *sip.Server, logger *slog.Logger) (*switchboard.VoicemailLinks, error) {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("switchboard voicemail links"))
	links := &switchboard.VoicemailLinks{Key: mac.Sum(nil), BaseURL: f.publicURL, TTL: f.linkTTL}
	cfg := provision.VoicemailConfig{}
	if f.smtp.Addr != "" {
		sender, err := mail.New(f.smtp)
		if err != nil {
			return nil, fmt.Errorf("--smtp-addr/--smtp-from: %w", err)
		}
		cfg.Left = (&mail.VoicemailMailer{Sender: sender, Users: db, Blobs: blobs, Links: links, Logger: logger}).Left
	}
	if sipServer != nil {
		cfg.Changed = func(accountID, _, userID int64) { sipServer.NotifyMessageWaiting(accountID, userID) }
	}
	svc.SetVoicemail(cfg)
	if engine != nil {
		engine.SetVoicemail(pbx.VoicemailConfig{Service: svc, Store: db, Links: links})
		sipServer.SetMessageSummary(engine.MessageSummary)
	}
	return links, nil
}
