//! `[porting]`: the operator's data for the porting rules of each market (`[porting.cn]`,
//! `[porting.uk]`, `[porting.us]`, `[porting.eu-fr]`, `[porting.eu-generic]`). The rules
//! themselves are code (`porting/rules.rs`); this is what changes by year or by hub:
//!
//! - `holidays`: public holidays, ISO dates (`"2025-12-25"`): not working days. Default:
//!   none; holidays are published yearly, so the operator lists them.
//! - `working_days`: weekend days that are worked (China's 调休). Default: none.
//! - `business_hours`: `"HH:MM-HH:MM"`, local. Default `"09:00-18:00"`.
//! - `lock_time`, `cutover_time`: `"HH:MM"`, local, for the working-day markets (not `cn`):
//!   the lock on the working day before the port (defaults: uk and eu 17:00, us 12:00) and
//!   the scheduled cutover on the port day (default 09:00, within `business_hours`).
//! - `non_portable`: blocks never ported, E.164 prefixes with the country code first, by
//!   class: `{ mvno = […], satellite = […], iot = […], other = […] }`. Setting it replaces
//!   the market's default list (cn: 86170, 86171, 86162, 86165, 86167 resale; 861349,
//!   86174 satellite; 86140–86144, 86146, 86148, 86149, 861064 IoT; others: none).
//! - `check_rio_key` (eu-fr only): check a RIO's control key against the number. Default
//!   true.

use super::ConfigError;
use crate::compliance::markets::Market;
use crate::porting::{
    BlockClass, BusinessHours, CutoverRule, Day, LockRule, MarketPorting, NonPortable, Porting,
    PortingRules,
};
use serde::{Deserialize, Deserializer};

/// Most entries in one list (holidays, worked days, prefixes of one class).
const MAX_ENTRIES: usize = 1000;

/// `[porting]`: one table per market.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PortingConfig {
    /// Mainland China.
    pub cn: MarketPortingConfig,
    /// United Kingdom.
    pub uk: MarketPortingConfig,
    /// United States.
    pub us: MarketPortingConfig,
    /// France.
    #[serde(rename = "eu-fr")]
    pub eu_fr: MarketPortingConfig,
    /// Other EU states.
    #[serde(rename = "eu-generic")]
    pub eu_generic: MarketPortingConfig,
}

/// `[porting.<market>]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MarketPortingConfig {
    /// Public holidays: not working days.
    pub holidays: Vec<IsoDate>,
    /// Weekend days that are working days.
    pub working_days: Vec<IsoDate>,
    /// Working hours, local.
    pub business_hours: Option<Hours>,
    /// The lock's local time on the working day before the port.
    pub lock_time: Option<ClockTime>,
    /// The cutover's local time on the port day.
    pub cutover_time: Option<ClockTime>,
    /// Blocks never ported (replaces the default list).
    pub non_portable: Option<NonPortableConfig>,
    /// eu-fr: check a RIO's control key.
    pub check_rio_key: Option<bool>,
}

/// `[porting.<market>.non_portable]`: E.164 prefixes by class.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NonPortableConfig {
    /// Mobile resale (MVNO) blocks.
    pub mvno: Vec<String>,
    /// Satellite blocks.
    pub satellite: Vec<String>,
    /// IoT blocks.
    pub iot: Vec<String>,
    /// Any other block.
    pub other: Vec<String>,
}

impl NonPortableConfig {
    fn entries<'a>(&'a self) -> impl Iterator<Item = (&'a String, BlockClass)> + 'a {
        let tag = |list: &'a Vec<String>, class| list.iter().map(move |p| (p, class));
        tag(&self.mvno, BlockClass::Mvno)
            .chain(tag(&self.satellite, BlockClass::Satellite))
            .chain(tag(&self.iot, BlockClass::Iot))
            .chain(tag(&self.other, BlockClass::Other))
    }
}

/// An ISO date (`YYYY-MM-DD`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IsoDate(pub Day);

impl<'de> Deserialize<'de> for IsoDate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        adapters::identity::CivilDate::parse(&s, "date")
            .map(|c| Self(Day::from_civil(c)))
            .map_err(|_| serde::de::Error::custom(format!("`{s}` is not a date: use YYYY-MM-DD")))
    }
}

/// A local time of day (`HH:MM`), as minutes after midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockTime(pub u16);

impl<'de> Deserialize<'de> for ClockTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match parse_hh_mm(&s) {
            Some(m) if m < 24 * 60 => Ok(Self(m)),
            _ => Err(serde::de::Error::custom(format!(
                "`{s}` is not a time of day: use HH:MM, 00:00 to 23:59"
            ))),
        }
    }
}

/// Working hours (`HH:MM-HH:MM`, the close may be 24:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hours(pub BusinessHours);

impl<'de> Deserialize<'de> for Hours {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.split_once('-')
            .and_then(|(a, b)| BusinessHours::new(parse_hh_mm(a.trim())?, parse_hh_mm(b.trim())?))
            .map(Self)
            .ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "`{s}` is not working hours: use HH:MM-HH:MM, opening before closing (e.g. 09:00-18:00)"
                ))
            })
    }
}

/// `HH:MM` with two digits each, up to 24:00.
fn parse_hh_mm(s: &str) -> Option<u16> {
    let (h, m) = s.split_once(':')?;
    let two = |p: &str| {
        (p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit())).then(|| p.parse::<u16>().ok())?
    };
    let (h, m) = (two(h)?, two(m)?);
    (m < 60 && (h < 24 || (h == 24 && m == 0))).then_some(h * 60 + m)
}

/// The full key names of one market's table, for errors.
struct Keys {
    market: Market,
    working_days: &'static str,
    lock_time: &'static str,
    cutover_time: &'static str,
    non_portable: &'static str,
    check_rio_key: &'static str,
    holidays: &'static str,
}

macro_rules! keys {
    ($market:expr, $name:literal) => {
        Keys {
            market: $market,
            working_days: concat!("porting.", $name, ".working_days"),
            lock_time: concat!("porting.", $name, ".lock_time"),
            cutover_time: concat!("porting.", $name, ".cutover_time"),
            non_portable: concat!("porting.", $name, ".non_portable"),
            check_rio_key: concat!("porting.", $name, ".check_rio_key"),
            holidays: concat!("porting.", $name, ".holidays"),
        }
    };
}

impl PortingConfig {
    fn tables(&self) -> [(&MarketPortingConfig, Keys); 5] {
        [
            (&self.cn, keys!(Market::Cn, "cn")),
            (&self.uk, keys!(Market::Uk, "uk")),
            (&self.us, keys!(Market::Us, "us")),
            (&self.eu_fr, keys!(Market::EuFr, "eu-fr")),
            (&self.eu_generic, keys!(Market::EuGeneric, "eu-generic")),
        ]
    }

    /// Checks what serde cannot: list sizes, worked days on weekends, times only where a
    /// market has them, prefixes in the form the gateway stores numbers.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (table, keys) in self.tables() {
            table.validate(&keys)?;
        }
        Ok(())
    }

    /// The rules of one market with this configuration applied.
    pub fn market(&self, market: Market) -> MarketPorting {
        let table = self
            .tables()
            .into_iter()
            .find(|(_, k)| k.market == market)
            .map_or_else(MarketPortingConfig::default, |(t, _)| t.clone());
        table.build(market)
    }

    /// Every market's rules.
    pub fn build(&self) -> Porting {
        Porting::new(Market::ALL.map(|m| self.market(m)))
    }
}

impl MarketPortingConfig {
    fn validate(&self, keys: &Keys) -> Result<(), ConfigError> {
        let invalid = |field, message: String| Err(ConfigError::Invalid { field, message });
        let rules = PortingRules::of(keys.market);
        for (list, field) in [
            (&self.holidays, keys.holidays),
            (&self.working_days, keys.working_days),
        ] {
            if list.len() > MAX_ENTRIES {
                return invalid(field, format!("at most {MAX_ENTRIES} dates"));
            }
        }
        for IsoDate(d) in &self.working_days {
            if !d.weekday().is_weekend() {
                return invalid(
                    keys.working_days,
                    format!(
                        "{d} is a weekday: list only weekend days that are worked (China's 调休)"
                    ),
                );
            }
            if self.holidays.contains(&IsoDate(*d)) {
                return invalid(keys.working_days, format!("{d} is also listed in holidays"));
            }
        }
        let day_market = matches!(rules.cutover, CutoverRule::WorkingDayAt { .. });
        for (set, field) in [
            (self.lock_time.is_some(), keys.lock_time),
            (self.cutover_time.is_some(), keys.cutover_time),
        ] {
            if set && !day_market {
                return invalid(
                    field,
                    format!(
                        "{} ports lock when processed and cut over at the next full hour: remove it",
                        keys.market.as_str()
                    ),
                );
            }
        }
        let built = self.rules(keys.market);
        if let CutoverRule::WorkingDayAt { minute } = built.cutover {
            if !(built.hours.open()..built.hours.close()).contains(&minute) {
                return invalid(
                    keys.cutover_time,
                    "must be within business_hours (the promised completion is their close)".into(),
                );
            }
        }
        if self.check_rio_key.is_some() && keys.market != Market::EuFr {
            return invalid(keys.check_rio_key, "applies to eu-fr only (the RIO)".into());
        }
        if let Some(np) = &self.non_portable {
            for list in [&np.mvno, &np.satellite, &np.iot, &np.other] {
                if list.len() > MAX_ENTRIES {
                    return invalid(
                        keys.non_portable,
                        format!("at most {MAX_ENTRIES} prefixes per class"),
                    );
                }
            }
            for (prefix, _) in np.entries() {
                check_prefix(prefix, rules.country_code).map_err(|message| {
                    ConfigError::Invalid {
                        field: keys.non_portable,
                        message,
                    }
                })?;
            }
        }
        Ok(())
    }

    /// The market's row with these hours and times.
    fn rules(&self, market: Market) -> PortingRules {
        let mut rules = *PortingRules::of(market);
        if let Some(Hours(h)) = self.business_hours {
            rules.hours = h;
        }
        if let (Some(ClockTime(minute)), LockRule::PreviousWorkingDayAt { .. }) =
            (self.lock_time, rules.lock)
        {
            rules.lock = LockRule::PreviousWorkingDayAt { minute };
        }
        if let (Some(ClockTime(minute)), CutoverRule::WorkingDayAt { .. }) =
            (self.cutover_time, rules.cutover)
        {
            rules.cutover = CutoverRule::WorkingDayAt { minute };
        }
        rules
    }

    fn build(&self, market: Market) -> MarketPorting {
        let rules = self.rules(market);
        let non_portable = match &self.non_portable {
            Some(np) => NonPortable::new(np.entries().map(|(p, c)| (p.clone(), c))),
            None => NonPortable::defaults(&rules),
        };
        MarketPorting::new(
            rules,
            self.holidays.iter().map(|d| d.0),
            self.working_days.iter().map(|d| d.0),
            non_portable,
            self.check_rio_key.unwrap_or(true),
        )
    }
}

/// A prefix is 1 to 15 digits and, in a market with a country code, starts with it and
/// goes beyond it (a bare country code would make every number non-portable).
fn check_prefix(prefix: &str, country_code: Option<&str>) -> Result<(), String> {
    if prefix.is_empty() || prefix.len() > 15 || !prefix.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "\"{prefix}\" is not a number prefix: use 1 to 15 digits"
        ));
    }
    match country_code {
        Some(cc) if !prefix.starts_with(cc) || prefix.len() == cc.len() => Err(format!(
            "\"{prefix}\" must be E.164 digits with the country code first, as numbers are stored (e.g. \"{cc}{prefix}\")"
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::porting::schedule;

    fn parse(text: &str) -> Result<PortingConfig, String> {
        let c: PortingConfig = toml::from_str(text).map_err(|e| e.to_string())?;
        c.validate().map_err(|e| e.to_string())?;
        Ok(c)
    }

    #[test]
    fn defaults_are_the_rule_table() {
        let c = parse("").expect("defaults");
        for m in Market::ALL {
            assert_eq!(c.market(m), MarketPorting::defaults(m), "{m:?}");
        }
        assert_eq!(
            c.build().market(Market::Cn).non_portable().blocks().len(),
            16
        );
    }

    #[test]
    fn a_full_table_is_applied() {
        let c = parse(
            r#"
[uk]
holidays = ["2025-12-25", "2025-12-26"]
business_hours = "08:30-17:30"
lock_time = "18:00"
cutover_time = "10:00"

[cn]
working_days = ["2025-09-28"]
holidays = ["2025-10-01"]
non_portable = { mvno = ["86170", "86171"], other = ["8610"] }

[eu-fr]
check_rio_key = false
"#,
        )
        .expect("valid");
        let uk = c.market(Market::Uk);
        assert_eq!(
            uk.rules().hours,
            BusinessHours::new(510, 1050).expect("hours")
        );
        assert_eq!(
            uk.rules().lock,
            LockRule::PreviousWorkingDayAt { minute: 1080 }
        );
        assert_eq!(
            uk.rules().cutover,
            CutoverRule::WorkingDayAt { minute: 600 }
        );
        let xmas = Day::from_ymd(2025, 12, 25).expect("day");
        assert!(!uk.calendar().is_working_day(xmas));
        // The 18:00 lock applies: a Monday 17:30 submission still makes Tuesday.
        let mon = Day::from_ymd(2025, 6, 2).expect("day");
        let s = schedule::schedule(&uk, uk.calendar().at(mon, 17 * 60 + 30), None).expect("s");
        assert_eq!(uk.calendar().local_day(s.cutover_at), mon.plus(1));
        let cn = c.market(Market::Cn);
        assert!(
            cn.calendar()
                .is_working_day(Day::from_ymd(2025, 9, 28).expect("day"))
        );
        assert!(
            !cn.calendar()
                .is_working_day(Day::from_ymd(2025, 10, 1).expect("day"))
        );
        assert_eq!(
            cn.non_portable().blocks(),
            &[
                ("86170".to_owned(), BlockClass::Mvno),
                ("86171".to_owned(), BlockClass::Mvno),
                ("8610".to_owned(), BlockClass::Other)
            ]
        );
        let n = |s: &str| s.parse::<sim_profiles::Msisdn>().expect("msisdn");
        // The configured list replaced the default: 167 ports now, 8610… does not.
        assert!(cn.check_portable(&n("8616712345678")).is_ok());
        assert!(cn.check_portable(&n("8610123456789")).is_err());
        let fr = c.market(Market::EuFr);
        let input = crate::porting::CredentialInput {
            code: Some("01P123456+96"),
            ..Default::default()
        };
        assert!(fr.parse_credential(&input, &n("33611223344")).is_ok());
    }

    #[test]
    fn mistakes_are_refused_naming_the_key() {
        for (text, want) in [
            (
                "[cn]\nnon_portable = { mvno = [\"170\"] }",
                "invalid config value `porting.cn.non_portable`: \"170\" must be E.164 digits with the country code first, as numbers are stored (e.g. \"86170\")",
            ),
            (
                "[cn]\nnon_portable = { mvno = [\"86\"] }",
                "invalid config value `porting.cn.non_portable`: \"86\" must be E.164 digits with the country code first, as numbers are stored (e.g. \"8686\")",
            ),
            (
                "[uk]\nnon_portable = { other = [\"44-7\"] }",
                "invalid config value `porting.uk.non_portable`: \"44-7\" is not a number prefix: use 1 to 15 digits",
            ),
            (
                "[cn]\nlock_time = \"17:00\"",
                "invalid config value `porting.cn.lock_time`: cn ports lock when processed and cut over at the next full hour: remove it",
            ),
            (
                "[uk]\ncutover_time = \"19:00\"",
                "invalid config value `porting.uk.cutover_time`: must be within business_hours (the promised completion is their close)",
            ),
            (
                "[uk]\nbusiness_hours = \"10:00-17:00\"",
                "invalid config value `porting.uk.cutover_time`: must be within business_hours (the promised completion is their close)",
            ),
            (
                "[cn]\nworking_days = [\"2025-09-29\"]",
                "invalid config value `porting.cn.working_days`: 2025-09-29 is a weekday: list only weekend days that are worked (China's 调休)",
            ),
            (
                "[cn]\nworking_days = [\"2025-09-28\"]\nholidays = [\"2025-09-28\"]",
                "invalid config value `porting.cn.working_days`: 2025-09-28 is also listed in holidays",
            ),
            (
                "[uk]\ncheck_rio_key = true",
                "invalid config value `porting.uk.check_rio_key`: applies to eu-fr only (the RIO)",
            ),
        ] {
            assert_eq!(parse(text).expect_err(text), want, "{text}");
        }
        // Syntax errors come from serde with the value and what to use.
        for (text, part) in [
            (
                "[uk]\nholidays = [\"2025-13-01\"]",
                "`2025-13-01` is not a date: use YYYY-MM-DD",
            ),
            (
                "[us]\nlock_time = \"24:00\"",
                "`24:00` is not a time of day: use HH:MM, 00:00 to 23:59",
            ),
            ("[us]\nlock_time = \"9:00\"", "`9:00` is not a time of day"),
            (
                "[us]\nbusiness_hours = \"18:00-09:00\"",
                "`18:00-09:00` is not working hours",
            ),
            ("[fr]\nholidays = []", "unknown field `fr`"),
            ("[uk]\nholiday = []", "unknown field `holiday`"),
            (
                "[cn]\nnon_portable = { resale = [\"86170\"] }",
                "unknown field `resale`",
            ),
        ] {
            let err = parse(text).expect_err(text);
            assert!(err.contains(part), "{text}: {err}");
        }
        assert!(parse("[us]\nbusiness_hours = \"00:00-24:00\"\ncutover_time = \"00:00\"").is_ok());
    }

    #[test]
    fn times_of_day() {
        for (s, want) in [
            ("00:00", Some(0)),
            ("09:30", Some(570)),
            ("23:59", Some(1439)),
            ("24:00", Some(1440)),
            ("24:01", None),
            ("12:60", None),
            ("1200", None),
            ("+1:00", None),
            ("", None),
        ] {
            assert_eq!(parse_hh_mm(s), want, "{s}");
        }
    }
}
