package switchboard

import "context"

// Store persists the domain. store.DB implements it on SQLite and PostgreSQL.
//
// Conventions: every method taking an accountID only ever reads or writes that account's
// rows, so an id of another account is NOT_FOUND, never its data. A missing row is an *Error
// with ENOTFOUND; a unique value already taken (extension, number, SIP username) is
// ECONFLICT; a reference to a user, queue or ring group that is not in the account is
// EBADREQUEST naming the field. Create methods set ID and CreatedAt on the value given.
// Methods that change a contact also store its event in the same transaction.
//
// The Update…Func methods are read-modify-writes in one write transaction: they read the
// row (locked against other writers), let change alter it, validate it and save it, so
// that two concurrent changes of one row both survive; an error of change writes nothing.
// change must not call the store. They return the row as saved.
type Store interface {
	RegistrationStore
	TrunkStore
	TrustStore
	VoicemailStore
	RecordingStore

	CreateAccount(ctx context.Context, a *Account) error // a.ID != 0 keeps that id
	GetAccount(ctx context.Context, id int64) (*Account, error)
	ListAccounts(ctx context.Context) ([]*Account, error)
	UpdateAccount(ctx context.Context, a *Account) error
	UpdateAccountFunc(ctx context.Context, id int64, change func(*Account) error) (*Account, error)

	CreateUser(ctx context.Context, u *User) error
	GetUser(ctx context.Context, accountID, id int64) (*User, error)
	GetUserByExtension(ctx context.Context, accountID int64, extension string) (*User, error)
	// ExtensionTarget is what the account's extension reaches: a user, queue, ring group or
	// conference room; a zero Target when nothing has it.
	ExtensionTarget(ctx context.Context, accountID int64, extension string) (Target, error)
	ListUsers(ctx context.Context, accountID int64) ([]*User, error) // by extension
	// PageUsers is one page of ListUsers, by (extension, id): p.AfterKey is an extension.
	PageUsers(ctx context.Context, accountID int64, p Page) (users []*User, more bool, err error)
	UpdateUser(ctx context.Context, u *User) error
	UpdateUserFunc(ctx context.Context, accountID, id int64, change func(*User) error) (*User, error)
	DeleteUser(ctx context.Context, accountID, id int64) error // also its devices, keys and memberships

	CreateDevice(ctx context.Context, d *Device) error
	GetDevice(ctx context.Context, accountID, id int64) (*Device, error)
	GetDeviceBySIPUsername(ctx context.Context, username string) (*Device, error) // any account: the registrar's lookup on a bare IP
	GetAccountDeviceBySIPUsername(ctx context.Context, accountID int64, username string) (*Device, error)
	GetAccountBySIPDomain(ctx context.Context, domain string) (*Account, error) // the registrar's tenant
	HasSIPDomains(ctx context.Context) (bool, error)
	// HasSHA256Devices reports whether any device requires SHA-256 digests.
	HasSHA256Devices(ctx context.Context) (bool, error)
	ListDevices(ctx context.Context, accountID, userID int64) ([]*Device, error) // userID 0 = all users
	PageDevices(ctx context.Context, accountID, userID int64, p Page) (devices []*Device, more bool, err error)
	UpdateDevice(ctx context.Context, d *Device) error
	UpdateDeviceFunc(ctx context.Context, accountID, id int64, change func(*Device) error) (*Device, error)
	DeleteDevice(ctx context.Context, accountID, id int64) error

	CreateQueue(ctx context.Context, q *Queue) error
	GetQueue(ctx context.Context, accountID, id int64) (*Queue, error)
	ListQueues(ctx context.Context, accountID int64) ([]*Queue, error)
	PageQueues(ctx context.Context, accountID int64, p Page) (queues []*Queue, more bool, err error)
	UpdateQueue(ctx context.Context, q *Queue) error
	UpdateQueueFunc(ctx context.Context, accountID, id int64, change func(*Queue) error) (*Queue, error)
	DeleteQueue(ctx context.Context, accountID, id int64) error
	// SetQueueMember adds the member or updates its penalty and paused flag.
	SetQueueMember(ctx context.Context, accountID int64, m QueueMember) error
	RemoveQueueMember(ctx context.Context, accountID, queueID, userID int64) error
	ListQueueMembers(ctx context.Context, accountID, queueID int64) ([]QueueMember, error)
	// PageQueueMembers is one page of ListQueueMembers: p.After is a user id.
	PageQueueMembers(ctx context.Context, accountID, queueID int64, p Page) (members []QueueMember, more bool, err error)
	// ListQueueCallbacks is the queue's callbacks, newest request first (at most 1000): the
	// pending ones, or every one with all.
	ListQueueCallbacks(ctx context.Context, accountID, queueID int64, all bool) ([]*QueueCallback, error)
	UpdateQueueMemberFunc(ctx context.Context, accountID, queueID, userID int64, change func(*QueueMember) error) (*QueueMember, error)

	CreateRingGroup(ctx context.Context, g *RingGroup) error
	GetRingGroup(ctx context.Context, accountID, id int64) (*RingGroup, error)
	ListRingGroups(ctx context.Context, accountID int64) ([]*RingGroup, error)
	PageRingGroups(ctx context.Context, accountID int64, p Page) (groups []*RingGroup, more bool, err error)
	UpdateRingGroup(ctx context.Context, g *RingGroup) error // replaces the member list
	UpdateRingGroupFunc(ctx context.Context, accountID, id int64, change func(*RingGroup) error) (*RingGroup, error)
	DeleteRingGroup(ctx context.Context, accountID, id int64) error

	CreateNumber(ctx context.Context, n *Number) error
	GetNumber(ctx context.Context, accountID, id int64) (*Number, error)
	GetNumberByE164(ctx context.Context, number string) (*Number, error) // any account: inbound routing
	ListNumbers(ctx context.Context, accountID int64, f NumberFilter) ([]*Number, error)
	PageNumbers(ctx context.Context, accountID int64, f NumberFilter, p Page) (numbers []*Number, more bool, err error)
	UpdateNumber(ctx context.Context, n *Number) error
	UpdateNumberFunc(ctx context.Context, accountID, id int64, change func(*Number) error) (*Number, error)
	DeleteNumber(ctx context.Context, accountID, id int64) error

	CreateContact(ctx context.Context, c *Contact) error                   // + contact.created
	GetContact(ctx context.Context, accountID, id int64) (*Contact, error) //
	ListContacts(ctx context.Context, accountID int64) ([]*Contact, error) //
	PageContacts(ctx context.Context, accountID int64, p Page) (contacts []*Contact, more bool, err error)
	UpdateContact(ctx context.Context, c *Contact, updatedFields []string) error // + contact.updated
	// UpdateContactFunc stores contact.updated naming the fields whose values changed.
	UpdateContactFunc(ctx context.Context, accountID, id int64, change func(*Contact) error) (*Contact, error)
	DeleteContact(ctx context.Context, accountID, id int64) error // + contact.deleted

	// CreateMusicClass stores a new class with its audio (8 kHz µ-law); a name the account
	// has already is CONFLICT.
	CreateMusicClass(ctx context.Context, m *MusicClass, audio []byte) error
	GetMusicClass(ctx context.Context, accountID, id int64) (*MusicClass, error)                // without its audio
	GetMusicClassByName(ctx context.Context, accountID int64, name string) (*MusicClass, error) // without its audio
	GetMusicClassAudio(ctx context.Context, accountID int64, name string) ([]byte, error)
	PageMusicClasses(ctx context.Context, accountID int64, p Page) (classes []*MusicClass, more bool, err error)
	// ReplaceMusicClassAudio gives the class new audio of the format, samples long.
	ReplaceMusicClassAudio(ctx context.Context, accountID, id int64, format string, samples int, audio []byte) (*MusicClass, error)
	DeleteMusicClass(ctx context.Context, accountID, id int64) error // CONFLICT while a queue names it

	// CreatePrompt stores a prompt's row; its audio is in the BlobStore under BlobKey.
	CreatePrompt(ctx context.Context, p *Prompt) error
	GetPrompt(ctx context.Context, accountID, id int64) (*Prompt, error)
	PagePrompts(ctx context.Context, accountID int64, p Page) (prompts []*Prompt, more bool, err error)
	// DeletePrompt deletes the row and returns it, for its audio to be removed after.
	DeletePrompt(ctx context.Context, accountID, id int64) (*Prompt, error)
	// CreateCallFlow validates and stores a new flow, checking that the queues, ring groups
	// and users its nodes name are the account's; a name taken is CONFLICT.
	CreateCallFlow(ctx context.Context, f *CallFlow) error
	GetCallFlow(ctx context.Context, accountID, id int64) (*CallFlow, error)
	PageCallFlows(ctx context.Context, accountID int64, p Page) (flows []*CallFlow, more bool, err error)
	UpdateCallFlowFunc(ctx context.Context, accountID, id int64, change func(*CallFlow) error) (*CallFlow, error)
	DeleteCallFlow(ctx context.Context, accountID, id int64) error // CONFLICT while a number, overflow or fallback uses it
	// FlowReferences lists what sends calls to the user, queue, ring group or call flow:
	// numbers, queue overflows, ring group fallbacks and flow nodes.
	FlowReferences(ctx context.Context, accountID int64, t TargetType, id int64) ([]FlowUse, error)
	// CreateConferenceRoom stores a room and claims its extension (CONFLICT when taken).
	CreateConferenceRoom(ctx context.Context, r *ConferenceRoom) error
	GetConferenceRoom(ctx context.Context, accountID, id int64) (*ConferenceRoom, error)
	GetConferenceRoomByExtension(ctx context.Context, accountID int64, extension string) (*ConferenceRoom, error)
	PageConferenceRooms(ctx context.Context, accountID int64, p Page) (rooms []*ConferenceRoom, more bool, err error)
	UpdateConferenceRoomFunc(ctx context.Context, accountID, id int64, change func(*ConferenceRoom) error) (*ConferenceRoom, error)
	DeleteConferenceRoom(ctx context.Context, accountID, id int64) error

	CreateAPIKey(ctx context.Context, k *APIKey) error
	GetAPIKeyByHash(ctx context.Context, hash string) (*APIKey, error) // any account: authentication
	ListAPIKeys(ctx context.Context, accountID int64) ([]*APIKey, error)
	PageAPIKeys(ctx context.Context, accountID int64, p Page) (keys []*APIKey, more bool, err error)
	RevokeAPIKey(ctx context.Context, accountID, id int64) error

	// AppendEvents stores events that come with no other state change, in one transaction.
	AppendEvents(ctx context.Context, events ...*Event) error
	// ListEvents returns the account's events with Seq > afterSeq, oldest first.
	ListEvents(ctx context.Context, accountID, afterSeq int64, limit int) ([]*Event, error)

	Close() error
}
