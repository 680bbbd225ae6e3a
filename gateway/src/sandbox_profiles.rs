//! The sandbox's eSIM profiles as its SM-DP+ simulator holds them: the seeded ones and
//! every eSIM batch imported for the sandbox tenant, read from the store at start, and
//! batches imported through the API while running, loaded by an [`ImportObserver`] before
//! the import is answered. Keys are opened in memory only, so the packages the simulator
//! builds carry the same Ki and OPc the HLR gets.

use crate::admin::{self, AdminError};
use crate::api::ImportObserver;
use crate::app::StartError;
use crate::crypto::Keyring;
use crate::sandbox::{ESIM_PROFILE_TYPE, TENANT, esim_iccid};
use crate::store::{BatchRecord, BatchStatus, SimRecord, Store, StoreError};
use adapters::hlr::BoxFuture;
use conformance::smdp_sim::{ProfileSeed, SmdpSimHandle};
use std::sync::Arc;

/// Why profiles could not be read for the simulator.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stored key could not be opened, or a seeded ICCID could not be formed.
    #[error("{0}")]
    Keys(String),
}

impl From<SeedError> for StartError {
    fn from(e: SeedError) -> Self {
        match e {
            SeedError::Store(e) => Self::Store(e),
            SeedError::Keys(e) => Self::Southbound(format!("sandbox eSIM profiles: {e}")),
        }
    }
}

/// The seeds of `sim`, a profile of `profile_type`, owned at the simulator by the sandbox
/// operator (whose certificate the gateway's ES2+ client presents, whatever the tenant).
fn seed_of(keys: &Keyring, sim: SimRecord, profile_type: &str) -> Result<ProfileSeed, SeedError> {
    let (ki, opc) = admin::open_sim_keys(keys, &sim).map_err(SeedError::Keys)?;
    let mut seed = ProfileSeed::new(sim.iccid, profile_type, TENANT);
    seed.imsi = Some(sim.imsi);
    seed.ki = Some(ki);
    seed.opc = opc;
    Ok(seed)
}

/// Whether the sandbox's SM-DP+ holds the profiles of `batch`: a complete eSIM batch of
/// the sandbox tenant (the only tenant the simulated SM-DP+ serves).
fn served(batch: &BatchRecord) -> bool {
    batch.tenant == TENANT
        && batch.status == BatchStatus::Complete
        && batch.esim_profile_type.is_some()
}

/// Every profile of an imported eSIM batch, a page at a time.
async fn batch_seeds(
    store: &dyn Store,
    keys: &Keyring,
    batch: &BatchRecord,
) -> Result<Vec<ProfileSeed>, SeedError> {
    let profile_type = batch.esim_profile_type.as_deref().unwrap_or_default();
    let mut out = Vec::new();
    let mut after = String::new();
    loop {
        let page = store.batch_sims(&batch.id, &after, 1_000).await?;
        let Some(last) = page.last() else {
            return Ok(out);
        };
        after = last.iccid.to_string();
        for sim in page {
            out.push(seed_of(keys, sim, profile_type)?);
        }
    }
}

/// The profiles the simulator starts with: the `seeded` sandbox profiles and every eSIM
/// batch imported for the sandbox tenant (through the API or offline).
pub async fn esim_seeds(
    store: &dyn Store,
    keys: &Keyring,
    seeded: u32,
) -> Result<Vec<ProfileSeed>, SeedError> {
    let mut out = Vec::new();
    for i in 0..seeded {
        let iccid = esim_iccid(i).map_err(|e: AdminError| SeedError::Keys(e.to_string()))?;
        if let Some(sim) = store.get_sim(&iccid).await? {
            out.push(seed_of(keys, sim, ESIM_PROFILE_TYPE)?);
        }
    }
    // Batch ids come from the tenant's per-batch counters (seeded SIMs have no batch record).
    for id in store.inventory_breakdown(TENANT).await?.batches.keys() {
        if let Some(batch) = store.batch(id).await?.filter(served) {
            out.extend(batch_seeds(store, keys, &batch).await?);
        }
    }
    Ok(out)
}

/// Loads each eSIM batch the API imports into the running SM-DP+ simulator.
pub struct SmdpLoader {
    /// Where the batch's SIMs are read.
    pub store: Arc<dyn Store>,
    /// Opens their keys.
    pub keys: Arc<Keyring>,
    /// The simulator.
    pub smdp: SmdpSimHandle,
}

impl ImportObserver for SmdpLoader {
    fn batch_imported<'a>(&'a self, batch: &'a BatchRecord) -> BoxFuture<'a, ()> {
        Box::pin(async move {
            if !served(batch) {
                return;
            }
            match batch_seeds(self.store.as_ref(), &self.keys, batch).await {
                Ok(seeds) => {
                    let added = self.smdp.add_profiles(&seeds);
                    tracing::info!(batch = %batch.id, added, "eSIM batch loaded into the sandbox SM-DP+ simulator");
                }
                Err(e) => tracing::warn!(batch = %batch.id, error = %e,
                    "could not load an imported eSIM batch into the sandbox SM-DP+ simulator"),
            }
        })
    }
}
