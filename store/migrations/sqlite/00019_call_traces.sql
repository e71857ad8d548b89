-- +goose Up
-- What call flows did with each call (steps: node, kind, key, decision and reason, time),
-- one row per call that ran a flow, written when the call ends; steps is a JSON array.
-- GET /calls/{call_id}/trace reads it. The same schema as ../postgres/00019_call_traces.sql:
-- keep them in step.
CREATE TABLE call_traces (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id  INTEGER NOT NULL REFERENCES accounts (id),
    call_id     TEXT    NOT NULL,
    callflow_id INTEGER NOT NULL,
    steps       TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX call_traces_call ON call_traces (account_id, call_id);

-- +goose Down
DROP TABLE call_traces;
