//! Turns an activation request into the compliance check its create commit runs
//! (`store::ComplianceCheck`): the tenant's policy, the typed subscriber and its ID
//! hashes, the channel, and who asks. The decision itself is the store's, in the commit.

use super::AppState;
use super::auth::Caller;
use super::problem::ApiError;
use crate::compliance::audit::Actor;
use crate::compliance::{ChannelRef, SimKind, Subscriber};
use crate::engine::Asker;
use crate::store::{ComplianceCheck, Tenant};
use serde_json::Value;
use std::sync::Arc;

/// The caller's tenant; a key whose tenant is gone is refused as the store would refuse it.
pub(super) async fn tenant_of(state: &AppState, caller: &Caller) -> Result<Tenant, ApiError> {
    state
        .store
        .tenant(&caller.tenant)
        .await?
        .ok_or_else(|| ApiError::rejection(crate::store::Rejection::UnknownTenant))
}

/// The card kind a request asks for.
pub(super) fn sim_kind(sim: &super::dto::SimRequest) -> SimKind {
    match sim {
        super::dto::SimRequest::Physical(_) => SimKind::Physical,
        super::dto::SimRequest::Esim(_) => SimKind::Esim,
    }
}

/// The check of an activation request, refused at once when the tenant's market requires
/// identity verification and this gateway has no verifier: what `POST /v1/activations`
/// and its validation share.
pub(super) fn checked(
    state: &AppState,
    caller: &Caller,
    tenant: &Tenant,
    sim: SimKind,
    subscriber: Option<&Value>,
    channel: Option<&Value>,
) -> Result<ComplianceCheck, ApiError> {
    let check = build(state, caller, tenant, subscriber, channel, sim)?;
    if check.policy.identity_required && !state.engine.identity_enabled() {
        return Err(ApiError::identity_service_unavailable());
    }
    Ok(check)
}

/// The check for an activation of `tenant` asked by `caller`.
fn build(
    state: &AppState,
    caller: &Caller,
    tenant: &Tenant,
    subscriber: Option<&Value>,
    channel: Option<&Value>,
    sim: SimKind,
) -> Result<ComplianceCheck, ApiError> {
    let policy = tenant.policy().map_err(|e| {
        tracing::error!(tenant = %tenant.id, error = %e, "the tenant's compliance settings are invalid");
        ApiError::internal()
    })?;
    let (subscriber, invalid) = match subscriber.map(Subscriber::from_json) {
        None => (None, None),
        Some(Ok(s)) => (Some(Arc::new(s)), None),
        Some(Err(r)) => (None, Some(r)),
    };
    let id_hashes = match &subscriber {
        Some(s) => state.id_hasher.hash_all(s),
        None => Vec::new(),
    };
    let member = |k: &str| channel.and_then(|c| c.get(k)).and_then(Value::as_str);
    let channel_ref = ChannelRef::from_request(
        member("kind"),
        member("store_id"),
        member("staff_id"),
        member("terminal_id"),
    );
    let reader = subscriber
        .as_ref()
        .and_then(|s| s.capture.reader_serial())
        .map(str::to_owned);
    let actor = Actor {
        key_id: caller.key_prefix.clone(),
        channel: match channel_ref {
            ChannelRef::Store(_) => "store",
            ChannelRef::Online => "online",
        }
        .to_owned(),
        store: match &channel_ref {
            ChannelRef::Store(s) => Some(s.store.clone()).filter(|s| !s.is_empty()),
            ChannelRef::Online => None,
        },
        clerk: match &channel_ref {
            ChannelRef::Store(s) => s.clerk.clone(),
            ChannelRef::Online => None,
        },
        device: match &channel_ref {
            ChannelRef::Store(s) => s.terminal.clone().or(reader),
            ChannelRef::Online => None,
        },
    };
    let evidence = subscriber
        .as_ref()
        .map(|s| s.evidence_refs())
        .unwrap_or_default();
    Ok(ComplianceCheck {
        policy: Arc::new(policy),
        enterprise: tenant.enterprise().to_owned(),
        subscriber,
        invalid,
        channel: channel_ref,
        sim,
        imei: member("imei").map(str::to_owned),
        handset: member("imei")
            .and_then(|i| super::handset::of_sale(&state.keys, i, state.clock.now_ms())),
        id_hashes,
        actor,
        evidence,
        verified: None,
    })
}

/// `check` with the identity verifier's decision asked before the create commit
/// (`Engine::verify_before_create`) for order `order_id` of `tenant`, whose subscriber
/// will be sealed as `clear`: only when the commit will ask for a verification and, by a
/// read-only pre-check of the same rules, would allow the order now (an order the commit
/// would refuse is not put to the verifier). `check` unchanged otherwise; the commit
/// decides again either way.
pub(super) async fn verified_first(
    state: &AppState,
    asker: Asker<'_>,
    clear: Option<&[u8]>,
    mut check: ComplianceCheck,
) -> ComplianceCheck {
    let (Some(clear), Some(terms)) = (clear, check.verify_terms()) else {
        return check;
    };
    if !state.engine.verifies_before_create() {
        return check;
    }
    let now_ms = state.clock.now_ms();
    match state
        .store
        .precheck_activation(asker.tenant, &check, now_ms)
        .await
    {
        Ok(crate::compliance::Decision::Allow(_)) => {}
        Ok(crate::compliance::Decision::Refuse(_)) => {
            state
                .metrics
                .identity_before_create
                .count(crate::metrics::BeforeCreate::PrecheckRefused);
            return check;
        }
        Err(e) => {
            tracing::debug!(error = %e, "compliance pre-check failed; the verifier is asked after the create commit");
            return check;
        }
    }
    check.verified = state
        .engine
        .verify_before_create(asker, clear, &terms)
        .await;
    check
}

/// The subscriber as sealed at rest: the normalised form of a valid subscriber, the
/// request's object as sent otherwise (a policy that keeps invalid subscribers).
pub(super) fn sealed_form(
    check: &ComplianceCheck,
    sent: &Value,
) -> Result<zeroize::Zeroizing<Vec<u8>>, ApiError> {
    match &check.subscriber {
        Some(s) => Ok(s.to_sealed_json()),
        None => serde_json::to_vec(sent)
            .map(zeroize::Zeroizing::new)
            .map_err(|_| ApiError::internal()),
    }
}
