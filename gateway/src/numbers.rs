//! Number-pool policy as pure functions: which numbers are "golden" (kept out of automatic
//! assignment), and how a random allocation finds a number uniformly among the free ones.
//! The store applies them.

use serde::{Deserialize, Serialize};

/// How automatic assignment picks a free number.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NumberPolicy {
    /// Uniform over the tenant's free ordinary numbers (the default), however its blocks
    /// lie: numbers do not reveal how many customers came before, and neighbours are not
    /// handed out in sequence.
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

/// A node of a tenant's free tree: (depth, width, prefix). For every free ordinary number
/// of `width` digits, each of its prefixes from depth 0 down to [`tree_bottom`]`(width)`
/// counts it once. Keyed in this order, the totals per width (depth 0) are one range, and
/// so are the children of any node (same width, one digit deeper, `prefix` + `0` to `9`).
pub type TreeNode<'a> = (u8, u8, &'a str);

/// How many digits of a number lie below the tree's deepest nodes: a deepest node counts
/// up to 10² free numbers, which a draw finds with one range read of the free index. A
/// level for the last digits would cost every allocation one more counter, in a level ten
/// times larger than all the others together (one more B-tree page written per order at
/// carrier scale, and most of the tree's size), to save reading at most a hundred keys.
pub const DIGITS_BELOW_TREE: usize = 2;

/// The depth of the deepest nodes counting numbers of `width` digits.
pub fn tree_bottom(width: usize) -> usize {
    width.saturating_sub(DIGITS_BELOW_TREE)
}

/// The nodes that count `msisdn` (digits): its prefixes down to the tree's bottom,
/// shortest first.
pub fn tree_nodes(msisdn: &str) -> impl Iterator<Item = TreeNode<'_>> {
    let width = u8::try_from(msisdn.len()).unwrap_or(u8::MAX);
    (0..=tree_bottom(msisdn.len()))
        .map(move |d| (u8::try_from(d).unwrap_or(u8::MAX), width, &msisdn[..d]))
}

/// A uniform draw from `0..n` (n > 0) out of a uniform `u64`. The modulo bias is below
/// n / 2⁶⁴: under 10⁻⁴ even for a pool of every 15-digit number.
pub fn draw_below(random: u64, n: u64) -> u64 {
    random % n.max(1)
}

/// One tenant's free tree as the store holds it.
pub trait FreeTree {
    /// The store's error.
    type Error;
    /// Free numbers per width (depth-0 nodes), in width order.
    fn totals(&self) -> Result<Vec<(u8, u64)>, Self::Error>;
    /// The nodes one digit below `prefix` in the tree of `width`, in digit order, with
    /// their counts (only for `prefix.len() < tree_bottom(width)`).
    fn children(&self, width: u8, prefix: &str) -> Result<Vec<(String, u64)>, Self::Error>;
    /// The free ordinary number of `width` digits starting with `prefix` that has `index`
    /// such numbers before it in digit order (`None` if there are not that many).
    fn nth_free(&self, width: u8, prefix: &str, index: u64) -> Result<Option<String>, Self::Error>;
}

/// What a walk of the free tree found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pick {
    /// The number drawn.
    Number(String),
    /// The tree counts no free number.
    Empty,
    /// The counts disagree with the numbers (a store bug or a stale tree).
    Inconsistent,
}

/// Draws one free number uniformly: a point `r` in `0..total`, then down the tree, at each
/// level into the child whose count covers `r` (so a block is chosen in proportion to its
/// free numbers and every free number owns exactly one `r`), and below the deepest node the
/// `r`th free number under it. One range read per tree level and one of at most a hundred
/// free numbers at the end: O(digits × log n), whatever the pool's size or shape.
pub fn pick_uniform<T: FreeTree>(tree: &T, random: u64) -> Result<Pick, T::Error> {
    let totals = tree.totals()?;
    let total = totals.iter().fold(0u64, |a, (_, c)| a.saturating_add(*c));
    if total == 0 {
        return Ok(Pick::Empty);
    }
    let mut r = draw_below(random, total);
    let Some(width) = descend(&mut r, totals) else {
        return Ok(Pick::Inconsistent);
    };
    let mut prefix = String::new();
    while prefix.len() < tree_bottom(usize::from(width)) {
        let Some(child) = descend(&mut r, tree.children(width, &prefix)?) else {
            return Ok(Pick::Inconsistent);
        };
        prefix = child;
    }
    Ok(match tree.nth_free(width, &prefix, r)? {
        Some(n) => Pick::Number(n),
        None => Pick::Inconsistent,
    })
}

/// The entry whose weight covers `r`, leaving `r` as the offset inside it.
fn descend<K>(r: &mut u64, weighted: impl IntoIterator<Item = (K, u64)>) -> Option<K> {
    for (k, w) in weighted {
        if *r < w {
            return Some(k);
        }
        *r -= w;
    }
    None
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

    /// The free tree of a set of numbers, kept as the store keeps it.
    struct Model {
        free: std::collections::BTreeSet<String>,
        nodes: std::collections::BTreeMap<(u8, u8, String), u64>,
    }

    impl Model {
        fn new(free: &[String]) -> Self {
            let mut nodes = std::collections::BTreeMap::new();
            for n in free {
                for (d, w, p) in tree_nodes(n) {
                    *nodes.entry((d, w, p.to_owned())).or_insert(0) += 1;
                }
            }
            Self {
                free: free.iter().cloned().collect(),
                nodes,
            }
        }
    }

    impl FreeTree for Model {
        type Error = std::convert::Infallible;
        fn totals(&self) -> Result<Vec<(u8, u64)>, Self::Error> {
            Ok(self
                .nodes
                .iter()
                .filter(|((d, _, _), _)| *d == 0)
                .map(|((_, w, _), c)| (*w, *c))
                .collect())
        }
        fn children(&self, width: u8, prefix: &str) -> Result<Vec<(String, u64)>, Self::Error> {
            let d = u8::try_from(prefix.len() + 1).expect("depth");
            let lo = (d, width, format!("{prefix}0"));
            let hi = (d, width, format!("{prefix}9"));
            Ok(self
                .nodes
                .range(lo..=hi)
                .map(|((_, _, p), c)| (p.clone(), *c))
                .collect())
        }
        fn nth_free(
            &self,
            width: u8,
            prefix: &str,
            index: u64,
        ) -> Result<Option<String>, Self::Error> {
            Ok(self
                .free
                .iter()
                .filter(|n| n.len() == usize::from(width) && n.starts_with(prefix))
                .nth(usize::try_from(index).expect("index"))
                .cloned())
        }
    }

    fn range(first: u64, count: u64) -> impl Iterator<Item = String> {
        (first..first + count).map(|n| n.to_string())
    }

    #[test]
    fn every_free_number_owns_exactly_one_draw() {
        // Blocks far apart, of different sizes and lengths, with numbers taken out of them.
        let mut free: Vec<String> = range(8_613_800_000_000, 7)
            .chain(range(8_613_850_000_000, 40))
            .chain(range(8_613_900_000_000, 300))
            .chain(range(447_700_900_000, 25))
            .chain(range(49_151_000, 3))
            // Shorter and longer numbers sharing the prefixes of one width.
            .chain(range(4_915_100, 30))
            .chain(range(491_510, 2))
            .chain(range(4_915_100_000, 12))
            .collect();
        free.retain(|n| !n.ends_with('3'));
        let model = Model::new(&free);
        let total = free.len() as u64;
        let mut drawn = std::collections::BTreeSet::new();
        for r in 0..total {
            match pick_uniform(&model, r).expect("infallible") {
                Pick::Number(n) => assert!(drawn.insert(n), "drawn twice at r = {r}"),
                other => panic!("r = {r}: {other:?}"),
            }
        }
        assert_eq!(drawn, model.free, "each free number exactly once");
        assert_eq!(
            pick_uniform(&model, total).expect("infallible"),
            pick_uniform(&model, 0).expect("infallible"),
            "draws wrap round"
        );
    }

    #[test]
    fn empty_and_inconsistent_trees_are_told_apart() {
        assert_eq!(
            pick_uniform(&Model::new(&[]), 42).expect("infallible"),
            Pick::Empty
        );
        let mut stale = Model::new(&["8617000000001".to_owned()]);
        stale.free.clear();
        assert_eq!(
            pick_uniform(&stale, 42).expect("infallible"),
            Pick::Inconsistent
        );
    }

    #[test]
    fn draws_stay_in_range_and_nodes_are_the_prefixes_down_to_the_bottom() {
        for n in [1u64, 2, 10, 999_999_999_999_999] {
            assert_eq!(draw_below(0, n), 0);
            assert!(draw_below(u64::MAX, n) < n);
            assert_eq!(draw_below(n + n / 2, n), n / 2);
        }
        assert_eq!(draw_below(7, 0), 0);
        assert_eq!(
            tree_nodes("86138").collect::<Vec<_>>(),
            vec![(0, 5, ""), (1, 5, "8"), (2, 5, "86"), (3, 5, "861")]
        );
        assert_eq!(tree_nodes("86").collect::<Vec<_>>(), vec![(0, 2, "")]);
        assert_eq!(tree_nodes("8").collect::<Vec<_>>(), vec![(0, 1, "")]);
    }
}
