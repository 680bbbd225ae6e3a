//! The sandbox's market tenants (contract: `markets` in `sandbox.json`): one tenant per
//! market with that market's strict defaults, beside the permissive `sandbox` tenant, so
//! each rule set can be tried. Each has an operator key, its own SIMs and numbers, and a
//! registered store `SZ-0042` with terminal `T7`, clerk `C1` and ID reader `R-1`.
//! Seeded once per data directory (a sealed marker), like the sandbox tenant.

use crate::admin::{self, AdminError, NewSim};
use crate::compliance::audit::Actor;
use crate::compliance::channel::{Member, Registration};
use crate::compliance::overrides::{BurstSetting, Limit, Off, RiskOverride, VelocityOverride};
use crate::compliance::policy::StoreHours;
use crate::compliance::{Market, PolicyOverride};
use crate::crypto::Keyring;
use crate::store::{
    AdminChange, ComplianceChange, ComplianceChangeOutcome, Product, RegistryEntry, Role,
    StoreAdmin, Tenant,
};
use serde::{Deserialize, Serialize};
use sim_profiles::Iccid;
use std::collections::BTreeMap;

/// Metadata key of the sealed marker naming the market tenants' keys.
const MARKER: &str = crate::store::SANDBOX_MARKETS_MARKER;
/// Physical SIMs per market tenant.
pub const SIMS: u32 = 200;
/// Numbers per market tenant.
const NUMBERS: u64 = 1000;
/// The registered store, terminal, clerk and reader of every market tenant.
pub const STORE: &str = "SZ-0042";
/// The registered terminal.
pub const TERMINAL: &str = "T7";
/// The registered clerk.
pub const CLERK: &str = "C1";
/// The registered ID-card reader.
pub const READER: &str = "R-1";

/// One market tenant as `sandbox.json` lists it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MarketTenant {
    /// Tenant id (`sandbox-cn`, …).
    pub tenant: String,
    /// Its operator key.
    pub api_key: String,
    /// Physical SIMs available when the file was written.
    pub physical_iccids: Vec<String>,
    /// Product code.
    pub product: String,
    /// The registered store channel to name in orders.
    pub store: StoreIds,
}

/// The registered store channel of a market tenant.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoreIds {
    /// `channel.store_id`.
    pub store_id: String,
    /// `channel.terminal_id`.
    pub terminal_id: String,
    /// `channel.staff_id`.
    pub staff_id: String,
    /// `subscriber.capture.reader_serial`.
    pub reader_serial: String,
    /// The PIN of clerk `staff_id` on the store terminal (`/terminal/`).
    #[serde(default)]
    pub clerk_pin: String,
    /// Every clerk of the store and their PINs.
    #[serde(default)]
    pub clerks: BTreeMap<String, String>,
}

/// The seeded markets: (market, tenant, IMSI digits after the PLMN, ICCID issuer digits,
/// first number). IMSI digits 0, 1, 4 to 8 belong to the sandbox tenant, its eSIM
/// profiles, the README's batch, test tenants and the bench; 98 to the API document's
/// import example (`api/openapi/examples.rs`). A data dir seeded before a
/// market was added keeps the markets it had (`sandbox reset` seeds them all).
const SEEDED: [(Market, &str, &str, &str, &str); 4] = [
    (
        Market::Cn,
        "sandbox-cn",
        "2",
        "898600990020",
        "8617100000000",
    ),
    (
        Market::Uk,
        "sandbox-uk",
        "3",
        "894400990030",
        "447700900000",
    ),
    (
        Market::Us,
        "sandbox-us",
        "90",
        "890100990040",
        "15555500000",
    ),
    (
        Market::EuFr,
        "sandbox-fr",
        "91",
        "893300990050",
        "33612000000",
    ),
];

/// How many market tenants the sandbox seeds.
pub const MARKETS: u32 = SEEDED.len() as u32;

#[derive(Serialize, Deserialize)]
struct Marker {
    keys: BTreeMap<String, String>,
}

/// Seeds the market tenants once; returns each market's tenant and operator key.
pub async fn seed(
    store: &dyn StoreAdmin,
    keys: &Keyring,
    now_ms: u64,
) -> Result<BTreeMap<String, (String, String)>, AdminError> {
    let refused = |e: &dyn std::fmt::Display| AdminError::Refused(format!("sandbox markets: {e}"));
    if let Some(sealed) = store.meta(MARKER).await? {
        let sealed = serde_json::from_slice(&sealed).map_err(|e| refused(&e))?;
        let clear = keys.open(MARKER, &sealed)?;
        let m: Marker = serde_json::from_slice(&clear).map_err(|e| refused(&e))?;
        return Ok(SEEDED
            .iter()
            .filter_map(|(market, tenant, ..)| {
                let key = m.keys.get(*tenant)?;
                Some((
                    market.as_str().to_owned(),
                    (tenant.to_string(), key.clone()),
                ))
            })
            .collect());
    }
    // The registry first: its puts are idempotent, so a crash before the marker below
    // only repeats them at the next start.
    for (_, tenant, ..) in SEEDED {
        register_store(store, tenant, now_ms).await?;
    }
    let mut changes = Vec::new();
    let mut out = BTreeMap::new();
    let mut marker = Marker {
        keys: BTreeMap::new(),
    };
    for (market, tenant, imsi_prefix, issuer, first) in SEEDED {
        // 15 digits: the PLMN's five, the prefix, the card's sequence.
        let width = 10 - imsi_prefix.len();
        let mut t = Tenant::new(
            tenant,
            &format!("simgw sandbox MVNO ({})", market.as_str()),
            crate::sandbox::PLMN.parse().map_err(|e| refused(&e))?,
            BTreeMap::from([(
                crate::sandbox::PRODUCT.to_owned(),
                Product::new(crate::sandbox::HLR_PROFILE_ID),
            )]),
        );
        t.market = Some(market);
        t.compliance = Some(Box::new(sandbox_override(market)));
        let (key, key_change) =
            admin::new_api_key(keys, tenant, Role::Operator, "sandbox-market", now_ms)?;
        let mut sims = Vec::new();
        for i in 0..SIMS {
            let sim = NewSim {
                iccid: Iccid::from_payload(&format!("{issuer}{i:06}")).map_err(|e| refused(&e))?,
                imsi: format!("{}{imsi_prefix}{i:0width$}", crate::sandbox::PLMN)
                    .parse()
                    .map_err(|e| refused(&e))?,
                ki: crate::sandbox::random_key(keys)?,
                opc: Some(crate::sandbox::random_key(keys)?),
            };
            sims.push(admin::seal_sim(keys, tenant, "sandbox-market", &sim)?);
        }
        changes.extend([
            AdminChange::PutTenant(t),
            key_change,
            AdminChange::AddSims(sims),
            AdminChange::AddNumbers {
                tenant: tenant.into(),
                block: format!("{tenant}-numbers"),
                first: first.parse().map_err(|e| refused(&e))?,
                count: NUMBERS,
            },
        ]);
        marker.keys.insert(tenant.to_owned(), key.clone());
        out.insert(market.as_str().to_owned(), (tenant.to_owned(), key));
    }
    let clear = zeroize::Zeroizing::new(serde_json::to_vec(&marker).map_err(|e| refused(&e))?);
    let sealed = serde_json::to_vec(&keys.seal(MARKER, &clear)?).map_err(|e| refused(&e))?;
    changes.push(AdminChange::PutMeta {
        key: MARKER.into(),
        value: sealed,
    });
    admin::apply(store, AdminChange::Batch(changes)).await?;
    Ok(out)
}

/// What the sandbox relaxes of a market's defaults, so that a test rig can run hundreds
/// of orders through the one registered store: the store, clerk and device windows are a
/// hundred times wider, the per-ID 30-day window and the store-burst risk rule are off,
/// and a breach freezes nothing. Every other rule is the market's own.
pub fn sandbox_override(market: Market) -> PolicyOverride {
    let p = crate::compliance::Policy::for_market(market);
    let wide = |l: Option<u32>| l.map(|n| Limit::At(n.saturating_mul(100)));
    PolicyOverride {
        velocity: VelocityOverride {
            store_per_day: wide(p.velocity.store_per_day),
            clerk_per_hour: wide(p.velocity.clerk_per_hour),
            device_per_hour: wide(p.velocity.device_per_hour),
            id_per_30_days: Some(Limit::Off(Off::Off)),
            freeze_on_breach: Some(false),
        },
        risk: RiskOverride {
            store_burst: Some(BurstSetting::Off(Off::Off)),
            ..RiskOverride::default()
        },
        ..PolicyOverride::default()
    }
}

/// Registers store `SZ-0042` (open 08:00 to 22:00, UTC+8), its terminal, clerk and reader.
async fn register_store(
    store: &dyn StoreAdmin,
    tenant: &str,
    now_ms: u64,
) -> Result<(), AdminError> {
    let entry = |member, id: &str, hours| RegistryEntry {
        member,
        store: STORE.to_owned(),
        id: id.to_owned(),
        status: Registration::Enabled,
        label: Some(format!("sandbox {}", member.as_str())),
        hours,
        updated_at_ms: now_ms,
    };
    let hours = StoreHours {
        open_min: 8 * 60,
        close_min: 22 * 60,
        utc_offset_min: 8 * 60,
    };
    let actor = Actor {
        key_id: "sandbox".to_owned(),
        channel: "cli".to_owned(),
        ..Actor::default()
    };
    for e in [
        entry(Member::Store, STORE, Some(hours)),
        entry(Member::Terminal, TERMINAL, None),
        entry(Member::Clerk, CLERK, None),
        entry(Member::Reader, READER, None),
    ] {
        let audit = e.audit(tenant, actor.clone());
        let change = ComplianceChange::PutRegistry {
            tenant: tenant.to_owned(),
            entry: e,
        };
        match store.compliance_change(change, audit).await? {
            ComplianceChangeOutcome::Applied => {}
            other => {
                return Err(AdminError::Refused(format!(
                    "sandbox markets: registering the store: {other:?}"
                )));
            }
        }
    }
    Ok(())
}

/// The `markets` member of `sandbox.json`.
pub async fn describe(
    store: &dyn StoreAdmin,
    seeded: &BTreeMap<String, (String, String)>,
) -> Result<BTreeMap<String, MarketTenant>, crate::store::StoreError> {
    let mut out = BTreeMap::new();
    for (market, (tenant, key)) in seeded {
        let physical_iccids = store
            .available_sims(tenant, usize::MAX)
            .await?
            .iter()
            .map(|i| i.to_string())
            .collect();
        out.insert(
            market.clone(),
            MarketTenant {
                tenant: tenant.clone(),
                api_key: key.clone(),
                physical_iccids,
                product: crate::sandbox::PRODUCT.to_owned(),
                store: StoreIds {
                    store_id: STORE.to_owned(),
                    terminal_id: TERMINAL.to_owned(),
                    staff_id: CLERK.to_owned(),
                    reader_serial: READER.to_owned(),
                    clerk_pin: crate::sandbox_terminal::PINS[0].1.to_owned(),
                    clerks: crate::sandbox_terminal::clerk_pins(),
                },
            },
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sandbox_relaxes_only_the_windows_and_the_burst() {
        for (market, ..) in SEEDED {
            let strict = crate::compliance::Policy::for_market(market);
            let p = crate::compliance::resolve(market, &sandbox_override(market))
                .expect("the sandbox override resolves");
            assert_eq!(p.velocity.id_per_30_days, None, "{market:?}");
            assert!(!p.velocity.freeze_on_breach, "{market:?}");
            assert_eq!(p.risk.store_burst, None, "{market:?}");
            assert_eq!(
                p.velocity.clerk_per_hour,
                strict.velocity.clerk_per_hour.map(|n| n * 100)
            );
            // Identity, capture, evidence, registry and the line limit stay the market's.
            assert_eq!(p.identity_required, strict.identity_required);
            assert_eq!(p.store, strict.store);
            assert_eq!(p.online, strict.online);
            assert_eq!(p.lines_per_id, strict.lines_per_id);
            assert_eq!(p.accepted_id_types, strict.accepted_id_types);
        }
    }
}
