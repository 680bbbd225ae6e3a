//! JUnit XML, the format CI systems ingest: writing a [`Report`] and reading one back
//! (so pipelines and tests can check what they are about to publish).

use super::report::{Outcome, Report};
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};
use std::fmt::Write as _;

/// The `name` of the suite element.
pub const SUITE_NAME: &str = "simgw-conformance";
/// The `classname` of every test case.
pub const CLASS_NAME: &str = "simgw";

impl Report {
    /// The run as JUnit XML: `<testsuites>` holding one `<testsuite>` whose `<testcase>`s
    /// carry `<failure message=…>` or `<skipped message=…/>`.
    pub fn to_junit_xml(&self) -> String {
        let (tests, failures, skipped) = (self.cases.len(), self.failed(), self.skipped());
        let time = secs(self.total_duration());
        let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        // Writing to a String cannot fail; the results are ignored for that reason.
        let _ = writeln!(
            x,
            "<testsuites name=\"{SUITE_NAME}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"{time}\">"
        );
        let _ = writeln!(
            x,
            "  <testsuite name=\"{SUITE_NAME}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"{time}\">"
        );
        for c in &self.cases {
            let open = format!(
                "    <testcase classname=\"{CLASS_NAME}\" name=\"{}\" time=\"{}\"",
                escape(c.name, true),
                secs(c.duration)
            );
            match &c.outcome {
                Outcome::Pass => {
                    let _ = writeln!(x, "{open}/>");
                }
                Outcome::Fail(reason) => {
                    let _ = writeln!(
                        x,
                        "{open}>\n      <failure message=\"{}\" type=\"assertion\">{}</failure>\n    </testcase>",
                        escape(reason, true),
                        escape(reason, false)
                    );
                }
                Outcome::Skip(reason) => {
                    let _ = writeln!(
                        x,
                        "{open}>\n      <skipped message=\"{}\"/>\n    </testcase>",
                        escape(reason, true)
                    );
                }
            }
        }
        x.push_str("  </testsuite>\n</testsuites>\n");
        x
    }
}

fn secs(d: std::time::Duration) -> String {
    format!("{:.3}", d.as_secs_f64())
}

/// Escapes text for XML 1.0 content or (with `attribute`) a double-quoted attribute value.
/// Reasons may quote what a gateway answered, so anything goes in: markup characters
/// become entities, line breaks in attributes become character references (a parser
/// would otherwise normalise them to spaces), and characters XML 1.0 cannot carry at
/// all (most C0 controls) become U+FFFD.
fn escape(s: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\'' if attribute => out.push_str("&apos;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\n' | '\t' => out.push(ch),
            c if u32::from(c) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {
                out.push('\u{FFFD}');
            }
            c => out.push(c),
        }
    }
    out
}

/// What a JUnit document says, as read back by [`read_junit`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JunitSummary {
    /// The `tests` attribute of `<testsuite>`.
    pub tests: usize,
    /// The `failures` attribute of `<testsuite>`.
    pub failures: usize,
    /// The `skipped` attribute of `<testsuite>`.
    pub skipped: usize,
    /// The `<testcase>` elements in document order.
    pub cases: Vec<JunitCase>,
}

/// One `<testcase>` as read back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JunitCase {
    /// Its `name` attribute.
    pub name: String,
    /// The `message` of its `<failure>`, if it has one.
    pub failure: Option<String>,
    /// True if it has a `<skipped>` child.
    pub skipped: bool,
}

/// Parses a JUnit document (well-formedness included) and checks its declared counts
/// match its test cases.
pub fn read_junit(xml: &str) -> Result<JunitSummary, String> {
    let mut reader = Reader::from_str(xml);
    reader.config_mut().check_end_names = true;
    let mut summary = JunitSummary::default();
    let mut stack: Vec<String> = Vec::new();
    let mut suites = 0usize;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("at byte {}: {e}", reader.error_position()))?;
        match event {
            Event::Start(e) => {
                element(&e, &stack, &mut summary, &mut suites)?;
                stack.push(name_of(&e));
            }
            Event::Empty(e) => element(&e, &stack, &mut summary, &mut suites)?,
            Event::End(_) => {
                stack.pop();
            }
            Event::GeneralRef(r) => {
                let known = matches!(&*r, "amp" | "lt" | "gt" | "quot" | "apos");
                if !known && r.resolve_char_ref().map_err(|e| e.to_string())?.is_none() {
                    return Err("undefined entity reference".into());
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err(format!("unclosed element <{}>", stack.join("><")));
    }
    if suites != 1 {
        return Err(format!("expected one <testsuite>, found {suites}"));
    }
    let failures = summary.cases.iter().filter(|c| c.failure.is_some()).count();
    let skipped = summary.cases.iter().filter(|c| c.skipped).count();
    if (summary.tests, summary.failures, summary.skipped)
        != (summary.cases.len(), failures, skipped)
    {
        return Err(format!(
            "declared tests/failures/skipped {}/{}/{} but the cases say {}/{failures}/{skipped}",
            summary.tests,
            summary.failures,
            summary.skipped,
            summary.cases.len()
        ));
    }
    Ok(summary)
}

fn name_of(e: &BytesStart<'_>) -> String {
    e.name().as_ref().to_owned()
}

/// Records one opening (or empty) element, checking it sits where JUnit puts it.
fn element(
    e: &BytesStart<'_>,
    stack: &[String],
    summary: &mut JunitSummary,
    suites: &mut usize,
) -> Result<(), String> {
    let name = name_of(e);
    let parent = stack.last().map(String::as_str);
    match (name.as_str(), parent) {
        ("testsuites", None) => {}
        ("testsuite", Some("testsuites")) => {
            *suites += 1;
            summary.tests = count_attr(e, "tests")?;
            summary.failures = count_attr(e, "failures")?;
            summary.skipped = count_attr(e, "skipped")?;
        }
        ("testcase", Some("testsuite")) => summary.cases.push(JunitCase {
            name: attr(e, "name")?.ok_or("<testcase> without name")?,
            ..JunitCase::default()
        }),
        ("failure", Some("testcase")) => {
            let message = attr(e, "message")?.unwrap_or_default();
            if let Some(c) = summary.cases.last_mut() {
                c.failure = Some(message);
            }
        }
        ("skipped", Some("testcase")) => {
            if let Some(c) = summary.cases.last_mut() {
                c.skipped = true;
            }
        }
        (other, parent) => {
            return Err(format!(
                "unexpected <{other}> inside {}",
                parent.map_or("the document".to_owned(), |p| format!("<{p}>"))
            ));
        }
    }
    Ok(())
}

fn attr(e: &BytesStart<'_>, key: &str) -> Result<Option<String>, String> {
    for a in e.attributes() {
        let a = a.map_err(|err| err.to_string())?;
        if a.key.as_ref() == key {
            let v = a
                .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|err| err.to_string())?;
            return Ok(Some(v.into_owned()));
        }
    }
    Ok(None)
}

fn count_attr(e: &BytesStart<'_>, key: &str) -> Result<usize, String> {
    attr(e, key)?
        .ok_or_else(|| format!("<{}> without {key}", name_of(e)))?
        .parse()
        .map_err(|_| format!("<{}> has a non-numeric {key}", name_of(e)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::suite::report::CaseResult;
    use std::time::Duration;

    fn report() -> Report {
        Report {
            cases: vec![
                CaseResult {
                    name: "ops.healthz",
                    outcome: Outcome::Pass,
                    duration: Duration::from_millis(1500),
                },
                CaseResult {
                    name: "input.unknown_field",
                    outcome: Outcome::Fail(
                        "expected <400> & \"unknown_field\", got 'x'\nline 2\u{1}".into(),
                    ),
                    duration: Duration::from_millis(2),
                },
                CaseResult {
                    name: "compensation.permanent_fault",
                    outcome: Outcome::Skip("no HLR simulator in sandbox.json".into()),
                    duration: Duration::ZERO,
                },
            ],
            notes: Vec::new(),
        }
    }

    #[test]
    fn writes_valid_junit_that_reads_back() {
        let xml = report().to_junit_xml();
        assert!(xml.contains("<testsuite name=\"simgw-conformance\" tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"1\" time=\"1.502\">"), "{xml}");
        assert!(
            xml.contains("<testcase classname=\"simgw\" name=\"ops.healthz\" time=\"1.500\"/>"),
            "{xml}"
        );
        let s = read_junit(&xml).expect("valid JUnit");
        assert_eq!((s.tests, s.failures, s.skipped), (3, 1, 1));
        let names: Vec<&str> = s.cases.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "ops.healthz",
                "input.unknown_field",
                "compensation.permanent_fault"
            ]
        );
        assert_eq!(
            s.cases[1].failure.as_deref(),
            Some("expected <400> & \"unknown_field\", got 'x'\nline 2\u{FFFD}"),
            "markup, quotes and line breaks survive; a control character does not"
        );
        assert!(s.cases[2].skipped);
    }

    #[test]
    fn empty_report_is_valid() {
        let s = read_junit(&Report::default().to_junit_xml()).expect("valid");
        assert_eq!((s.tests, s.cases.len()), (0, 0));
    }

    #[test]
    fn rejects_broken_or_inconsistent_documents() {
        for bad in [
            "<testsuites><testsuite tests=\"1\" failures=\"0\" skipped=\"0\"><testcase name=\"a\"></testsuite></testsuites>",
            "<testsuites><testsuite tests=\"2\" failures=\"0\" skipped=\"0\"><testcase name=\"a\"/></testsuite></testsuites>",
            "<testsuites><testsuite tests=\"1\" failures=\"0\" skipped=\"0\"><testcase name=\"a &bogus;\"/></testsuite></testsuites>",
            "<testsuites><testcase name=\"a\"/></testsuites>",
            "<testsuites>",
        ] {
            assert!(read_junit(bad).is_err(), "accepted {bad}");
        }
    }
}
