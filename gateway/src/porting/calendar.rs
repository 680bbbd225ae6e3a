//! Working days and working hours of a market: weekends (Saturday and Sunday everywhere),
//! the configured public holidays, and the configured weekend days that are worked (China
//! moves weekend days around its holidays, 调休). The UK "working day" (§1.2), the US
//! "business day" (§1.3) and the EU "working day" (§1.4) are all this calendar; which days
//! are holidays is configuration (`[porting.<market>] holidays`), never code.

use super::local_time::{Day, LocalTime, MINUTES_PER_DAY, Zone};
use std::collections::BTreeSet;

/// The hours of a working day, `[open, close)` in local minutes since midnight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BusinessHours {
    open: u16,
    close: u16,
}

impl BusinessHours {
    /// `open` before `close`, both within the day (close may be 1440, midnight).
    pub const fn new(open: u16, close: u16) -> Option<Self> {
        if open < close && close <= MINUTES_PER_DAY {
            Some(Self { open, close })
        } else {
            None
        }
    }

    /// Opening, minutes after local midnight.
    pub const fn open(self) -> u16 {
        self.open
    }

    /// Closing, minutes after local midnight (exclusive).
    pub const fn close(self) -> u16 {
        self.close
    }
}

/// A market's working calendar: its zone, working hours, holidays and worked weekend days.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Calendar {
    zone: Zone,
    hours: BusinessHours,
    holidays: BTreeSet<Day>,
    worked_weekend_days: BTreeSet<Day>,
}

impl Calendar {
    /// A calendar. A day in both lists is a holiday (the config refuses that anyway).
    pub fn new(
        zone: Zone,
        hours: BusinessHours,
        holidays: impl IntoIterator<Item = Day>,
        worked_weekend_days: impl IntoIterator<Item = Day>,
    ) -> Self {
        Self {
            zone,
            hours,
            holidays: holidays.into_iter().collect(),
            worked_weekend_days: worked_weekend_days.into_iter().collect(),
        }
    }

    /// The zone its days and hours are in.
    pub fn zone(&self) -> Zone {
        self.zone
    }

    /// Its working hours.
    pub fn hours(&self) -> BusinessHours {
        self.hours
    }

    /// The local day `utc_ms` falls on.
    pub fn local_day(&self, utc_ms: u64) -> Day {
        self.zone.to_local(utc_ms).day
    }

    /// The instant of local `minute` (0–1440) on `day`.
    pub fn at(&self, day: Day, minute: u16) -> u64 {
        self.zone.at(day, minute)
    }

    /// A weekday that is not a holiday, or a weekend day listed as worked.
    pub fn is_working_day(&self, day: Day) -> bool {
        if self.holidays.contains(&day) {
            return false;
        }
        !day.weekday().is_weekend() || self.worked_weekend_days.contains(&day)
    }

    /// The first working day strictly after `day`.
    pub fn next_working_day(&self, day: Day) -> Day {
        self.working_day_from(day.plus(1), 1)
    }

    /// The last working day strictly before `day`.
    pub fn prev_working_day(&self, day: Day) -> Day {
        self.working_day_from(day.plus(-1), -1)
    }

    /// `day` if it is a working day, else the next one.
    pub fn working_day_on_or_after(&self, day: Day) -> Day {
        self.working_day_from(day, 1)
    }

    /// The `n`th working day after `day` (`n` = 0: `day` itself, working or not).
    pub fn add_working_days(&self, day: Day, n: u32) -> Day {
        (0..n).fold(day, |d, _| self.next_working_day(d))
    }

    /// Within working hours of a working day.
    pub fn is_working_time(&self, utc_ms: u64) -> bool {
        let LocalTime { day, .. } = self.zone.to_local(utc_ms);
        self.is_working_day(day)
            && (self.at(day, self.hours.open)..self.at(day, self.hours.close)).contains(&utc_ms)
    }

    /// The instant by which `ms` of working time have passed after `utc_ms`: time outside
    /// working hours and on non-working days does not count. `ms` = 0 gives `utc_ms`.
    pub fn add_working_time(&self, utc_ms: u64, ms: u64) -> u64 {
        let (mut t, mut left) = (utc_ms, ms);
        if left == 0 {
            return t;
        }
        loop {
            let day = self.local_day(t);
            if self.is_working_day(day) {
                let open = self.at(day, self.hours.open);
                let close = self.at(day, self.hours.close);
                t = t.max(open);
                if t < close {
                    let available = close - t;
                    if left <= available {
                        return t + left;
                    }
                    left -= available;
                }
            }
            let next = self.at(day.plus(1), 0);
            if next <= t {
                // Only at the end of representable time: nothing later to count.
                return t;
            }
            t = next;
        }
    }

    /// The first working day from `day` on in the direction of `step`. Ends: the
    /// holiday list is finite, and at the end of the calendar (`Day`'s bounds) that day.
    fn working_day_from(&self, mut day: Day, step: i64) -> Day {
        while !self.is_working_day(day) {
            let next = day.plus(step);
            if next == day {
                break;
            }
            day = next;
        }
        day
    }
}

#[cfg(test)]
mod tests {
    use super::super::local_time::{HOUR_MS, MINUTE_MS};
    use super::*;
    use proptest::prelude::*;

    fn day(y: i64, m: u8, d: u8) -> Day {
        Day::from_ymd(y, m, d).expect("a date")
    }

    fn hours() -> BusinessHours {
        BusinessHours::new(9 * 60, 18 * 60).expect("hours")
    }

    /// London, 2025 Christmas and Boxing Day off, and a worked Saturday (as a test of
    /// the list, not a UK practice).
    fn uk() -> Calendar {
        Calendar::new(
            Zone::UK,
            hours(),
            [day(2025, 12, 25), day(2025, 12, 26)],
            [day(2025, 12, 27)],
        )
    }

    #[test]
    fn hours_must_be_a_span_within_the_day() {
        assert!(BusinessHours::new(540, 1080).is_some());
        assert!(BusinessHours::new(0, 1440).is_some());
        assert!(BusinessHours::new(600, 600).is_none());
        assert!(BusinessHours::new(700, 600).is_none());
        assert!(BusinessHours::new(0, 1441).is_none());
    }

    #[test]
    fn working_days() {
        let c = uk();
        // (day, working?, next working day, previous working day)
        let cases = [
            (
                day(2025, 12, 22),
                true,
                day(2025, 12, 23),
                day(2025, 12, 19),
            ),
            (
                day(2025, 12, 24),
                true,
                day(2025, 12, 27),
                day(2025, 12, 23),
            ),
            (
                day(2025, 12, 25),
                false,
                day(2025, 12, 27),
                day(2025, 12, 24),
            ),
            (
                day(2025, 12, 26),
                false,
                day(2025, 12, 27),
                day(2025, 12, 24),
            ),
            (
                day(2025, 12, 27),
                true,
                day(2025, 12, 29),
                day(2025, 12, 24),
            ),
            (
                day(2025, 12, 28),
                false,
                day(2025, 12, 29),
                day(2025, 12, 27),
            ),
            (
                day(2025, 12, 20),
                false,
                day(2025, 12, 22),
                day(2025, 12, 19),
            ),
        ];
        for (d, working, next, prev) in cases {
            assert_eq!(c.is_working_day(d), working, "{d}");
            assert_eq!(c.next_working_day(d), next, "{d}");
            assert_eq!(c.prev_working_day(d), prev, "{d}");
        }
        assert_eq!(
            c.working_day_on_or_after(day(2025, 12, 24)),
            day(2025, 12, 24)
        );
        assert_eq!(
            c.working_day_on_or_after(day(2025, 12, 25)),
            day(2025, 12, 27)
        );
        assert_eq!(c.add_working_days(day(2025, 12, 23), 0), day(2025, 12, 23));
        assert_eq!(c.add_working_days(day(2025, 12, 23), 3), day(2025, 12, 29));
    }

    #[test]
    fn working_time() {
        let c = uk();
        let mon = day(2025, 12, 22);
        let at = |d: Day, h: u64, m: u64| c.at(d, 0) + h * HOUR_MS + m * MINUTE_MS;
        // (start, working time to add, expected end)
        let cases = [
            // Inside the day.
            (at(mon, 10, 0), HOUR_MS, at(mon, 11, 0)),
            // Before opening: counting starts at 09:00.
            (at(mon, 7, 0), HOUR_MS, at(mon, 10, 0)),
            // Runs over closing into the next morning.
            (at(mon, 17, 30), HOUR_MS, at(day(2025, 12, 23), 9, 30)),
            // Ends exactly at closing.
            (at(mon, 17, 0), HOUR_MS, at(mon, 18, 0)),
            // After closing on Christmas Eve: skips the two holidays to the worked Saturday.
            (
                at(day(2025, 12, 24), 19, 0),
                2 * HOUR_MS,
                at(day(2025, 12, 27), 11, 0),
            ),
            // Zero is the start itself, even outside hours.
            (at(mon, 20, 0), 0, at(mon, 20, 0)),
            // Two full working days.
            (at(mon, 9, 0), 18 * HOUR_MS, at(day(2025, 12, 23), 18, 0)),
        ];
        for (start, add, want) in cases {
            assert_eq!(c.add_working_time(start, add), want, "{start} + {add}");
        }
        assert!(c.is_working_time(at(mon, 9, 0)));
        assert!(!c.is_working_time(at(mon, 18, 0)));
        assert!(!c.is_working_time(at(day(2025, 12, 25), 12, 0)));
        assert!(c.is_working_time(at(day(2025, 12, 27), 12, 0)));
    }

    #[test]
    fn the_ends_of_the_calendar_end_the_search() {
        let all_off = Calendar::new(Zone::UK, hours(), [], []);
        let last = Day::from_days(i64::MAX);
        assert_eq!(all_off.next_working_day(last), last);
        let first = Day::from_days(i64::MIN);
        assert!(all_off.prev_working_day(first) <= first.plus(7));
        assert!(all_off.add_working_time(u64::MAX, HOUR_MS) >= 253_402_300_799_999);
    }

    #[test]
    fn working_hours_are_local_across_the_clock_change() {
        // London's working day on 2025-03-31 (first day of BST) opens at 08:00 UTC.
        let c = uk();
        let d = day(2025, 3, 31);
        let midnight_utc = u64::try_from(d.days()).expect("day") * 24 * HOUR_MS;
        assert_eq!(c.at(d, 9 * 60), midnight_utc + 8 * HOUR_MS);
        assert_eq!(
            c.add_working_time(midnight_utc, HOUR_MS),
            midnight_utc + 9 * HOUR_MS
        );
    }

    /// Slow reference: working milliseconds in `[from, to)`, minute by minute.
    fn working_ms_between(c: &Calendar, from: u64, to: u64) -> u64 {
        let mut n = 0;
        let mut t = from;
        while t < to {
            let step = (MINUTE_MS - t % MINUTE_MS).min(to - t);
            if c.is_working_time(t) {
                n += step;
            }
            t += step;
        }
        n
    }

    fn calendar_with(holidays: &[i64], zone: usize) -> Calendar {
        let zones = [
            Zone::CHINA,
            Zone::UK,
            Zone::CENTRAL_EUROPE,
            Zone::US_EASTERN,
        ];
        let base = day(2025, 1, 1).days();
        Calendar::new(
            zones[zone % 4],
            hours(),
            holidays.iter().map(|h| Day::from_days(base + h)),
            [Day::from_days(base + 3)],
        )
    }

    proptest! {
        #[test]
        fn next_working_day_is_the_first_working_day_after(
            holidays in proptest::collection::vec(0i64..60, 0..30),
            d in 0i64..60, e in 0i64..60, z in 0usize..4,
        ) {
            let c = calendar_with(&holidays, z);
            let base = day(2025, 1, 1).days();
            let (d, e) = (Day::from_days(base + d.min(e)), Day::from_days(base + d.max(e)));
            let next = c.next_working_day(d);
            prop_assert!(c.is_working_day(next) && next > d);
            prop_assert!(!next.weekday().is_weekend() || next == Day::from_days(base + 3));
            prop_assert!(!holidays.iter().any(|h| Day::from_days(base + h) == next));
            let mut between = d.plus(1);
            while between < next {
                prop_assert!(!c.is_working_day(between));
                between = between.plus(1);
            }
            // Monotonic.
            prop_assert!(c.next_working_day(e) >= next);
            let prev = c.prev_working_day(e);
            prop_assert!(c.is_working_day(prev) && prev < e);
            prop_assert!(c.prev_working_day(d) <= prev);
        }

        #[test]
        fn adding_working_days_is_monotonic(
            holidays in proptest::collection::vec(0i64..90, 0..40),
            d in 0i64..60, n in 0u32..20, z in 0usize..4,
        ) {
            let c = calendar_with(&holidays, z);
            let d = Day::from_days(day(2025, 1, 1).days() + d);
            let a = c.add_working_days(d, n);
            let b = c.add_working_days(d, n + 1);
            prop_assert!(b > a && c.is_working_day(b));
            prop_assert_eq!(c.add_working_days(a, 1), b);
        }

        #[test]
        fn working_time_adds_exactly(
            holidays in proptest::collection::vec(0i64..20, 0..8),
            start_min in 0u64..(10 * 1440), add_min in 0u64..(3 * 9 * 60), z in 0usize..4,
        ) {
            let c = calendar_with(&holidays, z);
            let start = c.at(day(2025, 1, 1), 0) + start_min * MINUTE_MS;
            let end = c.add_working_time(start, add_min * MINUTE_MS);
            prop_assert!(end >= start + add_min * MINUTE_MS);
            prop_assert_eq!(working_ms_between(&c, start, end), add_min * MINUTE_MS);
            if add_min > 0 {
                // It ends inside working time (the closing instant itself included).
                prop_assert!(c.is_working_time(end - 1));
            }
        }
    }
}
