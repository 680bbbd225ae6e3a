//! The OsmoHLR CTRL adapter against a real `osmo-hlr` (1.5.0): each test starts its own
//! instance on a distinct 127.0.0.N address with a fresh database (the ports are fixed).
//! A missing binary fails the tests: install it with `apt-get install osmo-hlr`.

use adapters::hlr::{
    AuthData, Barring, DeprovisionOutcome, FaultClass, HlrProfile, HlrProvisioner, KiMaterial,
    ProvisionOutcome, SubscriberSpec,
};
use adapters::osmo::codec::{FrameDecoder, Request, encode_frame};
use adapters::osmo::{CtrlClient, OsmoConfig, OsmoHlr};
use sim_profiles::{Key128, Msisdn};
use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const OSMO_HLR: &str = "/usr/bin/osmo-hlr";
const CTRL_PORT: u16 = 4259;
/// TS 35.208 test set 1.
const K: &str = "465b5ce8b199b49faa5f0a2ee238a6bc";
const OPC: &str = "cd63cb71954a9f4e48a5994e37a02baf";
const IMSI_A: &str = "001010000000001";
const IMSI_B: &str = "001010000000002";
const MSISDN_A: &str = "491700000001";
const MSISDN_B: &str = "491700000002";

/// The next loopback host octet; one per test so instances never share ports.
static NEXT_HOST: AtomicU8 = AtomicU8::new(21);

/// A running `osmo-hlr` with its own config and database, killed on drop.
struct OsmoHlrProcess {
    ip: Ipv4Addr,
    dir: PathBuf,
    child: Option<Child>,
}

impl OsmoHlrProcess {
    async fn start() -> Self {
        assert!(
            Path::new(OSMO_HLR).exists(),
            "{OSMO_HLR} not found: these tests need a real OsmoHLR; run `apt-get install osmo-hlr`"
        );
        let ip = Ipv4Addr::new(127, 0, 0, NEXT_HOST.fetch_add(1, Ordering::Relaxed));
        let dir = std::env::temp_dir().join(format!("simgw-osmo-{}-{ip}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let cfg = format!("line vty\n bind {ip}\nctrl\n bind {ip}\nhlr\n gsup\n  bind ip {ip}\n");
        std::fs::write(dir.join("hlr.cfg"), cfg).expect("write config");
        let mut p = Self {
            ip,
            dir,
            child: None,
        };
        p.spawn().await;
        p
    }

    fn ctrl_addr(&self) -> SocketAddr {
        SocketAddr::from((self.ip, CTRL_PORT))
    }

    /// Starts the binary on the existing config and database; waits until CTRL accepts.
    async fn spawn(&mut self) {
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
            .unwrap_or_else(|e| panic!("cannot start {OSMO_HLR} (apt-get install osmo-hlr): {e}"));
        self.child = Some(child);
        for _ in 0..200 {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!("osmo-hlr on {} exited early: {status}", self.ip);
            }
            if TcpStream::connect(self.ctrl_addr()).await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("osmo-hlr on {} did not open CTRL within 10 s", self.ip);
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    async fn restart(&mut self) {
        self.kill();
        self.spawn().await;
    }

    fn adapter(&self) -> OsmoHlr {
        adapter_at(self.ctrl_addr())
    }

    fn raw(&self) -> CtrlClient {
        CtrlClient::new(self.ctrl_addr(), Duration::from_secs(5))
    }
}

impl Drop for OsmoHlrProcess {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn adapter_at(addr: SocketAddr) -> OsmoHlr {
    OsmoHlr::new(OsmoConfig {
        addr,
        request_timeout: Duration::from_secs(3),
    })
}

fn msisdn(s: &str) -> Msisdn {
    s.parse().expect("test MSISDN")
}

fn key(hex: &str) -> Key128 {
    Key128::from_hex(hex).expect("test key")
}

fn spec(imsi: &str, msisdn: &str) -> SubscriberSpec {
    SubscriberSpec {
        imsi: imsi.parse().expect("test IMSI"),
        msisdn: Some(msisdn.parse().expect("test MSISDN")),
        auth: AuthData {
            ki: KiMaterial::Clear(key(K)),
            opc: Some(key(OPC)),
            fsetind: 0,
        },
        profile: HlrProfile { profile_id: 1 },
        barring: Barring::default(),
    }
}

/// `info-all` of `imsi` as a map, `None` if there is no such subscriber.
async fn info_all(raw: &CtrlClient, imsi: &str) -> Option<HashMap<String, String>> {
    let text = match raw
        .get(&format!("subscriber.by-imsi-{imsi}.info-all"))
        .await
    {
        Ok(text) => text,
        Err(adapters::osmo::CtrlError::Refused(r)) if r == "No such subscriber." => return None,
        Err(e) => panic!("info-all failed: {e}"),
    };
    Some(
        text.split('\n')
            .filter_map(|l| l.split_once('\t'))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
    )
}

fn field<'a>(info: &'a HashMap<String, String>, key: &str) -> &'a str {
    info.get(key).map(String::as_str).unwrap_or("<absent>")
}

/// A CTRL proxy that records requests and can cut the connection after forwarding the
/// first `subscriber.create` (its reply is swallowed), as a dropped link would.
struct Proxy {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<Request>>>,
}

impl Proxy {
    async fn start(upstream: SocketAddr, cut_after_create: bool) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("proxy addr");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let cut_once = Arc::new(AtomicBool::new(cut_after_create));
        let log = requests.clone();
        tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let Ok(server) = TcpStream::connect(upstream).await else {
                    continue;
                };
                tokio::spawn(relay(client, server, log.clone(), cut_once.clone()));
            }
        });
        Self { addr, requests }
    }

    fn sets(&self) -> Vec<String> {
        let requests = self.requests.lock().expect("log lock");
        requests
            .iter()
            .filter_map(|r| match r {
                Request::Set { var, .. } => Some(var.clone()),
                Request::Get { .. } => None,
            })
            .collect()
    }
}

async fn relay(
    client: TcpStream,
    server: TcpStream,
    log: Arc<Mutex<Vec<Request>>>,
    cut_once: Arc<AtomicBool>,
) {
    let (mut cr, cw) = client.into_split();
    let (sr, mut sw) = server.into_split();
    let cut = Arc::new(AtomicBool::new(false));
    let down = tokio::spawn(relay_down(sr, cw, cut.clone()));
    let mut decoder = FrameDecoder::default();
    let mut buf = vec![0u8; 4096];
    'conn: loop {
        let n = match cr.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        decoder.push(&buf[..n]);
        while let Ok(Some(frame)) = decoder.next_frame() {
            let Ok(request) = Request::parse(&frame) else {
                break 'conn;
            };
            let is_create = request.var() == "subscriber.create";
            log.lock().expect("log lock").push(request);
            if is_create && cut_once.swap(false, Ordering::SeqCst) {
                cut.store(true, Ordering::SeqCst);
                let _ = sw.write_all(&encode_frame(&frame).expect("frame")).await;
                // Let the server apply it, then drop both sides without its reply.
                tokio::time::sleep(Duration::from_millis(300)).await;
                break 'conn;
            }
            if sw
                .write_all(&encode_frame(&frame).expect("frame"))
                .await
                .is_err()
            {
                break 'conn;
            }
        }
    }
    down.abort();
}

async fn relay_down(
    mut sr: tokio::net::tcp::OwnedReadHalf,
    mut cw: tokio::net::tcp::OwnedWriteHalf,
    cut: Arc<AtomicBool>,
) {
    let mut buf = vec![0u8; 4096];
    loop {
        let n = match sr.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if cut.load(Ordering::SeqCst) {
            continue;
        }
        if cw.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

#[tokio::test]
async fn provision_writes_subscriber_keys_and_access() {
    let hlr = OsmoHlrProcess::start().await;
    let adapter = hlr.adapter();
    let s = spec(IMSI_A, MSISDN_A);
    assert_eq!(
        adapter.provision(&s).await.expect("provision"),
        ProvisionOutcome::Created
    );
    let info = info_all(&hlr.raw(), IMSI_A).await.expect("present");
    assert_eq!(field(&info, "imsi"), IMSI_A);
    assert_eq!(field(&info, "msisdn"), MSISDN_A);
    assert_eq!(field(&info, "aud3g.algo"), "MILENAGE");
    assert_eq!(field(&info, "aud3g.k"), K);
    assert_eq!(field(&info, "aud3g.opc"), OPC);
    assert_eq!(field(&info, "nam_cs"), "1");
    assert_eq!(field(&info, "nam_ps"), "1");
    assert!(!info.contains_key("aud2g.algo"));

    let state = adapter.query(&s.imsi).await.expect("query").expect("found");
    let hlr_state = state.hlr.expect("hlr part");
    assert_eq!(hlr_state.msisdn, s.msisdn.clone());
    assert_eq!(hlr_state.barring, Barring::default());
    assert_eq!(
        state.auc.and_then(|a| a.ki),
        Some(KiMaterial::Clear(key(K)))
    );
    assert_eq!(
        adapter
            .query(&IMSI_B.parse().expect("imsi"))
            .await
            .expect("query"),
        None
    );
}

#[tokio::test]
async fn repeated_provision_is_already_present_and_resends_nothing() {
    let hlr = OsmoHlrProcess::start().await;
    let s = spec(IMSI_A, MSISDN_A);
    hlr.adapter().provision(&s).await.expect("first provision");
    let raw = hlr.raw();
    let before = info_all(&raw, IMSI_A).await.expect("present");

    let proxy = Proxy::start(hlr.ctrl_addr(), false).await;
    let again = adapter_at(proxy.addr).provision(&s).await.expect("again");
    assert_eq!(again, ProvisionOutcome::AlreadyPresent);
    assert_eq!(
        proxy.sets(),
        vec!["subscriber.create".to_owned()],
        "only the create probe may be sent"
    );
    let after = info_all(&raw, IMSI_A).await.expect("present");
    assert_eq!(before, after, "auth data (and SQN) untouched");
}

#[tokio::test]
async fn provision_fills_in_a_half_created_subscriber() {
    let hlr = OsmoHlrProcess::start().await;
    let raw = hlr.raw();
    // A crash right after create: no MSISDN, no auth data yet.
    raw.set("subscriber.create", IMSI_A).await.expect("create");
    let s = spec(IMSI_A, MSISDN_A);
    assert_eq!(
        hlr.adapter().provision(&s).await.expect("provision"),
        ProvisionOutcome::AlreadyPresent
    );
    let info = info_all(&raw, IMSI_A).await.expect("present");
    assert_eq!(field(&info, "msisdn"), MSISDN_A);
    assert_eq!(field(&info, "aud3g.k"), K);
    assert_eq!(field(&info, "aud3g.opc"), OPC);
}

#[tokio::test]
async fn different_data_is_a_conflict_and_is_never_deleted() {
    let hlr = OsmoHlrProcess::start().await;
    let adapter = hlr.adapter();
    adapter
        .provision(&spec(IMSI_A, MSISDN_A))
        .await
        .expect("provision");
    let other_number = spec(IMSI_A, MSISDN_B);
    let err = adapter
        .provision(&other_number)
        .await
        .expect_err("conflict");
    assert_eq!(err.class, FaultClass::Conflict);
    assert!(!err.retryable());

    let mut other_keys = spec(IMSI_A, MSISDN_A);
    other_keys.auth.opc = Some(key(K));
    let err = adapter.provision(&other_keys).await.expect_err("conflict");
    assert_eq!(err.class, FaultClass::Conflict);
    assert!(!err.to_string().contains(K), "no key material in errors");

    assert_eq!(
        adapter
            .deprovision(&other_number)
            .await
            .expect("deprovision"),
        DeprovisionOutcome::LeftForeign
    );
    let info = info_all(&hlr.raw(), IMSI_A).await.expect("still there");
    assert_eq!(field(&info, "msisdn"), MSISDN_A);
}

#[tokio::test]
async fn duplicate_msisdn_on_another_imsi_is_a_conflict() {
    let hlr = OsmoHlrProcess::start().await;
    let adapter = hlr.adapter();
    adapter
        .provision(&spec(IMSI_A, MSISDN_A))
        .await
        .expect("provision A");
    let clash = spec(IMSI_B, MSISDN_A);
    let err = adapter.provision(&clash).await.expect_err("MSISDN taken");
    assert_eq!(err.class, FaultClass::Conflict);
    assert_eq!(err.operation, "CTRL msisdn");
    assert!(err.message.contains("another IMSI"), "{err}");

    // Compensation removes only what this order left on IMSI B.
    let outcome = adapter.deprovision(&clash).await.expect("deprovision");
    assert_eq!(outcome, DeprovisionOutcome::Deleted);
    let raw = hlr.raw();
    assert_eq!(info_all(&raw, IMSI_B).await, None);
    let a = info_all(&raw, IMSI_A).await.expect("A untouched");
    assert_eq!(field(&a, "msisdn"), MSISDN_A);
    assert_eq!(field(&a, "aud3g.k"), K);
}

#[tokio::test]
async fn barring_toggles_cs_and_ps_without_touching_auth() {
    let hlr = OsmoHlrProcess::start().await;
    let adapter = hlr.adapter();
    let raw = hlr.raw();
    let s = spec(IMSI_A, MSISDN_A);
    adapter.provision(&s).await.expect("provision");
    let before = info_all(&raw, IMSI_A).await.expect("present");

    let suspend = Barring {
        outgoing: true,
        incoming: true,
    };
    adapter
        .set_barring(&s.imsi, suspend)
        .await
        .expect("suspend");
    let info = info_all(&raw, IMSI_A).await.expect("present");
    assert_eq!((field(&info, "nam_cs"), field(&info, "nam_ps")), ("0", "0"));
    assert_eq!(field(&info, "aud3g.k"), field(&before, "aud3g.k"));
    assert_eq!(field(&info, "aud3g.sqn"), field(&before, "aud3g.sqn"));
    let state = adapter.query(&s.imsi).await.expect("query").expect("found");
    assert_eq!(state.hlr.expect("hlr").barring, suspend);

    adapter
        .set_barring(&s.imsi, Barring::default())
        .await
        .expect("resume");
    let info = info_all(&raw, IMSI_A).await.expect("present");
    assert_eq!((field(&info, "nam_cs"), field(&info, "nam_ps")), ("1", "1"));
    assert_eq!(before, info);

    let err = adapter
        .set_barring(&IMSI_B.parse().expect("imsi"), suspend)
        .await
        .expect_err("unknown");
    assert_eq!(err.class, FaultClass::NotFound);
}

#[tokio::test]
async fn change_msisdn_moves_the_number() {
    let hlr = OsmoHlrProcess::start().await;
    let adapter = hlr.adapter();
    let raw = hlr.raw();
    let s = spec(IMSI_A, MSISDN_A);
    adapter.provision(&s).await.expect("provision");
    adapter
        .change_msisdn(&s.imsi, &msisdn(MSISDN_A), &msisdn(MSISDN_B))
        .await
        .expect("change");
    let info = info_all(&raw, IMSI_A).await.expect("present");
    assert_eq!(field(&info, "msisdn"), MSISDN_B);
    let old = raw
        .get(&format!("subscriber.by-msisdn-{MSISDN_A}.info"))
        .await
        .expect_err("old number free");
    assert_eq!(
        old,
        adapters::osmo::CtrlError::Refused("No such subscriber.".into())
    );
}

#[tokio::test]
async fn set_keys_rekeys_explicitly() {
    let hlr = OsmoHlrProcess::start().await;
    let adapter = hlr.adapter();
    let s = spec(IMSI_A, MSISDN_A);
    adapter.provision(&s).await.expect("provision");
    let k2 = "0396eb317b6d1c36f19c1c84cd6ffd16";
    let opc2 = "53c15671c60a4b731c55b4a441c0bde2";
    adapter
        .set_keys(&s.imsi, &key(k2), &key(opc2))
        .await
        .expect("re-key");
    let info = info_all(&hlr.raw(), IMSI_A).await.expect("present");
    assert_eq!(field(&info, "aud3g.k"), k2);
    assert_eq!(field(&info, "aud3g.opc"), opc2);
}

#[tokio::test]
async fn deprovision_removes_then_reports_not_present() {
    let hlr = OsmoHlrProcess::start().await;
    let adapter = hlr.adapter();
    let s = spec(IMSI_A, MSISDN_A);
    adapter.provision(&s).await.expect("provision");
    assert_eq!(
        adapter.deprovision(&s).await.expect("deprovision"),
        DeprovisionOutcome::Deleted
    );
    assert_eq!(info_all(&hlr.raw(), IMSI_A).await, None);
    assert_eq!(adapter.query(&s.imsi).await.expect("query"), None);
    assert_eq!(
        adapter.deprovision(&s).await.expect("again"),
        DeprovisionOutcome::NotPresent
    );
}

#[tokio::test]
async fn keys_osmohlr_cannot_take_are_permanent_validation_errors() {
    let hlr = OsmoHlrProcess::start().await;
    let adapter = hlr.adapter();
    let mut encrypted = spec(IMSI_A, MSISDN_A);
    encrypted.auth.ki = KiMaterial::Encrypted {
        ciphertext: key(K),
        a4ind: 1,
        adkey: 2,
    };
    let err = adapter.provision(&encrypted).await.expect_err("encrypted");
    assert_eq!(err.class, FaultClass::Validation);
    assert!(err.message.contains("clear keys only"));
    let mut no_opc = spec(IMSI_A, MSISDN_A);
    no_opc.auth.opc = None;
    let err = adapter.provision(&no_opc).await.expect_err("no OPc");
    assert_eq!(err.class, FaultClass::Validation);
    assert!(err.message.contains("OPc"));
    assert_eq!(info_all(&hlr.raw(), IMSI_A).await, None, "nothing was sent");
}

#[tokio::test]
async fn client_reconnects_after_osmo_hlr_restarts() {
    let mut hlr = OsmoHlrProcess::start().await;
    let adapter = hlr.adapter();
    let s = spec(IMSI_A, MSISDN_A);
    adapter.provision(&s).await.expect("provision");

    hlr.kill();
    let err = adapter.query(&s.imsi).await.expect_err("down");
    assert_eq!(err.class, FaultClass::Connection, "{err}");
    assert!(err.retryable());

    // While it is down, a call keeps retrying the connection (backoff) until its deadline.
    let _ = adapter.query(&s.imsi).await.expect_err("still down");
    let ((), state) = tokio::join!(hlr.restart(), adapter.query(&s.imsi));
    let state = state.expect("reconnected during backoff");
    assert_eq!(
        state.and_then(|st| st.hlr).and_then(|h| h.msisdn),
        s.msisdn.clone()
    );
    adapter
        .set_barring(&s.imsi, Barring::default())
        .await
        .expect("next call");
}

#[tokio::test]
async fn dropped_link_after_create_then_retry_yields_one_subscriber() {
    let hlr = OsmoHlrProcess::start().await;
    let proxy = Proxy::start(hlr.ctrl_addr(), true).await;
    let adapter = adapter_at(proxy.addr);
    let s = spec(IMSI_A, MSISDN_A);
    let err = adapter.provision(&s).await.expect_err("link dropped");
    assert_eq!(err.class, FaultClass::Connection, "{err}");
    assert!(err.retryable());

    assert_eq!(
        adapter.provision(&s).await.expect("retry"),
        ProvisionOutcome::AlreadyPresent
    );
    let raw = hlr.raw();
    let info = info_all(&raw, IMSI_A).await.expect("present");
    assert_eq!(field(&info, "msisdn"), MSISDN_A);
    assert_eq!(field(&info, "aud3g.k"), K);
    assert_eq!(field(&info, "aud3g.opc"), OPC);
    assert_eq!(field(&info, "id"), "1");
    let second = raw.get("subscriber.by-id-2.info").await;
    assert_eq!(
        second,
        Err(adapters::osmo::CtrlError::Refused(
            "No such subscriber.".into()
        ))
    );
    let creates = proxy
        .sets()
        .iter()
        .filter(|v| *v == "subscriber.create")
        .count();
    assert_eq!(creates, 2, "one lost create, one probe on retry");
}
