-- +goose Up
-- Followers of the event table (the live stream) read it in seq order while transactions
-- are still running, and on PostgreSQL a transaction can commit after one that took a later
-- seq. A follower knows that every event below the seqs it has seen is final once every
-- transaction that was running when it looked has ended — which needs each transaction to
-- have its id before it takes a seq (an identity column takes the seq first). So the seq is
-- taken by a trigger, after the transaction id. See store/event.go, eventFollower.
ALTER TABLE events ALTER COLUMN seq DROP IDENTITY;
CREATE SEQUENCE events_seq OWNED BY events.seq;
SELECT setval('events_seq', COALESCE((SELECT MAX(seq) FROM events), 0) + 1, false);

-- +goose StatementBegin
CREATE FUNCTION events_take_seq() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_current_xact_id(); -- the transaction's id first: see above
    NEW.seq := nextval('events_seq');
    RETURN NEW;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER events_take_seq BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION events_take_seq();

-- +goose Down
DROP TRIGGER events_take_seq ON events;
DROP FUNCTION events_take_seq();
DROP SEQUENCE events_seq;
ALTER TABLE events ALTER COLUMN seq ADD GENERATED ALWAYS AS IDENTITY;
SELECT setval(pg_get_serial_sequence('events', 'seq'), COALESCE((SELECT MAX(seq) FROM events), 0) + 1, false);
