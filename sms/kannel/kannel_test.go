package kannel_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"switchboard"
	"switchboard/internal/tstest"
	"switchboard/sms/kannel"
	"switchboard/sms/kannel/kanneltest"
)

// inbox records what the callbacks hand over; it stands in for sms.Service (the e2e test in
// cmd/switchboard uses the real one).
type inbox struct {
	mu       sync.Mutex
	messages map[string]*switchboard.Message // by id
	reports  []string                        // "id status carrierStatus"
	received []*switchboard.Message
}

func newInbox() *inbox { return &inbox{messages: map[string]*switchboard.Message{}} }

func (b *inbox) add(m *switchboard.Message) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.messages[m.ID] = m
}

func (b *inbox) Receive(_ context.Context, carrier, from, to, body, ref string) (*switchboard.Message, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	m := &switchboard.Message{Direction: switchboard.SMSInbound, Carrier: carrier, From: from, To: to, Body: body, CarrierRef: ref}
	b.received = append(b.received, m)
	return m, nil
}

func (b *inbox) Report(_ context.Context, accountID int64, carrier, id, status, carrierStatus string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	m := b.messages[id]
	if m == nil || m.AccountID != accountID {
		return switchboard.Errorf(switchboard.ENOTFOUND, "no message %s", id)
	}
	m.Status = status
	b.reports = append(b.reports, id+" "+status+" "+carrierStatus)
	return nil
}

func (b *inbox) GetMessage(_ context.Context, accountID int64, id string) (*switchboard.Message, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if m := b.messages[id]; m != nil && m.AccountID == accountID {
		return m, nil
	}
	return nil, switchboard.Errorf(switchboard.ENOTFOUND, "no message %s", id)
}

func (b *inbox) GetNumberByE164(_ context.Context, number string) (*switchboard.Number, error) {
	switch number {
	case "+15550001":
		return &switchboard.Number{AccountID: 1, Number: number}, nil
	case "+15559999":
		return &switchboard.Number{AccountID: 2, Number: number}, nil
	}
	return nil, switchboard.Errorf(switchboard.ENOTFOUND, "no number %s", number)
}

func (b *inbox) snapshot() (reports []string, received []switchboard.Message) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, m := range b.received {
		received = append(received, *m)
	}
	return append([]string(nil), b.reports...), received
}

var key = []byte("0123456789abcdef0123456789abcdef")

// rig is Switchboard's side (the callbacks on a real HTTP server) and a real Kannel.
type rig struct {
	inbox   *inbox
	server  *httptest.Server
	kannel  *kanneltest.Kannel
	carrier *kannel.Carrier
}

func newRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{inbox: newInbox()}
	cb := &kannel.Callbacks{Inbox: r.inbox, Numbers: r.inbox, Messages: r.inbox,
		Secret: func(id int64) string { return kannel.Secret(key, id) }}
	r.server = httptest.NewServer(cb.Handler())
	t.Cleanup(r.server.Close)
	r.kannel = kanneltest.New(t, kanneltest.Options{CallbackURL: r.server.URL, AccountID: 1, Secret: kannel.Secret(key, 1)})
	var err error
	r.carrier, err = kannel.New(1, kannel.Config{SendURL: r.kannel.SendURL(), Username: r.kannel.Username(),
		Password: r.kannel.Password(), CallbackURL: r.server.URL, Secret: kannel.Secret(key, 1)})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (r *rig) sentTo(to string) []kanneltest.Message {
	var out []kanneltest.Message
	for _, m := range r.kannel.Sent() {
		if m.To == to {
			out = append(out, m)
		}
	}
	return out
}

func TestSendReachesTheSMSCAndItsReportComesBack(t *testing.T) {
	r := newRig(t)
	cases := []struct{ id, to, body, encoding string }{
		{"msg_00000000000000000000000000000001", "+15550101", "Your table is ready [2 guests] for 20€ ~ {ok} ^|\\", "gsm7"},
		{"msg_00000000000000000000000000000002", "+15550102", "Γειά σου 😀 你好", "ucs2"},
	}
	for _, c := range cases {
		m := &switchboard.Message{ID: c.id, AccountID: 1, Direction: switchboard.SMSOutbound, From: "+15550001",
			To: c.to, Body: c.body, Encoding: c.encoding, Status: switchboard.SMSSending}
		r.inbox.add(m)
		if _, err := r.carrier.Send(context.Background(), m); err != nil {
			t.Fatalf("send %s: %v", c.id, err)
		}
	}
	for _, c := range cases {
		tstest.WaitFor(t, "fakesmsc receives "+c.to, func() bool { return len(r.sentTo(c.to)) > 0 })
		got := r.sentTo(c.to)
		if len(got) != 1 || got[0].From != "+15550001" || got[0].Text != c.body {
			t.Errorf("SMSC got %+v, want one message from +15550001 with %q", got, c.body)
		}
		if c.encoding == "ucs2" && got[0].Type != "ucs-2" {
			t.Errorf("the Unicode message reached the SMSC as %q, want ucs-2", got[0].Type)
		}
		// fakesmsc's final report (type 1) becomes "delivered" for the same message id.
		tstest.WaitFor(t, "delivery report for "+c.id, func() bool {
			reports, _ := r.inbox.snapshot()
			for _, rep := range reports {
				if rep == c.id+" delivered DELIVRD" {
					return true
				}
			}
			return false
		})
	}
}

func TestInboundMessagesArriveInUTF8(t *testing.T) {
	r := newRig(t)
	texts := []string{"Hello, is the shop open?", "Price 20€ [EUR] {x} ~ ^ | \\", "Καλημέρα 😀 早上好"}
	for _, text := range texts {
		var err error
		if strings.ContainsAny(text, "€[") {
			err = r.kannel.InjectText("+447700900123", "+15550001", text) // GSM-7, as the SMSC decoded it
		} else {
			err = r.kannel.Inject("+447700900123", "+15550001", text) // ASCII text, or UCS-2
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	tstest.WaitFor(t, "three inbound messages", func() bool { _, rec := r.inbox.snapshot(); return len(rec) == 3 })
	_, rec := r.inbox.snapshot()
	got := map[string]bool{}
	for _, m := range rec {
		if m.From != "+447700900123" || m.To != "+15550001" || m.Carrier != "kannel" || m.CarrierRef == "" {
			t.Errorf("inbound %+v: want from +447700900123 to +15550001 by kannel with Kannel's id", m)
		}
		got[m.Body] = true
	}
	for _, text := range texts {
		if !got[text] {
			t.Errorf("inbound text %q did not arrive intact; got %v", text, got)
		}
	}
}

func get(t *testing.T, u string) int {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func TestCallbacksRefuseWrongSecretsAndUnknownMessages(t *testing.T) {
	b := newInbox()
	cb := &kannel.Callbacks{Inbox: b, Numbers: b, Messages: b, Secret: func(id int64) string { return kannel.Secret(key, id) }}
	srv := httptest.NewServer(cb.Handler())
	defer srv.Close()
	mine := &switchboard.Message{ID: "msg_0000000000000000000000000000000a", AccountID: 1, Status: switchboard.SMSSent}
	theirs := &switchboard.Message{ID: "msg_0000000000000000000000000000000b", AccountID: 2, Status: switchboard.SMSSent}
	b.add(mine)
	b.add(theirs)
	s1, s2 := kannel.Secret(key, 1), kannel.Secret(key, 2)
	dlr := func(account int64, id, secret string) string {
		return fmt.Sprintf("%s/kannel/%d/dlr?id=%s&status=1&reply=&secret=%s", srv.URL, account, id, url.QueryEscape(secret))
	}
	mo := func(account int64, to, secret string) string {
		return fmt.Sprintf("%s/kannel/%d/mo?from=%%2B447700900123&to=%s&text=hi&secret=%s", srv.URL, account, url.QueryEscape(to), secret)
	}
	cases := []struct {
		name string
		url  string
		want int
	}{
		{"no secret", dlr(1, mine.ID, ""), 403},
		{"wrong secret", dlr(1, mine.ID, s1[:31]+"0"), 403},
		{"another account's secret", dlr(1, mine.ID, s2), 403},
		{"unknown message", dlr(1, "msg_ffffffffffffffffffffffffffffffff", s1), 404},
		{"another account's message", dlr(1, theirs.ID, s1), 404},
		{"not a report type", strings.Replace(dlr(1, mine.ID, s1), "status=1", "status=x", 1), 400},
		{"mo without secret", mo(1, "+15550001", ""), 403},
		{"mo to another account's number", mo(1, "+15559999", s1), 404},
		{"mo to an unknown number", mo(1, "+15550000", s1), 404},
		{"mo not UTF-8", strings.Replace(mo(1, "+15550001", s1), "text=hi", "text=%FF%FE%FD", 1), 400},
		{"account not a number", srv.URL + "/kannel/x/dlr?secret=" + s1, 404},
	}
	for _, c := range cases {
		if got := get(t, c.url); got != c.want {
			t.Errorf("%s: status %d, want %d", c.name, got, c.want)
		}
	}
	if reports, rec := b.snapshot(); len(reports) != 0 || len(rec) != 0 {
		t.Fatalf("refused callbacks changed something: reports %v, received %v", reports, rec)
	}
	if mine.Status != switchboard.SMSSent || theirs.Status != switchboard.SMSSent {
		t.Fatalf("statuses changed: %s, %s", mine.Status, theirs.Status)
	}
	// The right secret works: an intermediate report (8, accepted by the SMSC) changes
	// nothing, the final one (2, not delivered) does.
	if got := get(t, strings.Replace(dlr(1, mine.ID, s1), "status=1", "status=8", 1)); got != 200 {
		t.Fatalf("report 8: %d", got)
	}
	if got := get(t, strings.Replace(dlr(1, mine.ID, s1), "status=1&reply=", "status=2&reply="+url.QueryEscape("id:1 stat:EXPIRED err:000"), 1)); got != 200 {
		t.Fatalf("report 2: %d", got)
	}
	if reports, _ := b.snapshot(); len(reports) != 1 || reports[0] != mine.ID+" undelivered EXPIRED" {
		t.Fatalf("reports %v, want one undelivered EXPIRED", reports)
	}
	// post-url: the text is the body, the numbers in Kannel's headers, without '+'.
	req, _ := http.NewRequest("POST", srv.URL+"/kannel/1/mo?secret="+s1, strings.NewReader("\x00h\x00i\xd8\x3d\xde\x00"))
	req.Header.Set("Content-Type", "text/plain; charset=UTF-16BE")
	req.Header.Set("X-Kannel-From", "447700900123")
	req.Header.Set("X-Kannel-To", "15550001")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if _, rec := b.snapshot(); resp.StatusCode != 200 || len(rec) != 1 || rec[0].Body != "hi😀" || rec[0].From != "+447700900123" || rec[0].To != "+15550001" {
		t.Fatalf("post-url: %d %+v", resp.StatusCode, rec)
	}
}

// A gateway that is down or answers garbage is a temporary error (retried); a message Kannel
// refuses is permanent.
func TestSendErrors(t *testing.T) {
	m := &switchboard.Message{ID: "msg_00000000000000000000000000000003", AccountID: 1, From: "+15550001", To: "+15550102", Body: "hi", Encoding: "gsm7"}
	answer := func(status int, body string) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			io.WriteString(w, body)
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	down := "http://" + ln.Addr().String() + "/cgi-bin/sendsms"
	ln.Close()
	cases := []struct {
		name      string
		url       string
		permanent bool
		mentions  string
	}{
		{"down", down, false, "unreachable"},
		{"garbage", answer(200, "<html>hello</html>"), false, "unexpected answer"},
		{"auth", answer(403, "Authorization failed for sendsms"), false, "username and password"},
		{"overloaded", answer(503, "Sending failed."), false, "503"},
		{"refused", answer(400, "Missing receiver number, rejected"), true, "Missing receiver"},
	}
	for _, c := range cases {
		cr, err := kannel.New(1, kannel.Config{SendURL: c.url, Username: "u", Password: "secret-pw", CallbackURL: "http://127.0.0.1:1", Secret: "abc"})
		if err != nil {
			t.Fatal(err)
		}
		_, err = cr.Send(context.Background(), m)
		var ce *switchboard.CarrierError
		if !errors.As(err, &ce) || ce.Permanent != c.permanent || !strings.Contains(ce.Reason, c.mentions) || strings.Contains(ce.Reason, "secret-pw") {
			t.Errorf("%s: %#v, want a CarrierError permanent=%v mentioning %q without the password", c.name, err, c.permanent, c.mentions)
		}
	}
	ok, err := kannel.New(1, kannel.Config{SendURL: answer(202, "0: Accepted for delivery"), Username: "u", CallbackURL: "http://127.0.0.1:1", Secret: "abc"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ok.Send(context.Background(), m); err != nil {
		t.Fatalf("accepted: %v", err)
	}
	for _, bad := range []kannel.Config{
		{SendURL: "ftp://x", Username: "u", CallbackURL: "http://a", Secret: "s"},
		{SendURL: "http://x", CallbackURL: "http://a", Secret: "s"},
		{SendURL: "http://x", Username: "u", CallbackURL: "", Secret: "s"},
		{SendURL: "http://x", Username: "u", CallbackURL: "http://a", Secret: "a%d"},
	} {
		if _, err := kannel.New(1, bad); switchboard.ErrorCode(err) != switchboard.EBADREQUEST {
			t.Errorf("config %+v: %v, want BAD_REQUEST", bad, err)
		}
	}
}
