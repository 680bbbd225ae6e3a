//! The vendor `.out` layout (reference §6): `key : value` header lines, an ignored `var_In`
//! block, then one `var_out` line naming the columns and one whitespace- or comma-separated
//! row per card.

use super::columns::Layout;
use super::row::Rows;
use super::{BatchError, BatchHeader, ParseOptions, ParseReport, clean_line, normalize_name};
use std::borrow::Cow;
use zeroize::Zeroizing;

/// Which block of the file a header-phase line is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Header,
    /// The `var_In` block: its `key: value` lines are vendor inputs, not header fields.
    Input,
    Output,
}

/// The rows part, once the `var_out` line has been read.
#[derive(Debug)]
struct Body {
    header: BatchHeader,
    var_out_line: usize,
    rows: Rows,
}

/// A `.out` parser fed one physical line at a time (for streaming a large file).
#[derive(Debug)]
pub struct VendorOutParser {
    opts: ParseOptions,
    line: usize,
    section: Section,
    fields: Vec<(String, String)>,
    body: Option<Body>,
}

impl VendorOutParser {
    /// A parser for one file; fails only if `opts` is invalid.
    pub fn new(opts: &ParseOptions) -> Result<Self, BatchError> {
        opts.check()?;
        Ok(Self {
            opts: opts.clone(),
            line: 0,
            section: Section::Header,
            fields: Vec::new(),
            body: None,
        })
    }

    /// Feeds the next physical line (without its `\n`; a trailing `\r` is ignored). After
    /// an error the file is unusable and the parser should be dropped.
    pub fn push_line(&mut self, raw: &str) -> Result<(), BatchError> {
        self.line += 1;
        let line = self.line;
        let t = clean_line(raw, line).trim();
        if t.is_empty() || t.bytes().all(|b| b == b'*') {
            return Ok(());
        }
        if let Some((Directive::VarOut, spec)) = directive(t) {
            return self.start_body(spec);
        }
        if let Some(body) = &mut self.body {
            // A `*` line after the rows (a trailer or comment) is not a card.
            if !t.starts_with('*') {
                let mut fields = split_row(t);
                // A comma after the last value (`a,b,c,`) is a terminator, not a field.
                if fields.len() == body.rows.width() + 1 && fields.last() == Some(&"") {
                    fields.pop();
                }
                body.rows.push(line, &fields);
            }
            return Ok(());
        }
        self.header_line(t);
        Ok(())
    }

    /// Accepted records parsed since the last drain (streaming: take them in chunks).
    pub fn drain_records(&mut self) -> Vec<super::CardRecord> {
        self.body
            .as_mut()
            .map(|b| b.rows.drain())
            .unwrap_or_default()
    }

    /// Accepted records waiting to be drained.
    pub fn pending(&self) -> usize {
        self.body.as_ref().map_or(0, |b| b.rows.pending())
    }

    /// The header, complete once the `var_out` line has been read (before any row).
    pub fn header(&self) -> Option<&BatchHeader> {
        self.body.as_ref().map(|b| &b.header)
    }

    /// Ends the file: checks that there was a `var_out` line and that the row count
    /// matches the header's quantity.
    pub fn finish(self) -> Result<ParseReport, BatchError> {
        let body = self.body.ok_or(BatchError::MissingVarOut)?;
        match body.header.quantity {
            Some(expected) if expected != body.rows.count => {
                return Err(BatchError::QuantityMismatch {
                    expected,
                    found: body.rows.count,
                });
            }
            _ => {}
        }
        Ok(body.rows.into_report(body.header))
    }

    fn start_body(&mut self, spec: &str) -> Result<(), BatchError> {
        let line = self.line;
        if let Some(body) = &self.body {
            return Err(BatchError::MultipleVarOut {
                first_line: body.var_out_line,
                line,
            });
        }
        let names: Vec<String> = if spec.contains('/') {
            spec.split('/')
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .map(str::to_owned)
                .collect()
        } else {
            split_row(spec)
                .into_iter()
                .filter(|n| !n.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let layout = Layout::new(names, line)?;
        let header = BatchHeader::from_fields(std::mem::take(&mut self.fields))?;
        let rows = Rows::new(layout, header.keys_encrypted(), &self.opts);
        self.body = Some(Body {
            header,
            var_out_line: line,
            rows,
        });
        Ok(())
    }

    /// A trimmed, non-blank line before `var_out`.
    fn header_line(&mut self, t: &str) {
        if let Some(title) = t.strip_prefix('*') {
            if let Some(s) = section(title.trim_start_matches('*')) {
                self.section = s;
            }
            return;
        }
        if let Some((Directive::VarIn, _)) = directive(t) {
            self.section = Section::Input;
            return;
        }
        match t.split_once(':') {
            Some((key, value)) if self.section != Section::Input => {
                self.fields
                    .push((key.trim().to_owned(), value.trim().to_owned()));
            }
            Some(_) => {}
            None => {
                // Section titles sometimes come without their `*`.
                if let Some(s) = section(t) {
                    self.section = s;
                }
            }
        }
    }
}

/// The section a title such as `HEADER DESCRIPTION` or `INPUT VARIABLES` opens.
fn section(title: &str) -> Option<Section> {
    let n = normalize_name(title);
    if n.starts_with("header") {
        Some(Section::Header)
    } else if n.starts_with("input") {
        Some(Section::Input)
    } else if n.starts_with("output") {
        Some(Section::Output)
    } else {
        None
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Directive {
    VarIn,
    VarOut,
}

/// Recognises `var_out: …` / `var_Out …` / `Var_In_List:` lines; returns the rest.
fn directive(t: &str) -> Option<(Directive, &str)> {
    if !t.starts_with(['v', 'V']) {
        return None;
    }
    let (key, rest) = t
        .split_once(':')
        .or_else(|| t.split_once(char::is_whitespace))
        .unwrap_or((t, ""));
    match normalize_name(key).as_str() {
        "varout" | "varoutlist" => Some((Directive::VarOut, rest.trim())),
        "varin" | "varinlist" => Some((Directive::VarIn, rest.trim())),
        _ => None,
    }
}

/// Splits a row on commas if it has any (keeping empty fields), otherwise on whitespace.
fn split_row(t: &str) -> Vec<&str> {
    if t.contains(',') {
        t.split(',').map(str::trim).collect()
    } else {
        t.split_whitespace().collect()
    }
}

/// Parses a whole `.out` file held in memory.
pub fn parse_vendor_out(text: &str, opts: &ParseOptions) -> Result<ParseReport, BatchError> {
    let mut parser = VendorOutParser::new(opts)?;
    for line in text.split('\n') {
        parser.push_line(line)?;
    }
    parser.finish()
}

/// Parses a whole `.out` file from bytes; invalid UTF-8 (for example a Latin-1 customer
/// name in the header) is replaced, which can only make a data field invalid.
pub fn parse_vendor_out_bytes(
    bytes: &[u8],
    opts: &ParseOptions,
) -> Result<ParseReport, BatchError> {
    match String::from_utf8_lossy(bytes) {
        Cow::Borrowed(text) => parse_vendor_out(text, opts),
        Cow::Owned(text) => parse_vendor_out(&Zeroizing::new(text), opts),
    }
}
