// Package blfwatch is a busy lamp subscriber for tests: a sipgo user agent on loopback UDP
// that subscribes to an extension's dialog state (RFC 4235), answers the NOTIFYs and parses
// their dialog-info documents with encoding/xml, independently of the server's own types.
package blfwatch

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"switchboard/internal/tstest"
)

// Watcher is a phone that subscribes to busy lamps: it listens on its own UDP port and
// sends from it, so NOTIFYs come back to where its SUBSCRIBEs came from.
type Watcher struct {
	t    testing.TB
	Addr string // ip:port it listens and sends on
	cli  *sipgo.Client

	notifies chan Notify
	mu       sync.Mutex
	answer   int            // the status code NOTIFYs are answered with
	versions map[string]int // the last document version of each subscription, by Call-ID
}

// Notify is a NOTIFY the watcher received.
type Notify struct {
	Req *sip.Request
	// SubscriptionState is the Subscription-State header, e.g. "active;expires=3600" or
	// "terminated;reason=timeout".
	SubscriptionState string
	Event             string
	Doc               DialogInfo
}

// Terminated reports whether the NOTIFY ends the subscription.
func (n Notify) Terminated() bool { return strings.HasPrefix(n.SubscriptionState, "terminated") }

// DialogInfo is a parsed dialog-info document.
type DialogInfo struct {
	XMLName xml.Name `xml:"urn:ietf:params:xml:ns:dialog-info dialog-info"`
	Version int      `xml:"version,attr"`
	State   string   `xml:"state,attr"`
	Entity  string   `xml:"entity,attr"`
	Dialogs []Dialog `xml:"urn:ietf:params:xml:ns:dialog-info dialog"`
}

// Dialog is one dialog element.
type Dialog struct {
	ID        string `xml:"id,attr"`
	CallID    string `xml:"call-id,attr"`
	Direction string `xml:"direction,attr"`
	State     string `xml:"urn:ietf:params:xml:ns:dialog-info state"`
	Remote    struct {
		Identity struct {
			Display string `xml:"display,attr"`
			URI     string `xml:",chardata"`
		} `xml:"urn:ietf:params:xml:ns:dialog-info identity"`
	} `xml:"urn:ietf:params:xml:ns:dialog-info remote"`
}

// Lamp is what a busy lamp shows for the document: "idle" with no dialog that is not
// terminated, else "ringing" when one is early, else "busy".
func (d DialogInfo) Lamp() string {
	lamp := "idle"
	for _, dl := range d.Dialogs {
		switch dl.State {
		case "early":
			return "ringing"
		case "confirmed":
			lamp = "busy"
		}
	}
	return lamp
}

// New starts a watcher on ip (e.g. "127.0.0.1"); the test's cleanup stops it.
func New(t testing.TB, ip string) *Watcher {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	pc, err := net.ListenPacket("udp", ip+":0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	agent, err := sipgo.NewUA(sipgo.WithUserAgent("blfwatch"), sipgo.WithUserAgentHostname(ip),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(quiet)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(quiet)))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(agent, sipgo.WithServerLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	cli, err := sipgo.NewClient(agent, sipgo.WithClientConnectionAddr(addr), sipgo.WithClientLogger(quiet))
	if err != nil {
		t.Fatal(err)
	}
	w := &Watcher{t: t, Addr: addr, cli: cli, notifies: make(chan Notify, 64), answer: 200,
		versions: map[string]int{}}
	srv.OnNotify(func(req *sip.Request, tx sip.ServerTransaction) {
		n := Notify{Req: req}
		if h := req.GetHeader("Subscription-State"); h != nil {
			n.SubscriptionState = h.Value()
		}
		if h := req.GetHeader("Event"); h != nil {
			n.Event = h.Value()
		}
		if err := xml.Unmarshal(req.Body(), &n.Doc); err != nil {
			t.Errorf("NOTIFY body is not a dialog-info document: %v\n%s", err, req.Body())
		}
		w.mu.Lock()
		code := w.answer
		// RFC 4235 4.1: each document of a subscription is one version above the last.
		if id := req.CallID(); id != nil {
			if last, ok := w.versions[id.Value()]; ok && n.Doc.Version != last+1 {
				t.Errorf("dialog-info version went from %d to %d", last, n.Doc.Version)
			}
			w.versions[id.Value()] = n.Doc.Version
		}
		w.mu.Unlock()
		_ = tx.Respond(sip.NewResponseFromRequest(req, code, "Test", nil))
		w.notifies <- n
	})
	go func() { _ = srv.ServeUDP(pc) }()
	tstest.WaitFor(t, "the watcher to listen", func() bool {
		c, err := agent.TransportLayer().GetConnection("udp", addr)
		return err == nil && c != nil
	})
	t.Cleanup(func() {
		pc.Close()
		cli.Close()
		agent.Close()
	})
	return w
}

// AnswerNotifiesWith makes the watcher answer the next NOTIFYs with code (481: it forgot
// the subscription).
func (w *Watcher) AnswerNotifiesWith(code int) {
	w.mu.Lock()
	w.answer = code
	w.mu.Unlock()
}

// Subscription is a subscription the watcher holds.
type Subscription struct {
	w   *Watcher
	req *sip.Request // the last SUBSCRIBE, for refreshes
	// Res is the final response to the SUBSCRIBE.
	Res *sip.Response
}

// Request is a SUBSCRIBE to send: to Ext at Server (ip:port), naming Domain (the URI host;
// "" = Server), with Username's credentials.
type Request struct {
	Server, Domain string
	// RequestHost is the Request-URI's and To's host when it differs from Domain.
	RequestHost        string
	Ext                string
	Username, Password string
	Expires            int    // -1: no Expires header
	Event              string // "" = dialog
	Accept             string // "" = application/dialog-info+xml; "-" = no Accept header
}

// Subscribe sends the SUBSCRIBE, answering a 401 with the credentials, and returns the
// subscription with the final response (whatever its code).
func (w *Watcher) Subscribe(r Request) *Subscription {
	w.t.Helper()
	host := r.Domain
	if host == "" {
		host = r.Server
	}
	reqHost := host
	if r.RequestHost != "" {
		reqHost = r.RequestHost
	}
	var recipient sip.Uri
	if err := sip.ParseUri("sip:"+r.Ext+"@"+reqHost, &recipient); err != nil {
		w.t.Fatal(err)
	}
	req := sip.NewRequest(sip.SUBSCRIBE, recipient)
	req.SetDestination(r.Server)
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: r.Username, Host: host}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(12))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: sip.Uri{Scheme: "sip", User: r.Ext, Host: reqHost}, Params: sip.NewParams()})
	req.AppendHeader(sip.NewHeader("Contact", "<sip:"+r.Username+"@"+w.Addr+">"))
	event := r.Event
	if event == "" {
		event = "dialog"
	}
	req.AppendHeader(sip.NewHeader("Event", event))
	switch r.Accept {
	case "":
		req.AppendHeader(sip.NewHeader("Accept", "application/dialog-info+xml"))
	case "-":
	default:
		req.AppendHeader(sip.NewHeader("Accept", r.Accept))
	}
	if r.Expires >= 0 {
		req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(r.Expires)))
	}
	ctx, cancel := context.WithTimeout(context.Background(), tstest.DefaultWait)
	defer cancel()
	res, err := w.cli.Do(ctx, req)
	if err != nil {
		w.t.Fatalf("SUBSCRIBE %s: %v", r.Ext, err)
	}
	if res.StatusCode == 401 {
		res, err = w.cli.DoDigestAuth(ctx, req, res, sipgo.DigestAuth{Username: r.Username, Password: r.Password})
		if err != nil {
			w.t.Fatalf("SUBSCRIBE %s with credentials: %v", r.Ext, err)
		}
	}
	return &Subscription{w: w, req: req, Res: res}
}

// Refresh sends a SUBSCRIBE inside the subscription's dialog with expires (0 ends it),
// and returns the final response.
func (s *Subscription) Refresh(expires int) *sip.Response {
	s.w.t.Helper()
	if s.Res.StatusCode/100 != 2 {
		s.w.t.Fatalf("refreshing a subscription that was refused %d", s.Res.StatusCode)
	}
	req := s.req.Clone()
	req.RemoveHeader("Via")
	req.RemoveHeader("Authorization")
	req.RemoveHeader("Expires")
	req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(expires)))
	tag, _ := s.Res.To().Params.Get("tag")
	req.To().Params.Add("tag", tag)
	req.CSeq().SeqNo++
	ctx, cancel := context.WithTimeout(context.Background(), tstest.DefaultWait)
	defer cancel()
	res, err := s.w.cli.Do(ctx, req, sipgo.ClientRequestAddVia)
	if err != nil {
		s.w.t.Fatalf("re-SUBSCRIBE: %v", err)
	}
	s.req = req
	return res
}

// Next waits for the next NOTIFY (failing the test after tstest.DefaultWait).
func (w *Watcher) Next() Notify {
	w.t.Helper()
	select {
	case n := <-w.notifies:
		return n
	case <-time.After(tstest.DefaultWait):
		w.t.Fatal("no NOTIFY arrived")
	}
	return Notify{}
}

// Until reads NOTIFYs until one satisfies ok and returns it; the state a lamp shows may
// pass through steps the engine reports on its way (a NOTIFY per change).
func (w *Watcher) Until(what string, ok func(Notify) bool) Notify {
	w.t.Helper()
	deadline := time.After(tstest.DefaultWait)
	var seen []string
	for {
		select {
		case n := <-w.notifies:
			if ok(n) {
				return n
			}
			seen = append(seen, fmt.Sprintf("v%d %s %s", n.Doc.Version, n.Doc.Lamp(), n.SubscriptionState))
		case <-deadline:
			w.t.Fatalf("no NOTIFY with %s; saw %v", what, seen)
			return Notify{}
		}
	}
}

// None reports whether no NOTIFY is waiting to be read.
func (w *Watcher) None() bool { return len(w.notifies) == 0 }
