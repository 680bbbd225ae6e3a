//! pySim-style CSV batches (reference §7): a header row of case-insensitive column names,
//! then one row per card, with RFC 4180 quoting (`"…"`, `""` for a quote). Values never
//! contain line breaks in card batches, so each physical line is one record: a quote left
//! open at the end of a line rejects that line alone instead of swallowing the rest.

use super::columns::Layout;
use super::row::Rows;
use super::{BatchError, BatchHeader, ParseOptions, ParseReport, RejectReason, clean_line};
use std::borrow::Cow;
use zeroize::{Zeroize, Zeroizing};

/// A CSV parser fed one physical line at a time (for streaming a large file).
#[derive(Debug)]
pub struct CsvParser {
    opts: ParseOptions,
    line: usize,
    delimiter: char,
    rows: Option<Rows>,
}

impl CsvParser {
    /// A parser for one file; fails only if `opts` is invalid.
    pub fn new(opts: &ParseOptions) -> Result<Self, BatchError> {
        opts.check()?;
        Ok(Self {
            opts: opts.clone(),
            line: 0,
            delimiter: ',',
            rows: None,
        })
    }

    /// Feeds the next physical line (without its `\n`; a trailing `\r` is ignored). After
    /// an error the file is unusable and the parser should be dropped.
    pub fn push_line(&mut self, raw: &str) -> Result<(), BatchError> {
        self.line += 1;
        let line = self.line;
        let text = clean_line(raw, line);
        if text.trim().is_empty() {
            return Ok(());
        }
        let Some(rows) = &mut self.rows else {
            return self.header_row(text);
        };
        match split_record(text, self.delimiter) {
            Some(fields) => rows.push(line, &fields.0),
            None => rows.reject(line, RejectReason::BadQuoting),
        }
        Ok(())
    }

    /// Accepted records parsed since the last drain (streaming: take them in chunks).
    pub fn drain_records(&mut self) -> Vec<super::CardRecord> {
        self.rows.as_mut().map(Rows::drain).unwrap_or_default()
    }

    /// Accepted records waiting to be drained.
    pub fn pending(&self) -> usize {
        self.rows.as_ref().map_or(0, Rows::pending)
    }

    /// Ends the file: checks that there was a header row.
    pub fn finish(self) -> Result<ParseReport, BatchError> {
        let rows = self.rows.ok_or(BatchError::MissingHeaderRow)?;
        Ok(rows.into_report(BatchHeader::default()))
    }

    fn header_row(&mut self, text: &str) -> Result<(), BatchError> {
        let line = self.line;
        // Spreadsheets in some locales export `;` or tab instead of `,`.
        self.delimiter = [',', ';', '\t']
            .into_iter()
            .find(|&d| text.contains(d))
            .unwrap_or(',');
        let fields =
            split_record(text, self.delimiter).ok_or(BatchError::MalformedHeaderRow { line })?;
        let names: Vec<String> = fields.0.iter().map(|f| f.trim().to_owned()).collect();
        if names.iter().all(String::is_empty) {
            return Err(BatchError::NoColumns { line });
        }
        let layout = Layout::new(names, line)?;
        self.rows = Some(Rows::new(layout, false, &self.opts));
        Ok(())
    }
}

/// The fields of one record. Values unescaped from `""` are owned copies of what may be
/// key material, so they are zeroised on drop.
struct Fields<'a>(Vec<Cow<'a, str>>);

impl Drop for Fields<'_> {
    fn drop(&mut self) {
        for f in &mut self.0 {
            if let Cow::Owned(s) = f {
                s.zeroize();
            }
        }
    }
}

/// Splits one record on `delim`. Unquoted fields are trimmed; spaces around a quoted field
/// are allowed. `None` if a quote is left open or text follows a closing quote.
fn split_record(text: &str, delim: char) -> Option<Fields<'_>> {
    let mut fields = Fields(Vec::new());
    let mut rest = text;
    loop {
        let start = rest.trim_start_matches(' ');
        let Some(quoted) = start.strip_prefix('"') else {
            let (field, tail) = match rest.split_once(delim) {
                Some((f, t)) => (f, Some(t)),
                None => (rest, None),
            };
            if field.contains('"') {
                return None;
            }
            fields.0.push(Cow::Borrowed(field.trim()));
            match tail {
                Some(t) => rest = t,
                None => return Some(fields),
            }
            continue;
        };
        let (value, after) = unquote(quoted)?;
        fields.0.push(value);
        let after = after.trim_start_matches(' ');
        if after.is_empty() {
            return Some(fields);
        }
        rest = after.strip_prefix(delim)?;
    }
}

/// Reads a quoted value (after its opening quote) up to its closing quote; returns the
/// value and the text after the closing quote.
fn unquote(mut s: &str) -> Option<(Cow<'_, str>, &str)> {
    let mut owned: Option<Zeroizing<String>> = None;
    loop {
        let (chunk, tail) = s.split_once('"')?;
        if let Some(after_escape) = tail.strip_prefix('"') {
            // Capacity for the whole rest, so the buffer never reallocates and leaves a
            // stray copy behind.
            let buf = owned.get_or_insert_with(|| Zeroizing::new(String::with_capacity(s.len())));
            buf.push_str(chunk);
            buf.push('"');
            s = after_escape;
        } else {
            let value = match owned {
                Some(mut buf) => {
                    buf.push_str(chunk);
                    Cow::Owned(std::mem::take(&mut *buf))
                }
                None => Cow::Borrowed(chunk),
            };
            return Some((value, tail));
        }
    }
}

/// Parses a whole CSV file held in memory.
pub fn parse_csv(text: &str, opts: &ParseOptions) -> Result<ParseReport, BatchError> {
    let mut parser = CsvParser::new(opts)?;
    for line in text.split('\n') {
        parser.push_line(line)?;
    }
    parser.finish()
}

/// Parses a whole CSV file from bytes; invalid UTF-8 is replaced, which can only make a
/// field invalid.
pub fn parse_csv_bytes(bytes: &[u8], opts: &ParseOptions) -> Result<ParseReport, BatchError> {
    match String::from_utf8_lossy(bytes) {
        Cow::Borrowed(text) => parse_csv(text, opts),
        Cow::Owned(text) => parse_csv(&Zeroizing::new(text), opts),
    }
}
