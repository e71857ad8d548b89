-- +goose Up
-- Call flows: a named graph of nodes (time conditions, menus, queues …) a call walks from
-- start. The nodes are one JSON object (name -> node), validated by the service on write;
-- numbers, queue overflows and ring group fallbacks point at a flow with target type
-- 'callflow' and the flow's id (deleting a flow they use is refused in the store). The same
-- schema as ../postgres/00014_callflows.sql: keep them in step.
CREATE TABLE callflows (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    name       TEXT    NOT NULL,
    start      TEXT    NOT NULL,
    nodes      TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX callflows_name ON callflows (account_id, name);

-- +goose Down
DROP TABLE callflows;
