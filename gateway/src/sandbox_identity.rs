//! The sandbox's identity verifier: the conformance crate's simulator on loopback, its
//! server certificate issued by the dev CA, and the gateway's verifier client wired to it.
//! The simulator requires an API key that is fresh at every start (only this process calls
//! it), and by default it passes well-formed evidence, so the sandbox's market tenants can
//! open lines. The order path takes [`SandboxIdentity::verifier`].

use crate::app::StartError;
use crate::tls::DevCa;
use adapters::identity::{ClientAuth, IdentityClient, IdentityClientConfig, IdentityVerifier};
use conformance::identity_sim::{self, IdentitySimConfig, IdentitySimHandle, server_tls_config};
use std::sync::Arc;
use std::time::Duration;
use zeroize::Zeroizing;

/// The header carrying the simulator's API key.
pub const API_KEY_HEADER: &str = "X-Api-Key";

/// Bound on one verification call; the order path's retry policy sits above it.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// The running simulator and the client the gateway verifies identities with.
pub struct SandboxIdentity {
    /// The simulator (fault injection, counters, shutdown).
    pub sim: IdentitySimHandle,
    /// The gateway's verifier, pointed at the simulator.
    pub verifier: Arc<dyn IdentityVerifier>,
}

impl SandboxIdentity {
    /// The simulator's base URL (`https://127.0.0.1:<port>`).
    pub fn url(&self) -> String {
        self.sim.url()
    }
}

impl std::fmt::Debug for SandboxIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxIdentity")
            .field("url", &self.sim.url())
            .finish_non_exhaustive()
    }
}

fn sim_err(e: impl std::fmt::Display) -> StartError {
    StartError::Southbound(format!("identity verification simulator: {e}"))
}

/// Starts the simulator on `127.0.0.1` (a free port) and builds the client for it.
pub async fn start(ca: &DevCa) -> Result<SandboxIdentity, StartError> {
    let ca_pem = std::fs::read(&ca.cert_path)
        .map_err(|e| StartError::Io(format!("{}: {e}", ca.cert_path.display())))?;
    let server = ca.issue(
        "simgw sandbox identity verifier",
        &["localhost", "127.0.0.1"],
    )?;
    let tls = server_tls_config(server.cert_pem.as_bytes(), server.key_pem.as_bytes(), None)
        .map_err(sim_err)?;
    let auth = ClientAuth::ApiKey {
        header: API_KEY_HEADER.into(),
        key: Zeroizing::new(crate::sandbox::random_password()?),
    };
    let mut sim_cfg = IdentitySimConfig::new(tls);
    sim_cfg.auth = auth.clone();
    let sim = identity_sim::start(sim_cfg).await.map_err(sim_err)?;
    let client = IdentityClient::new(IdentityClientConfig {
        base_url: sim.url(),
        auth,
        roots_pem: ca_pem,
        identity: None,
        timeout: CALL_TIMEOUT,
    })
    .map_err(sim_err)?;
    Ok(SandboxIdentity {
        sim,
        verifier: Arc::new(client),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use adapters::identity::{
        Capture, ChannelContext, Evidence, FaceMatch, IdNumber, IdType, IdentityError, PersonName,
        RejectCode, Requirements, Score, Token, Verdict, VerificationRequest,
    };

    fn request(id: &str, number: &str) -> VerificationRequest {
        let tok = |s: &str| Token::parse(s, "t").expect("token");
        VerificationRequest {
            request_id: tok(id),
            name: PersonName::parse("张三").expect("name"),
            id_type: IdType::ResidentId,
            id_number: IdNumber::parse(number).expect("id"),
            nationality: None,
            id_expiry: None,
            capture: Capture::CardReader {
                reader_serial: tok("R-1"),
                payload_ref: None,
            },
            evidence: Some(Evidence::FaceMatch(FaceMatch {
                transaction_id: tok("fm-1"),
                score: Score::new(0.93).expect("score"),
                liveness: true,
            })),
            channel: ChannelContext::default(),
            requirements: Requirements {
                evidence_required: true,
                manual_capture_allowed: false,
            },
        }
    }

    #[tokio::test]
    async fn the_gateway_verifies_against_the_simulator_over_tls_with_its_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let ca = DevCa::load_or_create(dir.path()).expect("dev CA");
        let s = start(&ca).await.expect("started");
        assert!(s.url().starts_with("https://127.0.0.1:"), "{}", s.url());

        let pass = s
            .verifier
            .verify(&request("r-1", "11010519491231002X"))
            .await
            .expect("decision");
        assert_eq!(pass.verdict, Verdict::Pass);
        let reject = s
            .verifier
            .verify(&request("r-2", "110105194912310021"))
            .await
            .expect("decision");
        assert_eq!(
            reject.verdict,
            Verdict::Reject(RejectCode::IdentityMismatch)
        );

        // Without the key the simulator answers nothing usable.
        let ca_pem = std::fs::read(&ca.cert_path).expect("ca");
        let keyless = IdentityClient::new(IdentityClientConfig {
            base_url: s.url(),
            auth: ClientAuth::None,
            roots_pem: ca_pem,
            identity: None,
            timeout: CALL_TIMEOUT,
        })
        .expect("client");
        let err = keyless
            .verify(&request("r-3", "11010519491231002X"))
            .await
            .expect_err("refused");
        assert_eq!(err, IdentityError::Refused { status: 401 });
        assert_eq!(s.sim.counts().unauthorized, 1);
        s.sim.shutdown().await;
    }
}
