//! The profile record and its states (reference §5), plus what a state change asks the
//! driver to notify. Plain data: the transitions live in `inventory` and `es9`.

use super::cc::Hash32;
use adapters::es2plus::{Fqdn, FunctionExecutionStatus, MatchingId, NotificationPoint};
use serde::{Deserialize, Serialize};
use sim_profiles::{Eid, Iccid, Imsi, Key128};

/// A profile's state at the SM-DP+ (SGP.22 §3.1.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ProfileState {
    /// In inventory.
    Available,
    /// Reserved without an EID.
    Allocated,
    /// Reserved and bound to an EID.
    Linked,
    /// Confirmed, not downloadable yet.
    Confirmed,
    /// Downloadable.
    Released,
    /// Bound profile package delivered to the LPA.
    Downloaded,
    /// The eUICC reported a successful installation.
    Installed,
    /// A limit, a rejection or a failure ended the download.
    Error,
    /// Never reused.
    Unavailable,
}

impl ProfileState {
    /// Every state, in the order of the reference table.
    pub const ALL: [Self; 9] = [
        Self::Available,
        Self::Allocated,
        Self::Linked,
        Self::Confirmed,
        Self::Released,
        Self::Downloaded,
        Self::Installed,
        Self::Error,
        Self::Unavailable,
    ];
}

/// Identifiers and keys written into the profile package at download. Keys print as `***`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Personal {
    /// IMSI for EF.IMSI.
    pub imsi: Option<Imsi>,
    /// Ki for the Milenage AKA parameter.
    pub ki: Option<Key128>,
    /// OPc for the Milenage AKA parameter.
    pub opc: Option<Key128>,
}

/// One profile in the SM-DP+ inventory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    /// The ICCID (normalised: no trailing `F`).
    pub iccid: Iccid,
    /// The agreed profile type.
    pub profile_type: String,
    /// The owning operator (its requester identifier).
    pub owner: String,
    /// The current state.
    pub state: ProfileState,
    /// The bound EID.
    pub eid: Option<Eid>,
    /// The bound MatchingID.
    pub matching_id: Option<MatchingId>,
    /// SHA-256 of the Confirmation Code, if one was given.
    pub cc_hash: Option<Hash32>,
    /// True once a Confirmation Code attempt succeeded in this order.
    pub cc_verified: bool,
    /// The SM-DS address of the order.
    pub smds_address: Option<Fqdn>,
    /// Download attempts in this order.
    pub download_attempts: u32,
    /// Failed Confirmation Code attempts in this order.
    pub cc_attempts: u32,
    /// When the state last changed (as passed in by the caller).
    pub changed_at: Option<String>,
    /// Data for the personalised package.
    pub personal: Personal,
    /// The personalised package (DER), once downloaded.
    pub package: Option<Vec<u8>>,
}

impl Profile {
    /// A fresh Available profile.
    pub fn new(
        iccid: Iccid,
        profile_type: impl Into<String>,
        owner: impl Into<String>,
        personal: Personal,
    ) -> Self {
        Self {
            iccid,
            profile_type: profile_type.into(),
            owner: owner.into(),
            state: ProfileState::Available,
            eid: None,
            matching_id: None,
            cc_hash: None,
            cc_verified: false,
            smds_address: None,
            download_attempts: 0,
            cc_attempts: 0,
            changed_at: None,
            personal,
            package: None,
        }
    }

    /// Forgets everything bound by an order (CancelOrder, automatic recovery).
    pub(crate) fn clear_order(&mut self) {
        self.eid = None;
        self.matching_id = None;
        self.cc_hash = None;
        self.cc_verified = false;
        self.smds_address = None;
        self.download_attempts = 0;
        self.cc_attempts = 0;
        self.package = None;
    }
}

/// A notification a transition asks the driver to send to the profile's owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// The profile.
    pub iccid: Iccid,
    /// Its type.
    pub profile_type: String,
    /// The operator to notify.
    pub owner: String,
    /// The bound EID, if any.
    pub eid: Option<Eid>,
    /// The notification point.
    pub point: NotificationPoint,
    /// The outcome at that point.
    pub status: FunctionExecutionStatus,
    /// DER of the installation result (point 4).
    pub result_data: Option<Vec<u8>>,
}

impl Notice {
    /// A notice about `p` at `point` with `status`.
    pub(crate) fn about(
        p: &Profile,
        point: NotificationPoint,
        status: FunctionExecutionStatus,
    ) -> Self {
        Self {
            iccid: p.iccid.clone(),
            profile_type: p.profile_type.clone(),
            owner: p.owner.clone(),
            eid: p.eid.clone(),
            point,
            status,
            result_data: None,
        }
    }
}
