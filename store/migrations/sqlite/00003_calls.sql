-- +goose Up
-- SIP trunks and call records (CDR). Times are unix milliseconds UTC (0 = none); booleans
-- 0/1; lists as JSON TEXT. The same schema as ../postgres/00003_calls.sql: keep them in step.

CREATE TABLE trunks (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id           INTEGER NOT NULL REFERENCES accounts (id),
    name                 TEXT    NOT NULL,
    host                 TEXT    NOT NULL,
    port                 INTEGER NOT NULL,
    transport            TEXT    NOT NULL,
    username             TEXT    NOT NULL DEFAULT '',
    password             BLOB,                          -- sealed (AES-GCM), never plaintext
    inbound_addresses    TEXT    NOT NULL DEFAULT '[]',
    caller_id_number     TEXT    NOT NULL DEFAULT '',
    allow_user_caller_id INTEGER NOT NULL DEFAULT 0,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL
);
CREATE INDEX trunks_account ON trunks (account_id);

-- One row per call, written when the call starts (ended_at = 0) and completed when it ends.
CREATE TABLE call_records (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id       INTEGER NOT NULL REFERENCES accounts (id),
    uniqueid         TEXT    NOT NULL,
    direction        TEXT    NOT NULL,
    from_number      TEXT    NOT NULL DEFAULT '',
    to_number        TEXT    NOT NULL DEFAULT '',
    caller_name      TEXT    NOT NULL DEFAULT '',
    user_id          INTEGER NOT NULL DEFAULT 0,
    extension        TEXT    NOT NULL DEFAULT '',
    started_at       INTEGER NOT NULL,
    answered_at      INTEGER NOT NULL DEFAULT 0,
    ended_at         INTEGER NOT NULL DEFAULT 0,
    duration         INTEGER NOT NULL DEFAULT 0,
    billable_seconds INTEGER NOT NULL DEFAULT 0,
    disposition      TEXT    NOT NULL DEFAULT '',
    crm_id           TEXT    NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX call_records_uniqueid ON call_records (account_id, uniqueid);
CREATE INDEX call_records_open ON call_records (ended_at);
CREATE INDEX call_records_account_started ON call_records (account_id, started_at);

-- +goose Down
DROP TABLE call_records;
DROP TABLE trunks;
