-- Room on every page for the updates an order makes to its rows: an update that changes
-- no indexed column and finds room on its page is heap-only in PostgreSQL (no new index
-- entry). At SERIALIZABLE an index entry lands on a B-tree page that concurrent orders
-- have read (PostgreSQL's index predicate locks are page-granular), so each such update
-- fails some of them to serialize. Applies to pages written from now on. CockroachDB
-- ignores fillfactor.
ALTER TABLE orders SET (fillfactor = 50);
ALTER TABLE numbers SET (fillfactor = 70);
ALTER TABLE idempotency SET (fillfactor = 70);
ALTER TABLE subscriptions SET (fillfactor = 70);
