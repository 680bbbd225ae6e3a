//! The identity verification step under the paused clock, with a scripted verifier that
//! keeps the protocol's contract (a repeated request id gets its first decision): pass,
//! reject, flag, an unavailable verifier retried to the budget or the stored deadline, no
//! verifier, and a restart while a verification is in flight.

use crate::rig::*;
use adapters::identity::{
    BoxFuture, Code, IdentityError, IdentityVerifier, RejectCode, Token, Unavailable, Verdict,
    VerificationRequest, VerificationResponse,
};
use gateway::clock::Clock;
use gateway::engine::{Engine, EngineSettings};
use gateway::metrics::Metrics;
use gateway::order::{IdentityStatus, Order, OrderStatus, VerifyTerms};
use gateway::store::{EventKind, SimState, Store};
use serde_json::json;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One scripted answer of the verifier to a new request id.
#[derive(Clone, Debug)]
enum Answer {
    /// Decide, remember, answer.
    Decide(Verdict),
    /// Answer this error; nothing decided.
    Fail(IdentityError),
    /// Decide and remember, then never answer (the gateway crashes before it hears).
    DecideThenHang(Verdict),
}

/// A verifier double: answers new request ids from a script (a pass once it is empty) and
/// repeats with their first decision; records every request, whether the HLR had been
/// called before it, and the virtual time.
struct ScriptedVerifier {
    script: Mutex<VecDeque<Answer>>,
    decided: Mutex<HashMap<String, Verdict>>,
    requests: Mutex<Vec<(VerificationRequest, tokio::time::Instant)>>,
    replays: Mutex<u32>,
    hlr: Arc<ScriptedHlr>,
    called: tokio::sync::Notify,
    /// HLR calls seen at each verification call (must be 0: nothing southbound first).
    hlr_calls_before: Mutex<Vec<usize>>,
}

impl ScriptedVerifier {
    fn new(hlr: &Arc<ScriptedHlr>, script: impl IntoIterator<Item = Answer>) -> Arc<Self> {
        Arc::new(Self {
            script: Mutex::new(script.into_iter().collect()),
            decided: Mutex::default(),
            requests: Mutex::default(),
            replays: Mutex::default(),
            hlr: hlr.clone(),
            called: tokio::sync::Notify::new(),
            hlr_calls_before: Mutex::default(),
        })
    }

    fn calls(&self) -> Vec<(VerificationRequest, tokio::time::Instant)> {
        self.requests.lock().expect("lock").clone()
    }
}

fn answer(req: &VerificationRequest, verdict: Verdict) -> VerificationResponse {
    VerificationResponse {
        request_id: req.request_id.clone(),
        verdict,
        verification_id: Some(Token::parse("v-42", "verification_id").expect("token")),
    }
}

impl IdentityVerifier for ScriptedVerifier {
    fn verify<'a>(
        &'a self,
        req: &'a VerificationRequest,
    ) -> BoxFuture<'a, Result<VerificationResponse, IdentityError>> {
        let now = tokio::time::Instant::now();
        self.requests.lock().expect("lock").push((req.clone(), now));
        self.hlr_calls_before
            .lock()
            .expect("lock")
            .push(self.hlr.calls.all().len());
        self.called.notify_one();
        let id = req.request_id.as_str().to_owned();
        let first = self.decided.lock().expect("lock").get(&id).cloned();
        Box::pin(async move {
            if let Some(v) = first {
                *self.replays.lock().expect("lock") += 1;
                return Ok(answer(req, v));
            }
            let next = self.script.lock().expect("lock").pop_front();
            match next.unwrap_or(Answer::Decide(Verdict::Pass)) {
                Answer::Decide(v) => {
                    self.decided.lock().expect("lock").insert(id, v.clone());
                    Ok(answer(req, v))
                }
                Answer::Fail(e) => Err(e),
                Answer::DecideThenHang(v) => {
                    self.decided.lock().expect("lock").insert(id, v);
                    std::future::pending().await
                }
            }
        })
    }
}

const ID_NUMBER: &str = "11010519491231002X";
const NAME: &str = "张三";

fn subscriber() -> serde_json::Value {
    json!({
        "name": NAME, "id_type": "resident_id", "id_number": ID_NUMBER, "nationality": "CHN",
        "capture": {"method": "card_reader", "reader_serial": "R-1"},
        "evidence": {"face_match": {"transaction_id": "fm-1", "score": 0.93, "liveness": true}}
    })
}

const CN: VerifyTerms = VerifyTerms {
    required: true,
    evidence_required: true,
    manual_capture_allowed: false,
    flag_reverifies: true,
};

fn verify(verifier: Option<Arc<ScriptedVerifier>>, terms: VerifyTerms) -> Verify {
    Verify {
        verifier: verifier.map(|v| v as Arc<dyn IdentityVerifier>),
        subscriber: subscriber(),
        terms,
        give_up_after: Duration::from_secs(600),
    }
}

fn timeout() -> Answer {
    Answer::Fail(IdentityError::Unavailable(Unavailable::Timeout))
}

async fn order(store: &dyn Store, id: &str) -> Order {
    store.get_order("t", id).await.expect("get").expect("order")
}

fn code(o: &Order) -> Option<&str> {
    o.error.as_ref().map(|e| e.code.as_str())
}

fn status(o: &Order) -> Option<IdentityStatus> {
    o.identity.as_ref().map(|i| i.status)
}

#[tokio::test(start_paused = true)]
async fn a_pass_is_recorded_before_the_hlr_and_the_order_goes_active() {
    let logs = Logs::default();
    let _guard = logs.capture();
    let hlr = Arc::new(ScriptedHlr::default());
    let v = ScriptedVerifier::new(&hlr, []);
    let Setup { store, id, .. } =
        setup_full(hlr.clone(), None, Some(verify(Some(v.clone()), CN))).await;
    wait_status(&store, &id, OrderStatus::Active).await;
    let o = order(store.as_ref(), &id).await;
    let step = o.identity.as_ref().expect("identity step");
    assert_eq!(step.status, IdentityStatus::Passed);
    assert_eq!(step.verification_id.as_deref(), Some("v-42"));
    assert_eq!(step.request_id, format!("{id}-idv"));
    assert_eq!(hlr.calls.names(), ["provision"]);
    assert_eq!(*v.hlr_calls_before.lock().expect("lock"), [0]);
    // The order's writes: created (with the rig's compliance terms), then the pass
    // together with the HLR's `sent` record (one commit, before the HLR call), then the
    // HLR's answer. A verification is a repeatable query: neither its attempt nor its
    // pass is a write of its own.
    let writes: Vec<EventKind> = store
        .events(0, 1_000)
        .await
        .expect("events")
        .into_iter()
        .filter(|e| e.order_id.as_deref() == Some(id.as_str()))
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        writes,
        [
            EventKind::OrderCreated,
            EventKind::StepAnswered {
                step: "compliance".into(),
                attempt: 0,
                result: "allow".into()
            },
            EventKind::StepSent {
                step: "hlr_provision".into(),
                attempt: 1
            },
            EventKind::OrderActive,
        ]
    );
    assert_eq!(o.version, 4);
    // What was asked: the sealed subscriber, the terms, the order's id.
    let calls = v.calls();
    let req = &calls[0].0;
    assert_eq!(req.request_id.as_str(), format!("{id}-idv"));
    assert_eq!(
        (req.name.expose(), req.id_number.expose()),
        (NAME, ID_NUMBER)
    );
    assert!(req.requirements.evidence_required && !req.requirements.manual_capture_allowed);
    // Neither the name nor the number reaches the log.
    let text = logs.text();
    assert!(text.contains("identity verification answered"), "{text}");
    assert!(!text.contains(ID_NUMBER) && !text.contains(NAME), "{text}");
}

#[tokio::test(start_paused = true)]
async fn a_reject_fails_the_order_with_the_code_and_provisions_nothing() {
    for reject in RejectCode::ALL {
        let hlr = Arc::new(ScriptedHlr::default());
        let v = ScriptedVerifier::new(&hlr, [Answer::Decide(Verdict::Reject(reject))]);
        let Setup { store, id, .. } =
            setup_full(hlr.clone(), None, Some(verify(Some(v.clone()), CN))).await;
        wait_status(&store, &id, OrderStatus::Failed).await;
        let o = order(store.as_ref(), &id).await;
        assert_eq!(code(&o), Some(reject.as_str()));
        assert_eq!(status(&o), Some(IdentityStatus::Rejected));
        assert!(hlr.calls.names().is_empty(), "nothing sent to the HLR");
        assert_eq!(stock(&store).await, (1, 0, 5), "SIM and number back");
        assert!(store.inflight_orders().await.expect("inflight").is_empty());
    }
}

#[tokio::test(start_paused = true)]
async fn a_reject_of_an_esim_order_leaves_nothing_at_the_smdp() {
    let hlr = Arc::new(ScriptedHlr::default());
    let smdp = Arc::new(ScriptedSmdp::default());
    let reject = Verdict::Reject(RejectCode::FaceCheckFailed);
    let v = ScriptedVerifier::new(&hlr, [Answer::Decide(reject)]);
    let Setup { store, id, .. } = setup_full(
        hlr.clone(),
        Some(smdp.clone()),
        Some(verify(Some(v.clone()), CN)),
    )
    .await;
    wait_status(&store, &id, OrderStatus::Failed).await;
    let o = order(store.as_ref(), &id).await;
    assert_eq!(code(&o), Some("face_check_failed"));
    assert!(smdp.calls.names().is_empty(), "no ES2+ call");
    assert!(hlr.calls.names().is_empty());
    assert_eq!(sim_state(&store, &o.iccid).await, SimState::Available);
}

#[tokio::test(start_paused = true)]
async fn a_flag_goes_active_with_the_flag_and_the_re_verification_recorded() {
    let hlr = Arc::new(ScriptedHlr::default());
    let flag = Verdict::Flag(Code::parse("watchlist_near_match", "code").expect("code"));
    let v = ScriptedVerifier::new(&hlr, [Answer::Decide(flag)]);
    let Setup { store, id, .. } = setup_full(hlr.clone(), None, Some(verify(Some(v), CN))).await;
    wait_status(&store, &id, OrderStatus::Active).await;
    let o = order(store.as_ref(), &id).await;
    let step = o.identity.as_ref().expect("identity step");
    assert_eq!(step.status, IdentityStatus::Flagged);
    assert_eq!(step.code.as_deref(), Some("watchlist_near_match"));
    assert!(step.reverify && o.identity_reverify());
    assert_eq!(hlr.calls.names(), ["provision"]);
}

#[tokio::test(start_paused = true)]
async fn an_unavailable_verifier_is_retried_to_the_budget_then_fails_and_nothing_is_provisioned() {
    let hlr = Arc::new(ScriptedHlr::default());
    let v = ScriptedVerifier::new(&hlr, (0..10).map(|_| timeout()));
    let Setup { store, id, .. } =
        setup_full(hlr.clone(), None, Some(verify(Some(v.clone()), CN))).await;
    wait_status(&store, &id, OrderStatus::Failed).await;
    let o = order(store.as_ref(), &id).await;
    assert_eq!(code(&o), Some("identity_service_unavailable"));
    assert_eq!(status(&o), Some(IdentityStatus::Unavailable));
    let calls = v.calls();
    assert_eq!(
        calls.len(),
        POLICY.max_attempts as usize,
        "the retry budget"
    );
    // Every attempt is the same request; each retry waits out its backoff.
    assert!(calls.iter().all(|(r, _)| *r == calls[0].0));
    for (n, pair) in calls.windows(2).enumerate() {
        let gap = pair[1].1 - pair[0].1;
        let floor = Duration::from_millis(POLICY.base_ms << n) / 10;
        assert!(gap >= floor, "gap {n}: {gap:?} < {floor:?}");
    }
    assert!(hlr.calls.names().is_empty(), "nothing sent to the HLR");
    assert_eq!(stock(&store).await, (1, 0, 5));
}

#[tokio::test(start_paused = true)]
async fn no_retry_starts_past_the_stored_deadline() {
    let hlr = Arc::new(ScriptedHlr::default());
    let v = ScriptedVerifier::new(&hlr, (0..10).map(|_| timeout()));
    let mut terms = verify(Some(v.clone()), CN);
    // The backoff reaches 1 s, 2 s, 4 s (with jitter, at least a tenth): at most a few
    // retries fit in 1.5 s.
    terms.give_up_after = Duration::from_millis(1_500);
    let Setup { store, id, .. } = setup_full(hlr.clone(), None, Some(terms)).await;
    wait_status(&store, &id, OrderStatus::Failed).await;
    let o = order(store.as_ref(), &id).await;
    assert_eq!(code(&o), Some("identity_service_unavailable"));
    let calls = v.calls();
    // The first retry always fits (its backoff is at most 1 s); the budget allows four.
    assert!((2..=4).contains(&calls.len()), "{} calls", calls.len());
    let first = calls[0].1;
    for (_, at) in &calls {
        assert!(
            *at - first <= Duration::from_millis(1_501),
            "an attempt {:?} after the first, past the deadline",
            *at - first
        );
    }
    assert!(hlr.calls.names().is_empty());
}

#[tokio::test(start_paused = true)]
async fn without_a_verifier_a_required_check_fails_and_an_optional_one_is_skipped() {
    let hlr = Arc::new(ScriptedHlr::default());
    let Setup { store, id, .. } = setup_full(hlr.clone(), None, Some(verify(None, CN))).await;
    wait_status(&store, &id, OrderStatus::Failed).await;
    let o = order(store.as_ref(), &id).await;
    assert_eq!(code(&o), Some("identity_service_unavailable"));
    assert!(hlr.calls.names().is_empty());

    let hlr = Arc::new(ScriptedHlr::default());
    let optional = VerifyTerms {
        required: false,
        ..CN
    };
    let Setup { store, id, .. } = setup_full(hlr.clone(), None, Some(verify(None, optional))).await;
    wait_status(&store, &id, OrderStatus::Active).await;
    let o = order(store.as_ref(), &id).await;
    assert_eq!(status(&o), Some(IdentityStatus::Skipped));
}

#[tokio::test(start_paused = true)]
async fn a_verification_in_flight_at_a_restart_is_repeated_and_gets_its_first_decision() {
    let hlr = Arc::new(ScriptedHlr::default());
    let flag = Verdict::Flag(Code::parse("second_check", "code").expect("code"));
    // The verifier decides, but the gateway stops before it hears the answer.
    let v = ScriptedVerifier::new(&hlr, [Answer::DecideThenHang(flag)]);
    let spec = verify(Some(v.clone()), CN);
    let settings = identity_settings(&spec);
    let Setup {
        store,
        keys,
        engine,
        id,
        ..
    } = setup_full(hlr.clone(), None, Some(spec)).await;
    v.called.notified().await;
    engine.shutdown(Duration::from_secs(1)).await;
    // A verification is a repeatable query: its attempt is written with its answer, so
    // the stored order shows no attempt yet (and nothing went to the HLR).
    let pending = order(store.as_ref(), &id).await;
    assert_eq!(pending.status, OrderStatus::Reserved);
    assert!(pending.identity.is_none(), "{:?}", pending.identity);
    assert!(hlr.calls.names().is_empty());

    // A new engine over the same store resumes the order: the same request again.
    let engine2 = Engine::new(
        store.clone(),
        hlr.clone(),
        keys,
        EngineSettings {
            identity: settings,
            ..crate::rig::plain_settings()
        },
        Clock::new(),
        Arc::new(Metrics::default()),
    );
    assert_eq!(engine2.resume_all().await.expect("resume"), 1);
    wait_status(&store, &id, OrderStatus::Active).await;
    let calls = v.calls();
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0].0, calls[1].0, "the same request, the same id");
    assert_eq!(
        *v.replays.lock().expect("lock"),
        1,
        "answered from its first decision"
    );
    let o = order(store.as_ref(), &id).await;
    assert_eq!(status(&o), Some(IdentityStatus::Flagged));
    assert_eq!(
        o.identity.as_ref().map(|i| i.attempts),
        Some(1),
        "the unrecorded attempt was asked again as the first"
    );
    assert_eq!(hlr.calls.names(), ["provision"]);
}
