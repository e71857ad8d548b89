package store

import (
	"context"
	"slices"
	"testing"

	"switchboard"
)

// One transaction storing the events of several accounts fans each out to its own account's
// webhooks, by each webhook's filter (the transaction reads each account's webhooks once);
// a webhook created after a transaction is seen by the next.
func TestFanOutPerAccountInOneTransaction(t *testing.T) {
	ctx := context.Background()
	db := openMigrated(t)
	var accounts [3]*switchboard.Account
	for i := range accounts {
		accounts[i] = &switchboard.Account{Name: "fan-out"}
		if err := db.CreateAccount(ctx, accounts[i]); err != nil {
			t.Fatal(err)
		}
	}
	a, b, c := accounts[0].ID, accounts[1].ID, accounts[2].ID
	hook := func(account int64, filter ...string) {
		t.Helper()
		w := &switchboard.Webhook{AccountID: account, Name: "h", URL: "https://example.com/hook", Events: filter,
			EventFilter: filter, Format: "standard", Method: "POST", Active: true, SealedSecret: []byte("x")}
		if err := db.CreateWebhook(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	hook(a, switchboard.EventSMSSent)
	hook(b, "*")
	ev := func(account int64, name string) *switchboard.Event {
		return switchboard.NewEvent(account, name, map[string]any{"message_id": "m"})
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(db.AppendEvents(ctx, ev(a, switchboard.EventSMSSent), ev(b, switchboard.EventSMSDelivered),
		ev(a, switchboard.EventSMSDelivered), ev(c, switchboard.EventSMSSent), ev(b, switchboard.EventSMSSent)))
	hook(c, "*")
	must(db.AppendEvents(ctx, ev(c, switchboard.EventSMSDelivered)))
	for _, want := range []struct {
		account int64
		names   []string
	}{{a, []string{switchboard.EventSMSSent}}, {b, []string{switchboard.EventSMSDelivered, switchboard.EventSMSSent}},
		{c, []string{switchboard.EventSMSDelivered}}} {
		got, _, err := db.ListDeliveries(ctx, switchboard.DeliveryFilter{AccountID: want.account})
		must(err)
		var names []string
		for _, d := range got {
			names = append(names, d.EventName)
		}
		slices.Sort(names)
		if !slices.Equal(names, want.names) {
			t.Errorf("account %d: deliveries of %v, want %v", want.account, names, want.names)
		}
	}
}
