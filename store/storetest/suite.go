package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"switchboard"
	"switchboard/store"
)

// Run is the conformance suite of switchboard.Store: every subtest gets a fresh store from
// open and checks what a user of the store relies on — round trips, NOT_FOUND, conflicts,
// account isolation, references, events stored with their change.
func Run(t *testing.T, open func(t *testing.T) *store.DB) {
	tests := []struct {
		name string
		fn   func(t *testing.T, f *fixture)
	}{
		{"Migrate/Idempotent", testMigrateIdempotent},
		{"Accounts/RoundTrip", testAccounts},
		{"Accounts/ExplicitIDThenAutoIDs", testAccountExplicitID},
		{"Users/RoundTrip", testUsers},
		{"Users/ExtensionConflicts", testUserExtensionConflicts},
		{"Users/Isolation", testUserIsolation},
		{"Users/InvalidWritesNothing", testUserInvalid},
		{"Users/DeleteRemovesWhatIsTheirs", testDeleteUser},
		{"Devices/RoundTrip", testDevices},
		{"Devices/ConflictsAndReferences", testDeviceConflicts},
		{"Devices/Registrations", testRegistrations},
		{"Queues/RoundTrip", testQueues},
		{"Queues/ExtensionsSharedWithUsersAndRingGroups", testSharedExtensions},
		{"Queues/ReferencesAndIsolation", testQueueReferences},
		{"Queues/Members", testQueueMembers},
		{"RingGroups/RoundTrip", testRingGroups},
		{"RingGroups/ReferencesAndIsolation", testRingGroupReferences},
		{"Numbers/RoundTrip", testNumbers},
		{"Numbers/Filter", testNumberFilter},
		{"Numbers/ConflictsAndReferences", testNumberConflicts},
		{"Contacts/RoundTripWithEvents", testContacts},
		{"Contacts/FailedChangesStoreNoEvent", testContactFailures},
		{"APIKeys/LookupAndRevocation", testAPIKeys},
		{"APIKeys/ReferencesAndIsolation", testAPIKeyReferences},
		{"Events/AppendAndList", testEvents},
		{"Events/AppendIsAllOrNothing", testAppendAllOrNothing},
		{"Concurrency/ParallelWriters", testParallelWriters},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newFixture(t, open(t)))
		})
	}
	runWebhookTests(t, open)
	runCallTests(t, open)
	runGroupCallTests(t, open)
}

// fixture is a store with two accounts, A and B, each with one user.
type fixture struct {
	db     *store.DB
	ctx    context.Context
	a, b   *switchboard.Account
	ua, ub *switchboard.User
}

func newFixture(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	f := &fixture{db: db, ctx: context.Background()}
	f.a = &switchboard.Account{Name: "Account A"}
	f.b = &switchboard.Account{Name: "Account B"}
	mustOK(t, db.CreateAccount(f.ctx, f.a))
	mustOK(t, db.CreateAccount(f.ctx, f.b))
	f.ua = f.user(t, f.a.ID, "100")
	f.ub = f.user(t, f.b.ID, "100")
	return f
}

func (f *fixture) user(t *testing.T, accountID int64, extension string) *switchboard.User {
	t.Helper()
	u := &switchboard.User{AccountID: accountID, Extension: extension, FirstName: "User", LastName: extension,
		Email: "u" + extension + "@example.com", TimeZone: "America/New_York", RingTimeSeconds: 30}
	mustOK(t, f.db.CreateUser(f.ctx, u))
	return u
}

func newQueue(accountID int64, extension string) *switchboard.Queue {
	q := &switchboard.Queue{AccountID: accountID, QueueName: "Queue " + extension, Extension: extension, Timeout: 15}
	q.ApplyDefaults()
	return q
}

func (f *fixture) queue(t *testing.T, accountID int64, extension string) *switchboard.Queue {
	t.Helper()
	q := newQueue(accountID, extension)
	mustOK(t, f.db.CreateQueue(f.ctx, q))
	return q
}

func newRingGroup(accountID int64, extension string, members ...int64) *switchboard.RingGroup {
	g := &switchboard.RingGroup{AccountID: accountID, Name: "Group " + extension, Extension: extension,
		Strategy: switchboard.RingSimultaneous, RingTime: 20}
	for _, id := range members {
		g.Members = append(g.Members, switchboard.RingGroupMember{UserID: id})
	}
	return g
}

func (f *fixture) ringGroup(t *testing.T, accountID int64, extension string, members ...int64) *switchboard.RingGroup {
	t.Helper()
	g := newRingGroup(accountID, extension, members...)
	mustOK(t, f.db.CreateRingGroup(f.ctx, g))
	return g
}

func newNumber(accountID int64, e164 string) *switchboard.Number {
	return &switchboard.Number{AccountID: accountID, Number: e164, FriendlyName: "Main " + e164, Status: "active"}
}

func (f *fixture) number(t *testing.T, n *switchboard.Number) *switchboard.Number {
	t.Helper()
	mustOK(t, f.db.CreateNumber(f.ctx, n))
	return n
}

func newDevice(accountID, userID int64, username string) *switchboard.Device {
	d := &switchboard.Device{AccountID: accountID, UserID: userID, Name: "Desk " + username, SIPUsername: username}
	d.SetSIPPassword("secret-" + username)
	return d
}

func (f *fixture) device(t *testing.T, accountID, userID int64, username string) *switchboard.Device {
	t.Helper()
	d := newDevice(accountID, userID, username)
	mustOK(t, f.db.CreateDevice(f.ctx, d))
	return d
}

func (f *fixture) apiKey(t *testing.T, accountID int64, kind switchboard.APIKeyKind, userID int64) (string, *switchboard.APIKey) {
	t.Helper()
	plain, k := switchboard.NewAPIKey(kind)
	k.AccountID, k.UserID, k.Name = accountID, userID, "key of "+fmt.Sprint(userID)
	mustOK(t, f.db.CreateAPIKey(f.ctx, k))
	return plain, k
}

// events returns every event of the account.
func (f *fixture) events(t *testing.T, accountID int64) []*switchboard.Event {
	t.Helper()
	evs, err := f.db.ListEvents(f.ctx, accountID, 0, 1000)
	mustOK(t, err)
	return evs
}

func mustOK(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantCode fails unless err carries the error code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := switchboard.ErrorCode(err); got != code {
		t.Fatalf("error code = %q, want %q (err: %v)", got, code, err)
	}
}

// wantField fails unless err is an *Error with the code whose Details name the field.
func wantField(t *testing.T, err error, code, field string) {
	t.Helper()
	wantCode(t, err, code)
	e := err.(*switchboard.Error)
	if _, ok := e.Details[field]; !ok {
		t.Fatalf("error details = %v, want the field %q named (err: %v)", e.Details, field, err)
	}
}

// diff compares what the store returned with what was written; nil and empty lists are
// equal (the store returns empty lists).
func diff(want, got any) string { return cmp.Diff(want, got, cmpopts.EquateEmpty()) }

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

func testUsers(t *testing.T, f *fixture) {
	u2 := f.user(t, f.a.ID, "10") // created after "100" but listed before it: users are listed by extension
	got, err := f.db.GetUser(f.ctx, f.a.ID, f.ua.ID)
	mustOK(t, err)
	if d := diff(f.ua, got); d != "" {
		t.Fatalf("GetUser (-want +got):\n%s", d)
	}
	got, err = f.db.GetUserByExtension(f.ctx, f.a.ID, "10")
	mustOK(t, err)
	if d := diff(u2, got); d != "" {
		t.Fatalf("GetUserByExtension (-want +got):\n%s", d)
	}
	list, err := f.db.ListUsers(f.ctx, f.a.ID)
	mustOK(t, err)
	if d := diff([]*switchboard.User{u2, f.ua}, list); d != "" {
		t.Fatalf("ListUsers (-want +got):\n%s", d)
	}

	upd := *f.ua
	upd.Extension, upd.FirstName, upd.CallerIDName = "101", "Ann", "Sales Ann"
	upd.VoicemailEnabled, upd.ForwardEnabled, upd.ForwardNumber, upd.RingTimeSeconds = true, true, "+15551230000", 45
	mustOK(t, f.db.UpdateUser(f.ctx, &upd))
	got, err = f.db.GetUser(f.ctx, f.a.ID, f.ua.ID)
	mustOK(t, err)
	if d := diff(&upd, got); d != "" {
		t.Fatalf("after UpdateUser (-want +got):\n%s", d)
	}
	if !got.CreatedAt.Equal(f.ua.CreatedAt) {
		t.Fatalf("UpdateUser changed CreatedAt: %v -> %v", f.ua.CreatedAt, got.CreatedAt)
	}
	// The old extension is free again, the new one is taken.
	f.user(t, f.a.ID, "100")
	wantField(t, f.db.CreateUser(f.ctx, &switchboard.User{AccountID: f.a.ID, Extension: "101"}), switchboard.ECONFLICT, "presence_id")

	_, err = f.db.GetUserByExtension(f.ctx, f.a.ID, "999")
	wantCode(t, err, switchboard.ENOTFOUND)
	wantCode(t, f.db.DeleteUser(f.ctx, f.a.ID, u2.ID), "")
	_, err = f.db.GetUser(f.ctx, f.a.ID, u2.ID)
	wantCode(t, err, switchboard.ENOTFOUND)
	wantCode(t, f.db.DeleteUser(f.ctx, f.a.ID, u2.ID), switchboard.ENOTFOUND)
}

func testUserExtensionConflicts(t *testing.T, f *fixture) {
	err := f.db.CreateUser(f.ctx, &switchboard.User{AccountID: f.a.ID, Extension: "100"})
	wantField(t, err, switchboard.ECONFLICT, "presence_id")
	u2 := f.user(t, f.a.ID, "200")
	upd := *u2
	upd.Extension = "100"
	wantField(t, f.db.UpdateUser(f.ctx, &upd), switchboard.ECONFLICT, "presence_id")
	got, err := f.db.GetUser(f.ctx, f.a.ID, u2.ID)
	mustOK(t, err)
	if got.Extension != "200" {
		t.Fatalf("failed update changed the extension to %q", got.Extension)
	}
	// Account B has its own 100 already (the fixture): extensions are per account.
	if f.ub.Extension != f.ua.Extension {
		t.Fatal("fixture should give both accounts extension 100")
	}
}

func testUserIsolation(t *testing.T, f *fixture) {
	before, err := f.db.GetUser(f.ctx, f.b.ID, f.ub.ID)
	mustOK(t, err)
	_, err = f.db.GetUser(f.ctx, f.a.ID, f.ub.ID)
	wantCode(t, err, switchboard.ENOTFOUND)
	hijack := *f.ub
	hijack.AccountID, hijack.FirstName = f.a.ID, "Hijacked"
	hijack.Extension = "555"
	wantCode(t, f.db.UpdateUser(f.ctx, &hijack), switchboard.ENOTFOUND)
	wantCode(t, f.db.DeleteUser(f.ctx, f.a.ID, f.ub.ID), switchboard.ENOTFOUND)
	list, err := f.db.ListUsers(f.ctx, f.a.ID)
	mustOK(t, err)
	if d := diff([]*switchboard.User{f.ua}, list); d != "" {
		t.Fatalf("ListUsers of A (-want +got):\n%s", d)
	}
	after, err := f.db.GetUser(f.ctx, f.b.ID, f.ub.ID)
	mustOK(t, err)
	if d := diff(before, after); d != "" {
		t.Fatalf("B's user changed through A (-before +after):\n%s", d)
	}
	// The hijack's extension was not claimed in A either.
	f.user(t, f.a.ID, "555")
}

func testUserInvalid(t *testing.T, f *fixture) {
	bad := &switchboard.User{AccountID: f.a.ID, Extension: "1", Email: "not an email"}
	wantField(t, f.db.CreateUser(f.ctx, bad), switchboard.EBADREQUEST, "presence_id")
	upd := *f.ua
	upd.Extension, upd.TimeZone = "300", "Mars/Olympus"
	wantField(t, f.db.UpdateUser(f.ctx, &upd), switchboard.EBADREQUEST, "time_zone")
	list, err := f.db.ListUsers(f.ctx, f.a.ID)
	mustOK(t, err)
	if d := diff([]*switchboard.User{f.ua}, list); d != "" {
		t.Fatalf("users after rejected writes (-want +got):\n%s", d)
	}
	f.user(t, f.a.ID, "300") // the rejected update did not take it
	wantCode(t, f.db.CreateUser(f.ctx, &switchboard.User{AccountID: 999999, Extension: "100"}), switchboard.ENOTFOUND)
}

func testDeleteUser(t *testing.T, f *fixture) {
	keep := f.user(t, f.a.ID, "101")
	f.device(t, f.a.ID, f.ua.ID, "gone-phone")
	keptDevice := f.device(t, f.a.ID, keep.ID, "kept-phone")
	_, goneKey := f.apiKey(t, f.a.ID, switchboard.KeyUser, f.ua.ID)
	_, keptKey := f.apiKey(t, f.a.ID, switchboard.KeyUser, keep.ID)
	q := f.queue(t, f.a.ID, "500")
	q.Overflow = switchboard.Target{Type: switchboard.TargetUser, ID: f.ua.ID}
	mustOK(t, f.db.UpdateQueue(f.ctx, q))
	mustOK(t, f.db.SetQueueMember(f.ctx, f.a.ID, switchboard.QueueMember{QueueID: q.ID, UserID: f.ua.ID}))
	mustOK(t, f.db.SetQueueMember(f.ctx, f.a.ID, switchboard.QueueMember{QueueID: q.ID, UserID: keep.ID, Penalty: 2}))
	g := f.ringGroup(t, f.a.ID, "600", keep.ID, f.ua.ID)
	n := newNumber(f.a.ID, "+15551110001")
	n.OwnerUserID, n.SMSAssignedUserID = f.ua.ID, f.ua.ID
	n.Target = switchboard.Target{Type: switchboard.TargetUser, ID: f.ua.ID}
	f.number(t, n)
	kept := newNumber(f.a.ID, "+15551110002")
	kept.OwnerUserID, kept.Target = keep.ID, switchboard.Target{Type: switchboard.TargetUser, ID: keep.ID}
	f.number(t, kept)

	mustOK(t, f.db.DeleteUser(f.ctx, f.a.ID, f.ua.ID))

	devices, err := f.db.ListDevices(f.ctx, f.a.ID, 0)
	mustOK(t, err)
	if d := diff([]*switchboard.Device{keptDevice}, devices); d != "" {
		t.Fatalf("devices after DeleteUser (-want +got):\n%s", d)
	}
	keys, err := f.db.ListAPIKeys(f.ctx, f.a.ID)
	mustOK(t, err)
	if d := diff([]*switchboard.APIKey{keptKey}, keys); d != "" {
		t.Fatalf("API keys after DeleteUser (-want +got):\n%s", d)
	}
	_, err = f.db.GetAPIKeyByHash(f.ctx, goneKey.Hash)
	wantCode(t, err, switchboard.ENOTFOUND)
	members, err := f.db.ListQueueMembers(f.ctx, f.a.ID, q.ID)
	mustOK(t, err)
	if d := diff([]switchboard.QueueMember{{QueueID: q.ID, UserID: keep.ID, Penalty: 2}}, members); d != "" {
		t.Fatalf("queue members after DeleteUser (-want +got):\n%s", d)
	}
	gotQ, err := f.db.GetQueue(f.ctx, f.a.ID, q.ID)
	mustOK(t, err)
	if gotQ.Overflow != (switchboard.Target{}) {
		t.Fatalf("queue overflow still leads to the deleted user: %+v", gotQ.Overflow)
	}
	gotG, err := f.db.GetRingGroup(f.ctx, f.a.ID, g.ID)
	mustOK(t, err)
	if d := diff([]switchboard.RingGroupMember{{UserID: keep.ID}}, gotG.Members); d != "" {
		t.Fatalf("ring group members after DeleteUser (-want +got):\n%s", d)
	}
	gotN, err := f.db.GetNumber(f.ctx, f.a.ID, n.ID)
	mustOK(t, err)
	if gotN.OwnerUserID != 0 || gotN.SMSAssignedUserID != 0 || gotN.Target != (switchboard.Target{}) {
		t.Fatalf("number still refers to the deleted user: %+v", gotN)
	}
	gotKept, err := f.db.GetNumber(f.ctx, f.a.ID, kept.ID)
	mustOK(t, err)
	if d := diff(kept, gotKept); d != "" {
		t.Fatalf("another user's number changed (-want +got):\n%s", d)
	}
	f.user(t, f.a.ID, "100") // the extension is free again
	if _, err := f.db.GetUser(f.ctx, f.b.ID, f.ub.ID); err != nil {
		t.Fatalf("B's user with the same extension: %v", err)
	}
}

func testDevices(t *testing.T, f *fixture) {
	u2 := f.user(t, f.a.ID, "101")
	d1 := f.device(t, f.a.ID, f.ua.ID, "alice-desk")
	d2 := f.device(t, f.a.ID, u2.ID, "bob-desk")
	d3 := f.device(t, f.a.ID, f.ua.ID, "alice-soft")
	if d1.ID == 0 || d1.CreatedAt.IsZero() {
		t.Fatalf("created device: %+v", d1)
	}
	got, err := f.db.GetDevice(f.ctx, f.a.ID, d1.ID)
	mustOK(t, err)
	if d := diff(d1, got); d != "" {
		t.Fatalf("GetDevice (-want +got):\n%s", d)
	}
	got, err = f.db.GetDeviceBySIPUsername(f.ctx, "bob-desk")
	mustOK(t, err)
	if d := diff(d2, got); d != "" {
		t.Fatalf("GetDeviceBySIPUsername (-want +got):\n%s", d)
	}
	_, err = f.db.GetDeviceBySIPUsername(f.ctx, "nobody")
	wantCode(t, err, switchboard.ENOTFOUND)
	all, err := f.db.ListDevices(f.ctx, f.a.ID, 0)
	mustOK(t, err)
	if d := diff([]*switchboard.Device{d1, d2, d3}, all); d != "" {
		t.Fatalf("ListDevices all (-want +got):\n%s", d)
	}
	mine, err := f.db.ListDevices(f.ctx, f.a.ID, f.ua.ID)
	mustOK(t, err)
	if d := diff([]*switchboard.Device{d1, d3}, mine); d != "" {
		t.Fatalf("ListDevices of a user (-want +got):\n%s", d)
	}

	upd := *d1
	upd.UserID, upd.Name, upd.SIPUsername = u2.ID, "Moved", "bob-second"
	upd.SetSIPPassword("new password")
	mustOK(t, f.db.UpdateDevice(f.ctx, &upd))
	got, err = f.db.GetDevice(f.ctx, f.a.ID, d1.ID)
	mustOK(t, err)
	if d := diff(&upd, got); d != "" {
		t.Fatalf("after UpdateDevice (-want +got):\n%s", d)
	}

	mustOK(t, f.db.DeleteDevice(f.ctx, f.a.ID, d1.ID))
	_, err = f.db.GetDevice(f.ctx, f.a.ID, d1.ID)
	wantCode(t, err, switchboard.ENOTFOUND)
	wantCode(t, f.db.DeleteDevice(f.ctx, f.a.ID, d1.ID), switchboard.ENOTFOUND)
	f.device(t, f.a.ID, f.ua.ID, "alice-desk") // a deleted device's username is free again
}

func testDeviceConflicts(t *testing.T, f *fixture) {
	da := f.device(t, f.a.ID, f.ua.ID, "shared-name")
	db := f.device(t, f.b.ID, f.ub.ID, "b-phone")
	// SIP usernames are global: B cannot take A's.
	wantField(t, f.db.CreateDevice(f.ctx, newDevice(f.b.ID, f.ub.ID, "shared-name")), switchboard.ECONFLICT, "sip_username")
	upd := *db
	upd.SIPUsername = "shared-name"
	wantField(t, f.db.UpdateDevice(f.ctx, &upd), switchboard.ECONFLICT, "sip_username")
	// A device of A cannot belong to B's user.
	wantField(t, f.db.CreateDevice(f.ctx, newDevice(f.a.ID, f.ub.ID, "cross-phone")), switchboard.EBADREQUEST, "user_id")
	move := *da
	move.UserID = f.ub.ID
	wantField(t, f.db.UpdateDevice(f.ctx, &move), switchboard.EBADREQUEST, "user_id")
	// B's device through A is not found and stays as it was.
	_, err := f.db.GetDevice(f.ctx, f.a.ID, db.ID)
	wantCode(t, err, switchboard.ENOTFOUND)
	hijack := *db
	hijack.AccountID, hijack.UserID, hijack.Name = f.a.ID, f.ua.ID, "Hijacked"
	wantCode(t, f.db.UpdateDevice(f.ctx, &hijack), switchboard.ENOTFOUND)
	wantCode(t, f.db.DeleteDevice(f.ctx, f.a.ID, db.ID), switchboard.ENOTFOUND)
	got, err := f.db.GetDevice(f.ctx, f.b.ID, db.ID)
	mustOK(t, err)
	if d := diff(db, got); d != "" {
		t.Fatalf("B's device changed through A (-want +got):\n%s", d)
	}
	listA, err := f.db.ListDevices(f.ctx, f.a.ID, f.ub.ID)
	mustOK(t, err)
	if len(listA) != 0 {
		t.Fatalf("ListDevices of A for B's user = %+v, want none", listA)
	}
	wantCode(t, f.db.CreateDevice(f.ctx, &switchboard.Device{AccountID: f.a.ID, UserID: f.ua.ID, SIPUsername: "x"}),
		switchboard.EBADREQUEST)
}

func testQueues(t *testing.T, f *fixture) {
	u2 := f.user(t, f.a.ID, "101")
	q := &switchboard.Queue{AccountID: f.a.ID, QueueName: "Sales Queue", Extension: "500",
		Strategy: switchboard.StrategyRRMemory, MusicOnHold: "jazz", Timeout: 20, Retry: 5, WrapUpTime: 10,
		MaxLen: 7, JoinEmpty: "strict", LeaveWhenEmpty: "loose", RingInUse: "yes", MaxWait: 300, ServiceLevel: 30,
		Overflow: switchboard.Target{Type: switchboard.TargetUser, ID: u2.ID}}
	mustOK(t, f.db.CreateQueue(f.ctx, q))
	q2 := f.queue(t, f.a.ID, "501")
	got, err := f.db.GetQueue(f.ctx, f.a.ID, q.ID)
	mustOK(t, err)
	if d := diff(q, got); d != "" {
		t.Fatalf("GetQueue (-want +got):\n%s", d)
	}
	list, err := f.db.ListQueues(f.ctx, f.a.ID)
	mustOK(t, err)
	if d := diff([]*switchboard.Queue{q, q2}, list); d != "" {
		t.Fatalf("ListQueues (-want +got):\n%s", d)
	}

	upd := *q
	upd.QueueName, upd.Extension, upd.Strategy, upd.Timeout = "Support", "502", switchboard.StrategyLinear, 25
	upd.Overflow = switchboard.Target{Type: switchboard.TargetExternal, Number: "+15559990000"}
	mustOK(t, f.db.UpdateQueue(f.ctx, &upd))
	got, err = f.db.GetQueue(f.ctx, f.a.ID, q.ID)
	mustOK(t, err)
	if d := diff(&upd, got); d != "" {
		t.Fatalf("after UpdateQueue (-want +got):\n%s", d)
	}
	f.queue(t, f.a.ID, "500") // the old extension is free

	n := newNumber(f.a.ID, "+15552220000")
	n.Target = switchboard.Target{Type: switchboard.TargetQueue, ID: q.ID}
	f.number(t, n)
	mustOK(t, f.db.SetQueueMember(f.ctx, f.a.ID, switchboard.QueueMember{QueueID: q.ID, UserID: f.ua.ID}))
	mustOK(t, f.db.DeleteQueue(f.ctx, f.a.ID, q.ID))
	_, err = f.db.GetQueue(f.ctx, f.a.ID, q.ID)
	wantCode(t, err, switchboard.ENOTFOUND)
	_, err = f.db.ListQueueMembers(f.ctx, f.a.ID, q.ID)
	wantCode(t, err, switchboard.ENOTFOUND)
	wantCode(t, f.db.DeleteQueue(f.ctx, f.a.ID, q.ID), switchboard.ENOTFOUND)
	gotN, err := f.db.GetNumber(f.ctx, f.a.ID, n.ID)
	mustOK(t, err)
	if gotN.Target != (switchboard.Target{}) {
		t.Fatalf("number still routes to the deleted queue: %+v", gotN.Target)
	}
	f.queue(t, f.a.ID, "502") // the deleted queue's extension is free
}

func testSharedExtensions(t *testing.T, f *fixture) {
	// A queue may not take a user's extension, nor a ring group a queue's, and so on.
	wantField(t, f.db.CreateQueue(f.ctx, newQueue(f.a.ID, "100")), switchboard.ECONFLICT, "extension")
	wantField(t, f.db.CreateRingGroup(f.ctx, newRingGroup(f.a.ID, "100")), switchboard.ECONFLICT, "extension")
	q := f.queue(t, f.a.ID, "500")
	g := f.ringGroup(t, f.a.ID, "600")
	wantField(t, f.db.CreateUser(f.ctx, &switchboard.User{AccountID: f.a.ID, Extension: "500"}), switchboard.ECONFLICT, "presence_id")
	wantField(t, f.db.CreateRingGroup(f.ctx, newRingGroup(f.a.ID, "500")), switchboard.ECONFLICT, "extension")
	wantField(t, f.db.CreateQueue(f.ctx, newQueue(f.a.ID, "600")), switchboard.ECONFLICT, "extension")
	updQ := *q
	updQ.Extension = "600"
	wantField(t, f.db.UpdateQueue(f.ctx, &updQ), switchboard.ECONFLICT, "extension")
	updG := *g
	updG.Extension = "100"
	wantField(t, f.db.UpdateRingGroup(f.ctx, &updG), switchboard.ECONFLICT, "extension")
	updU := *f.ua
	updU.Extension = "600"
	wantField(t, f.db.UpdateUser(f.ctx, &updU), switchboard.ECONFLICT, "presence_id")
	// Nothing of the refused writes stayed.
	queues, err := f.db.ListQueues(f.ctx, f.a.ID)
	mustOK(t, err)
	if d := diff([]*switchboard.Queue{q}, queues); d != "" {
		t.Fatalf("queues after refused writes (-want +got):\n%s", d)
	}
	groups, err := f.db.ListRingGroups(f.ctx, f.a.ID)
	mustOK(t, err)
	if d := diff([]*switchboard.RingGroup{g}, groups); d != "" {
		t.Fatalf("ring groups after refused writes (-want +got):\n%s", d)
	}
	// Another account may use them all.
	f.queue(t, f.b.ID, "600")
	f.ringGroup(t, f.b.ID, "500")
}

func testQueueReferences(t *testing.T, f *fixture) {
	qb := f.queue(t, f.b.ID, "500")
	gb := f.ringGroup(t, f.b.ID, "600")
	for _, target := range []switchboard.Target{
		{Type: switchboard.TargetUser, ID: f.ub.ID},
		{Type: switchboard.TargetQueue, ID: qb.ID},
		{Type: switchboard.TargetRingGroup, ID: gb.ID},
	} {
		q := newQueue(f.a.ID, "700")
		q.Overflow = target
		wantField(t, f.db.CreateQueue(f.ctx, q), switchboard.EBADREQUEST, "overflow")
	}
	qa := f.queue(t, f.a.ID, "700")
	qa.Overflow = switchboard.Target{Type: switchboard.TargetQueue, ID: qb.ID}
	wantField(t, f.db.UpdateQueue(f.ctx, qa), switchboard.EBADREQUEST, "overflow")

	_, err := f.db.GetQueue(f.ctx, f.a.ID, qb.ID)
	wantCode(t, err, switchboard.ENOTFOUND)
	hijack := *qb
	hijack.AccountID, hijack.QueueName, hijack.Extension = f.a.ID, "Hijacked", "701"
	wantCode(t, f.db.UpdateQueue(f.ctx, &hijack), switchboard.ENOTFOUND)
	wantCode(t, f.db.DeleteQueue(f.ctx, f.a.ID, qb.ID), switchboard.ENOTFOUND)
	got, err := f.db.GetQueue(f.ctx, f.b.ID, qb.ID)
	mustOK(t, err)
	if d := diff(qb, got); d != "" {
		t.Fatalf("B's queue changed through A (-want +got):\n%s", d)
	}
	bad := newQueue(f.a.ID, "702")
	bad.Strategy = "loudest"
	wantField(t, f.db.CreateQueue(f.ctx, bad), switchboard.EBADREQUEST, "strategy")
}

func testQueueMembers(t *testing.T, f *fixture) {
	q := f.queue(t, f.a.ID, "500")
	u2 := f.user(t, f.a.ID, "101")
	mustOK(t, f.db.SetQueueMember(f.ctx, f.a.ID, switchboard.QueueMember{QueueID: q.ID, UserID: u2.ID, Penalty: 3}))
	mustOK(t, f.db.SetQueueMember(f.ctx, f.a.ID, switchboard.QueueMember{QueueID: q.ID, UserID: f.ua.ID, Paused: true}))
	want := []switchboard.QueueMember{
		{QueueID: q.ID, UserID: f.ua.ID, Paused: true},
		{QueueID: q.ID, UserID: u2.ID, Penalty: 3},
	}
	if f.ua.ID > u2.ID {
		want[0], want[1] = want[1], want[0]
	}
	members, err := f.db.ListQueueMembers(f.ctx, f.a.ID, q.ID)
	mustOK(t, err)
	if d := diff(want, members); d != "" {
		t.Fatalf("ListQueueMembers (-want +got):\n%s", d)
	}
	// Setting again updates penalty and paused instead of adding.
	mustOK(t, f.db.SetQueueMember(f.ctx, f.a.ID, switchboard.QueueMember{QueueID: q.ID, UserID: u2.ID, Penalty: 1, Paused: true}))
	mustOK(t, f.db.RemoveQueueMember(f.ctx, f.a.ID, q.ID, f.ua.ID))
	members, err = f.db.ListQueueMembers(f.ctx, f.a.ID, q.ID)
	mustOK(t, err)
	if d := diff([]switchboard.QueueMember{{QueueID: q.ID, UserID: u2.ID, Penalty: 1, Paused: true}}, members); d != "" {
		t.Fatalf("members after update and removal (-want +got):\n%s", d)
	}
	wantCode(t, f.db.RemoveQueueMember(f.ctx, f.a.ID, q.ID, f.ua.ID), switchboard.ENOTFOUND)

	// B's user cannot join A's queue; A cannot touch B's queue.
	wantField(t, f.db.SetQueueMember(f.ctx, f.a.ID, switchboard.QueueMember{QueueID: q.ID, UserID: f.ub.ID}),
		switchboard.EBADREQUEST, "user_id")
	qb := f.queue(t, f.b.ID, "500")
	mustOK(t, f.db.SetQueueMember(f.ctx, f.b.ID, switchboard.QueueMember{QueueID: qb.ID, UserID: f.ub.ID, Penalty: 4}))
	wantCode(t, f.db.SetQueueMember(f.ctx, f.a.ID, switchboard.QueueMember{QueueID: qb.ID, UserID: f.ua.ID}), switchboard.ENOTFOUND)
	wantCode(t, f.db.RemoveQueueMember(f.ctx, f.a.ID, qb.ID, f.ub.ID), switchboard.ENOTFOUND)
	_, err = f.db.ListQueueMembers(f.ctx, f.a.ID, qb.ID)
	wantCode(t, err, switchboard.ENOTFOUND)
	membersB, err := f.db.ListQueueMembers(f.ctx, f.b.ID, qb.ID)
	mustOK(t, err)
	if d := diff([]switchboard.QueueMember{{QueueID: qb.ID, UserID: f.ub.ID, Penalty: 4}}, membersB); d != "" {
		t.Fatalf("B's members (-want +got):\n%s", d)
	}
	wantField(t, f.db.SetQueueMember(f.ctx, f.a.ID, switchboard.QueueMember{QueueID: q.ID, UserID: u2.ID, Penalty: -1}),
		switchboard.EBADREQUEST, "penalty")
}

func testRingGroups(t *testing.T, f *fixture) {
	u2 := f.user(t, f.a.ID, "101")
	u3 := f.user(t, f.a.ID, "102")
	// Members keep the order given, not the order of their ids.
	g := &switchboard.RingGroup{AccountID: f.a.ID, Name: "Front desk", Extension: "600",
		Strategy: switchboard.RingSequential, RingTime: 25,
		Members:  []switchboard.RingGroupMember{{UserID: u3.ID, RingTime: 10}, {UserID: f.ua.ID}, {UserID: u2.ID, RingTime: 5}},
		Fallback: switchboard.Target{Type: switchboard.TargetUser, ID: u2.ID}}
	mustOK(t, f.db.CreateRingGroup(f.ctx, g))
	empty := f.ringGroup(t, f.a.ID, "601")
	got, err := f.db.GetRingGroup(f.ctx, f.a.ID, g.ID)
	mustOK(t, err)
	if d := diff(g, got); d != "" {
		t.Fatalf("GetRingGroup (-want +got):\n%s", d)
	}
	list, err := f.db.ListRingGroups(f.ctx, f.a.ID)
	mustOK(t, err)
	if d := diff([]*switchboard.RingGroup{g, empty}, list); d != "" {
		t.Fatalf("ListRingGroups (-want +got):\n%s", d)
	}

	upd := *g
	upd.Name, upd.Extension, upd.Strategy, upd.RingTime = "Reception", "602", switchboard.RingSimultaneous, 30
	upd.Members = []switchboard.RingGroupMember{{UserID: u2.ID}, {UserID: u3.ID, RingTime: 7}}
	upd.Fallback = switchboard.Target{Type: switchboard.TargetHangup}
	mustOK(t, f.db.UpdateRingGroup(f.ctx, &upd))
	got, err = f.db.GetRingGroup(f.ctx, f.a.ID, g.ID)
	mustOK(t, err)
	if d := diff(&upd, got); d != "" {
		t.Fatalf("after UpdateRingGroup (-want +got):\n%s", d)
	}
	f.ringGroup(t, f.a.ID, "600") // the old extension is free

	q := f.queue(t, f.a.ID, "500")
	q.Overflow = switchboard.Target{Type: switchboard.TargetRingGroup, ID: g.ID}
	mustOK(t, f.db.UpdateQueue(f.ctx, q))
	mustOK(t, f.db.DeleteRingGroup(f.ctx, f.a.ID, g.ID))
	_, err = f.db.GetRingGroup(f.ctx, f.a.ID, g.ID)
	wantCode(t, err, switchboard.ENOTFOUND)
	wantCode(t, f.db.DeleteRingGroup(f.ctx, f.a.ID, g.ID), switchboard.ENOTFOUND)
	gotQ, err := f.db.GetQueue(f.ctx, f.a.ID, q.ID)
	mustOK(t, err)
	if gotQ.Overflow != (switchboard.Target{}) {
		t.Fatalf("queue overflow still leads to the deleted ring group: %+v", gotQ.Overflow)
	}
}

func testRingGroupReferences(t *testing.T, f *fixture) {
	g := f.ringGroup(t, f.a.ID, "600", f.ua.ID)
	// A member from B is refused, and the refused write leaves the group as it was.
	wantField(t, f.db.CreateRingGroup(f.ctx, newRingGroup(f.a.ID, "601", f.ua.ID, f.ub.ID)), switchboard.EBADREQUEST, "members")
	upd := *g
	upd.Name = "Changed"
	upd.Members = []switchboard.RingGroupMember{{UserID: f.ub.ID}}
	wantField(t, f.db.UpdateRingGroup(f.ctx, &upd), switchboard.EBADREQUEST, "members")
	fb := *g
	fb.Fallback = switchboard.Target{Type: switchboard.TargetUser, ID: f.ub.ID}
	wantField(t, f.db.UpdateRingGroup(f.ctx, &fb), switchboard.EBADREQUEST, "fallback")
	list, err := f.db.ListRingGroups(f.ctx, f.a.ID)
	mustOK(t, err)
	if d := diff([]*switchboard.RingGroup{g}, list); d != "" {
		t.Fatalf("ring groups after refused writes (-want +got):\n%s", d)
	}
	dup := newRingGroup(f.a.ID, "602", f.ua.ID, f.ua.ID)
	wantField(t, f.db.CreateRingGroup(f.ctx, dup), switchboard.EBADREQUEST, "members")

	gb := f.ringGroup(t, f.b.ID, "600", f.ub.ID)
	_, err = f.db.GetRingGroup(f.ctx, f.a.ID, gb.ID)
	wantCode(t, err, switchboard.ENOTFOUND)
	hijack := *gb
	hijack.AccountID, hijack.Extension, hijack.Members = f.a.ID, "603", nil
	wantCode(t, f.db.UpdateRingGroup(f.ctx, &hijack), switchboard.ENOTFOUND)
	wantCode(t, f.db.DeleteRingGroup(f.ctx, f.a.ID, gb.ID), switchboard.ENOTFOUND)
	got, err := f.db.GetRingGroup(f.ctx, f.b.ID, gb.ID)
	mustOK(t, err)
	if d := diff(gb, got); d != "" {
		t.Fatalf("B's ring group changed through A (-want +got):\n%s", d)
	}
}

func testNumbers(t *testing.T, f *fixture) {
	q := f.queue(t, f.a.ID, "500")
	n := &switchboard.Number{AccountID: f.a.ID, Number: "+15551234567", FriendlyName: "Main line", SMSEnabled: true,
		MMSEnabled: true, OwnerUserID: f.ua.ID, SMSAssignedUserID: f.ua.ID, Status: "porting", AIAgentID: "agent-7",
		Target: switchboard.Target{Type: switchboard.TargetQueue, ID: q.ID}}
	f.number(t, n)
	n2 := f.number(t, newNumber(f.a.ID, "+15551234568"))
	got, err := f.db.GetNumber(f.ctx, f.a.ID, n.ID)
	mustOK(t, err)
	if d := diff(n, got); d != "" {
		t.Fatalf("GetNumber (-want +got):\n%s", d)
	}
	got, err = f.db.GetNumberByE164(f.ctx, "+15551234568")
	mustOK(t, err)
	if d := diff(n2, got); d != "" {
		t.Fatalf("GetNumberByE164 (-want +got):\n%s", d)
	}
	_, err = f.db.GetNumberByE164(f.ctx, "+15550000000")
	wantCode(t, err, switchboard.ENOTFOUND)

	upd := *n
	upd.FriendlyName, upd.MMSEnabled, upd.OwnerUserID, upd.SMSAssignedUserID = "Renamed", false, 0, 0
	upd.Status, upd.AIAgentID = "active", ""
	upd.Target = switchboard.Target{Type: switchboard.TargetExternal, Number: "+442071234567"}
	mustOK(t, f.db.UpdateNumber(f.ctx, &upd))
	got, err = f.db.GetNumber(f.ctx, f.a.ID, n.ID)
	mustOK(t, err)
	if d := diff(&upd, got); d != "" {
		t.Fatalf("after UpdateNumber (-want +got):\n%s", d)
	}
	mustOK(t, f.db.DeleteNumber(f.ctx, f.a.ID, n.ID))
	_, err = f.db.GetNumber(f.ctx, f.a.ID, n.ID)
	wantCode(t, err, switchboard.ENOTFOUND)
	wantCode(t, f.db.DeleteNumber(f.ctx, f.a.ID, n.ID), switchboard.ENOTFOUND)
	f.number(t, newNumber(f.b.ID, "+15551234567")) // a deleted number can be had again, by anyone
}

func testNumberFilter(t *testing.T, f *fixture) {
	u2 := f.user(t, f.a.ID, "101")
	owned := newNumber(f.a.ID, "+15550000001")
	owned.OwnerUserID = f.ua.ID
	f.number(t, owned)
	smsOnly := newNumber(f.a.ID, "+15550000002")
	smsOnly.SMSEnabled, smsOnly.SMSAssignedUserID, smsOnly.Status = true, f.ua.ID, "inactive"
	f.number(t, smsOnly)
	other := newNumber(f.a.ID, "+15550000003")
	other.OwnerUserID, other.SMSAssignedUserID, other.AIAgentID = u2.ID, u2.ID, "agent-1"
	f.number(t, other)
	f.number(t, newNumber(f.b.ID, "+15550000004"))

	for _, tc := range []struct {
		name   string
		filter switchboard.NumberFilter
		want   []*switchboard.Number
	}{
		{"all", switchboard.NumberFilter{}, []*switchboard.Number{owned, smsOnly, other}},
		{"number", switchboard.NumberFilter{Number: "+15550000002"}, []*switchboard.Number{smsOnly}},
		{"B's number", switchboard.NumberFilter{Number: "+15550000004"}, nil},
		{"owner", switchboard.NumberFilter{OwnerUserID: f.ua.ID}, []*switchboard.Number{owned}},
		{"status", switchboard.NumberFilter{Status: "inactive"}, []*switchboard.Number{smsOnly}},
		{"sms assigned", switchboard.NumberFilter{SMSAssignedUserID: f.ua.ID}, []*switchboard.Number{smsOnly}},
		{"ai agent", switchboard.NumberFilter{AIAgentID: "agent-1"}, []*switchboard.Number{other}},
		{"assigned to", switchboard.NumberFilter{AssignedToUserID: f.ua.ID}, []*switchboard.Number{owned, smsOnly}},
		{"assigned to and status", switchboard.NumberFilter{AssignedToUserID: f.ua.ID, Status: "active"}, []*switchboard.Number{owned}},
		{"owner and ai agent", switchboard.NumberFilter{OwnerUserID: f.ua.ID, AIAgentID: "agent-1"}, nil},
	} {
		got, err := f.db.ListNumbers(f.ctx, f.a.ID, tc.filter)
		mustOK(t, err)
		if d := diff(tc.want, got); d != "" {
			t.Errorf("ListNumbers %s (-want +got):\n%s", tc.name, d)
		}
	}
}

func testNumberConflicts(t *testing.T, f *fixture) {
	nb := f.number(t, newNumber(f.b.ID, "+15557770000"))
	// Numbers are global: A cannot take B's.
	wantField(t, f.db.CreateNumber(f.ctx, newNumber(f.a.ID, "+15557770000")), switchboard.ECONFLICT, "number")
	na := f.number(t, newNumber(f.a.ID, "+15557770001"))
	upd := *na
	upd.Number = "+15557770000"
	wantField(t, f.db.UpdateNumber(f.ctx, &upd), switchboard.ECONFLICT, "number")

	qb := f.queue(t, f.b.ID, "500")
	for field, n := range map[string]*switchboard.Number{
		"owner_user_id":        {OwnerUserID: f.ub.ID},
		"sms_assigned_user_id": {SMSAssignedUserID: f.ub.ID},
		"target":               {Target: switchboard.Target{Type: switchboard.TargetQueue, ID: qb.ID}},
	} {
		n.AccountID, n.Number, n.Status = f.a.ID, "+15557770002", "active"
		wantField(t, f.db.CreateNumber(f.ctx, n), switchboard.EBADREQUEST, field)
		ref := *na
		ref.OwnerUserID, ref.SMSAssignedUserID, ref.Target = n.OwnerUserID, n.SMSAssignedUserID, n.Target
		wantField(t, f.db.UpdateNumber(f.ctx, &ref), switchboard.EBADREQUEST, field)
	}
	list, err := f.db.ListNumbers(f.ctx, f.a.ID, switchboard.NumberFilter{})
	mustOK(t, err)
	if d := diff([]*switchboard.Number{na}, list); d != "" {
		t.Fatalf("A's numbers after refused writes (-want +got):\n%s", d)
	}

	_, err = f.db.GetNumber(f.ctx, f.a.ID, nb.ID)
	wantCode(t, err, switchboard.ENOTFOUND)
	hijack := *nb
	hijack.AccountID, hijack.FriendlyName = f.a.ID, "Hijacked"
	wantCode(t, f.db.UpdateNumber(f.ctx, &hijack), switchboard.ENOTFOUND)
	wantCode(t, f.db.DeleteNumber(f.ctx, f.a.ID, nb.ID), switchboard.ENOTFOUND)
	got, err := f.db.GetNumber(f.ctx, f.b.ID, nb.ID)
	mustOK(t, err)
	if d := diff(nb, got); d != "" {
		t.Fatalf("B's number changed through A (-want +got):\n%s", d)
	}
	wantField(t, f.db.CreateNumber(f.ctx, newNumber(f.a.ID, "555-1234")), switchboard.EBADREQUEST, "number")
}

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

func testEvents(t *testing.T, f *fixture) {
	at := time.Date(2026, 3, 1, 12, 30, 0, 123456789, time.UTC)
	e1 := &switchboard.Event{AccountID: f.a.ID, Name: switchboard.EventCallInboundStarted, OccurredAt: at,
		CallID: "1772368200.1", CRMID: "crm-9", Data: map[string]any{"from": "+15550001111", "answered": false}}
	e2 := switchboard.NewEvent(f.b.ID, switchboard.EventSMSReceived, map[string]any{"message": "hi"})
	e3 := switchboard.NewEvent(f.a.ID, switchboard.EventCallInboundEnded, map[string]any{"duration": 42})
	e4 := switchboard.NewEvent(f.a.ID, switchboard.EventPresenceChanged, nil)
	mustOK(t, f.db.AppendEvents(f.ctx, e1, e2))
	mustOK(t, f.db.AppendEvents(f.ctx, e3, e4))
	if e1.ID == "" || e1.Seq == 0 || !(e1.Seq < e2.Seq && e2.Seq < e3.Seq && e3.Seq < e4.Seq) {
		t.Fatalf("seqs %d %d %d %d, id %q: want increasing seqs in append order and an id", e1.Seq, e2.Seq, e3.Seq, e4.Seq, e1.ID)
	}
	if !e1.OccurredAt.Equal(at.Truncate(time.Millisecond)) {
		t.Fatalf("OccurredAt = %v, want it to the millisecond as stored", e1.OccurredAt)
	}
	stored := func(e *switchboard.Event) *switchboard.Event {
		c := *e
		c.Data = jsonData(t, e.Data)
		if c.Data == nil {
			c.Data = map[string]any{}
		}
		return &c
	}

	got := f.events(t, f.a.ID)
	if d := diff([]*switchboard.Event{stored(e1), stored(e3), stored(e4)}, got); d != "" {
		t.Fatalf("ListEvents of A (-want +got):\n%s", d)
	}
	got, err := f.db.ListEvents(f.ctx, f.a.ID, e1.Seq, 1)
	mustOK(t, err)
	if d := diff([]*switchboard.Event{stored(e3)}, got); d != "" {
		t.Fatalf("ListEvents after e1, limit 1 (-want +got):\n%s", d)
	}
	got, err = f.db.ListEvents(f.ctx, f.a.ID, e4.Seq, 10)
	mustOK(t, err)
	if len(got) != 0 {
		t.Fatalf("ListEvents after the last: %+v", got)
	}
	got = f.events(t, f.b.ID)
	if d := diff([]*switchboard.Event{stored(e2)}, got); d != "" {
		t.Fatalf("ListEvents of B (-want +got):\n%s", d)
	}
	mustOK(t, f.db.AppendEvents(f.ctx)) // nothing to append is no error
}

func testAppendAllOrNothing(t *testing.T, f *fixture) {
	first := switchboard.NewEvent(f.a.ID, switchboard.EventSMSSent, map[string]any{"n": 1})
	mustOK(t, f.db.AppendEvents(f.ctx, first))
	fresh := switchboard.NewEvent(f.a.ID, switchboard.EventSMSSent, map[string]any{"n": 2})
	again := &switchboard.Event{ID: first.ID, AccountID: f.a.ID, Name: switchboard.EventSMSSent}
	wantCode(t, f.db.AppendEvents(f.ctx, fresh, again), switchboard.ECONFLICT) // an event id is stored once
	wantCode(t, f.db.AppendEvents(f.ctx, switchboard.NewEvent(f.a.ID, "", nil)), switchboard.EBADREQUEST)
	wantCode(t, f.db.AppendEvents(f.ctx, switchboard.NewEvent(f.a.ID, "x", map[string]any{"bad": func() {}})), switchboard.EBADREQUEST)
	got := f.events(t, f.a.ID)
	if len(got) != 1 || got[0].ID != first.ID {
		t.Fatalf("events after refused appends: %+v, want only the first", got)
	}
}

// testParallelWriters checks what several API requests at once rely on: writers wait for
// each other instead of failing (SQLite's one writer, PostgreSQL's row locks), and when they
// race for the same extension exactly one wins and the others get CONFLICT.
func testParallelWriters(t *testing.T, f *fixture) {
	const n = 8
	var wg sync.WaitGroup
	contactErrs := make([]error, n)
	queueErrs := make([]error, n)
	for i := range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			contactErrs[i] = f.db.CreateContact(f.ctx, &switchboard.Contact{AccountID: f.a.ID, Phone: fmt.Sprintf("+1555888000%d", i)})
		}()
		go func() {
			defer wg.Done()
			kind := []func() error{
				func() error { return f.db.CreateQueue(f.ctx, newQueue(f.a.ID, "800")) },
				func() error { return f.db.CreateRingGroup(f.ctx, newRingGroup(f.a.ID, "800")) },
				func() error { return f.db.CreateUser(f.ctx, &switchboard.User{AccountID: f.a.ID, Extension: "800"}) },
			}[i%3]
			queueErrs[i] = kind()
		}()
	}
	wg.Wait()
	for i, err := range contactErrs {
		if err != nil {
			t.Errorf("parallel CreateContact %d: %v", i, err)
		}
	}
	won := 0
	for _, err := range queueErrs {
		switch switchboard.ErrorCode(err) {
		case "":
			won++
		case switchboard.ECONFLICT:
		default:
			t.Errorf("racing for extension 800: %v, want success or CONFLICT", err)
		}
	}
	if won != 1 {
		t.Errorf("%d writers got extension 800, want exactly 1", won)
	}
	contacts, err := f.db.ListContacts(f.ctx, f.a.ID)
	mustOK(t, err)
	if len(contacts) != n || len(f.events(t, f.a.ID)) != n {
		t.Errorf("after %d parallel creates: %d contacts, %d events", n, len(contacts), len(f.events(t, f.a.ID)))
	}
}
