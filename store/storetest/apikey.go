package storetest

import (
	"fmt"
	"testing"

	"switchboard"
)

func (f *fixture) apiKey(t *testing.T, accountID int64, kind switchboard.APIKeyKind, userID int64) (string, *switchboard.APIKey) {
	t.Helper()
	plain, k := switchboard.NewAPIKey(kind)
	k.AccountID, k.UserID, k.Name = accountID, userID, "key of "+fmt.Sprint(userID)
	mustOK(t, f.db.CreateAPIKey(f.ctx, k))
	return plain, k
}

func testAPIKeys(t *testing.T, f *fixture) {
	plainDev, dev := f.apiKey(t, f.a.ID, switchboard.KeyDeveloper, 0)
	_, user := f.apiKey(t, f.a.ID, switchboard.KeyUser, f.ua.ID)
	restricted := &switchboard.APIKey{AccountID: f.a.ID, Kind: switchboard.KeyDeveloper, Name: "office only",
		Prefix: "v360_dev_abc", Hash: switchboard.HashAPIKey("restricted"), AllowedIPs: []string{"10.0.0.0/8", "192.0.2.7"}}
	mustOK(t, f.db.CreateAPIKey(f.ctx, restricted))
	if dev.ID == 0 || dev.CreatedAt.IsZero() || dev.Revoked() {
		t.Fatalf("created key: %+v", dev)
	}

	got, err := f.db.GetAPIKeyByHash(f.ctx, switchboard.HashAPIKey(plainDev))
	mustOK(t, err)
	if d := diff(dev, got); d != "" {
		t.Fatalf("GetAPIKeyByHash (-want +got):\n%s", d)
	}
	got, err = f.db.GetAPIKeyByHash(f.ctx, restricted.Hash)
	mustOK(t, err)
	if d := diff(restricted, got); d != "" {
		t.Fatalf("GetAPIKeyByHash with allowed IPs (-want +got):\n%s", d)
	}
	_, err = f.db.GetAPIKeyByHash(f.ctx, switchboard.HashAPIKey("a key nobody made"))
	wantCode(t, err, switchboard.ENOTFOUND)
	list, err := f.db.ListAPIKeys(f.ctx, f.a.ID)
	mustOK(t, err)
	if d := diff([]*switchboard.APIKey{dev, user, restricted}, list); d != "" {
		t.Fatalf("ListAPIKeys (-want +got):\n%s", d)
	}

	mustOK(t, f.db.RevokeAPIKey(f.ctx, f.a.ID, dev.ID))
	got, err = f.db.GetAPIKeyByHash(f.ctx, dev.Hash)
	mustOK(t, err)
	if !got.Revoked() {
		t.Fatalf("key after RevokeAPIKey is not revoked: %+v", got)
	}
	firstRevocation := got.RevokedAt
	mustOK(t, f.db.RevokeAPIKey(f.ctx, f.a.ID, dev.ID)) // again: harmless, keeps the first time
	got, err = f.db.GetAPIKeyByHash(f.ctx, dev.Hash)
	mustOK(t, err)
	if !got.RevokedAt.Equal(firstRevocation) {
		t.Fatalf("second revocation moved RevokedAt %v -> %v", firstRevocation, got.RevokedAt)
	}
	got, err = f.db.GetAPIKeyByHash(f.ctx, user.Hash)
	mustOK(t, err)
	if got.Revoked() {
		t.Fatal("revoking one key revoked another")
	}
	wantCode(t, f.db.RevokeAPIKey(f.ctx, f.a.ID, 999999), switchboard.ENOTFOUND)
	wantField(t, f.db.CreateAPIKey(f.ctx, &switchboard.APIKey{AccountID: f.a.ID, Kind: switchboard.KeyDeveloper,
		Hash: dev.Hash}), switchboard.ECONFLICT, "key")
}

func testAPIKeyReferences(t *testing.T, f *fixture) {
	_, kb := f.apiKey(t, f.b.ID, switchboard.KeyDeveloper, 0)
	plain, k := switchboard.NewAPIKey(switchboard.KeyUser)
	k.AccountID, k.UserID = f.a.ID, f.ub.ID
	wantField(t, f.db.CreateAPIKey(f.ctx, k), switchboard.EBADREQUEST, "user_id")
	_, err := f.db.GetAPIKeyByHash(f.ctx, switchboard.HashAPIKey(plain))
	wantCode(t, err, switchboard.ENOTFOUND)
	k.UserID = 0
	wantField(t, f.db.CreateAPIKey(f.ctx, k), switchboard.EBADREQUEST, "user_id")
	k.Kind = "admin"
	wantField(t, f.db.CreateAPIKey(f.ctx, k), switchboard.EBADREQUEST, "kind")

	wantCode(t, f.db.RevokeAPIKey(f.ctx, f.a.ID, kb.ID), switchboard.ENOTFOUND)
	got, err := f.db.GetAPIKeyByHash(f.ctx, kb.Hash)
	mustOK(t, err)
	if got.Revoked() || got.AccountID != f.b.ID {
		t.Fatalf("B's key after A tried to revoke it: %+v", got)
	}
	list, err := f.db.ListAPIKeys(f.ctx, f.a.ID)
	mustOK(t, err)
	if len(list) != 0 {
		t.Fatalf("A lists keys it does not have: %+v", list)
	}
}
