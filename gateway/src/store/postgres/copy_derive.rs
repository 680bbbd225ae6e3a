//! What `finish_load` derives once every dumped table is loaded: each derived table or
//! column of the schema that the dump does not carry, one step each, listed in
//! [`DERIVED`] (the embedded store keeps these in its own derived tables).

use super::codec::{big, from_doc, from_value};
use super::retry::{Tx, TxResult};
use super::{numbers, sims};
use crate::order::{EsimState, Order, OrderStatus};
use crate::store::StoreError;
use adapters::hlr::BoxFuture;
use std::collections::BTreeMap;

/// A step of `finish_load`: derives one table or column in the load's last transaction.
type Derive = for<'a> fn(&'a Tx<'a>) -> BoxFuture<'a, TxResult<()>>;

/// What `finish_load` derives, in order: every derived table or column of the schema
/// that the dump does not carry. Add a line here when the schema gains one.
pub const DERIVED: &[(&str, Derive)] = &[
    ("sims.stocked", |tx| Box::pin(stocked(tx))),
    ("free_esim", |tx| Box::pin(free_esim(tx))),
    ("free_numbers", |tx| Box::pin(free_numbers(tx))),
    ("orders.esim_expires_at_ms", |tx| Box::pin(esim_expiry(tx))),
    ("orders_inflight", |tx| Box::pin(orders_inflight(tx))),
    ("reservations.on_expiry_list", |tx| {
        Box::pin(expiry_list(tx))
    }),
    ("counters", |tx| Box::pin(counters(tx))),
    ("event_seq", |tx| Box::pin(event_seq(tx))),
    ("low_stock", |tx| Box::pin(low_stock(tx))),
    ("id_lines", |tx| Box::pin(id_lines(tx))),
    ("reverify_due", |tx| Box::pin(reverify_due(tx))),
    ("ports_open, port_parked", |tx| Box::pin(ports(tx))),
];

/// The open port-ins (`ports_open`) and, of those, the parked ones on the deadline index
/// (`port_parked`), decided by the order record as every order write decides them
/// (`ports::index`). Only orders not terminal are read: the statuses stored are few, so
/// the terminal ones are told apart in Rust, by the record's own rule.
async fn ports(tx: &Tx<'_>) -> TxResult<()> {
    let mut open = Vec::new();
    for r in tx.rows("SELECT DISTINCT status FROM orders", &[]).await? {
        let name: String = r.get(0);
        let status: OrderStatus = from_value("orders", serde_json::Value::String(name.clone()))?;
        if !status.is_terminal() {
            open.push(name);
        }
    }
    let rows = tx
        .rows(
            "SELECT doc FROM orders
             WHERE status = ANY($1) AND jsonb_typeof(doc->'port') = 'object'",
            &[&open.as_slice()],
        )
        .await?;
    for r in rows {
        let order: Order = from_doc("orders", r.get(0))?;
        if order.port.is_none() || order.status.is_terminal() {
            continue;
        }
        tx.exec(
            "INSERT INTO ports_open (tenant, order_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&order.tenant, &order.id],
        )
        .await?;
        if let Some(due) = order.port_parked() {
            tx.exec(
                "INSERT INTO port_parked (due_ms, order_id) VALUES ($1, $2)
                 ON CONFLICT DO NOTHING",
                &[&big(due), &order.id],
            )
            .await?;
        }
    }
    Ok(())
}

/// Lines waiting for their second verification, at their deadline (a busy line's later
/// look is not carried: its deadline, passed, makes the first sweep look at once).
async fn reverify_due(tx: &Tx<'_>) -> TxResult<()> {
    tx.exec(
        "INSERT INTO reverify_due (due_ms, subscription)
         SELECT (doc->'verification'->>'deadline_ms')::BIGINT, id FROM subscriptions
         WHERE doc->'verification'->>'state' = 'pending'
         ON CONFLICT DO NOTHING",
        &[],
    )
    .await?;
    Ok(())
}

/// A SIM of a batch still importing exists for no one (the batch record says so).
async fn stocked(tx: &Tx<'_>) -> TxResult<()> {
    tx.exec(
        "UPDATE sims SET stocked = FALSE
         WHERE batch IN (SELECT id FROM batches WHERE status = 'importing')",
        &[],
    )
    .await?;
    Ok(())
}

/// eSIM profiles in stock (stocked and available) are what eSIM orders take.
async fn free_esim(tx: &Tx<'_>) -> TxResult<()> {
    tx.exec(
        "INSERT INTO free_esim (tenant, profile_type, iccid)
         SELECT tenant, esim_profile_type, iccid FROM sims
         WHERE stocked AND state = 'available' AND esim_profile_type IS NOT NULL
         ON CONFLICT DO NOTHING",
        &[],
    )
    .await?;
    Ok(())
}

/// Orders in flight, unleased: the first node to start claims them.
async fn orders_inflight(tx: &Tx<'_>) -> TxResult<()> {
    tx.exec(
        "INSERT INTO orders_inflight (id, line, kind, iccid, msisdn)
         SELECT id, line, kind, iccid, msisdn FROM orders WHERE inflight
         ON CONFLICT DO NOTHING",
        &[],
    )
    .await?;
    Ok(())
}

/// Free ordinary numbers are what automatic assignment takes.
async fn free_numbers(tx: &Tx<'_>) -> TxResult<()> {
    tx.exec(
        "INSERT INTO free_numbers (tenant, msisdn)
         SELECT tenant, msisdn FROM numbers WHERE state = 'available' AND class = 'normal'
         ON CONFLICT DO NOTHING",
        &[],
    )
    .await?;
    Ok(())
}

/// A released eSIM whose profile reached the device no longer expires.
async fn esim_expiry(tx: &Tx<'_>) -> TxResult<()> {
    tx.exec(
        "UPDATE orders SET esim_expires_at_ms = NULL
         WHERE esim_expires_at_ms IS NOT NULL
           AND id IN (SELECT order_id FROM esim_progress WHERE state = ANY($1))",
        &[&[
            EsimState::Downloaded.as_str(),
            EsimState::Installed.as_str(),
        ]
        .as_slice()],
    )
    .await?;
    Ok(())
}

/// An unused reservation is on the expiry list while its number is still held for it.
async fn expiry_list(tx: &Tx<'_>) -> TxResult<()> {
    tx.exec(
        "UPDATE reservations r SET on_expiry_list = FALSE WHERE on_expiry_list
             AND NOT EXISTS (SELECT 1 FROM numbers n
                             WHERE n.msisdn = r.msisdn AND n.state = 'held' AND n.holder = r.id)",
        &[],
    )
    .await?;
    if let Some(r) = tx
        .row(
            "SELECT id FROM reservations WHERE idempotency_key LIKE ' %' LIMIT 1",
            &[],
        )
        .await?
    {
        let id: String = r.get(0);
        return Err(StoreError::Corrupt {
            table: "reservations",
            message: format!("reservation {id} came without its idempotency key"),
        }
        .into());
    }
    Ok(())
}

/// The inventory counters, recomputed per tenant, counter and scope from the SIM and
/// number states (with the write paths' own state → counter maps), in shard 0.
async fn counters(tx: &Tx<'_>) -> TxResult<()> {
    let mut sums: BTreeMap<(String, &'static str, String), i64> = BTreeMap::new();
    for r in tx
        .rows(
            "SELECT tenant, batch, state, COUNT(*) FROM sims WHERE stocked
             GROUP BY tenant, batch, state",
            &[],
        )
        .await?
    {
        if let Some(c) = sims::counter_of_column(r.get(2)) {
            *sums.entry((r.get(0), c, r.get(1))).or_default() += r.get::<_, i64>(3);
        }
    }
    for r in tx
        .rows(
            "SELECT tenant, block, state, class, COUNT(*) FROM numbers
             GROUP BY tenant, block, state, class",
            &[],
        )
        .await?
    {
        if let Some(c) = numbers::counter_of_columns(r.get(2), r.get(3)) {
            *sums.entry((r.get(0), c, r.get(1))).or_default() += r.get::<_, i64>(4);
        }
    }
    tx.exec("DELETE FROM counters", &[]).await?;
    for ((tenant, name, scope), n) in &sums {
        tx.exec(
            "INSERT INTO counters (tenant, name, scope, shard, n) VALUES ($1, $2, $3, $4, $5)",
            &[tenant, name, scope, &0i32, n],
        )
        .await?;
    }
    Ok(())
}

/// The sequencer's positions: later events continue each numbering, and the copied
/// events' deliveries are copied (so none is queued again).
async fn event_seq(tx: &Tx<'_>) -> TxResult<()> {
    tx.exec(
        "INSERT INTO event_seq (name, last)
         SELECT 'audit', MAX(seq + n - 1) FROM event_batches HAVING MAX(seq) IS NOT NULL
         UNION ALL SELECT 'public', MAX(seq + n - 1) FROM public_batches HAVING MAX(seq) IS NOT NULL
         UNION ALL SELECT 'fanned_out', MAX(seq + n - 1) FROM public_batches
                   HAVING MAX(seq) IS NOT NULL
         UNION ALL SELECT 'public:' || tenant, MAX(tenant_seq + n - 1) FROM public_batches
                   WHERE tenant_seq IS NOT NULL GROUP BY tenant
         ON CONFLICT (name) DO UPDATE SET last = GREATEST(event_seq.last, excluded.last)",
        &[],
    )
    .await?;
    Ok(())
}

/// The levels the low-stock watch compares with: today's, so the first crossing after
/// the copy is reported as the embedded store would.
async fn low_stock(tx: &Tx<'_>) -> TxResult<()> {
    tx.exec(
        "INSERT INTO low_stock (tenant, counter, level)
         SELECT tenant, name, CAST(SUM(n) AS BIGINT) FROM counters
         WHERE name = ANY($1) GROUP BY tenant, name
         ON CONFLICT (tenant, counter) DO UPDATE SET level = excluded.level",
        &[&super::low_stock::WATCHED.as_slice()],
    )
    .await?;
    Ok(())
}

/// The live lines per ID hash, counted from the loaded lines.
async fn id_lines(tx: &Tx<'_>) -> TxResult<()> {
    tx.exec(
        "INSERT INTO id_lines (enterprise, id_hash, n)
         SELECT enterprise, id_hash, CAST(COUNT(*) AS INT) FROM live_lines
         GROUP BY enterprise, id_hash
         ON CONFLICT (enterprise, id_hash) DO UPDATE SET n = excluded.n",
        &[],
    )
    .await?;
    Ok(())
}
