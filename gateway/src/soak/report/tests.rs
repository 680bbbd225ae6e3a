//! The report from a made-up ledger: counts per kind and outcome, and every reason a run
//! fails.

use super::*;
use crate::soak::kinds::Request;
use crate::soak::target::Tenant;
use serde_json::json;

fn entry(kind: &'static str, answer: Answered) -> Entry {
    Entry {
        kind,
        instead_of: None,
        tenant: Tenant::Sandbox,
        key: format!("k-{kind}"),
        request: Request {
            tenant: Tenant::Sandbox,
            path: "/v1/activations".into(),
            body: json!({}),
            setup: Vec::new(),
        },
        attempts: 1,
        answer,
        status: None,
        error: None,
        ended: true,
        installed: false,
        took: std::time::Duration::from_millis(1500),
    }
}

fn ended(status: &str, error: Option<&str>) -> Option<Final> {
    Some(Final {
        status: status.into(),
        error: error.map(str::to_owned),
        ended: true,
        attention: Vec::new(),
    })
}

fn meta(faults: &'static str) -> Meta {
    Meta {
        mode: "soak",
        target: None,
        orders: 4,
        seed: 1,
        concurrency: 2,
        faults,
        mix: BTreeMap::new(),
        seconds: 1.0,
        start_s: 0.2,
        load_s: 0.6,
        checks_s: 0.2,
    }
}

fn clean_reconciliation() -> Reconciliation {
    let comparison = crate::reconcile::compare::Comparison::default();
    let report = crate::reconcile::Report::new("rec_x".into(), 0, None, "cai3g", None, comparison);
    let json = serde_json::to_value(&report).expect("JSON");
    Reconciliation::of("in_process", &[json]).expect("a report")
}

fn verified(finals: Vec<Option<Final>>, keys: Keys) -> Verified {
    Verified {
        finals,
        notifications: Notifications {
            expected: Some(4),
            handled: Some(4),
            delivered: Some(4),
            installed: 2,
            shown: 2,
            not_shown: Vec::new(),
        },
        reconciliation: Some(clean_reconciliation()),
        keys,
        problems: Vec::new(),
        not_checked: Vec::new(),
    }
}

fn injected() -> Injected {
    BTreeMap::from([("hlr".into(), BTreeMap::from([("timeout".into(), 3)]))])
}

#[test]
fn a_run_where_everything_ended_and_agrees_passes_with_its_counts() {
    let mut swapped = entry("physical", Answered::Accepted("ord_3".into()));
    swapped.instead_of = Some("resume");
    let driven = Driven {
        entries: vec![
            entry("physical", Answered::Accepted("ord_1".into())),
            entry("physical", Answered::Accepted("ord_2".into())),
            swapped,
            entry("suspend", Answered::Accepted("ord_4".into())),
        ],
        ..Driven::default()
    };
    let finals = vec![
        ended("active", None),
        ended("failed", Some("hlr_rejected")),
        ended("active", None),
        ended("completed", None),
    ];
    let keys = Keys {
        accepted: 4,
        replayed_same: 4,
        store_orders: Some(4),
        ..Keys::default()
    };
    let r = Report::new(
        meta("standard"),
        &driven,
        verified(finals, keys),
        injected(),
        None,
    );
    assert!(r.passed, "{:?}", r.failures);
    let p = &r.kinds["physical"];
    assert_eq!(
        (p.sent, p.accepted, p.instead_of_another, p.open),
        (3, 3, 1, 0)
    );
    assert_eq!(p.outcomes["active"], 2);
    assert_eq!(p.failed["hlr_rejected"], 1);
    assert_eq!(r.kinds["suspend"].outcomes["completed"], 1);
    assert_eq!((p.p50_s, p.max_s), (1.5, 1.5));
    assert_eq!(
        r.totals,
        Totals {
            sent: 4,
            accepted: 4,
            succeeded: 3,
            failed: 1,
            open: 0
        }
    );
    let v: serde_json::Value = serde_json::from_str(&r.to_json()).expect("JSON");
    assert_eq!(v["mode"], "soak");
    assert_eq!(v["passed"], true);
    assert_eq!(v["kinds"]["physical"]["failed"]["hlr_rejected"], 1);
    assert_eq!(v["injected"]["hlr"]["timeout"], 3);
    assert!(r.text().contains("PASSED"));
}

#[test]
fn every_kind_of_trouble_fails_the_run_and_is_named() {
    let driven = Driven {
        entries: vec![
            entry("physical", Answered::Accepted("ord_1".into())),
            entry(
                "esim",
                Answered::Refused {
                    status: 500,
                    code: "internal".into(),
                },
            ),
            entry("suspend", Answered::Unanswered),
            entry("esim", Answered::Accepted("ord_2".into())),
        ],
        problems: vec!["order 7: smdp refused the download".into()],
        ..Driven::default()
    };
    let open = Some(Final {
        status: "hlr_provisioning".into(),
        error: None,
        ended: false,
        attention: Vec::new(),
    });
    let flagged = Some(Final {
        status: "failed".into(),
        error: Some("esim_profile_in_use".into()),
        ended: true,
        attention: vec!["esim_stock_mismatch".into()],
    });
    let keys = Keys {
        accepted: 1,
        replay_mismatches: vec!["k-physical: 202 ord_9".into()],
        unanswered_orders: vec!["ord_9".into()],
        ..Keys::default()
    };
    let mut v = verified(vec![open, None, None, flagged], keys);
    v.notifications.delivered = Some(3);
    let r = Report::new(meta("standard"), &driven, v, Injected::new(), None);
    assert!(!r.passed);
    let all = r.failures.join("\n");
    for expected in [
        "1 accepted orders did not end",
        "1 orders need an operator: ord_2 esim esim_stock_mismatch",
        "1 requests were refused",
        "1 requests were never answered",
        "answered another order",
        "a key with two orders",
        "ES2+ notifications",
        "no simulator injected any",
        "smdp refused the download",
    ] {
        assert!(all.contains(expected), "{expected} missing from:\n{all}");
    }
    assert_eq!(r.open, ["ord_1 physical hlr_provisioning"]);
    assert_eq!(r.kinds["esim"].refused["500 internal"], 1);
    assert_eq!(r.kinds["esim"].attention["esim_stock_mismatch"], 1);
    assert!(r.text().contains("FAILED"));
}

#[test]
fn a_crash_loop_whose_kills_missed_the_load_fails() {
    let crashes = Crashes {
        kills: 3,
        kills_under_load: 2,
        in_flight_at_kills: vec![4, 0, 2],
        starts: 4,
        mean_start_s: 1.0,
        log: "gateway.log".into(),
    };
    let v = verified(Vec::new(), Keys::default());
    let r = Report::new(
        meta("none"),
        &Driven::default(),
        v,
        Injected::new(),
        Some(crashes),
    );
    assert!(!r.passed);
    assert!(
        r.failures[0].contains("only 2 of 3 kills"),
        "{:?}",
        r.failures
    );
}

#[test]
fn a_want_of_stock_fails_the_run_apart_from_the_gateways_refusals() {
    let refused = |code: &str| {
        entry(
            "physical",
            Answered::Refused {
                status: 409,
                code: code.into(),
            },
        )
    };
    let driven = Driven {
        entries: vec![
            refused("sim_not_available"),
            refused("esim_stock_out"),
            refused("number_pool_exhausted"),
            refused("unknown_product"),
        ],
        exhausted: 2,
        ..Driven::default()
    };
    let v = verified(vec![None; 4], Keys::default());
    let r = Report::new(meta("standard"), &driven, v, injected(), None);
    assert!(!r.passed);
    assert_eq!(r.out_of_stock, 3);
    let all = r.failures.join("\n");
    assert!(
        all.contains("3 requests were refused for want of stock"),
        "{all}"
    );
    assert!(all.contains("not a gateway defect"), "{all}");
    assert!(all.contains("\n1 requests were refused"), "{all}");
    let text = r.text();
    assert!(text.contains("stock: 3 requests refused"), "{text}");
    assert!(
        text.contains("2 orders not sent for want of a card"),
        "{text}"
    );
}

#[test]
fn a_target_run_names_its_gateway_and_what_it_did_not_check_without_failing() {
    let driven = Driven {
        entries: vec![entry("physical", Answered::Accepted("ord_1".into()))],
        ..Driven::default()
    };
    let keys = Keys {
        accepted: 1,
        replayed_same: 1,
        ..Keys::default()
    };
    let mut v = verified(vec![ended("active", None)], keys);
    v.not_checked = vec!["the store's orders: not listed".into()];
    let mut m = meta("standard");
    m.mode = "target";
    m.target = Some("https://staging:8443".into());
    let r = Report::new(m, &driven, v, injected(), None);
    assert!(r.passed, "{:?}", r.failures);
    let text = r.text();
    assert!(
        text.contains("simgw soak (target https://staging:8443)"),
        "{text}"
    );
    assert!(text.contains("not checked: the store's orders"), "{text}");
    assert!(text.contains("the store's orders not listed"), "{text}");
    let v: serde_json::Value = serde_json::from_str(&r.to_json()).expect("JSON");
    assert_eq!(
        (&v["mode"], &v["target"]),
        (&"target".into(), &"https://staging:8443".into())
    );
    assert_eq!(v["keys"]["store_orders"], serde_json::Value::Null);
    assert_eq!(v["reconciliation"]["source"], "in_process");
}

#[test]
fn a_crash_loop_checks_its_installs_on_the_activations_not_in_the_restarted_log() {
    let crashes = || Crashes {
        kills: 1,
        kills_under_load: 1,
        in_flight_at_kills: vec![3],
        starts: 2,
        mean_start_s: 1.0,
        log: "gateway.log".into(),
    };
    let counts = |installed, shown, not_shown: &[&str]| Notifications {
        installed,
        shown,
        not_shown: not_shown.iter().map(|s| (*s).to_owned()).collect(),
        ..Notifications::default()
    };
    let mut m = meta("none");
    m.mode = "crash_loop";
    let mut v = verified(Vec::new(), Keys::default());
    v.notifications = counts(5, 5, &[]);
    let r = Report::new(
        m.clone(),
        &Driven::default(),
        v,
        Injected::new(),
        Some(crashes()),
    );
    assert!(r.passed, "{:?}", r.failures);
    let text = r.text();
    assert!(
        text.contains("not counted (the SM-DP+'s delivery log restarts"),
        "{text}"
    );
    assert!(
        text.contains("installed by their customer: 5, 5 shown installed"),
        "{text}"
    );
    let json: serde_json::Value = serde_json::from_str(&r.to_json()).expect("JSON");
    assert_eq!(json["notifications"]["expected"], serde_json::Value::Null);
    assert_eq!(json["notifications"]["installed"], 5);

    // An install whose notifications never reached the activation fails the run.
    let mut v = verified(Vec::new(), Keys::default());
    v.notifications = counts(5, 4, &["ord_7 installed [4:Executed-Success]"]);
    let r = Report::new(m, &Driven::default(), v, Injected::new(), Some(crashes()));
    assert!(!r.passed);
    assert_eq!(
        r.failures,
        [
            "ES2+ notifications: 1 of 5 eSIM profiles their customer installed are not shown \
          installed by their activation: ord_7 installed [4:Executed-Success]"
        ]
    );
}
