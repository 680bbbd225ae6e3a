//! The simulator's clock: the hub's time, which tests drive and the sandbox lets run.
//!
//! - **Driven**: time stands still until it is set or advanced (the admin API, the
//!   handle). No test waits on the wall clock.
//! - **Real time**: time runs with tokio's clock from the last instant set, and a ticker
//!   fires due timers every second.
//!
//! Time only moves forward, so timers fire in order. Whenever it moves, the simulator
//! emits every message that became due, each stamped with its own due time.

use adapters::porting::UtcTime;
use serde::{Deserialize, Serialize};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::time::Instant;

/// The last instant the protocol can carry, minus room for the timetable's arithmetic.
pub(crate) const MAX_MS: u64 = 253_402_300_799_999 - 60 * 86_400_000;

/// How the clock moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClockMode {
    /// Only when set or advanced.
    Driven,
    /// With tokio's clock (the wall clock outside paused tests).
    #[default]
    RealTime,
}

/// The clock's state.
#[derive(Debug, Clone)]
pub(crate) struct SimClock {
    mode: ClockMode,
    base_ms: u64,
    base: Instant,
    /// Set when the clock is made, set, advanced or switched (for the state file).
    changed: bool,
}

/// Why the clock refused to move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Backwards;

impl SimClock {
    /// A clock at `start_ms` (clamped to the protocol's range).
    pub(crate) fn new(mode: ClockMode, start_ms: u64) -> Self {
        Self {
            mode,
            base_ms: start_ms.min(MAX_MS),
            base: Instant::now(),
            changed: true,
        }
    }

    /// Whether the clock was made, set, advanced or switched since the last call.
    pub(crate) fn take_changed(&mut self) -> bool {
        std::mem::take(&mut self.changed)
    }

    /// The hub's time now.
    pub(crate) fn now(&self) -> u64 {
        match self.mode {
            ClockMode::Driven => self.base_ms,
            ClockMode::RealTime => {
                let ran = u64::try_from(self.base.elapsed().as_millis()).unwrap_or(u64::MAX);
                self.base_ms.saturating_add(ran).min(MAX_MS)
            }
        }
    }

    /// The mode.
    pub(crate) fn mode(&self) -> ClockMode {
        self.mode
    }

    /// Switches the mode, keeping the current time.
    pub(crate) fn set_mode(&mut self, mode: ClockMode) {
        self.rebase(self.now());
        self.mode = mode;
    }

    /// Moves to `to_ms`; refuses to go back.
    pub(crate) fn set(&mut self, to_ms: u64) -> Result<u64, Backwards> {
        if to_ms < self.now() {
            return Err(Backwards);
        }
        self.rebase(to_ms.min(MAX_MS));
        Ok(self.base_ms)
    }

    /// Moves `by` forward.
    pub(crate) fn advance(&mut self, by: Duration) -> u64 {
        let by = u64::try_from(by.as_millis()).unwrap_or(u64::MAX);
        self.rebase(self.now().saturating_add(by).min(MAX_MS));
        self.base_ms
    }

    fn rebase(&mut self, ms: u64) {
        self.base_ms = ms;
        self.base = Instant::now();
        self.changed = true;
    }
}

/// The wall clock, in Unix milliseconds.
pub(crate) fn wall_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(0))
}

/// `ms` as a protocol instant; the clock never passes [`MAX_MS`], so every instant the
/// simulator computes is within the codec's range.
pub(crate) fn utc(ms: u64) -> UtcTime {
    UtcTime::from_unix_ms(ms.min(MAX_MS + 60 * 86_400_000)).expect("within 9999-12-31")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn driven_stands_still_and_real_time_runs() {
        let mut c = SimClock::new(ClockMode::Driven, 1_000);
        tokio::time::advance(Duration::from_secs(5)).await;
        assert_eq!(c.now(), 1_000);
        assert_eq!(c.advance(Duration::from_millis(500)), 1_500);
        assert_eq!(c.set(1_400), Err(Backwards));
        assert_eq!(c.set(2_000), Ok(2_000));
        c.set_mode(ClockMode::RealTime);
        tokio::time::advance(Duration::from_secs(3)).await;
        assert_eq!(c.now(), 5_000);
        c.set_mode(ClockMode::Driven);
        tokio::time::advance(Duration::from_secs(3)).await;
        assert_eq!(c.now(), 5_000);
        assert_eq!(c.set(u64::MAX), Ok(MAX_MS));
        assert!(c.take_changed() && !c.take_changed());
        assert_eq!(utc(MAX_MS).unix_ms(), MAX_MS);
    }
}
