package webhook

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
)

// Sealer keeps webhook secrets encrypted at rest with AES-256-GCM under the server key
// (--secret-key or DATA/secret.key). A sealed value is nonce || ciphertext || tag; the
// subscription's id is not bound in as associated data because a secret is sealed before
// the row (and its id) exists.
type Sealer struct {
	aead cipher.AEAD
}

// NewSealer returns a Sealer for a 32-byte key.
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("webhook: secret key must be 32 bytes, got %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

// Seal encrypts plaintext with a fresh random nonce.
func (s *Sealer) Seal(plaintext string) []byte {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plaintext)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return s.aead.Seal(nonce, nonce, []byte(plaintext), nil)
}

// errWrongKey is returned when a sealed secret does not open: the data was sealed under
// another key (a node started with a different --secret-key) or was altered.
var errWrongKey = errors.New("webhook: a sealed secret does not open with this server's key (was --secret-key changed?)")

// Open decrypts a sealed value.
func (s *Sealer) Open(sealed []byte) (string, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n+s.aead.Overhead() {
		return "", errWrongKey
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], nil)
	if err != nil {
		return "", errWrongKey
	}
	return string(plain), nil
}
