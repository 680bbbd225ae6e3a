//! The hub as a pure machine: each market's happy path on its timetable, the hub's own
//! checks, cancel before and after the lock, conflicts, cancel requests, port-outs, and
//! (proptest) that any mix of requests and time keeps every port's sequence contiguous
//! and every message a valid hub message.

use super::*;
use crate::porting_sim::clock::utc;
use crate::porting_sim::donor::{Behaviour, Outcome};
use crate::porting_sim::port::PortView;
use adapters::porting::Code;
use adapters::porting::{UtcTime, decode_callback, encode_callback};
use proptest::prelude::*;

pub(crate) fn t(s: &str) -> u64 {
    UtcTime::parse(s, "t").expect("time").unix_ms()
}

fn r(s: &str) -> Ref {
    Ref::parse(s, "t").expect("ref")
}

fn submit(market: Market, number: &str, order: &str) -> SubmitPortIn {
    let us = market == Market::Us;
    SubmitPortIn {
        request_id: r(&format!("{order}-port-in")),
        reference: r(order),
        market,
        number: number.parse().expect("msisdn"),
        donor: r("DONOR"),
        recipient: r("SIMGW"),
        credential: (!us).then(|| Credential::parse("ABC123456", "c").expect("c")),
        account: us.then(|| Account {
            number: adapters::porting::AccountNumber::parse("987", "n").expect("n"),
            pin: adapters::porting::AccountPin::parse("4321", "p").expect("p"),
        }),
        requested_at: None,
    }
}

/// `(kind, at, actor)` of each message.
fn kinds(out: &[HubMessage]) -> Vec<(String, String, &'static str)> {
    out.iter()
        .map(|m| {
            (
                m.event.kind().to_owned(),
                m.at.to_string(),
                m.actor.as_str(),
            )
        })
        .collect()
}

fn k(kind: &str, at: &str, actor: &'static str) -> (String, String, &'static str) {
    (kind.to_owned(), at.to_owned(), actor)
}

fn ack(hub: &mut Hub, port: &Ref, message: &Ref, now: u64, out: &mut Vec<HubMessage>) {
    let req = Acknowledge {
        request_id: r(&format!("ack-{message}")),
        port_ref: port.clone(),
        message_id: message.clone(),
    };
    hub.acknowledge(&req, None, now, out).expect("ack");
}

#[test]
fn uk_locks_at_17_the_working_day_before_and_completes_on_the_acknowledgement() {
    let mut hub = Hub::default();
    let mut out = Vec::new();
    let now = t("2026-03-06T10:00:00Z"); // a Friday
    let port = hub
        .submit(
            &submit(Market::Uk, "447700900123", "ord_1"),
            None,
            now,
            &mut out,
        )
        .expect("receipt");
    assert_eq!(port.as_str(), "HUB-UK-000001");
    hub.advance(t("2026-03-09T09:00:00Z"), &mut out);
    let cutover = out.last().expect("cutover").message_id.clone();
    ack(
        &mut hub,
        &port,
        &cutover,
        t("2026-03-09T09:05:00Z"),
        &mut out,
    );
    assert_eq!(
        kinds(&out),
        [
            k("accepted", "2026-03-06T10:00:00.000Z", "donor"),
            k("scheduled", "2026-03-06T10:00:00.000Z", "hub"),
            k("locked", "2026-03-06T17:00:00.000Z", "hub"),
            k("cutover", "2026-03-09T09:00:00.000Z", "hub"),
            k("completed", "2026-03-09T09:05:00.000Z", "hub"),
        ]
    );
    for (i, m) in out.iter().enumerate() {
        assert_eq!(m.sequence, i as u64 + 1);
        assert_eq!(m.reference.as_ref().map(Ref::as_str), Some("ord_1"));
        if i > 0 {
            assert_eq!(m.due_at, Some(utc(t("2026-03-09T09:00:00Z"))));
            assert_eq!(m.lock_at, Some(utc(t("2026-03-06T17:00:00Z"))));
        }
    }
    let p = hub.port(port.as_str()).expect("port");
    assert_eq!(p.state, PortState::Completed);
    assert_eq!(p.acknowledged, [cutover]);
}

/// A completed port-in's `accepted` names the range holder (the donor book's, else the
/// donor), and only that port's number may be returned to it, once it has completed.
#[test]
fn a_completed_port_in_names_its_range_holder_and_takes_its_number_back() {
    let mut hub = Hub::default();
    let mut out = Vec::new();
    let b = Behaviour {
        range_holder: Some(r("UK-RANGE-07")),
        ..Behaviour::default()
    };
    hub.donors.set(Some("447700900123"), b);
    let now = t("2026-03-06T10:00:00Z");
    let port = hub
        .submit(
            &submit(Market::Uk, "447700900123", "o1"),
            None,
            now,
            &mut out,
        )
        .expect("receipt");
    let other = hub
        .submit(
            &submit(Market::Uk, "447700900124", "o2"),
            None,
            now,
            &mut out,
        )
        .expect("receipt");
    let holders: Vec<_> = out
        .iter()
        .map(|m| (m.event.kind().to_owned(), m.range_holder.clone()))
        .filter(|(_, h)| h.is_some())
        .collect();
    assert_eq!(
        holders,
        [
            ("accepted".to_owned(), Some(r("UK-RANGE-07"))),
            ("accepted".to_owned(), Some(r("DONOR"))),
        ]
    );
    let give_back = |number: &str, holder: &str| ReturnNumber {
        request_id: r("ret-1"),
        port_ref: port.clone(),
        number: number.parse().expect("msisdn"),
        range_holder: r(holder),
    };
    let right = give_back("447700900123", "UK-RANGE-07");
    // Not completed yet.
    assert_eq!(
        hub.return_number(&right, None, now),
        Err(Refusal::invalid_state())
    );
    hub.advance(t("2026-03-09T09:00:00Z"), &mut out);
    let cutover = out
        .iter()
        .rev()
        .find(|m| m.port_ref == port && m.event == HubEvent::Cutover)
        .expect("cutover")
        .message_id
        .clone();
    let done = t("2026-03-09T09:05:00Z");
    ack(&mut hub, &port, &cutover, done, &mut out);
    let wrong_number = hub.return_number(&give_back("447700900124", "UK-RANGE-07"), None, done);
    assert_eq!(wrong_number.map_err(|e| e.field), Err(Some("number")));
    let wrong_holder = hub.return_number(&give_back("447700900123", "DONOR"), None, done);
    assert_eq!(wrong_holder.map_err(|e| e.field), Err(Some("range_holder")));
    let stranger = r("SOMEONE-ELSE");
    assert_eq!(
        hub.return_number(&right, Some(&stranger), done),
        Err(Refusal::unknown_port())
    );
    assert_eq!(hub.return_number(&right, None, done), Ok(()));
    assert_eq!(hub.return_number(&right, None, done + 1), Ok(()));
    let view = PortView::from(hub.port(port.as_str()).expect("port"));
    assert_eq!(view.range_holder.as_deref(), Some("UK-RANGE-07"));
    assert_eq!(view.returned_at, Some(utc(done).to_string()));
    let untouched = PortView::from(hub.port(other.as_str()).expect("port"));
    assert_eq!(untouched.returned_at, None);
}

#[test]
fn cn_locks_at_once_and_cuts_over_at_the_next_full_hour() {
    let mut hub = Hub::default();
    let mut out = Vec::new();
    let now = t("2026-03-02T10:20:00Z");
    let port = hub
        .submit(
            &submit(Market::Cn, "8613812345678", "o"),
            None,
            now,
            &mut out,
        )
        .expect("receipt");
    assert_eq!(
        kinds(&out),
        [
            k("accepted", "2026-03-02T10:20:00.000Z", "donor"),
            k("scheduled", "2026-03-02T10:20:00.000Z", "hub"),
            k("locked", "2026-03-02T10:20:00.000Z", "hub"),
        ]
    );
    let cancel = CancelPort {
        request_id: r("o-cancel"),
        port_ref: port.clone(),
    };
    assert_eq!(
        hub.cancel(&cancel, None, now, &mut out),
        Err(Refusal::port_locked())
    );
    hub.advance(t("2026-03-02T10:59:59Z"), &mut out);
    assert_eq!(out.len(), 3);
    hub.advance(t("2026-03-02T11:00:00Z"), &mut out);
    assert_eq!(
        kinds(&out)[3],
        k("cutover", "2026-03-02T11:00:00.000Z", "hub")
    );
}

#[test]
fn hub_checks_reject_before_the_donor() {
    let mut hub = Hub::default();
    let mut out = Vec::new();
    let now = t("2026-03-02T10:00:00Z");
    let mut no_code = submit(Market::Uk, "447700900001", "a");
    no_code.credential = None;
    let mut no_account = submit(Market::Us, "12025550143", "b");
    no_account.account = None;
    for req in [no_code, no_account] {
        hub.submit(&req, None, now, &mut out).expect("receipt");
    }
    hub.submit(
        &submit(Market::Uk, "447700900002", "c"),
        None,
        now,
        &mut out,
    )
    .expect("receipt");
    hub.submit(
        &submit(Market::Uk, "447700900002", "d"),
        None,
        now,
        &mut out,
    )
    .expect("receipt");
    let reasons: Vec<_> = out
        .iter()
        .filter_map(|m| m.event.reason_code().map(|c| (c.to_owned(), m.actor)))
        .collect();
    assert_eq!(
        reasons,
        [
            ("credential_invalid".to_owned(), Actor::Hub),
            ("account_mismatch".to_owned(), Actor::Hub),
            ("pending_port_exists".to_owned(), Actor::Hub),
        ]
    );
    // Another provider's port is unknown to the caller; its submit is forbidden.
    let other = Some(r("OTHER"));
    let req = submit(Market::Uk, "447700900003", "e");
    assert_eq!(
        hub.submit(&req, other.as_ref(), now, &mut out),
        Err(Refusal::forbidden())
    );
    let cancel = CancelPort {
        request_id: r("x"),
        port_ref: r("HUB-UK-000003"),
    };
    assert_eq!(
        hub.cancel(&cancel, other.as_ref(), now, &mut out),
        Err(Refusal::unknown_port())
    );
    let mut asked = submit(Market::Uk, "447700900004", "f");
    asked.requested_at = Some(utc(t("2026-03-07T09:00:00Z")));
    assert_eq!(
        hub.submit(&asked, None, now, &mut out).map_err(|e| e.code),
        Err(HubErrorCode::DateNotAvailable)
    );
}

#[test]
fn a_us_conflict_is_settled_when_its_window_ends() {
    let mut hub = Hub::default();
    let mut out = Vec::new();
    let now = t("2026-03-02T15:00:00Z");
    let b = Behaviour {
        outcome: Outcome::Conflict {
            cause: Code::parse("50", "c").expect("code"),
            resolution: Resolution::Resolve,
        },
        delay_ms: 60_000,
        range_holder: None,
    };
    hub.donors.set(Some("12025550143"), b);
    let port = hub
        .submit(&submit(Market::Us, "12025550143", "o"), None, now, &mut out)
        .expect("receipt");
    assert!(out.is_empty(), "the donor takes a minute");
    hub.advance(t("2026-03-02T21:01:00Z"), &mut out);
    assert_eq!(
        kinds(&out),
        [
            k("accepted", "2026-03-02T15:01:00.000Z", "donor"),
            k("scheduled", "2026-03-02T15:01:00.000Z", "hub"),
            k("conflict", "2026-03-02T15:01:00.000Z", "donor"),
            k("scheduled", "2026-03-02T21:01:00.000Z", "hub"),
        ]
    );
    assert_eq!(out[2].event.reason_code(), Some("50"));
    // Resolved after the day's noon lock: FOC on Wednesday 09:00 Eastern.
    assert_eq!(out[3].due_at, Some(utc(t("2026-03-04T14:00:00Z"))));
    assert_eq!(
        hub.port(port.as_str()).map(|p| p.state),
        Some(PortState::Scheduled)
    );
}

#[test]
fn cancel_requests_end_in_a_cancel_or_a_us_conflict() {
    let mut hub = Hub::default();
    let mut out = Vec::new();
    let now = t("2026-03-02T09:00:00Z");
    let uk = hub
        .submit(
            &submit(Market::Uk, "447700900123", "u"),
            None,
            now,
            &mut out,
        )
        .expect("receipt");
    let us = hub
        .submit(&submit(Market::Us, "12025550143", "s"), None, now, &mut out)
        .expect("receipt");
    hub.cancel_request(uk.as_str(), now, &mut out).expect("uk");
    hub.cancel_request(us.as_str(), now, &mut out).expect("us");
    assert!(hub.cancel_request(us.as_str(), now, &mut out).is_err());
    out.clear();
    hub.advance(t("2026-03-02T17:00:00Z"), &mut out);
    // Both windows close at their lock: UK 17:00, US noon Eastern (17:00Z).
    assert_eq!(
        kinds(&out),
        [
            k("cancelled", "2026-03-02T17:00:00.000Z", "hub"),
            k("conflict", "2026-03-02T17:00:00.000Z", "hub"),
        ]
    );
    hub.advance(t("2026-03-02T23:00:00Z"), &mut out);
    assert_eq!(
        kinds(&out)[2],
        k("cancelled", "2026-03-02T23:00:00.000Z", "hub")
    );
}

#[test]
fn port_outs_wait_for_the_answer_or_respond_by() {
    let mut hub = Hub::default();
    let mut out = Vec::new();
    let now = t("2026-03-02T10:00:00Z");
    let cmd = |n: &str| PortOutCommand {
        market: Market::Uk,
        number: n.parse().expect("msisdn"),
        recipient: None,
        donor: None,
        credential: Some(Credential::parse("XYZ654321", "c").expect("c")),
        account: None,
        requested_at: None,
        respond_by: Some(t("2026-03-02T12:00:00Z")),
    };
    let me = r("SIMGW");
    let a = hub
        .port_out_request(cmd("447700900456"), &me, now, &mut out)
        .expect("a");
    let b = hub
        .port_out_request(cmd("447700900457"), &me, now, &mut out)
        .expect("b");
    assert!(
        hub.port_out_request(cmd("447700900457"), &me, now, &mut out)
            .is_err()
    );
    let answer = |port: &Ref, decision| AnswerPortOut {
        request_id: r(&format!("{port}-answer")),
        port_ref: port.clone(),
        decision,
    };
    let reject = PortOutDecision::Reject(RejectReason::ContractLock);
    hub.answer(&answer(&a, reject.clone()), None, now, &mut out)
        .expect("answer");
    assert_eq!(
        hub.answer(&answer(&a, reject), None, now, &mut out),
        Err(Refusal::invalid_state())
    );
    hub.advance(t("2026-03-02T12:00:00Z"), &mut out);
    assert_eq!(
        hub.answer(
            &answer(&b, PortOutDecision::Accept),
            None,
            t("2026-03-02T12:00:00Z"),
            &mut out
        ),
        Err(Refusal::invalid_state())
    );
    assert_eq!(
        kinds(&out),
        [
            k("port_out_request", "2026-03-02T10:00:00.000Z", "recipient"),
            k("port_out_request", "2026-03-02T10:00:00.000Z", "recipient"),
            k("rejected", "2026-03-02T10:00:00.000Z", "donor"),
            k("scheduled", "2026-03-02T12:00:00.000Z", "hub"),
        ]
    );
    assert!(out.iter().all(|m| m.reference.is_none()));
    assert_eq!(
        hub.port(b.as_str()).map(|p| p.donor.to_string()),
        Some("SIMGW".into())
    );
}

/// One step of a random history (the property tests here and in the state file's).
#[derive(Debug, Clone)]
pub(crate) enum Step {
    Submit(Market, u8),
    Cancel(u8),
    Reschedule(u8, u32),
    Ack(u8),
    PortOut(u8),
    Answer(u8, bool),
    CancelRequest(u8),
    Advance(u32),
    Donor(u8, bool),
    Reset,
}

/// Any step, on a few numbers and ports, so they meet.
pub(crate) fn step() -> impl Strategy<Value = Step> {
    let market = (0usize..5).prop_map(|i| Market::ALL[i]);
    prop_oneof![
        4 => (market, 0u8..4).prop_map(|(m, n)| Step::Submit(m, n)),
        4 => (0u8..8).prop_map(Step::Cancel),
        4 => (0u8..8, 0u32..500_000).prop_map(|(p, m)| Step::Reschedule(p, m)),
        4 => (0u8..8).prop_map(Step::Ack),
        4 => (0u8..4).prop_map(Step::PortOut),
        4 => (0u8..8, any::<bool>()).prop_map(|(p, a)| Step::Answer(p, a)),
        4 => (0u8..8).prop_map(Step::CancelRequest),
        4 => (0u32..3_000_000).prop_map(Step::Advance),
        2 => (0u8..4, any::<bool>()).prop_map(|(n, r)| Step::Donor(n, r)),
        1 => Just(Step::Reset),
    ]
}

/// The start of every history: Monday 2026-03-02 08:00 UTC.
pub(crate) fn history_start() -> u64 {
    t("2026-03-02T08:00:00Z")
}

/// Applies step `i` of a history at `now` (moved by `Advance`); refusals are fine.
pub(crate) fn apply(hub: &mut Hub, i: usize, s: Step, now: &mut u64, out: &mut Vec<HubMessage>) {
    let me = r("SIMGW");
    let port = |hub: &Hub, p: u8| {
        hub.ports()
            .get(usize::from(p))
            .map(|p| p.port_ref.clone())
            .unwrap_or_else(|| r("none"))
    };
    let number = |m: Market, n: u8| match m {
        Market::Cn => format!("861381234567{n}"),
        Market::Us => format!("120255501{n:02}"),
        _ => format!("4477009001{n:02}"),
    };
    let id = r(&format!("q{i}"));
    let now_ = *now;
    match s {
        Step::Submit(m, n) => {
            let _ = hub.submit(&submit(m, &number(m, n), &format!("o{i}")), None, now_, out);
        }
        Step::Cancel(p) => {
            let req = CancelPort {
                request_id: id,
                port_ref: port(hub, p),
            };
            let _ = hub.cancel(&req, None, now_, out);
        }
        Step::Reschedule(p, mins) => {
            let req = ReschedulePort {
                request_id: id,
                port_ref: port(hub, p),
                requested_at: utc(now_ + u64::from(mins) * 60_000),
            };
            let _ = hub.reschedule(&req, None, now_, out);
        }
        Step::Ack(p) => {
            let port_ref = port(hub, p);
            let last = hub
                .port(port_ref.as_str())
                .and_then(|p| p.timeline.last().map(|e| e.message_id.clone()));
            if let Some(m) = last {
                let req = Acknowledge {
                    request_id: id,
                    port_ref,
                    message_id: r(&m),
                };
                let _ = hub.acknowledge(&req, None, now_, out);
            }
        }
        Step::PortOut(n) => {
            let cmd = PortOutCommand {
                market: Market::Uk,
                number: format!("4477009002{n:02}").parse().expect("msisdn"),
                recipient: None,
                donor: None,
                credential: None,
                account: None,
                requested_at: None,
                respond_by: None,
            };
            let _ = hub.port_out_request(cmd, &me, now_, out);
        }
        Step::Answer(p, accept) => {
            let decision = if accept {
                PortOutDecision::Accept
            } else {
                PortOutDecision::Reject(RejectReason::LineNotActive)
            };
            let req = AnswerPortOut {
                request_id: id,
                port_ref: port(hub, p),
                decision,
            };
            let _ = hub.answer(&req, None, now_, out);
        }
        Step::CancelRequest(p) => {
            let _ = hub.cancel_request(port(hub, p).as_str(), now_, out);
        }
        Step::Advance(secs) => {
            *now += u64::from(secs) * 1000;
            hub.advance(*now, out);
        }
        Step::Donor(n, reject) => {
            let outcome = if reject {
                Outcome::Reject(RejectReason::LineNotActive)
            } else {
                Outcome::Conflict {
                    cause: Code::parse("50", "c").expect("code"),
                    resolution: crate::porting_sim::donor::Resolution::Cancel,
                }
            };
            let b = Behaviour {
                outcome,
                delay_ms: u64::from(n) * 60_000,
                range_holder: None,
            };
            hub.donors.set(Some(&number(Market::Uk, n)), b);
        }
        Step::Reset => hub.reset(),
    }
}

proptest! {
    #[test]
    fn any_history_keeps_sequences_contiguous_and_messages_valid(
        steps in proptest::collection::vec(step(), 1..40),
    ) {
        let mut hub = Hub::default();
        let mut out = Vec::new();
        let mut now = history_start();
        for (i, s) in steps.into_iter().enumerate() {
            apply(&mut hub, i, s, &mut now, &mut out);
            prop_assert!(hub.next_timer().is_none_or(|at| at > now));
            // The timer index knows the earliest pending timer (a scan of every port).
            prop_assert_eq!(hub.earliest().map(|(at, ..)| at), hub.next_timer());
        }
        let mut last = std::collections::HashMap::new();
        for m in &out {
            let seq = last.entry(m.port_ref.clone()).or_insert(0u64);
            prop_assert_eq!(m.sequence, *seq + 1);
            *seq = m.sequence;
            let back = decode_callback(&encode_callback(m));
            prop_assert_eq!(back.as_ref(), Ok(m));
            if m.event == HubEvent::Scheduled {
                prop_assert!(m.due_at.is_some());
            }
        }
        for p in hub.ports() {
            prop_assert_eq!(p.sequence, p.timeline.len() as u64);
            prop_assert!(!p.state.is_final() || p.timer.is_none());
        }
    }
}

#[test]
fn only_an_open_port_of_a_number_holds_it_also_after_a_restore() {
    let mut hub = Hub::default();
    let mut out = Vec::new();
    let now = t("2026-03-02T10:00:00Z");
    let mut no_code = submit(Market::Uk, "447700900001", "a");
    no_code.credential = None;
    hub.submit(&no_code, None, now, &mut out).expect("receipt");
    // The first port of the number was rejected: a new one is taken.
    let again = submit(Market::Uk, "447700900001", "b");
    hub.submit(&again, None, now, &mut out).expect("receipt");
    // Another number is not held by it.
    let other = submit(Market::Uk, "447700900002", "c");
    hub.submit(&other, None, now, &mut out).expect("receipt");
    let mut restored = Hub::restore(hub.ports().to_vec(), hub.ids, DonorBook::default());
    let third = submit(Market::Uk, "447700900001", "d");
    restored
        .submit(&third, None, now, &mut out)
        .expect("receipt");
    let reasons: Vec<_> = out
        .iter()
        .filter_map(|m| {
            m.event
                .reason_code()
                .map(|c| (c.to_owned(), m.port_ref.to_string()))
        })
        .collect();
    assert_eq!(
        reasons,
        [
            ("credential_invalid".to_owned(), "HUB-UK-000001".to_owned()),
            ("pending_port_exists".to_owned(), "HUB-UK-000004".to_owned()),
        ]
    );
}
