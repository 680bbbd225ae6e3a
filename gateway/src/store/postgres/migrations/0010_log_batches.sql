-- The three logs a write appends to (the internal event log, the public events, the
-- pending compliance audit records) take one row per writing transaction (attempt), or
-- per run of its entries, instead of one per entry. A create or advance group carries the
-- entries of up to eight orders, and each row is written twice (inserted by the writer,
-- then numbered or moved by the sequencer), each time with an entry in every index of
-- the table: per entry that was most of the log's cost to the database.

-- A batch is the entries one attempt appended, in order, from its place `ord`; the
-- sequencer numbers it at once: its first entry gets `seq`, the next `seq + 1`, and so
-- on. A group's public events run to about 5 KiB of JSON, which PostgreSQL compresses in
-- the row (TOAST; `toast_tuple_target` would keep them plain, but CockroachDB refuses that
-- storage parameter).
CREATE TABLE event_batches (
    txn  TEXT NOT NULL,
    ord  INT NOT NULL,
    n    INT NOT NULL CHECK (n >= 1),       -- entries
    seq  BIGINT,                            -- the first entry's number once numbered
    docs JSONB NOT NULL,                    -- array of Event, `seq` from the columns
    PRIMARY KEY (txn, ord)
);
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
);
INSERT INTO audit_batches (txn, ord, records)
    SELECT txn, ord, ARRAY[bytes] FROM audit_pending;
DROP TABLE audit_pending;

-- Public events likewise, a batch per run of consecutive entries of one attempt with the
-- same tenant and type (a create group's `order.created`s), so each number (`seq`,
-- `tenant_seq`) and each index entry covers the run: entry i of a batch is number
-- `seq + i` and the tenant's `tenant_seq + i`. A tenant's entries keep their order (its
-- runs are numbered in (attempt, place) order), and a page of one type still reads its
-- index. Readers unnest `docs` (`jsonb_array_elements … WITH ORDINALITY`).
CREATE TABLE public_batches (
    txn        TEXT NOT NULL,
    ord        INT NOT NULL,                -- the first entry's place in the attempt
    tenant     TEXT NOT NULL,
    event_type TEXT NOT NULL,
    n          INT NOT NULL CHECK (n >= 1), -- entries
    seq        BIGINT,                      -- the first entry's numbers once numbered
    tenant_seq BIGINT,
    docs       JSONB NOT NULL,              -- array of PublicEvent, numbers from the columns
    PRIMARY KEY (txn, ord)
);
CREATE UNIQUE INDEX public_batches_by_seq ON public_batches (seq) WHERE seq IS NOT NULL;
CREATE UNIQUE INDEX public_batches_by_tenant ON public_batches (tenant, tenant_seq)
    WHERE tenant_seq IS NOT NULL;
CREATE INDEX public_batches_by_type ON public_batches (tenant, event_type, tenant_seq)
    WHERE tenant_seq IS NOT NULL;
CREATE INDEX public_batches_unnumbered ON public_batches (txn, ord) WHERE seq IS NULL;
INSERT INTO public_batches (txn, ord, tenant, event_type, n, seq, tenant_seq, docs)
    SELECT txn, ord, tenant, event_type, 1, seq, tenant_seq, jsonb_build_array(doc)
    FROM public_events;
DROP TABLE public_events;
