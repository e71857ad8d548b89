package api_test

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	"switchboard/api"
	"switchboard/internal/tstest"
	"switchboard/store/storetest"
	"switchboard/stream"
)

// TestRevokingAKeyEndsItsStreams: a stream opened with a key ends once the key is revoked.
func TestRevokingAKeyEndsItsStreams(t *testing.T) {
	defer api.SetStreamKeyCheck(10 * time.Millisecond)()
	db := storetest.NewSQLite(t)
	hub := stream.New(stream.Config{Store: db, Bus: db.EventBus()})
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); hub.Run(ctx) }()
	defer func() { stop(); <-done }()
	e := newEnv(t, db, func(c *api.Config) { c.EventStream = hub })

	req, _ := http.NewRequest("GET", e.a.base(e.srv)+"/events/stream", nil)
	req.Header.Set("X-API-Key", e.a.userKey)
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("stream: %s", resp.Status)
	}
	ended := make(chan error, 1)
	go func() { _, err := io.Copy(io.Discard, resp.Body); ended <- err }()
	var endedEarly bool
	tstest.Never(t, 100*time.Millisecond, "the stream ending while its key is valid", func() bool {
		select {
		case <-ended:
			endedEarly = true
		default:
		}
		return endedEarly
	})
	must(t, db.RevokeAPIKey(context.Background(), e.a.account.ID, e.a.userKeyID))
	select {
	case <-ended:
	case <-time.After(20 * time.Second):
		t.Fatal("the stream of a revoked key is still open")
	}
}
