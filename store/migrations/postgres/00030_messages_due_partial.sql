-- +goose Up
-- Only messages still to send (queued, or sending under a lease) are in messages_due: a
-- message leaves it when it is sent, and its delivery report and later changes no longer
-- rewrite an index entry. The claim's query repeats the index's condition word for word, so
-- that SQLite (and PostgreSQL, with a generic plan) may use it.
DROP INDEX messages_due;
CREATE INDEX messages_due ON messages (status, next_attempt_at, id) WHERE status IN ('queued', 'sending');

-- +goose Down
DROP INDEX messages_due;
CREATE INDEX messages_due ON messages (status, next_attempt_at, id);
