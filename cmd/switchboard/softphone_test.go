package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"switchboard/internal/testpeer"
	"switchboard/internal/tstest"
)

// TestTwoSoftphonesCallThroughServe is the README's promise end to end: `serve --demo`,
// two baresip softphones register with the demo credentials, one dials the other's extension,
// the other answers, and both see audio; the API shows both online and on the call.
func TestTwoSoftphonesCallThroughServe(t *testing.T) {
	bin := testpeer.Require(t, "baresip", "baresip-core")
	dir := t.TempDir()
	m, _, _ := startServe(t, "--demo", "--data", dir, "--http", "127.0.0.1:0",
		"--sip", "127.0.0.1:0", "--rtp-ports", "32000-32099")
	base, sipAddr := m.HTTPURL(), m.SIPUDPAddr().String()
	var demo demoFile
	b, _ := os.ReadFile(filepath.Join(dir, "demo.json"))
	if err := json.Unmarshal(b, &demo); err != nil {
		t.Fatal(err)
	}
	alice := startBaresip(t, bin, sipAddr, demo.Users[0], 32100)
	bob := startBaresip(t, bin, sipAddr, demo.Users[1], 32200)

	tstest.WaitForWithin(t, 20*time.Second, "both phones registered", func() bool {
		s := phoneStates(t, base, demo.DeveloperKey)
		return s["1001"] == "online" && s["1002"] == "online"
	})

	alice.command(t, "dial", "sip:1002@"+sipAddr)
	tstest.WaitForWithin(t, 20*time.Second, "the call up with audio both ways", func() bool {
		s := phoneStates(t, base, demo.DeveloperKey)
		return s["1001"] == "online outbound 1001->1002" && s["1002"] == "online inbound 1001->1002" &&
			alice.receivingAudio() && bob.receivingAudio()
	})
	alice.command(t, "hangup", "")
	tstest.WaitForWithin(t, 20*time.Second, "the call gone", func() bool {
		s := phoneStates(t, base, demo.DeveloperKey)
		return s["1001"] == "online" && s["1002"] == "online"
	})
}

// phoneStates is what GET /availability says of each extension: "offline", "online", and
// "online <direction> <from>-><to>" for each of its channels.
func phoneStates(t *testing.T, base, key string) map[string]string {
	t.Helper()
	var a struct {
		Result []struct {
			PresenceID        string `json:"presence_id"`
			DevicesRegistered bool   `json:"devices_registered"`
			Channels          []struct {
				From, To, Direction string
			}
		}
	}
	getJSON(t, http.DefaultClient, base+"/v3/voice/61/availability", key, &a)
	out := map[string]string{}
	for _, u := range a.Result {
		s := "offline"
		if u.DevicesRegistered {
			s = "online"
		}
		for _, c := range u.Channels {
			s += " " + c.Direction + " " + c.From + "->" + c.To
		}
		out[u.PresenceID] = s
	}
	return out
}

type baresip struct {
	dir     string
	ctrl    string
	out     *tstest.Buffer
	process *exec.Cmd
}

// baresipSetup is what a test changes in a baresip's configuration.
type baresipSetup struct {
	tone      int      // Hz of the tone it sends (default 440)
	source    string   // an 8 kHz mono WAV it sends instead of the tone
	uriParams string   // after the registrar's address in the account, e.g. ";transport=tls"
	params    string   // more account parameters, e.g. ";mediaenc=srtp-mand"
	config    []string // more config lines, read before the account (modules the account needs)
	dir       string   // the phone's directory (config, recordings), for config lines that name it
}

func startBaresip(t *testing.T, bin, sipAddr string, u demoUser, rtpBase int, setup ...func(*baresipSetup)) *baresip {
	t.Helper()
	dir := t.TempDir()
	bs := baresipSetup{tone: 440, dir: dir}
	for _, f := range setup {
		f(&bs)
	}
	// baresip listens for SIP on listen (UDP, TCP) and on the next port (TLS).
	listen := net.JoinHostPort("127.0.0.1", strconv.Itoa(tstest.FreePortPair(t, "127.0.0.1")))
	ctrl := net.JoinHostPort("127.0.0.1", strconv.Itoa(tstest.FreePort(t, "127.0.0.1")))
	source := []string{"audio_source ausine," + strconv.Itoa(bs.tone), "ausrc_srate 48000", "ausrc_channels 2"}
	if bs.source != "" {
		source = []string{"audio_source aufile," + bs.source, "ausrc_srate 8000", "ausrc_channels 1"}
	}
	config := strings.Join(append(source,
		"poll_method epoll",
		"sip_listen "+listen,
		"auplay_srate 48000", "auplay_channels 1",
		"audio_player aufile,"+filepath.Join(dir, "heard.wav"),
		"audio_alert aufile,"+filepath.Join(dir, "alert.wav"),
		fmt.Sprintf("rtp_ports %d-%d", rtpBase, rtpBase+99),
		"rtp_stats yes",
		"module_path /usr/lib/baresip/modules",
	), "\n") + "\n" + strings.Join(append(bs.config, // before account.so, which reads the accounts
		"module g711.so", "module ausine.so", "module aufile.so", "module account.so",
		"module menu.so", "module ctrl_tcp.so",
		"ctrl_tcp_listen "+ctrl,
		""), "\n")
	account := fmt.Sprintf("<sip:%s@%s%s>;auth_pass=%s;answermode=auto;regint=600;audio_codecs=PCMU%s\n",
		u.SIPUsername, sipAddr, bs.uriParams, u.SIPPassword, bs.params)
	for name, body := range map[string]string{"config": config, "accounts": account, "contacts": ""} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	p := &baresip{dir: dir, ctrl: ctrl, out: &tstest.Buffer{}}
	p.process = exec.Command(bin, "-f", dir, "-n", "127.0.0.1")
	p.process.Stdout, p.process.Stderr = p.out, p.out
	if err := p.process.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.process.Process.Kill()
		p.process.Wait()
		if t.Failed() {
			t.Logf("baresip %s output:\n%s", u.Extension, lastLines(p.out.String(), 40))
		}
	})
	return p
}

// command sends one command to baresip's ctrl_tcp module (netstring-framed JSON).
func (p *baresip) command(t *testing.T, cmd, params string) {
	t.Helper()
	var conn net.Conn
	var err error
	for i := 0; i < 100; i++ {
		if conn, err = net.Dial("tcp", p.ctrl); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("baresip control port: %v", err)
	}
	defer conn.Close()
	msg, _ := json.Marshal(map[string]string{"command": cmd, "params": params, "token": "test"})
	if _, err := conn.Write([]byte(strconv.Itoa(len(msg)) + ":" + string(msg) + ",")); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	conn.Read(buf) // the answer (or an event) shows the command was taken
}

// receivingAudio reports whether baresip's status line shows incoming audio bit rate.
func (p *baresip) receivingAudio() bool {
	out := p.out.String()
	i := strings.LastIndex(out, "audio=")
	if i < 0 {
		return false
	}
	rx, _, _ := strings.Cut(out[i+len("audio="):], "/")
	n, err := strconv.Atoi(rx)
	return err == nil && n > 0
}

func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
