//! The side listeners and the process around them: metrics on their own listener and not
//! on the API, two sandboxes side by side on fixed API ports (their callback and metrics
//! listeners ephemeral, each bound once), and logs without colour codes in a pipe.

mod common;

use common::Harness;
use gateway::config::{Config, Listen};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_served_on_their_own_listener_and_not_on_the_api() {
    let h = Harness::start(1).await;
    for auth in [None, Some(format!("Bearer {}", h.api_key))] {
        let headers: Vec<_> = auth.iter().map(|a| ("authorization", a.clone())).collect();
        let r = h
            .client
            .get(&format!("{}/metrics", h.base), &headers)
            .await
            .expect("GET /metrics on the API");
        assert_eq!(r.status, 404, "API /metrics with key: {}", auth.is_some());
        assert_eq!(
            r.headers.get("content-type").and_then(|v| v.to_str().ok()),
            Some("application/problem+json")
        );
        let v: serde_json::Value = serde_json::from_slice(&r.body).expect("problem");
        assert_eq!(v["code"], "not_found", "{v}");
    }
    for open in ["/healthz", "/readyz"] {
        let r = h
            .client
            .get(&format!("{}{open}", h.base), &[])
            .await
            .expect("ops");
        assert_eq!(r.status, 200, "{open} stays open on the API");
    }
    let addr = h.gw().metrics_addr.expect("metrics listener");
    assert!(addr.ip().is_loopback(), "{addr}");
    assert_ne!(addr.port(), 0);
    let r = h
        .client
        .get(&format!("http://{addr}/metrics"), &[])
        .await
        .expect("scrape");
    assert_eq!(r.status, 200);
    assert!(
        r.headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/plain")),
        "{:?}",
        r.headers
    );
    let text = String::from_utf8(r.body.to_vec()).expect("utf8");
    assert!(text.contains("# TYPE simgw_orders_total"), "{text}");
    assert!(
        text.contains("simgw_inventory{tenant=\"acme\",kind=\"sims_available\"} 1"),
        "{text}"
    );
    // Only the metrics are there.
    let r = h
        .client
        .get(&format!("http://{addr}/v1/inventory"), &[])
        .await
        .expect("GET");
    assert_eq!(r.status, 404);
}

#[test]
fn metrics_listen_parses_an_address_or_empty_for_off() {
    let dir = tempfile::tempdir().expect("tempdir");
    let load = |text: &str| {
        let p = dir.path().join("c.toml");
        std::fs::write(&p, text).expect("write");
        Config::load(Some(&p))
    };
    let c = load("").expect("defaults");
    assert_eq!(c.metrics.listen, None);
    assert_eq!(
        c.metrics_listen(),
        Some("127.0.0.1:9464".parse().expect("addr"))
    );
    let c = load("[metrics]\nlisten = \"\"\n").expect("off");
    assert_eq!(c.metrics.listen, Some(Listen::Off));
    assert_eq!(c.metrics_listen(), None);
    let c = load("[metrics]\nlisten = \"10.0.0.5:9100\"\n").expect("addr");
    assert_eq!(
        c.metrics_listen(),
        Some("10.0.0.5:9100".parse().expect("addr"))
    );
    let e = load("[metrics]\nlisten = \"localhost\"\n").expect_err("not an address");
    assert!(e.to_string().contains("IP:PORT"), "{e}");
    let e = load("[api]\nidle_timeout_ms = 0\n").expect_err("zero");
    assert!(e.to_string().contains("api.idle_timeout_ms"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_can_be_switched_off() {
    let h = Harness::start_with(1, |c| c.metrics.listen = Some(Listen::Off)).await;
    assert_eq!(h.gw().metrics_addr, None);
}

fn sandbox_config(dir: &std::path::Path, listen: SocketAddr) -> Config {
    let mut c = Config {
        data_dir: dir.to_owned(),
        listen,
        ..Config::default()
    };
    c.sandbox.physical_sims = 2;
    c.sandbox.esim_profiles = 2;
    c.sandbox.numbers = 10;
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_sandboxes_on_fixed_api_ports_run_side_by_side() {
    // Fixed (non-zero) API ports, as `serve --sandbox --listen 127.0.0.1:N` gives; two
    // loopback addresses so the two API ports cannot clash with each other.
    let port = std::net::TcpListener::bind("127.0.0.3:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let (d1, d2) = (
        tempfile::tempdir().expect("tempdir"),
        tempfile::tempdir().expect("tempdir"),
    );
    let a = gateway::sandbox::start(sandbox_config(
        d1.path(),
        SocketAddr::from(([127, 0, 0, 3], port)),
    ))
    .await
    .expect("first sandbox");
    let b = gateway::sandbox::start(sandbox_config(
        d2.path(),
        SocketAddr::from(([127, 0, 0, 4], port)),
    ))
    .await
    .expect("second sandbox beside the first");
    let (ca, cb) = (
        a.gateway.callback_addr.expect("callback"),
        b.gateway.callback_addr.expect("callback"),
    );
    let (ma, mb) = (
        a.gateway.metrics_addr.expect("metrics"),
        b.gateway.metrics_addr.expect("metrics"),
    );
    assert_ne!(ca, cb);
    assert_ne!(ma, mb);
    for (sb, cb, m) in [(&a, ca, ma), (&b, cb, mb)] {
        assert_ne!(cb.port(), 8444, "callback on the fixed default");
        assert_ne!(m.port(), 9464, "metrics on the fixed default");
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&sb.file).expect("sandbox.json")).expect("json");
        assert_eq!(json["metrics_url"], format!("http://{m}/metrics"));
        assert_eq!(
            json["es2_callback_url"],
            format!("https://{cb}/gsma/rsp2/es2plus/handleDownloadProgressInfo")
        );
        let scrape = adapters::http::HttpClient::builder()
            .build()
            .expect("client")
            .get(&format!("http://{m}/metrics"), &[])
            .await
            .expect("scrape");
        assert_eq!(scrape.status, 200);
    }
    for sb in [a, b] {
        sb.gateway.shutdown().await;
        if let Some(s) = sb.smdp_sim {
            s.shutdown().await;
        }
        if let Some(s) = sb.hlr_sim {
            s.shutdown().await;
        }
    }
}

/// Reads `child`'s stderr until a line contains `marker` (or the stream ends), bounded.
fn stderr_until(child: &mut std::process::Child, marker: &str) -> Vec<u8> {
    let stderr = child.stderr.take().expect("piped stderr");
    let marker = marker.to_owned();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut all = Vec::new();
        let mut r = BufReader::new(stderr);
        loop {
            let mut line = Vec::new();
            match r.read_until(b'\n', &mut line) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let done = String::from_utf8_lossy(&line).contains(&marker);
                    all.extend_from_slice(&line);
                    if done {
                        break;
                    }
                }
            }
        }
        let _ = tx.send(all);
    });
    let got = rx.recv_timeout(Duration::from_secs(60));
    let _ = child.kill();
    let _ = child.wait();
    got.expect("the gateway never logged its start")
}

#[test]
fn logs_in_a_pipe_carry_no_colour_codes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = dir.path().join("simgw.toml");
    std::fs::write(
        &cfg,
        "[sandbox]\nphysical_sims = 2\nesim_profiles = 2\nnumbers = 10\n",
    )
    .expect("config");
    let mut child = Command::new(env!("CARGO_BIN_EXE_simgw"))
        .args(["serve", "--sandbox", "--listen", "127.0.0.1:0", "--config"])
        .arg(&cfg)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .env("SIMGW_LOG", "info")
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn simgw");
    let out = stderr_until(&mut child, "simgw listening");
    let text = String::from_utf8_lossy(&out);
    assert!(text.contains("simgw listening"), "{text}");
    assert!(
        !out.contains(&0x1b),
        "ANSI escape codes in piped logs:\n{text:?}"
    );
}
