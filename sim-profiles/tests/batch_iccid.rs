//! A batch file's ICCID convention (reference §1.4): decided once for the whole file and
//! applied strictly. A complete ICCID is kept exactly as written or refused; it is never
//! turned into another number.

mod common;

use common::{luhn_valid, single_digit_changes};
use proptest::prelude::*;
use sim_profiles::Iccid;
use sim_profiles::batch::{
    ParseOptions, ParseReport, Reject, RejectReason, parse_csv, parse_vendor_out,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    VendorOut,
    Csv,
}

/// Lines before the first data row.
fn header_lines(format: Format) -> usize {
    match format {
        Format::VendorOut => 2,
        Format::Csv => 1,
    }
}

/// A file of one row per ICCID (written as given), with unique IMSIs.
fn file(format: Format, iccids: &[String]) -> String {
    let mut text = match format {
        Format::VendorOut => "*OUTPUT VARIABLES\nvar_Out: ICCID/IMSI\n".to_owned(),
        Format::Csv => "iccid,imsi\n".to_owned(),
    };
    let sep = if format == Format::Csv { ',' } else { ' ' };
    for (i, iccid) in iccids.iter().enumerate() {
        text.push_str(&format!("{iccid}{sep}00101{i:010}\n"));
    }
    text
}

fn parse(format: Format, text: &str, iccid_len: Option<usize>) -> ParseReport {
    let opts = ParseOptions {
        plmn: None,
        iccid_len,
        skip_duplicate_check: false,
    };
    match format {
        Format::VendorOut => parse_vendor_out(text, &opts),
        Format::Csv => parse_csv(text, &opts),
    }
    .expect("file-level parse")
}

/// `n` complete `len`-digit ICCIDs.
fn iccids(n: usize, len: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let payload = format!("8947{i:0width$}", width = len - 5);
            Iccid::from_payload(&payload).expect("payload").to_string()
        })
        .collect()
}

/// `s` with its last (check) digit replaced by a wrong one.
fn wrong_check_digit(s: &str) -> String {
    let (body, last) = s.split_at(s.len() - 1);
    let d = last.parse::<u8>().expect("digit");
    format!("{body}{}", (d + 1) % 10)
}

#[test]
fn a_wrong_check_digit_on_row_501_of_1000_refuses_that_line_and_nothing_is_rewritten() {
    for format in [Format::VendorOut, Format::Csv] {
        for len in [19, 20] {
            let mut rows = iccids(1_000, len);
            rows[500] = wrong_check_digit(&rows[500]);
            let report = parse(format, &file(format, &rows), None);
            assert_eq!(
                report.rejects,
                [Reject {
                    line: header_lines(format) + 501,
                    reason: RejectReason::BadLuhn,
                }],
                "{format:?}, {len} digits"
            );
            assert_eq!(report.records.len(), 999);
            assert!(
                report.records.iter().all(|r| r.iccid.as_str().len() == len
                    && rows[r.line - header_lines(format) - 1] == r.iccid.as_str()),
                "every accepted ICCID exactly as written"
            );
        }
    }
}

#[test]
fn a_row_written_in_another_form_than_the_file_is_refused() {
    for format in [Format::VendorOut, Format::Csv] {
        let h = header_lines(format);
        // A 20-digit file with one Luhn-valid 19-digit ICCID (a lost digit or a stray).
        let mut rows = iccids(30, 20);
        rows[9] = Iccid::from_payload("894700000000000009")
            .expect("payload")
            .to_string();
        let report = parse(format, &file(format, &rows), None);
        assert_eq!(
            report.rejects,
            [Reject {
                line: h + 10,
                reason: RejectReason::IccidFormMismatch {
                    digits: 19,
                    file_digits: 20
                },
            }],
            "{format:?}"
        );
        assert_eq!(report.records.len(), 29, "the stray is not a record");
        // A 19-digit file with one 18-digit value: completing it would invent a number.
        let mut rows = iccids(30, 19);
        rows[0] = "894700000000000099".into();
        let report = parse(format, &file(format, &rows), None);
        assert_eq!(
            report.rejects,
            [Reject {
                line: h + 1,
                reason: RejectReason::IccidFormMismatch {
                    digits: 18,
                    file_digits: 19
                },
            }],
            "{format:?}: the first row breaks the convention of most rows"
        );
        // With the issuer's length 20, 19-digit payloads are completed, and a complete
        // 20-digit row among them is the odd one.
        let mut rows: Vec<String> = (0..30).map(|i| format!("8947{i:015}")).collect();
        rows[29] = Iccid::from_payload("8948000000000000000")
            .expect("payload")
            .to_string();
        let report = parse(format, &file(format, &rows), Some(20));
        assert_eq!(
            report.rejects,
            [Reject {
                line: h + 30,
                reason: RejectReason::IccidFormMismatch {
                    digits: 20,
                    file_digits: 19
                },
            }]
        );
        assert!(
            report
                .records
                .iter()
                .all(|r| r.iccid.as_str().len() == 20 && luhn_valid(r.iccid.as_str()))
        );
    }
}

#[test]
fn nineteen_digits_failing_luhn_are_a_payload_only_when_the_issuer_length_is_20() {
    let rows = vec!["8900012345678901234".to_owned()];
    for format in [Format::VendorOut, Format::Csv] {
        let report = parse(format, &file(format, &rows), None);
        assert_eq!(report.rejects[0].reason, RejectReason::BadLuhn);
        assert!(report.records.is_empty());
        let report = parse(format, &file(format, &rows), Some(19));
        assert_eq!(report.rejects[0].reason, RejectReason::BadLuhn);
        let report = parse(format, &file(format, &rows), Some(20));
        assert_eq!(report.rejects, []);
        assert_eq!(report.records[0].iccid.as_str(), "89000123456789012341");
    }
}

fn format() -> impl Strategy<Value = Format> {
    prop_oneof![Just(Format::VendorOut), Just(Format::Csv)]
}

/// 1 to 40 distinct complete ICCIDs of one length, each optionally `F`-padded.
fn valid_file() -> impl Strategy<Value = (usize, Vec<(String, bool)>)> {
    prop_oneof![Just(19usize), Just(20usize)].prop_flat_map(|len| {
        let payload =
            proptest::string::string_regex(&format!("89[0-9]{{{}}}", len - 3)).expect("regex");
        (
            Just(len),
            prop::collection::btree_set(payload, 1..40).prop_flat_map(|set| {
                let n = set.len();
                (
                    Just(set.into_iter().collect::<Vec<_>>()),
                    prop::collection::vec(any::<bool>(), n),
                )
                    .prop_map(|(payloads, pads)| {
                        payloads
                            .iter()
                            .zip(pads)
                            .map(|(p, pad)| {
                                (Iccid::from_payload(p).expect("payload").to_string(), pad)
                            })
                            .collect()
                    })
            }),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn valid_iccids_are_imported_exactly_as_written(
        format in format(),
        (len, rows) in valid_file(),
        configured in any::<bool>(),
    ) {
        let written: Vec<String> = rows
            .iter()
            .map(|(i, pad)| if *pad { format!("{i}F") } else { i.clone() })
            .collect();
        let report = parse(format, &file(format, &written), configured.then_some(len));
        prop_assert_eq!(&report.rejects, &[]);
        let got: Vec<&str> = report.records.iter().map(|r| r.iccid.as_str()).collect();
        let want: Vec<&str> = rows.iter().map(|(i, _)| i.as_str()).collect();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn a_one_digit_typo_is_refused_on_its_line_never_imported_as_another_number(
        format in format(),
        (_len, rows) in valid_file(),
        row in any::<prop::sample::Index>(),
        pos in any::<prop::sample::Index>(),
        pick in any::<prop::sample::Index>(),
    ) {
        let mut written: Vec<String> = rows.iter().map(|(i, _)| i.clone()).collect();
        let row = row.index(written.len());
        let pos = pos.index(written[row].len());
        let changes = single_digit_changes(&written[row], pos);
        let typo = changes[pick.index(changes.len())].clone();
        written[row] = typo;
        let report = parse(format, &file(format, &written), None);
        // Luhn catches every single-digit change, so the typo is never another valid ICCID.
        prop_assert_eq!(report.rejects.len(), 1, "{:?}", report.rejects);
        prop_assert_eq!(&report.rejects[0].reason, &RejectReason::BadLuhn);
        prop_assert_eq!(report.rejects[0].line, header_lines(format) + row + 1);
        let originals: Vec<&str> = rows.iter().map(|(i, _)| i.as_str()).collect();
        for r in &report.records {
            prop_assert!(originals.contains(&r.iccid.as_str()), "{} was never written", r.iccid);
        }
    }
}
