-- +goose Up
-- Portal sign-in (web/): one row per login of an account, administrator or user (a user's
-- login is tied to the user and goes with it). The password is an argon2id hash in PHC
-- form; the TOTP secret, when set, is sealed with the server key. Login names are unique
-- across accounts: the sign-in form asks for a login and a password only.
-- Sessions are stored by the SHA-256 of their random token; revoked_at ends one at logout.
-- The same schema as ../postgres/00025_portal.sql: keep them in step.
CREATE TABLE portal_logins (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id    INTEGER NOT NULL REFERENCES accounts (id),
    login         TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'user')),
    user_id       INTEGER REFERENCES users (id) ON DELETE CASCADE,
    password_hash TEXT    NOT NULL,
    totp_sealed   TEXT    NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL
);
CREATE UNIQUE INDEX portal_logins_login ON portal_logins (login);
CREATE INDEX portal_logins_account ON portal_logins (account_id);

CREATE TABLE portal_sessions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    login_id   INTEGER NOT NULL REFERENCES portal_logins (id) ON DELETE CASCADE,
    token_hash TEXT    NOT NULL,
    csrf       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE UNIQUE INDEX portal_sessions_token ON portal_sessions (token_hash);
CREATE INDEX portal_sessions_login ON portal_sessions (login_id);

-- +goose Down
DROP TABLE portal_sessions;
DROP TABLE portal_logins;
