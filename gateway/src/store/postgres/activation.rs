//! `create_activation` (embedded `Tables::create_activation`): the idempotency check, the
//! card (a physical SIM by ICCID, or an eSIM profile from stock), the number, and the
//! order in flight leased to this node, in one transaction. The key is claimed first
//! (`idempotency::claim`, an insert); every other check comes before any other write, and
//! a refusal rolls the transaction back, so it changes nothing, as in the embedded backend.
//! With compliance checks (`NewActivation::compliance`), the decision comes right after
//! the claim (`compliance.rs`, in this transaction): a compliance refusal gives the key
//! back (`unclaim`) and commits only its audit record and any freeze; an allowed order's
//! velocity buckets, live line and audit record are written with it.

use super::PgStore;
use super::compliance::{self, Checked};
use super::compliance_counters::Read;
use super::idempotency::{Claim, Claimed, Key, Prefetch, claim, unclaim};
use super::lines;
use super::numbers::get_number;
use super::order_leases::Owner;
use super::orders::insert_new_order;
use super::pool::{select_number, take_number};
use super::retry::{Tx, TxResult};
use super::sims::move_sim;
use super::stock::{check_physical, free_esim};
use crate::compliance::Decision;
use crate::order::{EsimOrder, Order, OrderKind, OrderStatus, Step};
use crate::store::*;

pub(super) async fn create(
    tx: &Tx<'_>,
    new: &NewActivation,
    owner: Owner<'_>,
) -> TxResult<CreateOutcome> {
    let key = Key {
        tenant: &new.tenant,
        key: &new.idempotency_key,
        body_hash: &new.body_hash,
        order_id: &new.order_id,
        now_ms: new.now_ms,
    };
    let prefetch = Prefetch {
        sim: match &new.sim {
            SimChoice::Physical(iccid) => Some(iccid.as_str()),
            SimChoice::Esim { .. } => None,
        },
        ends: matches!(new.number, NumberChoice::Auto),
    };
    let read = match claim(tx, key, new.idempotency_cutoff_ms, prefetch).await? {
        Claim::Answer(answer) => return Ok(*answer),
        Claim::New(read) => read,
    };
    let checked = match &new.compliance {
        Some(check) => {
            Some(compliance::decide(tx, &new.tenant, check, new.now_ms, Read::Lock).await?)
        }
        None => None,
    };
    let decision = checked.as_ref().map(|c| &c.decision);
    if let (Some(check), Some(d @ Decision::Refuse(r))) = (&new.compliance, decision) {
        // Nothing reserved, and the key stays free; the refusal's audit record and any
        // freeze commit (in this transaction, after the claim is given back).
        unclaim(tx, &new.tenant, &new.idempotency_key, &new.order_id).await?;
        let (key, now) = (&new.idempotency_key, new.now_ms);
        compliance::refuse(tx, &new.tenant, check, d, key, now).await?;
        return Ok(CreateOutcome::Refused(Box::new(r.clone())));
    }
    let out = create_claimed(tx, new, *read, checked.as_ref(), owner).await?;
    if matches!(out, CreateOutcome::Rejected(_)) {
        // A refusal changes nothing: not even the key's claim.
        tx.rollback_only();
    }
    Ok(out)
}

async fn create_claimed(
    tx: &Tx<'_>,
    new: &NewActivation,
    read: Claimed,
    checked: Option<&Checked>,
    (node, lease_ms): Owner<'_>,
) -> TxResult<CreateOutcome> {
    let Some(tenant) = read.tenant else {
        return Ok(CreateOutcome::Rejected(Rejection::UnknownTenant));
    };
    let Some(product) = tenant.products.get(&new.product) else {
        return Ok(CreateOutcome::Rejected(Rejection::UnknownProduct));
    };
    let (sim, esim) = match &new.sim {
        SimChoice::Physical(_) => match check_physical(&new.tenant, read.sim) {
            Ok(sim) => (sim, None),
            Err(r) => return Ok(CreateOutcome::Rejected(r)),
        },
        SimChoice::Esim {
            eid,
            matching_id,
            confirmation_code,
        } => {
            let Some(profile_type) = &product.esim_profile_type else {
                return Ok(CreateOutcome::Rejected(Rejection::EsimNotOffered));
            };
            let Some(sim) = free_esim(tx, &new.tenant, profile_type).await? else {
                return Ok(CreateOutcome::Rejected(Rejection::EsimStockOut {
                    profile_type: profile_type.clone(),
                }));
            };
            let esim = EsimOrder::new(
                profile_type.clone(),
                eid.clone(),
                matching_id.clone(),
                confirmation_code.clone(),
            );
            (sim, Some(esim))
        }
    };
    let pick = (new.random, read.ends);
    let selected = match select_number(tx, &tenant, &new.number, pick, new.now_ms).await? {
        Ok(s) => s,
        Err(r) => return Ok(CreateOutcome::Rejected(r)),
    };
    let msisdn = selected.msisdn().clone();
    if let Some(p) = &new.port {
        let key = p.number.as_str();
        let ours = get_number(tx, key)
            .await?
            .is_some_and(|n| number_already_ours(&n))
            || lines::by_msisdn(tx, key).await?.is_some();
        if ours {
            return Ok(CreateOutcome::Rejected(Rejection::NumberAlreadyOurs));
        }
    }
    // All checks passed: from here on, write.
    let allowed = new.compliance.as_ref().zip(checked);
    let compliance = allowed.and_then(|(c, d)| OrderCompliance::allowed(c, &d.decision));
    let identity = allowed.and_then(|(c, _)| decided_identity(c, compliance.as_ref()));
    let order = Order {
        id: new.order_id.clone(),
        kind: OrderKind::Activation,
        lifecycle: None,
        port: new
            .port
            .clone()
            .map(|p| p.running_on(temporary_number(&new.number, &msisdn))),
        tenant: new.tenant.clone(),
        status: OrderStatus::Reserved,
        iccid: sim.iccid.clone(),
        imsi: sim.imsi.clone(),
        msisdn: msisdn.clone(),
        msisdn_mode: activation_number_mode(new),
        product: new.product.clone(),
        hlr_profile_id: product.hlr_profile_id,
        channel: new.channel.clone(),
        subscriber: new.subscriber.clone(),
        compliance,
        hlr: Step::Pending,
        undo: None,
        error: None,
        needs_attention: false,
        attention: Vec::new(),
        esim,
        created_at_ms: new.now_ms,
        updated_at_ms: new.now_ms,
        version: 1,
        identity,
    };
    let order = match new.send_ahead {
        Some(send) => send(order, new.now_ms),
        None => order,
    };
    let reserved = SimState::Reserved {
        order: order.id.clone(),
    };
    // Read in this transaction (`physical_sim`, `free_esim`: both only take stocked SIMs).
    move_sim(tx, (sim, true), reserved).await?;
    take_number(tx, &new.number, selected, &order.id).await?;
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
    if let (Some(check), Some(d)) = (&new.compliance, checked) {
        let (key, now) = (&new.idempotency_key, new.now_ms);
        compliance::allow(tx, check, d, &order, key, now).await?;
    }
    Ok(CreateOutcome::Created(order))
}

impl PgStore {
    /// Creates an activation order atomically: checks the idempotency key, reserves the
    /// SIM and a number, inserts the order (leased to this node) and its idempotency
    /// record and logs the event. All of it is durable on return, or nothing changed.
    pub async fn create_activation(&self, new: NewActivation) -> Result<CreateOutcome, StoreError> {
        // Creates of one store or ID queue here rather than fail to serialize in the
        // database (`create_gate.rs`).
        let _held = self.create_gate.enter(&new).await;
        // A plain physical sale shares a transaction with others (`create_group.rs`).
        let out = if super::create_group::groupable(&new) {
            self.create_grouped(new).await?
        } else {
            super::group::alone(&self.committer(), &new).await?
        };
        if matches!(out, CreateOutcome::Created(_)) {
            self.wake_sequencer();
        }
        Ok(out)
    }
}
