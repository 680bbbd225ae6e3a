//! Crash and resume with a real process: `simgw serve --sandbox` against an external HLR
//! simulator (this test process) is killed with SIGKILL after the HLR applied the create
//! but before the gateway could record the answer. A restart on the same data dir must
//! finish the order, with exactly one subscriber on the HLR; or, for a China sale whose
//! HLR call went out on a verification that the restarted gateway's verifier now refuses,
//! remove that subscriber and fail the order with the refusal.

mod common;

use adapters::es2plus::Fqdn;
use common::process::{Api, Simgw, eventually, forget_sandbox_json, sandbox_json};
use conformance::hlr_sim::{self, Action, HlrSimConfig, MoKind, Operation, Rule};
use conformance::identity_sim::{
    self, Action as IdvAction, IdentitySimConfig, IdentitySimHandle, Rule as IdvRule,
};
use conformance::smdp_sim::{
    self, Action as SmdpAction, Function, OperatorAccount, ProfileSeed, ProfileState, ReplayRule,
    Rule as SmdpRule, SmdpSimConfig, SmdpSimHandle, cert_fingerprint_pem, server_tls_config,
};
use gateway::tls::DevCa;
use serde_json::Value;
use sim_profiles::Iccid;
use std::path::Path;

fn spawn_gateway(dir: &Path, hlr_url: &str) -> Simgw {
    spawn_gateway_with(dir, hlr_url, "")
}

/// Starts `simgw serve --sandbox` with `extra` TOML sections appended to its config.
fn spawn_gateway_with(dir: &Path, hlr_url: &str, extra: &str) -> Simgw {
    let config = dir.join("simgw.toml");
    // A long HLR timeout so the hung call is still in flight when the process is killed.
    std::fs::write(&config, format!("data_dir = {:?}\nlisten = \"127.0.0.1:0\"\n[hlr]\nuser = \"gw\"\ntimeout_ms = 120000\n{extra}", dir.join("data"))).expect("config");
    Simgw::serve_sandbox(&config, Some((hlr_url, "pw")))
}

async fn wait_for_sandbox(dir: &Path) -> Value {
    sandbox_json(&dir.join("data")).await
}

/// Polls an activation until it is `active` or `failed`; returns its last JSON.
async fn wait_final(api: &Api, id: &str) -> Value {
    api.until(&format!("/v1/activations/{id}"), "active or failed", |v| {
        v["status"] == "active" || v["status"] == "failed"
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_between_hlr_create_and_its_record_then_resume() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut sim_cfg = HlrSimConfig::new("gw", "pw");
    sim_cfg.listen = "127.0.0.1:0".parse().expect("addr");
    let sim = hlr_sim::start(sim_cfg).await.expect("simulator");
    // The HLR applies the create and never answers: the gateway cannot know it happened.
    sim.push_rule(Rule::once(
        Operation::Create,
        MoKind::GsmHlr,
        Action::HangAfterApply,
    ));

    let gw = spawn_gateway(dir.path(), &sim.url());
    let sb = wait_for_sandbox(dir.path()).await;
    let api = Api::operator(&sb);
    let iccid = sb["physical_iccids"][0].as_str().expect("iccid").to_owned();
    let body =
        serde_json::json!({"sim": {"type": "physical", "iccid": iccid}, "product": sb["product"]});
    let order = api.post("/v1/activations", "crash-1", &body).await;
    let id = order["id"].as_str().expect("id").to_owned();

    // Wait until the HLR applied the create (and is holding the response back).
    assert!(
        eventually(|| sim
            .applied_creates()
            .iter()
            .any(|c| c.kind == MoKind::GsmHlr))
        .await,
        "HLR create never arrived"
    );
    let mid = api.get(&format!("/v1/activations/{id}")).await;
    assert_eq!(mid["status"], "hlr_provisioning", "{mid}");

    gw.kill9();
    forget_sandbox_json(&dir.path().join("data"));

    let _gw = spawn_gateway(dir.path(), &sim.url());
    let sb2 = wait_for_sandbox(dir.path()).await;
    assert_eq!(
        sb2["api_key"], sb["api_key"],
        "same sandbox key after restart"
    );
    let api = Api::operator(&sb2);
    let last = wait_final(&api, &id).await;
    assert_eq!(last["status"], "active", "{last}");
    let subs = sim.subscribers();
    assert_eq!(subs.len(), 1, "exactly one subscriber: {subs:?}");
    assert_eq!(subs[0].imsi.as_str(), order["imsi"].as_str().expect("imsi"));
    assert_eq!(
        subs[0].msisdn.as_ref().map(|m| m.to_string()),
        order["msisdn"].as_str().map(str::to_owned)
    );
    let hlr_creates = sim
        .applied_creates()
        .iter()
        .filter(|c| c.kind == MoKind::GsmHlr)
        .count();
    assert_eq!(
        hlr_creates, 1,
        "the retried create found the subscriber instead of creating a second"
    );
    // The same request replayed after the restart is the same order, not a new one.
    let (_, replay) = api.post_raw("/v1/activations", "crash-1", &body).await;
    assert_eq!(replay["id"], order["id"]);
}

/// An external SM-DP+ simulator (this process) holding the sandbox's eSIM profiles, and
/// the `[esim]` config that points a `serve --sandbox` process at it.
async fn esim_rig(dir: &Path) -> (SmdpSimHandle, String) {
    let ca = DevCa::load_or_create(&dir.join("pki")).expect("ca");
    let ca_pem = std::fs::read(&ca.cert_path).expect("ca pem");
    let server = ca
        .issue("sm-dp+", &["localhost", "127.0.0.1"])
        .expect("server cert");
    let client = ca.issue("gateway", &["localhost"]).expect("client cert");
    let (cert, key) = (dir.join("pki/gw.pem"), dir.join("pki/gw.key"));
    std::fs::write(&cert, &client.cert_pem).expect("write");
    std::fs::write(&key, &client.key_pem).expect("write");
    let tls = server_tls_config(
        server.cert_pem.as_bytes(),
        server.key_pem.as_bytes(),
        &ca_pem,
    )
    .expect("tls");
    let mut cfg = SmdpSimConfig::new(tls, Fqdn::new("SMDP.TEST.INVALID").expect("fqdn"));
    // A repeated ConfirmOrder is refused as "MatchingID in use", so a resumed order
    // reaches `active` only through the gateway's own replay rule.
    cfg.replay = ReplayRule::MatchingIdInUse;
    cfg.operators = vec![OperatorAccount {
        name: "sandbox".into(),
        cert_sha256: cert_fingerprint_pem(client.cert_pem.as_bytes()).expect("fingerprint"),
        notification_url: None,
    }];
    cfg.profiles = (0..5)
        .map(|i| {
            ProfileSeed::new(
                gateway::sandbox::esim_iccid(i).expect("iccid"),
                gateway::sandbox::ESIM_PROFILE_TYPE,
                "sandbox",
            )
        })
        .collect();
    let sim = smdp_sim::start(cfg).await.expect("SM-DP+ simulator");
    let ca_path = ca.cert_path.display().to_string();
    let extra = format!(
        "[engine]\nbackoff_base_ms = 2000\nbackoff_max_ms = 4000\n[sandbox]\nphysical_sims = 5\nesim_profiles = 5\nnumbers = 100\n[esim]\nsmdp_url = {:?}\nsmdp_address = \"SMDP.TEST.INVALID\"\nrequester_id = \"sandbox\"\nclient_cert_file = {:?}\nclient_key_file = {:?}\nsmdp_ca_file = {ca_path:?}\ncallback_listen = \"127.0.0.1:0\"\ncallback_client_ca_file = {ca_path:?}\n",
        sim.url(),
        cert.display().to_string(),
        key.display().to_string(),
    );
    (sim, extra)
}

/// Where an eSIM order is when the gateway is killed.
#[derive(Clone, Copy)]
enum EsimCrash {
    /// DownloadOrder recorded; the HLR applied the create and holds its answer.
    BetweenDownloadAndConfirm,
    /// The SM-DP+ committed ConfirmOrder and dropped the response.
    ConfirmCommittedAnswerLost,
}

async fn esim_crash_then_resume(at: EsimCrash) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut hlr_cfg = HlrSimConfig::new("gw", "pw");
    hlr_cfg.listen = "127.0.0.1:0".parse().expect("addr");
    let hlr = hlr_sim::start(hlr_cfg).await.expect("HLR simulator");
    let (smdp, extra) = esim_rig(dir.path()).await;
    match at {
        EsimCrash::BetweenDownloadAndConfirm => hlr.push_rule(Rule::once(
            Operation::Create,
            MoKind::GsmHlr,
            Action::HangAfterApply,
        )),
        EsimCrash::ConfirmCommittedAnswerLost => smdp.push_rule(SmdpRule::once(
            Function::ConfirmOrder,
            SmdpAction::DropAfterCommit,
        )),
    }
    let gw = spawn_gateway_with(dir.path(), &hlr.url(), &extra);
    let sb = wait_for_sandbox(dir.path()).await;
    let api = Api::operator(&sb);
    let body = serde_json::json!({"sim": {"type": "esim"}, "product": sb["product"]});
    let order = api.post("/v1/activations", "esim-crash", &body).await;
    let id = order["id"].as_str().expect("id").to_owned();
    let iccid: Iccid = order["iccid"]
        .as_str()
        .expect("iccid")
        .parse()
        .expect("iccid");
    let want = match at {
        EsimCrash::BetweenDownloadAndConfirm => ProfileState::Allocated,
        EsimCrash::ConfirmCommittedAnswerLost => ProfileState::Released,
    };
    let reached = || {
        let hlr_created = hlr
            .applied_creates()
            .iter()
            .any(|c| c.kind == MoKind::GsmHlr);
        smdp.profile(&iccid).map(|p| p.state) == Some(want)
            && (hlr_created || matches!(at, EsimCrash::ConfirmCommittedAnswerLost))
    };
    assert!(
        eventually(reached).await,
        "the crash point was never reached: {:?}",
        smdp.profile(&iccid).map(|p| p.state)
    );
    gw.kill9();
    forget_sandbox_json(&dir.path().join("data"));

    let _gw = spawn_gateway_with(dir.path(), &hlr.url(), &extra);
    let sb2 = wait_for_sandbox(dir.path()).await;
    let api = Api::operator(&sb2);
    let last = wait_final(&api, &id).await;
    assert_eq!(last["status"], "active", "{last}");
    let released: Vec<_> = smdp
        .profiles()
        .into_iter()
        .filter(|p| p.state != ProfileState::Available)
        .collect();
    assert_eq!(
        released.len(),
        1,
        "exactly one profile left stock: {released:?}"
    );
    assert_eq!(released[0].iccid, iccid);
    assert_eq!(released[0].state, ProfileState::Released);
    let ac = last["activation_code"].as_str().expect("activation code");
    assert_eq!(
        released[0].matching_id.as_ref().map(|m| m.as_str()),
        ac.rsplit('$').next(),
        "the activation code carries the MatchingID the SM-DP+ holds"
    );
    assert_eq!(hlr.subscribers().len(), 1, "exactly one subscriber");
    if matches!(at, EsimCrash::ConfirmCommittedAnswerLost) {
        // The repeat was refused 8.2.6/3.3: active only on ReleaseProfile's evidence.
        assert!(
            smdp.counts().succeeded.release_profile >= 1,
            "active without evidence of release: {:?}",
            smdp.counts()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn esim_kill_between_download_order_and_confirm_order_then_resume() {
    esim_crash_then_resume(EsimCrash::BetweenDownloadAndConfirm).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn esim_kill_after_confirm_order_committed_with_its_answer_lost_then_resume() {
    esim_crash_then_resume(EsimCrash::ConfirmCommittedAnswerLost).await;
}

/// An external identity verifier simulator (this process) with its TLS certificate from
/// `ca`, and the `[identity]` section that points a `serve --sandbox` process at it, the
/// verifier asked only after the create commit.
async fn verifier(ca: &DevCa) -> (IdentitySimHandle, String) {
    let server = ca
        .issue("identity verifier", &["localhost", "127.0.0.1"])
        .expect("server cert");
    let tls = identity_sim::server_tls_config(
        server.cert_pem.as_bytes(),
        server.key_pem.as_bytes(),
        None,
    )
    .expect("tls");
    let sim = identity_sim::start(IdentitySimConfig::new(tls))
        .await
        .expect("identity simulator");
    let extra = format!(
        "[identity]\nurl = {:?}\nca_file = {:?}\nbefore_create_wait_ms = 0\n",
        sim.url(),
        ca.cert_path.display().to_string(),
    );
    (sim, extra)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_after_a_verified_hlr_call_then_a_verifier_that_forgot_refuses_and_it_is_undone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ca = DevCa::load_or_create(&dir.path().join("pki")).expect("ca");
    let mut hlr_cfg = HlrSimConfig::new("gw", "pw");
    hlr_cfg.listen = "127.0.0.1:0".parse().expect("addr");
    let hlr = hlr_sim::start(hlr_cfg).await.expect("HLR simulator");
    // The HLR applies the create and never answers: the gateway cannot know it happened.
    hlr.push_rule(Rule::once(
        Operation::Create,
        MoKind::GsmHlr,
        Action::HangAfterApply,
    ));
    let (first, extra) = verifier(&ca).await;
    let gw = spawn_gateway_with(dir.path(), &hlr.url(), &extra);
    let sb = wait_for_sandbox(dir.path()).await;
    let cn = &sb["markets"]["cn"];
    let api = Api::new(&sb, cn["api_key"].as_str().expect("cn api_key"));
    let iccid = cn["physical_iccids"][0].as_str().expect("iccid").to_owned();
    let body = common::market::sale(&iccid, &common::market::resident_id(7), "C1");
    let order = api.post("/v1/activations", "idv-crash", &body).await;
    let id = order["id"].as_str().expect("id").to_owned();
    // Created unverified, its HLR call recorded to go out once the verification passes.
    assert_eq!(order["status"], "reserved", "{order}");
    assert!(
        eventually(|| hlr
            .applied_creates()
            .iter()
            .any(|c| c.kind == MoKind::GsmHlr))
        .await,
        "HLR create never arrived"
    );
    assert_eq!(first.counts().passed, 1, "the HLR call went out on a pass");
    // Nothing between the pass and the call's answer is written: the store still holds
    // the order as created.
    let mid = api.get(&format!("/v1/activations/{id}")).await;
    assert_eq!(
        (&mid["status"], &mid["steps"]["hlr_provision"]["state"]),
        (
            &serde_json::json!("reserved"),
            &serde_json::json!("pending")
        ),
        "{mid}"
    );
    gw.kill9();
    forget_sandbox_json(&dir.path().join("data"));
    first.shutdown().await;

    // The verifier lost its memory of the request and now refuses it.
    let (second, extra) = verifier(&ca).await;
    second.push_rule(IdvRule::always(IdvAction::Reject(
        adapters::identity::RejectCode::FaceCheckFailed,
    )));
    let _gw = spawn_gateway_with(dir.path(), &hlr.url(), &extra);
    let sb2 = wait_for_sandbox(dir.path()).await;
    let api = Api::new(&sb2, sb2["markets"]["cn"]["api_key"].as_str().expect("key"));
    let last = wait_final(&api, &id).await;
    assert_eq!(last["status"], "failed", "{last}");
    assert_eq!(last["error"]["code"], "face_check_failed", "{last}");
    assert_eq!(
        last["steps"]["hlr_compensation"]["state"], "done",
        "the subscriber the call may have created was removed: {last}"
    );
    let left = hlr.subscribers();
    assert!(left.is_empty(), "no orphan on the HLR: {left:?}");
    let sim = api.get(&format!("/v1/sims/{iccid}")).await;
    assert_eq!(sim["state"], "available", "the SIM is back in stock: {sim}");
}
