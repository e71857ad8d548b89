package storetest

import (
	"fmt"
	"testing"

	"switchboard"
	"switchboard/store"
)

func testMigrateIdempotent(t *testing.T, f *fixture) {
	mustOK(t, f.db.Migrate(f.ctx)) // a restart migrates again: nothing to do, nothing lost
	if _, err := f.db.GetUser(f.ctx, f.a.ID, f.ua.ID); err != nil {
		t.Fatalf("user after second migrate: %v", err)
	}
	mustOK(t, f.db.Ping(f.ctx))
	if d := f.db.Dialect(); d != store.DialectSQLite && d != store.DialectPostgres {
		t.Fatalf("Dialect() = %q", d)
	}
}

func testAccounts(t *testing.T, f *fixture) {
	got, err := f.db.GetAccount(f.ctx, f.a.ID)
	mustOK(t, err)
	if d := diff(f.a, got); d != "" {
		t.Fatalf("GetAccount (-want +got):\n%s", d)
	}
	if f.a.CreatedAt.IsZero() || f.a.ID == f.b.ID {
		t.Fatalf("created accounts: %+v %+v", f.a, f.b)
	}
	list, err := f.db.ListAccounts(f.ctx)
	mustOK(t, err)
	if d := diff([]*switchboard.Account{f.a, f.b}, list); d != "" {
		t.Fatalf("ListAccounts (-want +got):\n%s", d)
	}

	f.a.Name, f.a.PublicEndpoints = "Renamed", true
	mustOK(t, f.db.UpdateAccount(f.ctx, f.a))
	got, err = f.db.GetAccount(f.ctx, f.a.ID)
	mustOK(t, err)
	if d := diff(f.a, got); d != "" {
		t.Fatalf("after UpdateAccount (-want +got):\n%s", d)
	}

	_, err = f.db.GetAccount(f.ctx, 999999)
	wantCode(t, err, switchboard.ENOTFOUND)
	wantCode(t, f.db.UpdateAccount(f.ctx, &switchboard.Account{ID: 999999, Name: "x"}), switchboard.ENOTFOUND)
	wantCode(t, f.db.CreateAccount(f.ctx, &switchboard.Account{Name: " "}), switchboard.EBADREQUEST)
}

func testAccountExplicitID(t *testing.T, f *fixture) {
	demo := &switchboard.Account{ID: 61, Name: "Demo"}
	mustOK(t, f.db.CreateAccount(f.ctx, demo))
	if demo.ID != 61 {
		t.Fatalf("explicit id: got %d, want 61", demo.ID)
	}
	wantCode(t, f.db.CreateAccount(f.ctx, &switchboard.Account{ID: 61, Name: "Again"}), switchboard.ECONFLICT)
	seen := map[int64]bool{f.a.ID: true, f.b.ID: true, 61: true}
	for i := range 3 {
		a := &switchboard.Account{Name: fmt.Sprint("Auto ", i)}
		mustOK(t, f.db.CreateAccount(f.ctx, a)) // would collide with 61 if ids did not move past it
		if seen[a.ID] || a.ID <= 61 {
			t.Fatalf("auto id after explicit 61: got %d (ids so far %v)", a.ID, seen)
		}
		seen[a.ID] = true
	}
	got, err := f.db.GetAccount(f.ctx, 61)
	mustOK(t, err)
	if got.Name != "Demo" {
		t.Fatalf("account 61 = %+v", got)
	}
}
