//! `POST /v1/reconciliations` in the sandbox: eSIM profiles are compared through the
//! SM-DP+ simulator's admin API (the sandbox's `ProfileStatus`), so a released profile the
//! SM-DP+ lost is an `esim_state_mismatch`.

mod common;

use common::sandbox::{Api, esim_config, is_status, shutdown};
use serde_json::{Value, json};
use sim_profiles::Iccid;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn esim_profiles_are_compared_through_the_simulators_admin_api() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sb = gateway::sandbox::start(esim_config(dir.path(), 3))
        .await
        .expect("sandbox");
    let api = Api::new(&sb);
    let id = api.order_esim("rec-e-1", &sb.info.product).await;
    let order = api.until(&id, "active", is_status("active")).await;
    let iccid: Iccid = order["iccid"]
        .as_str()
        .expect("iccid")
        .parse()
        .expect("iccid");
    let physical = json!({"sim": {"type": "physical", "iccid": sb.info.physical_iccids[0]},
                          "product": sb.info.product});
    let (status, created) = api.order("rec-p-1", physical).await;
    assert_eq!(status, 202, "{created}");
    let pid = created["id"].as_str().expect("id").to_owned();
    api.until(&pid, "active", is_status("active")).await;

    let reconcile = || async { api.post("/v1/reconciliations", &[], String::new()).await };
    let (status, report) = reconcile().await;
    assert_eq!(status, 201, "{report}");
    assert_eq!(report["clean"], true, "{report}");
    assert_eq!(report["profile_status"], "smdp-sim admin");
    assert_eq!(report["checked"]["lines"], 2);
    assert_eq!(report["checked"]["esim_profiles"], 1);

    // The SM-DP+ loses the released profile: the line's profile no longer fits.
    let sim = sb.smdp_sim.clone().expect("SM-DP+ simulator");
    assert!(sim.lose_reservation(&iccid));
    let (status, report) = reconcile().await;
    assert_eq!(status, 201, "{report}");
    assert_eq!(report["differences"], 1, "{report}");
    let d = &report["details"][0];
    assert_eq!(d["kind"], "esim_state_mismatch");
    assert_eq!(d["iccid"], iccid.to_string());
    assert_eq!(d["found"], "Available");
    assert_eq!(d["expected"], "Released|Downloaded|Installed|Error");
    assert_eq!(d.get("repair"), None::<&Value>);
    shutdown(sb).await;
}
