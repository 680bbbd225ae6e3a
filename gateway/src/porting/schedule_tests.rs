use super::*;
use crate::compliance::markets::Market;
use crate::porting::local_time::MINUTE_MS;
use crate::porting::{NonPortable, PortingRules};
use proptest::prelude::*;

fn day(y: i64, m: u8, d: u8) -> Day {
    Day::from_ymd(y, m, d).expect("a date")
}

/// A market's defaults with these holidays.
fn market(m: Market, holidays: &[Day]) -> MarketPorting {
    let rules = *PortingRules::of(m);
    MarketPorting::new(
        rules,
        holidays.iter().copied(),
        [],
        NonPortable::defaults(&rules),
        true,
    )
}

/// A local time of the market as an instant.
fn at(p: &MarketPorting, d: Day, h: u16, min: u16) -> u64 {
    p.calendar().at(d, h * 60 + min)
}

/// An instant as the market's local `YYYY-MM-DD HH:MM`.
fn show(p: &MarketPorting, t: u64) -> String {
    let l = p.calendar().zone().to_local(t);
    let m = l.minute();
    format!("{} {:02}:{:02}", l.day, m / 60, m % 60)
}

/// `(lock, cutover, complete_by)` in local time, or the error's message.
type Want = Result<[&'static str; 3], &'static str>;

/// Checks the timetable of a port submitted at `submitted` for `requested`.
fn check(p: &MarketPorting, submitted: u64, requested: Option<Day>, want: Want) {
    let got = schedule(p, submitted, requested)
        .map(|s| {
            [s.lock_at, s.cutover_at, s.complete_by]
                .map(|t| show(p, t))
                .join(" | ")
        })
        .map_err(|e| e.to_string());
    assert_eq!(
        got,
        want.map(|w| w.join(" | ")).map_err(str::to_owned),
        "{:?} submitted {} requested {requested:?}",
        p.market(),
        show(p, submitted)
    );
}

// 2025-06-02 is a Monday; summer time in the UK, France and the US.
const MON: (i64, u8, u8) = (2025, 6, 2);

fn mon(offset: i64) -> Day {
    day(MON.0, MON.1, MON.2).plus(offset)
}

#[test]
fn uk_locks_at_17_on_the_working_day_before_and_cuts_over_the_next_working_day() {
    let p = market(Market::Uk, &[day(2025, 12, 25), day(2025, 12, 26)]);
    let cases: [(u64, Option<Day>, Want); 11] = [
        (
            at(&p, mon(0), 10, 0),
            None,
            Ok(["2025-06-02 17:00", "2025-06-03 09:00", "2025-06-03 18:00"]),
        ),
        (
            at(&p, mon(0), 16, 59),
            None,
            Ok(["2025-06-02 17:00", "2025-06-03 09:00", "2025-06-03 18:00"]),
        ),
        // At 17:00 the Tuesday port is locked already: Wednesday.
        (
            at(&p, mon(0), 17, 0),
            None,
            Ok(["2025-06-03 17:00", "2025-06-04 09:00", "2025-06-04 18:00"]),
        ),
        // Friday evening and the weekend: Tuesday (Monday's lock was Friday 17:00).
        (
            at(&p, mon(4), 18, 0),
            None,
            Ok(["2025-06-09 17:00", "2025-06-10 09:00", "2025-06-10 18:00"]),
        ),
        (
            at(&p, mon(5), 12, 0),
            None,
            Ok(["2025-06-09 17:00", "2025-06-10 09:00", "2025-06-10 18:00"]),
        ),
        // Friday morning: Monday.
        (
            at(&p, mon(4), 9, 0),
            None,
            Ok(["2025-06-06 17:00", "2025-06-09 09:00", "2025-06-09 18:00"]),
        ),
        // Christmas Eve (Wednesday): the holidays and the weekend push it to Monday the 29th.
        (
            at(&p, day(2025, 12, 24), 12, 0),
            None,
            Ok(["2025-12-24 17:00", "2025-12-29 09:00", "2025-12-29 18:00"]),
        ),
        // A requested day.
        (
            at(&p, mon(0), 10, 0),
            Some(mon(3)),
            Ok(["2025-06-04 17:00", "2025-06-05 09:00", "2025-06-05 18:00"]),
        ),
        (
            at(&p, mon(0), 10, 0),
            Some(mon(0)),
            Err("2025-06-02 is too early: the earliest port date now is 2025-06-03"),
        ),
        (
            at(&p, mon(0), 10, 0),
            Some(mon(5)),
            Err("2025-06-07 is not a working day in this market; the next one is 2025-06-09"),
        ),
        (
            at(&p, mon(0), 10, 0),
            Some(mon(31)),
            Err("2025-07-03 is too far ahead: the latest port date now is 2025-07-02"),
        ),
    ];
    for (submitted, requested, want) in cases {
        check(&p, submitted, requested, want);
    }
    // Across the clock change: Friday 28 March (GMT) to Monday 31 March (BST).
    let fri = day(2025, 3, 28);
    let s = schedule(&p, at(&p, fri, 10, 0), None).expect("schedule");
    assert_eq!(show(&p, s.cutover_at), "2025-03-31 09:00");
    assert_eq!(
        s.cutover_at - s.lock_at,
        64 * HOUR_MS - HOUR_MS,
        "16 h + 48 h, one hour lost"
    );
}

#[test]
fn china_cuts_over_at_the_next_full_hour_and_locks_when_processed() {
    let p = market(Market::Cn, &[]);
    let d = mon(0);
    for (submitted, cutover) in [
        (at(&p, d, 10, 20), "2025-06-02 11:00"),
        // On the hour exactly: the next one.
        (at(&p, d, 10, 0), "2025-06-02 11:00"),
        (at(&p, d, 10, 0) - 1, "2025-06-02 10:00"),
        (at(&p, d, 23, 30), "2025-06-03 00:00"),
        // Weekends and holidays do not matter.
        (at(&p, mon(5), 3, 5), "2025-06-07 04:00"),
    ] {
        let s = schedule(&p, submitted, None).expect("schedule");
        assert_eq!(s.lock_at, submitted);
        assert_eq!(show(&p, s.cutover_at), cutover);
        assert_eq!(s.complete_by, s.cutover_at);
        assert!(!can_cancel(submitted, s.lock_at));
        assert!(can_cancel(submitted - 1, s.lock_at));
    }
    check(
        &p,
        at(&p, d, 10, 0),
        Some(mon(1)),
        Err(
            "cn ports take effect at the next full hour after processing: a requested date is not accepted",
        ),
    );
    assert_eq!(earliest_cutover_day(&p, at(&p, d, 23, 30)), mon(1));
}

#[test]
fn us_foc_is_the_next_business_day_locked_at_noon_before() {
    let p = market(Market::Us, &[day(2025, 7, 4)]);
    let cases: [(u64, Option<Day>, Want); 5] = [
        // FOC 09:00 Tuesday, promised within the 2.5 h wireless target.
        (
            at(&p, mon(0), 10, 0),
            None,
            Ok(["2025-06-02 12:00", "2025-06-03 09:00", "2025-06-03 11:30"]),
        ),
        // After noon: Wednesday.
        (
            at(&p, mon(0), 12, 30),
            None,
            Ok(["2025-06-03 12:00", "2025-06-04 09:00", "2025-06-04 11:30"]),
        ),
        (
            at(&p, mon(4), 11, 0),
            None,
            Ok(["2025-06-06 12:00", "2025-06-09 09:00", "2025-06-09 11:30"]),
        ),
        // 4 July (Friday) is configured as a holiday: Thursday's port locks Wednesday noon,
        // Monday's on Thursday.
        (
            at(&p, day(2025, 7, 3), 13, 0),
            None,
            Ok(["2025-07-07 12:00", "2025-07-08 09:00", "2025-07-08 11:30"]),
        ),
        (
            at(&p, day(2025, 7, 2), 11, 0),
            Some(day(2025, 7, 7)),
            Ok(["2025-07-03 12:00", "2025-07-07 09:00", "2025-07-07 11:30"]),
        ),
    ];
    for (submitted, requested, want) in cases {
        check(&p, submitted, requested, want);
    }
    assert_eq!(
        p.rules().cancel_ack_windows_ms,
        Some([9 * HOUR_MS, 9 * HOUR_MS])
    );
}

#[test]
fn france_may_cancel_until_gop_on_d_minus_1() {
    let p = market(Market::EuFr, &[day(2025, 6, 9)]);
    let s = schedule(&p, at(&p, mon(0), 10, 0), None).expect("schedule");
    assert_eq!(
        [s.lock_at, s.cutover_at, s.complete_by].map(|t| show(&p, t)),
        ["2025-06-02 17:00", "2025-06-03 09:00", "2025-06-03 18:00"]
    );
    assert!(can_cancel(at(&p, mon(0), 16, 59), s.lock_at));
    assert!(!can_cancel(at(&p, mon(0), 17, 0), s.lock_at));
    assert!(!can_cancel(s.cutover_at, s.lock_at));
    // Whit Monday (9 June) configured as a holiday: a Friday port request cuts over on
    // Tuesday, and GOP is on the working day before it, Friday.
    check(
        &p,
        at(&p, mon(4), 10, 0),
        None,
        Ok(["2025-06-06 17:00", "2025-06-10 09:00", "2025-06-10 18:00"]),
    );
    // The generic EU row has the same timetable.
    let eu = market(Market::EuGeneric, &[]);
    check(
        &eu,
        at(&eu, mon(0), 10, 0),
        None,
        Ok(["2025-06-02 17:00", "2025-06-03 09:00", "2025-06-03 18:00"]),
    );
}

#[test]
fn credential_validity_per_market() {
    let t = 1_750_000_000_000;
    for (m, want) in [
        (Market::Cn, Some(t + HOUR_MS)),
        (Market::Uk, Some(t + 30 * DAY_MS)),
        (Market::Us, None),
        (Market::EuFr, None),
        (Market::EuGeneric, None),
    ] {
        assert_eq!(credential_expires_at(&market(m, &[]), t), want, "{m:?}");
    }
}

#[test]
fn port_out_answer_deadlines() {
    // (market, received local, deadline local)
    let cases = [
        (Market::Cn, (mon(0), 10, 0), "2025-06-02 10:15"),
        // Saturday night in China: elapsed time, weekends count.
        (Market::Cn, (mon(5), 23, 50), "2025-06-08 00:05"),
        // Two working hours: one before closing, one the next morning.
        (Market::Uk, (mon(0), 17, 0), "2025-06-03 10:00"),
        (Market::EuFr, (mon(5), 10, 0), "2025-06-09 11:00"),
        (Market::EuGeneric, (mon(0), 8, 0), "2025-06-02 11:00"),
        // One business hour (NANC short T1).
        (Market::Us, (mon(4), 17, 30), "2025-06-09 09:30"),
    ];
    for (m, (d, h, min), want) in cases {
        let p = market(m, &[]);
        let deadline = port_out_answer_deadline(&p, at(&p, d, h, min)).expect("port-out");
        assert_eq!(show(&p, deadline), want, "{m:?}");
    }
}

#[test]
fn china_refuses_a_port_out_within_120_days_of_the_last_port() {
    let cn = market(Market::Cn, &[]);
    let last = 1_700_000_000_000;
    assert_eq!(check_port_out(&cn, last + 119 * DAY_MS, Some(last)).map_err(|e| e.to_string()),
        Err("the number was ported less than 120 days ago: it may be ported out from 2024-03-13T22:13:20.000Z".into()));
    assert_eq!(
        check_port_out(&cn, last + 120 * DAY_MS - 1, Some(last)),
        Err(PortOutRefusal::TooSoonAfterLastPort {
            days: 120,
            allowed_from: last + 120 * DAY_MS
        })
    );
    assert_eq!(check_port_out(&cn, last + 120 * DAY_MS, Some(last)), Ok(()));
    assert_eq!(check_port_out(&cn, last, None), Ok(()));
    // No minimum elsewhere.
    for m in [Market::Uk, Market::Us, Market::EuFr, Market::EuGeneric] {
        assert_eq!(
            check_port_out(&market(m, &[]), last + 1, Some(last)),
            Ok(()),
            "{m:?}"
        );
    }
    // A market without port-out.
    let mut rules = *PortingRules::of(Market::Uk);
    rules.port_out = None;
    let none = MarketPorting::new(rules, [], [], NonPortable::default(), true);
    assert_eq!(
        check_port_out(&none, last, None).map_err(|e| e.to_string()),
        Err("port-out is not offered in the uk market".into())
    );
    assert_eq!(port_out_answer_deadline(&none, last), None);
}

const MARKETS: [Market; 5] = Market::ALL;
/// 2024-01-01 to 2028-01-01.
const SPAN: std::ops::Range<u64> = 1_704_067_200_000..1_830_297_600_000;

fn random_holidays(base: u64, offsets: &[u16]) -> Vec<Day> {
    let first = Day::from_days(i64::try_from(base / DAY_MS).expect("days"));
    offsets.iter().map(|o| first.plus(i64::from(*o))).collect()
}

proptest! {
    #[test]
    fn a_timetable_is_ordered_and_minimal(
        submitted in SPAN,
        m in 0usize..5,
        holidays in proptest::collection::vec(0u16..40, 0..12),
    ) {
        let p = market(MARKETS[m], &random_holidays(submitted, &holidays));
        let s = schedule(&p, submitted, None).expect("no requested day");
        prop_assert!(s.lock_at < s.cutover_at, "{s:?}");
        prop_assert!(s.cutover_at <= s.complete_by);
        prop_assert!(s.lock_at >= submitted);
        let cal = p.calendar();
        match p.rules().lock {
            LockRule::AtSubmission => prop_assert!(s.cutover_at - submitted <= HOUR_MS),
            LockRule::PreviousWorkingDayAt { .. } => {
                // The lock is still ahead, on the working day before a working cutover day…
                prop_assert!(s.lock_at > submitted);
                let d = cal.local_day(s.cutover_at);
                prop_assert!(cal.is_working_day(d));
                prop_assert_eq!(cal.local_day(s.lock_at), cal.prev_working_day(d));
                // …and no earlier working day would do.
                let before = cal.prev_working_day(d);
                if before > cal.local_day(submitted) {
                    prop_assert!(lock_at(&p, submitted, cal.at(before, 9 * 60)) <= submitted);
                }
            }
        }
    }

    #[test]
    fn cancel_is_allowed_exactly_before_the_lock(
        submitted in SPAN,
        m in 0usize..5,
        now_offset in 0u64..(5 * DAY_MS),
    ) {
        let p = market(MARKETS[m], &[]);
        let s = schedule(&p, submitted, None).expect("schedule");
        let now = submitted + now_offset;
        prop_assert_eq!(can_cancel(now, s.lock_at), now < s.lock_at);
        prop_assert!(!can_cancel(s.cutover_at, s.lock_at));
    }

    #[test]
    fn any_accepted_requested_day_is_kept(
        submitted in SPAN,
        m in 1usize..5,
        ahead in 0i64..40,
    ) {
        let p = market(MARKETS[m], &[]);
        let cal = p.calendar();
        let requested = cal.local_day(submitted).plus(ahead);
        match schedule(&p, submitted, Some(requested)) {
            Ok(s) => {
                prop_assert_eq!(cal.local_day(s.cutover_at), requested);
                prop_assert!(s.lock_at > submitted && s.lock_at < s.cutover_at);
            }
            Err(ScheduleError::TooEarly { earliest, .. }) => {
                prop_assert!(requested < earliest);
                prop_assert_eq!(earliest, earliest_cutover_day(&p, submitted));
            }
            Err(ScheduleError::NotAWorkingDay { next, .. }) => {
                prop_assert!(!cal.is_working_day(requested) && next > requested);
            }
            Err(ScheduleError::TooFarAhead { latest, .. }) => prop_assert!(requested > latest),
            Err(e) => prop_assert!(false, "{e}"),
        }
    }

    #[test]
    fn port_out_deadline_is_after_the_request(received in SPAN, m in 0usize..5) {
        let p = market(MARKETS[m], &[]);
        let d = port_out_answer_deadline(&p, received).expect("every default row ports out");
        prop_assert!(d > received);
        prop_assert!(d - received >= 15 * MINUTE_MS);
    }
}
