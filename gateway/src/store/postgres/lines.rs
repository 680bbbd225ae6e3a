//! Subscription rows (embedded SUBSCRIPTIONS and its indexes SUB_BY_MSISDN,
//! SUB_BY_ICCID, SUB_BY_TENANT): opening a line in the commit that makes its activation
//! active, marking it busy, closing it when that activation is undone, and the reads
//! `subscription` and `subscriptions`. The `msisdn` and `iccid` columns are what the
//! embedded indexes hold: the line's number and card while it has them, NULL once it is
//! terminated (the record keeps its last number and card, as there).

use super::PgStore;
use super::codec::{from_doc, to_doc};
use super::retry::{Tx, TxResult, db_error};
use crate::order::{Order, OrderKind};
use crate::store::*;
use deadpool_postgres::GenericClient;

/// Most lines a filtered page looks at (the embedded `SCAN_BUDGET`): a rare filter
/// cannot turn one request into a scan of every line; the page ends early with a cursor.
const SCAN_BUDGET: usize = 10_000;

/// A line by id, in the transaction.
pub async fn get(tx: &Tx<'_>, id: &str) -> TxResult<Option<Subscription>> {
    match tx
        .row("SELECT doc FROM subscriptions WHERE id = $1", &[&id])
        .await?
    {
        Some(r) => Ok(Some(from_doc("subscriptions", r.get(0))?)),
        None => Ok(None),
    }
}

/// The line holding `msisdn` (any tenant), in the transaction.
pub async fn by_msisdn(tx: &Tx<'_>, msisdn: &str) -> TxResult<Option<Subscription>> {
    match tx
        .row(
            "SELECT doc FROM subscriptions WHERE msisdn = $1",
            &[&msisdn],
        )
        .await?
    {
        Some(r) => Ok(Some(from_doc("subscriptions", r.get(0))?)),
        None => Ok(None),
    }
}

/// The `msisdn` and `iccid` columns of a line: its number and card while it holds them.
pub fn columns(sub: &Subscription) -> (Option<&str>, Option<&str>) {
    let held = sub.state != SubscriptionState::Terminated;
    (
        held.then_some(sub.msisdn.as_str()),
        held.then_some(sub.iccid.as_str()),
    )
}

/// Writes a line (inserting it if new), its columns from the record.
pub async fn put(tx: &Tx<'_>, sub: &Subscription) -> TxResult<()> {
    let (msisdn, iccid) = columns(sub);
    tx.exec(
        "INSERT INTO subscriptions (id, tenant, msisdn, iccid, state, inflight, activation_id, doc)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (id) DO UPDATE SET tenant = excluded.tenant, msisdn = excluded.msisdn,
             iccid = excluded.iccid, state = excluded.state, inflight = excluded.inflight,
             activation_id = excluded.activation_id, doc = excluded.doc",
        &[
            &sub.id,
            &sub.tenant,
            &msisdn,
            &iccid,
            &sub.state.as_str(),
            &sub.inflight,
            &sub.activation_id,
            &to_doc(sub)?,
        ],
    )
    .await?;
    Ok(())
}

/// Opens the line of an activation that just became active (same commit).
pub async fn open(tx: &Tx<'_>, order: &Order, sim: &SimRecord) -> TxResult<()> {
    let sub = Subscription::opened_by(order, sim);
    put(tx, &sub).await?;
    super::reverify::opened(tx, &sub, order).await
}

/// Marks the line of activation `activation_id` busy with it, or no longer (embedded
/// `set_line_busy`: an eSIM activation reopened at its download deadline is its line's
/// order in flight until it ends).
pub async fn set_busy(tx: &Tx<'_>, activation_id: &str, busy: bool) -> TxResult<()> {
    let Some(mut sub) = get(tx, &subscription_id(activation_id)).await? else {
        return Ok(());
    };
    if busy {
        sub.inflight = Some(activation_id.to_owned());
    } else if sub.inflight.as_deref() == Some(activation_id) {
        sub.inflight = None;
    }
    put(tx, &sub).await
}

/// An activation undone after it was active (an eSIM never downloaded): its line ends,
/// and its number and card no longer point to it.
pub async fn close_released_activation(tx: &Tx<'_>, order: &Order) -> TxResult<()> {
    let Some(mut sub) = get(tx, &subscription_id(&order.id)).await? else {
        return Ok(());
    };
    sub.state = SubscriptionState::Terminated;
    sub.inflight = None;
    sub.updated_at_ms = order.updated_at_ms;
    sub.history.push(HistoryEntry {
        order_id: order.id.clone(),
        kind: OrderKind::Activation,
        outcome: "failed".into(),
        actor: None,
        reason: None,
        change: None,
        error: order.error.as_ref().map(|e| e.code.clone()),
        at_ms: order.updated_at_ms,
    });
    put(tx, &sub).await
}

/// Whether the line an activation opened has been acted on since (a lifecycle order took
/// over: the activation's own undo, such as eSIM expiry, no longer applies).
pub async fn changed(tx: &Tx<'_>, activation_id: &str) -> TxResult<bool> {
    let sub = get(tx, &subscription_id(activation_id)).await?;
    Ok(sub.is_some_and(|s| s.inflight.is_some() || s.history.len() > 1))
}

impl PgStore {
    /// The tenant's line holding `msisdn`; `None` if none (or another tenant's).
    pub async fn subscription(
        &self,
        tenant: &str,
        msisdn: &str,
    ) -> Result<Option<Subscription>, StoreError> {
        let c = self.client().await?;
        let st = c
            .prepare_cached("SELECT doc FROM subscriptions WHERE msisdn = $1 AND tenant = $2")
            .await
            .map_err(|e| db_error(&e))?;
        c.query_opt(&st, &[&msisdn, &tenant])
            .await
            .map_err(|e| db_error(&e))?
            .map(|r| from_doc("subscriptions", r.get(0)))
            .transpose()
    }

    /// A page of the tenant's lines in id order (stable under inserts), filtered, with
    /// the embedded backend's cursor: the last line looked at when more remain. Read from
    /// one snapshot.
    pub async fn subscriptions(
        &self,
        tenant: &str,
        q: &SubscriptionQuery,
    ) -> Result<SubscriptionPage, StoreError> {
        let mut c = self.client().await?;
        let tx = c
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await
            .map_err(|e| db_error(&e))?;
        let page = match &q.iccid {
            Some(iccid) => by_card(&tx, tenant, iccid.as_str(), q).await,
            None => scan(&tx, tenant, q).await,
        };
        tx.commit().await.map_err(|e| db_error(&e))?;
        page
    }
}

/// The line on card `iccid`, if it matches the query (one line at most: no cursor).
async fn by_card(
    c: &impl GenericClient,
    tenant: &str,
    iccid: &str,
    q: &SubscriptionQuery,
) -> Result<SubscriptionPage, StoreError> {
    let st = c
        .prepare_cached("SELECT doc FROM subscriptions WHERE iccid = $1")
        .await
        .map_err(|e| db_error(&e))?;
    let Some(row) = c
        .query_opt(&st, &[&iccid])
        .await
        .map_err(|e| db_error(&e))?
    else {
        return Ok(SubscriptionPage::default());
    };
    let s: Subscription = from_doc("subscriptions", row.get(0))?;
    let after = q.after.as_deref().unwrap_or("");
    let data = Some(s)
        .filter(|s| s.tenant == tenant && s.id.as_str() > after)
        .filter(|s| q.state.is_none_or(|st| s.state == st))
        .into_iter()
        .collect();
    Ok(SubscriptionPage { data, next: None })
}

/// The embedded page loop over the tenant's lines in id order, read in chunks: at most
/// `limit` matching lines, and no more than [`SCAN_BUDGET`] looked at.
async fn scan(
    c: &impl GenericClient,
    tenant: &str,
    q: &SubscriptionQuery,
) -> Result<SubscriptionPage, StoreError> {
    let st = c
        .prepare_cached(
            "SELECT id, state, doc FROM subscriptions WHERE tenant = $1 AND id > $2
             ORDER BY id LIMIT $3",
        )
        .await
        .map_err(|e| db_error(&e))?;
    let chunk = i64::try_from(q.limit.min(SCAN_BUDGET) + 1).unwrap_or(i64::MAX);
    let want = q.state.map(SubscriptionState::as_str);
    let mut cursor = q.after.clone().unwrap_or_default();
    let mut data = Vec::new();
    let mut scanned = 0;
    let mut last: Option<String> = None;
    loop {
        let rows = c
            .query(&st, &[&tenant, &cursor, &chunk])
            .await
            .map_err(|e| db_error(&e))?;
        let full = rows.len() as i64 == chunk;
        for r in rows {
            let id: String = r.get(0);
            if data.len() >= q.limit || scanned >= SCAN_BUDGET {
                // More lines remain: go on after the last one looked at.
                return Ok(SubscriptionPage { data, next: last });
            }
            scanned += 1;
            if want.is_none_or(|w| w == r.get::<_, &str>(1)) {
                data.push(from_doc("subscriptions", r.get(2))?);
            }
            cursor.clone_from(&id);
            last = Some(id);
        }
        if !full {
            return Ok(SubscriptionPage { data, next: None });
        }
    }
}
