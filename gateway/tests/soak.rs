//! The fault soak as CI runs it (issue 14): `simgw soak --orders 2000 --faults standard`,
//! the built binary against its in-process sandbox. Physical and eSIM activations and the
//! lifecycle operations on the lines they open, UK port-ins through the hub and China
//! store sales through the real-name checks, while the HLR, the SM-DP+ and the porting hub
//! time out, fail for a while or for good, lose their answers after applying, and
//! duplicate and reorder their notifications. Afterwards every order ended, the
//! reconciliation of every tenant is clean and no Idempotency-Key has two orders; and the
//! faults were really injected, so the run proves something.

mod common;

use common::soak::{soak, total};
use serde_json::Value;

#[test]
fn two_thousand_mixed_orders_under_the_standard_faults_all_end_and_reconcile_clean() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = soak(
        dir.path(),
        &[
            "--orders",
            "2000",
            "--faults",
            "standard",
            "--concurrency",
            "64",
            "--seed",
            "14",
        ],
    );
    let r = &run.report;
    assert!(run.passed, "simgw soak failed:\n{}", run.output);
    assert_eq!(r["passed"], true, "{}", run.output);
    assert_eq!(r["failures"], serde_json::json!([]));

    // Every order was sent, accepted, and ended in one of its kind's terminal statuses.
    let kinds = r["kinds"].as_object().expect("kinds");
    for kind in [
        "physical",
        "esim",
        "suspend",
        "resume",
        "terminate",
        "sim_swap",
        "number_change",
        "port_in",
        "cn_sale",
    ] {
        let k = &kinds[kind];
        assert!(
            k["sent"].as_u64() > Some(0),
            "no {kind} sent:\n{}",
            run.output
        );
        assert_eq!(k["accepted"], k["sent"], "{kind}:\n{}", run.output);
        assert_eq!(total(&k["outcomes"]), k["accepted"].as_u64().unwrap_or(0));
        assert_eq!(k["open"], 0, "{kind}");
        assert_eq!(total(&k["attention"]), 0, "{kind}");
    }
    let sent: u64 = kinds.values().filter_map(|k| k["sent"].as_u64()).sum();
    assert_eq!((sent, r["exhausted"].as_u64()), (2000, Some(0)));
    // Permanent faults failed some orders (and only those: the run passed).
    let failed: u64 = kinds.values().map(|k| total(&k["failed"])).sum();
    assert!(failed > 0, "no order failed under 2% permanent faults");

    // The faults the issue names were injected.
    let inj = &r["injected"];
    for (sim, fault) in [
        ("hlr", "timeout"),
        ("hlr", "busy"),
        ("hlr", "external"),
        ("hlr", "drop_after_apply"),
        ("hlr", "hang_after_apply"),
        ("smdp", "timeout"),
        ("smdp", "error_before_commit"),
        ("smdp", "expired"),
        ("smdp", "drop_after_commit"),
        ("smdp", "error_after_commit"),
        ("porting_hub", "duplicate"),
    ] {
        assert!(
            inj[sim][fault].as_u64() > Some(0),
            "{sim} injected no {fault}: {inj}"
        );
    }
    // Every ES2+ notification (each sent twice, downloads after installs) was delivered.
    let n = &r["notifications"];
    assert!(n["expected"].as_u64() > Some(0), "{n}");
    assert_eq!(
        (&n["handled"], &n["delivered"]),
        (&n["expected"], &n["expected"])
    );
    // And every activation whose customer installed its profile shows it installed.
    assert!(n["installed"].as_u64() > Some(0), "{n}");
    assert_eq!(n["shown"], n["installed"], "{n}");

    // One order per key: each key sent again answers its order; the store holds no other.
    let keys = &r["keys"];
    assert_eq!(keys["accepted"], 2000);
    assert_eq!(keys["replayed_same"], 2000);
    assert_eq!(keys["store_orders"], 2000);
    assert_eq!(keys["unanswered_orders"], serde_json::json!([]));

    // `simgw reconcile` over every tenant: nothing differs, nothing left unchecked.
    let rec = &r["reconciliation"];
    assert_eq!(rec["clean"], true, "{rec}");
    assert_eq!(rec["differences"], 0);
    assert!(rec["checked"]["lines"].as_u64() > Some(0), "{rec}");
    assert!(rec["checked"]["esim_profiles"].as_u64() > Some(0), "{rec}");
    assert_eq!(rec["unchecked"], Value::Array(Vec::new()));
    println!("{}", run.output);
}
