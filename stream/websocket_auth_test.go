package stream_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"switchboard"
	"switchboard/store/storetest"
	"switchboard/stream"
)

// dialBrowser opens account's WebSocket stream as a browser does: no X-API-Key header, the
// given subprotocols (the key among them) and a page's Origin. It returns the connection
// (nil when refused) and the handshake's response.
func (w *world) dialBrowser(account int64, origin string, protocols ...string) (*websocket.Conn, *http.Response) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	u := "ws" + strings.TrimPrefix(w.url(account, "/events/ws", ""), "http")
	c, resp, err := websocket.Dial(ctx, u, &websocket.DialOptions{Subprotocols: protocols,
		HTTPHeader: http.Header{"Origin": {origin}}})
	if err != nil {
		return nil, resp
	}
	w.t.Cleanup(func() { c.CloseNow() })
	return c, resp
}

// readEvent reads the next event message of c.
func readEvent(t *testing.T, c *websocket.Conn) canonical {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	_, data, err := c.Read(ctx)
	must(t, err)
	var ev canonical
	must(t, json.Unmarshal(data, &ev))
	return ev
}

// TestBrowserWebSocketKeySubprotocol: a browser's WebSocket, which cannot send X-API-Key,
// offers the key as a "key." subprotocol beside switchboard.v3. The right key is accepted
// from any page (the key is no credential a browser sends by itself), the answer names
// switchboard.v3 and never the key, and the key is in no log line; a user key sees only its
// user's events. Refusals are the API's, in its error envelope: no key 401 AUTH_REQUIRED, a
// wrong key 403 AUTH_INVALID (the seed's answer to an invalid key), another account's key 403.
func TestBrowserWebSocketKeySubprotocol(t *testing.T) {
	w := newWorld(t, storetest.NewSQLite(t), stream.Config{})
	const page = "https://dashboard.example.net"

	dev, resp := w.dialBrowser(61, page, stream.Subprotocol, "key."+w.devKey)
	if dev == nil {
		t.Fatalf("the developer key as a subprotocol: %s", resp.Status)
	}
	if got := resp.Header.Values("Sec-WebSocket-Protocol"); len(got) != 1 || got[0] != stream.Subprotocol {
		t.Errorf("the handshake answered subprotocols %q, want only %s", got, stream.Subprotocol)
	}
	john, resp := w.dialBrowser(61, page, stream.Subprotocol, "key."+w.johnKey)
	if john == nil {
		t.Fatalf("John's user key as a subprotocol: %s", resp.Status)
	}
	janes := w.appendEvents(61, 1, 1, switchboard.EventSMSSent, w.jane)
	johns := w.appendEvents(61, 1, 1, switchboard.EventSMSSent, w.john)
	if got := readEvent(t, dev).Data["event_id"]; got != janes[0] {
		t.Errorf("the developer key's first event is %v, want %s", got, janes[0])
	}
	if got := readEvent(t, john).Data["event_id"]; got != johns[0] {
		t.Errorf("John's first event is %v, want his own %s (Jane's is not his)", got, johns[0])
	}

	refused := func(what string, status int, code string, account int64, protocols ...string) {
		t.Helper()
		c, resp := w.dialBrowser(account, page, protocols...)
		if c != nil || resp == nil || resp.StatusCode != status {
			t.Fatalf("%s: connected %v, response %v, want %d", what, c != nil, resp, status)
		}
		body, _ := io.ReadAll(resp.Body)
		var env struct {
			Error   bool   `json:"error"`
			Message string `json:"message"`
			Code    string `json:"error_code"`
		}
		if json.Unmarshal(body, &env) != nil || !env.Error || env.Message == "" || env.Code != code {
			t.Errorf("%s: body %s, want the error envelope with %s", what, body, code)
		}
	}
	refused("a wrong key", http.StatusForbidden, switchboard.EAUTHINVALID, 61, stream.Subprotocol, "key.v360_dev_"+strings.Repeat("x", 32))
	refused("no key", http.StatusUnauthorized, switchboard.EAUTHREQUIRED, 61, stream.Subprotocol)
	refused("another account's key", http.StatusForbidden, switchboard.EAUTHINVALID, 61, stream.Subprotocol, "key."+w.otherDevKey)
	refused("a key without switchboard.v3", http.StatusBadRequest, switchboard.EBADREQUEST, 61, "key."+w.devKey)

	for _, key := range []string{w.devKey, w.johnKey, w.otherDevKey} {
		if strings.Contains(w.log.String(), key) {
			t.Errorf("the API logged a key:\n%s", w.log.String())
		}
	}
}
