-- +goose Up
-- Conference rooms: a room number (its extension, claimed in the extensions table like a
-- user's, queue's or ring group's, owner_type 'conference'), an optional PIN kept only as a
-- PBKDF2 hash, and the room's settings. Who is in a room is live state, not stored. The
-- same schema as ../postgres/00017_conference_rooms.sql: keep them in step.
CREATE TABLE conference_rooms (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id          INTEGER NOT NULL REFERENCES accounts (id),
    name                TEXT    NOT NULL,
    extension           TEXT    NOT NULL,
    pin_hash            TEXT    NOT NULL DEFAULT '',
    max_participants    INTEGER NOT NULL,
    mute_on_join        INTEGER NOT NULL DEFAULT 0,
    announce_join_leave INTEGER NOT NULL DEFAULT 1,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL
);
CREATE UNIQUE INDEX conference_rooms_extension ON conference_rooms (account_id, extension);

-- +goose Down
DROP TABLE conference_rooms;
