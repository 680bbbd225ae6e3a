//! The porting timetable as pure functions of a market's rules and the instants given:
//! when an order locks, when the cutover is, what completion it promises, whether it may
//! still be cancelled, when a credential expires, and the port-out deadlines. The order
//! engine persists what these return as `due_at` timers (§1.6: "timers are events").
//!
//! A working-day market (UK, US, EU) schedules the cutover on the earliest working day D
//! whose lock (a local time on the working day before D) is still ahead of the
//! submission, or on the day the customer asked for if that is later; China's cutover is
//! the next full hour after processing and nothing can be changed after it (§1.1, §1.5).

use super::MarketPorting;
use super::local_time::{DAY_MS, Day, HOUR_MS, LocalTime};
use super::rules::{AnswerDeadline, CompletionRule, CutoverRule, LockRule};
use crate::clock::rfc3339;

/// A port's timetable, in Unix milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    /// From this instant the order can no longer be cancelled or changed.
    pub lock_at: u64,
    /// When the switch is scheduled (the FOC due time in the US).
    pub cutover_at: u64,
    /// The completion the order promises (`promised_at`, §1.6).
    pub complete_by: u64,
}

/// Why a requested cutover day cannot be scheduled. The messages are for the API.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    /// The market takes no requested day.
    #[error(
        "{market} ports take effect at the next full hour after processing: a requested date is not accepted"
    )]
    NoRequestedDay {
        /// The market's name.
        market: &'static str,
    },
    /// The requested day is not a working day.
    #[error("{requested} is not a working day in this market; the next one is {next}")]
    NotAWorkingDay {
        /// The day asked for.
        requested: Day,
        /// The next working day after it.
        next: Day,
    },
    /// The requested day's lock has passed.
    #[error("{requested} is too early: the earliest port date now is {earliest}")]
    TooEarly {
        /// The day asked for.
        requested: Day,
        /// The earliest day possible now.
        earliest: Day,
    },
    /// The requested day is beyond the market's horizon.
    #[error("{requested} is too far ahead: the latest port date now is {latest}")]
    TooFarAhead {
        /// The day asked for.
        requested: Day,
        /// The latest day accepted now.
        latest: Day,
    },
}

/// Why we refuse to port a number out.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PortOutRefusal {
    /// We do not act as donor in this market.
    #[error("port-out is not offered in the {market} market")]
    NotOffered {
        /// The market's name.
        market: &'static str,
    },
    /// The number was ported too recently (China: 120 days, §1.1).
    #[error("the number was ported less than {days} days ago: it may be ported out from {}", rfc3339(*.allowed_from))]
    TooSoonAfterLastPort {
        /// The minimum, in days.
        days: u32,
        /// The first instant a port-out is allowed.
        allowed_from: u64,
    },
}

/// The timetable of a port-in submitted (processed) at `submitted_at`, on `requested`
/// (a local day) or as early as possible. Also for a reschedule: pass the current time.
pub fn schedule(
    p: &MarketPorting,
    submitted_at: u64,
    requested: Option<Day>,
) -> Result<Schedule, ScheduleError> {
    let cutover_at = cutover_at(p, submitted_at, requested)?;
    Ok(Schedule {
        lock_at: lock_at(p, submitted_at, cutover_at),
        cutover_at,
        complete_by: complete_by(p, cutover_at),
    })
}

/// When the switch is scheduled: China the next full local hour strictly after
/// `submitted_at`; elsewhere the requested working day, or the earliest one, at the
/// market's cutover time.
pub fn cutover_at(
    p: &MarketPorting,
    submitted_at: u64,
    requested: Option<Day>,
) -> Result<u64, ScheduleError> {
    let cal = p.calendar();
    match p.rules().cutover {
        CutoverRule::NextFullHour => {
            if requested.is_some() {
                return Err(ScheduleError::NoRequestedDay {
                    market: p.market().as_str(),
                });
            }
            Ok(next_full_hour(p, submitted_at))
        }
        CutoverRule::WorkingDayAt { minute } => {
            let earliest = earliest_cutover_day(p, submitted_at);
            let day = match requested {
                None => earliest,
                Some(day) => {
                    let latest = cal
                        .local_day(submitted_at)
                        .plus(i64::from(p.rules().max_days_ahead));
                    if !cal.is_working_day(day) {
                        return Err(ScheduleError::NotAWorkingDay {
                            requested: day,
                            next: cal.next_working_day(day),
                        });
                    }
                    if day < earliest {
                        return Err(ScheduleError::TooEarly {
                            requested: day,
                            earliest,
                        });
                    }
                    if day > latest {
                        return Err(ScheduleError::TooFarAhead {
                            requested: day,
                            latest,
                        });
                    }
                    day
                }
            };
            Ok(cal.at(day, minute))
        }
    }
}

/// The earliest working day a port submitted at `submitted_at` can cut over on: the
/// first working day whose lock is after `submitted_at` (for China, the local day of its
/// next full hour).
pub fn earliest_cutover_day(p: &MarketPorting, submitted_at: u64) -> Day {
    let cal = p.calendar();
    let LockRule::PreviousWorkingDayAt { minute } = p.rules().lock else {
        return cal.local_day(next_full_hour(p, submitted_at));
    };
    let mut day = cal.next_working_day(cal.local_day(submitted_at));
    while cal.at(cal.prev_working_day(day), minute) <= submitted_at {
        day = cal.next_working_day(day);
    }
    day
}

/// The next full local hour strictly after `t`, counted from local midnight (which suits
/// zones on whole-hour offsets: all of ours).
fn next_full_hour(p: &MarketPorting, t: u64) -> u64 {
    let LocalTime { day, ms_of_day } = p.calendar().zone().to_local(t);
    let hour = u64::from(ms_of_day) / HOUR_MS;
    (p.calendar().at(day, 0) + (hour + 1) * HOUR_MS).max(t.saturating_add(1))
}

/// When an order cutting over at `cutover_at` locks: China at submission, elsewhere at
/// the lock time of the working day before the cutover day.
pub fn lock_at(p: &MarketPorting, submitted_at: u64, cutover_at: u64) -> u64 {
    let cal = p.calendar();
    match p.rules().lock {
        LockRule::AtSubmission => submitted_at,
        LockRule::PreviousWorkingDayAt { minute } => {
            cal.at(cal.prev_working_day(cal.local_day(cutover_at)), minute)
        }
    }
}

/// The completion promised for a cutover at `cutover_at` (never before it).
pub fn complete_by(p: &MarketPorting, cutover_at: u64) -> u64 {
    let cal = p.calendar();
    match p.rules().completion {
        CompletionRule::AtCutover => cutover_at,
        CompletionRule::Within { ms } => cutover_at.saturating_add(ms),
        CompletionRule::EndOfWorkingDay => cal
            .at(cal.local_day(cutover_at), cal.hours().close())
            .max(cutover_at),
    }
}

/// Whether an order that locks at `lock_at` may still be cancelled or changed at `now`.
pub fn can_cancel(now: u64, lock_at: u64) -> bool {
    now < lock_at
}

/// When a credential the donor issued at `issued_at` expires (`None`: it does not).
pub fn credential_expires_at(p: &MarketPorting, issued_at: u64) -> Option<u64> {
    p.rules()
        .credential_validity_ms
        .map(|v| issued_at.saturating_add(v))
}

/// By when we must answer a port-out request received at `received_at` (`None`: we do
/// not act as donor in this market).
pub fn port_out_answer_deadline(p: &MarketPorting, received_at: u64) -> Option<u64> {
    Some(match p.rules().port_out?.answer {
        AnswerDeadline::Elapsed { ms } => received_at.saturating_add(ms),
        AnswerDeadline::WorkingTime { ms } => p.calendar().add_working_time(received_at, ms),
    })
}

/// Whether a number whose last port completed at `last_port_at` (`None`: never ported)
/// may be ported out at `now`. The days are elapsed 24 h periods (our reading of "120
/// calendar days", §1.1).
pub fn check_port_out(
    p: &MarketPorting,
    now: u64,
    last_port_at: Option<u64>,
) -> Result<(), PortOutRefusal> {
    let Some(rules) = p.rules().port_out else {
        return Err(PortOutRefusal::NotOffered {
            market: p.market().as_str(),
        });
    };
    if let (Some(days), Some(last)) = (rules.min_days_since_last_port, last_port_at) {
        let allowed_from = last.saturating_add(u64::from(days) * DAY_MS);
        if now < allowed_from {
            return Err(PortOutRefusal::TooSoonAfterLastPort { days, allowed_from });
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "schedule_tests.rs"]
mod tests;
