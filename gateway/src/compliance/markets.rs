//! The market rule table: one row per market, as data. `policy::Policy::for_market` turns
//! a row into a policy; a tenant's override is merged over it. The China row follows the
//! reference (§2, §3); the others are the same machinery with permissive defaults.
//! Thresholds that no regulation publishes (velocity, bursts) are our choice, documented
//! in README's compliance section.

use super::subscriber::CaptureMethod;
use adapters::identity::IdType;
use serde::{Deserialize, Serialize};

/// A market: which country's rules a tenant follows (`simgw tenant put --market`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Market {
    /// Mainland China: real name, card reader and face match in stores, one ID five lines.
    #[serde(rename = "cn")]
    Cn,
    /// United Kingdom.
    #[serde(rename = "uk")]
    Uk,
    /// United States.
    #[serde(rename = "us")]
    Us,
    /// France (prepaid lines need identity).
    #[serde(rename = "eu-fr")]
    EuFr,
    /// Other EU member states.
    #[serde(rename = "eu-generic")]
    EuGeneric,
}

impl Market {
    /// Every market.
    pub const ALL: [Self; 5] = [Self::Cn, Self::Uk, Self::Us, Self::EuFr, Self::EuGeneric];

    /// Stable name (`cn`, `uk`, `us`, `eu-fr`, `eu-generic`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cn => "cn",
            Self::Uk => "uk",
            Self::Us => "us",
            Self::EuFr => "eu-fr",
            Self::EuGeneric => "eu-generic",
        }
    }

    /// Parses a stable name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// The market's row of defaults.
    pub fn row(self) -> &'static MarketRow {
        match self {
            Self::Cn => &CN,
            Self::Uk => &UK,
            Self::Us => &US,
            Self::EuFr => &EU_FR,
            Self::EuGeneric => &EU_GENERIC,
        }
    }
}

/// The version of the default rows; bumped whenever a row changes, so audit records
/// citing a policy version keep meaning what they meant.
pub const DEFAULTS_VERSION: u32 = 1;

/// The rules of one channel type in a market's row.
#[derive(Clone, Copy, Debug)]
pub struct ChannelRow {
    /// Whether this channel type may activate at all.
    pub allowed: bool,
    /// Whether it may activate eSIMs.
    pub esim_allowed: bool,
    /// The capture methods accepted.
    pub capture: &'static [CaptureMethod],
    /// A face match with liveness is required.
    pub face_match_required: bool,
    /// A real-person video is required.
    pub video_required: bool,
    /// The lowest face-match score accepted.
    pub min_face_score: f64,
    /// Store, clerk, terminal and reader must be registered and enabled.
    pub registry_required: bool,
}

/// A market's defaults.
#[derive(Debug)]
pub struct MarketRow {
    /// Every order must carry a valid subscriber.
    pub identity_required: bool,
    /// The ID document types accepted.
    pub id_types: &'static [IdType],
    /// Store channels.
    pub store: ChannelRow,
    /// Online channels (checkout back ends, apps).
    pub online: ChannelRow,
    /// Live lines per ID per enterprise (`None`: no limit).
    pub lines_per_id: Option<u32>,
    /// Activations per store in a sliding 24 h.
    pub store_per_day: Option<u32>,
    /// Activations per clerk in a sliding hour.
    pub clerk_per_hour: Option<u32>,
    /// Activations per device (terminal, else reader) in a sliding hour.
    pub device_per_hour: Option<u32>,
    /// Activations per ID in a sliding 30 days.
    pub id_per_30_days: Option<u32>,
    /// A velocity breach also freezes the channel (store, clerk or device) at fault.
    pub freeze_on_breach: bool,
    /// Hours a flagged line has to re-verify before it is suspended.
    pub reverify_hours: u32,
    /// Risk rule: hit when an activation leaves the ID this close to its limit (0: at it).
    pub id_near_limit_margin: Option<u32>,
    /// Risk rule: a store burst, (activations, minutes).
    pub store_burst: Option<(u32, u32)>,
    /// Risk rule: activation outside store hours, with the default hours
    /// (open, close as minutes of the day; UTC offset in minutes) for stores without own.
    pub outside_hours: Option<(u16, u16, i16)>,
    /// Risk rule: a line seen with a blocklisted IMEI.
    pub blocked_imei: bool,
    /// Risk rule: a SIM swap.
    pub sim_swap: bool,
    /// Risk rule: the line moved to another handset (IMEI change; practice, not law).
    pub imei_change: bool,
    /// Risk rule: the identity verifier flagged the subscriber.
    pub verifier_flag: bool,
    /// Blocklisted-ID entries last at least this many days…
    pub block_min_days: u32,
    /// …and at most this many…
    pub block_max_days: u32,
    /// …and back-to-back entries cover at most this many days.
    pub block_max_consecutive_days: u32,
}

const ANY_CAPTURE: &[CaptureMethod] = &[CaptureMethod::CardReader, CaptureMethod::Manual];

/// MIIT Order No. 25's accepted documents (reference §1.1).
const CN_IDS: &[IdType] = &[
    IdType::ResidentId,
    IdType::TemporaryResidentId,
    IdType::HouseholdRegister,
    IdType::HkMacaoTravelPermit,
    IdType::TaiwanTravelPermit,
    IdType::HkMacaoTaiwanResidencePermit,
    IdType::ForeignPermanentResidentId,
    IdType::Passport,
];

const WESTERN_IDS: &[IdType] = &[
    IdType::Passport,
    IdType::NationalId,
    IdType::ResidencePermit,
    IdType::DrivingLicence,
];

/// Sanctions last 2 or 3 years, at most 5 consecutive (reference §2.5).
const BLOCK_DAYS: (u32, u32, u32) = (730, 1096, 1827);

/// China: reader-only capture and a face match in stores, a real-person video online,
/// online eSIM off (reference §2.1), 5 lines per ID per enterprise (§2.2), channel
/// registry required, and every risk rule of §2.3 on.
static CN: MarketRow = MarketRow {
    identity_required: true,
    id_types: CN_IDS,
    store: ChannelRow {
        allowed: true,
        esim_allowed: true,
        capture: &[CaptureMethod::CardReader],
        face_match_required: true,
        video_required: false,
        min_face_score: 0.8,
        registry_required: true,
    },
    online: ChannelRow {
        allowed: true,
        esim_allowed: false,
        capture: ANY_CAPTURE,
        face_match_required: false,
        video_required: true,
        min_face_score: 0.8,
        registry_required: false,
    },
    lines_per_id: Some(5),
    store_per_day: Some(200),
    clerk_per_hour: Some(20),
    device_per_hour: Some(20),
    id_per_30_days: Some(5),
    freeze_on_breach: true,
    reverify_hours: 24,
    id_near_limit_margin: Some(0),
    store_burst: Some((10, 10)),
    outside_hours: Some((8 * 60, 22 * 60, 8 * 60)),
    blocked_imei: true,
    sim_swap: true,
    imei_change: false,
    verifier_flag: true,
    block_min_days: BLOCK_DAYS.0,
    block_max_days: BLOCK_DAYS.1,
    block_max_consecutive_days: BLOCK_DAYS.2,
};

/// The permissive row the other markets start from.
const fn permissive(identity_required: bool, id_types: &'static [IdType]) -> MarketRow {
    let channel = ChannelRow {
        allowed: true,
        esim_allowed: true,
        capture: ANY_CAPTURE,
        face_match_required: false,
        video_required: false,
        min_face_score: 0.0,
        registry_required: false,
    };
    MarketRow {
        identity_required,
        id_types,
        store: channel,
        online: channel,
        lines_per_id: Some(10),
        store_per_day: Some(500),
        clerk_per_hour: Some(60),
        device_per_hour: Some(60),
        id_per_30_days: Some(10),
        freeze_on_breach: false,
        reverify_hours: 24,
        id_near_limit_margin: None,
        store_burst: None,
        outside_hours: None,
        blocked_imei: true,
        sim_swap: false,
        imei_change: false,
        verifier_flag: true,
        block_min_days: BLOCK_DAYS.0,
        block_max_days: BLOCK_DAYS.1,
        block_max_consecutive_days: BLOCK_DAYS.2,
    }
}

/// UK: no registration duty for mobile lines; identity is optional.
static UK: MarketRow = permissive(false, WESTERN_IDS);
/// US: no registration duty for prepaid lines; identity is optional.
static US: MarketRow = permissive(false, WESTERN_IDS);
/// France: identity required for every line, prepaid included.
static EU_FR: MarketRow = permissive(true, WESTERN_IDS);
/// Other EU states: most require identity for prepaid; the generic row does.
static EU_GENERIC: MarketRow = permissive(true, WESTERN_IDS);
