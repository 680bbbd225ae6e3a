//! The rig of the kill -9 tests of a port's cutover (`port_crash.rs`, `port_out_crash.rs`):
//! a real `simgw` process (`serve --sandbox` on a data dir) against a CAI3G HLR simulator
//! and a porting hub simulator living in the test process, so both keep their state
//! across the gateway's death; mutual TLS both ways with the gateway's own dev CA,
//! created here first.

use super::free_port;
use super::process::{Api, Simgw, sandbox_json};
use conformance::hlr_sim::{self, HlrSimConfig, HlrSimHandle};
use conformance::porting_sim::{
    self, NotifierIdentity, PortingSimConfig, PortingSimHandle, server_tls_config,
};
use serde_json::Value;
use std::time::Duration;

/// What the test issues from the gateway's dev CA before the gateway starts.
pub struct Rig {
    pub dir: tempfile::TempDir,
    pub config: std::path::PathBuf,
    pub hlr: HlrSimHandle,
    pub hub: PortingSimHandle,
}

pub async fn rig() -> Rig {
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
    pub fn data(&self) -> std::path::PathBuf {
        self.dir.path().join("data")
    }

    pub fn spawn(&self) -> Simgw {
        Simgw::serve_sandbox(&self.config, Some((&self.hlr.url(), "pw")))
    }

    /// The UK market tenant's API, once the (re)started gateway is up, and its first SIM.
    pub async fn connect(&self) -> (Api, String) {
        let sb = sandbox_json(&self.data()).await;
        let uk = &sb["markets"]["uk"];
        let api = Api::new(&sb, uk["api_key"].as_str().expect("key"));
        let iccid = uk["physical_iccids"][0].as_str().expect("iccid").to_owned();
        (api, iccid)
    }
}

/// A UK port-in of `number` on card `iccid`, sold at the rig's store (Idempotency-Key
/// `key`): the order as the POST answered it, its id and its temporary number.
pub async fn post_port_in(
    api: &Api,
    iccid: &str,
    number: &str,
    key: &str,
) -> (Value, String, String) {
    let body = serde_json::json!({
        "sim": {"type": "physical", "iccid": iccid},
        "product": "sandbox-basic",
        "channel": {"kind": "store", "store_id": "SZ-0042", "terminal_id": "T7", "staff_id": "C1"},
        "msisdn": {"mode": "port_in", "number": number, "donor": "EE", "credential": "ABC123456"}
    });
    let o = api.post("/v1/activations", key, &body).await;
    let id = o["id"].as_str().expect("id").to_owned();
    let temp = o["port"]["temporary_number"]
        .as_str()
        .expect("temp")
        .to_owned();
    (o, id, temp)
}

/// Polls order `id` (bounded) until `pred` holds.
pub async fn until(api: &Api, id: &str, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    api.until(&format!("/v1/orders/{id}"), what, pred).await
}

/// The hub never answers the next acknowledgement (the cutover's stays in flight).
pub fn next_acknowledgement_times_out(hub: &PortingSimHandle) {
    hub.push_rule(porting_sim::Rule::new(
        Some(porting_sim::Operation::Acknowledge),
        porting_sim::Action::Timeout,
        1,
    ));
}

/// The state of step `name` of an order's port part (`in_progress`, `done`, …).
pub fn port_step(v: &Value, name: &str) -> Option<String> {
    v["port"]["steps"][name]["state"]
        .as_str()
        .map(str::to_owned)
}
