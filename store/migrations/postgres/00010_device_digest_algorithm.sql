-- +goose Up
-- The digest a device must authenticate with: 'md5' (challenged as the server is
-- configured, MD5 alone by default) or 'sha-256' (SHA-256 alone, MD5 refused). The same
-- schema as ../sqlite/00010_device_digest_algorithm.sql: keep them in step.
ALTER TABLE devices ADD COLUMN digest_algorithm TEXT NOT NULL DEFAULT 'md5';
-- The registrar asks whether any device requires SHA-256; few do.
CREATE INDEX devices_sha256 ON devices (id) WHERE digest_algorithm = 'sha-256';

-- +goose Down
DROP INDEX devices_sha256;
ALTER TABLE devices DROP COLUMN digest_algorithm;
