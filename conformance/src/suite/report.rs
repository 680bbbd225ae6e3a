//! The outcome of a run and its human rendering (JUnit lives in `junit.rs`).

use std::fmt;
use std::time::Duration;

/// How one case ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every assertion held.
    Pass,
    /// An assertion failed; the reason says which and what was seen.
    Fail(String),
    /// Not run; the reason says why (e.g. no HLR simulator).
    Skip(String),
}

/// One case's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseResult {
    /// The case name, e.g. `ops.healthz`.
    pub name: &'static str,
    /// How it ended.
    pub outcome: Outcome,
    /// Wall time it took.
    pub duration: Duration,
}

/// The results of a run, in execution order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// One entry per selected case.
    pub cases: Vec<CaseResult>,
    /// What the suite changed before running (e.g. faults it found left on the simulator).
    pub notes: Vec<String>,
}

impl Report {
    /// True if no case failed (skipped cases do not count against a run).
    pub fn passed(&self) -> bool {
        self.failed() == 0
    }

    /// Number of passed cases.
    pub fn passed_count(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Pass))
    }

    /// Number of failed cases.
    pub fn failed(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Fail(_)))
    }

    /// Number of skipped cases.
    pub fn skipped(&self) -> usize {
        self.count(|o| matches!(o, Outcome::Skip(_)))
    }

    /// The result of the case called `name`, if it was selected.
    pub fn case(&self, name: &str) -> Option<&CaseResult> {
        self.cases.iter().find(|c| c.name == name)
    }

    /// Sum of the cases' durations.
    pub fn total_duration(&self) -> Duration {
        self.cases.iter().map(|c| c.duration).sum()
    }

    fn count(&self, pred: impl Fn(&Outcome) -> bool) -> usize {
        self.cases.iter().filter(|c| pred(&c.outcome)).count()
    }
}

/// One line per case (`PASS name (12 ms)`, `FAIL name: reason`, `SKIP name: reason`),
/// then a summary line.
impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for note in &self.notes {
            writeln!(f, "NOTE {note}")?;
        }
        for c in &self.cases {
            match &c.outcome {
                Outcome::Pass => writeln!(f, "PASS {} ({} ms)", c.name, c.duration.as_millis())?,
                Outcome::Fail(reason) => writeln!(f, "FAIL {}: {reason}", c.name)?,
                Outcome::Skip(reason) => writeln!(f, "SKIP {}: {reason}", c.name)?,
            }
        }
        write!(
            f,
            "{} passed, {} failed, {} skipped in {} ms",
            self.passed_count(),
            self.failed(),
            self.skipped(),
            self.total_duration().as_millis()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> Report {
        Report {
            cases: vec![
                CaseResult {
                    name: "ops.healthz",
                    outcome: Outcome::Pass,
                    duration: Duration::from_millis(12),
                },
                CaseResult {
                    name: "auth.wrong_key",
                    outcome: Outcome::Fail("POST: expected 401, got 200".into()),
                    duration: Duration::from_millis(3),
                },
                CaseResult {
                    name: "resilience.transient_faults",
                    outcome: Outcome::Skip("no HLR simulator in sandbox.json".into()),
                    duration: Duration::ZERO,
                },
            ],
            notes: vec!["a note".into()],
        }
    }

    #[test]
    fn counts_and_verdict() {
        let r = sample();
        assert_eq!((r.passed_count(), r.failed(), r.skipped()), (1, 1, 1));
        assert!(!r.passed());
        let only_skips = Report {
            cases: r.cases[2..].to_vec(),
            notes: Vec::new(),
        };
        assert!(only_skips.passed(), "skipped cases do not fail a run");
        assert_eq!(r.total_duration(), Duration::from_millis(15));
        assert!(r.case("ops.healthz").is_some());
    }

    #[test]
    fn text_rendering_has_one_line_per_note_and_case() {
        let text = sample().to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines,
            [
                "NOTE a note",
                "PASS ops.healthz (12 ms)",
                "FAIL auth.wrong_key: POST: expected 401, got 200",
                "SKIP resilience.transient_faults: no HLR simulator in sandbox.json",
                "1 passed, 1 failed, 1 skipped in 15 ms",
            ]
        );
    }
}
