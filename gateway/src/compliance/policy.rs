//! The resolved compliance policy of a tenant: its market's row (`markets.rs`) with the
//! tenant's override (`overrides.rs`) merged over it, or the permissive sandbox policy.
//! Every decision cites `Policy::version`, which names the market, the version of the
//! default rows and, when an override changed anything, a digest of the effective rules.

use super::markets::{ChannelRow, DEFAULTS_VERSION, Market, MarketRow};
use super::subscriber::CaptureMethod;
use adapters::identity::IdType;
use serde::Serialize;

/// Milliseconds in an hour.
pub const HOUR_MS: u64 = 3_600_000;
/// Milliseconds in a day.
pub const DAY_MS: u64 = 24 * HOUR_MS;

/// Where an order comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    /// A physical store: store, clerk, terminal and ID reader.
    Store,
    /// An online channel (checkout back end, app); also an order with no `channel`.
    Online,
}

/// The rules of one channel type.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ChannelRules {
    /// Whether this channel type may activate at all.
    pub allowed: bool,
    /// Whether it may activate eSIMs.
    pub esim_allowed: bool,
    /// The capture methods accepted.
    pub capture: Vec<CaptureMethod>,
    /// A face match with liveness is required.
    pub face_match_required: bool,
    /// A real-person video is required.
    pub video_required: bool,
    /// The lowest face-match score accepted (when a face match is sent or required).
    pub min_face_score: f64,
    /// Store, clerk, terminal and reader must be registered and enabled.
    pub registry_required: bool,
}

/// Velocity limits; `None` is no limit. Windows slide (see `velocity.rs`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct VelocityLimits {
    /// Activations per store per 24 h.
    pub store_per_day: Option<u32>,
    /// Activations per clerk per hour.
    pub clerk_per_hour: Option<u32>,
    /// Activations per device per hour.
    pub device_per_hour: Option<u32>,
    /// Activations per ID per 30 days (across the enterprise).
    pub id_per_30_days: Option<u32>,
    /// A breach also freezes the channel member at fault (`channel_frozen`).
    pub freeze_on_breach: bool,
}

/// A store burst: `count` activations within `minutes`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Burst {
    /// Activations…
    pub count: u32,
    /// …within this many minutes (1 to 1440).
    pub minutes: u32,
}

/// Opening hours in the store's local time. `open == close` is open all day; `close <
/// open` runs past midnight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct StoreHours {
    /// Opening, minutes after local midnight (0 to 1439).
    pub open_min: u16,
    /// Closing, minutes after local midnight (0 to 1439).
    pub close_min: u16,
    /// Local time minus UTC, in minutes (China: +480).
    pub utc_offset_min: i16,
}

impl StoreHours {
    /// Whether the store is open at `now_ms`.
    pub fn is_open(&self, now_ms: u64) -> bool {
        let minutes = i64::try_from(now_ms / 60_000).unwrap_or(i64::MAX);
        let local = minutes
            .saturating_add(i64::from(self.utc_offset_min))
            .rem_euclid(1440);
        let (open, close) = (i64::from(self.open_min), i64::from(self.close_min));
        match open.cmp(&close) {
            std::cmp::Ordering::Equal => true,
            std::cmp::Ordering::Less => open <= local && local < close,
            std::cmp::Ordering::Greater => local >= open || local < close,
        }
    }
}

/// Which risk rules are on (a hit puts the line into `pending_verification`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RiskRules {
    /// An activation leaving the ID within this many lines of its limit (0: at it).
    pub id_near_limit: Option<u32>,
    /// A store burst.
    pub store_burst: Option<Burst>,
    /// Activation outside store hours.
    pub outside_store_hours: bool,
    /// The hours of a store the registry gives none for.
    pub default_store_hours: Option<StoreHours>,
    /// A line seen with a blocklisted IMEI.
    pub blocked_imei: bool,
    /// A SIM swap.
    pub sim_swap: bool,
    /// The line moved to another handset.
    pub imei_change: bool,
    /// The identity verifier flagged the subscriber.
    pub verifier_flag: bool,
}

/// Lifetimes of blocklisted-ID entries (sanctions: 2–3 years, ≤ 5 consecutive).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct BlocklistRules {
    /// Shortest entry, days.
    pub min_days: u32,
    /// Longest entry, days.
    pub max_days: u32,
    /// Longest run of back-to-back or overlapping entries for one ID, days.
    pub max_consecutive_days: u32,
}

/// A tenant's effective compliance policy.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Policy {
    /// The market (`None`: the sandbox policy).
    pub market: Option<Market>,
    /// What audit records cite: `cn.v1`, `cn.v1+3f2a9c1e` (overridden), `sandbox.v1`.
    pub version: String,
    /// Every order must carry a subscriber. Off: it may be absent; one that is sent
    /// must still be valid, unless `keep_invalid_subscriber`.
    pub identity_required: bool,
    /// A subscriber that does not validate is kept as sent (sealed) and checks nothing,
    /// as before compliance existed. The sandbox only: its examples and tests send free
    /// subscriber objects. Not configurable per tenant.
    pub keep_invalid_subscriber: bool,
    /// The ID document types accepted.
    pub accepted_id_types: Vec<IdType>,
    /// Store channels.
    pub store: ChannelRules,
    /// Online channels.
    pub online: ChannelRules,
    /// Live lines per ID across the enterprise (`None`: no limit).
    pub lines_per_id: Option<u32>,
    /// Velocity limits.
    pub velocity: VelocityLimits,
    /// How long a flagged line has to re-verify before it is suspended.
    pub reverify_deadline_ms: u64,
    /// Risk rules.
    pub risk: RiskRules,
    /// Blocklist entry lifetimes.
    pub blocklist: BlocklistRules,
    /// Days subscriber details and audit records are kept (`None`: no purge). No legal
    /// period was established (reference §3), so it is configuration.
    pub retention_days: Option<u32>,
}

impl Policy {
    /// A market's default policy.
    pub fn for_market(market: Market) -> Self {
        let row: &MarketRow = market.row();
        Self {
            market: Some(market),
            version: format!("{}.v{DEFAULTS_VERSION}", market.as_str()),
            identity_required: row.identity_required,
            keep_invalid_subscriber: false,
            accepted_id_types: row.id_types.to_vec(),
            store: channel(&row.store),
            online: channel(&row.online),
            lines_per_id: row.lines_per_id,
            velocity: VelocityLimits {
                store_per_day: row.store_per_day,
                clerk_per_hour: row.clerk_per_hour,
                device_per_hour: row.device_per_hour,
                id_per_30_days: row.id_per_30_days,
                freeze_on_breach: row.freeze_on_breach,
            },
            reverify_deadline_ms: u64::from(row.reverify_hours) * HOUR_MS,
            risk: RiskRules {
                id_near_limit: row.id_near_limit_margin,
                store_burst: row
                    .store_burst
                    .map(|(count, minutes)| Burst { count, minutes }),
                outside_store_hours: row.outside_hours.is_some(),
                default_store_hours: row.outside_hours.map(|(open_min, close_min, off)| {
                    StoreHours {
                        open_min,
                        close_min,
                        utc_offset_min: off,
                    }
                }),
                blocked_imei: row.blocked_imei,
                sim_swap: row.sim_swap,
                imei_change: row.imei_change,
                verifier_flag: row.verifier_flag,
            },
            blocklist: BlocklistRules {
                min_days: row.block_min_days,
                max_days: row.block_max_days,
                max_consecutive_days: row.block_max_consecutive_days,
            },
            retention_days: None,
        }
    }

    /// The permissive policy of the `sandbox` tenant: identity optional, any document and
    /// capture, no registry, no limits, no risk rules. Blocklists still apply (an entry an
    /// operator adds is meant).
    pub fn sandbox() -> Self {
        let open = ChannelRules {
            allowed: true,
            esim_allowed: true,
            capture: vec![CaptureMethod::CardReader, CaptureMethod::Manual],
            face_match_required: false,
            video_required: false,
            min_face_score: 0.0,
            registry_required: false,
        };
        let mut p = Self::for_market(Market::Uk);
        p.market = None;
        p.version = "sandbox.v1".to_owned();
        p.identity_required = false;
        p.keep_invalid_subscriber = true;
        p.accepted_id_types = IdType::ALL.to_vec();
        p.store = open.clone();
        p.online = open;
        p.lines_per_id = None;
        p.velocity = VelocityLimits {
            store_per_day: None,
            clerk_per_hour: None,
            device_per_hour: None,
            id_per_30_days: None,
            freeze_on_breach: false,
        };
        p.risk = RiskRules {
            id_near_limit: None,
            store_burst: None,
            outside_store_hours: false,
            default_store_hours: None,
            blocked_imei: false,
            sim_swap: false,
            imei_change: false,
            verifier_flag: false,
        };
        p
    }

    /// The rules of a channel type.
    pub fn channel(&self, kind: ChannelKind) -> &ChannelRules {
        match kind {
            ChannelKind::Store => &self.store,
            ChannelKind::Online => &self.online,
        }
    }

    /// Re-derives `version` after an override: the market's default version, plus a
    /// digest of the effective rules when they differ from the defaults.
    pub(super) fn restamp(&mut self) {
        let Some(market) = self.market else {
            return;
        };
        let base = format!("{}.v{DEFAULTS_VERSION}", market.as_str());
        self.version = base.clone();
        if *self == Self::for_market(market) {
            return;
        }
        let bytes = serde_json::to_vec(&*self).unwrap_or_default();
        let digest = crate::crypto::hex(&crate::crypto::sha256(&bytes)[..4]);
        self.version = format!("{base}+{digest}");
    }
}

fn channel(row: &ChannelRow) -> ChannelRules {
    ChannelRules {
        allowed: row.allowed,
        esim_allowed: row.esim_allowed,
        capture: row.capture.to_vec(),
        face_match_required: row.face_match_required,
        video_required: row.video_required,
        min_face_score: row.min_face_score,
        registry_required: row.registry_required,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CaptureMethod::{CardReader, Manual};

    /// One row of the expected table: market, identity, store capture, store face,
    /// store registry, online eSIM, online video, lines per ID, velocity (store/day,
    /// clerk/hour, device/hour, ID/30 d), freeze.
    type Row = (
        Market,
        bool,
        &'static [CaptureMethod],
        bool,
        bool,
        bool,
        bool,
        Option<u32>,
        [Option<u32>; 4],
        bool,
    );

    const TABLE: [Row; 5] = [
        (
            Market::Cn,
            true,
            &[CardReader],
            true,
            true,
            false,
            true,
            Some(5),
            [Some(200), Some(20), Some(20), Some(5)],
            true,
        ),
        (
            Market::Uk,
            false,
            &[CardReader, Manual],
            false,
            false,
            true,
            false,
            Some(10),
            [Some(500), Some(60), Some(60), Some(10)],
            false,
        ),
        (
            Market::Us,
            false,
            &[CardReader, Manual],
            false,
            false,
            true,
            false,
            Some(10),
            [Some(500), Some(60), Some(60), Some(10)],
            false,
        ),
        (
            Market::EuFr,
            true,
            &[CardReader, Manual],
            false,
            false,
            true,
            false,
            Some(10),
            [Some(500), Some(60), Some(60), Some(10)],
            false,
        ),
        (
            Market::EuGeneric,
            true,
            &[CardReader, Manual],
            false,
            false,
            true,
            false,
            Some(10),
            [Some(500), Some(60), Some(60), Some(10)],
            false,
        ),
    ];

    #[test]
    fn every_market_row() {
        for (m, identity, capture, face, registry, online_esim, video, lines, vel, freeze) in TABLE
        {
            let p = Policy::for_market(m);
            let v = &p.velocity;
            assert_eq!(p.market, Some(m));
            assert_eq!(p.version, format!("{}.v1", m.as_str()));
            assert_eq!(p.identity_required, identity, "{m:?}");
            assert!(!p.keep_invalid_subscriber, "{m:?}");
            assert_eq!(p.store.capture, capture, "{m:?}");
            assert_eq!(p.store.face_match_required, face, "{m:?}");
            assert_eq!(p.store.registry_required, registry, "{m:?}");
            assert_eq!(p.online.esim_allowed, online_esim, "{m:?}");
            assert_eq!(p.online.video_required, video, "{m:?}");
            assert!(
                p.store.allowed && p.online.allowed && p.store.esim_allowed,
                "{m:?}"
            );
            assert_eq!(p.lines_per_id, lines, "{m:?}");
            assert_eq!(
                [
                    v.store_per_day,
                    v.clerk_per_hour,
                    v.device_per_hour,
                    v.id_per_30_days
                ],
                vel,
                "{m:?}"
            );
            assert_eq!(v.freeze_on_breach, freeze, "{m:?}");
            assert_eq!(p.reverify_deadline_ms, 24 * HOUR_MS, "{m:?}");
            assert_eq!(
                (
                    p.blocklist.min_days,
                    p.blocklist.max_days,
                    p.blocklist.max_consecutive_days
                ),
                (730, 1096, 1827),
                "{m:?}: 2-3 years, at most 5 consecutive"
            );
            assert!(
                p.risk.verifier_flag && p.risk.blocked_imei && !p.risk.imei_change,
                "{m:?}"
            );
            assert_eq!(Market::parse(m.as_str()), Some(m));
        }
    }

    #[test]
    fn china_documents_and_risk_rules() {
        let p = Policy::for_market(Market::Cn);
        assert!(p.accepted_id_types.contains(&IdType::ResidentId));
        assert!(
            p.accepted_id_types
                .contains(&IdType::ForeignPermanentResidentId)
        );
        assert!(!p.accepted_id_types.contains(&IdType::DrivingLicence));
        assert_eq!(p.store.min_face_score, 0.8);
        assert_eq!(p.risk.id_near_limit, Some(0));
        assert_eq!(
            p.risk.store_burst,
            Some(Burst {
                count: 10,
                minutes: 10
            })
        );
        assert!(p.risk.outside_store_hours && p.risk.sim_swap);
        let hours = p.risk.default_store_hours.expect("hours");
        assert_eq!(
            (hours.open_min, hours.close_min, hours.utc_offset_min),
            (480, 1320, 480)
        );
        let uk = Policy::for_market(Market::Uk);
        assert!(!uk.accepted_id_types.contains(&IdType::ResidentId));
        assert!(uk.risk.store_burst.is_none() && !uk.risk.outside_store_hours && !uk.risk.sim_swap);
    }

    #[test]
    fn sandbox_is_permissive() {
        let p = Policy::sandbox();
        assert_eq!((p.market, p.version.as_str()), (None, "sandbox.v1"));
        assert!(!p.identity_required && p.keep_invalid_subscriber && p.lines_per_id.is_none());
        assert_eq!(p.accepted_id_types.len(), IdType::ALL.len());
        for c in [&p.store, &p.online] {
            assert!(c.allowed && c.esim_allowed && !c.registry_required);
            assert!(!c.face_match_required && !c.video_required);
            assert_eq!(c.capture.len(), 2);
        }
        assert_eq!(p.velocity.store_per_day, None);
        assert!(!p.risk.verifier_flag && p.risk.store_burst.is_none());
        let mut again = p.clone();
        again.restamp();
        assert_eq!(again.version, "sandbox.v1");
    }

    #[test]
    fn store_hours() {
        // 08:00-22:00 in UTC+8: open 00:00-14:00 UTC.
        let h = StoreHours {
            open_min: 480,
            close_min: 1320,
            utc_offset_min: 480,
        };
        let at = |hh: u64, mm: u64| (hh * 60 + mm) * 60_000;
        assert!(h.is_open(at(0, 0)) && h.is_open(at(13, 59)));
        assert!(!h.is_open(at(14, 0)) && !h.is_open(at(23, 59)));
        let night = StoreHours {
            open_min: 1320,
            close_min: 120,
            utc_offset_min: 0,
        };
        assert!(night.is_open(at(23, 0)) && night.is_open(at(1, 59)) && !night.is_open(at(2, 0)));
        let always = StoreHours {
            open_min: 0,
            close_min: 0,
            utc_offset_min: -300,
        };
        assert!(always.is_open(0) && always.is_open(u64::MAX));
        let west = StoreHours {
            open_min: 540,
            close_min: 1020,
            utc_offset_min: -300,
        };
        assert!(
            west.is_open(at(14, 0)) && !west.is_open(at(13, 59)),
            "09:00 in UTC-5"
        );
    }
}
