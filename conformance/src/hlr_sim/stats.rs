//! Request and injection counters, for test assertions and `GET /sim/stats`.

use super::codec::{MoKind, Operation};
use super::faults::FaultKind;
use serde::Serialize;

/// Requests per managed-object kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct KindCounts {
    /// GsmHlr requests.
    pub gsm_hlr: u64,
    /// GsmAuc requests.
    pub gsm_auc: u64,
}

impl KindCounts {
    fn slot(&mut self, kind: MoKind) -> &mut u64 {
        match kind {
            MoKind::GsmHlr => &mut self.gsm_hlr,
            MoKind::GsmAuc => &mut self.gsm_auc,
        }
    }

    fn get(&self, kind: MoKind) -> u64 {
        match kind {
            MoKind::GsmHlr => self.gsm_hlr,
            MoKind::GsmAuc => self.gsm_auc,
        }
    }

    fn total(&self) -> u64 {
        self.gsm_hlr + self.gsm_auc
    }
}

/// Injected faults and other deliberate misbehaviour, per kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct InjectedCounts {
    /// 4005 faults.
    pub busy: u64,
    /// 1001/1010 faults (injected, not genuine session errors).
    pub session: u64,
    /// 4006/13001 faults.
    pub external: u64,
    /// 4001 faults.
    pub invalid: u64,
    /// Requests never answered nor applied.
    pub timeout: u64,
    /// Requests applied, then the connection closed.
    pub drop_after_apply: u64,
    /// Requests applied, then the connection held.
    pub hang_after_apply: u64,
    /// Requests delayed by a scripted `Delay` rule.
    pub delay: u64,
}

impl InjectedCounts {
    /// Counts one injected fault of `kind`.
    pub(crate) fn fault(&mut self, kind: FaultKind) {
        match kind {
            FaultKind::Busy => self.busy += 1,
            FaultKind::Session => self.session += 1,
            FaultKind::External => self.external += 1,
            FaultKind::Invalid => self.invalid += 1,
        }
    }

    /// All injections except delays (which still answer).
    pub fn total(&self) -> u64 {
        self.busy
            + self.session
            + self.external
            + self.invalid
            + self.timeout
            + self.drop_after_apply
            + self.hang_after_apply
    }
}

/// Everything counted since start (state resets do not clear counters).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SimCounts {
    /// Login requests.
    pub login: u64,
    /// Logout requests.
    pub logout: u64,
    /// Create requests per kind.
    pub create: KindCounts,
    /// Get requests per kind.
    pub get: KindCounts,
    /// Set requests per kind.
    pub set: KindCounts,
    /// Delete requests per kind.
    pub delete: KindCounts,
    /// Bodies the codec could not decode (answered with a 4001 fault).
    pub undecodable: u64,
    /// Bodies over the size limit (answered with HTTP 413).
    pub oversized: u64,
    /// Injected faults.
    pub injected: InjectedCounts,
}

impl SimCounts {
    /// Counts one decoded request.
    pub(crate) fn record(&mut self, op: Operation, kind: Option<MoKind>) {
        match (op, kind) {
            (Operation::Login, _) => self.login += 1,
            (Operation::Logout, _) => self.logout += 1,
            (Operation::Create, Some(k)) => *self.create.slot(k) += 1,
            (Operation::Get, Some(k)) => *self.get.slot(k) += 1,
            (Operation::Set, Some(k)) => *self.set.slot(k) += 1,
            (Operation::Delete, Some(k)) => *self.delete.slot(k) += 1,
            (Operation::Create | Operation::Get | Operation::Set | Operation::Delete, None) => {}
        }
    }

    /// Requests seen for `op`; with `kind`, only those on that kind.
    pub fn requests(&self, op: Operation, kind: Option<MoKind>) -> u64 {
        let per_kind = match op {
            Operation::Login => return self.login,
            Operation::Logout => return self.logout,
            Operation::Create => &self.create,
            Operation::Get => &self.get,
            Operation::Set => &self.set,
            Operation::Delete => &self.delete,
        };
        kind.map_or_else(|| per_kind.total(), |k| per_kind.get(k))
    }
}
