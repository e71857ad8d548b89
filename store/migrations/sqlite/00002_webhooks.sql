-- +goose Up
-- Webhook subscriptions and the delivery outbox. Times are unix milliseconds UTC (0 = none);
-- booleans 0/1; JSON as TEXT. The same schema as ../postgres/00002_webhooks.sql: keep them
-- in step.

CREATE TABLE webhooks (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id            INTEGER NOT NULL REFERENCES accounts (id),
    name                  TEXT    NOT NULL DEFAULT '',
    url                   TEXT    NOT NULL,
    events                TEXT    NOT NULL DEFAULT '[]', -- as the user gave them
    event_filter          TEXT    NOT NULL DEFAULT '[]', -- canonical names, or ["*"]
    format                TEXT    NOT NULL,
    method                TEXT    NOT NULL DEFAULT 'POST',
    retries               INTEGER NOT NULL DEFAULT -1,   -- -1: the format's rule
    headers               TEXT    NOT NULL DEFAULT '{}',
    active                INTEGER NOT NULL DEFAULT 1,
    disabled_reason       TEXT    NOT NULL DEFAULT '',
    disabled_at           INTEGER NOT NULL DEFAULT 0,
    secret                BLOB    NOT NULL,              -- sealed (AES-GCM), never plaintext
    previous_secret       BLOB,                          -- sealed; valid until previous_secret_until
    previous_secret_until INTEGER NOT NULL DEFAULT 0,
    consecutive_failures  INTEGER NOT NULL DEFAULT 0,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL
);
CREATE INDEX webhooks_account ON webhooks (account_id);

-- One row per (event, subscription, provider event name). message_id is the webhook-id
-- header, stable across retries and resends. lease_until > now marks a claimed delivery.
CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id      INTEGER NOT NULL,
    webhook_id      INTEGER NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event_seq       INTEGER NOT NULL,
    event_id        TEXT    NOT NULL,
    event_name      TEXT    NOT NULL,
    wire_name       TEXT    NOT NULL,
    message_id      TEXT    NOT NULL,
    call_id         TEXT    NOT NULL DEFAULT '',
    status          TEXT    NOT NULL DEFAULT 'pending', -- pending, succeeded, failed
    attempts        INTEGER NOT NULL DEFAULT 0,
    round_attempts  INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    lease_until     INTEGER NOT NULL DEFAULT 0,
    last_status     INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    completed_at    INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX webhook_deliveries_message ON webhook_deliveries (webhook_id, message_id);
CREATE INDEX webhook_deliveries_call ON webhook_deliveries (webhook_id, call_id, id) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_webhook_due ON webhook_deliveries (webhook_id, next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_leased ON webhook_deliveries (lease_until) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_account ON webhook_deliveries (account_id, id);
CREATE INDEX webhook_deliveries_created ON webhook_deliveries (created_at);

CREATE TABLE webhook_attempts (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id     INTEGER NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    number          INTEGER NOT NULL,
    at              INTEGER NOT NULL,
    request_method  TEXT    NOT NULL DEFAULT '',
    request_url     TEXT    NOT NULL DEFAULT '',
    request_headers TEXT    NOT NULL DEFAULT '{}',
    request_body    TEXT    NOT NULL DEFAULT '',
    response_status INTEGER NOT NULL DEFAULT 0,
    response_body   TEXT    NOT NULL DEFAULT '',
    latency_us      INTEGER NOT NULL DEFAULT 0,
    error           TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, number);

-- +goose Down
DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhooks;
