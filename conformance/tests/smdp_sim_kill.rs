//! The SM-DP+ simulator killed with SIGKILL (issue 14): `simgw-conformance smdp-sim
//! --state-file` as a child process, its customers' downloads and installs answered, the
//! process killed before any notification reached the operator, and started again on the
//! same file. Every HandleDownloadProgressInfo queued before the kill is delivered after
//! the restart, a download notification held back behind its install one (the
//! `install_before_download` quirk) included, and the profiles are in the states the
//! answers said.

mod common;

use adapters::es2plus::{
    ADMIN_PROTOCOL_HEADER, ConfirmOrderRequest, DownloadOrderRequest, DownloadOrderResponse,
    ProfileSelector, RequestHeader, decode_notification, decode_response, encode_confirm_order,
    encode_download_order, path,
};
use adapters::http::HttpClient;
use bytes::Bytes;
use common::{Id, Pki};
use conformance::smdp_sim::server_tls_config;
use http::Method;
use http_body_util::BodyExt;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use sim_profiles::Iccid;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

const OP: &str = "mvno-a";
const TYPE: &str = "CONSUMER_V1";

/// The PKI and its files: the simulator's server identity, the operator's client
/// identity (which also serves the receiver) and the notifier's.
struct Files {
    pki: Pki,
    operator: Id,
    ca: PathBuf,
    server: (PathBuf, PathBuf),
    operator_cert: PathBuf,
    notifier: (PathBuf, PathBuf),
}

fn write(dir: &Path, name: &str, pem: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, pem).expect("write PEM");
    p
}

impl Files {
    fn new(dir: &Path) -> Self {
        let pki = Pki::new("test CA");
        let server = pki.issue("smdp");
        let operator = pki.issue(OP);
        let notifier = pki.issue("smdp notifier");
        Self {
            ca: write(dir, "ca.pem", &pki.ca_pem),
            server: (
                write(dir, "server.pem", &server.cert_pem),
                write(dir, "server.key", &server.key_pem),
            ),
            operator_cert: write(dir, "operator.pem", &operator.cert_pem),
            notifier: (
                write(dir, "notifier.pem", &notifier.cert_pem),
                write(dir, "notifier.key", &notifier.key_pem),
            ),
            operator,
            pki,
        }
    }

    fn client(&self) -> HttpClient {
        HttpClient::builder()
            .add_root_pem(self.pki.ca_pem.as_bytes())
            .identity_pem(
                self.operator.cert_pem.as_bytes(),
                self.operator.key_pem.as_bytes(),
            )
            .build()
            .expect("client")
    }
}

/// `simgw-conformance smdp-sim` on `file`, notifying `https://127.0.0.1:{port}`; killed
/// (SIGKILL) and reaped when dropped.
struct SimProcess {
    child: Child,
    url: String,
    _stdout: BufReader<ChildStdout>,
}

impl SimProcess {
    fn start(f: &Files, file: &Path, port: u16) -> Self {
        let operator = format!(
            "{OP},{},https://127.0.0.1:{port}{}",
            f.operator_cert.display(),
            path::HANDLE_DOWNLOAD_PROGRESS_INFO
        );
        let mut child = Command::new(env!("CARGO_BIN_EXE_simgw-conformance"))
            .arg("smdp-sim")
            .args(["--listen", "127.0.0.1:0", "--generate", "2"])
            .args(["--profile-type", TYPE, "--operator", &operator])
            .arg("--tls-cert")
            .arg(&f.server.0)
            .arg("--tls-key")
            .arg(&f.server.1)
            .arg("--client-ca")
            .arg(&f.ca)
            .arg("--notifier-cert")
            .arg(&f.notifier.0)
            .arg("--notifier-key")
            .arg(&f.notifier.1)
            .arg("--notifier-ca")
            .arg(&f.ca)
            .arg("--state-file")
            .arg(file)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn simgw-conformance smdp-sim");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let mut line = String::new();
        stdout.read_line(&mut line).expect("the bound URL");
        let url = line
            .split_whitespace()
            .find(|w| w.starts_with("https://127.0.0.1:"))
            .unwrap_or_else(|| panic!("no URL in {line:?}"))
            .to_owned();
        Self {
            child,
            url,
            _stdout: stdout,
        }
    }

    /// SIGKILL, and reap.
    fn kill9(mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("reaped");
    }
}

impl Drop for SimProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The notification bodies a receiver got, and their count to wait on.
struct Received {
    bodies: Arc<Mutex<Vec<String>>>,
    count: watch::Receiver<usize>,
}

impl Received {
    /// Waits (bounded) until `n` bodies came; answers every body so far.
    async fn wait_for(&mut self, n: usize, within: Duration) -> Vec<String> {
        let _ = tokio::time::timeout(within, self.count.wait_for(|c| *c >= n)).await;
        self.bodies.lock().expect("lock").clone()
    }
}

/// The operator's notification receiver: records each body and answers 204.
async fn receiver(f: &Files) -> (u16, Received) {
    let tls = server_tls_config(
        f.operator.cert_pem.as_bytes(),
        f.operator.key_pem.as_bytes(),
        f.pki.ca_pem.as_bytes(),
    )
    .expect("receiver tls");
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let bodies = Arc::new(Mutex::new(Vec::new()));
    let (tx, count) = watch::channel(0);
    let (seen, tx) = (Arc::clone(&bodies), Arc::new(tx));
    let acceptor = TlsAcceptor::from(tls);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let (acceptor, seen, tx) = (acceptor.clone(), Arc::clone(&seen), Arc::clone(&tx));
            tokio::spawn(async move {
                let Ok(tls) = acceptor.accept(stream).await else {
                    return;
                };
                let svc = service_fn(move |req: http::Request<hyper::body::Incoming>| {
                    let (seen, tx) = (Arc::clone(&seen), Arc::clone(&tx));
                    async move {
                        let body = req.into_body().collect().await?.to_bytes();
                        let n = {
                            let mut v = seen.lock().expect("lock");
                            v.push(String::from_utf8_lossy(&body).into_owned());
                            v.len()
                        };
                        tx.send_replace(n);
                        let mut resp = http::Response::new(http_body_util::Full::new(Bytes::new()));
                        *resp.status_mut() = http::StatusCode::NO_CONTENT;
                        Ok::<_, hyper::Error>(resp)
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(tls), svc)
                    .await;
            });
        }
    });
    (port, Received { bodies, count })
}

/// One ES2+ function call; its status and body.
async fn es2(client: &HttpClient, base: &str, path: &str, body: Vec<u8>) -> (u16, Bytes) {
    let headers = [
        ("Content-Type", "application/json".to_owned()),
        (ADMIN_PROTOCOL_HEADER, "gsma/rsp/v2.2.0".to_owned()),
    ];
    let r = client
        .post(&format!("{base}{path}"), &headers, Bytes::from(body))
        .await
        .expect("ES2+ exchange");
    (r.status, r.body)
}

/// DownloadOrder by type, then ConfirmOrder with releaseFlag: a released profile.
async fn released_profile(client: &HttpClient, base: &str, call: u32) -> Iccid {
    let header = RequestHeader::new(OP, format!("call-{call}"));
    let order = DownloadOrderRequest {
        header: header.clone(),
        eid: None,
        profile: ProfileSelector::ProfileType(TYPE.into()),
    };
    let (s, b) = es2(
        client,
        base,
        path::DOWNLOAD_ORDER,
        encode_download_order(&order),
    )
    .await;
    let iccid = decode_response::<DownloadOrderResponse>(s, &b)
        .expect("download order")
        .data
        .iccid;
    let confirm = ConfirmOrderRequest {
        header,
        iccid: iccid.clone(),
        eid: None,
        matching_id: None,
        confirmation_code: None,
        smds_address: None,
        release_flag: true,
    };
    let (s, _) = es2(
        client,
        base,
        path::CONFIRM_ORDER,
        encode_confirm_order(&confirm),
    )
    .await;
    assert_eq!(s, 200, "confirm order");
    iccid
}

/// One admin call; its status and JSON.
async fn admin(
    client: &HttpClient,
    base: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let (headers, bytes) = match body {
        Some(b) => (
            vec![("content-type", "application/json".to_owned())],
            Bytes::from(b.to_string()),
        ),
        None => (Vec::new(), Bytes::new()),
    };
    let r = client
        .request(method, &format!("{base}/sim/{path}"), &headers, bytes)
        .await
        .expect("admin exchange");
    (
        r.status,
        serde_json::from_slice(&r.body).unwrap_or(Value::Null),
    )
}

/// A customer action; asserts it was answered and queued one notification.
async fn act(client: &HttpClient, base: &str, iccid: &Iccid, action: &str, body: Option<Value>) {
    let (s, a) = admin(
        client,
        base,
        Method::POST,
        &format!("profiles/{iccid}/{action}"),
        body,
    )
    .await;
    assert_eq!((s, &a["notifications"]), (200, &json!(1)), "{action}: {a}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notifications_queued_before_a_sigkill_are_delivered_after_the_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = Files::new(dir.path());
    let file = dir.path().join("smdp.state");
    let client = f.client();
    // First run: the operator's receiver accepts connections and never answers, so the
    // first notification is still being tried (10 s per attempt) when the process dies.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let silent_port = silent.local_addr().expect("addr").port();
    let sim = SimProcess::start(&f, &file, silent_port);
    let a = released_profile(&client, &sim.url, 1).await;
    let b = released_profile(&client, &sim.url, 2).await;
    // Profile A downloaded and installed: points 3 and 4 queued.
    act(&client, &sim.url, &a, "download", None).await;
    act(&client, &sim.url, &a, "install", Some(json!("success"))).await;
    // Profile B downloaded with its download notification held back until its install.
    let quirks = json!({"install_before_download": true});
    let (s, _) = admin(&client, &sim.url, Method::PUT, "quirks", Some(quirks)).await;
    assert_eq!(s, 204);
    act(&client, &sim.url, &b, "download", None).await;
    sim.kill9();
    drop(silent);

    // Second run on the same file, the receiver up on another port.
    let (port, mut received) = receiver(&f).await;
    let sim = SimProcess::start(&f, &file, port);
    let bodies = received.wait_for(3, Duration::from_secs(30)).await;
    let mut got: Vec<(String, u32)> = bodies
        .iter()
        .map(|b| {
            let n = decode_notification(b.as_bytes()).expect("notification");
            (n.iccid.to_string(), n.point.id())
        })
        .collect();
    got.sort();
    let mut want = vec![(a.to_string(), 3), (a.to_string(), 4), (b.to_string(), 3)];
    want.sort();
    assert_eq!(got, want, "every notification queued before the kill");
    // The profiles are as the answers said.
    let (s, state) = admin(&client, &sim.url, Method::GET, "state", None).await;
    assert_eq!(s, 200);
    let state_of = |iccid: &Iccid| {
        state["profiles"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["iccid"] == iccid.to_string()))
            .map(|p| p["state"].clone())
    };
    assert_eq!(state_of(&a), Some(json!("Installed")), "{state}");
    assert_eq!(state_of(&b), Some(json!("Downloaded")), "{state}");
}
