//! The porting hub simulator on a state file, over real sockets: stopped and started
//! again on the same file, it has the same ports and clock, delivers the message it could
//! not deliver before, fires the same timer with the next message id, answers a repeated
//! request with its first answer, and keeps the donor behaviours.

mod common;
mod porting_world;

use adapters::porting::{Acknowledge, HubEvent, Market, RejectReason};
use conformance::porting_sim::{Behaviour, Outcome, PortState, PortingSimConfig};
use porting_world::{World, r, submit, t};
use std::path::Path;
use std::time::Duration;

/// A world whose simulator keeps its state in `file` and retries deliveries for as long
/// as the test runs.
async fn world_on(file: &Path) -> World {
    let file = file.to_path_buf();
    World::with(Vec::new(), move |c: &mut PortingSimConfig, _, _| {
        c.state_file = Some(file);
        c.delivery.attempts = 100_000;
        c.delivery.max_backoff = Duration::from_millis(20);
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hub_started_again_on_its_state_file_goes_on_where_it_stopped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("simulators").join("porting.state");

    // First run, Monday 08:00: a UK port-in, locked at 17:00, cut over Tuesday 09:00.
    let w = world_on(&file).await;
    let receipt = w
        .client
        .submit_port_in(&submit(Market::Uk, "447700900123", "ord_1"))
        .await
        .expect("receipt");
    assert_eq!(receipt.port_ref.as_str(), "HUB-UK-000001");
    w.messages(2).await;
    let reject = Behaviour {
        outcome: Outcome::Reject(RejectReason::LineNotActive),
        delay_ms: 0,
        range_holder: None,
    };
    w.sim.set_donor(Some("447700900124"), reject);
    // The receiver goes away: the lock's message cannot be delivered.
    let gone = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let gone_url = format!(
        "https://127.0.0.1:{}",
        gone.local_addr().expect("addr").port()
    );
    drop(gone);
    w.sim.set_receiver(Some(&gone_url)).expect("receiver");
    assert_eq!(w.sim.advance(Duration::from_secs(9 * 3600)), 1, "locked");
    let before = w.sim.ports();
    assert_eq!(before[0].state, PortState::Locked);
    let now = w.sim.now();
    w.sim.shutdown().await;
    assert_eq!(
        w.receiver.messages().len(),
        2,
        "the lock was never delivered"
    );

    // Second run, another receiver: the kept clock stands over the configured start.
    let w = world_on(&file).await;
    assert_eq!(w.sim.now(), now);
    assert_eq!(w.sim.ports(), before, "state, timetable, timer, timeline");
    // The message left undelivered goes out first, as it was.
    let ms = w.messages(1).await;
    assert_eq!(ms[0].event, HubEvent::Locked);
    assert_eq!(ms[0].sequence, 3);
    assert_eq!(
        ms[0].message_id.as_str(),
        before[0].timeline[2].message_id.as_str()
    );
    // The same timer fires at its time, numbered after the kept counters.
    assert_eq!(w.sim.set_time(t("2026-03-03T09:00:00Z")).expect("time"), 1);
    let ms = w.messages(2).await;
    assert_eq!(ms[1].event, HubEvent::Cutover);
    assert_eq!(ms[1].sequence, 4);
    assert_eq!(ms[1].message_id.as_str(), "m-000004");
    let ack = Acknowledge {
        request_id: r("ack-cutover"),
        port_ref: receipt.port_ref.clone(),
        message_id: ms[1].message_id.clone(),
    };
    w.client.acknowledge(&ack).await.expect("ack");
    assert_eq!(
        w.sim.port("HUB-UK-000001").map(|p| p.state),
        Some(PortState::Completed)
    );
    // A request repeated after the restart gets its first answer, not a second port.
    let again = w
        .client
        .submit_port_in(&submit(Market::Uk, "447700900123", "ord_1"))
        .await
        .expect("repeat");
    assert_eq!(again.port_ref, receipt.port_ref);
    // The donor behaviour set before the restart still answers; references go on.
    let second = w
        .client
        .submit_port_in(&submit(Market::Uk, "447700900124", "ord_2"))
        .await
        .expect("receipt");
    assert_eq!(second.port_ref.as_str(), "HUB-UK-000002");
    let ms = w.messages(4).await;
    assert_eq!(
        ms[3].event,
        HubEvent::Rejected {
            reason: RejectReason::LineNotActive
        }
    );
    w.sim.shutdown().await;

    // Without the file, a start is a fresh hub.
    let fresh = World::new().await;
    assert!(fresh.sim.ports().is_empty());
    fresh.sim.shutdown().await;
}
