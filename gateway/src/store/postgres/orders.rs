//! Order rows (embedded ORDERS, INFLIGHT and ESIM_EXPIRY): the key columns are written
//! from the record together with `doc`, never on their own, except the lease columns
//! (`order_leases.rs`) and the eSIM deadline, which the expiry sweep and notifications
//! clear. Also the order reads: `get_order` and `inflight_orders`.

use super::PgStore;
use super::codec::{big, from_doc, to_doc, unbig};
use super::events::{log_event, publish_order};
use super::idempotency;
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

/// Inserts a new order in flight, leased to `owner` until `lease_until_ms`.
pub async fn insert(tx: &Tx<'_>, order: &Order, owner: &str, lease_until_ms: u64) -> TxResult<()> {
    tx.exec(
        "INSERT INTO orders (id, tenant, kind, status, line, iccid, msisdn, inflight, version,
                             esim_expires_at_ms, created_at_ms, updated_at_ms, doc)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, $10, $11, $12)",
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
        ],
    )
    .await?;
    if in_flight(order) {
        tx.exec(
            "INSERT INTO orders_inflight (id, line, kind, iccid, msisdn, lease_owner,
                                          lease_until_ms)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &order.id,
                &line_of(order),
                &order.kind.as_str(),
                &order.iccid.as_str(),
                &order.msisdn.as_str(),
                &owner,
                &big(lease_until_ms),
            ],
        )
        .await?;
    }
    Ok(())
}

/// Rewrites an order from its new version (in flight unless terminal) with its eSIM
/// deadline column, if the row is still at `version - 1`; false if it is not. An order
/// leaving flight leaves `orders_inflight`; one in flight keeps its card and number
/// there (an order reopened enters it again, unleased until `lease_to`).
pub async fn update(tx: &Tx<'_>, order: &Order, esim_expires_at_ms: Option<u64>) -> TxResult<bool> {
    let n = tx
        .exec(
            "UPDATE orders SET status = $2, iccid = $3, msisdn = $4, inflight = $5, version = $6,
                    esim_expires_at_ms = $7, updated_at_ms = $8, doc = $9
             WHERE id = $1 AND version = $10",
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
            ],
        )
        .await?;
    if n != 1 {
        return Ok(false);
    }
    if !in_flight(order) {
        tx.exec("DELETE FROM orders_inflight WHERE id = $1", &[&order.id])
            .await?;
    } else {
        tx.exec(
            "INSERT INTO orders_inflight (id, line, kind, iccid, msisdn) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (id) DO UPDATE SET iccid = excluded.iccid, msisdn = excluded.msisdn
             WHERE orders_inflight.iccid <> excluded.iccid
                OR orders_inflight.msisdn <> excluded.msisdn",
            &[
                &order.id,
                &line_of(order),
                &order.kind.as_str(),
                &order.iccid.as_str(),
                &order.msisdn.as_str(),
            ],
        )
        .await?;
    }
    Ok(true)
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
/// `insert_new_order`).
pub async fn insert_new_order(
    tx: &Tx<'_>,
    order: &Order,
    key: &str,
    body_hash: &str,
    now_ms: u64,
    (owner, lease_until_ms): (&str, u64),
) -> TxResult<()> {
    insert(tx, order, owner, lease_until_ms).await?;
    super::ports::index(tx, None, order).await?;
    let rec = IdempotencyRecord {
        body_hash: body_hash.to_owned(),
        order_id: order.id.clone(),
        response: order.clone(),
        created_at_ms: now_ms,
    };
    idempotency::insert(tx, &order.tenant, key, &rec).await?;
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
