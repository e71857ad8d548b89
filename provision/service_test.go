package provision_test

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"switchboard"
	"switchboard/provision"
	"switchboard/store/storetest"
)

// fakeSealer "seals" by prefixing, so that a test can see what was sealed.
type fakeSealer struct{}

func (fakeSealer) Seal(plaintext string) []byte { return []byte("sealed:" + plaintext) }

// recordingEngine records what the service tells the call engine.
type recordingEngine struct {
	mu            sync.Mutex
	queues        []int64
	trunksChanged int
}

func (e *recordingEngine) InvalidateQueueMembers(queueID int64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.queues = append(e.queues, queueID)
}

func (e *recordingEngine) InvalidateTrunks() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.trunksChanged++
}

// fixture is a service on a real SQLite store with two accounts; account A has user Ann.
type fixture struct {
	ctx    context.Context
	st     switchboard.Store
	svc    *provision.Service
	engine *recordingEngine
	a, b   int64
	ann    *switchboard.User
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db := storetest.NewSQLite(t)
	f := &fixture{ctx: context.Background(), st: db, engine: &recordingEngine{}}
	f.svc = provision.New(provision.Config{Store: db, Sealer: fakeSealer{}, Engine: f.engine})
	for _, id := range []*int64{&f.a, &f.b} {
		a := &switchboard.Account{Name: "Account"}
		must(t, db.CreateAccount(f.ctx, a))
		*id = a.ID
	}
	var err error
	f.ann, err = f.svc.CreateUser(f.ctx, f.a, switchboard.UserChange{Extension: ptr("100"), FirstName: ptr("Ann")})
	must(t, err)
	return f
}

func ptr[T any](v T) *T { return &v }

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// details returns the per-field problems of a BAD_REQUEST, failing on any other answer.
func details(t *testing.T, err error) map[string]string {
	t.Helper()
	var e *switchboard.Error
	if !errors.As(err, &e) || e.Code != switchboard.EBADREQUEST {
		t.Fatalf("error %v, want BAD_REQUEST", err)
	}
	return e.Details
}

// ignoreStored leaves out what the store sets (ids, times, hashes) when comparing rows.
var ignoreStored = cmpopts.IgnoreFields

func TestCreateAppliesDefaults(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name   string
		create func() (any, error)
		want   any
		ignore cmp.Option
	}{
		{"user: voicemail on, rings 30 s",
			func() (any, error) {
				return f.svc.CreateUser(f.ctx, f.a, switchboard.UserChange{Extension: ptr("101"), ForwardNumber: ptr("(555) 123-4567")})
			},
			&switchboard.User{AccountID: f.a, Extension: "101", VoicemailEnabled: true, RingTimeSeconds: 30, ForwardNumber: "+15551234567"},
			ignoreStored(switchboard.User{}, "ID", "CreatedAt", "UpdatedAt")},
		{"queue: the seed's timeout and retry, Asterisk's other settings",
			func() (any, error) {
				return f.svc.CreateQueue(f.ctx, f.a, switchboard.QueueChange{QueueName: ptr("Sales"), Extension: ptr("200")})
			},
			&switchboard.Queue{AccountID: f.a, QueueName: "Sales", Extension: "200", Strategy: switchboard.StrategyRingAll,
				MusicOnHold: "default", Timeout: 15, Retry: 5, JoinEmpty: "yes", LeaveWhenEmpty: "no", RingInUse: "no", ServiceLevel: 20,
				CallbackKey: "1", CallbackRetries: 1}, // callbacks off, key 1, one retry
			ignoreStored(switchboard.Queue{}, "ID", "CreatedAt")},
		{"ring group: simultaneous for 20 s",
			func() (any, error) {
				return f.svc.CreateRingGroup(f.ctx, f.a, switchboard.RingGroupChange{Name: ptr("Desk"), Extension: ptr("300")})
			},
			&switchboard.RingGroup{AccountID: f.a, Name: "Desk", Extension: "300", Strategy: switchboard.RingSimultaneous, RingTime: 20},
			ignoreStored(switchboard.RingGroup{}, "ID", "CreatedAt", "Members")},
		{"number: active, stored E.164",
			func() (any, error) {
				return f.svc.CreateNumber(f.ctx, f.a, switchboard.NumberChange{Number: ptr("555-987-6543"), OwnerUserID: &f.ann.ID})
			},
			&switchboard.Number{AccountID: f.a, Number: "+15559876543", OwnerUserID: f.ann.ID, Status: "active"},
			ignoreStored(switchboard.Number{}, "ID", "CreatedAt")},
		{"trunk: port 5060 over UDP, password sealed",
			func() (any, error) {
				return f.svc.CreateTrunk(f.ctx, f.a, switchboard.TrunkChange{Name: ptr("Carrier"), Host: ptr("192.0.2.1"),
					Username: ptr("acme"), Password: ptr("s3cret")})
			},
			&switchboard.Trunk{AccountID: f.a, Name: "Carrier", Host: "192.0.2.1", Port: 5060, Transport: "udp", Username: "acme",
				SealedPassword: []byte("sealed:s3cret")},
			ignoreStored(switchboard.Trunk{}, "ID", "CreatedAt", "UpdatedAt")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.create()
			must(t, err)
			if d := cmp.Diff(tc.want, got, tc.ignore, cmpopts.EquateEmpty()); d != "" {
				t.Errorf("created (-want +got):\n%s", d)
			}
		})
	}
}

func TestValidationNamesEveryBadField(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name string
		call func() error
		want map[string]string
	}{
		{"user: API-level and domain problems at once",
			func() error {
				_, err := f.svc.CreateUser(f.ctx, f.a, switchboard.UserChange{Extension: ptr("1"), ForwardNumber: ptr("12")})
				return err
			},
			map[string]string{"presence_id": "must be an extension of 2 to 8 digits", "forward_number": "is not a valid phone number"}},
		{"contact: the phone is required",
			func() error {
				_, err := f.svc.CreateContact(f.ctx, f.a, switchboard.ContactChange{FirstName: ptr("Ada")})
				return err
			},
			map[string]string{"phone": "is required"}},
		{"number: the number is required",
			func() error { _, err := f.svc.CreateNumber(f.ctx, f.a, switchboard.NumberChange{}); return err },
			map[string]string{"number": "is required"}},
		{"device: a new username needs a new password",
			func() error {
				d, _, err := f.svc.CreateDevice(f.ctx, f.a, f.ann.ID, switchboard.DeviceChange{SIPUsername: ptr("ann-desk")})
				must(t, err)
				_, err = f.svc.UpdateDevice(f.ctx, f.a, d.ID, switchboard.DeviceChange{SIPUsername: ptr("ann-phone")})
				return err
			},
			map[string]string{"sip_password": "is required when sip_username changes: the stored password hashes include the username"}},
		{"ring group: members need a user",
			func() error {
				_, err := f.svc.CreateRingGroup(f.ctx, f.a, switchboard.RingGroupChange{Name: ptr("G"), Extension: ptr("301"),
					Members: &[]switchboard.RingGroupMember{{UserID: 0}}})
				return err
			},
			map[string]string{"members": "each member needs a user_id"}},
		{"queue member: user and penalty",
			func() error {
				q, err := f.svc.CreateQueue(f.ctx, f.a, switchboard.QueueChange{QueueName: ptr("Q"), Extension: ptr("201")})
				must(t, err)
				return f.svc.AddQueueMember(f.ctx, f.a, switchboard.QueueMember{QueueID: q.ID, Penalty: 1001})
			},
			map[string]string{"user_id": "is required: the user to add", "penalty": "must be between 0 and 1000"}},
		{"API key: kind and allowlist",
			func() error {
				_, _, err := f.svc.CreateAPIKey(f.ctx, f.a, switchboard.APIKeyChange{Kind: "admin", AllowedIPs: []string{"nowhere"}})
				return err
			},
			map[string]string{"kind": "must be user or developer", "allowed_ips": "each entry must be an IP address or CIDR, e.g. 203.0.113.7 or 203.0.113.0/24"}},
		{"queue: a target's number, when given, must be a phone number",
			func() error {
				_, err := f.svc.CreateQueue(f.ctx, f.a, switchboard.QueueChange{QueueName: ptr("Q"), Extension: ptr("202"),
					Overflow: &switchboard.TargetChange{Type: switchboard.TargetHangup, Number: ptr("")}})
				return err
			},
			map[string]string{"overflow": "number is not a valid phone number"}},
		{"trunk: a username needs a password",
			func() error {
				_, err := f.svc.CreateTrunk(f.ctx, f.a, switchboard.TrunkChange{Name: ptr("T"), Host: ptr("192.0.2.1"), Username: ptr("u")})
				return err
			},
			map[string]string{"password": "is required with a username"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if d := cmp.Diff(tc.want, details(t, tc.call())); d != "" {
				t.Errorf("details (-want +got):\n%s", d)
			}
		})
	}
}

// A number's owner and SMS-assigned user must be users of the account, named with the
// API's fields; another account's user is not one.
func TestNumberUsersMustBeOfTheAccount(t *testing.T) {
	f := newFixture(t)
	other, err := f.svc.CreateUser(f.ctx, f.b, switchboard.UserChange{Extension: ptr("100")})
	must(t, err)
	_, err = f.svc.CreateNumber(f.ctx, f.a, switchboard.NumberChange{Number: ptr("+15550001111"), OwnerUserID: &other.ID,
		SMSAssignedUserID: ptr(int64(-1))})
	want := map[string]string{"owner_id": "is not a user of this account", "sms_assigned_user_id": "must be a user ID"}
	if d := cmp.Diff(want, details(t, err)); d != "" {
		t.Errorf("details (-want +got):\n%s", d)
	}
	n, err := f.svc.CreateNumber(f.ctx, f.a, switchboard.NumberChange{Number: ptr("+15550001111"), OwnerUserID: &f.ann.ID})
	must(t, err)
	_, err = f.svc.UpdateNumber(f.ctx, f.a, n.ID, switchboard.NumberChange{SMSAssignedUserID: &other.ID})
	if d := cmp.Diff(map[string]string{"sms_assigned_user_id": "is not a user of this account"}, details(t, err)); d != "" {
		t.Errorf("PATCH details (-want +got):\n%s", d)
	}
}

// An overflow or fallback from which the chain leads back to the queue or ring group itself
// is refused, and nothing is written; a chain that does not come back is fine.
func TestRoutingLoopsAreRefused(t *testing.T) {
	f := newFixture(t)
	q, err := f.svc.CreateQueue(f.ctx, f.a, switchboard.QueueChange{QueueName: ptr("Q"), Extension: ptr("200")})
	must(t, err)
	g, err := f.svc.CreateRingGroup(f.ctx, f.a, switchboard.RingGroupChange{Name: ptr("G"), Extension: ptr("300"),
		Fallback: &switchboard.TargetChange{Type: switchboard.TargetQueue, ID: q.ID}})
	must(t, err)

	_, err = f.svc.UpdateQueue(f.ctx, f.a, q.ID, switchboard.QueueChange{QueueName: ptr("Renamed"),
		Overflow: &switchboard.TargetChange{Type: switchboard.TargetRingGroup, ID: g.ID}})
	want := map[string]string{"overflow": "leads back to this queue through ringgroup " + strconv.FormatInt(g.ID, 10) +
		" -> queue " + strconv.FormatInt(q.ID, 10) + ": calls would loop"}
	if d := cmp.Diff(want, details(t, err)); d != "" {
		t.Errorf("details (-want +got):\n%s", d)
	}
	stored, err := f.st.GetQueue(f.ctx, f.a, q.ID)
	must(t, err)
	if stored.QueueName != "Q" || stored.Overflow.Type != "" {
		t.Errorf("a refused change was written: %+v", stored)
	}

	_, err = f.svc.UpdateQueue(f.ctx, f.a, q.ID, switchboard.QueueChange{Overflow: &switchboard.TargetChange{Type: switchboard.TargetUser, ID: f.ann.ID}})
	must(t, err)
	_, err = f.svc.UpdateRingGroup(f.ctx, f.a, g.ID, switchboard.RingGroupChange{Fallback: &switchboard.TargetChange{Type: switchboard.TargetQueue, ID: q.ID}})
	must(t, err)
}

// Changes the call engine caches reach it: members, deleted queues and users, trunks.
func TestEngineIsToldOfWhatItCaches(t *testing.T) {
	f := newFixture(t)
	q, err := f.svc.CreateQueue(f.ctx, f.a, switchboard.QueueChange{QueueName: ptr("Q"), Extension: ptr("200")})
	must(t, err)
	must(t, f.svc.AddQueueMember(f.ctx, f.a, switchboard.QueueMember{QueueID: q.ID, UserID: f.ann.ID}))
	_, err = f.svc.UpdateQueueMember(f.ctx, f.a, q.ID, f.ann.ID, switchboard.QueueMemberChange{Paused: ptr(true)})
	must(t, err)
	must(t, f.svc.DeleteUser(f.ctx, f.a, f.ann.ID))
	must(t, f.svc.DeleteQueue(f.ctx, f.a, q.ID))
	if d := cmp.Diff([]int64{q.ID, q.ID, q.ID, q.ID}, f.engine.queues); d != "" {
		t.Errorf("queues the engine re-reads (-want +got):\n%s", d)
	}

	tr, err := f.svc.CreateTrunk(f.ctx, f.a, switchboard.TrunkChange{Name: ptr("T"), Host: ptr("192.0.2.1")})
	must(t, err)
	_, err = f.svc.UpdateTrunk(f.ctx, f.a, tr.ID, switchboard.TrunkChange{Port: ptr(5080)})
	must(t, err)
	must(t, f.svc.DeleteTrunk(f.ctx, f.a, tr.ID))
	if f.engine.trunksChanged != 3 {
		t.Errorf("engine told of %d trunk changes, want 3", f.engine.trunksChanged)
	}
}

// A trunk's password is sealed; an update without one keeps it; without a sealer a password
// cannot be stored at all.
func TestTrunkPasswords(t *testing.T) {
	f := newFixture(t)
	tr, err := f.svc.CreateTrunk(f.ctx, f.a, switchboard.TrunkChange{Name: ptr("T"), Host: ptr("192.0.2.1"),
		Username: ptr("acme"), Password: ptr("first")})
	must(t, err)
	for _, c := range []switchboard.TrunkChange{{Port: ptr(5080)}, {Password: ptr("")}} {
		got, err := f.svc.UpdateTrunk(f.ctx, f.a, tr.ID, c)
		must(t, err)
		if string(got.SealedPassword) != "sealed:first" {
			t.Errorf("after %+v: sealed password %q, want the stored one", c, got.SealedPassword)
		}
	}
	got, err := f.svc.UpdateTrunk(f.ctx, f.a, tr.ID, switchboard.TrunkChange{Password: ptr("second")})
	must(t, err)
	if string(got.SealedPassword) != "sealed:second" {
		t.Errorf("sealed password %q, want the new one", got.SealedPassword)
	}
	long := string(slices.Repeat([]byte("x"), 257))
	_, err = f.svc.UpdateTrunk(f.ctx, f.a, tr.ID, switchboard.TrunkChange{Password: &long})
	if d := cmp.Diff(map[string]string{"password": "must be at most 256 characters"}, details(t, err)); d != "" {
		t.Errorf("details (-want +got):\n%s", d)
	}

	unsealed := provision.New(provision.Config{Store: f.st})
	_, err = unsealed.CreateTrunk(f.ctx, f.a, switchboard.TrunkChange{Name: ptr("T"), Host: ptr("192.0.2.2"), Username: ptr("u"), Password: ptr("p")})
	if code := switchboard.ErrorCode(err); code != switchboard.EUNAVAILABLE {
		t.Errorf("password without a sealer: %v, want %s", err, switchboard.EUNAVAILABLE)
	}
}

// A PATCH changes only the fields it gives; a contact's event names only those whose value
// changed.
func TestUpdateChangesOnlyWhatIsGiven(t *testing.T) {
	f := newFixture(t)
	u, err := f.svc.UpdateUser(f.ctx, f.a, f.ann.ID, switchboard.UserChange{LastName: ptr("Lee"), RingTimeSeconds: ptr(45)})
	must(t, err)
	want := *f.ann
	want.LastName, want.RingTimeSeconds = "Lee", 45
	if d := cmp.Diff(&want, u, cmpopts.IgnoreFields(switchboard.User{}, "UpdatedAt")); d != "" {
		t.Errorf("updated user (-want +got):\n%s", d)
	}
	c, err := f.svc.CreateContact(f.ctx, f.a, switchboard.ContactChange{Phone: ptr("415 555 0100"), FirstName: ptr("Ada")})
	must(t, err)
	_, err = f.svc.UpdateContact(f.ctx, f.a, c.ID, switchboard.ContactChange{Phone: ptr("+14155550100"), Company: ptr("Engines")})
	must(t, err)
	evs, err := f.st.ListEvents(f.ctx, f.a, 0, 100)
	must(t, err)
	last := evs[len(evs)-1]
	if !cmp.Equal([]any{"company"}, eventField(t, last, "updated_fields")) {
		t.Errorf("updated_fields = %v, want only company (the phone is the same once normalized)", eventField(t, last, "updated_fields"))
	}
}

func eventField(t *testing.T, e *switchboard.Event, field string) any {
	t.Helper()
	data, ok := e.Data[field]
	if !ok {
		t.Fatalf("event %s has no %s: %v", e.Name, field, e.Data)
	}
	// Events read back from the store carry JSON-decoded data.
	if s, ok := data.([]string); ok {
		out := make([]any, len(s))
		for i, x := range s {
			out[i] = x
		}
		return out
	}
	return data
}
