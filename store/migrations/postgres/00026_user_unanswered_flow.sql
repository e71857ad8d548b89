-- +goose Up
-- A user's direct calls that nobody answers can go to a call flow instead of voicemail
-- (0 = none). The same schema as ../sqlite/00026_user_unanswered_flow.sql: keep them in step.
ALTER TABLE users ADD COLUMN unanswered_callflow_id BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE users DROP COLUMN unanswered_callflow_id;
