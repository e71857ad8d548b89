package switchboard

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"time"
)

// NewOrderedID returns prefix + 32 hex digits: the time in milliseconds (6 bytes), then 10
// random bytes. Ids made one after another sort together, so that rows inserted together
// land in the same pages of a B-tree index on the id (SQLite's WAL writes every page a
// commit touches: with random ids each new row dirtied its own index page); the 80 random
// bits keep the ids unique and unguessable.
func NewOrderedID(prefix string) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(time.Now().UnixMilli())<<16)
	if _, err := rand.Read(b[6:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return prefix + hex.EncodeToString(b[:])
}
