//! eSIM steps: expiry, CancelOrder that keeps failing, attention causes, unverified releases.

use crate::rig::*;
use adapters::es2plus::{
    AmbiguousCause, Es2CallError, Es2Error, ExecutionStatus, FinalProfileStatus, Fqdn,
};
use adapters::hlr::FaultClass;
use gateway::clock::Clock;
use gateway::engine::{Engine, EngineSettings, EsimSettings};
use gateway::metrics::Metrics;
use gateway::order::{AttentionReason, LeftAtSmdp, OrderStatus};
use gateway::store::{SimState, Store};
use std::sync::Arc;
use std::time::Duration;

#[tokio::test(start_paused = true)]
async fn a_released_esim_never_downloaded_is_cancelled_at_its_deadline() {
    let hlr = Arc::new(ScriptedHlr::default());
    let smdp = Arc::new(ScriptedSmdp::default());
    let Setup {
        store, id, engine, ..
    } = setup_with(hlr.clone(), Some(smdp.clone())).await;
    wait_status(&store, &id, OrderStatus::Active).await;
    assert_eq!(smdp.calls.names(), ["download", "confirm"]);
    // The deadline is durable and the timer wakes for it in virtual time.
    engine.spawn_esim_timer(Duration::from_secs(24 * 3_600));
    let released_at = tokio::time::Instant::now();
    wait_status_every(&store, &id, OrderStatus::Failed, Duration::from_secs(1)).await;
    let o = store
        .get_order("t", &id)
        .await
        .expect("get")
        .expect("order");
    assert_eq!(
        o.error.as_ref().map(|e| e.code.as_str()),
        Some("esim_not_downloaded")
    );
    let calls = smdp.calls.all();
    let (name, at) = calls[2];
    assert_eq!(name, "cancel");
    assert_eq!(
        *smdp.cancel_status.lock().expect("lock"),
        [FinalProfileStatus::Available],
        "a never-downloaded profile goes back to stock"
    );
    assert!(
        at >= released_at + EXPIRY - Duration::from_secs(1),
        "cancelled {:?} after release, before the deadline",
        at - released_at
    );
    assert_eq!(
        hlr.calls.names(),
        ["provision", "deprovision"],
        "the subscriber is removed from the HLR"
    );
    // The profile and the number are back in stock.
    assert_eq!(sim_state(&store, &o.iccid).await, SimState::Available);
    assert_eq!(
        store
            .inventory_counts("t")
            .await
            .expect("counts")
            .sims_available,
        1
    );
}

#[tokio::test(start_paused = true)]
async fn a_downloaded_esim_never_expires() {
    let hlr = Arc::new(ScriptedHlr::default());
    let smdp = Arc::new(ScriptedSmdp::default());
    let Setup {
        store, id, engine, ..
    } = setup_with(hlr, Some(smdp.clone())).await;
    wait_status(&store, &id, OrderStatus::Active).await;
    let o = store
        .get_order("t", &id)
        .await
        .expect("get")
        .expect("order");
    store
        .record_notification(notification(&o.iccid, 3, "2026-11-23T10:00:00Z"))
        .await
        .expect("notify");
    engine.spawn_esim_timer(Duration::from_secs(24 * 3_600));
    tokio::time::sleep(EXPIRY * 3).await;
    assert_eq!(smdp.calls.names(), ["download", "confirm"], "no cancel");
    let o = store
        .get_order("t", &id)
        .await
        .expect("get")
        .expect("order");
    assert_eq!(o.status, OrderStatus::Active);
}

#[tokio::test(start_paused = true)]
async fn an_expiry_racing_a_download_leaves_the_order_active() {
    let hlr = Arc::new(ScriptedHlr::default());
    let smdp = Arc::new(ScriptedSmdp::default());
    // The customer downloads just as the deadline passes: the SM-DP+ refuses the cancel.
    script(&smdp.cancel, [Err(smdp_refusal("8.2.1", "3.3"))]);
    let Setup {
        store, id, engine, ..
    } = setup_with(hlr.clone(), Some(smdp.clone())).await;
    wait_status(&store, &id, OrderStatus::Active).await;
    engine.spawn_esim_timer(Duration::from_secs(24 * 3_600));
    for _ in 0..10_000 {
        if smdp.calls.all().len() == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_secs(60)).await;
    }
    wait_status(&store, &id, OrderStatus::Active).await;
    let o = store
        .get_order("t", &id)
        .await
        .expect("get")
        .expect("order");
    assert!(o.error.is_none(), "{:?}", o.error);
    assert_eq!(hlr.calls.all().len(), 1, "the subscriber stays on the HLR");
    let state = sim_state(&store, &o.iccid).await;
    assert!(matches!(state, SimState::Active { .. }), "{state:?}");
}

#[tokio::test(start_paused = true)]
async fn an_attention_caused_by_the_smdp_names_the_smdp_not_the_hlr() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let hlr = Arc::new(ScriptedHlr::default());
    script(&hlr.provision, [Err(fault(FaultClass::External))]);
    let smdp = Arc::new(ScriptedSmdp::default());
    // The profile cannot be put back (downloaded): the SM-DP+ is the cause. The HLR
    // clean-up then runs and deletes the subscriber: nothing foreign is left there.
    script(&smdp.cancel, [Err(smdp_refusal("8.2.1", "3.3"))]);
    let Setup { store, id, .. } = setup_with(hlr.clone(), Some(smdp.clone())).await;
    wait_status(&store, &id, OrderStatus::Failed).await;
    let o = store
        .get_order("t", &id)
        .await
        .expect("get")
        .expect("order");
    assert!(o.needs_attention);
    assert_eq!(o.attention, [AttentionReason::EsimProfileNotCancellable]);
    assert_eq!(
        o.error.as_ref().map(|e| e.code.as_str()),
        Some("hlr_rejected")
    );
    assert_eq!(smdp.calls.names(), ["download", "cancel"]);
    // The log names the real cause, at WARN, and never blames the HLR.
    let warn = logs.at("WARN").join("\n");
    assert!(
        warn.contains("reason=esim_profile_not_cancellable code=hlr_rejected"),
        "{warn}"
    );
    let all = [logs.at("WARN"), logs.at("ERROR")].concat().join("\n");
    assert!(!all.contains("does not own"), "{all}");
    assert!(!all.contains("hlr_foreign_data"), "{all}");
}

#[tokio::test(start_paused = true)]
async fn a_cancel_the_smdp_keeps_refusing_is_retried_across_a_restart_and_says_what_is_left() {
    let hlr = Arc::new(ScriptedHlr::default());
    script(&hlr.provision, [Err(fault(FaultClass::External))]);
    let smdp = Arc::new(ScriptedSmdp::default());
    // The soak's case: CancelOrder answered `Expired` (8.8.5/4.10), again and again.
    let expired = Es2CallError::Function(Es2Error::Failed {
        status: ExecutionStatus::Expired,
        subject_code: "8.8.5".into(),
        reason_code: "4.10".into(),
        subject_identifier: None,
        message: None,
        retryable: false,
    });
    *smdp.cancel_fault.lock().expect("lock") = Some(expired);
    let Setup {
        store,
        keys,
        engine,
        metrics,
        id,
    } = setup_with(hlr.clone(), Some(smdp.clone())).await;
    let stall = AttentionReason::SmdpCancelStalled;
    let o = wait_order(&store, &id, "flagged", Duration::from_secs(1), |o| {
        o.needs_attention && metrics.attention.raised_count(stall) == 1
    })
    .await;
    assert_eq!(o.status, OrderStatus::Compensating);
    assert_eq!(o.attention, [stall]);
    let e = o.esim.as_ref().expect("esim");
    assert_eq!(e.left_at_smdp, Some(LeftAtSmdp::Reserved));
    assert_eq!(
        e.fate,
        Some(gateway::order::ProfileFate::Reuse),
        "not retired"
    );
    // The profile is neither retired nor back in stock while it may still be reserved,
    // and the HLR clean-up waits for the cancel.
    let state = sim_state(&store, &o.iccid).await;
    assert!(matches!(state, SimState::Reserved { .. }), "{state:?}");
    assert_eq!(hlr.calls.count("deprovision"), 0);
    assert!(smdp.calls.count("cancel") >= POLICY.max_attempts as usize);
    // The API says what is left there.
    let json = gateway::api::dto::render_order(&o, None, None);
    assert_eq!(json["esim"]["left_at_smdp"], "reserved");
    assert_eq!(json["needs_attention"], true);
    assert_eq!(json["attention"][0]["reason"], "smdp_cancel_stalled");

    // A restart: the retry is durable, a new engine picks it up and keeps trying.
    engine.shutdown(Duration::from_secs(1)).await;
    for _ in 0..10_000 {
        if engine.running() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let cancels = || smdp.calls.count("cancel");
    let before = cancels();
    let metrics2 = Arc::new(Metrics::default());
    let engine2 = Engine::new(
        store.clone(),
        hlr.clone(),
        keys,
        EngineSettings {
            policy: POLICY,
            hlr_concurrency: 4,
            fsetind: 0,
            ki_wrap: None,
            esim: Some(EsimSettings {
                client: smdp.clone(),
                requester_id: "test".into(),
                smdp_address: Fqdn::new("SMDP.EXAMPLE").expect("fqdn"),
                expiry: Some(EXPIRY),
                concurrency: 2,
            }),
            identity: None,
            porting: None,
        },
        Clock::new(),
        metrics2.clone(),
    );
    assert_eq!(engine2.resume_all().await.expect("resume"), 1);
    wait_order(
        &store,
        &id,
        "retried after the restart",
        Duration::from_secs(1),
        |_| cancels() >= before + 2,
    )
    .await;
    assert!(
        store
            .get_order("t", &id)
            .await
            .expect("get")
            .expect("order")
            .needs_attention
    );

    // The SM-DP+ recovers: cancelled, then the HLR, then everything back in stock.
    *smdp.cancel_fault.lock().expect("lock") = None;
    let o = wait_order(&store, &id, "failed", Duration::from_secs(1), |o| {
        o.status == OrderStatus::Failed && metrics2.attention.settled_count(stall) == 1
    })
    .await;
    assert!(!o.needs_attention && o.attention.is_empty());
    let e = o.esim.as_ref().expect("esim");
    assert_eq!(e.left_at_smdp, None);
    assert!(matches!(e.cancel, Some(gateway::order::Step::Done { .. })));
    assert_eq!(hlr.calls.count("deprovision"), 1);
    assert_eq!(sim_state(&store, &o.iccid).await, SimState::Available);
}

#[tokio::test(start_paused = true)]
async fn a_release_no_answer_proves_is_flagged_and_undone_never_active() {
    let hlr = Arc::new(ScriptedHlr::default());
    let smdp = Arc::new(ScriptedSmdp::default());
    // The first ConfirmOrder's answer is lost; its repeat is refused 8.2.1/3.5, as is
    // ReleaseProfile; DownloadOrder again says 8.2.1/3.3: neither released nor available.
    smdp.confirm.lock().expect("lock").extend([
        Err(Es2CallError::Ambiguous(AmbiguousCause::HttpStatus(500))),
        Err(smdp_refusal("8.2.1", "3.5")),
    ]);
    script(&smdp.release, [Err(smdp_refusal("8.2.1", "3.5"))]);
    script(&smdp.download, [Ok(()), Err(smdp_refusal("8.2.1", "3.3"))]);
    let Setup {
        store, id, metrics, ..
    } = setup_with(hlr.clone(), Some(smdp.clone())).await;
    let o = wait_order(&store, &id, "failed", Duration::from_secs(1), |o| {
        o.status == OrderStatus::Failed
    })
    .await;
    assert_eq!(
        smdp.calls.names(),
        [
            "download", "confirm", "confirm", "release", "download", "cancel"
        ]
    );
    assert_eq!(
        o.error.as_ref().map(|e| e.code.as_str()),
        Some("esim_release_unverified")
    );
    assert!(o.needs_attention);
    assert_eq!(o.attention, [AttentionReason::EsimReleaseUnverified]);
    // Never active, never an activation code; the profile is cancelled as Unavailable
    // and leaves stock; the subscriber is removed.
    assert_eq!(
        metrics
            .orders_active
            .load(std::sync::atomic::Ordering::Relaxed),
        0
    );
    let e = o.esim.as_ref().expect("esim");
    assert_eq!(e.activation_code, None);
    assert_eq!(
        *smdp.cancel_status.lock().expect("lock"),
        [FinalProfileStatus::Unavailable]
    );
    assert_eq!(hlr.calls.count("deprovision"), 1);
    let state = sim_state(&store, &o.iccid).await;
    assert!(matches!(state, SimState::Retired { .. }), "{state:?}");
    let events = store.events(0, 10_000).await.expect("events");
    assert!(
        !events
            .iter()
            .any(|e| matches!(e.kind, gateway::store::EventKind::OrderActive)),
        "the order was active at some point"
    );
}
