//! How `simgw inventory import` shows how much of the file it has read, on stderr: an
//! `indicatif` bar on a terminal, a plain line every ten per cent otherwise (a pipe or a
//! log keeps no carriage returns).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressFinish, ProgressStyle};

/// The import's progress display.
pub(super) enum Progress {
    /// A bar over the file's bytes (stderr is a terminal).
    Bar(ProgressBar),
    /// Plain lines; the per cent last seen (`None` before the first report).
    Lines(Option<u64>),
}

impl Progress {
    /// A bar when `terminal`, plain lines otherwise.
    pub(super) fn new(terminal: bool) -> Progress {
        if !terminal {
            return Progress::Lines(None);
        }
        // Dropped unfinished (the import failed), the bar stays where the reading stopped
        // instead of jumping to 100 %.
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
            .with_finish(ProgressFinish::Abandon);
        // The template is a constant; should it ever not parse, the default style stays.
        if let Ok(style) = ProgressStyle::with_template(
            "[{bar:25}] {percent:>3}% {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
        ) {
            bar.set_style(style.progress_chars("#>-"));
        }
        Progress::Bar(bar)
    }

    /// `done` of `total` bytes read.
    pub(super) fn update(&mut self, done: u64, total: u64) {
        match self {
            Progress::Bar(bar) => {
                bar.set_length(total);
                bar.set_position(done);
                if done >= total {
                    bar.finish();
                }
            }
            Progress::Lines(last) => {
                if let Some(line) = line(done, total, last) {
                    eprintln!("{line}");
                }
            }
        }
    }
}

/// The plain line to print for `done` of `total`, if any: the first report, each new tenth,
/// and the end, never the same per cent twice.
fn line(done: u64, total: u64, last: &mut Option<u64>) -> Option<String> {
    let pct = done.saturating_mul(100) / total.max(1);
    if *last == Some(pct) {
        return None;
    }
    let new_tenth = last.is_none_or(|l| l / 10 != pct / 10);
    *last = Some(pct);
    (new_tenth || done >= total).then(|| format!("import: {pct}% of the file read"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn plain_lines_come_every_tenth_and_at_the_end() {
        let mut last = None;
        let lines: Vec<_> = [5, 9, 12, 35, 36, 99, 100, 100]
            .into_iter()
            .filter_map(|done| line(done, 100, &mut last))
            .collect();
        assert_eq!(
            lines,
            [
                "import: 5% of the file read",
                "import: 12% of the file read",
                "import: 35% of the file read",
                "import: 99% of the file read",
                "import: 100% of the file read",
            ]
        );
        // An empty file is read whole at once.
        assert_eq!(
            line(0, 0, &mut None).as_deref(),
            Some("import: 0% of the file read")
        );
    }

    proptest! {
        #[test]
        fn at_most_one_line_per_tenth_and_the_end(total in 1u64..1 << 40, steps in proptest::collection::vec(0u64..1 << 40, 0..50)) {
            let mut done: Vec<u64> = steps.into_iter().map(|s| s % (total + 1)).collect();
            done.sort_unstable();
            done.push(total);
            let mut last = None;
            let lines: Vec<_> = done.iter().filter_map(|d| line(*d, total, &mut last)).collect();
            prop_assert!(lines.len() <= 11);
            prop_assert_eq!(lines.last().map(String::as_str), Some("import: 100% of the file read"));
        }
    }
}
