//! `activation.*`: the happy path, checked end to end (and on the HLR when observable).

use crate::suite::ctx::Ctx;
use serde_json::Value;

/// A physical SIM activation is accepted with the order's identifiers and reaches
/// `active`; with a simulator, the subscriber is on the HLR with its Ki masked.
pub(crate) async fn physical_reaches_active(ctx: &Ctx) -> Result<(), String> {
    let c = ctx.activate_next().await?;
    let accepted = &c.order;
    let imsi = str_field(accepted, "imsi")?;
    let msisdn = str_field(accepted, "msisdn")?;
    str_field(accepted, "status")?;
    if accepted["iccid"] != c.iccid.as_str() {
        return Err(format!(
            "202 `iccid` should be the requested {}, got {}",
            c.iccid, accepted["iccid"]
        ));
    }
    if !imsi.starts_with(&ctx.plmn) || !imsi.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "202 `imsi` {imsi} should be digits starting with the PLMN {}",
            ctx.plmn
        ));
    }
    let done = ctx.wait_active(&c.id).await?;
    for (key, want) in [("id", c.id.as_str()), ("imsi", imsi), ("msisdn", msisdn)] {
        if done[key] != want {
            return Err(format!(
                "active order `{key}` changed from {want} to {}",
                done[key]
            ));
        }
    }
    if let Some(sim) = &ctx.simulator {
        let sub = sim
            .subscriber(imsi)
            .await?
            .ok_or_else(|| format!("order {} is active but the HLR has no IMSI {imsi}", c.id))?;
        let on_hlr = sub
            .msisdn
            .as_deref()
            .or(sub.hlr.as_ref().map(|h| h.msisdn.as_str()));
        if on_hlr.map(digits) != Some(digits(msisdn)) {
            return Err(format!(
                "HLR subscriber {imsi} has MSISDN {on_hlr:?}, the order says {msisdn}"
            ));
        }
        match &sub.auc {
            Some(auc) if auc.ki == "***" => {}
            Some(_) => return Err(format!("HLR admin state shows {imsi}'s Ki unmasked")),
            None => return Err(format!("HLR subscriber {imsi} has no AUC entry")),
        }
    }
    Ok(())
}

/// A non-empty string field of an order.
pub(crate) fn str_field<'a>(order: &'a Value, key: &str) -> Result<&'a str, String> {
    order[key]
        .as_str()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| format!("order lacks a `{key}` string: {order}"))
}

/// The digits of an MSISDN (`+86…` and `86…` name the same number).
fn digits(s: &str) -> String {
    s.chars().filter(char::is_ascii_digit).collect()
}
