package store_test

import (
	"testing"

	"switchboard/store/storetest"
)

// TestStore runs the conformance suite on every dialect; PostgreSQL's is skipped unless
// SWITCHBOARD_TEST_POSTGRES_URL names a database.
func TestStore(t *testing.T) {
	for name, open := range storetest.Dialects(t) {
		t.Run(name, func(t *testing.T) {
			storetest.Run(t, open)
		})
	}
}
