-- +goose Up
-- Queue callbacks (docs/queues.md "Callback"): a waiting caller presses the queue's
-- callback key, hangs up, and keeps their place; the entry is offered to agents when the
-- caller would have been, and the caller is dialled back once an agent answers. Pending
-- entries survive a restart. Times are unix milliseconds UTC. The same schema as
-- ../postgres/00018_queue_callbacks.sql: keep them in step.
ALTER TABLE queues ADD COLUMN callback_enabled INTEGER NOT NULL DEFAULT 0;
ALTER TABLE queues ADD COLUMN callback_key TEXT NOT NULL DEFAULT '1';
ALTER TABLE queues ADD COLUMN callback_after_s INTEGER NOT NULL DEFAULT 0;
ALTER TABLE queues ADD COLUMN callback_max INTEGER NOT NULL DEFAULT 0;
ALTER TABLE queues ADD COLUMN callback_retries INTEGER NOT NULL DEFAULT 1;

-- queue_id has no foreign key: deleting a queue fails its pending callbacks (the engine
-- reports each with queue.callback.failed) rather than being refused.
CREATE TABLE queue_callbacks (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id       INTEGER NOT NULL REFERENCES accounts (id),
    queue_id         INTEGER NOT NULL,
    stay_id          TEXT    NOT NULL,
    call_id          TEXT    NOT NULL,
    direction        TEXT    NOT NULL,
    from_number      TEXT    NOT NULL DEFAULT '',
    caller_name      TEXT    NOT NULL DEFAULT '',
    to_number        TEXT    NOT NULL DEFAULT '',
    number           TEXT    NOT NULL DEFAULT '',
    caller_user_id   INTEGER NOT NULL DEFAULT 0,
    callback_number  TEXT    NOT NULL,
    entered_at       INTEGER NOT NULL,
    requested_at     INTEGER NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    status           TEXT    NOT NULL,
    callback_call_id TEXT    NOT NULL DEFAULT '',
    updated_at       INTEGER NOT NULL
);
CREATE UNIQUE INDEX queue_callbacks_stay ON queue_callbacks (account_id, stay_id);
CREATE INDEX queue_callbacks_queue ON queue_callbacks (account_id, queue_id, status, entered_at);
CREATE INDEX queue_callbacks_pending ON queue_callbacks (status);

-- +goose Down
DROP TABLE queue_callbacks;
ALTER TABLE queues DROP COLUMN callback_retries;
ALTER TABLE queues DROP COLUMN callback_max;
ALTER TABLE queues DROP COLUMN callback_after_s;
ALTER TABLE queues DROP COLUMN callback_key;
ALTER TABLE queues DROP COLUMN callback_enabled;
