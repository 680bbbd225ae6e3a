//! What can be injected on the ES2+ endpoint: random rates ([`FaultConfig`]) and scripted
//! rules ([`Rule`]), planned per request by `fault_plan`.

use super::error::SmdpSimError;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// The four ES2+ order functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Function {
    /// DownloadOrder.
    DownloadOrder,
    /// ConfirmOrder.
    ConfirmOrder,
    /// CancelOrder.
    CancelOrder,
    /// ReleaseProfile.
    ReleaseProfile,
}

impl Function {
    /// Every function.
    pub const ALL: [Self; 4] = [
        Self::DownloadOrder,
        Self::ConfirmOrder,
        Self::CancelOrder,
        Self::ReleaseProfile,
    ];

    /// The function served at `path` (Table 57).
    pub fn from_path(path: &str) -> Option<Self> {
        use adapters::es2plus::path;
        match path {
            path::DOWNLOAD_ORDER => Some(Self::DownloadOrder),
            path::CONFIRM_ORDER => Some(Self::ConfirmOrder),
            path::CANCEL_ORDER => Some(Self::CancelOrder),
            path::RELEASE_PROFILE => Some(Self::ReleaseProfile),
            _ => None,
        }
    }
}

/// What a matching [`Rule`] (or a random draw) does to one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Wait this long (on top of configured latency), then process normally.
    Delay(Duration),
    /// Execute, then close the connection without any response (a lost response).
    DropAfterCommit,
    /// Answer HTTP 500 without executing.
    ServerErrorBeforeCommit,
    /// Execute, then answer HTTP 500 (the client cannot know it ran).
    ServerErrorAfterCommit,
    /// Execute; a success is reported as `Executed-WithWarning`.
    WithWarning,
    /// Do not execute; answer `Expired`.
    Expired,
    /// Execute; answer with an unexpected `X-Admin-Protocol` (`gsma/rsp/v1.0.0`).
    WrongAdminProtocol,
    /// Execute; answer `Content-Type: application/json;charset=UTF-8`.
    ContentTypeCharset,
    /// Do not execute and never answer; the connection is held until the client gives up.
    Timeout,
    /// Do not execute; the profile the request names goes back to Available as if the
    /// SM-DP+ had lost its reservation (order data cleared, from Allocated, Linked,
    /// Confirmed or Released), then answer HTTP 500 (the client cannot know what ran).
    LoseReservation,
}

/// A scripted injection: rules are tried in insertion order, the first match fires and
/// counts down, and is removed when `times` reaches zero.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Only this function (any when `None`).
    pub function: Option<Function>,
    /// What to do.
    pub action: Action,
    /// How many matching requests it applies to; 0 never fires.
    pub times: u32,
}

impl Rule {
    /// A rule firing once on `function`.
    pub fn once(function: Function, action: Action) -> Self {
        Self {
            function: Some(function),
            action,
            times: 1,
        }
    }

    /// A rule firing `times` times on any function.
    pub fn any(action: Action, times: u32) -> Self {
        Self {
            function: None,
            action,
            times,
        }
    }

    pub(crate) fn matches(&self, f: Function) -> bool {
        self.function.is_none_or(|x| x == f)
    }
}

impl crate::common::fault_rates::CountedRule for Rule {
    fn remaining(&mut self) -> &mut u32 {
        &mut self.times
    }
}

/// Random fault injection: mutually exclusive fractions of ES2+ requests (summing to at
/// most 1) plus latency. All zero (the default) injects nothing; rules take precedence.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultConfig {
    /// Fixed delay before every ES2+ answer (`latency_ms` on the wire).
    #[serde(with = "millis", rename = "latency_ms")]
    pub latency: Duration,
    /// Extra uniform random delay in `[0, jitter]` (`jitter_ms` on the wire).
    #[serde(with = "millis", rename = "jitter_ms")]
    pub jitter: Duration,
    /// Fraction executed, then dropped without a response.
    pub drop_after_commit: f64,
    /// Fraction answered HTTP 500 without executing.
    pub error_before_commit: f64,
    /// Fraction executed, then answered HTTP 500.
    pub error_after_commit: f64,
    /// Fraction whose success is reported `Executed-WithWarning`.
    pub with_warning: f64,
    /// Fraction answered `Expired` without executing.
    pub expired: f64,
    /// Fraction answered with an unexpected `X-Admin-Protocol`.
    pub wrong_admin_protocol: f64,
    /// Fraction answered with `Content-Type: application/json;charset=UTF-8`.
    pub content_type_charset: f64,
    /// Fraction never answered nor executed.
    pub timeout: f64,
}

impl FaultConfig {
    /// The fractions with their names and actions, in the order the draw walks them.
    pub(crate) fn fractions(&self) -> [(&'static str, f64, Action); 8] {
        [
            (
                "drop_after_commit",
                self.drop_after_commit,
                Action::DropAfterCommit,
            ),
            (
                "error_before_commit",
                self.error_before_commit,
                Action::ServerErrorBeforeCommit,
            ),
            (
                "error_after_commit",
                self.error_after_commit,
                Action::ServerErrorAfterCommit,
            ),
            ("with_warning", self.with_warning, Action::WithWarning),
            ("expired", self.expired, Action::Expired),
            (
                "wrong_admin_protocol",
                self.wrong_admin_protocol,
                Action::WrongAdminProtocol,
            ),
            (
                "content_type_charset",
                self.content_type_charset,
                Action::ContentTypeCharset,
            ),
            ("timeout", self.timeout, Action::Timeout),
        ]
    }

    /// Checks every fraction is in `0..=1` and that they sum to at most 1.
    pub fn validate(&self) -> Result<(), SmdpSimError> {
        let named = self.fractions().map(|(n, f, _)| (n, f));
        crate::common::fault_rates::validate(&named).map_err(SmdpSimError::Faults)
    }
}

/// Durations as whole milliseconds on the admin wire.
mod millis {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}
