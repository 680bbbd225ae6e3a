//! Risk rules as a pure evaluation: facts in, hits out. A hit never refuses an order; it
//! opens the line (or leaves it open) in `pending_verification` (`reverify.rs`), and the
//! audit record names each rule that hit.

use super::policy::{RiskRules, StoreHours};

/// A risk rule (reference §2.3, §3).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum RiskRule {
    /// One ID with many cards: the activation leaves the ID at or near its line limit.
    IdNearLimit,
    /// A store opened many lines in a few minutes.
    StoreBurst,
    /// An activation outside the store's opening hours.
    OutsideStoreHours,
    /// The line was seen in a handset whose IMEI is blocklisted.
    BlockedImei,
    /// The line moved to another SIM.
    SimSwap,
    /// The line moved to another handset.
    ImeiChange,
    /// The identity verifier flagged the subscriber.
    VerifierFlag,
}

impl RiskRule {
    /// Stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::IdNearLimit => "id_near_limit",
            Self::StoreBurst => "store_burst",
            Self::OutsideStoreHours => "outside_store_hours",
            Self::BlockedImei => "blocked_imei",
            Self::SimSwap => "sim_swap",
            Self::ImeiChange => "imei_change",
            Self::VerifierFlag => "verifier_flag",
        }
    }

    /// Every rule.
    pub const ALL: [Self; 7] = [
        Self::IdNearLimit,
        Self::StoreBurst,
        Self::OutsideStoreHours,
        Self::BlockedImei,
        Self::SimSwap,
        Self::ImeiChange,
        Self::VerifierFlag,
    ];

    /// The rule with this stable name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// One rule that hit, with what made it hit (for the audit record; never PII).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RiskHit {
    /// The rule.
    pub rule: RiskRule,
    /// The facts that made it hit (`lines 5 of 5`, `11 in 10 min`, `local 23:10`).
    pub detail: String,
}

/// What an allowed activation looks like to the risk rules.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ActivationFacts {
    /// The order comes from a store (the store rules look only at store orders).
    pub at_store: bool,
    /// The ID's live lines including this one, and its limit (when there is an ID).
    pub lines_after: Option<(u32, Option<u32>)>,
    /// The store's activations in the burst window before this one (store channels).
    pub store_burst_before: Option<u64>,
    /// The store's opening hours (its own, else the policy's default; store channels).
    pub store_hours: Option<StoreHours>,
    /// When.
    pub now_ms: u64,
}

/// The rules an activation hits.
pub fn on_activation(rules: &RiskRules, f: &ActivationFacts) -> Vec<RiskHit> {
    let mut hits = Vec::new();
    // (Let-chains would read better, but the workspace's MSRV is 1.85.)
    if let (Some(margin), Some((after, Some(limit)))) = (rules.id_near_limit, f.lines_after) {
        if after.saturating_add(margin) >= limit {
            hits.push(RiskHit {
                rule: RiskRule::IdNearLimit,
                detail: format!("lines {after} of {limit}"),
            });
        }
    }
    if let (Some(b), Some(before)) = (rules.store_burst, f.store_burst_before) {
        if before.saturating_add(1) >= u64::from(b.count) {
            hits.push(RiskHit {
                rule: RiskRule::StoreBurst,
                detail: format!("{} in {} min", before.saturating_add(1), b.minutes),
            });
        }
    }
    let hours = f.store_hours.or(rules.default_store_hours);
    if let (true, true, Some(h)) = (rules.outside_store_hours, f.at_store, hours) {
        if !h.is_open(f.now_ms) {
            hits.push(RiskHit {
                rule: RiskRule::OutsideStoreHours,
                detail: format!("local {}", local_clock(h, f.now_ms)),
            });
        }
    }
    hits
}

/// Something that happened to an existing line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LineEvent {
    /// A SIM swap was ordered.
    SimSwap,
    /// The network reported the line in a handset.
    ImeiSeen {
        /// The IMEI is on a blocklist.
        blocked: bool,
        /// It differs from the last one seen.
        changed: bool,
    },
    /// The identity verifier answered `flag`.
    VerifierFlag,
}

/// The rules an event on a line hits.
pub fn on_line_event(rules: &RiskRules, e: &LineEvent) -> Vec<RiskHit> {
    let hit = |rule, detail: &str| RiskHit {
        rule,
        detail: detail.to_owned(),
    };
    let mut hits = Vec::new();
    match e {
        LineEvent::SimSwap if rules.sim_swap => hits.push(hit(RiskRule::SimSwap, "sim swap")),
        LineEvent::ImeiSeen { blocked, changed } => {
            if *blocked && rules.blocked_imei {
                hits.push(hit(RiskRule::BlockedImei, "blocklisted IMEI"));
            }
            if *changed && rules.imei_change {
                hits.push(hit(RiskRule::ImeiChange, "new handset"));
            }
        }
        LineEvent::VerifierFlag if rules.verifier_flag => {
            hits.push(hit(RiskRule::VerifierFlag, "verifier flag"));
        }
        _ => {}
    }
    hits
}

/// `HH:MM` local time at `now_ms` in the store's zone.
fn local_clock(h: StoreHours, now_ms: u64) -> String {
    let minutes = i64::try_from(now_ms / 60_000).unwrap_or(0);
    let local = minutes
        .saturating_add(i64::from(h.utc_offset_min))
        .rem_euclid(1440);
    format!("{:02}:{:02}", local / 60, local % 60)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compliance::markets::Market;
    use crate::compliance::policy::Policy;

    fn cn() -> RiskRules {
        Policy::for_market(Market::Cn).risk
    }

    /// 10:00 in UTC+8 (02:00 UTC), inside the default hours.
    const OPEN: u64 = 2 * 3_600_000;
    /// 23:00 in UTC+8 (15:00 UTC).
    const CLOSED: u64 = 15 * 3_600_000;

    fn store_facts(lines: Option<(u32, Option<u32>)>, burst: u64, now_ms: u64) -> ActivationFacts {
        ActivationFacts {
            at_store: true,
            lines_after: lines,
            store_burst_before: Some(burst),
            store_hours: None,
            now_ms,
        }
    }

    fn rules_of(hits: &[RiskHit]) -> Vec<RiskRule> {
        hits.iter().map(|h| h.rule).collect()
    }

    #[test]
    fn id_near_limit() {
        let r = cn();
        assert!(on_activation(&r, &store_facts(Some((4, Some(5))), 0, OPEN)).is_empty());
        let hits = on_activation(&r, &store_facts(Some((5, Some(5))), 0, OPEN));
        assert_eq!(rules_of(&hits), [RiskRule::IdNearLimit]);
        assert_eq!(hits[0].detail, "lines 5 of 5");
        let mut near = r.clone();
        near.id_near_limit = Some(1);
        assert_eq!(
            rules_of(&on_activation(
                &near,
                &store_facts(Some((4, Some(5))), 0, OPEN)
            )),
            [RiskRule::IdNearLimit]
        );
        assert!(
            on_activation(&r, &store_facts(Some((50, None)), 0, OPEN)).is_empty(),
            "no limit"
        );
        near.id_near_limit = None;
        assert!(
            on_activation(&near, &store_facts(Some((5, Some(5))), 0, OPEN)).is_empty(),
            "off"
        );
    }

    #[test]
    fn store_burst() {
        let r = cn();
        assert!(on_activation(&r, &store_facts(None, 8, OPEN)).is_empty());
        let hits = on_activation(&r, &store_facts(None, 9, OPEN));
        assert_eq!(rules_of(&hits), [RiskRule::StoreBurst]);
        assert_eq!(hits[0].detail, "10 in 10 min");
        let online = ActivationFacts {
            now_ms: CLOSED,
            ..Default::default()
        };
        assert!(
            on_activation(&r, &online).is_empty(),
            "online: no store rules"
        );
    }

    #[test]
    fn outside_store_hours() {
        let r = cn();
        let hits = on_activation(&r, &store_facts(None, 0, CLOSED));
        assert_eq!(rules_of(&hits), [RiskRule::OutsideStoreHours]);
        assert_eq!(hits[0].detail, "local 23:00");
        let own = StoreHours {
            open_min: 0,
            close_min: 0,
            utc_offset_min: 480,
        };
        let f = ActivationFacts {
            store_hours: Some(own),
            ..store_facts(None, 0, CLOSED)
        };
        assert!(
            on_activation(&r, &f).is_empty(),
            "the store's own hours win"
        );
        let uk = Policy::for_market(Market::Uk).risk;
        assert!(
            on_activation(&uk, &store_facts(Some((10, Some(10))), 50, CLOSED)).is_empty(),
            "uk: all off"
        );
    }

    #[test]
    fn line_events() {
        let r = cn();
        assert_eq!(
            rules_of(&on_line_event(&r, &LineEvent::SimSwap)),
            [RiskRule::SimSwap]
        );
        assert_eq!(
            rules_of(&on_line_event(&r, &LineEvent::VerifierFlag)),
            [RiskRule::VerifierFlag]
        );
        let seen = LineEvent::ImeiSeen {
            blocked: true,
            changed: true,
        };
        assert_eq!(
            rules_of(&on_line_event(&r, &seen)),
            [RiskRule::BlockedImei],
            "IMEI change off by default"
        );
        let mut on = r.clone();
        on.imei_change = true;
        assert_eq!(
            rules_of(&on_line_event(&on, &seen)),
            [RiskRule::BlockedImei, RiskRule::ImeiChange]
        );
        let quiet = Policy::sandbox().risk;
        for e in [LineEvent::SimSwap, LineEvent::VerifierFlag, seen] {
            assert!(on_line_event(&quiet, &e).is_empty(), "{e:?}");
        }
        assert_eq!(RiskRule::OutsideStoreHours.as_str(), "outside_store_hours");
        for r in RiskRule::ALL {
            assert_eq!(RiskRule::parse(r.as_str()), Some(r));
            assert_eq!(serde_json::to_value(r).expect("json"), r.as_str());
        }
        assert_eq!(RiskRule::parse("sim-swap"), None);
    }
}
