//! eSIM end to end, in-process sandbox over real sockets: ES2+ to the SM-DP+ simulator
//! with mutual TLS both ways, the QR of the activation code scanned back, simulated
//! download and install reaching the order through HandleDownloadProgressInfo, the
//! receiver's leniency and strictness, and compensation leaving the profile Available.

mod common;

use adapters::http::HttpClient;
use bytes::Bytes;
use common::sandbox::{Api, esim_body, esim_config, is_status, shutdown};
use conformance::hlr_sim::{Action as HlrAction, MoKind, Operation, Rule as HlrRule};
use conformance::smdp_sim::{
    Action as SmdpAction, Function, InstallResult, ProfileState, Quirks, ReplayRule,
    Rule as SmdpRule,
};
use gateway::sandbox::Sandbox;
use serde_json::{Value, json};
use sim_profiles::Iccid;
use std::time::Duration;

/// A sandbox with 10 eSIM profiles whose orders give up after two attempts; the
/// directory must outlive it.
async fn start() -> (tempfile::TempDir, Sandbox) {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut c = esim_config(dir.path(), 10);
    c.engine.max_attempts = 2;
    let sb = gateway::sandbox::start(c).await.expect("sandbox");
    (dir, sb)
}

/// Decodes a PNG and scans the QR in it.
fn scan_png(png_bytes: &[u8]) -> String {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().expect("png header");
    let mut buf = vec![0; reader.output_buffer_size().expect("size")];
    let info = reader.next_frame(&mut buf).expect("png frame");
    let (w, h) = (info.width as usize, info.height as usize);
    let bits = info.bit_depth as usize;
    let line = info.line_size;
    let luma = |x: usize, y: usize| -> u8 {
        match bits {
            1 => {
                let byte = buf[y * line + x / 8];
                if byte & (0x80 >> (x % 8)) != 0 {
                    255
                } else {
                    0
                }
            }
            _ => buf[y * line + x],
        }
    };
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, luma);
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the image");
    grids[0].decode().expect("decodes").1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn esim_order_is_released_with_a_scannable_code_then_downloaded_and_installed() {
    let (_dir, sb) = start().await;
    assert!(!sb.info.esim_profile_type.is_empty());
    let sim = sb.smdp_sim.clone().expect("SM-DP+ simulator");
    let api = Api::new(&sb);
    let (status, created) = api.order("e-1", esim_body(&sb.info.product)).await;
    assert_eq!(status, 202, "{created}");
    assert_eq!(created["sim"]["type"], "esim");
    let id = created["id"].as_str().expect("id").to_owned();
    let v = api.until(&id, "active", is_status("active")).await;

    // The activation code: our MatchingID at the SM-DP+ address, within 255 characters.
    let ac = v["activation_code"]
        .as_str()
        .expect("activation_code")
        .to_owned();
    assert!(ac.starts_with("1$SMDP.SANDBOX.INVALID$"), "{ac}");
    assert!(ac.len() <= 255);
    assert_eq!(v["esim"]["state"], "released");
    let iccid: Iccid = v["iccid"].as_str().expect("iccid").parse().expect("iccid");
    let profile = sim.profile(&iccid).expect("profile at the SM-DP+");
    assert_eq!(profile.state, ProfileState::Released);
    assert_eq!(
        profile.matching_id.as_ref().map(|m| m.as_str()),
        ac.rsplit('$').next()
    );

    // The QR decodes byte for byte to `LPA:` + the activation code.
    let png = api.get_raw(&format!("/v1/activations/{id}/qr.png")).await;
    assert_eq!(png.status, 200);
    assert_eq!(
        png.headers.get("content-type").map(|h| h.as_bytes()),
        Some(&b"image/png"[..])
    );
    assert_eq!(scan_png(&png.body), format!("LPA:{ac}"));
    let svg = api.get_raw(&format!("/v1/activations/{id}/qr.svg")).await;
    assert_eq!(svg.status, 200);
    assert!(String::from_utf8_lossy(&svg.body).starts_with("<svg"));

    // The customer downloads and installs: notifications reach the order and its events.
    sim.download(&iccid).expect("download");
    api.until(&id, "downloaded", |v| v["esim"]["state"] == "downloaded")
        .await;
    sim.install(&iccid, InstallResult::Success)
        .expect("install");
    let v = api
        .until(&id, "installed", |v| v["esim"]["state"] == "installed")
        .await;
    assert_eq!(v["status"], "active");
    let points: Vec<u64> = v["esim"]["progress"]
        .as_array()
        .expect("progress")
        .iter()
        .filter_map(|p| p["point"].as_u64())
        .collect();
    assert_eq!(points, [3, 4]);
    let events = sb
        .gateway
        .store
        .events(0, 10_000)
        .await
        .expect("events")
        .into_iter()
        .filter(|e| e.order_id.as_deref() == Some(id.as_str()))
        .map(|e| serde_json::to_value(&e).expect("json")["kind"].clone())
        .collect::<Vec<_>>();
    assert_eq!(
        events.iter().filter(|e| *e == "esim_progress").count(),
        2,
        "{events:?}"
    );
    // The simulator recorded the personalised package it "downloaded".
    let package = sim.package(&iccid).expect("package");
    let parsed = sim_profiles::profile::Package::decode(&package).expect("decodes");
    assert_eq!(parsed.header().map(|h| &h.iccid), Some(&iccid));

    // A physical order has no QR.
    let iccid_phys = sb.info.physical_iccids[0].clone();
    let (status, phys) = api
        .order(
            "p-1",
            json!({"sim": {"type": "physical", "iccid": iccid_phys}, "product": sb.info.product}),
        )
        .await;
    assert_eq!(status, 202);
    let r = api
        .get_raw(&format!(
            "/v1/activations/{}/qr.png",
            phys["id"].as_str().expect("id")
        ))
        .await;
    assert_eq!(r.status, 422);
    shutdown(sb).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permanent_hlr_failure_after_download_order_leaves_the_profile_available() {
    let (_dir, sb) = start().await;
    let hlr = sb.hlr_sim.clone().expect("HLR simulator");
    let sim = sb.smdp_sim.clone().expect("SM-DP+ simulator");
    hlr.push_rule(HlrRule::once(
        Operation::Create,
        MoKind::GsmHlr,
        HlrAction::Fault(conformance::hlr_sim::FaultKind::Invalid),
    ));
    let api = Api::new(&sb);
    let id = api.order_esim("e-2", &sb.info.product).await;
    let v = api.until(&id, "failed", is_status("failed")).await;
    assert_eq!(v["error"]["code"], "hlr_rejected", "{v}");
    assert_eq!(v["esim"]["steps"]["download_order"]["state"], "done");
    assert_eq!(v["esim"]["steps"]["cancel_order"]["state"], "done");
    assert!(v.get("activation_code").is_none());
    let iccid: Iccid = v["iccid"].as_str().expect("iccid").parse().expect("iccid");
    assert_eq!(
        sim.profile(&iccid).expect("profile").state,
        ProfileState::Available
    );
    // Back in stock: the next order gets a profile again.
    let (status, _) = api.order("e-3", esim_body(&sb.info.product)).await;
    assert_eq!(status, 202);
    shutdown(sb).await;
}

/// POSTs a notification body on the callback listener with `identity` as client cert.
async fn notify(sb: &Sandbox, identity: Option<(&[u8], &[u8])>, body: &str) -> Result<u16, String> {
    let ca = std::fs::read(&sb.info.ca_cert).expect("ca");
    let mut b = HttpClient::builder()
        .add_root_pem(&ca)
        .request_timeout(Duration::from_secs(5));
    if let Some((cert, key)) = identity {
        b = b.identity_pem(cert, key);
    }
    let http = b.build().expect("client");
    http.post(
        sb.info.es2_callback_url.as_deref().expect("callback url"),
        &[("content-type", "application/json".into())],
        Bytes::from(body.to_owned()),
    )
    .await
    .map(|r| r.status)
    .map_err(|e| e.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_receiver_is_lenient_in_form_strict_in_identity_and_deduplicates() {
    let (_dir, sb) = start().await;
    let sim = sb.smdp_sim.clone().expect("SM-DP+ simulator");
    let api = Api::new(&sb);
    let id = api.order_esim("e-4", &sb.info.product).await;
    let v = api.until(&id, "active", is_status("active")).await;
    let iccid: Iccid = v["iccid"].as_str().expect("iccid").parse().expect("iccid");

    // The simulator sends every quirk at once: `timeStamp`, string point ids, F-padded
    // ICCID, no EID, vendor members, duplicates, install before download, extra points.
    sim.set_quirks(Quirks {
        timestamp_camel_case: true,
        point_id_as_string: true,
        pad_iccid: true,
        omit_eid: true,
        vendor_members: true,
        duplicate: true,
        install_before_download: true,
        extra_points: vec![6, 150],
    });
    sim.download(&iccid).expect("download");
    sim.install(&iccid, InstallResult::Success)
        .expect("install");
    // Points 4, 6, 150, then the held-back 3, each sent twice: eight notifications. The
    // receiver records each before it answers 204, so once the simulator has all eight
    // answered, every duplicate has landed, late ones included: nothing is left to wait for.
    let sent = sim.wait_for_notifications(8, Duration::from_secs(30)).await;
    assert_eq!(sent.len(), 8, "{sent:?}");
    assert!(
        sent.iter().all(|n| n.delivered),
        "not all answered 204: {sent:?}"
    );
    let sent_points: Vec<u32> = sent.iter().map(|n| n.point).collect();
    assert_eq!(
        sent_points,
        [4, 4, 6, 6, 150, 150, 3, 3],
        "install before download"
    );
    let v = api.get(&id).await;
    assert_eq!(
        v["esim"]["state"], "installed",
        "4 before 3 stays installed"
    );
    let points: Vec<u64> = v["esim"]["progress"]
        .as_array()
        .expect("progress")
        .iter()
        .filter_map(|p| p["point"].as_u64())
        .collect();
    // Each distinct notification once, duplicates ignored, vendor points stored.
    let mut sorted = points.clone();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(
        points.len(),
        sorted.len(),
        "duplicates were applied: {points:?}"
    );
    for p in [3, 4, 150] {
        assert!(points.contains(&p), "point {p} missing from {points:?}");
    }
    assert_eq!(
        sb.gateway
            .metrics
            .es2_notifications_duplicate
            .load(std::sync::atomic::Ordering::Relaxed),
        4,
        "every second copy was recognised as a duplicate"
    );
    assert_eq!(sim.notifications().len(), 8, "nothing sent after");
    assert_eq!(v["status"], "active");

    // No client certificate, or one the CA issued for someone else: refused at TLS.
    let body =
        json!({"header": {"functionRequesterIdentifier": "x", "functionCallIdentifier": "y"},
        "iccid": iccid.to_string(), "profileType": "T", "timestamp": "2026-11-23T10:00:00Z",
        "notificationPointId": 3, "notificationPointStatus": {"status": "Failed"}})
        .to_string();
    assert!(
        notify(&sb, None, &body).await.is_err(),
        "no certificate accepted"
    );
    let (cert, key) = gateway::sandbox_smdp::gateway_client_files(&sb.gateway.config);
    let (cert, key) = (
        std::fs::read(cert).expect("cert"),
        std::fs::read(key).expect("key"),
    );
    assert!(
        notify(&sb, Some((&cert, &key)), &body).await.is_err(),
        "a certificate other than the SM-DP+'s was accepted"
    );
    let after = api.get(&id).await;
    assert_eq!(
        after["esim"]["state"], "installed",
        "refused calls changed nothing"
    );

    // Malformed JSON from the right peer: 400 and no state change.
    let events_before = sb
        .gateway
        .store
        .events(0, 100_000)
        .await
        .expect("events")
        .len();
    let (cert, key) = gateway::sandbox_smdp::notifier_files(&sb.gateway.config);
    let (cert, key) = (
        std::fs::read(cert).expect("cert"),
        std::fs::read(key).expect("key"),
    );
    assert_eq!(notify(&sb, Some((&cert, &key)), "{not json").await, Ok(400));
    assert_eq!(
        sb.gateway
            .store
            .events(0, 100_000)
            .await
            .expect("events")
            .len(),
        events_before
    );
    shutdown(sb).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_with_confirmation_codes_gets_one_per_order_and_the_smdp_its_hash() {
    let (_dir, sb) = start().await;
    let sim = sb.smdp_sim.clone().expect("SM-DP+ simulator");
    let mut tenant = sb
        .gateway
        .store
        .tenant(&sb.info.tenant)
        .await
        .expect("read")
        .expect("tenant");
    tenant.esim_confirmation_code = true;
    gateway::admin::apply(
        sb.gateway.store.as_ref(),
        gateway::store::AdminChange::PutTenant(tenant),
    )
    .await
    .expect("put tenant");
    let api = Api::new(&sb);
    let id = api.order_esim("cc-1", &sb.info.product).await;
    let v = api.until(&id, "active", is_status("active")).await;
    let cc = v["esim"]["confirmation_code"]
        .as_str()
        .expect("confirmation code");
    assert!(
        cc.len() == 8 && cc.bytes().all(|b| b.is_ascii_digit()),
        "{cc}"
    );
    // The device must prompt for it: the activation code carries the `$$1` flag.
    let ac = v["activation_code"].as_str().expect("activation code");
    assert!(ac.ends_with("$$1"), "{ac}");
    let iccid: Iccid = v["iccid"].as_str().expect("iccid").parse().expect("iccid");
    let profile = sim.profile(&iccid).expect("profile");
    let want = ring::digest::digest(&ring::digest::SHA256, cc.as_bytes());
    assert_eq!(
        profile.cc_hash.as_ref().map(|h| h.as_ref().to_vec()),
        Some(want.as_ref().to_vec()),
        "the SM-DP+ holds SHA-256 of the code we sent"
    );
    // Never in the event log.
    let events = serde_json::to_string(&sb.gateway.store.events(0, 100_000).await.expect("events"))
        .expect("json");
    assert!(
        !events.contains(cc),
        "the confirmation code leaked into the event log"
    );
    shutdown(sb).await;
}

fn is_settled(v: &Value) -> bool {
    v["status"] == "active" || v["status"] == "failed" || v["needs_attention"] == true
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reservation_lost_before_confirm_is_made_anew_and_active_only_once_really_released() {
    let (_dir, sb) = start().await;
    let sim = sb.smdp_sim.clone().expect("SM-DP+ simulator");
    // The SM-DP+ loses the reservation as the first ConfirmOrder arrives and answers 500:
    // the retry then finds the profile Available, and is refused 8.2.1/3.5.
    sim.push_rule(SmdpRule::once(
        Function::ConfirmOrder,
        SmdpAction::LoseReservation,
    ));
    let api = Api::new(&sb);
    let id = api.order_esim("lost-1", &sb.info.product).await;
    let v = api
        .until(&id, "active, failed or flagged", is_settled)
        .await;
    assert_eq!(v["status"], "active", "{v}");
    // Active only because the profile really is released, for our MatchingID.
    let iccid: Iccid = v["iccid"].as_str().expect("iccid").parse().expect("iccid");
    let profile = sim.profile(&iccid).expect("profile");
    assert_eq!(profile.state, ProfileState::Released, "{v}");
    let ac = v["activation_code"].as_str().expect("activation code");
    assert_eq!(
        profile.matching_id.as_ref().map(|m| m.as_str()),
        ac.rsplit('$').next()
    );
    // How it got there: ReleaseProfile showed nothing released, DownloadOrder reserved the
    // profile again, and a third ConfirmOrder released it.
    let steps = &v["esim"]["steps"];
    assert_eq!(steps["release_profile"]["state"], "done", "{steps}");
    assert_eq!(steps["download_order_again"]["state"], "done", "{steps}");
    let counts = sim.counts();
    assert_eq!(counts.injected.lost_reservation, 1);
    assert_eq!(
        (
            counts.requests.download_order,
            counts.requests.confirm_order,
            counts.requests.release_profile
        ),
        (2, 3, 1)
    );
    assert!(v.get("needs_attention").is_none(), "{v}");
    shutdown(sb).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confirm_replay_refused_as_an_invalid_transition_is_proven_by_release_profile() {
    let (_dir, sb) = start().await;
    let sim = sb.smdp_sim.clone().expect("SM-DP+ simulator");
    // The first ConfirmOrder releases the profile but its answer is lost; the repeat is
    // refused 8.2.1/3.5, as some SM-DP+s answer a replay.
    sim.set_replay_rule(ReplayRule::InvalidTransition);
    sim.push_rule(SmdpRule::once(
        Function::ConfirmOrder,
        SmdpAction::DropAfterCommit,
    ));
    let api = Api::new(&sb);
    let id = api.order_esim("replay-1", &sb.info.product).await;
    let v = api
        .until(&id, "active, failed or flagged", is_settled)
        .await;
    assert_eq!(v["status"], "active", "{v}");
    let iccid: Iccid = v["iccid"].as_str().expect("iccid").parse().expect("iccid");
    assert_eq!(
        sim.profile(&iccid).expect("profile").state,
        ProfileState::Released
    );
    assert_eq!(v["esim"]["steps"]["release_profile"]["state"], "done");
    assert!(v["esim"]["steps"].get("download_order_again").is_none());
    let counts = sim.counts();
    assert_eq!(
        (
            counts.requests.download_order,
            counts.requests.confirm_order,
            counts.requests.release_profile,
            counts.succeeded.release_profile
        ),
        (1, 2, 1, 1)
    );
    shutdown(sb).await;
}
