//! Which kind of order the soak sends next: a weighted draw per order index from one seed,
//! so a run's sequence of kinds is the same every time (pure; no IO, no clock).

/// A draw in `0..u64::MAX` fixed by `seed`, the order index and a `salt` naming what it
/// decides (SplitMix64's finaliser over the mixed inputs).
pub(crate) fn draw(seed: u64, index: u64, salt: u64) -> u64 {
    let mut z = seed
        .wrapping_add(index.wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .wrapping_add(salt.wrapping_mul(0xD1B5_4A32_D192_ED03));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A draw as a fraction in `[0, 1)`.
pub(crate) fn fraction(seed: u64, index: u64, salt: u64) -> f64 {
    (draw(seed, index, salt) >> 11) as f64 / (1u64 << 53) as f64
}

/// What each draw decides (the salts keep the decisions independent).
pub(crate) mod salt {
    /// The order's kind.
    pub(crate) const KIND: u64 = 1;
    /// Which free line a follow-up takes.
    pub(crate) const LINE: u64 = 2;
    /// A kind's own choice (the new card's type, a download, a donor's answer).
    pub(crate) const CHOICE: u64 = 3;
    /// How long the gateway runs before a crash loop's next kill.
    pub(crate) const KILL: u64 = 4;
}

/// Weights per kind, in registry order; a kind of weight 0 is never drawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mix {
    weights: Vec<u32>,
    total: u64,
}

impl Mix {
    /// A mix over `weights`; `None` when every weight is 0.
    pub(crate) fn new(weights: Vec<u32>) -> Option<Self> {
        let total = weights.iter().map(|w| u64::from(*w)).sum();
        (total > 0).then_some(Self { weights, total })
    }

    /// The weights, in registry order.
    pub(crate) fn weights(&self) -> &[u32] {
        &self.weights
    }

    /// The kind (its registry index) of order `index` of a run seeded with `seed`.
    pub(crate) fn pick(&self, seed: u64, index: u64) -> usize {
        let mut at = draw(seed, index, salt::KIND) % self.total;
        for (i, w) in self.weights.iter().enumerate() {
            let w = u64::from(*w);
            if at < w {
                return i;
            }
            at -= w;
        }
        // Unreachable: `at < total`, the sum of the weights.
        self.weights.len().saturating_sub(1)
    }
}

/// Parses `--mix` (`physical=30,esim=20,…`) against the registry's kind `names`: the
/// weights in registry order, kinds not named weigh 0.
pub(crate) fn parse(spec: &str, names: &[&str]) -> Result<Vec<u32>, String> {
    let mut weights = vec![0u32; names.len()];
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, w) = part
            .split_once('=')
            .ok_or_else(|| format!("`{part}`: write KIND=WEIGHT"))?;
        let i = names
            .iter()
            .position(|n| *n == name.trim())
            .ok_or_else(|| {
                format!(
                    "unknown kind `{}` (kinds: {})",
                    name.trim(),
                    names.join(", ")
                )
            })?;
        let w: u32 = w
            .trim()
            .parse()
            .map_err(|_| format!("`{part}`: the weight is a whole number"))?;
        if let Some(slot) = weights.get_mut(i) {
            *slot = w;
        }
    }
    if weights.iter().all(|w| *w == 0) {
        return Err("the mix names no kind with a weight above 0".into());
    }
    Ok(weights)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_draws_the_same_kinds_and_another_seed_others() {
        let mix = Mix::new(vec![5, 3, 0, 2]).expect("mix");
        let a: Vec<usize> = (0..500).map(|i| mix.pick(7, i)).collect();
        let b: Vec<usize> = (0..500).map(|i| mix.pick(7, i)).collect();
        let c: Vec<usize> = (0..500).map(|i| mix.pick(8, i)).collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn kinds_are_drawn_in_proportion_and_weight_zero_never() {
        let mix = Mix::new(vec![5, 3, 0, 2]).expect("mix");
        let mut counts = [0usize; 4];
        for i in 0..20_000 {
            counts[mix.pick(42, i)] += 1;
        }
        assert_eq!(counts[2], 0);
        for (got, want) in [(counts[0], 10_000), (counts[1], 6_000), (counts[3], 4_000)] {
            assert!(got.abs_diff(want) < want / 10, "{counts:?}");
        }
    }

    #[test]
    fn an_all_zero_mix_is_refused() {
        assert_eq!(Mix::new(vec![0, 0]), None);
        assert!(parse("a=0", &["a", "b"]).is_err());
    }

    #[test]
    fn the_mix_option_names_kinds_and_weights() {
        assert_eq!(parse("b=3, a=1", &["a", "b", "c"]), Ok(vec![1, 3, 0]));
        assert!(
            parse("d=1", &["a"])
                .expect_err("unknown")
                .contains("unknown kind `d`")
        );
        assert!(parse("a", &["a"]).is_err());
        assert!(parse("a=x", &["a"]).is_err());
    }

    #[test]
    fn fractions_stay_in_the_unit_interval() {
        for i in 0..10_000 {
            let f = fraction(3, i, salt::CHOICE);
            assert!((0.0..1.0).contains(&f));
        }
    }
}
