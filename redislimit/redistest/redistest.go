// Package redistest opens a redislimit.Limiter on the Redis server tests may use.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"switchboard/redislimit"
)

// RedisURLEnv names the environment variable with the URL of the Redis server tests may
// use, e.g. redis://127.0.0.1:6379/0.
const RedisURLEnv = "SWITCHBOARD_TEST_REDIS_URL"

// Open returns a Limiter on the server named by SWITCHBOARD_TEST_REDIS_URL with keys of
// its own (a random prefix), closed when the test ends. Without the variable the test is
// skipped, except under CI (CI set), where .ci/run provides Redis and its absence fails.
func Open(t testing.TB) *redislimit.Limiter {
	t.Helper()
	url := os.Getenv(RedisURLEnv)
	if url == "" {
		msg := "Redis tests need " + RedisURLEnv + " (e.g. redis://127.0.0.1:6379/0)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg + "; .ci/run should have set it")
		}
		t.Skip(msg)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	l, err := redislimit.Open(context.Background(), url, "switchboard-test:"+hex.EncodeToString(b[:])+":")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}
