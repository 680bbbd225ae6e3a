//! The lines follow-up orders may work on. A line is taken out while one of the soak's
//! orders works on it and put back with what that order made of it, so the soak never
//! sends two orders for one line at once (the gateway would refuse the second: that is
//! tested elsewhere, not soaked).

use super::kinds::Line;
use std::sync::Mutex;

/// Free lines.
#[derive(Debug, Default)]
pub(crate) struct Lines {
    free: Mutex<Vec<Line>>,
}

impl Lines {
    fn with<T>(&self, f: impl FnOnce(&mut Vec<Line>) -> T) -> T {
        match self.free.lock() {
            Ok(mut v) => f(&mut v),
            Err(poisoned) => f(&mut poisoned.into_inner()),
        }
    }

    /// Takes one of the free lines `fits` accepts, the `pick`-th modulo their number;
    /// `None` if none fits.
    pub(crate) fn take(&self, fits: fn(&Line) -> bool, pick: u64) -> Option<Line> {
        self.with(|free| {
            let fitting: Vec<usize> = (0..free.len())
                .filter(|i| free.get(*i).is_some_and(fits))
                .collect();
            let n = u64::try_from(fitting.len()).ok().filter(|n| *n > 0)?;
            let at = usize::try_from(pick % n).ok()?;
            let i = *fitting.get(at)?;
            Some(free.swap_remove(i))
        })
    }

    /// Makes `line` free again.
    pub(crate) fn put(&self, line: Line) {
        self.with(|free| free.push(line));
    }

    /// How many lines are free.
    pub(crate) fn len(&self) -> usize {
        self.with(|free| free.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(msisdn: &str, suspended: bool) -> Line {
        Line {
            msisdn: msisdn.into(),
            iccid: format!("89{msisdn}"),
            esim: false,
            suspended,
        }
    }

    #[test]
    fn a_taken_line_is_out_until_put_back_and_only_fitting_lines_are_taken() {
        let lines = Lines::default();
        lines.put(line("1", false));
        lines.put(line("2", true));
        assert_eq!(
            lines.take(|l| l.suspended, 7).map(|l| l.msisdn),
            Some("2".into())
        );
        assert_eq!(lines.take(|l| l.suspended, 0), None);
        let one = lines.take(|_| true, 3).expect("line 1");
        assert_eq!(lines.len(), 0);
        assert_eq!(lines.take(|_| true, 0), None);
        lines.put(one);
        assert_eq!(lines.len(), 1);
    }

    #[test]
    fn the_pick_chooses_among_the_fitting_lines() {
        let lines = Lines::default();
        for m in ["1", "2", "3"] {
            lines.put(line(m, false));
        }
        let mut seen: Vec<String> = (0..3)
            .filter_map(|p| lines.take(|_| true, p))
            .map(|l| l.msisdn)
            .collect();
        seen.sort();
        assert_eq!(seen, ["1", "2", "3"]);
    }
}
