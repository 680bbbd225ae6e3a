//! The gateway's view, read from the store through reads that exist for other jobs: the
//! backend-neutral dump (`simgw db copy`'s pages of lines and SIMs), the orders in flight
//! and the eSIM progress mirror. Nothing here writes, and no new port method is needed.

use super::model::{ExpectedLine, GatewayView, Holding, InventorySim};
use crate::order::Order;
use crate::store::dump::DumpTable;
use crate::store::{SimRecord, SimType, StoreAdmin, StoreError, Subscription, SubscriptionState};
use serde::de::DeserializeOwned;

/// Rows read per dump page.
const PAGE: usize = 1_000;

/// Reads the view of `tenant` (every tenant when `None`).
pub async fn load(store: &dyn StoreAdmin, tenant: Option<&str>) -> Result<GatewayView, StoreError> {
    let in_scope = |t: &str| tenant.is_none_or(|want| want == t);
    let mut view = GatewayView::default();
    let mut esim_lines = Vec::new();
    let mut subs = Vec::new();
    each(store, DumpTable::Subscriptions, |sub: Subscription| {
        if in_scope(&sub.tenant) && sub.state != SubscriptionState::Terminated {
            subs.push(sub);
        }
    })
    .await?;
    for sub in subs {
        view.holdings.push(Holding {
            tenant: sub.tenant.clone(),
            holder: sub.id.clone(),
            iccid: Some(sub.iccid.clone()),
            msisdn: Some(sub.msisdn.clone()),
        });
        if sub.sim_type == SimType::Esim {
            esim_lines.push(view.lines.len());
        }
        view.lines.push(expected(&sub));
    }
    for i in esim_lines {
        let line = &mut view.lines[i];
        line.esim_mirror = mirror(store, line, &activation_of(&line.subscription)).await?;
    }
    // One page at a time: the sealed keys of a large inventory are never all in memory.
    each(store, DumpTable::Sims, |sim: SimRecord| {
        if in_scope(&sim.tenant) {
            view.inventory.push(InventorySim {
                tenant: sim.tenant,
                iccid: sim.iccid,
                imsi: sim.imsi,
            });
        }
    })
    .await?;
    for order in store.inflight_orders().await? {
        if in_scope(&order.tenant) {
            hold_inflight(&order, &mut view);
        }
    }
    // A port-in waiting for its hub is out of flight (parked) but holds its card, and in
    // the UK and US its line on a temporary number is on the HLR: not an orphan.
    for tenant in store.tenant_ids().await? {
        if !in_scope(&tenant) {
            continue;
        }
        for order in store.open_ports(&tenant, usize::MAX).await? {
            if order.port_parked().is_some() {
                hold_inflight(&order, &mut view);
            }
        }
    }
    Ok(view)
}

/// What the peers should hold for a line in service.
fn expected(sub: &Subscription) -> ExpectedLine {
    ExpectedLine {
        tenant: sub.tenant.clone(),
        subscription: sub.id.clone(),
        line: crate::order::Line {
            iccid: sub.iccid.clone(),
            imsi: sub.imsi.clone(),
            msisdn: Some(sub.msisdn.clone()),
            hlr_profile_id: sub.hlr_profile_id,
            barred: sub.state == SubscriptionState::Suspended,
        },
        sim_type: sub.sim_type,
        state: sub.state,
        inflight: sub.inflight.clone(),
        esim_mirror: None,
    }
}

/// The activation id a subscription id derives from (`sub_X` ← `act_X`).
fn activation_of(subscription: &str) -> String {
    format!(
        "act_{}",
        subscription.strip_prefix("sub_").unwrap_or(subscription)
    )
}

/// The notifications' mirror of the line's profile, if the line still has the profile its
/// activation released (a swapped-in profile's progress is not mirrored on the line).
async fn mirror(
    store: &dyn StoreAdmin,
    line: &ExpectedLine,
    activation: &str,
) -> Result<Option<crate::order::EsimState>, StoreError> {
    let same_card = store
        .get_order(&line.tenant, activation)
        .await?
        .is_some_and(|o| o.iccid == line.line.iccid);
    if !same_card {
        return Ok(None);
    }
    Ok(store.esim_progress(activation).await?.and_then(|p| p.state))
}

/// What an order in flight holds and may be changing on the HLR.
fn hold_inflight(order: &Order, view: &mut GatewayView) {
    match &order.lifecycle {
        None => {
            view.holdings.push(Holding {
                tenant: order.tenant.clone(),
                holder: order.id.clone(),
                iccid: Some(order.iccid.clone()),
                msisdn: Some(order.msisdn.clone()),
            });
            view.busy_imsis.insert(order.imsi.clone());
        }
        Some(l) => {
            // The line holds its own card and number already; a new card or number is
            // held by the line too.
            view.holdings.push(Holding {
                tenant: order.tenant.clone(),
                holder: l.subscription.clone(),
                iccid: l.new_line.as_ref().map(|n| n.iccid.clone()),
                msisdn: l.new_msisdn.clone(),
            });
            view.busy_imsis.insert(l.line.imsi.clone());
            if let Some(n) = &l.new_line {
                view.busy_imsis.insert(n.imsi.clone());
            }
        }
    }
}

/// Hands every record of `table` to `f`, page by page.
async fn each<T: DeserializeOwned>(
    store: &dyn StoreAdmin,
    table: DumpTable,
    mut f: impl FnMut(T),
) -> Result<(), StoreError> {
    let mut cursor: Option<String> = None;
    loop {
        let page = store.dump_page(table, cursor.as_deref(), PAGE).await?;
        for row in page.rows {
            let record = serde_json::from_value(row.doc).map_err(|e| StoreError::Corrupt {
                table: table.name(),
                message: format!("row {}: {e}", row.key),
            })?;
            f(record);
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => return Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_subscription_names_its_activation() {
        assert_eq!(activation_of("sub_01ABC"), "act_01ABC");
        assert_eq!(
            crate::store::subscription_id(&activation_of("sub_01ABC")),
            "sub_01ABC"
        );
    }
}
