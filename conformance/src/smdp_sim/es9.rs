//! The customer side (ES9+ as seen from ES2+): eligibility, Confirmation Code attempts,
//! download, installation result, CancelSession and the automatic Error → Available
//! recovery. Pure like `inventory`: each event returns the notifications it causes.

use super::cc;
use super::codes::{self, Code};
use super::inventory::Inventory;
use super::package;
use super::state::{Notice, Profile, ProfileState};
use adapters::es2plus::{FunctionExecutionStatus, NotificationPoint};
use serde::{Deserialize, Serialize};
use sim_profiles::Iccid;
use sim_profiles::profile::encode_tlv;

/// The ES9+ CancelSession reasons (Tables 32b/32c) with their wire numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum CancelReason {
    /// 0: the user declined the profile.
    EndUserRejection,
    /// 1: the user postponed (no notification, stays Released).
    Postponed,
    /// 2: the session timed out (no notification, stays Released).
    Timeout,
    /// 3: a profile policy rule is not allowed.
    PprNotAllowed,
    /// 4: the metadata does not match.
    MetadataMismatch,
    /// 5: loading the bound package failed.
    LoadBppExecutionError,
    /// 127: no reason given.
    UndefinedReason,
}

impl CancelReason {
    /// Every reason.
    pub const ALL: [Self; 7] = [
        Self::EndUserRejection,
        Self::Postponed,
        Self::Timeout,
        Self::PprNotAllowed,
        Self::MetadataMismatch,
        Self::LoadBppExecutionError,
        Self::UndefinedReason,
    ];

    /// The code the notification carries; `None` when the session merely pauses.
    pub fn code(self) -> Option<Code> {
        match self {
            Self::EndUserRejection => Some(codes::END_USER_REJECTION),
            Self::Postponed | Self::Timeout => None,
            Self::PprNotAllowed => Some(codes::PPR_NOT_ALLOWED),
            Self::MetadataMismatch => Some(codes::METADATA_MISMATCH),
            Self::LoadBppExecutionError => Some(codes::BPP_EXECUTION_ERROR),
            Self::UndefinedReason => Some(codes::UNDEFINED_REASON),
        }
    }
}

/// What the eUICC reports after loading the package.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstallResult {
    /// Installed.
    Success,
    /// Failed at `bpp_command_id` with `error_reason` (e.g. 9 ICCID exists, 10 memory).
    Failure {
        /// The BPP command that failed (0–5).
        bpp_command_id: u8,
        /// The eUICC's error reason.
        error_reason: u8,
    },
}

/// The effect of an ES9+ event that changed something.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Es9Outcome {
    /// Set when the device's request was refused (the state may still have changed).
    pub refused: Option<Code>,
    /// Notifications to send, in order.
    pub notices: Vec<Notice>,
}

impl Es9Outcome {
    fn notify(notice: Notice) -> Self {
        Self {
            refused: None,
            notices: vec![notice],
        }
    }
}

/// The ISD-P AID reported in a successful installation result.
const ISD_P_AID: [u8; 16] = [
    0xA0, 0x00, 0x00, 0x05, 0x59, 0x10, 0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0x89, 0x00, 0x00, 0x10, 0x00,
];

/// `finalResult` DER: `A2 { A0 { 4F aid, 04 simaResponse } }` on success,
/// `A2 { A1 { 80 bppCommandId, 81 errorReason } }` on failure.
pub fn final_result_der(result: InstallResult) -> Vec<u8> {
    let inner = match result {
        InstallResult::Success => {
            let mut v = encode_tlv(0x4F, &ISD_P_AID);
            v.extend(encode_tlv(0x04, &[0x90, 0x00]));
            encode_tlv(0xA0, &v)
        }
        InstallResult::Failure {
            bpp_command_id,
            error_reason,
        } => {
            let mut v = encode_tlv(0x80, &[bpp_command_id]);
            v.extend(encode_tlv(0x81, &[error_reason]));
            encode_tlv(0xA1, &v)
        }
    };
    encode_tlv(0xA2, &inner)
}

fn failed(code: Code) -> FunctionExecutionStatus {
    code.failed()
}

/// Moves `p` to Error at `now`.
fn to_error(p: &mut Profile, now: &str) {
    p.state = ProfileState::Error;
    p.changed_at = Some(now.to_owned());
}

impl Inventory {
    /// The profile a device session can act on: Released (or Downloaded when `retry`).
    /// Confirmed is refused with 8.2/1.2; other states with 8.2/3.7.
    fn in_session(&mut self, iccid: &Iccid, retry: bool) -> Result<&mut Profile, Code> {
        let p = self.get_mut(iccid).ok_or(codes::ICCID_UNKNOWN)?;
        match p.state {
            ProfileState::Released => Ok(p),
            ProfileState::Downloaded if retry => Ok(p),
            ProfileState::Confirmed => Err(codes::NOT_RELEASED),
            _ => Err(codes::BPP_UNAVAILABLE),
        }
    }

    /// The eligibility check: pass sends point 1 success; fail ends the order in Error
    /// with point 1 Failed 8.2.5/4.3.
    pub fn eligibility(
        &mut self,
        iccid: &Iccid,
        eligible: bool,
        now: &str,
    ) -> Result<Es9Outcome, Code> {
        let p = self.in_session(iccid, true)?;
        let point = NotificationPoint::EligibilityAndRetryLimit;
        if eligible {
            return Ok(Es9Outcome::notify(Notice::about(
                p,
                point,
                FunctionExecutionStatus::success(),
            )));
        }
        to_error(p, now);
        Ok(Es9Outcome {
            refused: Some(codes::NOT_ELIGIBLE),
            notices: vec![Notice::about(p, point, failed(codes::NOT_ELIGIBLE))],
        })
    }

    /// A Confirmation Code check of the LPA's `hashCc` for `transaction_id`. A wrong code
    /// counts and sends point 2 (8.2.7/3.8); reaching the limit ends the order in Error
    /// with point 2 8.2.7/6.4. A right code lets the download go ahead.
    pub fn cc_attempt(
        &mut self,
        iccid: &Iccid,
        transaction_id: &[u8],
        hash_cc: &[u8],
        now: &str,
    ) -> Result<Es9Outcome, Code> {
        let limit = self.policy().cc_attempt_limit;
        let p = self.in_session(iccid, true)?;
        let stored = p.cc_hash.ok_or(codes::CC_REFUSED)?;
        if cc::verify(&stored, transaction_id, hash_cc) {
            p.cc_verified = true;
            return Ok(Es9Outcome::default());
        }
        p.cc_attempts = p.cc_attempts.saturating_add(1);
        let code = if p.cc_attempts >= limit {
            to_error(p, now);
            codes::CC_LIMIT
        } else {
            codes::CC_REFUSED
        };
        Ok(Es9Outcome {
            refused: Some(code),
            notices: vec![Notice::about(
                p,
                NotificationPoint::ConfirmationFailure,
                failed(code),
            )],
        })
    }

    /// A download (GetBoundProfilePackage): Released or Downloaded → Downloaded with the
    /// personalised package and point 3. Needs a verified code when one was set; one
    /// attempt beyond the limit ends the order in Error with point 1 8.8.5/6.4.
    pub fn download(&mut self, iccid: &Iccid, now: &str) -> Result<Es9Outcome, Code> {
        let limit = self.policy().download_attempt_limit;
        let p = self.in_session(iccid, true)?;
        if p.cc_hash.is_some() && !p.cc_verified {
            return Err(codes::CC_MISSING);
        }
        p.download_attempts = p.download_attempts.saturating_add(1);
        if p.download_attempts > limit {
            to_error(p, now);
            return Ok(Es9Outcome {
                refused: Some(codes::DOWNLOAD_LIMIT),
                notices: vec![Notice::about(
                    p,
                    NotificationPoint::EligibilityAndRetryLimit,
                    failed(codes::DOWNLOAD_LIMIT),
                )],
            });
        }
        let der = package::build(p).map_err(|e| {
            tracing::warn!(error = %e, "profile package could not be built");
            codes::BPP_UNAVAILABLE
        })?;
        p.package = Some(der);
        p.state = ProfileState::Downloaded;
        p.changed_at = Some(now.to_owned());
        Ok(Es9Outcome::notify(Notice::about(
            p,
            NotificationPoint::BppDownload,
            FunctionExecutionStatus::success(),
        )))
    }

    /// The installation result (ES9+ HandleNotification): Downloaded → Installed with
    /// point 4 success, or → Error with point 4 Failed; both carry `resultData`.
    pub fn install(
        &mut self,
        iccid: &Iccid,
        result: InstallResult,
        now: &str,
    ) -> Result<Es9Outcome, Code> {
        let p = self.get_mut(iccid).ok_or(codes::ICCID_UNKNOWN)?;
        if p.state != ProfileState::Downloaded {
            return Err(codes::BPP_UNAVAILABLE);
        }
        let status = match result {
            InstallResult::Success => {
                p.state = ProfileState::Installed;
                FunctionExecutionStatus::success()
            }
            InstallResult::Failure { error_reason, .. } => {
                p.state = ProfileState::Error;
                failed(if error_reason == 10 {
                    codes::EUICC_MEMORY_FULL
                } else {
                    codes::BPP_EXECUTION_ERROR
                })
            }
        };
        p.changed_at = Some(now.to_owned());
        let mut notice = Notice::about(p, NotificationPoint::BppInstallation, status);
        notice.result_data = Some(final_result_der(result));
        Ok(Es9Outcome::notify(notice))
    }

    /// ES9+ CancelSession: postponed/timeout change nothing and notify nobody; every other
    /// reason ends the order in Error and notifies its code, at point 3 before the package
    /// was delivered and at point 4 after (a simulator convention).
    pub fn cancel_session(
        &mut self,
        iccid: &Iccid,
        reason: CancelReason,
        now: &str,
    ) -> Result<Es9Outcome, Code> {
        let p = self.in_session(iccid, true)?;
        let Some(code) = reason.code() else {
            return Ok(Es9Outcome::default());
        };
        let point = if p.state == ProfileState::Downloaded {
            NotificationPoint::BppInstallation
        } else {
            NotificationPoint::BppDownload
        };
        to_error(p, now);
        Ok(Es9Outcome::notify(Notice::about(p, point, failed(code))))
    }

    /// The automatic transition Error → Available (the order's bindings are forgotten).
    pub fn recover(&mut self, iccid: &Iccid, now: &str) -> Result<(), Code> {
        let p = self.get_mut(iccid).ok_or(codes::ICCID_UNKNOWN)?;
        if p.state != ProfileState::Error {
            return Err(codes::INVALID_TRANSITION);
        }
        p.clear_order();
        p.state = ProfileState::Available;
        p.changed_at = Some(now.to_owned());
        Ok(())
    }
}
