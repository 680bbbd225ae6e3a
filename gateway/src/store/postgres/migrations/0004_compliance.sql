-- Real-name and anti-fraud controls (issue 15): what an activation's create commit reads
-- and writes besides the reservation, the channel registry, the blocklists and the audit
-- chain. Scopes as in store/records/compliance.rs: the registry per tenant; blocklists
-- and the live-line index per enterprise (the licence holder); velocity scopes carry
-- their own prefix (`velocity_scope`).

-- The ID's live lines: one row per allowed activation that counted its line under the
-- subscriber's keyed ID hash (never the ID), removed when the activation fails or its
-- line's termination completes (`stops_counting`); and their count per (enterprise,
-- hash) in `id_lines`, kept in step by the same commits. The create commit reads and
-- locks the count row of the ID's current hash with an upsert, which (unlike a SELECT)
-- locks no index page at SERIALIZABLE: creates for one ID meet on that row, creates for
-- other IDs do not meet at all (compliance_counters.rs). A copy loads `live_lines` and
-- derives `id_lines` (copy_derive.rs).
CREATE TABLE live_lines (
    order_id   TEXT PRIMARY KEY,            -- the activation
    enterprise TEXT NOT NULL,
    id_hash    TEXT NOT NULL                -- `<pepper key id>:<hex>`
);
CREATE TABLE id_lines (
    enterprise TEXT NOT NULL,
    id_hash    TEXT NOT NULL,
    n          INT NOT NULL,                -- live_lines rows of this (enterprise, id_hash)
    PRIMARY KEY (enterprise, id_hash)
) WITH (fillfactor = 70);

-- Velocity windows: one row per scope (`velocity_scope(key, tenant, enterprise)`) with
-- its buckets as `[[bucket, count], …]` (bucket = now_ms / bucket_ms), read and locked by
-- the create commit with an upsert, as `id_lines`; an allowed order adds 1 to the
-- current bucket and drops the buckets that left the window. The update changes no
-- indexed column: heap-only while the page has room.
CREATE TABLE velocity (
    scope   TEXT PRIMARY KEY,
    buckets JSONB NOT NULL
) WITH (fillfactor = 70);

-- The channel registry: stores, clerks, terminals and ID readers per tenant, each under
-- its store (a store's own entry has member 'store' and id = store).
CREATE TABLE registry (
    tenant         TEXT NOT NULL,
    member         TEXT NOT NULL,           -- store | clerk | terminal | reader
    store          TEXT NOT NULL,
    id             TEXT NOT NULL,
    status         TEXT NOT NULL,           -- enabled | disabled | frozen
    label          TEXT,
    open_min       INT,                     -- a store's hours (all three, or none)
    close_min      INT,
    utc_offset_min INT,
    updated_at_ms  BIGINT NOT NULL,
    PRIMARY KEY (tenant, store, member, id)
) WITH (fillfactor = 70);

-- Blocklists per enterprise, with their history: an entry ends (end_ms) and stays.
CREATE TABLE blocklist (
    enterprise    TEXT NOT NULL,
    list          TEXT NOT NULL,            -- id | store | clerk | terminal | reader | imei
    value         TEXT NOT NULL,            -- an ID hash, never an ID number, for `id`
    start_ms      BIGINT NOT NULL,
    end_ms        BIGINT,                   -- NULL: until ended
    reason        TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    PRIMARY KEY (enterprise, list, value, start_ms)
);

-- The audit chain. A commit inserts its canonical records (seq 0) into `audit_pending`,
-- keyed like events by its attempt id and their order in it; the sequencer, under its
-- lease and in its pass, gives each its number in that order, re-encodes it with the
-- number, chains it to the previous row's hash and moves it to `audit`. So the chain is
-- gap-free across nodes and no commit on the request path writes a shared head row.
-- `audit` rows are written once and never changed.
CREATE TABLE audit_pending (
    txn   TEXT NOT NULL,
    ord   INT NOT NULL,
    bytes BYTEA NOT NULL,                   -- AuditRecord::encode with seq 0
    PRIMARY KEY (txn, ord)
);
CREATE TABLE audit (
    seq   BIGINT PRIMARY KEY,               -- from 1, gap-free
    bytes BYTEA NOT NULL,                   -- AuditRecord::encode with this seq
    hash  BYTEA NOT NULL                    -- SHA-256(previous hash || bytes)
);
