-- +goose Up
-- Click-to-call's `recording` flag, kept on the call record until recording itself is built.
ALTER TABLE call_records ADD COLUMN recording_requested BOOLEAN NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE call_records DROP COLUMN recording_requested;
