//! `simgw sandbox reset` through the binary: it refuses while `serve` holds the data dir and
//! on a data dir without sandbox.json (deleting nothing), and otherwise makes the next
//! `serve --sandbox` seed afresh: a new API key and every sandbox SIM available again.

mod common;

use adapters::http::HttpClient;
use bytes::Bytes;
use serde_json::Value;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

const SIMS: usize = 100;

/// `simgw ARGS` with options still to add (`--config`, or a spawned `serve`).
fn simgw(args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_simgw"));
    c.args(args);
    c
}

fn run(c: &mut Command) -> Output {
    c.output().expect("run simgw")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Stops the gateway when the test ends, however it ends.
struct Serve(Child);

impl Serve {
    /// A graceful stop, as an operator's Ctrl-C: the store is closed cleanly.
    fn stop(mut self) {
        let pid = self.0.id().to_string();
        let term = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        assert!(term.success());
        let status = self.0.wait().expect("wait");
        assert!(status.success(), "serve exited with {status}");
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `serve --sandbox` with `config` and returns it with its sandbox.json, once it says
/// the sandbox is ready (after it wrote the file: an earlier run's file may be there).
fn start(dir: &Path, config: &Path) -> (Serve, Value) {
    let log_path = dir.join("serve.log");
    let log = std::fs::File::create(&log_path).expect("log");
    let child = simgw(&["serve", "--sandbox", "--listen", "127.0.0.1:0", "--config"])
        .arg(config)
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("spawn serve");
    let mut serve = Serve(child);
    for _ in 0..3000 {
        let log = std::fs::read_to_string(&log_path).unwrap_or_default();
        if log.contains("sandbox ready:") {
            let file = dir.join("data").join("sandbox.json");
            let bytes = std::fs::read(file).expect("sandbox.json");
            return (serve, serde_json::from_slice(&bytes).expect("sandbox.json"));
        }
        if let Ok(Some(status)) = serve.0.try_wait() {
            panic!("serve --sandbox exited ({status}) before it was ready:\n{log}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("serve --sandbox was not ready within 60 s");
}

fn iccids(sb: &Value) -> usize {
    sb["physical_iccids"].as_array().map_or(0, Vec::len)
}

/// Activates the sandbox's first SIM: from the 202 on it is no longer available.
async fn take_a_sim(sb: &Value) {
    let ca = std::fs::read(sb["ca_cert"].as_str().expect("ca_cert")).expect("ca");
    let http = HttpClient::builder()
        .add_root_pem(&ca)
        .request_timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let body = serde_json::json!({
        "sim": {"type": "physical", "iccid": sb["physical_iccids"][0]},
        "product": sb["product"],
    });
    let r = http
        .post(
            &format!("{}/v1/activations", sb["base_url"].as_str().expect("base")),
            &[
                (
                    "authorization",
                    format!("Bearer {}", sb["api_key"].as_str().expect("key")),
                ),
                ("idempotency-key", "reset-1".into()),
                ("content-type", "application/json".into()),
            ],
            Bytes::from(body.to_string()),
        )
        .await
        .expect("POST");
    assert_eq!(r.status, 202, "{}", String::from_utf8_lossy(&r.body));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_refuses_while_serving_then_the_next_sandbox_is_fresh() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let config = dir.path().join("simgw.toml");
    std::fs::write(
        &config,
        format!(
            "data_dir = {:?}\n[sandbox]\nphysical_sims = {SIMS}\nnumbers = 300\nesim_profiles = 0\n",
            data.display().to_string()
        ),
    )
    .expect("config");

    let (serve, first) = start(dir.path(), &config);
    assert_eq!(iccids(&first), SIMS);
    take_a_sim(&first).await;
    let ca_before = std::fs::read(data.join("tls").join("dev-ca.pem")).expect("ca");

    // While serve holds the store: refused, and nothing is gone.
    let busy = common::cli::simgw(&["sandbox", "reset"], &data);
    assert!(!busy.status.success());
    assert!(
        stderr(&busy).contains("in use by a running simgw"),
        "{}",
        stderr(&busy)
    );
    assert!(data.join("simgw.redb").is_file());
    assert!(data.join("sandbox.json").is_file());
    // Beside the store, every simulator keeps its state (what the reset clears too).
    for sim in ["hlr", "smdp", "porting"] {
        let file = data.join("simulators").join(format!("{sim}.state"));
        assert!(file.is_file(), "{}", file.display());
    }
    serve.stop();

    // Without a reset, a restart keeps the key and the used SIM stays used.
    let (serve, again) = start(dir.path(), &config);
    assert_eq!(again["api_key"], first["api_key"]);
    assert_eq!(iccids(&again), SIMS - 1);
    // A crash this time: reset also clears a store that was not closed cleanly.
    drop(serve);

    let out = run(simgw(&["sandbox", "reset", "--config"]).arg(&config));
    assert!(out.status.success(), "{}", stderr(&out));
    let said = String::from_utf8_lossy(&out.stdout);
    for removed in ["simgw.redb", "simulators", "sandbox.json"] {
        assert!(
            said.lines()
                .any(|l| l.starts_with("removed ") && l.ends_with(removed)),
            "{said}"
        );
    }
    assert!(said.contains("new API key"), "{said}");
    assert!(!data.join("simgw.redb").exists());
    // The simulators' state goes too: the fresh sandbox's HLR holds no subscriber and its
    // porting hub no port.
    assert!(!data.join("simulators").exists());
    assert!(!data.join("sandbox.json").exists());
    assert!(data.join("keys").join("data-key").is_file());

    let (serve, fresh) = start(dir.path(), &config);
    assert_ne!(fresh["api_key"], first["api_key"], "a new API key");
    assert_eq!(iccids(&fresh), SIMS, "every sandbox SIM available again");
    assert_eq!(
        std::fs::read(data.join("tls").join("dev-ca.pem")).expect("ca"),
        ca_before,
        "the development CA is kept"
    );
    serve.stop();
}

#[test]
fn reset_refuses_a_data_dir_without_sandbox_json_and_deletes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let put = common::cli::simgw(
        &[
            "tenant", "put", "--id", "mvno1", "--name", "MVNO One", "--plmn", "46011",
        ],
        &data,
    );
    assert!(put.status.success(), "{}", stderr(&put));
    let store = std::fs::read(data.join("simgw.redb")).expect("store");

    let out = common::cli::simgw(&["sandbox", "reset"], &data);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("has no sandbox.json")
            && stderr(&out).contains("nothing was deleted"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read(data.join("simgw.redb")).expect("store kept"),
        store
    );
    // The tenant is still there: the store is the same store.
    let key = common::cli::simgw(&["apikey", "create", "--tenant", "mvno1"], &data);
    assert!(key.status.success(), "{}", stderr(&key));
}
