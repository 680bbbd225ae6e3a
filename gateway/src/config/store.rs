//! `[store]`: which backend holds the gateway's state, and how to reach PostgreSQL.
//! The database URL may carry a password: it is kept in [`DbUrl`], whose `Debug` and
//! `Display` print it with the password replaced by `***`, and no error here echoes it.

use super::ConfigError;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Which store implementation the gateway runs on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreBackend {
    /// The embedded redb file in the data dir (one node).
    #[default]
    Embedded,
    /// A PostgreSQL (or CockroachDB) database that several nodes may share.
    Postgres,
}

/// Store settings (`[store]`).
#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// `"embedded"` (default) or `"postgres"`.
    pub backend: StoreBackend,
    /// Most commands folded into one durable transaction by the group-commit writer
    /// (embedded).
    pub max_batch: usize,
    /// redb page cache size in MiB (embedded).
    pub cache_mib: usize,
    /// `postgres://user:password@host:port/db?sslmode=…` (postgres); or use `url_file`.
    pub url: Option<DbUrl>,
    /// A file (0600) holding the URL, so the password stays out of the config file.
    pub url_file: Option<PathBuf>,
    /// Most connections the node opens to the database.
    pub pool_size: usize,
    /// Server-side limit of one statement, ms (`statement_timeout`).
    pub statement_timeout_ms: u64,
    /// PEM CA bundle trusted for the database's TLS certificate. Unset: the system bundle.
    pub ca_file: Option<PathBuf>,
    /// How long a node owns an order it drives without renewing (postgres), ms; it renews
    /// at a third of this, and another node takes the order over once it lapses.
    pub lease_ms: u64,
    /// This node's id as the owner of order leases (postgres). Unset: the host name and a
    /// random suffix drawn at each start, so a restarted node waits for its old leases to
    /// lapse like any other node instead of driving the same orders twice.
    pub node_id: Option<String>,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            backend: StoreBackend::Embedded,
            max_batch: 512,
            cache_mib: 256,
            url: None,
            url_file: None,
            pool_size: 16,
            statement_timeout_ms: 30_000,
            ca_file: None,
            lease_ms: 15_000,
            node_id: None,
        }
    }
}

/// How TLS to the database is used, from the URL's `sslmode` (libpq's names). We never
/// accept a certificate we cannot verify: `require` and `verify-ca` are held to
/// `verify-full` (chain to `ca_file` or the system bundle, and the host name).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// `disable`: plain TCP (a Unix socket is always plain).
    Disable,
    /// `prefer` (the default): TLS, verified, when the server offers it; plain when the
    /// server does not speak TLS at all.
    Prefer,
    /// `require`, `verify-ca`, `verify-full`: verified TLS or no connection.
    VerifyFull,
}

/// A PostgreSQL URL. Prints with its password masked; the clear text is only reachable
/// through [`DbUrl::expose`], for the driver.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct DbUrl(String);

impl DbUrl {
    /// Wraps a URL.
    pub fn new(url: impl Into<String>) -> Self {
        Self(url.into().trim().to_owned())
    }

    /// The URL with its password, for the driver only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with any password (userinfo or `password=` parameter) replaced by `***`.
    pub fn redacted(&self) -> String {
        redact(&self.0)
    }

    /// The `sslmode` the URL asks for, and the URL without it (the driver knows only
    /// `disable`, `prefer` and `require`; we apply the mode ourselves).
    pub fn split_sslmode(&self) -> Result<(SslMode, DbUrl), ConfigError> {
        let (base, query) = match self.0.split_once('?') {
            Some((b, q)) => (b, q),
            None => (self.0.as_str(), ""),
        };
        let mut mode = SslMode::Prefer;
        let mut kept = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("sslmode", v)) => {
                    mode = match v {
                        "disable" => SslMode::Disable,
                        "prefer" | "allow" => SslMode::Prefer,
                        "require" | "verify-ca" | "verify-full" => SslMode::VerifyFull,
                        _ => {
                            return Err(ConfigError::Invalid {
                                field: "store.url",
                                message: "sslmode must be disable, prefer, require, verify-ca or \
                                          verify-full"
                                    .into(),
                            });
                        }
                    }
                }
                _ => kept.push(pair),
            }
        }
        let url = if kept.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", kept.join("&"))
        };
        Ok((mode, DbUrl(url)))
    }
}

impl std::fmt::Debug for DbUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DbUrl({:?})", self.redacted())
    }
}

impl std::fmt::Display for DbUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// Masks the password of `scheme://user:password@host/…` and of `password=` parameters.
fn redact(url: &str) -> String {
    let (head, query) = match url.split_once('?') {
        Some((h, q)) => (h, Some(q)),
        None => (url, None),
    };
    let mut out = match head.split_once("://") {
        Some((scheme, rest)) => {
            // The userinfo ends at the last `@` before the path.
            let authority_end = rest.find('/').unwrap_or(rest.len());
            let (authority, path) = rest.split_at(authority_end);
            match authority.rsplit_once('@') {
                Some((userinfo, host)) => match userinfo.split_once(':') {
                    Some((user, _)) => format!("{scheme}://{user}:***@{host}{path}"),
                    None => format!("{scheme}://{userinfo}@{host}{path}"),
                },
                None => head.to_owned(),
            }
        }
        None => "***".to_owned(),
    };
    if let Some(q) = query {
        let pairs: Vec<String> = q
            .split('&')
            .map(|p| match p.split_once('=') {
                Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                _ => p.to_owned(),
            })
            .collect();
        out.push('?');
        out.push_str(&pairs.join("&"));
    }
    out
}

impl StoreConfig {
    /// Checks the section (the URL file is read later, by [`StoreConfig::database_url`]).
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.max_batch == 0 {
            return Err(invalid("store.max_batch", "must be at least 1"));
        }
        if self.backend == StoreBackend::Embedded {
            return Ok(());
        }
        match (&self.url, &self.url_file) {
            (None, None) => {
                return Err(invalid(
                    "store.url",
                    "backend \"postgres\" needs `url` or `url_file`",
                ));
            }
            (Some(_), Some(_)) => {
                return Err(invalid("store.url", "set `url` or `url_file`, not both"));
            }
            (Some(u), None) => check_url(u)?,
            (None, Some(_)) => {}
        }
        if self.pool_size == 0 || self.pool_size > 1_000 {
            return Err(invalid("store.pool_size", "must be from 1 to 1000"));
        }
        if !(100..=3_600_000).contains(&self.statement_timeout_ms) {
            return Err(invalid(
                "store.statement_timeout_ms",
                "must be from 100 to 3600000",
            ));
        }
        if !(1_000..=600_000).contains(&self.lease_ms) {
            return Err(invalid("store.lease_ms", "must be from 1000 to 600000"));
        }
        if let Some(id) = &self.node_id {
            let ok = (1..=64).contains(&id.len())
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
            if !ok {
                return Err(invalid(
                    "store.node_id",
                    "must be 1 to 64 characters of A-Z, a-z, 0-9, `-`, `_` and `.`",
                ));
            }
        }
        Ok(())
    }

    /// The node id leases are taken under: `node_id`, else the host name and a random
    /// suffix (`random`, drawn once per process by the caller).
    pub fn node_id_or(&self, random: u32) -> String {
        if let Some(id) = &self.node_id {
            return id.clone();
        }
        let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
            .ok()
            .or_else(|| std::env::var("HOSTNAME").ok())
            .map(|h| {
                h.trim()
                    .chars()
                    .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '.')
                    .take(48)
                    .collect::<String>()
            })
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| "node".to_owned());
        format!("{host}-{random:08x}")
    }

    /// The database URL: `url`, or the first line of `url_file`, checked.
    pub fn database_url(&self) -> Result<DbUrl, ConfigError> {
        let url = match (&self.url, &self.url_file) {
            (Some(u), _) => u.clone(),
            (None, Some(path)) => read_url_file(path)?,
            (None, None) => {
                return Err(invalid(
                    "store.url",
                    "backend \"postgres\" needs `url` or `url_file`",
                ));
            }
        };
        check_url(&url)?;
        Ok(url)
    }
}

fn invalid(field: &'static str, message: &str) -> ConfigError {
    ConfigError::Invalid {
        field,
        message: message.into(),
    }
}

fn read_url_file(path: &Path) -> Result<DbUrl, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })?;
    let line = text.lines().map(str::trim).find(|l| !l.is_empty());
    line.map(DbUrl::new)
        .ok_or_else(|| invalid("store.url_file", "the file holds no URL"))
}

/// A `postgres://` or `postgresql://` URL that the driver accepts. Never echoes it.
fn check_url(url: &DbUrl) -> Result<(), ConfigError> {
    let s = url.expose();
    if !(s.starts_with("postgres://") || s.starts_with("postgresql://")) {
        return Err(invalid(
            "store.url",
            "must start with postgres:// or postgresql:// (the value is not shown)",
        ));
    }
    let (_, rest) = url.split_sslmode()?;
    rest.expose()
        .parse::<tokio_postgres::Config>()
        .map(drop)
        .map_err(|_| {
            invalid(
                "store.url",
                "not a URL the PostgreSQL driver accepts (the value is not shown: it may hold a password)",
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(toml_text: &str) -> Result<StoreConfig, String> {
        #[derive(Deserialize)]
        struct Wrap {
            store: StoreConfig,
        }
        let w: Wrap = toml::from_str(toml_text).map_err(|e| e.to_string())?;
        w.store.validate().map_err(|e| e.to_string())?;
        Ok(w.store)
    }

    #[test]
    fn default_is_embedded_and_needs_no_url() {
        let c = parse("[store]\n").expect("valid");
        assert_eq!(c.backend, StoreBackend::Embedded);
        assert!(c.url.is_none());
    }

    #[test]
    fn postgres_needs_exactly_one_url_source() {
        let e = parse("[store]\nbackend = \"postgres\"\n").expect_err("no url");
        assert!(e.contains("needs `url` or `url_file`"), "{e}");
        let e = parse(
            "[store]\nbackend = \"postgres\"\nurl = \"postgres://a@h/db\"\nurl_file = \"/x\"\n",
        )
        .expect_err("both");
        assert!(e.contains("not both"), "{e}");
        let c =
            parse("[store]\nbackend = \"postgres\"\nurl = \"postgres://a@h/db\"\n").expect("valid");
        assert_eq!(c.backend, StoreBackend::Postgres);
        assert!(parse("[store]\nbackend = \"mysql\"\n").is_err());
    }

    #[test]
    fn bad_values_are_refused_without_echoing_the_url() {
        let e = parse("[store]\nbackend = \"postgres\"\nurl = \"mysql://u:s3cret@h/db\"\n")
            .expect_err("scheme");
        assert!(e.contains("store.url") && !e.contains("s3cret"), "{e}");
        let e = parse(
            "[store]\nbackend = \"postgres\"\nurl = \"postgres://u:s3cret@h/db?sslmode=sometimes\"\n",
        )
        .expect_err("sslmode");
        assert!(e.contains("sslmode") && !e.contains("s3cret"), "{e}");
        let e = parse(
            "[store]\nbackend = \"postgres\"\nurl = \"postgres://u:s3cret@h/db?bogus_option=1\"\n",
        )
        .expect_err("driver refuses");
        assert!(!e.contains("s3cret"), "{e}");
        for (field, line) in [
            ("store.pool_size", "pool_size = 0"),
            ("store.statement_timeout_ms", "statement_timeout_ms = 5"),
            ("store.lease_ms", "lease_ms = 10"),
            ("store.node_id", "node_id = \"a b\""),
            ("store.node_id", "node_id = \"\""),
        ] {
            let e = parse(&format!(
                "[store]\nbackend = \"postgres\"\nurl = \"postgres://h/db\"\n{line}\n"
            ))
            .expect_err(field);
            assert!(e.contains(field), "{e}");
        }
    }

    #[test]
    fn the_node_id_is_the_configured_one_or_the_host_and_a_suffix_per_start() {
        let c = parse("[store]\nnode_id = \"gw-1\"\nlease_ms = 20000\n").expect("valid");
        assert_eq!(c.lease_ms, 20_000);
        assert_eq!(c.node_id_or(7), "gw-1");
        let d = StoreConfig::default();
        assert_eq!(d.lease_ms, 15_000);
        let (a, b) = (d.node_id_or(1), d.node_id_or(2));
        assert!(
            a.ends_with("-00000001") && b.ends_with("-00000002"),
            "{a} {b}"
        );
        assert_eq!(
            a.trim_end_matches("-00000001"),
            b.trim_end_matches("-00000002")
        );
    }

    #[test]
    fn the_password_never_prints() {
        let u = DbUrl::new("postgres://simgw:s3cret@db.example:5432/simgw?password=s3cret&x=1");
        for shown in [format!("{u}"), format!("{u:?}"), u.redacted()] {
            assert!(!shown.contains("s3cret"), "{shown}");
            assert!(shown.contains("simgw:***@db.example:5432/simgw"), "{shown}");
        }
        let cfg = StoreConfig {
            url: Some(u.clone()),
            ..StoreConfig::default()
        };
        assert!(!format!("{cfg:?}").contains("s3cret"));
        assert_eq!(
            DbUrl::new("postgres://h/db").redacted(),
            "postgres://h/db",
            "nothing to hide"
        );
    }

    #[test]
    fn sslmode_is_ours_to_apply() {
        let cases = [
            ("postgres://h/db", SslMode::Prefer, "postgres://h/db"),
            (
                "postgres://h/db?sslmode=disable",
                SslMode::Disable,
                "postgres://h/db",
            ),
            (
                "postgres://h/db?application_name=a&sslmode=require",
                SslMode::VerifyFull,
                "postgres://h/db?application_name=a",
            ),
            (
                "postgres://h/db?sslmode=verify-full",
                SslMode::VerifyFull,
                "postgres://h/db",
            ),
        ];
        for (url, mode, rest) in cases {
            let (m, r) = DbUrl::new(url).split_sslmode().expect(url);
            assert_eq!((m, r.expose()), (mode, rest), "{url}");
        }
    }

    #[test]
    fn url_file_gives_its_first_line() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("db-url");
        std::fs::write(&path, "\npostgres://u:pw@h/db\n").expect("write");
        let c = StoreConfig {
            backend: StoreBackend::Postgres,
            url_file: Some(path.clone()),
            ..StoreConfig::default()
        };
        c.validate().expect("valid");
        assert_eq!(
            c.database_url().expect("read").expose(),
            "postgres://u:pw@h/db"
        );
        std::fs::write(&path, "\n\n").expect("write");
        let e = c.database_url().expect_err("empty").to_string();
        assert!(e.contains("holds no URL"), "{e}");
    }
}
