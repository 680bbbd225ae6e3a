//! The crash loop as CI runs it (issue 14): `simgw soak --crash-loop 10` runs `simgw serve
//! --sandbox` as a child process and kills it with SIGKILL ten times at random moments
//! while mixed orders are in flight (under the standard faults), restarting it on the same
//! data dir each time. Customers download and install half of the new eSIM lines through
//! the SM-DP+ simulator meanwhile. Afterwards every order answered `202` ended, the
//! reconciliation is clean, no Idempotency-Key has two orders (each key sent again answers
//! its own order, and the store holds no order the load was not answered), and every
//! activation whose customer installed its profile shows it installed, with the download
//! and install notifications the SM-DP+ kept across the kills until they were delivered.

mod common;

use common::soak::{soak, total};

#[test]
fn ten_kills_under_load_lose_no_order_and_make_none_twice() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = soak(
        dir.path(),
        &[
            "--orders",
            "1000",
            "--crash-loop",
            "10",
            "--faults",
            "standard",
            "--concurrency",
            "16",
            "--seed",
            "14",
        ],
    );
    let r = &run.report;
    assert!(run.passed, "the crash loop failed:\n{}", run.output);
    assert_eq!(r["passed"], true, "{}", run.output);

    let c = &r["crashes"];
    assert_eq!(c["kills"], 10, "{c}");
    assert_eq!(
        c["kills_under_load"], 10,
        "every kill had orders in flight: {c}"
    );
    assert_eq!(c["starts"], 11, "{c}");

    // Requests cut by the kills were sent again with their keys. A kill need not cut a
    // request (the orders in flight may all be past their 202): the keys' checks below
    // hold either way, and a cut request must have been sent again.
    let keys = &r["keys"];
    let cut = r["post_retries"]["unreachable"]
        .as_u64()
        .expect("unreachable");
    assert!(cut == 0 || keys["retried"].as_u64() > Some(0), "{r}");
    let accepted = keys["accepted"].as_u64().expect("accepted");
    assert!(accepted > 0);
    assert_eq!(keys["replayed_same"].as_u64(), Some(accepted), "{keys}");
    assert_eq!(keys["store_orders"].as_u64(), Some(accepted), "{keys}");
    assert_eq!(keys["unanswered_orders"], serde_json::json!([]));
    assert_eq!(keys["missing_orders"], serde_json::json!([]));

    // Every accepted order ended.
    for (kind, k) in r["kinds"].as_object().expect("kinds") {
        assert_eq!(k["open"], 0, "{kind}: {k}");
        assert_eq!(total(&k["outcomes"]), k["accepted"].as_u64().unwrap_or(0));
    }
    assert_eq!(r["open"], serde_json::json!([]));

    let rec = &r["reconciliation"];
    assert_eq!(
        (&rec["clean"], &rec["differences"]),
        (&true.into(), &0.into()),
        "{rec}"
    );
    assert!(rec["checked"]["esim_profiles"].as_u64() > Some(0), "{rec}");

    // eSIM profiles were downloaded and installed while the gateway was being killed, and
    // each activation shows what the notifications about it reported (the SM-DP+'s
    // delivery log restarts with the process: it is not what is counted).
    let n = &r["notifications"];
    assert!(n["installed"].as_u64() > Some(0), "no eSIM download: {n}");
    assert_eq!(n["shown"], n["installed"], "{n}");
    assert_eq!(n["not_shown"], serde_json::json!([]), "{n}");
    assert_eq!(n["expected"], serde_json::Value::Null, "{n}");
    println!("{}", run.output);
}
