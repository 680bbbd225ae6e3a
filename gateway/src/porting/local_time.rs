//! Local civil time in the porting markets, without a time-zone database: each market has
//! one zone, a fixed standard offset and one of two daylight-saving rules, both exact
//! since 2007 for the places they serve (our choice of zone per market is in `rules.rs`).
//!
//! - EU rule (Directive 2000/84/EC; the UK kept the same dates): summer time from the last
//!   Sunday of March to the last Sunday of October, switching at 01:00 UTC.
//! - US rule (Energy Policy Act 2005, since 2007): daylight time from the second Sunday of
//!   March at 02:00 local standard time to the first Sunday of November at 02:00 local
//!   daylight time.
//!
//! Instants are Unix milliseconds (`u64`, as the gateway's `Clock` gives them); instants
//! past 9999-12-31 are treated as that day, so every function here is total.

use std::fmt;

/// One minute, in milliseconds.
pub const MINUTE_MS: u64 = 60_000;
/// One hour, in milliseconds.
pub const HOUR_MS: u64 = 60 * MINUTE_MS;
/// One day (24 h), in milliseconds.
pub const DAY_MS: u64 = 24 * HOUR_MS;
/// Minutes in a day.
pub const MINUTES_PER_DAY: u16 = 24 * 60;

/// 9999-12-31T23:59:59.999Z: later instants are clamped to it.
const MAX_UTC_MS: u64 = 253_402_300_799_999;
const DAY_MS_I: i64 = 86_400_000;

/// 0000-03-01 and 9999-12-31: days are kept within, so the date arithmetic cannot overflow.
const MIN_DAY: i64 = -719_468;
const MAX_DAY: i64 = 2_932_896;

/// A calendar day in a market's local time, counted from 1970-01-01 (day 0), within the
/// years 0000 to 9999 (days outside are clamped to the first or last).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(i64);

impl Day {
    /// The day `n` days after 1970-01-01 (negative: before).
    pub const fn from_days(n: i64) -> Self {
        Self(if n < MIN_DAY {
            MIN_DAY
        } else if n > MAX_DAY {
            MAX_DAY
        } else {
            n
        })
    }

    /// Days since 1970-01-01.
    pub const fn days(self) -> i64 {
        self.0
    }

    /// The day of a proleptic Gregorian date in the years 1 to 9999, if the date exists.
    pub fn from_ymd(year: i64, month: u8, day: u8) -> Option<Self> {
        let valid = (1..=9999).contains(&year)
            && (1..=12).contains(&month)
            && day >= 1
            && day <= days_in_month(year, month);
        valid.then(|| Self(days_from_civil(year, month, day)))
    }

    /// The day of a date as the identity model and the config parse it.
    pub fn from_civil(d: adapters::identity::CivilDate) -> Self {
        Self::from_days(d.unix_days())
    }

    /// Year, month (1–12) and day of the month.
    pub fn ymd(self) -> (i64, u8, u8) {
        civil_from_days(self.0)
    }

    /// The day of the week.
    pub fn weekday(self) -> Weekday {
        Weekday::ALL[usize::try_from(self.monday_index()).unwrap_or(0)]
    }

    /// 0 for Monday to 6 for Sunday (1970-01-01 was a Thursday, 3).
    fn monday_index(self) -> i64 {
        (self.0 + 3).rem_euclid(7)
    }

    /// `n` days later (negative: earlier), within the years 0000 to 9999.
    pub fn plus(self, n: i64) -> Self {
        Self::from_days(self.0.saturating_add(n))
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = self.ymd();
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

/// A day of the week.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Weekday {
    /// Monday.
    Monday,
    /// Tuesday.
    Tuesday,
    /// Wednesday.
    Wednesday,
    /// Thursday.
    Thursday,
    /// Friday.
    Friday,
    /// Saturday.
    Saturday,
    /// Sunday.
    Sunday,
}

impl Weekday {
    /// Monday first.
    pub const ALL: [Self; 7] = [
        Self::Monday,
        Self::Tuesday,
        Self::Wednesday,
        Self::Thursday,
        Self::Friday,
        Self::Saturday,
        Self::Sunday,
    ];

    /// Saturday or Sunday: the weekend in every market we serve.
    pub fn is_weekend(self) -> bool {
        matches!(self, Self::Saturday | Self::Sunday)
    }
}

/// Which daylight-saving rule a zone follows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DstRule {
    /// No daylight saving (China since 1992).
    None,
    /// EU/UK: last Sunday of March to last Sunday of October, at 01:00 UTC.
    Eu,
    /// US: second Sunday of March 02:00 standard to first Sunday of November 02:00 daylight.
    Us,
}

/// A market's time zone: a standard offset from UTC and a daylight-saving rule (+1 h).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Zone {
    /// A name for messages and docs (`Asia/Shanghai`, …).
    pub name: &'static str,
    /// Standard time minus UTC, in minutes.
    pub std_offset_min: i16,
    /// The daylight-saving rule.
    pub dst: DstRule,
}

/// A local date and time of day, to the millisecond.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LocalTime {
    /// The local calendar day.
    pub day: Day,
    /// Milliseconds since local midnight (below 24 h).
    pub ms_of_day: u32,
}

impl LocalTime {
    /// The minute of the day (0–1439).
    pub fn minute(self) -> u16 {
        u16::try_from(self.ms_of_day / 60_000).unwrap_or(0)
    }
}

impl Zone {
    /// China Standard Time, UTC+08:00, no daylight saving.
    pub const CHINA: Self = Self {
        name: "Asia/Shanghai",
        std_offset_min: 8 * 60,
        dst: DstRule::None,
    };
    /// UK: GMT, BST in summer.
    pub const UK: Self = Self {
        name: "Europe/London",
        std_offset_min: 0,
        dst: DstRule::Eu,
    };
    /// Central European Time (France and most EU states): CET, CEST in summer.
    pub const CENTRAL_EUROPE: Self = Self {
        name: "Europe/Paris",
        std_offset_min: 60,
        dst: DstRule::Eu,
    };
    /// US Eastern: EST, EDT in summer.
    pub const US_EASTERN: Self = Self {
        name: "America/New_York",
        std_offset_min: -5 * 60,
        dst: DstRule::Us,
    };

    /// Local time minus UTC at `utc_ms`, in minutes.
    pub fn offset_min(self, utc_ms: u64) -> i64 {
        let std = i64::from(self.std_offset_min);
        let t = clamp(utc_ms);
        let Some((start, end)) = self.dst_window(civil_from_days(t.div_euclid(DAY_MS_I)).0) else {
            return std;
        };
        if (start..end).contains(&t) {
            std + 60
        } else {
            std
        }
    }

    /// The local date and time at `utc_ms`.
    pub fn to_local(self, utc_ms: u64) -> LocalTime {
        let local = clamp(utc_ms) + self.offset_min(utc_ms) * 60_000;
        LocalTime {
            day: Day::from_days(local.div_euclid(DAY_MS_I)),
            ms_of_day: u32::try_from(local.rem_euclid(DAY_MS_I)).unwrap_or(0),
        }
    }

    /// The instant of a local date and time. A time skipped by the spring change (in the
    /// gap) is read with the offset before the change, so it lands as far after the gap's
    /// start as it was meant to be (01:30 in a 01:00→02:00 gap is 02:30); a time repeated
    /// by the autumn change is its first occurrence. Local times before 1970 give 0.
    pub fn to_utc(self, local: LocalTime) -> u64 {
        // Days are bounded (`Day`), so none of this overflows.
        let wall = local.day.0 * DAY_MS_I + i64::from(local.ms_of_day);
        let std = i64::from(self.std_offset_min) * 60_000;
        let dst = std + 3_600_000;
        let as_std = wall - std;
        let as_dst = wall - dst;
        let fits = |t: i64, off: i64| to_u64(t).is_some_and(|u| self.offset_min(u) * 60_000 == off);
        let t = match (fits(as_dst, dst), fits(as_std, std)) {
            // The repeated hour: the earlier reading is the daylight one.
            (true, _) => as_dst,
            (false, true) => as_std,
            // The gap exists only at the spring change, where standard time was in force.
            (false, false) => as_std,
        };
        to_u64(t).unwrap_or(0)
    }

    /// The instant of `minute` (0–1440; 1440 is the next midnight) of a local day.
    pub fn at(self, day: Day, minute: u16) -> u64 {
        let (extra, minute) = (minute / MINUTES_PER_DAY, minute % MINUTES_PER_DAY);
        self.to_utc(LocalTime {
            day: day.plus(i64::from(extra)),
            ms_of_day: u32::from(minute) * 60_000,
        })
    }

    /// The UTC instants (ms, as i64) daylight time starts and ends in `year`.
    fn dst_window(self, year: i64) -> Option<(i64, i64)> {
        let std_ms = i64::from(self.std_offset_min) * 60_000;
        match self.dst {
            DstRule::None => None,
            DstRule::Eu => {
                let start = last_sunday(year, 3).0 * DAY_MS_I + 3_600_000;
                let end = last_sunday(year, 10).0 * DAY_MS_I + 3_600_000;
                Some((start, end))
            }
            DstRule::Us => {
                // 02:00 local standard time, and 02:00 local daylight time.
                let start = nth_sunday(year, 3, 2).0 * DAY_MS_I + 7_200_000 - std_ms;
                let end = nth_sunday(year, 11, 1).0 * DAY_MS_I + 7_200_000 - std_ms - 3_600_000;
                Some((start, end))
            }
        }
    }
}

fn clamp(utc_ms: u64) -> i64 {
    i64::try_from(utc_ms.min(MAX_UTC_MS)).unwrap_or(i64::MAX)
}

fn to_u64(t: i64) -> Option<u64> {
    u64::try_from(t).ok().map(|u| u.min(MAX_UTC_MS))
}

/// The last Sunday of a month.
fn last_sunday(year: i64, month: u8) -> Day {
    let last = Day(days_from_civil(year, month, days_in_month(year, month)));
    last.plus(-((last.monday_index() + 1) % 7))
}

/// The `n`th Sunday (1-based) of a month.
fn nth_sunday(year: i64, month: u8, n: i64) -> Day {
    let first = Day(days_from_civil(year, month, 1));
    first.plus((6 - first.monday_index()) + 7 * (n - 1))
}

fn days_in_month(year: i64, month: u8) -> u8 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Howard Hinnant's days_from_civil (total over i64 years in range).
fn days_from_civil(year: i64, month: u8, day: u8) -> i64 {
    let (m, d) = (i64::from(month), i64::from(day));
    let y = year - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Howard Hinnant's civil_from_days.
fn civil_from_days(days: i64) -> (i64, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        year,
        u8::try_from(month).unwrap_or(1),
        u8::try_from(day).unwrap_or(1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(y: i64, m: u8, d: u8) -> Day {
        Day::from_ymd(y, m, d).expect("a date")
    }

    /// `YYYY-MM-DDTHH:MM` UTC as Unix ms.
    fn utc(y: i64, m: u8, d: u8, h: u64, min: u64) -> u64 {
        let days = u64::try_from(day(y, m, d).days()).expect("after 1970");
        days * DAY_MS + h * HOUR_MS + min * MINUTE_MS
    }

    fn local(zone: Zone, t: u64) -> String {
        let l = zone.to_local(t);
        let s = l.ms_of_day / 1000;
        format!("{} {:02}:{:02}", l.day, s / 3600, s / 60 % 60)
    }

    #[test]
    fn days_and_weekdays() {
        assert_eq!(Day::from_days(0).to_string(), "1970-01-01");
        assert_eq!(Day::from_days(0).weekday(), Weekday::Thursday);
        assert_eq!(day(2024, 2, 29).to_string(), "2024-02-29");
        assert_eq!(day(2025, 6, 2).weekday(), Weekday::Monday);
        assert_eq!(day(2025, 6, 8).weekday(), Weekday::Sunday);
        assert!(Day::from_ymd(2025, 2, 29).is_none());
        assert!(Day::from_ymd(2025, 13, 1).is_none());
        assert!(Day::from_ymd(2025, 4, 31).is_none());
        let civil = adapters::identity::CivilDate::new(2025, 12, 25).expect("date");
        assert_eq!(Day::from_civil(civil), day(2025, 12, 25));
    }

    #[test]
    fn transition_days_follow_the_rules() {
        // EU: last Sundays of March and October; US: second Sunday of March, first of
        // November (published calendars for these years).
        for (year, eu_start, eu_end, us_start, us_end) in [
            (2024, 31, 27, 10, 3),
            (2025, 30, 26, 9, 2),
            (2026, 29, 25, 8, 1),
            (2027, 28, 31, 14, 7),
        ] {
            assert_eq!(last_sunday(year, 3), day(year, 3, eu_start), "{year}");
            assert_eq!(last_sunday(year, 10), day(year, 10, eu_end), "{year}");
            assert_eq!(nth_sunday(year, 3, 2), day(year, 3, us_start), "{year}");
            assert_eq!(nth_sunday(year, 11, 1), day(year, 11, us_end), "{year}");
        }
    }

    #[test]
    fn offsets_around_each_change() {
        // (zone, instant, local rendering): one minute before and at each change.
        let cases = [
            (Zone::UK, utc(2025, 3, 30, 0, 59), "2025-03-30 00:59"),
            (Zone::UK, utc(2025, 3, 30, 1, 0), "2025-03-30 02:00"),
            (Zone::UK, utc(2025, 10, 26, 0, 59), "2025-10-26 01:59"),
            (Zone::UK, utc(2025, 10, 26, 1, 0), "2025-10-26 01:00"),
            (
                Zone::CENTRAL_EUROPE,
                utc(2025, 3, 30, 0, 59),
                "2025-03-30 01:59",
            ),
            (
                Zone::CENTRAL_EUROPE,
                utc(2025, 3, 30, 1, 0),
                "2025-03-30 03:00",
            ),
            (
                Zone::CENTRAL_EUROPE,
                utc(2025, 10, 26, 0, 59),
                "2025-10-26 02:59",
            ),
            (
                Zone::CENTRAL_EUROPE,
                utc(2025, 10, 26, 1, 0),
                "2025-10-26 02:00",
            ),
            (Zone::US_EASTERN, utc(2025, 3, 9, 6, 59), "2025-03-09 01:59"),
            (Zone::US_EASTERN, utc(2025, 3, 9, 7, 0), "2025-03-09 03:00"),
            (
                Zone::US_EASTERN,
                utc(2025, 11, 2, 5, 59),
                "2025-11-02 01:59",
            ),
            (Zone::US_EASTERN, utc(2025, 11, 2, 6, 0), "2025-11-02 01:00"),
            (Zone::CHINA, utc(2025, 6, 30, 16, 0), "2025-07-01 00:00"),
            (Zone::CHINA, utc(2025, 1, 1, 0, 0), "2025-01-01 08:00"),
            (Zone::US_EASTERN, utc(2025, 1, 1, 3, 0), "2024-12-31 22:00"),
        ];
        for (zone, t, want) in cases {
            assert_eq!(local(zone, t), want, "{} {t}", zone.name);
        }
    }

    #[test]
    fn local_times_in_gaps_and_overlaps() {
        let uk = Zone::UK;
        // 01:30 on the spring day does not exist in London: read as GMT, it is 02:30 BST.
        let gap = uk.at(day(2025, 3, 30), 90);
        assert_eq!(gap, utc(2025, 3, 30, 1, 30));
        assert_eq!(local(uk, gap), "2025-03-30 02:30");
        // 01:30 on the autumn day happens twice: the first (BST) is taken.
        assert_eq!(uk.at(day(2025, 10, 26), 90), utc(2025, 10, 26, 0, 30));
        let us = Zone::US_EASTERN;
        assert_eq!(us.at(day(2025, 3, 9), 150), utc(2025, 3, 9, 7, 30));
        assert_eq!(us.at(day(2025, 11, 2), 90), utc(2025, 11, 2, 5, 30));
        // Minute 1440 is the next midnight.
        assert_eq!(
            Zone::CHINA.at(day(2025, 1, 1), 1440),
            Zone::CHINA.at(day(2025, 1, 2), 0)
        );
    }

    #[test]
    fn extremes_do_not_panic() {
        assert_eq!(Day::from_days(i64::MAX).ymd(), (9999, 12, 31));
        assert_eq!(Day::from_days(i64::MIN).ymd(), (0, 3, 1));
        assert_eq!(
            Day::from_days(i64::MAX).plus(i64::MAX).ymd(),
            (9999, 12, 31)
        );
        assert!(Day::from_ymd(10_000, 1, 1).is_none() && Day::from_ymd(0, 1, 1).is_none());
        for zone in [
            Zone::CHINA,
            Zone::UK,
            Zone::CENTRAL_EUROPE,
            Zone::US_EASTERN,
        ] {
            // Local days end with 9999-12-31, even east of Greenwich.
            assert_eq!(zone.to_local(u64::MAX).day.ymd(), (9999, 12, 31));
            assert_eq!(zone.to_utc(zone.to_local(0)), 0);
            assert_eq!(zone.at(Day::from_days(-40_000), 0), 0);
        }
    }

    const ZONES: [Zone; 4] = [
        Zone::CHINA,
        Zone::UK,
        Zone::CENTRAL_EUROPE,
        Zone::US_EASTERN,
    ];
    /// 1990-01-01 to 2100-01-01.
    const SPAN: std::ops::Range<u64> = 631_152_000_000..4_102_444_800_000;

    proptest! {
        #[test]
        fn civil_days_round_trip(n in -719_162i64..=2_932_896) {
            let (y, m, d) = Day::from_days(n).ymd();
            prop_assert_eq!(Day::from_ymd(y, m, d), Some(Day::from_days(n)));
        }

        #[test]
        fn utc_to_local_and_back(t in SPAN, z in 0usize..4) {
            let zone = ZONES[z];
            let l = zone.to_local(t);
            let back = zone.to_utc(l);
            // Equal, except in the autumn's repeated hour, whose second reading maps to the
            // first: exactly one hour earlier, and the same local time.
            prop_assert!(back == t || back + HOUR_MS == t, "{t} -> {l:?} -> {back}");
            prop_assert_eq!(zone.to_local(back), l);
            let off = zone.offset_min(t);
            let std = i64::from(zone.std_offset_min);
            prop_assert!(off == std || (zone.dst != DstRule::None && off == std + 60));
        }

        #[test]
        fn local_to_utc_and_back_outside_gaps(days in 7305i64..47_482, ms in 0u32..86_400_000, z in 0usize..4) {
            let zone = ZONES[z];
            let l = LocalTime { day: Day::from_days(days), ms_of_day: ms };
            let t = zone.to_utc(l);
            let again = zone.to_local(t);
            // Only a time in the spring gap moves, and then by exactly one hour.
            if again != l {
                prop_assert_eq!(again.day, l.day);
                prop_assert_eq!(again.ms_of_day, ms + 3_600_000);
            }
        }

        #[test]
        fn local_time_never_runs_backwards_by_more_than_the_repeat(a in SPAN, d in 0u64..DAY_MS, z in 0usize..4) {
            let zone = ZONES[z];
            let (la, lb) = (zone.to_local(a), zone.to_local(a + d + HOUR_MS));
            prop_assert!(lb >= la, "{la:?} {lb:?}");
        }
    }
}
