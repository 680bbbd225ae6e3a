//! Where the sealed values of each record are, and how to re-seal them under the current
//! data key: what every backend's key rotation (`StoreAdmin::rewrap`) and key usage count
//! walk. Pure functions over records; a backend decides only how to read and write them.

use crate::crypto::{CryptoError, Keyring, Sealed};
use crate::order::{Order, confirmation_code_context, port_credential_context, subscriber_context};
use crate::store::{
    PortInboxItem, PortItemBody, SimRecord, StoreError, WebhookEndpoint, hub_message_context,
    secret_context,
};

/// The metadata values that are sealed (the sandbox marker), sealed under their own name.
pub const SEALED_META: &[&str] = &[
    crate::store::SANDBOX_MARKER,
    crate::store::SANDBOX_MARKETS_MARKER,
];

fn crypto(table: &'static str) -> impl Fn(CryptoError) -> StoreError {
    move |e| StoreError::Corrupt {
        table,
        message: format!("cannot re-seal: {e}"),
    }
}

/// Re-seals one value in place; true if it changed.
pub fn reseal(
    keys: &Keyring,
    ctx: &str,
    v: &mut Sealed,
    table: &'static str,
) -> Result<bool, StoreError> {
    match keys.reseal(ctx, v).map_err(crypto(table))? {
        Some(n) => {
            *v = n;
            Ok(true)
        }
        None => Ok(false),
    }
}

fn reseal_opt(
    keys: &Keyring,
    ctx: &str,
    v: &mut Option<Sealed>,
    table: &'static str,
) -> Result<bool, StoreError> {
    match v {
        Some(s) => reseal(keys, ctx, s, table),
        None => Ok(false),
    }
}

/// An order's sealed confirmation code, if it has one.
fn code(o: &Order) -> Option<&Sealed> {
    o.esim.as_ref().and_then(|e| e.confirmation_code.as_ref())
}

/// A SIM's sealed values (Ki, OPc).
pub fn of_sim(sim: &SimRecord) -> impl Iterator<Item = &Sealed> {
    std::iter::once(&sim.ki).chain(sim.opc.iter())
}

/// An order's sealed values (subscriber details, confirmation code, a port-in's
/// credential); an idempotency record's are those of its `response`.
pub fn of_order(o: &Order) -> impl Iterator<Item = &Sealed> {
    o.subscriber
        .iter()
        .chain(code(o))
        .chain(o.port.as_ref().map(|p| &p.credential))
}

/// A port item's sealed value (a hub message's raw body).
pub fn of_port_item(i: &PortInboxItem) -> Option<&Sealed> {
    match &i.body {
        PortItemBody::Hub { raw } => Some(raw),
        PortItemBody::Cancel | PortItemBody::Withdraw | PortItemBody::Reschedule { .. } => None,
    }
}

/// Re-seals a port item's sealed value; how many changed.
pub fn reseal_port_item(
    keys: &Keyring,
    i: &mut PortInboxItem,
    table: &'static str,
) -> Result<u64, StoreError> {
    let ctx = hub_message_context(&i.key);
    match &mut i.body {
        PortItemBody::Hub { raw } => reseal(keys, &ctx, raw, table).map(u64::from),
        PortItemBody::Cancel | PortItemBody::Withdraw | PortItemBody::Reschedule { .. } => Ok(0),
    }
}

/// An endpoint's sealed signing secrets.
pub fn of_endpoint(e: &WebhookEndpoint) -> impl Iterator<Item = &Sealed> {
    e.secrets.iter().map(|s| &s.sealed)
}

/// Re-seals a SIM's keys; how many changed.
pub fn reseal_sim(
    keys: &Keyring,
    sim: &mut SimRecord,
    table: &'static str,
) -> Result<u64, StoreError> {
    let a = reseal(
        keys,
        &crate::admin::sim_key_context(&sim.iccid, "ki"),
        &mut sim.ki,
        table,
    )?;
    let b = reseal_opt(
        keys,
        &crate::admin::sim_key_context(&sim.iccid, "opc"),
        &mut sim.opc,
        table,
    )?;
    Ok(u64::from(a) + u64::from(b))
}

/// Re-seals an order's sealed values (subscriber details, confirmation code, a port-in's
/// credential); how many changed.
pub fn reseal_order(keys: &Keyring, o: &mut Order, table: &'static str) -> Result<u64, StoreError> {
    let a = reseal_opt(keys, &subscriber_context(&o.id), &mut o.subscriber, table)?;
    let ctx = confirmation_code_context(&o.id);
    let b = match o.esim.as_mut() {
        Some(e) => reseal_opt(keys, &ctx, &mut e.confirmation_code, table)?,
        None => false,
    };
    let ctx = port_credential_context(&o.id);
    let c = match o.port.as_mut() {
        Some(p) => reseal(keys, &ctx, &mut p.credential, table)?,
        None => false,
    };
    Ok(u64::from(a) + u64::from(b) + u64::from(c))
}

/// Re-seals an endpoint's signing secrets; how many changed.
pub fn reseal_endpoint(
    keys: &Keyring,
    e: &mut WebhookEndpoint,
    table: &'static str,
) -> Result<u64, StoreError> {
    let ctx = secret_context(&e.id);
    let mut n = 0;
    for s in &mut e.secrets {
        n += u64::from(reseal(keys, &ctx, &mut s.sealed, table)?);
    }
    Ok(n)
}
