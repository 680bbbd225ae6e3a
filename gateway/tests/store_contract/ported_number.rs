//! A ported-in number's record (issue 12, §1.6 `Completed`: `PortedIn{range_holder}`):
//! recorded outside our pools when its port completes, given back to its range holder by
//! a terminate's `number_return` step (never quarantined, never assigned again), and
//! portable in again afterwards; a number ported out of our own pool comes home to its
//! block on a port-back.

use crate::fixture::*;
use gateway::order::{Effect, Order, OrderKind, OrderStatus, SagaOp, Step};
use gateway::store::{CreateOutcome, EventKind, NumberChoice, Rejection, StoreAdmin};
use sim_profiles::Msisdn;

const NUMBER: &str = "447911000031";

/// Completes port-in `o` as the engine does: the hub's reference and range holder on it.
async fn complete(s: &dyn StoreAdmin, o: &Order, port_ref: &str, holder: Option<&str>) {
    let mut done = next(o, OrderStatus::Active, 1_000);
    done.hlr = Step::Done {
        outcome: "created".into(),
    };
    if let Some(p) = done.port.as_mut() {
        p.port_ref = Some(port_ref.into());
        p.range_holder = holder.map(str::to_owned);
        done.msisdn = p.number.clone();
    }
    s.advance_order(done, Effect::Activate, EventKind::OrderActive)
        .await
        .expect("port-in completes");
}

/// Terminates the line on `number` to completion; returns the order as created.
async fn terminate(s: &dyn StoreAdmin, number: &Msisdn, key: &str) -> Order {
    let o = lifecycle_created(s, lifecycle(OrderKind::Terminate, number, key)).await;
    advance(s, &o, OrderStatus::Completed, Effect::Complete).await;
    o
}

async fn quarantined(s: &dyn StoreAdmin) -> Vec<Msisdn> {
    s.quarantined(T, 100)
        .await
        .expect("quarantined")
        .into_iter()
        .map(|(m, _)| m)
        .collect()
}

pub async fn a_ported_in_number_goes_back_to_its_range_holder_and_may_come_again(
    s: &dyn StoreAdmin,
) {
    seed(s, T, 0..3, 2).await;
    let number = msisdn(NUMBER);
    let o = crate::ports::create_port(s, "in1", 0, NUMBER, true).await;
    complete(s, &o, "HUB-UK-31", Some("VODAFONE")).await;
    assert_eq!(
        s.number_block(NUMBER).await.expect("block").as_deref(),
        Some(gateway::store::PORTED_IN_BLOCK)
    );
    let before = counts(s, T).await;
    // The terminate plans the return to the range holder, after the HLR removal.
    let term = terminate(s, &number, "t1").await;
    let l = term.lifecycle.as_ref().expect("lifecycle");
    let give_back = SagaOp::ReturnNumber {
        msisdn: number.clone(),
        port_ref: "HUB-UK-31".into(),
        range_holder: "VODAFONE".into(),
    };
    assert_eq!(l.number_return.as_ref(), Some(&give_back));
    let last = l.plan.last().expect("plan");
    assert_eq!((&last.op, last.must_finish), (&give_back, true));
    // Returned: not quarantined, no pool counted it, nobody may choose it.
    assert!(quarantined(s).await.is_empty());
    let after = counts(s, T).await;
    assert_eq!(
        (after.numbers_available, after.numbers_quarantined),
        (before.numbers_available, before.numbers_quarantined)
    );
    let mut choose = activation("c1", 1);
    choose.number = NumberChoice::Choose(number.clone());
    assert!(
        matches!(
            s.create_activation(choose).await.expect("create"),
            CreateOutcome::Rejected(Rejection::NumberNotAvailable)
        ),
        "a returned number was offered again"
    );
    // The customer brings it back: a new port-in is taken, and its completion records it
    // anew (the donor as range holder this time, the hub naming none).
    let again = crate::ports::create_port(s, "in2", 1, NUMBER, true).await;
    complete(s, &again, "HUB-UK-32", None).await;
    let term = terminate(s, &number, "t2").await;
    let want = SagaOp::ReturnNumber {
        msisdn: number.clone(),
        port_ref: "HUB-UK-32".into(),
        range_holder: "EE".into(),
    };
    assert_eq!(
        term.lifecycle
            .as_ref()
            .and_then(|l| l.number_return.as_ref()),
        Some(&want)
    );
}

pub async fn a_number_ported_out_of_our_pool_comes_home_on_a_port_back(s: &dyn StoreAdmin) {
    seed(s, T, 0..3, 2).await;
    let ours = crate::port_out::ported_out(s).await;
    let block = s.number_block(ours.as_str()).await.expect("block");
    let back = crate::ports::create_port(s, "back", 1, ours.as_str(), true).await;
    complete(s, &back, "HUB-UK-40", Some("SOMEONE")).await;
    assert_eq!(s.number_block(ours.as_str()).await.expect("block"), block);
    // It is a pool number again: a terminate quarantines it and returns nothing.
    let term = terminate(s, &ours, "t").await;
    assert_eq!(
        term.lifecycle
            .as_ref()
            .and_then(|l| l.number_return.as_ref()),
        None
    );
    assert_eq!(quarantined(s).await, [ours]);
}
