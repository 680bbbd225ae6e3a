//! Administrative operations shared by the sandbox, the CLI and tests: tenants, API keys,
//! and loading SIMs and number blocks. Keys are sealed here, before anything reaches the
//! store.

use crate::crypto::{CryptoError, Keyring, base32, sha256};
use crate::store::{
    AdminChange, AdminOutcome, ApiKeyRecord, SimRecord, SimState, Store, StoreError,
};
use sim_profiles::{Iccid, Imsi, Key128};

/// Why an administrative operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Sealing failed.
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// The store refused the change (nothing applied).
    #[error("refused: {0}")]
    Refused(String),
}

/// A SIM as delivered by the card vendor, keys in clear (in memory only).
pub struct NewSim {
    /// Card id.
    pub iccid: Iccid,
    /// Card IMSI.
    pub imsi: Imsi,
    /// Subscriber key.
    pub ki: Key128,
    /// Per-card OPc, if given.
    pub opc: Option<Key128>,
}

/// Seals a vendor SIM into a store record.
pub fn seal_sim(
    keys: &Keyring,
    tenant: &str,
    batch: &str,
    sim: &NewSim,
) -> Result<SimRecord, CryptoError> {
    Ok(SimRecord {
        iccid: sim.iccid.clone(),
        imsi: sim.imsi.clone(),
        tenant: tenant.to_owned(),
        state: SimState::Available,
        ki: keys.seal(&format!("sim/{}/ki", sim.iccid), sim.ki.expose())?,
        opc: sim
            .opc
            .as_ref()
            .map(|o| keys.seal(&format!("sim/{}/opc", sim.iccid), o.expose()))
            .transpose()?,
        batch: batch.to_owned(),
    })
}

/// Applies a change, turning a refusal into an error.
pub async fn apply(store: &dyn Store, change: AdminChange) -> Result<(), AdminError> {
    match store.admin(change).await? {
        AdminOutcome::Applied => Ok(()),
        AdminOutcome::Refused(why) => Err(AdminError::Refused(why)),
    }
}

/// Generates an API key `sk_<tenant>_<32 base32 chars>` and the change that registers its
/// hash. The clear key is returned once and never stored.
pub fn new_api_key(
    keys: &Keyring,
    tenant: &str,
    label: &str,
    now_ms: u64,
) -> Result<(String, AdminChange), CryptoError> {
    let mut raw = [0u8; 20];
    keys.random(&mut raw)?;
    let key = format!("sk_{tenant}_{}", base32(&raw));
    let record = ApiKeyRecord {
        tenant: tenant.to_owned(),
        prefix: key.chars().take(tenant.len() + 8).collect(),
        label: label.to_owned(),
        created_at_ms: now_ms,
    };
    Ok((
        key.clone(),
        AdminChange::PutApiKey {
            hash: sha256(key.as_bytes()),
            record,
        },
    ))
}
