//! In the sandbox, an eSIM batch imported through the API is loaded into the SM-DP+
//! simulator too (and again after a restart), so its profiles can be activated end to end.

mod common;

use common::sandbox::{Api, esim_config, is_terminal, shutdown};
use gateway::config::Config;
use gateway::sandbox::ESIM_PROFILE_TYPE;
use serde_json::Value;
use sim_profiles::Iccid;
use std::collections::BTreeSet;

/// A sandbox with no seeded eSIM profiles: every eSIM order draws from the imported batch.
fn config(dir: &std::path::Path) -> Config {
    esim_config(dir, 0)
}

/// Orders an eSIM and polls it until it is terminal.
async fn activate_esim(api: &Api, key: &str, product: &str) -> Value {
    let id = api.order_esim(key, product).await;
    api.until(&id, "a terminal status", is_terminal).await
}

/// A CSV batch of `n` profiles of the sandbox PLMN that collide with nothing seeded.
fn batch(n: u32) -> (String, Vec<Iccid>) {
    let mut csv = String::from("iccid,imsi,ki,opc\n");
    let mut iccids = Vec::new();
    for i in 0..n {
        let iccid = Iccid::from_payload(&format!("898600997700{i:06}")).expect("iccid");
        csv.push_str(&format!(
            "{iccid},00101770000{i:04},{:032x},{:032x}\n",
            0x1111_u128 * u128::from(i + 1),
            0x2222_u128 * u128::from(i + 1)
        ));
        iccids.push(iccid);
    }
    (csv, iccids)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_esim_batch_imported_through_the_api_activates_in_the_sandbox_also_after_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sb = gateway::sandbox::start(config(dir.path()))
        .await
        .expect("sandbox");
    let api = Api::new(&sb);
    let (csv, iccids) = batch(3);
    let (s, v) = api
        .post(
            &format!("/v1/inventory/imports?format=csv&name=esim.csv&esim_profile_type={ESIM_PROFILE_TYPE}"),
            &[("content-type", "text/csv")],
            csv,
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let smdp = sb.smdp_sim.as_ref().expect("SM-DP+ simulator");
    for i in &iccids {
        assert!(smdp.profile(i).is_some(), "the simulator knows {i}");
    }

    let o = activate_esim(&api, "imp-1", &sb.info.product).await;
    assert_eq!(o["status"], "active", "{o}");
    let first: Iccid = o["iccid"].as_str().expect("iccid").parse().expect("iccid");
    assert!(iccids.contains(&first), "{o}");
    assert_eq!(
        smdp.profile(&first).map(|p| p.state),
        Some(conformance::smdp_sim::ProfileState::Released)
    );

    shutdown(sb).await;

    // A fresh simulator learns the imported profiles from the store at start.
    let sb = gateway::sandbox::start(config(dir.path()))
        .await
        .expect("sandbox restart");
    let smdp = sb.smdp_sim.as_ref().expect("SM-DP+ simulator");
    let known: BTreeSet<Iccid> = smdp.profiles().into_iter().map(|p| p.iccid).collect();
    assert!(iccids.iter().all(|i| known.contains(i)), "{known:?}");
    let o = activate_esim(&Api::new(&sb), "imp-2", &sb.info.product).await;
    assert_eq!(o["status"], "active", "{o}");
    let second: Iccid = o["iccid"].as_str().expect("iccid").parse().expect("iccid");
    assert!(iccids.contains(&second) && second != first, "{o}");
    sb.gateway.shutdown().await;
}
