package switchboard

import "context"

// TrunkChange is a create or an update of a trunk as the API received it: a nil field is
// "not given" (left as it is on update, defaulted on create). Password is the plaintext,
// which is stored sealed; nil or "" keeps the stored one. CallerIDNumber is as typed; it is
// stored E.164.
type TrunkChange struct {
	Name              *string
	Host              *string
	Port              *int
	Transport         *string
	Username          *string
	Password          *string
	InboundAddresses  *[]string
	CallerIDNumber    *string
	AllowUserCallerID *bool
}

// TrunkStore persists trunks. store.DB implements it, as part of Store and of CallStore.
type TrunkStore interface {
	CreateTrunk(ctx context.Context, t *Trunk) error
	GetTrunk(ctx context.Context, accountID, id int64) (*Trunk, error)
	ListTrunks(ctx context.Context, accountID int64) ([]*Trunk, error) // by id
	PageTrunks(ctx context.Context, accountID int64, p Page) (trunks []*Trunk, more bool, err error)
	// ListAllTrunks returns every account's trunks: the call engine matches source addresses.
	ListAllTrunks(ctx context.Context) ([]*Trunk, error)
	// UpdateTrunk replaces the trunk's fields; a nil SealedPassword keeps the stored one.
	UpdateTrunk(ctx context.Context, t *Trunk) error
	// UpdateTrunkFunc is a read-modify-write in one transaction, as Store's Update…Func.
	UpdateTrunkFunc(ctx context.Context, accountID, id int64, change func(*Trunk) error) (*Trunk, error)
	DeleteTrunk(ctx context.Context, accountID, id int64) error
}

// TrunkService provisions SIP trunks: it seals their passwords and tells the call engine,
// which recognises calls by the trunks' addresses. provision.Service implements it.
type TrunkService interface {
	CreateTrunk(ctx context.Context, accountID int64, c TrunkChange) (*Trunk, error)
	UpdateTrunk(ctx context.Context, accountID, id int64, c TrunkChange) (*Trunk, error)
	DeleteTrunk(ctx context.Context, accountID, id int64) error
	GetTrunk(ctx context.Context, accountID, id int64) (*Trunk, error)
	ListTrunks(ctx context.Context, accountID int64) ([]*Trunk, error)
	PageTrunks(ctx context.Context, accountID int64, p Page) (trunks []*Trunk, more bool, err error)
}
