//! `advance_order` (embedded `Tables::advance_order`): the optimistic version check, the
//! order's effect on its SIM, number and counters (an activation made active opens its
//! line in the same commit; a lifecycle order that concludes changes its line,
//! `finish.rs`), the eSIM expiry column, the in-flight flag, and the events; for an order
//! with compliance, the audit record of its status change and, when it stops counting
//! (`stops_counting`), its line's live-line row.

use super::audit_chain;
use super::codec::{DocRef, from_doc, unbig};
use super::compliance_counters as counters;
use super::events::{log_event, publish, publish_order};
use super::finish::finish_lifecycle;
use super::lines;
use super::numbers::{ReadNumber, set_number, write_number};
use super::orders::{self, OrderRow};
use super::progress::downloaded;
use super::retry::{Tx, TxResult};
use super::sims::move_sim;
use crate::order::{Effect, Order, OrderKind, OrderStatus, ProfileFate};
use crate::store::*;
use sim_profiles::Msisdn;

/// Persists `order` (the next version of the stored one), applies `effect` and logs
/// `event`, in the caller's transaction; `Conflict` if the stored version is not
/// `order.version - 1` (another writer advanced it).
pub async fn advance_order(
    tx: &Tx<'_>,
    order: &Order,
    effect: &Effect,
    event: &EventKind,
) -> TxResult<()> {
    if order.kind != OrderKind::Activation {
        let Some(OrderRow {
            order: current,
            esim_expires_at_ms,
        }) = orders::get(tx, &order.id).await?
        else {
            return Err(StoreError::Conflict(order.id.clone()).into());
        };
        if current.version + 1 != order.version {
            return Err(StoreError::Conflict(order.id.clone()).into());
        }
        match effect {
            Effect::Complete => finish_lifecycle(tx, order, true).await?,
            Effect::Release => finish_lifecycle(tx, order, false).await?,
            Effect::None | Effect::Activate => {}
        }
        return record_order(tx, &current, order, effect, event, esim_expires_at_ms).await;
    }
    // The order, its SIM and the number an activation takes, in one read.
    let assign = match effect {
        Effect::Activate => activated_numbers(order).0,
        _ => None,
    };
    let Some((
        OrderRow {
            order: current,
            esim_expires_at_ms,
        },
        sim,
        number,
    )) = read_activation(tx, &order.id, order.iccid.as_str(), assign).await?
    else {
        return Err(StoreError::Conflict(order.id.clone()).into());
    };
    if current.version + 1 != order.version {
        return Err(StoreError::Conflict(order.id.clone()).into());
    }
    if current.status == OrderStatus::Compensating && order.status == OrderStatus::Active {
        // A reopened eSIM activation whose profile turned out downloaded: its line is
        // back, and no longer busy with it.
        lines::set_busy(tx, &order.id, false).await?;
    }
    let (sim, stocked) = sim.ok_or_else(|| StoreError::Corrupt {
        table: "sims",
        message: "SIM of an order is missing".into(),
    })?;
    match effect {
        Effect::None | Effect::Complete => {}
        Effect::Activate => {
            let active = SimState::Active {
                order: order.id.clone(),
            };
            let sim = move_sim(tx, (sim, stocked), active).await?;
            let quarantine = activated_numbers(order).1;
            if let Some(n) = assign {
                let assigned = NumberState::Assigned {
                    order: order.id.clone(),
                };
                let record = number.ok_or_else(|| StoreError::Corrupt {
                    table: "numbers",
                    message: "number of an order is missing".into(),
                })?;
                let read = ReadNumber {
                    msisdn: n.clone(),
                    record,
                    unlisted: false,
                };
                write_number(tx, read, assigned).await?;
            }
            if let Some(t) = quarantine {
                super::pool::quarantine_number(tx, &order.tenant, t, order.updated_at_ms).await?;
            }
            if let Some(p) = order.port.as_ref().filter(|p| !p.is_out()) {
                super::numbers::take_ported_number(tx, &order.tenant, &order.id, p).await?;
            }
            lines::open(tx, order, &sim).await?;
        }
        Effect::Release => {
            if matches!(sim.state, SimState::Active { .. }) {
                lines::close_released_activation(tx, order).await?;
            }
            let retire = order
                .esim
                .as_ref()
                .is_some_and(|e| e.fate == Some(ProfileFate::Retire));
            let to = if retire {
                SimState::Retired {
                    order: order.id.clone(),
                }
            } else {
                SimState::Available
            };
            move_sim(tx, (sim, stocked), to).await?;
            if releases_pool_number(order) {
                set_number(tx, &order.msisdn, NumberState::Available).await?;
            }
        }
    }
    let expiry = esim_expiry(tx, &current, order, esim_expires_at_ms).await?;
    record_order(tx, &current, order, effect, event, expiry).await
}

/// An activation order's row, its SIM (`iccid`, and whether it is stock) and, when
/// `msisdn` is given, that number's record: one statement instead of three. `None` when
/// the order is missing.
async fn read_activation(
    tx: &Tx<'_>,
    id: &str,
    iccid: &str,
    msisdn: Option<&Msisdn>,
) -> TxResult<Option<(OrderRow, Option<(SimRecord, bool)>, Option<NumberRecord>)>> {
    let Some(r) = tx
        .row(
            "SELECT o.doc, o.esim_expires_at_ms, s.doc, s.stocked, n.doc
             FROM orders o
             LEFT JOIN sims s ON s.iccid = $2
             LEFT JOIN numbers n ON n.msisdn = $3
             WHERE o.id = $1",
            &[&id, &iccid, &msisdn.map(Msisdn::as_str)],
        )
        .await?
    else {
        return Ok(None);
    };
    let row = OrderRow {
        order: from_doc("orders", r.get(0))?,
        esim_expires_at_ms: r.get::<_, Option<i64>>(1).map(unbig),
    };
    let sim = match r.get::<_, Option<DocRef<'_>>>(2) {
        Some(doc) => Some((from_doc("sims", doc)?, r.get::<_, bool>(3))),
        None => None,
    };
    let number = match r.get::<_, Option<DocRef<'_>>>(4) {
        Some(doc) => Some(from_doc("numbers", doc)?),
        None => None,
    };
    Ok(Some((row, sim, number)))
}

/// An order's eSIM download deadline while it counts (active with a deadline): what the
/// `esim_expires_at_ms` column holds unless the profile is on the device.
pub fn deadline(o: &Order) -> Option<u64> {
    o.esim
        .as_ref()
        .and_then(|e| e.expires_at_ms)
        .filter(|_| o.status == OrderStatus::Active)
}

/// The order's eSIM deadline column after the rewrite (embedded `index_esim_expiry`): an
/// eSIM order that is active with a deadline is listed unless its profile is already on
/// the device; one that left `active` (or whose deadline changed) is not.
async fn esim_expiry(
    tx: &Tx<'_>,
    before: &Order,
    after: &Order,
    column: Option<u64>,
) -> TxResult<Option<u64>> {
    let mut column = column;
    if let Some(at) = deadline(before) {
        if deadline(after) != Some(at) && column == Some(at) {
            column = None;
        }
    }
    if let Some(at) = deadline(after) {
        if !downloaded(tx, &after.id).await? {
            column = Some(at);
        }
    }
    Ok(column)
}

/// Writes the order's new version (in flight unless terminal) and logs `event`; an
/// effect other than `None` also publishes the order's `order.*` event.
async fn record_order(
    tx: &Tx<'_>,
    current: &Order,
    order: &Order,
    effect: &Effect,
    event: &EventKind,
    esim_expires_at_ms: Option<u64>,
) -> TxResult<()> {
    if !orders::update(tx, order, esim_expires_at_ms).await? {
        return Err(StoreError::Conflict(order.id.clone()).into());
    }
    super::ports::index(tx, Some(current), order).await?;
    for (t, data) in port_events(current, order) {
        let line = subscription_id(&order.id);
        publish(tx, order.updated_at_ms, &order.tenant, t, Some(&line), data).await?;
    }
    match stops_counting(current.status, order) {
        Some(StopsCounting::Own(line)) => counters::end_line(tx, line.order_id).await?,
        Some(StopsCounting::Line { subscription }) => {
            counters::end_line_of(tx, subscription).await?
        }
        None => {}
    }
    for record in order_audit(current, order) {
        audit_chain::append(tx, &record).await?;
    }
    log_event(
        tx,
        order.updated_at_ms,
        &order.tenant,
        Some(&order.id),
        event.clone(),
    )
    .await?;
    if !matches!(effect, Effect::None) {
        publish_order(tx, order, Some(current.status)).await?;
    }
    Ok(())
}
