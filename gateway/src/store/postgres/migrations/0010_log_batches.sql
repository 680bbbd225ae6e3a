-- The internal event log and the pending compliance audit records, one row per writing
-- transaction (attempt) instead of one per entry. A create or advance group carries the
-- entries of up to eight orders, and each row is written twice (inserted by the writer,
-- then numbered or moved by the sequencer), each time with an entry in every index of
-- the table: per entry that was most of the log's cost to the database.

-- A batch is the entries one attempt appended, in order, from its place `ord`; the
-- sequencer numbers it at once: its first entry gets `seq`, the next `seq + 1`, and so
-- on. Rows of a group run to a few KiB: `toast_tuple_target` keeps them in the table
-- uncompressed (PostgreSQL; CockroachDB has no TOAST and ignores it).
CREATE TABLE event_batches (
    txn  TEXT NOT NULL,
    ord  INT NOT NULL,
    n    INT NOT NULL CHECK (n >= 1),       -- entries
    seq  BIGINT,                            -- the first entry's number once numbered
    docs JSONB NOT NULL,                    -- array of Event, `seq` from the columns
    PRIMARY KEY (txn, ord)
) WITH (toast_tuple_target = 8160);
CREATE UNIQUE INDEX event_batches_by_seq ON event_batches (seq) WHERE seq IS NOT NULL;
CREATE INDEX event_batches_unnumbered ON event_batches (txn, ord) WHERE seq IS NULL;
INSERT INTO event_batches (txn, ord, n, seq, docs)
    SELECT txn, ord, 1, seq, jsonb_build_array(doc) FROM events;
DROP TABLE events;

-- Pending compliance audit records likewise: one row per attempt with its records in
-- order (each `AuditRecord::encode` with seq 0).
CREATE TABLE audit_batches (
    txn     TEXT NOT NULL,
    ord     INT NOT NULL,
    records BYTEA[] NOT NULL,
    PRIMARY KEY (txn, ord)
) WITH (toast_tuple_target = 8160);
INSERT INTO audit_batches (txn, ord, records)
    SELECT txn, ord, ARRAY[bytes] FROM audit_pending;
DROP TABLE audit_pending;
