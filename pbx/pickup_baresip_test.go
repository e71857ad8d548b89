package pbx_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/testpeer"
	"switchboard/internal/tstest"
	"switchboard/store/storetest"
)

// A real softphone picks up: baresip, as carol (1003), dials *81002 while alice's call
// rings bob. bob's INVITE is cancelled, alice is answered and hears baresip's tone through
// the PBX, and the record credits carol.
func TestBaresipDirectedPickup(t *testing.T) {
	bin := testpeer.Require(t, "baresip", "baresip-core")
	// baresip 1.0 (libre) fails on a SHA-256 challenge instead of skipping it.
	e := newEnvSIP(t, storetest.NewSQLite(t), nil)
	alice, bob, _, _ := twoPhones(t, e)
	uc := e.user("1003", func(u *switchboard.User) { u.FirstName, u.LastName = "Carol", "C" })
	e.device(uc, "carol", "carol-pw-1")

	c := alice.dial(e, "1002", "alice", "alice-pw-1", 0)
	in := bob.next()
	in.ring(t)

	dir := t.TempDir()
	port := tstest.FreePort(t, "127.0.0.1")
	config := strings.Join([]string{
		"poll_method epoll",
		fmt.Sprintf("sip_listen 127.0.0.1:%d", port),
		"audio_source ausine,440",
		"ausrc_srate 48000",
		"ausrc_channels 2",
		"auplay_srate 48000",
		"audio_player aufile," + filepath.Join(dir, "heard.wav"),
		"audio_alert aufile," + filepath.Join(dir, "alert.wav"),
		"rtp_ports 19000-19999",
		"module_path /usr/lib/baresip/modules",
		"module g711.so",
		"module ausine.so",
		"module aufile.so",
		"module account.so",
		"module menu.so",
		"",
	}, "\n")
	// regint=0: carol's phone does not register; its INVITE is authenticated on its own.
	account := fmt.Sprintf("<sip:carol@%s>;auth_pass=carol-pw-1;regint=0;audio_codecs=PCMU\n", e.sipAddr)
	for name, body := range map[string]string{"config": config, "accounts": account, "contacts": ""} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-f", dir, "-n", "127.0.0.1", "-e", "/dial sip:*81002@"+e.sipAddr)
	out := &tstest.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("baresip's output:\n%s", lastLines(out.Bytes(), 80))
		}
	})

	endedWithin(t, in.dlg.Context(), "bob's ringing INVITE after baresip's pickup")
	in.finalSent()
	select {
	case err := <-c.err:
		if err != nil {
			t.Fatalf("alice's call was not answered: %v", err)
		}
		c.err <- nil
	case <-time.After(tstest.DefaultWait):
		t.Fatal("alice's call was not answered in time")
	}
	c.answered(t)
	var got int
	for i, deadline := 0, time.Now().Add(tstest.DefaultWait); got < 10 && time.Now().Before(deadline); i++ {
		c.rtp.send(t, ulawFrame(i))
		if pkt := c.rtp.recv(50 * time.Millisecond); pkt != nil && pkt.PayloadType == 0 && len(pkt.Payload) == 160 && !silent(pkt.Payload) {
			got++
		}
	}
	if got < 10 {
		t.Fatalf("alice received %d audio packets from baresip (the picker); want 10", got)
	}
	if err := c.dlg.Bye(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := e.endedRecord(switchboard.CallOutbound)
	if r.Disposition != switchboard.DispositionAnswered || r.To != "1002" {
		t.Errorf("record = %+v", r)
	}
	if picked := e.eventsNamed(switchboard.EventCallPickedUp); len(picked) != 1 {
		t.Errorf("%d call.picked_up events; want 1", len(picked))
	}
	e.waitIdle()
	if n := e.eng.Ports().InUse(); n != 0 {
		t.Errorf("%d RTP ports still in use", n)
	}
}
