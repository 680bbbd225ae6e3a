//! `input.*`: malformed or unknown input is refused with the documented problem, and
//! refusing it changes nothing (no order is created).

use super::{CREATED, no_order_created};
use crate::suite::ctx::{Auth, Ctx, random_hex};
use crate::suite::reply::expect_field;
use serde_json::{Value, json};
use sim_profiles::Iccid;

/// Above the README's 64 KiB bound on request bodies.
const TOO_LARGE: usize = 64 * 1024 + 1;

/// Posts `body` (with a fresh Idempotency-Key unless `with_key` is false), expects the
/// problem `status`/`code`, and checks no order was created.
async fn refused(
    ctx: &Ctx,
    with_key: bool,
    body: String,
    status: u16,
    code: &str,
) -> Result<Value, String> {
    let before = ctx.metric(CREATED).await?;
    let key = with_key.then(|| ctx.idempotency_key());
    let problem = ctx
        .post_activation(Auth::Tenant, key.as_deref(), body)
        .await?
        .expect_problem(status, code)?;
    no_order_created(ctx, before).await?;
    Ok(problem)
}

/// A valid body for a SIM that is not consumed (every request here is refused).
fn valid_body(ctx: &Ctx) -> Result<Value, String> {
    Ok(ctx.body(&ctx.spare_iccid()?))
}

/// No `Idempotency-Key`: 400 `idempotency_key_missing`.
pub(crate) async fn idempotency_key_missing(ctx: &Ctx) -> Result<(), String> {
    let body = valid_body(ctx)?.to_string();
    refused(ctx, false, body, 400, "idempotency_key_missing")
        .await
        .map(|_| ())
}

/// Truncated JSON: 400 `malformed_json`.
pub(crate) async fn malformed_json(ctx: &Ctx) -> Result<(), String> {
    refused(ctx, true, "{\"sim\": ".into(), 400, "malformed_json")
        .await
        .map(|_| ())
}

/// An unknown top-level field: 400 `unknown_field` naming it.
pub(crate) async fn unknown_field(ctx: &Ctx) -> Result<(), String> {
    let mut body = valid_body(ctx)?;
    body["surprise"] = json!(1);
    let p = refused(ctx, true, body.to_string(), 400, "unknown_field").await?;
    expect_field(&p, "surprise")
}

/// An ICCID whose Luhn digit is wrong: 400 `invalid_iccid` on `sim.iccid`, and the
/// detail does not echo the submitted value.
pub(crate) async fn invalid_iccid(ctx: &Ctx) -> Result<(), String> {
    let spare = ctx.spare_iccid()?;
    let bad = with_wrong_check_digit(&spare)
        .ok_or_else(|| format!("sandbox ICCID {spare} does not end in a digit"))?;
    let p = refused(ctx, true, ctx.body(&bad).to_string(), 400, "invalid_iccid").await?;
    expect_field(&p, "sim.iccid")?;
    if p["detail"].as_str().is_some_and(|d| d.contains(&bad)) {
        return Err("invalid_iccid: `detail` echoes the submitted ICCID".into());
    }
    Ok(())
}

/// `sim.iccid` as a number: 400 `invalid_type` on `sim.iccid`.
pub(crate) async fn invalid_type(ctx: &Ctx) -> Result<(), String> {
    let mut body = valid_body(ctx)?;
    body["sim"]["iccid"] = json!(42);
    let p = refused(ctx, true, body.to_string(), 400, "invalid_type").await?;
    expect_field(&p, "sim.iccid")
}

/// A body over 64 KiB: 413 `body_too_large`.
pub(crate) async fn body_too_large(ctx: &Ctx) -> Result<(), String> {
    let mut body = valid_body(ctx)?;
    body["product"] = json!("x".repeat(TOO_LARGE));
    refused(ctx, true, body.to_string(), 413, "body_too_large")
        .await
        .map(|_| ())
}

/// A valid ICCID that is not in the inventory: 422 `unknown_iccid`.
pub(crate) async fn unknown_iccid(ctx: &Ctx) -> Result<(), String> {
    let iccid =
        unlisted_iccid(&ctx.iccids).ok_or("could not make an ICCID outside sandbox.json's list")?;
    refused(
        ctx,
        true,
        ctx.body(&iccid).to_string(),
        422,
        "unknown_iccid",
    )
    .await
    .map(|_| ())
}

/// A product the tenant does not have: 422 `unknown_product`.
pub(crate) async fn unknown_product(ctx: &Ctx) -> Result<(), String> {
    let mut body = valid_body(ctx)?;
    body["product"] = json!(format!("conformance-unknown-{}", random_hex(6)));
    refused(ctx, true, body.to_string(), 422, "unknown_product")
        .await
        .map(|_| ())
}

/// `iccid` with its last (Luhn) digit changed, which always breaks the checksum.
pub(crate) fn with_wrong_check_digit(iccid: &str) -> Option<String> {
    let (payload, last) = iccid.split_at(iccid.len().checked_sub(1)?);
    let d = last.chars().next()?.to_digit(10)?;
    Some(format!("{payload}{}", (d + 1) % 10))
}

/// A Luhn-valid ICCID not in `known`. The `8999` prefix is far from any sandbox series,
/// so the gateway should hold no such card for any tenant (which would answer
/// `unknown_iccid (once sim_not_owned)` instead).
pub(crate) fn unlisted_iccid(known: &[String]) -> Option<String> {
    (0..1000u32)
        .filter_map(|i| Iccid::from_payload(&format!("8999{i:015}")).ok())
        .map(|i| i.as_str().to_owned())
        .find(|i| !known.contains(i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_check_digit_fails_luhn() {
        let good = Iccid::from_payload("8986009900000000001").expect("payload");
        let bad = with_wrong_check_digit(good.as_str()).expect("digit");
        assert_eq!(bad.len(), good.as_str().len());
        assert_ne!(bad, good.as_str());
        assert!(bad.parse::<Iccid>().is_err());
        assert!(with_wrong_check_digit("").is_none());
    }

    #[test]
    fn unlisted_iccid_is_valid_and_unlisted() {
        let first = unlisted_iccid(&[]).expect("some");
        assert!(first.parse::<Iccid>().is_ok());
        let second = unlisted_iccid(std::slice::from_ref(&first)).expect("another");
        assert_ne!(first, second);
        assert!(second.parse::<Iccid>().is_ok());
    }
}
