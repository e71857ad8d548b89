package main

import (
	"flag"
	"fmt"
	"log/slog"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"switchboard/sip"
	"switchboard/store"
)

type sipFlags struct {
	addr   string
	public string
	digest string
	// SIP over TLS
	tlsAddr string
	tlsCert string
	tlsKey  string
}

func addSIPFlags(fs *flag.FlagSet, f *sipFlags) {
	fs.StringVar(&f.addr, "sip", "127.0.0.1:5060", `address SIP listens on, UDP and TCP ("off" disables SIP)`)
	fs.StringVar(&f.public, "sip-public", "", "host[:port] phones reach SIP at, for Contact and Via when behind NAT")
	fs.StringVar(&f.tlsAddr, "sip-tls", "", `address SIP listens on for TLS, e.g. ":5061" (off when empty); needs --sip-tls-cert and --sip-tls-key`)
	fs.StringVar(&f.tlsCert, "sip-tls-cert", "", "PEM certificate (chain) file for --sip-tls; re-read when it changes, no restart needed")
	fs.StringVar(&f.tlsKey, "sip-tls-key", "", "PEM private key file for --sip-tls; re-read when it changes")
	fs.StringVar(&f.digest, "sip-digest", "sha256,md5", `digest challenges offered, in order: "sha256,md5" (RFC 8760), "md5,sha256" for phones that read only the first (SIPp 3.6), or "md5" for phones that fail on SHA-256 (baresip 1.0)`)
}

// newSIPServer builds the registrar, or returns nil when SIP is off.
func newSIPServer(c *serveConfig, db *store.DB, logger *slog.Logger, registry *prometheus.Registry) (*sip.Server, error) {
	if addr := strings.TrimSpace(c.sip.addr); addr == "" || addr == "off" {
		return nil, nil
	}
	cfg := sip.Config{Store: db, UDPAddr: c.sip.addr, TCPAddr: c.sip.addr, PublicAddr: c.sip.public,
		Logger: logger, Registry: registry}
	if addr := strings.TrimSpace(c.sip.tlsAddr); addr != "" && addr != "off" {
		certs, err := sip.LoadCertFiles(c.sip.tlsCert, c.sip.tlsKey, nil, logger)
		if err != nil {
			return nil, fmt.Errorf("--sip-tls %s: %w (give --sip-tls-cert and --sip-tls-key)", addr, err)
		}
		cfg.TLSAddr, cfg.TLS = addr, sip.ServerTLSConfig(certs.GetCertificate)
	}
	switch strings.ReplaceAll(c.sip.digest, " ", "") {
	case "sha256,md5":
	case "md5,sha256":
		cfg.ChallengeMD5First = true
	case "md5":
		cfg.ChallengeMD5Only = true
	default:
		return nil, fmt.Errorf(`--sip-digest %q: want "sha256,md5", "md5,sha256" or "md5"`, c.sip.digest)
	}
	return sip.NewServer(cfg)
}
