//! Builds the host operator's HLR adapter from configuration. The engine only ever sees
//! `dyn HlrProvisioner`; this is the one place that knows which dialect is behind it.

use crate::app::StartError;
use crate::config::HlrConfig;
use adapters::cai3g::codec::Password;
use adapters::cai3g::{Cai3gConfig, Cai3gHlr, CodeTable};
use adapters::hlr::HlrProvisioner;
use std::sync::Arc;
use std::time::Duration;

/// The HLR named by `[hlr]` (URL, credentials from `password`, `password_file` or the
/// `SIMGW_HLR_PASSWORD` environment variable), keeping `pool` idle connections (the
/// engine's `hlr_concurrency`).
pub fn hlr_from_config(
    cfg: &HlrConfig,
    pool: usize,
) -> Result<Arc<dyn HlrProvisioner>, StartError> {
    let url = cfg.url.as_deref().ok_or_else(|| {
        StartError::Southbound(
            "no HLR configured: set [hlr] url in the config file, or run with --sandbox".into(),
        )
    })?;
    if let Some(addr) = url.strip_prefix("osmo-ctrl://") {
        return osmo(addr, cfg);
    }
    if cfg.dialect == "osmo-ctrl" {
        return Err(StartError::Southbound(format!(
            "hlr.url `{url}`: the osmo-ctrl dialect takes osmo-ctrl://HOST:PORT"
        )));
    }
    let password = match (&cfg.password, &cfg.password_file) {
        (_, Some(path)) => std::fs::read_to_string(path)
            .map_err(|e| {
                StartError::Southbound(format!("hlr.password_file {}: {e}", path.display()))
            })?
            .trim()
            .to_owned(),
        (Some(p), None) => p.clone(),
        (None, None) => std::env::var("SIMGW_HLR_PASSWORD").map_err(|_| {
            StartError::Southbound(
                "no HLR password: set hlr.password_file or SIMGW_HLR_PASSWORD".into(),
            )
        })?,
    };
    let ca = cfg
        .ca_file
        .as_ref()
        .map(|p| {
            std::fs::read(p)
                .map_err(|e| StartError::Southbound(format!("hlr.ca_file {}: {e}", p.display())))
        })
        .transpose()?;
    cai3g(url, &cfg.user, &password, ca, cfg, pool)
}

/// An OsmoHLR control-interface adapter for `HOST:PORT` (no credentials: CTRL has none,
/// so it must only ever be reached over loopback or a private link).
pub fn osmo(addr: &str, cfg: &HlrConfig) -> Result<Arc<dyn HlrProvisioner>, StartError> {
    let addr = addr.trim_end_matches('/').parse().map_err(|_| {
        StartError::Southbound(format!(
            "osmo-ctrl://{addr}: expected osmo-ctrl://IP:PORT, e.g. osmo-ctrl://127.0.0.2:4259"
        ))
    })?;
    let config = adapters::osmo::OsmoConfig {
        addr,
        request_timeout: Duration::from_millis(cfg.timeout_ms),
    };
    Ok(Arc::new(adapters::osmo::OsmoHlr::new(config)))
}

/// A CAI3G 1.2 adapter for `url`, keeping `pool` idle connections: the calls the engine
/// runs at once (`[engine] hlr_concurrency`), or every call beyond them pays a TLS
/// handshake.
pub fn cai3g(
    url: &str,
    user: &str,
    password: &str,
    ca_pem: Option<Vec<u8>>,
    cfg: &HlrConfig,
    pool: usize,
) -> Result<Arc<dyn HlrProvisioner>, StartError> {
    let codes = match &cfg.codes {
        Some(c) => CodeTable {
            session: c.session.clone(),
            already_exists: c.already_exists.clone(),
            not_found: c.not_found.clone(),
            transient: c.transient.clone(),
            validation: c.validation.clone(),
            partial_success: c.partial_success.clone(),
        },
        None => CodeTable::default(),
    };
    let config = Cai3gConfig {
        base_url: url.to_owned(),
        auc_url: cfg.auc_url.clone(),
        session_url: cfg.session_url.clone(),
        user_id: user.to_owned(),
        password: Password::new(password.to_owned()),
        request_timeout: Duration::from_millis(cfg.timeout_ms),
        session_refresh: (cfg.session_refresh_secs > 0)
            .then(|| Duration::from_secs(cfg.session_refresh_secs)),
        codes,
        ca_pem,
        max_idle_connections: pool.max(1),
    };
    let hlr =
        Cai3gHlr::new(config).map_err(|e| StartError::Southbound(format!("CAI3G adapter: {e}")))?;
    Ok(Arc::new(hlr))
}

fn read_file(what: &str, path: Option<&std::path::Path>) -> Result<Vec<u8>, StartError> {
    let path = path.ok_or_else(|| {
        StartError::Southbound(format!("[esim] smdp_url is set but `{what}` is not"))
    })?;
    std::fs::read(path)
        .map_err(|e| StartError::Southbound(format!("esim.{what} {}: {e}", path.display())))
}

/// The SM-DP+ named by `[esim]`, or `None` when no `smdp_url` is set (eSIM disabled).
pub fn smdp_from_config(
    cfg: &crate::config::EsimConfig,
) -> Result<Option<crate::engine::EsimSettings>, StartError> {
    use adapters::es2plus::{Es2Client, Es2ClientConfig, Fqdn};
    let Some(url) = &cfg.smdp_url else {
        return Ok(None);
    };
    // One kept connection per ES2+ call in flight.
    let client = Es2Client::with_pool(
        Es2ClientConfig {
            base_url: url.clone(),
            requester_id: cfg.requester_id.clone(),
            client_cert_pem: read_file("client_cert_file", cfg.client_cert_file.as_deref())?,
            client_key_pem: zeroize::Zeroizing::new(read_file(
                "client_key_file",
                cfg.client_key_file.as_deref(),
            )?),
            roots_pem: read_file("smdp_ca_file", cfg.smdp_ca_file.as_deref())?,
            pad_iccid: cfg.pad_iccid,
            timeout: Duration::from_millis(cfg.timeout_ms),
        },
        cfg.concurrency,
    )
    .map_err(|e| StartError::Southbound(format!("esim.smdp_url: {e}")))?;
    let address = cfg.smdp_address.clone().ok_or_else(|| {
        StartError::Southbound(
            "[esim] smdp_url is set but `smdp_address` (the FQDN for activation codes) is not"
                .into(),
        )
    })?;
    // Upper case: DNS ignores case, and QR codes use the denser alphanumeric mode.
    let smdp_address = Fqdn::new(&address.to_ascii_uppercase()).map_err(|_| {
        StartError::Southbound(format!(
            "esim.smdp_address `{address}` is not a host name (letters, digits, `-` and `.`)"
        ))
    })?;
    Ok(Some(crate::engine::EsimSettings {
        client: Arc::new(client),
        requester_id: cfg.requester_id.clone(),
        smdp_address,
        expiry: (cfg.expiry_hours > 0).then(|| Duration::from_secs(cfg.expiry_hours * 3600)),
        concurrency: cfg.concurrency,
    }))
}

/// The identity verification service named by `[identity]`, or `None` when no `url` is
/// set. Credentials are read from their files here and held zeroised by the client.
pub fn identity_from_config(
    cfg: &crate::config::IdentityConfig,
) -> Result<Option<Arc<dyn adapters::identity::IdentityVerifier>>, StartError> {
    use adapters::identity::{ClientAuth, ClientIdentity, IdentityClient, IdentityClientConfig};
    use zeroize::Zeroizing;
    let Some(url) = &cfg.url else {
        return Ok(None);
    };
    let read = |what: &str, path: Option<&std::path::Path>| -> Result<Vec<u8>, StartError> {
        let path = path.ok_or_else(|| {
            StartError::Southbound(format!("[identity] url is set but `{what}` is not"))
        })?;
        std::fs::read(path)
            .map_err(|e| StartError::Southbound(format!("identity.{what} {}: {e}", path.display())))
    };
    let secret = |what: &str, path: &std::path::Path| -> Result<Zeroizing<String>, StartError> {
        let bytes = Zeroizing::new(read(what, Some(path))?);
        let text = std::str::from_utf8(&bytes).map_err(|_| {
            StartError::Southbound(format!("identity.{what} {}: not UTF-8", path.display()))
        })?;
        Ok(Zeroizing::new(text.trim().to_owned()))
    };
    let auth = match (
        &cfg.bearer_token_file,
        &cfg.api_key_header,
        &cfg.api_key_file,
    ) {
        (Some(path), _, _) => ClientAuth::Bearer(secret("bearer_token_file", path)?),
        (None, Some(header), Some(path)) => ClientAuth::ApiKey {
            header: header.clone(),
            key: secret("api_key_file", path)?,
        },
        _ => ClientAuth::None,
    };
    let identity = match (&cfg.client_cert_file, &cfg.client_key_file) {
        (Some(cert), Some(key)) => Some(ClientIdentity {
            cert_pem: read("client_cert_file", Some(cert))?,
            key_pem: Zeroizing::new(read("client_key_file", Some(key))?),
        }),
        _ => None,
    };
    // One kept connection per verification in flight.
    let client = IdentityClient::with_pool(
        IdentityClientConfig {
            base_url: url.clone(),
            auth,
            roots_pem: read("ca_file", cfg.ca_file.as_deref())?,
            identity,
            timeout: Duration::from_millis(cfg.timeout_ms),
        },
        cfg.concurrency,
    )
    .map_err(|e| StartError::Southbound(format!("identity.url: {e}")))?;
    Ok(Some(Arc::new(client)))
}

/// The porting hub client `[porting_hub]` names (`None` without `url`), keeping `pool`
/// idle connections.
pub fn porting_hub_from_config(
    cfg: &crate::config::PortingHubConfig,
    pool: usize,
) -> Result<Option<Arc<dyn adapters::porting::PortingHub>>, StartError> {
    use adapters::porting::{ClientIdentity, PortingHubClient, PortingHubClientConfig};
    let Some(url) = &cfg.url else {
        return Ok(None);
    };
    let read = |what: &str, path: Option<&std::path::Path>| -> Result<Vec<u8>, StartError> {
        let path = path.ok_or_else(|| {
            StartError::Southbound(format!("[porting_hub] url is set but `{what}` is not"))
        })?;
        std::fs::read(path).map_err(|e| {
            StartError::Southbound(format!("porting_hub.{what} {}: {e}", path.display()))
        })
    };
    let client = PortingHubClient::with_pool(
        PortingHubClientConfig {
            base_url: url.clone(),
            roots_pem: read("ca_file", cfg.ca_file.as_deref())?,
            identity: ClientIdentity {
                cert_pem: read("client_cert_file", cfg.client_cert_file.as_deref())?,
                key_pem: zeroize::Zeroizing::new(read(
                    "client_key_file",
                    cfg.client_key_file.as_deref(),
                )?),
            },
            timeout: Duration::from_millis(cfg.timeout_ms),
        },
        pool,
    )
    .map_err(|e| StartError::Southbound(format!("porting_hub.url: {e}")))?;
    Ok(Some(Arc::new(client)))
}
