//! Second real-person verification (二次实人认证) of one line, as a pure state machine. A
//! risk hit asks the subscriber to verify before a deadline (24 h by default); verifying
//! clears it; a failure, or the deadline passing, suspends the line for `regulatory`
//! reasons (HLR barring, never deletion); verifying later lifts that suspension.
//!
//! The machine says what to do (`Effect`); the caller persists the new state and the
//! deadline in the same commit, and turns `Suspend`/`Resume` into lifecycle orders.

use super::policy::ChannelKind;
use super::refusal::Refusal;
use super::risk::RiskRule;
use serde::{Deserialize, Serialize};

/// A line's verification state (stored with the line).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Verification {
    /// Nothing to verify.
    #[default]
    Clear,
    /// Waiting for the subscriber (`pending_verification` on the API).
    Pending {
        /// The rules that asked for it (accumulated).
        rules: Vec<RiskRule>,
        /// When it was asked (Unix ms).
        since_ms: u64,
        /// When the line is suspended if still unverified (Unix ms).
        deadline_ms: u64,
    },
    /// Not verified in time, or failed: suspended with reason `regulatory`.
    Suspended {
        /// The rules that asked for it.
        rules: Vec<RiskRule>,
        /// Why it ended here.
        cause: SuspendCause,
    },
}

/// Why a verification ended in suspension.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuspendCause {
    /// The deadline passed.
    Expired,
    /// The verifier said the person is not the holder.
    Failed,
}

/// Proof offered with a verification: a signed risk notice in store, a recorded video
/// online (reference §2.3).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VerificationEvidence {
    /// The id of the fraud-risk notice the subscriber signed in store.
    RiskNotice(String),
    /// The id of the video of the subscriber reading the notice aloud.
    Video(String),
}

/// What happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// Risk rules hit.
    Flag(Vec<RiskRule>),
    /// The verifier passed the subscriber, on this evidence, through this channel.
    Passed(VerificationEvidence, ChannelKind),
    /// The verifier failed the subscriber.
    Failed,
    /// A deadline timer fired (it may be early or stale: the state decides).
    Tick,
}

/// What the caller does after the transition.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Arm the durable deadline timer.
    ArmDeadline(u64),
    /// Drop the deadline timer.
    DropDeadline,
    /// Suspend the line with reason `regulatory` (a lifecycle order). A line already
    /// suspended for `regulatory` needs nothing more.
    Suspend,
    /// Lift the `regulatory` suspension (a lifecycle order; other reasons stay).
    Resume,
}

/// The next state and its effects, or a refusal (nothing changes).
pub fn step(
    state: &Verification,
    event: Event,
    deadline_after_ms: u64,
    now_ms: u64,
) -> Result<(Verification, Vec<Effect>), Refusal> {
    use Verification as V;
    Ok(match (state, event) {
        (_, Event::Flag(rules)) if rules.is_empty() => (state.clone(), vec![]),
        (V::Clear, Event::Flag(rules)) => {
            let deadline_ms = now_ms.saturating_add(deadline_after_ms);
            let pending = V::Pending {
                rules: merged(&[], &rules),
                since_ms: now_ms,
                deadline_ms,
            };
            (pending, vec![Effect::ArmDeadline(deadline_ms)])
        }
        // A new hit adds its rule; the deadline first given stands.
        (
            V::Pending {
                rules,
                since_ms,
                deadline_ms,
            },
            Event::Flag(more),
        ) => (
            V::Pending {
                rules: merged(rules, &more),
                since_ms: *since_ms,
                deadline_ms: *deadline_ms,
            },
            vec![],
        ),
        (V::Suspended { rules, cause }, Event::Flag(more)) => (
            V::Suspended {
                rules: merged(rules, &more),
                cause: *cause,
            },
            vec![],
        ),
        (V::Clear, Event::Passed(..) | Event::Failed) => return Err(not_pending()),
        (_, Event::Passed(evidence, channel)) => {
            check_evidence(&evidence, channel)?;
            let effects = match state {
                V::Suspended { .. } => vec![Effect::Resume],
                _ => vec![Effect::DropDeadline],
            };
            (V::Clear, effects)
        }
        (V::Pending { rules, .. }, Event::Failed) => (
            V::Suspended {
                rules: rules.clone(),
                cause: SuspendCause::Failed,
            },
            vec![Effect::DropDeadline, Effect::Suspend],
        ),
        (
            V::Pending {
                rules, deadline_ms, ..
            },
            Event::Tick,
        ) if now_ms >= *deadline_ms => (
            V::Suspended {
                rules: rules.clone(),
                cause: SuspendCause::Expired,
            },
            vec![Effect::Suspend],
        ),
        // An early timer, a stale one, or a failure while already suspended: no change.
        (s, Event::Tick | Event::Failed) => (s.clone(), vec![]),
    })
}

impl Verification {
    /// The `state` the subscription API shows for a line otherwise `active`:
    /// `pending_verification` while pending.
    pub fn api_state(&self) -> Option<&'static str> {
        matches!(self, Self::Pending { .. }).then_some("pending_verification")
    }

    /// The deadline the timer index holds, if any.
    pub fn deadline_ms(&self) -> Option<u64> {
        match self {
            Self::Pending { deadline_ms, .. } => Some(*deadline_ms),
            _ => None,
        }
    }
}

fn merged(have: &[RiskRule], more: &[RiskRule]) -> Vec<RiskRule> {
    let mut out = have.to_vec();
    out.extend_from_slice(more);
    out.sort_unstable();
    out.dedup();
    out
}

/// The refusal of a verification for a line with none pending.
pub fn not_pending() -> Refusal {
    Refusal::new(
        409,
        "verification_not_pending",
        "No verification pending",
        "this line has no verification pending; nothing changed (see `state` on GET /v1/subscriptions/{msisdn})".to_owned(),
    )
}

/// The refusal of a verification sent without evidence through a `channel` channel: it
/// names the evidence that channel must send.
pub fn evidence_required(channel: ChannelKind) -> Refusal {
    let wrong = match channel {
        ChannelKind::Store => VerificationEvidence::Video(String::new()),
        ChannelKind::Online => VerificationEvidence::RiskNotice(String::new()),
    };
    match check_evidence(&wrong, channel) {
        Err(r) => r,
        // Unreachable: the other kind of evidence never suits a channel.
        Ok(()) => not_pending(),
    }
}

/// A store verification carries the signed risk notice; an online one the video.
fn check_evidence(e: &VerificationEvidence, channel: ChannelKind) -> Result<(), Refusal> {
    let (ok, need, field) = match (channel, e) {
        (ChannelKind::Store, VerificationEvidence::RiskNotice(id))
        | (ChannelKind::Online, VerificationEvidence::Video(id)) => (!id.trim().is_empty(), "", ""),
        (ChannelKind::Store, _) => (
            false,
            "a verification in store needs the signed fraud-risk notice",
            "evidence.risk_notice.id",
        ),
        (ChannelKind::Online, _) => (
            false,
            "an online verification needs the recorded video of the subscriber reading the risk notice",
            "evidence.video.id",
        ),
    };
    if ok {
        return Ok(());
    }
    let detail = if need.is_empty() {
        "the evidence id is empty; send the id the evidence system gave".to_owned()
    } else {
        format!("{need} (`{field}`)")
    };
    let r = Refusal::new(
        422,
        "verification_evidence_required",
        "Verification evidence missing",
        detail,
    );
    Err(if field.is_empty() { r } else { r.at(field) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use VerificationEvidence::{RiskNotice, Video};

    const DAY: u64 = 24 * 3_600_000;

    fn flagged(now: u64) -> Verification {
        step(
            &Verification::Clear,
            Event::Flag(vec![RiskRule::SimSwap]),
            DAY,
            now,
        )
        .expect("flag")
        .0
    }

    #[test]
    fn flag_then_verify_in_time_clears_without_suspension() {
        let (s, fx) = step(
            &Verification::Clear,
            Event::Flag(vec![RiskRule::VerifierFlag]),
            DAY,
            1000,
        )
        .expect("flag");
        assert_eq!(fx, [Effect::ArmDeadline(1000 + DAY)]);
        assert_eq!(s.api_state(), Some("pending_verification"));
        assert_eq!(s.deadline_ms(), Some(1000 + DAY));
        let (s, fx) = step(
            &s,
            Event::Passed(RiskNotice("rn-1".into()), ChannelKind::Store),
            DAY,
            2000,
        )
        .expect("pass");
        assert_eq!((s, fx), (Verification::Clear, vec![Effect::DropDeadline]));
    }

    #[test]
    fn deadline_suspends_and_late_verification_resumes() {
        let s = flagged(0);
        let (same, fx) = step(&s, Event::Tick, DAY, DAY - 1).expect("early tick");
        assert_eq!(
            (&same, fx.as_slice()),
            (&s, &[][..]),
            "an early timer changes nothing"
        );
        let (s, fx) = step(&s, Event::Tick, DAY, DAY).expect("tick");
        assert_eq!(fx, [Effect::Suspend]);
        assert_eq!(
            s,
            Verification::Suspended {
                rules: vec![RiskRule::SimSwap],
                cause: SuspendCause::Expired
            }
        );
        assert_eq!(s.api_state(), None);
        let (again, fx) = step(&s, Event::Tick, DAY, 2 * DAY).expect("stale tick");
        assert_eq!((&again, fx.len()), (&s, 0));
        let (s, fx) = step(
            &s,
            Event::Passed(Video("v-1".into()), ChannelKind::Online),
            DAY,
            3 * DAY,
        )
        .expect("late pass");
        assert_eq!((s, fx), (Verification::Clear, vec![Effect::Resume]));
    }

    #[test]
    fn failure_suspends_at_once() {
        let (s, fx) = step(&flagged(0), Event::Failed, DAY, 10).expect("fail");
        assert_eq!(fx, [Effect::DropDeadline, Effect::Suspend]);
        assert!(matches!(
            s,
            Verification::Suspended {
                cause: SuspendCause::Failed,
                ..
            }
        ));
        let (s2, fx) = step(&s, Event::Failed, DAY, 20).expect("fail again");
        assert_eq!((s2, fx.len()), (s, 0));
    }

    #[test]
    fn new_hits_accumulate_and_keep_the_first_deadline() {
        let s = flagged(0);
        let (s, fx) = step(
            &s,
            Event::Flag(vec![RiskRule::VerifierFlag, RiskRule::SimSwap]),
            DAY,
            5000,
        )
        .expect("more");
        assert!(fx.is_empty());
        assert_eq!(
            s,
            Verification::Pending {
                rules: vec![RiskRule::SimSwap, RiskRule::VerifierFlag],
                since_ms: 0,
                deadline_ms: DAY
            }
        );
        let (same, fx) = step(&Verification::Clear, Event::Flag(vec![]), DAY, 0).expect("no hits");
        assert_eq!((same, fx.len()), (Verification::Clear, 0));
        let susp = Verification::Suspended {
            rules: vec![RiskRule::SimSwap],
            cause: SuspendCause::Failed,
        };
        let (s, _) =
            step(&susp, Event::Flag(vec![RiskRule::BlockedImei]), DAY, 0).expect("flag suspended");
        assert!(matches!(s, Verification::Suspended { ref rules, .. } if rules.len() == 2));
    }

    #[test]
    fn refusals_change_nothing() {
        let e = step(
            &Verification::Clear,
            Event::Passed(RiskNotice("x".into()), ChannelKind::Store),
            DAY,
            0,
        )
        .expect_err("nothing pending");
        assert_eq!((e.code, e.status), ("verification_not_pending", 409));
        assert_eq!(
            step(&Verification::Clear, Event::Failed, DAY, 0)
                .expect_err("nothing")
                .code,
            "verification_not_pending"
        );
        let p = flagged(0);
        for (ev, ch, field) in [
            (
                Video("v".into()),
                ChannelKind::Store,
                Some("evidence.risk_notice.id"),
            ),
            (
                RiskNotice("r".into()),
                ChannelKind::Online,
                Some("evidence.video.id"),
            ),
            (RiskNotice(" ".into()), ChannelKind::Store, None),
        ] {
            let e = step(&p, Event::Passed(ev, ch), DAY, 0).expect_err("bad evidence");
            assert_eq!(
                (e.code, e.field.as_deref()),
                ("verification_evidence_required", field)
            );
        }
    }

    #[test]
    fn missing_evidence_names_what_the_channel_sends() {
        for (channel, field) in [
            (ChannelKind::Store, "evidence.risk_notice.id"),
            (ChannelKind::Online, "evidence.video.id"),
        ] {
            let r = evidence_required(channel);
            assert_eq!(
                (r.code, r.status, r.field.as_deref()),
                ("verification_evidence_required", 422, Some(field))
            );
        }
    }

    #[test]
    fn state_round_trips_as_json() {
        for s in [
            Verification::Clear,
            flagged(7),
            Verification::Suspended {
                rules: vec![RiskRule::StoreBurst],
                cause: SuspendCause::Expired,
            },
        ] {
            let j = serde_json::to_string(&s).expect("json");
            assert_eq!(
                serde_json::from_str::<Verification>(&j).expect("back"),
                s,
                "{j}"
            );
        }
    }
}
