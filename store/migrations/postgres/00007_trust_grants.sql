-- +goose Up
-- Operator grants: an account's trunks may trust these prefixes (wide ones, or addresses
-- registered phones use). Made with `switchboard admin trust-cidr`, never through the API.
CREATE TABLE trust_grants (
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    prefix     TEXT    NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, prefix)
);

-- +goose Down
DROP TABLE trust_grants;
