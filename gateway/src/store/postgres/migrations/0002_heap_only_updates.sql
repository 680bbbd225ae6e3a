-- Heap-only updates on the order path. An update that changes no indexed column (nor a
-- column a partial index's predicate reads) and finds room on its page is heap-only in
-- PostgreSQL: it writes no index entry. Any other update inserts into the primary key's
-- B-tree page, and at SERIALIZABLE (index predicate locks are page-granular) every
-- transaction in flight that read a neighbouring key on that page then fails to
-- serialize, which under load made most orders retry several times.

-- Room on every page for the versions an order's updates write (pages written from now
-- on; CockroachDB ignores fillfactor).
ALTER TABLE orders SET (fillfactor = 50);
ALTER TABLE numbers SET (fillfactor = 70);
ALTER TABLE idempotency SET (fillfactor = 70);
ALTER TABLE subscriptions SET (fillfactor = 70);

-- Free ordinary numbers move to their own table, as eSIM stock (free_esim) already is:
-- a partial index over `numbers.state` made every state change (available → reserved →
-- assigned) an indexed-column change. Allocation deletes from here; a number returning
-- to the pool is inserted again.
CREATE TABLE free_numbers (
    tenant TEXT NOT NULL,
    msisdn TEXT NOT NULL,
    PRIMARY KEY (tenant, msisdn)
);
INSERT INTO free_numbers (tenant, msisdn)
    SELECT tenant, msisdn FROM numbers WHERE state = 'available' AND class = 'normal';
DROP INDEX numbers_free;

-- The quarantine lists index `until_ms` only (set while a number is held or
-- quarantined), not the state: a number leaving `available` for `reserved` keeps
-- `until_ms` NULL and so changes no indexed column.
DROP INDEX numbers_quarantine;
DROP INDEX numbers_quarantine_by_tenant;
CREATE INDEX numbers_until ON numbers (until_ms, msisdn) WHERE until_ms IS NOT NULL;
CREATE INDEX numbers_until_by_tenant ON numbers (tenant, until_ms, msisdn)
    WHERE until_ms IS NOT NULL;
