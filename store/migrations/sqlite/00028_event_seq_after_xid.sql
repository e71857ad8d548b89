-- +goose Up
-- Nothing to change on SQLite: one writer at a time, so events commit in seq order. The
-- PostgreSQL migration of the same number makes a transaction take its id before its seqs;
-- the file is here to keep the two dialects' versions in step.
SELECT 1;

-- +goose Down
SELECT 1;
