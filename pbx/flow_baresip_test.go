package pbx_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/audiotest"
	"switchboard/internal/testpeer"
	"switchboard/internal/tstest"
	"switchboard/media"
	"switchboard/pbx"
	"switchboard/prompt"
)

// speechPrompts is the flow tests' prompt library with the menu spoken by espeak-ng.
type speechPrompts struct {
	*tonePrompts
	menu []int16
}

func (p *speechPrompts) Prompt(ctx context.Context, accountID, id int64) ([]int16, error) {
	if id == promptMenu {
		return p.menu, nil
	}
	return p.tonePrompts.Prompt(ctx, accountID, id)
}

// A real softphone calls the company's main line from the carrier: baresip (Debian's
// baresip-core, default settings but for its audio files) dials the number, the flow's
// time condition (open) reaches the menu, whose prompt is espeak-ng speech; the caller
// presses 1 — as RFC 4733 (baresip's keypad) and, in a second call, as in-band tones in its
// audio — and reaches the queue's agent. What baresip heard (its recorded audio) holds the
// spoken menu before the key and the agent's 1 kHz tone after it; the agent hears the
// caller's espeak-ng speech.
func TestBaresipCallerRunsTheMainLineFlow(t *testing.T) {
	bin := testpeer.Require(t, "baresip", "baresip-core")
	espeak := testpeer.Require(t, "espeak-ng", "espeak-ng")
	speaker := &prompt.Speaker{Path: espeak}
	ctx := context.Background()
	menu, err := speaker.Speak(ctx, "Welcome to Acme. For sales, press one.", "en")
	if err != nil {
		t.Fatal(err)
	}
	said, err := speaker.Speak(ctx, "Hello, I would like to buy a phone system for our office.", "en")
	if err != nil {
		t.Fatal(err)
	}
	var callerSpeech []int16 // the sentence again and again: the agent answers at some point
	for range 6 {
		callerSpeech = append(append(callerSpeech, said...), make([]int16, media.SampleRate/2)...)
	}
	for _, tc := range []struct {
		name  string
		key   func(t *testing.T, cons string) // presses 1 once the call is up
		audio []int16                         // what baresip sends from its start
	}{
		{"RFC 4733", func(t *testing.T, cons string) { consKey(t, cons, "1\x04") }, callerSpeech}, // 0x04: baresip's key release
		{"in-band", func(*testing.T, string) {}, append(append(make([]int16, 2*media.SampleRate), dtmfTone('1', 200)...), callerSpeech...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fe := newFlowEnv(t, func(c *pbx.Config) { c.Prompts = &speechPrompts{tonePrompts: &tonePrompts{}, menu: menu} })
			f := fe.mainFlow(func(f *switchboard.CallFlow) {
				n := f.Nodes["menu"]
				n.TimeoutS = 15
				f.Nodes["menu"] = n
			})
			// The softphone dials a colleague who is away: his unanswered calls go to the flow.
			fe.user("2010", func(u *switchboard.User) { u.UnansweredCallFlowID = f.ID })
			fe.device(fe.user("1003"), "caller", "caller-pw-1")
			dir := t.TempDir()
			// baresip ends the call when its audio file ends: silence keeps it going.
			say := append(append([]int16(nil), tc.audio...), make([]int16, 60*media.SampleRate)...)
			if err := os.WriteFile(filepath.Join(dir, "say.wav"), tstest.WAV(media.SampleRate, 1, say), 0o600); err != nil {
				t.Fatal(err)
			}
			cons := startBaresipCaller(t, bin, dir, fe.sipAddr, "2010")

			tstest.WaitFor(t, "baresip's call to be up", func() bool { return fe.eng.ActiveCalls() == 1 })
			time.Sleep(3 * time.Second) // the menu plays: what baresip records of it is checked below
			tc.key(t, cons)
			_, in := fe.ringing()
			in.answer(t, "127.0.0.1", 0)
			// The agent hears the caller's speech, and answers with a 1 kHz tone.
			var heard []int16
			for i, deadline := 0, time.Now().Add(tstest.DefaultWait); len(heard) < 3*media.SampleRate && time.Now().Before(deadline); i++ {
				in.rtp.send(t, tone1k(i))
				if pkt := in.rtp.recv(20 * time.Millisecond); pkt != nil && pkt.PayloadType == 0 {
					heard = media.DecodeFrame(heard, media.PCMU, pkt.Payload)
				}
			}
			if !audiotest.SpeechLike(heard) {
				t.Fatalf("the agent did not hear the caller's speech (%d samples)", len(heard))
			}
			for i := range 50 { // one more second of the agent's tone
				in.rtp.send(t, tone1k(i))
				time.Sleep(20 * time.Millisecond)
			}
			_ = in.dlg.Bye(ctx)
			fe.waitIdle()
			if tr := fe.trace(callIDOf(fe.env, nil)); !hasStep(tr, "menu", "key", "option 1 -> sales") {
				t.Fatalf("trace = %+v", tr.Steps)
			}
			recorded := readBaresipRecording(t, dir)
			before, after := splitAtTone(recorded, 1000)
			if !audiotest.SpeechLike(before) {
				t.Errorf("baresip's recording holds no spoken menu before the agent (%d samples)", len(before))
			}
			if len(after) < media.SampleRate/2 {
				t.Errorf("baresip's recording holds %d samples of the agent's tone; want half a second", len(after))
			}
		})
	}
}

// startBaresipCaller runs baresip as the phone of user "caller" (registered, digest),
// sending dir/say.wav, recording what it hears to dir/dump-*-dec.wav, dialling number at once.
// It returns the address of its UDP console (the cons module), where keys are typed.
func startBaresipCaller(t *testing.T, bin, dir, sipAddr, number string) string {
	t.Helper()
	port := tstest.FreePort(t, "127.0.0.1")
	cons := fmt.Sprintf("127.0.0.5:%d", tstest.FreePort(t, "127.0.0.5")) // apart: the console listens on TCP too
	config := strings.Join([]string{
		"poll_method epoll",
		fmt.Sprintf("sip_listen 127.0.0.1:%d", port),
		"audio_source aufile," + filepath.Join(dir, "say.wav"),
		"snd_path " + dir, // the sndfile filter records what baresip hears: dump-*-dec.wav
		"ausrc_srate 8000", "ausrc_channels 1", "auplay_srate 8000", "auplay_channels 1",
		"rtp_ports 19000-19999",
		"cons_listen " + cons,
		"module_path /usr/lib/baresip/modules",
		"module g711.so", "module aufile.so", "module account.so", "module menu.so", "module cons.so", "module sndfile.so",
		"",
	}, "\n")
	account := fmt.Sprintf("<sip:caller@%s>;auth_pass=caller-pw-1;regint=600\n", sipAddr)
	for name, body := range map[string]string{"config": config, "accounts": account, "contacts": ""} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-f", dir, "-n", "127.0.0.1", "-e", "/dial sip:"+number+"@"+sipAddr)
	out := &tstest.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("baresip's output:\n%s", lastLines(out.Bytes(), 60))
		}
	})
	return cons
}

// consKey types keys on baresip's UDP console: during a call, digits are sent as DTMF.
func consKey(t *testing.T, cons, keys string) {
	t.Helper()
	c, err := net.Dial("udp", cons)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(keys)); err != nil {
		t.Fatal(err)
	}
}

// dtmfTone is key's two tones for ms milliseconds, as a phone set to in-band sends them.
func dtmfTone(key byte, ms int) []int16 {
	low := map[byte]float64{'1': 697}[key]
	high := map[byte]float64{'1': 1209}[key]
	out := make([]int16, ms*media.SampleRate/1000)
	for i := range out {
		x := float64(i) / media.SampleRate
		out[i] = int16(6000*math.Sin(2*math.Pi*low*x) + 6000*math.Sin(2*math.Pi*high*x))
	}
	return out
}

// readBaresipRecording reads what baresip's sndfile filter recorded of the audio it
// received (8 kHz mono WAV in dir).
func readBaresipRecording(t *testing.T, dir string) []int16 {
	t.Helper()
	var samples []int16
	// baresip writes the sizes into the header when it closes the file, after the hangup:
	// until then the file reads as holding no samples.
	tstest.WaitFor(t, "baresip's recording, closed", func() bool {
		paths, _ := filepath.Glob(filepath.Join(dir, "dump-*-dec.wav"))
		if len(paths) != 1 {
			return false
		}
		b, err := os.ReadFile(paths[0])
		if err != nil {
			return false
		}
		samples, err = media.ReadWAV(bytes.NewReader(b), time.Hour)
		return err == nil && len(samples) > 0
	})
	return samples
}

// splitAtTone splits pcm at the first 100 ms window where freq dominates.
func splitAtTone(pcm []int16, freq float64) (before, after []int16) {
	const win = 800
	for i := 0; i+win <= len(pcm); i += win {
		w := pcm[i : i+win]
		if p := media.Goertzel(w, freq); p > 1e6 && p > 20*media.Goertzel(w, 600) {
			return pcm[:i], pcm[i:]
		}
	}
	return pcm, nil
}
