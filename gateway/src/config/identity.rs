//! `[identity]`: the tenant's identity verification service (real-name registration),
//! asked before any southbound step of an activation whose subscriber is valid. The
//! protocol is in `docs/identity-verifier.md`. Credentials live in files (0600), never in
//! the config file itself.

use super::ConfigError;
use serde::Deserialize;
use std::path::PathBuf;

/// The identity verification service (`[identity]`). Without `url` there is none: an
/// order whose tenant policy requires identity then fails `identity_service_unavailable`,
/// any other order skips the check (the sandbox always has its simulator).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IdentityConfig {
    /// The service's base URL (`https://…`); `/v1/verifications` is appended.
    pub url: Option<String>,
    /// CA certificate(s) (PEM) that issue the service's TLS certificate (required with
    /// `url`: no public web roots are trusted).
    pub ca_file: Option<PathBuf>,
    /// Our TLS client certificate chain (PEM), if the service wants mutual TLS.
    pub client_cert_file: Option<PathBuf>,
    /// Its private key (PEM).
    pub client_key_file: Option<PathBuf>,
    /// A file holding a bearer token (`Authorization: Bearer …`).
    pub bearer_token_file: Option<PathBuf>,
    /// The header an API key travels in (for example `X-Api-Key`), with `api_key_file`.
    pub api_key_header: Option<String>,
    /// A file holding the API key.
    pub api_key_file: Option<PathBuf>,
    /// Bound on one call (connect, send, the whole answer), ms.
    pub timeout_ms: u64,
    /// An order retries an unavailable service at most this long from its first attempt
    /// (and at most `[engine] max_attempts` times), then fails; seconds.
    pub give_up_after_secs: u64,
    /// Most verification calls in flight.
    pub concurrency: usize,
    /// How long `POST /v1/activations` waits for the verifier before the order's create
    /// commit, ms (0, the default: never; the engine asks after the commit, and makes the
    /// HLR call that the create commit recorded ahead of the verification on a pass). A
    /// pass or a flag within it is in the `202` and recorded by the create commit; anything
    /// else is asked again after the commit under the same request id. Either way a
    /// verified physical order costs two durable writes; waiting only puts the verifier's
    /// round trip on the request's path.
    pub before_create_wait_ms: u64,
}

impl Default for IdentityConfig {
    fn default() -> Self {
        Self {
            url: None,
            ca_file: None,
            client_cert_file: None,
            client_key_file: None,
            bearer_token_file: None,
            api_key_header: None,
            api_key_file: None,
            timeout_ms: 10_000,
            give_up_after_secs: 300,
            concurrency: 32,
            before_create_wait_ms: 0,
        }
    }
}

impl IdentityConfig {
    /// Checks ranges and combinations that serde cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |field, message: &str| ConfigError::Invalid {
            field,
            message: message.into(),
        };
        if !(100..=120_000).contains(&self.timeout_ms) {
            return Err(invalid("identity.timeout_ms", "must be from 100 to 120000"));
        }
        if self.before_create_wait_ms > 120_000 {
            return Err(invalid(
                "identity.before_create_wait_ms",
                "must be from 0 (never) to 120000",
            ));
        }
        if self.concurrency == 0 {
            return Err(invalid("identity.concurrency", "must be at least 1"));
        }
        if self.give_up_after_secs == 0 {
            return Err(invalid("identity.give_up_after_secs", "must be at least 1"));
        }
        if self.client_cert_file.is_some() != self.client_key_file.is_some() {
            return Err(invalid(
                "identity.client_cert_file",
                "set both client_cert_file and client_key_file, or neither",
            ));
        }
        if self.api_key_header.is_some() != self.api_key_file.is_some() {
            return Err(invalid(
                "identity.api_key_header",
                "set both api_key_header and api_key_file, or neither",
            ));
        }
        if self.bearer_token_file.is_some() && self.api_key_file.is_some() {
            return Err(invalid(
                "identity.bearer_token_file",
                "use a bearer token or an API key, not both",
            ));
        }
        if self.url.is_some() && self.ca_file.is_none() {
            return Err(invalid(
                "identity.ca_file",
                "required with identity.url: the CA certificate(s) of the verifier's TLS certificate",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<IdentityConfig, String> {
        let c: IdentityConfig = toml::from_str(text).map_err(|e| e.to_string())?;
        c.validate().map_err(|e| e.to_string())?;
        Ok(c)
    }

    #[test]
    fn defaults_and_a_full_section() {
        let d = parse("").expect("defaults");
        assert_eq!(
            (d.url, d.timeout_ms, d.give_up_after_secs),
            (None, 10_000, 300)
        );
        let c = parse(
            r#"url = "https://idv.example"
ca_file = "idv-ca.pem"
client_cert_file = "c.pem"
client_key_file = "c.key"
api_key_header = "X-Api-Key"
api_key_file = "idv.key"
timeout_ms = 5000
give_up_after_secs = 60
concurrency = 4"#,
        )
        .expect("full");
        assert_eq!(c.api_key_header.as_deref(), Some("X-Api-Key"));
    }

    #[test]
    fn inconsistent_sections_are_refused_naming_the_key() {
        for (text, field) in [
            ("url = \"https://idv.example\"", "identity.ca_file"),
            ("client_cert_file = \"c.pem\"", "identity.client_cert_file"),
            ("api_key_file = \"k\"", "identity.api_key_header"),
            (
                "bearer_token_file = \"t\"\napi_key_header = \"X\"\napi_key_file = \"k\"",
                "identity.bearer_token_file",
            ),
            ("timeout_ms = 0", "identity.timeout_ms"),
            ("concurrency = 0", "identity.concurrency"),
        ] {
            let err = parse(text).expect_err(text);
            assert!(err.contains(field), "{text}: {err}");
        }
        assert!(parse("secret = \"x\"").is_err(), "unknown keys are refused");
    }
}
