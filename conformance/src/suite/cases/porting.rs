//! `porting.*`: port-in orders against the sandbox's `cn` market tenant (China: the line
//! waits for its number; the hub locks a port as soon as it schedules it, for the next
//! full hour). Local checks refuse before anything is reserved; an accepted port-in is a
//! `port_…` order the hub takes, listed under `GET /v1/ports`, with a timeline, and past
//! its lock point it can no longer be cancelled. Numbers are fresh per run.

use super::compliance::{active_sale, fresh_resident_id, market, post, sale, spare};
use crate::suite::ctx::{Auth, Ctx, random_bytes};
use crate::suite::reply::expect_field;
use http::Method;
use serde_json::{Value, json};

/// A mainland mobile number outside every non-portable block (86138…), fresh per run.
fn fresh_number() -> String {
    let r = random_bytes(4);
    let n = u32::from_be_bytes([r[0], r[1], r[2], r[3]]) % 100_000_000;
    format!("86138{n:08}")
}

fn port_in(body: &mut Value, number: &str, credential: &str) {
    body["msisdn"] =
        json!({"mode": "port_in", "number": number, "donor": "CMCC", "credential": credential});
}

/// Sends a port-in that must be refused with `code` on `field`; the card stays available.
async fn refused(
    ctx: &Ctx,
    number: &str,
    credential: &str,
    code: &str,
    field: &str,
) -> Result<(), String> {
    let m = market(ctx)?;
    let iccid = spare(m)?;
    let mut body = sale(m, &iccid, &fresh_resident_id());
    port_in(&mut body, number, credential);
    let p = post(ctx, "/v1/activations", &body, true)
        .await?
        .expect_problem(422, code)?;
    expect_field(&p, field)?;
    if p.to_string().contains(credential) && credential.len() > 2 {
        return Err(format!("the problem echoes the credential: {p}"));
    }
    let sim = ctx
        .get(&format!("/v1/sims/{iccid}"), Auth::Key(&m.api_key))
        .await?
        .expect_json(200)?;
    if sim["state"] != "available" {
        return Err(format!(
            "a refused port-in left SIM {iccid} `{}`",
            sim["state"]
        ));
    }
    Ok(())
}

/// China's MVNO blocks are never portable: `422 number_not_portable` before any hub call.
pub(crate) async fn unportable_number_refused(ctx: &Ctx) -> Result<(), String> {
    refused(
        ctx,
        "8617012345678",
        "AB12CD",
        "number_not_portable",
        "msisdn.number",
    )
    .await
}

/// A 授权码 in the wrong format: `422 credential_invalid` naming the field.
pub(crate) async fn credential_format_checked(ctx: &Ctx) -> Result<(), String> {
    refused(
        ctx,
        &fresh_number(),
        "!",
        "credential_invalid",
        "msisdn.credential",
    )
    .await
}

/// A valid port-in is accepted as a `port_…` order, reaches the hub, is listed as an
/// open port with its timeline, and past its lock point a cancel is `409 port_locked`.
pub(crate) async fn port_in_accepted_then_locked(ctx: &Ctx) -> Result<(), String> {
    let m = market(ctx)?;
    let number = fresh_number();
    let mut body = sale(m, &m.sims.take()?, &fresh_resident_id());
    port_in(&mut body, &number, "AB12CD");
    let order = post(ctx, "/v1/activations", &body, true)
        .await?
        .expect_json(202)?;
    if order["status"] != "port_validating" || order["port"]["number"] != number.as_str() {
        return Err(format!(
            "expected a port_validating order porting {number}: {order}"
        ));
    }
    if order.to_string().contains("AB12CD") {
        return Err("the order shows the credential".into());
    }
    let id = order["id"].as_str().ok_or("202 without `id`")?.to_owned();
    let path = format!("/v1/orders/{id}");
    let locked = ctx
        .poll_as(
            &m.api_key,
            &path,
            &[
                "port_locked",
                "port_activating",
                "active",
                "failed",
                "port_rejected",
            ],
        )
        .await?;
    if locked["status"] != "port_locked"
        && locked["status"] != "port_activating"
        && locked["status"] != "active"
    {
        return Err(format!(
            "the port ended `{}`: {}",
            locked["status"], locked["error"]
        ));
    }
    let timeline = locked["port"]["timeline"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let states: Vec<&str> = timeline
        .iter()
        .filter_map(|t| t["state"].as_str())
        .collect();
    if !states.contains(&"submitted") || locked["port"]["external_ref"].is_null() {
        return Err(format!("no hub submission on the timeline: {locked}"));
    }
    if locked["status"] == "port_locked" {
        let listed = ctx
            .get("/v1/ports?state=port_locked", Auth::Key(&m.api_key))
            .await?
            .expect_json(200)?;
        let found = listed["data"]
            .as_array()
            .is_some_and(|d| d.iter().any(|p| p["id"] == id.as_str()));
        if !found {
            return Err(format!(
                "GET /v1/ports?state=port_locked does not list {id}: {listed}"
            ));
        }
    }
    ctx.send(
        Method::POST,
        &format!("{path}/cancel"),
        Auth::Key(&m.api_key),
        None,
    )
    .await?
    .expect_problem(
        409,
        if locked["status"] == "active" {
            "order_finished"
        } else {
            "port_locked"
        },
    )
    .map(drop)
}

/// Port-out credentials: a body without the customer's authentication is `400
/// missing_field`, a number that is no line of ours `404 subscription_not_found`, and a
/// China line on an MVNO-block number (the sandbox `cn` pool) gets none: `422
/// number_not_portable`, the line unchanged.
pub(crate) async fn port_out_credential_checks(ctx: &Ctx) -> Result<(), String> {
    let m = market(ctx)?;
    let body = sale(m, &m.sims.take()?, &fresh_resident_id());
    let done = active_sale(ctx, m, &body).await?;
    let msisdn = done["msisdn"].as_str().ok_or("no `msisdn`")?.to_owned();
    // The line's state before the refusals: `active`, or `pending_verification` when
    // the sale hit a risk rule (a China sale outside store hours, for one).
    let before = line_state(ctx, m, &msisdn).await?;
    let path = |n: &str| format!("/v1/subscriptions/{n}/port-out-credential");
    let auth = json!({"authentication": {"method": "in_store_id_check"}});
    let p = post(ctx, &path(&msisdn), &json!({}), false)
        .await?
        .expect_problem(400, "missing_field")?;
    expect_field(&p, "authentication")?;
    post(ctx, &path(&fresh_number()), &auth, false)
        .await?
        .expect_problem(404, "subscription_not_found")?;
    post(ctx, &path(&msisdn), &auth, false)
        .await?
        .expect_problem(422, "number_not_portable")?;
    let after = line_state(ctx, m, &msisdn).await?;
    if after != before {
        return Err(format!(
            "the line went from `{before}` to `{after}` on refusals"
        ));
    }
    Ok(())
}

async fn line_state(
    ctx: &Ctx,
    m: &crate::suite::ctx::MarketCtx,
    msisdn: &str,
) -> Result<Value, String> {
    let line = ctx
        .get(
            &format!("/v1/subscriptions/{msisdn}"),
            Auth::Key(&m.api_key),
        )
        .await?
        .expect_json(200)?;
    Ok(line["state"].clone())
}
