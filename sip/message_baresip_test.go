package sip

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/testpeer"
	"switchboard/internal/tstest"
	"switchboard/store"
)

// relaySMS stands in for the messaging service (package sms) in the SIP core's tests: a
// phone's MESSAGE to an extension goes to that user's phones through the server
// (DeliverToUser), and is kept for the user's next REGISTER when none takes it.
type relaySMS struct {
	srv *Server
	db  *store.DB

	mu      sync.Mutex
	pending map[userKey][]relayed
}

type relayed struct{ from, body string }

func (r *relaySMS) FromPhone(ctx context.Context, accountID, userID int64, to, body string) (*switchboard.Message, error) {
	target, err := r.db.GetUserByExtension(ctx, accountID, to)
	if err != nil {
		return nil, err
	}
	sender, err := r.db.GetUser(ctx, accountID, userID)
	if err != nil {
		return nil, err
	}
	m := &switchboard.Message{ID: "msg_" + randHex(16), From: sender.Extension, To: to, Body: body}
	// Delivered after the 202, as the service does from its outbox.
	go r.deliver(accountID, target.ID, relayed{sender.Extension, body})
	return m, nil
}

func (r *relaySMS) deliver(accountID, userID int64, m relayed) {
	n, err := r.srv.DeliverToUser(context.Background(), accountID, userID, m.from, m.body)
	if err != nil || n == 0 {
		r.mu.Lock()
		r.pending[userKey{accountID, userID}] = append(r.pending[userKey{accountID, userID}], m)
		r.mu.Unlock()
	}
}

func (r *relaySMS) UserRegistered(ctx context.Context, accountID, userID int64) {
	key := userKey{accountID, userID}
	r.mu.Lock()
	waiting := r.pending[key]
	delete(r.pending, key)
	r.mu.Unlock()
	for _, m := range waiting {
		r.deliver(accountID, userID, m)
	}
}

// TestBaresipsExchangeMessages: two real baresip phones text each other through the
// server; a message to a phone that is off arrives when it registers; Greek, Chinese, emoji
// and GSM-7's extension characters arrive as sent.
func TestBaresipsExchangeMessages(t *testing.T) {
	bin := testpeer.Require(t, "baresip", "baresip-core")
	e := startServer(t, func(c *Config) { c.Now = time.Now })
	e.srv.SetPhoneSMS(&relaySMS{srv: e.srv, db: e.db, pending: map[userKey][]relayed{}})
	alice := e.user(t, "1001")
	e.device(t, alice, "alice", "alice-pw-1")
	bob := e.user(t, "1002")
	e.device(t, bob, "bob", "bob-pw-1")

	a := startMessageBaresip(t, bin, e.udp, "alice", "alice-pw-1", "1002")
	tstest.WaitForWithin(t, 20*time.Second, "alice registered", func() bool {
		online, _ := e.srv.UserPresence(e.account.ID, alice.ID)
		return online
	})

	// Bob is off: the message waits for him.
	first := "Καλημέρα Bob! 你好 😀 €[]"
	a.command(t, "message", first)
	tstest.WaitForWithin(t, 20*time.Second, "alice's MESSAGE accepted", func() bool {
		return e.counter(t, e.srv.metrics.messages.WithLabelValues("phone")) == 1
	})
	b := startMessageBaresip(t, bin, e.udp, "bob", "bob-pw-1", "1001")
	delivered := e.srv.metrics.messagesOut.WithLabelValues("delivered")
	tstest.WaitForWithin(t, 20*time.Second, "the waiting message on bob's phone", func() bool {
		return b.got("1001", first) && e.counter(t, delivered) == 1
	})

	// Both online: answers go straight through, both ways.
	reply := "Γεια σου Alice — 谢谢 🎉 {~}"
	b.command(t, "message", reply)
	tstest.WaitForWithin(t, 20*time.Second, "bob's reply on alice's phone", func() bool {
		return a.got("1002", reply) && e.counter(t, delivered) == 2
	})
	again := "second: ñ ü ß"
	a.command(t, "message", again)
	tstest.WaitForWithin(t, 20*time.Second, "alice's second message on bob's phone", func() bool {
		return b.got("1001", again) && e.counter(t, delivered) == 3
	})
}

type messageBaresip struct {
	ctrl string
	out  *tstest.Buffer
}

// got reports whether the phone received a MESSAGE from extension `from` with the text.
// baresip 1.0 does not print the messages it receives, so its SIP trace (-s) is read:
// each incoming request is logged as "UDP <server> -> <phone>" followed by the request.
func (p *messageBaresip) got(from, text string) bool {
	for _, block := range strings.Split(p.out.String(), "\x1b[36;1m#") {
		_, req, ok := strings.Cut(block, "\nMESSAGE sip:")
		if !ok {
			continue
		}
		head, body, _ := strings.Cut(req, "\r\n\r\n")
		// An incoming MESSAGE is to the phone's own contact; its own outgoing ones are to
		// the peer's extension and carry an Authorization sooner or later.
		if strings.Contains(head, "\r\nFrom: <sip:"+from+"@") && strings.HasPrefix(body, text) {
			return true
		}
	}
	return false
}

// startMessageBaresip starts a baresip registered as username, whose one contact (the
// current one, which its "message" command texts) is extension peer.
func startMessageBaresip(t *testing.T, bin, sipAddr, username, password, peer string) *messageBaresip {
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
	account := fmt.Sprintf("<sip:%s@%s>;auth_pass=%s;regint=600\n", username, sipAddr, password)
	contacts := fmt.Sprintf("\"Peer\" <sip:%s@%s>\n", peer, sipAddr)
	for name, body := range map[string]string{"config": config, "accounts": account, "contacts": contacts} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	p := &messageBaresip{ctrl: ctrl, out: &tstest.Buffer{}}
	cmd := exec.Command(bin, "-f", dir, "-n", "127.0.0.1", "-s")
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("baresip %s output:\n%s", username, lastLines(p.out.String(), 80))
		}
	})
	return p
}

// command sends one command to baresip's ctrl_tcp module (netstring-framed JSON).
func (p *messageBaresip) command(t *testing.T, cmd, params string) {
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
	conn.Read(buf) // the answer shows the command was taken
}

func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
