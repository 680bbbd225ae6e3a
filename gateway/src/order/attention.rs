//! Why an order needs an operator: the reasons stored on the order and shown by the API.

use serde::{Deserialize, Serialize};

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
    /// A port-in past its lock point cannot finish its cutover: the ported number is not
    /// on our line yet (HLR refusing) or the hub's cutover is overdue. After the lock
    /// there is no way back; the gateway keeps going forward.
    PortCutoverStalled,
}

impl AttentionReason {
    /// Every reason.
    pub const ALL: [Self; 7] = [
        Self::HlrForeignData,
        Self::HlrCleanupStalled,
        Self::SmdpCancelStalled,
        Self::EsimStockMismatch,
        Self::EsimProfileNotCancellable,
        Self::EsimReleaseUnverified,
        Self::PortCutoverStalled,
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
            Self::PortCutoverStalled => "port_cutover_stalled",
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
            Self::PortCutoverStalled => {
                "a port-in past its lock point has not finished its cutover (the HLR keeps refusing the ported number, or the hub's cutover is overdue); the gateway keeps retrying forward; check the HLR and the porting hub for this number"
            }
        }
    }
}
