//! The SM-DP+ simulator's state file: every profile's state and order bindings (EID,
//! MatchingID, Confirmation Code hash, SM-DS address, attempt counts), the MatchingID
//! generator, and the notifications not yet handed to the operator (a download
//! notification held back behind its install one included). A profile is handed to the
//! writer with the notifications its change produced, in one hand-over, before they are
//! queued for delivery, and committed before the answer; a notification leaves the file
//! once delivered or given up. All of it survives the process being killed (kill -9).
//!
//! Ki and OPc are not kept: they come with the profile seeds at every start (the sandbox
//! reads them from the gateway's store), and a downloaded profile's package, which holds
//! them, is rebuilt from its seed then. Fault rules, quirks, counters and the delivery log
//! belong to one run.

use super::inventory::Inventory;
use super::package;
use super::state::{Personal, Profile, ProfileState};
use crate::common::state_file::{Change, StateFile, StateFileError, Table};
use adapters::es2plus::{Fqdn, MatchingId};
use serde::{Deserialize, Serialize};
use sim_profiles::{Eid, Iccid, Imsi};
use std::path::Path;

/// Profiles by ICCID.
const PROFILES: Table = Table::new("profiles");
/// Notifications to deliver, by a zero-padded sequence number (their order).
const PENDING: Table = Table::new("pending_notifications");
/// The meta counter holding the MatchingID generator's state.
const RNG: &str = "matching_id_rng";

/// What the file keeps of a profile.
#[derive(Serialize, Deserialize)]
struct ProfileRecord {
    profile_type: String,
    owner: String,
    state: ProfileState,
    #[serde(default)]
    eid: Option<Eid>,
    #[serde(default)]
    matching_id: Option<String>,
    /// Hex of SHA-256 of the Confirmation Code.
    #[serde(default)]
    cc_hash: Option<String>,
    #[serde(default)]
    cc_verified: bool,
    #[serde(default)]
    smds_address: Option<String>,
    #[serde(default)]
    download_attempts: u32,
    #[serde(default)]
    cc_attempts: u32,
    #[serde(default)]
    changed_at: Option<String>,
    #[serde(default)]
    imsi: Option<Imsi>,
    /// Whether the profile carried a package (rebuilt at start).
    #[serde(default)]
    package: bool,
}

impl ProfileRecord {
    fn of(p: &Profile) -> Self {
        Self {
            profile_type: p.profile_type.clone(),
            owner: p.owner.clone(),
            state: p.state,
            eid: p.eid.clone(),
            matching_id: p.matching_id.as_ref().map(|m| m.as_str().to_owned()),
            cc_hash: p
                .cc_hash
                .map(|h| sim_profiles::secret::encode_hex_upper(&h)),
            cc_verified: p.cc_verified,
            smds_address: p.smds_address.as_ref().map(|f| f.as_str().to_owned()),
            download_attempts: p.download_attempts,
            cc_attempts: p.cc_attempts,
            changed_at: p.changed_at.clone(),
            imsi: p.personal.imsi.clone(),
            package: p.package.is_some(),
        }
    }

    /// The profile (without keys or package); `Err` names the field that does not decode.
    fn into_profile(self, iccid: Iccid) -> Result<(Profile, bool), &'static str> {
        let matching_id = self
            .matching_id
            .map(|m| MatchingId::new(&m).map_err(|_| "matching_id"))
            .transpose()?;
        let cc_hash = match self.cc_hash {
            None => None,
            Some(h) => {
                let mut out = [0u8; 32];
                sim_profiles::secret::decode_hex_into(&h, &mut out).map_err(|_| "cc_hash")?;
                Some(out)
            }
        };
        let smds_address = self
            .smds_address
            .map(|f| Fqdn::new(&f).map_err(|_| "smds_address"))
            .transpose()?;
        let mut p = Profile::new(
            iccid,
            self.profile_type,
            self.owner,
            Personal {
                imsi: self.imsi,
                ki: None,
                opc: None,
            },
        );
        p.state = self.state;
        p.eid = self.eid;
        p.matching_id = matching_id;
        p.cc_hash = cc_hash;
        p.cc_verified = self.cc_verified;
        p.smds_address = smds_address;
        p.download_attempts = self.download_attempts;
        p.cc_attempts = self.cc_attempts;
        p.changed_at = self.changed_at;
        Ok((p, self.package))
    }
}

/// The notifications a restarted simulator still has to deliver, with their keys, in order.
pub(crate) type PendingList = Vec<(u64, Pending)>;

/// A notification waiting for delivery, as built (the quirks already applied). The URL is
/// the operator's at each start (the sandbox's callback port changes between runs).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Pending {
    /// The operator to notify.
    pub(crate) owner: String,
    /// The profile (canonical form).
    pub(crate) iccid: String,
    /// The notification point.
    pub(crate) point: u32,
    /// The exact body (JSON; no keys or codes).
    pub(crate) body: String,
}

/// What a state file gives back at start.
pub(crate) struct Resumed {
    /// The file.
    pub(crate) file: StateFile,
    /// The inventory's part.
    pub(crate) inventory: KeptInventory,
    /// Notifications not yet delivered, in order, with their keys.
    pub(crate) pending: Vec<(u64, Pending)>,
}

/// The inventory as a state file kept it.
pub(crate) struct KeptInventory {
    /// Every profile, each with whether it had a package.
    pub(crate) profiles: Vec<(Profile, bool)>,
    /// The MatchingID generator's state, if it ever moved.
    pub(crate) rng: Option<u64>,
}

/// Opens (or creates) the file at `path` and reads it whole.
pub(crate) fn open(path: &Path) -> Result<Resumed, StateFileError> {
    let file = StateFile::open(path)?;
    let bad = |what: String| StateFileError::Format {
        path: path.to_owned(),
        reason: what,
    };
    let mut profiles = Vec::new();
    for (key, record) in file.load::<ProfileRecord>(PROFILES)? {
        let iccid: Iccid = key
            .parse()
            .map_err(|_| bad(format!("profile {key}: the key is not an ICCID")))?;
        let p = record
            .into_profile(iccid)
            .map_err(|field| bad(format!("profile {key}: {field} does not decode")))?;
        profiles.push(p);
    }
    let mut pending = Vec::new();
    for (key, record) in file.load::<Pending>(PENDING)? {
        let seq = key
            .parse()
            .map_err(|_| bad(format!("notification {key}: the key is not a number")))?;
        pending.push((seq, record));
    }
    let rng = match file.counter(RNG)? {
        0 => None,
        state => Some(state),
    };
    Ok(Resumed {
        file,
        inventory: KeptInventory { profiles, rng },
        pending,
    })
}

/// Puts the keys of `seeds`' profiles back into the resumed `profiles` (the file has none)
/// and rebuilds the packages of those that had one.
pub(crate) fn personalise(profiles: &mut [(Profile, bool)], seeds: &[Profile]) {
    let by_iccid: std::collections::HashMap<&Iccid, &Profile> =
        seeds.iter().map(|s| (&s.iccid, s)).collect();
    for (p, had_package) in profiles {
        if let Some(seed) = by_iccid.get(&p.iccid) {
            p.personal.ki = seed.personal.ki.clone();
            p.personal.opc = seed.personal.opc.clone();
            if p.personal.imsi.is_none() {
                p.personal.imsi = seed.personal.imsi.clone();
            }
        }
        if *had_package {
            p.package = package::build(p)
                .inspect_err(|e| {
                    tracing::warn!(iccid = %p.iccid, error = %e,
                    "SM-DP+ simulator: a downloaded profile's package could not be rebuilt")
                })
                .ok();
        }
    }
}

/// The key of pending notification `seq` (zero-padded, so key order is sending order).
fn pending_key(seq: u64) -> String {
    format!("{seq:020}")
}

/// The records of what changed in `inv` and of the `queued` notifications, for one commit.
pub(crate) fn changes(inv: &mut Inventory, queued: &[(u64, Pending)]) -> Vec<Change> {
    let changes = inv.take_changes();
    let mut out: Vec<Change> = changes
        .profiles
        .iter()
        .filter_map(|iccid| {
            let p = inv.get(iccid)?;
            Change::put(PROFILES, iccid.to_string(), &ProfileRecord::of(p))
        })
        .collect();
    if let Some(state) = changes.rng {
        out.push(StateFile::set_counter(RNG, state));
    }
    out.extend(
        queued
            .iter()
            .filter_map(|(seq, n)| Change::put(PENDING, pending_key(*seq), n)),
    );
    out
}

/// The removal of notification `seq`, once it was delivered or given up.
pub(crate) fn done(seq: u64) -> Change {
    Change::delete(PENDING, pending_key(seq))
}
