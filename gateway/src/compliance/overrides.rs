//! A tenant's override of its market's defaults, as configuration (TOML or JSON): every
//! member optional, unknown members refused (a typo must not silently keep a default).
//! `resolve` merges it over the market row, checks the result and re-stamps the version.
//!
//! ```toml
//! lines_per_id = 3
//! reverify_hours = 48
//! [store]
//! capture = ["card_reader"]
//! min_face_score = 0.85
//! [velocity]
//! clerk_per_hour = 15
//! id_per_30_days = "off"
//! [risk]
//! store_burst = { count = 5, minutes = 10 }
//! store_hours = { open = "09:00", close = "21:00", utc_offset = "+08:00" }
//! ```

use super::markets::Market;
use super::policy::{Burst, ChannelRules, HOUR_MS, Policy, StoreHours};
use super::subscriber::CaptureMethod;
use adapters::identity::IdType;
use serde::{Deserialize, Serialize};
use std::sync::{Mutex, PoisonError};

/// A limit as configured: a number, or `"off"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Limit {
    /// At most this many.
    At(u32),
    /// No limit.
    Off(Off),
}

/// The word `off`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Off {
    /// `"off"`.
    #[serde(rename = "off")]
    Off,
}

impl Limit {
    fn value(self) -> Option<u32> {
        match self {
            Self::At(n) => Some(n),
            Self::Off(_) => None,
        }
    }
}

/// A store burst as configured: `{count, minutes}` or `"off"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum BurstSetting {
    /// `count` activations within `minutes`.
    On {
        /// Activations…
        count: u32,
        /// …within this many minutes.
        minutes: u32,
    },
    /// No burst rule.
    Off(Off),
}

/// Store hours as configured: `{open = "08:00", close = "22:00", utc_offset = "+08:00"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoursSetting {
    /// Opening, local `HH:MM`.
    pub open: String,
    /// Closing, local `HH:MM`.
    pub close: String,
    /// Local time minus UTC, `+HH:MM` or `-HH:MM`.
    pub utc_offset: String,
}

/// Overrides of one channel type's rules.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChannelOverride {
    /// May this channel type activate at all.
    pub allowed: Option<bool>,
    /// May it activate eSIMs (China online: off by default).
    pub esim_allowed: Option<bool>,
    /// Accepted capture methods.
    pub capture: Option<Vec<CaptureMethod>>,
    /// A face match with liveness is required.
    pub face_match_required: Option<bool>,
    /// A real-person video is required.
    pub video_required: Option<bool>,
    /// The lowest face-match score accepted, 0.0 to 1.0.
    pub min_face_score: Option<f64>,
    /// Store, clerk, terminal and reader must be registered and enabled.
    pub registry_required: Option<bool>,
}

/// Overrides of the velocity limits.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VelocityOverride {
    /// Per store per 24 h.
    pub store_per_day: Option<Limit>,
    /// Per clerk per hour.
    pub clerk_per_hour: Option<Limit>,
    /// Per device per hour.
    pub device_per_hour: Option<Limit>,
    /// Per ID per 30 days.
    pub id_per_30_days: Option<Limit>,
    /// Freeze the channel member at fault on a breach.
    pub freeze_on_breach: Option<bool>,
}

/// Overrides of the risk rules.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RiskOverride {
    /// Margin below the line limit that flags (a number, or `"off"`).
    pub id_near_limit: Option<Limit>,
    /// Store burst rule.
    pub store_burst: Option<BurstSetting>,
    /// Flag activations outside store hours.
    pub outside_store_hours: Option<bool>,
    /// Hours of stores the registry gives none for.
    pub store_hours: Option<HoursSetting>,
    /// Flag a line seen with a blocklisted IMEI.
    pub blocked_imei: Option<bool>,
    /// Flag SIM swaps.
    pub sim_swap: Option<bool>,
    /// Flag a move to another handset.
    pub imei_change: Option<bool>,
    /// Flag what the identity verifier flags.
    pub verifier_flag: Option<bool>,
}

/// Overrides of blocklisted-ID entry lifetimes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BlocklistOverride {
    /// Shortest entry, days.
    pub min_days: Option<u32>,
    /// Longest entry, days.
    pub max_days: Option<u32>,
    /// Longest run of consecutive entries, days.
    pub max_consecutive_days: Option<u32>,
}

/// A tenant's override of its market's defaults.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PolicyOverride {
    /// Every order must carry a valid subscriber.
    pub identity_required: Option<bool>,
    /// Accepted ID document types.
    pub accepted_id_types: Option<Vec<IdType>>,
    /// Live lines per ID per enterprise.
    pub lines_per_id: Option<Limit>,
    /// Hours a flagged line has to re-verify (1 to 720).
    pub reverify_hours: Option<u32>,
    /// Days subscriber details and audit records are kept.
    pub retention_days: Option<Limit>,
    /// Store channels.
    pub store: ChannelOverride,
    /// Online channels.
    pub online: ChannelOverride,
    /// Velocity limits.
    pub velocity: VelocityOverride,
    /// Risk rules.
    pub risk: RiskOverride,
    /// Blocklist entry lifetimes.
    pub blocklist: BlocklistOverride,
}

/// An override value out of range: the key and what to fix.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid compliance setting `{field}`: {message}")]
pub struct PolicyError {
    /// The key at fault (`velocity.clerk_per_hour`).
    pub field: &'static str,
    /// What to fix.
    pub message: String,
}

fn bad(field: &'static str, message: impl Into<String>) -> PolicyError {
    PolicyError {
        field,
        message: message.into(),
    }
}

/// How many (market, override) answers `resolve` remembers.
const REMEMBERED: usize = 64;

/// `resolve`'s recent answers: a tenant's policy is resolved for every order it sends,
/// and the re-stamp hashes the whole merged policy; the answer depends on the market and
/// the override alone.
static RESOLVED: Mutex<Vec<Resolved>> = Mutex::new(Vec::new());

/// One remembered answer of `resolve` with its inputs.
type Resolved = (Market, PolicyOverride, Result<Policy, PolicyError>);

/// A market's policy with `o` merged over it, checked and re-stamped.
pub fn resolve(market: Market, o: &PolicyOverride) -> Result<Policy, PolicyError> {
    let memo = || RESOLVED.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((_, _, answer)) = memo().iter().find(|(m, k, _)| *m == market && k == o) {
        return answer.clone();
    }
    let answer = merge(market, o);
    let mut m = memo();
    if m.len() >= REMEMBERED {
        drop(m.remove(0));
    }
    m.push((market, o.clone(), answer.clone()));
    answer
}

/// `resolve` without the memo.
fn merge(market: Market, o: &PolicyOverride) -> Result<Policy, PolicyError> {
    let mut p = Policy::for_market(market);
    set(&mut p.identity_required, o.identity_required);
    if let Some(t) = &o.accepted_id_types {
        if t.is_empty() {
            return Err(bad("accepted_id_types", "list at least one ID type"));
        }
        p.accepted_id_types = t.clone();
    }
    if let Some(l) = o.lines_per_id {
        p.lines_per_id = positive(l, "lines_per_id")?;
    }
    if let Some(h) = o.reverify_hours {
        if !(1..=720).contains(&h) {
            return Err(bad("reverify_hours", "must be 1 to 720 hours"));
        }
        p.reverify_deadline_ms = u64::from(h) * HOUR_MS;
    }
    if let Some(l) = o.retention_days {
        p.retention_days = positive(l, "retention_days")?;
    }
    channel(
        &mut p.store,
        &o.store,
        ("store.capture", "store.min_face_score"),
    )?;
    channel(
        &mut p.online,
        &o.online,
        ("online.capture", "online.min_face_score"),
    )?;
    let (v, ov) = (&mut p.velocity, &o.velocity);
    for (slot, set_to, field) in [
        (
            &mut v.store_per_day,
            ov.store_per_day,
            "velocity.store_per_day",
        ),
        (
            &mut v.clerk_per_hour,
            ov.clerk_per_hour,
            "velocity.clerk_per_hour",
        ),
        (
            &mut v.device_per_hour,
            ov.device_per_hour,
            "velocity.device_per_hour",
        ),
        (
            &mut v.id_per_30_days,
            ov.id_per_30_days,
            "velocity.id_per_30_days",
        ),
    ] {
        if let Some(l) = set_to {
            *slot = positive(l, field)?;
        }
    }
    set(&mut v.freeze_on_breach, ov.freeze_on_breach);
    let (r, or) = (&mut p.risk, &o.risk);
    if let Some(m) = or.id_near_limit {
        r.id_near_limit = m.value();
    }
    match or.store_burst {
        None => {}
        Some(BurstSetting::Off(_)) => r.store_burst = None,
        Some(BurstSetting::On { count, minutes }) => {
            if count == 0 || !(1..=1440).contains(&minutes) {
                return Err(bad(
                    "risk.store_burst",
                    "`count` must be at least 1 and `minutes` 1 to 1440",
                ));
            }
            r.store_burst = Some(Burst { count, minutes });
        }
    }
    set(&mut r.outside_store_hours, or.outside_store_hours);
    if let Some(h) = &or.store_hours {
        r.default_store_hours = Some(hours(h)?);
    }
    set(&mut r.blocked_imei, or.blocked_imei);
    set(&mut r.sim_swap, or.sim_swap);
    set(&mut r.imei_change, or.imei_change);
    set(&mut r.verifier_flag, or.verifier_flag);
    let (b, ob) = (&mut p.blocklist, &o.blocklist);
    set(&mut b.min_days, ob.min_days);
    set(&mut b.max_days, ob.max_days);
    set(&mut b.max_consecutive_days, ob.max_consecutive_days);
    if b.min_days == 0 || b.min_days > b.max_days || b.max_days > b.max_consecutive_days {
        return Err(bad(
            "blocklist",
            "need 1 <= min_days <= max_days <= max_consecutive_days",
        ));
    }
    p.restamp();
    Ok(p)
}

fn set<T>(slot: &mut T, v: Option<T>) {
    if let Some(v) = v {
        *slot = v;
    }
}

fn positive(l: Limit, field: &'static str) -> Result<Option<u32>, PolicyError> {
    match l.value() {
        Some(0) => Err(bad(field, "must be at least 1, or \"off\" for no limit")),
        v => Ok(v),
    }
}

fn channel(
    c: &mut ChannelRules,
    o: &ChannelOverride,
    (capture_key, score_key): (&'static str, &'static str),
) -> Result<(), PolicyError> {
    set(&mut c.allowed, o.allowed);
    set(&mut c.esim_allowed, o.esim_allowed);
    if let Some(m) = &o.capture {
        if m.is_empty() {
            return Err(bad(capture_key, "list at least one capture method"));
        }
        c.capture = m.clone();
    }
    set(&mut c.face_match_required, o.face_match_required);
    set(&mut c.video_required, o.video_required);
    if let Some(s) = o.min_face_score {
        if !(0.0..=1.0).contains(&s) {
            return Err(bad(score_key, "must be 0.0 to 1.0"));
        }
        c.min_face_score = s;
    }
    set(&mut c.registry_required, o.registry_required);
    Ok(())
}

/// Parses `HH:MM` to minutes of the day.
fn clock(s: &str) -> Option<u16> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60).then_some(h * 60 + m)
}

fn hours(h: &HoursSetting) -> Result<StoreHours, PolicyError> {
    let open = clock(&h.open).ok_or_else(|| bad("risk.store_hours.open", "use HH:MM"))?;
    let close = clock(&h.close).ok_or_else(|| bad("risk.store_hours.close", "use HH:MM"))?;
    let off = h.utc_offset.as_str();
    let (sign, rest) = match off.as_bytes().first() {
        Some(b'+') => (1, &off[1..]),
        Some(b'-') => (-1, &off[1..]),
        _ => return Err(bad("risk.store_hours.utc_offset", "use +HH:MM or -HH:MM")),
    };
    let mins = clock(rest).filter(|m| *m <= 14 * 60).ok_or_else(|| {
        bad(
            "risk.store_hours.utc_offset",
            "use +HH:MM or -HH:MM, at most 14:00",
        )
    })?;
    Ok(StoreHours {
        open_min: open,
        close_min: close,
        utc_offset_min: sign * i16::try_from(mins).unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(toml_text: &str) -> Result<PolicyOverride, String> {
        toml::from_str(toml_text).map_err(|e| e.to_string())
    }

    #[test]
    fn no_override_keeps_the_defaults_and_their_version() {
        for m in Market::ALL {
            let p = resolve(m, &PolicyOverride::default()).expect("valid");
            assert_eq!(p, Policy::for_market(m));
        }
    }

    #[test]
    fn the_documented_example_merges_and_restamps() {
        let o = parse(
            r#"
            lines_per_id = 3
            reverify_hours = 48
            [store]
            capture = ["card_reader"]
            min_face_score = 0.85
            [velocity]
            clerk_per_hour = 15
            id_per_30_days = "off"
            [risk]
            store_burst = { count = 5, minutes = 10 }
            store_hours = { open = "09:00", close = "21:00", utc_offset = "+08:00" }
            "#,
        )
        .expect("toml");
        let p = resolve(Market::Uk, &o).expect("valid");
        assert_eq!(p.lines_per_id, Some(3));
        assert_eq!(p.reverify_deadline_ms, 48 * HOUR_MS);
        assert_eq!(p.store.capture, [CaptureMethod::CardReader]);
        assert_eq!(p.store.min_face_score, 0.85);
        assert_eq!(p.velocity.clerk_per_hour, Some(15));
        assert_eq!(p.velocity.id_per_30_days, None, "off");
        assert_eq!(p.velocity.store_per_day, Some(500), "untouched");
        assert_eq!(
            p.risk.store_burst,
            Some(Burst {
                count: 5,
                minutes: 10
            })
        );
        assert_eq!(
            p.risk.default_store_hours,
            Some(StoreHours {
                open_min: 540,
                close_min: 1260,
                utc_offset_min: 480
            })
        );
        assert!(
            p.version.starts_with("uk.v1+") && p.version.len() == "uk.v1+".len() + 8,
            "{}",
            p.version
        );
        let again = resolve(Market::Uk, &o).expect("valid");
        assert_eq!(again.version, p.version, "same rules, same version");
        let mut other = o.clone();
        other.lines_per_id = Some(Limit::At(4));
        assert_ne!(
            resolve(Market::Uk, &other).expect("valid").version,
            p.version
        );
    }

    #[test]
    fn remembered_answers_are_the_merges_of_their_own_inputs() {
        let overrides = [
            PolicyOverride::default(),
            parse("lines_per_id = 3").expect("toml"),
            parse("lines_per_id = 4").expect("toml"),
            parse("reverify_hours = 0").expect("toml"),
        ];
        for _ in 0..2 {
            for m in Market::ALL {
                for o in &overrides {
                    assert_eq!(resolve(m, o), merge(m, o), "{m:?} {o:?}");
                }
            }
        }
    }

    #[test]
    fn an_override_equal_to_the_defaults_keeps_the_plain_version() {
        let o = parse("lines_per_id = 5\n[online]\nesim_allowed = false").expect("toml");
        assert_eq!(resolve(Market::Cn, &o).expect("valid").version, "cn.v1");
    }

    #[test]
    fn switches_turn_rules_off_and_on() {
        let o = parse(
            "identity_required = false\naccepted_id_types = [\"passport\"]\nlines_per_id = \"off\"\nretention_days = 3650\n\
             [online]\nesim_allowed = true\nvideo_required = false\n\
             [store]\nregistry_required = false\nface_match_required = false\n\
             [velocity]\nfreeze_on_breach = false\n\
             [risk]\nid_near_limit = \"off\"\nstore_burst = \"off\"\noutside_store_hours = false\nsim_swap = false\nimei_change = true\nverifier_flag = false\nblocked_imei = false\n\
             [blocklist]\nmin_days = 365\nmax_days = 730\nmax_consecutive_days = 1000",
        )
        .expect("toml");
        let p = resolve(Market::Cn, &o).expect("valid");
        assert!(!p.identity_required && p.lines_per_id.is_none());
        assert_eq!(p.accepted_id_types, [IdType::Passport]);
        assert_eq!(p.retention_days, Some(3650));
        assert!(p.online.esim_allowed && !p.online.video_required);
        assert!(!p.store.registry_required && !p.store.face_match_required);
        assert!(!p.velocity.freeze_on_breach);
        let r = &p.risk;
        assert!(r.id_near_limit.is_none() && r.store_burst.is_none() && !r.outside_store_hours);
        assert!(!r.sim_swap && r.imei_change && !r.verifier_flag && !r.blocked_imei);
        assert_eq!(
            (
                p.blocklist.min_days,
                p.blocklist.max_days,
                p.blocklist.max_consecutive_days
            ),
            (365, 730, 1000)
        );
    }

    #[test]
    fn bad_values_name_their_key() {
        let cases: &[(&str, &str)] = &[
            ("lines_per_id = 0", "lines_per_id"),
            ("accepted_id_types = []", "accepted_id_types"),
            ("reverify_hours = 0", "reverify_hours"),
            ("[velocity]\nclerk_per_hour = 0", "velocity.clerk_per_hour"),
            ("[store]\ncapture = []", "store.capture"),
            ("[online]\nmin_face_score = 1.5", "online.min_face_score"),
            (
                "[risk]\nstore_burst = { count = 0, minutes = 5 }",
                "risk.store_burst",
            ),
            (
                "[risk]\nstore_burst = { count = 3, minutes = 2000 }",
                "risk.store_burst",
            ),
            (
                "[risk]\nstore_hours = { open = \"25:00\", close = \"21:00\", utc_offset = \"+08:00\" }",
                "risk.store_hours.open",
            ),
            (
                "[risk]\nstore_hours = { open = \"09:00\", close = \"9:00\", utc_offset = \"+08:00\" }",
                "risk.store_hours.close",
            ),
            (
                "[risk]\nstore_hours = { open = \"09:00\", close = \"21:00\", utc_offset = \"08:00\" }",
                "risk.store_hours.utc_offset",
            ),
            ("[blocklist]\nmin_days = 800\nmax_days = 700", "blocklist"),
        ];
        for (text, field) in cases {
            let o = parse(text).expect("toml");
            assert_eq!(
                resolve(Market::Cn, &o).expect_err(text).field,
                *field,
                "{text}"
            );
        }
    }

    #[test]
    fn unknown_keys_and_words_are_refused() {
        assert!(parse("line_per_id = 5").is_err(), "typo");
        assert!(parse("[velocity]\nstore_per_hour = 5").is_err());
        assert!(parse("lines_per_id = \"none\"").is_err());
        assert!(parse("accepted_id_types = [\"library_card\"]").is_err());
        assert!(parse("[store]\ncapture = [\"photo\"]").is_err());
    }

    #[test]
    fn negative_offsets() {
        let o = parse("[risk]\nstore_hours = { open = \"09:00\", close = \"17:00\", utc_offset = \"-05:30\" }").expect("toml");
        let p = resolve(Market::Us, &o).expect("valid");
        assert_eq!(
            p.risk.default_store_hours.map(|h| h.utc_offset_min),
            Some(-330)
        );
    }
}
