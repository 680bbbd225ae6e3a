//! The activation order: its persisted form and public status. The order is the unit of
//! durability: every state change is one record rewrite committed before anyone acts on it.

use crate::crypto::Sealed;
use serde::{Deserialize, Serialize};
use sim_profiles::{Iccid, Imsi, Msisdn};

/// The public lifecycle status. `active` and `failed` are terminal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    /// SIM and number are reserved for this order; nothing sent southbound yet.
    Reserved,
    /// The HLR/AUC subscriber is being created (possibly waiting to retry).
    HlrProvisioning,
    /// eSIM: the profile is being reserved at the SM-DP+ (ES2+ DownloadOrder).
    EsimOrdering,
    /// eSIM: HLR done; the profile is being confirmed and released (ES2+ ConfirmOrder).
    EsimReleasing,
    /// Provisioned on the HLR (and, for an eSIM, released at the SM-DP+); SIM and number
    /// are assigned.
    Active,
    /// A permanent failure happened; what was created southbound is being removed.
    Compensating,
    /// Failed and compensated; SIM and number are back in the pool.
    Failed,
}

impl OrderStatus {
    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reserved => "reserved",
            Self::HlrProvisioning => "hlr_provisioning",
            Self::EsimOrdering => "esim_ordering",
            Self::EsimReleasing => "esim_releasing",
            Self::Active => "active",
            Self::Compensating => "compensating",
            Self::Failed => "failed",
        }
    }

    /// True for `active` and `failed`.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Active | Self::Failed)
    }
}

/// Progress of one southbound step, recorded before it is attempted and after it answers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Step {
    /// Not attempted yet.
    Pending,
    /// Attempt `attempt` was sent (or is about to be); its outcome is unknown until recorded.
    Sent {
        /// 1-based attempt number.
        attempt: u32,
    },
    /// Attempt `attempt` failed retryably; the next one is due at `retry_at_ms`.
    RetryWait {
        /// The attempt that failed.
        attempt: u32,
        /// Unix ms when the next attempt is due.
        retry_at_ms: u64,
        /// Why it failed.
        last_error: String,
    },
    /// Finished successfully.
    Done {
        /// Short outcome, e.g. `created` or `already_present`.
        outcome: String,
    },
    /// Failed for good at attempt `attempt`; the order is compensated.
    Failed {
        /// The last attempt.
        attempt: u32,
        /// Why.
        error: String,
    },
}

/// Why an order failed: a stable code plus a human explanation of what to do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderError {
    /// Stable snake_case code.
    pub code: String,
    /// What happened and what to do next.
    pub detail: String,
}

/// How the MSISDN was chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MsisdnMode {
    /// The gateway picked a free number from the tenant's pool.
    Auto,
    /// The customer chose a specific number from the pool.
    Choose,
    /// A number held by a checkout reservation.
    Reservation,
}

/// A persisted activation order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// `act_` + 26 base32 characters.
    pub id: String,
    /// Owning tenant.
    pub tenant: String,
    /// Public status.
    pub status: OrderStatus,
    /// The reserved card.
    pub iccid: Iccid,
    /// The card's IMSI.
    pub imsi: Imsi,
    /// The reserved number.
    pub msisdn: Msisdn,
    /// How the number was chosen.
    pub msisdn_mode: MsisdnMode,
    /// The tenant's product code.
    pub product: String,
    /// HLR profile id the product maps to.
    pub hlr_profile_id: u32,
    /// Channel metadata from the request (store, terminal, checkout...), not secret.
    pub channel: Option<serde_json::Value>,
    /// Subscriber details from the request, sealed (may hold ID numbers).
    pub subscriber: Option<Sealed>,
    /// The HLR provisioning step.
    pub hlr: Step,
    /// The compensation step (HLR deprovisioning), once a permanent failure happened.
    pub undo: Option<Step>,
    /// Why the order failed.
    pub error: Option<OrderError>,
    /// Set while an operator must look at the order; `attention` says why.
    pub needs_attention: bool,
    /// Why the order needs attention (empty in records written before reasons existed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attention: Vec<AttentionReason>,
    /// The eSIM part of the order; `None` for a physical SIM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub esim: Option<EsimOrder>,
    /// Unix ms of creation.
    pub created_at_ms: u64,
    /// Unix ms of the last change.
    pub updated_at_ms: u64,
    /// Incremented on every persisted change (optimistic concurrency check in the store).
    pub version: u64,
}

impl Order {
    /// Flags the order for an operator with `reason` (once per reason).
    pub fn raise(&mut self, reason: AttentionReason) {
        if !self.attention.contains(&reason) {
            self.attention.push(reason);
        }
        self.needs_attention = true;
    }

    /// Withdraws `reason` because what it reported resolved by itself; the order still
    /// needs attention if another reason remains.
    pub fn settle(&mut self, reason: AttentionReason) {
        if let Some(at) = self.attention.iter().position(|r| *r == reason) {
            self.attention.remove(at);
            self.needs_attention = !self.attention.is_empty();
        }
    }
}

/// Why an order needs an operator (`needs_attention`), stored on the order and shown by
/// the API. The `*_stalled` reasons are withdrawn when the step finally succeeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttentionReason {
    /// HLR compensation found subscriber data this order did not create and left it.
    HlrForeignData,
    /// HLR compensation keeps failing past the retry budget; it goes on retrying at the
    /// capped backoff, and the SIM and number stay reserved until it succeeds.
    HlrCleanupStalled,
    /// ES2+ CancelOrder keeps failing past the retry budget; it goes on retrying at the
    /// capped backoff, and the profile may still be reserved at the SM-DP+.
    SmdpCancelStalled,
    /// The SM-DP+ disagrees with our stock about the profile (unknown, another operator's,
    /// already in use, another type): it was taken out of stock.
    EsimStockMismatch,
    /// CancelOrder found the profile downloaded, or bound to another EID or MatchingID:
    /// it could not be put back and was taken out of stock.
    EsimProfileNotCancellable,
    /// A repeated ConfirmOrder was refused and neither ReleaseProfile nor a repeated
    /// DownloadOrder showed the profile released or available again.
    EsimReleaseUnverified,
}

impl AttentionReason {
    /// Every reason.
    pub const ALL: [Self; 6] = [
        Self::HlrForeignData,
        Self::HlrCleanupStalled,
        Self::SmdpCancelStalled,
        Self::EsimStockMismatch,
        Self::EsimProfileNotCancellable,
        Self::EsimReleaseUnverified,
    ];

    /// Stable snake_case name (API, logs, metric label).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HlrForeignData => "hlr_foreign_data",
            Self::HlrCleanupStalled => "hlr_cleanup_stalled",
            Self::SmdpCancelStalled => "smdp_cancel_stalled",
            Self::EsimStockMismatch => "esim_stock_mismatch",
            Self::EsimProfileNotCancellable => "esim_profile_not_cancellable",
            Self::EsimReleaseUnverified => "esim_release_unverified",
        }
    }

    /// What happened and what the operator should do, for the API and the log.
    pub fn detail(self) -> &'static str {
        match self {
            Self::HlrForeignData => {
                "compensation found HLR data this order did not create and left it in place; check the subscriber on the HLR"
            }
            Self::HlrCleanupStalled => {
                "the HLR keeps refusing to remove the subscriber; the gateway retries at the capped backoff and releases the SIM and number once it succeeds; check the HLR"
            }
            Self::SmdpCancelStalled => {
                "the SM-DP+ keeps refusing CancelOrder; the gateway retries at the capped backoff; the profile may still be reserved at the SM-DP+ (see `esim.left_at_smdp`)"
            }
            Self::EsimStockMismatch => {
                "the SM-DP+ disagrees with our stock about this profile; it was taken out of stock; reconcile the batch with the eSIM vendor"
            }
            Self::EsimProfileNotCancellable => {
                "the SM-DP+ could not cancel the profile (downloaded, or bound to another EID or MatchingID); it was taken out of stock; see `esim.left_at_smdp` and reconcile with the eSIM vendor"
            }
            Self::EsimReleaseUnverified => {
                "the SM-DP+ refused a repeated ConfirmOrder and gave no evidence that the profile was released or available again; it was taken out of stock and cancelled; reconcile it with the eSIM vendor"
            }
        }
    }
}

/// The sealing context of an order's subscriber details: binds the ciphertext to its order.
pub fn subscriber_context(order_id: &str) -> String {
    format!("order/{order_id}/subscriber")
}

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
