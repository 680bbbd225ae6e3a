//! Port-out orders in the store (issue 12): a completed port-out ends the line, retires
//! its SIM and records its number `ported_out`, never quarantined and never assigned
//! again however many numbers the pool hands out afterwards; a failed one leaves the
//! line as it was; an issued credential is recorded on the live line only.

use crate::fixture::*;
use gateway::compliance::Market;
use gateway::crypto::Sealed;
use gateway::numbers::NumberPolicy;
use gateway::order::{Effect, OrderKind, OrderStatus, PortIn, PortOut, Step};
use gateway::store::{
    CredentialIssue, EventType, IssuedCredential, NewReservation, ReservationOutcome, SimState,
    StoreAdmin, SubscriptionState,
};
use sim_profiles::Msisdn;

/// The port part of a port-out of `number`, as the intake creates it.
fn port_out(number: &Msisdn) -> PortIn {
    let sealed = Sealed {
        kid: "k1".into(),
        nonce: "00".into(),
        ct: "00".into(),
    };
    let mut p = PortIn::new(
        Market::Uk,
        number.clone(),
        "OTHER".into(),
        sealed,
        None,
        None,
    );
    p.port_ref = Some("HUB-UK-1".into());
    p.out = Some(PortOut {
        received_at_ms: NOW,
        respond_by_ms: NOW + 3_600_000,
        reject: None,
        answer: Step::Pending,
        timed_out: false,
    });
    p
}

/// A line on the lowest number, ported out; returns that number.
pub async fn ported_out(s: &dyn StoreAdmin) -> Msisdn {
    let a = active_line(s, "a", 0).await;
    let mut n = lifecycle(OrderKind::PortOut, &a.msisdn, "po");
    n.port = Some(port_out(&a.msisdn));
    let o = lifecycle_created(s, n).await;
    assert_eq!(o.port.as_ref().map(|p| p.is_out()), Some(true));
    advance(s, &o, OrderStatus::Completed, Effect::Complete).await;
    a.msisdn
}

fn hold(key: &str, random: u64, now_ms: u64) -> NewReservation {
    NewReservation {
        tenant: T.into(),
        idempotency_key: key.into(),
        body_hash: format!("h-{key}"),
        id: format!("nres_{key}"),
        msisdn: None,
        ttl_ms: 1_000,
        now_ms,
        random,
    }
}

pub async fn a_completed_port_out_ends_the_line_and_the_number_leaves_for_good(s: &dyn StoreAdmin) {
    seed(s, T, 0..1, 3).await;
    let before = counts(s, T).await;
    let events = all_events(s, T).await.len();
    let gone = ported_out(s).await;
    let line = s.subscription(T, gone.as_str()).await.expect("sub");
    assert!(
        line.as_ref()
            .is_none_or(|l| l.state == SubscriptionState::Terminated),
        "{line:?}"
    );
    let card = stored_card(s, &iccid(0)).await.expect("card");
    assert!(matches!(card.state, SimState::Retired { .. }), "{card:?}");
    let after = counts(s, T).await;
    // Not quarantined, not available: the number is the recipient's.
    assert_eq!(after.numbers_quarantined, before.numbers_quarantined);
    assert_eq!(after.numbers_available, before.numbers_available - 1);
    assert!(
        s.quarantined(T, 100)
            .await
            .expect("quarantine")
            .iter()
            .all(|(m, _)| *m != gone)
    );
    let types: Vec<EventType> = all_events(s, T).await[events..]
        .iter()
        .map(|e| e.event_type)
        .collect();
    assert!(
        types.contains(&EventType::SubscriptionTerminated),
        "{types:?}"
    );
}

pub async fn a_ported_out_number_is_not_held_again(s: &dyn StoreAdmin) {
    seed(s, T, 0..1, 3).await;
    let gone = ported_out(s).await;
    allocate_around(s, &gone, 30, "r").await;
}

/// Holds every free number of the pool, again and again (each round lapses), `n` times
/// in all; none is ever `gone`.
async fn allocate_around(s: &dyn StoreAdmin, gone: &Msisdn, n: u64, tag: &str) {
    let mut now = NOW + 10_000;
    let mut taken = 0u64;
    let mut round = 0u64;
    while taken < n {
        round += 1;
        loop {
            let key = format!("{tag}{round}-{taken}");
            let random = taken.wrapping_mul(0x9E37_79B9_7F4A_7C15);
            match s
                .create_reservation(hold(&key, random, now))
                .await
                .expect("hold")
            {
                ReservationOutcome::Created(r) => {
                    assert_ne!(&r.msisdn, gone, "a ported-out number was handed out again");
                    taken += 1;
                }
                // The pool is empty: every number is held; let them lapse.
                ReservationOutcome::Rejected(_) => break,
                other => panic!("{other:?}"),
            }
        }
        now += 2_000;
        s.expire_due(now).await.expect("lapse");
    }
}

/// 10,000 automatic allocations from the block a number was ported out of, under both
/// number policies (the sequential one would take the ported number first if it were
/// free), on the in-memory backend (the same store code, without the disk's fsyncs).
pub async fn ten_thousand_allocations_never_take_a_ported_out_number(s: &dyn StoreAdmin) {
    let mut t = tenant(T);
    t.number_policy = NumberPolicy::Random;
    seed_with(s, t, 0..1, 0..0, 8).await;
    let gone = ported_out(s).await;
    allocate_around(s, &gone, 5_000, "random").await;
    let mut t = tenant(T);
    t.number_policy = NumberPolicy::Sequential;
    apply(s, gateway::store::AdminChange::PutTenant(t)).await;
    allocate_around(s, &gone, 5_000, "sequential").await;
}

pub async fn a_credential_is_recorded_on_the_live_line_only(s: &dyn StoreAdmin) {
    seed(s, T, 0..1, 2).await;
    let a = active_line(s, "a", 0).await;
    let issued = IssuedCredential {
        kind: "uk_pac".into(),
        mac: "hmac-sha256:k:00".into(),
        authentication: "sms_otp".into(),
        issued_at_ms: NOW + 5,
        expires_at_ms: Some(NOW + 10),
    };
    let issue = |tenant: &str, m: &Msisdn| CredentialIssue {
        tenant: tenant.into(),
        msisdn: m.clone(),
        issued: issued.clone(),
        data: serde_json::json!({"msisdn": m}),
    };
    let events = all_events(s, T).await.len();
    let other = s
        .issue_port_out_credential(issue("another-tenant", &a.msisdn))
        .await
        .expect("issue");
    assert!(other.is_none(), "another tenant's line");
    assert!(
        s.issue_port_out_credential(issue(T, &number(T, 1)))
            .await
            .expect("issue")
            .is_none()
    );
    let line = s
        .issue_port_out_credential(issue(T, &a.msisdn))
        .await
        .expect("issue")
        .expect("line");
    assert_eq!(line.port_out_credential.as_ref(), Some(&issued));
    let stored = s
        .subscription(T, a.msisdn.as_str())
        .await
        .expect("sub")
        .expect("line");
    assert_eq!(stored.port_out_credential, Some(issued));
    let published = &all_events(s, T).await[events..];
    assert_eq!(published.len(), 1);
    assert_eq!(published[0].event_type, EventType::PortOutCredentialIssued);
}

/// A number that came to us by a port is in none of our pools: porting it out again ends
/// its line and marks it gone, with nothing quarantined.
pub async fn a_ported_in_number_leaves_with_its_line(s: &dyn StoreAdmin) {
    seed(s, T, 0..1, 1).await;
    let o = crate::ports::create_port(s, "in", 0, "447911000009", true).await;
    let mut done = next(&o, OrderStatus::Active, 1_000);
    done.hlr = Step::Done {
        outcome: "created".into(),
    };
    s.advance_order(
        done,
        Effect::Activate,
        gateway::store::EventKind::OrderActive,
    )
    .await
    .expect("port-in completes");
    let number = msisdn("447911000009");
    let mut n = lifecycle(OrderKind::PortOut, &number, "out");
    n.port = Some(port_out(&number));
    let out = lifecycle_created(s, n).await;
    advance(s, &out, OrderStatus::Completed, Effect::Complete).await;
    let line = s.subscription(T, number.as_str()).await.expect("sub");
    assert!(
        line.as_ref()
            .is_none_or(|l| l.state == SubscriptionState::Terminated),
        "{line:?}"
    );
    assert!(s.quarantined(T, 10).await.expect("quarantine").is_empty());
}
