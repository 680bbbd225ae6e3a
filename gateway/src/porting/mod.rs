//! Number porting rules per market (issue #12), as pure data and pure functions: what the
//! port order engine, the hub adapters and the porting simulator call. Nothing here does
//! IO or reads a clock: every instant is an argument, in Unix milliseconds.
//!
//! - `rules.rs`: the rule table, one row per market (credential, validity, cutover, lock,
//!   completion, cancel windows, port-out, temporary number, default non-portable blocks).
//! - `local_time.rs`: each market's zone and daylight-saving rule, without a tz database.
//! - `calendar.rs`: working days (weekends, configured holidays) and working hours.
//! - `schedule.rs`: cutover, lock, cancel, credential expiry, port-out deadlines.
//! - `credential.rs` (with `rio.rs`): parsing each market's credential into a masked value.
//! - `portability.rs`: whether a number may be ported in the market.
//! - `port_out.rs`: the credentials we issue as donor, and the decision on a port-out.
//!
//! Facts come from the project's reference, `porting-and-compliance.md` §1.1–§1.6, cited
//! by section; values no source gives are marked as our choice. The operator's
//! configuration (`[porting]`, `config/porting.rs`) supplies holidays, non-portable
//! blocks and may move working hours and the lock and cutover times; [`MarketPorting`] is a
//! row with that configuration applied.

pub mod calendar;
pub mod credential;
pub mod local_time;
pub mod port_out;
pub mod portability;
pub mod rio;
pub mod rules;
pub mod schedule;

pub use calendar::{BusinessHours, Calendar};
pub use credential::{Credential, CredentialError, CredentialInput, CredentialKind, Secret};
pub use local_time::{DAY_MS, Day, HOUR_MS, MINUTE_MS, Weekday, Zone};
pub use portability::{BlockClass, NonPortable, NotPortable};
pub use rules::{
    AnswerDeadline, CompletionRule, CutoverRule, LockRule, PortOutRules, PortingRules,
};
pub use schedule::{PortOutRefusal, Schedule, ScheduleError};

use crate::compliance::markets::Market;
use sim_profiles::Msisdn;

/// One market's porting rules with the operator's configuration applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MarketPorting {
    rules: PortingRules,
    calendar: Calendar,
    non_portable: NonPortable,
    check_rio_key: bool,
}

impl MarketPorting {
    /// The market's row as it stands in `rules.rs`: no holidays, the default blocks.
    pub fn defaults(market: Market) -> Self {
        let rules = *PortingRules::of(market);
        Self::new(rules, [], [], NonPortable::defaults(&rules), true)
    }

    /// A row (possibly with moved hours and times), the market's holidays and worked
    /// weekend days, its non-portable blocks, and whether a RIO's key is checked.
    pub fn new(
        rules: PortingRules,
        holidays: impl IntoIterator<Item = Day>,
        worked_weekend_days: impl IntoIterator<Item = Day>,
        non_portable: NonPortable,
        check_rio_key: bool,
    ) -> Self {
        Self {
            calendar: Calendar::new(rules.zone, rules.hours, holidays, worked_weekend_days),
            rules,
            non_portable,
            check_rio_key,
        }
    }

    /// The market.
    pub fn market(&self) -> Market {
        self.rules.market
    }

    /// The rules in force.
    pub fn rules(&self) -> &PortingRules {
        &self.rules
    }

    /// The working calendar.
    pub fn calendar(&self) -> &Calendar {
        &self.calendar
    }

    /// The blocks never ported.
    pub fn non_portable(&self) -> &NonPortable {
        &self.non_portable
    }

    /// Whether `msisdn` may be ported in or out here.
    pub fn check_portable(&self, msisdn: &Msisdn) -> Result<(), NotPortable> {
        portability::check_portable(&self.rules, &self.non_portable, msisdn)
    }

    /// Parses the port-in credential for `msisdn` in this market's format.
    pub fn parse_credential(
        &self,
        input: &CredentialInput<'_>,
        msisdn: &Msisdn,
    ) -> Result<Credential, CredentialError> {
        credential::parse_credential(self.rules.credential, input, msisdn, self.check_rio_key)
    }
}

/// Every market's porting rules, as the configuration builds them once at start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Porting {
    markets: Vec<MarketPorting>,
}

impl Porting {
    /// One entry per market; a market missing from `markets` gets its defaults.
    pub fn new(markets: impl IntoIterator<Item = MarketPorting>) -> Self {
        let mut given: Vec<MarketPorting> = markets.into_iter().collect();
        let markets = Market::ALL
            .into_iter()
            .map(|m| match given.iter().position(|p| p.market() == m) {
                Some(i) => given.swap_remove(i),
                None => MarketPorting::defaults(m),
            })
            .collect();
        Self { markets }
    }

    /// The rules of `market`.
    pub fn market(&self, market: Market) -> &MarketPorting {
        let i = Market::ALL.iter().position(|m| *m == market).unwrap_or(0);
        // `new` fills one entry per market, in `Market::ALL` order.
        &self.markets[i]
    }
}

impl Default for Porting {
    fn default() -> Self {
        Self::new([])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_market_has_its_entry() {
        let custom = MarketPorting::new(
            *PortingRules::of(Market::Uk),
            [Day::from_days(20_000)],
            [],
            NonPortable::default(),
            true,
        );
        let all = Porting::new([custom.clone()]);
        for m in Market::ALL {
            assert_eq!(all.market(m).market(), m);
        }
        assert_eq!(all.market(Market::Uk), &custom);
        assert_eq!(all.market(Market::Cn), &MarketPorting::defaults(Market::Cn));
        assert_eq!(Porting::default().market(Market::Us).market(), Market::Us);
    }

    #[test]
    fn the_context_applies_its_lists() {
        let cn = MarketPorting::defaults(Market::Cn);
        let n = |s: &str| s.parse::<Msisdn>().expect("msisdn");
        assert!(cn.check_portable(&n("8613812345678")).is_ok());
        assert!(cn.check_portable(&n("8617012345678")).is_err());
        let input = CredentialInput {
            code: Some("AB12CD"),
            ..Default::default()
        };
        assert!(matches!(
            cn.parse_credential(&input, &n("8613812345678")),
            Ok(Credential::CnAuthCode(_))
        ));
    }
}
