package main

import (
	"flag"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"switchboard/sip"
	"switchboard/store"
)

type sipFlags struct {
	addr   string
	public string
	digest string
	// qualify is the OPTIONS keep-alive interval; 0 disables it.
	qualify time.Duration
	// SIP over TLS
	tlsAddr string
	tlsCert string
	tlsKey  string
	acme    string // domain
	acmeCA  string
	acmeTo  string // contact email
	// authCacheTTL is sip.Config.DeviceCacheTTL.
	authCacheTTL time.Duration
}

func addSIPFlags(fs *flag.FlagSet, f *sipFlags) {
	fs.StringVar(&f.addr, "sip", "127.0.0.1:5060", `address SIP listens on, UDP and TCP ("off" disables SIP)`)
	fs.StringVar(&f.public, "sip-public", "", "host[:port] phones reach SIP at, for Contact and Via when behind NAT")
	fs.StringVar(&f.tlsAddr, "sip-tls", "", `address SIP listens on for TLS, e.g. ":5061" (off when empty); needs --sip-tls-cert and --sip-tls-key, or --sip-tls-acme`)
	fs.StringVar(&f.tlsCert, "sip-tls-cert", "", "PEM certificate (chain) file for --sip-tls; re-read when it changes, no restart needed")
	fs.StringVar(&f.tlsKey, "sip-tls-key", "", "PEM private key file for --sip-tls; re-read when it changes")
	fs.StringVar(&f.acme, "sip-tls-acme", "", "domain to get the --sip-tls certificate for through ACME (Let's Encrypt), instead of --sip-tls-cert/--sip-tls-key; cached under the data directory; needs the host reachable as that domain on port 80 or 443")
	fs.StringVar(&f.acmeCA, "sip-tls-acme-ca", "", "ACME directory URL for --sip-tls-acme (default Let's Encrypt's production CA)")
	fs.StringVar(&f.acmeTo, "sip-tls-acme-email", "", "contact email given to the ACME CA for --sip-tls-acme (expiry notices)")
	fs.StringVar(&f.digest, "sip-digest", sip.DefaultDigest, `digest challenges offered, in order, to devices whose digest_algorithm is md5 (the default): "md5" registers every phone; "sha256,md5" (RFC 8760's order) fails phones that read only the first challenge (SIPp, many desk phones), and any order offering SHA-256 fails phones that choke on it (baresip 1.0); also "md5,sha256" and "sha256". A device with digest_algorithm sha-256 is always challenged with SHA-256 alone`)
	fs.DurationVar(&f.qualify, "sip-qualify", sip.DefaultQualifyInterval, "how often each registered contact is sent an OPTIONS to check it still answers (and keep its NAT open); one that does not answer within 3 s is not rung until it answers again; 0 disables")
	fs.DurationVar(&f.authCacheTTL, "sip-auth-cache-ttl", time.Second, "how long a phone's credentials are kept in memory after a lookup, so its REGISTERs and INVITEs do not read them from the database each time; a changed password or a deleted device shows within it; 0 reads the database every time")
}

// newSIPServer builds the registrar, or returns nil when SIP is off. stop ends the ACME
// certificate renewals (--sip-tls-acme); it is never nil.
func newSIPServer(c *serveConfig, db *store.DB, logger *slog.Logger, registry *prometheus.Registry) (_ *sip.Server, stop func(), err error) {
	stop = func() {}
	if addr := strings.TrimSpace(c.sip.addr); addr == "" || addr == "off" {
		return nil, stop, nil
	}
	cfg := sip.Config{Store: db, UDPAddr: c.sip.addr, TCPAddr: c.sip.addr, PublicAddr: c.sip.public,
		Logger: logger, Registry: registry, DeviceCacheTTL: c.sip.authCacheTTL}
	if addr := strings.TrimSpace(c.sip.tlsAddr); addr != "" && addr != "off" {
		switch {
		case c.sip.acme != "" && (c.sip.tlsCert != "" || c.sip.tlsKey != ""):
			return nil, stop, fmt.Errorf("--sip-tls %s: give either --sip-tls-acme or --sip-tls-cert and --sip-tls-key, not both", addr)
		case c.sip.acme != "":
			getCert, stopACME, err := acmeCertificates(c.sip.acme, c.sip.acmeTo, c.sip.acmeCA, c.storage.dataDir, logger)
			if err != nil {
				return nil, stop, fmt.Errorf("--sip-tls-acme: %w", err)
			}
			stop = stopACME
			cfg.TLSAddr, cfg.TLS = addr, sip.ServerTLSConfig(getCert)
		default:
			certs, err := sip.LoadCertFiles(c.sip.tlsCert, c.sip.tlsKey, nil, logger)
			if err != nil {
				return nil, stop, fmt.Errorf("--sip-tls %s: %w (give --sip-tls-cert and --sip-tls-key, or --sip-tls-acme)", addr, err)
			}
			cfg.TLSAddr, cfg.TLS = addr, sip.ServerTLSConfig(certs.GetCertificate)
		}
	}
	if _, err := sip.ParseDigest(c.sip.digest); err != nil {
		stop()
		return nil, func() {}, fmt.Errorf("--sip-digest: %w", err)
	}
	cfg.Digest = c.sip.digest
	cfg.QualifyInterval = c.sip.qualify
	if c.sip.qualify <= 0 {
		cfg.QualifyInterval = -1 // Config's 0 is the default; the flag's 0 is off
	}
	srv, err := sip.NewServer(cfg)
	if err != nil {
		stop()
		return nil, func() {}, err
	}
	return srv, stop, nil
}
