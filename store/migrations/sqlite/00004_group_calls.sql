-- +goose Up
-- Callers' stays in queues and ring groups (the queue and ring group call records). Times
-- are unix milliseconds UTC (0 = none). The same schema as ../postgres/00004_group_calls.sql.
CREATE TABLE group_calls (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id   INTEGER NOT NULL REFERENCES accounts (id),
    group_type   TEXT    NOT NULL,            -- queue or ringgroup
    group_id     INTEGER NOT NULL,
    group_name   TEXT    NOT NULL DEFAULT '',
    uniqueid     TEXT    NOT NULL,
    stay_id      TEXT    NOT NULL,
    from_number  TEXT    NOT NULL DEFAULT '',
    caller_name  TEXT    NOT NULL DEFAULT '',
    to_number    TEXT    NOT NULL DEFAULT '',
    entered_at   INTEGER NOT NULL,
    answered_at  INTEGER NOT NULL DEFAULT 0,
    left_at      INTEGER NOT NULL DEFAULT 0,
    wait_seconds INTEGER NOT NULL DEFAULT 0,
    duration     INTEGER NOT NULL DEFAULT 0,
    user_id      INTEGER NOT NULL DEFAULT 0,
    extension    TEXT    NOT NULL DEFAULT '',
    user_name    TEXT    NOT NULL DEFAULT '',
    status       TEXT    NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX group_calls_stay ON group_calls (account_id, stay_id);
CREATE INDEX group_calls_group_entered ON group_calls (account_id, group_type, group_id, entered_at);
CREATE INDEX group_calls_open ON group_calls (left_at);
CREATE INDEX call_records_account_user ON call_records (account_id, user_id, started_at);

-- +goose Down
DROP INDEX call_records_account_user;
DROP TABLE group_calls;
