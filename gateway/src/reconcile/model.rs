//! What reconciliation compares and what it finds: the gateway's view, the southbound
//! truth as read, and the typed differences. Plain data; `compare` is the pure function
//! between them.

use crate::order::{EsimState, Line};
use crate::store::{SimType, SubscriptionState};
use adapters::es2plus::ProfileState;
use adapters::hlr::Barring;
use serde::Serialize;
use sim_profiles::{Iccid, Imsi, Msisdn};
use std::collections::{BTreeMap, BTreeSet};

/// A line in service (active or suspended) and what the peers should hold for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExpectedLine {
    /// Owning tenant.
    pub tenant: String,
    /// The subscription id.
    pub subscription: String,
    /// Card, IMSI, number, HLR profile and barring the HLR should hold.
    pub line: Line,
    /// Physical card or eSIM profile.
    pub sim_type: SimType,
    /// Active or suspended.
    pub state: SubscriptionState,
    /// The lifecycle order in flight on the line: the peers may be half-way, so the line
    /// is not compared (and says so in the report).
    pub inflight: Option<String>,
    /// The download progress the gateway mirrors for the line's eSIM profile, if the
    /// profile is the one its activation released and a notification arrived.
    pub esim_mirror: Option<EsimState>,
}

impl ExpectedLine {
    /// The number the line holds (a line always has one; `Line` allows none for swaps).
    pub fn msisdn(&self) -> Option<&Msisdn> {
        self.line.msisdn.as_ref()
    }

    /// The barring the HLR should show.
    pub fn barring(&self) -> Barring {
        Barring {
            outgoing: self.line.barred,
            incoming: self.line.barred,
        }
    }
}

/// A card or a number held by a line or an order in flight.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Holding {
    /// Owning tenant.
    pub tenant: String,
    /// Who holds it: a subscription id, or an in-flight activation's order id (a lifecycle
    /// order's new card or number is held by its line).
    pub holder: String,
    /// A held card.
    pub iccid: Option<Iccid>,
    /// A held number.
    pub msisdn: Option<Msisdn>,
}

/// A SIM of the inventory (our IMSI ranges).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InventorySim {
    /// Owning tenant.
    pub tenant: String,
    /// Card id.
    pub iccid: Iccid,
    /// Card IMSI.
    pub imsi: Imsi,
}

/// The gateway's side of the comparison.
#[derive(Clone, Debug, Default)]
pub struct GatewayView {
    /// Every active or suspended line.
    pub lines: Vec<ExpectedLine>,
    /// Every card and number a live line or an order in flight holds.
    pub holdings: Vec<Holding>,
    /// Every SIM of the inventory in scope.
    pub inventory: Vec<InventorySim>,
    /// IMSIs an order in flight may be changing on the HLR right now (never orphans).
    pub busy_imsis: BTreeSet<Imsi>,
}

impl GatewayView {
    /// The IMSIs of the lines in service.
    pub fn line_imsis(&self) -> BTreeSet<&Imsi> {
        self.lines.iter().map(|l| &l.line.imsi).collect()
    }

    /// The inventory IMSIs no line holds and no order in flight touches: an HLR
    /// subscriber on one of them is an orphan.
    pub fn unassigned(&self) -> Vec<&InventorySim> {
        let lines = self.line_imsis();
        self.inventory
            .iter()
            .filter(|s| !lines.contains(&s.imsi) && !self.busy_imsis.contains(&s.imsi))
            .collect()
    }
}

/// How the AUC's authentication data compares with the card's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthCheck {
    /// Key and function set equal the card's.
    Matches,
    /// The key or the function set differs from the card's.
    Differs,
    /// The subscriber has no AUC entry.
    Missing,
    /// The host does not return the key (and what it returns agrees).
    NotReadable,
}

/// An HLR subscriber as read back (no key material).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HlrView {
    /// Whether an HLR subscription exists (CAI3G: none while no number is attached).
    pub subscribed: bool,
    /// Its number.
    pub msisdn: Option<Msisdn>,
    /// Its profile id.
    pub profile_id: Option<u32>,
    /// Its barring.
    pub barring: Barring,
    /// The AUC side, compared with the card's keys where a line expects it.
    pub auth: AuthCheck,
}

/// One IMSI as the HLR answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Observed {
    /// Neither AUC entry nor HLR subscription.
    Absent,
    /// The subscriber.
    Present(HlrView),
    /// The query failed (the reason, without secrets).
    Unreadable(String),
}

/// The southbound side of the comparison.
#[derive(Clone, Debug, Default)]
pub struct Truth {
    /// Every IMSI queried.
    pub hlr: BTreeMap<Imsi, Observed>,
    /// eSIM profile states from the [`ProfileStatus`](adapters::es2plus::ProfileStatus)
    /// hook; `None`: no hook, eSIM profiles not checked.
    pub profiles: Option<BTreeMap<Iccid, ProfileState>>,
    /// Why the profile states could not be read, if the hook failed.
    pub profiles_error: Option<String>,
}

/// The kinds of disagreement, by their stable names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DifferenceKind {
    /// A line in service has no HLR subscriber (or only its AUC entry).
    MissingOnHlr,
    /// The HLR subscriber of a line holds another number (or none).
    WrongMsisdn,
    /// The HLR subscriber's barring is not the line's (suspended lines are barred).
    WrongBarring,
    /// The AUC entry is missing or its key or function set differs from the card's.
    WrongAuth,
    /// An HLR subscriber in our IMSI ranges that no line holds.
    OrphanOnHlr,
    /// A card or a number held by two lines or orders.
    DoubleAssignment,
    /// The SM-DP+'s profile state does not fit the line.
    EsimStateMismatch,
}

impl DifferenceKind {
    /// Every kind, in report order.
    pub const ALL: [DifferenceKind; 7] = [
        Self::MissingOnHlr,
        Self::WrongMsisdn,
        Self::WrongBarring,
        Self::WrongAuth,
        Self::OrphanOnHlr,
        Self::DoubleAssignment,
        Self::EsimStateMismatch,
    ];

    /// The stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::MissingOnHlr => "missing_on_hlr",
            Self::WrongMsisdn => "wrong_msisdn",
            Self::WrongBarring => "wrong_barring",
            Self::WrongAuth => "wrong_auth",
            Self::OrphanOnHlr => "orphan_on_hlr",
            Self::DoubleAssignment => "double_assignment",
            Self::EsimStateMismatch => "esim_state_mismatch",
        }
    }

    /// The safe fix `--repair` proposes, if any: only these two can be undone and never
    /// touch a subscriber someone else owns (the adapters refuse foreign data).
    pub fn repair(self) -> Option<RepairKind> {
        match self {
            Self::MissingOnHlr => Some(RepairKind::Reprovision),
            Self::OrphanOnHlr => Some(RepairKind::RemoveOrphan),
            _ => None,
        }
    }
}

/// The safe fixes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RepairKind {
    /// Provision the line's subscriber again from its card and number.
    Reprovision,
    /// Remove an orphan whose authentication data are our card's (so we created it).
    RemoveOrphan,
}

impl RepairKind {
    /// The stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Reprovision => "reprovision",
            Self::RemoveOrphan => "remove_orphan",
        }
    }
}

/// One disagreement (never a key: identifiers and states only).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// What kind.
    pub kind: DifferenceKind,
    /// Owning tenant.
    pub tenant: String,
    /// The line, if one is concerned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription: Option<String>,
    /// The IMSI concerned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub imsi: Option<Imsi>,
    /// The card concerned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iccid: Option<Iccid>,
    /// The number concerned (the line's, or the one the HLR holds for an orphan).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub msisdn: Option<Msisdn>,
    /// What the gateway expects, e.g. a number, `barred`, `Released|Downloaded|Installed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// What the peer holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub found: Option<String>,
    /// The lines or orders holding one card or number twice.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub holders: Vec<String>,
    /// The safe fix, if there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub repair: Option<RepairKind>,
}

impl Difference {
    /// A difference of `kind` about `tenant`, its fix from the kind.
    pub fn new(kind: DifferenceKind, tenant: &str) -> Self {
        Self {
            kind,
            tenant: tenant.to_owned(),
            subscription: None,
            imsi: None,
            iccid: None,
            msisdn: None,
            expected: None,
            found: None,
            holders: Vec::new(),
            repair: kind.repair(),
        }
    }

    /// The difference about `line`, naming it, its card and number.
    pub fn of_line(kind: DifferenceKind, line: &ExpectedLine) -> Self {
        Self {
            subscription: Some(line.subscription.clone()),
            imsi: Some(line.line.imsi.clone()),
            iccid: Some(line.line.iccid.clone()),
            msisdn: line.msisdn().cloned(),
            ..Self::new(kind, &line.tenant)
        }
    }

    /// With what was expected and what was found.
    pub fn saw(mut self, expected: impl Into<String>, found: impl Into<String>) -> Self {
        self.expected = Some(expected.into());
        self.found = Some(found.into());
        self
    }
}

/// A line or an IMSI that could not be compared, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Unchecked {
    /// Owning tenant.
    pub tenant: String,
    /// The line, if one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription: Option<String>,
    /// The IMSI, if one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub imsi: Option<Imsi>,
    /// Why: an order in flight, or the peer's failure.
    pub reason: String,
}
