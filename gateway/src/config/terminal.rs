//! `[terminal]`: the store terminal page (`/terminal/`, docs/terminal.md).

use super::ConfigError;
use serde::Deserialize;

/// The store terminal (`[terminal]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TerminalConfig {
    /// Serve `/terminal/` and `/terminal/api/` (default true).
    pub enabled: bool,
    /// The ID card reader service on each terminal machine, as the page reaches it
    /// (`http://127.0.0.1:PORT`); the page's Content-Security-Policy allows only it
    /// besides the gateway. `serve --sandbox` points it at its reader simulator.
    pub id_reader_url: String,
}

impl Default for TerminalConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            id_reader_url: "http://127.0.0.1:17480".to_owned(),
        }
    }
}

impl TerminalConfig {
    /// Checks that `id_reader_url` is a plain origin on the terminal machine itself: a
    /// reader elsewhere would send ID cards across the store's network.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if reader_origin(&self.id_reader_url).is_none() {
            return Err(ConfigError::Invalid {
                field: "terminal.id_reader_url",
                message: format!(
                    "`{}` must be http://127.0.0.1:PORT or http://localhost:PORT (the reader service on the terminal machine), with no path",
                    self.id_reader_url
                ),
            });
        }
        Ok(())
    }
}

/// `url` as a loopback origin (`http://127.0.0.1:PORT`), or `None`.
pub fn reader_origin(url: &str) -> Option<&str> {
    let origin = url.trim_end_matches('/');
    let rest = origin.strip_prefix("http://")?;
    let (host, port) = rest.rsplit_once(':')?;
    let port_ok = !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit());
    (matches!(host, "127.0.0.1" | "localhost" | "[::1]") && port_ok).then_some(origin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_origins_are_readers() {
        assert_eq!(
            reader_origin("http://127.0.0.1:17480/"),
            Some("http://127.0.0.1:17480")
        );
        assert!(reader_origin("http://localhost:1").is_some());
        for bad in [
            "https://127.0.0.1:1",
            "http://10.0.0.1:17480",
            "http://127.0.0.1",
            "http://127.0.0.1:17480/v1",
            "http://127.0.0.1:x",
            "http://127.0.0.1:17480 'unsafe-inline'",
        ] {
            assert!(reader_origin(bad).is_none(), "{bad}");
        }
    }
}
