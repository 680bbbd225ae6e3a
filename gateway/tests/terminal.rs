//! The store terminal's calls over HTTPS against the sandbox, as the page makes them
//! (cookies, CSRF token) and as the operator makes them (API key): pairing, clerk sign-in
//! and lock-out, a China store sale attributed to store, terminal and clerk, and revoke.
//! The browser itself is driven by the Playwright suite (gateway/tests/browser).

mod common;

use bytes::Bytes;
use common::market::{Client, cn, resident_id, sandbox};
use common::sandbox::shutdown;
use gateway::compliance::audit::AuditRecord;
use gateway::sandbox::Sandbox;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;

/// A browser of a store terminal: its cookie jar and CSRF token.
struct Page {
    http: adapters::http::HttpClient,
    base: String,
    cookies: BTreeMap<String, String>,
    csrf: Option<String>,
}

/// An answer: status, JSON body, `Set-Cookie` lines.
struct Answer {
    status: u16,
    body: Value,
    set_cookies: Vec<String>,
    headers: http::HeaderMap,
}

impl Page {
    fn new(sb: &Sandbox) -> Self {
        let ca = std::fs::read(&sb.info.ca_cert).expect("ca");
        Self {
            http: adapters::http::HttpClient::builder()
                .add_root_pem(&ca)
                .request_timeout(Duration::from_secs(20))
                .build()
                .expect("client"),
            base: sb.info.base_url.clone(),
            cookies: BTreeMap::new(),
            csrf: None,
        }
    }

    async fn call(
        &mut self,
        method: http::Method,
        path: &str,
        extra: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Answer {
        let mut h: Vec<(&str, String)> = extra.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        if !self.cookies.is_empty() {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            h.push(("cookie", jar.join("; ")));
        }
        let bytes = match body {
            Some(b) => {
                h.push(("content-type", "application/json".to_owned()));
                Bytes::from(b.to_string())
            }
            None => Bytes::new(),
        };
        let r = self
            .http
            .request(method, &format!("{}{path}", self.base), &h, bytes)
            .await
            .expect("request");
        let set_cookies: Vec<String> = r
            .headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect();
        for c in &set_cookies {
            let pair = c.split(';').next().unwrap_or_default();
            if let Some((k, v)) = pair.split_once('=') {
                if c.contains("Max-Age=0") {
                    self.cookies.remove(k);
                } else {
                    self.cookies.insert(k.to_owned(), v.to_owned());
                }
            }
        }
        let body: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
        if let Some(t) = body["csrf_token"].as_str() {
            self.csrf = Some(t.to_owned());
        }
        Answer {
            status: r.status,
            body,
            set_cookies,
            headers: r.headers,
        }
    }

    /// A state-changing call with the CSRF token (and more headers).
    async fn post(&mut self, path: &str, extra: &[(&str, &str)], body: &Value) -> Answer {
        let csrf = self.csrf.clone().unwrap_or_default();
        let mut h = vec![("x-csrf-token", csrf.as_str())];
        h.extend_from_slice(extra);
        self.call(http::Method::POST, path, &h, Some(body)).await
    }

    async fn get(&mut self, path: &str) -> Answer {
        self.call(http::Method::GET, path, &[], None).await
    }
}

/// A one-time pairing code for `SZ-0042`/`T7`, from the operator's API.
async fn pairing_code(op: &Client) -> String {
    let (s, v, _) = op
        .send(
            http::Method::POST,
            "/v1/terminal/pairings",
            None,
            Some(&json!({"store_id": "SZ-0042", "terminal_id": "T7"})),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    v["code"].as_str().expect("code").to_owned()
}

/// A China sale as the page sends it: no `channel` (the gateway writes it).
fn page_sale(iccid: &str, id_number: &str) -> Value {
    json!({
        "sim": {"type": "physical", "iccid": iccid},
        "product": "sandbox-basic",
        "msisdn": {"mode": "auto"},
        "subscriber": {
            "name": "王小明", "id_type": "resident_id", "id_number": id_number, "nationality": "CHN",
            "capture": {"method": "card_reader", "reader_serial": "R-1"},
            "evidence": {"face_match": {"transaction_id": "fm-terminal-1", "score": 0.93, "liveness": true}}
        }
    })
}

fn audit_actions(sb: &Sandbox, rows: &[gateway::store::AuditRow]) -> Vec<AuditRecord> {
    let _ = sb;
    rows.iter()
        .map(|r| AuditRecord::decode(&r.bytes).expect("audit record"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pair_sign_in_sell_and_revoke() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sb = sandbox(dir.path()).await;
    let (op, iccids) = cn(&sb);
    let mut page = Page::new(&sb);

    // Not paired: every call says so, and nothing else.
    let a = page.get("/terminal/api/session").await;
    assert_eq!(
        (a.status, a.body["code"].as_str()),
        (401, Some("terminal_not_paired"))
    );
    assert!(a.headers.get("content-security-policy").is_some());
    assert_eq!(
        a.headers.get("x-frame-options").map(|v| v.as_bytes()),
        Some(&b"DENY"[..])
    );

    // A wrong code, then the right one (typed in lower case without the dash), then the
    // same code again: single use.
    let code = pairing_code(&op).await;
    let a = page
        .post("/terminal/api/pair", &[], &json!({"code": "ZZZZ-ZZZZ"}))
        .await;
    assert_eq!(
        (a.status, a.body["code"].as_str()),
        (401, Some("pairing_code_invalid"))
    );
    let typed = code.replace('-', "").to_lowercase();
    let a = page
        .post("/terminal/api/pair", &[], &json!({"code": typed}))
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(
        (a.body["tenant"].as_str(), a.body["store"].as_str()),
        (Some("sandbox-cn"), Some("SZ-0042"))
    );
    assert_eq!(a.body["identity"]["capture"], "card_reader", "{}", a.body);
    let device = a
        .set_cookies
        .iter()
        .find(|c| c.starts_with("__Host-simgw-device="))
        .expect("the device cookie");
    for flag in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(device.contains(flag), "{device} lacks {flag}");
    }
    let mut other = Page::new(&sb);
    let a = other
        .post("/terminal/api/pair", &[], &json!({"code": code}))
        .await;
    assert_eq!(
        (a.status, a.body["code"].as_str()),
        (401, Some("pairing_code_invalid"))
    );

    // No clerk yet: sales are refused; sign-in needs the CSRF token.
    let a = page.get("/terminal/api/sales").await;
    assert_eq!(
        (a.status, a.body["code"].as_str()),
        (401, Some("clerk_not_signed_in"))
    );
    let a = page
        .call(
            http::Method::POST,
            "/terminal/api/sign-in",
            &[],
            Some(&json!({"clerk": "C1", "pin": "246810"})),
        )
        .await;
    assert_eq!(
        (a.status, a.body["code"].as_str()),
        (403, Some("csrf_token_invalid"))
    );

    // C2: four wrong PINs count down, the fifth locks, and then even the right PIN waits.
    for left in (1..=4).rev() {
        let a = page
            .post(
                "/terminal/api/sign-in",
                &[],
                &json!({"clerk": "C2", "pin": "000000"}),
            )
            .await;
        assert_eq!(
            (a.status, a.body["code"].as_str()),
            (401, Some("clerk_sign_in_failed"))
        );
        assert_eq!(a.body["tries_left"], left);
    }
    for pin in ["000000", "135790"] {
        let a = page
            .post(
                "/terminal/api/sign-in",
                &[],
                &json!({"clerk": "C2", "pin": pin}),
            )
            .await;
        assert_eq!(
            (a.status, a.body["code"].as_str()),
            (423, Some("clerk_locked")),
            "{}",
            a.body
        );
        assert!(a.headers.get("retry-after").is_some());
    }

    // C1 signs in and sells.
    let a = page
        .post(
            "/terminal/api/sign-in",
            &[],
            &json!({"clerk": "C1", "pin": "246810"}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["clerk"]["id"], "C1");
    let id_number = resident_id(700);
    let sale = page_sale(&iccids[0], &id_number);
    let a = page.post("/terminal/api/sales/validate", &[], &sale).await;
    assert_eq!((a.status, &a.body["ok"]), (200, &json!(true)), "{}", a.body);
    // The page cannot name another channel.
    let mut forged = sale.clone();
    forged["channel"] =
        json!({"kind": "store", "store_id": "SZ-0042", "terminal_id": "T7", "staff_id": "C9"});
    let a = page
        .post(
            "/terminal/api/sales",
            &[("idempotency-key", "forged")],
            &forged,
        )
        .await;
    assert_eq!(a.status, 400, "{}", a.body);
    let a = page.post("/terminal/api/sales", &[], &sale).await;
    assert_eq!(
        (a.status, a.body["code"].as_str()),
        (400, Some("idempotency_key_missing"))
    );
    // A double click: one order.
    let first = page
        .post(
            "/terminal/api/sales",
            &[("idempotency-key", "sale-1")],
            &sale,
        )
        .await;
    assert_eq!(first.status, 202, "{}", first.body);
    let again = page
        .post(
            "/terminal/api/sales",
            &[("idempotency-key", "sale-1")],
            &sale,
        )
        .await;
    assert_eq!(again.body["id"], first.body["id"]);
    let id = first.body["id"].as_str().expect("id").to_owned();
    // A page reloaded mid-confirmation finds its sale by its key, without the body.
    let by_key = page.get("/terminal/api/sales/by-key/sale-1").await;
    assert_eq!(
        (by_key.status, by_key.body["id"].as_str()),
        (200, Some(id.as_str()))
    );
    let none = page.get("/terminal/api/sales/by-key/never-sent").await;
    assert_eq!(
        (none.status, none.body["code"].as_str()),
        (404, Some("order_not_found"))
    );
    assert!(!first.body.to_string().contains(&id_number));
    let path = format!("/terminal/api/sales/{id}");
    let mut done = Value::Null;
    for _ in 0..2_000 {
        done = page.get(&path).await.body;
        if matches!(done["status"].as_str(), Some("active" | "failed")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(done["status"], "active", "{done}");
    let order = op.get(&format!("/v1/activations/{id}")).await;
    assert_eq!(
        order["channel"],
        json!({"kind": "store", "store_id": "SZ-0042", "terminal_id": "T7", "staff_id": "C1"})
    );
    let listed = page.get("/terminal/api/sales").await;
    assert_eq!(
        listed.body["sales"][0]["id"],
        id.as_str(),
        "{}",
        listed.body
    );

    // The audit chain names the terminal and clerk for the sign-ins, the sale and the
    // order's own compliance decision.
    let rows = sb.gateway.store.audit_rows(1, 10_000).await.expect("audit");
    let records = audit_actions(&sb, &rows);
    let by = |action: &str| {
        records
            .iter()
            .filter(|r| r.action == action)
            .collect::<Vec<_>>()
    };
    assert_eq!(by("terminal.sign_in").len(), 7);
    let sale_rec = by("terminal.sale");
    assert_eq!(sale_rec.len(), 1);
    assert_eq!(sale_rec[0].subject.order_id.as_deref(), Some(id.as_str()));
    assert_eq!(
        (
            sale_rec[0].actor.store.as_deref(),
            sale_rec[0].actor.device.as_deref(),
            sale_rec[0].actor.clerk.as_deref()
        ),
        (Some("SZ-0042"), Some("T7"), Some("C1"))
    );
    assert!(
        records.iter().any(|r| r.action == "activation.create"
            && r.subject.order_id.as_deref() == Some(id.as_str())
            && r.actor.clerk.as_deref() == Some("C1")),
        "the order's own audit record names the clerk"
    );

    // After-sales: C1 (the sandbox store's supervisor) finds the line by its card and
    // suspends it for a lost phone; the order carries the store channel.
    let msisdn = done["msisdn"].as_str().expect("msisdn").to_owned();
    let found = page
        .get(&format!("/terminal/api/lines?iccid={}", iccids[0]))
        .await;
    assert_eq!(
        (found.status, found.body["msisdn"].as_str()),
        (200, Some(msisdn.as_str())),
        "{}",
        found.body
    );
    let a = page
        .post(
            &format!("/terminal/api/lines/{msisdn}/suspend"),
            &[("idempotency-key", "lost-1")],
            &json!({}),
        )
        .await;
    assert_eq!(a.status, 202, "{}", a.body);
    let suspend = a.body["id"].as_str().expect("order id").to_owned();
    let order = op.settle(&format!("/v1/orders/{suspend}")).await;
    assert_eq!(order["status"], "completed", "{order}");
    assert_eq!(order["channel"]["staff_id"], "C1", "{order}");
    let line = op.get(&format!("/v1/subscriptions/{msisdn}")).await;
    assert_eq!(line["state"], "suspended", "{line}");
    assert!(line.to_string().contains("lost_or_stolen"), "{line}");

    // The number page: free numbers in order, golden ones marked and not selectable here
    // (`sandbox-cn` keeps them from stores); a hold is taken, released, taken again and
    // sold with.
    let first = page.get("/terminal/api/numbers").await;
    assert_eq!(first.status, 200, "{}", first.body);
    let listed = first.body["numbers"].as_array().expect("numbers").clone();
    assert_eq!(listed.len(), 24);
    assert_eq!(first.body["golden_selectable"], false);
    let next = first.body["next"].as_str().expect("next").to_owned();
    let second = page
        .get(&format!("/terminal/api/numbers?after={next}"))
        .await;
    let more = second.body["numbers"].as_array().expect("numbers");
    assert!(more[0]["msisdn"].as_str() > Some(next.as_str()));
    let all: Vec<&Value> = listed.iter().chain(more.iter()).collect();
    if let Some(g) = all.iter().find(|n| n["golden"] == true) {
        assert_eq!(g["selectable"], false);
        let a = page
            .post(
                "/terminal/api/holds",
                &[("idempotency-key", "hold-golden")],
                &json!({"msisdn": g["msisdn"]}),
            )
            .await;
        assert_eq!(
            (a.status, a.body["code"].as_str()),
            (403, Some("golden_number_not_offered")),
            "{}",
            a.body
        );
    }
    let pick = listed
        .iter()
        .find(|n| n["golden"] == false)
        .expect("an ordinary number");
    let msisdn = pick["msisdn"].as_str().expect("msisdn").to_owned();
    let a = page
        .post(
            "/terminal/api/holds",
            &[("idempotency-key", "hold-1")],
            &json!({"msisdn": msisdn}),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    let hold = a.body["id"].as_str().expect("hold").to_owned();
    let after = page.get("/terminal/api/numbers").await;
    assert!(
        !after.body.to_string().contains(&format!("\"{msisdn}\"")),
        "a held number is not listed"
    );
    let csrf = page.csrf.clone().unwrap_or_default();
    let gone = page
        .call(
            http::Method::DELETE,
            &format!("/terminal/api/holds/{hold}"),
            &[("x-csrf-token", &csrf)],
            None,
        )
        .await;
    assert_eq!(gone.status, 204);
    let again = page
        .call(
            http::Method::DELETE,
            &format!("/terminal/api/holds/{hold}"),
            &[("x-csrf-token", &csrf)],
            None,
        )
        .await;
    assert_eq!(
        (again.status, again.body["code"].as_str()),
        (404, Some("hold_not_found"))
    );
    // A hold the terminal did not take (an online checkout's) is not the terminal's to
    // release.
    let (s, online, _) = op
        .send(
            http::Method::POST,
            "/v1/numbers/reservations",
            Some("online-hold"),
            Some(&json!({})),
        )
        .await;
    assert_eq!(s, 201, "{online}");
    let online_id = online["id"].as_str().expect("id").to_owned();
    let release = format!("/terminal/api/holds/{online_id}");
    let a = page
        .call(
            http::Method::DELETE,
            &release,
            &[("x-csrf-token", &csrf)],
            None,
        )
        .await;
    assert_eq!(
        (a.status, a.body["code"].as_str()),
        (404, Some("hold_not_found"))
    );
    let still = op
        .get(&format!("/v1/numbers/reservations/{online_id}"))
        .await;
    assert_eq!(still["status"], "held", "{still}");
    let a = page
        .post(
            "/terminal/api/holds",
            &[("idempotency-key", "hold-2")],
            &json!({"msisdn": msisdn}),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.body);
    let mut with_hold = page_sale(&iccids[1], &resident_id(701));
    with_hold["msisdn"] = json!({"mode": "reservation", "reservation_id": a.body["id"]});
    let sold = page
        .post(
            "/terminal/api/sales",
            &[("idempotency-key", "sale-2")],
            &with_hold,
        )
        .await;
    assert_eq!(
        (sold.status, sold.body["msisdn"].as_str()),
        (202, Some(msisdn.as_str())),
        "{}",
        sold.body
    );
    let mut chosen = page_sale(&iccids[2], &resident_id(702));
    chosen["msisdn"] = json!({"mode": "choose", "msisdn": msisdn});
    let a = page
        .post(
            "/terminal/api/sales",
            &[("idempotency-key", "sale-3")],
            &chosen,
        )
        .await;
    assert_eq!(
        (a.status, a.body["field"].as_str()),
        (400, Some("msisdn.mode")),
        "{}",
        a.body
    );

    // The operator revokes: the next call is signed out.
    let (s, v, _) = op
        .send(
            http::Method::POST,
            "/v1/terminal/devices/SZ-0042/T7/revoke",
            None,
            None,
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let a = page.get(&path).await;
    assert_eq!(
        (a.status, a.body["code"].as_str()),
        (401, Some("terminal_not_paired"))
    );
    shutdown(sb).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_sets_a_pin_and_a_bad_one_changes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sb = sandbox(dir.path()).await;
    let (op, _) = cn(&sb);
    let (s, v, _) = op
        .send(
            http::Method::PUT,
            "/v1/channels/clerks/SZ-0042/C3",
            None,
            Some(&json!({"label": "Li", "pin": "12"})),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str(), v["field"].as_str()),
        (400, Some("invalid_value"), Some("pin"))
    );
    let (_, listed, _) = op
        .send(
            http::Method::GET,
            "/v1/channels/clerks?store_id=SZ-0042",
            None,
            None,
        )
        .await;
    assert!(!listed.to_string().contains("\"C3\""), "{listed}");
    let (s, v, _) = op
        .send(
            http::Method::PUT,
            "/v1/channels/clerks/SZ-0042/C3",
            None,
            Some(&json!({"label": "Li", "pin": "4321"})),
        )
        .await;
    assert_eq!((s, v["pin_set"].as_bool()), (200, Some(true)), "{v}");
    assert!(!v.to_string().contains("4321"));
    let mut page = Page::new(&sb);
    let code = pairing_code(&op).await;
    assert_eq!(
        page.post("/terminal/api/pair", &[], &json!({"code": code}))
            .await
            .status,
        200
    );
    let a = page
        .post(
            "/terminal/api/sign-in",
            &[],
            &json!({"clerk": "C3", "pin": "4321"}),
        )
        .await;
    assert_eq!(
        (a.status, a.body["clerk"]["name"].as_str()),
        (200, Some("Li")),
        "{}",
        a.body
    );
    // C3 sells but is no supervisor: no after-sales.
    let a = page
        .post(
            "/terminal/api/lines/8617100000000/suspend",
            &[("idempotency-key", "x")],
            &json!({}),
        )
        .await;
    assert_eq!(
        (a.status, a.body["code"].as_str()),
        (403, Some("clerk_not_supervisor")),
        "{}",
        a.body
    );
    // A role needs a PIN first; with one it is set.
    let (s, v, _) = op
        .send(
            http::Method::PUT,
            "/v1/channels/clerks/SZ-0042/C4",
            None,
            Some(&json!({"terminal_role": "supervisor"})),
        )
        .await;
    assert_eq!((s, v["field"].as_str()), (400, Some("pin")), "{v}");
    let (s, v, _) = op
        .send(
            http::Method::PUT,
            "/v1/channels/clerks/SZ-0042/C3",
            None,
            Some(&json!({"label": "Li", "terminal_role": "supervisor"})),
        )
        .await;
    assert_eq!(
        (s, v["terminal_role"].as_str()),
        (200, Some("supervisor")),
        "{v}"
    );
    let who = page.get("/terminal/api/session").await;
    assert_eq!(
        who.body["clerk"]["rights"]["after_sales"], true,
        "{}",
        who.body
    );
    // A new PIN ends the clerk's session.
    let (s, _, _) = op
        .send(
            http::Method::PUT,
            "/v1/channels/clerks/SZ-0042/C3",
            None,
            Some(&json!({"label": "Li", "pin": "5678"})),
        )
        .await;
    assert_eq!(s, 200);
    let a = page.get("/terminal/api/sales").await;
    assert_eq!(
        (a.status, a.body["code"].as_str()),
        (401, Some("clerk_not_signed_in"))
    );
    // Pairing a terminal the registry does not have is refused.
    let (s, v, _) = op
        .send(
            http::Method::POST,
            "/v1/terminal/pairings",
            None,
            Some(&json!({"store_id": "SZ-0042", "terminal_id": "T99"})),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (404, Some("terminal_not_registered")),
        "{v}"
    );
    shutdown(sb).await;
}
