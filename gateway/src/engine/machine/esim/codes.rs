//! The SM-DP+ status codes (SGP.22 §5.2.6) as the reseller sees them: one stable error
//! code per refusal, with what to do next, and which refusals mean our stock is wrong.

use super::{Es2Call, Es2Failure};
use crate::order::OrderError;

/// The reseller-facing error for a permanent SM-DP+ refusal, with what to do next.
pub fn smdp_error(call: Es2Call, f: &Es2Failure) -> OrderError {
    let pair = f.pair();
    let (code, what) = match f.codes.as_ref().map(|(s, r)| (s.as_str(), r.as_str())) {
        Some(("8.2.5", "3.7")) => (
            "esim_stock_out",
            "the SM-DP+ has no profile of this type left; order more profiles from the eSIM vendor",
        ),
        Some(("8.2.5", "3.9" | "1.2")) => (
            "esim_profile_type_refused",
            "the SM-DP+ does not offer this profile type to us; check the product's `esim_profile_type`",
        ),
        Some(("8.2.5", "3.8")) => (
            "esim_profile_type_mismatch",
            "the SM-DP+ holds this profile under another profile type; re-import the profile batch with the right type",
        ),
        Some(("8.2.1", "3.9")) => (
            "esim_profile_unknown",
            "the SM-DP+ does not know this profile; the profile was taken out of stock, reconcile the batch with the eSIM vendor and retry the order",
        ),
        Some(("8.2.1", "1.2")) => (
            "esim_profile_not_allowed",
            "the SM-DP+ says this profile belongs to another operator; it was taken out of stock, retry the order",
        ),
        Some(("8.2.1", "3.3")) => (
            "esim_profile_in_use",
            "the SM-DP+ says this profile is already reserved or used; it was taken out of stock, retry the order",
        ),
        Some(("8.1.1", "3.10")) => (
            "esim_eid_mismatch",
            "the SM-DP+ has this profile bound to another EID; retry the order, checking the device's EID",
        ),
        Some(("8.1.1", "2.2")) => (
            "esim_eid_required",
            "the SM-DP+ requires the device's EID for this profile; retry with `sim.eid`",
        ),
        Some(("8.2.6", "3.3")) => (
            "esim_matching_id_in_use",
            "the SM-DP+ refused our MatchingID as already used; retry the order",
        ),
        Some(_) if !f.retryable => (
            "smdp_rejected",
            "the SM-DP+ refused the order; contact the eSIM vendor with the status code",
        ),
        _ => (
            "smdp_unavailable",
            "the SM-DP+ did not answer in time; retry the activation later",
        ),
    };
    OrderError {
        code: code.into(),
        detail: format!(
            "ES2+ {} failed ({pair}: {}): {what}; the number goes back to the pool once the order is undone (status `failed`)",
            call.name().trim_start_matches("es2_"),
            f.message
        ),
    }
}

/// Whether a DownloadOrder refusal means our inventory is wrong about the profile, so it
/// must leave stock rather than be handed to the next customer.
pub(super) fn download_refusal_retires(f: &Es2Failure) -> bool {
    f.codes
        .as_ref()
        .is_some_and(|(s, _)| s == "8.2.1" || s == "8.2.5")
}
