package switchboard

import (
	"context"
	"time"
)

// PortalRole is what a portal login may do: an administrator runs the whole account, a
// user sees their own calls and settings.
type PortalRole string

const (
	PortalAdmin PortalRole = "admin"
	PortalUser  PortalRole = "user"
)

// PortalLogin is one sign-in of the web portal. PasswordHash is argon2id in PHC form;
// TOTPSealed is the TOTP secret sealed with the server key ("" = no second factor).
// UserID ties a user's login to their extension (0 for an administrator).
type PortalLogin struct {
	ID           int64
	AccountID    int64
	Login        string
	Role         PortalRole
	UserID       int64
	PasswordHash string
	TOTPSealed   string
	CreatedAt    time.Time
}

// PortalSession is a signed-in browser: the store keeps the SHA-256 of its token only.
// CSRF is the session's form token. A session is valid until ExpiresAt, unless revoked.
type PortalSession struct {
	ID        int64
	LoginID   int64
	TokenHash string
	CSRF      string
	CreatedAt time.Time
	ExpiresAt time.Time
	RevokedAt time.Time // zero while valid
}

// PortalStore keeps portal logins and sessions (store.DB implements it). Every method that
// names an account only touches that account's logins.
type PortalStore interface {
	CreatePortalLogin(ctx context.Context, l *PortalLogin) error
	// GetPortalLoginByName finds a login by name whatever its account: sign-in's lookup.
	GetPortalLoginByName(ctx context.Context, login string) (*PortalLogin, error)
	GetPortalLogin(ctx context.Context, id int64) (*PortalLogin, error)
	ListPortalLogins(ctx context.Context, accountID int64) ([]*PortalLogin, error)
	DeletePortalLogin(ctx context.Context, accountID, id int64) error
	SetPortalPassword(ctx context.Context, accountID, id int64, hash string) error
	SetPortalTOTP(ctx context.Context, accountID, id int64, sealed string) error

	CreatePortalSession(ctx context.Context, s *PortalSession) error
	// GetPortalSession returns the session with the token hash and its login.
	GetPortalSession(ctx context.Context, tokenHash string) (*PortalSession, *PortalLogin, error)
	RevokePortalSession(ctx context.Context, id int64) error
}
