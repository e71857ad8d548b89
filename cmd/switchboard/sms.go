package main

import (
	"log/slog"
	"os"

	"switchboard/sms"
	"switchboard/store"
	"switchboard/webhook"
)

// wireSMS builds the SMS service (docs/sms.md): its outbox worker runs with the server (Run),
// serve --demo sends through the simulated carrier, and otherwise an account chooses its
// carrier with PUT /sms/settings (SWITCHBOARD_SMS_CARRIER names a server-wide default).
// Carriers other than the simulator register themselves in sms.Carriers (kannel, sip).
func wireSMS(c *serveConfig, db *store.DB, sealer *webhook.Sealer, logger *slog.Logger) *sms.Service {
	def := os.Getenv("SWITCHBOARD_SMS_CARRIER")
	if def == "" && c.demo {
		def = "simulator"
	}
	return sms.New(sms.Config{Store: db, Sealer: sealer, Logger: logger.With("part", "sms"), DefaultCarrier: def,
		PublicURL: c.voicemail.publicURL, CacheTTL: c.cacheTTL})
}
