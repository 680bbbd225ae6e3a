//! Order rows (embedded ORDERS, INFLIGHT and ESIM_EXPIRY): the key columns are written
//! from the record together with `doc`, never on their own, except the lease columns
//! (`order_leases.rs`) and the eSIM deadline, which the expiry sweep and notifications
//! clear. Also the order reads: `get_order` and `inflight_orders`.

use super::PgStore;
use super::codec::{big, from_doc, to_doc, unbig};
use super::events::{log_event, publish_order};
use super::retry::{Tx, TxResult, db_error};
use crate::order::Order;
use crate::store::{EventKind, IdempotencyRecord, StoreError, subscription_id};

/// The line an order is (or will be) about: a lifecycle order's subscription, or the one
/// an activation opens. The database allows one order in flight per line.
pub fn line_of(order: &Order) -> String {
    match &order.lifecycle {
        Some(l) => l.subscription.clone(),
        None => subscription_id(&order.id),
    }
}

/// Whether the order belongs in `orders_inflight` (the `inflight` column says the same):
/// not terminal, and not a port parked until the hub or its deadline wakes it.
pub fn in_flight(order: &Order) -> bool {
    !order.status.is_terminal() && order.port_parked().is_none()
}

/// An order row as read inside a transaction: the record and its eSIM deadline column.
pub struct OrderRow {
    /// The record.
    pub order: Order,
    /// `esim_expires_at_ms`: set while the order is on the expiry list.
    pub esim_expires_at_ms: Option<u64>,
}

/// An order by id, in the transaction.
pub async fn get(tx: &Tx<'_>, id: &str) -> TxResult<Option<OrderRow>> {
    match tx
        .row(
            "SELECT doc, esim_expires_at_ms FROM orders WHERE id = $1",
            &[&id],
        )
        .await?
    {
        Some(r) => Ok(Some(OrderRow {
            order: from_doc("orders", r.get(0))?,
            esim_expires_at_ms: r.get::<_, Option<i64>>(1).map(unbig),
        })),
        None => Ok(None),
    }
}

/// Rewrites an order from its new version (in flight unless terminal) with its eSIM
/// deadline column, if the row is still at `version - 1`; false if it is not. An order
/// leaving flight leaves `orders_inflight`; one in flight keeps its card and number
/// there (an order reopened enters it again, unleased until `lease_to`).
pub async fn update(tx: &Tx<'_>, order: &Order, esim_expires_at_ms: Option<u64>) -> TxResult<bool> {
    // One statement: the version-checked rewrite, and the `orders_inflight` row's delete
    // or upsert only if the rewrite took place (the row `u` returns).
    let row = tx
        .row(
            "WITH u AS (
                 UPDATE orders SET status = $2, iccid = $3, msisdn = $4, inflight = $5,
                        version = $6, esim_expires_at_ms = $7, updated_at_ms = $8, doc = $9
                 WHERE id = $1 AND version = $10
                 RETURNING id),
             d AS (
                 DELETE FROM orders_inflight
                 WHERE NOT $5::BOOLEAN AND id IN (SELECT id FROM u)),
             i AS (
                 INSERT INTO orders_inflight (id, line, kind, iccid, msisdn)
                 SELECT id, $11::TEXT, $12::TEXT, $3, $4 FROM u WHERE $5::BOOLEAN
                 ON CONFLICT (id) DO UPDATE SET iccid = excluded.iccid,
                     msisdn = excluded.msisdn
                 WHERE orders_inflight.iccid <> excluded.iccid
                    OR orders_inflight.msisdn <> excluded.msisdn)
             SELECT count(*) FROM u",
            &[
                &order.id,
                &order.status.as_str(),
                &order.iccid.as_str(),
                &order.msisdn.as_str(),
                &in_flight(order),
                &big(order.version),
                &esim_expires_at_ms.map(big),
                &big(order.updated_at_ms),
                &to_doc(order)?,
                &big(order.version.saturating_sub(1)),
                &line_of(order),
                &order.kind.as_str(),
            ],
        )
        .await?;
    Ok(row.is_some_and(|r| r.get::<_, i64>(0) == 1))
}

/// Leases an order to `owner` until `until_ms` (an order this node reopens).
pub async fn lease_to(tx: &Tx<'_>, id: &str, owner: &str, until_ms: u64) -> TxResult<()> {
    tx.exec(
        "UPDATE orders_inflight SET lease_owner = $2, lease_until_ms = $3 WHERE id = $1",
        &[&id, &owner, &big(until_ms)],
    )
    .await?;
    Ok(())
}

/// Inserts a new order (leased to `owner`) with its idempotency record, replacing an
/// expired record of the same key, and logs and publishes its creation (embedded
/// `insert_new_order`). The order's row, its `orders_inflight` row (unless it is born
/// terminal or parked) and the key's record are one statement: three inserts in a
/// `WITH`, on three tables.
pub async fn insert_new_order(
    tx: &Tx<'_>,
    order: &Order,
    key: &str,
    body_hash: &str,
    now_ms: u64,
    (owner, lease_until_ms): (&str, u64),
) -> TxResult<()> {
    let rec = IdempotencyRecord {
        body_hash: body_hash.to_owned(),
        order_id: order.id.clone(),
        response: order.clone(),
        created_at_ms: now_ms,
    };
    tx.exec(
        "WITH o AS (
             INSERT INTO orders (id, tenant, kind, status, line, iccid, msisdn, inflight,
                                 version, esim_expires_at_ms, created_at_ms, updated_at_ms,
                                 doc)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, $10, $11, $12)),
         f AS (
             INSERT INTO orders_inflight (id, line, kind, iccid, msisdn, lease_owner,
                                          lease_until_ms)
             SELECT $1, $5, $3, $6, $7, $13::TEXT, $14::BIGINT WHERE $8::BOOLEAN)
         INSERT INTO idempotency (tenant, idem_key, order_id, body_hash, created_at_ms, doc)
         VALUES ($2, $15, $1, $16, $17, $18)
         ON CONFLICT (tenant, idem_key) DO UPDATE SET order_id = excluded.order_id,
             body_hash = excluded.body_hash, created_at_ms = excluded.created_at_ms,
             doc = excluded.doc",
        &[
            &order.id,
            &order.tenant,
            &order.kind.as_str(),
            &order.status.as_str(),
            &line_of(order),
            &order.iccid.as_str(),
            &order.msisdn.as_str(),
            &in_flight(order),
            &big(order.version),
            &big(order.created_at_ms),
            &big(order.updated_at_ms),
            &to_doc(order)?,
            &owner,
            &big(lease_until_ms),
            &key,
            &rec.body_hash,
            &big(rec.created_at_ms),
            &to_doc(&rec)?,
        ],
    )
    .await?;
    super::ports::index(tx, None, order).await?;
    log_event(
        tx,
        now_ms,
        &order.tenant,
        Some(&order.id),
        EventKind::OrderCreated,
    )
    .await?;
    publish_order(tx, order, None).await
}

impl PgStore {
    /// Reads an order of any kind; `None` if absent or owned by another tenant.
    pub async fn get_order(&self, tenant: &str, id: &str) -> Result<Option<Order>, StoreError> {
        let c = self.client().await?;
        let st = c
            .prepare_cached("SELECT doc FROM orders WHERE id = $1 AND tenant = $2")
            .await
            .map_err(|e| db_error(&e))?;
        c.query_opt(&st, &[&id, &tenant])
            .await
            .map_err(|e| db_error(&e))?
            .map(|r| from_doc("orders", r.get(0)))
            .transpose()
    }

    /// Every order not yet `active`, `completed` or `failed` (reconciliation), in id order.
    pub async fn inflight_orders(&self) -> Result<Vec<Order>, StoreError> {
        let c = self.client().await?;
        let st = c
            .prepare_cached("SELECT doc FROM orders WHERE inflight ORDER BY id")
            .await
            .map_err(|e| db_error(&e))?;
        c.query(&st, &[])
            .await
            .map_err(|e| db_error(&e))?
            .into_iter()
            .map(|r| from_doc("orders", r.get(0)))
            .collect()
    }
}
