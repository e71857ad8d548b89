package sip

import (
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"switchboard/internal/tstest"
)

// readRequest reads the next request the server sends the phone (on its own socket: for
// TCP, the connection its REGISTER came on, which is what keeps a NAT mapping open).
func (p *phone) readRequest() (*sip.Request, error) {
	p.conn.SetReadDeadline(time.Now().Add(tstest.DefaultWait))
	var raw []byte
	if p.tcp {
		var err error
		if raw, err = readStreamMessage(p.rd); err != nil {
			return nil, err
		}
	} else {
		buf := make([]byte, 65535)
		n, err := p.conn.Read(buf)
		if err != nil {
			return nil, err
		}
		raw = buf[:n]
	}
	msg, err := sip.ParseMessage(raw)
	if err != nil {
		return nil, err
	}
	req, ok := msg.(*sip.Request)
	if !ok {
		return nil, nil // a stray response: not what we wait for
	}
	return req, nil
}

// Qualify: the registrar sends each binding OPTIONS over its transport to the address its
// REGISTER came from. A phone that stops answering is left out of Contacts (not rung), its
// registration otherwise standing; any answer, even 404, makes it reachable again. Run
// joins the qualify goroutines. The UDP phone's socket is connected to the server's, so it
// hears the OPTIONS only if it comes from the listening socket: this also guards the REGISTER
// fast path's rule that a new source's first REGISTER goes through sipgo (fastregister.go).
func TestQualifyMarksASilentContactUnreachableUntilItAnswers(t *testing.T) {
	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			tstest.CheckGoroutines(t)
			e := startServer(t, func(c *Config) { c.QualifyInterval, c.QualifyTimeout = 50*time.Millisecond, 300*time.Millisecond })
			u := e.user(t, "1001")
			e.device(t, u, "alice1001", "pw-123456")
			addr := e.udp
			if network == "tcp" {
				addr = e.tcp
			}
			p := dialPhone(t, network, addr, "", "alice1001", "pw-123456")
			if res := p.register("MD5", p.contactHeader(3600)...); res.StatusCode != 200 {
				t.Fatalf("REGISTER: %d", res.StatusCode)
			}
			if cs := e.srv.Contacts(e.account.ID, u.ID); len(cs) != 1 {
				t.Fatalf("contacts after REGISTER = %+v", cs)
			}

			// The OPTIONS arrives on the phone's own socket, for its contact; the phone keeps
			// silent.
			req, err := p.readRequest()
			if err != nil || req == nil || req.Method != sip.OPTIONS {
				t.Fatalf("phone got %v, %v; want an OPTIONS", req, err)
			}
			if !strings.Contains(req.Recipient.String(), "alice1001@") {
				t.Errorf("OPTIONS for %s; want the registered contact", req.Recipient.String())
			}
			tstest.WaitFor(t, "the silent contact to be left out", func() bool {
				return len(e.srv.Contacts(e.account.ID, u.ID)) == 0
			})
			if on, _ := e.srv.UserPresence(e.account.ID, u.ID); !on {
				t.Errorf("user offline: an unreachable contact is still registered")
			}

			// The phone answers again, with 404: reachable.
			done := make(chan struct{})
			answered := make(chan struct{})
			go func() {
				defer close(answered)
				for {
					select {
					case <-done:
						return
					default:
					}
					req, err := p.readRequest()
					if err != nil {
						return
					}
					if req != nil && req.Method == sip.OPTIONS {
						p.conn.Write([]byte(sip.NewResponseFromRequest(req, 404, "Not Found", nil).String()))
					}
				}
			}()
			tstest.WaitFor(t, "the answering contact to be reachable again", func() bool {
				return len(e.srv.Contacts(e.account.ID, u.ID)) == 1
			})
			close(done)
			p.conn.SetReadDeadline(time.Now()) // ends the reader
			<-answered
		})
	}
}
