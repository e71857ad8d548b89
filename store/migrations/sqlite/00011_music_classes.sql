-- +goose Up
-- Music on hold classes: audio uploaded as WAV or MP3, stored converted to 8 kHz mono
-- G.711 µ-law (at most 5 minutes, 2.4 MB), the form it is played in; a queue names one by
-- name (queues.musiconhold). The same schema as ../postgres/00011_music_classes.sql: keep
-- them in step.
CREATE TABLE music_classes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    name       TEXT    NOT NULL,
    format     TEXT    NOT NULL,
    samples    INTEGER NOT NULL,
    audio      BLOB    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX music_classes_name ON music_classes (account_id, name);

-- +goose Down
DROP TABLE music_classes;
