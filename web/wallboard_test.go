package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"switchboard"
	"switchboard/provision"
	"switchboard/stream"
	"switchboard/web"
)

// withStream serves f's portal again with the live event stream (the fixture's has none).
func withStream(t *testing.T, f *fixture) *fixture {
	t.Helper()
	hub := stream.New(stream.Config{Store: f.db, Bus: f.db.EventBus()})
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); hub.Run(ctx) }()
	g := *f
	g.srv = httptest.NewServer(web.New(web.Config{Store: f.db, Provision: provision.New(provision.Config{Store: f.db}), Events: hub}))
	t.Cleanup(func() {
		stop() // ends the streams, so that the server can close
		<-done
		g.srv.Close()
	})
	return &g
}

// dialWallboard opens /wallboard/ws with b's cookies from a page of origin; it returns the
// connection, or nil and the status of the refused handshake.
func (b *browser) dialWallboard(origin string) (*websocket.Conn, int) {
	b.f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(b.f.srv.URL, "http")+"/wallboard/ws",
		&websocket.DialOptions{HTTPClient: b.c, HTTPHeader: http.Header{"Origin": {origin}}})
	if err != nil {
		if resp == nil {
			b.f.t.Fatal(err)
		}
		return nil, resp.StatusCode
	}
	b.f.t.Cleanup(func() { c.CloseNow() })
	return c, http.StatusSwitchingProtocols
}

// TestWallboardWebSocket: the portal's WebSocket stream follows the session cookie — the
// administrator's account's events and no other account's — from the portal's own pages
// only: the same cookie from another site's page (cross-site WebSocket hijacking) is
// refused, and so is a handshake without a session.
func TestWallboardWebSocket(t *testing.T) {
	f := withStream(t, newFixture(t))
	admin := f.browser()
	if status := admin.signIn(f.admins[0], adminPassword); status != http.StatusSeeOther {
		t.Fatalf("sign in: %d", status)
	}
	c, status := admin.dialWallboard(f.srv.URL)
	if c == nil {
		t.Fatalf("the wallboard WebSocket from the portal's page: %d", status)
	}
	ctx := context.Background()
	other := switchboard.NewEvent(2, switchboard.EventSMSSent, nil)
	own := switchboard.NewEvent(1, switchboard.EventSMSSent, nil)
	for _, ev := range []*switchboard.Event{other, own} {
		if err := f.db.AppendEvents(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	_, data, err := c.Read(rctx)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal(data, &got); err != nil || got.Data["event_id"] != own.ID {
		t.Errorf("the first message is %s, want account 1's event %s (account 2's is not its)", data, own.ID)
	}

	for _, origin := range []string{"https://evil.example", "null", strings.Replace(f.srv.URL, "http:", "https:", 1)} {
		if c, status := admin.dialWallboard(origin); c != nil || status != http.StatusForbidden {
			t.Errorf("the cookie from a page of %s: connected %v, status %d, want 403", origin, c != nil, status)
		}
	}
	if c, status := f.browser().dialWallboard(f.srv.URL); c != nil || status != http.StatusSeeOther {
		t.Errorf("without a session: connected %v, status %d, want 303 to the sign-in page", c != nil, status)
	}
}
