//! `serve --sandbox`: a gateway with its own simulated host operator on loopback, a seeded
//! sandbox tenant, and `DATA_DIR/sandbox.json` describing how to use it. Seeding happens
//! once per data directory (a sealed marker in the store), so restarts give the same API
//! keys and inventory.

use crate::admin::{self, AdminError, NewSim};
use crate::app::{Gateway, Listeners, StartError};
use crate::config::{Config, TerminalConfig};
use crate::crypto::{Keyring, write_private};
use crate::southbound;
use crate::store::{AdminChange, Product, Role, StoreAdmin, Tenant};
use crate::tls::DevCa;
use conformance::hlr_sim::{self, HlrSimConfig, HlrSimHandle};
use conformance::smdp_sim::SmdpSimHandle;
use serde::{Deserialize, Serialize};
use sim_profiles::{Iccid, Key128};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The sandbox tenant id.
pub const TENANT: &str = "sandbox";
/// The sandbox tenant's PLMN (the ITU test network 001-01: never a live network).
pub const PLMN: &str = "00101";
/// The sandbox product code.
pub const PRODUCT: &str = "sandbox-basic";
/// HLR profile id of the sandbox product.
pub const HLR_PROFILE_ID: u32 = 12;
/// The SM-DP+ profile type of the sandbox's eSIM profiles.
pub const ESIM_PROFILE_TYPE: &str = "SANDBOX-CONSUMER-V1";
/// First number of the sandbox block (China Telecom-hosted MVNO segment 1700).
pub const FIRST_MSISDN: &str = "8617000000000";
/// The file in the data dir that describes a running sandbox (contract.md).
pub const FILE: &str = "sandbox.json";
/// Metadata key of the sealed sandbox marker (holds the sandbox API keys).
pub const MARKER: &str = crate::store::SANDBOX_MARKER;
/// The directory in the data dir where the simulators keep their state (one journal
/// file each), so a restarted sandbox's host operator remembers what it was told.
pub const SIMULATORS_DIR: &str = "simulators";

/// The state file of simulator `name` (`hlr`, `smdp`, `porting`) in `config`'s data dir;
/// none when `[sandbox] simulator_state` is off.
pub fn simulator_state_file(config: &Config, name: &str) -> Option<PathBuf> {
    config.sandbox.simulator_state.then(|| {
        config
            .data_dir
            .join(SIMULATORS_DIR)
            .join(format!("{name}.state"))
    })
}

/// What `sandbox.json` holds (contract.md), plus the simulator's address.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SandboxFile {
    /// `https://host:port` of the gateway.
    pub base_url: String,
    /// Absolute path of the CA certificate to trust.
    pub ca_cert: String,
    /// Tenant id.
    pub tenant: String,
    /// MCC+MNC of the tenant's IMSIs.
    pub plmn: String,
    /// Bearer API key of the tenant: the operator key (`api_keys.operator`), as before
    /// keys had roles.
    pub api_key: String,
    /// One API key of each role.
    pub api_keys: ApiKeys,
    /// Physical SIMs available for activation when the file was written.
    pub physical_iccids: Vec<String>,
    /// Product code to activate.
    pub product: String,
    /// The HLR simulator's provisioning URL and admin API (absent with an external HLR).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub hlr_simulator: Option<SimInfo>,
    /// The SM-DP+ profile type eSIM orders of `product` draw from.
    #[serde(default)]
    pub esim_profile_type: String,
    /// The SM-DP+ simulator's ES2+ base URL and admin API (mutual TLS: use the client
    /// identity below).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub smdp_simulator: Option<SimInfo>,
    /// A client certificate and key (PEM files) the SM-DP+ simulator accepts, for its
    /// admin API (simulated downloads, state dumps).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub smdp_client: Option<ClientIdentityFiles>,
    /// The gateway's ES2+ callback URL (HandleDownloadProgressInfo, mutual TLS).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub es2_callback_url: Option<String>,
    /// `http://host:port/metrics`: Prometheus text, on its own listener.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub metrics_url: Option<String>,
    /// The number-porting hub simulator's base URL and admin API (no client certificate
    /// needed for the admin API).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub porting_simulator: Option<SimInfo>,
    /// The identity verifier simulator's base URL and admin API (`/sim/rules`: scripted
    /// decisions and faults; no credential needed); absent when `[identity] url` names a
    /// real service.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub identity_simulator: Option<SimInfo>,
    /// One tenant per market with that market's strict compliance defaults (`cn`, `uk`),
    /// each with an operator key and a registered store channel.
    #[serde(default)]
    pub markets: BTreeMap<String, crate::sandbox_markets::MarketTenant>,
    /// The sandbox tenant's store terminal (pair it for `/terminal/`; its clerks' PINs).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub terminal: Option<crate::sandbox_terminal::TerminalInfo>,
    /// The ID card reader service the terminal page uses (the sandbox's simulator).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub id_reader_url: Option<String>,
}

/// Paths of a PEM certificate and key.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClientIdentityFiles {
    /// Certificate (PEM).
    pub cert: String,
    /// Private key (PEM).
    pub key: String,
}

/// Where the embedded HLR simulator listens.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SimInfo {
    /// CAI3G endpoint.
    pub url: String,
    /// Admin API base (`GET state`, `PUT faults`, ...).
    pub admin: String,
}

/// A running sandbox.
pub struct Sandbox {
    /// The gateway.
    pub gateway: Gateway,
    /// The embedded HLR simulator, unless an external HLR was given.
    pub hlr_sim: Option<HlrSimHandle>,
    /// The HLR client the gateway provisions through (another node in this process, as
    /// `simgw bench --nodes 2` starts, provisions through it too).
    pub hlr: Arc<dyn adapters::hlr::HlrProvisioner>,
    /// The embedded SM-DP+ simulator, unless an external SM-DP+ was configured.
    pub smdp_sim: Option<SmdpSimHandle>,
    /// The embedded identity-verification simulator and the verifier client wired to it
    /// (for the order path's real-name checks).
    pub identity: crate::sandbox_identity::SandboxIdentity,
    /// The embedded number-porting hub simulator.
    pub porting: crate::sandbox_porting::SandboxPorting,
    /// The ID card reader service simulator the store terminal page reads cards from
    /// (unless `[terminal] id_reader_url` was changed from its default).
    pub id_reader: Option<conformance::id_reader_sim::IdReaderSimHandle>,
    /// Path of `sandbox.json`.
    pub file: PathBuf,
    /// Its content.
    pub info: SandboxFile,
}

/// The sandbox tenant's API keys, one of each role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeys {
    /// A `channel` key: activations, number reservations and reads.
    pub channel: String,
    /// An `operator` key: everything.
    pub operator: String,
    /// A `readonly` key.
    pub readonly: String,
}

/// The sealed seeding marker, always written whole. A sandbox seeded before keys had roles
/// wrote `api_key` only; [`add_role_keys`] upgrades it.
#[derive(Serialize, Deserialize)]
struct Marker {
    /// The operator key.
    api_key: String,
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    readonly: Option<String>,
}

impl Sandbox {
    /// Stops the gateway (finishing in-flight calls), then every simulator it started.
    pub async fn shutdown(self) {
        self.gateway.shutdown().await;
        if let Some(sim) = self.hlr_sim {
            sim.shutdown().await;
        }
        if let Some(sim) = self.smdp_sim {
            sim.shutdown().await;
        }
        self.identity.sim.shutdown().await;
        self.porting.sim.shutdown().await;
        if let Some(r) = &self.id_reader {
            r.shutdown().await;
        }
    }
}

/// Starts the simulator (unless `config.hlr.url` names a real HLR), the gateway, seeds
/// the sandbox tenant once, and writes `sandbox.json`.
pub async fn start(mut config: Config) -> Result<Sandbox, StartError> {
    config.ephemeral_side_listeners();
    // A developer's local webhook receiver (`simgw webhooks listen`) is plain http.
    config.webhooks.sandbox = true;
    std::fs::create_dir_all(&config.data_dir).map_err(|e| StartError::Io(e.to_string()))?;
    config.data_dir =
        std::fs::canonicalize(&config.data_dir).map_err(|e| StartError::Io(e.to_string()))?;
    let tls_dir = config.data_dir.join("tls");
    let ca = DevCa::load_or_create(&tls_dir)?;
    let mut hlr_sim = None;
    let mut hlr_gate = None;
    let hlr: Arc<dyn adapters::hlr::HlrProvisioner> = if config.hlr.url.is_some() {
        southbound::hlr_from_config(&config.hlr, config.engine.hlr_concurrency)?
    } else {
        let password = random_password()?;
        let identity = ca.issue("simgw HLR simulator", &["localhost", "127.0.0.1"])?;
        let mut tls = crate::tls::server_config_from_pem(
            identity.cert_pem.as_bytes(),
            identity.key_pem.as_bytes(),
            &tls_dir,
        )?;
        // The simulator speaks HTTP/1.1 only, as CAI3G hosts do: never offer h2.
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        let mut sim_cfg = HlrSimConfig::new("simgw-sandbox", password.clone());
        sim_cfg.listen = SocketAddr::from(([127, 0, 0, 1], 0));
        sim_cfg.tls = Some(Arc::new(tls));
        sim_cfg.state_file = simulator_state_file(&config, "hlr");
        let sim = hlr_sim::start(sim_cfg)
            .await
            .map_err(|e| StartError::Southbound(format!("HLR simulator: {e}")))?;
        let ca_pem = std::fs::read(&ca.cert_path).map_err(|e| StartError::Io(e.to_string()))?;
        let hlr = southbound::cai3g(
            &sim.url(),
            "simgw-sandbox",
            &password,
            Some(ca_pem),
            &config.hlr,
            config.engine.hlr_concurrency,
        )?;
        hlr_sim = Some((sim, hlr.clone()));
        let gate = crate::sandbox_hlr::HlrGate::new(hlr);
        hlr_gate = Some(gate.clone());
        gate
    };
    // Seed first (the SM-DP+ simulator loads the profiles the store holds), then start
    // the simulator, then the gateway wired to it.
    let ((api_keys, markets), profiles) = {
        let keys = crate::app::keyring(&config)?;
        let store =
            crate::app::open_store(&config, Arc::new(crate::metrics::Metrics::default())).await?;
        let now = crate::clock::Clock::new().now_ms();
        let seeded = match seed(&*store, &keys, &config).await {
            Ok(k) => match crate::sandbox_markets::seed(&*store, &keys, now).await {
                Ok(m) => {
                    let tenants = m.values().map(|(t, _)| t.as_str());
                    crate::sandbox_terminal::seed_all(&*store, &keys, tenants, now)
                        .await
                        .map(|()| (k, m))
                }
                Err(e) => Err(e),
            },
            Err(e) => Err(e),
        };
        let profiles = match &seeded {
            Ok(_) if config.esim.smdp_url.is_none() => {
                crate::sandbox_profiles::esim_seeds(&*store, &keys, config.sandbox.esim_profiles)
                    .await
                    .map_err(StartError::from)
            }
            _ => Ok(Vec::new()),
        };
        store.close().await;
        let api_keys =
            seeded.map_err(|e| StartError::Southbound(format!("sandbox seeding: {e}")))?;
        (api_keys, profiles?)
    };
    let (smdp_sim, callback) = if config.esim.smdp_url.is_none() {
        let s = crate::sandbox_smdp::start(&mut config, &ca, profiles).await?;
        (Some(s.sim), Some(s.callback))
    } else {
        (None, None)
    };
    let identity = crate::sandbox_identity::start(&ca).await?;
    // The terminal page reads ID cards from the simulator, unless a reader service was
    // configured (a developer's real reader on this machine).
    let id_reader = if config.terminal.id_reader_url == TerminalConfig::default().id_reader_url {
        let cfg = conformance::id_reader_sim::IdReaderSimConfig::with_serial(
            crate::sandbox_markets::READER,
        );
        let r = conformance::id_reader_sim::start(cfg)
            .await
            .map_err(|e| StartError::Southbound(format!("ID reader simulator: {e}")))?;
        config.terminal.id_reader_url = r.url();
        Some(r)
    } else {
        None
    };
    // The simulator is the hub unless `[porting_hub] url` names a real one. The gateway's
    // hub-message listener is bound first: a simulator resuming its state file redelivers
    // the messages it kept as soon as it starts.
    let hub_callback = if config.porting_hub.url.is_none() {
        Some(crate::sandbox_porting::bind_receiver(&ca, &mut config)?)
    } else {
        None
    };
    let porting = crate::sandbox_porting::start(&ca, &config, hub_callback.as_ref()).await?;
    let porting_hub = match hub_callback {
        Some(_) => Some(crate::sandbox_porting::client(&porting, &ca, &config)?),
        None => None,
    };
    // The simulator verifies identities unless `[identity] url` names a real service.
    let verifier = config
        .identity
        .url
        .is_none()
        .then(|| identity.verifier.clone());
    let bound = Listeners {
        callback,
        identity: verifier,
        porting_hub,
        hub_callback,
    };
    let gateway = Gateway::start_with(config, hlr.clone(), bound).await?;
    if let Some(smdp) = &smdp_sim {
        gateway.observe_imports(Arc::new(crate::sandbox_profiles::SmdpLoader {
            store: gateway.store.clone(),
            keys: gateway.keys.clone(),
            smdp: smdp.clone(),
        }));
        let (cert, key) = crate::sandbox_smdp::gateway_client_files(&gateway.config);
        let read = |p: &std::path::Path| {
            std::fs::read(p).map_err(|e| StartError::Io(format!("{}: {e}", p.display())))
        };
        let status = crate::sandbox_profile_status::SimAdminStatus::new(
            &format!("{}/sim/", smdp.url()),
            &read(&ca.cert_path)?,
            &read(&cert)?,
            &read(&key)?,
        )
        .map_err(|e| StartError::Southbound(e.to_string()))?;
        gateway.reconciler().set_profile_status(Arc::new(status));
    }
    let hlr_sim = match (hlr_sim, hlr_gate) {
        // The simulator resumed its own state: it is the HLR's truth, as a real one's
        // database would be, and never rebuilt from the gateway's view.
        (Some((sim, _)), Some(gate)) if sim.resumed() => {
            gate.open();
            Some(sim)
        }
        // A new state file (a data dir from before simulators kept their state, or one
        // whose file was removed): rebuilt once from the orders.
        (Some((sim, raw)), Some(gate)) => {
            let restored = crate::sandbox_hlr::rebuild(&gateway, raw.as_ref(), &gate).await?;
            if restored > 0 {
                tracing::info!(restored, "sandbox HLR simulator restored from the orders");
            }
            Some(sim)
        }
        _ => None,
    };
    let host = if gateway.addr.ip().is_unspecified() {
        "127.0.0.1".to_owned()
    } else {
        gateway.addr.ip().to_string()
    };
    let info = SandboxFile {
        base_url: format!("https://{host}:{}", gateway.addr.port()),
        ca_cert: ca.cert_path.display().to_string(),
        tenant: TENANT.into(),
        plmn: PLMN.into(),
        api_key: api_keys.operator.clone(),
        api_keys,
        physical_iccids: gateway
            .store
            .available_sims(TENANT, usize::MAX)
            .await?
            .iter()
            .map(|i| i.to_string())
            .collect(),
        product: PRODUCT.into(),
        hlr_simulator: hlr_sim.as_ref().map(|s| SimInfo {
            url: s.url(),
            admin: format!("https://{}/sim/", s.addr()),
        }),
        esim_profile_type: ESIM_PROFILE_TYPE.into(),
        smdp_simulator: smdp_sim.as_ref().map(|s| SimInfo {
            url: s.url(),
            admin: format!("{}/sim/", s.url()),
        }),
        smdp_client: smdp_sim.as_ref().map(|_| {
            let (cert, key) = crate::sandbox_smdp::gateway_client_files(&gateway.config);
            ClientIdentityFiles {
                cert: cert.display().to_string(),
                key: key.display().to_string(),
            }
        }),
        es2_callback_url: gateway.callback_addr.map(|a| {
            format!(
                "https://{a}{}",
                adapters::es2plus::path::HANDLE_DOWNLOAD_PROGRESS_INFO
            )
        }),
        metrics_url: gateway.metrics_addr.map(|a| format!("http://{a}/metrics")),
        porting_simulator: Some(SimInfo {
            url: porting.sim.url(),
            admin: porting.sim.admin_url(),
        }),
        identity_simulator: gateway.config.identity.url.is_none().then(|| SimInfo {
            url: identity.url(),
            admin: format!("{}/sim/", identity.url()),
        }),
        markets: crate::sandbox_markets::describe(&*gateway.store, &markets).await?,
        terminal: Some(crate::sandbox_terminal::describe()),
        id_reader_url: Some(gateway.config.terminal.id_reader_url.clone()),
    };
    let file = gateway.config.data_dir.join(FILE);
    let json = serde_json::to_vec_pretty(&info).map_err(|e| StartError::Io(e.to_string()))?;
    write_atomic(&file, &json).map_err(|e| StartError::Io(format!("{}: {e}", file.display())))?;
    Ok(Sandbox {
        gateway,
        hlr_sim,
        hlr,
        smdp_sim,
        identity,
        porting,
        id_reader,
        file,
        info,
    })
}

/// Seeds the tenant, its keys, SIMs and numbers once; returns the tenant's API keys. A
/// sandbox seeded before keys had roles gains its channel and readonly keys here, once.
pub async fn seed(
    store: &dyn StoreAdmin,
    keys: &Keyring,
    config: &Config,
) -> Result<ApiKeys, AdminError> {
    let now = crate::clock::Clock::new().now_ms();
    if let Some(sealed) = store.meta(MARKER).await? {
        let sealed = serde_json::from_slice(&sealed)
            .map_err(|e| AdminError::Refused(format!("sandbox marker: {e}")))?;
        let clear = keys.open(MARKER, &sealed)?;
        let m: Marker = serde_json::from_slice(&clear)
            .map_err(|e| AdminError::Refused(format!("sandbox marker: {e}")))?;
        return match (m.channel, m.readonly) {
            (Some(channel), Some(readonly)) => Ok(ApiKeys {
                channel,
                operator: m.api_key,
                readonly,
            }),
            _ => add_role_keys(store, keys, m.api_key, now).await,
        };
    }
    let tenant = Tenant::new(
        TENANT,
        "simgw sandbox MVNO",
        PLMN.parse()
            .map_err(|e| AdminError::Refused(format!("{e}")))?,
        BTreeMap::from([(
            PRODUCT.to_owned(),
            Product::new(HLR_PROFILE_ID).with_esim(ESIM_PROFILE_TYPE),
        )]),
    );
    let (operator, operator_key) =
        admin::new_api_key(keys, TENANT, Role::Operator, "sandbox", now)?;
    let (channel, channel_key) =
        admin::new_api_key(keys, TENANT, Role::Channel, "sandbox-channel", now)?;
    let (readonly, readonly_key) =
        admin::new_api_key(keys, TENANT, Role::Readonly, "sandbox-readonly", now)?;
    let api_keys = ApiKeys {
        channel,
        operator,
        readonly,
    };
    let mut sims = Vec::new();
    for i in 0..config.sandbox.physical_sims {
        let sim = NewSim {
            iccid: physical_iccid(i)?,
            imsi: format!("{PLMN}{i:010}")
                .parse()
                .map_err(|e| AdminError::Refused(format!("{e}")))?,
            ki: random_key(keys)?,
            opc: Some(random_key(keys)?),
        };
        sims.push(admin::seal_sim(keys, TENANT, "sandbox-seed", &sim)?);
    }
    for i in 0..config.sandbox.esim_profiles {
        let sim = NewSim {
            iccid: esim_iccid(i)?,
            imsi: format!("{PLMN}1{i:09}")
                .parse()
                .map_err(|e| AdminError::Refused(format!("{e}")))?,
            ki: random_key(keys)?,
            opc: Some(random_key(keys)?),
        };
        let mut rec = admin::seal_sim(keys, TENANT, "sandbox-esim", &sim)?;
        rec.esim_profile_type = Some(ESIM_PROFILE_TYPE.into());
        sims.push(rec);
    }
    admin::apply(
        store,
        AdminChange::Batch(vec![
            AdminChange::PutTenant(tenant),
            operator_key,
            channel_key,
            readonly_key,
            AdminChange::AddSims(sims),
            AdminChange::AddNumbers {
                tenant: TENANT.into(),
                block: "sandbox-1700".into(),
                first: FIRST_MSISDN
                    .parse()
                    .map_err(|e| AdminError::Refused(format!("{e}")))?,
                count: u64::from(config.sandbox.numbers),
            },
            marker_change(keys, &api_keys)?,
        ]),
    )
    .await?;
    Ok(api_keys)
}

/// Upgrades a sandbox seeded before keys had roles: its one key stays, as the operator key
/// (its record has no role), and a channel and a readonly key join it. The keys and the
/// marker naming them are one commit: after a crash before it, the next start mints again.
async fn add_role_keys(
    store: &dyn StoreAdmin,
    keys: &Keyring,
    operator: String,
    now: u64,
) -> Result<ApiKeys, AdminError> {
    let (channel, channel_key) =
        admin::new_api_key(keys, TENANT, Role::Channel, "sandbox-channel", now)?;
    let (readonly, readonly_key) =
        admin::new_api_key(keys, TENANT, Role::Readonly, "sandbox-readonly", now)?;
    let api_keys = ApiKeys {
        channel,
        operator,
        readonly,
    };
    let marker = marker_change(keys, &api_keys)?;
    admin::apply(
        store,
        AdminChange::Batch(vec![channel_key, readonly_key, marker]),
    )
    .await?;
    Ok(api_keys)
}

/// The change that stores the sealed marker naming `api_keys`.
fn marker_change(keys: &Keyring, api_keys: &ApiKeys) -> Result<AdminChange, AdminError> {
    let marker = zeroize::Zeroizing::new(
        serde_json::to_vec(&Marker {
            api_key: api_keys.operator.clone(),
            channel: Some(api_keys.channel.clone()),
            readonly: Some(api_keys.readonly.clone()),
        })
        .map_err(|e| AdminError::Refused(e.to_string()))?,
    );
    let sealed = serde_json::to_vec(&keys.seal(MARKER, &marker)?)
        .map_err(|e| AdminError::Refused(e.to_string()))?;
    Ok(AdminChange::PutMeta {
        key: MARKER.into(),
        value: sealed,
    })
}

/// The ICCID of sandbox physical SIM `i`.
pub fn physical_iccid(i: u32) -> Result<Iccid, AdminError> {
    Iccid::from_payload(&format!("8986009900000{i:06}"))
        .map_err(|e| AdminError::Refused(e.to_string()))
}

/// The ICCID of sandbox eSIM profile `i`.
pub fn esim_iccid(i: u32) -> Result<Iccid, AdminError> {
    Iccid::from_payload(&format!("8986009900100{i:06}"))
        .map_err(|e| AdminError::Refused(e.to_string()))
}

/// A fresh random 128-bit key (a seeded SIM's Ki or OPc).
pub(crate) fn random_key(keys: &Keyring) -> Result<Key128, AdminError> {
    let mut b = [0u8; 16];
    keys.random(&mut b)?;
    Ok(Key128::from_bytes(b))
}

/// A random 26-character base32 secret (simulator passwords and keys).
pub(crate) fn random_password() -> Result<String, StartError> {
    let mut b = [0u8; 16];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b)
        .map_err(|_| StartError::Io("system random source failed".into()))?;
    Ok(crate::crypto::base32(&b))
}

/// Writes a file atomically (temp file, fsync, rename), 0600 since it holds an API key.
fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("json.tmp");
    write_private(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}
