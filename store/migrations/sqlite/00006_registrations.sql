-- +goose Up
-- The registrar's bindings, so a restart does not forget where the phones are.
CREATE TABLE registrations (
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    device_id  INTEGER NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
    contact    TEXT    NOT NULL,
    expires_at INTEGER NOT NULL,
    call_id    TEXT    NOT NULL,
    cseq       INTEGER NOT NULL,
    source     TEXT    NOT NULL,
    transport  TEXT    NOT NULL,
    PRIMARY KEY (device_id, contact)
);
CREATE INDEX registrations_account_user ON registrations (account_id, user_id);

-- +goose Down
DROP TABLE registrations;
