//! The kinds as pure functions: the requests they build, the lines they take, and what
//! an outcome makes of a line.

use super::*;
use serde_json::json;

fn info() -> SandboxFile {
    serde_json::from_value(json!({
        "base_url": "https://127.0.0.1:1", "ca_cert": "/ca.pem", "tenant": "sandbox",
        "plmn": "00101", "api_key": "op", "product": "sandbox-basic",
        "api_keys": {"channel": "ch", "operator": "op", "readonly": "ro"},
        "physical_iccids": ["8986009900000000001", "8986009900000000002"],
        "markets": {"uk": {
            "tenant": "sandbox-uk", "api_key": "uk", "product": "sandbox-basic",
            "physical_iccids": ["8944009900300000001"],
            "store": {"store_id": "SZ-0042", "terminal_id": "T7", "staff_id": "C1", "reader_serial": "R-1"}
        }, "cn": {
            "tenant": "sandbox-cn", "api_key": "cn", "product": "sandbox-basic",
            "physical_iccids": ["8986009900200000001", "8986009900200000002"],
            "store": {"store_id": "SZ-0042", "terminal_id": "T7", "staff_id": "C1", "reader_serial": "R-1"}
        }}
    }))
    .expect("a sandbox.json")
}

fn ctx<'a>(info: &'a SandboxFile, stock: &'a Stock, index: u64, p: f64) -> Ctx<'a> {
    Ctx {
        seed: 9,
        index,
        serial: 0,
        stock,
        info,
        rejected_ports: p,
        downloads: p,
    }
}

fn kind(name: &str) -> Arc<dyn SoakKind> {
    registry()
        .into_iter()
        .find(|k| k.name() == name)
        .expect("registered")
}

fn line(suspended: bool) -> Line {
    Line {
        msisdn: "8617000000001".into(),
        iccid: "8986009900000000001".into(),
        esim: false,
        suspended,
    }
}

#[test]
fn every_kind_has_its_own_name_a_weight_and_terminal_statuses() {
    let kinds = registry();
    let mut names: Vec<&str> = kinds.iter().map(|k| k.name()).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), kinds.len());
    for k in &kinds {
        assert!(k.weight() > 0, "{}", k.name());
        assert!(!k.terminal().is_empty(), "{}", k.name());
        assert!(!k.terminal().contains(&"in_progress"), "{}", k.name());
    }
}

#[test]
fn each_card_of_the_stock_goes_once_and_a_used_up_stock_sends_no_physical_order() {
    let info = info();
    let stock = Stock::new(&info);
    let physical = kind("physical");
    let c = ctx(&info, &stock, 0, 0.0);
    let a = physical.request(&c, None).expect("first card");
    let b = physical.request(&c, None).expect("second card");
    assert_ne!(a.body["sim"]["iccid"], b.body["sim"]["iccid"]);
    assert_eq!(physical.request(&c, None), None);
    assert!(
        kind("esim").request(&c, None).is_some(),
        "eSIMs need no card"
    );
}

#[test]
fn an_active_activation_opens_a_line_and_a_failed_one_none() {
    let info = info();
    let stock = Stock::new(&info);
    let active =
        json!({"status": "active", "msisdn": "8617000000001", "iccid": "8986009900100000001"});
    let esim = kind("esim");
    let s = esim.settle(&ctx(&info, &stock, 0, 1.0), None, &active);
    let l = s.line.expect("a line");
    assert!(l.esim && !l.suspended);
    assert_eq!(s.after.len(), 2, "downloaded then installed");
    assert!(s.after.iter().all(|c| c.sim == Sim::Smdp));
    assert!(s.installs, "the order should come to show the install");
    // A repeat whose first try took effect is known by the profile's state.
    let states: Vec<_> = s.after.iter().map(|c| c.effect.clone()).collect();
    assert_eq!(
        states,
        [
            Some(Effect {
                iccid: "8986009900100000001".into(),
                states: &["Downloaded", "Installed"]
            }),
            Some(Effect {
                iccid: "8986009900100000001".into(),
                states: &["Installed"]
            })
        ]
    );
    let s = esim.settle(&ctx(&info, &stock, 0, 0.0), None, &active);
    assert!(s.after.is_empty(), "no customer download at 0%");
    assert!(!s.installs);
    let failed = json!({"status": "failed", "error": {"code": "hlr_rejected"}});
    assert_eq!(
        kind("physical").settle(&ctx(&info, &stock, 0, 0.0), None, &failed),
        Settled::default()
    );
}

#[test]
fn follow_ups_take_the_lines_they_fit_and_change_them_only_when_completed() {
    let info = info();
    let stock = Stock::new(&info);
    let c = ctx(&info, &stock, 1, 0.0);
    let fits = |name: &str, l: &Line| kind(name).takes().expect("a follow-up")(l);
    assert!(fits("suspend", &line(false)) && !fits("suspend", &line(true)));
    assert!(fits("resume", &line(true)) && !fits("resume", &line(false)));
    let done = json!({"status": "completed", "new_msisdn": "8617000000099",
        "new_sim": {"type": "esim", "iccid": "8986009900100000007"}});
    let failed = json!({"status": "failed"});
    let settle = |name: &str, l: Line, o: &Value| kind(name).settle(&c, Some(l), o).line;
    assert_eq!(settle("suspend", line(false), &done), Some(line(true)));
    assert_eq!(settle("suspend", line(false), &failed), Some(line(false)));
    assert_eq!(settle("resume", line(true), &done), Some(line(false)));
    assert_eq!(settle("terminate", line(false), &done), None);
    assert_eq!(settle("terminate", line(false), &failed), Some(line(false)));
    let swapped = settle("sim_swap", line(false), &done).expect("line");
    assert_eq!(
        (swapped.iccid.as_str(), swapped.esim),
        ("8986009900100000007", true)
    );
    let renumbered = settle("number_change", line(false), &done).expect("line");
    assert_eq!(renumbered.msisdn, "8617000000099");
    let r = kind("suspend")
        .request(&c, Some(&line(false)))
        .expect("request");
    assert_eq!(r.path, "/v1/subscriptions/8617000000001/suspend");
    assert_eq!(r.body, json!({"reason": "non_payment"}));
    assert_eq!(
        kind("suspend").request(&c, None),
        None,
        "a follow-up needs its line"
    );
}

#[test]
fn a_port_in_is_a_uk_store_sale_whose_donor_may_be_told_to_reject_it() {
    let info = info();
    let stock = Stock::new(&info);
    let port = kind("port_in");
    assert!(port.waits_for_hub());
    let r = port
        .request(&ctx(&info, &stock, 42, 1.0), None)
        .expect("request");
    assert_eq!(r.tenant, Tenant::Uk);
    assert_eq!(r.body["msisdn"]["mode"], "port_in");
    assert_eq!(r.body["msisdn"]["number"], "447911000042");
    assert_eq!(r.body["channel"]["store_id"], "SZ-0042");
    assert_eq!(r.setup.len(), 1);
    assert_eq!(r.setup[0].path, "donors/447911000042");
    assert_eq!(
        port.request(&ctx(&info, &stock, 43, 0.0), None),
        None,
        "one UK card only"
    );
    let fresh = Stock::new(&info);
    let r = port
        .request(&ctx(&info, &fresh, 43, 0.0), None)
        .expect("request");
    assert!(r.setup.is_empty(), "the donor accepts by default");
}

#[test]
fn a_china_sale_names_the_store_and_a_valid_id_number_of_its_own() {
    use adapters::identity::{IdType, id_format};
    let info = info();
    let stock = Stock::new(&info);
    let sale = kind("cn_sale");
    let r = sale
        .request(&ctx(&info, &stock, 5, 0.0), None)
        .expect("request");
    assert_eq!(r.tenant, Tenant::Cn);
    assert_eq!(r.body["channel"]["staff_id"], "C1");
    assert_eq!(r.body["subscriber"]["capture"]["reader_serial"], "R-1");
    let mut ids = std::collections::BTreeSet::new();
    for i in 0..5_000 {
        let id = cn_sale::resident_id(i);
        assert_eq!(id_format::check(IdType::ResidentId, &id), Ok(()), "{id}");
        ids.insert(id);
    }
    assert_eq!(ids.len(), 5_000, "one ID number per order");
}

#[test]
fn a_kind_names_what_a_sandbox_json_lacks_for_it() {
    let full = info();
    assert!(kind("cn_sale").lacks(&full).is_empty());
    let mut bare = info();
    bare.markets.clear();
    bare.porting_simulator = None;
    assert_eq!(
        kind("port_in").lacks(&bare),
        vec!["markets.uk", "porting_simulator"]
    );
    assert_eq!(kind("cn_sale").lacks(&bare), vec!["markets.cn"]);
    assert_eq!(
        kind("esim").lacks(&bare),
        vec!["smdp_simulator", "smdp_client"]
    );
    for k in [
        "physical",
        "suspend",
        "resume",
        "terminate",
        "sim_swap",
        "number_change",
    ] {
        assert!(kind(k).lacks(&bare).is_empty(), "{k}");
    }
}

#[test]
fn the_runs_serial_gives_port_ins_and_store_sales_values_no_earlier_run_used() {
    let info = info();
    let sent = |name: &str, serial: u64| {
        let stock = Stock::new(&info);
        let c = Ctx {
            serial,
            ..ctx(&info, &stock, 5, 0.0)
        };
        kind(name).request(&c, None).expect("request").body
    };
    let number = |serial| sent("port_in", serial)["msisdn"]["number"].clone();
    assert_eq!(number(0), "447911000005");
    assert_eq!(number(1_000), "447911001005");
    let id = |serial| sent("cn_sale", serial)["subscriber"]["id_number"].clone();
    assert_eq!(id(0), cn_sale::resident_id(5));
    assert_eq!(id(1_000), cn_sale::resident_id(1_005));
}

#[test]
fn an_activation_shows_its_profile_installed_only_with_state_installed_and_points_3_and_4() {
    let point = |p: u32, status: &str| json!({"point": p, "status": status});
    let order = |state: &str, points: Vec<Value>| json!({"status": "active", "esim": {"state": state, "progress": points}});
    let ok = order(
        "installed",
        vec![
            point(4, "Executed-Success"),
            point(3, "Executed-Success"),
            point(4, "Executed-Success"),
        ],
    );
    assert!(shows_installed(&ok));
    assert_eq!(
        esim_progress(&ok),
        "installed [4:Executed-Success 3:Executed-Success 4:Executed-Success]"
    );
    // The download notification lost: installed, but only point 4 came.
    assert!(!shows_installed(&order(
        "installed",
        vec![point(4, "Executed-Success")]
    )));
    assert!(!shows_installed(&order(
        "downloaded",
        vec![point(3, "Executed-Success")]
    )));
    assert!(!shows_installed(&order(
        "error",
        vec![point(3, "Executed-Success"), point(4, "Failed")]
    )));
    let none = json!({"status": "active", "esim": {"state": "released"}});
    assert!(!shows_installed(&none));
    assert_eq!(esim_progress(&none), "released []");
    assert!(!shows_installed(&json!({"status": "active"})));
}
