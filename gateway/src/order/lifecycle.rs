//! Orders on a line after day one (suspend, resume, terminate, SIM swap, number change):
//! what kind an order is, and the saga a lifecycle order runs. A lifecycle order carries
//! its whole plan from creation (each southbound step with its durable progress) and,
//! once a step fails for good, the compensation that puts the line back as it was.

use super::Step;
use serde::{Deserialize, Serialize};
use sim_profiles::{Iccid, Imsi, Msisdn};

/// What an order does. Records written before kinds existed are activations.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderKind {
    /// Day one: a SIM and a number become a line.
    #[default]
    Activation,
    /// Bar the line for a reason (reasons stack).
    Suspend,
    /// Lift one suspension reason; unbar when none is left.
    Resume,
    /// End the line for good.
    Terminate,
    /// Move the line's number to another SIM.
    SimSwap,
    /// Give the line another number.
    NumberChange,
    /// The hub asked for the line's number (we are the donor): answer, and at cutover
    /// take the line off the network; the number leaves for good (`Order::port`).
    PortOut,
}

impl OrderKind {
    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Activation => "activation",
            Self::Suspend => "suspend",
            Self::Resume => "resume",
            Self::Terminate => "terminate",
            Self::SimSwap => "sim_swap",
            Self::NumberChange => "number_change",
            Self::PortOut => "port_out",
        }
    }

    /// The kind of an operation path segment (`suspend`, `sim-swap`, …).
    pub fn from_operation(op: &str) -> Option<Self> {
        Some(match op {
            "suspend" => Self::Suspend,
            "resume" => Self::Resume,
            "terminate" => Self::Terminate,
            "sim-swap" => Self::SimSwap,
            "number-change" => Self::NumberChange,
            _ => return None,
        })
    }
}

/// Why a line is suspended. Reasons stack: the line stays barred while any holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuspensionReason {
    /// The customer asked.
    CustomerRequest,
    /// The customer did not pay.
    NonPayment,
    /// The phone or SIM was lost or stolen.
    LostOrStolen,
    /// Fraud controls flagged the line (only operator keys lift it).
    FraudRisk,
    /// A regulator or the host operator required it (only operator keys lift it).
    Regulatory,
}

impl SuspensionReason {
    /// Every reason.
    pub const ALL: [Self; 5] = [
        Self::CustomerRequest,
        Self::NonPayment,
        Self::LostOrStolen,
        Self::FraudRisk,
        Self::Regulatory,
    ];

    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::CustomerRequest => "customer_request",
            Self::NonPayment => "non_payment",
            Self::LostOrStolen => "lost_or_stolen",
            Self::FraudRisk => "fraud_risk",
            Self::Regulatory => "regulatory",
        }
    }

    /// Parses a stable name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether only an operator key may lift it.
    pub fn protected(self) -> bool {
        matches!(self, Self::FraudRisk | Self::Regulatory)
    }
}

/// One line as the HLR holds it: which card, which number (none while a SIM swap has not
/// moved it yet), which service profile, whether it is barred.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Line {
    /// The card.
    pub iccid: Iccid,
    /// The card's IMSI.
    pub imsi: Imsi,
    /// The number on the HLR, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub msisdn: Option<Msisdn>,
    /// The HLR service profile.
    pub hlr_profile_id: u32,
    /// Operator barring (outgoing and incoming).
    pub barred: bool,
}

/// A southbound operation of a lifecycle saga (HLR, or ES2+ for an eSIM profile): pure
/// data, so it is stored with its progress and repeated identically after a crash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum SagaOp {
    /// Create what is missing of `line` (idempotent; different data is a conflict).
    Provision {
        /// The line.
        line: Line,
    },
    /// Remove `line` (idempotent; data that is not ours is left).
    Deprovision {
        /// The line.
        line: Line,
    },
    /// Set operator barring.
    SetBarring {
        /// The subscriber.
        imsi: Imsi,
        /// Barred or not.
        barred: bool,
    },
    /// Take `msisdn` off `imsi`, keeping its authentication (a SIM swap frees the number).
    DetachMsisdn {
        /// The subscriber.
        imsi: Imsi,
        /// The number it should hold.
        msisdn: Msisdn,
    },
    /// Replace the subscriber's number.
    ChangeMsisdn {
        /// The subscriber.
        imsi: Imsi,
        /// Its number now.
        from: Msisdn,
        /// Its number after.
        to: Msisdn,
    },
    /// ES2+ DownloadOrder: reserve the new eSIM profile of a SIM swap at the SM-DP+.
    ReserveProfile {
        /// The profile's ICCID.
        iccid: Iccid,
        /// The EID to bind it to, if the customer gave one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        eid: Option<sim_profiles::Eid>,
    },
    /// ES2+ ConfirmOrder with releaseFlag: release the reserved profile under our
    /// MatchingID (and the order's confirmation code, if any); its activation code is
    /// recorded on the order.
    ReleaseProfile {
        /// The profile's ICCID.
        iccid: Iccid,
        /// The EID, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        eid: Option<sim_profiles::Eid>,
        /// Our MatchingID.
        matching_id: String,
    },
    /// ES2+ CancelOrder of a reservation never released, as `Available`: the profile
    /// goes back to stock (compensation of `ReserveProfile`).
    CancelReservation {
        /// The profile's ICCID.
        iccid: Iccid,
        /// The EID, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        eid: Option<sim_profiles::Eid>,
    },
    /// ES2+ CancelOrder of a released eSIM profile no device downloaded, as
    /// `Unavailable`: the profile leaves stock for good with its line. A refusal (it was
    /// downloaded meanwhile) leaves it to the device, as ES2+ allows.
    CancelProfile {
        /// The profile's ICCID.
        iccid: Iccid,
        /// The EID it was bound to, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        eid: Option<sim_profiles::Eid>,
        /// The MatchingID it was released under.
        matching_id: String,
    },
    /// Porting hub: give a ported-in number back to its range holder once the line no
    /// longer has it (terminate, number change). Past the point of no return: the HLR
    /// no longer routes the number to us.
    ReturnNumber {
        /// The number.
        msisdn: Msisdn,
        /// The hub's reference of the port that brought it in.
        port_ref: String,
        /// The operator that holds its range.
        range_holder: String,
    },
}

impl SagaOp {
    /// Whether the operation is performed on the HLR (not the SM-DP+ or the porting hub).
    pub fn on_hlr(&self) -> bool {
        !matches!(
            self,
            Self::ReserveProfile { .. }
                | Self::ReleaseProfile { .. }
                | Self::CancelReservation { .. }
                | Self::CancelProfile { .. }
                | Self::ReturnNumber { .. }
        )
    }

    /// Step name for events and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Provision { .. } => "hlr_provision",
            Self::Deprovision { .. } => "hlr_deprovision",
            Self::SetBarring { .. } => "hlr_set_barring",
            Self::DetachMsisdn { .. } => "hlr_detach_msisdn",
            Self::ChangeMsisdn { .. } => "hlr_change_msisdn",
            Self::ReserveProfile { .. } => "es2_download_order",
            Self::ReleaseProfile { .. } => "es2_confirm_order",
            Self::CancelReservation { .. } | Self::CancelProfile { .. } => "es2_cancel_order",
            Self::ReturnNumber { .. } => "number_return",
        }
    }
}

/// One step of a saga: what to do and how far it got.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SagaStep {
    /// The operation.
    pub op: SagaOp,
    /// Its durable progress.
    pub step: Step,
    /// Past the point of no return: the step is retried until it succeeds (flagged for an
    /// operator once the budget is spent) instead of failing the order.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub must_finish: bool,
}

impl SagaStep {
    /// A step not attempted yet.
    pub fn pending(op: SagaOp) -> Self {
        Self {
            op,
            step: Step::Pending,
            must_finish: false,
        }
    }

    /// A step not attempted yet that must finish once reached.
    pub fn must_finish(op: SagaOp) -> Self {
        Self {
            must_finish: true,
            ..Self::pending(op)
        }
    }
}

/// Who invoked an operation (no secret: the key's public prefix and its role).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// The API key's public prefix.
    pub key_prefix: String,
    /// The key's role.
    pub role: String,
}

/// The lifecycle part of an order: its subject, its plan and, after a failure, its
/// compensation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lifecycle {
    /// The subscription the order acts on.
    pub subscription: String,
    /// Who asked.
    pub actor: Actor,
    /// The suspension reason of a suspend or resume.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<SuspensionReason>,
    /// A `regulatory` suspend or resume the line's second verification ordered (its
    /// deadline passed, or a result came in), as opposed to one the actor chose: the
    /// suspension it places is the verification's to lift.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub verification: bool,
    /// The line before the order.
    pub line: Line,
    /// The suspension reasons in force when the order was created.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons_before: Vec<SuspensionReason>,
    /// The new card of a SIM swap (reserved at creation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_line: Option<Line>,
    /// The new eSIM profile of a SIM swap to an eSIM: its EID (if given) and our
    /// MatchingID, fixed before any call so repeats are identical.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_profile: Option<NewProfile>,
    /// A released eSIM profile of the line that no device has downloaded yet (terminate
    /// cancels it at the SM-DP+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub undownloaded_profile: Option<SagaOp>,
    /// The new number of a number change (reserved at creation).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_msisdn: Option<Msisdn>,
    /// The line's number came by a port-in: the step that gives it back to its range
    /// holder once the line no longer has it (terminate and number change plan it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_return: Option<SagaOp>,
    /// The forward steps, in order.
    pub plan: Vec<SagaStep>,
    /// The compensation, once a forward step failed for good; run in order, never given up.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub undo: Vec<SagaStep>,
}

impl Lifecycle {
    /// Which card holds the line's number on the HLR according to the recorded steps: the
    /// old one, none (a SIM swap between detach and attach), or the new one.
    pub fn msisdn_holder(&self) -> Option<&Iccid> {
        let mut holder = Some(&self.line.iccid);
        for s in self.plan.iter().chain(&self.undo) {
            if !matches!(s.step, Step::Done { .. }) {
                continue;
            }
            match &s.op {
                SagaOp::DetachMsisdn { .. } => holder = None,
                SagaOp::Provision { line } if line.msisdn.is_some() => holder = Some(&line.iccid),
                _ => {}
            }
        }
        holder
    }

    /// Whether a failed SIM swap's new card can go back to stock: a physical card always;
    /// an eSIM profile only if the compensation did not have to cancel a release (one that
    /// may have run: an activation code for it may exist) and its CancelOrder left the
    /// reservation Available at the SM-DP+ (the outcomes in [`PROFILE_BACK_IN_STOCK`]).
    /// Otherwise it is retired.
    pub fn new_card_reusable(&self) -> bool {
        self.undo.iter().all(|s| match &s.op {
            SagaOp::CancelProfile { .. } => false,
            SagaOp::CancelReservation { .. } => matches!(&s.step, Step::Done { outcome }
                if PROFILE_BACK_IN_STOCK.contains(&outcome.as_str())),
            _ => true,
        })
    }
}

/// The outcomes of a CancelOrder after which the profile is Available at the SM-DP+
/// (cancelled as `Available`, or found not reserved).
pub const PROFILE_BACK_IN_STOCK: [&str; 2] = ["cancelled", "not_reserved"];

/// The new eSIM profile of a SIM swap (its card is `Lifecycle::new_line`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewProfile {
    /// The EID to bind it to, if the customer gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eid: Option<sim_profiles::Eid>,
    /// Our MatchingID.
    pub matching_id: String,
}
