//! `simgw webhooks listen` against the in-process sandbox: it registers its endpoint,
//! verifies and prints each delivery, and deletes the endpoint on Ctrl-C (SIGINT).

mod common;

use common::sandbox::{Api, esim_config, shutdown};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Lines of a child's stream, on a channel (read on a thread of their own).
fn lines(r: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(r).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

async fn next_line(rx: &mpsc::Receiver<String>) -> String {
    for _ in 0..3_000 {
        match rx.try_recv() {
            Ok(l) => return l,
            Err(mpsc::TryRecvError::Empty) => tokio::time::sleep(Duration::from_millis(10)).await,
            Err(mpsc::TryRecvError::Disconnected) => panic!("the listener exited"),
        }
    }
    panic!("no line from the listener within 30 s");
}

#[tokio::test]
async fn listen_registers_verifies_prints_and_cleans_up() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sb = gateway::sandbox::start(esim_config(dir.path(), 0))
        .await
        .expect("sandbox");
    let api = Api::new(&sb);
    let mut child = Command::new(env!("CARGO_BIN_EXE_simgw"))
        .args([
            "webhooks",
            "listen",
            "--events",
            "order.created,order.active",
            "--sandbox-file",
        ])
        .arg(&sb.file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn simgw webhooks listen");
    let out = lines(child.stdout.take().expect("stdout"));
    let err = lines(child.stderr.take().expect("stderr"));
    let banner = next_line(&err).await;
    assert!(
        banner.starts_with("listening on http://127.0.0.1:"),
        "{banner}"
    );

    let iccid = sb.info.physical_iccids[0].clone();
    let body = json!({"sim": {"type": "physical", "iccid": iccid}, "product": sb.info.product});
    let (s, v) = api
        .post(
            "/v1/activations",
            &[
                ("idempotency-key", "listen-1"),
                ("content-type", "application/json"),
            ],
            body.to_string(),
        )
        .await;
    assert_eq!(s, 202, "{v}");
    let created = next_line(&out).await;
    let active = next_line(&out).await;
    let fields = |l: &str| l.split(' ').map(str::to_owned).collect::<Vec<_>>();
    let (c, a) = (fields(&created), fields(&active));
    assert!(
        c[0].starts_with("evt_") && a[0].starts_with("evt_"),
        "{created} / {active}"
    );
    // The subject is the line (its subscription id), which a number change keeps.
    let line = v["id"].as_str().expect("id").replacen("act_", "sub_", 1);
    assert_eq!(c[1..], ["order.created".to_owned(), line.clone()]);
    assert_eq!(a[1..], ["order.active".to_owned(), line]);

    // Ctrl-C: the endpoint is deleted before the listener exits.
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .expect("kill")
            .success()
    );
    let status = tokio::task::spawn_blocking(move || child.wait())
        .await
        .expect("join")
        .expect("wait");
    assert!(status.success(), "{status:?}");
    let r = api.get_raw("/v1/webhook-endpoints").await;
    let v: Value = serde_json::from_slice(&r.body).expect("json");
    assert_eq!(v["data"], json!([]), "the endpoint was deleted");
    shutdown(sb).await;
}
