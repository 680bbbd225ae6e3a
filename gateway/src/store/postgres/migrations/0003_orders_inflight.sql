-- Orders in flight move to their own table, with their leases: the partial indexes over
-- `orders.inflight` (one order per line, one activation per SIM and per number, the
-- lease index) made an order's last update (leaving flight) and every lease renewal an
-- indexed-column change, so not heap-only (migration 2 says why that matters at
-- SERIALIZABLE). `orders` keeps the `inflight` column, unindexed, for reads.
DROP INDEX orders_one_inflight_per_line;
DROP INDEX orders_activation_sim;
DROP INDEX orders_activation_number;
DROP INDEX orders_inflight_lease;
CREATE TABLE orders_inflight (
    id             TEXT PRIMARY KEY,
    line           TEXT NOT NULL UNIQUE,    -- one order in flight per line
    kind           TEXT NOT NULL,
    iccid          TEXT NOT NULL,
    msisdn         TEXT NOT NULL,
    lease_owner    TEXT,                    -- node id driving the order
    lease_until_ms BIGINT                   -- another node may take it over after this
);
CREATE UNIQUE INDEX orders_inflight_activation_sim ON orders_inflight (iccid)
    WHERE kind = 'activation';
CREATE UNIQUE INDEX orders_inflight_activation_number ON orders_inflight (msisdn)
    WHERE kind = 'activation';
CREATE INDEX orders_inflight_lease ON orders_inflight (lease_until_ms, id);
INSERT INTO orders_inflight (id, line, kind, iccid, msisdn, lease_owner, lease_until_ms)
    SELECT id, line, kind, iccid, msisdn, lease_owner, lease_until_ms FROM orders
    WHERE inflight;
ALTER TABLE orders DROP COLUMN lease_owner;
ALTER TABLE orders DROP COLUMN lease_until_ms;
