//! The client side of a running gateway's API, for commands that act on live orders
//! (`simgw activation …`): where the API is and how to authenticate, and the requests.

use std::path::{Path, PathBuf};

/// Where a command reaches a running gateway's API.
pub(super) struct ApiTarget {
    base_url: String,
    api_key: zeroize::Zeroizing<String>,
    ca_pem: Option<Vec<u8>>,
}

impl ApiTarget {
    /// Explicit values win; anything missing comes from `sandbox_file`.
    pub(super) fn resolve(
        sandbox_file: &Path,
        base_url: Option<String>,
        api_key: Option<String>,
        ca_cert: Option<PathBuf>,
    ) -> Result<Self, String> {
        let sandbox = || -> Result<crate::sandbox::SandboxFile, String> {
            let bytes = std::fs::read(sandbox_file).map_err(|e| {
                format!(
                    "{}: {e}; give --base-url, --api-key and --ca-cert, or run `simgw serve --sandbox` first",
                    sandbox_file.display()
                )
            })?;
            serde_json::from_slice(&bytes)
                .map_err(|e| format!("{}: not a sandbox.json: {e}", sandbox_file.display()))
        };
        let (base_url, api_key, ca) = match (base_url, api_key) {
            (Some(b), Some(k)) => (b, k, ca_cert),
            (b, k) => {
                let sb = sandbox()?;
                (
                    b.unwrap_or(sb.base_url),
                    k.unwrap_or(sb.api_key),
                    ca_cert.or(Some(sb.ca_cert.into())),
                )
            }
        };
        let ca_pem = ca
            .map(|p| std::fs::read(&p).map_err(|e| format!("{}: {e}", p.display())))
            .transpose()?;
        Ok(Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            api_key: zeroize::Zeroizing::new(api_key),
            ca_pem,
        })
    }
}

/// The order's activation code and its QR as terminal text.
pub(super) async fn activation_qr(target: &ApiTarget, id: &str) -> Result<String, String> {
    let mut b = adapters::http::HttpClient::builder();
    if let Some(ca) = &target.ca_pem {
        b = b.add_root_pem(ca);
    }
    let http = b.build().map_err(|e| e.to_string())?;
    let url = format!("{}/v1/activations/{id}", target.base_url);
    let r = http
        .get(
            &url,
            &[(
                "authorization",
                format!("Bearer {}", target.api_key.as_str()),
            )],
        )
        .await
        .map_err(|e| format!("{url}: {e}"))?;
    let v: serde_json::Value = serde_json::from_slice(&r.body)
        .map_err(|_| format!("{url}: HTTP {} without a JSON body", r.status))?;
    if r.status != 200 {
        return Err(format!(
            "{url}: HTTP {}: {}",
            r.status,
            v["detail"].as_str().unwrap_or("no detail")
        ));
    }
    let Some(code) = v["activation_code"].as_str() else {
        return Err(format!(
            "activation {id} has no activation code (status `{}`): only active eSIM orders have one",
            v["status"].as_str().unwrap_or("?")
        ));
    };
    let lpa = format!("LPA:{code}");
    let qr = crate::qr::qr_terminal(&lpa).map_err(|e| e.to_string())?;
    Ok(format!("{qr}\n{lpa}\n"))
}
