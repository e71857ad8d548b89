// Package kanneltest runs a real Kannel for tests and benchmarks: bearerbox and smsbox from
// the Debian kannel package with a kannel.conf written to a temporary directory, and Kannel's
// simulated SMSC, fakesmsc (Debian kannel-extras), connected to bearerbox's fake smsc.
//
// fakesmsc prints every message bearerbox hands it ("Got message N: <from to type data>"),
// which Sent parses: that is the SMSC side of the tests. Inject types a message into
// fakesmsc's interactive mode, which hands it to bearerbox as an inbound SMS.
package kanneltest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode/utf16"

	"switchboard/internal/tstest"
	"switchboard/sms/kannel"
)

// Paths of the Debian packages' programs.
var (
	Bearerbox = "/usr/sbin/bearerbox"
	Smsbox    = "/usr/sbin/smsbox"
	Fakesmsc  = "/usr/lib/kannel/test/fakesmsc"
)

// Available reports whether Kannel and fakesmsc are installed, and what is missing.
func Available() error {
	for _, p := range []string{Bearerbox, Smsbox, Fakesmsc} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%s is missing: apt-get install kannel kannel-extras", p)
		}
	}
	return nil
}

// Options configure a Kannel.
type Options struct {
	// CallbackURL is Switchboard's base URL; AccountID and Secret go into the MO get-url.
	CallbackURL string
	AccountID   int64
	Secret      string
	// Username and Password of the sendsms-user; default "switchboard" / "kannel-test".
	Username, Password string
	MaxParts           int
	// Ports: admin, box, sendsms, fake smsc. Zero: New picks free ones.
	Ports [4]int
	// ReceiveOnly starts fakesmsc without its interactive mode: Inject is refused, and
	// fakesmsc reads what bearerbox sends it as it comes. Interactively it reads bearerbox
	// only between waits of up to a second for a line to inject, so the time a message
	// reaches it is quantised (a benchmark's "delivered" moved in half-second steps).
	ReceiveOnly bool
	Dir         string // default: a temporary directory
}

// Kannel is a running bearerbox + smsbox + fakesmsc.
type Kannel struct {
	opts Options
	conf string

	mu       sync.Mutex
	procs    []*exec.Cmd // bearerbox, smsbox, fakesmsc while running
	stdin    io.WriteCloser
	sent     []Message
	injected int             // "fakesmsc: sent message N" lines seen
	injectMu sync.Mutex      // one Inject at a time
	seen     chan struct{}   // signalled at each injected line
	done     []chan struct{} // closed when each process has been waited for
}

// Message is one SMS as fakesmsc printed it.
type Message struct {
	From, To string
	Type     string // text, ucs-2, data, udh
	Text     string // decoded to UTF-8
	Raw      string
}

// New starts Kannel for a test and stops it when the test ends. Without Kannel installed
// the test is skipped, or fails under CI (which installs it).
func New(t testing.TB, opts Options) *Kannel {
	t.Helper()
	if err := Available(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	for i := range opts.Ports {
		if opts.Ports[i] == 0 {
			opts.Ports[i] = tstest.FreePort(t, "127.0.0.1")
		}
	}
	k, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		k.Close()
		if t.Failed() {
			k.dumpLogs(t)
		}
	})
	return k
}

// dumpLogs shows the end of each program's log in a failed test's output.
func (k *Kannel) dumpLogs(t testing.TB) {
	for _, name := range []string{"bearerbox.log", "smsbox.log", "fakesmsc.out"} {
		b, err := os.ReadFile(filepath.Join(k.opts.Dir, name))
		if err != nil {
			continue
		}
		lines := strings.Split(strings.TrimSpace(string(b)), "\n")
		if len(lines) > 25 {
			lines = lines[len(lines)-25:]
		}
		t.Logf("--- %s (last %d lines)\n%s", name, len(lines), strings.Join(lines, "\n"))
	}
}

// Start writes the configuration and starts Kannel (for benchmarks: every port must be
// given). It returns once smsbox is connected and fakesmsc is online.
func Start(opts Options) (*Kannel, error) {
	if opts.Username == "" {
		opts.Username, opts.Password = "switchboard", "kannel-test"
	}
	if opts.MaxParts == 0 {
		opts.MaxParts = 10
	}
	k := &Kannel{opts: opts, seen: make(chan struct{}, 1)}
	k.conf = filepath.Join(opts.Dir, "kannel.conf")
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return nil, err
	}
	conf := kannel.KannelConf(kannel.ConfParams{
		Dir: opts.Dir, AdminPort: opts.Ports[0], AdminPassword: "admin-test", BoxPort: opts.Ports[1],
		SendPort: opts.Ports[2], FakeSMSCPort: opts.Ports[3], Username: opts.Username, Password: opts.Password,
		MaxParts: opts.MaxParts, MOURL: kannel.MOURL(opts.CallbackURL, opts.AccountID, opts.Secret),
	})
	if err := os.WriteFile(k.conf, []byte(conf), 0o600); err != nil {
		return nil, err
	}
	if err := k.StartKannel(); err != nil {
		k.Close()
		return nil, err
	}
	return k, nil
}

// SendURL is smsbox's sendsms URL.
func (k *Kannel) SendURL() string {
	return fmt.Sprintf("http://127.0.0.1:%d/cgi-bin/sendsms", k.opts.Ports[2])
}

// Username and Password of the sendsms-user.
func (k *Kannel) Username() string { return k.opts.Username }
func (k *Kannel) Password() string { return k.opts.Password }

// PIDs are the process ids of bearerbox, smsbox and fakesmsc while they run (the benchmark
// reads their CPU time).
func (k *Kannel) PIDs() []int {
	k.mu.Lock()
	defer k.mu.Unlock()
	var pids []int
	for _, p := range k.procs {
		pids = append(pids, p.Process.Pid)
	}
	return pids
}

// Dir holds kannel.conf and Kannel's logs.
func (k *Kannel) Dir() string { return k.opts.Dir }

// StartKannel starts bearerbox, smsbox and fakesmsc (again, after StopKannel) and waits
// until bearerbox reports smsbox connected and the fake SMSC online.
func (k *Kannel) StartKannel() error {
	k.mu.Lock()
	running := len(k.procs) > 0
	k.mu.Unlock()
	if running {
		return errors.New("kanneltest: Kannel is already running")
	}
	// -v 4 as Debian's init script starts them: the console gets panics only, the log files
	// what kannel.conf's log-level says. Without it every message cost Kannel about fifty
	// debug lines (hex dumps of each HTTP exchange) on the console, written to the .out files.
	if err := k.spawn(Bearerbox, "-v", "4", k.conf); err != nil {
		return err
	}
	if err := waitPort(k.opts.Ports[0]); err != nil {
		return fmt.Errorf("bearerbox: %w (see %s/bearerbox.log)", err, k.opts.Dir)
	}
	if err := k.spawn(Smsbox, "-v", "4", k.conf); err != nil {
		return err
	}
	if err := k.startFake(); err != nil {
		return err
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		st, _ := k.Status()
		if strings.Contains(st, "smsbox:") && strings.Contains(st, "(online") && portOpen(k.opts.Ports[2]) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("kanneltest: Kannel not ready after 20 s; status:\n%s", st)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// spawn starts one Kannel program, logging to the test directory.
func (k *Kannel) spawn(path string, args ...string) error {
	name := filepath.Base(path)
	out, err := os.OpenFile(filepath.Join(k.opts.Dir, name+".out"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		out.Close()
		return fmt.Errorf("kanneltest: %s: %w", name, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); out.Close(); close(done) }()
	k.mu.Lock()
	k.procs = append(k.procs, cmd)
	k.done = append(k.done, done)
	k.mu.Unlock()
	return nil
}

var gotMessage = regexp.MustCompile(`Got message \d+: <(.*)>$`)

// startFake starts fakesmsc, in interactive mode (it reads messages to inject from stdin)
// unless ReceiveOnly, and collects what it receives.
func (k *Kannel) startFake() error {
	args := []string{"-H", "127.0.0.1", "-r", fmt.Sprint(k.opts.Ports[3]), "-i", "0.001"}
	if k.opts.ReceiveOnly {
		// A message to send makes fakesmsc non-interactive; -m 0 sends none of it.
		args = append(args, "-m", "0", "0 0 text unused")
	}
	cmd := exec.Command(Fakesmsc, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var stdin io.WriteCloser
	if !k.opts.ReceiveOnly {
		var err error
		if stdin, err = cmd.StdinPipe(); err != nil {
			return err
		}
	}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("kanneltest: fakesmsc: %w", err)
	}
	log, err := os.OpenFile(filepath.Join(k.opts.Dir, "fakesmsc.out"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(log, line)
			if strings.Contains(line, "fakesmsc: sent message") {
				k.mu.Lock()
				k.injected++
				k.mu.Unlock()
				select {
				case k.seen <- struct{}{}:
				default:
				}
			}
			if m := gotMessage.FindStringSubmatch(line); m != nil {
				msg := parse(m[1])
				k.mu.Lock()
				k.sent = append(k.sent, msg)
				k.mu.Unlock()
			}
		}
		io.Copy(io.Discard, pr)
	}()
	done := make(chan struct{})
	go func() { cmd.Wait(); pw.Close(); <-scanned; log.Close(); close(done) }()
	k.mu.Lock()
	k.procs = append(k.procs, cmd)
	k.done = append(k.done, done)
	k.stdin = stdin
	k.mu.Unlock()
	return nil
}

// parse reads fakesmsc's "from to type data" line.
func parse(line string) Message {
	f := strings.SplitN(line, " ", 4)
	m := Message{Raw: line}
	if len(f) < 4 {
		return m
	}
	m.From, m.To, m.Type = f[0], f[1], f[2]
	switch m.Type {
	case "text":
		m.Text = f[3]
	case "ucs-2", "ucs2":
		b, _ := url.QueryUnescape(f[3])
		u := make([]uint16, len(b)/2)
		for i := range u {
			u[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
		}
		m.Text = string(utf16.Decode(u))
	case "data":
		b, _ := url.QueryUnescape(f[3])
		m.Text = b
	default:
		m.Text = f[3]
	}
	return m
}

// Sent returns the messages fakesmsc has received so far (across restarts).
func (k *Kannel) Sent() []Message {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([]Message(nil), k.sent...)
}

// NSent is how many messages fakesmsc has printed so far: cheaper than len(Sent()) for a
// caller that polls while thousands arrive.
func (k *Kannel) NSent() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.sent)
}

// Inject hands an inbound message to bearerbox through fakesmsc. The text is sent as UCS-2
// unless it is printable ASCII, the way a handset picks its coding.
func (k *Kannel) Inject(from, to, text string) error {
	var line string
	if isPrintableASCII(text) {
		line = fmt.Sprintf("%s %s text %s\n", from, to, text)
	} else {
		var b strings.Builder
		for _, u := range utf16.Encode([]rune(text)) {
			fmt.Fprintf(&b, "%%%02X%%%02X", u>>8, u&0xff)
		}
		line = fmt.Sprintf("%s %s ucs2 %s\n", from, to, b.String())
	}
	return k.write(line)
}

// write types one line into fakesmsc and waits until it has sent it: fakesmsc reads its
// input a buffer at a time and takes one line from each read, so lines written together
// would be lost.
func (k *Kannel) write(line string) error {
	k.injectMu.Lock()
	defer k.injectMu.Unlock()
	k.mu.Lock()
	stdin, before := k.stdin, k.injected
	k.mu.Unlock()
	if k.opts.ReceiveOnly {
		return errors.New("kanneltest: started ReceiveOnly, fakesmsc injects nothing")
	}
	if stdin == nil {
		return errors.New("kanneltest: fakesmsc is not running")
	}
	if _, err := io.WriteString(stdin, line); err != nil {
		return err
	}
	timeout := time.After(10 * time.Second)
	for {
		k.mu.Lock()
		n := k.injected
		k.mu.Unlock()
		if n > before {
			return nil
		}
		select {
		case <-k.seen:
		case <-time.After(20 * time.Millisecond):
		case <-timeout:
			return errors.New("kanneltest: fakesmsc did not send the injected message within 10 s")
		}
	}
}

// InjectText hands a text-type message (any UTF-8 without newlines) to bearerbox as is: a
// GSM-7 message as the SMSC decoded it.
func (k *Kannel) InjectText(from, to, text string) error {
	return k.write(fmt.Sprintf("%s %s text %s\n", from, to, text))
}

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 32 || s[i] > 126 {
			return false
		}
	}
	return true
}

// Status is bearerbox's status.txt.
func (k *Kannel) Status() (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("http://127.0.0.1:%d/status.txt?password=admin-test", k.opts.Ports[0]), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// StopKannel stops fakesmsc, smsbox and bearerbox (SIGTERM, then SIGKILL after 10 s) and
// waits for them to exit. Sent keeps what was received.
func (k *Kannel) StopKannel() {
	k.mu.Lock()
	procs, done := k.procs, k.done
	k.procs, k.done = nil, nil
	if k.stdin != nil {
		k.stdin.Close()
		k.stdin = nil
	}
	k.mu.Unlock()
	// fakesmsc first, then smsbox, then bearerbox: the reverse of their start.
	for i := len(procs) - 1; i >= 0; i-- {
		procs[i].Process.Signal(syscall.SIGTERM)
		select {
		case <-done[i]:
		case <-time.After(10 * time.Second):
			procs[i].Process.Kill()
			<-done[i]
		}
	}
}

// Close stops everything.
func (k *Kannel) Close() { k.StopKannel() }

func portOpen(port int) bool {
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func waitPort(port int) error {
	deadline := time.Now().Add(20 * time.Second)
	for !portOpen(port) {
		if time.Now().After(deadline) {
			return fmt.Errorf("port %d not open after 20 s", port)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}
