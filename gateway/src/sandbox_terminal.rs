//! The sandbox's store terminals (issue 13): every market tenant's store `SZ-0042` and,
//! for eSIM sales on the permissive tenant, the same store in the `sandbox` tenant, each
//! with terminal `T7`, reader `R-1` and clerks `C1` and `C2` whose PINs `sandbox.json`
//! lists. Checked at every start and added where missing, so a data directory seeded
//! before the terminal existed gains it.

use crate::admin::AdminError;
use crate::compliance::audit::{Actor, AuditRecord, Outcome};
use crate::compliance::channel::{Member, Registration};
use crate::sandbox_markets::{CLERK, READER, STORE, TERMINAL};
use crate::store::{
    ComplianceChange, ComplianceChangeOutcome, ComplianceQuery, RegistryEntry, StoreAdmin,
};
use crate::terminal::{pin, records};
use std::collections::BTreeMap;

/// The second clerk (the browser tests lock one clerk out and sell with the other).
pub const CLERK_2: &str = "C2";
/// The clerks' PINs in the sandbox.
pub const PINS: [(&str, &str); 2] = [(CLERK, "246810"), (CLERK_2, "135790")];

fn actor() -> Actor {
    Actor {
        key_id: "sandbox".to_owned(),
        channel: "cli".to_owned(),
        ..Actor::default()
    }
}

async fn apply(
    store: &dyn StoreAdmin,
    change: ComplianceChange,
    audit: AuditRecord,
) -> Result<(), AdminError> {
    match store.compliance_change(change, audit).await? {
        // Stale: a PIN another start set meanwhile (or kept from before).
        ComplianceChangeOutcome::Applied | ComplianceChangeOutcome::Stale => Ok(()),
        other => Err(AdminError::Refused(format!("sandbox terminal: {other:?}"))),
    }
}

/// Registers what `tenant`'s store lacks of its terminal, reader and clerks, and sets the
/// clerks' sandbox PINs where they have none. `salt` gives each new hash its salt.
pub async fn seed(
    store: &dyn StoreAdmin,
    tenant: &str,
    now_ms: u64,
    mut salt: impl FnMut() -> [u8; 16],
) -> Result<(), AdminError> {
    let q = ComplianceQuery {
        store: Some(STORE.to_owned()),
        ..ComplianceQuery::default()
    };
    let have = store.registry(tenant, &q).await?;
    let wanted = [
        (Member::Store, STORE),
        (Member::Terminal, TERMINAL),
        (Member::Reader, READER),
        (Member::Clerk, CLERK),
        (Member::Clerk, CLERK_2),
    ];
    for (member, id) in wanted {
        if have.iter().any(|e| e.member == member && e.id == id) {
            continue;
        }
        let entry = RegistryEntry {
            member,
            store: STORE.to_owned(),
            id: id.to_owned(),
            status: Registration::Enabled,
            label: Some(format!("sandbox {}", member.as_str())),
            hours: None,
            updated_at_ms: now_ms,
        };
        let audit = entry.audit(tenant, actor());
        let change = ComplianceChange::PutRegistry {
            tenant: tenant.to_owned(),
            entry,
        };
        apply(store, change, audit).await?;
    }
    for (clerk, pin_text) in PINS {
        let key = records::clerk_key(STORE, clerk);
        if store.terminal_record(tenant, &key).await?.is_some() {
            continue;
        }
        let hash = pin::hash(pin_text, salt())
            .ok_or_else(|| AdminError::Refused("sandbox terminal: PIN hash".into()))?;
        let mut cred = records::ClerkCredential::with_pin(None, hash);
        // C1 is the store's supervisor (after-sales); C2 sells.
        cred.supervisor = clerk == CLERK;
        let value = serde_json::to_vec(&cred).map_err(|e| AdminError::Refused(e.to_string()))?;
        let audit = AuditRecord {
            at_ms: now_ms,
            actor: actor(),
            action: "terminal.pin_set".to_owned(),
            outcome: Outcome::Record,
            attrs: vec![
                ("tenant".to_owned(), tenant.to_owned()),
                ("store".to_owned(), STORE.to_owned()),
                ("clerk".to_owned(), clerk.to_owned()),
            ],
            ..AuditRecord::default()
        };
        let change = ComplianceChange::TerminalSwap {
            tenant: tenant.to_owned(),
            key,
            expect: None,
            value: Some(value),
        };
        apply(store, change, audit).await?;
    }
    Ok(())
}

/// [`seed`] for the sandbox tenant and every market tenant.
pub async fn seed_all<'a>(
    store: &dyn StoreAdmin,
    keys: &crate::crypto::Keyring,
    market_tenants: impl Iterator<Item = &'a str>,
    now_ms: u64,
) -> Result<(), AdminError> {
    let salt = || {
        let mut s = [0u8; 16];
        // A failed system source leaves a zero salt: the sandbox's PINs are public anyway.
        let _ = keys.random(&mut s);
        s
    };
    for tenant in std::iter::once(crate::sandbox::TENANT).chain(market_tenants) {
        seed(store, tenant, now_ms, salt).await?;
    }
    Ok(())
}

/// The store terminal of a tenant as `sandbox.json` lists it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct TerminalInfo {
    /// The tenant (`simgw terminal pair --tenant`).
    pub tenant: String,
    /// The store (`--store`).
    pub store_id: String,
    /// The terminal (`--terminal`).
    pub terminal_id: String,
    /// Clerk id → PIN.
    pub clerks: BTreeMap<String, String>,
    /// The ID reader's serial.
    pub reader_serial: String,
}

/// The sandbox tenant's terminal.
pub fn describe() -> TerminalInfo {
    TerminalInfo {
        tenant: crate::sandbox::TENANT.to_owned(),
        store_id: STORE.to_owned(),
        terminal_id: TERMINAL.to_owned(),
        clerks: clerk_pins(),
        reader_serial: READER.to_owned(),
    }
}

/// The clerks and PINs `sandbox.json` lists.
pub fn clerk_pins() -> BTreeMap<String, String> {
    PINS.iter()
        .map(|(c, p)| ((*c).to_owned(), (*p).to_owned()))
        .collect()
}
