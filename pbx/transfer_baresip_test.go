package pbx_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/testpeer"
	"switchboard/internal/tstest"
	"switchboard/media"
	"switchboard/store/storetest"
)

// toneBaresip is a headless baresip registered as user, auto-answering and sending a sine
// of its own frequency, so that a listener can tell which party it hears; ctrl_tcp takes
// its commands (baresip 1.0's "transfer" sends a blind REFER).
type toneBaresip struct {
	ctrl string
	dir  string // snd_path: sndfile writes dump-<time>-dec.wav, what the phone heard, per call
	out  *tstest.Buffer
}

func startToneBaresip(t *testing.T, bin string, e *env, user, password string, hz, rtpBase int) *toneBaresip {
	t.Helper()
	dir := t.TempDir()
	listen := net.JoinHostPort("127.0.0.1", strconv.Itoa(tstest.FreePortPair(t, "127.0.0.1")))
	ctrl := net.JoinHostPort("127.0.0.1", strconv.Itoa(tstest.FreePort(t, "127.0.0.1")))
	config := strings.Join([]string{
		"poll_method epoll",
		"sip_listen " + listen,
		fmt.Sprintf("audio_source ausine,%d", hz),
		"ausrc_srate 48000", "ausrc_channels 2", "auplay_srate 48000",
		"audio_player aufile," + filepath.Join(dir, "heard.wav"), // baresip 1.0 plays nowhere: sndfile records
		"audio_alert aufile," + filepath.Join(dir, "alert.wav"),
		fmt.Sprintf("rtp_ports %d-%d", rtpBase, rtpBase+99),
		"module_path /usr/lib/baresip/modules",
		"module g711.so", "module ausine.so", "module aufile.so", "module account.so",
		"module menu.so", "module ctrl_tcp.so", "module sndfile.so",
		"ctrl_tcp_listen " + ctrl,
		"snd_path " + dir,
		"",
	}, "\n")
	account := fmt.Sprintf("<sip:%s@127.0.0.1>;auth_pass=%s;outbound=\"sip:%s\";answermode=auto;regint=600;audio_codecs=PCMU\n",
		user, password, e.sipAddr)
	for name, body := range map[string]string{"config": config, "accounts": account, "contacts": ""} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-f", dir, "-n", "127.0.0.1")
	p := &toneBaresip{ctrl: ctrl, dir: dir, out: &tstest.Buffer{}}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("baresip %s output:\n%s", user, lastLines(p.out.Bytes(), 60))
		}
	})
	return p
}

// command sends one command to baresip's ctrl_tcp module (netstring-framed JSON).
func (p *toneBaresip) command(t *testing.T, cmd, params string) {
	t.Helper()
	var conn net.Conn
	tstest.WaitFor(t, "baresip's control port", func() bool {
		c, err := net.Dial("tcp", p.ctrl)
		conn = c
		return err == nil
	})
	defer conn.Close()
	msg, _ := json.Marshal(map[string]string{"command": cmd, "params": params, "token": "test"})
	if _, err := conn.Write([]byte(strconv.Itoa(len(msg)) + ":" + string(msg) + ",")); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(tstest.DefaultWait))
	buf := make([]byte, 4096)
	_, _ = conn.Read(buf)
}

// toneLevel is the Goertzel power of hz in a µ-law payload, relative to the frame's energy.
func toneLevel(payload []byte, hz float64) float64 {
	coeff := 2 * math.Cos(2*math.Pi*hz/media.SampleRate)
	var s1, s2, energy float64
	for _, b := range payload {
		x := float64(media.UlawDecode(b))
		energy += x * x
		s := x + coeff*s1 - s2
		s2, s1 = s1, s
	}
	if energy == 0 {
		return 0
	}
	return (s1*s1 + s2*s2 - coeff*s1*s2) / (energy * float64(len(payload)) / 2)
}

// hearsTone reports whether p receives, within the default wait, 10 frames whose audio is
// mostly hz: the party sending that frequency is the one bridged to p.
func hearsTone(t *testing.T, p *rtpPeer, hz float64) bool {
	t.Helper()
	heard := 0
	for i, deadline := 0, time.Now().Add(tstest.DefaultWait); heard < 10 && time.Now().Before(deadline); i++ {
		p.send(t, ulawFrame(i))
		if pkt := p.recv(20 * time.Millisecond); pkt != nil && pkt.PayloadType == 0 && !silent(pkt.Payload) &&
			toneLevel(pkt.Payload, hz) > 0.5 {
			heard++
		}
	}
	return heard >= 10
}

// The done-when for transfers, with real softphones: bob and carol are baresips
// (bob sends 1000 Hz, carol 440 Hz). Alice (a sipgo phone, so that her audio can be
// checked sample by sample) calls bob; bob's baresip blind-transfers her to 1003 with its
// own "transfer" command (a REFER); after the transfer alice hears carol's 440 Hz, not
// bob's tone nor hold music. Then an attended transfer: dave (a sipgo phone: baresip 1.0
// has no attended transfer) consults carol and REFERs alice's call with Replaces; alice
// ends up hearing carol again on carol's existing leg.
func TestTransfersBetweenBaresips(t *testing.T) {
	bin := testpeer.Require(t, "baresip", "baresip-core")
	e := newEnvSIP(t, storetest.NewSQLite(t), nil)
	ua1 := e.user("1001")
	ub := e.user("1002")
	uc := e.user("1003")
	ud := e.user("1004")
	e.device(ua1, "1001", "alice-pw-1")
	e.device(ub, "1002", "bob-pw-1")
	e.device(uc, "1003", "carol-pw-1")
	e.device(ud, "1004", "dave-pw-1")
	alice := newUA(t, "127.0.0.1", "1001")
	alice.register(e, "1001", "alice-pw-1")
	dave := newUA(t, "127.0.0.1", "1004")
	dave.register(e, "1004", "dave-pw-1")
	bob := startToneBaresip(t, bin, e, "1002", "bob-pw-1", 1000, 19000)
	startToneBaresip(t, bin, e, "1003", "carol-pw-1", 440, 19200)
	for _, u := range []*switchboard.User{ub, uc} {
		tstest.WaitFor(t, "baresip "+u.Extension+" to register", func() bool {
			on, _ := e.srv.UserPresence(e.account.ID, u.ID)
			return on
		})
	}

	c := alice.dial(e, "1002", "1001", "alice-pw-1", 0)
	c.answered(t)
	if !hearsTone(t, c.rtp, 1000) {
		t.Fatal("alice does not hear bob's 1000 Hz before the transfer")
	}
	bob.command(t, "transfer", "sip:1003@127.0.0.1")
	tstest.WaitFor(t, "the call to be transferred to carol", func() bool {
		rs, _ := e.db.ListCallRecords(context.Background(), e.account.ID, switchboard.CallRecordFilter{})
		return len(rs) == 1 && e.eng.ActiveCalls() == 1 && len(e.eng.Channels(e.account.ID, ub.ID)) == 0 &&
			len(e.eng.Channels(e.account.ID, uc.ID)) == 1
	})
	if !hearsTone(t, c.rtp, 440) {
		t.Fatal("alice does not hear carol's 440 Hz after the blind transfer")
	}

	if err := c.dlg.Bye(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.waitIdle()
	r := e.endedRecord(switchboard.CallOutbound)
	if r.TransferredTo != "1003" || r.TransferredByUserID != ub.ID {
		t.Errorf("record = %+v; want transferred to 1003 by bob", r)
	}

	// Attended: alice calls dave; dave calls carol (baresip answers), then REFERs alice's
	// call to carol with Replaces naming his consultation dialog.
	c = alice.dial(e, "1004", "1001", "alice-pw-1", 0)
	din := dave.next()
	din.answer(t, "127.0.0.1", 0)
	c.answered(t)
	consult := dave.dial(e, "1003", "1004", "dave-pw-1", 0)
	consult.answered(t)
	if !hearsTone(t, consult.rtp, 440) {
		t.Fatal("dave does not hear carol while consulting")
	}
	replaces := consult.dlg.InviteRequest.CallID().Value() + ";to-tag=" + tagOf(consult.dlg.InviteResponse.To().Params) +
		";from-tag=" + tagOf(consult.dlg.InviteRequest.From().Params)
	referTo := "<sip:1003@" + e.sipAddr + "?Replaces=" + strings.NewReplacer("@", "%40", ";", "%3B", "=", "%3D").Replace(replaces) + ">"
	if code := referIn(t, din.dlg, referTo); code != 202 {
		t.Fatalf("REFER with Replaces answered %d; want 202", code)
	}
	endedWithin(t, consult.dlg.Context(), "dave's consultation leg to end")
	endedWithin(t, din.dlg.Context(), "dave's leg of alice's call to end")
	if !hearsTone(t, c.rtp, 440) {
		t.Fatal("alice does not hear carol's 440 Hz after the attended transfer")
	}
	if err := c.dlg.Bye(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.waitIdle()
	tstest.WaitFor(t, "every RTP port back", func() bool { return e.eng.Ports().InUse() == 0 })
}

// lastHeard returns the last seconds of a baresip's recording of what it played out (the
// first channel) and its sample rate; nil while there is not that much yet.
func (p *toneBaresip) lastHeard(t *testing.T, seconds float64) (samples []float64, rate int) {
	t.Helper()
	dumps, _ := filepath.Glob(filepath.Join(p.dir, "dump-*-dec.wav"))
	if len(dumps) == 0 {
		return nil, 0
	}
	b, err := os.ReadFile(dumps[len(dumps)-1])
	if err != nil || len(b) < 44 {
		return nil, 0
	}
	// RIFF: find the fmt and data chunks.
	channels, bits := 1, 16
	pos := 12
	var data []byte
	for pos+8 <= len(b) {
		id, size := string(b[pos:pos+4]), int(uint32(b[pos+4])|uint32(b[pos+5])<<8|uint32(b[pos+6])<<16|uint32(b[pos+7])<<24)
		body := b[pos+8:]
		if id == "fmt " && len(body) >= 16 {
			channels = int(body[2]) | int(body[3])<<8
			rate = int(uint32(body[4]) | uint32(body[5])<<8 | uint32(body[6])<<16 | uint32(body[7])<<24)
			bits = int(body[14]) | int(body[15])<<8
		}
		if id == "data" {
			data = body // the size may still be 0 while baresip writes
			break
		}
		pos += 8 + size
	}
	if rate == 0 || bits != 16 || channels < 1 {
		return nil, 0
	}
	frame := 2 * channels
	n := int(seconds * float64(rate))
	if len(data)/frame < n {
		return nil, 0
	}
	data = data[len(data)/frame*frame-n*frame:]
	for i := 0; i < n; i++ {
		v := int16(uint16(data[i*frame]) | uint16(data[i*frame+1])<<8) // the first channel
		samples = append(samples, float64(v))
	}
	return samples, rate
}

// dominantIs reports whether hz carries most of the energy of samples.
func dominantIs(samples []float64, rate int, hz float64) bool {
	if len(samples) == 0 {
		return false
	}
	coeff := 2 * math.Cos(2*math.Pi*hz/float64(rate))
	var s1, s2, energy float64
	for _, x := range samples {
		energy += x * x
		s := x + coeff*s1 - s2
		s2, s1 = s1, s
	}
	if energy < float64(len(samples))*100*100 { // silence
		return false
	}
	return (s1*s1+s2*s2-coeff*s1*s2)/(energy*float64(len(samples))/2) > 0.5
}

// Three baresips: alice (700 Hz) calls bob (1000 Hz) with her own "dial" command; bob's
// baresip blind-transfers her to carol (440 Hz) with its "transfer" command. After the
// transfer what alice's baresip plays out is carol's 440 Hz and what carol's plays out is
// alice's 700 Hz: the audio each softphone heard, read from its own recording.
func TestBlindTransferBetweenThreeBaresips(t *testing.T) {
	bin := testpeer.Require(t, "baresip", "baresip-core")
	e := newEnvSIP(t, storetest.NewSQLite(t), nil)
	users := map[string]*switchboard.User{}
	for _, ext := range []string{"1001", "1002", "1003"} {
		users[ext] = e.user(ext)
		e.device(users[ext], ext, "pw-"+ext)
	}
	alice := startToneBaresip(t, bin, e, "1001", "pw-1001", 700, 19400)
	bob := startToneBaresip(t, bin, e, "1002", "pw-1002", 1000, 19000)
	carol := startToneBaresip(t, bin, e, "1003", "pw-1003", 440, 19200)
	for _, u := range users {
		tstest.WaitFor(t, "baresip "+u.Extension+" to register", func() bool {
			on, _ := e.srv.UserPresence(e.account.ID, u.ID)
			return on
		})
	}
	alice.command(t, "dial", "sip:1002@127.0.0.1")
	tstest.WaitFor(t, "alice to hear bob's 1000 Hz", func() bool {
		s, rate := alice.lastHeard(t, 0.2)
		return dominantIs(s, rate, 1000)
	})
	bob.command(t, "transfer", "sip:1003@127.0.0.1")
	tstest.WaitFor(t, "alice to hear carol's 440 Hz after the transfer", func() bool {
		s, rate := alice.lastHeard(t, 0.2)
		return dominantIs(s, rate, 440)
	})
	tstest.WaitFor(t, "carol to hear alice's 700 Hz", func() bool {
		s, rate := carol.lastHeard(t, 0.2)
		return dominantIs(s, rate, 700)
	})
	if ch := e.eng.Channels(e.account.ID, users["1002"].ID); len(ch) != 0 {
		t.Errorf("bob still has channels %v after the transfer", ch)
	}
	carol.command(t, "hangup", "")
	r := e.endedRecord(switchboard.CallOutbound)
	if r.TransferredTo != "1003" || r.TransferredByUserID != users["1002"].ID {
		t.Errorf("record = %+v; want transferred to 1003 by bob", r)
	}
	e.waitIdle()
	tstest.WaitFor(t, "every RTP port back", func() bool { return e.eng.Ports().InUse() == 0 })
}

// An attended transfer between baresips: alice's baresip (700 Hz) calls dave, dave calls
// carol's baresip (440 Hz) and REFERs alice's call with Replaces naming his dialog with
// carol (dave is a sipgo phone: baresip 1.0 has no attended transfer). Alice's baresip then
// hears carol and carol's hears alice, on the legs they already had.
func TestAttendedTransferBetweenBaresips(t *testing.T) {
	bin := testpeer.Require(t, "baresip", "baresip-core")
	e := newEnvSIP(t, storetest.NewSQLite(t), nil)
	users := map[string]*switchboard.User{}
	for _, ext := range []string{"1001", "1003", "1004"} {
		users[ext] = e.user(ext)
		e.device(users[ext], ext, "pw-"+ext)
	}
	dave := newUA(t, "127.0.0.1", "1004")
	dave.register(e, "1004", "pw-1004")
	alice := startToneBaresip(t, bin, e, "1001", "pw-1001", 700, 19400)
	carol := startToneBaresip(t, bin, e, "1003", "pw-1003", 440, 19200)
	for _, ext := range []string{"1001", "1003"} {
		tstest.WaitFor(t, "baresip "+ext+" to register", func() bool {
			on, _ := e.srv.UserPresence(e.account.ID, users[ext].ID)
			return on
		})
	}
	alice.command(t, "dial", "sip:1004@127.0.0.1")
	din := dave.next()
	din.answer(t, "127.0.0.1", 0)
	answerSent(t, din)
	consult := dave.dial(e, "1003", "1004", "pw-1004", 0)
	consult.answered(t)
	if !hearsTone(t, consult.rtp, 440) {
		t.Fatal("dave does not hear carol while consulting")
	}
	replaces := consult.dlg.InviteRequest.CallID().Value() + ";to-tag=" + tagOf(consult.dlg.InviteResponse.To().Params) +
		";from-tag=" + tagOf(consult.dlg.InviteRequest.From().Params)
	referTo := "<sip:1003@" + e.sipAddr + "?Replaces=" + strings.NewReplacer("@", "%40", ";", "%3B", "=", "%3D").Replace(replaces) + ">"
	if code := referIn(t, din.dlg, referTo); code != 202 {
		t.Fatalf("REFER with Replaces answered %d; want 202", code)
	}
	endedWithin(t, consult.dlg.Context(), "dave's consultation leg to end")
	endedWithin(t, din.dlg.Context(), "dave's leg of alice's call to end")
	tstest.WaitFor(t, "alice to hear carol's 440 Hz after the transfer", func() bool {
		s, rate := alice.lastHeard(t, 0.2)
		return dominantIs(s, rate, 440)
	})
	tstest.WaitFor(t, "carol to hear alice's 700 Hz after the transfer", func() bool {
		s, rate := carol.lastHeard(t, 0.2)
		return dominantIs(s, rate, 700)
	})
	alice.command(t, "hangup", "")
	e.waitIdle()
	tstest.WaitFor(t, "every RTP port back", func() bool { return e.eng.Ports().InUse() == 0 })
}
