package stream_test

import (
	"bufio"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"switchboard"
	"switchboard/api"
	"switchboard/internal/tstest"
	"switchboard/store"
	"switchboard/store/storetest"
	"switchboard/stream"
)

// world is a running API with the stream on a real store: account 61 with John and Jane
// and their keys, and account 62 with a developer key.
type world struct {
	t                        *testing.T
	db                       *store.DB
	srv                      *httptest.Server
	log                      *tstest.Buffer // the API's log
	john, jane               int64
	devKey, johnKey, janeKey string
	otherDevKey              string
}

func newWorld(t *testing.T, db *store.DB, cfg stream.Config) *world {
	t.Helper()
	ctx := context.Background()
	w := &world{t: t, db: db, log: &tstest.Buffer{}}
	for _, id := range []int64{61, 62} {
		must(t, db.CreateAccount(ctx, &switchboard.Account{ID: id, Name: "Account " + strconv.FormatInt(id, 10)}))
	}
	john := &switchboard.User{AccountID: 61, Extension: "1001", FirstName: "John", RingTimeSeconds: 30}
	must(t, db.CreateUser(ctx, john))
	jane := &switchboard.User{AccountID: 61, Extension: "1002", FirstName: "Jane", RingTimeSeconds: 30}
	must(t, db.CreateUser(ctx, jane))
	w.john, w.jane = john.ID, jane.ID
	key := func(account, user int64) string {
		kind := switchboard.KeyDeveloper
		if user != 0 {
			kind = switchboard.KeyUser
		}
		plain, k := switchboard.NewAPIKey(kind)
		k.AccountID, k.UserID, k.Name = account, user, "test"
		must(t, db.CreateAPIKey(ctx, k))
		return plain
	}
	w.devKey, w.johnKey, w.janeKey, w.otherDevKey = key(61, 0), key(61, john.ID), key(61, jane.ID), key(62, 0)

	cfg.Store, cfg.Bus = db, db.EventBus()
	hub := stream.New(cfg)
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); hub.Run(runCtx) }()
	w.srv = httptest.NewServer(api.New(api.Config{Store: db, EventStream: hub, KeyRequestsPerMinute: 1 << 20,
		Logger: slog.New(slog.NewTextHandler(w.log, &slog.HandlerOptions{Level: slog.LevelDebug}))}))
	t.Cleanup(func() {
		stop() // ends the streams, so that the server can close
		<-done
		w.srv.Close()
	})
	return w
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// appendEvents stores n events of account 61 named name, for user (0: none), in
// transactions of batch events, and returns their ids in order.
func (w *world) appendEvents(account int64, n, batch int, name string, user int64) []string {
	w.t.Helper()
	var ids []string
	for i := 0; i < n; i += batch {
		var evs []*switchboard.Event
		for j := i; j < min(n, i+batch); j++ {
			data := map[string]any{"n": j}
			if user != 0 {
				data["user_id"] = user
			}
			ev := switchboard.NewEvent(account, name, data)
			evs = append(evs, ev)
			ids = append(ids, ev.ID)
		}
		must(w.t, w.db.AppendEvents(context.Background(), evs...))
	}
	return ids
}

func (w *world) url(account int64, path, query string) string {
	u := w.srv.URL + "/v3/voice/" + strconv.FormatInt(account, 10) + path
	if query != "" {
		u += "?" + query
	}
	return u
}

// message is one SSE message.
type message struct {
	id, event, data string
}

// sseConn is an open SSE stream read by a goroutine into msgs.
type sseConn struct {
	resp   *http.Response
	cancel context.CancelFunc
	msgs   chan message
}

func (w *world) openSSE(account int64, key, query, lastEventID string) *sseConn {
	w.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "GET", w.url(account, "/events/stream", query), nil)
	req.Header.Set("X-API-Key", key)
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		w.t.Fatal(err)
	}
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		cancel()
		w.t.Fatalf("GET stream: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	c := &sseConn{resp: resp, cancel: cancel, msgs: make(chan message, 16)}
	go func() {
		defer close(c.msgs)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		var m message
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if m.data != "" {
					c.msgs <- m
				}
				m = message{}
			case strings.HasPrefix(line, "id: "):
				m.id = line[4:]
			case strings.HasPrefix(line, "event: "):
				m.event = line[7:]
			case strings.HasPrefix(line, "data: "):
				m.data = line[6:]
			}
		}
	}()
	return c
}

func (c *sseConn) close() {
	c.cancel()
	for range c.msgs { // let the reader end
	}
}

// next returns the next message; ok false when the stream ended.
func (c *sseConn) next(t *testing.T) (message, bool) {
	t.Helper()
	select {
	case m, ok := <-c.msgs:
		return m, ok
	case <-time.After(20 * time.Second):
		t.Fatal("no SSE message within 20 s")
		return message{}, false
	}
}

// canonical is the standard format's body as the stream sends it.
type canonical struct {
	Type      string         `json:"type"`
	Timestamp string         `json:"timestamp"`
	Data      map[string]any `json:"data"`
}

func decode(t *testing.T, data string) canonical {
	t.Helper()
	var c canonical
	if err := json.Unmarshal([]byte(data), &c); err != nil {
		t.Fatalf("data is not JSON: %v: %s", err, data)
	}
	return c
}

// collector receives events and checks that they come once each, in seq order.
type collector struct {
	t      *testing.T
	lastID int64
	ids    []string
}

func (c *collector) add(id string, ev canonical) {
	c.t.Helper()
	seq, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		c.t.Fatalf("id %q is not a seq", id)
	}
	if seq <= c.lastID {
		c.t.Fatalf("event %d after %d: out of order or twice", seq, c.lastID)
	}
	c.lastID = seq
	c.ids = append(c.ids, ev.Data["event_id"].(string))
}

func (c *collector) check(want []string) {
	c.t.Helper()
	if len(c.ids) != len(want) {
		c.t.Fatalf("received %d events, want %d", len(c.ids), len(want))
	}
	for i := range want {
		if c.ids[i] != want[i] {
			c.t.Fatalf("event %d is %s, want %s", i, c.ids[i], want[i])
		}
	}
}

// TestSSEBurstDisconnectResume: a consumer reading a burst of 10,000 events is cut off
// mid-way and comes back with Last-Event-ID: it receives every event exactly once, in order.
// Overflow notices (the consumer falling behind the burst) are resumed from the same way.
func TestSSEBurstDisconnectResume(t *testing.T) {
	for _, dialect := range []struct {
		name string
		open func(testing.TB) *store.DB
	}{{"sqlite", storetest.NewSQLite}, {"postgres", storetest.NewPostgres}} {
		t.Run(dialect.name, func(t *testing.T) {
			w := newWorld(t, dialect.open(t), stream.Config{})
			const total = 10000
			conn := w.openSSE(61, w.devKey, "", "") // live only: the burst starts after
			written := make(chan []string, 1)
			go func() { written <- w.appendEvents(61, total, 50, switchboard.EventCallInboundStarted, 0) }()

			col := &collector{t: t}
			cutAt, cut, overflows := total/2, false, 0
			for len(col.ids) < total {
				m, ok := conn.next(t)
				if !ok {
					t.Fatalf("the stream ended after %d events", len(col.ids))
				}
				if m.event == "overflow" {
					var o struct {
						LastSeq int64 `json:"last_seq"`
					}
					must(t, json.Unmarshal([]byte(m.data), &o))
					if o.LastSeq != col.lastID {
						t.Fatalf("overflow says last_seq %d, the last event received was %d", o.LastSeq, col.lastID)
					}
					overflows++
					conn.close()
					conn = w.openSSE(61, w.devKey, "", strconv.FormatInt(col.lastID, 10))
					continue
				}
				col.add(m.id, decode(t, m.data))
				if len(col.ids) == cutAt && !cut {
					cut = true
					conn.close() // the consumer goes away mid-burst
					conn = w.openSSE(61, w.devKey, "after=0", strconv.FormatInt(col.lastID, 10))
				}
			}
			conn.close()
			col.check(<-written)
			t.Logf("%d events, %d overflow resumes", total, overflows)
		})
	}
}

// TestUserKeySeesOnlyOwnEvents: John's user key receives John's events (as caller, as the
// answering user, his presence) and nothing of Jane's, of the account, or of another
// account; the developer key receives all of its account and none of the other's.
func TestUserKeySeesOnlyOwnEvents(t *testing.T) {
	w := newWorld(t, storetest.NewSQLite(t), stream.Config{})
	ctx := context.Background()
	ev := func(account int64, name string, data map[string]any) *switchboard.Event {
		return switchboard.NewEvent(account, name, data)
	}
	johnCall := ev(61, switchboard.EventCallOutboundStarted, map[string]any{"user_id": w.john})
	janeCall := ev(61, switchboard.EventCallOutboundStarted, map[string]any{"user_id": w.jane})
	janeCallsJohn := ev(61, switchboard.EventCallOutboundAnswered, map[string]any{"user_id": w.jane, "answered_by_user_id": w.john})
	contact := ev(61, switchboard.EventContactCreated, map[string]any{"contact_id": 5})
	johnOnline := ev(61, switchboard.EventPresenceChanged, map[string]any{"user_id": w.john, "status": "online"})
	janeOnline := ev(61, switchboard.EventPresenceChanged, map[string]any{"user_id": w.jane, "status": "online"})
	other := ev(62, switchboard.EventPresenceChanged, map[string]any{"user_id": w.john, "status": "online"}) // same user id, other account
	all := []*switchboard.Event{johnCall, janeCall, janeCallsJohn, contact, johnOnline, janeOnline}

	john := w.openSSE(61, w.johnKey, "", "")
	dev := w.openSSE(61, w.devKey, "", "")
	otherDev := w.openSSE(62, w.otherDevKey, "", "")
	must(t, w.db.AppendEvents(ctx, all...))
	must(t, w.db.AppendEvents(ctx, other))
	// A marker event that John sees last: everything before it has been decided.
	marker := ev(61, switchboard.EventSMSSent, map[string]any{"user_id": w.john})
	must(t, w.db.AppendEvents(ctx, marker))

	got := func(c *sseConn, until string) []string {
		var ids []string
		for {
			m, ok := c.next(t)
			if !ok {
				t.Fatal("stream ended")
			}
			id := decode(t, m.data).Data["event_id"].(string)
			ids = append(ids, id)
			if id == until {
				return ids
			}
		}
	}
	if g, want := got(john, marker.ID), []string{johnCall.ID, janeCallsJohn.ID, johnOnline.ID, marker.ID}; strings.Join(g, ",") != strings.Join(want, ",") {
		t.Errorf("John's key received %v, want %v", g, want)
	}
	wantDev := []string{}
	for _, e := range append(all, marker) {
		wantDev = append(wantDev, e.ID)
	}
	if g := got(dev, marker.ID); strings.Join(g, ",") != strings.Join(wantDev, ",") {
		t.Errorf("the developer key received %v, want %v", g, wantDev)
	}
	if g := got(otherDev, other.ID); len(g) != 1 {
		t.Errorf("account 62's key received %v, want only its own event", g)
	}
	john.close()
	dev.close()
	otherDev.close()

	// Resuming from the table applies the same rule.
	again := w.openSSE(61, w.janeKey, "after=0", "")
	if g, want := got(again, janeOnline.ID), []string{janeCall.ID, janeCallsJohn.ID, janeOnline.ID}; strings.Join(g, ",") != strings.Join(want, ",") {
		t.Errorf("Jane's key resumed with %v, want %v", g, want)
	}
	again.close()

	// Another account's key cannot open this account's stream.
	req, _ := http.NewRequest("GET", w.url(61, "/events/stream", ""), nil)
	req.Header.Set("X-API-Key", w.otherDevKey)
	resp, err := http.DefaultClient.Do(req)
	must(t, err)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("account 62's key on account 61's stream: %d, want 403", resp.StatusCode)
	}
}

// TestFilters: ?events= takes names and wildcards; unknown names are a 400 in the envelope.
func TestFilters(t *testing.T) {
	w := newWorld(t, storetest.NewSQLite(t), stream.Config{})
	ctx := context.Background()
	names := []string{switchboard.EventCallInboundStarted, switchboard.EventQueueLeft, switchboard.EventQueueEntered,
		switchboard.EventCallOutboundEnded, switchboard.EventContactCreated, switchboard.EventSMSSent}
	for _, n := range names {
		must(t, w.db.AppendEvents(ctx, switchboard.NewEvent(61, n, nil)))
	}
	c := w.openSSE(61, w.devKey, "after=0&events=call.*,queue.entered", "")
	var got []string
	for len(got) < 3 {
		m, _ := c.next(t)
		if m.event != decode(t, m.data).Type {
			t.Errorf("event: %s but type %s", m.event, decode(t, m.data).Type)
		}
		got = append(got, m.event)
	}
	c.close()
	want := "call.inbound.started,queue.entered,call.outbound.ended"
	if strings.Join(got, ",") != want {
		t.Errorf("filtered stream: %v, want %s", got, want)
	}

	for _, q := range []string{"events=nope.*", "events=call.bogus", "after=-1", "after=x"} {
		req, _ := http.NewRequest("GET", w.url(61, "/events/stream", q), nil)
		req.Header.Set("X-API-Key", w.devKey)
		resp, err := http.DefaultClient.Do(req)
		must(t, err)
		var env struct {
			Error   bool   `json:"error"`
			Message string `json:"message"`
		}
		json.NewDecoder(resp.Body).Decode(&env)
		resp.Body.Close()
		if resp.StatusCode != 400 || !env.Error || env.Message == "" {
			t.Errorf("%s: %d %+v, want 400 with a message", q, resp.StatusCode, env)
		}
	}
}

// TestLiveFromAnotherNode: events stored by another process on the same database (no bus
// notice reaches this one) arrive through the poll.
func TestLiveFromAnotherNode(t *testing.T) {
	dir := t.TempDir() + "/shared.db"
	ctx := context.Background()
	open := func() *store.DB {
		db, err := store.Open(ctx, dir)
		must(t, err)
		t.Cleanup(func() { db.Close() })
		must(t, db.Migrate(ctx))
		return db
	}
	here, there := open(), open()
	w := newWorld(t, here, stream.Config{Poll: 20 * time.Millisecond})
	c := w.openSSE(61, w.devKey, "", "")
	ev := switchboard.NewEvent(61, switchboard.EventQueueEntered, nil)
	must(t, there.AppendEvents(ctx, ev))
	m, _ := c.next(t)
	if id := decode(t, m.data).Data["event_id"]; id != ev.ID {
		t.Errorf("received %v, want the other node's event %s", id, ev.ID)
	}
	c.close()
}

// TestWebSocketBurstResume: the WebSocket carries the same events as SSE, one message each
// with its seq as "id"; a consumer cut off mid-burst resumes with after= and receives every
// event once, in order; a user key sees only its user's events.
func TestWebSocketBurstResume(t *testing.T) {
	w := newWorld(t, storetest.NewSQLite(t), stream.Config{})
	dial := func(key, query string) (*websocket.Conn, context.CancelFunc) {
		ctx, cancel := context.WithCancel(context.Background())
		u := "ws" + strings.TrimPrefix(w.url(61, "/events/ws", query), "http")
		c, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: http.Header{"X-API-Key": {key}}})
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		c.SetReadLimit(1 << 20)
		return c, cancel
	}
	const total = 3000
	c, cancel := dial(w.devKey, "")
	john, cancelJohn := dial(w.johnKey, "events=sms.*")
	written := make(chan []string, 1)
	go func() {
		ids := w.appendEvents(61, total, 50, switchboard.EventSMSSent, w.jane)
		w.appendEvents(61, 1, 1, switchboard.EventSMSSent, w.john)
		written <- ids
	}()
	col := &collector{t: t}
	for len(col.ids) < total {
		ctx, done := context.WithTimeout(context.Background(), 20*time.Second)
		_, data, err := c.Read(ctx)
		done()
		if err != nil {
			t.Fatalf("after %d events: %v", len(col.ids), err)
		}
		var msg struct {
			ID      int64 `json:"id"`
			LastSeq int64 `json:"last_seq"`
			canonical
		}
		must(t, json.Unmarshal(data, &msg))
		if msg.Type == "overflow" {
			if msg.LastSeq != col.lastID {
				t.Fatalf("overflow last_seq %d, last received %d", msg.LastSeq, col.lastID)
			}
			cancel()
			c, cancel = dial(w.devKey, "after="+strconv.FormatInt(col.lastID, 10))
			continue
		}
		col.add(strconv.FormatInt(msg.ID, 10), msg.canonical)
		if len(col.ids) == total/2 {
			c.Close(websocket.StatusNormalClosure, "")
			cancel()
			c, cancel = dial(w.devKey, "after="+strconv.FormatInt(col.lastID, 10))
		}
	}
	col.check(<-written)
	cancel()

	// John's key: Jane's 3,000 messages are not his; his one is the first he receives.
	ctx, done := context.WithTimeout(context.Background(), 20*time.Second)
	defer done()
	_, data, err := john.Read(ctx)
	must(t, err)
	var first canonical
	must(t, json.Unmarshal(data, &first))
	if uid, _ := first.Data["user_id"].(float64); int64(uid) != w.john {
		t.Errorf("John's first message is %s", data)
	}
	cancelJohn()
}
