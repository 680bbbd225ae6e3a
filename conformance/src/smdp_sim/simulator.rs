//! The state one running simulator shares between its connections, its handle, its admin
//! API and its timers. Locks are held only for synchronous steps, never across `.await`.

use super::cc;
use super::clock;
use super::codes::{self, Code};
use super::config::{
    CertFingerprint, MalformedAnswer, OperatorAccount, ProfileSeed, SmdpAddressEcho, SmdpSimConfig,
    UnmappedCertPolicy,
};
use super::error::SmdpSimError;
use super::es9::{CancelReason, Es9Outcome, InstallResult};
use super::fault_plan::FaultPlanner;
use super::faults::FaultConfig;
use super::inventory::{Inventory, Policy};
use super::notify::Notifier;
use super::persist;
use super::state::{Personal, Profile, ProfileState};
use super::stats::SmdpCounts;
use crate::common::control::{lock, wait_shutdown};
use crate::common::rng::SplitMix64;
use crate::common::state_writer::{StateWriter, Ticket};
use adapters::es2plus::Fqdn;
use sim_profiles::Iccid;
use std::collections::HashMap;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::watch;

/// Settings read by every exchange (fixed at start).
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub(crate) smdp_address: Fqdn,
    pub(crate) admin_protocol: String,
    pub(crate) smdp_address_echo: SmdpAddressEcho,
    pub(crate) lenient: bool,
    pub(crate) unmapped_cert: UnmappedCertPolicy,
    pub(crate) malformed: MalformedAnswer,
    pub(crate) error_recovery: Option<Duration>,
}

/// Shared simulator state.
#[derive(Debug)]
pub(crate) struct Simulator {
    pub(crate) settings: Settings,
    operators: HashMap<CertFingerprint, OperatorAccount>,
    inventory: Mutex<Inventory>,
    /// Where the inventory and pending notifications are kept, if anywhere.
    state_file: Arc<StateWriter>,
    faults: Mutex<FaultPlanner>,
    counts: Mutex<SmdpCounts>,
    transaction_ids: Mutex<SplitMix64>,
    pub(crate) notifier: Notifier,
    shutdown: watch::Receiver<bool>,
}

impl Simulator {
    /// State for a validated `config`; `shutdown` turns true on shutdown. With `resumed`
    /// (a state file's content), its profiles stand, the seeds add the others and lend
    /// theirs their keys, and every change is written there.
    pub(crate) fn new(
        config: &SmdpSimConfig,
        notifier: Notifier,
        shutdown: watch::Receiver<bool>,
        resumed: Option<(Arc<StateWriter>, persist::KeptInventory)>,
    ) -> Self {
        let seeds: Vec<Profile> = config.profiles.iter().map(profile_of).collect();
        let policy = Policy {
            replay: config.replay,
            release_after_download_ok: config.release_after_download_ok,
            cc_attempt_limit: config.cc_attempt_limit,
            download_attempt_limit: config.download_attempt_limit,
        };
        Self {
            settings: Settings {
                smdp_address: config.smdp_address.clone(),
                admin_protocol: config.admin_protocol.clone(),
                smdp_address_echo: config.smdp_address_echo.clone(),
                lenient: config.lenient,
                unmapped_cert: config.unmapped_cert,
                malformed: config.malformed,
                error_recovery: config.error_recovery,
            },
            operators: config
                .operators
                .iter()
                .map(|o| (o.cert_sha256, o.clone()))
                .collect(),
            state_file: resumed
                .as_ref()
                .map(|(file, _)| Arc::clone(file))
                .unwrap_or_default(),
            inventory: Mutex::new(inventory(
                seeds,
                policy,
                config.seed,
                resumed.map(|(_, kept)| kept),
            )),
            faults: Mutex::new(FaultPlanner::new(config.faults.clone(), config.seed)),
            counts: Mutex::new(SmdpCounts::default()),
            transaction_ids: Mutex::new(SplitMix64::new(config.seed ^ 0x7478_6964)),
            notifier,
            shutdown,
        }
    }

    /// The operator a client certificate (DER) maps to.
    pub(crate) fn operator_for(&self, cert_der: &[u8]) -> Option<&OperatorAccount> {
        self.operators
            .get(&super::config::cert_fingerprint(cert_der))
    }

    /// The inventory; what changed through it is written to the state file when the
    /// guard drops (see [`Simulator::write_changes`] to write before answering).
    pub(crate) fn inventory(&self) -> InventoryGuard<'_> {
        InventoryGuard {
            sim: self,
            inv: lock(&self.inventory),
        }
    }

    /// Hands what changed in `inv` (this simulator's, locked by the caller, so the file
    /// takes changes in the order they were made) and the `queued` notifications to the
    /// state file's writer, as one commit's worth.
    pub(crate) fn write_changes(
        &self,
        inv: &mut Inventory,
        queued: &[(u64, persist::Pending)],
    ) -> Ticket {
        self.state_file.submit(persist::changes(inv, queued))
    }

    /// Done once every change handed over so far is kept.
    pub(crate) fn written(&self) -> Ticket {
        self.state_file.barrier()
    }

    /// Closes the state file (at shutdown; the notifier's handle to it closes too).
    pub(crate) fn close_state_file(&self) {
        self.state_file.close();
    }

    /// Fault configuration and rules.
    pub(crate) fn faults(&self) -> MutexGuard<'_, FaultPlanner> {
        lock(&self.faults)
    }

    /// The counters.
    pub(crate) fn counts(&self) -> MutexGuard<'_, SmdpCounts> {
        lock(&self.counts)
    }

    /// Validates and installs a new random-fault configuration.
    pub(crate) fn set_faults(&self, faults: FaultConfig) -> Result<(), SmdpSimError> {
        faults.validate()?;
        self.faults().set_config(faults);
        Ok(())
    }

    /// Resolves once shutdown has been requested.
    pub(crate) async fn shutdown_requested(&self) {
        wait_shutdown(self.shutdown.clone()).await;
    }

    /// Runs one customer action at the current time, sends its notifications and arms
    /// the Error → Available timer if the profile ended in Error.
    pub(crate) fn act(
        self: &Arc<Self>,
        iccid: &Iccid,
        action: CustomerAction,
    ) -> Result<Es9Outcome, Code> {
        if let CustomerAction::TypedCode(code) = &action {
            let tx = self.transaction_id();
            let hash = cc::hash_cc(&cc::h1(code), &tx);
            return self.act(
                iccid,
                CustomerAction::HashedCode {
                    transaction_id: tx.to_vec(),
                    hash_cc: hash.to_vec(),
                },
            );
        }
        let now = clock::now();
        let (outcome, state) = {
            let mut inv = self.inventory();
            let outcome = match action {
                CustomerAction::Eligibility(ok) => inv.eligibility(iccid, ok, &now),
                CustomerAction::TypedCode(_) => return Err(codes::CC_REFUSED),
                CustomerAction::HashedCode {
                    transaction_id,
                    hash_cc,
                } => inv.cc_attempt(iccid, &transaction_id, &hash_cc, &now),
                CustomerAction::Download => inv.download(iccid, &now),
                CustomerAction::Install(result) => inv.install(iccid, result, &now),
                CustomerAction::CancelSession(reason) => inv.cancel_session(iccid, reason, &now),
            }?;
            // The change and its notifications are kept together, then queued in the
            // order they were made (under the lock).
            let prepared = self.notifier.prepare(outcome.notices.clone(), &now);
            // Handed over before delivery can start; callers that answer await
            // [`Simulator::written`].
            drop(self.write_changes(&mut inv, &prepared.kept));
            self.notifier.enqueue(prepared.ready);
            (outcome, inv.get(iccid).map(|p| p.state))
        };
        if state == Some(ProfileState::Error) {
            if let Some(delay) = self.settings.error_recovery {
                let iccid = iccid.clone();
                self.after(delay, move |sim| {
                    let _ = sim.inventory().recover(&iccid, &clock::now());
                });
            }
        }
        Ok(outcome)
    }

    /// A fresh 16-byte TransactionID from the seeded PRNG.
    fn transaction_id(&self) -> [u8; 16] {
        let mut rng = lock(&self.transaction_ids);
        let mut tx = [0u8; 16];
        tx[..8].copy_from_slice(&rng.next_u64().to_be_bytes());
        tx[8..].copy_from_slice(&rng.next_u64().to_be_bytes());
        tx
    }

    /// Runs `job` once `delay` has passed on tokio's clock (deadline fixed now), unless
    /// the simulator shuts down first.
    fn after(self: &Arc<Self>, delay: Duration, job: impl FnOnce(&Arc<Self>) + Send + 'static) {
        let deadline = tokio::time::Instant::now() + delay;
        let sim = Arc::clone(self);
        tokio::spawn(async move {
            tokio::select! {
                () = tokio::time::sleep_until(deadline) => job(&sim),
                () = sim.shutdown_requested() => {}
            }
        });
    }

    /// Writes what the start changed (seeds new to the state file) and arms the Error →
    /// Available timer of every profile that was left in Error.
    pub(crate) fn resume(self: &Arc<Self>) -> Ticket {
        let (kept, in_error): (Ticket, Vec<Iccid>) = {
            let mut inv = lock(&self.inventory);
            let kept = self.write_changes(&mut inv, &[]);
            let in_error = inv
                .profiles()
                .filter(|p| p.state == ProfileState::Error)
                .map(|p| p.iccid.clone())
                .collect();
            (kept, in_error)
        };
        if let Some(delay) = self.settings.error_recovery {
            for iccid in in_error {
                self.after(delay, move |sim| {
                    let _ = sim.inventory().recover(&iccid, &clock::now());
                });
            }
        }
        kept
    }

    /// Downloads and installs `iccid` after `delay` on tokio's clock (if still possible).
    pub(crate) fn schedule_download_install(self: &Arc<Self>, iccid: &Iccid, delay: Duration) {
        let iccid = iccid.clone();
        self.after(delay, move |sim| {
            let done = sim
                .act(&iccid, CustomerAction::Download)
                .and_then(|_| sim.act(&iccid, CustomerAction::Install(InstallResult::Success)));
            if let Err(code) = done {
                tracing::info!(%iccid, %code, "scheduled download/install refused");
            }
        });
    }
}

/// The inventory behind the simulator's lock; on drop, writes what changed through it.
pub(crate) struct InventoryGuard<'a> {
    sim: &'a Simulator,
    inv: MutexGuard<'a, Inventory>,
}

impl Deref for InventoryGuard<'_> {
    type Target = Inventory;
    fn deref(&self) -> &Inventory {
        &self.inv
    }
}

impl DerefMut for InventoryGuard<'_> {
    fn deref_mut(&mut self) -> &mut Inventory {
        &mut self.inv
    }
}

impl Drop for InventoryGuard<'_> {
    fn drop(&mut self) {
        // Handed over in order; kept by the time the simulator shuts down (or a later
        // `written` ticket says so).
        drop(self.sim.write_changes(&mut self.inv, &[]));
    }
}

/// The starting inventory: the resumed profiles if any, then every seed not among them;
/// tracked for the state file when there is one.
fn inventory(
    seeds: Vec<Profile>,
    policy: Policy,
    seed: u64,
    resumed: Option<persist::KeptInventory>,
) -> Inventory {
    let Some(persist::KeptInventory {
        profiles: mut kept,
        rng,
    }) = resumed
    else {
        return Inventory::new(seeds, policy, seed);
    };
    persist::personalise(&mut kept, &seeds);
    let mut inv = Inventory::new(kept.into_iter().map(|(p, _)| p), policy, seed);
    inv.track_changes(rng);
    for s in seeds {
        inv.add(s);
    }
    inv
}

/// A simulated customer (ES9+) action on one profile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CustomerAction {
    /// The eligibility check passed (`true`) or failed.
    Eligibility(bool),
    /// The user typed this Confirmation Code; the simulator plays the LPA.
    TypedCode(String),
    /// The LPA sent `hash_cc` for `transaction_id`.
    HashedCode {
        /// The session's TransactionID.
        transaction_id: Vec<u8>,
        /// SHA-256(SHA-256(CC) ‖ TransactionID).
        hash_cc: Vec<u8>,
    },
    /// A download attempt.
    Download,
    /// The eUICC's installation result.
    Install(InstallResult),
    /// ES9+ CancelSession.
    CancelSession(CancelReason),
}

/// The fresh `Available` profile a seed describes.
pub(crate) fn profile_of(s: &ProfileSeed) -> Profile {
    Profile::new(
        s.iccid.clone(),
        s.profile_type.clone(),
        s.owner.clone(),
        Personal {
            imsi: s.imsi.clone(),
            ki: s.ki.clone(),
            opc: s.opc.clone(),
        },
    )
}
