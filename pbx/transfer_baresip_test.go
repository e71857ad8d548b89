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
	sbsip "switchboard/sip"
	"switchboard/store/storetest"
)

// toneBaresip is a headless baresip registered as user, auto-answering and sending a sine
// of its own frequency, so that a listener can tell which party it hears; ctrl_tcp takes
// its commands (baresip 1.0's "transfer" sends a blind REFER).
type toneBaresip struct {
	ctrl string
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
		"audio_player aufile," + filepath.Join(dir, "heard.wav"),
		"audio_alert aufile," + filepath.Join(dir, "alert.wav"),
		fmt.Sprintf("rtp_ports %d-%d", rtpBase, rtpBase+99),
		"module_path /usr/lib/baresip/modules",
		"module g711.so", "module ausine.so", "module aufile.so", "module account.so",
		"module menu.so", "module ctrl_tcp.so",
		"ctrl_tcp_listen " + ctrl,
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
	p := &toneBaresip{ctrl: ctrl, out: &tstest.Buffer{}}
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
	e := newEnvSIP(t, storetest.NewSQLite(t), func(c *sbsip.Config) { c.ChallengeMD5Only = true })
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
