-- +goose Up
-- Do not disturb and call waiting per user (issue 9). Existing users keep taking calls as
-- before: DND off, call waiting on.
ALTER TABLE users ADD COLUMN do_not_disturb INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN call_waiting INTEGER NOT NULL DEFAULT 1;

-- +goose Down
ALTER TABLE users DROP COLUMN call_waiting;
ALTER TABLE users DROP COLUMN do_not_disturb;
