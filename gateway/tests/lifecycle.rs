//! Lifecycle orders end to end over HTTPS against the CAI3G HLR simulator: suspend and
//! resume with stacked reasons, terminate, SIM swap and number change, one order in
//! flight per line, idempotent replay, and roles.

mod common;

use common::*;
use conformance::hlr_sim::{Action, FaultKind, Rule};
use gateway::store::Role;
use serde_json::{Value, json};

impl Harness {
    async fn operate(&self, msisdn: &str, op: &str, key: &str, body: Value) -> (u16, Value) {
        self.post_to(
            &format!("/v1/subscriptions/{msisdn}/{op}"),
            &self.api_key,
            Some(key),
            &body,
        )
        .await
    }

    /// Runs an operation to its end; returns the terminal order.
    async fn run(&self, msisdn: &str, op: &str, key: &str, body: Value) -> Value {
        let (s, b) = self.operate(msisdn, op, key, body).await;
        assert_eq!(s, 202, "{b}");
        assert!(b["id"].as_str().expect("id").starts_with("ord_"));
        self.wait_order(b["id"].as_str().expect("id")).await
    }

    async fn subscription(&self, msisdn: &str) -> Value {
        let (s, v) = self
            .get_as(&self.api_key, &format!("/v1/subscriptions/{msisdn}"))
            .await;
        assert_eq!(s, 200, "{v}");
        v
    }

    fn barred(&self, imsi: &str) -> (bool, bool) {
        let h = self
            .sim
            .hlr(&imsi.parse().expect("imsi"))
            .expect("on the HLR");
        (h.obo, h.obi)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_activation_opens_a_subscription() {
    let h = Harness::start(2).await;
    let msisdn = h.activate(0).await;
    let sub = h.subscription(&msisdn).await;
    assert_eq!(sub["state"], "active");
    assert_eq!(sub["iccid"], h.cards[0].iccid.to_string());
    assert_eq!(sub["imsi"], h.cards[0].imsi);
    assert_eq!(sub["suspension_reasons"], json!([]));
    let (s, hist) = h
        .get_as(&h.api_key, &format!("/v1/subscriptions/{msisdn}/history"))
        .await;
    assert_eq!(s, 200);
    assert_eq!(hist["data"][0]["kind"], "activation");
    // Another tenant's line is a 404, as for orders.
    let (s, v) = h
        .get_as(&h.other_key, &format!("/v1/subscriptions/{msisdn}"))
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (404, Some("subscription_not_found"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stacked_suspensions_keep_the_line_barred_until_the_last_is_lifted() {
    let h = Harness::start(1).await;
    let msisdn = h.activate(0).await;
    let imsi = h.cards[0].imsi.clone();
    assert_eq!(h.barred(&imsi), (false, false));

    let o = h
        .run(&msisdn, "suspend", "s1", json!({"reason": "non_payment"}))
        .await;
    assert_eq!(
        (o["kind"].as_str(), o["status"].as_str()),
        (Some("suspend"), Some("completed")),
        "{o}"
    );
    assert_eq!(h.barred(&imsi), (true, true));
    h.run(
        &msisdn,
        "suspend",
        "s2",
        json!({"reason": "lost_or_stolen"}),
    )
    .await;
    let sub = h.subscription(&msisdn).await;
    assert_eq!(sub["state"], "suspended");
    assert_eq!(
        sub["suspension_reasons"],
        json!(["non_payment", "lost_or_stolen"])
    );

    let o = h
        .run(&msisdn, "resume", "r1", json!({"reason": "non_payment"}))
        .await;
    assert_eq!(o["status"], "completed");
    assert_eq!(h.barred(&imsi), (true, true), "lost_or_stolen still holds");
    assert_eq!(h.subscription(&msisdn).await["state"], "suspended");

    h.run(&msisdn, "resume", "r2", json!({"reason": "lost_or_stolen"}))
        .await;
    assert_eq!(h.barred(&imsi), (false, false));
    let sub = h.subscription(&msisdn).await;
    assert_eq!(
        (sub["state"].as_str(), &sub["suspension_reasons"]),
        (Some("active"), &json!([]))
    );

    // Refusals that would change nothing.
    let (s, v) = h
        .operate(&msisdn, "resume", "r3", json!({"reason": "non_payment"}))
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (409, Some("suspension_reason_absent"))
    );
    let (s, v) = h
        .get_as(&h.api_key, &format!("/v1/subscriptions/{msisdn}/history"))
        .await;
    assert_eq!(s, 200);
    assert_eq!(v["data"].as_array().map(Vec::len), Some(5), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_operator_keys_run_lifecycle_operations_and_lift_fraud_risk() {
    let h = Harness::start(1).await;
    let msisdn = h.activate(0).await;
    let (channel, change) =
        gateway::admin::new_api_key(&h.gw().keys, TENANT, Role::Channel, "c", 0).expect("key");
    gateway::admin::apply(h.gw().store.as_ref(), change)
        .await
        .expect("key");
    h.run(&msisdn, "suspend", "f1", json!({"reason": "fraud_risk"}))
        .await;
    let path = format!("/v1/subscriptions/{msisdn}/resume");
    let (s, v) = h
        .post_to(
            &path,
            &channel,
            Some("f2"),
            &json!({"reason": "fraud_risk"}),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (403, Some("forbidden_for_role")),
        "{v}"
    );
    assert_eq!(
        h.subscription(&msisdn).await["suspension_reasons"],
        json!(["fraud_risk"])
    );
    h.run(&msisdn, "resume", "f3", json!({"reason": "fraud_risk"}))
        .await;
    assert_eq!(h.subscription(&msisdn).await["state"], "active");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_operation_in_flight_is_refused_and_a_suspend_replays() {
    let h = Harness::start(1).await;
    let msisdn = h.activate(0).await;
    // The HLR is busy: the suspend stays in flight (its compensation never gives up).
    h.sim
        .push_rule(Rule::any(Action::Fault(FaultKind::Busy), 100_000));
    let body = json!({"reason": "customer_request"});
    let (s, first) = h.operate(&msisdn, "suspend", "busy-1", body.clone()).await;
    assert_eq!(s, 202, "{first}");
    let id = first["id"].as_str().expect("id");
    let (s, again) = h.operate(&msisdn, "suspend", "busy-1", body.clone()).await;
    assert_eq!(s, 202);
    assert_eq!(
        again["id"], first["id"],
        "a replay answers with the same order"
    );
    let (s, v) = h.operate(&msisdn, "terminate", "busy-2", json!({})).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (409, Some("subscription_busy")),
        "{v}"
    );
    assert_eq!(v["order_id"], id);
    // The same key on another operation is a reuse.
    let (s, v) = h.operate(&msisdn, "terminate", "busy-1", json!({})).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (422, Some("idempotency_key_reused")),
        "{v}"
    );
    h.sim.clear_rules();
    let done = h.wait_order(id).await;
    assert!(["completed", "failed"].contains(&done["status"].as_str().unwrap_or("")));
    if done["status"] == "failed" {
        assert_eq!(
            h.barred(&h.cards[0].imsi),
            (false, false),
            "compensated: {done}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminate_removes_the_subscriber_retires_the_sim_and_quarantines_the_number() {
    let h = Harness::start(2).await;
    let msisdn = h.activate(0).await;
    h.run(&msisdn, "suspend", "t0", json!({"reason": "non_payment"}))
        .await;
    // An operation without parameters may be sent with an empty body.
    let (s, v, _) = h
        .post_raw(
            &format!("/v1/subscriptions/{msisdn}/terminate"),
            &h.api_key,
            Some("t1"),
            String::new(),
        )
        .await;
    assert_eq!(s, 202, "{v}");
    let o = h.wait_order(v["id"].as_str().expect("id")).await;
    assert_eq!(o["status"], "completed", "{o}");
    assert!(h.sim.hlr(&h.cards[0].imsi.parse().expect("imsi")).is_none());
    assert!(h.sim.auc(&h.cards[0].imsi.parse().expect("imsi")).is_none());
    let (s, sim) = h
        .get_as(&h.api_key, &format!("/v1/sims/{}", h.cards[0].iccid))
        .await;
    assert_eq!(s, 200);
    assert_eq!(sim["state"], "retired", "{sim}");
    let (_, q) = h.get_as(&h.api_key, "/v1/numbers/quarantine").await;
    assert!(q.to_string().contains(&msisdn), "{q}");
    let (s, v) = h
        .operate(&msisdn, "resume", "t2", json!({"reason": "non_payment"}))
        .await;
    assert_eq!(s, 404, "a terminated line no longer holds its number: {v}");
    let counts = h.counts(TENANT).await;
    assert_eq!((counts.sims_active, counts.sims_available), (0, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_physical_sim_swap_moves_the_number_and_keeps_the_suspension() {
    let h = Harness::start(3).await;
    let msisdn = h.activate(0).await;
    h.run(
        &msisdn,
        "suspend",
        "w0",
        json!({"reason": "lost_or_stolen"}),
    )
    .await;
    let new = &h.cards[2];
    let o = h
        .run(
            &msisdn,
            "sim-swap",
            "w1",
            json!({"sim": {"type": "physical", "iccid": new.iccid.to_string()}}),
        )
        .await;
    assert_eq!(o["status"], "completed", "{o}");
    assert_eq!(o["msisdn_holder"], new.iccid.to_string());
    let old_imsi = h.cards[0].imsi.parse().expect("imsi");
    let new_imsi = new.imsi.parse().expect("imsi");
    assert!(h.sim.hlr(&old_imsi).is_none() && h.sim.auc(&old_imsi).is_none());
    let on_new = h.sim.hlr(&new_imsi).expect("new subscriber");
    assert_eq!(on_new.msisdn.as_str(), msisdn);
    assert_eq!(
        (on_new.obo, on_new.obi),
        (true, true),
        "the suspension carried over"
    );
    let sub = h.subscription(&msisdn).await;
    assert_eq!(sub["iccid"], new.iccid.to_string());
    assert_eq!(sub["state"], "suspended");
    let (_, old) = h
        .get_as(&h.api_key, &format!("/v1/sims/{}", h.cards[0].iccid))
        .await;
    assert_eq!(old["state"], "retired");
    // The swapped-to card is in use now: it cannot be activated or swapped to again.
    let (s, v) = h
        .operate(
            &msisdn,
            "sim-swap",
            "w2",
            json!({"sim": {"type": "physical", "iccid": new.iccid.to_string()}}),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (409, Some("sim_not_available")),
        "{v}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_number_change_gives_the_line_a_new_number_and_quarantines_the_old() {
    let h = Harness::start(1).await;
    let old = h.activate(0).await;
    let o = h
        .run(
            &old,
            "number-change",
            "n1",
            json!({"msisdn": {"mode": "auto"}}),
        )
        .await;
    assert_eq!(o["status"], "completed", "{o}");
    let new = o["new_msisdn"].as_str().expect("new number").to_owned();
    assert_ne!(new, old);
    let on_hlr = h
        .sim
        .hlr(&h.cards[0].imsi.parse().expect("imsi"))
        .expect("subscriber");
    assert_eq!(on_hlr.msisdn.as_str(), new);
    let sub = h.subscription(&new).await;
    assert_eq!(sub["iccid"], h.cards[0].iccid.to_string());
    let (s, _) = h
        .get_as(&h.api_key, &format!("/v1/subscriptions/{old}"))
        .await;
    assert_eq!(s, 404);
    let (_, q) = h.get_as(&h.api_key, "/v1/numbers/quarantine").await;
    assert!(q.to_string().contains(&old), "{q}");
    let (s, v) = h
        .operate(
            &new,
            "number-change",
            "n2",
            json!({"msisdn": {"mode": "choose", "msisdn": new}}),
        )
        .await;
    assert_eq!((s, v["code"].as_str()), (422, Some("same_msisdn")), "{v}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscriptions_page_with_a_cursor_and_filter_by_state() {
    let h = Harness::start(5).await;
    let mut numbers = Vec::new();
    for i in 0..5 {
        numbers.push(h.activate(i).await);
    }
    h.run(
        &numbers[2],
        "suspend",
        "p0",
        json!({"reason": "customer_request"}),
    )
    .await;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/subscriptions?limit=2&cursor={c}"),
            None => "/v1/subscriptions?limit=2".to_owned(),
        };
        let (s, page) = h.get_as(&h.api_key, &path).await;
        assert_eq!(s, 200, "{page}");
        for d in page["data"].as_array().expect("data") {
            seen.push(d["msisdn"].as_str().expect("msisdn").to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    seen.sort();
    let mut want = numbers.clone();
    want.sort();
    assert_eq!(seen, want, "every line once");
    let (_, suspended) = h
        .get_as(&h.api_key, "/v1/subscriptions?state=suspended")
        .await;
    assert_eq!(suspended["data"].as_array().map(Vec::len), Some(1));
    assert_eq!(suspended["data"][0]["msisdn"], numbers[2]);
    let (s, v) = h.get_as(&h.api_key, "/v1/subscriptions?state=nope").await;
    assert_eq!((s, v["code"].as_str()), (400, Some("invalid_value")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_changes_are_events_with_the_previous_state() {
    let h = Harness::start(2).await;
    let msisdn = h.activate(0).await;
    h.run(&msisdn, "suspend", "e1", json!({"reason": "non_payment"}))
        .await;
    let o = h
        .run(
            &msisdn,
            "number-change",
            "e2",
            json!({"msisdn": {"mode": "auto"}}),
        )
        .await;
    let (s, page) = h.get_as(&h.api_key, "/v1/events?limit=100").await;
    assert_eq!(s, 200, "{page}");
    let events = page["data"].as_array().expect("data");
    let types: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(
        types,
        [
            "order.created",
            "order.active",
            "order.created",
            "subscription.suspended",
            "order.completed",
            "order.created",
            "subscription.number_changed",
            "order.completed"
        ]
    );
    let suspended = &events[3];
    assert_eq!(suspended["data"]["state"], "suspended");
    assert_eq!(suspended["data"]["previous"]["state"], "active");
    assert_eq!(
        suspended["data"]["suspension_reasons"],
        json!(["non_payment"])
    );
    let changed = &events[6];
    assert_eq!(changed["data"]["previous"]["msisdn"], msisdn);
    assert_eq!(changed["data"]["msisdn"], o["new_msisdn"]);
    // Every event of the line keeps one subject across the number change.
    let subjects: std::collections::HashSet<&str> = events
        .iter()
        .filter_map(|e| e["subject"].as_str())
        .collect();
    assert_eq!(subjects.len(), 1, "{subjects:?}");
    let text = page.to_string();
    for secretish in ["\"ki\"", "\"opc\"", "subscriber"] {
        assert!(!text.contains(secretish), "{secretish} in {text}");
    }
}

mod barring_property {
    use super::*;
    use conformance::hlr_sim::FaultConfig;
    use proptest::prelude::*;

    /// One random operation: suspend or resume, with one of the five reasons.
    fn op() -> impl Strategy<Value = (bool, usize)> {
        (any::<bool>(), 0usize..5)
    }

    const REASONS: [&str; 5] = [
        "customer_request",
        "non_payment",
        "lost_or_stolen",
        "fraud_risk",
        "regulatory",
    ];

    async fn run_sequence(ops: Vec<(bool, usize)>) -> Result<(), TestCaseError> {
        // Two attempts per step: faults often exhaust the budget, so compensation runs.
        let h = Harness::start_with(1, |c| c.engine.max_attempts = 2).await;
        let msisdn = h.activate(0).await;
        let imsi: sim_profiles::Imsi = h.cards[0].imsi.parse().expect("imsi");
        // Faults at the HLR from here on: busy (retryable), external (refused for good) and
        // applied-but-unanswered (the gateway cannot know it happened).
        let faults = FaultConfig {
            busy: 0.2,
            external: 0.1,
            drop_after_apply: 0.2,
            ..FaultConfig::default()
        };
        h.sim.set_faults(faults).expect("faults");
        for (i, (suspend, r)) in ops.into_iter().enumerate() {
            let verb = if suspend { "suspend" } else { "resume" };
            let (s, v) = h
                .operate(
                    &msisdn,
                    verb,
                    &format!("p{i}"),
                    json!({"reason": REASONS[r]}),
                )
                .await;
            match s {
                202 => {
                    let done = h.wait_order(v["id"].as_str().expect("id")).await;
                    prop_assert!(
                        ["completed", "failed"].contains(&done["status"].as_str().unwrap_or("")),
                        "{done}"
                    );
                }
                409 => prop_assert!(
                    ["suspension_reason_present", "suspension_reason_absent"]
                        .contains(&v["code"].as_str().unwrap_or("")),
                    "{v}"
                ),
                _ => prop_assert!(false, "unexpected answer {s}: {v}"),
            }
            let line = h.subscription(&msisdn).await;
            let held = !line["suspension_reasons"]
                .as_array()
                .expect("reasons")
                .is_empty();
            let on_hlr = h.sim.hlr(&imsi).expect("the line stays on the HLR");
            prop_assert_eq!(
                (on_hlr.obo, on_hlr.obi),
                (held, held),
                "the HLR's barring differs from the line's reasons: {}",
                line
            );
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]
        /// Random suspends and resumes, with faults injected at the HLR, never leave its
        /// barring different from the line's suspension reasons once each order is over.
        #[test]
        fn hlr_barring_follows_the_reasons_under_faults(ops in proptest::collection::vec(op(), 1..24)) {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(run_sequence(ops))?;
        }
    }
}
