//! `lifecycle.*`: a line after day one. Suspension reasons stack (the line stays barred
//! while any holds), and a second operation on a busy line is refused.

use super::activation::str_field;
use crate::suite::ctx::{Auth, Ctx};
use serde_json::{Value, json};

/// Runs `op` on the line and waits for the order to end; it must complete.
async fn run(ctx: &Ctx, msisdn: &str, op: &str, body: Value) -> Result<Value, String> {
    let key = ctx.idempotency_key();
    let path = format!("/v1/subscriptions/{msisdn}/{op}");
    let order = ctx
        .post_json(&path, Auth::Tenant, Some(&key), body.to_string())
        .await?
        .expect_json(202)?;
    let id = str_field(&order, "id")?;
    let done = ctx.wait_order(id).await?;
    if done["status"] != "completed" {
        return Err(format!(
            "{op} on {msisdn} ended `{}`: {done}",
            done["status"]
        ));
    }
    Ok(done)
}

async fn line(ctx: &Ctx, msisdn: &str) -> Result<Value, String> {
    ctx.get(&format!("/v1/subscriptions/{msisdn}"), Auth::Tenant)
        .await?
        .expect_json(200)
}

/// Whether the HLR simulator (when present) shows `imsi` barred as `want`.
async fn check_barring(ctx: &Ctx, imsi: &str, want: bool) -> Result<(), String> {
    let Some(sim) = &ctx.simulator else {
        return Ok(());
    };
    let sub = sim
        .subscriber(imsi)
        .await?
        .ok_or_else(|| format!("the HLR has no IMSI {imsi}"))?;
    let barred = sub.hlr.as_ref().map(|h| (h.obo, h.obi));
    if barred != Some((want, want)) {
        return Err(format!(
            "HLR barring of {imsi} is {barred:?}, expected {want} for both"
        ));
    }
    Ok(())
}

/// Two reasons, lifted one at a time: the line is `suspended` (and barred) until the last
/// one goes, then `active` (and unbarred).
pub(crate) async fn stacked_suspension(ctx: &Ctx) -> Result<(), String> {
    let c = ctx.activate_next().await?;
    let done = ctx.wait_active(&c.id).await?;
    let msisdn = str_field(&done, "msisdn")?.to_owned();
    let imsi = str_field(&done, "imsi")?.to_owned();
    run(ctx, &msisdn, "suspend", json!({"reason": "non_payment"})).await?;
    run(ctx, &msisdn, "suspend", json!({"reason": "lost_or_stolen"})).await?;
    check_barring(ctx, &imsi, true).await?;
    run(ctx, &msisdn, "resume", json!({"reason": "non_payment"})).await?;
    let l = line(ctx, &msisdn).await?;
    if l["state"] != "suspended" || l["suspension_reasons"] != json!(["lost_or_stolen"]) {
        return Err(format!(
            "after lifting one of two reasons the line should stay suspended for `lost_or_stolen`: {l}"
        ));
    }
    check_barring(ctx, &imsi, true).await?;
    run(ctx, &msisdn, "resume", json!({"reason": "lost_or_stolen"})).await?;
    let l = line(ctx, &msisdn).await?;
    if l["state"] != "active" {
        return Err(format!(
            "after lifting the last reason the line should be active: {l}"
        ));
    }
    check_barring(ctx, &imsi, false).await
}

/// A resume of a reason not in force is refused and changes nothing.
pub(crate) async fn resume_without_reason_refused(ctx: &Ctx) -> Result<(), String> {
    let c = ctx.activate_next().await?;
    let done = ctx.wait_active(&c.id).await?;
    let msisdn = str_field(&done, "msisdn")?.to_owned();
    let key = ctx.idempotency_key();
    let r = ctx
        .post_json(
            &format!("/v1/subscriptions/{msisdn}/resume"),
            Auth::Tenant,
            Some(&key),
            json!({"reason": "non_payment"}).to_string(),
        )
        .await?;
    r.expect_problem(409, "suspension_reason_absent")?;
    let l = line(ctx, &msisdn).await?;
    if l["state"] != "active" || l["order_in_flight"] != Value::Null {
        return Err(format!("a refused resume changed the line: {l}"));
    }
    Ok(())
}
