//! Local civil time in the hub's markets, without a time-zone database: a fixed standard
//! offset and one of two daylight-saving rules, each exact since 2007 for the zone it
//! serves. The simulator's own small copy (conformance never uses gateway internals).
//!
//! - EU rule (Directive 2000/84/EC; the UK kept the same dates): summer time from the last
//!   Sunday of March to the last Sunday of October, switching at 01:00 UTC.
//! - US rule (Energy Policy Act 2005): daylight time from the second Sunday of March at
//!   02:00 local standard time to the first Sunday of November at 02:00 local daylight time.
//!
//! Instants are Unix milliseconds; days are counted from 1970-01-01 (day 0, a Thursday).

use adapters::identity::CivilDate;

/// One minute, in milliseconds.
pub(crate) const MINUTE_MS: u64 = 60_000;
/// One hour, in milliseconds.
pub(crate) const HOUR_MS: u64 = 60 * MINUTE_MS;

const DAY_MS_I: i64 = 86_400_000;
const HOUR_MS_I: i64 = 3_600_000;

/// A daylight-saving rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dst {
    /// None (China).
    None,
    /// EU and UK.
    Eu,
    /// US.
    Us,
}

/// A zone: standard offset from UTC and daylight-saving rule (+1 h in summer).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Zone {
    /// Standard time minus UTC, in minutes.
    pub(crate) std_offset_min: i64,
    /// The daylight-saving rule.
    pub(crate) dst: Dst,
}

impl Zone {
    /// China Standard Time, UTC+8.
    pub(crate) const CHINA: Self = Self {
        std_offset_min: 8 * 60,
        dst: Dst::None,
    };
    /// UK: GMT, BST in summer.
    pub(crate) const UK: Self = Self {
        std_offset_min: 0,
        dst: Dst::Eu,
    };
    /// Central European Time, CEST in summer.
    pub(crate) const CENTRAL_EUROPE: Self = Self {
        std_offset_min: 60,
        dst: Dst::Eu,
    };
    /// US Eastern: EST, EDT in summer.
    pub(crate) const US_EASTERN: Self = Self {
        std_offset_min: -5 * 60,
        dst: Dst::Us,
    };

    /// Local time minus UTC at `utc_ms`, in milliseconds.
    pub(crate) fn offset_ms(self, utc_ms: u64) -> i64 {
        let t = i64::try_from(utc_ms).unwrap_or(i64::MAX);
        let std = self.std_offset_min * 60_000;
        let year = CivilDate::from_unix_days(t.div_euclid(DAY_MS_I)).map(CivilDate::year);
        let Some((start, end)) = year.and_then(|y| self.dst_window(y)) else {
            return std;
        };
        if (start..end).contains(&t) {
            std + HOUR_MS_I
        } else {
            std
        }
    }

    /// The UTC instants (ms) summer time starts and ends in `year`, if the zone has one.
    fn dst_window(self, year: u16) -> Option<(i64, i64)> {
        let std = self.std_offset_min * 60_000;
        match self.dst {
            Dst::None => None,
            Dst::Eu => {
                let start = last_sunday(year, 3)? * DAY_MS_I + HOUR_MS_I;
                let end = last_sunday(year, 10)? * DAY_MS_I + HOUR_MS_I;
                Some((start, end))
            }
            Dst::Us => {
                // 02:00 local standard time, then 02:00 local daylight time.
                let start = (first_sunday(year, 3)? + 7) * DAY_MS_I + 2 * HOUR_MS_I - std;
                let end = first_sunday(year, 11)? * DAY_MS_I + 2 * HOUR_MS_I - std - HOUR_MS_I;
                Some((start, end))
            }
        }
    }

    /// The local day (days since 1970-01-01) and milliseconds into it, at `utc_ms`.
    pub(crate) fn to_local(self, utc_ms: u64) -> (i64, u64) {
        let t = i64::try_from(utc_ms).unwrap_or(i64::MAX) + self.offset_ms(utc_ms);
        let ms = u64::try_from(t.rem_euclid(DAY_MS_I)).unwrap_or(0);
        (t.div_euclid(DAY_MS_I), ms)
    }

    /// The local day at `utc_ms`.
    pub(crate) fn day(self, utc_ms: u64) -> i64 {
        self.to_local(utc_ms).0
    }

    /// The UTC instant of `minute` past local midnight on `day`. The hub's times (09:00,
    /// 12:00, 17:00, 18:00) never fall in a daylight-saving gap or overlap.
    pub(crate) fn at(self, day: i64, minute: u64) -> u64 {
        let local = day * DAY_MS_I + i64::try_from(minute * MINUTE_MS).unwrap_or(0);
        let guess = to_u64(local - self.std_offset_min * 60_000);
        let first = self.offset_ms(guess);
        let utc = to_u64(local - first);
        to_u64(local - self.offset_ms(utc))
    }
}

fn to_u64(ms: i64) -> u64 {
    u64::try_from(ms).unwrap_or(0)
}

/// Monday to Friday: the hub's working days (no holidays are configured).
pub(crate) fn is_working_day(day: i64) -> bool {
    // 1970-01-01 was a Thursday: Monday is 0.
    (day + 3).rem_euclid(7) < 5
}

/// The first working day after `day`.
pub(crate) fn next_working_day(day: i64) -> i64 {
    let mut d = day + 1;
    while !is_working_day(d) {
        d += 1;
    }
    d
}

/// The last working day before `day`.
pub(crate) fn prev_working_day(day: i64) -> i64 {
    let mut d = day - 1;
    while !is_working_day(d) {
        d -= 1;
    }
    d
}

/// Day number of the first Sunday of `month` in `year`.
fn first_sunday(year: u16, month: u8) -> Option<i64> {
    let first = CivilDate::new(year, month, 1)?.unix_days();
    // Sunday is 6 counted from Monday.
    Some(first + (6 - (first + 3).rem_euclid(7)))
}

/// Day number of the last Sunday of `month` (March or October: 31 days) in `year`.
fn last_sunday(year: u16, month: u8) -> Option<i64> {
    let last = CivilDate::new(year, month, 31)?.unix_days();
    Some(last - ((last + 3).rem_euclid(7) + 1).rem_euclid(7))
}

#[cfg(test)]
mod tests {
    use super::*;
    use adapters::porting::UtcTime;

    fn t(s: &str) -> u64 {
        UtcTime::parse(s, "t").expect("time").unix_ms()
    }

    fn day(y: u16, m: u8, d: u8) -> i64 {
        CivilDate::new(y, m, d).expect("date").unix_days()
    }

    #[test]
    fn summer_time_switches_on_the_published_instants() {
        // EU 2026: 29 March 01:00Z to 25 October 01:00Z.
        assert_eq!(Zone::UK.offset_ms(t("2026-03-29T00:59:59Z")), 0);
        assert_eq!(Zone::UK.offset_ms(t("2026-03-29T01:00:00Z")), HOUR_MS_I);
        assert_eq!(Zone::UK.offset_ms(t("2026-10-25T00:59:59Z")), HOUR_MS_I);
        assert_eq!(Zone::UK.offset_ms(t("2026-10-25T01:00:00Z")), 0);
        assert_eq!(
            Zone::CENTRAL_EUROPE.offset_ms(t("2026-07-01T00:00:00Z")),
            2 * HOUR_MS_I
        );
        // US 2026: 8 March 07:00Z to 1 November 06:00Z.
        let est = -5 * HOUR_MS_I;
        assert_eq!(Zone::US_EASTERN.offset_ms(t("2026-03-08T06:59:59Z")), est);
        assert_eq!(
            Zone::US_EASTERN.offset_ms(t("2026-03-08T07:00:00Z")),
            est + HOUR_MS_I
        );
        assert_eq!(
            Zone::US_EASTERN.offset_ms(t("2026-11-01T05:59:59Z")),
            est + HOUR_MS_I
        );
        assert_eq!(Zone::US_EASTERN.offset_ms(t("2026-11-01T06:00:00Z")), est);
        assert_eq!(
            Zone::CHINA.offset_ms(t("2026-07-01T00:00:00Z")),
            8 * HOUR_MS_I
        );
    }

    #[test]
    fn local_times_and_working_days() {
        // 2026-03-04 is a Wednesday; 2026-03-07 a Saturday.
        assert!(is_working_day(day(2026, 3, 4)));
        assert!(!is_working_day(day(2026, 3, 7)));
        assert_eq!(next_working_day(day(2026, 3, 6)), day(2026, 3, 9));
        assert_eq!(prev_working_day(day(2026, 3, 9)), day(2026, 3, 6));
        assert_eq!(
            Zone::UK.at(day(2026, 3, 4), 17 * 60),
            t("2026-03-04T17:00:00Z")
        );
        assert_eq!(
            Zone::UK.at(day(2026, 7, 1), 9 * 60),
            t("2026-07-01T08:00:00Z")
        );
        assert_eq!(
            Zone::US_EASTERN.at(day(2026, 3, 4), 12 * 60),
            t("2026-03-04T17:00:00Z")
        );
        assert_eq!(
            Zone::US_EASTERN.at(day(2026, 3, 9), 9 * 60),
            t("2026-03-09T13:00:00Z")
        );
        assert_eq!(Zone::CHINA.day(t("2026-03-04T16:00:00Z")), day(2026, 3, 5));
        assert_eq!(first_sunday(2026, 11), Some(day(2026, 11, 1)));
        assert_eq!(last_sunday(2026, 3), Some(day(2026, 3, 29)));
        assert_eq!(last_sunday(2027, 10), Some(day(2027, 10, 31)));
    }
}
