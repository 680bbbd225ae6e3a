//! A lifecycle order's terminal outcome applied to its line and inventory, inside the
//! `advance_order` commit that concludes it (embedded `finish_lifecycle`): `completed`
//! changes the line (and retires, quarantines or assigns what the change gives up or
//! takes); `failed` returns what the order reserved.

use super::events::publish;
use super::lines;
use super::numbers::{get_number, mark_returned, set_number};
use super::pool::quarantine_number;
use super::retry::{Tx, TxResult};
use super::sims::{get_sim, set_sim_state};
use crate::order::{Lifecycle, Order, OrderKind};
use crate::store::*;
use sim_profiles::Iccid;

fn corrupt(message: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        table: "subscriptions",
        message: message.into(),
    }
}

/// Applies `order`'s outcome to its line: `completed`, or failed (see the module doc).
pub async fn finish_lifecycle(tx: &Tx<'_>, order: &Order, completed: bool) -> TxResult<()> {
    let l = order
        .lifecycle
        .as_ref()
        .ok_or_else(|| corrupt(format!("order {} has no lifecycle part", order.id)))?;
    let mut sub = lines::get(tx, &l.subscription)
        .await?
        .ok_or_else(|| corrupt(format!("subscription {} is missing", l.subscription)))?;
    if sub.inflight.as_deref() == Some(order.id.as_str()) {
        sub.inflight = None;
    }
    let now = order.updated_at_ms;
    let change = if completed {
        let previous = sub.clone();
        let change = apply_change(tx, order, l, &mut sub, now).await?;
        if let Some(t) = subscription_event(order.kind) {
            let data = subscription_data(&sub, &previous, &order.id);
            publish(tx, now, &sub.tenant, t, Some(&sub.id), data).await?;
        }
        super::reverify::flag_on_completion(tx, &mut sub, order).await?;
        change
    } else {
        return_reserved(tx, order, l).await?;
        super::reverify::retry_suspend(tx, &sub, order).await?;
        None
    };
    sub.updated_at_ms = now;
    sub.history.push(HistoryEntry {
        order_id: order.id.clone(),
        kind: order.kind,
        outcome: order.status.as_str().into(),
        actor: Some(l.actor.clone()),
        reason: l.reason,
        change,
        error: order.error.as_ref().map(|e| e.code.clone()),
        at_ms: now,
    });
    lines::put(tx, &sub).await
}

/// The completed order's change to the line; returns its description.
async fn apply_change(
    tx: &Tx<'_>,
    order: &Order,
    l: &Lifecycle,
    sub: &mut Subscription,
    now: u64,
) -> TxResult<Option<String>> {
    Ok(match order.kind {
        OrderKind::Activation => None,
        OrderKind::Suspend => {
            sub.suspended_for(l);
            None
        }
        OrderKind::Resume => {
            sub.resumed_from(l.reason);
            None
        }
        OrderKind::Terminate => {
            retire_sim(tx, &sub.iccid, &order.id).await?;
            quarantine_number(tx, &sub.tenant, &sub.msisdn, now).await?;
            mark_returned(tx, &sub.tenant, &sub.msisdn, &order.id).await?;
            // `lines::put` clears the line's number and card columns (the embedded
            // backend's unindexing) once it is terminated.
            sub.state = SubscriptionState::Terminated;
            None
        }
        OrderKind::PortOut => {
            // The number is the recipient's now: never ours to assign again.
            retire_sim(tx, &sub.iccid, &order.id).await?;
            // The number is marked gone, whether of our pools or ported in (a record
            // of another tenant's is not ours to mark).
            let ours = get_number(tx, sub.msisdn.as_str())
                .await?
                .is_some_and(|n| n.tenant == sub.tenant);
            if ours {
                let gone = NumberState::PortedOut {
                    order: order.id.clone(),
                };
                set_number(tx, &sub.msisdn, gone).await?;
            }
            sub.state = SubscriptionState::Terminated;
            sub.port_out_credential = None;
            Some(crate::store::ported_out_change(order))
        }
        OrderKind::SimSwap => {
            let new = l
                .new_line
                .as_ref()
                .ok_or_else(|| corrupt(format!("swap {} has no new card", order.id)))?;
            retire_sim(tx, &sub.iccid, &order.id).await?;
            let active = SimState::Active {
                order: order.id.clone(),
            };
            let sim = set_sim_state(tx, &new.iccid, active).await?;
            let change = format!("iccid {} → {}", sub.iccid, new.iccid);
            sub.iccid = new.iccid.clone();
            sub.imsi = new.imsi.clone();
            sub.sim_type = if sim.esim_profile_type.is_some() {
                SimType::Esim
            } else {
                SimType::Physical
            };
            Some(change)
        }
        OrderKind::NumberChange => {
            let to = l
                .new_msisdn
                .clone()
                .ok_or_else(|| corrupt(format!("number change {} has no number", order.id)))?;
            let assigned = NumberState::Assigned {
                order: order.id.clone(),
            };
            set_number(tx, &to, assigned).await?;
            quarantine_number(tx, &sub.tenant, &sub.msisdn, now).await?;
            mark_returned(tx, &sub.tenant, &sub.msisdn, &order.id).await?;
            let change = format!("msisdn {} → {}", sub.msisdn, to);
            sub.msisdn = to;
            Some(change)
        }
    })
}

/// A failed order's reservations go back to stock; an eSIM profile that may not be
/// Available at the SM-DP+ (`Lifecycle::new_card_reusable`) is retired instead.
async fn return_reserved(tx: &Tx<'_>, order: &Order, l: &Lifecycle) -> TxResult<()> {
    if let Some(new) = &l.new_line {
        let (sim, _) = get_sim(tx, new.iccid.as_str())
            .await?
            .ok_or_else(|| corrupt(format!("SIM {} of a line is missing", new.iccid)))?;
        if matches!(&sim.state, SimState::Reserved { order: o } if *o == order.id) {
            if !l.new_card_reusable() {
                // Embedded: return early here, leaving a reserved new number as it is
                // (a swap reserves no number, so nothing is left behind in practice).
                return retire_sim(tx, &new.iccid, &order.id).await;
            }
            set_sim_state(tx, &new.iccid, SimState::Available).await?;
        }
    }
    if let Some(m) = &l.new_msisdn {
        let reserved = get_number(tx, m.as_str()).await?.is_some_and(
            |n| matches!(n.state, NumberState::Reserved { order: ref o } if *o == order.id),
        );
        if reserved {
            set_number(tx, m, NumberState::Available).await?;
        }
    }
    Ok(())
}

/// Takes a card out of service for good (never reused); its counters move from the
/// state it was in.
async fn retire_sim(tx: &Tx<'_>, iccid: &Iccid, order: &str) -> TxResult<()> {
    let (sim, _) = get_sim(tx, iccid.as_str())
        .await?
        .ok_or_else(|| corrupt(format!("SIM {iccid} of a line is missing")))?;
    if matches!(sim.state, SimState::Retired { .. }) {
        return Ok(());
    }
    let retired = SimState::Retired {
        order: order.to_owned(),
    };
    set_sim_state(tx, iccid, retired).await?;
    Ok(())
}

/// The event a completed lifecycle order publishes.
fn subscription_event(kind: OrderKind) -> Option<EventType> {
    Some(match kind {
        OrderKind::Activation => return None,
        OrderKind::Suspend => EventType::SubscriptionSuspended,
        OrderKind::Resume => EventType::SubscriptionResumed,
        OrderKind::Terminate => EventType::SubscriptionTerminated,
        OrderKind::SimSwap => EventType::SubscriptionSimSwapped,
        OrderKind::NumberChange => EventType::SubscriptionNumberChanged,
        OrderKind::PortOut => EventType::SubscriptionTerminated,
    })
}
