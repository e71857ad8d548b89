-- +goose Up
-- Operator grants: an account's trunks may trust these prefixes (wide ones, or addresses
-- registered phones use). Made with `switchboard admin trust-cidr`, never through the API.
CREATE TABLE trust_grants (
    account_id INTEGER NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    prefix     TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, prefix)
);

-- Each account may have its own SIP domain; SIP usernames are then unique per account (the
-- store keeps them unique across accounts wherever an account without a domain is involved).
ALTER TABLE accounts ADD COLUMN sip_domain TEXT;
CREATE UNIQUE INDEX accounts_sip_domain ON accounts (sip_domain);
DROP INDEX devices_sip_username;
CREATE UNIQUE INDEX devices_account_sip_username ON devices (account_id, sip_username);
CREATE INDEX devices_sip_username ON devices (sip_username);
-- The digest realm a device's HA1s are for: its account's SIP domain when the password was
-- set, else 'switchboard'.
ALTER TABLE devices ADD COLUMN sip_realm TEXT NOT NULL DEFAULT 'switchboard';

-- +goose Down
ALTER TABLE devices DROP COLUMN sip_realm;
DROP INDEX devices_sip_username;
DROP INDEX devices_account_sip_username;
CREATE UNIQUE INDEX devices_sip_username ON devices (sip_username);
DROP INDEX accounts_sip_domain;
ALTER TABLE accounts DROP COLUMN sip_domain;
DROP TABLE trust_grants;
