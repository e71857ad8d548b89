package storetest

import (
	"context"
	"testing"

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
		{"Devices/RegistrationChanges", testRegistrationChanges},
		{"Trunks/TrustGrants", testTrustGrants},
		{"Accounts/SIPDomainsAndUsernames", testSIPDomains},
		{"Devices/SIPUsernameAcrossAccountsRace", testSIPUsernameRace},
		{"Queues/RoundTrip", testQueues},
		{"Queues/ExtensionsSharedWithUsersAndRingGroups", testSharedExtensions},
		{"Queues/ReferencesAndIsolation", testQueueReferences},
		{"Queues/Members", testQueueMembers},
		{"Queues/CallbacksSurviveARestart", testQueueCallbacks},
		{"RingGroups/RoundTrip", testRingGroups},
		{"RingGroups/ReferencesAndIsolation", testRingGroupReferences},
		{"Numbers/RoundTrip", testNumbers},
		{"Numbers/Filter", testNumberFilter},
		{"Numbers/ConflictsAndReferences", testNumberConflicts},
		{"Contacts/RoundTripWithEvents", testContacts},
		{"Contacts/FailedChangesStoreNoEvent", testContactFailures},
		{"MusicClasses/RoundTripAndIsolation", testMusicClasses},
		{"Prompts/RoundTripAndIsolation", testPrompts},
		{"Voicemail/BoxesMessagesEventsAndIsolation", testVoicemail},
		{"Languages/AccountsAndNumbers", testLanguages},
		{"ConferenceRooms/RoundTripExtensionsAndIsolation", testConferenceRooms},
		{"APIKeys/LookupAndRevocation", testAPIKeys},
		{"APIKeys/ReferencesAndIsolation", testAPIKeyReferences},
		{"Events/AppendAndList", testEvents},
		{"Events/AppendIsAllOrNothing", testAppendAllOrNothing},
		{"Events/Follow", testFollowEvents},
		{"Concurrency/ParallelWriters", testParallelWriters},
		{"UpdateFunc/RoundTrip", testUpdateFuncRoundTrip},
		{"UpdateFunc/ContactEventNamesChangedFields", testUpdateFuncContactEvent},
		{"UpdateFunc/ConcurrentChangesBothSurvive", testConcurrentChangesBothSurvive},
		{"UpdateFunc/QueueMember", testUpdateQueueMemberFunc},
		{"Paging/Users", testPageUsers},
		{"Paging/Queues", testPageQueues},
		{"Paging/QueueMembers", testPageQueueMembers},
		{"Paging/Numbers", testPageNumbers},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newFixture(t, open(t)))
		})
	}
	runWebhookTests(t, open)
	runCallFlowTests(t, open)
	runCallTests(t, open)
	runGroupCallTests(t, open)
	runCallTraceTests(t, open)
	runRecordingTests(t, open)
	runSMSTests(t, open)
	runPortalTests(t, open)
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
