//! kill -9 of a real `simgw` during a UK port-in's cutover. The gateway runs as its own
//! process (`serve --sandbox` on a data dir) against a CAI3G HLR simulator and a porting
//! hub simulator living in this test process, so both keep their state across the
//! gateway's death; mutual TLS both ways with the gateway's own dev CA, created here
//! first. A scripted fault stops the cutover deterministically at one of three points,
//! and the process is killed right there:
//!
//! 1. the number change was sent to the HLR and the HLR has not applied it (its read of
//!    the subscriber hangs);
//! 2. the HLR applied the change and its answer is lost (the record says "sent");
//! 3. the HLR step is recorded done and the hub's acknowledgement is in flight (the hub
//!    never answers it).
//!
//! A restart on the same data dir must finish the order with exactly one HLR subscriber
//! holding the ported number (the order's card), none holding the temporary number, and
//! the temporary number in quarantine.

mod common;

use common::holders;
use common::process::{Api, Simgw, eventually, forget_sandbox_json, sandbox_json};
use conformance::hlr_sim::{self, Action, HlrSimConfig, HlrSimHandle, MoKind, Operation, Rule};
use conformance::porting_sim::{
    self, NotifierIdentity, PortingSimConfig, PortingSimHandle, server_tls_config,
};
use serde_json::{Value, json};
use sim_profiles::Imsi;
use std::time::Duration;

const PORTED: &str = "447911000042";

/// A free loopback port (bound, then released for the gateway to take).
fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// What the test issues from the gateway's dev CA before the gateway starts.
struct Rig {
    dir: tempfile::TempDir,
    config: std::path::PathBuf,
    hlr: HlrSimHandle,
    hub: PortingSimHandle,
}

async fn rig() -> Rig {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let tls = data.join("tls");
    std::fs::create_dir_all(&data).expect("data");
    let ca = gateway::tls::DevCa::load_or_create(&tls).expect("dev CA");
    let ca_pem = std::fs::read(&ca.cert_path).expect("ca pem");
    let server = ca
        .issue("hub", &["localhost", "127.0.0.1"])
        .expect("hub cert");
    let notifier = ca.issue("hub notifier", &["localhost"]).expect("notifier");
    let client = ca
        .issue("simgw hub client", &["localhost"])
        .expect("client");
    let (client_cert, client_key) = (
        dir.path().join("hub-client.pem"),
        dir.path().join("hub-client.key"),
    );
    std::fs::write(&client_cert, &client.cert_pem).expect("write");
    std::fs::write(&client_key, &client.key_pem).expect("write");

    let mut hlr_cfg = HlrSimConfig::new("gw", "pw");
    hlr_cfg.listen = "127.0.0.1:0".parse().expect("addr");
    let hlr = hlr_sim::start(hlr_cfg).await.expect("HLR simulator");

    let callback = free_port();
    let tls_cfg = server_tls_config(
        server.cert_pem.as_bytes(),
        server.key_pem.as_bytes(),
        &ca_pem,
    )
    .expect("hub tls");
    let mut hub_cfg = PortingSimConfig::new(tls_cfg);
    hub_cfg.receiver_url = Some(format!("https://127.0.0.1:{callback}"));
    hub_cfg.notifier = Some(NotifierIdentity {
        cert_pem: notifier.cert_pem.into_bytes(),
        key_pem: notifier.key_pem.into_bytes(),
        root_ca_pem: ca_pem,
    });
    // Deliveries keep being retried while the gateway is down.
    hub_cfg.delivery.attempts = 1_000;
    hub_cfg.delivery.max_backoff = Duration::from_millis(200);
    let hub = porting_sim::start(hub_cfg).await.expect("hub simulator");

    let config = dir.path().join("simgw.toml");
    let toml = format!(
        "data_dir = {data:?}\nlisten = \"127.0.0.1:0\"\n\
         [hlr]\nuser = \"gw\"\ntimeout_ms = 120000\n\
         [engine]\nbackoff_base_ms = 20\nbackoff_max_ms = 200\n\
         [sandbox]\nphysical_sims = 4\nnumbers = 20\nesim_profiles = 2\n\
         [porting_hub]\nurl = {url:?}\nca_file = {ca:?}\nclient_cert_file = {client_cert:?}\n\
         client_key_file = {client_key:?}\ntimeout_ms = 120000\n\
         callback_listen = \"127.0.0.1:{callback}\"\ncallback_client_ca_file = {ca:?}\n",
        url = hub.url(),
        ca = ca.cert_path,
    );
    std::fs::write(&config, toml).expect("config");
    Rig {
        dir,
        config,
        hlr,
        hub,
    }
}

impl Rig {
    fn data(&self) -> std::path::PathBuf {
        self.dir.path().join("data")
    }

    fn spawn(&self) -> Simgw {
        Simgw::serve_sandbox(&self.config, Some((&self.hlr.url(), "pw")))
    }

    /// The UK market tenant's API, once the (re)started gateway is up, and its first SIM.
    async fn connect(&self) -> (Api, String) {
        let sb = sandbox_json(&self.data()).await;
        let uk = &sb["markets"]["uk"];
        let api = Api::new(&sb, uk["api_key"].as_str().expect("key"));
        let iccid = uk["physical_iccids"][0].as_str().expect("iccid").to_owned();
        (api, iccid)
    }
}

/// Polls order `id` (bounded) until `pred` holds.
async fn until(api: &Api, id: &str, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    api.until(&format!("/v1/orders/{id}"), what, pred).await
}

#[derive(Clone, Copy, Debug)]
enum Kill {
    BeforeTheHlrChange,
    HlrChangedAnswerLost,
    AcknowledgementInFlight,
}

async fn cutover_killed_at(at: Kill) {
    let rig = rig().await;
    let gw = rig.spawn();
    let (api, iccid) = rig.connect().await;
    let body = json!({
        "sim": {"type": "physical", "iccid": iccid},
        "product": "sandbox-basic",
        "channel": {"kind": "store", "store_id": "SZ-0042", "terminal_id": "T7", "staff_id": "C1"},
        "msisdn": {"mode": "port_in", "number": PORTED, "donor": "EE", "credential": "ABC123456"}
    });
    let o = api.post("/v1/activations", "port-1", &body).await;
    let id = o["id"].as_str().expect("id").to_owned();
    let temp = o["port"]["temporary_number"]
        .as_str()
        .expect("temp")
        .to_owned();
    let scheduled = until(&api, &id, "port_scheduled", |v| {
        v["status"] == "port_scheduled"
    })
    .await;
    let imsi: Imsi = scheduled["imsi"]
        .as_str()
        .expect("imsi")
        .parse()
        .expect("imsi");
    assert_eq!(holders(&rig.hlr, &temp), vec![imsi.clone()]);

    let hang = |op, kind| Rule::once(op, kind, Action::HangAfterApply);
    match at {
        Kill::BeforeTheHlrChange => rig.hlr.push_rule(hang(Operation::Get, MoKind::GsmHlr)),
        Kill::HlrChangedAnswerLost => rig.hlr.push_rule(hang(Operation::Set, MoKind::GsmHlr)),
        Kill::AcknowledgementInFlight => rig.hub.push_rule(porting_sim::Rule::new(
            Some(porting_sim::Operation::Acknowledge),
            porting_sim::Action::Timeout,
            1,
        )),
    }
    // The hub's clock reaches the cutover (locked at 17:00 the working day before).
    rig.hub.advance(Duration::from_secs(5 * 24 * 3600));
    let step = |v: &Value, name: &str| {
        v["port"]["steps"][name]["state"]
            .as_str()
            .map(str::to_owned)
    };
    match at {
        Kill::BeforeTheHlrChange => {
            let v = until(&api, &id, "the number change sent", |v| {
                step(v, "activate_number").as_deref() == Some("in_progress")
            })
            .await;
            assert_eq!(v["status"], "port_activating", "{v}");
            assert_eq!(
                holders(&rig.hlr, &temp),
                vec![imsi.clone()],
                "not applied yet"
            );
        }
        Kill::HlrChangedAnswerLost => {
            assert!(
                eventually(|| holders(&rig.hlr, PORTED) == vec![imsi.clone()]).await,
                "the HLR never applied the change"
            );
            let v = api.get(&format!("/v1/orders/{id}")).await;
            assert_eq!(
                step(&v, "activate_number").as_deref(),
                Some("in_progress"),
                "{v}"
            );
        }
        Kill::AcknowledgementInFlight => {
            let v = until(&api, &id, "the acknowledgement sent", |v| {
                step(v, "acknowledge").as_deref() == Some("in_progress")
            })
            .await;
            assert_eq!(holders(&rig.hlr, PORTED), vec![imsi.clone()], "{v}");
        }
    }
    gw.kill9();

    forget_sandbox_json(&rig.data());
    let _gw = rig.spawn();
    let (api, _) = rig.connect().await;
    let done = until(&api, &id, "active", |v| v["status"] == "active").await;
    assert_eq!(done["msisdn"], PORTED, "{done}");
    assert_eq!(
        holders(&rig.hlr, PORTED),
        vec![imsi.clone()],
        "exactly one holder"
    );
    assert!(
        holders(&rig.hlr, &temp).is_empty(),
        "nobody holds the temporary number"
    );
    let q = api.get("/v1/numbers/quarantine").await;
    assert!(
        q["data"]
            .as_array()
            .expect("data")
            .iter()
            .any(|n| n["msisdn"] == temp.as_str()),
        "{q}"
    );
    let line = api.get(&format!("/v1/subscriptions/{PORTED}")).await;
    assert_eq!(line["state"], "active", "{line}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_before_the_hlr_change_the_cutover_resumes() {
    cutover_killed_at(Kill::BeforeTheHlrChange).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_after_the_hlr_change_the_cutover_resumes_without_a_second_holder() {
    cutover_killed_at(Kill::HlrChangedAnswerLost).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_with_the_acknowledgement_in_flight_the_port_completes() {
    cutover_killed_at(Kill::AcknowledgementInFlight).await;
}
