//! A UK port-in under the paused clock (issue 12): the real engine and store, a scripted
//! porting hub, hub messages recorded as the receiver records them. Each call is sent
//! ahead in the write before it (`engine/machine/ahead.rs`): the port-in is 13 store
//! operations; a hub message queued while a sent-ahead call is outstanding is applied
//! after it, with its outcome; and a call sent ahead but cut short by a crash is made
//! again, by a fresh engine, as a new attempt.

use crate::rig::{ScriptedHlr, Setup, plain_settings, setup_port_in, wait_order};
use adapters::hlr::{BoxFuture, FaultClass, HlrError};
use adapters::porting::{
    Acknowledge, AnswerPortOut, CancelPort, HubEvent, HubMessage, PortingError, PortingHub,
    Receipt, Ref, RejectReason, ReschedulePort, ReturnNumber, SubmitPortIn, UtcTime,
    encode_callback,
};
use gateway::clock::Clock;
use gateway::compliance::Market;
use gateway::crypto::Keyring;
use gateway::engine::{Engine, EngineSettings, ItemInput, PortingSettings, SealedCredential};
use gateway::order::{Order, OrderStatus, PortIn, PortState, Step, port_credential_context};
use gateway::store::{
    EventKind, PortInboxItem, PortItemBody, PortReceived, PortingStore, Store, hub_item_key,
    hub_message_context,
};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const PORTED: &str = "447911000001";
const HOUR: u64 = 3_600_000;

/// A hub that takes every request, recording each as (operation, request id). While
/// `hold` is set, a submission waits for `release` (signalling `submitted` first).
#[derive(Default)]
struct ScriptedHub {
    calls: Mutex<Vec<(&'static str, String)>>,
    hold: Mutex<bool>,
    submitted: tokio::sync::Notify,
    release: tokio::sync::Notify,
}

impl ScriptedHub {
    fn calls(&self) -> Vec<(&'static str, String)> {
        self.calls.lock().expect("lock").clone()
    }

    fn names(&self) -> Vec<&'static str> {
        self.calls().into_iter().map(|c| c.0).collect()
    }

    fn took(&self, op: &'static str, request_id: &Ref, port_ref: &str) -> Receipt {
        self.calls
            .lock()
            .expect("lock")
            .push((op, request_id.as_str().to_owned()));
        Receipt {
            request_id: request_id.clone(),
            port_ref: Ref::parse(port_ref, "port_ref").expect("ref"),
        }
    }

    /// [`ScriptedHub::took`], answered at once.
    fn answered(&self, op: &'static str, request_id: &Ref, port_ref: &str) -> Answer<'static> {
        let receipt = self.took(op, request_id, port_ref);
        Box::pin(std::future::ready(Ok(receipt)))
    }
}

type Answer<'a> = BoxFuture<'a, Result<Receipt, PortingError>>;

impl PortingHub for ScriptedHub {
    fn submit_port_in<'a>(&'a self, r: &'a SubmitPortIn) -> Answer<'a> {
        let receipt = self.took("submit", &r.request_id, "P-1");
        let hold = *self.hold.lock().expect("lock");
        Box::pin(async move {
            if hold {
                let released = self.release.notified();
                self.submitted.notify_one();
                released.await;
            }
            Ok(receipt)
        })
    }
    fn cancel<'a>(&'a self, r: &'a CancelPort) -> Answer<'a> {
        self.answered("cancel", &r.request_id, r.port_ref.as_str())
    }
    fn reschedule<'a>(&'a self, r: &'a ReschedulePort) -> Answer<'a> {
        self.answered("reschedule", &r.request_id, r.port_ref.as_str())
    }
    fn answer_port_out<'a>(&'a self, r: &'a AnswerPortOut) -> Answer<'a> {
        self.answered("answer", &r.request_id, r.port_ref.as_str())
    }
    fn acknowledge<'a>(&'a self, r: &'a Acknowledge) -> Answer<'a> {
        self.answered("acknowledge", &r.request_id, r.port_ref.as_str())
    }
    fn return_number<'a>(&'a self, r: &'a ReturnNumber) -> Answer<'a> {
        self.answered("return_number", &r.request_id, r.port_ref.as_str())
    }
}

fn porting(hub: &Arc<ScriptedHub>) -> PortingSettings {
    PortingSettings {
        hub: hub.clone(),
        recipient: "SIMGW".into(),
        permits: Arc::new(tokio::sync::Semaphore::new(4)),
    }
}

/// A UK port of `PORTED` from EE, its PAC sealed to the rig's order.
fn uk_port(keys: &Keyring) -> PortIn {
    let plain = SealedCredential {
        code: Some("ABC123456".into()),
        account_number: None,
        pin: None,
    };
    let bytes = serde_json::to_vec(&plain).expect("json");
    let credential = keys
        .seal(&port_credential_context("act_test"), &bytes)
        .expect("seal");
    PortIn::new(
        Market::Uk,
        PORTED.parse().expect("msisdn"),
        "EE".into(),
        credential,
        None,
        None,
    )
}

/// Hub message `seq` of our port `P-1`.
fn message(seq: u64, event: HubEvent) -> HubMessage {
    let now = Clock::new().now_ms();
    HubMessage {
        message_id: Ref::parse(&format!("m-{seq}"), "message_id").expect("ref"),
        port_ref: Ref::parse("P-1", "port_ref").expect("ref"),
        sequence: seq,
        at: UtcTime::from_unix_ms(now).expect("time"),
        actor: adapters::porting::Actor::Hub,
        reference: Some(Ref::parse("act_test", "reference").expect("ref")),
        due_at: UtcTime::from_unix_ms(now + 30 * HOUR),
        lock_at: UtcTime::from_unix_ms(now + 20 * HOUR),
        range_holder: None,
        event,
    }
}

/// Records `m` as the receiver does (`api/hub_messages.rs`): sealed in the inbox, applied
/// in that commit to a parked order, which goes to the engine if it is back in flight.
async fn deliver(s: &Setup, m: HubMessage) -> PortReceived {
    let key = hub_item_key(m.message_id.as_str());
    let raw = s
        .keys
        .seal(&hub_message_context(&key), &encode_callback(&m))
        .expect("seal");
    let item = PortInboxItem {
        key,
        order_id: Some(s.id.clone()),
        tenant: None,
        received_at_ms: Clock::new().now_ms(),
        body: PortItemBody::Hub { raw },
        applied: false,
    };
    let arrival = ItemInput::Hub(Box::new(m)).on_arrival();
    let r = s
        .store
        .receive_port_item(item, arrival)
        .await
        .expect("receive");
    match &r {
        PortReceived::Queued { woken: Some(o) } => s.engine.submit_woken(o.as_ref().clone()),
        PortReceived::Ended(ended) => s.engine.ended_on_arrival(ended),
        _ => {}
    }
    r
}

async fn parked(s: &Setup, what: &str) -> Order {
    wait_order(&s.store, &s.id, what, Duration::from_millis(5), |o| {
        o.port_parked().is_some()
    })
    .await
}

/// The rig's order as the store holds it.
async fn stored(s: &Setup) -> Order {
    s.store
        .get_order("t", &s.id)
        .await
        .expect("get")
        .expect("order")
}

fn ops(s: &Setup) -> u64 {
    s.metrics.store_ops.load(Relaxed)
}

#[tokio::test(start_paused = true)]
async fn a_uk_port_in_is_eight_store_operations_each_call_sent_ahead() {
    let hlr = Arc::new(ScriptedHlr::default());
    let hub = Arc::new(ScriptedHub::default());
    let (s, created) = setup_port_in(hlr.clone(), porting(&hub), uk_port).await;
    // The create commit records the line on the temporary number as sent, and the
    // submission with it.
    assert_eq!(created.hlr, Step::Sent { attempt: 1 });
    assert_eq!(
        created.port.as_ref().map(|p| p.submit.clone()),
        Some(Step::Sent { attempt: 1 })
    );
    let start = ops(&s);
    s.engine.submit_created(created);
    let o = parked(&s, "parked after the submission").await;
    assert_eq!(o.port.as_ref().map(|p| p.state), Some(PortState::Submitted));
    // The line's answer and the submission's, made straight after it, in one commit
    // (which parks the port).
    assert_eq!(ops(&s) - start, 1);
    for (seq, e) in [
        (1, HubEvent::Accepted),
        (2, HubEvent::Scheduled),
        (3, HubEvent::Locked),
    ] {
        let r = deliver(&s, message(seq, e)).await;
        assert!(matches!(r, PortReceived::Settled { .. }), "{r:?}");
    }
    // The cutover wakes the order with its number change sent in the same commit.
    let r = deliver(&s, message(4, HubEvent::Cutover)).await;
    let PortReceived::Queued { woken: Some(o) } = &r else {
        panic!("not woken: {r:?}")
    };
    assert_eq!(
        o.port.as_ref().and_then(|p| p.activate.clone()),
        Some(Step::Sent { attempt: 1 })
    );
    // The acknowledgement with it: made straight after the number change's answer.
    assert_eq!(
        o.port.as_ref().and_then(|p| p.ack.clone()),
        Some(Step::Sent { attempt: 1 })
    );
    let after_cutover = ops(&s);
    parked(&s, "parked after the acknowledgement").await;
    // Both answers in one commit, which parks the port.
    assert_eq!(ops(&s) - after_cutover, 1);
    // The completion ends the parked port in the commit that records it: no task.
    let active = s.metrics.orders_active.load(Relaxed);
    let r = deliver(&s, message(5, HubEvent::Completed)).await;
    let PortReceived::Ended(ended) = &r else {
        panic!("not ended on arrival: {r:?}")
    };
    assert_eq!(ended.order.status, OrderStatus::Active);
    assert_eq!(
        s.metrics.orders_active.load(Relaxed),
        active + 1,
        "reported"
    );
    let o = stored(&s).await;
    assert_eq!(o.status, OrderStatus::Active);
    assert_eq!(o.msisdn.as_str(), PORTED);
    assert_eq!(hlr.calls.names(), ["provision", "change_msisdn"]);
    assert_eq!(hub.names(), ["submit", "acknowledge"]);
    // 8 with the create: 9 when the submission's answer had a commit of its own, 10
    // when the acknowledgement's had too, 11 when the completion woke the order for one
    // too, 13 when a park after an answer was one too, 17 when every call had one.
    assert_eq!(ops(&s) - start + 1, 8);
    s.engine.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test(start_paused = true)]
async fn a_line_the_hlr_refuses_ends_the_port_before_the_hub_hears_of_it() {
    let hlr = Arc::new(ScriptedHlr::default());
    let refused = HlrError::new(FaultClass::Conflict, "create", "IMSI in use");
    hlr.provision.lock().expect("lock").push_back(Err(refused));
    let hub = Arc::new(ScriptedHub::default());
    let (s, created) = setup_port_in(hlr.clone(), porting(&hub), uk_port).await;
    assert_eq!(
        created.port.as_ref().map(|p| p.submit.clone()),
        Some(Step::Sent { attempt: 1 })
    );
    s.engine.submit_created(created);
    let o = wait_order(&s.store, &s.id, "the end", Duration::from_millis(5), |o| {
        o.status.is_terminal()
    })
    .await;
    // The driver made the line's call as the create recorded it, so it knows the
    // submission recorded with it was not made: taken back, never sent, nothing to
    // cancel at the hub.
    assert_eq!(o.status, OrderStatus::Failed, "{o:?}");
    assert_eq!(
        o.error.as_ref().map(|e| e.code.as_str()),
        Some("hlr_rejected")
    );
    assert_eq!(
        o.port.as_ref().map(|p| p.submit.clone()),
        Some(Step::Pending)
    );
    assert_eq!(hlr.calls.names(), ["provision", "deprovision"]);
    assert!(hub.names().is_empty(), "{:?}", hub.names());
    s.engine.shutdown(Duration::from_secs(1)).await;
}

/// A UK port-in created (not yet driven) over a scripted HLR and a hub that holds its
/// submission's answer until released.
async fn held_submission() -> (Arc<ScriptedHlr>, Arc<ScriptedHub>, Setup, Order) {
    let hlr = Arc::new(ScriptedHlr::default());
    let hub = Arc::new(ScriptedHub::default());
    *hub.hold.lock().expect("lock") = true;
    let (s, created) = setup_port_in(hlr.clone(), porting(&hub), uk_port).await;
    (hlr, hub, s, created)
}

#[tokio::test(start_paused = true)]
async fn a_rejection_queued_while_a_sent_ahead_submission_is_out_ends_the_port() {
    let (hlr, hub, s, created) = held_submission().await;
    let start = ops(&s);
    let submitted = hub.submitted.notified();
    s.engine.submit_created(created);
    submitted.await;
    // The submission is out, recorded with the line by the create: no write since.
    assert_eq!(ops(&s) - start, 0);
    let o = stored(&s).await;
    assert_eq!(
        o.port.as_ref().map(|p| p.submit.clone()),
        Some(Step::Sent { attempt: 1 })
    );
    // The hub rejects the port before its receipt is recorded: the order is in flight,
    // so the message waits in the inbox.
    let reject = HubEvent::Rejected {
        reason: RejectReason::parse("contract_lock", "reason").expect("reason"),
    };
    let r = deliver(&s, message(1, reject)).await;
    assert_eq!(r, PortReceived::Queued { woken: None });
    hub.release.notify_one();
    let o = wait_order(&s.store, &s.id, "the end", Duration::from_millis(5), |o| {
        o.status.is_terminal()
    })
    .await;
    // Applied after the call: the port ended rejected, the temporary line was removed
    // and everything went back; the hub was asked nothing more.
    assert_eq!(o.status, OrderStatus::Failed, "{o:?}");
    assert_eq!(o.port.as_ref().map(|p| p.state), Some(PortState::Rejected));
    assert_eq!(
        o.error.as_ref().map(|e| e.code.as_str()),
        Some("contract_lock"),
        "{o:?}"
    );
    assert_eq!(hlr.calls.names(), ["provision", "deprovision"]);
    assert_eq!(hub.names(), ["submit"]);
    assert_eq!(crate::rig::stock(&s.store).await, (1, 0, 5));
    // The message recorded, the line's and the submission's answers with the message
    // applied and the port's release (the line's removal sent ahead) in one commit, the
    // removal's answer.
    assert_eq!(ops(&s) - start, 3);
    s.engine.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test(start_paused = true)]
async fn messages_queued_while_in_flight_are_applied_and_parked_in_one_commit() {
    let (_hlr, hub, s, created) = held_submission().await;
    let start = ops(&s);
    let submitted = hub.submitted.notified();
    s.engine.submit_created(created);
    submitted.await;
    // Both arrive while the submission is out: each waits in the inbox.
    for (seq, e) in [(1, HubEvent::Accepted), (2, HubEvent::Scheduled)] {
        let r = deliver(&s, message(seq, e)).await;
        assert_eq!(r, PortReceived::Queued { woken: None });
    }
    hub.release.notify_one();
    let o = parked(&s, "parked once scheduled").await;
    assert_eq!(o.port.as_ref().map(|p| p.state), Some(PortState::Scheduled));
    assert!(
        s.store
            .pending_port_items(&s.id)
            .await
            .expect("pending")
            .is_empty()
    );
    // Two messages recorded, and the line's and the submission's answers applying both
    // messages and parking in one commit (five more when each answer, each message and
    // the park had one each).
    assert_eq!(ops(&s) - start, 3);
    let writes: Vec<String> = s
        .store
        .events(0, 1_000)
        .await
        .expect("events")
        .into_iter()
        .filter(|e| e.order_id.as_deref() == Some(s.id.as_str()))
        .filter_map(|e| match e.kind {
            gateway::store::EventKind::StepAnswered { step, result, .. } => {
                Some(format!("{step}: {result}"))
            }
            _ => None,
        })
        .collect();
    let last = writes.last().map_or("", String::as_str);
    assert!(
        last.starts_with("hlr_provision: ")
            && last.ends_with("; port_submit attempt 1: ok: P-1; then applied hub/m-1 hub/m-2"),
        "{writes:?}"
    );
    s.engine.shutdown(Duration::from_secs(1)).await;
}

#[tokio::test(start_paused = true)]
async fn a_sent_ahead_submission_cut_short_is_made_again_as_a_new_attempt() {
    let (hlr, hub, s, created) = held_submission().await;
    let submitted = hub.submitted.notified();
    s.engine.submit_created(created);
    // The first process made the line and the submission the create recorded, and died
    // before their answers were recorded (the submission's call never returns).
    submitted.await;
    let o = stored(&s).await;
    // A fresh process on the same store resumes the order.
    let hub2 = Arc::new(ScriptedHub::default());
    let settings = EngineSettings {
        porting: Some(porting(&hub2)),
        ..plain_settings()
    };
    let fresh = Engine::new(
        s.store.clone(),
        hlr.clone(),
        s.keys.clone(),
        settings,
        Clock::new(),
        s.metrics.clone(),
    );
    fresh.submit(o);
    let o = wait_order(&s.store, &s.id, "parked", Duration::from_millis(5), |o| {
        o.port_parked().is_some()
    })
    .await;
    assert_eq!(o.port.as_ref().map(|p| p.state), Some(PortState::Submitted));
    // Both in doubt: the line made again as attempt 2 with its own record, then the
    // submission, the same request (its id derives from the order), as attempt 2
    // recorded with the line's answer.
    let first = hub.calls();
    let again = hub2.calls();
    assert_eq!(first, [("submit", "act_test-port-submit".to_owned())]);
    assert_eq!(again, first);
    let sent: Vec<_> = s
        .store
        .events(0, 1_000)
        .await
        .expect("events")
        .into_iter()
        .filter_map(|e| match e.kind {
            EventKind::StepSent { step, attempt } => Some((step, attempt)),
            _ => None,
        })
        .collect();
    assert_eq!(sent, [("hlr_provision".to_owned(), 2)]);
    assert_eq!(hlr.calls.names(), ["provision", "provision"]);
    assert_eq!(
        o.port.as_ref().map(|p| p.submit.clone()),
        Some(Step::Done {
            outcome: "P-1".into()
        })
    );
    fresh.shutdown(Duration::from_secs(1)).await;
}
