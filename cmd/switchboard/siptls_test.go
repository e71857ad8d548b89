package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServeRefusesUnusableTLSCertificate: a certificate that cannot serve stops the start
// with a message naming the file and the reason, instead of a TLS port failing every
// handshake later.
func TestServeRefusesUnusableTLSCertificate(t *testing.T) {
	dir := t.TempDir()
	cert, key := writeSelfSignedCert(t, dir)
	broken := filepath.Join(dir, "broken.pem")
	if err := os.WriteFile(broken, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no files", nil, "needs both a certificate file and a key file"},
		{"broken certificate", []string{"--sip-tls-cert", broken, "--sip-tls-key", key}, broken},
		{"key for the certificate given as the certificate", []string{"--sip-tls-cert", key, "--sip-tls-key", cert}, key},
		{"ACME and files", []string{"--sip-tls-acme", "sip.example.test", "--sip-tls-cert", cert, "--sip-tls-key", key}, "not both"},
		// No network here: an ACME CA that cannot be reached fails the start at once, saying so.
		{"ACME CA unreachable", []string{"--sip-tls-acme", "sip.example.test", "--sip-tls-acme-ca", "https://127.0.0.1:1/directory"},
			"no certificate for sip.example.test from https://127.0.0.1:1/directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"--data", t.TempDir(), "--http", "127.0.0.1:0", "--sip", "127.0.0.1:0",
				"--sip-tls", "127.0.0.1:0"}, tc.args...)
			err := serve(context.Background(), args, io.Discard, io.Discard)
			if err == nil || !strings.Contains(err.Error(), "--sip-tls") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("serve: %v, want an error about --sip-tls saying %q", err, tc.want)
			}
		})
	}
}
