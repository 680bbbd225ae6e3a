//! Number-pool policy as pure functions: which numbers are "golden" (kept out of automatic
//! assignment), and where a random allocation starts looking. The store applies them.

use serde::{Deserialize, Serialize};

/// How automatic assignment picks a free number.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NumberPolicy {
    /// A uniformly placed probe into the free index (the default): numbers do not reveal
    /// how many customers came before, and neighbours are not handed out in sequence.
    #[default]
    Random,
    /// The lowest free number.
    Sequential,
}

/// A rule that marks a number golden (premium): assignable only when chosen explicitly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GoldenRule {
    /// The last `n` digits are all the same (`repeat:4` matches …8888).
    Repeat(usize),
    /// The last `n` digits step by +1 or −1 (`sequence:4` matches …1234 and …4321).
    Sequence(usize),
    /// The last `2n` digits are `n` doubled digits (`pairs:2` matches …5566).
    Pairs(usize),
    /// The number ends with these digits (`tail:520`).
    Tail(String),
}

impl GoldenRule {
    /// Parses `repeat:N`, `sequence:N`, `pairs:N` or `tail:DIGITS`.
    pub fn parse(s: &str) -> Result<Self, String> {
        let (kind, arg) = s
            .split_once(':')
            .ok_or_else(|| format!("golden rule `{s}`: expected KIND:ARG"))?;
        let n = || {
            arg.parse::<usize>()
                .ok()
                .filter(|n| (2..=8).contains(n))
                .ok_or_else(|| format!("golden rule `{s}`: the length must be 2 to 8"))
        };
        match kind {
            "repeat" => Ok(Self::Repeat(n()?)),
            "sequence" => Ok(Self::Sequence(n()?)),
            "pairs" => Ok(Self::Pairs(n()?)),
            "tail"
                if !arg.is_empty() && arg.len() <= 8 && arg.bytes().all(|b| b.is_ascii_digit()) =>
            {
                Ok(Self::Tail(arg.to_owned()))
            }
            "tail" => Err(format!("golden rule `{s}`: tail must be 1 to 8 digits")),
            _ => Err(format!(
                "golden rule `{s}`: kinds are repeat, sequence, pairs and tail"
            )),
        }
    }

    /// True if `msisdn` (digits) matches.
    pub fn matches(&self, msisdn: &str) -> bool {
        let d = msisdn.as_bytes();
        let tail = |n: usize| d.len().checked_sub(n).map(|start| &d[start..]);
        match self {
            Self::Repeat(n) => tail(*n).is_some_and(|t| t.iter().all(|b| *b == t[0])),
            Self::Sequence(n) => tail(*n).is_some_and(|t| {
                let up = t.windows(2).all(|w| w[1] == w[0] + 1);
                let down = t.windows(2).all(|w| w[0] == w[1] + 1);
                up || down
            }),
            Self::Pairs(n) => tail(2 * n).is_some_and(|t| t.chunks(2).all(|p| p[0] == p[1])),
            Self::Tail(digits) => msisdn.ends_with(digits.as_str()),
        }
    }

    /// The rule's text form.
    pub fn as_string(&self) -> String {
        match self {
            Self::Repeat(n) => format!("repeat:{n}"),
            Self::Sequence(n) => format!("sequence:{n}"),
            Self::Pairs(n) => format!("pairs:{n}"),
            Self::Tail(d) => format!("tail:{d}"),
        }
    }
}

impl Serialize for GoldenRule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.as_string())
    }
}

impl<'de> Deserialize<'de> for GoldenRule {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// The golden rules a tenant gets unless configured otherwise.
pub fn default_golden_rules() -> Vec<GoldenRule> {
    vec![
        GoldenRule::Repeat(4),
        GoldenRule::Sequence(4),
        GoldenRule::Pairs(2),
    ]
}

/// True if any rule marks `msisdn` golden.
pub fn is_golden(rules: &[GoldenRule], msisdn: &str) -> bool {
    rules.iter().any(|r| r.matches(msisdn))
}

/// Width of probe keys: E.164 numbers have at most 15 digits.
const PROBE_WIDTH: usize = 15;

/// A key uniformly placed between `lo` and `hi` (digit strings) in the index's
/// lexicographic order; allocation takes the first free number at or after it (wrapping to
/// the first). Two index reads, so O(log n) whatever the pool size.
pub fn random_probe(lo: &str, hi: &str, random: u64) -> String {
    let pad = |s: &str| -> u64 {
        let mut p: String = s.chars().take(PROBE_WIDTH).collect();
        while p.len() < PROBE_WIDTH {
            p.push('0');
        }
        p.parse().unwrap_or(0)
    };
    let (a, b) = (pad(lo), pad(hi));
    if b <= a {
        return lo.to_owned();
    }
    let span = b - a + 1;
    let v = a + random % span;
    format!("{v:0PROBE_WIDTH$}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(rule: &str, yes: &[&str], no: &[&str]) {
        let r = GoldenRule::parse(rule).expect("rule");
        for m in yes {
            assert!(r.matches(m), "{rule} should match {m}");
        }
        for m in no {
            assert!(!r.matches(m), "{rule} should not match {m}");
        }
        assert_eq!(r.as_string(), rule);
    }

    #[test]
    fn golden_rules() {
        check(
            "repeat:4",
            &["8617000008888", "8617000000000"],
            &["8617000008885", "8617000001888"],
        );
        check(
            "sequence:4",
            &["8617000001234", "8617000004321", "8617000006789"],
            &["8617000001235", "8617000001243"],
        );
        check(
            "pairs:2",
            &["8617000005566", "8617000001111"],
            &["8617000005567", "8617000005656"],
        );
        check("tail:520", &["8617000001520"], &["8617000005201"]);
        for bad in [
            "repeat", "repeat:1", "repeat:9", "tail:", "tail:12a", "lucky:7",
        ] {
            assert!(GoldenRule::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn probes_stay_within_the_range_and_spread() {
        let (lo, hi) = ("8617000000000", "8617000009999");
        let mut seen = std::collections::HashSet::new();
        for r in [0u64, 1, 12_345, u64::MAX, 987_654_321_987] {
            let p = random_probe(lo, hi, r);
            assert!(p.as_str() >= lo && p.as_str() <= "861700000999900", "{p}");
            seen.insert(p);
        }
        assert!(seen.len() >= 4);
        assert_eq!(random_probe(lo, lo, 7), lo);
    }
}
