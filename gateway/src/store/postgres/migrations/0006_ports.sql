-- Number porting (issue 12). A port-in is an activation order with a port part; these
-- tables are the embedded store's PORT_PARKED, PORTS_OPEN and PORT_INBOX/PORT_PENDING.
-- A parked port order (waiting for the hub or a deadline) has no orders_inflight row:
-- it is listed here by deadline (9223372036854775807 for none) and woken by the port
-- timer or by an inbox item. The first two are derived from the orders' documents.
CREATE TABLE port_parked (
    due_ms   BIGINT NOT NULL,
    order_id TEXT NOT NULL,
    PRIMARY KEY (due_ms, order_id)
);
CREATE TABLE ports_open (
    tenant   TEXT NOT NULL,
    order_id TEXT NOT NULL,
    PRIMARY KEY (tenant, order_id)
);
-- Every hub message and channel cancel received, by dedupe key; the hub message body is
-- sealed in the document.
CREATE TABLE port_inbox (
    key            TEXT PRIMARY KEY,
    order_id       TEXT,
    received_at_ms BIGINT NOT NULL,
    applied        BOOLEAN NOT NULL,
    doc            JSONB NOT NULL
);
CREATE INDEX port_inbox_pending ON port_inbox (order_id, received_at_ms, key) WHERE NOT applied;
