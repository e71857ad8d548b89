package pbx

import (
	"context"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"switchboard"
	"switchboard/events"
	"switchboard/media"
)

// Conference rooms: a caller reaches a room by dialling its extension, by a blind transfer
// to it, or through a call flow's conference node (runConference). The room answers, asks
// for the PIN if it has one, and puts the caller in the room's mixer (media.Mixer): each
// party hears everyone else, never themselves. *6 toggles one's own mute. A room's mixer
// lives while someone is in it.
//
// A full room refuses a caller it has not answered with 486 Busy Here, so the phone shows
// busy and a flow or a forwarding rule can go on; a caller already answered (by a flow, or
// while giving the PIN) hears "the conference is full". Every prompt is a system prompt in
// the call's language; where none can be read the room speaks in tones
// (docs/conferences.md):
//
//	PIN wanted            one 440 Hz beep (again after a wrong PIN)
//	wrong PIN             three short 300 Hz beeps; after the third wrong PIN, a hang-up
//	room full             the busy tone for two seconds, then a hang-up
//	joined / alone        the join tone / none
//	*6 muted / unmuted    one low 400 Hz beep / one high 800 Hz beep

// PIN entry: three tries, each ending with # (or the twelfth digit of the longest PIN and
// a few more: a flood of digits is a wrong PIN), and at most pinDigitTimeout between keys.
const (
	maxPINAttempts  = 3
	maxPINLength    = 16
	pinDigitTimeout = 10 * time.Second
	// muteKey follows * to toggle one's own mute (*6, as in Asterisk's ConfBridge menu
	// samples and most hosted PBXs).
	muteKey = '6'
	// confSweep is how often a party's media is checked for silence: a phone that vanished
	// without a BYE leaves the room after the media inactivity timeout.
	confSweep = 5 * time.Second
)

// conferences are the engine's rooms in progress.
type conferences struct {
	mu     sync.Mutex
	rooms  map[confKey]*confRoom
	nextID atomic.Int64 // participant ids, unique while the process runs
}

type confKey struct{ accountID, roomID int64 }

// confRoom is a room in progress: its mixer and its parties, in join order.
type confRoom struct {
	mixer *media.Mixer
	parts []*confParty
}

// confParty is one party in a room: the call and its place in the mixer.
type confParty struct {
	id     int64
	c      *call
	mixer  *media.Participant
	joined time.Time
}

var _ switchboard.ConferenceController = (*Engine)(nil)

// runConference puts the caller of st in the room roomID of the call's account and keeps
// them there until they hang up, are removed, or the engine stops; then the call ends. It
// answers the caller if nobody has yet. Call flows call it for their conference node.
func (c *call) runConference(st *callerState, roomID int64) {
	ctx, cancel := context.WithTimeout(context.Background(), lookupTimeout)
	room, err := c.e.store.GetConferenceRoom(ctx, c.accountID, roomID)
	cancel()
	if err != nil {
		if switchboard.ErrorCode(err) != switchboard.ENOTFOUND {
			c.e.log.Error("reading a conference room failed", "uniqueid", c.id, "room_id", roomID, "error", err)
		}
		c.endUnanswered(st, switchboard.DispositionFailed, 404, "Not Found: no such conference room")
		return
	}
	if !st.answered && !room.HasPIN() && c.e.conferenceSize(room) >= room.MaxParticipants {
		c.e.log.Info("conference room full", "uniqueid", c.id, "room_id", room.ID, "max", room.MaxParticipants)
		c.endUnanswered(st, switchboard.DispositionBusy, 486, "Busy Here: the conference room is full")
		return
	}
	if !c.answerCaller(st) {
		c.finish(switchboard.DispositionFailed)
		return
	}
	c.mu.Lock()
	c.via = map[string]any{events.FieldConferenceID: room.ID, events.FieldConferenceName: room.Name}
	answered := !c.answered.IsZero()
	c.mu.Unlock()
	if !answered {
		c.markAnswered(nil) // the room answered
	}
	defer c.finish(switchboard.DispositionAnswered)
	if room.HasPIN() && !c.collectPIN(st.a, room) {
		return
	}
	// The welcome is played before joining: once in the mixer the leg's audio is the room's.
	if c.e.conferenceSize(room) < room.MaxParticipants {
		c.playTo(st.a, c.speak(st.a, switchboard.SysPromptConfJoined, joinedTone))
		if c.e.conferenceSize(room) == 0 {
			c.playTo(st.a, c.speak(st.a, switchboard.SysPromptConfAlone, silence))
		}
	}
	party, count, err := c.e.joinConference(c, st.a, room)
	if err != nil {
		c.e.log.Info("conference room full", "uniqueid", c.id, "room_id", room.ID, "max", room.MaxParticipants)
		c.playTo(st.a, c.speak(st.a, switchboard.SysPromptConfFull, busyTone))
		return
	}
	c.e.log.Info("conference joined", "uniqueid", c.id, "room_id", room.ID, "participant_id", party.id, "count", count)
	c.emit(c.conferenceEvent(switchboard.EventConferenceJoined, room, party, count))
	c.stayInConference(st.a, party)
	count = c.e.leaveConference(room, party)
	c.e.log.Info("conference left", "uniqueid", c.id, "room_id", room.ID, "participant_id", party.id, "count", count)
	c.emit(c.conferenceEvent(switchboard.EventConferenceLeft, room, party, count))
}

// stayInConference waits for the party's end: a BYE, a hang-up of the call (kick, engine
// shutdown), or media gone silent; meanwhile *6 toggles the party's mute.
func (c *call) stayInConference(a *leg, party *confParty) {
	keys := a.keys()
	sweep := time.NewTicker(confSweep)
	defer sweep.Stop()
	star := false
	for {
		select {
		case <-a.ctx().Done():
			return
		case <-c.hangupC:
			return
		case <-sweep.C:
			if !a.held() && a.media.Inactive() {
				c.e.log.Info("conference party's media went silent", "uniqueid", c.id)
				return
			}
		case d := <-keys:
			if star && d == muteKey {
				muted := !party.mixer.Muted()
				party.mixer.SetMuted(muted)
				if muted {
					c.playTo(a, c.speak(a, switchboard.SysPromptConfMuted, mutedTone))
				} else {
					c.playTo(a, c.speak(a, switchboard.SysPromptConfUnmuted, unmutedTone))
				}
			}
			star = d == '*'
		}
	}
}

// collectPIN asks for the room's PIN until it is right (true) or three tries are wrong or
// the caller leaves (false).
func (c *call) collectPIN(a *leg, room *switchboard.ConferenceRoom) bool {
	keys := a.keys()
	for range maxPINAttempts {
		c.playTo(a, c.speak(a, switchboard.SysPromptConfEnterPIN, pinTone))
		pin, ok := readDigits(a, keys)
		if !ok {
			return false
		}
		if room.CheckPIN(pin) {
			return true
		}
		c.e.log.Info("wrong conference PIN", "uniqueid", c.id, "room_id", room.ID)
		c.playTo(a, c.speak(a, switchboard.SysPromptPINInvalid, errorTone))
	}
	return false
}

// speak is the system prompt name in the call's language, or tone where none can be read.
func (c *call) speak(a *leg, name string, tone func() []int16) []int16 {
	return c.e.systemPrompt(a.ctx(), c.accountID, name, c.language, tone)
}

// The tones rooms play where no prompt can be read (docs/conferences.md).
var (
	mutedTone   = sync.OnceValue(func() []int16 { return tones(roomLevel, toneStep{400, 250}) })
	unmutedTone = sync.OnceValue(func() []int16 { return tones(roomLevel, toneStep{800, 250}) })
	pinTone     = sync.OnceValue(func() []int16 { return tones(roomLevel, toneStep{440, 300}) })
	joinedTone  = sync.OnceValue(func() []int16 { return tones(roomLevel, toneStep{440, 150}, toneStep{660, 200}) })
)

// readDigits reads keys up to # (not included). A pause longer than pinDigitTimeout ends
// the entry as it is; false when the caller left.
func readDigits(a *leg, keys <-chan media.Digit) (string, bool) {
	var pin []byte
	timer := time.NewTimer(pinDigitTimeout)
	defer timer.Stop()
	for {
		select {
		case <-a.ctx().Done():
			return "", false
		case <-a.c.hangupC:
			return "", false
		case <-timer.C:
			return string(pin), true
		case d := <-keys:
			if d == '#' {
				return string(pin), true
			}
			if len(pin) <= maxPINLength {
				pin = append(pin, byte(d))
			}
			timer.Reset(pinDigitTimeout)
		}
	}
}

// playTo plays a tone to the leg alone; it returns early when the leg or the call ends.
func (c *call) playTo(a *leg, pcm []int16) {
	ctx, cancel := context.WithCancel(a.ctx())
	defer cancel()
	go func() {
		select {
		case <-c.hangupC:
			cancel()
		case <-ctx.Done():
		}
	}()
	_ = a.media.Play(ctx, media.PCM(pcm))
}

// joinConference puts the leg in the room's mixer, starting the room if it is empty. It
// fails when the room is full. count is the parties in the room with this one.
func (e *Engine) joinConference(c *call, a *leg, room *switchboard.ConferenceRoom) (*confParty, int, error) {
	k := confKey{room.AccountID, room.ID}
	e.conf.mu.Lock()
	defer e.conf.mu.Unlock()
	r := e.conf.rooms[k]
	if r == nil {
		r = &confRoom{mixer: media.NewMixer(media.MixerConfig{JoinLeaveTones: room.AnnounceJoinLeave})}
		if e.conf.rooms == nil {
			e.conf.rooms = map[confKey]*confRoom{}
		}
		e.conf.rooms[k] = r
	}
	if len(r.parts) >= room.MaxParticipants {
		if len(r.parts) == 0 { // cannot happen (at least 2 places), but never leak a mixer
			delete(e.conf.rooms, k)
			r.mixer.Close()
		}
		return nil, 0, errRoomFull
	}
	mp, err := r.mixer.Join(a.media, room.MuteOnJoin)
	if err != nil {
		return nil, 0, err
	}
	p := &confParty{id: e.conf.nextID.Add(1), c: c, mixer: mp, joined: e.now().UTC()}
	r.parts = append(r.parts, p)
	return p, len(r.parts), nil
}

var errRoomFull = switchboard.Errorf(switchboard.ECONFLICT, "The conference room is full")

// conferenceSize is the number of parties in the room now.
func (e *Engine) conferenceSize(room *switchboard.ConferenceRoom) int {
	e.conf.mu.Lock()
	defer e.conf.mu.Unlock()
	if r := e.conf.rooms[confKey{room.AccountID, room.ID}]; r != nil {
		return len(r.parts)
	}
	return 0
}

// leaveConference takes the party out of the room, ending the room when it was the last;
// it returns the parties left.
func (e *Engine) leaveConference(room *switchboard.ConferenceRoom, p *confParty) int {
	k := confKey{room.AccountID, room.ID}
	e.conf.mu.Lock()
	r := e.conf.rooms[k]
	if r == nil {
		e.conf.mu.Unlock()
		return 0
	}
	r.parts = slices.DeleteFunc(r.parts, func(q *confParty) bool { return q == p })
	left := len(r.parts)
	if left == 0 {
		delete(e.conf.rooms, k)
	}
	e.conf.mu.Unlock()
	p.mixer.Leave()
	if left == 0 {
		r.mixer.Close() // joins the room's mixing goroutine
	}
	return left
}

// conferenceEvent is conference.joined or conference.left of the party.
func (c *call) conferenceEvent(name string, room *switchboard.ConferenceRoom, p *confParty, count int) *switchboard.Event {
	c.mu.Lock()
	u := c.eventUser(nil)
	c.mu.Unlock()
	return c.event(name, u, map[string]any{
		events.FieldConferenceID:        room.ID,
		events.FieldConferenceName:      room.Name,
		events.FieldConferenceExtension: room.Extension,
		events.FieldParticipantID:       p.id,
		events.FieldParticipantCount:    count,
	})
}

// party finds a party of the account's room in progress.
func (e *Engine) confParty(accountID, roomID, participantID int64) *confParty {
	e.conf.mu.Lock()
	defer e.conf.mu.Unlock()
	if r := e.conf.rooms[confKey{accountID, roomID}]; r != nil {
		for _, p := range r.parts {
			if p.id == participantID {
				return p
			}
		}
	}
	return nil
}

// checkRoom answers ENOTFOUND unless the room is the account's.
func (e *Engine) checkRoom(ctx context.Context, accountID, roomID int64) error {
	_, err := e.store.GetConferenceRoom(ctx, accountID, roomID)
	return err
}

// ConferenceParticipants lists the parties in the account's room now, in join order.
func (e *Engine) ConferenceParticipants(ctx context.Context, accountID, roomID int64) ([]switchboard.ConferenceParticipant, error) {
	if err := e.checkRoom(ctx, accountID, roomID); err != nil {
		return nil, err
	}
	e.conf.mu.Lock()
	defer e.conf.mu.Unlock()
	out := []switchboard.ConferenceParticipant{}
	if r := e.conf.rooms[confKey{accountID, roomID}]; r != nil {
		for _, p := range r.parts {
			out = append(out, switchboard.ConferenceParticipant{ID: p.id, RoomID: roomID, CallID: p.c.id,
				Number: p.c.from, Name: p.c.callerName, Muted: p.mixer.Muted(), JoinedAt: p.joined})
		}
	}
	return out, nil
}

// MuteConferenceParticipant mutes or unmutes a party of the account's room for the others.
func (e *Engine) MuteConferenceParticipant(ctx context.Context, accountID, roomID, participantID int64, muted bool) error {
	if err := e.checkRoom(ctx, accountID, roomID); err != nil {
		return err
	}
	p := e.confParty(accountID, roomID, participantID)
	if p == nil {
		return participantNotFound(participantID)
	}
	p.mixer.SetMuted(muted)
	return nil
}

// KickConferenceParticipant hangs up a party of the account's room.
func (e *Engine) KickConferenceParticipant(ctx context.Context, accountID, roomID, participantID int64) error {
	if err := e.checkRoom(ctx, accountID, roomID); err != nil {
		return err
	}
	p := e.confParty(accountID, roomID, participantID)
	if p == nil {
		return participantNotFound(participantID)
	}
	p.c.hangup("removed from the conference room")
	return nil
}

func participantNotFound(id int64) error {
	return switchboard.Errorf(switchboard.ENOTFOUND, "No participant %d in this conference room now", id)
}

// The room's tones (see the table at the top of the file) are at roomLevel.
const roomLevel = 3000

var errorTone = sync.OnceValue(func() []int16 {
	return tones(roomLevel, toneStep{300, 120}, toneStep{0, 80}, toneStep{300, 120}, toneStep{0, 80}, toneStep{300, 120}, toneStep{0, 80})
})

// busyTone is the US busy tone (480 + 620 Hz, 0.5 s on, 0.5 s off) for two seconds.
var busyTone = sync.OnceValue(func() []int16 {
	var out []int16
	for range 2 {
		on := make([]int16, media.SampleRate/2)
		for i := range on {
			t := float64(i) / media.SampleRate
			on[i] = int16(1500*math.Sin(2*math.Pi*480*t) + 1500*math.Sin(2*math.Pi*620*t))
		}
		out = append(out, on...)
		out = append(out, make([]int16, media.SampleRate/2)...)
	}
	return out
})
