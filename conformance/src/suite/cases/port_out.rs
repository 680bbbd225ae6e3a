//! `porting.port_out_driven_by_the_hub`: the gateway as the donor, driven the way a
//! national hub would drive it, against the sandbox's `uk` market tenant. A line is
//! opened, its PAC issued through the API; the hub (its simulator's admin API) asks for
//! the number with that PAC; the gateway answers on its own, the port is scheduled, and
//! when the hub's clock reaches the cutover the line leaves the network: the order ends
//! `completed`, the line `terminated`, the card `retired`, the number is in no
//! quarantine of ours, and no event carries the PAC.

use crate::suite::ctx::{Auth, Ctx, MarketCtx};
use serde_json::{Value, json};

/// Five days of hub time: past any UK lock point and cutover.
const PAST_CUTOVER_MS: u64 = 5 * 86_400_000;

fn uk(ctx: &Ctx) -> Result<&MarketCtx, String> {
    ctx.uk
        .as_ref()
        .ok_or_else(|| "no `markets.uk` tenant in sandbox.json".to_owned())
}

/// Polls `GET /v1/ports` until a port-out of `number` is listed; returns its order id.
async fn listed_port_out(ctx: &Ctx, m: &MarketCtx, number: &str) -> Result<String, String> {
    for _ in 0..500 {
        let listed = ctx
            .get("/v1/ports", Auth::Key(&m.api_key))
            .await?
            .expect_json(200)?;
        let found = listed["data"].as_array().and_then(|d| {
            d.iter()
                .find(|p| {
                    p["number"] == number
                        && p["status"]
                            .as_str()
                            .is_some_and(|s| s.starts_with("port_out"))
                })
                .and_then(|p| p["id"].as_str().map(str::to_owned))
        });
        if let Some(id) = found {
            return Ok(id);
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    Err(format!(
        "no port-out of {number} listed under GET /v1/ports"
    ))
}

pub(crate) async fn port_out_driven_by_the_hub(ctx: &Ctx) -> Result<(), String> {
    let m = uk(ctx)?;
    let hub = ctx
        .porting
        .as_ref()
        .ok_or("no `porting_simulator.admin` in sandbox.json")?;
    let iccid = m.sims.take()?;
    let body = json!({
        "sim": {"type": "physical", "iccid": iccid},
        "product": m.product,
        "channel": {"kind": "store", "store_id": "SZ-0042", "terminal_id": "T7", "staff_id": "C1"},
        "msisdn": {"mode": "auto"}
    });
    let key = ctx.idempotency_key();
    let created = ctx
        .post_json(
            "/v1/activations",
            Auth::Key(&m.api_key),
            Some(&key),
            body.to_string(),
        )
        .await?
        .expect_json(202)?;
    let id = created["id"].as_str().ok_or("202 without `id`")?;
    let line = ctx
        .poll_as(
            &m.api_key,
            &format!("/v1/activations/{id}"),
            &["active", "failed"],
        )
        .await?;
    if line["status"] != "active" {
        return Err(format!("the line did not open: {}", line["error"]));
    }
    let msisdn = line["msisdn"].as_str().ok_or("no `msisdn`")?.to_owned();
    let auth = json!({"authentication": {"method": "sms_otp", "reference": "conformance"}});
    let issued = post_as(
        ctx,
        m,
        &format!("/v1/subscriptions/{msisdn}/port-out-credential"),
        &auth,
    )
    .await?
    .expect_json(201)?;
    let pac = issued["credential"]
        .as_str()
        .ok_or("no `credential`")?
        .to_owned();

    let port_ref = hub.port_out("uk", &msisdn, &pac).await?;
    let order_id = listed_port_out(ctx, m, &msisdn).await?;
    let path = format!("/v1/orders/{order_id}");
    let accepted = ctx
        .poll_as(
            &m.api_key,
            &path,
            &[
                "port_out_accepted",
                "port_out_locked",
                "port_out_deprovisioning",
                "completed",
                "failed",
                "port_out_rejected",
            ],
        )
        .await?;
    if !matches!(
        accepted["status"].as_str(),
        Some("port_out_accepted" | "port_out_locked" | "port_out_deprovisioning" | "completed")
    ) {
        return Err(format!("our own PAC was not accepted: {accepted}"));
    }
    hub.advance(PAST_CUTOVER_MS).await?;
    let done = ctx
        .poll_as(
            &m.api_key,
            &path,
            &[
                "completed",
                "failed",
                "port_out_rejected",
                "port_out_cancelled",
                "port_out_expired",
            ],
        )
        .await?;
    if done["status"] != "completed" || done["kind"] != "port_out" {
        return Err(format!("the port-out did not complete: {done}"));
    }
    let at_hub = hub.port(&port_ref).await?;
    if at_hub["state"] != "completed" {
        return Err(format!("the hub's port is `{}`", at_hub["state"]));
    }
    check_line_gone(ctx, m, &msisdn, &iccid, &pac).await
}

/// After a completed port-out: the line ended, its card retired, its number in none of
/// our quarantines, the PAC in no event.
async fn check_line_gone(
    ctx: &Ctx,
    m: &MarketCtx,
    msisdn: &str,
    iccid: &str,
    pac: &str,
) -> Result<(), String> {
    let key = Auth::Key(&m.api_key);
    let sub = ctx.get(&format!("/v1/subscriptions/{msisdn}"), key).await?;
    if sub.status() != 404 {
        let v: Value = sub.expect_json(200)?;
        if v["state"] != "terminated" {
            return Err(format!("the line is `{}` after its port-out", v["state"]));
        }
    }
    let sim = ctx
        .get(&format!("/v1/sims/{iccid}"), key)
        .await?
        .expect_json(200)?;
    if sim["state"] != "retired" {
        return Err(format!(
            "SIM {iccid} is `{}` after its port-out",
            sim["state"]
        ));
    }
    let quarantine = ctx
        .get("/v1/numbers/quarantine", key)
        .await?
        .expect_json(200)?;
    if quarantine.to_string().contains(msisdn) {
        return Err(format!(
            "{msisdn} was quarantined as ours after porting out"
        ));
    }
    let events = ctx
        .get("/v1/events?type=port_out.completed&limit=1000", key)
        .await?
        .expect_json(200)?;
    if !events.to_string().contains(msisdn) {
        return Err("no `port_out.completed` event for the line".into());
    }
    let all = ctx
        .get("/v1/events?limit=1000", key)
        .await?
        .expect_json(200)?;
    if all.to_string().contains(pac) {
        return Err("the PAC appears in an event".into());
    }
    Ok(())
}

async fn post_as(
    ctx: &Ctx,
    m: &MarketCtx,
    path: &str,
    body: &Value,
) -> Result<crate::suite::reply::Reply, String> {
    ctx.post_json(path, Auth::Key(&m.api_key), None, body.to_string())
        .await
}
