//! A refused file's rejected lines for people and programs: the count per reason, a
//! bounded summary for the terminal, and the complete list as CSV or JSON lines
//! (`simgw inventory import --rejects FILE`). Rejects carry line numbers and reasons only,
//! never a value from the file, so all of this is safe to show and to keep.

use sim_profiles::batch::{Reject, RejectReason};
use std::io::Write;

/// Rejected lines printed before the rest is summarised.
pub const SHOWN: usize = 20;

/// How many lines were rejected for one kind of reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReasonCount {
    /// [`RejectReason::code`].
    pub code: &'static str,
    /// Lines with this reason.
    pub count: usize,
    /// The first such line.
    pub first_line: usize,
}

/// The count per reason, most frequent first (then by first line).
pub fn counts(rejects: &[Reject]) -> Vec<ReasonCount> {
    let mut out: Vec<ReasonCount> = Vec::new();
    for r in rejects {
        let code = r.reason.code();
        match out.iter_mut().find(|c| c.code == code) {
            Some(c) => {
                c.count += 1;
                c.first_line = c.first_line.min(r.line);
            }
            None => out.push(ReasonCount {
                code,
                count: 1,
                first_line: r.line,
            }),
        }
    }
    out.sort_by(|a, b| b.count.cmp(&a.count).then(a.first_line.cmp(&b.first_line)));
    out
}

/// The refusal as the CLI prints it: the first [`SHOWN`] lines, how many more, and the
/// count per reason. `full_list` names where the complete list was written, if anywhere.
pub fn summary(rejects: &[Reject], full_list: Option<&std::path::Path>) -> String {
    let mut msg = format!(
        "{} line(s) rejected; nothing was imported. Fix these lines and import the whole file again:",
        rejects.len()
    );
    for r in rejects.iter().take(SHOWN) {
        msg.push_str(&format!("\n  {r}"));
    }
    if rejects.len() > SHOWN {
        msg.push_str(&format!("\n  … and {} more line(s)", rejects.len() - SHOWN));
    }
    msg.push_str("\nrejected lines by reason:");
    let counts = counts(rejects);
    for c in &counts {
        msg.push_str(&format!(
            "\n  {}: {} (first on line {})",
            c.code, c.count, c.first_line
        ));
    }
    if counts
        .iter()
        .any(|c| c.code == RejectReason::BadLuhn.code())
    {
        msg.push_str(
            "\na bad check digit is a typo in the ICCID, unless the file carries 20-digit ICCIDs \
             without their check digits: then import it with --iccid-length 20",
        );
    }
    match full_list {
        Some(path) => msg.push_str(&format!(
            "\nevery rejected line is listed in {}",
            path.display()
        )),
        None if rejects.len() > SHOWN => {
            msg.push_str("\nfor the full list, import again with --rejects FILE (.csv or .jsonl)")
        }
        None => {}
    }
    msg
}

/// How a rejects file is written, chosen by its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListFormat {
    /// `line,code,reason` with a header row (`.csv`).
    Csv,
    /// One `{"line", "code", "reason"}` object per line (any other extension).
    JsonLines,
}

impl ListFormat {
    /// CSV for a `.csv` path, JSON lines otherwise.
    pub fn for_path(path: &std::path::Path) -> Self {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("csv") => Self::Csv,
            _ => Self::JsonLines,
        }
    }
}

/// Writes every reject to `out`, in line order.
pub fn write_list(
    out: &mut dyn Write,
    format: ListFormat,
    rejects: &[Reject],
) -> std::io::Result<()> {
    if format == ListFormat::Csv {
        writeln!(out, "line,code,reason")?;
    }
    for r in rejects {
        let reason = r.reason.to_string();
        match format {
            ListFormat::Csv => writeln!(
                out,
                "{},{},\"{}\"",
                r.line,
                r.reason.code(),
                reason.replace('"', "\"\"")
            )?,
            ListFormat::JsonLines => writeln!(
                out,
                "{}",
                serde_json::json!({"line": r.line, "code": r.reason.code(), "reason": reason})
            )?,
        }
    }
    out.flush()
}
