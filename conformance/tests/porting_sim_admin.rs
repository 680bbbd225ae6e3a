//! The porting hub simulator's admin API under `/sim/` over TLS: the clock (driven and
//! real time), the request journal ("no request was sent"), faults and rules, donors,
//! ports, stats, reset and routing.

mod common;
mod porting_world;

use adapters::porting::{HubEvent, Market};
use porting_world::{World, submit, t};
use serde_json::{Value, json};

#[tokio::test]
async fn the_clock_moves_only_forward_and_emits_what_became_due() {
    let w = World::new().await;
    let (status, clock) = w.get("clock").await;
    assert_eq!(status, 200);
    assert_eq!(
        clock,
        json!({"now": "2026-03-02T08:00:00.000Z", "mode": "driven"})
    );
    w.client
        .submit_port_in(&submit(Market::Uk, "447700900901", "ord_k"))
        .await
        .expect("receipt");
    let (status, moved) = w
        .send("POST", "clock/advance", json!({"ms": 9 * 3_600_000}))
        .await;
    assert_eq!(status, 200);
    assert_eq!(moved["now"], "2026-03-02T17:00:00.000Z");
    assert_eq!(moved["emitted"], 1);
    let (status, _) = w
        .send("PUT", "clock", json!({"now": "2026-03-02T09:00:00Z"}))
        .await;
    assert_eq!(status, 409);
    let (status, moved) = w
        .send("PUT", "clock", json!({"now": "2026-03-03T09:00:00Z"}))
        .await;
    assert_eq!((status, moved["emitted"].clone()), (200, json!(1)));
    assert_eq!(w.send("PUT", "clock", json!({"now": "soon"})).await.0, 400);
    let (_, port) = w.get("ports/HUB-UK-000001").await;
    assert_eq!(port["state"], "cutover");
    assert_eq!(port["lock_at"], "2026-03-02T17:00:00.000Z");
    let kinds: Vec<_> = port["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .map(|e| e["kind"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(kinds, ["accepted", "scheduled", "locked", "cutover"]);
    assert_eq!(w.get("ports/HUB-UK-000404").await.0, 404);
    assert_eq!(w.messages(4).await.len(), 4);
}

#[tokio::test]
async fn real_time_mode_fires_timers_with_the_wall_clock() {
    let w = World::new().await;
    w.client
        .submit_port_in(&submit(Market::Uk, "447700900902", "ord_rt"))
        .await
        .expect("receipt");
    // Half a second before the lock, then let time run.
    let (status, view) = w
        .send(
            "PUT",
            "clock",
            json!({"now": "2026-03-02T16:59:59.500Z", "mode": "real_time"}),
        )
        .await;
    assert_eq!((status, view["mode"].clone()), (200, json!("real_time")));
    let ms = w.messages(3).await;
    assert_eq!(ms[2].event, HubEvent::Locked);
    assert_eq!(ms[2].at, t("2026-03-02T17:00:00Z"));
}

#[tokio::test]
async fn the_journal_lists_what_was_sent_and_reset_forgets_it() {
    let w = World::new().await;
    let (status, requests) = w.get("requests").await;
    assert_eq!((status, requests), (200, json!([])), "no request was sent");
    w.client
        .submit_port_in(&submit(Market::Uk, "447700900903", "ord_j"))
        .await
        .expect("receipt");
    let (_, requests) = w.get("requests").await;
    assert_eq!(
        requests,
        json!([{"seq": 0, "at": "2026-03-02T08:00:00.000Z", "operation": "submit_port_in",
                "request_id": "ord_j-port-in", "port_ref": "HUB-UK-000001", "status": 202,
                "replay": false}])
    );
    let (_, stats) = w.get("stats").await;
    assert_eq!(stats["requests"], 1);
    assert_eq!(stats["operations"]["submit_port_in"], 1);
    assert_eq!(stats["messages"], 2);
    w.deliveries(2).await;
    assert_eq!(w.send("POST", "reset", Value::Null).await.0, 204);
    assert_eq!(w.get("requests").await.1, json!([]));
    assert_eq!(w.get("ports").await.1, json!([]));
    assert_eq!(w.get("callbacks").await.1, json!([]));
    assert_eq!(w.get("stats").await.1["requests"], 0);
    assert_eq!(w.get("clock").await.1["now"], "2026-03-02T08:00:00.000Z");
    // The request id is new again; port references are never reused.
    let again = w
        .client
        .submit_port_in(&submit(Market::Uk, "447700900903", "ord_j"))
        .await
        .expect("a new request after the reset");
    assert_eq!(again.port_ref.as_str(), "HUB-UK-000002");
}

#[tokio::test]
async fn faults_rules_and_donors_are_set_through_the_api() {
    let w = World::new().await;
    let (status, err) = w
        .send("PUT", "faults", json!({"timeout": 0.7, "unavailable": 0.7}))
        .await;
    assert_eq!(status, 400, "{err}");
    assert_eq!(
        w.send("PUT", "faults", json!({"unavailable": 1.0})).await.0,
        204
    );
    assert_eq!(w.get("faults").await.1["unavailable"], 1.0);
    let err = w
        .client
        .submit_port_in(&submit(Market::Uk, "447700900904", "ord_f"))
        .await
        .expect_err("503");
    assert!(err.retryable());
    assert_eq!(w.send("PUT", "faults", json!({})).await.0, 204);
    let rule = json!([{"action": "unavailable", "operation": "submit_port_in", "times": 2},
                      {"action": "delay", "ms": 5}]);
    assert_eq!(w.send("POST", "rules", rule).await.0, 204);
    let (_, rules) = w.get("rules").await;
    assert_eq!(
        rules[0],
        json!({"action": "unavailable", "operation": "submit_port_in", "times": 2})
    );
    assert_eq!(rules[1], json!({"action": "delay", "ms": 5, "times": 1}));
    assert_eq!(
        w.send("POST", "rules", json!({"action": "explode"}))
            .await
            .0,
        400
    );
    assert_eq!(w.send("DELETE", "rules", Value::Null).await.0, 204);
    assert_eq!(w.get("rules").await.1, json!([]));
    assert_eq!(
        w.send("PUT", "callback-faults", json!({"duplicate": 1.0}))
            .await
            .0,
        204
    );
    assert_eq!(w.get("callback-faults").await.1["duplicate"], 1.0);
    assert_eq!(
        w.send("PUT", "callback-faults", json!({"duplicate": 2}))
            .await
            .0,
        400
    );

    for (body, status) in [
        (
            json!({"outcome": "reject", "reason": "number_not_portable", "delay_ms": 1000}),
            204,
        ),
        (json!({"outcome": "reject"}), 400),
        (json!({"outcome": "perhaps"}), 400),
    ] {
        assert_eq!(w.send("PUT", "donors/447700900905", body).await.0, status);
    }
    assert_eq!(
        w.send("PUT", "donors/not-a-number", json!({"outcome": "accept"}))
            .await
            .0,
        400
    );
    assert_eq!(
        w.send(
            "PUT",
            "donors/default",
            json!({"outcome": "conflict", "cause": "50"})
        )
        .await
        .0,
        204
    );
    let (_, donors) = w.get("donors").await;
    assert_eq!(donors["default"]["resolution"], "resolve");
    assert_eq!(donors["numbers"]["447700900905"]["delay_ms"], 1000);
    assert_eq!(
        w.send("DELETE", "donors/447700900905", Value::Null).await.0,
        204
    );
    assert_eq!(
        w.send("DELETE", "donors/447700900905", Value::Null).await.0,
        404
    );

    assert_eq!(w.get("nothing").await.0, 404);
    assert_eq!(w.send("POST", "stats", Value::Null).await.0, 405);
    assert_eq!(w.send("DELETE", "clock", Value::Null).await.0, 405);
    let bad = w
        .send(
            "POST",
            "port-outs",
            json!({"market": "mars", "number": "447700900906"}),
        )
        .await;
    assert_eq!(
        (bad.0, bad.1["error"].clone()),
        (400, json!("market: unknown"))
    );
    let bad = w
        .send(
            "POST",
            "port-outs",
            json!({"market": "uk", "number": "447700900906", "credential": "a b"}),
        )
        .await;
    assert_eq!(bad.1["error"], "credential: invalid value");
    let bad = w
        .send(
            "POST",
            "port-outs",
            json!({"market": "uk", "number": "447700900906",
            "respond_by": "2026-03-02T07:00:00Z"}),
        )
        .await;
    assert_eq!(bad.0, 400);
    // A PIN of the wrong type is not quoted back.
    let bad = w
        .send(
            "POST",
            "port-outs",
            json!({"market": "us", "number": "12025550199",
            "account": {"number": "5550001111", "pin": 80801234}}),
        )
        .await;
    assert_eq!(bad.0, 400);
    assert!(!bad.1.to_string().contains("80801234"), "{}", bad.1);
}
