//! DownloadOrder, the HLR and ConfirmOrder in order, their replays, and the progress mirror.

use super::*;

#[test]
fn steps_run_download_then_hlr_then_confirm() {
    let o = order();
    assert_eq!(
        next_action(&o, 0),
        Action::Es2 {
            call: Es2Call::Download,
            attempt: 1
        }
    );
    let sent = mark_es2_sent(o, Es2Call::Download, 1, 1);
    assert_eq!(
        sent.esim.as_ref().and_then(|e| e.last_call_id.as_deref()),
        Some("act_e-es2_download_order-1"),
        "the call id is persisted with the order before the call"
    );
    let (o, eff) = on_download(sent, at(1, 2), Ok(()));
    assert_eq!(
        (o.status, eff),
        (OrderStatus::HlrProvisioning, Effect::None)
    );
    assert_eq!(next_action(&o, 2), Action::Provision { attempt: 1 });
    let o = provisioned(o);
    assert_eq!(
        next_action(&o, 3),
        Action::Es2 {
            call: Es2Call::Confirm,
            attempt: 1
        }
    );
    let (o, eff) = confirm(o, 1, Ok("1$SMDP.EXAMPLE$AAAA-BBBB".into()));
    assert_eq!((o.status, eff), (OrderStatus::Active, Effect::Activate));
    let e = o.esim.as_ref().expect("esim");
    assert_eq!(
        e.activation_code.as_deref(),
        Some("1$SMDP.EXAMPLE$AAAA-BBBB")
    );
    assert_eq!(e.expires_at_ms, Some(1_004));
    assert_eq!(next_action(&o, 5), Action::Finished);
}

#[test]
fn a_download_answered_in_use_after_a_lost_response_is_ours() {
    let (o, _) = download(order(), 1, Err(lost()));
    assert!(matches!(
        o.esim.as_ref().map(|e| &e.download),
        Some(Step::RetryWait { .. })
    ));
    let (o, _) = download(o, 2, Err(refused("8.2.1", "3.3")));
    assert_eq!(o.status, OrderStatus::HlrProvisioning);
    // The same answer to a first attempt is someone else's profile: retire it.
    let (o, eff) = download(order(), 1, Err(refused("8.2.1", "3.3")));
    assert_eq!((o.status, eff), (OrderStatus::Failed, Effect::Release));
    assert_eq!(
        o.esim.as_ref().and_then(|e| e.fate),
        Some(ProfileFate::Retire)
    );
    assert!(o.needs_attention);
    assert_eq!(o.attention, [AttentionReason::EsimStockMismatch]);
}

#[test]
fn every_download_refusal_maps_to_a_reseller_code() {
    for (s, r, code, fate) in [
        ("8.2.1", "3.9", "esim_profile_unknown", ProfileFate::Retire),
        (
            "8.2.1",
            "1.2",
            "esim_profile_not_allowed",
            ProfileFate::Retire,
        ),
        ("8.2.1", "3.3", "esim_profile_in_use", ProfileFate::Retire),
        (
            "8.2.5",
            "3.9",
            "esim_profile_type_refused",
            ProfileFate::Retire,
        ),
        (
            "8.2.5",
            "1.2",
            "esim_profile_type_refused",
            ProfileFate::Retire,
        ),
        ("8.2.5", "3.7", "esim_stock_out", ProfileFate::Retire),
        (
            "8.2.5",
            "3.8",
            "esim_profile_type_mismatch",
            ProfileFate::Retire,
        ),
        ("8.1.1", "3.10", "esim_eid_mismatch", ProfileFate::Reuse),
        ("1.1", "1.2", "smdp_rejected", ProfileFate::Reuse),
    ] {
        let (o, eff) = download(order(), 1, Err(refused(s, r)));
        // A definite refusal reserved nothing and touched no HLR: fail at once.
        assert_eq!(
            (o.status, eff),
            (OrderStatus::Failed, Effect::Release),
            "{s}/{r}"
        );
        assert_eq!(
            o.error.as_ref().map(|e| e.code.as_str()),
            Some(code),
            "{s}/{r}"
        );
        assert_eq!(o.esim.as_ref().and_then(|e| e.fate), Some(fate), "{s}/{r}");
        // Only a profile our stock is wrong about needs an operator, and says so.
        let want: &[AttentionReason] = match fate {
            ProfileFate::Retire => &[AttentionReason::EsimStockMismatch],
            ProfileFate::Reuse => &[],
        };
        assert_eq!(o.attention, want, "{s}/{r}");
        assert_eq!(o.needs_attention, !want.is_empty(), "{s}/{r}");
        let detail = &o.error.as_ref().expect("error").detail;
        assert!(detail.contains(&format!("{s}/{r}")), "{detail}");
    }
}

#[test]
fn a_download_lost_every_time_cancels_in_case_it_happened() {
    let mut o = order();
    for attempt in 1..=3 {
        o = download(o, attempt, Err(lost())).0;
    }
    assert_eq!(o.status, OrderStatus::Compensating);
    assert_eq!(
        o.error.as_ref().map(|e| e.code.as_str()),
        Some("smdp_unavailable")
    );
    assert_eq!(
        next_action(&o, 10),
        Action::Es2 {
            call: Es2Call::Cancel,
            attempt: 1
        }
    );
    let (o, eff) = on_cancel(mark_es2_sent(o, Es2Call::Cancel, 1, 11), at(1, 12), Ok(()));
    // The HLR was never touched: done.
    assert_eq!((o.status, eff), (OrderStatus::Failed, Effect::Release));
}

#[test]
fn a_download_refused_after_a_lost_answer_cancels_what_the_lost_one_may_have_reserved() {
    let (o, _) = download(order(), 1, Err(lost()));
    let (o, eff) = download(o, 2, Err(refused("8.8.5", "4.10")));
    assert_eq!((o.status, eff), (OrderStatus::Compensating, Effect::None));
    assert_eq!(
        next_action(&o, 10),
        Action::Es2 {
            call: Es2Call::Cancel,
            attempt: 1
        }
    );
    // Nothing was reserved after all: the profile goes back to stock.
    let (o, eff) = on_cancel(
        mark_es2_sent(o, Es2Call::Cancel, 1, 11),
        at(1, 12),
        Err(refused("8.2.1", "3.5")),
    );
    assert_eq!((o.status, eff), (OrderStatus::Failed, Effect::Release));
    assert_eq!(
        o.esim.as_ref().and_then(|e| e.fate),
        Some(ProfileFate::Reuse)
    );
}

#[test]
fn a_permanent_hlr_failure_cancels_the_profile_as_available_then_cleans_the_hlr() {
    let (o, _) = download(order(), 1, Ok(()));
    let o = crate::engine::machine::mark_sent(o, 1, 3);
    let (o, _) = crate::engine::machine::on_provision(
        o,
        at(1, 4),
        Err(adapters::hlr::HlrError::new(
            adapters::hlr::FaultClass::External,
            "Create",
            "refused",
        )),
    );
    assert_eq!(o.status, OrderStatus::Compensating);
    assert_eq!(
        o.esim.as_ref().and_then(|e| e.fate),
        Some(ProfileFate::Reuse)
    );
    assert_eq!(
        next_action(&o, 5),
        Action::Es2 {
            call: Es2Call::Cancel,
            attempt: 1
        }
    );
    let (o, eff) = on_cancel(mark_es2_sent(o, Es2Call::Cancel, 1, 5), at(1, 6), Ok(()));
    assert_eq!(eff, Effect::None);
    assert_eq!(next_action(&o, 6), Action::Deprovision { attempt: 1 });
}

#[test]
fn progress_tolerates_duplicates_and_disorder() {
    use crate::order::EsimState::{self, *};
    assert_eq!(EsimState::after(None, 3, true), Some(Downloaded));
    assert_eq!(EsimState::after(Some(Downloaded), 4, true), Some(Installed));
    // 4 before 3: installed stays installed.
    assert_eq!(EsimState::after(Some(Installed), 3, true), Some(Installed));
    assert_eq!(EsimState::after(None, 4, true), Some(Installed));
    assert_eq!(EsimState::after(Some(Released), 2, false), Some(Error));
    assert_eq!(EsimState::after(Some(Installed), 1, false), Some(Installed));
    assert_eq!(
        EsimState::after(Some(Downloaded), 150, true),
        Some(Downloaded)
    );
    assert_eq!(
        EsimState::after(Some(Downloaded), 7, false),
        Some(Downloaded)
    );
    assert_eq!(EsimState::after(Some(Error), 4, true), Some(Installed));
}
