//! The hub's per-market timetable, as pure functions of the market and the instants
//! given (Unix milliseconds). It is the simulator's own small table; it agrees with the
//! facts of the reference (§1.5) and with the gateway's rule table:
//!
//! | Market | Zone | Due (cutover) | Lock | Complete by |
//! |---|---|---|---|---|
//! | `cn` | UTC+8 | the next full hour after processing | at once (no cancel window) | the due time |
//! | `uk` | GMT/BST | 09:00 on the next working day D | 17:00 on D-1 | 18:00 on D |
//! | `us` | US Eastern | FOC 09:00 on the next business day D | 12:00 on D-1 (conflict restriction) | FOC + 2.5 h (wireless target) |
//! | `eu-fr`, `eu-generic` | CET/CEST | 09:00 on the next working day D | 17:00 on D-1 (FR: GO Portability) | 18:00 on D |
//!
//! "Next" is the earliest working day (Monday to Friday) whose lock is still ahead. A
//! requested time is honoured as asked when its local day is a working day, its lock is
//! ahead, and it is at most 30 days away; China takes no requested time.

use super::zone::prev_working_day;
use super::zone::{HOUR_MS, MINUTE_MS, Zone, is_working_day, next_working_day};
use adapters::porting::Market;

/// How far ahead a requested due time may be, in days (the UK PAC's validity).
pub(crate) const MAX_DAYS_AHEAD: i64 = 30;
/// How long a US conflict lasts before the hub resolves or cancels it (§1.6: 6 h).
pub(crate) const CONFLICT_MS: u64 = 6 * HOUR_MS;
/// The two cancel-concurrence windows (US: 9 h + 9 h), for every market in the simulator.
pub(crate) const CANCEL_WINDOWS_MS: u64 = 18 * HOUR_MS;
/// A port-out request's `respond_by` when the command names none.
pub(crate) const DEFAULT_RESPOND_MS: u64 = HOUR_MS;

/// A port's timetable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Timetable {
    /// From this instant no cancel or reschedule (the `locked` message).
    pub(crate) lock_at: u64,
    /// When the number moves (the `cutover` message; `due_at` on the wire).
    pub(crate) due_at: u64,
    /// The completion the market promises (kept for the port view; not on the wire).
    pub(crate) complete_by: u64,
}

/// Why a requested time cannot be scheduled (`422 date_not_available`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DateRefused {
    /// The market takes no requested time (China).
    NotAccepted,
    /// Not a working day.
    NotAWorkingDay,
    /// In the past, or its lock has passed.
    TooSoon,
    /// More than [`MAX_DAYS_AHEAD`] days away.
    TooFar,
}

/// One market's row.
#[derive(Debug, Clone, Copy)]
struct Row {
    zone: Zone,
    /// `None`: the next full hour (China).
    cutover_minute: Option<u64>,
    lock_minute: u64,
    completion: Completion,
}

#[derive(Debug, Clone, Copy)]
enum Completion {
    AtDue,
    Within(u64),
    EndOfDay,
}

fn row(market: Market) -> Row {
    let working = |zone, lock_minute, completion| Row {
        zone,
        cutover_minute: Some(9 * 60),
        lock_minute,
        completion,
    };
    match market {
        Market::Cn => Row {
            zone: Zone::CHINA,
            cutover_minute: None,
            lock_minute: 0,
            completion: Completion::AtDue,
        },
        Market::Uk => working(Zone::UK, 17 * 60, Completion::EndOfDay),
        Market::Us => working(
            Zone::US_EASTERN,
            12 * 60,
            Completion::Within(2 * HOUR_MS + 30 * MINUTE_MS),
        ),
        Market::EuFr | Market::EuGeneric => {
            working(Zone::CENTRAL_EUROPE, 17 * 60, Completion::EndOfDay)
        }
    }
}

/// The earliest timetable for a port processed at `now`.
pub(crate) fn earliest(market: Market, now: u64) -> Timetable {
    let r = row(market);
    let Some(minute) = r.cutover_minute else {
        // Whole-hour offset: the next full local hour is the next full UTC hour.
        let due_at = (now / HOUR_MS + 1) * HOUR_MS;
        return Timetable {
            lock_at: now,
            due_at,
            complete_by: due_at,
        };
    };
    let mut day = next_working_day(r.zone.day(now) - 1);
    while lock_of(r, day) <= now {
        day = next_working_day(day);
    }
    timetable(r, day, r.zone.at(day, minute))
}

/// The timetable for a port processed at `now` that asks for `requested` as its due time.
pub(crate) fn requested(
    market: Market,
    now: u64,
    requested: u64,
) -> Result<Timetable, DateRefused> {
    let r = row(market);
    if r.cutover_minute.is_none() {
        return Err(DateRefused::NotAccepted);
    }
    let day = r.zone.day(requested);
    if !is_working_day(day) {
        return Err(DateRefused::NotAWorkingDay);
    }
    if requested <= now || lock_of(r, day) <= now {
        return Err(DateRefused::TooSoon);
    }
    if day > r.zone.day(now) + MAX_DAYS_AHEAD {
        return Err(DateRefused::TooFar);
    }
    Ok(timetable(r, day, requested))
}

/// The timetable for `requested` if it can be scheduled at `now`, else the earliest.
pub(crate) fn requested_or_earliest(market: Market, now: u64, asked: Option<u64>) -> Timetable {
    asked
        .and_then(|a| requested(market, now, a).ok())
        .unwrap_or_else(|| earliest(market, now))
}

/// The lock of a cutover on `day`: the lock time of the working day before.
fn lock_of(r: Row, day: i64) -> u64 {
    r.zone.at(prev_working_day(day), r.lock_minute)
}

fn timetable(r: Row, day: i64, due_at: u64) -> Timetable {
    let complete_by = match r.completion {
        Completion::AtDue => due_at,
        Completion::Within(ms) => due_at + ms,
        Completion::EndOfDay => r.zone.at(day, 18 * 60).max(due_at),
    };
    Timetable {
        lock_at: lock_of(r, day),
        due_at,
        complete_by,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use adapters::porting::UtcTime;
    use proptest::prelude::*;

    fn t(s: &str) -> u64 {
        UtcTime::parse(s, "t").expect("time").unix_ms()
    }

    fn show(tt: Timetable) -> [String; 3] {
        let f = |ms| UtcTime::from_unix_ms(ms).expect("t").to_string();
        [f(tt.lock_at), f(tt.due_at), f(tt.complete_by)]
    }

    #[test]
    fn each_market_schedules_as_documented() {
        // Monday 2026-03-02 10:00Z (GMT; EST is UTC-5; CET UTC+1).
        let monday = t("2026-03-02T10:00:00Z");
        assert_eq!(
            show(earliest(Market::Uk, monday)),
            [
                "2026-03-02T17:00:00.000Z",
                "2026-03-03T09:00:00.000Z",
                "2026-03-03T18:00:00.000Z"
            ]
        );
        // After the 17:00 lock the next day is gone.
        assert_eq!(
            show(earliest(Market::Uk, t("2026-03-02T17:00:00Z")))[1],
            "2026-03-04T09:00:00.000Z"
        );
        // Friday after the lock: Tuesday (Monday's lock is Friday 17:00).
        assert_eq!(
            show(earliest(Market::Uk, t("2026-03-06T17:30:00Z"))),
            [
                "2026-03-09T17:00:00.000Z",
                "2026-03-10T09:00:00.000Z",
                "2026-03-10T18:00:00.000Z"
            ]
        );
        // A Saturday: the lock of Monday (Friday 17:00) has passed, so Tuesday.
        assert_eq!(
            show(earliest(Market::Uk, t("2026-03-07T09:00:00Z")))[1],
            "2026-03-10T09:00:00.000Z"
        );
        // BST: 09:00 local is 08:00Z.
        assert_eq!(
            show(earliest(Market::Uk, t("2026-07-01T10:00:00Z")))[1],
            "2026-07-02T08:00:00.000Z"
        );
        // US: noon Eastern D-1 lock, FOC 09:00 Eastern, 2.5 h target.
        assert_eq!(
            show(earliest(Market::Us, monday)),
            [
                "2026-03-02T17:00:00.000Z",
                "2026-03-03T14:00:00.000Z",
                "2026-03-03T16:30:00.000Z"
            ]
        );
        assert_eq!(
            show(earliest(Market::EuFr, monday)),
            [
                "2026-03-02T16:00:00.000Z",
                "2026-03-03T08:00:00.000Z",
                "2026-03-03T17:00:00.000Z"
            ]
        );
        // China: the next full hour, locked at once.
        let cn = earliest(Market::Cn, t("2026-03-02T10:20:00Z"));
        assert_eq!(
            show(cn),
            [
                "2026-03-02T10:20:00.000Z",
                "2026-03-02T11:00:00.000Z",
                "2026-03-02T11:00:00.000Z"
            ]
        );
        assert_eq!(
            show(earliest(Market::Cn, t("2026-03-02T11:00:00Z")))[1],
            "2026-03-02T12:00:00.000Z"
        );
    }

    #[test]
    fn requested_times() {
        let monday = t("2026-03-02T10:00:00Z");
        let ok = requested(Market::Uk, monday, t("2026-03-04T08:00:00Z")).expect("ok");
        assert_eq!(
            show(ok),
            [
                "2026-03-03T17:00:00.000Z",
                "2026-03-04T08:00:00.000Z",
                "2026-03-04T18:00:00.000Z"
            ]
        );
        let refused = |m, at| requested(m, monday, t(at)).err();
        assert_eq!(
            refused(Market::Cn, "2026-03-04T08:00:00Z"),
            Some(DateRefused::NotAccepted)
        );
        assert_eq!(
            refused(Market::Uk, "2026-03-07T09:00:00Z"),
            Some(DateRefused::NotAWorkingDay)
        );
        assert_eq!(
            refused(Market::Uk, "2026-03-02T12:00:00Z"),
            Some(DateRefused::TooSoon)
        );
        assert_eq!(
            refused(Market::Uk, "2026-03-01T12:00:00Z"),
            Some(DateRefused::NotAWorkingDay)
        );
        assert_eq!(
            refused(Market::Us, "2026-04-20T13:00:00Z"),
            Some(DateRefused::TooFar)
        );
        assert_eq!(
            requested_or_earliest(Market::Uk, monday, Some(t("2026-03-07T09:00:00Z"))),
            earliest(Market::Uk, monday)
        );
    }

    const MARKETS: [Market; 5] = Market::ALL;

    proptest! {
        #[test]
        fn the_earliest_timetable_is_ordered_and_on_working_days(
            now in 0u64..4_102_444_800_000,
            m in 0usize..5,
        ) {
            let market = MARKETS[m];
            let tt = earliest(market, now);
            prop_assert!(tt.lock_at <= tt.due_at && tt.due_at <= tt.complete_by);
            prop_assert!(tt.due_at > now);
            let r = row(market);
            match r.cutover_minute {
                None => {
                    prop_assert_eq!(tt.lock_at, now);
                    prop_assert_eq!(tt.due_at % HOUR_MS, 0);
                    prop_assert!(tt.due_at - now <= HOUR_MS);
                }
                Some(minute) => {
                    prop_assert!(tt.lock_at > now);
                    let (day, ms) = r.zone.to_local(tt.due_at);
                    prop_assert!(is_working_day(day));
                    prop_assert_eq!(ms, minute * MINUTE_MS);
                    let (lock_day, lock_ms) = r.zone.to_local(tt.lock_at);
                    prop_assert_eq!(lock_day, prev_working_day(day));
                    prop_assert_eq!(lock_ms, r.lock_minute * MINUTE_MS);
                    // The day before would have locked already.
                    let before = prev_working_day(day);
                    prop_assert!(day == next_working_day(r.zone.day(now) - 1)
                        || lock_of(r, before) <= now);
                    // Requesting the earliest due time gives the same timetable.
                    prop_assert_eq!(requested(market, now, tt.due_at), Ok(tt));
                }
            }
        }
    }
}
