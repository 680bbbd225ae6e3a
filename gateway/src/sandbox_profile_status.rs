//! The sandbox's [`ProfileStatus`]: the SM-DP+ simulator's admin API (`GET /sim/state`,
//! on its mutual-TLS listener, reached with the gateway's ES2+ client identity). A real
//! SM-DP+ has no such query in SGP.22 v2 ES2+; a vendor that offers one gets an
//! implementation of its own beside this one.

use adapters::es2plus::{BoxFuture, ProfileState, ProfileStatus, ProfileStatusError};
use adapters::http::HttpClient;
use serde::Deserialize;
use sim_profiles::Iccid;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// `GET /sim/state` as far as reconciliation reads it.
#[derive(Deserialize)]
struct StateDump {
    profiles: Vec<ProfileView>,
}

#[derive(Deserialize)]
struct ProfileView {
    iccid: String,
    state: String,
}

/// Reads profile states from the SM-DP+ simulator's admin API.
pub struct SimAdminStatus {
    client: HttpClient,
    url: String,
}

impl SimAdminStatus {
    /// A reader of `admin_url` + `state` (`admin_url` ends in `/sim/`), trusting `ca_pem`
    /// and presenting the client identity `cert_pem`/`key_pem`.
    pub fn new(
        admin_url: &str,
        ca_pem: &[u8],
        cert_pem: &[u8],
        key_pem: &[u8],
    ) -> Result<Self, ProfileStatusError> {
        let client = HttpClient::builder()
            .add_root_pem(ca_pem)
            .identity_pem(cert_pem, key_pem)
            .request_timeout(Duration::from_secs(30))
            .body_limit(64 * 1024 * 1024)
            .build()
            .map_err(|e| ProfileStatusError(format!("SM-DP+ simulator admin client: {e}")))?;
        Ok(Self {
            client,
            url: format!("{admin_url}state"),
        })
    }
}

impl ProfileStatus for SimAdminStatus {
    fn source(&self) -> &'static str {
        "smdp-sim admin"
    }

    fn states<'a>(
        &'a self,
        iccids: &'a [Iccid],
    ) -> BoxFuture<'a, Result<BTreeMap<Iccid, ProfileState>, ProfileStatusError>> {
        Box::pin(async move {
            let r = self
                .client
                .get(&self.url, &[])
                .await
                .map_err(|e| ProfileStatusError(format!("GET /sim/state: {e}")))?;
            if r.status != 200 {
                return Err(ProfileStatusError(format!(
                    "GET /sim/state answered {}",
                    r.status
                )));
            }
            let dump: StateDump = serde_json::from_slice(&r.body)
                .map_err(|e| ProfileStatusError(format!("GET /sim/state: {e}")))?;
            let wanted: BTreeSet<&Iccid> = iccids.iter().collect();
            Ok(dump
                .profiles
                .into_iter()
                .filter_map(|p| {
                    let iccid = p.iccid.parse::<Iccid>().ok()?;
                    wanted
                        .contains(&iccid)
                        .then(|| (iccid, ProfileState::parse(&p.state)))
                })
                .collect())
        })
    }
}
