-- +goose Up
-- Transcription (issue 11): the account's language, the durable job queue (one job per
-- recording, claimed like the webhook outbox: a lease that expires if the worker dies) and
-- the finished transcripts with their call analytics (a JSON document in the Voice360
-- TRANSCRIPTION_FINISHED shape). The same schema as ../postgres/00021_transcription.sql:
-- keep them in step.
-- The switches are accounts.transcription_enabled and redaction_enabled (00020); the
-- language the engines are told and the analytics name is the account's too.
ALTER TABLE accounts ADD COLUMN transcription_language TEXT NOT NULL DEFAULT 'en-US';

CREATE TABLE transcription_jobs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id      INTEGER NOT NULL REFERENCES accounts (id),
    recording_id    TEXT    NOT NULL,
    call_id         TEXT    NOT NULL,
    crm_id          TEXT    NOT NULL DEFAULT '',
    direction       TEXT    NOT NULL DEFAULT '',
    blob_key        TEXT    NOT NULL,
    duration_ms     INTEGER NOT NULL DEFAULT 0,
    status          TEXT    NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_until     INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    completed_at    INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX transcription_jobs_recording ON transcription_jobs (recording_id);
CREATE INDEX transcription_jobs_due ON transcription_jobs (status, next_attempt_at);

CREATE TABLE transcripts (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id   INTEGER NOT NULL REFERENCES accounts (id),
    call_id      TEXT    NOT NULL,
    recording_id TEXT    NOT NULL,
    job_id       INTEGER NOT NULL,
    engine       TEXT    NOT NULL,
    model        TEXT    NOT NULL,
    language     TEXT    NOT NULL,
    total_tokens INTEGER NOT NULL DEFAULT 0,
    redactions   INTEGER NOT NULL DEFAULT 0,
    analytics    TEXT    NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE UNIQUE INDEX transcripts_recording ON transcripts (recording_id);
CREATE INDEX transcripts_call ON transcripts (account_id, call_id);

-- +goose Down
DROP TABLE transcripts;
DROP TABLE transcription_jobs;
ALTER TABLE accounts DROP COLUMN transcription_language;
