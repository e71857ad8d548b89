package switchboard

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"math/big"
	"time"
)

// APIKeyKind is the kind of an API key: a user key sees one user's data, a developer key the
// whole account's.
type APIKeyKind string

const (
	KeyUser      APIKeyKind = "user"
	KeyDeveloper APIKeyKind = "developer"
)

// APIKey is an API credential. The key itself is shown once at creation; only its SHA-256
// hash is stored.
type APIKey struct {
	ID         int64
	AccountID  int64
	Kind       APIKeyKind
	UserID     int64 // the user of a user key; 0 for developer keys
	Name       string
	Prefix     string   // the first characters of the key, to tell keys apart in lists
	Hash       string   // hex SHA-256 of the key
	AllowedIPs []string // CIDRs or addresses; empty = any. A request from elsewhere gets 401
	CreatedAt  time.Time
	RevokedAt  time.Time // zero while the key is valid
}

// Revoked reports whether the key has been revoked.
func (k *APIKey) Revoked() bool { return !k.RevokedAt.IsZero() }

// Key prefixes: developer keys look like the seed's "v360_dev_…" so that integrations which
// check the prefix keep working; user keys are plain random strings, as the seed shows.
const (
	DeveloperKeyPrefix = "v360_dev_"
	keyAlphabet        = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	keyRandomLength    = 40 // ~238 bits
)

// NewAPIKey returns a new random key of the kind and its stored form (hash and display
// prefix set, ID and account unset). The plaintext key is shown once and never stored.
func NewAPIKey(kind APIKeyKind) (plaintext string, k *APIKey) {
	b := make([]byte, keyRandomLength)
	max := big.NewInt(int64(len(keyAlphabet)))
	for i := range b {
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic(err) // crypto/rand never fails on supported platforms
		}
		b[i] = keyAlphabet[n.Int64()]
	}
	plaintext = string(b)
	if kind == KeyDeveloper {
		plaintext = DeveloperKeyPrefix + plaintext
	}
	return plaintext, &APIKey{Kind: kind, Hash: HashAPIKey(plaintext), Prefix: plaintext[:len(plaintext)-keyRandomLength+6]}
}

// HashAPIKey is the stored form of a key: hex SHA-256. Keys carry over 200 random bits, so a
// fast hash is enough; lookups go by this hash, never by comparing plaintexts.
func HashAPIKey(plaintext string) string {
	sum := sha256.Sum256([]byte(plaintext))
	return hex.EncodeToString(sum[:])
}

// APIKeyChange is the request for a new API key as the API received it. AllowedIPs are as
// typed; they are stored as canonical addresses and prefixes.
type APIKeyChange struct {
	Kind       APIKeyKind
	UserID     int64
	Name       string
	AllowedIPs []string
}

// APIKeyService issues and revokes API keys. provision.Service implements it.
type APIKeyService interface {
	// CreateAPIKey returns the new key and its plaintext, which is shown once and never stored.
	CreateAPIKey(ctx context.Context, accountID int64, c APIKeyChange) (k *APIKey, plaintext string, err error)
	RevokeAPIKey(ctx context.Context, accountID, id int64) error
}
