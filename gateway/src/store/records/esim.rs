//! eSIM progress mirrored from the SM-DP+, and the notifications it came from.

use serde::{Deserialize, Serialize};
use sim_profiles::Iccid;

pub use crate::order::EsimState;

/// One notification point as the order shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressPoint {
    /// The notification point id (1–4 standard, 5–99 reserved, ≥ 100 vendor-specific).
    pub point: u32,
    /// `Executed-Success`, `Failed`, … as sent.
    pub status: String,
    /// `subject/reason` for a failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// When the step happened, as the SM-DP+ wrote it.
    pub timestamp: String,
    /// Unix ms we received it.
    pub received_at_ms: u64,
}

/// The download progress of one eSIM order (table `esim_progress`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EsimProgress {
    /// The mirrored state; `None` until a notification arrives (the order's own status
    /// then tells whether the profile is released yet).
    pub state: Option<EsimState>,
    /// The points received, in arrival order (bounded).
    pub points: Vec<ProgressPoint>,
}

/// Most progress points kept per order.
pub const MAX_PROGRESS_POINTS: usize = 32;

/// A HandleDownloadProgressInfo to record (already parsed leniently).
#[derive(Clone, Debug)]
pub struct NotificationIn {
    /// The ICCID, normalised (no trailing `F`).
    pub iccid: Iccid,
    /// The notification point id.
    pub point: u32,
    /// The status as sent.
    pub status: String,
    /// `Some(true)` for a success status, `Some(false)` for `Failed`, `None` for `Expired`
    /// or an unknown status (stored, changes no state).
    pub success: Option<bool>,
    /// `subject/reason` of a failure.
    pub code: Option<String>,
    /// The timestamp as sent.
    pub timestamp: String,
    /// The tenants the sending SM-DP+ serves (empty: all).
    pub tenants: Vec<String>,
    /// The raw body, kept for audit.
    pub raw: String,
    /// Unix ms now.
    pub now_ms: u64,
}

impl NotificationIn {
    /// The de-duplication key: ICCID, point, status and timestamp.
    pub fn dedupe_key(&self) -> String {
        format!(
            "{}|{}|{}|{}",
            self.iccid, self.point, self.status, self.timestamp
        )
    }
}

/// What recording a notification did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotificationOutcome {
    /// It updated an order's progress.
    Applied {
        /// The order.
        order: String,
    },
    /// Seen before (same ICCID, point, status and timestamp): ignored.
    Duplicate,
    /// The ICCID is not an eSIM profile we hold: recorded only.
    UnknownIccid,
    /// The profile belongs to a tenant this SM-DP+ does not serve: recorded only.
    ForeignTenant,
    /// The profile is in stock, not in any order: recorded only.
    NoOrder,
}

/// A received notification as stored (table `notifications`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationRecord {
    /// Unix ms received.
    pub received_at_ms: u64,
    /// What it did.
    pub outcome: NotificationOutcome,
    /// The raw body.
    pub raw: String,
}
