//! The gateway's CAI3G adapter (`Cai3gHlr`) against the CAI3G HLR simulator over real
//! sockets: the subscription operations after day one (a card provisioned without a
//! number, detach, number change, barring), each repeated to show it is idempotent, and
//! the simulator's injected faults applied to them.

use adapters::cai3g::codec::Password;
use adapters::cai3g::{Cai3gConfig, Cai3gHlr};
use adapters::hlr::{
    AuthData, Barring, DeprovisionOutcome, FaultClass, HlrProfile, HlrProvisioner, KiMaterial,
    ProvisionOutcome, SubscriberSpec,
};
use conformance::hlr_sim::{
    self, Action, FaultKind, HlrSimConfig, HlrSimHandle, MoKind, Operation, Rule,
};
use sim_profiles::{Imsi, Key128, Msisdn};
use std::time::Duration;

const USER: &str = "gw-prov-01";
const PWD: &str = "pw-ops-never-logged";
const OLD_IMSI: &str = "001010000000001";
const NEW_IMSI: &str = "001010000000002";
const OTHER_IMSI: &str = "001010000000003";
const NUMBER: &str = "4915100000001";
const NUMBER2: &str = "4915100000002";
const NUMBER3: &str = "4915100000003";

fn imsi(s: &str) -> Imsi {
    s.parse().expect("IMSI")
}

fn msisdn(s: &str) -> Msisdn {
    s.parse().expect("MSISDN")
}

/// A card's spec; the key differs per IMSI, as cards' keys do.
fn spec(i: &str, number: Option<&str>) -> SubscriberSpec {
    let last = i.as_bytes()[i.len() - 1];
    SubscriberSpec {
        imsi: imsi(i),
        msisdn: number.map(msisdn),
        auth: AuthData {
            ki: KiMaterial::Encrypted {
                ciphertext: Key128::from_bytes([last; 16]),
                a4ind: 2,
                adkey: 7,
            },
            opc: None,
            fsetind: 1,
        },
        profile: HlrProfile { profile_id: 46 },
        barring: Barring::default(),
    }
}

async fn rig() -> (HlrSimHandle, Cai3gHlr) {
    let sim = hlr_sim::start(HlrSimConfig::new(USER, PWD))
        .await
        .expect("simulator starts");
    let mut config = Cai3gConfig::new(sim.url(), USER, Password::new(PWD.into()));
    config.request_timeout = Duration::from_secs(2);
    let hlr = Cai3gHlr::new(config).expect("adapter");
    (sim, hlr)
}

/// The IMSIs whose HLR subscription holds `number`, as the simulator stores them.
fn holders(sim: &HlrSimHandle, number: &str) -> Vec<String> {
    sim.subscribers()
        .into_iter()
        .filter(|s| s.msisdn.as_ref().map(Msisdn::as_str) == Some(number))
        .map(|s| s.imsi.as_str().to_owned())
        .collect()
}

#[tokio::test]
async fn sim_swap_sequence_moves_the_number_and_every_step_repeats_harmlessly() {
    let (sim, hlr) = rig().await;
    let old = spec(OLD_IMSI, Some(NUMBER));
    hlr.provision(&old).await.expect("day one");

    // 1. The new card, authentication only.
    let new_bare = spec(NEW_IMSI, None);
    for expected in [ProvisionOutcome::Created, ProvisionOutcome::AlreadyPresent] {
        assert_eq!(hlr.provision(&new_bare).await.expect("new AUC"), expected);
        assert!(sim.auc(&imsi(NEW_IMSI)).is_some());
        assert!(
            sim.hlr(&imsi(NEW_IMSI)).is_none(),
            "no HLR subscription yet"
        );
        assert_eq!(holders(&sim, NUMBER), [OLD_IMSI]);
    }
    // The number cannot be taken while the old card holds it: permanent, nothing changes.
    let new = spec(NEW_IMSI, Some(NUMBER));
    let err = hlr.provision(&new).await.expect_err("number still held");
    assert_eq!(err.class, FaultClass::Conflict, "{err}");
    assert!(!err.retryable());
    assert!(err.message.contains("another IMSI"), "{err}");
    assert!(sim.hlr(&imsi(NEW_IMSI)).is_none());
    assert_eq!(holders(&sim, NUMBER), [OLD_IMSI]);

    // 2. Detach from the old card; its AUC entry stays.
    for _ in 0..2 {
        hlr.detach_msisdn(&imsi(OLD_IMSI), &msisdn(NUMBER))
            .await
            .expect("detach");
        assert!(sim.hlr(&imsi(OLD_IMSI)).is_none());
        assert!(sim.auc(&imsi(OLD_IMSI)).is_some());
        assert!(holders(&sim, NUMBER).is_empty());
    }

    // 3. The new card takes the number.
    for _ in 0..2 {
        assert_eq!(
            hlr.provision(&new).await.expect("attach"),
            ProvisionOutcome::AlreadyPresent
        );
        assert_eq!(holders(&sim, NUMBER), [NEW_IMSI]);
    }
    let state = hlr
        .query(&imsi(NEW_IMSI))
        .await
        .expect("query")
        .expect("present");
    assert_eq!(state.hlr.and_then(|h| h.msisdn), Some(msisdn(NUMBER)));
    // Step 1 again now is a conflict (it would take the number away): never a removal.
    let err = hlr.provision(&new_bare).await.expect_err("holds a number");
    assert_eq!(err.class, FaultClass::Conflict);
    assert_eq!(holders(&sim, NUMBER), [NEW_IMSI]);

    // 4. The old card goes.
    let old_bare = spec(OLD_IMSI, None);
    assert_eq!(
        hlr.deprovision(&old_bare).await.expect("remove old"),
        DeprovisionOutcome::Deleted
    );
    assert_eq!(
        hlr.deprovision(&old_bare).await.expect("again"),
        DeprovisionOutcome::NotPresent
    );
    assert_eq!(hlr.query(&imsi(OLD_IMSI)).await.expect("query"), None);
    assert_eq!(holders(&sim, NUMBER), [NEW_IMSI]);
    assert_eq!(sim.subscribers().len(), 1);
}

#[tokio::test]
async fn numberless_deprovision_leaves_a_subscriber_with_a_number() {
    let (sim, hlr) = rig().await;
    hlr.provision(&spec(OLD_IMSI, Some(NUMBER)))
        .await
        .expect("provision");
    assert_eq!(
        hlr.deprovision(&spec(OLD_IMSI, None))
            .await
            .expect("deprovision"),
        DeprovisionOutcome::LeftForeign
    );
    assert_eq!(holders(&sim, NUMBER), [OLD_IMSI]);
    assert!(sim.auc(&imsi(OLD_IMSI)).is_some());
    // A numberless compensation of a half-done swap removes the AUC-only card.
    hlr.provision(&spec(NEW_IMSI, None)).await.expect("bare");
    assert_eq!(
        hlr.deprovision(&spec(NEW_IMSI, None))
            .await
            .expect("deprovision"),
        DeprovisionOutcome::Deleted
    );
    assert!(sim.auc(&imsi(NEW_IMSI)).is_none());
}

#[tokio::test]
async fn detach_is_idempotent_and_refuses_another_number() {
    let (sim, hlr) = rig().await;
    // Absent subscriber, and one without a number: nothing to do.
    hlr.detach_msisdn(&imsi(OLD_IMSI), &msisdn(NUMBER))
        .await
        .expect("absent");
    hlr.provision(&spec(OLD_IMSI, None)).await.expect("bare");
    hlr.detach_msisdn(&imsi(OLD_IMSI), &msisdn(NUMBER))
        .await
        .expect("no number");
    hlr.provision(&spec(NEW_IMSI, Some(NUMBER2)))
        .await
        .expect("provision");
    let deletes = sim.counts().requests(Operation::Delete, None);
    let err = hlr
        .detach_msisdn(&imsi(NEW_IMSI), &msisdn(NUMBER))
        .await
        .expect_err("another number");
    assert_eq!(err.class, FaultClass::Conflict);
    assert!(!err.retryable());
    assert_eq!(holders(&sim, NUMBER2), [NEW_IMSI]);
    assert_eq!(
        sim.counts().requests(Operation::Delete, None),
        deletes,
        "compared, never sent"
    );
}

#[tokio::test]
async fn detach_whose_answer_is_lost_succeeds_on_retry() {
    let (sim, hlr) = rig().await;
    hlr.provision(&spec(OLD_IMSI, Some(NUMBER)))
        .await
        .expect("provision");
    sim.push_rule(Rule::once(
        Operation::Delete,
        MoKind::GsmHlr,
        Action::DropAfterApply,
    ));
    let err = hlr
        .detach_msisdn(&imsi(OLD_IMSI), &msisdn(NUMBER))
        .await
        .expect_err("answer lost");
    assert!(err.retryable(), "{err}");
    assert_eq!(sim.counts().injected.drop_after_apply, 1);
    assert!(holders(&sim, NUMBER).is_empty(), "applied before the drop");
    hlr.detach_msisdn(&imsi(OLD_IMSI), &msisdn(NUMBER))
        .await
        .expect("retry finds it done");
    assert!(sim.auc(&imsi(OLD_IMSI)).is_some());
}

#[tokio::test]
async fn change_msisdn_is_idempotent_and_keeps_numbers_unique() {
    let (sim, hlr) = rig().await;
    let subscriber = imsi(OLD_IMSI);
    let mut barred = spec(OLD_IMSI, Some(NUMBER));
    barred.barring = Barring {
        outgoing: true,
        incoming: false,
    };
    hlr.provision(&barred).await.expect("provision");
    hlr.provision(&spec(OTHER_IMSI, Some(NUMBER3)))
        .await
        .expect("other subscriber");

    for round in 0..2 {
        let before = sim.counts();
        hlr.change_msisdn(&subscriber, &msisdn(NUMBER), &msisdn(NUMBER2))
            .await
            .expect("change");
        assert_eq!(holders(&sim, NUMBER2), [OLD_IMSI]);
        assert!(holders(&sim, NUMBER).is_empty(), "the old number is free");
        let after = sim.counts();
        let made = |op| {
            after.requests(op, Some(MoKind::GsmHlr)) - before.requests(op, Some(MoKind::GsmHlr))
        };
        // The change is one Set of the MSISDN alone; only the repeat, refused (the
        // subscription is on the new number already), reads to see why.
        assert_eq!(made(Operation::Set), 1, "round {round}");
        assert_eq!(made(Operation::Get) > 0, round == 1, "round {round}");
    }
    let sub = sim.hlr(&subscriber).expect("subscription");
    assert_eq!(
        (sub.profile_id, sub.obo, sub.obi),
        (46, true, false),
        "only the number changed"
    );
    assert!(sim.auc(&subscriber).is_some());

    // Held by another IMSI: permanent, says so, nothing changes.
    let err = hlr
        .change_msisdn(&subscriber, &msisdn(NUMBER2), &msisdn(NUMBER3))
        .await
        .expect_err("taken");
    assert_eq!(err.class, FaultClass::Conflict, "{err}");
    assert!(!err.retryable());
    assert!(err.message.contains("another IMSI"), "{err}");
    assert_eq!(holders(&sim, NUMBER2), [OLD_IMSI]);
    assert_eq!(holders(&sim, NUMBER3), [OTHER_IMSI]);

    // On neither number: not ours to change.
    let err = hlr
        .change_msisdn(&subscriber, &msisdn(NUMBER), &msisdn("4915100000009"))
        .await
        .expect_err("neither");
    assert_eq!(err.class, FaultClass::Conflict);
    assert_eq!(holders(&sim, NUMBER2), [OLD_IMSI]);

    // No subscription at all.
    let err = hlr
        .change_msisdn(&imsi(NEW_IMSI), &msisdn(NUMBER), &msisdn(NUMBER2))
        .await
        .expect_err("absent");
    assert_eq!(err.class, FaultClass::NotFound);
    assert!(!err.retryable());
}

#[tokio::test]
async fn change_msisdn_under_injected_faults() {
    let (sim, hlr) = rig().await;
    let subscriber = imsi(OLD_IMSI);
    hlr.provision(&spec(OLD_IMSI, Some(NUMBER)))
        .await
        .expect("provision");

    // A busy host: retryable, nothing applied.
    sim.push_rule(Rule::once(
        Operation::Set,
        MoKind::GsmHlr,
        Action::Fault(FaultKind::Busy),
    ));
    let err = hlr
        .change_msisdn(&subscriber, &msisdn(NUMBER), &msisdn(NUMBER2))
        .await
        .expect_err("busy");
    assert_eq!(err.class, FaultClass::Transient, "{err}");
    assert_eq!(holders(&sim, NUMBER), [OLD_IMSI]);
    assert_eq!(sim.counts().injected.busy, 1);

    // Applied, answer lost: the retry finds the new number and succeeds.
    sim.push_rule(Rule::once(
        Operation::Set,
        MoKind::GsmHlr,
        Action::DropAfterApply,
    ));
    let err = hlr
        .change_msisdn(&subscriber, &msisdn(NUMBER), &msisdn(NUMBER2))
        .await
        .expect_err("answer lost");
    assert!(err.retryable(), "{err}");
    assert_eq!(holders(&sim, NUMBER2), [OLD_IMSI]);
    hlr.change_msisdn(&subscriber, &msisdn(NUMBER), &msisdn(NUMBER2))
        .await
        .expect("retry");
    assert_eq!(holders(&sim, NUMBER2), [OLD_IMSI], "changed once");

    // A host refusal the code table does not know stays that refusal.
    sim.push_rule(Rule::once(
        Operation::Set,
        MoKind::GsmHlr,
        Action::Fault(FaultKind::External),
    ));
    let err = hlr
        .change_msisdn(&subscriber, &msisdn(NUMBER2), &msisdn(NUMBER3))
        .await
        .expect_err("refused");
    assert_eq!(err.class, FaultClass::External, "{err}");
    assert_eq!(holders(&sim, NUMBER2), [OLD_IMSI]);
}

#[tokio::test]
async fn barring_is_idempotent_and_reads_back() {
    let (sim, hlr) = rig().await;
    let subscriber = imsi(OLD_IMSI);
    hlr.provision(&spec(OLD_IMSI, Some(NUMBER)))
        .await
        .expect("provision");
    let auc_before = sim.auc(&subscriber);
    let suspend = Barring {
        outgoing: true,
        incoming: true,
    };
    hlr.set_barring(&subscriber, suspend).await.expect("bar");
    let sets = sim.counts().requests(Operation::Set, None);
    hlr.set_barring(&subscriber, suspend).await.expect("again");
    assert_eq!(
        sim.counts().requests(Operation::Set, None),
        sets,
        "unchanged flags are not written again"
    );
    let sub = sim.hlr(&subscriber).expect("subscription");
    assert!(sub.obo && sub.obi);
    let read = hlr
        .query(&subscriber)
        .await
        .expect("query")
        .expect("present");
    assert_eq!(read.hlr.expect("hlr").barring, suspend);
    assert_eq!(sim.auc(&subscriber), auc_before, "AUC untouched");

    hlr.set_barring(&subscriber, Barring::default())
        .await
        .expect("unbar");
    let read = hlr
        .query(&subscriber)
        .await
        .expect("query")
        .expect("present");
    assert_eq!(read.hlr.expect("hlr").barring, Barring::default());

    // A card without a number has no HLR subscription to bar.
    hlr.provision(&spec(NEW_IMSI, None)).await.expect("bare");
    let err = hlr
        .set_barring(&imsi(NEW_IMSI), suspend)
        .await
        .expect_err("no subscription");
    assert_eq!(err.class, FaultClass::NotFound);
    // Barring given with the number is applied when the number is attached.
    let mut new = spec(NEW_IMSI, Some(NUMBER2));
    new.barring = suspend;
    hlr.provision(&new).await.expect("attach barred");
    let sub = sim.hlr(&imsi(NEW_IMSI)).expect("subscription");
    assert!(sub.obo && sub.obi);
}
