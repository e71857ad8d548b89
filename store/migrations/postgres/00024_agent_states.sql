-- +goose Up
-- Agent states (docs/agents.md): a queue member is logged in or out of the queue, and
-- paused with one of the account's pause reasons. agent_state_periods records each state a
-- member was in, from when to when (ended_at NULL: still in it), for the queue reports.
-- Times are unix milliseconds UTC. The same schema as the other dialect's 00024: keep them
-- in step.
ALTER TABLE queue_members ADD COLUMN logged_in BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE queue_members ADD COLUMN pause_reason TEXT NOT NULL DEFAULT '';

CREATE TABLE agent_pause_reasons (
    account_id BIGINT  NOT NULL REFERENCES accounts (id),
    position   INTEGER NOT NULL,
    name       TEXT    NOT NULL,
    PRIMARY KEY (account_id, name)
);

-- queue_id and user_id have no foreign keys: the history outlives a deleted queue or user.
CREATE TABLE agent_state_periods (
    id         BIGSERIAL PRIMARY KEY,
    account_id BIGINT  NOT NULL REFERENCES accounts (id),
    queue_id   BIGINT  NOT NULL,
    user_id    BIGINT  NOT NULL,
    state      TEXT    NOT NULL,
    reason     TEXT    NOT NULL DEFAULT '',
    started_at BIGINT  NOT NULL,
    ended_at   BIGINT
);
CREATE INDEX agent_state_periods_queue ON agent_state_periods (account_id, queue_id, started_at);
-- A webhook subscription's fallback URL gets a delivery once the main URL used up its
-- retries (docs/webhooks.md "Fallback URL"); '' = none.
ALTER TABLE webhooks ADD COLUMN fallback_url TEXT NOT NULL DEFAULT '';

CREATE INDEX agent_state_periods_open ON agent_state_periods (queue_id, user_id) WHERE ended_at IS NULL;

-- +goose Down
ALTER TABLE webhooks DROP COLUMN fallback_url;
DROP TABLE agent_state_periods;
DROP TABLE agent_pause_reasons;
ALTER TABLE queue_members DROP COLUMN pause_reason;
ALTER TABLE queue_members DROP COLUMN logged_in;
