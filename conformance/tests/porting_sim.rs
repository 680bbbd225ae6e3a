//! The porting hub simulator over real sockets with mutual TLS, driven by the adapters'
//! `PortingHubClient` (the gateway's side) and a small receiver of hub messages, on a
//! driven clock: each market's timetable, every rejection reason, cancel before and
//! after the lock, a US conflict, and hub-initiated port-out and cancel requests.

mod common;
mod porting_world;

use adapters::porting::{
    Acknowledge, Actor, AnswerPortOut, CancelPort, HubErrorCode, HubEvent, HubMessage, Market,
    PortOutDecision, PortingError, RejectReason, ReschedulePort,
};
use conformance::porting_sim::PortState;
use porting_world::{World, r, submit, summary, t};
use serde_json::json;
use std::time::Duration;

/// `(sequence, kind, at)` literal.
fn s(seq: u64, kind: &str, at: &str) -> (u64, String, String) {
    (seq, kind.to_owned(), at.to_owned())
}

async fn ack(w: &World, m: &HubMessage) {
    let req = Acknowledge {
        request_id: r(&format!("ack-{}", m.message_id)),
        port_ref: m.port_ref.clone(),
        message_id: m.message_id.clone(),
    };
    w.client.acknowledge(&req).await.expect("ack");
}

fn refused_code(e: &PortingError) -> Option<(u16, HubErrorCode)> {
    match e {
        PortingError::Refused { status, code } => code.clone().map(|c| (*status, c)),
        _ => None,
    }
}

#[tokio::test]
async fn uk_locks_at_17_the_working_day_before_and_cuts_over_the_next_working_day() {
    let w = World::new().await;
    // Friday 10:00: the next working day is Monday, locked Friday 17:00.
    w.sim.set_time(t("2026-03-06T10:00:00Z")).expect("time");
    let receipt = w
        .client
        .submit_port_in(&submit(Market::Uk, "447700900123", "ord_1"))
        .await
        .expect("receipt");
    assert_eq!(receipt.port_ref.as_str(), "HUB-UK-000001");
    let ms = w.messages(2).await;
    let scheduled = &ms[1];
    assert_eq!(scheduled.due_at, Some(t("2026-03-09T09:00:00Z")));
    assert_eq!(scheduled.lock_at, Some(t("2026-03-06T17:00:00Z")));
    assert_eq!(w.sim.advance(Duration::from_secs(7 * 3600 - 1)), 0);
    assert_eq!(w.sim.advance(Duration::from_secs(1)), 1);
    // The weekend passes without a message; Monday 09:00 is the cutover.
    w.sim.set_time(t("2026-03-09T09:00:00Z")).expect("time");
    let ms = w.messages(4).await;
    assert_eq!(ms[3].event, HubEvent::Cutover);
    assert_eq!(
        w.sim.port("HUB-UK-000001").map(|p| p.state),
        Some(PortState::Cutover)
    );
    w.sim.advance(Duration::from_secs(271));
    ack(&w, &ms[3]).await;
    let ms = w.messages(5).await;
    assert_eq!(
        summary(&ms),
        [
            s(1, "accepted", "2026-03-06T10:00:00.000Z"),
            s(2, "scheduled", "2026-03-06T10:00:00.000Z"),
            s(3, "locked", "2026-03-06T17:00:00.000Z"),
            s(4, "cutover", "2026-03-09T09:00:00.000Z"),
            s(5, "completed", "2026-03-09T09:04:31.000Z"),
        ]
    );
    for m in &ms {
        assert_eq!(m.reference.as_ref().map(|x| x.as_str()), Some("ord_1"));
    }
    assert_eq!(ms[0].actor, Actor::Donor);
    assert!(
        ms[1..]
            .iter()
            .all(|m| m.actor == Actor::Hub && m.due_at.is_some())
    );
    let view = w.sim.port("HUB-UK-000001").expect("view");
    assert_eq!(view.state, PortState::Completed);
    assert_eq!(
        view.complete_by.as_deref(),
        Some("2026-03-09T18:00:00.000Z")
    );
    assert_eq!(
        view.completed_at.as_deref(),
        Some("2026-03-09T09:04:31.000Z")
    );
    assert_eq!(view.acknowledged, [ms[3].message_id.to_string()]);
}

#[tokio::test]
async fn cn_cuts_over_at_the_next_full_hour_and_cannot_be_cancelled() {
    let w = World::new().await;
    w.sim.set_time(t("2026-03-02T08:20:00Z")).expect("time"); // 16:20 in China
    let receipt = w
        .client
        .submit_port_in(&submit(Market::Cn, "8613812345678", "ord_cn"))
        .await
        .expect("receipt");
    let ms = w.messages(3).await;
    assert_eq!(
        summary(&ms),
        [
            s(1, "accepted", "2026-03-02T08:20:00.000Z"),
            s(2, "scheduled", "2026-03-02T08:20:00.000Z"),
            s(3, "locked", "2026-03-02T08:20:00.000Z"),
        ]
    );
    assert_eq!(ms[1].due_at, Some(t("2026-03-02T09:00:00Z")));
    let cancel = CancelPort {
        request_id: r("ord_cn-cancel-1"),
        port_ref: receipt.port_ref.clone(),
    };
    let err = w.client.cancel(&cancel).await.expect_err("locked");
    assert_eq!(refused_code(&err), Some((409, HubErrorCode::PortLocked)));
    w.sim.advance(Duration::from_secs(40 * 60));
    let ms = w.messages(4).await;
    ack(&w, &ms[3]).await;
    let ms = w.messages(5).await;
    assert_eq!(summary(&ms)[3], s(4, "cutover", "2026-03-02T09:00:00.000Z"));
    assert_eq!(
        summary(&ms)[4],
        s(5, "completed", "2026-03-02T09:00:00.000Z")
    );
}

#[tokio::test]
async fn us_foc_is_the_next_business_day_and_a_conflict_is_settled() {
    let w = World::new().await;
    // Monday 08:00Z is 03:00 Eastern: FOC Tuesday 09:00 Eastern, locked Monday noon.
    let plain = w
        .client
        .submit_port_in(&submit(Market::Us, "12025550143", "ord_us"))
        .await
        .expect("receipt");
    assert!(plain.port_ref.as_str().starts_with("NPAC-SV-"));
    let ms = w.messages(2).await;
    assert_eq!(ms[1].due_at, Some(t("2026-03-03T14:00:00Z")));
    assert_eq!(ms[1].lock_at, Some(t("2026-03-02T17:00:00Z")));
    let view = w.sim.port(plain.port_ref.as_str()).expect("view");
    assert_eq!(
        view.complete_by.as_deref(),
        Some("2026-03-03T16:30:00.000Z")
    );

    let (status, _) = w
        .send(
            "PUT",
            "donors/12025550199",
            json!({"outcome": "conflict", "cause": "50", "delay_ms": 60000}),
        )
        .await;
    assert_eq!(status, 204);
    let disputed = w
        .client
        .submit_port_in(&submit(Market::Us, "12025550199", "ord_us2"))
        .await
        .expect("receipt");
    w.sim.advance(Duration::from_secs(60));
    let ms = w.messages(5).await;
    let mine: Vec<_> = ms
        .iter()
        .filter(|m| m.port_ref == disputed.port_ref)
        .cloned()
        .collect();
    assert_eq!(mine[2].event.kind(), "conflict");
    assert_eq!(mine[2].event.reason_code(), Some("50"));
    assert_eq!(mine[2].actor, Actor::Donor);
    assert_eq!(
        w.sim.port(disputed.port_ref.as_str()).map(|p| p.state),
        Some(PortState::Conflict)
    );
    // Six hours later (09:01 Eastern, before noon) the hub settles it for Tuesday.
    w.sim.advance(Duration::from_secs(6 * 3600));
    let ms = w.messages(6).await;
    let last = ms.last().expect("scheduled");
    assert_eq!((last.sequence, last.event.kind()), (4, "scheduled"));
    assert_eq!(last.due_at, Some(t("2026-03-03T14:00:00Z")));
}

#[tokio::test]
async fn every_catalogue_reason_reaches_the_receiver() {
    let w = World::new().await;
    for (i, reason) in RejectReason::KNOWN.iter().enumerate() {
        let number = format!("4477009001{i:02}");
        let body = json!({"outcome": "reject", "reason": reason.as_str()});
        assert_eq!(
            w.send("PUT", &format!("donors/{number}"), body).await.0,
            204
        );
        w.client
            .submit_port_in(&submit(Market::Uk, &number, &format!("ord_r{i}")))
            .await
            .expect("receipt");
    }
    let ms = w.messages(RejectReason::KNOWN.len()).await;
    let reasons: Vec<_> = ms
        .iter()
        .map(|m| match &m.event {
            HubEvent::Rejected { reason } => (m.sequence, m.actor, reason.clone()),
            other => panic!("not a rejection: {other:?}"),
        })
        .collect();
    let expected: Vec<_> = RejectReason::KNOWN
        .iter()
        .map(|r| (1, Actor::Donor, r.clone()))
        .collect();
    assert_eq!(reasons, expected);
    let (_, list) = w.get("donors").await;
    assert_eq!(
        list["numbers"]["447700900100"]["reason"],
        "credential_invalid"
    );
    assert_eq!(list["default"]["outcome"], "accept");
}

#[tokio::test]
async fn cancel_and_reschedule_before_the_lock_but_not_after() {
    let w = World::new().await;
    let early = w
        .client
        .submit_port_in(&submit(Market::Uk, "447700900201", "ord_a"))
        .await
        .expect("receipt");
    let late = w
        .client
        .submit_port_in(&submit(Market::Uk, "447700900202", "ord_b"))
        .await
        .expect("receipt");
    // Monday 08:00: both lock at 17:00 for Tuesday. Move one to Thursday, cancel it.
    let reschedule = ReschedulePort {
        request_id: r("ord_a-reschedule-1"),
        port_ref: early.port_ref.clone(),
        requested_at: t("2026-03-05T09:00:00Z"),
    };
    w.client.reschedule(&reschedule).await.expect("rescheduled");
    let weekend = ReschedulePort {
        request_id: r("ord_a-reschedule-2"),
        port_ref: early.port_ref.clone(),
        requested_at: t("2026-03-07T09:00:00Z"),
    };
    let err = w.client.reschedule(&weekend).await.expect_err("weekend");
    assert_eq!(
        refused_code(&err),
        Some((422, HubErrorCode::DateNotAvailable))
    );
    let cancel = |port_ref: &adapters::porting::Ref, n| CancelPort {
        request_id: r(&format!("{port_ref}-cancel-{n}")),
        port_ref: port_ref.clone(),
    };
    w.client
        .cancel(&cancel(&early.port_ref, 1))
        .await
        .expect("cancelled before the lock");
    w.sim.set_time(t("2026-03-02T17:00:00Z")).expect("time");
    let err = w
        .client
        .cancel(&cancel(&late.port_ref, 1))
        .await
        .expect_err("locked");
    assert_eq!(refused_code(&err), Some((409, HubErrorCode::PortLocked)));
    let err = w
        .client
        .reschedule(&ReschedulePort {
            request_id: r("ord_b-reschedule-1"),
            port_ref: late.port_ref.clone(),
            requested_at: t("2026-03-05T09:00:00Z"),
        })
        .await
        .expect_err("locked");
    assert_eq!(refused_code(&err), Some((409, HubErrorCode::PortLocked)));
    let unknown = w
        .client
        .cancel(&cancel(&r("HUB-UK-999999"), 1))
        .await
        .expect_err("unknown");
    assert_eq!(
        refused_code(&unknown),
        Some((404, HubErrorCode::UnknownPort))
    );

    let ms = w.messages(7).await;
    let early_kinds: Vec<_> = ms
        .iter()
        .filter(|m| m.port_ref == early.port_ref)
        .map(|m| (m.event.kind().to_owned(), m.due_at, m.actor))
        .collect();
    let thursday = Some(t("2026-03-05T09:00:00Z"));
    let tuesday = Some(t("2026-03-03T09:00:00Z"));
    assert_eq!(
        early_kinds,
        [
            ("accepted".to_owned(), None, Actor::Donor),
            ("scheduled".to_owned(), tuesday, Actor::Hub),
            ("scheduled".to_owned(), thursday, Actor::Hub),
            ("cancelled".to_owned(), thursday, Actor::Recipient),
        ]
    );
    assert_eq!(
        ms.iter()
            .rfind(|m| m.port_ref == late.port_ref)
            .map(|m| m.event.kind()),
        Some("locked")
    );
}

#[tokio::test]
async fn port_out_and_cancel_requests_on_command() {
    let w = World::new().await;
    let (status, created) = w
        .send(
            "POST",
            "port-outs",
            json!({"market": "uk", "number": "447700900456", "recipient": "UK-RECIPIENT-02",
                   "credential": "XYZ654321", "respond_by": "2026-03-02T10:00:00Z"}),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let port_ref = r(created["port_ref"].as_str().expect("port_ref"));
    let ms = w.messages(1).await;
    let HubEvent::PortOutRequest(req) = &ms[0].event else {
        panic!("not a port-out request: {:?}", ms[0]);
    };
    assert_eq!(
        req.credential.as_ref().map(|c| c.expose()),
        Some("XYZ654321")
    );
    assert_eq!(req.respond_by, t("2026-03-02T10:00:00Z"));
    assert_eq!(req.requested_at, t("2026-03-03T09:00:00Z"));
    assert_eq!(
        (ms[0].actor, ms[0].reference.clone()),
        (Actor::Recipient, None)
    );
    // Nothing secret in what the admin API shows.
    for path in ["ports", "callbacks", "requests"] {
        let (_, v) = w.get(path).await;
        assert!(!v.to_string().contains("XYZ654321"), "{path}: {v}");
    }
    assert_eq!(
        w.send(
            "POST",
            "port-outs",
            json!({"market": "uk", "number": "447700900456"})
        )
        .await
        .0,
        409
    );
    let answer = AnswerPortOut {
        request_id: r("po_1-answer"),
        port_ref: port_ref.clone(),
        decision: PortOutDecision::Accept,
    };
    w.client.answer_port_out(&answer).await.expect("answered");
    let again = AnswerPortOut {
        request_id: r("po_1-answer-2"),
        ..answer.clone()
    };
    let err = w
        .client
        .answer_port_out(&again)
        .await
        .expect_err("answered once");
    assert_eq!(refused_code(&err), Some((409, HubErrorCode::InvalidState)));
    let path = format!("ports/{port_ref}/cancel-request");
    assert_eq!(w.send("POST", &path, json!(null)).await.0, 204);
    assert_eq!(w.send("POST", &path, json!(null)).await.0, 409);
    assert_eq!(
        w.send("POST", "ports/NOPE-1/cancel-request", json!(null))
            .await
            .0,
        404
    );
    let ms = w.messages(3).await;
    assert_eq!(ms[2].event, HubEvent::CancelRequest);
    assert_eq!(ms[2].actor, Actor::Recipient);
    // The receiver, as donor, concurs.
    let concur = CancelPort {
        request_id: r("po_1-cancel"),
        port_ref: port_ref.clone(),
    };
    w.client.cancel(&concur).await.expect("cancelled");
    let ms = w.messages(4).await;
    assert_eq!(
        summary(&ms),
        [
            s(1, "port_out_request", "2026-03-02T08:00:00.000Z"),
            s(2, "scheduled", "2026-03-02T08:00:00.000Z"),
            s(3, "cancel_request", "2026-03-02T08:00:00.000Z"),
            s(4, "cancelled", "2026-03-02T08:00:00.000Z"),
        ]
    );
    assert_eq!(ms[3].actor, Actor::Donor);

    // A second request, rejected by the receiver; a third left unanswered goes ahead.
    let (_, b) = w
        .send(
            "POST",
            "port-outs",
            json!({"market": "us", "number": "12025550199",
            "account": {"number": "5550001111", "pin": "8080"}}),
        )
        .await;
    let (_, c) = w
        .send(
            "POST",
            "port-outs",
            json!({"market": "uk", "number": "447700900457"}),
        )
        .await;
    let reject = AnswerPortOut {
        request_id: r("po_2-answer"),
        port_ref: r(b["port_ref"].as_str().expect("ref")),
        decision: PortOutDecision::Reject(RejectReason::AccountMismatch),
    };
    w.client.answer_port_out(&reject).await.expect("answered");
    w.sim.advance(Duration::from_secs(3600));
    let ms = w.messages(8).await;
    let c_ref = c["port_ref"].as_str().expect("ref");
    let tail: Vec<_> = ms[4..]
        .iter()
        .map(|m| (m.port_ref.to_string(), m.event.kind().to_owned(), m.actor))
        .collect();
    assert_eq!(
        tail,
        [
            (
                reject.port_ref.to_string(),
                "port_out_request".to_owned(),
                Actor::Recipient
            ),
            (
                c_ref.to_owned(),
                "port_out_request".to_owned(),
                Actor::Recipient
            ),
            (
                reject.port_ref.to_string(),
                "rejected".to_owned(),
                Actor::Donor
            ),
            (c_ref.to_owned(), "scheduled".to_owned(), Actor::Hub),
        ]
    );
    let HubEvent::PortOutRequest(us) = &ms[4].event else {
        panic!("not a port-out request");
    };
    assert_eq!(us.account.as_ref().map(|a| a.pin.expose()), Some("8080"));
}
