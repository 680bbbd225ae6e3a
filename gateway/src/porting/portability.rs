//! Whether a number may be ported in or out in a market: it must belong to the market's
//! country, and it must not be in a block the market never ports (China: the mobile
//! resale blocks 170/171/162/165/167, satellite and IoT blocks, §1.1). The block list is
//! configuration (`[porting.<market>.non_portable]`); the defaults are in `rules.rs`.

use super::rules::PortingRules;
use sim_profiles::Msisdn;

/// Why a block is never portable (§1.1's classes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BlockClass {
    /// Mobile resale (MVNO) blocks: MVNOs are not basic operators (§1.1 scope).
    Mvno,
    /// Satellite mobile.
    Satellite,
    /// Dedicated IoT blocks.
    Iot,
    /// Anything else the operator lists.
    Other,
}

impl BlockClass {
    /// Stable name (`mvno`, `satellite`, `iot`, `other`): the config key and API reason.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mvno => "mvno",
            Self::Satellite => "satellite",
            Self::Iot => "iot",
            Self::Other => "other",
        }
    }

    /// What the block is, for a message to a store clerk.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Mvno => "a mobile resale (MVNO) block",
            Self::Satellite => "a satellite block",
            Self::Iot => "an IoT block",
            Self::Other => "a block this operator does not port",
        }
    }
}

/// The blocks a market never ports: E.164 prefixes (digits, country code first).
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct NonPortable {
    blocks: Vec<(String, BlockClass)>,
}

impl NonPortable {
    /// A list of `(prefix, class)`; the config has checked each prefix is digits.
    pub fn new(blocks: impl IntoIterator<Item = (String, BlockClass)>) -> Self {
        Self {
            blocks: blocks.into_iter().collect(),
        }
    }

    /// A market's default list (`rules.rs`).
    pub fn defaults(rules: &PortingRules) -> Self {
        Self::new(
            rules
                .default_non_portable
                .iter()
                .map(|(p, c)| ((*p).to_owned(), *c)),
        )
    }

    /// The blocks.
    pub fn blocks(&self) -> &[(String, BlockClass)] {
        &self.blocks
    }

    /// The longest listed prefix `digits` start with, and its class.
    fn matching(&self, digits: &str) -> Option<(&str, BlockClass)> {
        self.blocks
            .iter()
            .filter(|(p, _)| digits.starts_with(p.as_str()))
            .max_by_key(|(p, _)| p.len())
            .map(|(p, c)| (p.as_str(), *c))
    }
}

/// Why a number cannot be ported in this market. The messages name the block, never the
/// whole number.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotPortable {
    /// The number belongs to another country.
    #[error("the number is not a +{country_code} number: this market ports only its own numbers")]
    OtherCountry {
        /// The market's country code.
        country_code: &'static str,
    },
    /// The number is in a block that is never ported.
    #[error("numbers starting +{prefix} are {} and cannot be ported", .class.describe())]
    Block {
        /// The listed prefix that matched.
        prefix: String,
        /// Its class.
        class: BlockClass,
    },
}

/// Checks that `msisdn` may be ported in or out in the market of `rules`.
pub fn check_portable(
    rules: &PortingRules,
    non_portable: &NonPortable,
    msisdn: &Msisdn,
) -> Result<(), NotPortable> {
    let digits = msisdn.as_str();
    if let Some(cc) = rules.country_code {
        if !digits.starts_with(cc) {
            return Err(NotPortable::OtherCountry { country_code: cc });
        }
    }
    match non_portable.matching(digits) {
        Some((prefix, class)) => Err(NotPortable::Block {
            prefix: prefix.to_owned(),
            class,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compliance::markets::Market;

    fn check(market: Market, number: &str, want: Result<(), String>) {
        let rules = PortingRules::of(market);
        let msisdn: Msisdn = number.parse().expect("an MSISDN");
        let got = check_portable(rules, &NonPortable::defaults(rules), &msisdn);
        assert_eq!(got.map_err(|e| e.to_string()), want, "{market:?} {number}");
    }

    #[test]
    fn defaults_of_every_market() {
        let block = |p: &str, what: &str| {
            Err(format!(
                "numbers starting +{p} are {what} and cannot be ported"
            ))
        };
        let mvno = |p: &str| block(p, "a mobile resale (MVNO) block");
        let abroad = |cc: &str| {
            Err(format!(
                "the number is not a +{cc} number: this market ports only its own numbers"
            ))
        };
        let cases = [
            (Market::Cn, "8613812345678", Ok(())),
            // Unicom's ordinary 166 block is not resale (§2.7).
            (Market::Cn, "8616612345678", Ok(())),
            (Market::Cn, "8617001234567", mvno("86170")),
            (Market::Cn, "8617112345678", mvno("86171")),
            (Market::Cn, "8616212345678", mvno("86162")),
            (Market::Cn, "8616512345678", mvno("86165")),
            (Market::Cn, "8616712345678", mvno("86167")),
            (
                Market::Cn,
                "8613491234567",
                block("861349", "a satellite block"),
            ),
            (Market::Cn, "8614812345678", block("86148", "an IoT block")),
            (Market::Cn, "447700900123", abroad("86")),
            (Market::Uk, "447700900123", Ok(())),
            (Market::Uk, "33612345678", abroad("44")),
            (Market::Us, "12025550123", Ok(())),
            (Market::Us, "447700900123", abroad("1")),
            (Market::EuFr, "33612345678", Ok(())),
            (Market::EuFr, "4915123456789", abroad("33")),
            // No country check and no blocks in the generic EU row.
            (Market::EuGeneric, "4915123456789", Ok(())),
            (Market::EuGeneric, "8617012345678", Ok(())),
        ];
        for (market, number, want) in cases {
            check(market, number, want);
        }
    }

    #[test]
    fn configured_lists_replace_the_defaults_and_the_longest_prefix_wins() {
        let rules = PortingRules::of(Market::Uk);
        let list = NonPortable::new([
            ("447".to_owned(), BlockClass::Other),
            ("4470".to_owned(), BlockClass::Iot),
        ]);
        let n = |s: &str| s.parse::<Msisdn>().expect("msisdn");
        assert_eq!(
            check_portable(rules, &list, &n("447012345678")),
            Err(NotPortable::Block {
                prefix: "4470".into(),
                class: BlockClass::Iot
            })
        );
        assert_eq!(
            check_portable(rules, &list, &n("447712345678")),
            Err(NotPortable::Block {
                prefix: "447".into(),
                class: BlockClass::Other
            })
        );
        assert_eq!(check_portable(rules, &list, &n("442012345678")), Ok(()));
        // An empty list ports every China number.
        let cn = PortingRules::of(Market::Cn);
        assert_eq!(
            check_portable(cn, &NonPortable::default(), &n("8617012345678")),
            Ok(())
        );
    }
}
