//! `compliance.*`: real-name and anti-fraud controls, against the sandbox's `cn` market
//! tenant (`markets.cn` in sandbox.json: store `SZ-0042`, terminal `T7`, clerk `C1`,
//! reader `R-1`). Each refusal changes nothing; the per-ID limit holds across orders.
//! IDs are fresh per run (random birth date and sequence, a correct check character), so
//! a second run against the same sandbox starts from zero lines.

use crate::suite::ctx::{Auth, Ctx, MarketCtx, random_bytes};
use crate::suite::reply::expect_field;
use adapters::identity::id_format::mod11_2_check;
use http::Method;
use serde_json::{Value, json};

const STORE: &str = "SZ-0042";
const TERMINAL: &str = "T7";
const CLERK: &str = "C1";
const READER: &str = "R-1";

pub(super) fn market(ctx: &Ctx) -> Result<&MarketCtx, String> {
    ctx.cn
        .as_ref()
        .ok_or_else(|| "sandbox.json has no `markets.cn`".to_owned())
}

/// A fresh, well-formed Chinese resident ID number (region 110105, a birth date in
/// 1950–1999, a random sequence, the ISO 7064 MOD 11-2 check character).
pub(super) fn fresh_resident_id() -> String {
    let r = random_bytes(6);
    let n = |i: usize| u32::from(r[i]);
    let year = 1950 + (n(0) * 256 + n(1)) % 50;
    let month = 1 + n(2) % 12;
    let day = 1 + n(3) % 28;
    let seq = (n(4) * 256 + n(5)) % 1000;
    let body = format!("110105{year:04}{month:02}{day:02}{seq:03}");
    let check = char::from(mod11_2_check(body.as_bytes()));
    format!("{body}{check}")
}

/// A subscriber as a China store terminal sends it: card reader `R-1`, face match.
fn subscriber(id_number: &str) -> Value {
    json!({
        "name": "测试用户",
        "id_type": "resident_id",
        "id_number": id_number,
        "nationality": "CHN",
        "capture": {"method": "card_reader", "reader_serial": READER},
        "evidence": {"face_match": {"transaction_id": format!("conf-{}", crate::suite::ctx::random_hex(8)), "score": 0.95, "liveness": true}}
    })
}

/// A store sale of `iccid` (or any SIM, for requests that are refused or only validated).
pub(super) fn sale(m: &MarketCtx, iccid: &str, id_number: &str) -> Value {
    json!({
        "sim": {"type": "physical", "iccid": iccid},
        "product": m.product,
        "channel": {"kind": "store", "store_id": STORE, "terminal_id": TERMINAL, "staff_id": CLERK},
        "subscriber": subscriber(id_number),
    })
}

pub(super) async fn post(
    ctx: &Ctx,
    path: &str,
    body: &Value,
    key: bool,
) -> Result<crate::suite::reply::Reply, String> {
    let m = market(ctx)?;
    let idem = key.then(|| ctx.idempotency_key());
    ctx.post_json(
        path,
        Auth::Key(&m.api_key),
        idem.as_deref(),
        body.to_string(),
    )
    .await
}

/// Validates `body` and expects the problem `status`/`code` (naming `field` if given),
/// then sends it as an order and expects the same problem: nothing may be reserved.
async fn refused_both_ways(
    ctx: &Ctx,
    body: &Value,
    status: u16,
    code: &str,
    field: Option<&str>,
) -> Result<Value, String> {
    let p = post(ctx, "/v1/activations/validate", body, false)
        .await?
        .expect_problem(status, code)?;
    if let Some(f) = field {
        expect_field(&p, f)?;
    }
    let p = post(ctx, "/v1/activations", body, true)
        .await?
        .expect_problem(status, code)?;
    let iccid = body["sim"]["iccid"].as_str().unwrap_or_default();
    let m = market(ctx)?;
    let sim = ctx
        .get(&format!("/v1/sims/{iccid}"), Auth::Key(&m.api_key))
        .await?
        .expect_json(200)?;
    if sim["state"] != "available" {
        return Err(format!(
            "a refused order left SIM {iccid} `{}`, expected `available`",
            sim["state"]
        ));
    }
    Ok(p)
}

pub(super) fn spare(m: &MarketCtx) -> Result<String, String> {
    m.sims
        .peek()
        .ok_or_else(|| "no SIM left in markets.cn".to_owned())
}

/// A complete store sale is accepted and the line becomes active.
/// Sends sale `body` and waits for it to end `active` (an error says how it ended).
pub(super) async fn active_sale(ctx: &Ctx, m: &MarketCtx, body: &Value) -> Result<Value, String> {
    let order = post(ctx, "/v1/activations", body, true)
        .await?
        .expect_json(202)?;
    let id = order["id"].as_str().ok_or("202 without `id`")?;
    let done = ctx
        .poll_as(
            &m.api_key,
            &format!("/v1/activations/{id}"),
            &["active", "failed"],
        )
        .await?;
    if done["status"] != "active" {
        return Err(format!(
            "the sale ended `{}`: {}",
            done["status"], done["error"]
        ));
    }
    Ok(done)
}

pub(crate) async fn store_sale_reaches_active(ctx: &Ctx) -> Result<(), String> {
    let m = market(ctx)?;
    let body = sale(m, &m.sims.take()?, &fresh_resident_id());
    post(ctx, "/v1/activations/validate", &body, false)
        .await?
        .expect_json(200)
        .and_then(|v| {
            (v["ok"] == true)
                .then_some(())
                .ok_or_else(|| format!("validate answered {v} without `ok: true`"))
        })?;
    let done = active_sale(ctx, m, &body).await?;
    if done.to_string().contains("110105") {
        return Err("the order shows the ID number".into());
    }
    Ok(())
}

/// A typed ID in a China store: `422 id_capture_method_not_allowed`.
pub(crate) async fn manual_capture_refused(ctx: &Ctx) -> Result<(), String> {
    let m = market(ctx)?;
    let mut body = sale(m, &spare(m)?, &fresh_resident_id());
    body["subscriber"]["capture"] = json!({"method": "manual"});
    refused_both_ways(
        ctx,
        &body,
        422,
        "id_capture_method_not_allowed",
        Some("subscriber.capture.method"),
    )
    .await
    .map(drop)
}

/// No face match in a China store: `422 face_check_required`.
pub(crate) async fn face_evidence_required(ctx: &Ctx) -> Result<(), String> {
    let m = market(ctx)?;
    let mut body = sale(m, &spare(m)?, &fresh_resident_id());
    body["subscriber"]
        .as_object_mut()
        .map(|s| s.remove("evidence"));
    refused_both_ways(ctx, &body, 422, "face_check_required", None)
        .await
        .map(drop)
}

/// A clerk the registry does not know: `403 channel_not_registered` on `channel.staff_id`.
pub(crate) async fn unregistered_clerk_refused(ctx: &Ctx) -> Result<(), String> {
    let m = market(ctx)?;
    let mut body = sale(m, &spare(m)?, &fresh_resident_id());
    body["channel"]["staff_id"] = json!(format!("nobody-{}", crate::suite::ctx::random_hex(4)));
    refused_both_ways(
        ctx,
        &body,
        403,
        "channel_not_registered",
        Some("channel.staff_id"),
    )
    .await
    .map(drop)
}

/// A clerk switched off by the operator is refused on the next order
/// (`channel_disabled`), and accepted again once switched back on.
pub(crate) async fn kill_switch(ctx: &Ctx) -> Result<(), String> {
    let m = market(ctx)?;
    let clerk = format!("conf-{}", crate::suite::ctx::random_hex(4));
    let path = format!("/v1/channels/clerks/{STORE}/{clerk}");
    let (on, off) = (json!({"status": "enabled"}), json!({"status": "disabled"}));
    let put = |body| ctx.send(Method::PUT, &path, Auth::Key(&m.api_key), Some(body));
    put(&on).await?.expect_json(200)?;
    let mut body = sale(m, &spare(m)?, &fresh_resident_id());
    body["channel"]["staff_id"] = json!(clerk);
    post(ctx, "/v1/activations/validate", &body, false)
        .await?
        .expect_json(200)?;
    put(&off).await?.expect_json(200)?;
    refused_both_ways(
        ctx,
        &body,
        403,
        "channel_disabled",
        Some("channel.staff_id"),
    )
    .await?;
    put(&on).await?.expect_json(200)?;
    post(ctx, "/v1/activations/validate", &body, false)
        .await?
        .expect_json(200)
        .map(drop)
}

/// One ID opens five lines; the sixth is refused with `id_quota_exceeded` (`limit` 5,
/// `active` 5).
pub(crate) async fn five_lines_per_id(ctx: &Ctx) -> Result<(), String> {
    let m = market(ctx)?;
    let id = fresh_resident_id();
    for n in 1..=5 {
        post(ctx, "/v1/activations", &sale(m, &m.sims.take()?, &id), true)
            .await?
            .expect_json(202)
            .map_err(|e| format!("line {n} of one ID: {e}"))?;
    }
    let p = refused_both_ways(
        ctx,
        &sale(m, &spare(m)?, &id),
        422,
        "id_quota_exceeded",
        None,
    )
    .await?;
    if p["limit"] != 5 || p["active"] != 5 {
        return Err(format!(
            "expected `limit` 5 and `active` 5, got {} and {}",
            p["limit"], p["active"]
        ));
    }
    Ok(())
}

/// A blocklisted handset (operator key) is refused with a neutral `403 blocked` that
/// does not name the list; ending the entry lets the same sale through.
pub(crate) async fn blocklisted_imei(ctx: &Ctx) -> Result<(), String> {
    let m = market(ctx)?;
    let imei = fresh_imei();
    block_imei(ctx, m, &imei).await?;
    let mut body = sale(m, &spare(m)?, &fresh_resident_id());
    body["channel"]["imei"] = json!(imei);
    let p = refused_both_ways(ctx, &body, 403, "blocked", None).await?;
    let text = p.to_string().to_lowercase();
    if text.contains("imei") || text.contains("blocklist") {
        return Err(format!("the `blocked` answer names the list: {p}"));
    }
    ctx.send(
        Method::DELETE,
        &format!("/v1/blocklists/imei/{imei}"),
        Auth::Key(&m.api_key),
        None,
    )
    .await?
    .expect_status(204)?;
    post(ctx, "/v1/activations/validate", &body, false)
        .await?
        .expect_json(200)
        .map(drop)
}

/// A random 15-digit IMEI (a fresh handset per run).
fn fresh_imei() -> String {
    let r = random_bytes(7);
    std::iter::once('3')
        .chain(
            r.iter()
                .flat_map(|b| [b / 16 % 10, b % 16 % 10])
                .map(|d| char::from(b'0' + d)),
        )
        .take(15)
        .collect()
}

/// Puts `imei` on the market tenant's blocklist for 30 days (operator key).
async fn block_imei(ctx: &Ctx, m: &MarketCtx, imei: &str) -> Result<(), String> {
    let added = ctx
        .send(
            Method::POST,
            "/v1/blocklists",
            Auth::Key(&m.api_key),
            Some(&json!({"list": "imei", "value": imei, "days": 30, "reason": "conformance: reported stolen"})),
        )
        .await?
        .expect_json(201)?;
    if added["active"] != true {
        return Err(format!("the new entry is not in force: {added}"));
    }
    Ok(())
}

/// The network's handset feed: the first report of a line's handset is its baseline,
/// another handset is a change (no rule: `imei_change` is off in `cn`) and the same
/// report again records nothing; a handset on the blocklist hits `blocked_imei` and puts
/// the line in `pending_verification`; no answer shows the IMEI.
pub(crate) async fn handset_feed(ctx: &Ctx) -> Result<(), String> {
    let m = market(ctx)?;
    let done = active_sale(ctx, m, &sale(m, &m.sims.take()?, &fresh_resident_id())).await?;
    let msisdn = done["msisdn"]
        .as_str()
        .ok_or("an active sale without `msisdn`")?;
    let path = format!("/v1/subscriptions/{msisdn}/handset");
    let report = |imei: String| {
        let path = path.clone();
        async move {
            let answer = post(ctx, &path, &json!({ "imei": imei }), false)
                .await?
                .expect_json(200)?;
            if answer.to_string().contains(&imei[..14]) {
                return Err(format!("the answer shows the IMEI: {answer}"));
            }
            Ok::<Value, String>(answer)
        }
    };
    let first = report(fresh_imei()).await?;
    if first["report"] != json!({"recorded": true, "changed": false, "rules": []}) {
        return Err(format!("the first report is the baseline: {first}"));
    }
    let imei = fresh_imei();
    let second = report(imei.clone()).await?;
    if second["report"] != json!({"recorded": true, "changed": true, "rules": []}) {
        return Err(format!(
            "another handset, not blocklisted (`imei_change` is off in `cn`): {second}"
        ));
    }
    let again = report(imei).await?;
    if again["report"]["recorded"] != false {
        return Err(format!(
            "the same handset again recorded something: {again}"
        ));
    }
    let stolen = fresh_imei();
    block_imei(ctx, m, &stolen).await?;
    let flagged = report(stolen.clone()).await?;
    ctx.send(
        Method::DELETE,
        &format!("/v1/blocklists/imei/{stolen}"),
        Auth::Key(&m.api_key),
        None,
    )
    .await?
    .expect_status(204)?;
    let rules = &flagged["verification"]["rules"];
    let hit = rules
        .as_array()
        .is_some_and(|r| r.iter().any(|x| x == "blocked_imei"));
    if flagged["report"]["rules"] != json!(["blocked_imei"])
        || flagged["state"] != "pending_verification"
        || !hit
    {
        return Err(format!(
            "a blocklisted handset did not flag the line: {flagged}"
        ));
    }
    Ok(())
}

/// Second real-person verification put to the verifier by the gateway: the identity
/// simulator is told to flag the next check of a fresh ID, so its sale opens
/// `pending_verification`; a verification without the store's face match is refused and
/// changes nothing; with it (and no `result`), the gateway asks the verifier, which
/// passes it, and the line is clear.
pub(crate) async fn second_verification_by_the_verifier(ctx: &Ctx) -> Result<(), String> {
    let m = market(ctx)?;
    let admin = ctx
        .identity
        .as_ref()
        .ok_or("no `identity_simulator.admin` in sandbox.json")?;
    let id = fresh_resident_id();
    let rule = json!({"action": "flag", "code": "conformance_flag", "id_number": id});
    admin
        .call(Method::POST, "rules", Some(rule.to_string().into_bytes()))
        .await?
        .expect_status(204)?;
    let done = active_sale(ctx, m, &sale(m, &m.sims.take()?, &id)).await?;
    let msisdn = done["msisdn"]
        .as_str()
        .ok_or("an active sale without `msisdn`")?;
    let line_path = format!("/v1/subscriptions/{msisdn}");
    let line = ctx
        .get(&line_path, Auth::Key(&m.api_key))
        .await?
        .expect_json(200)?;
    if line["state"] != "pending_verification" {
        return Err(format!(
            "a flagged sale's line is not pending verification: {line}"
        ));
    }
    let verify_path = format!("{line_path}/verification");
    let channel =
        json!({"kind": "store", "store_id": STORE, "terminal_id": TERMINAL, "staff_id": CLERK});
    let no_face = json!({"evidence": {"risk_notice": {"id": "conf-rn-1"}}, "channel": channel});
    let p = ctx
        .send(
            Method::POST,
            &verify_path,
            Auth::Key(&m.api_key),
            Some(&no_face),
        )
        .await?
        .expect_problem(400, "missing_field")?;
    expect_field(&p, "evidence.face_match")?;
    let face = json!({"transaction_id": format!("conf-{}", crate::suite::ctx::random_hex(8)), "score": 0.95, "liveness": true});
    let body = json!({"evidence": {"risk_notice": {"id": "conf-rn-1"}, "face_match": face}, "channel": channel});
    let answer = ctx
        .send(
            Method::POST,
            &verify_path,
            Auth::Key(&m.api_key),
            Some(&body),
        )
        .await?
        .expect_json(200)?;
    if answer["verifier"]["outcome"] != "pass" || answer["verification"]["state"] != "clear" {
        return Err(format!(
            "the verifier's pass did not clear the line: {answer}"
        ));
    }
    if answer["state"] != "active" {
        return Err(format!(
            "the line is not in service after passing: {answer}"
        ));
    }
    Ok(())
}
