//! What one tenant can learn about another's inventory: nothing. Another tenant's SIM, in
//! any state, answers exactly like a SIM that does not exist, byte for byte.

mod common;

use common::*;
use serde_json::Value;

/// Status, content type and body of a GET as `key`.
async fn get(h: &Harness, key: &str, path: &str) -> (u16, String, Value) {
    let auth = [("authorization", format!("Bearer {key}"))];
    parts(
        h.client
            .get(&format!("{}{path}", h.base), &auth)
            .await
            .expect("GET"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_tenants_sim_is_indistinguishable_from_no_sim() {
    let h = Harness::start(2).await;
    let nowhere = card(500_000);
    // One of the other tenant's cards stays in stock, one goes into service: neither state
    // may show through.
    let (s, b, _) = h
        .post_as(
            &h.other_key,
            Some("o1"),
            &physical(&h.other_cards[1].iccid).to_string(),
        )
        .await;
    assert_eq!(s, 202, "{b}");
    let id = b["id"].as_str().expect("id");
    let v = h.wait_terminal_as(&h.other_key, id).await;
    assert_eq!(
        v["status"], "active",
        "the other tenant's card is in service"
    );

    let (s, unknown) = h.post("u1", &physical(&nowhere.iccid)).await;
    assert_eq!(
        (s, unknown["code"].as_str()),
        (422, Some("unknown_iccid")),
        "{unknown}"
    );
    assert_eq!(unknown["field"], "sim.iccid");
    for (n, other) in h.other_cards[..2].iter().enumerate() {
        let (s, theirs) = h.post(&format!("t{n}"), &physical(&other.iccid)).await;
        assert_eq!(
            (s, &theirs),
            (422, &unknown),
            "activating card {n} of another tenant"
        );
    }

    let absent = get(&h, &h.api_key, &format!("/v1/sims/{}", nowhere.iccid)).await;
    assert_eq!(
        (absent.0, absent.2["code"].as_str()),
        (404, Some("sim_not_found")),
        "{absent:?}"
    );
    let absent_imsi = get(&h, &h.api_key, &format!("/v1/sims?imsi={}", nowhere.imsi)).await;
    assert_eq!(absent_imsi, absent, "by IMSI as by ICCID");
    for other in &h.other_cards[..2] {
        let by_iccid = get(&h, &h.api_key, &format!("/v1/sims/{}", other.iccid)).await;
        assert_eq!(by_iccid, absent, "GET /v1/sims/{{iccid}} of another tenant");
        let by_imsi = get(&h, &h.api_key, &format!("/v1/sims?imsi={}", other.imsi)).await;
        assert_eq!(by_imsi, absent, "GET /v1/sims?imsi= of another tenant");
        // The owner still sees its own card.
        let own = get(&h, &h.other_key, &format!("/v1/sims/{}", other.iccid)).await;
        assert_eq!(own.0, 200, "{own:?}");
    }
}
