//! `[api]`, `[admission]` and `[metrics]`: the northbound listener, its limits and admission
//! control, and the metrics listener.

use super::ConfigError;
use serde::Deserialize;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

/// Admission control (`[admission]`): how many accepted orders may wait for the host
/// operator before `POST /v1/activations` answers `503 backlog_full`.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdmissionConfig {
    /// Most orders accepted and not yet active or failed, over all tenants.
    pub max_backlog: u64,
    /// Most such orders of one tenant, so one brand cannot fill the gateway for all.
    pub max_backlog_per_tenant: u64,
}

impl Default for AdmissionConfig {
    fn default() -> Self {
        Self {
            max_backlog: 5_000,
            max_backlog_per_tenant: 2_000,
        }
    }
}

impl AdmissionConfig {
    /// The bounds as the backlog applies them.
    pub fn limits(&self) -> crate::admission::Limits {
        crate::admission::Limits {
            overall: self.max_backlog,
            per_tenant: self.max_backlog_per_tenant,
        }
    }
}

/// Northbound API limits.
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApiConfig {
    /// Largest accepted request body in bytes; larger bodies get 413.
    pub max_body_bytes: usize,
    /// Most open client connections; further ones wait to be accepted.
    pub max_connections: usize,
    /// Largest batch file accepted by `POST /v1/inventory/imports`.
    pub max_import_bytes: usize,
    /// Most open connections from one client address (an IPv6 client: its /64); further
    /// ones are closed at once, so one client cannot take every `max_connections` slot.
    pub max_connections_per_ip: usize,
    /// Longest a client may take to complete the TLS handshake, ms.
    pub tls_handshake_timeout_ms: u64,
    /// Longest a client may take to send its first request on a new connection (HTTP/1.1
    /// and HTTP/2), and the headers of each HTTP/1.1 request, ms.
    pub header_read_timeout_ms: u64,
    /// A connection with no request in flight for this long is closed, ms.
    pub idle_timeout_ms: u64,
    /// HTTP/2: how long a connection may stay silent before the gateway pings it, ms.
    pub keep_alive_interval_ms: u64,
    /// HTTP/2: a ping not acknowledged within this closes the connection, ms.
    pub keep_alive_timeout_ms: u64,
    /// HTTP/2: most requests in flight at once on one connection.
    pub max_concurrent_streams: u32,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            max_body_bytes: 16 * 1024,
            max_connections: 4096,
            max_import_bytes: 512 * 1024 * 1024,
            max_connections_per_ip: 256,
            tls_handshake_timeout_ms: 5_000,
            header_read_timeout_ms: 10_000,
            idle_timeout_ms: 30_000,
            keep_alive_interval_ms: 20_000,
            keep_alive_timeout_ms: 10_000,
            max_concurrent_streams: 100,
        }
    }
}

impl ApiConfig {
    pub(super) fn validate(&self) -> Result<(), ConfigError> {
        let positive = [
            ("api.max_connections", self.max_connections as u64),
            (
                "api.max_connections_per_ip",
                self.max_connections_per_ip as u64,
            ),
            (
                "api.tls_handshake_timeout_ms",
                self.tls_handshake_timeout_ms,
            ),
            ("api.header_read_timeout_ms", self.header_read_timeout_ms),
            ("api.idle_timeout_ms", self.idle_timeout_ms),
            ("api.keep_alive_interval_ms", self.keep_alive_interval_ms),
            ("api.keep_alive_timeout_ms", self.keep_alive_timeout_ms),
            (
                "api.max_concurrent_streams",
                u64::from(self.max_concurrent_streams),
            ),
        ];
        for (field, v) in positive {
            if v == 0 {
                return Err(ConfigError::Invalid {
                    field,
                    message: "must be at least 1".into(),
                });
            }
        }
        Ok(())
    }
}

/// Where `[metrics] listen` binds when it is not set.
pub const DEFAULT_METRICS_LISTEN: SocketAddr =
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 9464));
/// Where `[esim] callback_listen` binds when it is not set (outside the sandbox).
pub const DEFAULT_CALLBACK_LISTEN: SocketAddr =
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 8444));

/// The Prometheus metrics listener (`[metrics]`): plain HTTP, apart from the API, because
/// the metrics name every tenant.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// `GET /metrics` listen address (keep it on loopback or a management network).
    /// Unset: `DEFAULT_METRICS_LISTEN`, or an ephemeral loopback port in the sandbox;
    /// `""`: no metrics listener.
    pub listen: Option<Listen>,
}

/// A listen address that may be switched off with `""`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listen {
    /// No listener.
    Off,
    /// Listen here (port 0: any free port).
    At(SocketAddr),
}

impl<'de> Deserialize<'de> for Listen {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        if s.trim().is_empty() {
            return Ok(Self::Off);
        }
        s.trim().parse().map(Self::At).map_err(|_| {
            serde::de::Error::custom(format!(
                "`{s}` is not an address: use \"IP:PORT\", or \"\" to turn it off"
            ))
        })
    }
}
