package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"switchboard/internal/testpeer"
	"switchboard/internal/tstest"
)

// TestBaresipsTextThroughServe is the messaging promise end to end on `serve --demo`: two
// baresip phones text each other's extension (one is off when texted and gets the message
// when it registers), a phone texts a phone number, which goes out as an SMS from the
// user's SMS number, and an SMS to that number arrives on the user's phone. Unicode
// survives every way, and the Messages API shows each message with its final status.
func TestBaresipsTextThroughServe(t *testing.T) {
	bin := testpeer.Require(t, "baresip", "baresip-core")
	dir := t.TempDir()
	m, _, _ := startServe(t, "--demo", "--data", dir, "--http", "127.0.0.1:0",
		"--sip", "127.0.0.1:0", "--rtp-ports", "32300-32399")
	base, sipAddr := m.HTTPURL(), m.SIPUDPAddr().String()
	var demo demoFile
	b, _ := os.ReadFile(filepath.Join(dir, "demo.json"))
	if err := json.Unmarshal(b, &demo); err != nil {
		t.Fatal(err)
	}
	alice, bob := demo.Users[0], demo.Users[1] // alice is the Support Line's SMS user
	a := startTextingBaresip(t, bin, sipAddr, alice, bob.Extension, "+15557654321")

	type message struct {
		MessageID  string `json:"message_id"`
		Direction  string `json:"direction"`
		From, To   string
		Body       string
		Status     string
		Carrier    string
		SentByUser *int64 `json:"sms_sent_by_user_id"`
	}
	messages := func() []message {
		var res struct{ Result []message }
		getJSON(t, http.DefaultClient, fmt.Sprintf("%s/v3/voice/%d/messages", base, demo.AccountID), demo.DeveloperKey, &res)
		return res.Result
	}
	find := func(body string) *message {
		for _, m := range messages() {
			if m.Body == body {
				return &m
			}
		}
		return nil
	}
	tstest.WaitForWithin(t, 20*time.Second, "alice's phone registered", func() bool {
		return strings.Contains(a.out.String(), "200 OK")
	})

	// Bob's phone is off: the message is kept for it.
	first := "Καλημέρα Bob! 你好 😀 €[]"
	a.command(t, "message", first)
	tstest.WaitForWithin(t, 20*time.Second, "alice's message stored", func() bool {
		m := find(first)
		return m != nil && m.From == alice.Extension && m.To == bob.Extension && m.Carrier == "phone" && m.Status == "sent"
	})
	bp := startTextingBaresip(t, bin, sipAddr, bob, alice.Extension)
	tstest.WaitForWithin(t, 20*time.Second, "the waiting message on bob's phone, and delivered", func() bool {
		m := find(first)
		return bp.got(alice.Extension, first) && m != nil && m.Status == "delivered"
	})

	// Both on: bob answers.
	reply := "Γεια σου Alice — 谢谢 🎉 {~}"
	bp.command(t, "message", reply)
	tstest.WaitForWithin(t, 20*time.Second, "bob's reply on alice's phone", func() bool {
		m := find(reply)
		return a.got(bob.Extension, reply) && m != nil && m.Status == "delivered"
	})

	// Alice texts a phone number: an SMS from her SMS number through the demo's simulator.
	a.command(t, "contact_next", "")
	sms := "SMS from a desk phone: ñ € 中"
	a.command(t, "message", sms)
	tstest.WaitForWithin(t, 20*time.Second, "the SMS sent and delivered by the simulator", func() bool {
		m := find(sms)
		return m != nil && m.Direction == "outbound" && m.From == "+15559876543" && m.To == "+15557654321" &&
			m.Carrier == "simulator" && m.Status == "delivered" && m.SentByUser != nil && *m.SentByUser == alice.PK
	})

	// An SMS to the Support Line arrives on alice's phone, from the sender's number.
	inbound := "Inbound ✓ Ελληνικά 漢字 🙂"
	body, _ := json.Marshal(map[string]string{"from": "+15550009999", "to": "+15559876543", "message": inbound})
	req, _ := http.NewRequest("POST", fmt.Sprintf("%s/v3/voice/%d/simulator/sms", base, demo.AccountID), bytes.NewReader(body))
	req.Header.Set("X-API-Key", demo.DeveloperKey)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode/100 != 2 {
		t.Fatalf("simulator/sms: %d", res.StatusCode)
	}
	tstest.WaitForWithin(t, 20*time.Second, "the inbound SMS on alice's phone", func() bool {
		return a.got("+15550009999", inbound)
	})
}

type textingBaresip struct {
	ctrl string
	out  *tstest.Buffer
}

// startTextingBaresip starts a baresip registered as the user, with contacts to text (its
// "message" command texts the current one; contact_next moves on).
func startTextingBaresip(t *testing.T, bin, sipAddr string, u demoUser, contacts ...string) *textingBaresip {
	t.Helper()
	dir := t.TempDir()
	listen := net.JoinHostPort("127.0.0.1", strconv.Itoa(tstest.FreePortPair(t, "127.0.0.1")))
	ctrl := net.JoinHostPort("127.0.0.1", strconv.Itoa(tstest.FreePort(t, "127.0.0.1")))
	config := strings.Join([]string{
		"poll_method epoll",
		"sip_listen " + listen,
		"module_path /usr/lib/baresip/modules",
		"module account.so", "module contact.so", "module menu.so", "module ctrl_tcp.so",
		"ctrl_tcp_listen " + ctrl,
		"",
	}, "\n")
	account := fmt.Sprintf("<sip:%s@%s>;auth_pass=%s;regint=600\n", u.SIPUsername, sipAddr, u.SIPPassword)
	var cs strings.Builder
	for i, c := range contacts {
		fmt.Fprintf(&cs, "\"Contact %d\" <sip:%s@%s>\n", i, c, sipAddr)
	}
	for name, body := range map[string]string{"config": config, "accounts": account, "contacts": cs.String()} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	p := &textingBaresip{ctrl: ctrl, out: &tstest.Buffer{}}
	// -s: the SIP trace is how a test sees what the phone received (baresip 1.0 does not
	// print received messages).
	cmd := exec.Command(bin, "-f", dir, "-n", "127.0.0.1", "-s")
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("baresip %s output:\n%s", u.Extension, lastLines(p.out.String(), 80))
		}
	})
	return p
}

// got reports whether the phone received a MESSAGE from `from` (the user part) with the
// text, reading its SIP trace.
func (p *textingBaresip) got(from, text string) bool {
	for _, block := range strings.Split(p.out.String(), "\x1b[36;1m#") {
		_, req, ok := strings.Cut(block, "\nMESSAGE sip:")
		if !ok {
			continue
		}
		head, body, _ := strings.Cut(req, "\r\n\r\n")
		if strings.Contains(head, "\r\nFrom: <sip:"+from+"@") && strings.HasPrefix(body, text) {
			return true
		}
	}
	return false
}

// command sends one command to baresip's ctrl_tcp module (netstring-framed JSON).
func (p *textingBaresip) command(t *testing.T, cmd, params string) {
	t.Helper()
	var conn net.Conn
	var err error
	tstest.WaitFor(t, "baresip's control port", func() bool {
		conn, err = net.Dial("tcp", p.ctrl)
		return err == nil
	})
	defer conn.Close()
	msg, _ := json.Marshal(map[string]string{"command": cmd, "params": params, "token": "test"})
	if _, err := conn.Write([]byte(strconv.Itoa(len(msg)) + ":" + string(msg) + ",")); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	conn.Read(buf)
}

// textAPI sends a JSON request with the key and returns the status and the body.
func textAPI(t *testing.T, method, url, key string, body any) (int, string) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, url, bytes.NewReader(b))
	req.Header.Set("X-API-Key", key)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out bytes.Buffer
	out.ReadFrom(res.Body)
	return res.StatusCode, out.String()
}

// TestSMSOverTheSIPTrunk: an account whose sms_carrier is "sip" sends SMS as MESSAGE to its
// trunk, and the trunk's MESSAGE to the account's number is an inbound SMS on the assigned
// user's phone.
func TestSMSOverTheSIPTrunk(t *testing.T) {
	bin := testpeer.Require(t, "baresip", "baresip-core")
	dir := t.TempDir()
	m, _, _ := startServe(t, "--demo", "--data", dir, "--http", "127.0.0.1:0",
		"--sip", "127.0.0.1:0", "--rtp-ports", "32400-32499")
	base, sipAddr := m.HTTPURL(), m.SIPUDPAddr().String()
	var demo demoFile
	b, _ := os.ReadFile(filepath.Join(dir, "demo.json"))
	if err := json.Unmarshal(b, &demo); err != nil {
		t.Fatal(err)
	}
	acct := fmt.Sprintf("%s/v3/voice/%d", base, demo.AccountID)
	carrier := newTrunkPeer(t, "127.0.0.9")
	if code, body := textAPI(t, "POST", acct+"/trunks", demo.DeveloperKey, map[string]any{"name": "SMS carrier",
		"host": "127.0.0.9", "port": carrier.port, "transport": "udp"}); code != http.StatusCreated {
		t.Fatalf("POST /trunks: %d %s", code, body)
	}
	if code, body := textAPI(t, "PUT", acct+"/sms/settings", demo.DeveloperKey, map[string]any{"sms_carrier": "sip"}); code != http.StatusOK {
		t.Fatalf("PUT /sms/settings: %d %s", code, body)
	}

	out := "Out through the trunk: Ωμέγα 中文 😀 €[]"
	if code, body := textAPI(t, "POST", acct+"/sms/send", demo.DeveloperKey, map[string]any{"from": "+15559876543",
		"to": "+15557654321", "message": out}); code/100 != 2 {
		t.Fatalf("sms/send: %d %s", code, body)
	}
	tstest.WaitForWithin(t, 20*time.Second, "the MESSAGE at the carrier", func() bool {
		for _, r := range carrier.received() {
			if r.Recipient.User == "+15557654321" && r.From().Address.User == "+15559876543" && string(r.Body()) == out {
				return true
			}
		}
		return false
	})

	// Inbound: the carrier texts the Support Line; alice (its SMS user) gets it on her phone.
	alice := startTextingBaresip(t, bin, sipAddr, demo.Users[0])
	tstest.WaitForWithin(t, 20*time.Second, "alice's phone registered", func() bool {
		return strings.Contains(alice.out.String(), "200 OK")
	})
	in := "Inbound over SIP: Ελλάδα 日本 🙂 {~}"
	if code := carrier.send(t, sipAddr, "+15550001234", "+15559876543", in); code != 202 {
		t.Fatalf("carrier's MESSAGE: %d, want 202", code)
	}
	tstest.WaitForWithin(t, 20*time.Second, "the inbound SMS on alice's phone", func() bool {
		return alice.got("+15550001234", in)
	})
	var res struct {
		Result []struct {
			Direction, From, To, Body, Status, Carrier string
		}
	}
	getJSON(t, http.DefaultClient, acct+"/messages?direction=inbound", demo.DeveloperKey, &res)
	if len(res.Result) != 1 || res.Result[0].Body != in || res.Result[0].Carrier != "sip" || res.Result[0].Status != "received" {
		t.Errorf("inbound messages: %+v", res.Result)
	}
}

// trunkPeer is a SIP carrier: it answers MESSAGEs 200 and sends its own.
type trunkPeer struct {
	port int
	cli  *sipgo.Client
	mu   sync.Mutex
	got  []*sip.Request
}

func newTrunkPeer(t *testing.T, ip string) *trunkPeer {
	t.Helper()
	pc, err := net.ListenPacket("udp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	agent, err := sipgo.NewUA(sipgo.WithUserAgentHostname(ip),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(quiet)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(quiet)))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(agent, sipgo.WithServerLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	cli, err := sipgo.NewClient(agent, sipgo.WithClientConnectionAddr(addr), sipgo.WithClientLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	p := &trunkPeer{port: pc.LocalAddr().(*net.UDPAddr).Port, cli: cli}
	srv.OnMessage(func(req *sip.Request, tx sip.ServerTransaction) {
		p.mu.Lock()
		p.got = append(p.got, req)
		p.mu.Unlock()
		_ = tx.Respond(sip.NewResponseFromRequest(req, 200, "OK", nil))
	})
	go func() { _ = srv.ServeUDP(pc) }()
	tstest.WaitFor(t, "the carrier to listen", func() bool {
		c, err := agent.TransportLayer().GetConnection("udp", addr)
		return err == nil && c != nil
	})
	t.Cleanup(func() {
		agent.Close()
		pc.Close()
	})
	return p
}

func (p *trunkPeer) received() []*sip.Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]*sip.Request(nil), p.got...)
}

// send sends a MESSAGE from `from` to the number at the server and returns the answer's code.
func (p *trunkPeer) send(t *testing.T, server, from, to, text string) int {
	t.Helper()
	host, portS, _ := net.SplitHostPort(server)
	port, _ := strconv.Atoi(portS)
	req := sip.NewRequest(sip.MESSAGE, sip.Uri{Scheme: "sip", User: to, Host: host, Port: port})
	fh := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: from, Host: "carrier.example"}, Params: sip.NewParams()}
	fh.Params.Add("tag", sip.GenerateTagN(8))
	req.AppendHeader(fh)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: to, Host: host, Port: port}, Params: sip.NewParams()})
	req.AppendHeader(sip.NewHeader("Content-Type", "text/plain;charset=UTF-8"))
	req.SetBody([]byte(text))
	ctx, cancel := context.WithTimeout(context.Background(), tstest.DefaultWait)
	defer cancel()
	res, err := p.cli.Do(ctx, req)
	if err != nil {
		t.Fatalf("carrier's MESSAGE: %v", err)
	}
	return res.StatusCode
}
