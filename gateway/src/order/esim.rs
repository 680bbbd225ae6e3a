//! The eSIM half of an order: the ES2+ steps' records, what an undone order left at the
//! SM-DP+, and the download-progress mirror fed by notifications.

use super::{Order, Step};
use crate::crypto::Sealed;
use serde::{Deserialize, Serialize};

/// What becomes of an eSIM profile when its order is undone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProfileFate {
    /// Cancelled as `Available` at the SM-DP+: the profile goes back to stock.
    Reuse,
    /// Cancelled as `Unavailable` (a device may hold it), or not ours to cancel: the
    /// profile leaves stock for good.
    Retire,
}

/// The eSIM half of an order: the ES2+ steps and everything needed to repeat them
/// identically after a crash (MatchingID and call ids are fixed before the first call).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EsimOrder {
    /// The SM-DP+ profile type the profile was taken from.
    pub profile_type: String,
    /// The customer's EID, if given (the profile is then bound to that eUICC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eid: Option<sim_profiles::Eid>,
    /// Our MatchingID (SGP.22 §4.1.1), generated before any call so retries are identical.
    pub matching_id: String,
    /// The confirmation code, sealed (context [`confirmation_code_context`]); delivered to
    /// the reseller once, never logged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confirmation_code: Option<Sealed>,
    /// ES2+ DownloadOrder.
    pub download: Step,
    /// ES2+ ConfirmOrder (releaseFlag true).
    pub confirm: Step,
    /// ES2+ ReleaseProfile, sent only to verify a ConfirmOrder repeat that the SM-DP+
    /// refused as if already done: success is the evidence that the profile is released.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub release_check: Option<Step>,
    /// ES2+ DownloadOrder again, after the SM-DP+ showed the reservation lost: it reserves
    /// the profile anew only if it is Available again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reorder: Option<Step>,
    /// How many times the profile was reserved anew (bounded).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub reorders: u32,
    /// ConfirmOrder attempts made against earlier reservations: only a later attempt's
    /// refusal can be the replay of an earlier one.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub confirm_from: u32,
    /// ES2+ CancelOrder, once the order is being undone after a DownloadOrder was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel: Option<Step>,
    /// What the cancel does with the profile (and what inventory does with the SIM).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fate: Option<ProfileFate>,
    /// The activation code, once released (`1$<smdp>$<matchingId>[$$1]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activation_code: Option<String>,
    /// The `functionCallIdentifier` of the last ES2+ call, persisted before it was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_call_id: Option<String>,
    /// Unix ms after which a never-downloaded profile is cancelled and the number freed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at_ms: Option<u64>,
    /// What of the profile is still at the SM-DP+ although the order is being (or was)
    /// undone; `None` when nothing is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left_at_smdp: Option<LeftAtSmdp>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// What an undone eSIM order left at the SM-DP+.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeftAtSmdp {
    /// CancelOrder has not succeeded yet: the profile may still be reserved for this order
    /// (the gateway keeps retrying).
    Reserved,
    /// CancelOrder has not succeeded yet and the profile was released: its activation code
    /// may still be downloaded (the gateway keeps retrying).
    Released,
    /// The profile was downloaded to a device; the SM-DP+ can no longer cancel it.
    Downloaded,
    /// The profile is bound to another EID or MatchingID; it is not ours to cancel.
    BoundElsewhere,
}

impl LeftAtSmdp {
    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reserved => "reserved",
            Self::Released => "released",
            Self::Downloaded => "downloaded",
            Self::BoundElsewhere => "bound_elsewhere",
        }
    }
}

impl EsimOrder {
    /// A fresh eSIM part: nothing sent yet.
    pub fn new(
        profile_type: String,
        eid: Option<sim_profiles::Eid>,
        matching_id: String,
        confirmation_code: Option<Sealed>,
    ) -> Self {
        Self {
            profile_type,
            eid,
            matching_id,
            confirmation_code,
            download: Step::Pending,
            confirm: Step::Pending,
            release_check: None,
            reorder: None,
            reorders: 0,
            confirm_from: 0,
            cancel: None,
            fate: None,
            activation_code: None,
            last_call_id: None,
            expires_at_ms: None,
            left_at_smdp: None,
        }
    }
}

/// The sealing context of an eSIM order's confirmation code.
pub fn confirmation_code_context(order_id: &str) -> String {
    format!("order/{order_id}/confirmation_code")
}

/// Opens an order's confirmation code in memory only (zeroised on drop); `Ok(None)` for an
/// order without one. Shared by the API (which shows it to the reseller) and the engine
/// (which sends it to the SM-DP+).
pub fn open_confirmation_code(
    keys: &crate::crypto::Keyring,
    order: &Order,
) -> Result<Option<zeroize::Zeroizing<String>>, crate::crypto::CryptoError> {
    let Some(sealed) = order
        .esim
        .as_ref()
        .and_then(|e| e.confirmation_code.as_ref())
    else {
        return Ok(None);
    };
    let clear = keys.open(&confirmation_code_context(&order.id), sealed)?;
    Ok(Some(zeroize::Zeroizing::new(
        String::from_utf8_lossy(&clear).into_owned(),
    )))
}

/// The deterministic `functionCallIdentifier` of one ES2+ call: order, step and attempt.
pub fn es2_call_id(order_id: &str, step: &str, attempt: u32) -> String {
    format!("{order_id}-{step}-{attempt}")
}

/// The mirror of an eSIM profile's progress on the customer's device, as the SM-DP+
/// reported it through HandleDownloadProgressInfo.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EsimState {
    /// Released: the customer may download it.
    Released,
    /// The bound profile package reached the device (point 3).
    Downloaded,
    /// The eUICC installed it (point 4 success).
    Installed,
    /// The SM-DP+ reported a failure (any point Failed).
    Error,
}

impl EsimState {
    /// The mirrored state after notification point `point` with a success or failure status.
    /// Never goes backwards from installed; a failure after install does not undo it; an
    /// unknown point (5–99, ≥ 100) changes nothing.
    pub fn after(state: Option<Self>, point: u32, success: bool) -> Option<Self> {
        use EsimState::*;
        if state == Some(Installed) {
            return state;
        }
        match (point, success) {
            (1..=4, false) => Some(Error),
            (3, true) if state != Some(Error) => Some(Downloaded),
            (4, true) => Some(Installed),
            (1 | 2, true) => state.or(Some(Released)),
            _ => state,
        }
    }

    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Released => "released",
            Self::Downloaded => "downloaded",
            Self::Installed => "installed",
            Self::Error => "error",
        }
    }
}
