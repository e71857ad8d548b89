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

// baresip (Debian package baresip-core) is a real softphone: it registers with digest,
// auto-answers and sends a generated tone (ausine) as PCMU. It runs headless with a
// generated config: no UI modules, no sound card. Skipped when baresip is missing, except under CI.
func TestBaresipPhoneAnswersAndSendsAudio(t *testing.T) {
	bin := testpeer.Require(t, "baresip", "baresip-core")
	// The registrar's defaults, unchanged: baresip 1.0 (libre) fails on a SHA-256
	// challenge instead of skipping it, so this guards the default MD5-only challenge.
	e := newEnvSIP(t, storetest.NewSQLite(t), nil)
	alice := e.user("1001")
	bob := e.user("1002")
	e.device(alice, "alice", "alice-pw-1")
	e.device(bob, "bob", "bob-pw-1")
	phone := newUA(t, "127.0.0.1", "alice")
	phone.register(e, "alice", "alice-pw-1")

	dir := t.TempDir()
	port := tstest.FreePort(t, "127.0.0.1")
	config := strings.Join([]string{
		"poll_method epoll",
		fmt.Sprintf("sip_listen 127.0.0.1:%d", port),
		"audio_source ausine,440",
		"ausrc_srate 48000", // ausine generates 48 kHz only; baresip resamples to G.711's 8 kHz
		"ausrc_channels 2",  // and in stereo
		"auplay_srate 48000",
		"audio_player aufile," + filepath.Join(dir, "heard.wav"),
		"audio_alert aufile," + filepath.Join(dir, "alert.wav"),
		"rtp_ports 19000-19999", // apart from the engine's RTP ports and tstest.FreePort's
		"module_path /usr/lib/baresip/modules",
		"module g711.so",
		"module ausine.so",
		"module aufile.so",
		"module account.so",
		"module menu.so",
		"",
	}, "\n")
	account := fmt.Sprintf("<sip:bob@%s>;auth_pass=bob-pw-1;answermode=auto;regint=600;audio_codecs=PCMU\n", e.sipAddr)
	for name, body := range map[string]string{"config": config, "accounts": account, "contacts": ""} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-f", dir, "-n", "127.0.0.1")
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
	tstest.WaitFor(t, "baresip to register", func() bool {
		on, _ := e.srv.UserPresence(e.account.ID, bob.ID)
		return on
	})

	c := phone.dial(e, "1002", "alice", "alice-pw-1", 0)
	select {
	case err := <-c.err:
		if err != nil {
			t.Fatalf("baresip did not answer: %v\n%s", err, out.Bytes())
		}
		c.err <- nil
	case <-time.After(tstest.DefaultWait):
		t.Fatalf("baresip did not answer in time:\n%s", lastLines(out.Bytes(), 80))
	}
	c.answered(t)
	// baresip's tone arrives through the relay: real PCMU audio, not silence.
	c.rtp.send(t, ulawFrame(1)) // latch our leg
	var got int
	for i, deadline := 0, time.Now().Add(tstest.DefaultWait); got < 10 && time.Now().Before(deadline); i++ {
		c.rtp.send(t, ulawFrame(i))
		if pkt := c.rtp.recv(50 * time.Millisecond); pkt != nil && pkt.PayloadType == 0 && len(pkt.Payload) == 160 && !silent(pkt.Payload) {
			got++
		}
	}
	if got < 10 {
		t.Fatalf("received %d audio packets from baresip through the PBX; want 10\n%s", got, out.Bytes())
	}
	if err := c.dlg.Bye(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := e.endedRecord(switchboard.CallOutbound)
	if r.Disposition != switchboard.DispositionAnswered || r.To != "1002" {
		t.Errorf("record = %+v", r)
	}
}

// silent reports whether a µ-law payload is all (near) zero samples.
func silent(p []byte) bool {
	for _, b := range p {
		if b != 0xff && b != 0x7f && b != 0xfe && b != 0x7e {
			return false
		}
	}
	return true
}
