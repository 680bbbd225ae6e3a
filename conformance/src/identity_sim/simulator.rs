//! The state one running simulator shares between its connections and its handle, and
//! its routing. Locks are held only for synchronous steps, never across `.await`.

use super::admin;
use super::config::IdentitySimConfig;
use super::endpoint;
use super::faults::Rule;
use super::replay::ReplayCache;
use super::stats::IdentityCounts;
use crate::common::control::{lock, wait_shutdown};
use crate::common::fault_rates::Script;
use crate::common::http_util::{self, Abort, HttpResponse};
use crate::common::server::{Peer, Service};
use adapters::identity::{CivilDate, ClientAuth, VERIFICATIONS_PATH};
use http::StatusCode;
use hyper::body::Incoming;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::watch;

/// Settings read by every exchange (fixed at start).
pub(crate) struct Settings {
    /// The credential header (lower-case name) and its exact value, if one is required.
    pub(crate) credential: Option<(String, String)>,
    pub(crate) face_threshold: f64,
    today: Option<CivilDate>,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field(
                "credential",
                &self.credential.as_ref().map(|(h, _)| format!("{h}: ***")),
            )
            .field("face_threshold", &self.face_threshold)
            .field("today", &self.today)
            .finish()
    }
}

impl Settings {
    /// The configured date, else today's (UTC).
    pub(crate) fn today(&self) -> CivilDate {
        self.today.unwrap_or_else(|| {
            let secs = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs());
            let days = i64::try_from(secs / 86_400).unwrap_or(0);
            CivilDate::from_unix_days(days).unwrap_or(CivilDate::UNIX_EPOCH)
        })
    }
}

/// Shared simulator state.
#[derive(Debug)]
pub(crate) struct Simulator {
    pub(crate) settings: Settings,
    rules: Mutex<Script<Rule>>,
    counts: Mutex<IdentityCounts>,
    replay: Mutex<ReplayCache>,
    verifications: AtomicU64,
    shutdown: watch::Receiver<bool>,
}

impl Simulator {
    /// State for a validated `config`; `shutdown` turns true on shutdown.
    pub(crate) fn new(config: &IdentitySimConfig, shutdown: watch::Receiver<bool>) -> Self {
        let credential = match &config.auth {
            ClientAuth::None => None,
            ClientAuth::Bearer(t) => {
                Some(("authorization".to_owned(), format!("Bearer {}", t.as_str())))
            }
            ClientAuth::ApiKey { header, key } => {
                Some((header.to_ascii_lowercase(), key.as_str().to_owned()))
            }
        };
        Self {
            settings: Settings {
                credential,
                face_threshold: config.face_threshold,
                today: config.today,
            },
            rules: Mutex::new(Script::default()),
            counts: Mutex::new(IdentityCounts::default()),
            replay: Mutex::new(ReplayCache::new(config.replay_capacity)),
            verifications: AtomicU64::new(0),
            shutdown,
        }
    }

    /// The scripted rules.
    pub(crate) fn rules(&self) -> MutexGuard<'_, Script<Rule>> {
        lock(&self.rules)
    }

    /// The counters.
    pub(crate) fn counts(&self) -> MutexGuard<'_, IdentityCounts> {
        lock(&self.counts)
    }

    /// The decisions kept for replays.
    pub(crate) fn replay(&self) -> MutexGuard<'_, ReplayCache> {
        lock(&self.replay)
    }

    /// A fresh verification id (`sim-1`, `sim-2`, ...).
    pub(crate) fn next_verification_id(&self) -> String {
        format!(
            "sim-{}",
            self.verifications.fetch_add(1, Ordering::Relaxed) + 1
        )
    }

    /// Resolves once shutdown has been requested.
    pub(crate) async fn shutdown_requested(&self) {
        wait_shutdown(self.shutdown.clone()).await;
    }
}

impl Service for Simulator {
    async fn call(
        self: Arc<Self>,
        req: http::Request<Incoming>,
        _peer: Arc<Peer>,
    ) -> Result<HttpResponse, Abort> {
        let path = req.uri().path();
        if path == VERIFICATIONS_PATH {
            return endpoint::handle(self, req).await;
        }
        if path.starts_with(admin::PREFIX) {
            return admin::handle(&self, req).await;
        }
        Ok(http_util::error_json(StatusCode::NOT_FOUND, "not_found"))
    }
}
