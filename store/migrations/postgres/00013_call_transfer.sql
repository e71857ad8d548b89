-- +goose Up
-- Where a call was last transferred (blind, attended or into a park slot) and by whom:
-- the record stays one per call, crediting the user who took it over.
ALTER TABLE call_records ADD COLUMN transferred_to TEXT NOT NULL DEFAULT '';
ALTER TABLE call_records ADD COLUMN transferred_by_user_id BIGINT NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE call_records DROP COLUMN transferred_by_user_id;
ALTER TABLE call_records DROP COLUMN transferred_to;
