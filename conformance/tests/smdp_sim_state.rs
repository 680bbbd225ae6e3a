//! The SM-DP+ simulator's pure state machine against the reference §5 tables: every
//! transition, every cell of the function × state matrix, the error pairs of Tables
//! 24/27/30/32, the ConfirmOrder replay rules and the ES9+ customer events.

use ProfileState::*;
use adapters::es2plus::{
    CancelOrderRequest, ConfirmOrderRequest, ConfirmationCode, DownloadOrderRequest,
    FinalProfileStatus, Fqdn, MatchingId, NotificationPoint, ProfileSelector,
    ReleaseProfileRequest, RequestHeader,
};
use conformance::smdp_sim::codes::{self, Code};
use conformance::smdp_sim::{
    CancelReason, InstallResult, Inventory, Personal, Policy, Profile, ProfileState, ReplayRule, cc,
};
use sim_profiles::{Eid, Iccid};

const OP: &str = "mvno-a";
const OTHER: &str = "mvno-b";
const TYPE: &str = "CONSUMER_V1";
const NOW: &str = "2025-01-01T00:00:00Z";

fn iccid(n: u32) -> Iccid {
    Iccid::from_payload(&format!("8986990999{n:08}")).expect("iccid")
}

fn eid(n: u32) -> Eid {
    Eid::from_body(&format!("890440400000000000000000{n:06}")).expect("eid")
}

fn mid(s: &str) -> MatchingId {
    MatchingId::new(s).expect("matching id")
}

fn header() -> RequestHeader {
    RequestHeader::new(OP, "call-1")
}

fn profile(n: u32, owner: &str, profile_type: &str) -> Profile {
    Profile::new(iccid(n), profile_type, owner, Personal::default())
}

/// One profile of `OP` in `state`, with an EID and MatchingID bound where the state has them.
fn in_state(state: ProfileState) -> Profile {
    let mut p = profile(1, OP, TYPE);
    p.state = state;
    if !matches!(state, Available | Allocated | Unavailable) {
        p.eid = Some(eid(1));
    }
    if matches!(state, Confirmed | Released | Downloaded | Installed | Error) {
        p.matching_id = Some(mid("MID-1"));
    }
    p
}

fn inv(profiles: Vec<Profile>) -> Inventory {
    Inventory::new(profiles, Policy::default(), 7)
}

fn inv_with(profiles: Vec<Profile>, policy: Policy) -> Inventory {
    Inventory::new(profiles, policy, 7)
}

fn state_of(inv: &Inventory, n: u32) -> ProfileState {
    inv.get(&iccid(n)).expect("profile").state
}

fn dl(selector: ProfileSelector, eid: Option<Eid>) -> DownloadOrderRequest {
    DownloadOrderRequest {
        header: header(),
        eid,
        profile: selector,
    }
}

fn confirm(n: u32, release: bool) -> ConfirmOrderRequest {
    ConfirmOrderRequest {
        header: header(),
        iccid: iccid(n),
        eid: Some(eid(1)),
        matching_id: Some(mid("MID-1")),
        confirmation_code: None,
        smds_address: None,
        release_flag: release,
    }
}

fn cancel(n: u32, to: FinalProfileStatus) -> CancelOrderRequest {
    CancelOrderRequest {
        header: header(),
        iccid: iccid(n),
        eid: None,
        matching_id: None,
        final_profile_status_indicator: to,
    }
}

fn release(n: u32) -> ReleaseProfileRequest {
    ReleaseProfileRequest {
        header: header(),
        iccid: iccid(n),
    }
}

// ---------------------------------------------------------------------------------------
// Transitions (§5 table)

#[test]
fn download_order_without_eid_allocates_with_eid_links() {
    let mut i = inv(vec![profile(1, OP, TYPE), profile(2, OP, TYPE)]);
    assert_eq!(
        i.download_order(OP, &dl(ProfileSelector::Iccid(iccid(1)), None), NOW),
        Ok(iccid(1))
    );
    assert_eq!(state_of(&i, 1), Allocated);
    let by_type = ProfileSelector::ProfileType(TYPE.into());
    assert_eq!(
        i.download_order(OP, &dl(by_type, Some(eid(1))), NOW),
        Ok(iccid(2))
    );
    assert_eq!(state_of(&i, 2), Linked);
    assert_eq!(i.get(&iccid(2)).and_then(|p| p.eid.clone()), Some(eid(1)));
}

#[test]
fn confirm_order_from_allocated_and_linked() {
    for from in [Allocated, Linked] {
        for (flag, to) in [(false, Confirmed), (true, Released)] {
            let mut i = inv(vec![in_state(from)]);
            let out = i
                .confirm_order(OP, &confirm(1, flag), NOW)
                .expect("confirmed");
            assert_eq!(out.matching_id, mid("MID-1"));
            assert_eq!(out.eid, Some(eid(1)));
            assert_eq!(state_of(&i, 1), to, "{from:?} releaseFlag={flag}");
        }
    }
}

#[test]
fn release_profile_moves_confirmed_to_released() {
    let mut i = inv(vec![in_state(Confirmed)]);
    assert_eq!(i.release_profile(OP, &release(1), NOW), Ok(()));
    assert_eq!(state_of(&i, 1), Released);
}

#[test]
fn cancel_order_to_available_or_unavailable_clears_bindings() {
    for from in [Allocated, Linked, Confirmed, Released, Error] {
        for (to, want) in [
            (FinalProfileStatus::Available, Available),
            (FinalProfileStatus::Unavailable, Unavailable),
        ] {
            let mut i = inv(vec![in_state(from)]);
            assert_eq!(i.cancel_order(OP, &cancel(1, to), NOW), Ok(()), "{from:?}");
            let p = i.get(&iccid(1)).expect("profile");
            assert_eq!(p.state, want);
            assert!(p.eid.is_none() && p.matching_id.is_none() && p.cc_hash.is_none());
        }
    }
}

#[test]
fn es9_download_install_and_error_transitions() {
    let mut i = inv(vec![in_state(Released)]);
    let out = i.download(&iccid(1), NOW).expect("download");
    assert_eq!(state_of(&i, 1), Downloaded);
    assert_eq!(out.notices[0].point, NotificationPoint::BppDownload);
    assert!(i.get(&iccid(1)).and_then(|p| p.package.as_ref()).is_some());
    // A retried download stays Downloaded.
    i.download(&iccid(1), NOW).expect("retry");
    assert_eq!(state_of(&i, 1), Downloaded);
    let out = i
        .install(&iccid(1), InstallResult::Success, NOW)
        .expect("install");
    assert_eq!(state_of(&i, 1), Installed);
    let n = &out.notices[0];
    assert_eq!(n.point, NotificationPoint::BppInstallation);
    assert!(n.status.status.is_success());
    let rd = n.result_data.as_deref().expect("resultData");
    assert_eq!(&rd[..1], &[0xA2]);
    assert_eq!(rd[2], 0xA0);

    let mut i = inv(vec![in_state(Downloaded)]);
    let failure = InstallResult::Failure {
        bpp_command_id: 5,
        error_reason: 9,
    };
    let out = i.install(&iccid(1), failure, NOW).expect("install fails");
    assert_eq!(state_of(&i, 1), Error);
    let n = &out.notices[0];
    assert_eq!(n.status, codes::BPP_EXECUTION_ERROR.failed());
    assert_eq!(
        n.result_data.as_deref(),
        Some(&[0xA2, 0x08, 0xA1, 0x06, 0x80, 0x01, 5, 0x81, 0x01, 9][..])
    );
}

#[test]
fn error_recovers_to_available() {
    let mut i = inv(vec![in_state(Error)]);
    assert_eq!(i.recover(&iccid(1), NOW), Ok(()));
    assert_eq!(state_of(&i, 1), Available);
    assert!(i.get(&iccid(1)).expect("p").matching_id.is_none());
    assert_eq!(i.recover(&iccid(1), NOW), Err(codes::INVALID_TRANSITION));
}

// ---------------------------------------------------------------------------------------
// The function × state matrix (§5)

/// Expected outcome of one cell: `Ok(state after)` or `Err(code)` (state unchanged).
type Cell = Result<ProfileState, Code>;

/// One ES2+ function applied to the inventory.
type Call = Box<dyn Fn(&mut Inventory) -> Result<(), Code>>;

fn matrix(state: ProfileState) -> [Cell; 4] {
    let in_use = Err(codes::ICCID_IN_USE);
    let invalid = Err(codes::INVALID_TRANSITION);
    let replay = Ok(state); // the default rule: idempotent, no change
    match state {
        Available => [Ok(Allocated), invalid, invalid, invalid],
        Allocated => [in_use, Ok(Released), Ok(Available), invalid],
        Linked => [in_use, Ok(Released), Ok(Available), invalid],
        Confirmed => [
            in_use,
            Err(codes::INVALID_TRANSITION),
            Ok(Available),
            Ok(Released),
        ],
        Released => [in_use, replay, Ok(Available), Ok(Released)],
        Downloaded => [in_use, invalid, in_use, Ok(Downloaded)],
        Installed => [in_use, invalid, in_use, Ok(Installed)],
        Error => [in_use, invalid, Ok(Available), invalid],
        Unavailable => [in_use, invalid, invalid, invalid],
    }
}

#[test]
fn every_cell_of_the_function_state_matrix() {
    for state in ProfileState::ALL {
        let want = matrix(state);
        let calls: [(&str, Call); 4] = [
            (
                "DownloadOrder",
                Box::new(|i| {
                    i.download_order(OP, &dl(ProfileSelector::Iccid(iccid(1)), None), NOW)
                        .map(|_| ())
                }),
            ),
            (
                "ConfirmOrder",
                Box::new(|i| i.confirm_order(OP, &confirm(1, true), NOW).map(|_| ())),
            ),
            (
                "CancelOrder",
                Box::new(|i| i.cancel_order(OP, &cancel(1, FinalProfileStatus::Available), NOW)),
            ),
            (
                "ReleaseProfile",
                Box::new(|i| i.release_profile(OP, &release(1), NOW)),
            ),
        ];
        for ((name, call), want) in calls.iter().zip(want) {
            let mut i = inv(vec![in_state(state)]);
            let got = call(&mut i).map(|()| state_of(&i, 1));
            assert_eq!(got, want, "{name} in {state:?}");
            if want.is_err() {
                assert_eq!(state_of(&i, 1), state, "{name} in {state:?} changed state");
            }
        }
    }
}

#[test]
fn release_after_download_can_be_refused_by_setting() {
    let policy = Policy {
        release_after_download_ok: false,
        ..Policy::default()
    };
    for state in [Downloaded, Installed] {
        let mut i = inv_with(vec![in_state(state)], policy);
        assert_eq!(
            i.release_profile(OP, &release(1), NOW),
            Err(codes::INVALID_TRANSITION)
        );
    }
}

// ---------------------------------------------------------------------------------------
// Error pairs (Tables 24, 27, 30, 32) and the check order

#[test]
fn unknown_and_not_allowed_for_every_function() {
    let mut i = inv(vec![profile(1, OTHER, TYPE)]);
    let sel = |n| dl(ProfileSelector::Iccid(iccid(n)), None);
    assert_eq!(
        i.download_order(OP, &sel(9), NOW),
        Err(codes::ICCID_UNKNOWN)
    );
    assert_eq!(
        i.download_order(OP, &sel(1), NOW),
        Err(codes::ICCID_NOT_ALLOWED)
    );
    assert_eq!(
        i.confirm_order(OP, &confirm(9, true), NOW).map(|_| ()),
        Err(codes::ICCID_UNKNOWN)
    );
    assert_eq!(
        i.confirm_order(OP, &confirm(1, true), NOW).map(|_| ()),
        Err(codes::ICCID_NOT_ALLOWED)
    );
    let c = |n| cancel(n, FinalProfileStatus::Available);
    assert_eq!(i.cancel_order(OP, &c(9), NOW), Err(codes::ICCID_UNKNOWN));
    assert_eq!(
        i.cancel_order(OP, &c(1), NOW),
        Err(codes::ICCID_NOT_ALLOWED)
    );
    assert_eq!(
        i.release_profile(OP, &release(9), NOW),
        Err(codes::ICCID_UNKNOWN)
    );
    assert_eq!(
        i.release_profile(OP, &release(1), NOW),
        Err(codes::ICCID_NOT_ALLOWED)
    );
    assert_eq!(state_of(&i, 1), Available);
}

#[test]
fn not_allowed_is_checked_before_state() {
    let mut p = in_state(Installed);
    p.owner = OTHER.into();
    let mut i = inv(vec![p]);
    assert_eq!(
        i.cancel_order(OP, &cancel(1, FinalProfileStatus::Available), NOW),
        Err(codes::ICCID_NOT_ALLOWED)
    );
}

#[test]
fn profile_type_errors() {
    let mut i = inv(vec![
        profile(1, OP, TYPE),
        profile(2, OTHER, "B2B"),
        profile(3, OP, "IOT"),
    ]);
    let by_type = |t: &str| dl(ProfileSelector::ProfileType(t.into()), None);
    assert_eq!(
        i.download_order(OP, &by_type("NOPE"), NOW),
        Err(codes::TYPE_UNKNOWN)
    );
    assert_eq!(
        i.download_order(OP, &by_type("B2B"), NOW),
        Err(codes::TYPE_NOT_ALLOWED)
    );
    assert_eq!(i.download_order(OP, &by_type(TYPE), NOW), Ok(iccid(1)));
    assert_eq!(
        i.download_order(OP, &by_type(TYPE), NOW),
        Err(codes::TYPE_STOCK_OUT)
    );
    let both = |n, t: &str| {
        dl(
            ProfileSelector::Both {
                iccid: iccid(n),
                profile_type: t.into(),
            },
            None,
        )
    };
    assert_eq!(
        i.download_order(OP, &both(3, TYPE), NOW),
        Err(codes::TYPE_MISMATCH)
    );
    assert_eq!(
        i.download_order(OP, &both(3, "NOPE"), NOW),
        Err(codes::TYPE_UNKNOWN)
    );
    assert_eq!(
        i.download_order(OP, &both(2, "B2B"), NOW),
        Err(codes::ICCID_NOT_ALLOWED)
    );
    assert_eq!(i.download_order(OP, &both(3, "IOT"), NOW), Ok(iccid(3)));
    // Duplicate order on the same ICCID.
    assert_eq!(
        i.download_order(OP, &both(3, "IOT"), NOW),
        Err(codes::ICCID_IN_USE)
    );
}

#[test]
fn by_type_picks_the_lowest_available_iccid_of_the_caller() {
    let mut i = inv(vec![
        profile(5, OP, TYPE),
        profile(3, OP, TYPE),
        profile(1, OTHER, TYPE),
        profile(4, OP, TYPE),
    ]);
    let by_type = dl(ProfileSelector::ProfileType(TYPE.into()), None);
    assert_eq!(i.download_order(OP, &by_type, NOW), Ok(iccid(3)));
    assert_eq!(i.download_order(OP, &by_type, NOW), Ok(iccid(4)));
    assert_eq!(i.download_order(OP, &by_type, NOW), Ok(iccid(5)));
}

#[test]
fn confirm_order_eid_errors() {
    // Another EID than the one bound in DownloadOrder.
    let mut i = inv(vec![in_state(Linked)]);
    let mut req = confirm(1, true);
    req.eid = Some(eid(2));
    assert_eq!(
        i.confirm_order(OP, &req, NOW).map(|_| ()),
        Err(codes::EID_MISMATCH)
    );
    assert_eq!(state_of(&i, 1), Linked);
    // Empty MatchingID (default SM-DP+) or an SM-DS address without any EID.
    let mut i = inv(vec![in_state(Allocated)]);
    let mut req = confirm(1, true);
    req.eid = None;
    req.matching_id = Some(MatchingId::empty());
    assert_eq!(
        i.confirm_order(OP, &req, NOW).map(|_| ()),
        Err(codes::EID_MISSING)
    );
    req.matching_id = None;
    req.smds_address = Some(Fqdn::new("smds.example.com").expect("fqdn"));
    assert_eq!(
        i.confirm_order(OP, &req, NOW).map(|_| ()),
        Err(codes::EID_MISSING)
    );
    // With an EID the SM-DS case works.
    req.eid = Some(eid(1));
    assert!(i.confirm_order(OP, &req, NOW).is_ok());
    assert!(i.get(&iccid(1)).expect("p").smds_address.is_some());
}

#[test]
fn matching_id_in_use_is_per_operator() {
    let mut other_ops = in_state(Released);
    other_ops.iccid = iccid(2);
    other_ops.owner = OTHER.into();
    let mut mine = in_state(Released);
    mine.iccid = iccid(3);
    let mut i = inv(vec![in_state(Allocated), other_ops]);
    // Used by another operator: fine.
    assert!(i.confirm_order(OP, &confirm(1, false), NOW).is_ok());
    let mut i = inv(vec![in_state(Allocated), mine]);
    assert_eq!(
        i.confirm_order(OP, &confirm(1, false), NOW).map(|_| ()),
        Err(codes::MATCHING_ID_IN_USE)
    );
    assert_eq!(state_of(&i, 1), Allocated);
}

#[test]
fn cancel_order_consistency_errors() {
    let mut i = inv(vec![in_state(Released)]);
    let mut req = cancel(1, FinalProfileStatus::Available);
    req.eid = Some(eid(2));
    assert_eq!(
        i.cancel_order(OP, &req, NOW),
        Err(codes::ICCID_EID_MISMATCH)
    );
    req.eid = Some(eid(1));
    req.matching_id = Some(mid("OTHER"));
    assert_eq!(
        i.cancel_order(OP, &req, NOW),
        Err(codes::MATCHING_ID_MISMATCH)
    );
    req.matching_id = Some(mid("MID-1"));
    assert_eq!(i.cancel_order(OP, &req, NOW), Ok(()));
}

#[test]
fn generated_matching_ids_are_deterministic_and_unique() {
    let run = || {
        let mut i = inv(vec![in_state(Allocated), {
            let mut p = in_state(Allocated);
            p.iccid = iccid(2);
            p
        }]);
        let mut a = confirm(1, true);
        a.matching_id = None;
        let mut b = confirm(2, true);
        b.matching_id = None;
        let x = i.confirm_order(OP, &a, NOW).expect("a").matching_id;
        let y = i.confirm_order(OP, &b, NOW).expect("b").matching_id;
        (x, y)
    };
    let (x, y) = run();
    assert_eq!((x.clone(), y.clone()), run());
    assert_ne!(x, y);
    assert_eq!(x.as_str().len(), 23);
}

// ---------------------------------------------------------------------------------------
// ConfirmOrder replay rule

#[test]
fn replay_rule_variants() {
    for (rule, want) in [
        (ReplayRule::MatchingIdInUse, Err(codes::MATCHING_ID_IN_USE)),
        (
            ReplayRule::InvalidTransition,
            Err(codes::INVALID_TRANSITION),
        ),
        (ReplayRule::Idempotent, Ok(mid("MID-1"))),
    ] {
        let policy = Policy {
            replay: rule,
            ..Policy::default()
        };
        let mut i = inv_with(vec![in_state(Allocated)], policy);
        let mut req = confirm(1, true);
        req.confirmation_code = Some(ConfirmationCode::new("482916").expect("cc"));
        i.confirm_order(OP, &req, NOW).expect("first");
        let again = i.confirm_order(OP, &req, NOW).map(|c| c.matching_id);
        assert_eq!(again, want, "{rule:?}");
        assert_eq!(state_of(&i, 1), Released);
    }
}

#[test]
fn idempotent_replay_needs_identical_parameters() {
    let mut i = inv(vec![in_state(Allocated)]);
    let mut req = confirm(1, false);
    req.confirmation_code = Some(ConfirmationCode::new("1234").expect("cc"));
    i.confirm_order(OP, &req, NOW).expect("first");
    assert!(i.confirm_order(OP, &req, NOW).is_ok());
    let mut other_cc = req.clone();
    other_cc.confirmation_code = Some(ConfirmationCode::new("9999").expect("cc"));
    assert_eq!(
        i.confirm_order(OP, &other_cc, NOW).map(|_| ()),
        Err(codes::INVALID_TRANSITION)
    );
    // Confirmed, asked to release: not a replay of the first call.
    let mut released = req.clone();
    released.release_flag = true;
    assert_eq!(
        i.confirm_order(OP, &released, NOW).map(|_| ()),
        Err(codes::INVALID_TRANSITION)
    );
    assert_eq!(state_of(&i, 1), Confirmed);
}

// ---------------------------------------------------------------------------------------
// ES9+ customer events

#[test]
fn download_is_refused_while_confirmed_without_change() {
    let mut i = inv(vec![in_state(Confirmed)]);
    assert_eq!(i.download(&iccid(1), NOW), Err(codes::NOT_RELEASED));
    let p = i.get(&iccid(1)).expect("p");
    assert_eq!((p.state, p.download_attempts), (Confirmed, 0));
}

#[test]
fn confirmation_code_attempts_and_limit() {
    let policy = Policy {
        cc_attempt_limit: 2,
        ..Policy::default()
    };
    let mut p = in_state(Released);
    p.cc_hash = Some(cc::h1("482916"));
    let mut i = inv_with(vec![p], policy);
    let tx = [7u8; 16];
    // Download needs the code first.
    assert_eq!(i.download(&iccid(1), NOW), Err(codes::CC_MISSING));
    let wrong = cc::hash_cc(&cc::h1("000000"), &tx);
    let out = i.cc_attempt(&iccid(1), &tx, &wrong, NOW).expect("attempt");
    assert_eq!(out.refused, Some(codes::CC_REFUSED));
    assert_eq!(out.notices[0].point, NotificationPoint::ConfirmationFailure);
    assert_eq!(state_of(&i, 1), Released);
    let out = i.cc_attempt(&iccid(1), &tx, &wrong, NOW).expect("attempt");
    assert_eq!(out.refused, Some(codes::CC_LIMIT));
    assert_eq!(out.notices[0].status, codes::CC_LIMIT.failed());
    assert_eq!(state_of(&i, 1), Error);

    let mut p = in_state(Released);
    p.cc_hash = Some(cc::h1("482916"));
    let mut i = inv(vec![p]);
    let right = cc::hash_cc(&cc::h1("482916"), &tx);
    let out = i.cc_attempt(&iccid(1), &tx, &right, NOW).expect("attempt");
    assert_eq!(out.refused, None);
    assert!(out.notices.is_empty());
    assert!(i.download(&iccid(1), NOW).is_ok());
}

#[test]
fn download_attempt_limit_ends_in_error_with_point_1() {
    let policy = Policy {
        download_attempt_limit: 2,
        ..Policy::default()
    };
    let mut i = inv_with(vec![in_state(Released)], policy);
    i.download(&iccid(1), NOW).expect("1");
    i.download(&iccid(1), NOW).expect("2");
    let out = i.download(&iccid(1), NOW).expect("3");
    assert_eq!(out.refused, Some(codes::DOWNLOAD_LIMIT));
    assert_eq!(
        out.notices[0].point,
        NotificationPoint::EligibilityAndRetryLimit
    );
    assert_eq!(out.notices[0].status, codes::DOWNLOAD_LIMIT.failed());
    assert_eq!(state_of(&i, 1), Error);
}

#[test]
fn eligibility_pass_and_fail() {
    let mut i = inv(vec![in_state(Released)]);
    let out = i.eligibility(&iccid(1), true, NOW).expect("pass");
    assert!(out.notices[0].status.status.is_success());
    assert_eq!(state_of(&i, 1), Released);
    let out = i.eligibility(&iccid(1), false, NOW).expect("fail");
    assert_eq!(out.notices[0].status, codes::NOT_ELIGIBLE.failed());
    assert_eq!(state_of(&i, 1), Error);
}

#[test]
fn cancel_session_reasons() {
    for reason in CancelReason::ALL {
        let mut i = inv(vec![in_state(Released)]);
        let out = i.cancel_session(&iccid(1), reason, NOW).expect("cancel");
        match reason.code() {
            None => {
                assert!(out.notices.is_empty());
                assert_eq!(state_of(&i, 1), Released);
            }
            Some(code) => {
                assert_eq!(out.notices[0].status, code.failed(), "{reason:?}");
                assert_eq!(state_of(&i, 1), Error);
            }
        }
    }
    let pairs: Vec<Option<String>> = CancelReason::ALL
        .iter()
        .map(|r| r.code().map(|c| c.to_string()))
        .collect();
    assert_eq!(
        pairs,
        [
            Some("8.8.5/3.8"),
            None,
            None,
            Some("8.2.8/1.2"),
            Some("8.2.9/3.11"),
            Some("8.2.10/4.2"),
            Some("8/4.2")
        ]
        .map(|s| s.map(str::to_owned))
    );
}

#[test]
fn adding_a_profile_while_running_never_resets_one_held() {
    let mut inv = inv(vec![in_state(Released)]);
    assert!(!inv.add(profile(1, OP, TYPE)), "ICCID already held");
    assert_eq!(state_of(&inv, 1), Released);
    assert!(inv.add(profile(2, OP, TYPE)));
    assert_eq!(state_of(&inv, 2), Available);
    assert!(!inv.add(profile(2, OP, TYPE)));
}

#[test]
fn a_lost_reservation_is_available_again_with_its_order_data_cleared() {
    for state in ProfileState::ALL {
        let mut i = inv(vec![in_state(state)]);
        let lost = i.lose_reservation(&iccid(1), NOW);
        let p = i.get(&iccid(1)).expect("profile");
        if matches!(state, Allocated | Linked | Confirmed | Released) {
            assert!(lost, "{state:?}");
            assert_eq!(p.state, Available, "{state:?}");
            assert_eq!(
                (p.eid.as_ref(), p.matching_id.as_ref()),
                (None, None),
                "{state:?}"
            );
        } else {
            assert!(!lost, "{state:?}");
            assert_eq!(p.state, state, "state unchanged");
        }
    }
    assert!(!inv(vec![]).lose_reservation(&iccid(1), NOW));
}
