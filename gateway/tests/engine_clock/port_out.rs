//! A port-out request's answer deadline under the paused clock (issue 12): the real
//! engine and store, a scripted porting hub that does not take our answer. The answer is
//! retried until the deadline (past the retry budget), never after it; at the deadline
//! it is replaced by a `timeout` rejection of its own, which the hub takes, and the order
//! ends refused with the line untouched.

use crate::rig::{ScriptedHlr, Setup, setup_porting, wait_status};
use adapters::hlr::BoxFuture;
use adapters::porting::{
    Acknowledge, AnswerPortOut, CancelPort, PortOutDecision, PortingError, PortingHub, Receipt,
    ReschedulePort, ReturnNumber, SubmitPortIn, Unavailable,
};
use gateway::clock::Clock;
use gateway::compliance::Market;
use gateway::engine::PortingSettings;
use gateway::order::{Actor, OrderKind, OrderStatus, PortIn, PortOut, Step};
use gateway::store::{LifecycleOutcome, NewLifecycle, Store, SubscriptionState};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A hub that answers port-out answers from a rule and records each with its time.
#[derive(Default)]
struct ScriptedHub {
    /// Answers whose request id ends `-answer` fail (the hub is away for them).
    refuse_first_answer: Mutex<bool>,
    answers: Mutex<Vec<(String, String, tokio::time::Instant)>>,
}

fn away() -> PortingError {
    PortingError::Unavailable(Unavailable::Status {
        status: 503,
        retry_after: None,
    })
}

fn receipt(request_id: &adapters::porting::Ref, port_ref: &adapters::porting::Ref) -> Receipt {
    Receipt {
        request_id: request_id.clone(),
        port_ref: port_ref.clone(),
    }
}

impl PortingHub for ScriptedHub {
    fn submit_port_in<'a>(
        &'a self,
        _: &'a SubmitPortIn,
    ) -> BoxFuture<'a, Result<Receipt, PortingError>> {
        Box::pin(async { Err(away()) })
    }
    fn cancel<'a>(&'a self, r: &'a CancelPort) -> BoxFuture<'a, Result<Receipt, PortingError>> {
        Box::pin(async move { Ok(receipt(&r.request_id, &r.port_ref)) })
    }
    fn reschedule<'a>(
        &'a self,
        r: &'a ReschedulePort,
    ) -> BoxFuture<'a, Result<Receipt, PortingError>> {
        Box::pin(async move { Ok(receipt(&r.request_id, &r.port_ref)) })
    }
    fn answer_port_out<'a>(
        &'a self,
        r: &'a AnswerPortOut,
    ) -> BoxFuture<'a, Result<Receipt, PortingError>> {
        let decision = match &r.decision {
            PortOutDecision::Accept => "accept".to_owned(),
            PortOutDecision::Reject(reason) => reason.as_str().to_owned(),
        };
        let id = r.request_id.as_str().to_owned();
        let now = tokio::time::Instant::now();
        self.answers
            .lock()
            .expect("lock")
            .push((id.clone(), decision, now));
        let away_for_it =
            *self.refuse_first_answer.lock().expect("lock") && id.ends_with("-answer");
        Box::pin(async move {
            if away_for_it {
                Err(away())
            } else {
                Ok(receipt(&r.request_id, &r.port_ref))
            }
        })
    }
    fn acknowledge<'a>(
        &'a self,
        r: &'a Acknowledge,
    ) -> BoxFuture<'a, Result<Receipt, PortingError>> {
        Box::pin(async move { Ok(receipt(&r.request_id, &r.port_ref)) })
    }
    fn return_number<'a>(
        &'a self,
        r: &'a ReturnNumber,
    ) -> BoxFuture<'a, Result<Receipt, PortingError>> {
        Box::pin(async move { Ok(receipt(&r.request_id, &r.port_ref)) })
    }
}

/// The deadline the request gives us to answer.
const RESPOND_WITHIN: Duration = Duration::from_secs(2 * 3_600);

#[tokio::test(start_paused = true)]
async fn an_answer_the_hub_never_takes_becomes_a_timeout_rejection_at_the_deadline() {
    let hub = Arc::new(ScriptedHub::default());
    *hub.refuse_first_answer.lock().expect("lock") = true;
    let porting = PortingSettings {
        hub: hub.clone(),
        recipient: "SIMGW".into(),
        permits: Arc::new(tokio::sync::Semaphore::new(4)),
    };
    let Setup {
        store,
        keys,
        engine,
        id,
        ..
    } = setup_porting(Arc::new(ScriptedHlr::default()), None, None, Some(porting)).await;
    wait_status(&store, &id, OrderStatus::Active).await;
    let line = store.get_order("t", &id).await.expect("get").expect("line");
    // The port-out order as the intake creates it: we accept, the answer is due in 2 h.
    let now = Clock::new().now_ms();
    let started = tokio::time::Instant::now();
    let respond_by = now + RESPOND_WITHIN.as_millis() as u64;
    let mut port = PortIn::new(
        Market::Uk,
        line.msisdn.clone(),
        "OTHER".into(),
        keys.seal("port/po_1", b"{}").expect("seal"),
        None,
        Some(respond_by + 24 * 3_600_000),
    );
    port.port_ref = Some("HUB-UK-7".into());
    port.out = Some(PortOut {
        received_at_ms: now,
        respond_by_ms: respond_by,
        reject: None,
        answer: Step::Pending,
        timed_out: false,
    });
    let created = store
        .create_lifecycle(NewLifecycle {
            tenant: "t".into(),
            msisdn: line.msisdn.clone(),
            kind: OrderKind::PortOut,
            idempotency_key: "port-out/HUB-UK-7".into(),
            body_hash: "h".into(),
            order_id: "ord_po".into(),
            actor: Actor {
                key_prefix: "hub".into(),
                role: "porting_hub".into(),
            },
            reason: None,
            sim: None,
            number: None,
            port: Some(port),
            channel: None,
            now_ms: now,
            random: 0,
            idempotency_cutoff_ms: 0,
            plan: gateway::engine::machine::plan,
            send_ahead: None,
            verification: false,
        })
        .await
        .expect("create");
    let LifecycleOutcome::Created(order) = created else {
        panic!("not created: {created:?}")
    };
    engine.submit(order);
    // Far past the deadline in virtual time: the order has ended.
    let done = crate::rig::wait_order(&store, "ord_po", "the end", Duration::from_secs(60), |o| {
        o.status.is_terminal()
    })
    .await;
    let answers = hub.answers.lock().expect("lock").clone();
    let (before, after): (Vec<_>, Vec<_>) =
        answers.iter().partition(|(id, _, _)| id == "ord_po-answer");
    // Our acceptance was retried, well past the retry budget, and only before the
    // deadline.
    assert!(before.len() > 4, "{answers:?}");
    assert!(
        before
            .iter()
            .all(|(_, d, at)| d == "accept" && at.duration_since(started) < RESPOND_WITHIN)
    );
    // At the deadline, exactly one rejection `timeout` of its own, which the hub took.
    assert_eq!(after.len(), 1, "{answers:?}");
    let (rid, decision, at) = after[0];
    assert_eq!(
        (rid.as_str(), decision.as_str()),
        ("ord_po-answer-timeout", "timeout")
    );
    // At the deadline, not before (virtual time; the engine's clock counts whole ms).
    let sent = at.duration_since(started);
    assert!(
        sent >= RESPOND_WITHIN - Duration::from_millis(1)
            && sent < RESPOND_WITHIN + Duration::from_secs(1),
        "{sent:?}"
    );
    assert_eq!(done.status, OrderStatus::Failed);
    assert_eq!(
        done.error.as_ref().map(|e| e.code.as_str()),
        Some("port_out_refused"),
        "{done:?}"
    );
    // The line was never touched.
    let sub = store
        .subscription("t", line.msisdn.as_str())
        .await
        .expect("sub")
        .expect("line");
    assert_eq!(sub.state, SubscriptionState::Active);
    assert_eq!(sub.inflight, None);
    engine.shutdown(Duration::from_secs(1)).await;
}
