//! The porting hub simulator's idempotency, injected faults, callback delivery (retries,
//! duplicates, reorderings), certificate checks and admin API, over real sockets.

mod common;
mod porting_world;

use adapters::porting::{
    CancelPort, Freshness, HubErrorCode, Market, PortingError, Unavailable, encode_submit_port_in,
    freshness,
};
use bytes::Bytes;
use conformance::porting_sim::{
    Action, CallbackAction, CallbackRule, Operation, Operator, Rule, cert_fingerprint_pem,
};
use porting_world::{World, client, r, submit, t};
use serde_json::json;
use std::time::Duration;

fn code(e: &PortingError) -> Option<(u16, HubErrorCode)> {
    match e {
        PortingError::Refused { status, code } => code.clone().map(|c| (*status, c)),
        _ => None,
    }
}

#[tokio::test]
async fn repeats_get_the_first_answer_and_lost_answers_are_recovered_by_retrying() {
    let w = World::new().await;
    let req = submit(Market::Uk, "447700900301", "ord_1");
    let first = w.client.submit_port_in(&req).await.expect("receipt");
    let again = w.client.submit_port_in(&req).await.expect("receipt");
    assert_eq!(first, again);
    let mut other = submit(Market::Uk, "447700900302", "ord_1");
    other.request_id = req.request_id.clone();
    let err = w.client.submit_port_in(&other).await.expect_err("reused");
    assert_eq!(code(&err), Some((409, HubErrorCode::RequestIdReused)));
    let unknown = CancelPort {
        request_id: r("ord_x-cancel-1"),
        port_ref: r("HUB-UK-404"),
    };
    for _ in 0..2 {
        let err = w.client.cancel(&unknown).await.expect_err("unknown");
        assert_eq!(code(&err), Some((404, HubErrorCode::UnknownPort)));
    }

    // Applied, then the answer is lost (500, then a cut connection): the retry with the
    // same request id gets the receipt, and the port exists once.
    for (i, action) in [Action::ErrorAfterApply, Action::DropAfterApply]
        .into_iter()
        .enumerate()
    {
        w.sim
            .push_rule(Rule::new(Some(Operation::SubmitPortIn), action, 1));
        let req = submit(
            Market::Uk,
            &format!("4477009004{i:02}"),
            &format!("ord_l{i}"),
        );
        let err = w.client.submit_port_in(&req).await.expect_err("lost");
        assert!(err.retryable(), "{err:?}");
        let receipt = w.client.submit_port_in(&req).await.expect("receipt");
        assert!(w.sim.port(receipt.port_ref.as_str()).is_some());
    }
    // Not applied (503, 429, a timeout): the retry is processed as new.
    w.sim.push_rule(Rule::new(None, Action::Unavailable, 1));
    w.sim.push_rule(Rule::new(None, Action::RateLimited, 1));
    w.sim.push_rule(Rule::new(None, Action::Timeout, 1));
    let req = submit(Market::Uk, "447700900500", "ord_n");
    let err = w.client.submit_port_in(&req).await.expect_err("503");
    assert_eq!(err.retry_after(), Some(Duration::from_secs(1)));
    assert!(matches!(
        err,
        PortingError::Unavailable(Unavailable::Status { status: 503, .. })
    ));
    let err = w.client.submit_port_in(&req).await.expect_err("429");
    assert!(matches!(
        err,
        PortingError::Unavailable(Unavailable::Status { status: 429, .. })
    ));
    let impatient = client(&w.sim, &w.pki, &w.gateway_id, Duration::from_millis(300));
    let err = impatient.submit_port_in(&req).await.expect_err("held");
    assert_eq!(err, PortingError::Unavailable(Unavailable::Timeout));
    assert_eq!(w.sim.ports().len(), 3, "nothing applied yet");
    w.client.submit_port_in(&req).await.expect("receipt");
    assert_eq!(w.sim.ports().len(), 4);

    let counts = w.sim.counts();
    assert_eq!((counts.receipts, counts.replays, counts.reused), (4, 4, 1));
    assert_eq!(counts.refused, 1);
    let inj = counts.injected;
    assert_eq!(
        (
            inj.error_after_apply,
            inj.drop_after_apply,
            inj.unavailable,
            inj.rate_limited,
            inj.timeout
        ),
        (1, 1, 1, 1, 1)
    );
    let journal = w.sim.requests();
    let replays: Vec<_> = journal
        .iter()
        .filter(|e| e.replay)
        .map(|e| e.request_id.clone())
        .collect();
    assert_eq!(replays.len(), 4);
    let faults: Vec<_> = journal.iter().filter_map(|e| e.fault.clone()).collect();
    assert_eq!(
        faults,
        [
            "error_after_apply",
            "drop_after_apply",
            "unavailable",
            "rate_limited",
            "timeout"
        ]
    );
    assert_eq!(journal[2].code.as_deref(), Some("request_id_reused"));
    // Every port's messages went out once: accepted and scheduled for each.
    assert_eq!(w.deliveries(8).await.len(), 8);
}

#[tokio::test]
async fn duplicate_and_reordered_callbacks_are_delivered_as_injected() {
    let w = World::new().await;
    w.sim.push_callback_rule(CallbackRule {
        action: CallbackAction::Duplicate,
        kind: Some("accepted".into()),
        times: 1,
    });
    let (status, _) = w
        .send(
            "POST",
            "callback-rules",
            json!({"action": "reorder", "kind": "scheduled"}),
        )
        .await;
    assert_eq!(status, 204);
    w.client
        .submit_port_in(&submit(Market::Uk, "447700900601", "ord_d"))
        .await
        .expect("receipt");
    let log = w.deliveries(2).await;
    assert!(log[1].duplicate && log[0].message_id == log[1].message_id);
    // `scheduled` waits for the port's next message, the 17:00 lock.
    w.sim.set_time(t("2026-03-02T17:00:00Z")).expect("time");
    let ms = w.messages(4).await;
    let seqs: Vec<_> = ms.iter().map(|m| (m.sequence, m.event.kind())).collect();
    assert_eq!(
        seqs,
        [
            (1, "accepted"),
            (1, "accepted"),
            (3, "locked"),
            (2, "scheduled")
        ]
    );
    assert_eq!(ms[0], ms[1]);
    // What a receiver makes of them: the copy is a duplicate, the late one stale, and
    // the locked message already carried the schedule.
    let mut last = None;
    let mut seen = Vec::new();
    for m in &ms {
        let f = freshness(last, m.sequence);
        if f == Freshness::New {
            last = Some(m.sequence);
        }
        seen.push(f);
    }
    assert_eq!(
        seen,
        [
            Freshness::New,
            Freshness::Duplicate,
            Freshness::New,
            Freshness::Stale
        ]
    );
    assert_eq!(ms[2].due_at, ms[3].due_at);
    let log = w.sim.callbacks();
    assert!(log[3].reordered && !log[2].reordered);
    let inj = w.sim.counts().injected;
    assert_eq!((inj.duplicate, inj.reorder), (1, 1));

    // A held message with nothing after it goes out when flushed.
    w.sim.push_callback_rule(CallbackRule {
        action: CallbackAction::Reorder,
        kind: None,
        times: 1,
    });
    let (status, _) = w
        .send(
            "POST",
            "port-outs",
            json!({"market": "uk", "number": "447700900602"}),
        )
        .await;
    assert_eq!(status, 201);
    assert_eq!(
        w.send("POST", "callbacks/flush", json!(null)).await.1["released"],
        1
    );
    let ms = w.messages(5).await;
    assert_eq!(ms[4].event.kind(), "port_out_request");
}

#[tokio::test]
async fn deliveries_are_retried_until_2xx_and_a_400_is_given_up() {
    let w = World::with(vec![500, 503, 400], |_, _, _| {}).await;
    w.client
        .submit_port_in(&submit(Market::Uk, "447700900701", "ord_r"))
        .await
        .expect("receipt");
    let log = w.deliveries(2).await;
    assert_eq!(log[0].statuses, [Some(500), Some(503), Some(400)]);
    assert!(!log[0].delivered);
    assert_eq!(log[1].statuses, [Some(204)]);
    assert!(log[1].delivered);
    let c = w.sim.counts();
    assert_eq!((c.messages, c.delivered, c.undelivered), (2, 1, 1));
    // Without a receiver URL messages are logged, not sent.
    assert_eq!(
        w.send("PUT", "receiver", json!({"url": "http://plain"}))
            .await
            .0,
        400
    );
    assert_eq!(w.send("PUT", "receiver", json!({"url": null})).await.0, 204);
    assert_eq!(w.get("receiver").await.1["url"], serde_json::Value::Null);
    w.sim.set_time(t("2026-03-02T17:00:00Z")).expect("time");
    let log = w.deliveries(3).await;
    assert_eq!((log[2].kind.as_str(), log[2].url.clone()), ("locked", None));
    assert_eq!(w.receiver.messages().len(), 1);
}

#[tokio::test]
async fn certificates_decide_who_may_act_for_which_port() {
    let w = World::new().await;
    // No client certificate: refused, nothing recorded.
    let body = encode_submit_port_in(&submit(Market::Uk, "447700900801", "ord_c"));
    let resp = w
        .admin
        .post(
            &format!("{}/v1/port-ins", w.sim.url()),
            &[("content-type", "application/json".to_owned())],
            Bytes::from(body.clone()),
        )
        .await
        .expect("answer");
    assert_eq!(resp.status, 403);
    assert!(String::from_utf8_lossy(&resp.body).contains("forbidden"));
    // A key that does not match, a bad body, the wrong method or media type.
    let id = w.gateway_id.clone();
    let raw = adapters::http::HttpClient::builder()
        .add_root_pem(w.pki.ca_pem.as_bytes())
        .identity_pem(id.cert_pem.as_bytes(), id.key_pem.as_bytes())
        .build()
        .expect("client");
    let post = |key: &'static str, ct: &'static str, body: Vec<u8>| {
        let raw = raw.clone();
        let url = format!("{}/v1/port-ins", w.sim.url());
        async move {
            let headers = [
                ("content-type", ct.to_owned()),
                ("idempotency-key", key.to_owned()),
            ];
            let r = raw
                .post(&url, &headers, Bytes::from(body))
                .await
                .expect("answer");
            (r.status, String::from_utf8_lossy(&r.body).into_owned())
        }
    };
    let (status, text) = post("other", "application/json", body.clone()).await;
    assert_eq!((status, text.contains("Idempotency-Key")), (400, true));
    let (status, text) = post(
        "ord_c-port-in",
        "application/json",
        b"{\"request_id\":\"x\"}".to_vec(),
    )
    .await;
    assert_eq!(status, 400);
    assert!(text.contains("\"field\":\"reference\""), "{text}");
    assert_eq!(post("ord_c-port-in", "text/plain", body).await.0, 415);
    assert!(w.sim.ports().is_empty());

    // A certificate of another CA fails the handshake.
    let stranger_ca = common::Pki::new("stranger CA");
    let stranger = stranger_ca.issue("stranger");
    let c = client(&w.sim, &w.pki, &stranger, Duration::from_secs(5));
    let err = c
        .submit_port_in(&submit(Market::Uk, "447700900802", "ord_s"))
        .await
        .expect_err("tls");
    assert!(
        matches!(err, PortingError::Tls(_) | PortingError::Unavailable(_)),
        "{err:?}"
    );

    // With operators configured, each certificate acts for its own ports only.
    let mut other_id = None;
    let w2 = World::with(Vec::new(), |c, pki, gateway| {
        let other = pki.issue("other provider");
        let fp = |id: &common::Id| cert_fingerprint_pem(id.cert_pem.as_bytes()).expect("fp");
        c.operators = vec![
            Operator {
                id: r("SIMGW"),
                cert_sha256: fp(gateway),
            },
            Operator {
                id: r("OTHER"),
                cert_sha256: fp(&other),
            },
        ];
        other_id = Some(other);
    })
    .await;
    let theirs = client(
        &w2.sim,
        &w2.pki,
        &other_id.expect("issued"),
        Duration::from_secs(5),
    );
    let mine = submit(Market::Uk, "447700900803", "ord_o");
    let mut as_other = submit(Market::Uk, "447700900804", "ord_t");
    as_other.recipient = r("OTHER");
    let err = w2
        .client
        .submit_port_in(&as_other)
        .await
        .expect_err("forbidden");
    assert_eq!(code(&err), Some((403, HubErrorCode::Forbidden)));
    let unmapped = w2.pki.issue("unmapped");
    let c = client(&w2.sim, &w2.pki, &unmapped, Duration::from_secs(5));
    let err = c.submit_port_in(&mine).await.expect_err("forbidden");
    assert_eq!(code(&err), Some((403, HubErrorCode::Forbidden)));
    let receipt = w2.client.submit_port_in(&mine).await.expect("mine");
    assert_eq!(
        w2.sim.port(receipt.port_ref.as_str()).map(|p| p.recipient),
        Some("SIMGW".into())
    );
    let their = theirs.submit_port_in(&as_other).await.expect("theirs");
    let cancel = CancelPort {
        request_id: r("ord_o-cancel-1"),
        port_ref: their.port_ref.clone(),
    };
    let err = w2.client.cancel(&cancel).await.expect_err("not ours");
    assert_eq!(code(&err), Some((404, HubErrorCode::UnknownPort)));
    theirs.cancel(&cancel).await.expect("theirs to cancel");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_two_lanes_a_slow_port_holds_back_its_own_messages_only() {
    let w = World::with(Vec::new(), |c, _, _| c.delivery_lanes = 2).await;
    // The receiver sits on the first message of port A (accepted, then scheduled).
    w.receiver.hold("ord_a");
    let a = w
        .client
        .submit_port_in(&submit(Market::Uk, "447700900501", "ord_a"))
        .await
        .expect("receipt");
    let b = w
        .client
        .submit_port_in(&submit(Market::Uk, "447700900502", "ord_b"))
        .await
        .expect("receipt");
    // Port B's two messages go through the other lane, in their order.
    let log = w.deliveries(2).await;
    let seen: Vec<(&str, u64)> = log
        .iter()
        .map(|d| (d.port_ref.as_str(), d.sequence))
        .collect();
    let b_ref = b.port_ref.as_str();
    assert_eq!(seen, [(b_ref, 1), (b_ref, 2)], "{log:?}");
    // Released, port A's follow, still one after another.
    w.receiver.release("ord_a");
    let log = w.deliveries(4).await;
    let a_ref = a.port_ref.as_str();
    let a_seq: Vec<u64> = log
        .iter()
        .filter(|d| d.port_ref == a_ref)
        .map(|d| d.sequence)
        .collect();
    assert_eq!(a_seq, [1, 2], "{log:?}");
    assert!(log.iter().all(|d| d.delivered), "{log:?}");
}

/// With batches, a delivery carries the messages waiting when a lane comes free (each
/// port's in order, its queued messages together); a batch the receiver cannot read
/// (400) is sent again message by message, so only an unreadable message would be lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_carries_the_messages_waiting_and_a_refused_one_goes_again_alone() {
    // The second POST (a batch) is refused.
    let w = World::with(vec![204, 400], |c, _, _| c.delivery_batch = 100).await;
    // The receiver sits on port A's first delivery while B and C queue behind it.
    w.receiver.hold("ord_a");
    let mut refs = Vec::new();
    for (order, number) in [
        ("ord_a", "447700900601"),
        ("ord_b", "447700900602"),
        ("ord_c", "447700900603"),
    ] {
        let receipt = w
            .client
            .submit_port_in(&submit(Market::Uk, number, order))
            .await
            .expect("receipt");
        refs.push(receipt.port_ref.as_str().to_owned());
        if order == "ord_a" {
            // A's first delivery is out (and held) before B's and C's messages exist.
            w.receiver.holding("ord_a").await;
        }
    }
    w.receiver.release("ord_a");
    let log = w.deliveries(6).await;
    let (a, b, c) = (refs[0].as_str(), refs[1].as_str(), refs[2].as_str());
    let ok: &[Option<u16>] = &[Some(204)];
    let again: &[Option<u16>] = &[Some(400), Some(204)];
    // A's first message went in the first POST (alone, or with its second if that was
    // queued by then); everything else waiting went in the second, refused, then one by
    // one in order: B's two messages, then C's.
    assert_eq!(log[0].port_ref, a, "{log:?}");
    assert_eq!((log[0].sequence, log[0].statuses.as_slice()), (1, ok));
    let rest: Vec<(&str, u64, usize, &[Option<u16>])> = log[2..]
        .iter()
        .map(|d| {
            (
                d.port_ref.as_str(),
                d.sequence,
                d.batch,
                d.statuses.as_slice(),
            )
        })
        .collect();
    assert_eq!(
        rest,
        [
            (b, 1, 1, again),
            (b, 2, 1, again),
            (c, 1, 1, again),
            (c, 2, 1, again)
        ],
        "{log:?}"
    );
    let second = (log[1].port_ref.as_str(), log[1].sequence);
    assert_eq!(second, (a, 2), "{log:?}");
    let (batched, alone) = (log[0].batch == 2, log[1].statuses.as_slice() == again);
    assert!(
        batched != alone,
        "A's second message went with its first or with B's and C's: {log:?}"
    );
    assert!(log.iter().all(|d| d.delivered), "{log:?}");
    assert_eq!(w.receiver.messages().len(), 6);
    assert_eq!(w.sim.counts().delivered, 6);
}
