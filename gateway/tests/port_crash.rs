//! kill -9 of a real `simgw` during a UK port-in's cutover (the rig, `common/port_rig.rs`:
//! the gateway as its own process against HLR and porting hub simulators living in this
//! test process, so both keep their state across the gateway's death). A scripted fault stops the cutover deterministically at one of three points,
//! and the process is killed right there:
//!
//! 1. the number change was sent to the HLR and the HLR has not applied it (it holds the
//!    Set unapplied);
//! 2. the HLR applied the change and its answer is lost (the record says "sent");
//! 3. the HLR applied the change and answered, and the hub's acknowledgement (made
//!    straight after, one commit then recording both answers) is in flight (the hub never
//!    answers it).
//!
//! A restart on the same data dir must finish the order with exactly one HLR subscriber
//! holding the ported number (the order's card), none holding the temporary number, and
//! the temporary number in quarantine.

mod common;

use common::holders;
use common::port_rig::{next_acknowledgement_times_out, port_step, post_port_in, rig, until};
use common::process::{eventually, forget_sandbox_json};
use conformance::hlr_sim::{Action, MoKind, Operation, Rule};
use sim_profiles::Imsi;
use std::time::Duration;

const PORTED: &str = "447911000042";

#[derive(Clone, Copy, Debug)]
enum Kill {
    BeforeTheHlrChange,
    HlrChangedAnswerLost,
    AcknowledgementInFlight,
}

async fn cutover_killed_at(at: Kill) {
    let rig = rig().await;
    let gw = rig.spawn();
    let (api, iccid) = rig.connect().await;
    let (_, id, temp) = post_port_in(&api, &iccid, PORTED, "port-1").await;
    let scheduled = until(&api, &id, "port_scheduled", |v| {
        v["status"] == "port_scheduled"
    })
    .await;
    let imsi: Imsi = scheduled["imsi"]
        .as_str()
        .expect("imsi")
        .parse()
        .expect("imsi");
    assert_eq!(holders(&rig.hlr, &temp), vec![imsi.clone()]);

    let set = |action| Rule::once(Operation::Set, MoKind::GsmHlr, action);
    match at {
        // The change is one Set: held unapplied, or applied with its answer held.
        Kill::BeforeTheHlrChange => rig.hlr.push_rule(set(Action::Timeout)),
        Kill::HlrChangedAnswerLost => rig.hlr.push_rule(set(Action::HangAfterApply)),
        Kill::AcknowledgementInFlight => next_acknowledgement_times_out(&rig.hub),
    }
    // The hub's clock reaches the cutover (locked at 17:00 the working day before).
    rig.hub.advance(Duration::from_secs(5 * 24 * 3600));
    match at {
        Kill::BeforeTheHlrChange => {
            let v = until(&api, &id, "the number change sent", |v| {
                port_step(v, "activate_number").as_deref() == Some("in_progress")
            })
            .await;
            assert_eq!(v["status"], "port_activating", "{v}");
            // Recorded as sent before it is made: kill only once the HLR holds it, or the
            // held Set would be the restarted gateway's (its timeout outlasts the test).
            assert!(
                eventually(|| rig.hlr.counts().injected.timeout >= 1).await,
                "the number change never reached the HLR: {v}"
            );
            assert_eq!(
                holders(&rig.hlr, &temp),
                vec![imsi.clone()],
                "not applied yet"
            );
        }
        Kill::HlrChangedAnswerLost => {
            assert!(
                eventually(|| holders(&rig.hlr, PORTED) == vec![imsi.clone()]).await,
                "the HLR never applied the change"
            );
            let v = api.get(&format!("/v1/orders/{id}")).await;
            assert_eq!(
                port_step(&v, "activate_number").as_deref(),
                Some("in_progress"),
                "{v}"
            );
        }
        Kill::AcknowledgementInFlight => {
            let v = until(&api, &id, "the acknowledgement sent", |v| {
                port_step(v, "acknowledge").as_deref() == Some("in_progress")
            })
            .await;
            // Recorded sent with the number change and made straight after it: kill only
            // once the hub holds it (the number is on the line by then).
            assert!(
                eventually(|| rig.hub.counts().injected.timeout >= 1).await,
                "the acknowledgement never reached the hub: {v}"
            );
            assert_eq!(holders(&rig.hlr, PORTED), vec![imsi.clone()], "{v}");
        }
    }
    gw.kill9();

    forget_sandbox_json(&rig.data());
    let _gw = rig.spawn();
    let (api, _) = rig.connect().await;
    let done = until(&api, &id, "active", |v| v["status"] == "active").await;
    assert_eq!(done["msisdn"], PORTED, "{done}");
    assert_eq!(
        holders(&rig.hlr, PORTED),
        vec![imsi.clone()],
        "exactly one holder"
    );
    assert!(
        holders(&rig.hlr, &temp).is_empty(),
        "nobody holds the temporary number"
    );
    let q = api.get("/v1/numbers/quarantine").await;
    assert!(
        q["data"]
            .as_array()
            .expect("data")
            .iter()
            .any(|n| n["msisdn"] == temp.as_str()),
        "{q}"
    );
    let line = api.get(&format!("/v1/subscriptions/{PORTED}")).await;
    assert_eq!(line["state"], "active", "{line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_before_the_hlr_change_the_cutover_resumes() {
    cutover_killed_at(Kill::BeforeTheHlrChange).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_after_the_hlr_change_the_cutover_resumes_without_a_second_holder() {
    cutover_killed_at(Kill::HlrChangedAnswerLost).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_with_the_acknowledgement_in_flight_the_port_completes() {
    cutover_killed_at(Kill::AcknowledgementInFlight).await;
}
