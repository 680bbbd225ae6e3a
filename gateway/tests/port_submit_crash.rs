//! kill -9 of a real `simgw` while a UK port-in's line on its temporary number is being
//! created (the rig of `port_crash.rs`: the gateway as its own process, the HLR and
//! porting hub simulators in this test process). The create commit records the line's
//! HLR call and the hub submission together (the submission is made straight after the
//! line is up, and one commit records both answers), so after the kill both are in doubt
//! for the restarted gateway: it cannot know whether the submission reached the hub.
//!
//! The HLR applies the line and never answers; the gateway is killed there. On restart:
//! 1. the line is made again (the HLR already has it) and the submission follows: the port
//!    goes on, with one port at the hub;
//! 2. the HLR refuses the line made again: the submission in doubt is made again (the hub
//!    now answers with its port), the port is cancelled at the hub, the line is removed
//!    and the order fails with what the HLR said: no port left open at the hub, no
//!    subscriber on the HLR, the SIM back in stock.

mod common;

use common::holders;
use common::port_rig::{post_port_in, rig, until};
use common::process::{eventually, forget_sandbox_json};
use conformance::hlr_sim::{Action, FaultKind, MoKind, Operation, Rule};
use conformance::porting_sim::PortState;

const PORTED: &str = "447911000043";

async fn line_killed_then(refused: bool) {
    let rig = rig().await;
    // The HLR applies the line's create and never answers.
    rig.hlr.push_rule(Rule::once(
        Operation::Create,
        MoKind::GsmHlr,
        Action::HangAfterApply,
    ));
    let gw = rig.spawn();
    let (api, iccid) = rig.connect().await;
    let (o, id, temp) = post_port_in(&api, &iccid, PORTED, "port-line-1").await;
    // Recorded with the line, shown waiting for it.
    assert_eq!(o["port"]["steps"]["submit"]["state"], "pending", "{o}");
    assert!(
        eventually(|| !holders(&rig.hlr, &temp).is_empty()).await,
        "the HLR never applied the line"
    );
    assert!(
        rig.hub.ports().is_empty(),
        "the hub heard of the port before the line was up"
    );
    gw.kill9();

    if refused {
        // Made again, the line's first create is refused for good.
        rig.hlr.push_rule(Rule::once(
            Operation::Create,
            MoKind::GsmAuc,
            Action::Fault(FaultKind::Invalid),
        ));
    }
    forget_sandbox_json(&rig.data());
    let _gw = rig.spawn();
    let (api, _) = rig.connect().await;
    let ports = || {
        rig.hub
            .ports()
            .into_iter()
            .filter(|p| p.number == PORTED)
            .collect::<Vec<_>>()
    };
    if !refused {
        let v = until(&api, &id, "port_scheduled", |v| {
            v["status"] == "port_scheduled"
        })
        .await;
        assert_eq!(v["port"]["steps"]["submit"]["state"], "done", "{v}");
        assert_eq!(ports().len(), 1, "one port at the hub: {:?}", ports());
        assert_eq!(holders(&rig.hlr, &temp).len(), 1, "one line");
        return;
    }
    let last = until(&api, &id, "failed", |v| v["status"] == "failed").await;
    assert_eq!(last["error"]["code"], "hlr_rejected", "{last}");
    assert_eq!(last["steps"]["hlr_compensation"]["state"], "done", "{last}");
    assert_eq!(last["port"]["steps"]["cancel"]["state"], "done", "{last}");
    let at_hub = ports();
    assert_eq!(at_hub.len(), 1, "{at_hub:?}");
    assert!(
        eventually(|| ports().iter().all(|p| p.state == PortState::Cancelled)).await,
        "the hub's port was not cancelled: {:?}",
        ports()
    );
    let left = rig.hlr.subscribers();
    assert!(left.is_empty(), "no orphan on the HLR: {left:?}");
    let sim = api.get(&format!("/v1/sims/{iccid}")).await;
    assert_eq!(sim["state"], "available", "the SIM is back in stock: {sim}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_with_the_line_in_doubt_the_port_goes_on_with_one_submission() {
    line_killed_then(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_with_the_line_in_doubt_then_refused_the_hub_port_is_cancelled_and_the_line_removed()
{
    line_killed_then(true).await;
}
