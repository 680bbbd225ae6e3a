//! `create_activation`: what it reserves, idempotency (replay, key reuse, expiry,
//! pruning), business rejections, and tenant-scoped reads.

use crate::common::PROFILE_ID;
use crate::fixture::*;
use gateway::order::{MsisdnMode, Order, OrderKind, OrderStatus, Step};
use gateway::store::{
    BatchRecord, BatchStatus, CreateOutcome, InventoryCounts, NumberChoice, Rejection, SimChoice,
    SimState, StoreAdmin,
};
use serde_json::json;

pub async fn create_reserves_a_sim_and_a_number(s: &dyn StoreAdmin) {
    seed(s, T, 0..3, 5).await;
    let mut new = activation("k1", 1);
    new.channel = Some(json!({"store": "S-12"}));
    let order = created(s, new).await;
    let card = sim(T, 1);
    let expected = Order {
        id: "act_k1".into(),
        kind: OrderKind::Activation,
        tenant: T.into(),
        status: OrderStatus::Reserved,
        iccid: card.iccid.clone(),
        imsi: card.imsi.clone(),
        msisdn: number(T, 0),
        msisdn_mode: MsisdnMode::Auto,
        product: PRODUCT.into(),
        hlr_profile_id: PROFILE_ID,
        channel: Some(json!({"store": "S-12"})),
        subscriber: None,
        compliance: None,
        hlr: Step::Pending,
        undo: None,
        error: None,
        needs_attention: false,
        attention: Vec::new(),
        esim: None,
        lifecycle: None,
        port: None,
        created_at_ms: NOW,
        updated_at_ms: NOW,
        version: 1,
        identity: None,
    };
    assert_eq!(order, expected);
    assert_eq!(s.get_order(T, "act_k1").await.expect("get"), Some(expected));
    let stored = s.get_sim(&card.iccid).await.expect("sim").expect("present");
    assert_eq!(
        stored.state,
        SimState::Reserved {
            order: "act_k1".into()
        }
    );
    assert_eq!(
        counts(s, T).await,
        InventoryCounts {
            sims_available: 2,
            sims_reserved: 1,
            numbers_available: 4,
            ..InventoryCounts::default()
        }
    );
    // A chosen number is the one reserved.
    let chosen = created(
        s,
        gateway::store::NewActivation {
            number: NumberChoice::Choose(number(T, 3)),
            ..activation("k2", 2)
        },
    )
    .await;
    assert_eq!(
        (chosen.msisdn.clone(), chosen.msisdn_mode),
        (number(T, 3), MsisdnMode::Choose)
    );
    // The sequential pick skips numbers already taken.
    let third = created(s, activation("k3", 0)).await;
    assert_eq!(third.msisdn, number(T, 1));
}

pub async fn replay_returns_the_first_order_and_another_body_is_refused(s: &dyn StoreAdmin) {
    seed(s, T, 0..3, 5).await;
    seed(s, OTHER, 10..12, 5).await;
    let first = created(s, activation("k", 0)).await;
    let after_first = counts(s, T).await;
    // Same key, same body, later, with a fresh order id: the first order again.
    let mut again = activation("k", 0);
    again.order_id = "act_other".into();
    again.now_ms = NOW + 60_000;
    match s.create_activation(again).await.expect("replay") {
        CreateOutcome::Replayed(o) => assert_eq!(o, first),
        other => panic!("expected a replay, got {other:?}"),
    }
    // The replay answers the first snapshot, even after the order moved on.
    let moved = advance(
        s,
        &first,
        OrderStatus::HlrProvisioning,
        gateway::order::Effect::None,
    )
    .await;
    match s
        .create_activation(activation("k", 0))
        .await
        .expect("replay")
    {
        CreateOutcome::Replayed(o) => assert_eq!(o, first),
        other => panic!("expected a replay, got {other:?}"),
    }
    // Same key, another body (another card): refused, nothing reserved.
    let mut other_body = activation("k", 1);
    other_body.body_hash = "h-different".into();
    assert!(matches!(
        s.create_activation(other_body).await.expect("reuse"),
        CreateOutcome::KeyReused
    ));
    assert_eq!(counts(s, T).await, after_first);
    assert_eq!(s.get_order(T, "act_other").await.expect("get"), None);
    assert_eq!(s.get_order(T, &first.id).await.expect("get"), Some(moved));
    // The record as stored.
    let rec = s
        .activation_idempotency(T, "k")
        .await
        .expect("idem")
        .expect("recorded");
    assert_eq!(
        (
            rec.body_hash.as_str(),
            rec.order_id.as_str(),
            rec.created_at_ms
        ),
        ("h-k", first.id.as_str(), NOW)
    );
    assert_eq!(rec.response, first);
    assert_eq!(
        s.activation_idempotency(T, "nope").await.expect("idem"),
        None
    );
    // Keys are per tenant: the other tenant's same key is its own.
    assert_eq!(
        s.activation_idempotency(OTHER, "k").await.expect("idem"),
        None
    );
    let mut theirs = activation("k", 10);
    theirs.tenant = OTHER.into();
    theirs.order_id = "act_theirs".into();
    let o = created(s, theirs).await;
    assert_eq!(o.tenant, OTHER);
}

pub async fn an_expired_or_pruned_key_creates_anew(s: &dyn StoreAdmin) {
    seed(s, T, 0..4, 5).await;
    created(s, activation("k", 0)).await;
    // A record made exactly at the cutoff still answers ("older than" is strict).
    let mut at_cutoff = activation("k", 0);
    at_cutoff.now_ms = NOW + DAY_MS;
    at_cutoff.idempotency_cutoff_ms = NOW;
    assert!(matches!(
        s.create_activation(at_cutoff).await.expect("replay"),
        CreateOutcome::Replayed(_)
    ));
    // A record older than the caller's cutoff no longer answers: the key is free.
    let mut later = activation("k", 1);
    later.body_hash = "h-2".into();
    later.order_id = "act_k2".into();
    later.now_ms = NOW + DAY_MS + 1;
    later.idempotency_cutoff_ms = NOW + 1;
    let o = created(s, later).await;
    assert_eq!(o.id, "act_k2");
    let rec = s.activation_idempotency(T, "k").await.expect("idem");
    assert_eq!(rec.map(|r| r.order_id), Some("act_k2".to_owned()));
    // A second key, recorded later still.
    let mut k3 = activation("k3", 2);
    k3.now_ms = NOW + 2 * DAY_MS;
    created(s, k3).await;
    // Pruning takes records created strictly before `before_ms`.
    assert_eq!(
        s.prune_idempotency(NOW + DAY_MS + 1).await.expect("prune"),
        0
    );
    assert_eq!(
        s.prune_idempotency(NOW + DAY_MS + 2).await.expect("prune"),
        1
    );
    assert_eq!(s.activation_idempotency(T, "k").await.expect("idem"), None);
    assert!(
        s.activation_idempotency(T, "k3")
            .await
            .expect("idem")
            .is_some()
    );
    assert_eq!(
        s.prune_idempotency(NOW + DAY_MS + 2).await.expect("prune"),
        0
    );
    // The orders stay; only the records went.
    assert!(s.get_order(T, "act_k2").await.expect("get").is_some());
    // A pruned key creates anew even within the cutoff.
    let mut again = activation("k", 3);
    again.order_id = "act_k4".into();
    again.idempotency_cutoff_ms = 0;
    assert_eq!(created(s, again).await.id, "act_k4");
}

pub async fn business_rejections_change_nothing(s: &dyn StoreAdmin) {
    seed_with(s, tenant(T), 0..3, 20..21, 2).await;
    seed(s, OTHER, 10..11, 2).await;
    created(s, activation("taken", 0)).await;
    let before = counts(s, T).await;
    let events_before = all_events(s, T).await.len();
    let reject = |key: &'static str, new: gateway::store::NewActivation, want: Rejection| {
        let new = gateway::store::NewActivation {
            idempotency_key: key.into(),
            ..new
        };
        async move {
            match s.create_activation(new).await.expect("create") {
                CreateOutcome::Rejected(r) => assert_eq!(r, want, "{key}"),
                other => panic!("{key}: expected {want:?}, got {other:?}"),
            }
        }
    };
    reject(
        "r1",
        activation("x", 0),
        Rejection::SimNotAvailable { state: "reserved" },
    )
    .await;
    reject("r2", activation("x", 99), Rejection::UnknownIccid).await;
    reject("r3", activation("x", 10), Rejection::SimOfOtherTenant).await;
    let mut product = activation("x", 1);
    product.product = "nope".into();
    reject("r4", product, Rejection::UnknownProduct).await;
    let mut nobody = activation("x", 1);
    nobody.tenant = "nobody".into();
    reject("r5", nobody, Rejection::UnknownTenant).await;
    let mut foreign = activation("x", 1);
    foreign.number = NumberChoice::Choose(number(OTHER, 0));
    reject("r6", foreign, Rejection::NumberNotInPool).await;
    let mut taken = activation("x", 1);
    taken.number = NumberChoice::Choose(number(T, 0));
    reject("r7", taken, Rejection::NumberNotAvailable).await;
    reject("r8", activation("x", 20), Rejection::SimIsEsim).await;
    let mut not_offered = esim_activation("x");
    not_offered.product = PLAIN.into();
    reject("r9", not_offered, Rejection::EsimNotOffered).await;
    let mut reservation = activation("x", 1);
    reservation.number = NumberChoice::Reservation("nres_none".into());
    reject("r10", reservation, Rejection::ReservationNotFound).await;
    // The last free number goes; then the pool is exhausted, and the eSIM stock too.
    created(s, activation("last", 1)).await;
    reject("r11", activation("x", 2), Rejection::NumberPoolExhausted).await;
    apply(
        s,
        gateway::store::AdminChange::AddNumbers {
            tenant: T.into(),
            block: "n2".into(),
            first: number(T, 100),
            count: 2,
        },
    )
    .await;
    created(s, esim_activation("e1")).await;
    reject(
        "r12",
        esim_activation("x"),
        Rejection::EsimStockOut {
            profile_type: ESIM_TYPE.into(),
        },
    )
    .await;
    // A rejection records no idempotency key: the same key succeeds once it can.
    assert_eq!(
        s.activation_idempotency(T, "r11").await.expect("idem"),
        None
    );
    let mut retried = activation("r11", 2);
    retried.order_id = "act_r11".into();
    assert_eq!(created(s, retried).await.id, "act_r11");
    // Besides the three orders created, nothing moved.
    let after = counts(s, T).await;
    assert_eq!(
        after.sims_available + 3,
        before.sims_available,
        "{before:?} → {after:?}"
    );
    assert_eq!(after.sims_reserved, before.sims_reserved + 3);
    assert_eq!(
        all_events(s, T).await.len(),
        events_before + 3,
        "one order.created per created order"
    );
    assert_eq!(counts(s, OTHER).await.sims_available, 1);
}

pub async fn get_order_is_tenant_scoped(s: &dyn StoreAdmin) {
    seed(s, T, 0..2, 2).await;
    seed(s, OTHER, 10..11, 2).await;
    let o = created(s, activation("k", 0)).await;
    assert_eq!(s.get_order(T, &o.id).await.expect("get"), Some(o.clone()));
    assert_eq!(s.get_order(OTHER, &o.id).await.expect("get"), None);
    assert_eq!(s.get_order(T, "act_missing").await.expect("get"), None);
    assert_eq!(s.get_order("nobody", &o.id).await.expect("get"), None);
}

pub async fn an_esim_order_takes_a_profile_of_its_type(s: &dyn StoreAdmin) {
    seed_with(s, tenant(T), 0..1, 20..22, 5).await;
    let a = created(s, esim_activation("e1")).await;
    let b = created(s, esim_activation("e2")).await;
    assert_ne!(a.iccid, b.iccid, "two orders, two profiles");
    for o in [&a, &b] {
        let e = o.esim.as_ref().expect("an eSIM order");
        assert_eq!(e.profile_type, ESIM_TYPE);
        assert_eq!(e.matching_id, format!("MATCH-{}", &o.id[4..]));
        assert_eq!(e.download, Step::Pending);
        let card = s.get_sim(&o.iccid).await.expect("sim").expect("present");
        assert_eq!(card.esim_profile_type.as_deref(), Some(ESIM_TYPE));
        assert_eq!(card.imsi, o.imsi);
        assert_eq!(
            card.state,
            SimState::Reserved {
                order: o.id.clone()
            }
        );
    }
    assert!(
        [a.iccid.clone(), b.iccid.clone()].contains(&iccid(20))
            && [a.iccid, b.iccid].contains(&iccid(21))
    );
    // The physical card was not touched.
    assert_eq!(
        s.get_sim(&iccid(0)).await.expect("sim").map(|c| c.state),
        Some(SimState::Available)
    );
}

pub async fn an_unfinished_import_is_invisible_to_activation(s: &dyn StoreAdmin) {
    seed(s, T, 0..0, 3).await;
    let batch = BatchRecord {
        id: "bat_000000000000000000000001".into(),
        tenant: T.into(),
        file_sha256: "ab".repeat(32),
        source: "cards.csv".into(),
        format: "csv".into(),
        vendor_batch: None,
        transport_key_index: None,
        cards: 0,
        status: BatchStatus::Importing,
        started_at_ms: NOW,
        esim_profile_type: None,
    };
    s.import_begin(&batch).await.expect("begin");
    let card = sim_in(T, &batch.id, 5);
    let clashes = s
        .import_chunk(&batch.id, &[(card, 2)])
        .await
        .expect("chunk");
    assert!(clashes.is_empty());
    let physical = |key: &str| gateway::store::NewActivation {
        sim: SimChoice::Physical(iccid(5)),
        ..activation(key, 5)
    };
    match s.create_activation(physical("k1")).await.expect("create") {
        CreateOutcome::Rejected(r) => assert_eq!(r, Rejection::UnknownIccid),
        other => panic!("expected UnknownIccid, got {other:?}"),
    }
    s.import_finish(&batch.id, 1, NOW).await.expect("finish");
    let o = created(s, physical("k2")).await;
    assert_eq!(o.iccid, iccid(5));
}

/// The create commit writes what the caller's sending ahead makes of the new order (its
/// first call recorded as sent), as one version, and a replay answers that same order.
pub async fn a_create_can_record_the_first_call_as_sent(s: &dyn StoreAdmin) {
    seed(s, T, 0..3, 5).await;
    let mut new = activation("k", 0);
    new.send_ahead = Some(gateway::engine::machine::mark_next_sent);
    let o = created(s, new.clone()).await;
    assert_eq!(
        (o.status, &o.hlr, o.version),
        (OrderStatus::HlrProvisioning, &Step::Sent { attempt: 1 }, 1)
    );
    assert_eq!(s.get_order(T, &o.id).await.expect("get"), Some(o.clone()));
    assert!(s.inflight_orders().await.expect("inflight").contains(&o));
    match s.create_activation(new).await.expect("replay") {
        CreateOutcome::Replayed(r) => assert_eq!(r, o),
        other => panic!("expected a replay, got {other:?}"),
    }
    // The next version (the answer) follows as usual.
    advance(s, &o, OrderStatus::Active, gateway::order::Effect::Activate).await;
}
