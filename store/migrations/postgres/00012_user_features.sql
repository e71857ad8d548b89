-- +goose Up
-- Do not disturb and call waiting per user. The same schema as
-- ../sqlite/00012_user_features.sql: keep them in step.
ALTER TABLE users ADD COLUMN do_not_disturb BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE users ADD COLUMN call_waiting BOOLEAN NOT NULL DEFAULT TRUE;

-- +goose Down
ALTER TABLE users DROP COLUMN call_waiting;
ALTER TABLE users DROP COLUMN do_not_disturb;
