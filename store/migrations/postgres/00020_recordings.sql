-- +goose Up
-- Call recordings: one row per recording (the WAV is in blob storage under blob_key),
-- written "recording" when it starts and completed when it ends, so that a recording the
-- process was writing when it died is found and repaired on the next start. Recording
-- policy: users, queues and numbers ('' = as the account says) and the account's default,
-- retention, consent announcement and transcription settings. The same schema as
-- ../sqlite/00020_recordings.sql: keep them in step.
CREATE TABLE recordings (
    id          TEXT    PRIMARY KEY,
    account_id  BIGINT  NOT NULL REFERENCES accounts (id),
    call_id     TEXT    NOT NULL,
    user_id     BIGINT  NOT NULL DEFAULT 0,
    queue_id    BIGINT  NOT NULL DEFAULT 0,
    direction   TEXT    NOT NULL DEFAULT '',
    status      TEXT    NOT NULL,
    blob_key    TEXT    NOT NULL,
    size        BIGINT  NOT NULL DEFAULT 0,
    duration_ms BIGINT  NOT NULL DEFAULT 0,
    paused_ms   BIGINT  NOT NULL DEFAULT 0,
    started_at  BIGINT  NOT NULL,
    ended_at    BIGINT  NOT NULL DEFAULT 0,
    error       TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX recordings_account_started ON recordings (account_id, started_at, id);
CREATE INDEX recordings_call ON recordings (account_id, call_id);
CREATE INDEX recordings_status ON recordings (status);

ALTER TABLE users ADD COLUMN recording TEXT NOT NULL DEFAULT '';
ALTER TABLE queues ADD COLUMN recording TEXT NOT NULL DEFAULT '';
ALTER TABLE numbers ADD COLUMN recording TEXT NOT NULL DEFAULT '';
ALTER TABLE numbers ADD COLUMN recording_consent_prompt_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN recording_default TEXT NOT NULL DEFAULT 'none';
ALTER TABLE accounts ADD COLUMN recording_retention_days BIGINT NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN recording_consent_prompt_id BIGINT NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN transcription_enabled BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE accounts ADD COLUMN redaction_enabled BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
ALTER TABLE accounts DROP COLUMN redaction_enabled;
ALTER TABLE accounts DROP COLUMN transcription_enabled;
ALTER TABLE accounts DROP COLUMN recording_consent_prompt_id;
ALTER TABLE accounts DROP COLUMN recording_retention_days;
ALTER TABLE accounts DROP COLUMN recording_default;
ALTER TABLE numbers DROP COLUMN recording_consent_prompt_id;
ALTER TABLE numbers DROP COLUMN recording;
ALTER TABLE queues DROP COLUMN recording;
ALTER TABLE users DROP COLUMN recording;
DROP TABLE recordings;
