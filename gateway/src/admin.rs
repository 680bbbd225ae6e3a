//! Administrative operations shared by the sandbox, the CLI and tests: tenants, API keys,
//! and loading SIMs and number blocks. Keys are sealed here, before anything reaches the
//! store.

use crate::crypto::{CryptoError, Keyring, base32, sha256};
use crate::store::{
    AdminChange, AdminOutcome, ApiKeyRecord, Role, SimRecord, SimState, Store, StoreError,
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

/// The sealing context of a SIM's key (`ki` or `opc`): binds the ciphertext to its card,
/// so a sealed key cannot be moved to another SIM.
pub fn sim_key_context(iccid: &Iccid, which: &str) -> String {
    format!("sim/{iccid}/{which}")
}

/// Opens a stored SIM's Ki and OPc, in memory only (zeroised on drop). The error says
/// which key of which card failed, never its value.
pub fn open_sim_keys(keys: &Keyring, sim: &SimRecord) -> Result<(Key128, Option<Key128>), String> {
    let open = |which: &str, sealed: &crate::crypto::Sealed| -> Result<Key128, String> {
        let clear = keys
            .open(&sim_key_context(&sim.iccid, which), sealed)
            .map_err(|e| format!("{which} of {}: {e}", sim.iccid))?;
        let bytes: [u8; 16] = clear
            .as_slice()
            .try_into()
            .map_err(|_| format!("{which} of {} is not 16 bytes", sim.iccid))?;
        Ok(Key128::from_bytes(bytes))
    };
    Ok((
        open("ki", &sim.ki)?,
        sim.opc.as_ref().map(|o| open("opc", o)).transpose()?,
    ))
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
        ki: keys.seal(&sim_key_context(&sim.iccid, "ki"), sim.ki.expose())?,
        opc: sim
            .opc
            .as_ref()
            .map(|o| keys.seal(&sim_key_context(&sim.iccid, "opc"), o.expose()))
            .transpose()?,
        batch: batch.to_owned(),
        esim_profile_type: None,
    })
}

/// The state of every card of a batch as CSV (`iccid,imsi,state,activation_id`), never
/// keys; read page by page. Shared by the API export and `simgw inventory export`.
pub async fn batch_csv(store: &dyn Store, batch_id: &str) -> Result<String, StoreError> {
    let mut csv = String::from("iccid,imsi,state,activation_id\n");
    let mut after = String::new();
    loop {
        let page = store.batch_sims(batch_id, &after, 5_000).await?;
        for s in &page {
            let (state, order) = s.state.label();
            csv.push_str(&format!(
                "{},{},{state},{}\n",
                s.iccid,
                s.imsi,
                order.unwrap_or("")
            ));
        }
        match page.last() {
            Some(last) => after = last.iccid.to_string(),
            None => return Ok(csv),
        }
    }
}

/// Applies a change, turning a refusal into an error.
pub async fn apply(store: &dyn Store, change: AdminChange) -> Result<(), AdminError> {
    match store.admin(change).await? {
        AdminOutcome::Applied => Ok(()),
        AdminOutcome::Refused(why) => Err(AdminError::Refused(why)),
    }
}

/// Generates an API key `sk_<tenant>_<32 base32 chars>` with `role` and the change that
/// registers its hash. The clear key is returned once and never stored.
pub fn new_api_key(
    keys: &Keyring,
    tenant: &str,
    role: Role,
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
        role,
    };
    Ok((
        key.clone(),
        AdminChange::PutApiKey {
            hash: sha256(key.as_bytes()),
            record,
        },
    ))
}
