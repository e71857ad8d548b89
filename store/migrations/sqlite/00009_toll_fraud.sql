-- +goose Up
-- Toll-fraud guards (issue 14). Accounts that exist when this runs keep calling every
-- country ('*'); an account created later gets no international destinations unless it
-- lists them (the store writes what the account holds, '' for none).
ALTER TABLE accounts ADD COLUMN max_outbound_calls INTEGER NOT NULL DEFAULT 0;
ALTER TABLE accounts ADD COLUMN country_code TEXT NOT NULL DEFAULT '1';
ALTER TABLE accounts ADD COLUMN allowed_countries TEXT NOT NULL DEFAULT '*';
ALTER TABLE accounts ADD COLUMN max_outbound_minutes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN max_outbound_calls INTEGER NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN max_outbound_minutes INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE users DROP COLUMN max_outbound_minutes;
ALTER TABLE users DROP COLUMN max_outbound_calls;
ALTER TABLE accounts DROP COLUMN max_outbound_minutes;
ALTER TABLE accounts DROP COLUMN allowed_countries;
ALTER TABLE accounts DROP COLUMN country_code;
ALTER TABLE accounts DROP COLUMN max_outbound_calls;
