-- +goose Up
-- A device may be required to use SIP over TLS and SRTP (booleans 0/1). The same schema
-- as ../postgres/00008_device_require_secure.sql: keep them in step.
ALTER TABLE devices ADD COLUMN require_secure INTEGER NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE devices DROP COLUMN require_secure;
