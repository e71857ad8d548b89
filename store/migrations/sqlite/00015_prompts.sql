-- +goose Up
-- Prompts: announcements of an account, uploaded (WAV/MP3) or spoken by espeak-ng from
-- text, converted to 8 kHz mono 16-bit PCM WAV and kept in the blob store under blob_key
-- (the row is the catalog; the audio is not in the database). Languages: an account's
-- default language (for system prompts and text prompts), and a number's, "" meaning its
-- account's. The same schema as ../postgres/00015_prompts.sql: keep them in step.
CREATE TABLE prompts (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    name       TEXT    NOT NULL,
    source     TEXT    NOT NULL,
    text       TEXT    NOT NULL DEFAULT '',
    voice      TEXT    NOT NULL DEFAULT '',
    language   TEXT    NOT NULL DEFAULT '',
    samples    INTEGER NOT NULL,
    size       INTEGER NOT NULL,
    blob_key   TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX prompts_account ON prompts (account_id, id);
CREATE UNIQUE INDEX prompts_blob_key ON prompts (blob_key);

ALTER TABLE accounts ADD COLUMN language TEXT NOT NULL DEFAULT 'en';
ALTER TABLE numbers ADD COLUMN language TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE numbers DROP COLUMN language;
ALTER TABLE accounts DROP COLUMN language;
DROP TABLE prompts;
