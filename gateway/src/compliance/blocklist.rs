//! Blocklists as pure rules: which lists exist, when an entry is in force, and the
//! lifetime of a blocklisted ID (sanctions last 2 or 3 years, repeated listing at most 5
//! consecutive years: reference §2.5). The entries live in the store; an order's create
//! commit looks its subjects up and passes the hits to `checks::decide`.

use super::policy::{BlocklistRules, DAY_MS};
use super::refusal::Refusal;

/// A blocklist.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ListKind {
    /// Sanctioned identities, by keyed ID hash.
    IdHash,
    /// Stores (agent-channel blacklist).
    Store,
    /// Clerks.
    Clerk,
    /// Terminals.
    Terminal,
    /// ID readers.
    Reader,
    /// Handsets, by IMEI.
    Imei,
}

impl ListKind {
    /// Every list.
    pub const ALL: [Self; 6] = [
        Self::IdHash,
        Self::Store,
        Self::Clerk,
        Self::Terminal,
        Self::Reader,
        Self::Imei,
    ];

    /// Stable snake_case name (the operator API's list name; never sent to a channel).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::IdHash => "id",
            Self::Store => "store",
            Self::Clerk => "clerk",
            Self::Terminal => "terminal",
            Self::Reader => "reader",
            Self::Imei => "imei",
        }
    }

    /// Parses a stable name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// When an entry is in force: from `start_ms` until `end_ms` (exclusive; `None`: until
/// removed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    /// First instant in force (Unix ms).
    pub start_ms: u64,
    /// First instant no longer in force (Unix ms), if it ends.
    pub end_ms: Option<u64>,
}

impl Span {
    /// Whether the entry is in force at `now_ms`.
    pub fn is_active(&self, now_ms: u64) -> bool {
        self.start_ms <= now_ms && self.end_ms.is_none_or(|e| now_ms < e)
    }
}

/// Checks a new blocklisted-ID entry against the policy's lifetimes and the ID's other
/// entries: it must end, last from `min_days` to `max_days`, and with the entries it
/// touches or overlaps cover at most `max_consecutive_days`. Other lists take any span.
pub fn check_id_entry(rules: &BlocklistRules, existing: &[Span], new: Span) -> Result<(), Refusal> {
    let invalid = |detail: String| {
        Refusal::new(
            422,
            "blocklist_entry_invalid",
            "Blocklist entry not allowed",
            detail,
        )
    };
    let Some(end) = new.end_ms else {
        return Err(invalid(format!(
            "a blocklisted ID needs an end (`expires_at`): {} to {} days after its start",
            rules.min_days, rules.max_days
        ))
        .at("expires_at"));
    };
    let days = end.saturating_sub(new.start_ms) / DAY_MS;
    if end <= new.start_ms || days < u64::from(rules.min_days) || days > u64::from(rules.max_days) {
        return Err(invalid(format!(
            "a blocklisted ID's entry must last {} to {} days; this one lasts {days}",
            rules.min_days, rules.max_days
        ))
        .at("expires_at"));
    }
    // The run of entries joined to the new one (overlapping or back to back).
    let mut spans: Vec<(u64, u64)> = existing
        .iter()
        .map(|s| (s.start_ms, s.end_ms.unwrap_or(u64::MAX)))
        .collect();
    spans.sort_unstable();
    let (mut lo, mut hi) = (new.start_ms, end);
    loop {
        let before = (lo, hi);
        for &(s, e) in &spans {
            if s <= hi && e >= lo {
                lo = lo.min(s);
                hi = hi.max(e);
            }
        }
        if (lo, hi) == before {
            break;
        }
    }
    let run_days = hi.saturating_sub(lo) / DAY_MS;
    if run_days > u64::from(rules.max_consecutive_days) {
        return Err(invalid(format!(
            "with its earlier entries this ID would be listed {run_days} consecutive days; at most {} are allowed",
            rules.max_consecutive_days
        ))
        .at("starts_at"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compliance::markets::Market;
    use crate::compliance::policy::Policy;

    fn rules() -> BlocklistRules {
        Policy::for_market(Market::Cn).blocklist
    }

    fn span(start_day: u64, days: u64) -> Span {
        Span {
            start_ms: start_day * DAY_MS,
            end_ms: Some((start_day + days) * DAY_MS),
        }
    }

    #[test]
    fn in_force() {
        let s = span(1, 2);
        assert!(!s.is_active(DAY_MS - 1) && s.is_active(DAY_MS) && s.is_active(3 * DAY_MS - 1));
        assert!(!s.is_active(3 * DAY_MS));
        assert!(
            Span {
                start_ms: 5,
                end_ms: None
            }
            .is_active(u64::MAX)
        );
    }

    #[test]
    fn two_to_three_years() {
        let r = rules();
        assert_eq!(check_id_entry(&r, &[], span(0, 730)), Ok(()));
        assert_eq!(check_id_entry(&r, &[], span(0, 1096)), Ok(()));
        for bad in [
            span(0, 729),
            span(0, 1097),
            Span {
                start_ms: 10,
                end_ms: None,
            },
            Span {
                start_ms: 10,
                end_ms: Some(5),
            },
        ] {
            let e = check_id_entry(&r, &[], bad).expect_err("refused");
            assert_eq!(
                (e.code, e.field.as_deref()),
                ("blocklist_entry_invalid", Some("expires_at")),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn at_most_five_consecutive_years() {
        let r = rules();
        let first = span(0, 1096);
        // Back to back: 3 + 2 years = 1826 days, allowed.
        assert_eq!(check_id_entry(&r, &[first], span(1096, 730)), Ok(()));
        // 3 + 3 years: refused.
        let e = check_id_entry(&r, &[first], span(1096, 1000)).expect_err("too long a run");
        assert_eq!(e.field.as_deref(), Some("starts_at"));
        // Overlapping, chained through a middle entry.
        let e = check_id_entry(&r, &[span(0, 730), span(700, 730)], span(1400, 730))
            .expect_err("chained");
        assert!(e.detail.contains("2130 consecutive days"), "{}", e.detail);
        // A gap of a day breaks the run.
        assert_eq!(check_id_entry(&r, &[first], span(1097, 1000)), Ok(()));
    }

    #[test]
    fn names_round_trip() {
        for k in ListKind::ALL {
            assert_eq!(ListKind::parse(k.as_str()), Some(k));
        }
    }
}
