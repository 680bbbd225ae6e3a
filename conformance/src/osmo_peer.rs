//! A real OsmoHLR (Debian's `osmo-hlr`) started on its own loopback address with a fresh
//! database, for gateway integration tests and benchmarks. Its ports are fixed (CTRL 4259),
//! so each instance binds a distinct 127.0.0.N.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

/// Where Debian installs the binary.
pub const OSMO_HLR: &str = "/usr/bin/osmo-hlr";
/// OsmoHLR's fixed CTRL port.
pub const CTRL_PORT: u16 = 4259;

static NEXT_HOST: AtomicU8 = AtomicU8::new(121);

/// A running `osmo-hlr`, killed (and its directory removed) on drop.
pub struct OsmoHlrPeer {
    ip: Ipv4Addr,
    dir: PathBuf,
    child: Option<Child>,
}

impl OsmoHlrPeer {
    /// Starts an instance on the next free 127.0.0.N; fails with an install hint if the
    /// binary is missing.
    pub async fn start() -> Result<Self, String> {
        Self::start_on(NEXT_HOST.fetch_add(1, Ordering::Relaxed)).await
    }

    /// Starts an instance on 127.0.0.`host`.
    pub async fn start_on(host: u8) -> Result<Self, String> {
        if !std::path::Path::new(OSMO_HLR).exists() {
            return Err(format!(
                "{OSMO_HLR} not found: install it with `apt-get install osmo-hlr`"
            ));
        }
        let ip = Ipv4Addr::new(127, 0, 0, host);
        let dir = std::env::temp_dir().join(format!("simgw-osmo-peer-{}-{ip}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let cfg = format!("line vty\n bind {ip}\nctrl\n bind {ip}\nhlr\n gsup\n  bind ip {ip}\n");
        std::fs::write(dir.join("hlr.cfg"), cfg).map_err(|e| e.to_string())?;
        let mut peer = Self {
            ip,
            dir,
            child: None,
        };
        peer.spawn().await?;
        Ok(peer)
    }

    /// The CTRL address.
    pub fn ctrl_addr(&self) -> SocketAddr {
        SocketAddr::from((self.ip, CTRL_PORT))
    }

    /// `osmo-ctrl://IP:4259`, as `simgw serve --hlr` takes it.
    pub fn url(&self) -> String {
        format!("osmo-ctrl://{}", self.ctrl_addr())
    }

    async fn spawn(&mut self) -> Result<(), String> {
        let child = Command::new(OSMO_HLR)
            .arg("-c")
            .arg(self.dir.join("hlr.cfg"))
            .arg("-l")
            .arg(self.dir.join("hlr.db"))
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {OSMO_HLR}: {e}"))?;
        self.child = Some(child);
        for _ in 0..200 {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                return Err(format!("osmo-hlr on {} exited early: {status}", self.ip));
            }
            if tokio::net::TcpStream::connect(self.ctrl_addr())
                .await
                .is_ok()
            {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(format!(
            "osmo-hlr on {} did not open CTRL within 10 s",
            self.ip
        ))
    }

    /// Stops the process (the database stays).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same database.
    pub async fn restart(&mut self) -> Result<(), String> {
        self.stop();
        self.spawn().await
    }
}

impl Drop for OsmoHlrPeer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
