-- +goose Up
-- A device may be required to use SIP over TLS and SRTP. The same schema as
-- ../sqlite/00008_device_require_secure.sql: keep them in step.
ALTER TABLE devices ADD COLUMN require_secure BOOLEAN NOT NULL DEFAULT FALSE;

-- +goose Down
ALTER TABLE devices DROP COLUMN require_secure;
