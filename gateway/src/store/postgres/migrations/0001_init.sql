-- simgw PostgreSQL schema, version 1.
--
-- Every entity is a row with real key columns (those that queries filter, order or
-- constrain on) plus `doc JSONB`: the same serde JSON the embedded backend stores
-- (gateway/src/store/records/), so both backends share one codec. The key columns are
-- written from the record by the same primitive that writes `doc`, never separately.
-- Numbered values (`seq`, `tenant_seq`, an event's `id`) live in columns only and are
-- put into the record when it is read.
--
-- Only what CockroachDB also speaks: TEXT, BIGINT, INT, BOOLEAN, BYTEA, JSONB; primary
-- keys, UNIQUE constraints and partial indexes; no sequences, no SERIAL, no advisory
-- locks, no LISTEN/NOTIFY, no foreign keys (the embedded backend has none either; each
-- write checks what it needs inside its SERIALIZABLE transaction).
--
-- Which embedded (redb) tables each table replaces (store/embedded/tables.rs, outbox.rs):
--
--   tenants             TENANTS
--   api_keys            API_KEYS
--   sims                SIMS; IMSIS (imsi UNIQUE); BATCH_SIMS (batch, file_line)
--   free_esim           FREE_ESIM (a table, not a partial index over sims.state, so that
--                       a SIM's state change indexes nothing: see sims)
--   numbers             NUMBERS; FREE_NUMBERS (partial index numbers_free); QUARANTINE
--                       (partial indexes numbers_quarantine*). FREE_TREE has no
--                       counterpart: allocation takes the next free row after a random
--                       start (store/postgres/numbers.rs).
--   counters            COUNTERS, sharded: (tenant, name, scope, shard), summed on read
--   orders              ORDERS; INFLIGHT (orders.inflight); ESIM_EXPIRY
--                       (orders.esim_expires_at_ms); plus node ownership (lease_owner,
--                       lease_until_ms), which the embedded backend does not need
--   idempotency         IDEMPOTENCY; IDEMPOTENCY_BY_TIME (index idempotency_by_time)
--   reservations        RESERVATIONS; RESERVATION_EXPIRY (partial index
--                       reservations_expiry); RESERVATION_IDEM (UNIQUE (tenant,
--                       idempotency_key) with body_hash)
--   batches             BATCHES
--   events              EVENTS (the internal audit log; numbered by the sequencer)
--   esim_progress       ESIM_PROGRESS
--   notifications       NOTIFICATIONS
--   subscriptions       SUBSCRIPTIONS; SUB_BY_MSISDN (msisdn UNIQUE, NULL once the line
--                       holds no number); SUB_BY_ICCID (iccid UNIQUE); SUB_BY_TENANT
--                       (index subscriptions_by_tenant)
--   meta                META
--   public_events       PUBLIC_EVENTS; PUBLIC_EVENTS_BY_TYPE (index
--                       public_events_by_type)
--   event_seq           PUBLIC_EVENT_SEQ, and the audit log's next number (written only
--                       by the sequencer, never on the request path)
--   leases              (new) the sequencer's and other single-runner jobs' leases
--   webhook_endpoints   WEBHOOK_ENDPOINTS; WEBHOOK_ROUTES (publish reads `doc`)
--   webhook_deliveries  WEBHOOK_DELIVERIES; WEBHOOK_QUEUES (partial index webhook_queue);
--                       WEBHOOK_DUE (partial index webhook_due)
--   settings            OUTBOX_SETTINGS
--   low_stock           (new) the levels the low-stock watch last saw: the embedded
--                       backend checks inside each counter change instead
--                       (store/postgres/low_stock.rs)
--
-- The database itself refuses: an ICCID or an IMSI twice (sims PK, sims.imsi UNIQUE); a
-- number twice (numbers PK); a card or a number on two lines (subscriptions.iccid,
-- subscriptions.msisdn UNIQUE); an idempotency key with two live orders (idempotency PK);
-- two orders in flight on one line (orders_one_inflight_per_line); one SIM or one number
-- in two activations in flight (orders_activation_sim, orders_activation_number).

CREATE TABLE tenants (
    id  TEXT PRIMARY KEY,
    doc JSONB NOT NULL
);

CREATE TABLE api_keys (
    hash   BYTEA PRIMARY KEY,           -- SHA-256 of the key
    tenant TEXT NOT NULL,
    doc    JSONB NOT NULL
);

CREATE TABLE sims (
    iccid             TEXT PRIMARY KEY,
    imsi              TEXT NOT NULL UNIQUE,
    tenant            TEXT NOT NULL,
    batch             TEXT NOT NULL,
    file_line         INT,              -- line in the imported file; NULL: an admin load
    stocked           BOOLEAN NOT NULL, -- false while its batch imports: exists for no one
    state             TEXT NOT NULL,    -- available | reserved | active | retired
    holder            TEXT,             -- the order of a reserved, active or retired SIM
    esim_profile_type TEXT,             -- set for an eSIM profile
    doc               JSONB NOT NULL
) WITH (fillfactor = 70);
-- No index may depend on the columns a state change writes (state, holder, doc), and
-- pages keep room (fillfactor): the change is then a heap-only update in PostgreSQL,
-- which writes no index entry. Otherwise it inserts into the primary key's page, and at
-- SERIALIZABLE (page-granular index predicate locks) every order on a neighbouring ICCID
-- in flight at the same time fails to serialize and retries. CockroachDB ignores
-- fillfactor.
CREATE INDEX sims_by_batch ON sims (batch, iccid);

-- eSIM profiles in stock: an eSIM order takes the first of its tenant and profile type.
CREATE TABLE free_esim (
    tenant       TEXT NOT NULL,
    profile_type TEXT NOT NULL,
    iccid        TEXT NOT NULL,
    PRIMARY KEY (tenant, profile_type, iccid)
);

CREATE TABLE numbers (
    msisdn   TEXT PRIMARY KEY,
    tenant   TEXT NOT NULL,
    block    TEXT NOT NULL,
    class    TEXT NOT NULL,             -- normal | golden
    state    TEXT NOT NULL,             -- available | reserved | assigned | held | quarantined
    holder   TEXT,                      -- the order, or the reservation of a held number
    until_ms BIGINT,                    -- when a hold lapses or a quarantine ends
    doc      JSONB NOT NULL
);
CREATE INDEX numbers_free ON numbers (tenant, msisdn)
    WHERE state = 'available' AND class = 'normal';
CREATE INDEX numbers_quarantine ON numbers (until_ms) WHERE state = 'quarantined';
CREATE INDEX numbers_quarantine_by_tenant ON numbers (tenant, until_ms)
    WHERE state = 'quarantined';

-- A counter is the sum of its shards; a change adds to one random shard of 16, so
-- concurrent activations rarely touch the same row. `scope` is the pool (block) or the
-- SIM batch; a tenant's total is the sum over every scope.
CREATE TABLE counters (
    tenant TEXT NOT NULL,
    name   TEXT NOT NULL,
    scope  TEXT NOT NULL,
    shard  INT NOT NULL,
    n      BIGINT NOT NULL,
    PRIMARY KEY (tenant, name, scope, shard)
);

CREATE TABLE orders (
    id                 TEXT PRIMARY KEY,
    tenant             TEXT NOT NULL,
    kind               TEXT NOT NULL,
    status             TEXT NOT NULL,
    line               TEXT NOT NULL,   -- the subscription id the order is (or will be) about
    iccid              TEXT NOT NULL,
    msisdn             TEXT NOT NULL,
    inflight           BOOLEAN NOT NULL,
    version            BIGINT NOT NULL, -- optimistic check of advance_order
    lease_owner        TEXT,            -- node id driving the order
    lease_until_ms     BIGINT,          -- another node may take it over after this
    esim_expires_at_ms BIGINT,          -- released eSIM not downloaded yet: its deadline
    created_at_ms      BIGINT NOT NULL,
    updated_at_ms      BIGINT NOT NULL,
    doc                JSONB NOT NULL
);
CREATE UNIQUE INDEX orders_one_inflight_per_line ON orders (line) WHERE inflight;
CREATE UNIQUE INDEX orders_activation_sim ON orders (iccid)
    WHERE inflight AND kind = 'activation';
CREATE UNIQUE INDEX orders_activation_number ON orders (msisdn)
    WHERE inflight AND kind = 'activation';
CREATE INDEX orders_inflight_lease ON orders (lease_until_ms, id) WHERE inflight;
CREATE INDEX orders_esim_expiry ON orders (esim_expires_at_ms, id)
    WHERE esim_expires_at_ms IS NOT NULL;

CREATE TABLE idempotency (
    tenant        TEXT NOT NULL,
    idem_key      TEXT NOT NULL,
    order_id      TEXT NOT NULL,
    body_hash     TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    doc           JSONB NOT NULL,       -- IdempotencyRecord
    PRIMARY KEY (tenant, idem_key)
);
CREATE INDEX idempotency_by_time ON idempotency (created_at_ms);

CREATE TABLE reservations (
    id              TEXT PRIMARY KEY,
    tenant          TEXT NOT NULL,
    msisdn          TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    body_hash       TEXT NOT NULL,
    expires_at_ms   BIGINT NOT NULL,
    on_expiry_list  BOOLEAN NOT NULL,   -- not yet used nor swept
    order_id        TEXT,
    doc             JSONB NOT NULL,
    UNIQUE (tenant, idempotency_key)
);
CREATE INDEX reservations_expiry ON reservations (expires_at_ms, id) WHERE on_expiry_list;

CREATE TABLE batches (
    id     TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    status TEXT NOT NULL,               -- importing | complete
    doc    JSONB NOT NULL
);
CREATE INDEX batches_importing ON batches (id) WHERE status = 'importing';

-- Audit log. A write inserts its events unnumbered, keyed by its attempt id (which sorts
-- in start order) and their order in it; the sequencer numbers them (seq) later, in one
-- place and in that order, so numbers are gap-free and a reader, who sees numbered events
-- only, never skips a late commit.
CREATE TABLE events (
    txn      TEXT NOT NULL,
    ord      INT NOT NULL,
    at_ms    BIGINT NOT NULL,
    tenant   TEXT NOT NULL,
    order_id TEXT,
    seq      BIGINT,
    doc      JSONB NOT NULL,            -- Event, its `seq` taken from the column
    PRIMARY KEY (txn, ord)
);
CREATE UNIQUE INDEX events_by_seq ON events (seq) WHERE seq IS NOT NULL;
CREATE INDEX events_unnumbered ON events (txn, ord) WHERE seq IS NULL;

CREATE TABLE esim_progress (
    order_id TEXT PRIMARY KEY,
    state    TEXT,
    doc      JSONB NOT NULL
);

CREATE TABLE notifications (
    dedupe_key     TEXT PRIMARY KEY,    -- ICCID|point|status|timestamp
    received_at_ms BIGINT NOT NULL,
    doc            JSONB NOT NULL
);

CREATE TABLE subscriptions (
    id            TEXT PRIMARY KEY,
    tenant        TEXT NOT NULL,
    msisdn        TEXT UNIQUE,          -- NULL once the line holds no number
    iccid         TEXT UNIQUE,          -- NULL once the line holds no card
    state         TEXT NOT NULL,
    inflight      TEXT,                 -- the order in flight on the line
    activation_id TEXT NOT NULL,
    doc           JSONB NOT NULL
);
CREATE INDEX subscriptions_by_tenant ON subscriptions (tenant, id);

CREATE TABLE meta (
    name  TEXT PRIMARY KEY,
    value BYTEA NOT NULL
);

-- Public event log: inserted unnumbered like `events`; the sequencer gives the global
-- `seq` and the tenant's gap-free `tenant_seq` (from which the public id derives) and, in
-- the same transaction, queues the webhook deliveries.
CREATE TABLE public_events (
    txn           TEXT NOT NULL,
    ord           INT NOT NULL,
    tenant        TEXT NOT NULL,
    event_type    TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    subject       TEXT,
    seq           BIGINT,
    tenant_seq    BIGINT,
    doc           JSONB NOT NULL,       -- PublicEvent, numbers and id taken from columns
    PRIMARY KEY (txn, ord)
);
CREATE UNIQUE INDEX public_events_by_seq ON public_events (seq) WHERE seq IS NOT NULL;
CREATE UNIQUE INDEX public_events_by_tenant ON public_events (tenant, tenant_seq)
    WHERE tenant_seq IS NOT NULL;
CREATE INDEX public_events_by_type ON public_events (tenant, event_type, tenant_seq)
    WHERE tenant_seq IS NOT NULL;
CREATE INDEX public_events_unnumbered ON public_events (txn, ord) WHERE seq IS NULL;

-- The last number given per sequence: 'audit', 'public', and 'public:<tenant>'.
CREATE TABLE event_seq (
    name TEXT PRIMARY KEY,
    last BIGINT NOT NULL
);

-- A job that one node at a time may run (the event sequencer): who holds it, until when.
CREATE TABLE leases (
    name          TEXT PRIMARY KEY,
    owner         TEXT NOT NULL,
    expires_at_ms BIGINT NOT NULL
);

CREATE TABLE webhook_endpoints (
    id     TEXT PRIMARY KEY,
    tenant TEXT NOT NULL,
    doc    JSONB NOT NULL               -- WebhookEndpoint (secrets sealed)
);
CREATE INDEX webhook_endpoints_by_tenant ON webhook_endpoints (tenant, id);

CREATE TABLE webhook_deliveries (
    endpoint       TEXT NOT NULL,
    event_seq      BIGINT NOT NULL,     -- the event's tenant_seq
    queue          TEXT NOT NULL,       -- ordering queue: the subject, else the event id
    status         TEXT NOT NULL,
    pending        BOOLEAN NOT NULL,    -- in its queue
    due_at_ms      BIGINT,              -- set on a queue's head only
    lease_owner    TEXT,                -- node sending it
    lease_until_ms BIGINT,
    doc            JSONB NOT NULL,      -- Delivery
    PRIMARY KEY (endpoint, event_seq)
);
CREATE INDEX webhook_queue ON webhook_deliveries (endpoint, queue, event_seq) WHERE pending;
CREATE INDEX webhook_due ON webhook_deliveries (due_at_ms, endpoint, event_seq)
    WHERE due_at_ms IS NOT NULL;
-- A node's claimed deliveries (store/postgres/delivery_attempts.rs).
CREATE INDEX webhook_claims ON webhook_deliveries (lease_owner, due_at_ms)
    WHERE lease_owner IS NOT NULL;

CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value BIGINT NOT NULL
);

-- The available SIMs and numbers per tenant as the low-stock watch last saw them, so it
-- publishes `inventory.low_stock` once per crossing (written by the sequencer's lease
-- holder only; store/postgres/low_stock.rs).
CREATE TABLE low_stock (
    tenant  TEXT NOT NULL,
    counter TEXT NOT NULL,
    level   BIGINT NOT NULL,
    PRIMARY KEY (tenant, counter)
);
