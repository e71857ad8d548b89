package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// loadSecretKey returns the 32-byte key that seals secrets at rest (webhook signing
// secrets): --secret-key (64 hex digits) when given, else DATA/secret.key, created on first
// start with mode 0600. Several nodes on one PostgreSQL must share the same key.
func loadSecretKey(flagValue, dataDir string) ([]byte, error) {
	if flagValue != "" {
		return decodeKey(flagValue, "--secret-key")
	}
	path := filepath.Join(dataDir, "secret.key")
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("cannot write %s: %w", path, err)
		}
		return key, nil
	} else if err != nil {
		return nil, err
	}
	return decodeKey(string(b), path)
}

func decodeKey(s, source string) ([]byte, error) {
	key, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil || len(key) != 32 {
		return nil, fmt.Errorf("%s must hold 64 hex digits (32 bytes); generate one with: openssl rand -hex 32", source)
	}
	return key, nil
}
