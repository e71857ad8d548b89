package switchboard

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"math/big"
)

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
