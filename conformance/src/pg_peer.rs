//! A private PostgreSQL server for one test or one benchmark run, from the Debian
//! packages on this machine (the way the OsmoHLR tests start osmo-hlr): `initdb` into a temporary directory, `postgres`
//! listening only on a Unix socket in that directory (no TCP), with `fsync` and
//! `synchronous_commit` on as in production. Dropping it stops the server (fast shutdown,
//! then kill) and removes the directory, so no server outlives its test.
//!
//! PostgreSQL refuses to run as root; as root (this machine, CI) the server runs as
//! `nobody`, which owns the directory.

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// What to install when the server binaries are missing.
pub const INSTALL_HINT: &str = "PostgreSQL server binaries (initdb, postgres) not found: install them with `apt-get install postgresql`";

/// A running private server; stopped on drop.
pub struct PgServer {
    dir: tempfile::TempDir,
    child: Option<Child>,
    user: Option<(u32, u32)>,
    tcp_port: Option<u16>,
}

/// A server certificate and key (PEM) for [`PgServer::start_tls`].
pub struct ServerTls<'a> {
    /// Certificate chain.
    pub cert_pem: &'a str,
    /// Private key.
    pub key_pem: &'a str,
}

/// The directory holding `initdb` and `postgres`: `pg_config --bindir`, else the newest
/// `/usr/lib/postgresql/<version>/bin`.
pub fn bindir() -> Result<PathBuf, String> {
    let has = |d: &Path| d.join("initdb").is_file() && d.join("postgres").is_file();
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let d = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if out.status.success() && has(&d) {
            return Ok(d);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let d = e.path().join("bin");
            has(&d).then_some((v, d))
        })
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|(_, d)| d)
        .ok_or_else(|| INSTALL_HINT.to_owned())
}

/// `nobody`'s uid and gid, from /etc/passwd.
fn nobody() -> Result<(u32, u32), String> {
    let passwd = std::fs::read_to_string("/etc/passwd").map_err(|e| format!("/etc/passwd: {e}"))?;
    passwd
        .lines()
        .find_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.first() == Some(&"nobody") && f.len() > 3)
                .then(|| Some((f[2].parse().ok()?, f[3].parse().ok()?)))
                .flatten()
        })
        .ok_or_else(|| "no `nobody` user to run PostgreSQL as (it refuses root)".to_owned())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// The settings that preload and configure `pg_stat_statements`.
const PROFILED: [&str; 3] = [
    "shared_preload_libraries=pg_stat_statements",
    "pg_stat_statements.track_planning=on",
    "pg_stat_statements.max=1000",
];

impl PgServer {
    /// Initialises and starts a server; ready to accept connections on return.
    pub fn start() -> Result<Self, String> {
        Self::start_with(None, &[])
    }

    /// A server that also listens on a free loopback TCP port with TLS (`ssl = on`).
    pub fn start_tls(tls: ServerTls<'_>) -> Result<Self, String> {
        Self::start_with(Some(tls), &[])
    }

    /// A server set up as a deployment would be for a benchmark: the tests' servers keep
    /// `shared_buffers` at 32 MB (several run at once), which a run of a few thousand
    /// orders outgrows (the backends then write out dirty pages themselves and wait for
    /// full WAL buffers); here 256 MB, so `wal_buffers` follows at 8 MB. `settings`
    /// (`name=value`) come after, so they win. `profiled` counts the time spent in each
    /// statement: `pg_stat_statements` preloaded (shipped with Debian's server package),
    /// planning time included; read the figures with [`PgServer::top_statements`].
    pub fn start_for_bench(settings: &[String], profiled: bool) -> Result<Self, String> {
        let mut all = vec!["shared_buffers=256MB"];
        if profiled {
            all.extend(PROFILED);
        }
        all.extend(settings.iter().map(String::as_str));
        Self::start_with(None, &all)
    }

    fn start_with(tls: Option<ServerTls<'_>>, settings: &[&str]) -> Result<Self, String> {
        let bin = bindir()?;
        let dir = tempfile::Builder::new()
            .prefix("simgw-pg")
            .tempdir()
            .map_err(|e| format!("temp dir: {e}"))?;
        let user = if is_root() { Some(nobody()?) } else { None };
        if let Some((uid, gid)) = user {
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid))
                .map_err(|e| format!("chown {}: {e}", dir.path().display()))?;
        }
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700))
            .map_err(|e| format!("chmod: {e}"))?;
        let data = dir.path().join("data");
        let mut init = Command::new(bin.join("initdb"));
        init.args([
            "--auth=trust",
            "--username=simgw",
            "--encoding=UTF8",
            "--locale=C",
        ])
        // The files initdb writes are synced by the server's own checkpoints; the
        // running server has fsync on.
        .arg("--no-sync")
        .arg("-D")
        .arg(&data)
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
        as_user(&mut init, user);
        let out = init.output().map_err(|e| format!("initdb: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "initdb failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let mut server = Command::new(bin.join("postgres"));
        let mut tcp_port = None;
        match tls {
            None => {
                server.args(["-c", "listen_addresses="]);
            }
            Some(tls) => {
                let port = std::net::TcpListener::bind("127.0.0.1:0")
                    .and_then(|l| l.local_addr())
                    .map_err(|e| format!("a free port: {e}"))?
                    .port();
                let cert = dir.path().join("server.crt");
                let key = dir.path().join("server.key");
                std::fs::write(&cert, tls.cert_pem).map_err(|e| format!("cert: {e}"))?;
                std::fs::write(&key, tls.key_pem).map_err(|e| format!("key: {e}"))?;
                std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600))
                    .map_err(|e| format!("chmod key: {e}"))?;
                if let Some((uid, gid)) = user {
                    for f in [&cert, &key] {
                        std::os::unix::fs::chown(f, Some(uid), Some(gid))
                            .map_err(|e| format!("chown: {e}"))?;
                    }
                }
                server
                    .args(["-c", "listen_addresses=127.0.0.1", "-c", "ssl=on", "-p"])
                    .arg(port.to_string())
                    .arg("-c")
                    .arg(format!("ssl_cert_file={}", cert.display()))
                    .arg("-c")
                    .arg(format!("ssl_key_file={}", key.display()));
                tcp_port = Some(port);
            }
        }
        server
            .arg("-D")
            .arg(&data)
            .arg("-k")
            .arg(dir.path())
            .args([
                "-c",
                "fsync=on",
                "-c",
                "synchronous_commit=on",
                "-c",
                "max_connections=60",
                "-c",
                "shared_buffers=32MB",
            ])
            .args(settings.iter().flat_map(|s| ["-c", s]))
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(
                std::fs::File::create(dir.path().join("server.log"))
                    .map_err(|e| format!("server.log: {e}"))?,
            );
        as_user(&mut server, user);
        let child = server.spawn().map_err(|e| format!("postgres: {e}"))?;
        let mut pg = Self {
            dir,
            child: Some(child),
            user,
            tcp_port,
        };
        pg.wait_ready(&data)?;
        Ok(pg)
    }

    /// Waits until postmaster.pid says `ready` (PostgreSQL writes it once it accepts
    /// connections), or the server exits.
    fn wait_ready(&mut self, data: &Path) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let pid = std::fs::read_to_string(data.join("postmaster.pid")).unwrap_or_default();
            if pid.lines().any(|l| l.trim() == "ready") {
                return Ok(());
            }
            if let Some(c) = self.child.as_mut() {
                if let Ok(Some(status)) = c.try_wait() {
                    // Its last words say why (a setting it refused, a port in use).
                    let log = self.dir.path().join("server.log");
                    let log = std::fs::read_to_string(log).unwrap_or_default();
                    let why: Vec<&str> = log.lines().rev().take(3).collect();
                    let why: Vec<&str> = why.into_iter().rev().collect();
                    return Err(format!(
                        "postgres exited during start-up ({status}): {}",
                        why.join(" / ")
                    ));
                }
            }
            if Instant::now() > deadline {
                return Err("postgres did not become ready within 60 s".into());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The server's (postmaster's) process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The socket directory (the `host` of a Unix-socket URL).
    pub fn socket_dir(&self) -> &Path {
        self.dir.path()
    }

    /// The URL of database `db` (which may not exist yet).
    pub fn url(&self, db: &str) -> String {
        let host: String = self
            .dir
            .path()
            .to_string_lossy()
            .bytes()
            .map(|b| match b {
                b'/' => "%2F".to_owned(),
                _ => (b as char).to_string(),
            })
            .collect();
        // The socket's name carries the port (5432 unless the server also listens on TCP).
        let port = self.tcp_port.unwrap_or(5432);
        format!("postgres://simgw@{host}:{port}/{db}?sslmode=disable")
    }

    /// The loopback TCP URL of database `db` (a server started with TLS), without sslmode.
    pub fn tcp_url(&self, db: &str) -> Option<String> {
        self.tcp_port
            .map(|p| format!("postgres://simgw@localhost:{p}/{db}"))
    }

    /// Creates database `db` (with the server's `createdb`); returns its URL.
    pub async fn create_db(&self, db: &str) -> Result<String, String> {
        self.client_tool("createdb", vec![db.to_owned()])
            .await
            .map_err(|e| format!("create database: {e}"))?;
        Ok(self.url(db))
    }

    /// The `n` statements that took most of the server's time in database `db` since it
    /// started (a server from [`PgServer::start_for_bench`], profiled), as `psql` prints
    /// them: calls, total and mean milliseconds (planning and execution), rows, the
    /// statement.
    pub async fn top_statements(&self, db: &str, n: usize) -> Result<String, String> {
        let query = format!(
            "SELECT calls, round((total_plan_time + total_exec_time)::numeric, 1) AS total_ms, \
             round(((total_plan_time + total_exec_time) / NULLIF(calls, 0))::numeric, 3) AS mean_ms, \
             rows, left(regexp_replace(query, '\\s+', ' ', 'g'), 160) AS statement \
             FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid \
             WHERE d.datname = current_database() \
             ORDER BY total_plan_time + total_exec_time DESC LIMIT {n}"
        );
        let args = [
            "-d",
            db,
            "-X",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            "CREATE EXTENSION IF NOT EXISTS pg_stat_statements",
            "-c",
            &query,
        ];
        self.client_tool("psql", args.iter().map(|a| (*a).to_owned()).collect())
            .await
            .map_err(|e| format!("pg_stat_statements: {e}"))
    }

    /// Runs the server package's client `tool` (`createdb`, `psql`) against this server as
    /// user `simgw`, with `args` after the connection options; its standard output, or
    /// its standard error when it fails.
    async fn client_tool(&self, tool: &str, args: Vec<String>) -> Result<String, String> {
        let bin = bindir()?.join(tool);
        let (socket, port) = (self.dir.path().to_owned(), self.tcp_port.unwrap_or(5432));
        let name = tool.to_owned();
        let out = tokio::task::spawn_blocking(move || {
            Command::new(bin)
                .arg("-h")
                .arg(&socket)
                .args(["-p", &port.to_string(), "-U", "simgw"])
                .args(&args)
                .output()
        })
        .await
        .map_err(|e| format!("{name}: {e}"))?
        .map_err(|e| format!("{name}: {e}"))?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Stops the server now (fast shutdown; kill after 20 s).
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        if let Ok(Some(_)) = child.try_wait() {
            return; // it already exited (a failed start-up)
        }
        let _ = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    /// The unprivileged user the server runs as, if the tests run as root.
    pub fn user(&self) -> Option<(u32, u32)> {
        self.user
    }
}

fn as_user(cmd: &mut Command, user: Option<(u32, u32)>) {
    if let Some((uid, gid)) = user {
        cmd.uid(uid).gid(gid);
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        self.stop();
    }
}
