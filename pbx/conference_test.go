package pbx_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtp"

	"switchboard"
	"switchboard/api"
	"switchboard/events"
	"switchboard/internal/tstest"
	"switchboard/media"
	"switchboard/provision"
	"switchboard/store"
	"switchboard/webhook"
)

// confPhone is a registered sipgo phone in a conference: once in, it sends its tone as
// 20 ms µ-law frames like a phone (and RFC 4733 keys when told), and keeps the decoded
// audio it receives.
type confPhone struct {
	t    *testing.T
	call *call
	freq float64

	mu    sync.Mutex
	heard []int16

	keys chan string
	stop chan struct{}
	wg   sync.WaitGroup
}

// confUser provisions user ext with a phone registered as p<ext>.
func confUser(t *testing.T, e *env, ext string) *ua {
	t.Helper()
	e.device(e.user(ext, func(u *switchboard.User) { u.FirstName = "Phone" }), "p"+ext, "pw-"+ext+"-secret")
	u := newUA(t, "127.0.0.1", "p"+ext)
	u.register(e, "p"+ext, "pw-"+ext+"-secret")
	return u
}

// dialRoom has the phone of ext dial room and waits for the answer, then starts sending
// its tone.
func dialRoom(t *testing.T, e *env, u *ua, ext, room string, freq float64) *confPhone {
	t.Helper()
	c := u.dial(e, room, "p"+ext, "pw-"+ext+"-secret", 0)
	c.answered(t)
	return startConfPhone(t, c, freq)
}

func startConfPhone(t *testing.T, c *call, freq float64) *confPhone {
	p := &confPhone{t: t, call: c, freq: freq, keys: make(chan string, 4), stop: make(chan struct{})}
	p.wg.Add(2)
	go p.send()
	go p.receive()
	t.Cleanup(p.hangUpPhone)
	return p
}

func (p *confPhone) send() {
	defer p.wg.Done()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	r := p.call.rtp
	var seq uint16
	var ts uint32
	write := func(pt uint8, marker bool, ts uint32, payload []byte) {
		r.mu.Lock()
		remote := r.remote
		r.mu.Unlock()
		seq++
		b, _ := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: pt, Marker: marker, SequenceNumber: seq,
			Timestamp: ts, SSRC: 0x5151}, Payload: payload}).Marshal()
		r.conn.WriteToUDPAddrPort(b, remote)
	}
	for i := 0; ; i++ {
		select {
		case <-p.stop:
			return
		case keys := <-p.keys:
			for _, k := range keys {
				d := media.Digit(k)
				ev, _ := media.EventForDigit(d)
				for n := range 3 {
					write(101, n == 0, ts, media.TelephoneEvent{Event: ev, Volume: 10, Duration: uint16(160 * (n + 1))}.Marshal())
				}
				for range 3 {
					write(101, false, ts, media.TelephoneEvent{Event: ev, End: true, Volume: 10, Duration: 640}.Marshal())
				}
				ts += 800
			}
			continue
		case <-tick.C:
		}
		pcm := make([]int16, media.FrameSamples)
		for j := range pcm {
			pcm[j] = int16(4000 * sin(p.freq, i*media.FrameSamples+j))
		}
		write(0, false, ts, media.EncodeFrame(nil, media.PCMU, pcm))
		ts += media.FrameSamples
	}
}

func (p *confPhone) receive() {
	defer p.wg.Done()
	buf := make([]byte, 2048)
	for {
		n, _, err := p.call.rtp.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			select {
			case <-p.stop:
				return
			default:
				continue // a deadline another helper set
			}
		}
		var pkt rtp.Packet
		if pkt.Unmarshal(buf[:n]) != nil || pkt.PayloadType != 0 {
			continue
		}
		p.mu.Lock()
		p.heard = media.DecodeFrame(p.heard, media.PCMU, pkt.Payload)
		p.mu.Unlock()
	}
}

// press sends keys as RFC 4733 events.
func (p *confPhone) press(keys string) { p.keys <- keys }

// hangUpPhone stops the phone's media and sends a BYE if the call is still up.
func (p *confPhone) hangUpPhone() {
	select {
	case <-p.stop:
		return
	default:
	}
	close(p.stop)
	p.call.rtp.conn.SetReadDeadline(time.Unix(1, 0))
	p.wg.Wait()
	if p.call.dlg.Context().Err() == nil {
		ctx, cancel := context.WithTimeout(context.Background(), tstest.DefaultWait)
		_ = p.call.dlg.Bye(ctx)
		cancel()
	}
}

// listen forgets what the phone heard so far and returns the next frames it hears.
func (p *confPhone) listen(frames int) []int16 {
	p.t.Helper()
	p.mu.Lock()
	p.heard = p.heard[:0]
	p.mu.Unlock()
	var got []int16
	tstest.WaitFor(p.t, fmt.Sprintf("the %v Hz phone to hear %d frames", p.freq, frames), func() bool {
		p.mu.Lock()
		defer p.mu.Unlock()
		if len(p.heard) < frames*media.FrameSamples {
			return false
		}
		got = append([]int16(nil), p.heard[:frames*media.FrameSamples]...)
		return true
	})
	return got
}

// hearsTone reports whether freq stands well out of the audio: 100 times the power of a
// frequency nobody sends.
func confHears(pcm []int16, freq float64) bool {
	return media.Goertzel(pcm, freq) > 100*media.Goertzel(pcm, 1300)+1e5
}

// room creates a conference room of the env's account.
func (e *env) room(ext string, mutate ...func(*switchboard.ConferenceRoom)) *switchboard.ConferenceRoom {
	e.t.Helper()
	r := &switchboard.ConferenceRoom{AccountID: e.account.ID, Name: "Room " + ext, Extension: ext, MaxParticipants: 10}
	for _, m := range mutate {
		m(r)
	}
	if err := e.db.CreateConferenceRoom(context.Background(), r); err != nil {
		e.t.Fatal(err)
	}
	return r
}

// eventReceiver is a real HTTP webhook endpoint: it keeps the standard-format bodies.
type eventReceiver struct {
	mu     sync.Mutex
	bodies []map[string]any
}

func (h *eventReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var m map[string]any
	if json.Unmarshal(b, &m) == nil {
		h.mu.Lock()
		h.bodies = append(h.bodies, m)
		h.mu.Unlock()
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *eventReceiver) named(name string) []map[string]any {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []map[string]any
	for _, m := range h.bodies {
		if m["type"] == name || m["event"] == name || m["name"] == name {
			out = append(out, m)
		}
	}
	return out
}

// subscribeWebhook delivers the account's conference events in the standard format to a
// receiver started here, through the real webhook service.
func subscribeWebhook(t *testing.T, e *env) *eventReceiver {
	t.Helper()
	recv := &eventReceiver{}
	srv := httptest.NewServer(recv)
	t.Cleanup(srv.Close)
	svc, err := webhook.NewService(webhook.Config{Store: e.db, Key: make([]byte, 32), Logger: quietLogger(),
		Policy:     webhook.URLPolicy{AllowHTTP: true, AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}},
		SingleNode: e.db.Dialect() == store.DialectSQLite, DeliveriesCreated: e.db.DeliveriesCreated()})
	if err != nil {
		t.Fatal(err)
	}
	url, format := srv.URL+"/hook", "standard"
	if _, _, err := svc.CreateWebhook(context.Background(), e.account.ID, switchboard.WebhookChange{URL: &url, Format: &format,
		Events: []string{switchboard.EventConferenceJoined, switchboard.EventConferenceLeft}}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = svc.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return recv
}

// Three phones dial the room: each hears the other two's tones and never its own, and
// conference.joined / conference.left reach a real webhook receiver with the room and the
// count of parties.
func TestConferenceThreePhonesHearTheOtherTwoNotThemselves(t *testing.T) {
	e := newEnv(t)
	room := e.room("800", func(r *switchboard.ConferenceRoom) { r.Name = "Board room" })
	hooks := subscribeWebhook(t, e)
	exts := []string{"201", "202", "203"}
	freqs := []float64{500, 1100, 1700}
	var phones []*confPhone
	for i, ext := range exts {
		phones = append(phones, dialRoom(t, e, confUser(t, e, ext), ext, "800", freqs[i]))
		n := i + 1
		tstest.WaitFor(t, fmt.Sprintf("%d parties in the room", n), func() bool {
			parts, err := e.eng.ConferenceParticipants(context.Background(), e.account.ID, room.ID)
			return err == nil && len(parts) == n
		})
	}
	for _, p := range phones {
		heard := p.listen(25)
		for _, other := range phones {
			switch {
			case other == p && confHears(heard, other.freq):
				t.Errorf("the %v Hz phone hears itself", p.freq)
			case other != p && !confHears(heard, other.freq):
				t.Errorf("the %v Hz phone does not hear the %v Hz phone", p.freq, other.freq)
			}
		}
	}
	for _, p := range phones {
		p.hangUpPhone()
	}
	e.waitIdle()

	tstest.WaitFor(t, "three joined and three left events at the receiver", func() bool {
		return len(hooks.named("conference.joined")) == 3 && len(hooks.named("conference.left")) == 3
	})
	counts := map[string][]float64{}
	for _, name := range []string{"conference.joined", "conference.left"} {
		for _, m := range hooks.named(name) {
			data, _ := m["data"].(map[string]any)
			if data[events.FieldConferenceID] != float64(room.ID) || data[events.FieldConferenceName] != "Board room" ||
				data[events.FieldConferenceExtension] != "800" || data[events.FieldParticipantID] == nil {
				t.Errorf("%s delivered %v", name, m)
			}
			counts[name] = append(counts[name], data[events.FieldParticipantCount].(float64))
		}
	}
	if fmt.Sprint(sorted(counts["conference.joined"])) != "[1 2 3]" || fmt.Sprint(sorted(counts["conference.left"])) != "[0 1 2]" {
		t.Errorf("participant counts: joined %v, left %v", counts["conference.joined"], counts["conference.left"])
	}
}

func sorted(v []float64) []float64 {
	out := append([]float64(nil), v...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// A room with a PIN: three wrong PINs and the caller is hung up without ever joining; the
// right PIN joins.
func TestConferencePINRefusesThreeWrongTriesAndAdmitsTheRightOne(t *testing.T) {
	e := newEnv(t)
	room := e.room("801", func(r *switchboard.ConferenceRoom) { r.PINHash = switchboard.HashConferencePIN("4321") })
	intruder := dialRoom(t, e, confUser(t, e, "201"), "201", "801", 500)
	for _, pin := range []string{"1111#", "4320#", "43210#"} {
		intruder.press(pin)
	}
	endedWithin(t, intruder.call.dlg.Context(), "the caller with three wrong PINs")
	parts, err := e.eng.ConferenceParticipants(context.Background(), e.account.ID, room.ID)
	if err != nil || len(parts) != 0 {
		t.Fatalf("after three wrong PINs the room holds %v (%v)", parts, err)
	}
	for _, ev := range e.accountEvents() {
		if ev.Name == switchboard.EventConferenceJoined {
			t.Fatal("conference.joined for a caller who never gave the PIN")
		}
	}

	member := dialRoom(t, e, confUser(t, e, "202"), "202", "801", 1100)
	member.press("4321#")
	tstest.WaitFor(t, "the caller with the right PIN to join", func() bool {
		parts, err := e.eng.ConferenceParticipants(context.Background(), e.account.ID, room.ID)
		return err == nil && len(parts) == 1
	})
}

func (e *env) accountEvents() []*switchboard.Event {
	e.t.Helper()
	evs, err := e.db.ListEvents(context.Background(), e.account.ID, 0, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	return evs
}

// *6 mutes a party for the others (who stop hearing its tone), the party still hears
// them, and *6 again unmutes; the API's view follows.
func TestConferenceStarSixMutesAPartyForTheOthers(t *testing.T) {
	e := newEnv(t)
	room := e.room("802")
	a := dialRoom(t, e, confUser(t, e, "201"), "201", "802", 500)
	b := dialRoom(t, e, confUser(t, e, "202"), "202", "802", 1100)
	if !confHears(b.listen(25), 500) {
		t.Fatal("B does not hear A before the mute")
	}
	a.press("*6")
	tstest.WaitFor(t, "A to be muted", func() bool {
		parts, _ := e.eng.ConferenceParticipants(context.Background(), e.account.ID, room.ID)
		return len(parts) == 2 && parts[0].Muted && !parts[1].Muted
	})
	if confHears(b.listen(25), 500) {
		t.Error("B still hears A after A pressed *6")
	}
	if !confHears(a.listen(25), 1100) {
		t.Error("muted A no longer hears B")
	}
	a.press("*6")
	tstest.WaitFor(t, "A to be unmuted", func() bool {
		parts, _ := e.eng.ConferenceParticipants(context.Background(), e.account.ID, room.ID)
		return len(parts) == 2 && !parts[0].Muted
	})
	if !confHears(b.listen(25), 500) {
		t.Error("B does not hear A after A unmuted")
	}
	// The API's mute and kick act on the same party.
	parts, _ := e.eng.ConferenceParticipants(context.Background(), e.account.ID, room.ID)
	if err := e.eng.KickConferenceParticipant(context.Background(), e.account.ID, room.ID, parts[0].ID); err != nil {
		t.Fatal(err)
	}
	endedWithin(t, a.call.dlg.Context(), "the kicked party's call")
}

// A blind REFER to the room's number puts the transferee in the room: alice calls bob,
// bob transfers her to 803, where carol hears her.
func TestConferenceBlindTransferIntoTheRoom(t *testing.T) {
	e := newEnv(t)
	room := e.room("803")
	alice, bob, _, _ := twoPhones(t, e)
	carol := dialRoom(t, e, confUser(t, e, "203"), "203", "803", 1700)
	c, in := callBob(t, e, alice, bob)
	if code := referIn(t, in.dlg, "<sip:803@"+e.sipAddr+">"); code != 202 {
		t.Fatalf("REFER answered %d; want 202", code)
	}
	endedWithin(t, in.dlg.Context(), "bob's leg after the transfer")
	tstest.WaitFor(t, "alice to join the room", func() bool {
		parts, _ := e.eng.ConferenceParticipants(context.Background(), e.account.ID, room.ID)
		return len(parts) == 2
	})
	aliceInRoom := startConfPhone(t, c, 500)
	if !confHears(carol.listen(25), 500) {
		t.Error("carol does not hear the transferred alice")
	}
	if !confHears(aliceInRoom.listen(25), 1700) {
		t.Error("the transferred alice does not hear carol")
	}
}

// Account B's phone dialling A's room number reaches nothing of A's: 404, and A's room
// stays empty; A's room is not found through B's account.
func TestConferenceRoomNumberIsTheAccountsOwn(t *testing.T) {
	e := newEnv(t)
	room := e.room("804")
	b := e.otherAccount("Beta")
	bu := &switchboard.User{AccountID: b.ID, Extension: "301", FirstName: "Beta", LastName: "User"}
	if err := e.db.CreateUser(context.Background(), bu); err != nil {
		t.Fatal(err)
	}
	d := &switchboard.Device{AccountID: b.ID, UserID: bu.ID, SIPUsername: "beta301"}
	d.SetSIPPassword("beta-pw-301")
	if err := e.db.CreateDevice(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	phone := newUA(t, "127.0.0.1", "beta301")
	phone.register(e, "beta301", "beta-pw-301")
	if code := phone.dial(e, "804", "beta301", "beta-pw-301", 0).finalCode(t); code != 404 {
		t.Fatalf("B's phone dialling A's room number got %d; want 404", code)
	}
	if _, err := e.eng.ConferenceParticipants(context.Background(), b.ID, room.ID); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		t.Fatalf("A's room through B's account: %v; want NOT_FOUND", err)
	}
	if err := e.eng.MuteConferenceParticipant(context.Background(), b.ID, room.ID, 1, true); switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
		t.Fatalf("muting in A's room through B's account: %v; want NOT_FOUND", err)
	}
}

func sin(freq float64, n int) float64 {
	return math.Sin(2 * math.Pi * freq * float64(n) / media.SampleRate)
}

// Stopping the engine with parties in a room hangs them up and ends the room: no mixing
// goroutine outlives the engine's Run.
func TestConferenceEngineShutdownEndsTheRoom(t *testing.T) {
	e := newEnv(t)
	room := e.room("805", func(r *switchboard.ConferenceRoom) { r.AnnounceJoinLeave = true })
	a := dialRoom(t, e, confUser(t, e, "201"), "201", "805", 500)
	b := dialRoom(t, e, confUser(t, e, "202"), "202", "805", 1100)
	tstest.WaitFor(t, "two parties in the room", func() bool {
		parts, _ := e.eng.ConferenceParticipants(context.Background(), e.account.ID, room.ID)
		return len(parts) == 2
	})
	if !mixerRunning() {
		t.Fatal("no mixing goroutine while the room is in use")
	}
	e.stopEngine()
	endedWithin(t, a.call.dlg.Context(), "A's call at shutdown")
	endedWithin(t, b.call.dlg.Context(), "B's call at shutdown")
	if mixerRunning() {
		t.Fatal("the room's mixing goroutine outlived the engine's Run")
	}
	if n := e.eng.Ports().InUse(); n != 0 {
		t.Fatalf("%d RTP ports still in use after shutdown", n)
	}
}

// mixerRunning reports whether any media.Mixer's goroutine runs in this process.
func mixerRunning() bool {
	buf := make([]byte, 1<<22)
	return strings.Contains(string(buf[:runtime.Stack(buf, true)]), "media.(*Mixer).run")
}

// The participants routes of the API reach the engine: listing shows the parties, mute
// silences one for the others, kick hangs it up; another account's key sees none of it.
func TestConferenceParticipantsThroughTheAPI(t *testing.T) {
	e := newEnv(t)
	room := e.room("806")
	apiSrv := httptest.NewServer(api.New(api.Config{Store: e.db, Live: e.eng, Conferences: e.eng,
		Provision: provision.New(provision.Config{Store: e.db, Engine: e.eng})}))
	t.Cleanup(apiSrv.Close)
	keyOf := func(accountID int64) string {
		key, k := switchboard.NewAPIKey(switchboard.KeyDeveloper)
		k.AccountID, k.Name = accountID, "backend"
		if err := e.db.CreateAPIKey(context.Background(), k); err != nil {
			t.Fatal(err)
		}
		return key
	}
	key, other := keyOf(e.account.ID), e.otherAccount("Beta")
	otherKey := keyOf(other.ID)
	do := func(method, path, key string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, apiSrv.URL+path, nil)
		req.Header.Set("X-API-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		return resp.StatusCode, body
	}
	base := fmt.Sprintf("/v3/voice/%d/conferences/%d", e.account.ID, room.ID)

	a := dialRoom(t, e, confUser(t, e, "201"), "201", "806", 500)
	b := dialRoom(t, e, confUser(t, e, "202"), "202", "806", 1100)
	var list []any
	tstest.WaitFor(t, "the API to list two parties", func() bool {
		_, body := do("GET", base+"/participants", key)
		list, _ = body["result"].([]any)
		return len(list) == 2
	})
	first := list[0].(map[string]any)
	if first["number"] != "201" || first["muted"] != false {
		t.Fatalf("first party: %v", first)
	}
	aID := fmt.Sprint(int64(first["participant_id"].(float64)))
	if code, _ := do("GET", fmt.Sprintf("/v3/voice/%d/conferences/%d/participants", other.ID, room.ID), otherKey); code != http.StatusNotFound {
		t.Fatalf("B's key listing A's room: %d; want 404", code)
	}
	if code, _ := do("POST", fmt.Sprintf("/v3/voice/%d/conferences/%d/participants/%s/mute", other.ID, room.ID, aID), otherKey); code != http.StatusNotFound {
		t.Fatalf("B's key muting in A's room: %d; want 404", code)
	}
	if !confHears(b.listen(25), 500) {
		t.Fatal("B does not hear A before the API mutes A")
	}
	if code, body := do("POST", base+"/participants/"+aID+"/mute", key); code != http.StatusOK {
		t.Fatalf("mute: %d %v", code, body)
	}
	if confHears(b.listen(25), 500) {
		t.Error("B still hears A after the API muted A")
	}
	if code, _ := do("POST", base+"/participants/"+aID+"/kick", key); code != http.StatusOK {
		t.Fatalf("kick: %d", code)
	}
	endedWithin(t, a.call.dlg.Context(), "the kicked party's call")
	if code, _ := do("POST", base+"/participants/"+aID+"/unmute", key); code != http.StatusNotFound {
		t.Fatalf("unmuting a party that left: %d; want 404", code)
	}
}

// A full room answers a new caller 486 Busy Here without answering (the phone shows busy,
// the call record says busy) and nobody in the room notices; when a place frees up, the
// next caller gets in.
func TestConferenceFullRoomRefusesWithBusyHere(t *testing.T) {
	e := newEnv(t)
	room := e.room("805", func(r *switchboard.ConferenceRoom) { r.MaxParticipants = 2 })
	dialRoom(t, e, confUser(t, e, "211"), "211", "805", 500)
	second := dialRoom(t, e, confUser(t, e, "212"), "212", "805", 900)
	tstest.WaitFor(t, "two parties in the room", func() bool {
		parts, _ := e.eng.ConferenceParticipants(context.Background(), e.account.ID, room.ID)
		return len(parts) == 2
	})
	third := confUser(t, e, "213")
	if code := third.dial(e, "805", "p213", "pw-213-secret").finalCode(t); code != 486 {
		t.Fatalf("a caller to the full room got %d; want 486", code)
	}
	parts, _ := e.eng.ConferenceParticipants(context.Background(), e.account.ID, room.ID)
	if len(parts) != 2 {
		t.Fatalf("the room holds %d parties after the refused caller; want 2", len(parts))
	}
	second.hangUpPhone()
	tstest.WaitFor(t, "the room to have a free place", func() bool {
		parts, _ := e.eng.ConferenceParticipants(context.Background(), e.account.ID, room.ID)
		return len(parts) == 1
	})
	dialRoom(t, e, third, "213", "805", 1300)
	tstest.WaitFor(t, "the third caller to join once a place is free", func() bool {
		parts, _ := e.eng.ConferenceParticipants(context.Background(), e.account.ID, room.ID)
		return len(parts) == 2
	})
}
