//! Request and injection counters, for test assertions and `GET /sim/stats`.

use super::faults::{Action, Function};
use serde::Serialize;

/// Requests per ES2+ function.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FunctionCounts {
    /// DownloadOrder requests.
    pub download_order: u64,
    /// ConfirmOrder requests.
    pub confirm_order: u64,
    /// CancelOrder requests.
    pub cancel_order: u64,
    /// ReleaseProfile requests.
    pub release_profile: u64,
}

impl FunctionCounts {
    fn slot(&mut self, f: Function) -> &mut u64 {
        match f {
            Function::DownloadOrder => &mut self.download_order,
            Function::ConfirmOrder => &mut self.confirm_order,
            Function::CancelOrder => &mut self.cancel_order,
            Function::ReleaseProfile => &mut self.release_profile,
        }
    }

    /// The count for `f`.
    pub fn get(&self, f: Function) -> u64 {
        match f {
            Function::DownloadOrder => self.download_order,
            Function::ConfirmOrder => self.confirm_order,
            Function::CancelOrder => self.cancel_order,
            Function::ReleaseProfile => self.release_profile,
        }
    }
}

/// Injected misbehaviour.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct InjectedCounts {
    /// Requests delayed by a rule.
    pub delay: u64,
    /// Executed, then dropped.
    pub drop_after_commit: u64,
    /// HTTP 500 without executing.
    pub error_before_commit: u64,
    /// Executed, then HTTP 500.
    pub error_after_commit: u64,
    /// Success reported as a warning.
    pub with_warning: u64,
    /// Answered `Expired`.
    pub expired: u64,
    /// Answered with an unexpected `X-Admin-Protocol`.
    pub wrong_admin_protocol: u64,
    /// Answered with a charset parameter.
    pub content_type_charset: u64,
    /// Never answered.
    pub timeout: u64,
    /// Reservations dropped, then HTTP 500.
    pub lost_reservation: u64,
}

impl InjectedCounts {
    pub(crate) fn record(&mut self, a: Action) {
        let slot = match a {
            Action::Delay(_) => &mut self.delay,
            Action::DropAfterCommit => &mut self.drop_after_commit,
            Action::ServerErrorBeforeCommit => &mut self.error_before_commit,
            Action::ServerErrorAfterCommit => &mut self.error_after_commit,
            Action::WithWarning => &mut self.with_warning,
            Action::Expired => &mut self.expired,
            Action::WrongAdminProtocol => &mut self.wrong_admin_protocol,
            Action::ContentTypeCharset => &mut self.content_type_charset,
            Action::Timeout => &mut self.timeout,
            Action::LoseReservation => &mut self.lost_reservation,
        };
        *slot += 1;
    }
}

/// Everything counted since start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SmdpCounts {
    /// Requests per function (counted once the path is known).
    pub requests: FunctionCounts,
    /// Functions executed with success.
    pub succeeded: FunctionCounts,
    /// Functions answered Failed (by the state machine or the checks before it).
    pub failed: FunctionCounts,
    /// Requests from a certificate that maps to no operator.
    pub unmapped_certificate: u64,
    /// Bodies that did not decode.
    pub malformed: u64,
    /// Injected faults.
    pub injected: InjectedCounts,
}

impl SmdpCounts {
    pub(crate) fn request(&mut self, f: Function) {
        *self.requests.slot(f) += 1;
    }

    pub(crate) fn outcome(&mut self, f: Function, ok: bool) {
        if ok {
            *self.succeeded.slot(f) += 1;
        } else {
            *self.failed.slot(f) += 1;
        }
    }
}
