//! The ES2+ side of the state machine: the four order functions over the inventory,
//! exactly as the reference §5 matrix says, checked in the order unknown → not allowed →
//! consistency (type, EID, MatchingID) → state. Pure: no IO, no clock (time is passed in
//! as the timestamp to record), randomness only from the seeded PRNG.

use super::cc;
use super::codes::{self, Code};
use super::matching_id;
use super::state::{Profile, ProfileState};
use crate::common::rng::SplitMix64;
use adapters::es2plus::{
    CancelOrderRequest, ConfirmOrderRequest, DownloadOrderRequest, FinalProfileStatus, MatchingId,
    ProfileSelector, ReleaseProfileRequest,
};
use sim_profiles::{Eid, Iccid};
use std::collections::{BTreeMap, BTreeSet};

/// How ConfirmOrder answers a repeat on a Confirmed or Released profile (reference §10).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplayRule {
    /// Executed-Success with the stored data if ICCID, EID, MatchingID and CC all match
    /// (otherwise 8.2.1/3.5).
    #[default]
    Idempotent,
    /// 8.2.6/3.3.
    MatchingIdInUse,
    /// 8.2.1/3.5.
    InvalidTransition,
}

/// The agreed rules the state machine applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// ConfirmOrder repeat behaviour.
    pub replay: ReplayRule,
    /// ReleaseProfile on Downloaded/Installed answers success (else 8.2.1/3.5).
    pub release_after_download_ok: bool,
    /// Failed Confirmation Code attempts allowed before the order ends in Error.
    pub cc_attempt_limit: u32,
    /// Download attempts allowed per order before it ends in Error.
    pub download_attempt_limit: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            replay: ReplayRule::Idempotent,
            release_after_download_ok: true,
            cc_attempt_limit: 3,
            download_attempt_limit: 5,
        }
    }
}

/// What a successful ConfirmOrder returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirmed {
    /// The EID bound to the order.
    pub eid: Option<Eid>,
    /// The MatchingID supplied or generated.
    pub matching_id: MatchingId,
}

/// Every profile, by ICCID, with the policy and the MatchingID generator.
#[derive(Debug, Clone)]
pub struct Inventory {
    profiles: BTreeMap<Iccid, Profile>,
    policy: Policy,
    rng: SplitMix64,
    /// What changed since the last [`Inventory::take_changes`], when tracked (a state file).
    changes: Option<Changes>,
}

/// What changed in an inventory: the profiles handed out for change (whether or not they
/// changed), and whether the MatchingID generator moved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Changes {
    /// The profiles, by ICCID.
    pub(crate) profiles: BTreeSet<Iccid>,
    /// The generator's state, if it moved.
    pub(crate) rng: Option<u64>,
}

impl Inventory {
    /// An inventory of `profiles` (later duplicates replace earlier ones).
    pub fn new(profiles: impl IntoIterator<Item = Profile>, policy: Policy, seed: u64) -> Self {
        Self {
            profiles: profiles.into_iter().map(|p| (p.iccid.clone(), p)).collect(),
            policy,
            rng: SplitMix64::new(seed),
            changes: None,
        }
    }

    /// From now on, notes every change for [`Inventory::take_changes`]; the MatchingID
    /// generator resumes at `rng_state` when given (a state file's).
    pub(crate) fn track_changes(&mut self, rng_state: Option<u64>) {
        if let Some(state) = rng_state {
            self.rng = SplitMix64::new(state);
        }
        self.changes = Some(Changes::default());
    }

    /// What changed since the last call (nothing when not tracked).
    pub(crate) fn take_changes(&mut self) -> Changes {
        self.changes
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// The profile `iccid`, handed out for change (and noted as changed).
    fn slot(&mut self, iccid: &Iccid) -> Option<&mut Profile> {
        let p = self.profiles.get_mut(iccid)?;
        if let Some(c) = &mut self.changes {
            c.profiles.insert(iccid.clone());
        }
        Some(p)
    }

    /// The policy in force.
    pub fn policy(&self) -> Policy {
        self.policy
    }

    /// Replaces the policy.
    pub fn set_policy(&mut self, policy: Policy) {
        self.policy = policy;
    }

    /// Adds `profile` unless its ICCID is already held (whose state is then left as it
    /// is); returns whether it was added.
    pub fn add(&mut self, profile: Profile) -> bool {
        match self.profiles.entry(profile.iccid.clone()) {
            std::collections::btree_map::Entry::Occupied(_) => false,
            std::collections::btree_map::Entry::Vacant(slot) => {
                if let Some(c) = &mut self.changes {
                    c.profiles.insert(profile.iccid.clone());
                }
                slot.insert(profile);
                true
            }
        }
    }

    /// One profile.
    pub fn get(&self, iccid: &Iccid) -> Option<&Profile> {
        self.profiles.get(iccid)
    }

    pub(crate) fn get_mut(&mut self, iccid: &Iccid) -> Option<&mut Profile> {
        self.slot(iccid)
    }

    /// Every profile, ordered by ICCID.
    pub fn profiles(&self) -> impl Iterator<Item = &Profile> {
        self.profiles.values()
    }

    /// The profile `owner` may act on: 3.9 if unknown, 1.2 if another operator's.
    fn owned(&self, iccid: &Iccid, owner: &str) -> Result<&Profile, Code> {
        let p = self.profiles.get(iccid).ok_or(codes::ICCID_UNKNOWN)?;
        if p.owner != owner {
            return Err(codes::ICCID_NOT_ALLOWED);
        }
        Ok(p)
    }

    fn owned_mut(&mut self, iccid: &Iccid, owner: &str) -> Result<&mut Profile, Code> {
        self.owned(iccid, owner)?;
        self.slot(iccid).ok_or(codes::ICCID_UNKNOWN)
    }

    /// True if `owner` has bound `id` to a profile other than `except`.
    fn matching_id_taken(&self, owner: &str, id: &MatchingId, except: &Iccid) -> bool {
        !id.is_empty()
            && self.profiles.values().any(|p| {
                p.owner == owner && &p.iccid != except && p.matching_id.as_ref() == Some(id)
            })
    }

    /// ES2+.DownloadOrder for `owner`: reserves a profile and returns its ICCID.
    pub fn download_order(
        &mut self,
        owner: &str,
        req: &DownloadOrderRequest,
        now: &str,
    ) -> Result<Iccid, Code> {
        let iccid = match &req.profile {
            ProfileSelector::Iccid(iccid) => {
                self.owned(iccid, owner)?;
                iccid.clone()
            }
            ProfileSelector::Both {
                iccid,
                profile_type,
            } => {
                let p = self.profiles.get(iccid).ok_or(codes::ICCID_UNKNOWN)?;
                if !self.type_exists(profile_type) {
                    return Err(codes::TYPE_UNKNOWN);
                }
                if p.owner != owner {
                    return Err(codes::ICCID_NOT_ALLOWED);
                }
                if &p.profile_type != profile_type {
                    return Err(codes::TYPE_MISMATCH);
                }
                iccid.clone()
            }
            ProfileSelector::ProfileType(t) => self.pick_by_type(owner, t)?,
        };
        let p = self.owned_mut(&iccid, owner)?;
        if p.state != ProfileState::Available {
            return Err(codes::ICCID_IN_USE);
        }
        p.clear_order();
        p.state = if req.eid.is_some() {
            ProfileState::Linked
        } else {
            ProfileState::Allocated
        };
        p.eid = req.eid.clone();
        p.changed_at = Some(now.to_owned());
        Ok(iccid)
    }

    fn type_exists(&self, profile_type: &str) -> bool {
        self.profiles
            .values()
            .any(|p| p.profile_type == profile_type)
    }

    /// The lowest Available ICCID of `profile_type` owned by `owner`.
    fn pick_by_type(&self, owner: &str, profile_type: &str) -> Result<Iccid, Code> {
        if !self.type_exists(profile_type) {
            return Err(codes::TYPE_UNKNOWN);
        }
        let mut mine = self
            .profiles
            .values()
            .filter(|p| p.profile_type == profile_type && p.owner == owner)
            .peekable();
        if mine.peek().is_none() {
            return Err(codes::TYPE_NOT_ALLOWED);
        }
        mine.find(|p| p.state == ProfileState::Available)
            .map(|p| p.iccid.clone())
            .ok_or(codes::TYPE_STOCK_OUT)
    }

    /// ES2+.ConfirmOrder for `owner`.
    pub fn confirm_order(
        &mut self,
        owner: &str,
        req: &ConfirmOrderRequest,
        now: &str,
    ) -> Result<Confirmed, Code> {
        let p = self.owned(&req.iccid, owner)?;
        if let (Some(bound), Some(asked)) = (&p.eid, &req.eid) {
            if bound != asked {
                return Err(codes::EID_MISMATCH);
            }
        }
        if let Some(id) = &req.matching_id {
            if self.matching_id_taken(owner, id, &req.iccid) {
                return Err(codes::MATCHING_ID_IN_USE);
            }
        }
        match p.state {
            ProfileState::Allocated | ProfileState::Linked => {}
            ProfileState::Confirmed | ProfileState::Released => return self.replay(p, req),
            _ => return Err(codes::INVALID_TRANSITION),
        }
        let eid = req.eid.clone().or_else(|| p.eid.clone());
        let empty_id = req.matching_id.as_ref().is_some_and(MatchingId::is_empty);
        if req.smds_address.is_some() && empty_id {
            return Err(codes::MATCHING_ID_INVALID);
        }
        if (req.smds_address.is_some() || empty_id) && eid.is_none() {
            return Err(codes::EID_MISSING);
        }
        let matching_id = match &req.matching_id {
            Some(id) => id.clone(),
            None => self.fresh_matching_id(owner),
        };
        let p = self.owned_mut(&req.iccid, owner)?;
        p.eid = eid.clone();
        p.matching_id = Some(matching_id.clone());
        p.cc_hash = req.confirmation_code.as_ref().map(|c| cc::h1(c.expose()));
        p.cc_verified = false;
        p.smds_address = req.smds_address.clone();
        p.state = if req.release_flag {
            ProfileState::Released
        } else {
            ProfileState::Confirmed
        };
        p.changed_at = Some(now.to_owned());
        Ok(Confirmed { eid, matching_id })
    }

    /// A MatchingID no profile of `owner` uses.
    fn fresh_matching_id(&mut self, owner: &str) -> MatchingId {
        loop {
            let id = matching_id::generate(&mut self.rng);
            if let Some(c) = &mut self.changes {
                c.rng = Some(self.rng.state());
            }
            if !self
                .profiles
                .values()
                .any(|p| p.owner == owner && p.matching_id.as_ref() == Some(&id))
            {
                return id;
            }
        }
    }

    /// ConfirmOrder on a Confirmed or Released profile, per the replay rule.
    fn replay(&self, p: &Profile, req: &ConfirmOrderRequest) -> Result<Confirmed, Code> {
        match self.policy.replay {
            ReplayRule::MatchingIdInUse => Err(codes::MATCHING_ID_IN_USE),
            ReplayRule::InvalidTransition => Err(codes::INVALID_TRANSITION),
            ReplayRule::Idempotent => {
                let eid_ok = req.eid.is_none() || req.eid == p.eid;
                let id_ok = req.matching_id.is_none() || req.matching_id == p.matching_id;
                let cc_ok = req.confirmation_code.as_ref().map(|c| cc::h1(c.expose())) == p.cc_hash;
                let smds_ok = req.smds_address == p.smds_address;
                let release_ok = !req.release_flag || p.state == ProfileState::Released;
                match &p.matching_id {
                    Some(id) if eid_ok && id_ok && cc_ok && smds_ok && release_ok => {
                        Ok(Confirmed {
                            eid: p.eid.clone(),
                            matching_id: id.clone(),
                        })
                    }
                    _ => Err(codes::INVALID_TRANSITION),
                }
            }
        }
    }

    /// ES2+.CancelOrder for `owner`.
    pub fn cancel_order(
        &mut self,
        owner: &str,
        req: &CancelOrderRequest,
        now: &str,
    ) -> Result<(), Code> {
        let p = self.owned_mut(&req.iccid, owner)?;
        if let (Some(bound), Some(asked)) = (&p.eid, &req.eid) {
            if bound != asked {
                return Err(codes::ICCID_EID_MISMATCH);
            }
        }
        if let (Some(bound), Some(asked)) = (&p.matching_id, &req.matching_id) {
            if bound != asked {
                return Err(codes::MATCHING_ID_MISMATCH);
            }
        }
        match p.state {
            ProfileState::Allocated
            | ProfileState::Linked
            | ProfileState::Confirmed
            | ProfileState::Released
            | ProfileState::Error => {}
            ProfileState::Downloaded | ProfileState::Installed => {
                return Err(codes::ICCID_IN_USE);
            }
            ProfileState::Available | ProfileState::Unavailable => {
                return Err(codes::INVALID_TRANSITION);
            }
        }
        p.clear_order();
        p.state = match req.final_profile_status_indicator {
            FinalProfileStatus::Available => ProfileState::Available,
            FinalProfileStatus::Unavailable => ProfileState::Unavailable,
        };
        p.changed_at = Some(now.to_owned());
        Ok(())
    }

    /// Drops the reservation of `iccid` as a faulty SM-DP+ might (restart, lapsed order):
    /// a reserved, confirmed or released profile goes back to Available with its order
    /// data cleared. Returns whether anything changed.
    pub fn lose_reservation(&mut self, iccid: &Iccid, now: &str) -> bool {
        let Some(p) = self.slot(iccid) else {
            return false;
        };
        match p.state {
            ProfileState::Allocated
            | ProfileState::Linked
            | ProfileState::Confirmed
            | ProfileState::Released => {
                p.clear_order();
                p.state = ProfileState::Available;
                p.changed_at = Some(now.to_owned());
                true
            }
            _ => false,
        }
    }

    /// ES2+.ReleaseProfile for `owner`.
    pub fn release_profile(
        &mut self,
        owner: &str,
        req: &ReleaseProfileRequest,
        now: &str,
    ) -> Result<(), Code> {
        let release_after_download_ok = self.policy.release_after_download_ok;
        let p = self.owned_mut(&req.iccid, owner)?;
        match p.state {
            ProfileState::Confirmed => {
                p.state = ProfileState::Released;
                p.changed_at = Some(now.to_owned());
                Ok(())
            }
            ProfileState::Released => Ok(()),
            ProfileState::Downloaded | ProfileState::Installed if release_after_download_ok => {
                Ok(())
            }
            _ => Err(codes::INVALID_TRANSITION),
        }
    }
}
