-- +goose Up
-- The outbox's indexes hold only the messages they are for. messages_due holds the messages
-- still to send (queued, or sending under a lease): a message leaves it when it is sent, and
-- its delivery report no longer rewrites an entry. messages_phone_pending holds the inbound
-- messages waiting for a phone, in the order they are delivered: an outbound message is
-- never in it. The queries repeat each index's condition word for word, so that SQLite (and
-- PostgreSQL, with a generic plan) may use it.
DROP INDEX messages_due;
CREATE INDEX messages_due ON messages (status, next_attempt_at, id) WHERE status IN ('queued', 'sending');
DROP INDEX messages_phone_pending;
CREATE INDEX messages_phone_pending ON messages (account_id, phone_user_id, created_at, id) WHERE phone_pending = TRUE;

-- +goose Down
DROP INDEX messages_phone_pending;
CREATE INDEX messages_phone_pending ON messages (account_id, phone_user_id, phone_pending);
DROP INDEX messages_due;
CREATE INDEX messages_due ON messages (status, next_attempt_at, id);
