//! The state one running simulator shares between its connections, its handle, its admin
//! API and its timers. Locks are held only for synchronous steps, never across `.await`.

use super::cc;
use super::clock;
use super::codes::Code;
use super::config::{
    CertFingerprint, MalformedAnswer, OperatorAccount, SmdpAddressEcho, SmdpSimConfig,
    UnmappedCertPolicy,
};
use super::error::SmdpSimError;
use super::es9::{CancelReason, Es9Outcome, InstallResult};
use super::fault_plan::FaultPlanner;
use super::faults::FaultConfig;
use super::inventory::{Inventory, Policy};
use super::notify::Notifier;
use super::state::{Personal, Profile, ProfileState};
use super::stats::SmdpCounts;
use crate::common::control::{lock, wait_shutdown};
use crate::common::rng::SplitMix64;
use adapters::es2plus::Fqdn;
use sim_profiles::Iccid;
use std::collections::HashMap;
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
    faults: Mutex<FaultPlanner>,
    counts: Mutex<SmdpCounts>,
    transaction_ids: Mutex<SplitMix64>,
    pub(crate) notifier: Notifier,
    shutdown: watch::Receiver<bool>,
}

impl Simulator {
    /// State for a validated `config`; `shutdown` turns true on shutdown.
    pub(crate) fn new(
        config: &SmdpSimConfig,
        notifier: Notifier,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        let profiles = config.profiles.iter().map(|s| {
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
        });
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
            inventory: Mutex::new(Inventory::new(profiles, policy, config.seed)),
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

    /// The inventory.
    pub(crate) fn inventory(&self) -> MutexGuard<'_, Inventory> {
        lock(&self.inventory)
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

    /// Runs one ES9+ event at the current time, sends its notifications and arms the
    /// Error → Available timer if the profile ended in Error.
    fn es9(
        self: &Arc<Self>,
        iccid: &Iccid,
        event: impl FnOnce(&mut Inventory, &str) -> Result<Es9Outcome, Code>,
    ) -> Result<Es9Outcome, Code> {
        let now = clock::now();
        let (outcome, state) = {
            let mut inv = self.inventory();
            let outcome = event(&mut inv, &now)?;
            (outcome, inv.get(iccid).map(|p| p.state))
        };
        self.notifier.emit(outcome.notices.clone(), &now);
        if state == Some(ProfileState::Error) {
            self.arm_recovery(iccid);
        }
        Ok(outcome)
    }

    fn arm_recovery(self: &Arc<Self>, iccid: &Iccid) {
        let Some(delay) = self.settings.error_recovery else {
            return;
        };
        // The deadline is fixed now, not when the task first runs.
        let deadline = tokio::time::Instant::now() + delay;
        let sim = Arc::clone(self);
        let iccid = iccid.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = tokio::time::sleep_until(deadline) => {
                    let _ = sim.inventory().recover(&iccid, &clock::now());
                }
                () = sim.shutdown_requested() => {}
            }
        });
    }

    /// Device eligibility result.
    pub(crate) fn eligibility(
        self: &Arc<Self>,
        iccid: &Iccid,
        eligible: bool,
    ) -> Result<Es9Outcome, Code> {
        self.es9(iccid, |inv, now| inv.eligibility(iccid, eligible, now))
    }

    /// The user typed `code`: computed as the LPA would for a fresh transaction id.
    pub(crate) fn cc_typed(
        self: &Arc<Self>,
        iccid: &Iccid,
        code: &str,
    ) -> Result<Es9Outcome, Code> {
        let mut tx = [0u8; 16];
        {
            let mut rng = lock(&self.transaction_ids);
            tx[..8].copy_from_slice(&rng.next_u64().to_be_bytes());
            tx[8..].copy_from_slice(&rng.next_u64().to_be_bytes());
        }
        let hash = cc::hash_cc(&cc::h1(code), &tx);
        self.cc_hashed(iccid, &tx, &hash)
    }

    /// The LPA sent `hash_cc` for `transaction_id`.
    pub(crate) fn cc_hashed(
        self: &Arc<Self>,
        iccid: &Iccid,
        transaction_id: &[u8],
        hash_cc: &[u8],
    ) -> Result<Es9Outcome, Code> {
        self.es9(iccid, |inv, now| {
            inv.cc_attempt(iccid, transaction_id, hash_cc, now)
        })
    }

    /// A download attempt.
    pub(crate) fn download(self: &Arc<Self>, iccid: &Iccid) -> Result<Es9Outcome, Code> {
        self.es9(iccid, |inv, now| inv.download(iccid, now))
    }

    /// The installation result.
    pub(crate) fn install(
        self: &Arc<Self>,
        iccid: &Iccid,
        result: InstallResult,
    ) -> Result<Es9Outcome, Code> {
        self.es9(iccid, |inv, now| inv.install(iccid, result, now))
    }

    /// ES9+ CancelSession.
    pub(crate) fn cancel_session(
        self: &Arc<Self>,
        iccid: &Iccid,
        reason: CancelReason,
    ) -> Result<Es9Outcome, Code> {
        self.es9(iccid, |inv, now| inv.cancel_session(iccid, reason, now))
    }

    /// Downloads and installs `iccid` after `delay` on tokio's clock (if still possible).
    pub(crate) fn schedule_download_install(self: &Arc<Self>, iccid: &Iccid, delay: Duration) {
        let deadline = tokio::time::Instant::now() + delay;
        let sim = Arc::clone(self);
        let iccid = iccid.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = tokio::time::sleep_until(deadline) => {
                    let done = sim
                        .download(&iccid)
                        .and_then(|_| sim.install(&iccid, InstallResult::Success));
                    if let Err(code) = done {
                        tracing::info!(%iccid, %code, "scheduled download/install refused");
                    }
                }
                () = sim.shutdown_requested() => {}
            }
        });
    }
}
