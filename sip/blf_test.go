package sip

import (
	"context"
	"strings"
	"testing"
	"time"

	"switchboard"
	"switchboard/internal/blfwatch"
	"switchboard/internal/tstest"
)

// blfEnv is a server with users 1001 (device alice, the watcher's) and 1002 (the watched).
type blfEnv struct {
	*testEnv
	alice, bob *switchboard.User
	w          *blfwatch.Watcher
	host       string // the server's IP: the host of the URIs the watcher names
}

func startBLF(t *testing.T, mutate ...func(*Config)) *blfEnv {
	t.Helper()
	// sipgo's client answers the first challenge only and computes MD5.
	e := startServer(t, mutate...)
	b := &blfEnv{testEnv: e, alice: e.user(t, "1001"), bob: e.user(t, "1002")}
	e.device(t, b.alice, "alice", "alice-pw-1")
	b.w = blfwatch.New(t, "127.0.0.1")
	b.host = "127.0.0.1"
	return b
}

func (b *blfEnv) subscribe(ext string, mutate ...func(*blfwatch.Request)) *blfwatch.Subscription {
	r := blfwatch.Request{Server: b.udp, Ext: ext, Username: "alice", Password: "alice-pw-1", Expires: 3600}
	for _, m := range mutate {
		m(&r)
	}
	return b.w.Subscribe(r)
}

func (b *blfEnv) bobDialog(id string, state DialogState) UserDialog {
	return UserDialog{AccountID: b.account.ID, UserID: b.bob.ID, ID: id, CallID: id, State: state,
		Remote: "1001", RemoteName: "Alice"}
}

// A subscription to a colleague's extension starts with the full state (idle: no dialog),
// follows each change with a new version, and ends with a terminated NOTIFY when the phone
// unsubscribes.
func TestBLFSubscriptionFollowsTheUsersDialogs(t *testing.T) {
	tstest.CheckGoroutines(t)
	b := startBLF(t)
	sub := b.subscribe("1002")
	if sub.Res.StatusCode != 200 {
		t.Fatalf("SUBSCRIBE: %d %s; want 200", sub.Res.StatusCode, sub.Res.Reason)
	}
	if got := sub.Res.GetHeader("Expires"); got == nil || got.Value() != "3600" {
		t.Errorf("Expires = %v; want 3600", got)
	}
	if tag, _ := sub.Res.To().Params.Get("tag"); tag == "" {
		t.Error("the 200 has no To tag: no subscription dialog")
	}

	first := b.w.Next()
	if first.Doc.Version != 0 || first.Doc.State != "full" || first.Doc.Entity != "sip:1002@"+b.host {
		t.Errorf("first document: version %d state %q entity %q; want 0, full, sip:1002@%s",
			first.Doc.Version, first.Doc.State, first.Doc.Entity, b.host)
	}
	if len(first.Doc.Dialogs) != 0 || first.Doc.Lamp() != "idle" {
		t.Errorf("an idle user has dialogs %+v", first.Doc.Dialogs)
	}
	if first.SubscriptionState != "active;expires=3600" || first.Event != "dialog" {
		t.Errorf("Subscription-State %q, Event %q", first.SubscriptionState, first.Event)
	}

	b.srv.PublishDialog(b.bobDialog("c1", DialogEarly))
	ringing := b.w.Next()
	if len(ringing.Doc.Dialogs) != 1 {
		t.Fatalf("ringing: dialogs %+v", ringing.Doc.Dialogs)
	}
	d := ringing.Doc.Dialogs[0]
	if d.State != "early" || d.Direction != "recipient" || d.CallID != "c1" ||
		d.Remote.Identity.URI != "sip:1001@"+b.host || d.Remote.Identity.Display != "Alice" {
		t.Errorf("ringing dialog = %+v", d)
	}
	b.srv.PublishDialog(b.bobDialog("c1", DialogConfirmed))
	if n := b.w.Next(); n.Doc.Lamp() != "busy" {
		t.Errorf("answered: lamp %s, dialogs %+v", n.Doc.Lamp(), n.Doc.Dialogs)
	}
	// Another user's calls are not this subscription's business.
	b.srv.PublishDialog(UserDialog{AccountID: b.account.ID, UserID: b.alice.ID, ID: "c2", State: DialogEarly})
	b.srv.PublishDialog(b.bobDialog("c1", DialogTerminated))
	ended := b.w.Next()
	if len(ended.Doc.Dialogs) != 1 || ended.Doc.Dialogs[0].State != "terminated" || ended.Doc.Lamp() != "idle" {
		t.Errorf("after the call: dialogs %+v; want c1 terminated", ended.Doc.Dialogs)
	}

	if res := sub.Refresh(600); res.StatusCode != 200 || res.GetHeader("Expires").Value() != "600" {
		t.Fatalf("refresh: %d %s", res.StatusCode, res.Reason)
	}
	refreshed := b.w.Next()
	if refreshed.SubscriptionState != "active;expires=600" || len(refreshed.Doc.Dialogs) != 0 {
		t.Errorf("after the refresh: %q, dialogs %+v", refreshed.SubscriptionState, refreshed.Doc.Dialogs)
	}

	if res := sub.Refresh(0); res.StatusCode != 200 {
		t.Fatalf("unsubscribe: %d %s", res.StatusCode, res.Reason)
	}
	last := b.w.Next()
	if last.SubscriptionState != "terminated;reason=timeout" {
		t.Errorf("final NOTIFY Subscription-State %q", last.SubscriptionState)
	}
	tstest.WaitFor(t, "the subscription to be gone", func() bool { return b.srv.BLFSubscriptions() == 0 })
	if res := sub.Refresh(600); res.StatusCode != 481 {
		t.Errorf("refreshing an ended subscription: %d; want 481", res.StatusCode)
	}
}

// A subscription that is not refreshed ends when it expires, with a final NOTIFY.
func TestBLFSubscriptionExpires(t *testing.T) {
	b := startBLF(t)
	sub := b.subscribe("1002", func(r *blfwatch.Request) { r.Expires = 60 })
	if sub.Res.StatusCode != 200 {
		t.Fatalf("SUBSCRIBE: %d", sub.Res.StatusCode)
	}
	b.w.Next()
	b.clock.Advance(61 * time.Second)
	if n := b.w.Next(); n.SubscriptionState != "terminated;reason=timeout" {
		t.Errorf("after expiry: %q", n.SubscriptionState)
	}
	tstest.WaitFor(t, "the subscription to be gone", func() bool { return b.srv.BLFSubscriptions() == 0 })
}

// A phone that answers a NOTIFY 481 has forgotten the subscription: it ends, silently.
func TestBLFNotifyAnswered481EndsTheSubscription(t *testing.T) {
	b := startBLF(t)
	if sub := b.subscribe("1002"); sub.Res.StatusCode != 200 {
		t.Fatalf("SUBSCRIBE: %d", sub.Res.StatusCode)
	}
	b.w.Next()
	b.w.AnswerNotifiesWith(481)
	b.srv.PublishDialog(b.bobDialog("c1", DialogEarly))
	if n := b.w.Next(); n.Terminated() {
		t.Errorf("the change came as a final NOTIFY: %q", n.SubscriptionState)
	}
	tstest.WaitFor(t, "the subscription to end", func() bool { return b.srv.BLFSubscriptions() == 0 })
}

// Shutting down ends every subscription with a final NOTIFY, reason deactivated, so the
// phone subscribes again (to whichever node is up) instead of showing a stale lamp.
func TestBLFShutdownSendsFinalNotify(t *testing.T) {
	tstest.CheckGoroutines(t)
	b := startBLF(t)
	if sub := b.subscribe("1002"); sub.Res.StatusCode != 200 {
		t.Fatalf("SUBSCRIBE: %d", sub.Res.StatusCode)
	}
	b.w.Next()
	b.stop()
	if n := b.w.Next(); n.SubscriptionState != "terminated;reason=deactivated" {
		t.Errorf("at shutdown: %q", n.SubscriptionState)
	}
	if got := b.srv.BLFSubscriptions(); got != 0 {
		t.Errorf("%d subscriptions left after Run returned", got)
	}
}

// Bad SUBSCRIBEs get the answer that says what is wrong, and change nothing: the live
// subscription keeps working.
func TestBLFRefusesBadSubscriptions(t *testing.T) {
	b := startBLF(t, func(c *Config) { c.BLFMaxPerDevice = 2 })
	ctx := context.Background()
	beta := &switchboard.Account{Name: "Beta", SIPDomain: "beta.test"}
	if err := b.db.CreateAccount(ctx, beta); err != nil {
		t.Fatal(err)
	}
	for _, ext := range []string{"1002", "1003"} {
		if err := b.db.CreateUser(ctx, &switchboard.User{AccountID: beta.ID, Extension: ext, FirstName: "Beta"}); err != nil {
			t.Fatal(err)
		}
	}
	live := b.subscribe("1002")
	if live.Res.StatusCode != 200 {
		t.Fatalf("SUBSCRIBE: %d", live.Res.StatusCode)
	}
	b.w.Next()

	unknown := b.subscribe("1999")
	for _, tc := range []struct {
		name   string
		mutate func(*blfwatch.Request)
		code   int
		reason string // a part of the reason phrase
	}{
		{"unknown extension", func(r *blfwatch.Request) { r.Ext = "1999" }, 404, unknown.Res.Reason},
		{"another account's extension", func(r *blfwatch.Request) { r.Ext = "1003" }, 404, unknown.Res.Reason},
		{"an extension named in another account's domain", func(r *blfwatch.Request) { r.RequestHost = "beta.test" }, 404, unknown.Res.Reason},
		{"not an extension", func(r *blfwatch.Request) { r.Ext = "bob" }, 404, unknown.Res.Reason},
		{"presence, not dialog", func(r *blfwatch.Request) { r.Event = "presence" }, 489, "Bad Event"},
		{"no dialog-info accepted", func(r *blfwatch.Request) { r.Accept = "application/pidf+xml" }, 406, "Not Acceptable"},
		{"expires too brief", func(r *blfwatch.Request) { r.Expires = 10 }, 423, "Interval Too Brief"},
		{"wrong password", func(r *blfwatch.Request) { r.Password = "nope" }, 401, "Unauthorized"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := b.subscribe("1002", tc.mutate).Res
			if res.StatusCode != tc.code || !strings.Contains(res.Reason, tc.reason) {
				t.Errorf("%d %s; want %d %s", res.StatusCode, res.Reason, tc.code, tc.reason)
			}
			if tc.code == 489 {
				if h := res.GetHeader("Allow-Events"); h == nil || h.Value() != "dialog, message-summary" {
					t.Errorf("489 without Allow-Events: dialog, message-summary: %v", h)
				}
			}
			if tc.code == 423 {
				if h := res.GetHeader("Min-Expires"); h == nil || h.Value() != "60" {
					t.Errorf("423 without Min-Expires: 60: %v", h)
				}
			}
		})
	}
	if unknown.Res.StatusCode != 404 {
		t.Errorf("unknown extension: %d %s", unknown.Res.StatusCode, unknown.Res.Reason)
	}
	if got := b.srv.BLFSubscriptions(); got != 1 {
		t.Errorf("%d subscriptions after the refusals; want the one live", got)
	}

	// The cap: the device's second subscription is taken, its third refused with a reason.
	if sub := b.subscribe("1001"); sub.Res.StatusCode != 200 {
		t.Fatalf("second subscription: %d %s", sub.Res.StatusCode, sub.Res.Reason)
	}
	b.w.Next()
	over := b.subscribe("1002").Res
	if over.StatusCode != 403 || !strings.Contains(over.Reason, "too many busy lamp subscriptions for this device") {
		t.Errorf("over the cap: %d %s", over.StatusCode, over.Reason)
	}

	b.srv.PublishDialog(b.bobDialog("c1", DialogEarly))
	if n := b.w.Next(); n.Doc.Lamp() != "ringing" || n.Doc.Entity != "sip:1002@"+b.host {
		t.Errorf("the live subscription after the refusals: %s of %s", n.Doc.Lamp(), n.Doc.Entity)
	}
	if !b.w.None() {
		t.Error("a refused subscription got a NOTIFY")
	}
}

// A SUBSCRIBE with Expires: 0 is a fetch: one NOTIFY with the state, ending the
// subscription at once.
func TestBLFFetchIsOneFinalNotify(t *testing.T) {
	b := startBLF(t)
	b.srv.PublishDialog(b.bobDialog("c1", DialogConfirmed))
	sub := b.subscribe("1002", func(r *blfwatch.Request) { r.Expires = 0 })
	if sub.Res.StatusCode != 200 || sub.Res.GetHeader("Expires").Value() != "0" {
		t.Fatalf("fetch: %d %s", sub.Res.StatusCode, sub.Res.Reason)
	}
	n := b.w.Next()
	if n.SubscriptionState != "terminated;reason=timeout" || n.Doc.Lamp() != "busy" || n.Doc.Version != 0 {
		t.Errorf("fetched: %q, %s, version %d; want terminated with the busy state at version 0",
			n.SubscriptionState, n.Doc.Lamp(), n.Doc.Version)
	}
	tstest.WaitFor(t, "the fetch to leave no subscription", func() bool { return b.srv.BLFSubscriptions() == 0 })
}
