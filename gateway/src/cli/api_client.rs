//! The client side of a running gateway's API, for commands that act on live orders
//! (`simgw activation …`): where the API is and how to authenticate, and the requests.

use super::CliError;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Where a command reaches a running gateway, as its flags say: a sandbox file, or the
/// explicit values that override it.
#[derive(clap::Args)]
pub(super) struct TargetArgs {
    /// Take the API address, key and CA from this sandbox.json.
    #[arg(long, default_value = "data/sandbox.json")]
    sandbox_file: PathBuf,
    /// The gateway's base URL (instead of the sandbox file's).
    #[arg(long, env = "SIMGW_BASE_URL")]
    base_url: Option<String>,
    /// The API key (instead of the sandbox file's).
    #[arg(long, env = "SIMGW_API_KEY", hide_env_values = true)]
    api_key: Option<String>,
    /// A CA certificate to trust (instead of the sandbox file's).
    #[arg(long)]
    ca_cert: Option<PathBuf>,
}

impl TargetArgs {
    /// The target: explicit values, the rest from the sandbox file.
    pub(super) fn target(self) -> Result<ApiTarget, CliError> {
        ApiTarget::resolve(
            &self.sandbox_file,
            self.base_url,
            self.api_key,
            self.ca_cert,
        )
    }

    /// The target for tenant `tenant` (without an explicit key, the sandbox file's
    /// operator key of that tenant).
    pub(super) fn target_for(self, tenant: &str) -> Result<ApiTarget, CliError> {
        ApiTarget::resolve_for(
            &self.sandbox_file,
            tenant,
            self.base_url,
            self.api_key,
            self.ca_cert,
        )
    }
}

/// Where a command reaches a running gateway's API.
pub(super) struct ApiTarget {
    base_url: String,
    api_key: zeroize::Zeroizing<String>,
    ca_pem: Option<Vec<u8>>,
}

/// The fields of `sandbox.json` (contract.md) a client needs. Read on their own, so this
/// client works in a build without the sandbox and with any later sandbox.json.
#[derive(Deserialize)]
struct SandboxEndpoint {
    base_url: String,
    ca_cert: PathBuf,
    api_key: String,
    #[serde(default)]
    markets: std::collections::BTreeMap<String, SandboxMarket>,
}

/// A market tenant of `sandbox.json` (its operator key).
#[derive(Deserialize)]
struct SandboxMarket {
    tenant: String,
    api_key: String,
}

impl SandboxEndpoint {
    fn read(path: &Path) -> Result<Self, CliError> {
        let bytes = std::fs::read(path).map_err(|source| CliError::NoSandboxFile {
            path: path.to_owned(),
            source,
        })?;
        serde_json::from_slice(&bytes).map_err(|source| CliError::NotASandboxFile {
            path: path.to_owned(),
            source,
        })
    }
}

impl ApiTarget {
    /// Explicit values win; anything missing comes from `sandbox_file`.
    fn resolve(
        sandbox_file: &Path,
        base_url: Option<String>,
        api_key: Option<String>,
        ca_cert: Option<PathBuf>,
    ) -> Result<Self, CliError> {
        let (base_url, api_key, ca) = match (base_url, api_key) {
            (Some(b), Some(k)) => (b, k, ca_cert),
            (b, k) => {
                let sb = SandboxEndpoint::read(sandbox_file)?;
                (
                    b.unwrap_or(sb.base_url),
                    k.unwrap_or(sb.api_key),
                    ca_cert.or(Some(sb.ca_cert)),
                )
            }
        };
        let ca_pem = ca
            .map(|p| std::fs::read(&p).map_err(CliError::io(p)))
            .transpose()?;
        Ok(Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            api_key: zeroize::Zeroizing::new(api_key),
            ca_pem,
        })
    }

    /// As [`ApiTarget::resolve`], but for tenant `tenant`: without an explicit key, the
    /// sandbox file's operator key of that tenant (a market tenant's, or the sandbox's).
    fn resolve_for(
        sandbox_file: &Path,
        tenant: &str,
        base_url: Option<String>,
        api_key: Option<String>,
        ca_cert: Option<PathBuf>,
    ) -> Result<Self, CliError> {
        if api_key.is_some() {
            return Self::resolve(sandbox_file, base_url, api_key, ca_cert);
        }
        let sb = SandboxEndpoint::read(sandbox_file)?;
        let key = sb
            .markets
            .values()
            .find(|m| m.tenant == tenant)
            .map_or(sb.api_key, |m| m.api_key.clone());
        Self::resolve(sandbox_file, base_url, Some(key), ca_cert)
    }

    /// `GET path` with the API key; the JSON body of a 200, or the problem's detail.
    async fn get_json(&self, path: &str) -> Result<serde_json::Value, CliError> {
        let mut b = adapters::http::HttpClient::builder();
        if let Some(ca) = &self.ca_pem {
            b = b.add_root_pem(ca);
        }
        let http = b.build()?;
        let url = format!("{}{path}", self.base_url);
        let failed = |problem: String| CliError::Api {
            url: url.clone(),
            problem,
        };
        let r = http
            .get(
                &url,
                &[("authorization", format!("Bearer {}", self.api_key.as_str()))],
            )
            .await
            .map_err(|e| failed(e.to_string()))?;
        let v: serde_json::Value = serde_json::from_slice(&r.body)
            .map_err(|_| failed(format!("HTTP {} without a JSON body", r.status)))?;
        if r.status != 200 {
            return Err(failed(format!(
                "HTTP {}: {}",
                r.status,
                v["detail"].as_str().unwrap_or("no detail")
            )));
        }
        Ok(v)
    }
}

impl ApiTarget {
    /// `method path` with the API key and an optional JSON body; the status and the JSON
    /// body (`Null` when there is none). Transport failures are errors; statuses are not.
    pub(super) async fn send_json(
        &self,
        method: http::Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<(u16, serde_json::Value), CliError> {
        let mut b = adapters::http::HttpClient::builder();
        if let Some(ca) = &self.ca_pem {
            b = b.add_root_pem(ca);
        }
        let http = b.build()?;
        let url = format!("{}{path}", self.base_url);
        let mut headers = vec![("authorization", format!("Bearer {}", self.api_key.as_str()))];
        if body.is_some() {
            headers.push(("content-type", "application/json".to_owned()));
        }
        let payload = body.map(|b| b.to_string()).unwrap_or_default();
        let r = http
            .request(method, &url, &headers, bytes::Bytes::from(payload))
            .await
            .map_err(|e| CliError::Api {
                url: url.clone(),
                problem: e.to_string(),
            })?;
        Ok((
            r.status,
            serde_json::from_slice(&r.body).unwrap_or(serde_json::Value::Null),
        ))
    }
}

/// The order's activation code and its QR as terminal text.
pub(super) async fn activation_qr(target: &ApiTarget, id: &str) -> Result<String, CliError> {
    let v = target.get_json(&format!("/v1/activations/{id}")).await?;
    let Some(code) = v["activation_code"].as_str() else {
        return Err(CliError::NoActivationCode {
            id: id.to_owned(),
            status: v["status"].as_str().unwrap_or("?").to_owned(),
        });
    };
    let lpa = format!("LPA:{code}");
    let qr = crate::qr::qr_terminal(&lpa)?;
    Ok(format!("{qr}\n{lpa}\n"))
}
