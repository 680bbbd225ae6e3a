//! Crafted disagreements, each found and named; and agreement found clean.

use super::*;
use crate::order::Line;
use crate::reconcile::model::{Holding, InventorySim, RepairKind};
use crate::store::SubscriptionState;
use sim_profiles::{Iccid, Imsi, Msisdn};

fn iccid(i: u32) -> Iccid {
    Iccid::from_payload(&format!("8988211000{i:09}")).expect("iccid")
}
fn imsi(i: u32) -> Imsi {
    format!("00101{i:010}").parse().expect("imsi")
}
fn msisdn(i: u32) -> Msisdn {
    format!("86138000{i:05}").parse().expect("msisdn")
}

fn line(i: u32) -> ExpectedLine {
    ExpectedLine {
        tenant: "acme".into(),
        subscription: format!("sub_{i:02}"),
        line: Line {
            iccid: iccid(i),
            imsi: imsi(i),
            msisdn: Some(msisdn(i)),
            hlr_profile_id: 46,
            barred: false,
        },
        sim_type: SimType::Physical,
        state: SubscriptionState::Active,
        inflight: None,
        esim_mirror: None,
    }
}

fn on_hlr(l: &ExpectedLine) -> Observed {
    Observed::Present(HlrView {
        subscribed: true,
        msisdn: l.line.msisdn.clone(),
        profile_id: Some(l.line.hlr_profile_id),
        barring: l.barring(),
        auth: AuthCheck::Matches,
    })
}

fn holding(l: &ExpectedLine) -> Holding {
    Holding {
        tenant: l.tenant.clone(),
        holder: l.subscription.clone(),
        iccid: Some(l.line.iccid.clone()),
        msisdn: l.line.msisdn.clone(),
    }
}

/// `n` lines on cards 0..n, cards n..n+spare in stock; the HLR agrees with all of it.
fn agreeing(n: u32, spare: u32) -> (GatewayView, Truth) {
    let lines: Vec<ExpectedLine> = (0..n).map(line).collect();
    let mut view = GatewayView {
        holdings: lines.iter().map(holding).collect(),
        inventory: (0..n + spare)
            .map(|i| InventorySim {
                tenant: "acme".into(),
                iccid: iccid(i),
                imsi: imsi(i),
            })
            .collect(),
        ..GatewayView::default()
    };
    let mut truth = Truth::default();
    for l in &lines {
        truth.hlr.insert(l.line.imsi.clone(), on_hlr(l));
    }
    for i in n..n + spare {
        truth.hlr.insert(imsi(i), Observed::Absent);
    }
    view.lines = lines;
    (view, truth)
}

fn kinds(c: &Comparison) -> Vec<(K, Option<String>)> {
    c.differences
        .iter()
        .map(|d| (d.kind, d.imsi.as_ref().map(|i| i.to_string())))
        .collect()
}

fn present(truth: &mut Truth, i: u32) -> &mut HlrView {
    match truth.hlr.get_mut(&imsi(i)) {
        Some(Observed::Present(v)) => v,
        _ => panic!("card {i} is not on the HLR"),
    }
}

#[test]
fn agreement_is_clean_and_counted() {
    let (view, truth) = agreeing(3, 2);
    let c = compare(&view, &truth);
    assert_eq!(c.differences, vec![]);
    assert_eq!(c.unchecked, vec![]);
    assert_eq!(
        (c.lines_checked, c.imsis_probed, c.esims_checked),
        (3, 2, 0)
    );
}

#[test]
fn a_missing_subscriber_is_missing_on_hlr_with_its_fix() {
    let (view, mut truth) = agreeing(3, 0);
    truth.hlr.insert(imsi(1), Observed::Absent);
    let c = compare(&view, &truth);
    assert_eq!(
        kinds(&c),
        vec![(K::MissingOnHlr, Some(imsi(1).to_string()))]
    );
    let d = &c.differences[0];
    assert_eq!(d.subscription.as_deref(), Some("sub_01"));
    assert_eq!(d.repair, Some(RepairKind::Reprovision));
    // A CAI3G subscriber with its AUC entry alone has no number: missing too.
    present(&mut truth, 2);
    truth.hlr.insert(
        imsi(1),
        Observed::Present(HlrView {
            subscribed: false,
            msisdn: None,
            profile_id: None,
            barring: Barring::default(),
            auth: AuthCheck::Matches,
        }),
    );
    let c = compare(&view, &truth);
    assert_eq!(
        kinds(&c),
        vec![(K::MissingOnHlr, Some(imsi(1).to_string()))]
    );
}

#[test]
fn another_number_on_the_hlr_is_wrong_msisdn_without_a_fix() {
    let (view, mut truth) = agreeing(2, 0);
    present(&mut truth, 0).msisdn = Some(msisdn(77));
    let c = compare(&view, &truth);
    assert_eq!(kinds(&c), vec![(K::WrongMsisdn, Some(imsi(0).to_string()))]);
    let d = &c.differences[0];
    assert_eq!(d.expected.as_deref(), Some(msisdn(0).as_str()));
    assert_eq!(d.found.as_deref(), Some(msisdn(77).as_str()));
    assert_eq!(d.repair, None);
}

#[test]
fn barring_that_differs_from_the_line_is_wrong_barring() {
    let (mut view, mut truth) = agreeing(2, 0);
    // A suspended line the HLR does not bar.
    view.lines[0].line.barred = true;
    view.lines[0].state = SubscriptionState::Suspended;
    // An active line the HLR bars.
    present(&mut truth, 1).barring = Barring {
        outgoing: true,
        incoming: true,
    };
    let c = compare(&view, &truth);
    assert_eq!(
        kinds(&c),
        vec![
            (K::WrongBarring, Some(imsi(0).to_string())),
            (K::WrongBarring, Some(imsi(1).to_string())),
        ]
    );
    assert_eq!(c.differences[0].expected.as_deref(), Some("barred"));
    assert_eq!(c.differences[0].found.as_deref(), Some("not barred"));
}

#[test]
fn authentication_that_differs_or_is_missing_is_wrong_auth_and_unreadable_is_not() {
    let (view, mut truth) = agreeing(3, 0);
    present(&mut truth, 0).auth = AuthCheck::Differs;
    present(&mut truth, 1).auth = AuthCheck::Missing;
    present(&mut truth, 2).auth = AuthCheck::NotReadable;
    let c = compare(&view, &truth);
    assert_eq!(
        kinds(&c),
        vec![
            (K::WrongAuth, Some(imsi(0).to_string())),
            (K::WrongAuth, Some(imsi(1).to_string())),
        ]
    );
    let text = format!("{:?}", c.differences);
    assert!(!text.contains("Key128"), "no key material in a difference");
}

#[test]
fn a_subscriber_on_an_unassigned_card_is_an_orphan_with_its_fix() {
    let (view, mut truth) = agreeing(2, 2);
    truth.hlr.insert(
        imsi(3),
        Observed::Present(HlrView {
            subscribed: true,
            msisdn: Some(msisdn(9)),
            profile_id: Some(46),
            barring: Barring::default(),
            auth: AuthCheck::NotReadable,
        }),
    );
    let c = compare(&view, &truth);
    assert_eq!(kinds(&c), vec![(K::OrphanOnHlr, Some(imsi(3).to_string()))]);
    let d = &c.differences[0];
    assert_eq!(d.iccid, Some(iccid(3)));
    assert_eq!(d.msisdn, Some(msisdn(9)));
    assert_eq!(d.repair, Some(RepairKind::RemoveOrphan));
}

#[test]
fn a_card_an_order_in_flight_touches_is_no_orphan_and_its_line_is_unchecked() {
    let (mut view, mut truth) = agreeing(2, 1);
    truth.hlr.insert(imsi(2), on_hlr(&line(2)));
    view.busy_imsis.insert(imsi(2));
    view.lines[1].inflight = Some("ord_1".into());
    truth.hlr.insert(imsi(1), Observed::Absent);
    let c = compare(&view, &truth);
    assert_eq!(kinds(&c), vec![]);
    assert_eq!(c.unchecked.len(), 1);
    assert_eq!(c.unchecked[0].subscription.as_deref(), Some("sub_01"));
    assert_eq!(c.lines_checked, 1);
}

#[test]
fn a_card_or_number_held_twice_is_a_double_assignment() {
    let (mut view, truth) = agreeing(3, 0);
    // Line 2's number is also reserved by an activation in flight.
    view.holdings.push(Holding {
        tenant: "acme".into(),
        holder: "act_x".into(),
        iccid: Some(iccid(40)),
        msisdn: Some(msisdn(2)),
    });
    // Line 1's card is also line 0's (a corrupt store).
    view.holdings[0].iccid = Some(iccid(1));
    let c = compare(&view, &truth);
    let doubles: Vec<_> = c
        .differences
        .iter()
        .map(|d| (d.kind, d.iccid.clone(), d.msisdn.clone(), d.holders.clone()))
        .collect();
    assert_eq!(
        doubles,
        vec![
            (
                K::DoubleAssignment,
                Some(iccid(1)),
                None,
                vec!["sub_00".to_owned(), "sub_01".to_owned()]
            ),
            (
                K::DoubleAssignment,
                None,
                Some(msisdn(2)),
                vec!["act_x".to_owned(), "sub_02".to_owned()]
            ),
        ]
    );
    // One holder named twice (a line and its own lifecycle order) is not a double.
    let (mut view, truth) = agreeing(1, 0);
    view.holdings.push(holding(&view.lines[0]));
    assert_eq!(compare(&view, &truth).differences, vec![]);
}

#[test]
fn esim_profiles_are_compared_only_with_a_status_source() {
    let (mut view, mut truth) = agreeing(3, 0);
    for l in &mut view.lines {
        l.sim_type = SimType::Esim;
    }
    view.lines[1].esim_mirror = Some(EsimState::Installed);
    assert_eq!(
        compare(&view, &truth).esims_checked,
        0,
        "no hook: not checked"
    );
    truth.profiles = Some(BTreeMap::from([
        (iccid(0), ProfileState::Downloaded),
        (iccid(1), ProfileState::Released),
    ]));
    let c = compare(&view, &truth);
    assert_eq!(c.esims_checked, 3);
    assert_eq!(
        kinds(&c),
        vec![
            (K::EsimStateMismatch, Some(imsi(1).to_string())),
            (K::EsimStateMismatch, Some(imsi(2).to_string())),
        ]
    );
    assert_eq!(c.differences[0].expected.as_deref(), Some("Installed"));
    assert_eq!(c.differences[0].found.as_deref(), Some("Released"));
    assert_eq!(
        c.differences[1].found.as_deref(),
        Some("unknown to the SM-DP+")
    );
}

#[test]
fn an_unreadable_answer_is_unchecked_never_clean_or_different() {
    let (view, mut truth) = agreeing(1, 1);
    truth
        .hlr
        .insert(imsi(0), Observed::Unreadable("timeout".into()));
    truth
        .hlr
        .insert(imsi(1), Observed::Unreadable("timeout".into()));
    let c = compare(&view, &truth);
    assert_eq!(c.differences, vec![]);
    assert_eq!(c.unchecked.len(), 2);
}

#[test]
fn every_kind_has_its_stable_name() {
    let names: Vec<&str> = K::ALL.iter().map(|k| k.as_str()).collect();
    for (k, n) in K::ALL.iter().zip(&names) {
        assert_eq!(serde_json::to_value(k).expect("json"), *n);
    }
    assert_eq!(
        names,
        [
            "missing_on_hlr",
            "wrong_msisdn",
            "wrong_barring",
            "wrong_auth",
            "orphan_on_hlr",
            "double_assignment",
            "esim_state_mismatch"
        ]
    );
}
