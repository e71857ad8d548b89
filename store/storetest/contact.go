package storetest

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"switchboard"
)

// jsonData is what event data looks like after the store: JSON numbers come back as float64.
func jsonData(t *testing.T, data map[string]any) map[string]any {
	t.Helper()
	b, err := json.Marshal(data)
	mustOK(t, err)
	var out map[string]any
	mustOK(t, json.Unmarshal(b, &out))
	return out
}

func testContacts(t *testing.T, f *fixture) {
	c := &switchboard.Contact{AccountID: f.a.ID, Phone: "+15553334444", FirstName: "Grace", LastName: "Hopper",
		Email: "grace@example.com", Company: "Navy"}
	mustOK(t, f.db.CreateContact(f.ctx, c))
	if c.ID == 0 || c.CreatedAt.IsZero() || !c.UpdatedAt.Equal(c.CreatedAt) {
		t.Fatalf("created contact: %+v", c)
	}
	got, err := f.db.GetContact(f.ctx, f.a.ID, c.ID)
	mustOK(t, err)
	if d := diff(c, got); d != "" {
		t.Fatalf("GetContact (-want +got):\n%s", d)
	}
	c2 := &switchboard.Contact{AccountID: f.a.ID, Phone: "+15553334445"}
	mustOK(t, f.db.CreateContact(f.ctx, c2))
	list, err := f.db.ListContacts(f.ctx, f.a.ID)
	mustOK(t, err)
	if d := diff([]*switchboard.Contact{c, c2}, list); d != "" {
		t.Fatalf("ListContacts (-want +got):\n%s", d)
	}

	upd := *c
	upd.Company, upd.Email = "Yale", "ghopper@example.com"
	mustOK(t, f.db.UpdateContact(f.ctx, &upd, []string{"company", "email"}))
	got, err = f.db.GetContact(f.ctx, f.a.ID, c.ID)
	mustOK(t, err)
	if d := diff(&upd, got); d != "" {
		t.Fatalf("after UpdateContact (-want +got):\n%s", d)
	}
	if !got.CreatedAt.Equal(c.CreatedAt) || got.UpdatedAt.Before(c.UpdatedAt) {
		t.Fatalf("UpdateContact times: created %v -> %v, updated %v -> %v", c.CreatedAt, got.CreatedAt, c.UpdatedAt, got.UpdatedAt)
	}
	mustOK(t, f.db.DeleteContact(f.ctx, f.a.ID, c.ID))
	_, err = f.db.GetContact(f.ctx, f.a.ID, c.ID)
	wantCode(t, err, switchboard.ENOTFOUND)

	evs := f.events(t, f.a.ID)
	type ev struct {
		Name string
		Data map[string]any
	}
	var gotEvs []ev
	for _, e := range evs {
		if e.AccountID != f.a.ID || e.ID == "" || e.OccurredAt.IsZero() {
			t.Fatalf("event %+v: want account %d, an id and a time", e, f.a.ID)
		}
		gotEvs = append(gotEvs, ev{e.Name, e.Data})
	}
	want := []ev{
		{switchboard.EventContactCreated, jsonData(t, switchboard.ContactEvent(switchboard.EventContactCreated, c, nil).Data)},
		{switchboard.EventContactCreated, jsonData(t, switchboard.ContactEvent(switchboard.EventContactCreated, c2, nil).Data)},
		{switchboard.EventContactUpdated, jsonData(t, switchboard.ContactEvent(switchboard.EventContactUpdated, &upd, []string{"company", "email"}).Data)},
		{switchboard.EventContactDeleted, jsonData(t, switchboard.ContactEvent(switchboard.EventContactDeleted, &upd, nil).Data)},
	}
	if d := cmp.Diff(want, gotEvs); d != "" {
		t.Fatalf("contact events (-want +got):\n%s", d)
	}
	if evs := f.events(t, f.b.ID); len(evs) != 0 {
		t.Fatalf("B got A's contact events: %+v", evs)
	}
}

func testContactFailures(t *testing.T, f *fixture) {
	cb := &switchboard.Contact{AccountID: f.b.ID, Phone: "+15553334444", FirstName: "Bee"}
	mustOK(t, f.db.CreateContact(f.ctx, cb))
	ca := &switchboard.Contact{AccountID: f.a.ID, Phone: "+15553334445"}
	mustOK(t, f.db.CreateContact(f.ctx, ca))
	eventsA, eventsB := f.events(t, f.a.ID), f.events(t, f.b.ID)

	wantField(t, f.db.CreateContact(f.ctx, &switchboard.Contact{AccountID: f.a.ID, Phone: "nope"}), switchboard.EBADREQUEST, "phone")
	badUpd := *ca
	badUpd.Email = "not an email"
	wantField(t, f.db.UpdateContact(f.ctx, &badUpd, []string{"email"}), switchboard.EBADREQUEST, "email")
	hijack := *cb
	hijack.AccountID, hijack.FirstName = f.a.ID, "Hijacked"
	wantCode(t, f.db.UpdateContact(f.ctx, &hijack, []string{"first_name"}), switchboard.ENOTFOUND)
	wantCode(t, f.db.DeleteContact(f.ctx, f.a.ID, cb.ID), switchboard.ENOTFOUND)
	_, err := f.db.GetContact(f.ctx, f.a.ID, cb.ID)
	wantCode(t, err, switchboard.ENOTFOUND)
	wantCode(t, f.db.DeleteContact(f.ctx, f.a.ID, 999999), switchboard.ENOTFOUND)

	if d := diff(eventsA, f.events(t, f.a.ID)); d != "" {
		t.Fatalf("failed changes stored events for A (-before +after):\n%s", d)
	}
	if d := diff(eventsB, f.events(t, f.b.ID)); d != "" {
		t.Fatalf("failed changes stored events for B (-before +after):\n%s", d)
	}
	got, err := f.db.GetContact(f.ctx, f.b.ID, cb.ID)
	mustOK(t, err)
	if d := diff(cb, got); d != "" {
		t.Fatalf("B's contact changed through A (-want +got):\n%s", d)
	}
	list, err := f.db.ListContacts(f.ctx, f.a.ID)
	mustOK(t, err)
	if d := diff([]*switchboard.Contact{ca}, list); d != "" {
		t.Fatalf("A's contacts (-want +got):\n%s", d)
	}
}
