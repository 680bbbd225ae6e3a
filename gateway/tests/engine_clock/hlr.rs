//! HLR steps: backoff, retry budget, restart, Login faults, a clean-up that cannot finish.

use crate::rig::*;
use adapters::hlr::{FaultClass, HlrError};
use gateway::clock::Clock;
use gateway::engine::Engine;
use gateway::metrics::Metrics;
use gateway::order::{AttentionReason, OrderStatus, Step};
use gateway::store::{EventKind, Store};
use std::sync::Arc;
use std::time::Duration;

#[tokio::test(start_paused = true)]
async fn retryable_faults_back_off_exponentially_then_succeed() {
    let hlr = Arc::new(ScriptedHlr::default());
    hlr.provision.lock().expect("lock").extend([
        Err(fault(FaultClass::Timeout)),
        Err(fault(FaultClass::Transient)),
        Err(fault(FaultClass::Connection)),
    ]);
    let Setup { store, id, .. } = setup(hlr.clone()).await;
    wait_status(&store, &id, OrderStatus::Active).await;
    let calls = hlr.calls.all();
    assert_eq!(calls.len(), 4, "three failures then success");
    // Backoff before attempt n+1 is at least base*2^(n-1)/10 (full jitter with a 10% floor).
    // Only the lower bound is observable here: the paused clock also auto-advances while the
    // writer thread fsyncs. The upper bound is a unit test of `RetryPolicy::delay_ms`.
    for (n, pair) in calls.windows(2).enumerate() {
        let gap = pair[1].1 - pair[0].1;
        let floor = Duration::from_millis(POLICY.base_ms << n) / 10;
        assert!(gap >= floor, "gap {n}: {gap:?} < {floor:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn exhausted_retries_fail_the_order_and_compensate_until_it_succeeds() {
    let hlr = Arc::new(ScriptedHlr::default());
    hlr.provision
        .lock()
        .expect("lock")
        .extend((0..4).map(|_| Err(fault(FaultClass::Timeout))));
    hlr.deprovision.lock().expect("lock").extend([
        Err(fault(FaultClass::Connection)),
        Err(fault(FaultClass::External)),
    ]);
    let Setup { store, id, .. } = setup(hlr.clone()).await;
    wait_status(&store, &id, OrderStatus::Failed).await;
    let order = store
        .get_order("t", &id)
        .await
        .expect("get")
        .expect("order");
    assert_eq!(
        order.error.as_ref().map(|e| e.code.as_str()),
        Some("hlr_unavailable")
    );
    assert_eq!(
        hlr.calls.names(),
        ["provision"; 4]
            .into_iter()
            .chain(["deprovision"; 3])
            .collect::<Vec<_>>()
    );
    assert_eq!(stock(&store).await, (1, 0, 5));
}

#[tokio::test(start_paused = true)]
async fn restart_resumes_a_waiting_order_at_its_recorded_deadline() {
    let hlr = Arc::new(ScriptedHlr::default());
    script(&hlr.provision, [Err(fault(FaultClass::Transient))]);
    let Setup {
        store,
        keys,
        engine,
        id,
        ..
    } = setup(hlr.clone()).await;
    // Stop the engine ("crash") while the first attempt is answering: its answer is still
    // recorded, and no retry starts. (Polling the store for the retry instead races the
    // writer thread: the paused clock can reach the deadline while a commit is in flight.)
    hlr.provision_called.notified().await;
    engine.shutdown(Duration::from_secs(1)).await;
    // The grace period is virtual time and can lapse while a commit runs on the writer
    // thread; the order's task still records the answer, then stops before any retry.
    for _ in 0..10_000 {
        if engine.running() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    assert_eq!(engine.running(), 0, "the order's task did not stop");
    let waiting = store
        .get_order("t", &id)
        .await
        .expect("get")
        .expect("order");
    let gateway::order::Step::RetryWait { retry_at_ms, .. } = waiting.hlr else {
        panic!("not waiting: {waiting:?}")
    };
    assert_eq!(waiting.status, OrderStatus::HlrProvisioning);
    assert_eq!(store.inflight_orders().await.expect("inflight").len(), 1);

    // A new engine over the same store resumes it, not before its recorded deadline.
    let clock = Clock::new();
    let settings = plain_settings();
    let engine2 = Engine::new(
        store.clone(),
        hlr.clone(),
        keys,
        settings,
        clock,
        Arc::new(Metrics::default()),
    );
    assert_eq!(engine2.resume_all().await.expect("resume"), 1);
    wait_status(&store, &id, OrderStatus::Active).await;
    let calls = hlr.calls.all();
    assert_eq!(calls.len(), 2);
    assert!(
        clock.now_ms() >= retry_at_ms,
        "the retry waited for its recorded deadline"
    );
    assert!(store.inflight_orders().await.expect("inflight").is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_login_fault_is_retried_within_the_budget_then_fails_as_hlr_unavailable() {
    let hlr = Arc::new(ScriptedHlr::default());
    // The host's session service glitches on every Login of the budget.
    hlr.provision.lock().expect("lock").extend((0..4).map(|_| {
        Err(HlrError::new(
            FaultClass::Authentication,
            "CAI3G Login",
            "Invalid sessionId.",
        )
        .with_code("1010"))
    }));
    let Setup { store, id, .. } = setup(hlr.clone()).await;
    wait_status(&store, &id, OrderStatus::Failed).await;
    let order = store
        .get_order("t", &id)
        .await
        .expect("get")
        .expect("order");
    let error = order.error.expect("error");
    assert_eq!(error.code, "hlr_unavailable", "{}", error.detail);
    assert!(!error.detail.contains("HLR profile"), "{}", error.detail);
    assert_eq!(hlr.calls.count("provision"), 4, "retried up to the budget");
}

#[tokio::test(start_paused = true)]
async fn a_login_glitch_that_clears_lets_the_order_through() {
    let hlr = Arc::new(ScriptedHlr::default());
    hlr.provision
        .lock()
        .expect("lock")
        .push_back(Err(HlrError::new(
            FaultClass::Authentication,
            "CAI3G Login",
            "Login failed.",
        )));
    let Setup { store, id, .. } = setup(hlr.clone()).await;
    wait_status(&store, &id, OrderStatus::Active).await;
    assert_eq!(hlr.calls.all().len(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_clean_up_that_cannot_finish_is_flagged_keeps_retrying_and_resumes_when_the_fault_clears()
{
    let logs = Logs::default();
    let _guard = logs.capture();
    let hlr = Arc::new(ScriptedHlr::default());
    script(&hlr.provision, [Err(fault(FaultClass::External))]);
    *hlr.deprovision_fault.lock().expect("lock") = Some(HlrError::new(
        FaultClass::External,
        "GsmHlr Delete",
        "permanent",
    ));
    let Setup {
        store, id, metrics, ..
    } = setup(hlr.clone()).await;
    let stall = AttentionReason::HlrCleanupStalled;
    // The flag is durable first, then logged and counted.
    let stalled = wait_order(&store, &id, "flagged", Duration::from_secs(1), |o| {
        o.needs_attention && metrics.attention.raised_count(stall) == 1
    })
    .await;
    // After the budget: flagged with its reason, still compensating, SIM still held.
    assert_eq!(stalled.status, OrderStatus::Compensating);
    assert_eq!(stalled.attention, [AttentionReason::HlrCleanupStalled]);
    // Raised by the answer to attempt `max_attempts` (the machine's unit test pins the
    // exact attempt; here the next retry may already have run while this task polled).
    let answered = match stalled.undo {
        Some(gateway::order::Step::RetryWait { attempt, .. }) => attempt,
        Some(gateway::order::Step::Sent { attempt }) => attempt - 1,
        other => panic!("not retrying: {other:?}"),
    };
    assert!(
        answered >= POLICY.max_attempts,
        "flagged after attempt {answered}"
    );
    assert!(hlr.calls.count("deprovision") >= POLICY.max_attempts as usize);
    assert!(metrics.render().contains(
        "simgw_order_attention_total{reason=\"hlr_cleanup_stalled\",event=\"raised\"} 1\n"
    ));
    let counts = store.inventory_counts("t").await.expect("counts");
    assert_eq!((counts.sims_reserved, counts.sims_available), (1, 0));
    let warn = logs.at("WARN").join("\n");
    assert!(
        warn.contains("reason=hlr_cleanup_stalled code=hlr_rejected"),
        "{warn}"
    );

    // It keeps retrying with the growing backoff, without raising the flag again: the gap
    // after deprovision attempt n is at least that attempt's floor (a tenth of its ceiling).
    let before = hlr.calls.count("deprovision");
    wait_order(
        &store,
        &id,
        "three more attempts",
        Duration::from_secs(1),
        |_| hlr.calls.count("deprovision") >= before + 3,
    )
    .await;
    let undo: Vec<_> = hlr
        .calls
        .all()
        .into_iter()
        .filter(|c| c.0 == "deprovision")
        .map(|c| c.1)
        .collect();
    for (i, pair) in undo.windows(2).enumerate().skip(before - 1) {
        let attempt = i as u32 + 1;
        let floor = Duration::from_millis(POLICY.delay_ms(attempt, 0));
        let gap = pair[1] - pair[0];
        assert!(gap >= floor, "after attempt {attempt}: {gap:?} < {floor:?}");
    }
    assert_eq!(metrics.attention.raised_count(stall), 1);
    assert_eq!(
        store
            .get_order("t", &id)
            .await
            .expect("get")
            .map(|o| o.status),
        Some(OrderStatus::Compensating)
    );

    // The fault clears: the order finishes by itself, the flag is withdrawn, and the SIM
    // and number go back to stock.
    *hlr.deprovision_fault.lock().expect("lock") = None;
    let o = wait_order(&store, &id, "failed", Duration::from_secs(1), |o| {
        o.status == OrderStatus::Failed && metrics.attention.settled_count(stall) == 1
    })
    .await;
    assert!(!o.needs_attention, "{:?}", o.attention);
    assert!(o.attention.is_empty());
    assert_eq!(
        o.error.as_ref().map(|e| e.code.as_str()),
        Some("hlr_rejected")
    );
    assert_eq!(stock(&store).await, (1, 0, 5));
    // Every failure is at WARN with its code.
    assert!(
        warn.contains("order failed") && warn.contains("code=hlr_rejected"),
        "{warn}"
    );
}

/// The event kinds of order `id`, in log order.
async fn order_events(store: &dyn Store, id: &str) -> Vec<EventKind> {
    let events = store.events(0, 1_000).await.expect("events");
    events
        .into_iter()
        .filter(|e| e.order_id.as_deref() == Some(id))
        .map(|e| e.kind)
        .collect()
}

#[tokio::test(start_paused = true)]
async fn a_physical_activation_is_two_commits_its_provisioning_sent_in_the_create() {
    let hlr = Arc::new(ScriptedHlr::default());
    let (setup, created) = setup_unsubmitted(hlr.clone()).await;
    // The create commit already records the provisioning as sent.
    assert_eq!(created.hlr, Step::Sent { attempt: 1 });
    assert_eq!(created.status, OrderStatus::HlrProvisioning);
    setup.engine.submit_created(created);
    wait_status(&setup.store, &setup.id, OrderStatus::Active).await;
    assert_eq!(hlr.calls.names(), ["provision"]);
    // Two commits: the create (with the call's record), then the answer with `active`.
    assert_eq!(
        order_events(setup.store.as_ref(), &setup.id).await,
        [EventKind::OrderCreated, EventKind::OrderActive]
    );
}

#[tokio::test(start_paused = true)]
async fn a_call_sent_ahead_but_never_made_is_made_again_as_a_new_attempt() {
    let hlr = Arc::new(ScriptedHlr::default());
    // The process died right after the create commit: the call is recorded, not made.
    let (setup, _) = setup_unsubmitted(hlr.clone()).await;
    assert!(hlr.calls.names().is_empty());
    assert_eq!(setup.engine.resume_all().await.expect("resume"), 1);
    wait_status(&setup.store, &setup.id, OrderStatus::Active).await;
    assert_eq!(hlr.calls.names(), ["provision"]);
    assert_eq!(
        order_events(setup.store.as_ref(), &setup.id).await,
        [
            EventKind::OrderCreated,
            EventKind::StepSent {
                step: "hlr_provision".into(),
                attempt: 2
            },
            EventKind::OrderActive
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn a_retryable_answer_and_the_retry_are_each_one_commit() {
    let hlr = Arc::new(ScriptedHlr::default());
    script(&hlr.provision, [Err(fault(FaultClass::Transient))]);
    let Setup { store, id, .. } = setup(hlr.clone()).await;
    wait_status(&store, &id, OrderStatus::Active).await;
    assert_eq!(hlr.calls.names(), ["provision", "provision"]);
    // The retry waits out its backoff, so its record is a commit of its own.
    let kinds = order_events(store.as_ref(), &id).await;
    assert_eq!(kinds.len(), 4, "{kinds:?}");
    assert!(matches!(kinds[2], EventKind::StepSent { attempt: 2, .. }));
}
