-- +goose Up
-- SMS (issue 12): messages in both directions, which are also the durable outbox of outbound
-- ones (status queued + next_attempt_at = due; sending + next_attempt_at = the claim's lease),
-- each message's status history, per-account / per-number SMS settings (number_id 0 = the
-- account's defaults) and STOP/START opt-outs per number. The same schema as
-- ../postgres/00022_sms.sql: keep them in step.
CREATE TABLE messages (
    id              TEXT    PRIMARY KEY,
    account_id      INTEGER  NOT NULL REFERENCES accounts (id),
    direction       TEXT    NOT NULL,
    from_number     TEXT    NOT NULL,
    to_number       TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    encoding        TEXT    NOT NULL,
    segments        INTEGER NOT NULL,
    status          TEXT    NOT NULL,
    carrier         TEXT    NOT NULL DEFAULT '',
    carrier_ref     TEXT    NOT NULL DEFAULT '',
    number_id       INTEGER  NOT NULL DEFAULT 0,
    user_id         INTEGER  NOT NULL DEFAULT 0,
    sent_by_user_id INTEGER  NOT NULL DEFAULT 0,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER  NOT NULL DEFAULT 0,
    error           TEXT    NOT NULL DEFAULT '',
    phone_pending   INTEGER NOT NULL DEFAULT 0,
    phone_user_id   INTEGER  NOT NULL DEFAULT 0,
    created_at      INTEGER  NOT NULL,
    updated_at      INTEGER  NOT NULL
);
CREATE INDEX messages_due ON messages (status, next_attempt_at);
CREATE INDEX messages_account ON messages (account_id, created_at, id);
CREATE INDEX messages_phone_pending ON messages (account_id, phone_user_id, phone_pending);

CREATE TABLE message_status_history (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id     TEXT    NOT NULL REFERENCES messages (id),
    status         TEXT    NOT NULL,
    carrier_status TEXT    NOT NULL DEFAULT '',
    error          TEXT    NOT NULL DEFAULT '',
    at             INTEGER  NOT NULL
);
CREATE INDEX message_status_history_message ON message_status_history (message_id, id);

CREATE TABLE sms_settings (
    account_id      INTEGER  NOT NULL REFERENCES accounts (id),
    number_id       INTEGER  NOT NULL DEFAULT 0,
    max_parts       INTEGER NOT NULL DEFAULT 0,
    carrier         TEXT    NOT NULL DEFAULT '',
    allow_premium   INTEGER NOT NULL DEFAULT 0,
    rate_per_minute INTEGER NOT NULL DEFAULT 0,
    kannel_url      TEXT    NOT NULL DEFAULT '',
    kannel_user     TEXT    NOT NULL DEFAULT '',
    kannel_password BLOB,                           -- sealed (AES-GCM), never plaintext
    kannel_smsc     TEXT    NOT NULL DEFAULT '',
    updated_at      INTEGER  NOT NULL,
    PRIMARY KEY (account_id, number_id)
);

CREATE TABLE sms_optouts (
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    number_id  INTEGER NOT NULL,
    party      TEXT   NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, number_id, party)
);

-- +goose Down
DROP TABLE sms_optouts;
DROP TABLE sms_settings;
DROP TABLE message_status_history;
DROP TABLE messages;
