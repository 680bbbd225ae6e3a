//! eSIM download progress and expiry (embedded `esim.rs`): recording
//! HandleDownloadProgressInfo notifications (deduplicated on ICCID, point, status and
//! timestamp; the raw body kept; a profile of a tenant the SM-DP+ does not serve, or in
//! no order, recorded but changing nothing), reading progress, and reopening released
//! profiles not downloaded by their deadline, each reopened order leased to this node in
//! the expiry commit.

use super::PgStore;
use super::advance::advance_order;
use super::codec::{big, from_doc, to_doc, unbig};
use super::events::{log_event, publish};
use super::lines;
use super::order_leases::Owner;
use super::orders;
use super::progress;
use super::retry::{Tx, TxResult, db_error};
use super::sims::get_sim;
use crate::order::{Effect, EsimState, Order, OrderStatus};
use crate::store::*;
use serde_json::json;

/// Most orders one expiry pass reopens (the embedded backend's batch); the engine's timer
/// calls again at once while deadlines are due.
const EXPIRY_BATCH: i64 = 500;

async fn record(tx: &Tx<'_>, n: &NotificationIn) -> TxResult<NotificationOutcome> {
    let key = n.dedupe_key();
    if tx
        .row("SELECT 1 FROM notifications WHERE dedupe_key = $1", &[&key])
        .await?
        .is_some()
    {
        return Ok(NotificationOutcome::Duplicate);
    }
    let outcome = apply(tx, n).await?;
    let rec = NotificationRecord {
        received_at_ms: n.now_ms,
        outcome: outcome.clone(),
        raw: n.raw.clone(),
    };
    tx.exec(
        "INSERT INTO notifications (dedupe_key, received_at_ms, doc) VALUES ($1, $2, $3)",
        &[&key, &big(n.now_ms), &to_doc(&rec)?],
    )
    .await?;
    Ok(outcome)
}

async fn apply(tx: &Tx<'_>, n: &NotificationIn) -> TxResult<NotificationOutcome> {
    let Some((sim, _)) = get_sim(tx, n.iccid.as_str()).await? else {
        return Ok(NotificationOutcome::UnknownIccid);
    };
    if sim.esim_profile_type.is_none() {
        return Ok(NotificationOutcome::UnknownIccid);
    }
    if !n.tenants.is_empty() && !n.tenants.contains(&sim.tenant) {
        return Ok(NotificationOutcome::ForeignTenant);
    }
    let order_id = match &sim.state {
        SimState::Reserved { order } | SimState::Active { order } => order.clone(),
        SimState::Available | SimState::Retired { .. } => {
            return Ok(NotificationOutcome::NoOrder);
        }
    };
    let mut p = progress::get(tx, &order_id).await?;
    let before = p.state;
    if let Some(success) = n.success {
        p.state = EsimState::after(p.state, n.point, success);
    }
    if p.points.len() >= MAX_PROGRESS_POINTS {
        p.points.remove(0);
    }
    p.points.push(ProgressPoint {
        point: n.point,
        status: n.status.clone(),
        code: n.code.clone(),
        timestamp: n.timestamp.clone(),
        received_at_ms: n.now_ms,
    });
    progress::put(tx, &order_id, &p).await?;
    if matches!(p.state, Some(EsimState::Downloaded | EsimState::Installed)) {
        // Downloaded: the order no longer expires.
        tx.exec(
            "UPDATE orders SET esim_expires_at_ms = NULL
             WHERE id = $1 AND esim_expires_at_ms IS NOT NULL",
            &[&order_id],
        )
        .await?;
    }
    publish_esim(tx, n, &order_id, before, p.state).await?;
    let kind = EventKind::EsimProgress {
        point: n.point,
        status: n.status.clone(),
        code: n.code.clone(),
    };
    log_event(tx, n.now_ms, &sim.tenant, Some(&order_id), kind).await?;
    Ok(NotificationOutcome::Applied { order: order_id })
}

/// Publishes `esim.*` for a notification that changed the profile's state, or reported a
/// failure (embedded `publish_esim`); ordered by the order's number.
async fn publish_esim(
    tx: &Tx<'_>,
    n: &NotificationIn,
    order_id: &str,
    before: Option<EsimState>,
    after: Option<EsimState>,
) -> TxResult<()> {
    let t = match after {
        _ if n.success == Some(false) => EventType::EsimError,
        Some(s) if Some(s) == before => return Ok(()),
        Some(EsimState::Downloaded) => EventType::EsimDownloaded,
        Some(EsimState::Installed) => EventType::EsimInstalled,
        Some(EsimState::Error) => EventType::EsimError,
        _ => return Ok(()),
    };
    let Some(order) = orders::get(tx, order_id).await?.map(|r| r.order) else {
        return Ok(());
    };
    let data = json!({
        "order_id": order.id,
        "iccid": order.iccid,
        "eid": order.esim.as_ref().and_then(|e| e.eid.clone()),
        "msisdn": order.msisdn,
        "state": after.map(EsimState::as_str),
        "previous": before.map(EsimState::as_str),
        "point": n.point,
        "status": n.status,
        "code": n.code,
    });
    let subject = Some(order.msisdn.as_str());
    publish(tx, n.now_ms, &order.tenant, t, subject, data).await
}

async fn expire(
    tx: &Tx<'_>,
    now_ms: u64,
    reopen: Reopen,
    (node, lease_ms): Owner<'_>,
) -> TxResult<Vec<Order>> {
    // SKIP LOCKED: nodes sweeping at once share the due orders instead of colliding.
    let due: Vec<String> = tx
        .rows(
            "SELECT id FROM orders WHERE esim_expires_at_ms <= $1
             ORDER BY esim_expires_at_ms, id LIMIT $2 FOR UPDATE SKIP LOCKED",
            &[&big(now_ms), &EXPIRY_BATCH],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut reopened = Vec::new();
    for id in due {
        tx.exec(
            "UPDATE orders SET esim_expires_at_ms = NULL WHERE id = $1",
            &[&id],
        )
        .await?;
        let Some(order) = orders::get(tx, &id).await?.map(|r| r.order) else {
            continue;
        };
        if order.status != OrderStatus::Active
            || progress::downloaded(tx, &id).await?
            || lines::changed(tx, &id).await?
        {
            continue;
        }
        let next = reopen(order, now_ms);
        advance_order(tx, &next, &Effect::None, &EventKind::EsimExpired).await?;
        lines::set_busy(tx, &id, true).await?;
        orders::lease_to(tx, &id, node, now_ms.saturating_add(lease_ms)).await?;
        reopened.push(next);
    }
    Ok(reopened)
}

impl PgStore {
    /// Records a HandleDownloadProgressInfo durably (raw body included) and, unless it is
    /// a duplicate or not for an order of a served tenant, applies it to the order's
    /// progress.
    pub async fn record_notification(
        &self,
        n: NotificationIn,
    ) -> Result<NotificationOutcome, StoreError> {
        let out = self
            .transaction(&n, |tx, n| Box::pin(record(tx, n)))
            .await?;
        if matches!(out, NotificationOutcome::Applied { .. }) {
            self.wake_sequencer();
        }
        Ok(out)
    }

    /// An eSIM order's download progress, if any notification arrived for it.
    pub async fn esim_progress(&self, order_id: &str) -> Result<Option<EsimProgress>, StoreError> {
        let c = self.client().await?;
        let st = c
            .prepare_cached("SELECT doc FROM esim_progress WHERE order_id = $1")
            .await
            .map_err(|e| db_error(&e))?;
        c.query_opt(&st, &[&order_id])
            .await
            .map_err(|e| db_error(&e))?
            .map(|r| from_doc("esim_progress", r.get(0)))
            .transpose()
    }

    /// The earliest download deadline of a released eSIM order (a read; no commit).
    pub async fn next_esim_deadline(&self) -> Result<Option<u64>, StoreError> {
        let c = self.client().await?;
        let st = c
            .prepare_cached(
                "SELECT esim_expires_at_ms FROM orders WHERE esim_expires_at_ms IS NOT NULL
                 ORDER BY esim_expires_at_ms LIMIT 1",
            )
            .await
            .map_err(|e| db_error(&e))?;
        Ok(c.query_opt(&st, &[])
            .await
            .map_err(|e| db_error(&e))?
            .map(|r| unbig(r.get(0))))
    }

    /// Reopens released eSIM orders not downloaded by `now_ms` for cancellation with the
    /// engine's transition `reopen` (in the same commit as the expiry check), leased to
    /// this node; returns them (durable as `compensating`) for the engine to drive.
    pub async fn expire_esim(&self, now_ms: u64, reopen: Reopen) -> Result<Vec<Order>, StoreError> {
        let out = self
            .transaction(
                &(now_ms, reopen, self.owner()),
                |tx, (now, reopen, owner)| Box::pin(expire(tx, *now, *reopen, *owner)),
            )
            .await?;
        if !out.is_empty() {
            self.wake_sequencer();
        }
        Ok(out)
    }
}
