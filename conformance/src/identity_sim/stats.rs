//! Counters, for test assertions: every request, every decision by outcome and code,
//! refusals before a decision, and injected faults.

use super::faults::Action;
use adapters::identity::{RejectCode, Verdict};
use serde::Serialize;

/// Rejections per code.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RejectCounts {
    /// `identity_mismatch`.
    pub identity_mismatch: u64,
    /// `face_check_failed`.
    pub face_check_failed: u64,
    /// `face_check_required`.
    pub face_check_required: u64,
    /// `id_capture_method_not_allowed`.
    pub id_capture_method_not_allowed: u64,
    /// `id_expired`.
    pub id_expired: u64,
}

impl RejectCounts {
    /// The count for `code`.
    pub fn get(&self, code: RejectCode) -> u64 {
        match code {
            RejectCode::IdentityMismatch => self.identity_mismatch,
            RejectCode::FaceCheckFailed => self.face_check_failed,
            RejectCode::FaceCheckRequired => self.face_check_required,
            RejectCode::IdCaptureMethodNotAllowed => self.id_capture_method_not_allowed,
            RejectCode::IdExpired => self.id_expired,
        }
    }

    fn slot(&mut self, code: RejectCode) -> &mut u64 {
        match code {
            RejectCode::IdentityMismatch => &mut self.identity_mismatch,
            RejectCode::FaceCheckFailed => &mut self.face_check_failed,
            RejectCode::FaceCheckRequired => &mut self.face_check_required,
            RejectCode::IdCaptureMethodNotAllowed => &mut self.id_capture_method_not_allowed,
            RejectCode::IdExpired => &mut self.id_expired,
        }
    }
}

/// Injected faults that fired.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct InjectedCounts {
    /// Forced rejections.
    pub reject: u64,
    /// Forced flags.
    pub flag: u64,
    /// Requests left unanswered.
    pub hang: u64,
    /// Requests answered with an injected status.
    pub status: u64,
    /// Requests answered with a broken body.
    pub malformed: u64,
    /// Requests delayed.
    pub delay: u64,
}

impl InjectedCounts {
    pub(crate) fn record(&mut self, a: &Action) {
        let slot = match a {
            Action::Reject(_) => &mut self.reject,
            Action::Flag(_) => &mut self.flag,
            Action::Hang => &mut self.hang,
            Action::Status(_) => &mut self.status,
            Action::Malformed => &mut self.malformed,
            Action::Delay(_) => &mut self.delay,
        };
        *slot += 1;
    }
}

/// Everything counted since start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct IdentityCounts {
    /// Requests to the verification path (any method).
    pub requests: u64,
    /// Requests without the expected credential (401).
    pub unauthorized: u64,
    /// Bodies that did not decode, or other 4xx refusals before a decision.
    pub invalid: u64,
    /// Repeats answered with their first decision.
    pub replays: u64,
    /// Repeats of a request id with a different request (409).
    pub conflicts: u64,
    /// New decisions: pass.
    pub passed: u64,
    /// New decisions: reject, by code.
    pub rejected: RejectCounts,
    /// New decisions: flag.
    pub flagged: u64,
    /// Injected faults.
    pub injected: InjectedCounts,
}

impl IdentityCounts {
    /// New decisions of every outcome.
    pub fn decisions(&self) -> u64 {
        let r = &self.rejected;
        self.passed
            + self.flagged
            + r.identity_mismatch
            + r.face_check_failed
            + r.face_check_required
            + r.id_capture_method_not_allowed
            + r.id_expired
    }

    pub(crate) fn decided(&mut self, v: &Verdict) {
        match v {
            Verdict::Pass => self.passed += 1,
            Verdict::Reject(code) => *self.rejected.slot(*code) += 1,
            Verdict::Flag(_) => self.flagged += 1,
        }
    }
}
