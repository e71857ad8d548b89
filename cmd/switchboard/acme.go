package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/caddyserver/certmagic"
)

// acmeTimeout bounds getting the first certificate at start: without a reachable CA the
// start fails with a clear error instead of waiting.
const acmeTimeout = 90 * time.Second

// acmeCertificates gets a certificate for domain from an ACME CA (Let's Encrypt unless ca
// names another directory) with certmagic, keeping account and certificates under
// dataDir/acme, and renews it in the background. It returns the TLS certificate source
// and the function that stops the renewals.
func acmeCertificates(domain, email, ca, dataDir string, logger *slog.Logger) (func(*tls.ClientHelloInfo) (*tls.Certificate, error), func(), error) {
	if ca == "" {
		ca = certmagic.LetsEncryptProductionCA
	}
	var cfg *certmagic.Config
	cache := certmagic.NewCache(certmagic.CacheOptions{
		GetConfigForCert: func(certmagic.Certificate) (*certmagic.Config, error) { return cfg, nil },
	})
	cfg = certmagic.New(cache, certmagic.Config{Storage: &certmagic.FileStorage{Path: filepath.Join(dataDir, "acme")}})
	cfg.Issuers = []certmagic.Issuer{certmagic.NewACMEIssuer(cfg, certmagic.ACMEIssuer{CA: ca, Email: email, Agreed: true})}
	ctx, cancel := context.WithTimeout(context.Background(), acmeTimeout)
	defer cancel()
	logger.Info("getting the SIP TLS certificate through ACME", "domain", domain, "ca", ca)
	if err := cfg.ManageSync(ctx, []string{domain}); err != nil {
		cache.Stop()
		return nil, nil, fmt.Errorf("no certificate for %s from %s: %w (ACME needs the CA reachable and this host reachable as %s on port 80 or 443 for the challenge; or give --sip-tls-cert and --sip-tls-key)",
			domain, ca, err, domain)
	}
	return cfg.GetCertificate, cache.Stop, nil
}
