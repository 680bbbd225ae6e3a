//! `create_lifecycle` (embedded `Tables::create_lifecycle`): the idempotency check, the
//! line (the tenant's, not terminated, no order in flight), what the order needs reserved
//! (a new card, a new number), its plan from the engine's planner, the order leased to
//! this node, and the line marked busy, in one transaction. Two nodes creating orders
//! on one line at once both read and write the line's row, so one of them fails to
//! serialize and, run again, finds the line busy; the unique `line` of `orders_inflight`
//! refuses a second order in flight on a line even so. The key is claimed first
//! (`idempotency::claim`, an insert), and a refusal rolls the transaction back.

use super::PgStore;
use super::audit_chain;
use super::idempotency::{Claim, Key, Prefetch, claim};
use super::lines;
use super::order_leases::Owner;
use super::orders::{self, insert_new_order};
use super::pool::{select_number, take_number};
use super::progress::downloaded;
use super::retry::{Tx, TxResult};
use super::sims::set_sim_state;
use super::stock::{free_esim, physical_sim};
use crate::order::{EsimOrder, Order, OrderKind, SagaOp};
use crate::store::*;

/// One lifecycle order in the caller's transaction (also a re-verification's `regulatory`
/// order); a refusal marks the transaction rollback-only.
pub(super) async fn create(
    tx: &Tx<'_>,
    new: &NewLifecycle,
    owner: Owner<'_>,
) -> TxResult<LifecycleOutcome> {
    let key = Key {
        tenant: &new.tenant,
        key: &new.idempotency_key,
        body_hash: &new.body_hash,
        order_id: &new.order_id,
        now_ms: new.now_ms,
    };
    let read = match claim(tx, key, new.idempotency_cutoff_ms, Prefetch::default()).await? {
        Claim::Answer(a) => {
            return Ok(match *a {
                CreateOutcome::Replayed(o) => LifecycleOutcome::Replayed(o),
                _ => LifecycleOutcome::KeyReused,
            });
        }
        Claim::New(read) => read.tenant,
    };
    let out = create_claimed(tx, new, read, owner).await?;
    if matches!(out, LifecycleOutcome::Rejected(_)) {
        // A refusal changes nothing: not even the key's claim.
        tx.rollback_only();
    }
    Ok(out)
}

async fn create_claimed(
    tx: &Tx<'_>,
    new: &NewLifecycle,
    tenant: Option<Tenant>,
    (node, lease_ms): Owner<'_>,
) -> TxResult<LifecycleOutcome> {
    let refuse = |r| Ok(LifecycleOutcome::Rejected(r));
    let Some(mut sub) = lines::by_msisdn(tx, new.msisdn.as_str()).await? else {
        return refuse(LifecycleRejection::NotFound);
    };
    if sub.tenant != new.tenant {
        return refuse(LifecycleRejection::NotFound);
    }
    if let Some(busy) = &sub.inflight {
        return refuse(LifecycleRejection::Busy(busy.clone()));
    }
    if sub.state == SubscriptionState::Terminated {
        return refuse(LifecycleRejection::Terminated);
    }
    if let Some(r) = new.reason_refusal(&sub) {
        return refuse(r);
    }
    let Some(tenant) = tenant else {
        return refuse(LifecycleRejection::NotFound);
    };
    // What the order needs reserved, checked before any write.
    let (new_sim, new_esim) = match &new.sim {
        Some(SwapSim::Physical(iccid)) => match physical_sim(tx, &new.tenant, iccid).await? {
            Ok(sim) => (Some(sim), None),
            Err(r) => return refuse(LifecycleRejection::Inventory(r)),
        },
        Some(SwapSim::Esim {
            eid,
            matching_id,
            confirmation_code,
        }) => {
            let Some(profile_type) = tenant
                .products
                .get(&sub.product)
                .and_then(|p| p.esim_profile_type.clone())
            else {
                return refuse(LifecycleRejection::Inventory(Rejection::EsimNotOffered));
            };
            let Some(sim) = free_esim(tx, &new.tenant, &profile_type).await? else {
                return refuse(LifecycleRejection::Inventory(Rejection::EsimStockOut {
                    profile_type,
                }));
            };
            let esim = EsimOrder::new(
                profile_type,
                eid.clone(),
                matching_id.clone(),
                confirmation_code.clone(),
            );
            (Some(sim), Some(esim))
        }
        None => (None, None),
    };
    let selected = match &new.number {
        Some(choice) => {
            if let NumberChoice::Choose(m) = choice {
                if *m == sub.msisdn {
                    return refuse(LifecycleRejection::SameNumber);
                }
            }
            match select_number(tx, &tenant, choice, (new.random, None), new.now_ms).await? {
                Ok(s) => Some(s),
                Err(r) => return refuse(LifecycleRejection::Inventory(r)),
            }
        }
        None => None,
    };
    let new_msisdn = selected.as_ref().map(|s| s.msisdn().clone());
    // The activation that opened the line: its eSIM profile, and the subject the order's
    // audit records name.
    let activation = orders::get(tx, &sub.activation_id).await?.map(|r| r.order);
    let undownloaded_profile = match (new.kind, sub.sim_type) {
        (OrderKind::Terminate | OrderKind::PortOut | OrderKind::SimSwap, SimType::Esim) => {
            undownloaded_profile(tx, &sub, activation.as_ref()).await?
        }
        _ => None,
    };
    let number_return = number_return(
        new.kind,
        &sub.msisdn,
        &sub.tenant,
        super::numbers::get_number(tx, sub.msisdn.as_str())
            .await?
            .as_ref(),
    );
    // All checks passed: from here on, write.
    let order = new.order(LifecycleReads {
        sub: &sub,
        tenant: &tenant,
        activation: activation.as_ref(),
        new_sim: new_sim.as_ref(),
        new_msisdn: new_msisdn.clone(),
        new_esim,
        undownloaded_profile,
        number_return,
    });
    if let Some(sim) = new_sim {
        let reserved = SimState::Reserved {
            order: order.id.clone(),
        };
        set_sim_state(tx, &sim.iccid, reserved).await?;
    }
    if let (Some(choice), Some(s)) = (&new.number, selected) {
        take_number(tx, choice, s, &order.id).await?;
    }
    sub.inflight = Some(order.id.clone());
    lines::put(tx, &sub).await?;
    let lease = (node, new.now_ms.saturating_add(lease_ms));
    insert_new_order(
        tx,
        &order,
        &new.idempotency_key,
        &new.body_hash,
        new.now_ms,
        lease,
    )
    .await?;
    if let Some(record) = lifecycle_created_audit(&order) {
        audit_chain::append(tx, &record).await?;
    }
    Ok(LifecycleOutcome::Created(order))
}

/// The CancelOrder of the line's eSIM profile if it was released and no device has
/// downloaded it yet (then it can still be cancelled; a downloaded one is the device's).
async fn undownloaded_profile(
    tx: &Tx<'_>,
    sub: &Subscription,
    activation: Option<&Order>,
) -> TxResult<Option<SagaOp>> {
    let Some((iccid, e)) = activation.and_then(|o| Some((&o.iccid, o.esim.as_ref()?))) else {
        return Ok(None);
    };
    if *iccid != sub.iccid || downloaded(tx, &sub.activation_id).await? {
        // Another card since, or downloaded: nothing of day one to cancel.
        return Ok(None);
    }
    Ok(Some(SagaOp::CancelProfile {
        iccid: sub.iccid.clone(),
        eid: e.eid.clone(),
        matching_id: e.matching_id.clone(),
    }))
}

impl PgStore {
    /// Creates a lifecycle order on a line atomically: checks the idempotency key, that
    /// the line is the tenant's and has no order in flight, reserves what the order needs
    /// (a new card, a new number), plans it with `new.plan`, leases it to this node and
    /// marks the line busy.
    pub async fn create_lifecycle(
        &self,
        new: NewLifecycle,
    ) -> Result<LifecycleOutcome, StoreError> {
        let out = self
            .transaction(&(new, self.owner()), |tx, (new, owner)| {
                Box::pin(create(tx, new, *owner))
            })
            .await?;
        if matches!(out, LifecycleOutcome::Created(_)) {
            self.wake_sequencer();
        }
        Ok(out)
    }
}
