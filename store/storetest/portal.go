package storetest

import (
	"testing"
	"time"

	"switchboard"
	"switchboard/store"
)

func runPortalTests(t *testing.T, open func(t *testing.T) *store.DB) {
	t.Run("Portal/LoginsSessionsAndIsolation", func(t *testing.T) { testPortal(t, newFixture(t, open(t))) })
}

// Portal logins: unique names across accounts, a user's login names a user of its account
// and goes with the user; sessions are found by token hash, revoked ones say so; one
// account cannot delete or change another's login.
func testPortal(t *testing.T, f *fixture) {
	admin := &switchboard.PortalLogin{AccountID: f.a.ID, Login: " Admin@A.example ", Role: switchboard.PortalAdmin, PasswordHash: "h1"}
	mustOK(t, f.db.CreatePortalLogin(f.ctx, admin))
	if admin.Login != "admin@a.example" || admin.ID == 0 {
		t.Fatalf("stored as %q id %d", admin.Login, admin.ID)
	}
	wantCode(t, f.db.CreatePortalLogin(f.ctx, &switchboard.PortalLogin{AccountID: f.b.ID, Login: "ADMIN@a.example",
		Role: switchboard.PortalAdmin, PasswordHash: "h"}), switchboard.ECONFLICT)
	// A user login naming another account's user is refused.
	wantCode(t, f.db.CreatePortalLogin(f.ctx, &switchboard.PortalLogin{AccountID: f.a.ID, Login: "u", Role: switchboard.PortalUser,
		UserID: f.ub.ID, PasswordHash: "h"}), switchboard.EBADREQUEST)
	user := &switchboard.PortalLogin{AccountID: f.a.ID, Login: "user@a.example", Role: switchboard.PortalUser, UserID: f.ua.ID, PasswordHash: "h2"}
	mustOK(t, f.db.CreatePortalLogin(f.ctx, user))

	got, err := f.db.GetPortalLoginByName(f.ctx, "USER@a.example")
	mustOK(t, err)
	if got.ID != user.ID || got.UserID != f.ua.ID || got.Role != switchboard.PortalUser {
		t.Fatalf("by name: %+v", got)
	}
	_, err = f.db.GetPortalLoginByName(f.ctx, "nobody")
	wantCode(t, err, switchboard.ENOTFOUND)

	// Account B can neither delete nor change A's login.
	wantCode(t, f.db.DeletePortalLogin(f.ctx, f.b.ID, admin.ID), switchboard.ENOTFOUND)
	wantCode(t, f.db.SetPortalPassword(f.ctx, f.b.ID, admin.ID, "evil"), switchboard.ENOTFOUND)
	wantCode(t, f.db.SetPortalTOTP(f.ctx, f.b.ID, admin.ID, "evil"), switchboard.ENOTFOUND)
	if ls, _ := f.db.ListPortalLogins(f.ctx, f.b.ID); len(ls) != 0 {
		t.Fatalf("B lists %d logins", len(ls))
	}

	s := &switchboard.PortalSession{LoginID: admin.ID, TokenHash: "t1", CSRF: "c1", ExpiresAt: time.Now().Add(time.Hour)}
	mustOK(t, f.db.CreatePortalSession(f.ctx, s))
	gs, gl, err := f.db.GetPortalSession(f.ctx, "t1")
	mustOK(t, err)
	if gs.ID != s.ID || gl.ID != admin.ID || gs.CSRF != "c1" || !gs.RevokedAt.IsZero() {
		t.Fatalf("session %+v login %+v", gs, gl)
	}
	mustOK(t, f.db.RevokePortalSession(f.ctx, s.ID))
	gs, _, err = f.db.GetPortalSession(f.ctx, "t1")
	mustOK(t, err)
	if gs.RevokedAt.IsZero() {
		t.Fatal("a revoked session is not marked revoked")
	}
	// A new password ends every session of the login.
	s2 := &switchboard.PortalSession{LoginID: admin.ID, TokenHash: "t2", CSRF: "c2", ExpiresAt: time.Now().Add(time.Hour)}
	mustOK(t, f.db.CreatePortalSession(f.ctx, s2))
	mustOK(t, f.db.SetPortalPassword(f.ctx, f.a.ID, admin.ID, "h3"))
	if gs, _, _ = f.db.GetPortalSession(f.ctx, "t2"); gs.RevokedAt.IsZero() {
		t.Fatal("a password change left a session valid")
	}

	// Deleting the user deletes their login and its sessions.
	mustOK(t, f.db.CreatePortalSession(f.ctx, &switchboard.PortalSession{LoginID: user.ID, TokenHash: "t3", CSRF: "c", ExpiresAt: time.Now().Add(time.Hour)}))
	mustOK(t, errOnly(f.db.DeleteUser(f.ctx, f.a.ID, f.ua.ID)))
	_, err = f.db.GetPortalLogin(f.ctx, user.ID)
	wantCode(t, err, switchboard.ENOTFOUND)
	_, _, err = f.db.GetPortalSession(f.ctx, "t3")
	wantCode(t, err, switchboard.ENOTFOUND)
}
