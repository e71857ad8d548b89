-- +goose Up
-- Voicemail: boxes (one per user, created on first use, or shared with user_id NULL) and
-- the messages left in them. The audio is in blob storage under audio_key. The same schema
-- as ../postgres/00016_voicemail.sql: keep them in step.
CREATE TABLE voicemail_boxes (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id          INTEGER NOT NULL REFERENCES accounts (id),
    user_id             INTEGER REFERENCES users (id) ON DELETE CASCADE,
    name                TEXT    NOT NULL,
    pin_hash            TEXT    NOT NULL DEFAULT '',
    greeting_key        TEXT    NOT NULL DEFAULT '',
    max_message_seconds INTEGER NOT NULL,
    max_messages        INTEGER NOT NULL,
    on_no_answer        INTEGER NOT NULL,
    on_busy             INTEGER NOT NULL,
    on_dnd              INTEGER NOT NULL,
    on_offline          INTEGER NOT NULL,
    email               INTEGER NOT NULL,
    email_attach        INTEGER NOT NULL,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);
CREATE UNIQUE INDEX voicemail_boxes_user ON voicemail_boxes (account_id, user_id);

CREATE TABLE voicemail_messages (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id  INTEGER NOT NULL REFERENCES accounts (id),
    box_id      INTEGER NOT NULL REFERENCES voicemail_boxes (id) ON DELETE CASCADE,
    call_id     TEXT    NOT NULL,
    from_number TEXT    NOT NULL,
    caller_name TEXT    NOT NULL,
    duration_ms INTEGER NOT NULL,
    audio_key   TEXT    NOT NULL,
    audio_bytes INTEGER NOT NULL,
    read_at     INTEGER,
    created_at  INTEGER NOT NULL
);
CREATE INDEX voicemail_messages_box ON voicemail_messages (account_id, box_id, id);

-- +goose Down
DROP TABLE voicemail_messages;
DROP TABLE voicemail_boxes;
