//! A channel moves a scheduled port-in to another day (§1.6 `Scheduled` → `Reschedule`
//! → `Scheduled`): allowed only while the hub has the port scheduled and its lock point
//! has not come; the request becomes the port's `reschedule` step (one hub request per
//! day asked), and the hub confirms with a new `scheduled` message, whose due time the
//! port then follows. A refusal leaves the port on its date. Pure, like every machine.

use crate::order::{PortIn, PortState, Reschedule, Step};

/// Why a reschedule is refused (nothing changes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RescheduleRefused {
    /// The hub has not scheduled the port yet (or it is in dispute): there is no date to
    /// move (`409 port_not_scheduled`).
    NotScheduled,
    /// Past the lock point (`409 port_locked`).
    Locked,
    /// The port has already ended, or it is not a port-in.
    Finished,
}

/// Whether a reschedule of `p` at `now_ms` would be taken.
pub fn allowed(p: &PortIn, now_ms: u64) -> Result<(), RescheduleRefused> {
    if p.is_out() || p.state.is_terminal() {
        return Err(RescheduleRefused::Finished);
    }
    if p.state.past_lock() || p.lock_at_ms.is_some_and(|l| now_ms >= l) {
        return Err(RescheduleRefused::Locked);
    }
    if p.state != PortState::Scheduled {
        return Err(RescheduleRefused::NotScheduled);
    }
    Ok(())
}

/// Applies a channel's reschedule to `requested_at_ms` (checked again: the port may have
/// moved on since the API took it; then nothing changes).
pub fn request(p: PortIn, requested_at_ms: u64, now_ms: u64) -> PortIn {
    if allowed(&p, now_ms).is_err() {
        return p;
    }
    let mut p = p;
    p.requested_at_ms = Some(requested_at_ms);
    p.reschedule = Some(Reschedule {
        requested_at_ms,
        step: Step::Pending,
    });
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compliance::Market;
    use crate::crypto::Sealed;

    fn scheduled(lock_at_ms: u64) -> PortIn {
        let sealed = Sealed {
            kid: "k".into(),
            nonce: String::new(),
            ct: String::new(),
        };
        let mut p = PortIn::new(
            Market::Uk,
            "447700900123".parse().expect("msisdn"),
            "EE".into(),
            sealed,
            None,
            None,
        );
        p.state = PortState::Scheduled;
        p.port_ref = Some("HUB-UK-1".into());
        p.lock_at_ms = Some(lock_at_ms);
        p
    }

    #[test]
    fn only_a_scheduled_port_before_its_lock_point_moves() {
        let p = scheduled(1_000);
        assert_eq!(allowed(&p, 999), Ok(()));
        assert_eq!(allowed(&p, 1_000), Err(RescheduleRefused::Locked));
        for (state, want) in [
            (PortState::Validating, RescheduleRefused::NotScheduled),
            (PortState::Submitted, RescheduleRefused::NotScheduled),
            (PortState::Conflict, RescheduleRefused::NotScheduled),
            (PortState::CancelPending, RescheduleRefused::NotScheduled),
            (PortState::Locked, RescheduleRefused::Locked),
            (PortState::Activating, RescheduleRefused::Locked),
            (PortState::Completed, RescheduleRefused::Finished),
            (PortState::Cancelled, RescheduleRefused::Finished),
        ] {
            let mut q = p.clone();
            q.state = state;
            assert_eq!(allowed(&q, 0), Err(want), "{state:?}");
        }
    }

    #[test]
    fn a_taken_reschedule_is_a_pending_step_and_a_late_one_changes_nothing() {
        let p = request(scheduled(1_000), 5_000, 10);
        assert_eq!(p.requested_at_ms, Some(5_000));
        assert_eq!(
            p.reschedule,
            Some(Reschedule {
                requested_at_ms: 5_000,
                step: Step::Pending,
            })
        );
        let late = scheduled(1_000);
        assert_eq!(request(late.clone(), 5_000, 1_000), late);
    }
}
